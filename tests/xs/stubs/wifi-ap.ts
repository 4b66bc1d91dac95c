/* `native/wifi-ap` stub: no access point joined, no static address taken. */
export default class WifiAp {
  static read(_bssid: Uint8Array): number {
    return 0;
  }
  static address(_address: number, _netmask: number, _gateway: number, _dns: number): boolean {
    return false;
  }
}
