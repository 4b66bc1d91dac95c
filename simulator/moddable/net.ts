/* `net` (SDK modules/network/net): what the radio knows about the current connection. */
import { hardware } from "./hardware";

export default class Net {
  /** "IP", "MAC", "SSID", "BSSID", "CHANNEL", "RSSI"; undefined when not known, as on the boards. */
  static get(what: string): any {
    return hardware().wifi.info(what);
  }
}
