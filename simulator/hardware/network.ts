/*
 * The device's network: WebSocket client connections over real loopback sockets (the `ws` package),
 * reporting to the firmware with the SDK client's semantics (modules/network/websocket/websocket.js):
 * 1 connect when the TCP socket connects, 2 handshake after the upgrade, 3 receive per message (text as
 * a string, binary as an ArrayBuffer), 4 disconnect once when the connection closes or fails, with no
 * close code (the SDK client does not read it), and nothing after the firmware's own close(). Like the
 * SDK, close() drops the TCP connection without a close frame (the server sees 1006), a message of
 * 64 KB or more cannot be sent, and one received breaks the stream.
 *
 * Failures on demand: `refuse` makes new connections fail; `drop()` cuts the open ones; `resolve` answers
 * (or fails) name lookups.
 *
 * lwIP's send buffer: a frame is written only if it fits what the buffer has free (`room`), else the write
 * throws "can't write all data", as the SDK socket on lwIP does; its bytes are freed `ackDelayMs` later
 * (the peer's TCP acknowledgement), and `onWritable` says so (the socket's writable message).
 */
import { connect as tcpConnect, isIP, type NetConnectOpts, type Socket } from "node:net";
import { WebSocket } from "ws";
import type { Board } from "./board";
import type { Platform } from "./preferences";
import { HANDSHAKE_MS } from "./energy";

export const ClientMessage = Object.freeze({ connect: 1, handshake: 2, receive: 3, disconnect: 4 });

export interface ClientOptions {
  host: string;
  port: number;
  path: string;
  /** Alternating names and values, as the SDK takes them. */
  headers: readonly string[];
  protocol?: string;
}

export type ClientCallback = (message: number, value?: string | ArrayBuffer) => void;

/** The SDK writes lengths up to 16 bits and cannot read a 64-bit length. */
const MAX_MESSAGE = 65535;

/** Bytes a masked frame of `payload` bytes takes (the SDK client masks; lengths up to 16 bits). */
const frameSize = (payload: number) => payload + (payload < 126 ? 6 : 8);

export class Connection {
  #hardware: Board;
  #deliver: ClientCallback;
  #ws: WebSocket | undefined;
  /** "closed" once disconnect was reported or the firmware closed it: nothing more is delivered. */
  #state: "connecting" | "open" | "closed" = "connecting";
  #network: Network;
  /** Bytes written and not yet acknowledged by the peer's TCP. */
  #unacked = 0;
  /** Room freed in the send buffer (the SDK socket's writable message); the simulated client sets it. */
  onWritable: (() => void) | undefined;

  constructor(hardware: Board, network: Network, options: ClientOptions, deliver: ClientCallback, refuse: boolean, failAfterMs = 0) {
    this.#hardware = hardware;
    this.#network = network;
    this.#deliver = deliver;
    if (refuse) {
      // Refused, unreachable or no DNS answer: the SDK's socket fails, and the client reports disconnect only.
      hardware.after(failAfterMs, () => this.#report(ClientMessage.disconnect));
      return;
    }
    const headers: Record<string, string> = {};
    for (let i = 0; i + 1 < options.headers.length; i += 2) headers[options.headers[i]] = options.headers[i + 1];
    const host = options.host.includes(":") ? `[${options.host}]` : options.host;
    const path = options.path.startsWith("/") ? options.path : `/${options.path}`;
    const ws = (this.#ws = new WebSocket(`ws://${host}:${options.port}${path}`, options.protocol ?? [], {
      headers,
      perMessageDeflate: false, // the SDK client offers no extensions
      followRedirects: false,
      createConnection: (connectOptions: object) => {
        const socket: Socket = tcpConnect(connectOptions as NetConnectOpts);
        hardware.clock.trackSocket(socket, (peerTracked) => this.#busy(peerTracked));
        socket.once("connect", () => {
          this.#report(ClientMessage.connect);
          // The SDK checks the header list when it writes the upgrade request, inside its socket callback.
          if (options.headers.length % 2 && this.#state !== "closed")
            hardware.run(() => {
              throw new Error("invalid header array: need a value for every header");
            });
        });
        return socket;
      },
    }));
    ws.on("open", () => {
      this.#hardware.energy.traffic(HANDSHAKE_MS); // TCP and the upgrade exchange
      if (this.#state === "connecting") this.#state = "open";
      this.#report(ClientMessage.handshake);
    });
    ws.on("message", (data: Buffer, binary: boolean) => {
      this.#hardware.energy.traffic();
      if (data.byteLength > MAX_MESSAGE) {
        this.#report(ClientMessage.disconnect);
        return ws.terminate();
      }
      this.#report(ClientMessage.receive, binary ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer : data.toString());
    });
    ws.on("error", () => {}); // a failure is reported by the close that follows it
    ws.on("close", () => this.#report(ClientMessage.disconnect));
  }

  /** Bytes the send buffer takes now. */
  get room(): number {
    return this.#state === "closed" ? 0 : this.#network.sendBufferBytes - this.#unacked;
  }

  write(message: string | ArrayBuffer): void {
    const data = Buffer.from(message as string); // a string as UTF-8, an ArrayBuffer as is
    if (data.byteLength > MAX_MESSAGE) throw new Error("message too long");
    // Stricter than the SDK, which would write frame bytes into a socket still in its HTTP handshake.
    if (this.#state !== "open" || !this.#ws) throw new Error("websocket is not open");
    const bytes = frameSize(data.byteLength);
    if (bytes > this.room) {
      this.#network.refusedWrites++;
      throw new Error("can't write all data"); // modules/network/socket/lwip/modSocket.c
    }
    this.#unacked += bytes;
    this.#hardware.after(this.#network.ackDelayMs, () => {
      this.#unacked -= bytes;
      if (this.#state !== "closed") this.#hardware.run(() => this.onWritable?.());
    });
    this.#ws.send(data, { binary: typeof message !== "string" });
    this.#hardware.energy.traffic();
    this.#hardware.clock.touch();
  }

  close(): void {
    this.#state = "closed";
    this.#ws?.terminate();
    this.#hardware.clock.touch();
  }

  get closed(): boolean {
    return this.#state === "closed";
  }

  /** Broken from outside (the access point went away): the firmware hears disconnect. */
  cut(): void {
    this.#ws?.terminate();
    this.#hardware.clock.touch();
  }

  #report(message: number, value?: string | ArrayBuffer): void {
    if (this.#state === "closed") return;
    if (message === ClientMessage.disconnect) {
      this.#state = "closed";
      this.#ws?.terminate();
      this.#hardware.clock.touch();
    }
    this.#hardware.run(() => this.#deliver(message, value));
  }

  /** Still changing by itself: a handshake to an unfollowed peer, a close under way or not yet reported. */
  #busy(peerTracked: boolean): boolean {
    const ready = this.#ws?.readyState;
    if (this.#state === "closed") return false;
    if (ready === WebSocket.CLOSING || ready === WebSocket.CLOSED) return true;
    return !peerTracked && ready === WebSocket.CONNECTING;
  }
}

const SEND_BUFFER_BYTES: Record<Platform, number> = { esp32: 8192, esp8266: 2920, lin: 1024 };

/** How long a connection from a static address the network does not route takes to fail, ms. */
const NO_ROUTE_MS = 3000;

export class Network {
  /** New connections fail (nothing listening, no route) while true. */
  refuse = false;
  /** Connections attempted, across runs. */
  opened = 0;
  /**
   * Name lookup for a host that is not an IP address: the address to connect to, or undefined when the
   * lookup fails (the SDK's socket then fails, and the client reports disconnect only). Unset: Node resolves.
   */
  resolve: ((name: string) => string | undefined) | undefined;
  /** How long a failed lookup takes to fail, ms. */
  dnsFailMs = 0;
  /**
   * lwIP's TCP send buffer: ESP32 8 192 bytes (CONFIG_LWIP_TCP_SND_BUF_DEFAULT in the SDK's
   * build/devices/esp32/xsProj-esp32/sdkconfig.defaults), ESP8266 2 920 (2 × TCP_MSS 1460, lwIP 1.4's
   * default in the NONOS SDK); lin: mcsim's socket buffers 1 024 bytes ahead of the host's kernel.
   */
  get sendBufferBytes(): number {
    return this.#sendBufferBytes ?? SEND_BUFFER_BYTES[this.#hardware.platform];
  }
  set sendBufferBytes(bytes: number) {
    this.#sendBufferBytes = bytes;
  }
  #sendBufferBytes: number | undefined;
  /** How long the peer's TCP takes to acknowledge a write, freeing its bytes (a round trip), ms. */
  ackDelayMs = 20;
  /** Writes refused for want of room in the send buffer (the SDK socket throws "can't write all data"). */
  refusedWrites = 0;
  #hardware: Board;
  #open = new Set<Connection>();

  constructor(hardware: Board) {
    this.#hardware = hardware; // its platform is set after its parts are made: read it when needed
  }

  connect(options: ClientOptions, deliver: ClientCallback): Connection {
    this.opened++;
    for (const connection of this.#open) if (connection.closed) this.#open.delete(connection);
    if (!this.#hardware.wifi.routable) {
      // A static address that does not fit the network: the SYN goes unanswered; failed after a while.
      const failed = new Connection(this.#hardware, this, options, deliver, true, NO_ROUTE_MS);
      this.#open.add(failed);
      return failed;
    }
    const refuse = this.refuse || !this.#hardware.wifi.hasAddress;
    let target = options;
    if (!refuse && this.resolve && isIP(options.host) === 0) {
      const address = this.resolve(options.host);
      if (address === undefined) {
        const failed = new Connection(this.#hardware, this, options, deliver, true, this.dnsFailMs);
        this.#open.add(failed);
        return failed;
      }
      target = { ...options, host: address };
    }
    const connection = new Connection(this.#hardware, this, target, deliver, refuse);
    this.#open.add(connection);
    return connection;
  }

  /** Cuts every open connection, as when the access point goes away; the firmware hears disconnect. */
  drop(): void {
    for (const connection of this.#open) connection.cut();
    this.#open.clear();
  }

  /** Power off: connections close without a word to the (gone) firmware. */
  powerOff(): void {
    for (const connection of this.#open) connection.close();
    this.#open.clear();
  }
}
