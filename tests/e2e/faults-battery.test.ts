/*
 * Issue 4 in battery mode: the firmware wakes from deep sleep for each reading, and its link makes at
 * most one attempt per wake. Through faults, no wake stays awake past the per-wake budget, the backoff
 * carries across deep sleep (no attempt before the retry time, bounds that keep doubling from wake to
 * wake), nothing is lost, and the next successful hello reports why the link had failed.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { FaultDevice, FaultServer, delivery } from "../../simulator/faults/rig";
import { LinkEvent, LinkState } from "../../modules/link/link";

const SECOND = 1000, MINUTE = 60 * SECOND, HOUR = 60 * MINUTE;
/** main.ts AWAKE_CAP_MS. */
const AWAKE_BUDGET = 15 * SECOND;
/** On battery a retry costs a radio wake: the base is the sampling interval (main.ts raises it to that). */
const BASE = MINUTE, CAP = 10 * MINUTE;

let bench: FaultServer;
before(async () => {
  bench = await FaultServer.start();
});
after(async () => {
  await bench.close();
});

async function batteryDevice(id: string, seed: number): Promise<FaultDevice> {
  const device = await FaultDevice.start(bench, {
    id, seed,
    config: {
      mode: "battery", "sample.interval": 60, "batch.size": 10, "batch.latency": 600,
      "link.backoff.base": BASE, "link.backoff.cap": CAP,
    },
  });
  await device.device.boot();
  return device;
}

/** Each wake's time awake, from its start (a cold boot or a wake) to its deep sleep. */
function awakeTimes(device: FaultDevice): number[] {
  return device.device.hardware.runs
    .filter((run) => (run.reason === "power-on" || run.reason === "deep-sleep") && run.ended === "deep sleep")
    .map((run) => run.end - run.start);
}

test("battery: a 6-hour outage keeps every wake within its budget and the backoff across sleeps", async () => {
  const device = await batteryDevice("battery-outage", 11);
  await bench.clock.advance(HOUR);
  const healthy = device.record.hellos.length;
  assert.ok(healthy >= 5, `${healthy} wakes with the radio in the first hour`);
  device.proxy.down();
  const downAt = bench.clock.now();
  const attemptsBefore = device.attempts.length;
  await bench.clock.advance(6 * HOUR);
  const attempts = device.attempts.length - attemptsBefore;
  device.proxy.up();
  const upAt = bench.clock.now();
  await bench.clock.advance(2 * HOUR);

  const awake = awakeTimes(device);
  assert.ok(awake.length > 400, `${awake.length} wakes`);
  assert.ok(Math.max(...awake) <= AWAKE_BUDGET, `longest wake ${Math.max(...awake)} ms, budget ${AWAKE_BUDGET}`);

  // One attempt a wake at most, and none before the retry time a failed wake set: the bounds double
  // across sleeps up to the cap, so an outage of 6 hours costs a handful of radio wakes an hour.
  const retries = device.retries();
  let previous = 0;
  for (const retry of retries) {
    assert.ok(retry.delayMs < retry.boundMs, `delay ${retry.delayMs} under bound ${retry.boundMs}`);
    assert.ok(retry.boundMs === BASE || retry.boundMs === Math.min(CAP, 2 * previous), `bound ${retry.boundMs} after ${previous}`);
    previous = retry.boundMs;
    const next = device.events.slice(retry.seq + 1).find((e) => e.kind === "connect");
    if (next) assert.ok(next.at >= retry.at + retry.delayMs, `attempt ${next.at - retry.at} ms after a ${retry.delayMs} ms backoff`);
  }
  const ramp = Math.ceil(Math.log2(CAP / BASE)) + 1;
  const bound = ramp + (3 * 6 * HOUR) / CAP + 10;
  assert.ok(attempts <= bound, `${attempts} attempts in 6 hours of outage, bound ${bound}`);
  assert.ok(retries.some((r) => r.boundMs === CAP), "the backoff reached its cap across sleeps");

  // Back within the cap plus one sampling slot (the next wake) plus a handshake.
  const back = device.record.hellos.find((at) => at >= upAt);
  assert.ok(back !== undefined && back - upAt <= CAP + MINUTE + 5 * SECOND, `back ${back! - upAt} ms after the server`);
  assert.equal(bench.server.db.device(device.id)?.last_err, "connect", "the next hello said why the link had failed");

  const report = delivery(device, bench.clock.now() - 15 * MINUTE);
  assert.deepEqual(report.missing, [], "no reading lost");
  assert.deepEqual(report.duplicated, [], "none stored twice");
  assert.equal(report.stored, report.sampled);
  assert.ok(downAt > 0);
  assert.equal(device.device.crash, undefined);
  await device.close();
});

test("battery: a server that accepts the connection and never answers is cut by the awake budget, and backs off", async () => {
  const device = await batteryDevice("battery-blackhole", 12);
  await bench.clock.advance(30 * MINUTE);
  device.proxy.blackhole(true);
  await bench.clock.advance(2 * HOUR);
  device.proxy.blackhole(false);
  await bench.clock.advance(HOUR);
  const awake = awakeTimes(device);
  assert.ok(Math.max(...awake) <= AWAKE_BUDGET, `longest wake ${Math.max(...awake)} ms`);
  const timeouts = device.retries().filter((r) => r.from === LinkState.Handshaking && r.on === LinkEvent.Timeout);
  assert.ok(timeouts.length >= 3, `${timeouts.length} handshake timeouts`);
  const report = delivery(device, bench.clock.now() - 15 * MINUTE);
  assert.deepEqual(report.missing, [], "no reading lost");
  assert.deepEqual(report.duplicated, [], "none stored twice");
  assert.equal(device.device.crash, undefined);
  await device.close();
});
