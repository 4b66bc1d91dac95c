import { test } from "node:test";
import assert from "node:assert/strict";
import { Backoff, OUTAGE_CAP, RETRIES_EXHAUSTED } from "../../modules/link/backoff";

test("full jitter: each delay lies in [0, min(cap, base·2^attempt))", () => {
  const backoff = new Backoff(1000, 60000);
  const bounds = [];
  // Nine attempts: the delays add up to less than four caps, so the cap has not grown yet.
  for (let attempt = 0; attempt < 9; attempt++) {
    const bound = backoff.bound();
    bounds.push(bound);
    assert.equal(backoff.next(0.999999), Math.floor(0.999999 * bound));
  }
  assert.deepEqual(bounds, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  assert.equal(backoff.next(0), 0);
});

test("an attempt limit reports exhaustion; reset starts over", () => {
  const backoff = new Backoff(100, 1000, 3);
  assert.notEqual(backoff.next(0.5), RETRIES_EXHAUSTED);
  backoff.next(0.5);
  backoff.next(0.5);
  assert.equal(backoff.next(0.5), RETRIES_EXHAUSTED);
  backoff.reset();
  assert.equal(backoff.next(0.5), 50);
});

test("huge attempt counts do not overflow past the cap", () => {
  const backoff = new Backoff(1000, 5000);
  backoff.attempt = 5000;
  assert.equal(backoff.bound(), 5000);
});

test("a long outage grows the cap: once the delays add up to four caps, to a quarter of them, up to 15 min", () => {
  const backoff = new Backoff(1000, 60000);
  const bounds: number[] = [];
  let waited = 0;
  for (let attempt = 0; attempt < 80; attempt++) {
    const bound = backoff.bound();
    bounds.push(bound);
    const cap = Math.min(OUTAGE_CAP, Math.max(60000, Math.floor(waited / 4)));
    assert.equal(bound, Math.min(1000 * 2 ** attempt, cap), `attempt ${attempt}`);
    waited += backoff.next(0.5);
  }
  // The configured cap holds until four caps of waiting: a short outage ends within it.
  const first = bounds.findIndex((b) => b > 60000);
  assert.ok(first > 8, `grew at attempt ${first}`);
  assert.equal(bounds[79], OUTAGE_CAP);
  for (let i = 1; i < bounds.length; i++) assert.ok(bounds[i] >= bounds[i - 1], "never shrinks while failing");
  backoff.reset();
  assert.equal(backoff.bound(), 1000);
  assert.equal(backoff.waited, 0);
});

test("short delays never grow the cap early; a configured cap above the outage cap is kept", () => {
  const backoff = new Backoff(1000, 60000);
  for (let i = 0; i < 1000; i++) backoff.next(0); // a thousand immediate retries: no time waited
  assert.equal(backoff.bound(), 60000);
  const long = new Backoff(1000, 1800000);
  long.attempt = 200;
  long.waited = 100 * 3600000;
  assert.equal(long.bound(), 1800000);
});
