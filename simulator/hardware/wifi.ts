/*
 * The Wi-Fi radio and the air around it. Like mcsim's fake (SDK modules/network/wifi/sim/wifi.js) a join
 * reports "connect" and then "gotIP", and the password "invalid!" always fails. Timing follows the boards
 * (NOTES.md): a scan, association and DHCP take about 2 s; a join that names the access point's BSSID
 * and channel skips the scan. Tests may change the access point, the delays, or drop the link.
 */
import type { ClockTimer } from "./clock";
import type { Board } from "./board";

export type WifiMessage = "connect" | "gotIP" | "lostIP" | "disconnect";

export interface AccessPoint {
  /** undefined: answers to any network name. */
  ssid?: string;
  /** undefined: accepts any password. */
  password?: string;
  /** As Net.get("BSSID") shows it. */
  bssid?: string;
  channel?: number;
  rssi?: number;
}

export interface JoinOptions {
  ssid?: string;
  password?: string;
  /** 6 bytes, with `channel`: join this access point without scanning. */
  bssid?: ArrayBuffer;
  channel?: number;
}

const DEFAULT_BSSID = "02:00:5e:00:00:01";
const DEFAULT_CHANNEL = 6;

/** One `new WiFi(options, callback)`: closing it stops its notifications. */
export class Station {
  /** `value` -1 with "disconnect": the password was refused (as the SDK reports it on ESP32 and ESP8266). */
  readonly notify: (message: WifiMessage, value?: number) => void;
  closed = false;

  constructor(notify: (message: WifiMessage, value?: number) => void) {
    this.notify = notify;
  }
}

export class Radio {
  scanMs = 700;
  associateMs = 300;
  addressMs = 1000;
  /** The network in range, or undefined for none. */
  accessPoint: AccessPoint | undefined = {};
  /** Joined and holding an address: sockets can be opened. */
  hasAddress = false;
  /**
   * Ignore a named access point: every join scans and runs DHCP, as firmware that does not remember the
   * access point does (the power benchmark's "connect every wake" baseline).
   */
  alwaysScan = false;
  /** Joins so far, and those that skipped the scan. */
  joins = 0;
  fastJoins = 0;
  #hardware: Board;
  #station: Station | undefined;
  #step: ClockTimer | undefined;
  #joined: AccessPoint | undefined;
  #ssid = "";

  constructor(hardware: Board) {
    this.#hardware = hardware;
  }

  join(options: JoinOptions | undefined, notify: (message: WifiMessage, value?: number) => void): Station {
    const station = new Station(notify);
    if (!options) return station;
    this.#leave();
    this.#station = station;
    this.joins++;
    this.#hardware.energy.set("joining");
    const ap = this.accessPoint;
    const bssid = options.bssid && [...new Uint8Array(options.bssid)].map((b) => b.toString(16).padStart(2, "0")).join(":");
    const named = bssid !== undefined && options.channel !== undefined && !this.alwaysScan;
    const found = ap && (ap.ssid === undefined || ap.ssid === options.ssid) &&
      (!named || (bssid === (ap.bssid ?? DEFAULT_BSSID) && options.channel === (ap.channel ?? DEFAULT_CHANNEL)));
    if (named && found) this.fastJoins++;
    this.#after((named && found ? 0 : this.scanMs) + this.associateMs, () => {
      const wrongPassword = found && ((ap!.password !== undefined && ap!.password !== options.password) || options.password === "invalid!");
      if (!found || wrongPassword) {
        this.#hardware.energy.set("cpu");
        return this.#tell("disconnect", wrongPassword ? -1 : undefined);
      }
      this.#joined = ap;
      this.#ssid = options.ssid ?? "";
      this.#tell("connect");
      this.#after(this.addressMs, () => {
        this.hasAddress = true;
        this.#hardware.energy.set("associated");
        this.#tell("gotIP");
      });
    });
    return station;
  }

  close(station: Station): void {
    station.closed = true;
    if (station !== this.#station) return;
    this.#hardware.cancel(this.#step); // a join in progress stops, as in mcsim
    if (!this.hasAddress && this.#hardware.energy.state === "joining") this.#hardware.energy.set("cpu");
    this.#station = undefined;
  }

  /** The access point went away: open connections break, the station hears `message`. */
  drop(message: "disconnect" | "lostIP" = "disconnect"): void {
    this.#leave();
    this.#hardware.network.drop();
    const station = this.#station;
    if (station && !station.closed) this.#hardware.run(() => station.notify(message));
  }

  /** WiFi.scan: after a scan's time, each network in range (as the SDK's items), then undefined. */
  scan(report: (item?: Record<string, unknown>) => void): void {
    const ap = this.accessPoint;
    this.#hardware.after(this.scanMs, () => {
      if (ap) {
        const bssid = Uint8Array.from((ap.bssid ?? DEFAULT_BSSID).split(":"), (hex) => parseInt(hex, 16)).buffer;
        const authentication = ap.password ? "wpa2_psk" : "none";
        this.#hardware.run(() => report({ ssid: ap.ssid ?? "sim", rssi: ap.rssi ?? -60, channel: ap.channel ?? DEFAULT_CHANNEL, hidden: false, authentication, bssid }));
      }
      this.#hardware.run(() => report());
    });
  }

  /** Net.get(what): undefined when not known, as on the boards. */
  info(what: string): string | number | undefined {
    const ap = this.#joined;
    if (what === "MAC") return this.#hardware.mac;
    if (!ap) return undefined;
    if (what === "SSID") return ap.ssid ?? this.#ssid;
    if (what === "BSSID") return ap.bssid ?? DEFAULT_BSSID;
    if (what === "CHANNEL") return ap.channel ?? DEFAULT_CHANNEL;
    if (what === "RSSI") return ap.rssi ?? -60;
    if (what === "IP" && this.hasAddress) return this.#hardware.address;
    return undefined;
  }

  powerOff(): void {
    this.#station = undefined;
    this.#step = undefined;
    this.#joined = undefined;
    this.hasAddress = false;
  }

  #leave(): void {
    this.#hardware.cancel(this.#step);
    this.#step = undefined;
    this.#joined = undefined;
    this.hasAddress = false;
    const energy = this.#hardware.energy;
    if (energy.state === "joining" || energy.state === "associated") energy.set("cpu");
  }

  #after(ms: number, action: () => void): void {
    this.#step = this.#hardware.after(ms, action);
  }

  #tell(message: WifiMessage, value?: number): void {
    const station = this.#station;
    if (station && !station.closed) this.#hardware.run(() => station.notify(message, value));
  }
}
