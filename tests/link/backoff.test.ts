import { test } from "node:test";
import assert from "node:assert/strict";
import { Backoff, RETRIES_EXHAUSTED } from "../../modules/link/backoff";

test("full jitter: each delay lies in [0, min(cap, base·2^attempt))", () => {
  const backoff = new Backoff(1000, 60000);
  const bounds = [];
  for (let attempt = 0; attempt < 10; attempt++) {
    const bound = backoff.bound();
    bounds.push(bound);
    assert.equal(backoff.next(0.999999), Math.floor(0.999999 * bound));
  }
  assert.deepEqual(bounds, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
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
