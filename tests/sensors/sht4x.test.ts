import { test } from "node:test";
import assert from "node:assert/strict";
import { Fault, faultValue } from "../../modules/protocol/values";
import { decodeMeasurement, MEASURE_MS, sensirionCrc8, SHT4x, sht4xCenti, sht4xHumidity } from "../../sensors/sht4x";
import { FakeHost } from "../support/fake-host";
import { smbusFor } from "../../simulator/hardware/i2c";
import { FakeSHT4x } from "../../simulator/hardware/sht4x";

test("CRC-8: the datasheet's example, CRC(0xBEEF) = 0x92", () => {
  assert.equal(sensirionCrc8(0xbe, 0xef), 0x92);
  assert.notEqual(sensirionCrc8(0xbe, 0xee), 0x92);
});

test("conversion: T = −45 + 175 · S_T / 65535 °C, RH = −6 + 125 · S_RH / 65535 % cropped to 0…100", () => {
  assert.equal(sht4xCenti(0), -4500);
  assert.equal(sht4xCenti(65535), 13000);
  assert.equal(sht4xCenti(26214), 2500); // 0.4 of the span: 25.00 °C
  assert.equal(sht4xCenti(0x6666), 2500);
  assert.equal(sht4xHumidity(0), 0, "−6 % cropped");
  assert.equal(sht4xHumidity(65535), 10000, "119 % cropped");
  assert.equal(sht4xHumidity(29360), 5000);
  assert.equal(sht4xHumidity(3146), 0, "−0.0 %: cropped at 0");
});

test("a measurement's six bytes: each word judged by its own CRC; T beyond −40…125 °C is out of range", () => {
  const word = (raw: number) => [raw >> 8, raw & 0xff, sensirionCrc8(raw >> 8, raw & 0xff)];
  const more = new Int16Array(1);
  assert.equal(decodeMeasurement(Uint8Array.from([...word(26214), ...word(29360)]), more), 2500);
  assert.equal(more[0], 5000);
  const badT = Uint8Array.from([...word(26214), ...word(29360)]);
  badT[2] ^= 1;
  assert.equal(decodeMeasurement(badT, more), faultValue(Fault.Crc));
  assert.equal(more[0], 5000, "the humidity word is still good");
  const badRH = Uint8Array.from([...word(26214), ...word(29360)]);
  badRH[4] ^= 0x80;
  assert.equal(decodeMeasurement(badRH, more), 2500);
  assert.equal(more[0], faultValue(Fault.Crc));
  assert.equal(decodeMeasurement(Uint8Array.from([...word(0), ...word(29360)]), more), faultValue(Fault.OutOfRange), "−45 °C");
});

function rig() {
  const host = new FakeHost();
  const chip = new FakeSHT4x(() => host.ticks());
  const probe = new SHT4x({ sensor: { io: smbusFor(chip), data: 21, clock: 22 }, timers: host });
  const sample = () => {
    let value: number | undefined;
    let humidity: number | undefined;
    const waits: number[] = [];
    probe.sample((v, more) => {
      value = v;
      humidity = more?.[0];
    });
    for (let wait = host.nextTimer(); wait !== undefined && value === undefined; wait = host.nextTimer()) {
      waits.push(wait);
      host.advance(wait);
    }
    return { value, humidity, waits };
  };
  return { host, chip, probe, sample };
}

test("one sample: measure high precision (0xFD) at 0x44, wait 9 ms by a timer, read T and RH: two channels", () => {
  const { chip, probe, sample } = rig();
  assert.deepEqual(probe.channels, ["t", "rh"]);
  assert.equal(probe.conversionTime, MEASURE_MS);
  assert.deepEqual(chip.opened, [{ address: 0x44, hz: 400000, data: 21, clock: 22, port: undefined }]);
  chip.celsius = 21.5;
  chip.humidity = 45.25;
  assert.deepEqual(sample(), { value: 2150, humidity: 4525, waits: [9] });
  assert.deepEqual(chip.commands, [0xfd], "a quick write (is a device there?), then a measurement command: nothing else");
  chip.celsius = -10.03;
  chip.humidity = 99.99;
  assert.deepEqual(sample(), { value: -1003, humidity: 9999, waits: [9] });
  assert.deepEqual(chip.commands.slice(1), [0xfd]);
  assert.deepEqual(probe.faults.report(), { n: 2, faults: {}, retries: {} });
});

test("faults: no device, a bad CRC on either word, a slow part, a bus glitch", () => {
  const { chip, probe, sample } = rig();
  chip.absent = true;
  assert.deepEqual(sample(), { value: faultValue(Fault.NoDevice), humidity: faultValue(Fault.NoDevice), waits: [] }, "both channels say no device");
  chip.absent = false;
  chip.corruptT = 1;
  assert.deepEqual(sample(), { value: faultValue(Fault.Crc), humidity: 4500, waits: [9] });
  chip.corruptRH = 1;
  assert.deepEqual(sample(), { value: 2150, humidity: faultValue(Fault.Crc), waits: [9] });
  chip.lag = 3; // done after 9.9 ms: the read at 9 ms is refused, one more wait of a quarter
  assert.deepEqual(sample(), { value: 2150, humidity: 4500, waits: [9, 3] });
  chip.lag = 20;
  assert.deepEqual(sample(), { value: faultValue(Fault.Timeout), humidity: faultValue(Fault.Timeout), waits: [9, 3] });
  chip.lag = 0;
  chip.failures = 1; // the measure command is not acknowledged once
  assert.deepEqual(sample(), { value: 2150, humidity: 4500, waits: [9] });
  const report = probe.faults.report();
  assert.deepEqual(report.faults, { "no-device": 2, crc: 2, timeout: 2 });
  assert.deepEqual(report.retries, { "bus-error": 2, timeout: 2 });
});
