import { test } from "node:test";
import assert from "node:assert/strict";
import { Fault, faultValue } from "../../modules/protocol/values";
import { CONVERSION_MS, TMP102, tmp102Centi, tmp102Value } from "../../sensors/tmp102/tmp102";
import { FakeHost } from "../support/fake-host";
import { FakeTMP102, smbusFor } from "../../simulator/hardware/i2c";

test("12-bit decoding: the datasheet's Table 7-2 (0.0625 °C per LSB), digital output in bits 15:4", () => {
  const table: [number, number][] = [
    [0x7ff, 12794], // 127.9375 °C
    [0x640, 10000],
    [0x500, 8000],
    [0x4b0, 7500],
    [0x320, 5000],
    [0x190, 2500],
    [0x004, 25],
    [0x001, 6], // 0.0625 °C
    [0x000, 0],
    [0xffc, -25],
    [0xfff, -6], // −0.0625 °C
    [0xe70, -2500],
    [0xc90, -5500],
  ];
  for (const [digital, centi] of table) assert.equal(tmp102Centi(digital << 4), centi, `0x${digital.toString(16)}`);
});

test("13-bit extended mode: bit 0 set, digital output in bits 15:3 (150 °C, 128 °C, −55 °C)", () => {
  const table: [number, number][] = [
    [0x0960, 15000],
    [0x0800, 12800],
    [0x07ff, 12794],
    [0x0190, 2500],
    [0x1fff, -6],
    [0x1e70, -2500],
    [0x1c90, -5500],
  ];
  for (const [digital, centi] of table) assert.equal(tmp102Centi((digital << 3) | 1), centi, `0x${digital.toString(16)}`);
});

test("readings beyond −55…150 °C are OutOfRange", () => {
  assert.equal(tmp102Value(0x0961 << 3 | 1), faultValue(Fault.OutOfRange));
  assert.equal(tmp102Value(0xc80 << 4), faultValue(Fault.OutOfRange)); // −56 °C
  assert.equal(tmp102Value(0xe70 << 4), -2500);
});

function rig(extended?: boolean) {
  const host = new FakeHost();
  const chip = new FakeTMP102(() => host.ticks());
  const probe = new TMP102({ sensor: { io: smbusFor(chip), address: 0x49 }, timers: host, extended });
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

test("one-shot in shutdown: OS|SD written MSB first, 35 ms by a timer, OS=1 checked, then −25 °C read", () => {
  const { chip, sample } = rig();
  assert.equal(chip.opened[0].address, 0x49);
  chip.sixteenths = 0xe70 | 0x1000; // −25 °C as a 13-bit value; the 12-bit register keeps 0xE70
  const { value, waits } = sample();
  assert.equal(value, -2500);
  assert.deepEqual(waits, [CONVERSION_MS]);
  assert.deepEqual(chip.writes, [[0x01, 0xe1, 0x80]]);
  assert.equal(chip.word(0x00), 0xe700, "the register the driver decoded");
  assert.equal(chip.conversions, 1);
});

test("extended mode sets EM and reads 150 °C", () => {
  const { chip, sample } = rig(true);
  chip.sixteenths = 0x0960;
  assert.equal(sample().value, 15000);
  assert.deepEqual(chip.writes, [[0x01, 0xe1, 0x90]]);
  assert.equal(chip.word(0x00), 0x4b01);
});

test("faults: NACK → NoDevice; still converting after the extra wait → Timeout; glitch → retried", () => {
  const absent = rig();
  absent.chip.absent = true;
  assert.equal(absent.sample().value, faultValue(Fault.NoDevice));

  const slow = rig();
  slow.chip.lag = 100;
  const result = slow.sample();
  assert.equal(result.value, faultValue(Fault.Timeout));
  assert.deepEqual(result.waits, [35, 9]);

  const glitch = rig();
  glitch.chip.failures = 1;
  assert.equal(glitch.sample().value, 2500);
  assert.equal(glitch.probe.faults.retries[Fault.BusError], 1);
});

test("a device whose R1 R0 bits do not read 11 is not a TMP102 → NoDevice", () => {
  const { chip, sample } = rig();
  chip.afterWrite = () => {};
  chip.setWord(0x01, 0x0000);
  assert.equal(sample().value, faultValue(Fault.NoDevice));
});
