/*
 * Traffic: the real sockets of a simulation, followed so that a VirtualClock can wait until loopback I/O
 * has finished before it moves time on.
 *
 * Settled means, on two event-loop turns in a row (so work a server defers by a promise or setImmediate
 * is seen too):
 * - no socket is still connecting, and no socket holds bytes Node has not handed to the kernel;
 * - for a connection whose two ends are both followed (a device's socket and the socket a tracked server
 *   accepted): both ends closed, or each end has read every byte the other wrote and neither end is
 *   closed or half-closed alone;
 * - no end's owner says it is busy (a device socket whose handshake or close is still under way);
 * - every idle check passes.
 * Byte counts make this exact without guessing a delay; the limit turns a stuck peer into an error.
 *
 * Checking every socket costs O(connections) a turn, so a step that did no I/O skips it: devices report
 * their own I/O (`touch`), and anything else (a run's start, a test's timer, a new connection) marks the
 * traffic touched too. An untouched step still takes one event-loop turn, for promise jobs and idle checks.
 */
import diagnostics from "node:diagnostics_channel";
import type { Server, Socket } from "node:net";

/** True (or a promise that settles) when a server has no asynchronous work in flight. */
export type IdleCheck = () => boolean | PromiseLike<unknown>;

interface End {
  readonly socket: Socket;
  /** "local>remote", known once connected: kept after close, when Node forgets the addresses. */
  key?: string;
  peerKey?: string;
  readonly busy?: (peerTracked: boolean) => boolean;
}

const STEADY_TURNS = 2;

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function address(host: string | undefined, port: number | undefined): string {
  // An IPv4 peer of a dual-stack server shows as ::ffff:127.0.0.1 on one side only.
  return `${host?.startsWith("::ffff:") ? host.slice(7) : host}:${port}`;
}

export class Traffic {
  readonly limitMs: number;
  #now: () => number;
  #ends = new Set<End>();
  #byKey = new Map<string, End>();
  #idle: IdleCheck[] = [];
  #touched = true;

  /** `now`: real time in ms, which the limit is measured on. */
  constructor(limitMs: number, now: () => number = () => performance.now()) {
    this.limitMs = limitMs;
    this.#now = now;
  }

  /** Connections followed, open or not yet seen closed at both ends. */
  get size(): number {
    return this.#ends.size;
  }

  trackServer(server: Server): void {
    server.on("connection", (socket: Socket) => this.trackSocket(socket));
  }

  /** Follows every connection any server in this process accepts; returns the way to stop. */
  trackAllServers(): () => void {
    const follow = (message: unknown) => this.trackSocket((message as { socket: Socket }).socket);
    diagnostics.subscribe("net.server.socket", follow);
    return () => diagnostics.unsubscribe("net.server.socket", follow);
  }

  trackIdle(check: IdleCheck): void {
    this.#idle.push(check);
  }

  /** Something may have moved on a socket since the last settle. */
  touch(): void {
    this.#touched = true;
  }

  trackSocket(socket: Socket, busy?: (peerTracked: boolean) => boolean): void {
    this.#touched = true;
    const end: End = { socket, busy };
    this.#ends.add(end);
    if (socket.remotePort !== undefined) this.#name(end);
    else socket.once("connect", () => this.#name(end));
  }

  async settle(): Promise<void> {
    if (this.#ends.size === 0 && this.#idle.length === 0) return;
    const deadline = this.#now() + this.limitMs;
    await turn();
    if (!this.#touched && (await this.#idleNow(deadline))) return;
    for (let steady = 0; steady < STEADY_TURNS; ) {
      steady = this.#quiet() && (await this.#idleNow(deadline)) ? steady + 1 : 0;
      if (steady === STEADY_TURNS) break;
      if (this.#now() > deadline)
        throw new Error(`simulated network did not settle within ${this.limitMs} ms: ${this.describe() || "a server is not idle"}`);
      await turn();
    }
    this.#touched = false;
    this.#sweep();
  }

  /** One line per unsettled end, for the error a stuck run reports. */
  describe(): string {
    const lines: string[] = [];
    for (const end of this.#ends) {
      const reason = this.#unsettled(end);
      if (reason) lines.push(`${end.key ?? "(connecting)"}: ${reason}`);
    }
    return lines.join("; ");
  }

  #name(end: End): void {
    const s = end.socket;
    if (s.remotePort === undefined) return; // failed before connecting: no peer to pair with
    end.key = `${address(s.localAddress, s.localPort)}>${address(s.remoteAddress, s.remotePort)}`;
    end.peerKey = `${address(s.remoteAddress, s.remotePort)}>${address(s.localAddress, s.localPort)}`;
    this.#byKey.set(end.key, end);
  }

  #quiet(): boolean {
    for (const end of this.#ends) if (this.#unsettled(end)) return false;
    return true;
  }

  #unsettled(end: End): string | undefined {
    const s = end.socket;
    if (s.connecting) return "connecting";
    if (!s.destroyed && s.writableLength > 0) return `${s.writableLength} bytes not yet written`;
    if (!s.destroyed && s.writableEnded) return "half-closed";
    const peer = end.peerKey ? this.#byKey.get(end.peerKey) : undefined;
    if (end.busy?.(peer !== undefined)) return "busy";
    if (!peer || (s.destroyed && peer.socket.destroyed)) return undefined; // closed at both ends: nothing moves
    const written = s.bytesWritten ?? 0, read = peer.socket.bytesRead;
    if (written !== read) return `wrote ${written} bytes, peer read ${read}`;
    if (s.destroyed !== peer.socket.destroyed) return "closing";
    return undefined;
  }

  async #idleNow(deadline: number): Promise<boolean> {
    for (const check of this.#idle) {
      const result = check();
      if (result === false) return false;
      if (result === true || result === undefined) continue;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - this.#now()))));
      const done = await Promise.race([Promise.resolve(result).then(() => true), late]);
      clearTimeout(timer);
      if (!done) return false;
    }
    return true;
  }

  /** Forgets connections closed at both ends. */
  #sweep(): void {
    for (const end of this.#ends) {
      if (!end.socket.destroyed) continue;
      const peer = end.peerKey ? this.#byKey.get(end.peerKey) : undefined;
      if (peer && !peer.socket.destroyed) continue;
      this.#ends.delete(end);
      if (end.key && this.#byKey.get(end.key) === end) this.#byKey.delete(end.key);
    }
  }
}
