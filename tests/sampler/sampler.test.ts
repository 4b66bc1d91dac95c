import { test } from "node:test";
import assert from "node:assert/strict";
import { Sampler } from "../../modules/sampler/sampler";
import { FakeHost } from "../support/fake-host";
import type { TemperatureProbe } from "../../sensors/probe";

/** A probe that answers at once with 2000 + the number of samples taken. */
function probe(): TemperatureProbe & { taken: number } {
  const p = {
    taken: 0,
    configure() {},
    sample(done: (value: number) => void) {
      done(2000 + p.taken++);
    },
    close() {},
  };
  return p as unknown as TemperatureProbe & { taken: number };
}

function setup(interval = 60) {
  const host = new FakeHost();
  const readings: { value: number; index: number; interval: number; time: number }[] = [];
  const sampler = new Sampler(host, probe(), interval, (value, index, interval, time) => readings.push({ value, index, interval, time }));
  return { host, sampler, readings };
}

test("samples on a fixed grid: a reading at start, then one an interval apart, indexes counting up", () => {
  const { host, sampler, readings } = setup();
  sampler.start();
  host.advance(0);
  host.advance(3 * 60_000);
  assert.deepEqual(readings.map((r) => [r.index, r.time, r.value]), [[0, 0, 2000], [1, 60_000, 2001], [2, 120_000, 2002], [3, 180_000, 2003]]);
  assert.equal(sampler.nextSlotTime(), 240_000);
});

test("a late firing keeps the grid: the next slot is on time, not an interval after the late one", () => {
  const { host, sampler, readings } = setup();
  sampler.start();
  host.advance(0);
  host.busy(65_000); // the slot at 60 s fires 5 s late
  host.advance(0);
  host.advance(55_000);
  assert.deepEqual(readings.map((r) => r.time), [0, 60_000, 120_000], "slot times stay on the grid");
  assert.equal(host.ticks(), 120_000, "the slot after the late one fired on its own time");
  assert.equal(sampler.missed, 0);
});

test("slots a busy device slept through are skipped and counted; the index gap says where", () => {
  const { host, sampler, readings } = setup();
  sampler.start();
  host.advance(0);
  host.busy(3 * 60_000 + 1_000); // stalled past the slots at 60 s and 120 s
  host.advance(0);
  assert.deepEqual(readings.map((r) => [r.index, r.time]), [[0, 0], [3, 180_000]]);
  assert.equal(sampler.missed, 2);
  host.advance(59_000);
  assert.deepEqual(readings.at(-1), { value: 2002, index: 4, interval: 60, time: 240_000 });
});

test("a new interval starts a new grid one new interval from now; the same interval changes nothing", () => {
  const { host, sampler, readings } = setup();
  sampler.start();
  host.advance(90_000); // readings at 0 and 60 s
  sampler.setInterval(60);
  assert.equal(sampler.nextSlotTime(), 120_000, "unchanged");
  sampler.setInterval(10);
  assert.equal(sampler.nextSlotTime(), 100_000);
  host.advance(30_000);
  assert.deepEqual(readings.map((r) => [r.index, r.time, r.interval]), [[0, 0, 60], [1, 60_000, 60], [2, 100_000, 10], [3, 110_000, 10], [4, 120_000, 10]]);
});

test("stop ends the sampling", () => {
  const { host, sampler, readings } = setup();
  sampler.start();
  host.advance(60_000);
  sampler.stop();
  host.advance(600_000);
  assert.equal(readings.length, 2);
  assert.equal(host.nextTimer(), undefined);
});
