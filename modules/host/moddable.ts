/*
 * The one place that imports Moddable host modules. Each method is a thin mapping; no logic lives here
 * that a test would need to reach.
 */
import Timer from "timer";
import Time from "time";
import WiFi from "wifi";
import Preference from "preference";
import { Client } from "websocket";
import { Socket } from "socket";
import manifestConfig from "mc/config";
import Instrumentation from "instrumentation";
import Power from "native/power";
import BoardProbeIo from "native/probe-io";
import WifiAp from "native/wifi-ap";
import Tls from "host/tls";
import report from "host/report";
import Serial from "embedded:io/serial";
import type { PlatformTls } from "./tls/tls";
import { parseServerUrl } from "../protocol/endpoint";
import { frameBytes, type Host, type PreferenceStore, type TlsState, type SerialPort, type WifiNetwork, type TimerHandle, type WebSocketEvents, type WebSocketHandle, type WifiEvent, type WifiOptions } from "./host";
import type { ProbeIo } from "../../sensors/probe-io";
import { findField } from "../../config/schema";
import { encodedLength, encodeUtf8Into } from "../console/utf8";
import { eventText, type DeviceEvent } from "./events";

const DOMAIN = "thermocast";
/** Where the clock is set from before a wss:// connection, unless the setting `server.ntp` names a server. */
const NTP_DEFAULT = "pool.ntp.org";

type SocketCallback = (message: number, value?: number) => void;
interface RawSocket {
  write(...data: unknown[]): number;
  read(...args: unknown[]): unknown;
  close(): void;
}
/** The SDK socket's message that its send buffer has room again (modules/network/socket/socket.js). */
const SOCKET_WRITABLE = 3;
const SOCKET_READABLE = 2;
const TLS_REFUSED = "tls: handshake failed (is the server's certificate signed by config/tls/server-ca.der, for this host, and within its dates?)";
const SocketBase = Socket as unknown as new (options: object) => RawSocket;

/**
 * Moddable's TCP socket throws on a write, read or close once the peer has vanished (a reset, a refused
 * connection that reported "connected" first), and its WebSocket client calls those from inside socket
 * callbacks, where an exception aborts XS. This socket turns such a throw into the socket's own error
 * message, delivered from a fresh turn, so the client takes its ordinary disconnect path. The same guard
 * wraps the TCP socket (ws://) and the SDK's SecureSocket (wss://), which share that interface.
 */
function guarded(Base: new (options: object) => RawSocket) {
  return class GuardedSocket extends Base {
    #dead = false;
    #client: SocketCallback | undefined;
    /** Told when room is freed in the send buffer: the SDK's WebSocket client ignores that message, the uplink needs it. */
    owner: { writable(): void } | undefined;

    // The SDK socket calls `callback`, which the WebSocket client sets; the writable message is taken out. One
    // function for every socket (a static method, called with the socket as `this`), not an arrow each.
    set callback(callback: SocketCallback | undefined) {
      this.#client = callback;
    }
    get callback(): SocketCallback {
      return GuardedSocket.#route;
    }
    static #route(this: GuardedSocket, message: number, value?: number): void {
      if (message === SOCKET_WRITABLE) this.owner?.writable();
      else this.#client?.(message, value);
    }

    /** Bytes the send buffer takes now (the SDK socket's write() with no arguments; less TLS's overhead over TLS). */
    get room(): number {
      if (this.#dead) return 0;
      try {
        return super.write();
      } catch {
        return 0;
      }
    }

    override write(...data: unknown[]): number {
      if (this.#dead) return 0;
      try {
        return super.write(...data);
      } catch {
        this.#fail();
        return 0;
      }
    }

    override read(...args: unknown[]): unknown {
      if (!this.#dead) {
        try {
          return super.read(...args);
        } catch {
          this.#fail();
        }
      }
      return args[0] === String ? "" : args[0] === Number ? 0 : undefined;
    }

    override close(): void {
      const dead = this.#dead;
      this.#dead = true;
      if (!dead) {
        try {
          super.close();
        } catch {}
      }
    }

    #fail(): void {
      if (this.#dead) return;
      this.#dead = true;
      Timer.set(() => this.callback?.(-2), 0); // -2: Socket.error
    }
  };
}
type GuardedSocketClass = ReturnType<typeof guarded>;
type GuardedSocket = InstanceType<GuardedSocketClass>;
const GuardedSocket = guarded(SocketBase);

/** The SDK's WebSocket client as EventClient extends it: it calls `this.callback` with its messages. */
interface SdkClient {
  socket: GuardedSocket;
  write(text: string): void;
  close(): void;
}
const ClientBase = Client as unknown as new (options: object) => SdkClient;

/**
 * A WebSocket client on a guarded socket (TCP, or TLS with `secure`), its events mapped to the Host's. The SDK's
 * client calls `this.callback`: here a method, with the connection's state in fields, so a connection is this
 * object and its handle, not four closures and the variables they share (docs/memory.md).
 */
class EventClient extends ClientBase {
  #events: WebSocketEvents;
  #open = true;
  /** Over TLS: the server spoke (its hello and certificate) before the client heard "connected" or not. */
  #heard = false;
  #connected = false;

  constructor(parts: { host: string; port: number; path: string }, headers: string[], events: WebSocketEvents, Socket: GuardedSocketClass, secure: object | undefined) {
    super({ host: parts.host, port: parts.port, path: parts.path, headers, Socket, secure });
    this.#events = events;
    this.socket.owner = this;
    // Over TLS the client hears "connected" only once the TLS handshake is done: watch the TCP socket under
    // it, so that a handshake the device refused (the server's certificate) is told from no connection. The
    // server spoke (its hello and certificate) in the first case only: some socket layers report a refused
    // TCP connection as connected first (GuardedSocket).
    const raw = secure ? (this.socket as unknown as { sock?: { callback: SocketCallback } }).sock : undefined;
    if (raw) {
      const inner = raw.callback;
      raw.callback = (message: number, value?: number) => {
        if (message === SOCKET_READABLE) this.#heard = true;
        inner(message, value);
      };
    }
  }

  /** The SDK client's messages. */
  callback(message: number, value?: unknown): void {
    // No local variables here or in ClientHandle.send: over TLS in mcsim (a stack of 384 slots) the `hello`
    // under the handshake's callback came within a slot of overflowing (tests/sdk/tls.test.ts).
    if (!this.#open) return;
    if (message === Client.connect) {
      this.#connected = true;
      this.#events.onConnect?.();
    } else if (message === Client.handshake) this.#events.onOpen();
    else if (message === Client.receive && typeof value === "string") this.#events.onText(value);
    else if (message === Client.disconnect) {
      this.#open = false;
      this.#events.onClose(this.#heard && !this.#connected ? TLS_REFUSED : undefined);
    }
  }

  /** The socket's send buffer has room again (GuardedSocket). */
  writable(): void {
    if (this.#open) this.#events.onWritable?.();
  }

  /** The handle's close: no event follows. */
  end(): void {
    if (!this.#open) return;
    this.#open = false;
    this.close();
  }

  /** The send failed: no more events from the client; the close is reported from a fresh turn. */
  lost(): void {
    this.#open = false;
    try {
      this.close();
    } catch {}
    const events = this.#events;
    Timer.set(() => events.onClose(), 0);
  }

  get open(): boolean {
    return this.#open;
  }
}

/** What the link holds of a connection (`close` is not the SDK client's own, which its callback calls too). */
class ClientHandle implements WebSocketHandle {
  #client: EventClient;
  constructor(client: EventClient) {
    this.#client = client;
  }
  /** Here rather than a call on to the client: a frame less on the stack when `hello` goes out (connecting). */
  send(text: string): boolean {
    if (!this.#client.open) return true; // the close is reported; what was not sent stays in the store
    if (this.#client.socket.room < frameBytes(text)) return false;
    try {
      this.#client.write(text);
    } catch {
      // The peer went away before the client noticed: a write to a dead socket throws, and an exception
      // escaping a callback aborts XS. Report the close from a fresh turn, not from inside the caller's loop.
      this.#client.lost();
    }
    return true;
  }
  close(): void {
    this.#client.end();
  }
}

/** A WebSocket client on `Socket` (TCP, or TLS with `secure`), its events mapped to the Host's. */
function openClient(parts: { host: string; port: number; path: string }, headers: string[], events: WebSocketEvents, Socket: GuardedSocketClass, secure: object | undefined): WebSocketHandle {
  return new ClientHandle(new EventClient(parts, headers, events, Socket, secure));
}

class ModdablePreferences implements PreferenceStore {
  get(key: string): string | number | undefined {
    const value = Preference.get(DOMAIN, key);
    return typeof value === "string" || typeof value === "number" ? value : undefined;
  }
  set(key: string, value: string | number): void {
    Preference.set(DOMAIN, key, value);
  }
  remove(key: string): void {
    Preference.delete(DOMAIN, key);
  }
}

/** Transmit ring of the console port: at least the console's longest piece (MAX_PIECE, 300 bytes). */
const SERIAL_RING = 512;
const SCAN_MAX = 24;

/**
 * The console's serial port: the SDK's serial with a transmit ring in front. A class, so that its methods
 * stay in flash; only the two callbacks the SDK calls are closures (docs/memory.md).
 */
class ConsolePort implements SerialPort {
  #ring = new Uint8Array(SERIAL_RING);
  #head = 0;
  #count = 0;
  /** Bytes the port last said it takes. */
  #room = 0;
  #serial: Serial;

  constructor(options: Record<string, unknown>, onBytes: (bytes: Uint8Array) => void, onWritable: () => void) {
    const port = this;
    this.#serial = new Serial({
      baud: 115200,
      ...options,
      format: "buffer",
      onReadable() {
        const bytes = port.#serial.read();
        if (bytes instanceof ArrayBuffer) onBytes(new Uint8Array(bytes));
      },
      onWritable(bytes: number) {
        port.#room = bytes;
        port.#flush();
        onWritable();
      },
    } as unknown as ConstructorParameters<typeof Serial>[0]);
  }

  get writable(): number {
    return this.#ring.length - this.#count;
  }

  write(piece: Uint8Array | string): void {
    const ring = this.#ring;
    const room = ring.length - this.#count;
    // Text goes into the ring as it is encoded: no copy of it in between.
    if (typeof piece === "string") {
      if (encodedLength(piece) > room) return; // the console checks `writable` first
      this.#count += encodeUtf8Into(piece, ring, (this.#head + this.#count) % ring.length);
    } else {
      if (piece.length > room) return;
      for (let i = 0; i < piece.length; i++) ring[(this.#head + this.#count++) % ring.length] = piece[i];
    }
    this.#flush();
  }

  close(): void {
    this.#serial.close();
  }

  #flush(): void {
    // The boards' write throws when the hardware FIFO is full: never write more than it said it takes.
    const ring = this.#ring;
    while (this.#count && this.#room > 0) {
      let n = ring.length - this.#head;
      if (n > this.#count) n = this.#count;
      if (n > this.#room) n = this.#room;
      this.#serial.write(ring.slice(this.#head, this.#head + n).buffer);
      this.#head = (this.#head + n) % ring.length;
      this.#count -= n;
      this.#room -= n;
    }
  }
}

export class ModdableHost implements Host {
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly chip: string;
  readonly storeReadings: number | undefined;
  readonly preferences: PreferenceStore = new ModdablePreferences();
  #wifi: WiFi | undefined;
  // Time.ticks is a 32-bit millisecond counter on the boards: unwrap it.
  #lastTicks = 0;
  #wraps = 0;
  /** Device clock at boot: 0 after a power-on, the clock read before sleeping (plus the sleep) after a wake. */
  #clockBase = 0;
  #main: () => void;
  #tls: PlatformTls = new Tls();
  /** The guarded TLS socket class, where the build has TLS. */
  #SecureSocket: GuardedSocketClass | undefined;

  /** `main` is what an emulated wake runs again (the desktop simulator cannot reboot). */
  constructor(main: () => void) {
    this.#main = main;
    // Defaults come from the manifest's `config.thermocast` object, and from top-level config entries
    // named like schema keys, which is what `mcconfig … server.url=ws://…` sets.
    const config = manifestConfig as unknown as Record<string, unknown>;
    const manifest: Record<string, unknown> = { ...(config.thermocast as Record<string, unknown> | undefined) };
    for (const key in config) if (findField(key)) manifest[key] = config[key];
    this.manifest = manifest;
    this.chip = typeof config.chip === "string" ? config.chip : "Moddable simulator";
    const readings = config.storeReadings;
    this.storeReadings = typeof readings === "number" && readings > 0 ? readings : undefined;
    const secure = this.#tls.Socket;
    if (secure) this.#SecureSocket = guarded(secure as new (options: object) => RawSocket);
  }

  openSerial(onBytes: (bytes: Uint8Array) => void, onWritable: () => void): SerialPort | undefined {
    // The manifest's `console`: port options, a device path (desktop simulator), or "off" (debug builds).
    const option = (manifestConfig as unknown as Record<string, unknown>).console;
    if (!option || option === "off") return undefined;
    const options = typeof option === "string" ? { device: option } : (option as Record<string, unknown>);
    try {
      return new ConsolePort(options, onBytes, onWritable);
    } catch {
      trace("console: cannot open the serial port\n");
      return undefined;
    }
  }

  probeIo(): ProbeIo | undefined {
    return BoardProbeIo;
  }

  scanWifi(done: (networks: WifiNetwork[]) => void): void {
    const networks: WifiNetwork[] = [];
    WiFi.scan({}, (item) => {
      if (item) {
        if (networks.length < SCAN_MAX && item.ssid) networks.push({ ssid: item.ssid, rssi: item.rssi, secure: item.authentication !== "none" });
        return;
      }
      networks.sort((a, b) => b.rssi - a.rssi);
      done(networks);
    });
  }

  ticks(): number {
    const ticks = Time.ticks >>> 0;
    if (ticks < this.#lastTicks) this.#wraps++;
    this.#lastTicks = ticks;
    return this.#clockBase + this.#wraps * 4294967296 + ticks;
  }

  resumeClock(ms: number): void {
    this.#clockBase = 0;
    this.#clockBase = ms - this.ticks();
  }

  retainedMemory(bytes: number): ArrayBuffer | undefined {
    return Power.retained(bytes);
  }

  /** From the platform's `host/tls` module (docs/tls.md); wss:// is refused up front unless "ready" (docs/link.md). */
  get tls(): TlsState {
    return this.#tls.state;
  }

  get maxSleepMs(): number {
    return Power.maxSleep;
  }

  commitRetained(): void {
    // native/power's commit() where the platform has one (a RAM copy to write through); else written in place.
    const power = Power as unknown as { commit?: () => void };
    if (typeof power.commit === "function") power.commit();
  }

  deepSleep(ms: number): void {
    this.leaveWifi();
    Power.deepSleep(ms, this.#main);
  }

  accessPoint(bssid: Uint8Array): number {
    return WifiAp.read(bssid);
  }

  random(): number {
    return Math.random();
  }

  setTimer(callback: () => void, ms: number): TimerHandle {
    return Timer.set(() => callback(), ms) as unknown as TimerHandle;
  }

  clearTimer(timer: TimerHandle | undefined): void {
    if (timer) Timer.clear(timer as unknown as ReturnType<typeof Timer.set>);
  }

  joinWifi(options: WifiOptions, onEvent: (event: WifiEvent) => void): void {
    this.leaveWifi();
    const join: { ssid: string; password: string; bssid?: ArrayBuffer; channel?: number } = { ssid: options.ssid, password: options.password };
    if (options.bssid && options.channel) {
      // A known access point: no scan, the shortest association (see docs/power.md).
      join.bssid = options.bssid.slice().buffer;
      join.channel = options.channel;
    }
    this.#wifi = new WiFi(join as ConstructorParameters<typeof WiFi>[0], (message: string, value?: unknown) => {
      if (message === WiFi.gotIP) onEvent("connected");
      // ESP32 and ESP8266 pass -1 with disconnect when the 4-way handshake failed: the password was refused.
      else if (message === WiFi.disconnected) onEvent(value === -1 ? "rejected" : "disconnected");
      else if (message === WiFi.lostIP) onEvent("disconnected");
    });
    // After `new WiFi()` (the station exists) and before the association completes (it takes longer than this turn).
    const address = options.address;
    if (address) WifiAp.address(address.address, address.netmask, address.gateway, address.dns);
  }

  leaveWifi(): void {
    if (!this.#wifi) return;
    this.#wifi.close();
    this.#wifi = undefined;
  }

  openWebSocket(url: string, headers: string[], events: WebSocketEvents, ntp?: string): WebSocketHandle {
    const parts = parseServerUrl(url);
    const Socket = this.#SecureSocket;
    if (typeof parts === "string" || (parts.secure && (!Socket || this.tls !== "ready"))) throw new Error(`cannot open ${url}`);
    if (!parts.secure) return openClient(parts, headers, events, GuardedSocket, undefined);
    // wss://: the clock must date the server's certificate first (SNTP when it was never set).
    const tls = this.#tls;
    let connection: WebSocketHandle | undefined;
    let closed = false;
    const fail = (reason: string) => {
      closed = true;
      Timer.set(() => events.onClose(reason), 0); // never from inside the caller's openWebSocket
    };
    tls.clockReady(ntp || NTP_DEFAULT, (error) => {
      if (closed) return;
      if (error) return fail(error);
      try {
        connection = openClient(parts, headers, events, Socket!, tls.secure());
      } catch (e) {
        fail(`tls: ${(e as Error).message}`); // the CA itself out of its dates, for one
      }
    });
    return {
      send: (text: string) => (connection ? connection.send(text) : false),
      close() {
        if (closed) return;
        closed = true;
        tls.cancel();
        connection?.close();
      },
    };
  }

  memory(): { slots: number; chunks: number } | undefined {
    const slots = Instrumentation.get(Instrumentation.map("XS Slot Heap Used"));
    const chunks = Instrumentation.get(Instrumentation.map("XS Chunk Heap Used"));
    return typeof slots === "number" && typeof chunks === "number" ? { slots, chunks } : undefined;
  }

  log(text: string): void {
    trace(text, "\n");
  }

  /** The platform's `host/report` takes the record and its line: the boards trace the line. */
  event(event: DeviceEvent): void {
    report(event, eventText(event));
  }

  resetReason(): string {
    return Power.resetReason();
  }

  restart(): void {
    Power.restart();
  }
}
