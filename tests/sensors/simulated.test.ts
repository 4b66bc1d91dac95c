import { test } from "node:test";
import assert from "node:assert/strict";
import { Fault, faultValue } from "../../modules/protocol/values";
import { ProbeSignal } from "../../sensors/simulated/signal";
import { SimulatedProbe } from "../../sensors/simulated/probe";

const DAY = 86400000;
const HOUR = 3600000;

/** The signal as it was before options existed: defaults must reproduce it exactly. */
function original(seed: number, ticks: number[]): number[] {
  let state = seed >>> 0 || 1;
  return ticks.map((t) => {
    let x = state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    state = x >>> 0;
    const noise = (state % 7) - 3;
    const swing = Math.round(300 * Math.sin((2 * Math.PI * (t % DAY)) / DAY));
    return 2150 + swing + noise;
  });
}

const TICKS = [0, 1000, 60000, 6 * HOUR, 12 * HOUR + 5, DAY - 1, 3 * DAY + 7];

test("defaults reproduce the original signal exactly (the simulator's runs do not change)", () => {
  for (const seed of [1, 7, 123456]) {
    const signal = new ProbeSignal({ seed });
    assert.deepEqual(TICKS.map((t) => signal.read(t)), original(seed, TICKS));
  }
});

test("noise stays within ±noise; zero noise and zero swing give a flat line", () => {
  const noisy = new ProbeSignal({ seed: 3, swing: 0, noise: 20 });
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < 500; i++) {
    const v = noisy.read(i * 1000);
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  assert.ok(min >= 2130 && max <= 2170 && max - min > 30, `${min}…${max}`);
  const flat = new ProbeSignal({ seed: 3, swing: 0, noise: 0, base: 1000 });
  assert.deepEqual([0, 5 * HOUR, DAY].map((t) => flat.read(t)), [1000, 1000, 1000]);
});

test("drift, steps and fault windows are data in the options", () => {
  const signal = new ProbeSignal({
    seed: 1,
    swing: 0,
    noise: 0,
    base: 2000,
    drift: 10, // +0.1 °C per hour
    steps: [{ at: 2 * HOUR, delta: -500 }],
    faults: [{ from: 3 * HOUR, until: 4 * HOUR, kind: Fault.Disconnected }],
  });
  assert.equal(signal.read(0), 2000);
  assert.equal(signal.read(HOUR), 2010);
  assert.equal(signal.read(2 * HOUR), 1520);
  assert.equal(signal.read(3 * HOUR), faultValue(Fault.Disconnected));
  assert.equal(signal.read(4 * HOUR - 1), faultValue(Fault.Disconnected));
  assert.equal(signal.read(4 * HOUR), 1540);
});

test("faults on demand: inject(kind, n) turns the next n reads into that fault", () => {
  const signal = new ProbeSignal({ seed: 1, swing: 0, noise: 0 });
  signal.inject(Fault.Crc, 2);
  assert.deepEqual([signal.read(0), signal.read(1), signal.read(2)], [faultValue(Fault.Crc), faultValue(Fault.Crc), 2150]);
});

test("the simulated probe keeps its constructor and counts what it reports", () => {
  const signal = new ProbeSignal({ seed: 1 });
  let now = 0;
  const probe = new SimulatedProbe({ sensor: { io: signal }, ticks: () => now });
  signal.inject(Fault.Stuck, 1);
  const values: number[] = [];
  probe.sample((v) => values.push(v));
  now = 1000;
  probe.sample((v) => values.push(v));
  assert.equal(values[0], faultValue(Fault.Stuck));
  assert.ok(Math.abs(values[1] - 2150) <= 5);
  assert.deepEqual(probe.faults.report(), { n: 2, faults: { stuck: 1 }, retries: {} });
  probe.close();
  assert.throws(() => probe.sample(() => {}));
});
