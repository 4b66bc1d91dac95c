import { test } from "node:test";
import assert from "node:assert/strict";
import { Fault, faultValue } from "../../modules/protocol/values";
import { Settings } from "../../config/settings";
import { createProbe, DRIVER_TYPES, isProbeKey, reconfigureProbe } from "../../sensors/select";
import { findField } from "../../config/schema";
import type { ProbeChannel } from "../../sensors/channel";
import { FakeHost, MemoryPreferences } from "../support/fake-host";
import { BoardIo, ntcCode } from "../../simulator/hardware/io";
import { makeRom } from "../../simulator/hardware/onewire";
import { FakeTMP102, FakeTMP117 } from "../../simulator/hardware/i2c";
import { FakeSHT4x } from "../../simulator/hardware/sht4x";
import { probeIoOver } from "../../simulator/moddable/probe-io";

const ROM = makeRom(0x28, [0xff, 0x5a, 0x79, 0xa2, 0x16, 0x03]);
const OTHER = makeRom(0x28, [0x01, 0x02, 0x03, 0x04, 0x05, 0x06]);

function rig(config: Record<string, unknown>, platform = "esp32") {
  const host = new FakeHost();
  const io = new BoardIo(() => host.ticks(), () => 1);
  host.io = probeIoOver(() => ({ io, platform }));
  const settings = new Settings(new MemoryPreferences(), config);
  assert.deepEqual(settings.warnings, [], "the test's config is valid");
  return { host, io, settings };
}

/** One sample, with the timers run until it completes. */
function sampleNow(host: FakeHost, probe: ProbeChannel): number {
  let value: number | undefined;
  probe.sample((v) => (value = v));
  for (let wait = host.nextTimer(); value === undefined && wait !== undefined; wait = host.nextTimer()) host.advance(wait);
  assert.ok(value !== undefined, "the sample completed");
  return value;
}

test("simulated (the default): the seeded signal, without asking for probe I/O", () => {
  const host = new FakeHost();
  const settings = new Settings(new MemoryPreferences(), {});
  const probe = createProbe(settings, host, 3);
  const value = sampleNow(host, probe);
  assert.ok(value > 1500 && value < 2800, `a room temperature, got ${value}`);
  assert.deepEqual(host.events, [], "nothing to say about a simulated probe");
});

test("every probe type the schema offers has a driver, and every driver a type", () => {
  const field = findField("probe.type") as unknown as { choices: string[] };
  assert.deepEqual(field.choices, ["simulated", ...DRIVER_TYPES]);
  assert.ok(DRIVER_TYPES.includes("sht4x"));
});

test("a hardware probe where the platform has no probe I/O reports no-device on every slot, never a temperature", () => {
  for (const type of DRIVER_TYPES) {
    const host = new FakeHost(); // io undefined: the desktop simulator
    const probe = createProbe(new Settings(new MemoryPreferences(), { "probe.type": type }), host, 1);
    assert.deepEqual([sampleNow(host, probe), sampleNow(host, probe)], [faultValue(Fault.NoDevice), faultValue(Fault.NoDevice)], type);
    assert.deepEqual(probe.faults.report(), { n: 2, faults: { "no-device": 2 }, retries: {} }, type);
    assert.deepEqual(host.events, [{ kind: "probe.noIo", probe: type }], type);
  }
});

test("ds18b20 on the board's 1-Wire pin: found by search (ESP32 byte order), addressed by Match ROM, at the set resolution", () => {
  const { host, io, settings } = rig({ "probe.type": "ds18b20", "probe.resolution": 10 });
  const wire = io.wire(4); // ESP32-DevKitC
  wire.add(ROM, 0x0191);
  wire.add(OTHER, 0x0100);
  const probe = createProbe(settings, host, 1);
  assert.deepEqual(host.events, [{ kind: "probe.onewire", gpio: 4, rom: "28-0316a2795aff", more: 1 }], "the lower serial");
  assert.equal(probe.conversionTime, 188);
  assert.equal(sampleNow(host, probe), 2500, "0x0191 at 10 bits: 25.00 °C");
  const match = wire.transactions.find((bytes) => bytes[0] === 0x55);
  assert.deepEqual(match?.slice(1, 9), Array.from(ROM), "Match ROM, in wire order");
  assert.equal(wire.devices[0].config, 0x3f, "10 bits written to the scratchpad");
  assert.equal(wire.devices[1].conversions, 0, "Match ROM: only the chosen device converts");
});

test("ds18b20: probe.pin and the board choose the pin; nothing found yet means Skip ROM, so a probe plugged in later reads", () => {
  const { host, io, settings } = rig({ "probe.type": "ds18b20", board: "d1-mini", "probe.pin": 13 }, "esp");
  const probe = createProbe(settings, host, 1);
  assert.deepEqual(io.events, ["onewire 13"]);
  assert.deepEqual(host.events, [{ kind: "probe.onewire", gpio: 13, rom: "", more: 0 }], "none found yet");
  assert.equal(sampleNow(host, probe), faultValue(Fault.NoDevice));
  io.wire(13).add(ROM, 0xff5e);
  assert.equal(sampleNow(host, probe), -1013);
  const board = rig({ "probe.type": "ds18b20", board: "d1-mini" }, "esp");
  createProbe(board.settings, board.host, 1);
  assert.deepEqual(board.io.events, ["onewire 14"], "D5 on the D1 mini");
});

test("tmp117 and tmp102 on the board's I2C pins at probe.address, with averaging and extended mode", () => {
  const a = rig({ "probe.type": "tmp117", "probe.address": 0x49, "probe.avg": 32, board: "moddable-two" });
  const tmp117 = new FakeTMP117(() => a.host.ticks());
  tmp117.result = 0xf380; // −25 °C
  a.io.i2c.set(0x49, tmp117);
  const probe = createProbe(a.settings, a.host, 1);
  assert.equal(probe.conversionTime, 500);
  assert.equal(sampleNow(a.host, probe), -2500);
  assert.deepEqual(a.io.held(), { 21: "i2c", 22: "i2c" });
  assert.equal((tmp117.word(0x01) >> 5) & 3, 2, "AVG = 32 conversions");

  const b = rig({ "probe.type": "tmp102", "probe.ext": "on" });
  const tmp102 = new FakeTMP102(() => b.host.ticks());
  tmp102.sixteenths = 0x960; // 150 °C: only extended mode holds it
  b.io.i2c.set(0x48, tmp102);
  assert.equal(sampleNow(b.host, createProbe(b.settings, b.host, 1)), 15000);

  const c = rig({ "probe.type": "tmp117" });
  assert.equal(sampleNow(c.host, createProbe(c.settings, c.host, 1)), faultValue(Fault.NoDevice), "nothing at 0x48");
});

test("sht4x at its own address (0x44) on the board's I2C pins: temperature and humidity, two channels through the channel", () => {
  const { host, io, settings } = rig({ "probe.type": "sht4x", "probe.offset": 50 });
  const chip = new FakeSHT4x(() => host.ticks());
  chip.celsius = 22;
  chip.humidity = 61.5;
  io.i2c.set(0x44, chip);
  const probe = createProbe(settings, host, 1);
  assert.deepEqual(probe.channels, ["t", "rh"]);
  assert.deepEqual(host.events, [{ kind: "probe.i2c", probe: "sht4x", address: 0, data: 21, clock: 22 }], "at its own address");
  let humidity: number | undefined;
  probe.sample((_, more) => (humidity = more?.[0]));
  host.advance(host.nextTimer()!);
  assert.equal(humidity, 6150, "the offset is the temperature's, not the humidity's");
  assert.equal(sampleNow(host, probe), 2250, "22.00 °C + 0.50 °C offset");
  const absent = rig({ "probe.type": "sht4x", "probe.address": 0x45 });
  absent.io.i2c.set(0x44, chip);
  const none = createProbe(absent.settings, absent.host, 1);
  let answer: (number | undefined)[] = [];
  none.sample((value, more) => (answer = [value, more?.[0]]));
  assert.deepEqual(answer, [faultValue(Fault.NoDevice), faultValue(Fault.NoDevice)], "nothing at 0x45");
});

test("ntc: the board's ADC and full scale, Beta or a Steinhart–Hart table, and a power pin only while sampling", () => {
  const wiring = { side: "low", series: 10000, r25: 10000, beta: 3950, supply: 3300, fullScale: 2450, resolution: 12 } as const;
  let celsius = 25;
  const a = rig({ "probe.type": "ntc", "ntc.power": 25 });
  const written: number[] = [];
  a.io.analog.set(33, { resolution: 12, read: () => (written.push(a.io.outputs.get(25)!), ntcCode(celsius, wiring)) });
  const probe = createProbe(a.settings, a.host, 1);
  assert.deepEqual(a.host.events, [{ kind: "probe.ntc", gpio: 33, power: 25 }]);
  assert.ok(Math.abs(sampleNow(a.host, probe) - 2500) <= 10, "25 °C within 0.1 °C");
  assert.ok(written.length > 0 && written.every((v) => v === 1), "the divider is powered while it is read");
  assert.equal(a.io.outputs.get(25), 0, "and off between samples");
  celsius = Infinity; // open thermistor: the node rises past the ESP32's 2450 mV window
  assert.equal(sampleNow(a.host, probe), faultValue(Fault.OutOfRange));
  celsius = -Infinity; // shorted
  assert.equal(sampleNow(a.host, probe), faultValue(Fault.BusError));

  // A part that follows B3950 read through a 10K3A table: 33.6 kΩ is below 0 °C by that table, 0 °C by Beta.
  const b = rig({ "probe.type": "ntc", "ntc.sh": "0:32650,25:10000,50:3602", "ntc.side": "high", "probe.pin": 34 });
  b.io.analog.set(34, { resolution: 12, read: () => ntcCode(0, { ...wiring, side: "high" }) });
  const value = sampleNow(b.host, createProbe(b.settings, b.host, 1));
  assert.ok(value <= -40 && value >= -90, `the table's model, not Beta: ${value}`);
});

test("a pin the SDK refuses gives a no-device probe and releases what was opened for it", () => {
  const { host, io, settings } = rig({ "probe.type": "ntc", "ntc.power": 33 });
  io.analog.set(33, { resolution: 12, read: () => 2000 });
  const probe = createProbe(settings, host, 1);
  assert.equal(sampleNow(host, probe), faultValue(Fault.NoDevice));
  assert.deepEqual(host.events.at(-1), { kind: "probe.cannotOpen", probe: "ntc", error: "inUse" });
  assert.deepEqual(io.held(), {}, "the power pin opened first was closed again");
  const adc = rig({ "probe.type": "ntc", "probe.pin": 5 });
  assert.equal(sampleNow(adc.host, createProbe(adc.settings, adc.host, 1)), faultValue(Fault.NoDevice), "GPIO5 is no ADC input");
});

test("reconfigure: offset and stuck apply at once; a type change closes the old bus before opening the new one, after the sample in flight", () => {
  const { host, io, settings } = rig({ "probe.type": "ds18b20" });
  io.wire(4).add(ROM, 0x0191);
  const tmp117 = new FakeTMP117(() => host.ticks());
  io.i2c.set(0x48, tmp117);
  const probe = createProbe(settings, host, 1);
  assert.equal(sampleNow(host, probe), 2506);

  let applied = settings.apply({ "probe.offset": -6, "probe.stuck": 2 }, true);
  assert.ok(applied.ok, "pushable");
  reconfigureProbe(probe, applied.changed, settings, host, 1);
  assert.equal(sampleNow(host, probe), 2500, "offset applied");
  assert.equal(sampleNow(host, probe), faultValue(Fault.Stuck), "the same raw value twice: stuck");
  assert.deepEqual(io.events, ["onewire 4"], "no rebuild for channel settings");

  let inFlight: number | undefined;
  probe.sample((v) => (inFlight = v));
  applied = settings.apply({ "probe.type": "tmp117" });
  assert.ok(applied.ok, "console settings");
  reconfigureProbe(probe, applied.changed, settings, host, 1);
  assert.deepEqual(io.events, ["onewire 4"], "the DS18B20 is still converting: no swap yet");
  host.advance(750);
  assert.equal(inFlight, faultValue(Fault.Stuck), "the old driver finished its sample");
  assert.deepEqual(io.events, ["onewire 4", "close onewire 4", "i2c 0x48"], "closed, then opened");
  assert.equal(sampleNow(host, probe), 2494, "TMP117 25 °C, offset kept");
  assert.deepEqual(probe.faults.report(), { n: 5, faults: { stuck: 2 }, retries: {} }, "counts kept across the swap");
  assert.ok(isProbeKey("board") && isProbeKey("ntc.sh") && !isProbeKey("sample.interval"), "probe keys");
});
