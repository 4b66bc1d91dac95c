import { test } from "node:test";
import assert from "node:assert/strict";
import { BitBangOneWire, crc8, romName, searchRoms, wireOrder, type OneWireBus } from "../../sensors/onewire/bus";
import { discoverDS18B20 } from "../../sensors/ds18b20/ds18b20";
import { FakeWire, makeRom } from "../../simulator/hardware/onewire";

const now = () => 0;

test("CRC-8: Maxim AN27's ROM example, 02 1C B8 01 00 00 00 → A2", () => {
  const rom = Uint8Array.of(0x02, 0x1c, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xa2);
  assert.equal(crc8(rom, 7), 0xa2);
  assert.equal(crc8(rom), 0, "over the data and its CRC the remainder is 0");
});

test("CRC-8: the DS18B20 power-on scratchpad 50 05 4B 46 7F FF 0C 10 carries CRC 1C", () => {
  const pad = Uint8Array.of(0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0x1c);
  assert.equal(crc8(pad, 8), 0x1c);
  assert.equal(crc8(pad), 0);
  pad[0] ^= 1;
  assert.notEqual(crc8(pad, 8), 0x1c, "a single flipped bit changes it");
});

test("CRC-8: the Moddable simulator's fixed ROM 28 CA 00 A9 04 00 00 is followed by EA", () => {
  assert.equal(crc8(Uint8Array.of(0x28, 0xca, 0x00, 0xa9, 0x04, 0x00, 0x00)), 0xea);
});

test("reset: presence only when a device answers; a line held low also reads as presence", () => {
  const wire = new FakeWire(now);
  const bus = new BitBangOneWire(wire);
  assert.equal(bus.reset(), false);
  const device = wire.add(makeRom(0x28, [1, 2, 3, 4, 5, 6]));
  assert.equal(bus.reset(), true);
  device.present = false;
  assert.equal(bus.reset(), false);
  wire.heldLow = true;
  assert.equal(bus.reset(), true);
});

test("bytes go out least significant bit first and come back the same way (Read ROM)", () => {
  const wire = new FakeWire(now);
  const rom = makeRom(0x28, [0x5a, 0x79, 0xa2, 0x16, 0x03, 0x00]);
  wire.add(rom);
  const bus = new BitBangOneWire(wire);
  assert.equal(bus.reset(), true);
  bus.write(0x33);
  assert.deepEqual(Array.from(bus.read(8)), Array.from(rom));
  assert.deepEqual(wire.transactions[0], [0x33]);
});

// Three ROMs that part ways at several bits: in the family byte's neighbour, mid-serial and in the last bit.
const ROM_A = makeRom(0x28, [0x10, 0x00, 0x00, 0x00, 0x00, 0x00]);
const ROM_B = makeRom(0x28, [0x10, 0x00, 0x80, 0x00, 0x00, 0x00]);
const ROM_C = makeRom(0x28, [0x11, 0x00, 0x80, 0x00, 0x00, 0x00]);

test("ROM search finds 3 devices, bit by bit, one reset per device", () => {
  const wire = new FakeWire(now);
  for (const rom of [ROM_C, ROM_A, ROM_B]) wire.add(rom);
  const found = searchRoms(wire);
  assert.equal(found.length, 3);
  const names = found.map(romName);
  for (const rom of [ROM_A, ROM_B, ROM_C]) assert.ok(names.indexOf(romName(rom)) >= 0, `found ${romName(rom)}`);
  assert.equal(wire.resets, 3);
  // Each pass: Search ROM, then the 64 direction bits, which spell the ROM that pass selected.
  for (let i = 0; i < 3; i++) assert.deepEqual(wire.transactions[i], [0xf0, ...Array.from(found[i])]);
  // AN187 order: the branch with 0 first at every discrepancy, so ascending by ROM bits LSB first.
  assert.deepEqual(names, [romName(ROM_A), romName(ROM_B), romName(ROM_C)]);
});

test("ROM search: devices differing only in their last serial bit; one device; none", () => {
  const twins = new FakeWire(now);
  twins.add(makeRom(0x28, [0, 0, 0, 0, 0, 0x80]));
  twins.add(makeRom(0x28, [0, 0, 0, 0, 0, 0x00]));
  assert.equal(searchRoms(twins).length, 2);

  const single = new FakeWire(now);
  single.add(ROM_B);
  assert.deepEqual(searchRoms(single).map(romName), [romName(ROM_B)]);
  assert.equal(single.resets, 1);

  assert.deepEqual(searchRoms(new FakeWire(now)), []);
});

test("ROM search stops on a bus held low instead of inventing ROM 00…00", () => {
  const wire = new FakeWire(now);
  wire.heldLow = true;
  assert.deepEqual(searchRoms(wire), []);
  assert.equal(wire.resets, 1);
});

test("wireOrder: accepts family-first ROMs, undoes the ESP32 module's byte swap, rejects bad CRCs", () => {
  assert.deepEqual(Array.from(wireOrder(ROM_A.slice().buffer as ArrayBuffer)!), Array.from(ROM_A));
  const swapped = ROM_A.slice().reverse();
  assert.deepEqual(Array.from(wireOrder(swapped)!), Array.from(ROM_A));
  const corrupt = ROM_A.slice();
  corrupt[3] ^= 0x10;
  assert.equal(wireOrder(corrupt), undefined);
  assert.equal(wireOrder(new Uint8Array(8)), undefined);
  assert.equal(wireOrder(new Uint8Array(7)), undefined);
});

test("romName is Linux w1's: family, then the serial most significant byte first", () => {
  assert.equal(romName(makeRom(0x28, [0xff, 0x5a, 0x79, 0xa2, 0x16, 0x03])), "28-0316a2795aff");
});

/** The Moddable onewire module on ESP32: ArrayBuffers from search(), each byte-swapped (CRC first). */
class Esp32StyleBus implements OneWireBus {
  #bus: BitBangOneWire;
  constructor(wire: FakeWire) {
    this.#bus = new BitBangOneWire(wire);
  }
  reset() {
    return this.#bus.reset();
  }
  write(byte: number) {
    this.#bus.write(byte);
  }
  read(count: number): ArrayBuffer {
    return this.#bus.read(count).buffer as ArrayBuffer;
  }
  search(): ArrayBuffer[] {
    return this.#bus.search().map((rom) => rom.slice().reverse().buffer as ArrayBuffer);
  }
}

test("discoverDS18B20: wire order on every platform, sorted by serial, other families ignored", () => {
  const wire = new FakeWire(now);
  wire.add(ROM_C);
  wire.add(makeRom(0x01, [9, 9, 9, 9, 9, 9])); // a DS2401 serial number chip
  wire.add(ROM_A);
  wire.add(ROM_B);
  const esp32 = discoverDS18B20(new Esp32StyleBus(wire));
  const esp8266 = discoverDS18B20(new BitBangOneWire(wire));
  assert.equal(esp32.ignored, 1);
  assert.deepEqual(esp32.roms.map(romName), [romName(ROM_A), romName(ROM_B), romName(ROM_C)].sort());
  assert.deepEqual(esp32.roms.map(romName), esp8266.roms.map(romName));
});
