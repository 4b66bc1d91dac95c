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
 */
export class AddressConnections<C> {
  /** 0: no limit. */
  readonly max: number;
  /** Per address, in the order they were accepted (or last finished a request): oldest first. */
  #waiting = new Map<string, Set<C>>();
  #upgraded = new Map<string, Set<C>>();

  constructor(max: number) {
    this.max = max;
  }

  /** A TCP connection was accepted. Returns the one to close to make room for it, if any (the oldest waiting). */
  accepted(address: string, connection: C): C | undefined {
    const waiting = add(this.#waiting, address, connection);
    if (this.max === 0 || waiting.size <= this.max) return undefined;
    const oldest = waiting.values().next().value as C;
    remove(this.#waiting, address, oldest);
    return oldest;
  }

  /** A request began on the connection: it is no longer waiting. */
  busy(address: string, connection: C): void {
    remove(this.#waiting, address, connection);
  }

  /** Its request was answered and it stays open for the next one: waiting again, as the newest. */
  idle(address: string, connection: C): void {
    add(this.#waiting, address, connection);
  }

  /** The connection asks to become a WebSocket: false when its address already holds `max` of them. */
  upgrade(address: string, connection: C): boolean {
    remove(this.#waiting, address, connection);
    if (this.max > 0 && (this.#upgraded.get(address)?.size ?? 0) >= this.max) return false;
    add(this.#upgraded, address, connection);
    return true;
  }

  closed(address: string, connection: C): void {
    remove(this.#waiting, address, connection);
    remove(this.#upgraded, address, connection);
  }

  /** WebSockets open from `address`. */
  sockets(address: string): number {
    return this.#upgraded.get(address)?.size ?? 0;
  }
}

function add<C>(map: Map<string, Set<C>>, address: string, connection: C): Set<C> {
  let set = map.get(address);
  if (set === undefined) map.set(address, (set = new Set()));
  set.delete(connection); // re-added as the newest
  set.add(connection);
  return set;
}

function remove<C>(map: Map<string, Set<C>>, address: string, connection: C): void {
  const set = map.get(address);
  if (set?.delete(connection) && set.size === 0) map.delete(address);
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
