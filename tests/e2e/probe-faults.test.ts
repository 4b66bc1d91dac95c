/*
 * Issue 7's end to end: faults are data. The real firmware on a simulated board samples a probe that fails
 * in chosen slots — every fault kind from the simulated probe, and the real DS18B20, TMP117 and NTC drivers
 * on modelled buses (a lost presence pulse, a bad CRC, the 85 °C power-on value, a NACK…) — and sends to the
 * real server in this process, on virtual time. The database then holds, slot by slot, the fault's name with
 * centi NULL where the probe failed, and the temperature everywhere else: never a number for a failed slot.
 */
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { startServer, type RunningServer } from "../../server/server";
import { SimDevice } from "../../simulator/device";
import { VIRTUAL_EPOCH, VirtualClock } from "../../simulator/hardware/clock";
import { FakeTMP117 } from "../../simulator/hardware/i2c";
import { makeRom, type FakeDS18B20 } from "../../simulator/hardware/onewire";
import { ntcCode, type NtcWiring } from "../../simulator/hardware/io";
import { Fault, FAULT_NAMES, faultValue, type FaultKind } from "../../modules/protocol/values";
import { startServer as startTestServer } from "../simulator/helpers";

const ID = "probe-1";
const TOKEN = "probe-token-1";
/** Seconds between slots: room for a 12-bit DS18B20 conversion retried once (2 × 750 ms). */
const INTERVAL = 2;
const SLOTS = 30;

let cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

type Slot = [idx: number, centi: number | null, fault: string | null];

/**
 * Boots a device with `config` on a board wired by `wire`, runs `plan[k]` shortly before slot k is sampled,
 * and returns what the server stored for slots 0 … SLOTS-1.
 */
async function run(config: Record<string, unknown>, wire: (dev: SimDevice, start: number) => void, plan: Record<number, (dev: SimDevice) => void>) {
  const clock = new VirtualClock();
  const untrack = clock.trackAllServers();
  const server: RunningServer = await startServer({ port: 0, dbPath: ":memory:", now: () => clock.now(), log: () => {} });
  server.db.registerDevice(ID, TOKEN, clock.now());
  const dev = new SimDevice({
    clock,
    config: {
      "device.id": ID, "device.token": TOKEN, "server.url": `ws://127.0.0.1:${server.port}`, "wifi.ssid": "sim",
      "sample.interval": INTERVAL, "batch.size": 5, ...config,
    },
  });
  cleanup.push(untrack, () => server.close(), () => dev.powerOff());
  const start = clock.now();
  wire(dev, start);
  await dev.boot();
  for (let k = 1; k < SLOTS; k++) {
    if (!plan[k]) continue;
    await clock.runUntil(start + k * INTERVAL * 1000 - 250); // the slot before is done with the probe
    plan[k](dev);
  }
  await clock.runUntil(start + SLOTS * INTERVAL * 1000 - 500); // the last batch (slots 25…29) is sent and acked
  assert.equal(dev.crash, undefined, "the firmware ran on");
  const rows = server.db.readings(ID, 0, VIRTUAL_EPOCH * 2);
  assert.equal(rows.length, SLOTS, "one row per slot");
  return { dev, rows: rows.map((r): Slot => [r.idx, r.centi, r.fault]) };
}

/** The rows expected: `faults[k]` names slot k's fault, every other slot holds `centi(k)`. */
function expected(faults: Record<number, string>, centi: (k: number) => number): Slot[] {
  return Array.from({ length: SLOTS }, (_, k): Slot => (faults[k] ? [k, null, faults[k]] : [k, centi(k), null]));
}

test("simulated probe: each of the 9 fault kinds, and stuck found by the channel, stored as fault markers in exactly their slots", { timeout: 300_000 }, async () => {
  const kinds = FAULT_NAMES.map((_, kind) => kind as FaultKind);
  assert.equal(kinds.length, 9);
  const plan: Record<number, (dev: SimDevice) => void> = {};
  const faults: Record<number, string> = {};
  for (const kind of kinds) {
    const slot = 2 + 2 * kind; // 2, 4, … 18
    plan[slot] = (dev) => dev.hardware.probe.inject(faultValue(kind), 1);
    faults[slot] = FAULT_NAMES[kind];
  }
  // Slots 20…23 read the same value: with probe.stuck = 3 the third and fourth are Stuck.
  const raw = (k: number) => (k >= 20 && k <= 23 ? 1999 : 2000 + k);
  faults[22] = faults[23] = "stuck";
  const { rows, dev } = await run({ "probe.stuck": 3, "probe.offset": 5 }, (board, start) => {
    board.hardware.probe.signal = (at) => raw(Math.round((at - start) / (INTERVAL * 1000)));
  }, plan);
  assert.deepEqual(rows, expected(faults, (k) => raw(k) + 5));
  assert.equal(dev.samples.length, SLOTS, "the signal read once per slot");
});

test("DS18B20 on a simulated 1-Wire bus: lost presence, bad CRC, 85 °C power-on, open data line, −127 °C, out of range, a brown-out", { timeout: 300_000 }, async () => {
  let device!: FakeDS18B20;
  const faults: Record<number, string> = {
    2: "no-device", 4: "crc", 6: "power-on", 8: "disconnected", 10: "disconnected", 12: "out-of-range", 14: "no-device", 16: "power-on",
  };
  const restore = (dev: SimDevice) => {
    device.temperature = 0x0191;
    device.mute = false;
    device.present = true;
  };
  const plan: Record<number, (dev: SimDevice) => void> = {
    2: () => (device.missResets = 2), // no presence pulse, and none on the one retry
    4: () => (device.corruptReads = 2), // a flipped bit in the scratchpad, read again: flipped again
    6: () => (device.temperature = 0x0550), // +85 °C, the power-on value, on the retry's fresh conversion too
    7: restore,
    8: () => (device.mute = true), // presence, then a data line that stays high: all 0xFF
    9: restore,
    10: () => (device.temperature = 0xf810), // −127 °C
    11: restore,
    12: () => (device.temperature = 0x0820), // +130 °C
    13: restore,
    14: () => (device.present = false), // unplugged
    15: restore,
    16: () => (device.brownOuts = 2), // resets at Convert T: power-on scratchpad, twice
    18: () => (device.corruptReads = 1), // one glitch: the retry reads it
  };
  const { rows, dev } = await run({ "probe.type": "ds18b20" }, (board) => {
    device = board.hardware.io.wire(4).add(makeRom(0x28, [0xff, 0x5a, 0x79, 0xa2, 0x16, 0x03]), 0x0191);
  }, plan);
  assert.deepEqual(rows, expected(faults, () => 2506));
  assert.ok(dev.eventsOf("probe.onewire").some((e) => e.gpio === 4 && e.rom === "28-0316a2795aff" && e.more === 0), "found by search on ESP32-DevKitC's GPIO4");
});

test("TMP117 on a simulated I2C bus: no acknowledge, a bus error, the −256 °C reset value, out of range, a late conversion", { timeout: 300_000 }, async () => {
  let chip!: FakeTMP117;
  const faults: Record<number, string> = { 2: "no-device", 4: "bus-error", 8: "power-on", 10: "out-of-range", 12: "timeout" };
  const restore = () => {
    chip.absent = false;
    chip.result = 0x0c80;
    chip.lag = 0;
  };
  const plan: Record<number, (dev: SimDevice) => void> = {
    2: () => (chip.absent = true),
    3: restore,
    4: () => (chip.failures = 2), // a transfer fails, and its retry: the ID read still answers
    6: () => (chip.failures = 1), // one glitch, retried: a reading
    8: () => (chip.result = 0x8000),
    9: restore,
    10: () => (chip.result = 0x5000), // +160 °C
    11: restore,
    12: () => (chip.lag = 1000), // Data_Ready still clear after the wait and a quarter more
    13: restore,
  };
  const { rows } = await run({ "probe.type": "tmp117" }, (board) => {
    chip = new FakeTMP117(() => board.hardware.clock.now());
    board.hardware.io.i2c.set(0x48, chip);
  }, plan);
  assert.deepEqual(rows, expected(faults, () => 2500));
});

test("NTC on a simulated ADC: an open thermistor, a short, a failed conversion", { timeout: 300_000 }, async () => {
  const wiring: NtcWiring = { side: "high", series: 10000, r25: 10000, beta: 3950, supply: 3300, fullScale: 2450, resolution: 12 };
  let celsius = 20;
  let failed = false;
  const faults: Record<number, string> = { 2: "disconnected", 4: "out-of-range", 6: "bus-error" };
  const plan: Record<number, (dev: SimDevice) => void> = {
    2: () => (celsius = Infinity), // high side open: the node falls to ground
    3: () => (celsius = 20),
    4: () => (celsius = -Infinity), // shorted: the node at the supply, above the ESP32's 2450 mV window
    5: () => (celsius = 20),
    6: () => (failed = true),
    7: () => (failed = false),
  };
  const { rows } = await run({ "probe.type": "ntc", "ntc.side": "high" }, (board) => {
    board.hardware.io.analog.set(33, { resolution: 12, read: () => (failed ? undefined : ntcCode(celsius, wiring)) });
  }, plan);
  const reading = rows[0][1]!;
  assert.ok(Math.abs(reading - 2000) <= 5, `20 °C read as ${reading}`);
  assert.deepEqual(rows, expected(faults, () => reading));
});

test("hello reports the probe type and its fault counts; a missing DS18B20 is no-device in every slot", { timeout: 300_000 }, async () => {
  const clock = new VirtualClock();
  const server = await startTestServer(clock);
  const dev = new SimDevice({
    clock,
    config: { "device.id": ID, "device.token": TOKEN, "server.url": server.url, "wifi.ssid": "sim", "sample.interval": 1, "probe.type": "ds18b20" },
  });
  cleanup.push(() => server.close(), () => dev.powerOff());
  await dev.boot();
  await clock.advance(9500); // slots 0…9
  for (const client of server.wss.clients) client.terminate(); // the link reconnects and says hello again
  await clock.advance(5000);
  const hellos = server.received.map((r) => JSON.parse(r.text)).filter((frame) => frame.t === "hello");
  assert.ok(hellos.length >= 2, `a hello per connection, got ${hellos.length}`);
  const { probe } = hellos.at(-1);
  assert.equal(probe.type, "ds18b20");
  assert.ok(probe.n >= 10, `at least the 10 slots before the reconnect, got ${probe.n}`);
  assert.deepEqual(probe.faults, { "no-device": probe.n }, "every reading a no-device fault");
  assert.deepEqual(probe.retries, { "no-device": probe.n }, "each retried once");
  const batches = server.received.map((r) => JSON.parse(r.text)).filter((frame) => frame.t === "b");
  assert.ok(batches.length > 0 && batches.every((b) => /^(~a)+$/.test(b.v)), "batches carry only no-device marks");
  assert.equal(Fault.NoDevice, 0);
});

test("the real server keeps what the firmware's hello reports of the probe (and the store), for the API and the dashboard", { timeout: 60000 }, async () => {
  const clock = new VirtualClock();
  const untrack = clock.trackAllServers();
  const server = await startServer({ port: 0, dbPath: ":memory:", now: () => clock.now(), log: () => {} });
  server.db.registerDevice(ID, TOKEN, clock.now());
  const dev = new SimDevice({
    clock,
    config: { "device.id": ID, "device.token": TOKEN, "server.url": `ws://127.0.0.1:${server.port}`, "wifi.ssid": "sim", "sample.interval": 1, "probe.type": "ds18b20" },
  });
  cleanup.push(untrack, () => server.close(), () => dev.powerOff());
  await dev.boot();
  await clock.advance(3000); // connected, hello committed
  const row = server.db.device(ID)!;
  const hello = JSON.parse(row.last_hello ?? "{}");
  assert.equal(hello.probe?.type, "ds18b20", `the firmware's hello carries the probe: ${row.last_hello}`);
  assert.deepEqual(JSON.parse(row.probe ?? "null"), hello.probe, "stored as the device reported it");
  assert.equal(row.store_cap, hello.store.cap, "store figures too");
});
