/*
 * `native/wifi-ap` (modules/host/native/<platform>/wifi-ap): the access point the simulated radio has joined,
 * and a static address for it.
 */
import { hardware } from "./hardware";

export default class WifiAp {
  static read(bssid: Uint8Array): number {
    const wifi = hardware().wifi;
    const text = wifi.info("BSSID");
    const channel = wifi.info("CHANNEL");
    if (typeof text !== "string" || typeof channel !== "number" || !channel) return 0;
    const parts = text.split(":");
    for (let i = 0; i < 6; i++) bssid[i] = parseInt(parts[i], 16);
    return channel;
  }

  static address(address: number, netmask: number, gateway: number, dns: number): boolean {
    return hardware().wifi.setStaticAddress({ address, netmask, gateway, dns });
  }
}
