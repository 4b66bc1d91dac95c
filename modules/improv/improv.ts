/*
 * ImprovService: answers Improv Wi-Fi Serial RPCs (modules/improv/packet.ts has the layout).
 *
 * Serial needs no authorization, so the service is Ready, or Provisioned when Wi-Fi is configured.
 * Credentials sent by the browser are tried first (`tryWifi`) and stored only once they work, through
 * Settings like every other change: a bad value never replaces a good one. The URL reported after
 * provisioning is the server's dashboard, derived from server.url (ws://host:port → http://host:port/).
 *
 * Replies follow the spec: each RPC is first answered by error state "no error", then its result;
 * a packet with a wrong checksum or a malformed RPC gets error 0x01, an unknown command 0x02, and
 * credentials that do not connect 0x03 followed by state Ready.
 */
import { parseValue, type ConfigKey } from "../../config/schema";
import type { Settings } from "../../config/settings";
import type { PortOutput } from "../console/output";
import { decodeUtf8, encodeUtf8 } from "../console/utf8";
import {
  encodePacket,
  ImprovCommand,
  ImprovError,
  ImprovState,
  ImprovType,
  MAX_DATA,
  type ImprovErrorValue,
  type ImprovStateValue,
} from "./packet";

export interface WifiNetwork {
  ssid: string;
  /** dBm */
  rssi: number;
  secure: boolean;
}

export interface ImprovOptions {
  output: PortOutput;
  settings: Settings;
  /** Device information: firmware name and version, chip family (ESP32, ESP8266…). The device name is device.id. */
  firmware: string;
  version: string;
  chip: string;
  /**
   * Tries to join `ssid` with `password`, leaving the stored settings alone; `done(true)` once an address
   * is had, `done(false)` when it fails or times out (the caller owns the timer). Called at most once at a time.
   */
  tryWifi(ssid: string, password: string, done: (connected: boolean) => void): void;
  /** Scans for networks; `done` gets at most a few dozen of them. */
  scan(done: (networks: readonly WifiNetwork[]) => void): void;
  /** Keys changed by provisioning, for main.ts to pass on (the link re-joins with them). */
  changed(keys: readonly ConfigKey[]): void;
  log?(text: string): void;
}

/** Networks reported per scan: each is one packet, sent as the port takes them. */
const MAX_NETWORKS = 24;

export class ImprovService {
  #options: ImprovOptions;
  #state: ImprovStateValue;
  #scanning = false;

  constructor(options: ImprovOptions) {
    this.#options = options;
    this.#state = options.settings.text("wifi.ssid") ? ImprovState.Provisioned : ImprovState.Ready;
  }

  get state(): ImprovStateValue {
    return this.#state;
  }

  /** A packet with a good checksum. Only RPCs are for the device; other types are ignored. */
  packet(type: number, data: Uint8Array): void {
    if (type !== ImprovType.Rpc) return;
    if (data.length < 2 || data[1] !== data.length - 2) return this.#error(ImprovError.InvalidRpc);
    const command = data[0];
    switch (command) {
      case ImprovCommand.WifiSettings:
        return this.#wifiSettings(data);
      case ImprovCommand.CurrentState:
        this.#error(ImprovError.None);
        this.#sendState();
        if (this.#state === ImprovState.Provisioned) this.#result(command, this.#urls());
        return;
      case ImprovCommand.DeviceInfo:
        this.#error(ImprovError.None);
        return this.#result(command, [this.#options.firmware, this.#options.version, this.#options.chip, this.#options.settings.text("device.id")]);
      case ImprovCommand.Scan:
        this.#error(ImprovError.None);
        return this.#scan();
    }
    this.#error(ImprovError.UnknownRpc);
  }

  /** A packet whose checksum is wrong. */
  badChecksum(): void {
    this.#error(ImprovError.InvalidRpc);
  }

  #wifiSettings(data: Uint8Array): void {
    // command, length, ssid length, ssid, password length, password: nothing more, nothing less.
    const ssidLength = data[2];
    const passwordAt = 3 + ssidLength;
    if (data.length < 4 || passwordAt >= data.length || passwordAt + 1 + data[passwordAt] !== data.length)
      return this.#error(ImprovError.InvalidRpc);
    const ssid = decodeUtf8(data, 3, passwordAt);
    const password = decodeUtf8(data, passwordAt + 1, data.length);
    if (ssid === undefined || password === undefined || ssid === "") return this.#error(ImprovError.InvalidRpc);
    for (const [key, value] of [["wifi.ssid", ssid], ["wifi.password", password]]) {
      const parsed = parseValue(key, value);
      if (!parsed.ok) {
        this.#options.log?.(`improv: ${parsed.error}`);
        return this.#error(ImprovError.InvalidRpc);
      }
    }
    if (this.#state === ImprovState.Provisioning) return this.#error(ImprovError.Unknown); // one attempt at a time
    this.#error(ImprovError.None);
    this.#setState(ImprovState.Provisioning);
    let answered = false;
    this.#options.tryWifi(ssid, password, (connected) => {
      if (answered) return;
      answered = true;
      if (!connected) {
        this.#error(ImprovError.UnableToConnect);
        return this.#setState(ImprovState.Ready);
      }
      const applied = this.#options.settings.apply({ "wifi.ssid": ssid, "wifi.password": password });
      if (!applied.ok) {
        this.#options.log?.(`improv: ${applied.error}`);
        this.#error(ImprovError.Unknown);
        return this.#setState(ImprovState.Ready);
      }
      this.#setState(ImprovState.Provisioned);
      this.#result(ImprovCommand.WifiSettings, this.#urls());
      if (applied.changed.length) this.#options.changed(applied.changed);
    });
  }

  #scan(): void {
    if (this.#scanning) return; // the scan under way answers this request too
    this.#scanning = true;
    this.#options.scan((networks) => {
      this.#scanning = false;
      const count = networks.length < MAX_NETWORKS ? networks.length : MAX_NETWORKS;
      let i = 0;
      // One result per network, then an empty one: sent as the port takes them.
      this.#options.output.queue({
        next: () => {
          if (i > count) return undefined;
          const network = networks[i++];
          const strings = network ? [network.ssid, String(network.rssi), network.secure ? "YES" : "NO"] : [];
          return encodePacket(ImprovType.RpcResult, rpcResult(ImprovCommand.Scan, strings));
        },
      });
    });
  }

  /** Where the browser may go next: the server's dashboard, when a server is configured. */
  #urls(): string[] {
    const url = dashboardUrl(this.#options.settings.text("server.url"));
    return url ? [url] : [];
  }

  #setState(state: ImprovStateValue): void {
    this.#state = state;
    this.#sendState();
  }

  #sendState(): void {
    this.#options.output.packet(encodePacket(ImprovType.CurrentState, Uint8Array.of(this.#state)));
  }

  #error(error: ImprovErrorValue): void {
    this.#options.output.packet(encodePacket(ImprovType.ErrorState, Uint8Array.of(error)));
  }

  #result(command: number, strings: readonly string[]): void {
    this.#options.output.packet(encodePacket(ImprovType.RpcResult, rpcResult(command, strings)));
  }
}

/**
 * An RPC result's data: command, length, then each string with its length. Strings that would not fit
 * the 255-byte packet are left out rather than cut.
 */
export function rpcResult(command: number, strings: readonly string[]): Uint8Array {
  const encoded: Uint8Array[] = [];
  let total = 0;
  for (const text of strings) {
    const bytes = encodeUtf8(text);
    if (2 + total + 1 + bytes.length > MAX_DATA) continue;
    encoded.push(bytes);
    total += 1 + bytes.length;
  }
  const data = new Uint8Array(2 + total);
  data[0] = command;
  data[1] = total;
  let at = 2;
  for (const bytes of encoded) {
    data[at++] = bytes.length;
    data.set(bytes, at);
    at += bytes.length;
  }
  return data;
}

/** ws://host:port/path → http://host:port/path/ (wss → https); "" when no server is set. */
export function dashboardUrl(serverUrl: string): string {
  const secure = serverUrl.startsWith("wss://");
  if (!secure && !serverUrl.startsWith("ws://")) return "";
  const rest = serverUrl.slice(secure ? 6 : 5).replace(/[?#].*$/, "");
  return `${secure ? "https" : "http"}://${rest.endsWith("/") ? rest : rest + "/"}`;
}
