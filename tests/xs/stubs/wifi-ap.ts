/* `native/wifi-ap` stub: no access point joined. */
export default class WifiAp {
  static read(_bssid: Uint8Array): number {
    return 0;
  }
}
