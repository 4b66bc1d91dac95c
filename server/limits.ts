/*
 * Limits that keep one client from taking the server: connections per remote address, and per device the
 * batches, hellos and pings it may send a minute (docs/protocol.md, "Limits"; docs/server.md, "Limits").
 */

/**
 * Connections per remote address, of two kinds, each at most `max`:
 * - WebSockets (devices and dashboards, from their upgrade to their close): one more is refused (429)
 *   before its upgrade. Only a client that finished its upgrade request holds one, and a device holds one
 *   only while its token is good (a refused one is closed at once), so sockets that never send a byte
 *   cannot take them from the devices behind the same address.
 * - HTTP connections without a request in progress (just accepted, sending headers, or idle between
 *   requests): one more does not refuse the newcomer but closes the oldest, so idle sockets cannot lock out
 *   `/health` or a device's upgrade either; each lasts at most the headers timeout anyway.
 * A connection is known by its remote port (unique per address): over TLS the socket a request or an upgrade
 * comes on is not the TCP socket that was accepted, but both have the same port.
 */
export class AddressConnections<C> {
  /** 0: no limit. */
  readonly max: number;
  /** Per address, by port, in the order they were accepted (or last finished a request): oldest first. */
  #waiting = new Map<string, Map<number, C>>();
  #upgraded = new Map<string, Set<number>>();

  constructor(max: number) {
    this.max = max;
  }

  /** A TCP connection was accepted. Returns the one to close to make room for it, if any (the oldest waiting). */
  accepted(address: string, port: number, connection: C): C | undefined {
    const waiting = this.#waiting.get(address) ?? new Map<number, C>();
    this.#waiting.set(address, waiting.set(port, connection));
    if (this.max === 0 || waiting.size <= this.max) return undefined;
    const [oldestPort, oldest] = waiting.entries().next().value as [number, C];
    this.busy(address, oldestPort);
    return oldest;
  }

  /** A request began on the connection: it is no longer waiting. */
  busy(address: string, port: number): void {
    const waiting = this.#waiting.get(address);
    if (waiting?.delete(port) && waiting.size === 0) this.#waiting.delete(address);
  }

  /** Its request was answered and it stays open for the next one: waiting again, as the newest. */
  idle(address: string, port: number, connection: C): void {
    this.busy(address, port);
    this.accepted(address, port, connection);
  }

  /** The connection asks to become a WebSocket: false when its address already holds `max` of them. */
  upgrade(address: string, port: number): boolean {
    this.busy(address, port);
    const upgraded = this.#upgraded.get(address) ?? new Set<number>();
    if (this.max > 0 && upgraded.size >= this.max) return false;
    this.#upgraded.set(address, upgraded.add(port));
    return true;
  }

  closed(address: string, port: number): void {
    this.busy(address, port);
    const upgraded = this.#upgraded.get(address);
    if (upgraded?.delete(port) && upgraded.size === 0) this.#upgraded.delete(address);
  }

  /** WebSockets open from `address`. */
  sockets(address: string): number {
    return this.#upgraded.get(address)?.size ?? 0;
  }
}

export interface AllowanceOptions {
  /** Sustained frames per minute per device; 0: no limit. */
  perMinute: number;
  /** Frames a device may send at once after a quiet spell (a backlog after an outage). */
  burst: number;
  now: () => number;
}

/**
 * A token bucket per device (batches, hellos or pings), kept across its reconnects (a reconnect must not
 * refill it). One entry per device that has sent such a frame, so it is bounded by the registered devices.
 */
export class Allowance {
  readonly perMinute: number;
  readonly burst: number;
  #now: () => number;
  #tokens = new Map<string, { tokens: number; at: number }>();

  constructor(options: AllowanceOptions) {
    this.perMinute = options.perMinute;
    this.burst = Math.max(1, options.burst);
    this.#now = options.now;
  }

  /** Takes one frame from the device's allowance; false when it has none left. */
  allow(deviceId: string): boolean {
    if (this.perMinute <= 0) return true;
    const now = this.#now();
    let bucket = this.#tokens.get(deviceId);
    if (bucket === undefined) {
      bucket = { tokens: this.burst, at: now };
      this.#tokens.set(deviceId, bucket);
    }
    // A clock that steps back (a test, a simulator) refills nothing.
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.burst, bucket.tokens + (elapsed * this.perMinute) / 60_000);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
