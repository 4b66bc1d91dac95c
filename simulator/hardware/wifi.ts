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
  /**
   * The network behind it, a.b.c.d/prefix (default 192.168.4.0/24, where its DHCP server gives addresses): a
   * static address or gateway outside it joins, but no connection gets through.
   */
  subnet?: string;
}

/** A static address as native/wifi-ap's address() takes it: each a.b.c.d as a 32-bit number. */
export interface StaticAddress {
  address: number;
  netmask: number;
  gateway: number;
  dns: number;
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
const DEFAULT_SUBNET = "192.168.4.0/24";

const ipv4 = (text: string) => text.split(".").reduce((n, part) => n * 256 + Number(part), 0);
const dotted = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

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
  /** DHCP (esp8266/Arduino #1147: 1060 ms with DHCP, 170 ms with a static address; docs/power.md). */
  addressMs = 1000;
  /** A static address: no exchange, set before the association completed. */
  staticAddressMs = 0;
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
  /** Set by native/wifi-ap's address() for this run (a boot or a wake); DHCP when undefined. */
  #static: StaticAddress | undefined;
  /** Joins that took a static address, so far. */
  staticJoins = 0;

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
      if (this.#static) this.staticJoins++;
      this.#after(this.#static ? this.staticAddressMs : this.addressMs, () => {
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

  /**
   * native/wifi-ap's address(): a static address for the station from now on in this run (address 0: DHCP
   * again), as esp_netif keeps it until the chip resets.
   */
  setStaticAddress(setting: StaticAddress): boolean {
    this.#static = setting.address ? { ...setting } : undefined;
    return true;
  }

  /** Whether connections get through: with DHCP always; with a static address, when it fits the network. */
  get routable(): boolean {
    const fixed = this.#static;
    if (!fixed || !this.#joined) return true;
    const [base, prefix] = (this.#joined.subnet ?? DEFAULT_SUBNET).split("/");
    const size = 2 ** (32 - Number(prefix));
    const network = Math.floor(ipv4(base) / size);
    return Math.floor(fixed.address / size) === network && Math.floor(fixed.gateway / size) === network &&
      2 ** 32 - fixed.netmask === size;
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
    if (what === "IP" && this.hasAddress) return this.#static ? dotted(this.#static.address) : this.#hardware.address;
    return undefined;
  }

  powerOff(): void {
    this.#static = undefined;
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
