/*
 * Reconnect delays with "full jitter" (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * delay = random(0, min(cap, base · 2^attempt)). Like FreeRTOS backoffAlgorithm, it never calls the
 * platform: the caller passes the random value in and owns the instance.
 */
export const RETRIES_EXHAUSTED = -1;

export class Backoff {
  base: number;
  cap: number;
  /** 0: retry forever. */
  maxAttempts: number;
  attempt = 0;

  constructor(base: number, cap: number, maxAttempts = 0) {
    this.base = base;
    this.cap = cap;
    this.maxAttempts = maxAttempts;
  }

  /** Upper bound of the next delay, in ms. */
  bound(): number {
    // 2^attempt overflows nothing useful beyond 30 doublings; the cap has long been reached.
    const ceiling = this.base * 2 ** (this.attempt < 30 ? this.attempt : 30);
    return ceiling < this.cap ? ceiling : this.cap;
  }

  /** The next delay in ms for `random` in [0, 1), or RETRIES_EXHAUSTED. */
  next(random: number): number {
    if (this.maxAttempts && this.attempt >= this.maxAttempts) return RETRIES_EXHAUSTED;
    const delay = Math.floor(random * this.bound());
    this.attempt++;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }
}
