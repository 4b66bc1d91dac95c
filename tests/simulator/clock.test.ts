import assert from "node:assert/strict";
import { test } from "node:test";
import { RealClock, VIRTUAL_EPOCH, VirtualClock } from "../../simulator/hardware/clock";

test("timers fire in time order, equal times in the order they were set, at their due time", async () => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  const at = (name: string) => () => fired.push(`${name}@${clock.now() - VIRTUAL_EPOCH}`);
  clock.setTimer(at("late"), 30);
  clock.setTimer(at("first10"), 10);
  clock.setTimer(at("second10"), 10);
  clock.setTimer(at("now"), 0);
  clock.setTimer(at("negative"), -5);
  await clock.advance(100);
  assert.deepEqual(fired, ["now@0", "negative@0", "first10@10", "second10@10", "late@30"]);
  assert.equal(clock.now(), VIRTUAL_EPOCH + 100);
});

test("a cleared timer never fires; clearing twice, late or undefined does nothing", async () => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  const kept = clock.setTimer(() => fired.push("kept"), 10);
  const dropped = clock.setTimer(() => fired.push("dropped"), 10);
  clock.clearTimer(dropped);
  clock.clearTimer(dropped);
  clock.clearTimer(undefined);
  await clock.advance(20);
  clock.clearTimer(kept);
  assert.deepEqual(fired, ["kept"]);
  assert.equal(clock.pending, 0);
});

test("runUntil stops exactly at its time; later timers wait; timers set while running are honoured", async () => {
  const clock = new VirtualClock({ start: 1_000_000 });
  const fired: number[] = [];
  clock.setTimer(() => {
    fired.push(clock.now());
    clock.setTimer(() => fired.push(clock.now()), 0); // same instant, same run
    clock.setTimer(() => fired.push(clock.now()), 500); // beyond the run's end
  }, 100);
  await clock.runUntil(1_000_200);
  assert.deepEqual(fired, [1_000_100, 1_000_100]);
  assert.equal(clock.now(), 1_000_200);
  assert.equal(clock.next, 1_000_600);
  await clock.runUntil(1_000_600); // a timer due exactly at the end fires
  assert.deepEqual(fired, [1_000_100, 1_000_100, 1_000_600]);
  assert.equal(clock.pending, 0);
});

test("runUntil refuses to go back in time or to run twice at once", async () => {
  const clock = new VirtualClock();
  await assert.rejects(clock.runUntil(clock.now() - 1), RangeError);
  const first = clock.advance(10);
  await assert.rejects(clock.advance(10), /already in progress/);
  await first;
  assert.equal(clock.now(), VIRTUAL_EPOCH + 10);
});

test("an exception in a timer callback ends the run and leaves the clock usable", async () => {
  const clock = new VirtualClock();
  clock.setTimer(() => {
    throw new Error("boom");
  }, 5);
  await assert.rejects(clock.advance(10), /boom/);
  assert.equal(clock.now(), VIRTUAL_EPOCH + 5);
  await clock.advance(10);
  assert.equal(clock.now(), VIRTUAL_EPOCH + 15);
});

test("a reported fault is rethrown by the run in progress", async () => {
  const clock = new VirtualClock();
  clock.setTimer(() => clock.fault(new Error("device x halted")), 5);
  let after = false;
  clock.setTimer(() => (after = true), 6);
  await assert.rejects(clock.advance(10), /device x halted/);
  assert.equal(after, false);
});

test("RealClock fires on wall time and can cancel", async () => {
  const clock = new RealClock();
  const start = clock.now();
  let fired = 0;
  const cancelled = clock.setTimer(() => fired--, 5);
  clock.clearTimer(cancelled);
  await new Promise<void>((resolve) => clock.setTimer(() => (fired++, resolve()), 10));
  assert.equal(fired, 1);
  assert.ok(clock.now() - start >= 9);
});
