import { test } from "node:test";
import assert from "node:assert/strict";
import { Fault, faultValue } from "../../modules/protocol/values";
import { BitBangOneWire, crc8 } from "../../sensors/onewire/bus";
import { checkScratchpad, CONVERSION_MS, decodeScratchpad, decodeScratchpadWith, discoverDS18B20, DS18B20, POWER_ON_RAW } from "../../sensors/ds18b20/ds18b20";
import { mulberry32 } from "../../simulator/hardware/random";
import { ProbeChannel } from "../../sensors/channel";
import { FakeHost } from "../support/fake-host";
import { FakeWire, makeRom } from "../../simulator/hardware/onewire";

const ROM = makeRom(0x28, [0xff, 0x5a, 0x79, 0xa2, 0x16, 0x03]);
const MATCH = [0x55, ...Array.from(ROM)];

function rig(temperature = 0x0191) {
  const host = new FakeHost();
  const wire = new FakeWire(() => host.ticks());
  const device = wire.add(ROM, temperature);
  const bus = new BitBangOneWire(wire);
  return { host, wire, device, bus };
}

/** Samples once and runs the timers; the value, and the delays the driver waited. */
function sampleOnce(host: FakeHost, probe: DS18B20): { value: number | undefined; waits: number[] } {
  let value: number | undefined;
  const waits: number[] = [];
  probe.sample((v) => (value = v));
  for (let wait = host.nextTimer(); wait !== undefined && value === undefined; wait = host.nextTimer()) {
    waits.push(wait);
    host.advance(wait);
  }
  return { value, waits };
}

function pad(raw: number, config = 0x7f): Uint8Array {
  const bytes = Uint8Array.of(raw & 0xff, (raw >> 8) & 0xff, 0x4b, 0x46, config, 0xff, 0x0c, 0x10, 0);
  bytes[8] = crc8(bytes, 8);
  return bytes;
}

test("decodeScratchpad: the datasheet's temperature/data table (12 bits)", () => {
  const table: [number, number][] = [
    [0x07d0, 12500],
    [0x0191, 2506], // +25.0625 °C
    [0x00a2, 1013], // +10.125 °C, half away from zero
    [0x0008, 50],
    [0x0000, 0],
    [0xfff8, -50],
    [0xff5e, -1013],
    [0xfe6f, -2506],
    [0xfc90, -5500],
  ];
  for (const [raw, centi] of table) assert.equal(decodeScratchpad(pad(raw), 12), centi, `0x${raw.toString(16)}`);
});

test("decodeScratchpad: bits below the resolution are undefined and ignored", () => {
  // 0x019F is 25.9375 °C; at 11, 10 and 9 bits the low 1, 2 and 3 bits do not count.
  assert.equal(decodeScratchpad(pad(0x019f, 0x7f), 12), 2594);
  assert.equal(decodeScratchpad(pad(0x019f, 0x5f), 11), 2588);
  assert.equal(decodeScratchpad(pad(0x019f, 0x3f), 10), 2575);
  assert.equal(decodeScratchpad(pad(0x019f, 0x1f), 9), 2550);
});

test("decodeScratchpad's straight pass answers as every check in order does, with the JS CRC and with a platform's", () => {
  const random = mulberry32(17);
  const byte = () => Math.floor(random() * 256);
  let temperatures = 0;
  let faults = 0;
  for (let i = 0; i < 4000; i++) {
    const resolution = 9 + (i % 4);
    // Mostly good scratchpads near the interesting values, some with one byte or the CRC spoiled.
    const raws = [0x0191, 0xff5e, POWER_ON_RAW, 0x0551, 0x07d0, 0x07d1, 0xfc90, 0xfc8f, 0xf810, byte() | (byte() << 8)];
    const bytes = pad(raws[i % raws.length], i % 7 === 0 ? byte() : 0x1f | ((resolution - 9) << 5));
    const spoil = random();
    if (spoil < 0.1) bytes[Math.floor(random() * 9)] ^= 1 << Math.floor(random() * 8);
    else if (spoil < 0.12) bytes.fill(0xff);
    else if (spoil < 0.14) bytes.fill(0);
    const expected = checkScratchpad(bytes, resolution);
    assert.equal(decodeScratchpad(bytes, resolution), expected, `${Array.from(bytes)} at ${resolution} bits`);
    assert.equal(decodeScratchpadWith((b, n) => crc8(b, n), bytes, resolution), expected);
    if (expected < -32768 + 16) faults++;
    else temperatures++;
  }
  assert.ok(temperatures > 1000 && faults > 1000, `both kinds seen: ${temperatures} temperatures, ${faults} faults`);
});

test("decodeScratchpad: each fault the scratchpad itself shows", () => {
  assert.equal(decodeScratchpad(new Uint8Array(9).fill(0xff), 12), faultValue(Fault.Disconnected));
  assert.equal(decodeScratchpad(new Uint8Array(9), 12), faultValue(Fault.Disconnected));
  const corrupt = pad(0x0191);
  corrupt[1] ^= 0x01;
  assert.equal(decodeScratchpad(corrupt, 12), faultValue(Fault.Crc));
  assert.equal(decodeScratchpad(pad(POWER_ON_RAW), 12), faultValue(Fault.PowerOn));
  assert.equal(decodeScratchpad(pad(0x0191, 0x7f), 9), faultValue(Fault.PowerOn), "config register is not ours: the device was reset");
  assert.equal(decodeScratchpad(pad(0xf810), 12), faultValue(Fault.Disconnected), "−127 °C");
  assert.equal(decodeScratchpad(pad(0xf800), 12), faultValue(Fault.Disconnected), "−128 °C");
  assert.equal(decodeScratchpad(pad(0x07f0), 12), faultValue(Fault.OutOfRange), "+127 °C");
  assert.equal(decodeScratchpad(pad(0xfc80), 12), faultValue(Fault.OutOfRange), "−56 °C");
});

test("conversions at each resolution: config written, Convert T, a timer of tCONV max, then the reading", () => {
  const expected = [
    { bits: 9, config: 0x1f, wait: 94, value: 2550 },
    { bits: 10, config: 0x3f, wait: 188, value: 2575 },
    { bits: 11, config: 0x5f, wait: 375, value: 2588 },
    { bits: 12, config: 0x7f, wait: 750, value: 2594 },
  ];
  for (const row of expected) {
    const { host, wire, device, bus } = rig(0x019f);
    const probe = new DS18B20({ sensor: { io: bus, rom: ROM }, timers: host, resolution: row.bits });
    assert.equal(probe.conversionTime, CONVERSION_MS[row.bits - 9]);
    const { value, waits } = sampleOnce(host, probe);
    assert.deepEqual(waits, [row.wait], `${row.bits} bits`);
    assert.equal(value, row.value, `${row.bits} bits`);
    assert.equal(device.config, row.config);
    assert.deepEqual(wire.transactions, [
      [...MATCH, 0x4e, 0x4b, 0x46, row.config],
      [...MATCH, 0x44],
      [...MATCH, 0xbe],
    ]);
    // Later samples do not rewrite the configuration.
    wire.transactions.length = 0;
    assert.equal(sampleOnce(host, probe).value, row.value);
    assert.deepEqual(wire.transactions, [[...MATCH, 0x44], [...MATCH, 0xbe]]);
  }
});

test("the wait is what makes the reading fresh: read early, the fake device still holds the old value", () => {
  const { host, device, bus } = rig(0x0191);
  const probe = new DS18B20({ sensor: { io: bus, rom: ROM }, timers: host, resolution: 12 });
  assert.equal(sampleOnce(host, probe).value, 2506);
  device.temperature = 0x0200; // 32 °C
  let value: number | undefined;
  probe.sample((v) => (value = v));
  host.advance(749);
  assert.equal(value, undefined, "no reading before 750 ms");
  host.advance(1);
  assert.equal(value, 3200);
});

test("one device without a ROM: Skip ROM", () => {
  const { host, wire, bus } = rig(0x0191);
  const probe = new DS18B20({ sensor: { io: bus }, timers: host, resolution: 12 });
  assert.equal(sampleOnce(host, probe).value, 2506);
  assert.deepEqual(wire.transactions[1], [0xcc, 0x44]);
  assert.deepEqual(wire.transactions[2], [0xcc, 0xbe]);
});

test("several devices on one bus: each its own channel, each reads its own temperature", () => {
  const host = new FakeHost();
  const wire = new FakeWire(() => host.ticks());
  const bus = new BitBangOneWire(wire);
  const roms = [makeRom(0x28, [1, 0, 0, 0, 0, 0]), makeRom(0x28, [2, 0, 0, 0, 0, 0]), makeRom(0x28, [3, 0, 0, 0, 0, 0])];
  const temperatures = [0x0100, 0x0200, 0xff00]; // 16, 32, −16 °C
  roms.forEach((rom, i) => wire.add(rom, temperatures[i]));
  const { roms: found } = discoverDS18B20(bus); // sorted by serial, unlike the search order (2, 1, 3)
  assert.equal(found.length, 3);
  const probes = found.map((rom) => new DS18B20({ sensor: { io: bus, rom }, timers: host, resolution: 10 }));
  const values: number[] = [];
  probes.forEach((probe, i) => probe.sample((v) => (values[i] = v)));
  host.advance(188); // the three conversions overlap
  assert.deepEqual(values, [1600, 3200, -1600]);
});

test("fault: no device → NoDevice after one immediate retry, nothing waited for", () => {
  const { host, device, bus } = rig();
  device.present = false;
  const probe = new DS18B20({ sensor: { io: bus, rom: ROM }, timers: host });
  const { value, waits } = sampleOnce(host, probe);
  assert.equal(value, faultValue(Fault.NoDevice));
  assert.deepEqual(waits, []);
  assert.equal(probe.faults.counts[Fault.NoDevice], 1);
  assert.equal(probe.faults.retries[Fault.NoDevice], 1);
});

test("fault: one missed presence pulse is absorbed by the retry", () => {
  const { host, device, bus } = rig(0x0191);
  device.missResets = 1;
  const probe = new DS18B20({ sensor: { io: bus, rom: ROM }, timers: host });
  assert.equal(sampleOnce(host, probe).value, 2506);
  assert.equal(probe.faults.total(), 0);
  assert.equal(probe.faults.retries[Fault.NoDevice], 1);
});

test("fault: CRC mismatch is re-read at once; twice in a row it is reported as Crc", () => {
  const once = rig(0x0191);
  once.device.corruptReads = 1;
  const probe = new DS18B20({ sensor: { io: once.bus, rom: ROM }, timers: once.host });
  const first = sampleOnce(once.host, probe);
  assert.equal(first.value, 2506);
  assert.deepEqual(first.waits, [750], "a re-read, not a new conversion");
  assert.equal(probe.faults.retries[Fault.Crc], 1);
  assert.equal(once.device.conversions, 1);

  const twice = rig(0x0191);
  twice.device.corruptReads = 2;
  const failing = new DS18B20({ sensor: { io: twice.bus, rom: ROM }, timers: twice.host });
  assert.equal(sampleOnce(twice.host, failing).value, faultValue(Fault.Crc));
  assert.equal(failing.faults.counts[Fault.Crc], 1);
});

test("fault: the 85 °C power-on value after a brown-out → a fresh conversion; twice → PowerOn", () => {
  const once = rig(0x0191);
  once.device.brownOuts = 1;
  const probe = new DS18B20({ sensor: { io: once.bus, rom: ROM }, timers: once.host, resolution: 9 });
  const first = sampleOnce(once.host, probe);
  assert.equal(first.value, 2500);
  assert.deepEqual(first.waits, [94, 94]);
  assert.equal(once.device.conversions, 2);
  assert.equal(once.device.config, 0x1f, "the configuration the reset lost was written again");
  assert.equal(probe.faults.retries[Fault.PowerOn], 1);

  const twice = rig(0x0191);
  twice.device.brownOuts = 2;
  const failing = new DS18B20({ sensor: { io: twice.bus, rom: ROM }, timers: twice.host, resolution: 12 });
  assert.equal(sampleOnce(twice.host, failing).value, faultValue(Fault.PowerOn));
  assert.equal(failing.faults.counts[Fault.PowerOn], 1);
});

test("fault: presence but a silent data line → Disconnected; a line held low → Disconnected", () => {
  const mute = rig();
  mute.device.mute = true;
  const probe = new DS18B20({ sensor: { io: mute.bus, rom: ROM }, timers: mute.host });
  assert.equal(sampleOnce(mute.host, probe).value, faultValue(Fault.Disconnected));
  assert.equal(probe.faults.retries[Fault.Disconnected], 1);

  const low = rig();
  low.wire.heldLow = true;
  const shorted = new DS18B20({ sensor: { io: low.bus, rom: ROM }, timers: low.host });
  assert.equal(sampleOnce(low.host, shorted).value, faultValue(Fault.Disconnected));
});

test("fault: beyond −55…125 °C → OutOfRange, not retried", () => {
  const { host, device, bus } = rig(0x07f0); // 127 °C
  const probe = new DS18B20({ sensor: { io: bus, rom: ROM }, timers: host });
  assert.equal(sampleOnce(host, probe).value, faultValue(Fault.OutOfRange));
  assert.equal(device.conversions, 1);
  assert.equal(probe.faults.retries[Fault.OutOfRange], 0);
  assert.equal(probe.faults.counts[Fault.OutOfRange], 1);
});

test("fault: the same value N times in a row → Stuck (channel option, off by default)", () => {
  const { host, device, bus } = rig(0x0191);
  const driver = new DS18B20({ sensor: { io: bus, rom: ROM }, timers: host });
  const channel = new ProbeChannel({ probe: driver, stuckAfter: 3 });
  assert.equal(channel.conversionTime, 750, "the awake time the power model adds per sample");
  const read = () => {
    let value: number | undefined;
    channel.sample((v) => (value = v));
    host.advance(750);
    return value;
  };
  assert.deepEqual([read(), read(), read(), read()], [2506, 2506, faultValue(Fault.Stuck), faultValue(Fault.Stuck)]);
  device.temperature = 0x0192;
  assert.equal(read(), 2513);
  assert.equal(channel.faults.counts[Fault.Stuck], 2);
  assert.equal(channel.faults, driver.faults, "one counter per channel");

  const { host: host2, bus: bus2 } = rig(0x0191);
  const plain = new ProbeChannel({ probe: new DS18B20({ sensor: { io: bus2, rom: ROM }, timers: host2 }) });
  for (let i = 0; i < 5; i++) {
    let value: number | undefined;
    plain.sample((v) => (value = v));
    host2.advance(750);
    assert.equal(value, 2506);
  }
});

test("a sample asked for while one is converting gets Timeout; the first still completes", () => {
  const { host, bus } = rig(0x0191);
  const probe = new DS18B20({ sensor: { io: bus, rom: ROM }, timers: host });
  const values: number[] = [];
  probe.sample((v) => values.push(v));
  probe.sample((v) => values.push(v));
  host.advance(750);
  assert.deepEqual(values, [faultValue(Fault.Timeout), 2506]);
});

test("retries are bounded per sample, whatever their kinds; retries: 0 turns them off", () => {
  const { host, device, bus } = rig(0x0191);
  device.corruptReads = 1;
  const probe = new DS18B20({ sensor: { io: bus, rom: ROM }, timers: host, retries: 0 });
  assert.equal(sampleOnce(host, probe).value, faultValue(Fault.Crc));
  assert.throws(() => probe.configure({ retries: 4 }), RangeError);
  assert.throws(() => probe.configure({ resolution: 13 }), RangeError);
});

test("close clears the pending conversion; the report names faults and retries", () => {
  const { host, device, bus } = rig(0x0191);
  const probe = new DS18B20({ sensor: { io: bus, rom: ROM }, timers: host });
  device.corruptReads = 1;
  sampleOnce(host, probe);
  device.present = false;
  sampleOnce(host, probe);
  assert.deepEqual(probe.faults.report(), { n: 2, faults: { "no-device": 1 }, retries: { crc: 1, "no-device": 1 } });
  device.present = true;
  let called = false;
  probe.sample(() => (called = true));
  probe.close();
  assert.equal(host.nextTimer(), undefined);
  host.advance(1000);
  assert.equal(called, false);
  assert.throws(() => probe.sample(() => {}));
});
