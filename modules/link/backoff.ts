/*
 * Reconnect delays with "full jitter" (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * delay = random(0, min(cap, base · 2^attempt)). Like FreeRTOS backoffAlgorithm, it never calls the
 * platform: the caller passes the random value in and owns the instance.
 *
 * In a long outage the cap grows with it: once the delays waited add up to four caps, the cap is a quarter
 * of their sum, up to OUTAGE_CAP. So a short outage is over within the configured cap (plus a handshake),
 * and an hour's outage costs a few dozen attempts, not one every half-cap. The sum counts only the delays
 * handed out (not the attempts' own time): it never runs ahead of the time really spent failing.
 */
export const RETRIES_EXHAUSTED = -1;
/** The most the cap grows to in a long outage (a configured cap above it is kept), ms. */
export const OUTAGE_CAP = 900000;

export class Backoff {
  base: number;
  cap: number;
  /** 0: retry forever. */
  maxAttempts: number;
  attempt = 0;
  /** Sum of the delays handed out since the last reset, ms. */
  waited = 0;

  constructor(base: number, cap: number, maxAttempts = 0) {
    this.base = base;
    this.cap = cap;
    this.maxAttempts = maxAttempts;
  }

  /** Upper bound of the next delay, in ms. */
  bound(): number {
    const cap = this.cap;
    const grown = Math.floor(this.waited / 4);
    const limit = grown <= cap ? cap : grown < OUTAGE_CAP ? grown : cap > OUTAGE_CAP ? cap : OUTAGE_CAP;
    // 2^attempt overflows nothing useful beyond 30 doublings; the cap has long been reached.
    const ceiling = this.base * 2 ** (this.attempt < 30 ? this.attempt : 30);
    return ceiling < limit ? ceiling : limit;
  }

  /** The next delay in ms for `random` in [0, 1), or RETRIES_EXHAUSTED. */
  next(random: number): number {
    if (this.maxAttempts && this.attempt >= this.maxAttempts) return RETRIES_EXHAUSTED;
    const delay = Math.floor(random * this.bound());
    this.attempt++;
    this.waited += delay;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
    this.waited = 0;
  }
}
