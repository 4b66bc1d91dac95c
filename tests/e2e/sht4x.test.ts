/*
 * Issue 18's SHT4x end to end: the real firmware on a simulated board with an SHT4x on its I2C bus (the model
 * in simulator/hardware/sht4x.ts) samples temperature and humidity and sends both to the real server in this
 * process, on virtual time: the database holds channel 0 (°C) and channel 1 (%RH) for every slot, the hello
 * says what the channels measure, and the API names each reading's quantity. A CRC error on one word, and a
 * probe unplugged, show as faults in exactly their channel and slots.
 */
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { startServer, type RunningServer } from "../../server/server";
import { readingJson } from "../../server/api";
import { SimDevice } from "../../simulator/device";
import { VIRTUAL_EPOCH, VirtualClock } from "../../simulator/hardware/clock";
import { FakeSHT4x } from "../../simulator/hardware/sht4x";

const ID = "greenhouse-1";
const TOKEN = "greenhouse-token-1";
const INTERVAL = 2;
const SLOTS = 20;

let cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

test("SHT4x: temperature and humidity travel as channels 0 and 1 from the driver to the database and the API", { timeout: 300_000 }, async () => {
  const clock = new VirtualClock();
  const untrack = clock.trackAllServers();
  const server: RunningServer = await startServer({ port: 0, dbPath: ":memory:", now: () => clock.now(), log: () => {} });
  server.db.registerDevice(ID, TOKEN, clock.now());
  const dev = new SimDevice({
    clock,
    config: {
      "device.id": ID, "device.token": TOKEN, "server.url": `ws://127.0.0.1:${server.port}`, "wifi.ssid": "sim",
      "sample.interval": INTERVAL, "batch.size": 5, "probe.type": "sht4x",
    },
  });
  cleanup.push(untrack, () => server.close(), () => dev.powerOff());
  const chip = new FakeSHT4x(() => dev.hardware.clock.now());
  dev.hardware.io.i2c.set(0x44, chip);
  const start = clock.now();
  // Slot k sees 20 + k/10 °C and 40 + k/4 %RH; slot 7's humidity word and slot 9's temperature word arrive
  // corrupted; in slots 12 and 13 the probe is unplugged.
  const plan: Record<number, () => void> = {
    7: () => (chip.corruptRH = 1),
    9: () => (chip.corruptT = 1),
    12: () => (chip.absent = true),
    14: () => (chip.absent = false),
  };
  chip.celsius = 20;
  chip.humidity = 40;
  await dev.boot(); // slot 0 is sampled at boot
  for (let k = 1; k < SLOTS; k++) {
    await clock.runUntil(start + k * INTERVAL * 1000 - 250); // the slot before is done with the probe
    chip.celsius = 20 + k / 10;
    chip.humidity = 40 + k / 4;
    plan[k]?.();
  }
  await clock.runUntil(start + SLOTS * INTERVAL * 1000 - 500); // the last batch (slots 15…19) is sent and acked
  assert.equal(dev.crash, undefined, "the firmware ran on");

  const rows = server.db.readings(ID, 0, VIRTUAL_EPOCH * 2);
  assert.equal(rows.length, 2 * SLOTS, "two rows a slot");
  const channel = (c: number) => rows.filter((r) => r.channel === c).sort((a, b) => a.idx - b.idx).map((r) => [r.idx, r.centi, r.fault]);
  const expect = (value: (k: number) => number, faults: Record<number, string>) =>
    Array.from({ length: SLOTS }, (_, k) => (faults[k] ? [k, null, faults[k]] : [k, value(k), null]));
  assert.deepEqual(channel(0), expect((k) => 2000 + 10 * k, { 9: "crc", 12: "no-device", 13: "no-device" }));
  assert.deepEqual(channel(1), expect((k) => 4000 + 25 * k, { 7: "crc", 12: "no-device", 13: "no-device" }));
  // Each slot's two readings carry the same time.
  for (let k = 0; k < SLOTS; k++) {
    const [t0, t1] = [0, 1].map((c) => rows.find((r) => r.channel === c && r.idx === k)!.t);
    assert.equal(t0, t1, `slot ${k}`);
  }

  const device = server.db.device(ID)!;
  const probe = JSON.parse(device.probe!);
  assert.deepEqual([probe.type, probe.ch], ["sht4x", ["t", "rh"]], "the hello says what the channels measure");
  const humidity = rows.filter((r) => r.channel === 1 && r.idx === 4).map((r) => readingJson(r, probe))[0];
  assert.deepEqual([humidity.quantity, humidity.value, humidity.celsius], ["rh", 41, null]);
  assert.ok(chip.measurements >= SLOTS - 2, `a measurement a slot (${chip.measurements})`);
});

test("SHT4x in battery mode: both channels kept in the retained image across deep sleeps, then sent", { timeout: 300_000 }, async () => {
  const clock = new VirtualClock();
  const untrack = clock.trackAllServers();
  const server: RunningServer = await startServer({ port: 0, dbPath: ":memory:", now: () => clock.now(), log: () => {} });
  server.db.registerDevice(ID, TOKEN, clock.now());
  const interval = 60;
  const slots = 12;
  const dev = new SimDevice({
    clock,
    config: {
      "device.id": ID, "device.token": TOKEN, "server.url": `ws://127.0.0.1:${server.port}`, "wifi.ssid": "sim",
      mode: "battery", "sample.interval": interval, "batch.size": 5, "batch.latency": 600, "probe.type": "sht4x",
    },
  });
  cleanup.push(untrack, () => server.close(), () => dev.powerOff());
  const chip = new FakeSHT4x(() => dev.hardware.clock.now());
  dev.hardware.io.i2c.set(0x44, chip);
  const start = clock.now();
  chip.celsius = 20;
  chip.humidity = 40;
  await dev.boot();
  for (let k = 1; k < slots; k++) {
    await clock.runUntil(start + k * interval * 1000 - 5000);
    chip.celsius = 20 + k / 10;
    chip.humidity = 40 + k / 4;
  }
  await clock.runUntil(start + (slots + 1) * interval * 1000);
  assert.equal(dev.crash, undefined, "the firmware ran on");
  assert.ok(dev.hardware.boots > slots / 2, `it slept and woke (${dev.hardware.boots} runs)`);
  const rows = server.db.readings(ID, 0, VIRTUAL_EPOCH * 2);
  const channel = (c: number) => rows.filter((r) => r.channel === c).sort((a, b) => a.idx - b.idx).map((r) => [r.idx, r.centi, r.fault]);
  const sent = channel(0).length;
  assert.ok(sent >= 10, `batches of 5 sent (${sent} slots stored)`);
  assert.deepEqual(channel(0), Array.from({ length: sent }, (_, k) => [k, 2000 + 10 * k, null]));
  assert.deepEqual(channel(1), Array.from({ length: sent }, (_, k) => [k, 4000 + 25 * k, null]));
});
