/*
 * FaultProxy: a TCP proxy on loopback between simulated devices and a real server, that breaks the
 * connections on demand, on the simulation's clock. It forwards whole units (the upgrade's HTTP head, then
 * WebSocket frames: simulator/faults/frames.ts), so a fault can strike at a frame boundary or inside one.
 *
 * Faults: refuse new connections (reset as soon as accepted), reset open ones, cut the
 * next frame halfway then reset, blackhole (nothing passes either way, and nothing is lost: TCP would
 * retransmit), half-open (open connections die silently, forever), delay every unit, corrupt the next
 * frame, close "from the server" with a given close code, swallow the server's acks, and inject frames as
 * if the server sent them (an ack for a batch never received).
 *
 * Settling (simulator/hardware/traffic.ts): the listener and the upstream sockets are followed, so both
 * legs of each connection pair up and a VirtualClock waits until their bytes are read. Bytes the proxy
 * holds (delayed or blackholed) sit in its own queue, not in a socket, so holding them never stalls a
 * settle; a delayed unit is released by a clock timer, which marks the traffic touched.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type { Clock, ClockTimer } from "../hardware/clock";
import { FrameCutter, closeFrame, frameText, serverFrame, type Unit } from "./frames";

/** "up": device to server; "down": server to device. */
export type Direction = "up" | "down";

export interface FaultProxyOptions {
  clock: Clock & { trackServer?(server: Server): void };
  /** Where the server listens; a function when it may move (a restarted server on a new port). */
  target: { host?: string; port: number } | (() => { host?: string; port: number });
  /** Listen on this port; default: a free one below the ephemeral range (20000–32000). */
  port?: number;
  /**
   * Register the listener with `clock.trackServer` (default). Off when the clock already follows every
   * server in the process (`trackAllServers`): each connection would be followed twice.
   */
  trackServer?: boolean;
}

interface Held {
  direction: Direction;
  /** Virtual time it may go on (its arrival plus the delay in force then). */
  due: number;
  /** Bytes to write; undefined: end that leg (the FIN that followed them). */
  bytes: Buffer | undefined;
  /** After writing: end both legs (a frame cut halfway). */
  thenEnd: boolean;
}

/** One device connection: the device's leg (accepted) and the server's leg (dialled). */
class Pipe {
  readonly device: Socket;
  readonly server: Socket;
  readonly cutters = { up: new FrameCutter(), down: new FrameCutter() };
  /** The server's upgrade response went through: frames may be injected. */
  upgraded = false;
  /** Half-open: everything is dropped, forever. */
  dead = false;
  closed = false;
  cutNext: Direction | undefined;
  corruptNext = { up: false, down: false };
  /** Units waiting for their delay or for the blackhole to end, in order. */
  held: Held[] = [];
  timer: ClockTimer | undefined;

  constructor(device: Socket, server: Socket) {
    this.device = device;
    this.server = server;
  }
}

const LOW_PORT = 20000, HIGH_PORT = 32000;

export class FaultProxy {
  readonly clock: FaultProxyOptions["clock"];
  port = 0;
  /** TCP connections accepted, ever, and those refused. */
  accepted = 0;
  refused = 0;
  /** Frames swallowed, cut or corrupted, and frames injected: for tests to check a fault struck. */
  readonly struck = { dropped: 0, cut: 0, corrupted: 0, injected: 0, closed: 0, reset: 0 };
  #target: FaultProxyOptions["target"];
  #trackServer: boolean;
  #server: Server | undefined;
  #pipes = new Set<Pipe>();
  #refusing = false;
  #blackhole = false;
  #delay = 0;
  #dropAcks = false;

  private constructor(options: FaultProxyOptions) {
    this.clock = options.clock;
    this.#target = options.target;
    this.#trackServer = options.trackServer ?? true;
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    if (options.port) {
      proxy.port = options.port;
      await proxy.#listen();
      return proxy;
    }
    for (let tries = 0; ; tries++) {
      proxy.port = LOW_PORT + Math.floor(Math.random() * (HIGH_PORT - LOW_PORT));
      try {
        await proxy.#listen();
        return proxy;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || tries > 50) throw error;
      }
    }
  }

  /** Open device connections. */
  get open(): number {
    return this.#pipes.size;
  }
  /** A connection is up end to end: upgraded, not half-open, not closing (the device is online). */
  get connected(): boolean {
    for (const pipe of this.#pipes) if (pipe.upgraded && !pipe.dead && !pipe.closed && !pipe.device.destroyed) return true;
    return false;
  }
  get refusing(): boolean {
    return this.#refusing;
  }
  get blackholed(): boolean {
    return this.#blackhole;
  }

  /**
   * While on, new connections are refused; open ones are left as they are. A closed port answers a SYN
   * with RST; the proxy keeps its port (closing it would let another listener take it before it comes back),
   * so it resets each connection as soon as it accepts it. The SDK's client reports a bare disconnect either
   * way; a device on the fault rig (rig.ts) sees the exact refusal, without a TCP connect.
   */
  refuse(on: boolean): void {
    this.#refusing = on;
  }

  /** Resets every open connection at both ends (RST), half-open ones included. */
  reset(): void {
    for (const pipe of [...this.#pipes]) this.#reset(pipe);
  }

  /** The server goes away: new connections are refused and open ones reset. */
  down(): void {
    this.refuse(true);
    this.reset();
  }
  up(): void {
    this.refuse(false);
  }

  /** On each open connection, the next frame in `direction` is cut after half its bytes, then reset. */
  cutNextFrame(direction: Direction): void {
    for (const pipe of this.#pipes) pipe.cutNext = direction;
  }

  /**
   * While on, nothing passes in either direction, on open and new connections (TCP still connects: the
   * proxy accepts). Nothing is lost: what was held flows on when it ends, unless an end gave up meanwhile
   * (closed its side): then the connection is reset.
   */
  blackhole(on: boolean): void {
    this.#blackhole = on;
    if (!on) for (const pipe of this.#pipes) this.#schedule(pipe);
  }

  /** Every open connection dies silently: nothing more passes on it, and neither end is told. */
  halfOpen(): void {
    for (const pipe of this.#pipes) {
      pipe.dead = true;
      pipe.held.length = 0;
      this.clock.clearTimer(pipe.timer);
      pipe.timer = undefined;
    }
  }

  /** Every unit waits `ms` on the simulation's clock before it goes on (0: none). */
  delay(ms: number): void {
    this.#delay = ms;
  }

  /**
   * On each open connection, the next frame in `direction` gets one bad byte: device to server, its mask
   * key (the whole payload comes out garbled); server to client, a reserved header bit (the client fails
   * the connection). Both are what framing or JSON parsing catch; a flipped digit inside a valid payload
   * is not, and TCP's checksum and TLS are what stop that in the field.
   */
  corruptNextFrame(direction: Direction): void {
    for (const pipe of this.#pipes) pipe.corruptNext[direction] = true;
  }

  /** Every open connection is closed "by the server" with `code`: a close frame to the device, then FIN. */
  closeWith(code: number, reason = ""): void {
    for (const pipe of this.#pipes) {
      if (pipe.closed || pipe.dead) continue;
      this.struck.closed++;
      pipe.closed = true;
      pipe.held.length = 0;
      this.clock.clearTimer(pipe.timer);
      pipe.timer = undefined;
      if (pipe.upgraded) pipe.device.write(closeFrame(code, reason));
      pipe.device.end();
      pipe.server.resetAndDestroy();
    }
  }

  /** While on, the server's ack frames are swallowed: a server that commits and never says so. */
  dropAcks(on: boolean): void {
    this.#dropAcks = on;
  }

  /** A text frame to every upgraded open connection, as if the server sent it. */
  inject(text: string): void {
    for (const pipe of this.#pipes) {
      if (!pipe.upgraded || pipe.closed || pipe.dead) continue;
      this.struck.injected++;
      this.#enqueue(pipe, { direction: "down", due: 0, bytes: serverFrame(1, Buffer.from(text)), thenEnd: false });
    }
  }

  /** Ends every fault and resets every connection. */
  clear(): void {
    this.#blackhole = false;
    this.#delay = 0;
    this.#dropAcks = false;
    this.reset();
  }

  async close(): Promise<void> {
    this.reset();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #listen(): Promise<void> {
    const server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    if (this.#trackServer) this.clock.trackServer?.(server);
    return new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => {
        server.off("error", reject);
        this.#server = server;
        resolve();
      });
    });
  }

  #accept(device: Socket): void {
    if (this.#refusing) {
      this.refused++;
      device.on("error", () => {});
      device.resetAndDestroy();
      return;
    }
    this.accepted++;
    const target = typeof this.#target === "function" ? this.#target() : this.#target;
    const server = connect({ host: target.host ?? "127.0.0.1", port: target.port, noDelay: true });
    this.clock.trackSocket(server);
    const pipe = new Pipe(device, server);
    this.#pipes.add(pipe);
    device.on("data", (chunk: Buffer) => this.#receive(pipe, "up", chunk));
    server.on("data", (chunk: Buffer) => this.#receive(pipe, "down", chunk));
    // A FIN travels like data, behind what came before it; a reset or an error tears both legs down. An
    // end that gives up during a blackhole loses the connection: its retransmissions never get through.
    device.on("end", () => (this.#blackhole ? this.#reset(pipe) : this.#enqueue(pipe, { direction: "up", due: 0, bytes: undefined, thenEnd: false })));
    server.on("end", () => (this.#blackhole ? this.#reset(pipe) : this.#enqueue(pipe, { direction: "down", due: 0, bytes: undefined, thenEnd: false })));
    const failed = () => this.#gone(pipe);
    device.on("error", failed).on("close", failed);
    server.on("error", failed).on("close", failed);
  }

  #receive(pipe: Pipe, direction: Direction, chunk: Buffer): void {
    if (pipe.closed || pipe.dead) return;
    for (const unit of pipe.cutters[direction].push(chunk)) this.#unit(pipe, direction, unit);
  }

  #unit(pipe: Pipe, direction: Direction, unit: Unit): void {
    if (unit.kind === "frame" && direction === "down" && this.#dropAcks) {
      const text = frameText(unit);
      if (text !== undefined && /"t"\s*:\s*"ack"/.test(text)) {
        this.struck.dropped++;
        return;
      }
    }
    let bytes = unit.bytes;
    let thenEnd = false;
    if (unit.kind === "frame" && pipe.corruptNext[direction]) {
      pipe.corruptNext[direction] = false;
      this.struck.corrupted++;
      if (direction === "up" && unit.maskAt >= 0) bytes[unit.maskAt + (unit.bytes.length % 4)] ^= 0x5a;
      else bytes[0] |= 0x40; // RSV1 without a negotiated extension
    }
    if (unit.kind === "frame" && pipe.cutNext === direction) {
      pipe.cutNext = undefined;
      this.struck.cut++;
      bytes = bytes.subarray(0, Math.max(1, bytes.length >> 1));
      thenEnd = true;
    }
    this.#enqueue(pipe, { direction, due: 0, bytes, thenEnd });
  }

  #enqueue(pipe: Pipe, held: Held): void {
    if (pipe.closed || pipe.dead) return;
    held.due = this.clock.now() + this.#delay;
    pipe.held.push(held);
    this.#schedule(pipe);
  }

  /** Writes the units that are due, in order, and sets a clock timer for the next one. */
  #schedule(pipe: Pipe): void {
    this.clock.clearTimer(pipe.timer);
    pipe.timer = undefined;
    if (pipe.closed || pipe.dead || this.#blackhole) return;
    const now = this.clock.now();
    while (pipe.held.length && pipe.held[0].due <= now && !pipe.closed && !pipe.dead) this.#write(pipe, pipe.held.shift()!);
    if (pipe.held.length && !pipe.closed && !pipe.dead) {
      pipe.timer = this.clock.setTimer(() => {
        pipe.timer = undefined;
        this.#schedule(pipe);
      }, pipe.held[0].due - now);
    }
  }

  #write(pipe: Pipe, { direction, bytes, thenEnd }: Held): void {
    const to = direction === "up" ? pipe.server : pipe.device;
    if (to.destroyed) return;
    if (!bytes) {
      to.end();
      return;
    }
    to.write(bytes);
    if (direction === "down") pipe.upgraded = true; // the first unit down is the 101 head
    if (thenEnd) {
      // The half frame reaches the peer, then the connection ends under it.
      pipe.closed = true;
      pipe.held.length = 0;
      pipe.device.end();
      pipe.server.end();
    }
  }

  #reset(pipe: Pipe): void {
    this.struck.reset++;
    pipe.closed = true;
    pipe.held.length = 0;
    this.clock.clearTimer(pipe.timer);
    pipe.timer = undefined;
    pipe.device.resetAndDestroy();
    pipe.server.resetAndDestroy();
    this.#pipes.delete(pipe);
  }

  /** A leg failed or closed. Reset the other, unless the pipe is half-open: then the survivor hears nothing. */
  #gone(pipe: Pipe): void {
    const { device, server } = pipe;
    if (!pipe.dead && !pipe.closed && (device.destroyed || server.destroyed)) {
      // A leg that closed after its FIN went through is an orderly end: the other leg ends after its data.
      const orderly = (device.destroyed && device.readableEnded) || (server.destroyed && server.readableEnded);
      if (!orderly) return this.#reset(pipe);
    }
    if (device.destroyed && server.destroyed) {
      this.clock.clearTimer(pipe.timer);
      this.#pipes.delete(pipe);
    }
  }
}
