/*
 * Host: everything the firmware needs from the platform, as one small interface. Only
 * `modules/host/moddable.ts` implements it, on the Moddable modules; the Node simulator runs that same
 * file against Node implementations of those modules, so the core never learns where it runs.
 */
import type { StaticAddress } from "../../config/schema";
import type { ProbeIo } from "../../sensors/probe-io";
import type { DeviceEvent } from "./events";

export interface TimerHandle {
  readonly brand?: unknown;
}

/** "rejected": the access point refused the password (Moddable reports disconnect with -1 on ESP32 and ESP8266). */
export type WifiEvent = "connected" | "disconnected" | "rejected";

export interface WifiOptions {
  ssid: string;
  password: string;
  /** The access point to join straight away, skipping the scan (with `channel`). */
  bssid?: Uint8Array;
  channel?: number;
  /** A static address instead of DHCP (`wifi.ip`): no address exchange after the association. */
  address?: StaticAddress;
}

/**
 * wss:// on this build: "none", no TLS client (ESP8266: not the heap for it); "no-ca", a TLS client but no
 * server CA certificate to trust (config/tls/server-ca.der); "ready".
 */
export type TlsState = "none" | "no-ca" | "ready";

export interface WebSocketEvents {
  /** The TCP connection is up and the upgrade request goes out (an adapter may not report it). */
  onConnect?(): void;
  /** The WebSocket handshake completed. */
  onOpen(): void;
  onText(text: string): void;
  /** The connection ended or could not be made, with the reason when the adapter knows it; no more events follow. */
  onClose(reason?: string): void;
  /** The send buffer has room again (TCP acknowledged what was sent). */
  onWritable?(): void;
}

export interface WebSocketHandle {
  /**
   * Sends `text` as one frame if the socket's send buffer has room for it now, and says whether it did. The
   * buffer is small on the chips (lwIP's TCP_SND_BUF: ESP8266 2 920 bytes, ESP32 8 192 in the SDK's
   * sdkconfig) and a write that does not fit throws; a refused frame waits for `onWritable`.
   */
  send(text: string): boolean;
  close(): void;
}

/** Bytes of `text` as one masked WebSocket text frame (the SDK client masks, lengths up to 16 bits). */
export function frameBytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) bytes += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
  }
  return bytes + (bytes < 126 ? 6 : 8);
}

/** The serial port the console and Improv share (modules/console). */
export interface SerialPort {
  /** Queues bytes; strings go out as UTF-8. The caller checks `writable` first. */
  write(bytes: Uint8Array | string): void;
  /** Bytes that can be queued now. */
  readonly writable: number;
  close(): void;
}

/** Settings kept in flash (Moddable's `preference`), read and written by config/settings. */
export interface PreferenceStore {
  get(key: string): string | number | undefined;
  set(key: string, value: string | number): void;
  remove(key: string): void;
}

export interface WifiNetwork {
  ssid: string;
  /** dBm */
  rssi: number;
  secure: boolean;
}

export interface Host {
  /** Chip family for Improv's device info: ESP32, ESP8266, or the simulator's. */
  readonly chip: string;
  /**
   * Opens the console's serial port, or undefined when the build has none (a debug build, where xsbug
   * owns the UART). `onBytes` gets what arrives; `onWritable` says the port took some of what was queued.
   */
  openSerial(onBytes: (bytes: Uint8Array) => void, onWritable: () => void): SerialPort | undefined;
  /**
   * The board's I/O for the probe drivers (1-Wire, SMBus, Analog, digital outputs by pin), or undefined
   * where the platform has none (the desktop simulator): see sensors/select.ts.
   */
  probeIo(): ProbeIo | undefined;
  /** Scans for Wi-Fi networks (for Improv); `done` gets them strongest first. */
  scanWifi(done: (networks: WifiNetwork[]) => void): void;
  /** Manifest configuration (`mc/config`), the defaults under stored preferences. */
  readonly manifest: Readonly<Record<string, unknown>>;
  /**
   * Readings the always-on store keeps in RAM, where the platform sets its own (the ESP8266's heap: 256, its
   * manifest's `config.storeReadings`); undefined for the firmware's default.
   */
  readonly storeReadings?: number;
  readonly preferences: PreferenceStore;
  /** Device clock in ms: monotonic, never wraps, and continues across deep sleep once resumed. */
  ticks(): number;
  /** After a wake: the device clock continues from `ms` (what it read when going to sleep, plus the sleep). */
  resumeClock(ms: number): void;
  /**
   * Memory of at least `bytes` that keeps its contents through deep sleep (not through a power loss), or
   * undefined when the platform has none that large.
   */
  retainedMemory(bytes: number): ArrayBuffer | undefined;
  /**
   * The retained memory holds a whole image now (modules/power/retained.ts commits): a platform that keeps
   * a RAM copy of it writes the copy through here; where the memory is written in place, nothing to do.
   */
  commitRetained(): void;
  /** Sleeps so that main() runs again `ms` from now. Does not return on a board. */
  deepSleep(ms: number): void;
  /** Whether openWebSocket can open wss:// (docs/tls.md). */
  readonly tls: TlsState;
  /** The longest one deep sleep may be on this chip (ESP8266: its timer takes µs in 32 bits); longer is taken in steps. */
  readonly maxSleepMs: number;
  /** The access point joined (6 bytes into `bssid`) and its channel, or 0 when not known. */
  accessPoint(bssid: Uint8Array): number;
  random(): number;
  setTimer(callback: () => void, ms: number): TimerHandle;
  clearTimer(timer: TimerHandle | undefined): void;
  /**
   * Joins Wi-Fi; `onEvent` reports "connected" once an address is had, "disconnected" when lost or not
   * joined, "rejected" when the password was refused.
   */
  joinWifi(options: WifiOptions, onEvent: (event: WifiEvent) => void): void;
  leaveWifi(): void;
  /**
   * Opens a WebSocket to `url` (ws:// or wss://host:port/path); `headers` alternate name and value. For
   * wss://, `ntp` names the SNTP server to set the clock from first when it cannot date a certificate
   * (empty or absent: pool.ntp.org).
   */
  openWebSocket(url: string, headers: string[], events: WebSocketEvents, ntp?: string): WebSocketHandle;
  /** XS heap in use, bytes (Moddable's instrumentation), or undefined where it is not measured. */
  memory(): { slots: number; chunks: number } | undefined;
  /** A line on the debug console (trace): what no tool reads (Improv's complaints). */
  log(text: string): void;
  /**
   * Reports an event: on a board its line (eventText, modules/host/events.ts) goes to the debug console; the
   * simulator keeps the record too, for tests and tools to read instead of the line.
   */
  event(event: DeviceEvent): void;
  /** Why the chip last reset: power-on, deep-sleep, software, watchdog, panic, brownout or unknown. */
  resetReason(): string;
  restart(): void;
}
