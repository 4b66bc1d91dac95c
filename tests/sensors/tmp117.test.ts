import { test } from "node:test";
import assert from "node:assert/strict";
import { Fault, faultValue } from "../../modules/protocol/values";
import { ONE_SHOT_MS, TMP117, tmp117Centi, tmp117Value } from "../../sensors/tmp117/tmp117";
import { FakeHost } from "../support/fake-host";
import { FakeTMP117, smbusFor } from "../../simulator/hardware/i2c";

test("Temp_Result decoding: the datasheet's Table 7-1 (7.8125 m°C per LSB, two's complement)", () => {
  // [register, °C × 100 exactly]; rounding to whole centi-degrees is half away from zero.
  const table: [number, number][] = [
    [0x8000, -25600],
    [0xf380, -2500],
    [0xfff0, -13], // −0.125 °C
    [0xffff, -1], // −0.0078125 °C
    [0x0000, 0],
    [0x0001, 1],
    [0x0010, 13], // 0.125 °C
    [0x0080, 100],
    [0x0c80, 2500],
    [0x3200, 10000],
    [0x7fff, 25599], // 255.9921 °C
  ];
  for (const [raw, centi] of table) assert.equal(tmp117Centi(raw), centi, `0x${raw.toString(16)}`);
});

test("Temp_Result as a reading: 0x8000 is the reset value (PowerOn); beyond −55…150 °C is OutOfRange", () => {
  assert.equal(tmp117Value(0x8000), faultValue(Fault.PowerOn));
  assert.equal(tmp117Value(0x7fff), faultValue(Fault.OutOfRange));
  assert.equal(tmp117Value(0x4b00), 15000);
  assert.equal(tmp117Value(0x4b01), faultValue(Fault.OutOfRange));
  assert.equal(tmp117Value(0xe480), -5500);
  assert.equal(tmp117Value(0xe47f), faultValue(Fault.OutOfRange));
  assert.equal(tmp117Value(0xf380), -2500);
});

function rig(averaging?: number) {
  const host = new FakeHost();
  const chip = new FakeTMP117(() => host.ticks());
  const probe = new TMP117({ sensor: { io: smbusFor(chip), data: 21, clock: 22 }, timers: host, averaging });
  const sample = () => {
    let value: number | undefined;
    const waits: number[] = [];
    probe.sample((v) => (value = v));
    for (let wait = host.nextTimer(); wait !== undefined && value === undefined; wait = host.nextTimer()) {
      waits.push(wait);
      host.advance(wait);
    }
    return { value, waits };
  };
  return { host, chip, probe, sample };
}

test("one-shot: checks the ID, writes MOD=11 with AVG, waits the conversion time by a timer, reads", () => {
  const { chip, probe, sample } = rig();
  assert.deepEqual(chip.opened, [{ address: 0x48, hz: 400000, data: 21, clock: 22, port: undefined }]);
  chip.result = 0xf380;
  const { value, waits } = sample();
  assert.equal(value, -2500);
  assert.deepEqual(waits, [125], "8 averaged conversions, the chip's reset setting");
  assert.deepEqual(chip.writes, [[0x01, 0x0c, 0x20]], "config 0x0C20, most significant byte first");
  assert.equal(probe.conversionTime, 125);
  assert.equal(chip.conversions, 1);
});

test("averaging 1, 8, 32, 64 → AVG bits and waits of 16, 125, 500, 1000 ms", () => {
  const expected = [
    [1, 0x0c00, 16],
    [8, 0x0c20, 125],
    [32, 0x0c40, 500],
    [64, 0x0c60, 1000],
  ];
  for (const [averaging, config, wait] of expected) {
    const { chip, sample } = rig(averaging);
    const result = sample();
    assert.deepEqual(result.waits, [wait]);
    assert.equal(result.value, 2500);
    assert.deepEqual(chip.writes[0], [0x01, config >> 8, config & 0xff]);
  }
  assert.deepEqual(ONE_SHOT_MS, [16, 125, 500, 1000]);
  assert.throws(() => rig(16), RangeError);
});

test("Data_Ready not yet set: one more wait of a quarter; still not → Timeout", () => {
  const late = rig();
  late.chip.lag = 10;
  const once = late.sample();
  assert.equal(once.value, 2500);
  assert.deepEqual(once.waits, [125, 32]);
  assert.equal(late.probe.faults.retries[Fault.Timeout], 1);

  const stuck = rig();
  stuck.chip.lag = 1000;
  assert.equal(stuck.sample().value, faultValue(Fault.Timeout));
  assert.equal(stuck.probe.faults.counts[Fault.Timeout], 1);
});

test("NACK: nothing at the address → NoDevice; a wrong Device_ID → NoDevice", () => {
  const absent = rig();
  absent.chip.absent = true;
  const result = absent.sample();
  assert.equal(result.value, faultValue(Fault.NoDevice));
  assert.deepEqual(result.waits, []);
  assert.equal(absent.probe.faults.retries[Fault.BusError], 1, "retried once before judging");

  const other = rig();
  other.chip.setWord(0x0f, 0x0116);
  assert.equal(other.sample().value, faultValue(Fault.NoDevice));
});

test("a failed transfer is retried once; a device that answers but keeps failing → BusError", () => {
  const glitch = rig();
  glitch.chip.failures = 1;
  assert.equal(glitch.sample().value, 2500);
  assert.equal(glitch.probe.faults.total(), 0);

  const flaky = rig();
  flaky.sample(); // identified
  flaky.chip.failures = 2; // the start and its retry fail; the ID probe then answers
  assert.equal(flaky.sample().value, faultValue(Fault.BusError));
});

test("a read that fails after the conversion is retried without waiting again", () => {
  const { host, chip, probe } = rig();
  let value: number | undefined;
  probe.sample((v) => (value = v));
  host.advance(125);
  assert.equal(value, 2500);
  chip.result = 0x0c81;
  probe.sample((v) => (value = v));
  chip.failures = 0;
  host.advance(124);
  chip.failures = 1; // the Data_Ready read fails
  host.advance(1);
  assert.equal(value, 2501);
  assert.equal(host.nextTimer(), undefined);
});

test("close releases the bus and drops a pending sample", () => {
  const { host, chip, probe } = rig();
  let called = false;
  probe.sample(() => (called = true));
  probe.close();
  host.advance(2000);
  assert.equal(called, false);
  assert.equal(chip.closed, true);
});
