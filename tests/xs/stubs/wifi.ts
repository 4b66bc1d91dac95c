/* `wifi` stub: a station that never gets an address. */
import { stubs } from "./state";

export default class WiFi {
  static readonly gotIP = "gotIP";
  static readonly lostIP = "lostIP";
  static readonly connected = "connect";
  static readonly disconnected = "disconnect";
  constructor(_options?: unknown, _callback?: (message: string) => void) {
    stubs.wifiJoins++;
  }
  close(): void {}
}
