/*
 * The simulator's `native/probe-io` over a board's wiring (simulator/moddable/probe-io.ts, hardware/io.ts):
 * the platform's ROM byte order, and pins refused while open, as the SDK refuses them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BoardIo } from "../../simulator/hardware/io";
import { FakeTMP117 } from "../../simulator/hardware/i2c";
import { makeRom } from "../../simulator/hardware/onewire";
import { probeIoOver } from "../../simulator/moddable/probe-io";

const ROM = makeRom(0x28, [0xff, 0x5a, 0x79, 0xa2, 0x16, 0x03]);

test("search gives ROMs reversed on esp32 (the SDK's byte swap) and in wire order on esp", () => {
  for (const [platform, order] of [["esp32", Array.from(ROM).reverse()], ["esp", Array.from(ROM)]] as const) {
    const io = new BoardIo(() => 0, () => 1);
    io.wire(4).add(ROM);
    const bus = probeIoOver(() => ({ io, platform })).oneWire(4);
    assert.deepEqual(bus.search().map((rom) => Array.from(new Uint8Array(rom as ArrayBuffer))), [order], platform);
    assert.ok(bus.reset(), `${platform}: presence`);
  }
});

test("a pin open in this run is refused until closed; a new run starts with every pin free", () => {
  let run = 1;
  const io = new BoardIo(() => 0, () => run);
  const probeIo = probeIoOver(() => ({ io, platform: "esp32" }));
  const bus = probeIo.oneWire(4);
  assert.throws(() => probeIo.oneWire(4), /inUse/);
  assert.throws(() => probeIo.digitalOutput(4), /inUse/);
  bus.close();
  probeIo.digitalOutput(4).write(1);
  assert.equal(io.outputs.get(4), 1);
  run = 2; // a reset: what the last run opened is gone
  assert.doesNotThrow(() => probeIo.oneWire(4));
  assert.throws(() => new probeIo.Analog({ pin: 12 }), /invalid pin/, "no ADC model there");
});

test("I2C: devices share the bus pins, an address opens once, nothing wired there does not acknowledge", () => {
  const io = new BoardIo(() => 0, () => 1);
  io.i2c.set(0x48, new FakeTMP117(() => 0));
  const { SMBus } = probeIoOver(() => ({ io, platform: "esp32" }));
  const options = { data: 21, clock: 22, hz: 100_000 };
  const tmp = new SMBus({ address: 0x48, ...options });
  assert.equal(tmp.readUint16(0x0f, true), 0x1117);
  assert.throws(() => new SMBus({ address: 0x48, ...options }), /duplicate address/);
  const nobody = new SMBus({ address: 0x49, ...options });
  assert.throws(() => nobody.readUint16(0x0f, true), /read failed/);
  tmp.close();
  assert.deepEqual(io.held(), { 21: "i2c", 22: "i2c" }, "0x49 still holds the bus");
  nobody.close();
  assert.deepEqual(io.held(), {});
});
