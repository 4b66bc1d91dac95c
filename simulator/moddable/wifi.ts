/* `wifi` (SDK modules/network/wifi): a station joining the simulated access point (hardware/wifi.ts). */
import type { Station, WifiMessage } from "../hardware/wifi";
import { hardware, local } from "./hardware";

export type WiFiCallback = (message: WifiMessage, value?: number) => void;

export default class WiFi {
  static readonly gotIP = "gotIP";
  static readonly lostIP = "lostIP";
  static readonly connected = "connect";
  static readonly disconnected = "disconnect";
  #station: Station;

  constructor(options?: { ssid: string; password?: string }, callback?: WiFiCallback) {
    this.#station = hardware().wifi.join(options, (message, value) => callback?.(message, value));
  }

  close(): void {
    hardware().wifi.close(this.#station);
  }

  /** Each network in range, then a call with no item. */
  static scan(_options: object, callback: (item?: any) => void): void {
    hardware().wifi.scan((item) => callback(item && { ...item, bssid: local(item.bssid) }));
  }
}
