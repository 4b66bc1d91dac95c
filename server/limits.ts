/*
 * Limits that keep one client from taking the server: open connections per remote address, and batches per
 * device per minute (docs/protocol.md, "Limits").
 */

/** Open TCP connections per remote address. */
export class AddressConnections {
  /** 0: no limit. */
  readonly max: number;
  #open = new Map<string, number>();

  constructor(max: number) {
    this.max = max;
  }

  opened(address: string): void {
    this.#open.set(address, (this.#open.get(address) ?? 0) + 1);
  }

  closed(address: string): void {
    const n = (this.#open.get(address) ?? 1) - 1;
    if (n <= 0) this.#open.delete(address);
    else this.#open.set(address, n);
  }

  /** True when this address holds more connections than allowed (the one asking included). */
  over(address: string): boolean {
    return this.max > 0 && (this.#open.get(address) ?? 0) > this.max;
  }
}

export interface BatchRateOptions {
  /** Sustained batches per minute per device; 0: no limit. */
  perMinute: number;
  /** Batches a device may send at once after a quiet spell (a backlog after an outage). */
  burst: number;
  now: () => number;
}

/**
 * A token bucket per device, kept across its reconnects (a reconnect must not refill it). One entry per
 * device that has sent a batch, so it is bounded by the registered devices.
 */
export class BatchRate {
  readonly perMinute: number;
  readonly burst: number;
  #now: () => number;
  #tokens = new Map<string, { tokens: number; at: number }>();

  constructor(options: BatchRateOptions) {
    this.perMinute = options.perMinute;
    this.burst = Math.max(1, options.burst);
    this.#now = options.now;
  }

  /** Takes one batch from the device's allowance; false when it has none left. */
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
