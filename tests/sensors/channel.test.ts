import { test } from "node:test";
import assert from "node:assert/strict";
import { Fault, faultValue, VALUE_MAX } from "../../modules/protocol/values";
import { ProbeChannel } from "../../sensors/channel";
import { FaultCounter } from "../../sensors/faults";
import type { SampleCallback, TemperatureProbe } from "../../sensors/probe";

/** A probe that reports the values it is given, in order. */
class ScriptedProbe implements TemperatureProbe {
  readonly faults = new FaultCounter();
  closed = false;
  values: number[];
  constructor(values: number[]) {
    this.values = values;
  }
  configure() {}
  sample(done: SampleCallback) {
    done(this.faults.count(this.values.shift() ?? faultValue(Fault.Other)));
  }
  close() {
    this.closed = true;
  }
}

function readAll(channel: ProbeChannel, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) channel.sample((v) => out.push(v));
  return out;
}

test("the calibration offset is added to temperatures, never to faults", () => {
  const probe = new ScriptedProbe([2000, faultValue(Fault.Crc), -150]);
  const channel = new ProbeChannel({ probe, offset: -35 });
  assert.deepEqual(readAll(channel, 3), [1965, faultValue(Fault.Crc), -185]);
  assert.equal(channel.offset, -35);
  channel.configure({ offset: 10 });
  probe.values.push(0);
  assert.deepEqual(readAll(channel, 1), [10]);
});

test("an offset that pushes a value past what a slot holds gives OutOfRange, counted", () => {
  const probe = new ScriptedProbe([VALUE_MAX - 5]);
  const channel = new ProbeChannel({ probe, offset: 10 });
  assert.deepEqual(readAll(channel, 1), [faultValue(Fault.OutOfRange)]);
  assert.equal(channel.faults.counts[Fault.OutOfRange], 1);
});

test("stuck detection: N identical raw values in a row, reset by a change or a fault", () => {
  const probe = new ScriptedProbe([100, 100, 100, 100, 101, 101, faultValue(Fault.Crc), 101, 101, 101]);
  const channel = new ProbeChannel({ probe, stuckAfter: 3, offset: 1 });
  const stuck = faultValue(Fault.Stuck);
  assert.deepEqual(readAll(channel, 10), [101, 101, stuck, stuck, 102, 102, faultValue(Fault.Crc), 102, 102, stuck]);
  assert.deepEqual(channel.faults.report(), { n: 10, faults: { crc: 1, stuck: 3 }, retries: {} });
});

test("options are checked; close closes the probe", () => {
  const probe = new ScriptedProbe([]);
  assert.throws(() => new ProbeChannel({ probe, offset: 1001 }), RangeError);
  assert.throws(() => new ProbeChannel({ probe, offset: 0.5 }), RangeError);
  assert.throws(() => new ProbeChannel({ probe, stuckAfter: -1 }), RangeError);
  assert.throws(() => new ProbeChannel({ probe, stuckAfter: 1001 }), RangeError);
  const channel = new ProbeChannel({ probe, name: "28-0316a2795aff" });
  assert.equal(channel.name, "28-0316a2795aff");
  channel.close();
  assert.equal(probe.closed, true);
});
