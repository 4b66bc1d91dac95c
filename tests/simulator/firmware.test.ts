/*
 * The real firmware (main.ts) on simulated boards, against the real reference server in this process,
 * on virtual time: what it samples is what the server stores, dated when it was sampled.
 */
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { startServer, type RunningServer } from "../../server/server";
import { SimDevice } from "../../simulator/device";
import { VIRTUAL_EPOCH, VirtualClock } from "../../simulator/hardware/clock";

const MINUTE = 60_000;
let cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup) await step();
  cleanup = [];
});

async function setUp(config: Record<string, unknown> = {}, manifest?: Record<string, unknown>) {
  const clock = new VirtualClock();
  const stop = clock.trackAllServers(); // the server does not expose its http server
  const server: RunningServer = await startServer({ port: 0, dbPath: ":memory:", now: () => clock.now(), log: () => {} });
  server.db.registerDevice("kitchen-1", "kitchen-token-1", clock.now());
  const dev = new SimDevice({
    clock,
    manifest,
    config: { "device.id": "kitchen-1", "device.token": "kitchen-token-1", "server.url": `ws://127.0.0.1:${server.port}`, "wifi.ssid": "sim", "sample.interval": 60, "batch.size": 10, ...config },
  });
  cleanup.push(() => dev.powerOff(), () => server.close(), stop);
  return { clock, server, dev };
}

function stored(server: RunningServer): [number, number | null][] {
  return server.db.readings("kitchen-1", 0, VIRTUAL_EPOCH * 2).map((r) => [r.t, r.centi]);
}

test("always-on: samples every interval on virtual time; the server stores each reading as sampled", async () => {
  const { clock, server, dev } = await setUp();
  await dev.boot();
  const boot = dev.events.find((e) => e.kind === "boot");
  assert.deepEqual(boot && { boot: boot.boot, resetReason: boot.resetReason, id: boot.id }, { boot: 1, resetReason: "power-on", id: "kitchen-1" });
  await clock.advance(120 * MINUTE);
  assert.deepEqual(dev.samples.map((s) => (s.at - VIRTUAL_EPOCH) / MINUTE), Array.from({ length: 121 }, (_, i) => i));
  // Batches of 10: the 121st reading waits for its batch.
  assert.deepEqual(stored(server), dev.samples.slice(0, 120).map((s) => [s.at, s.value]));
  assert.equal(server.db.device("kitchen-1")?.boot, 1);
  assert.equal(dev.crash, undefined);
});

test("a reboot is a new boot to the server; the readings of both boots arrive", async () => {
  const { clock, server, dev } = await setUp();
  await dev.boot();
  await clock.advance(25 * MINUTE);
  await dev.reboot();
  await clock.advance(20 * MINUTE);
  const device = server.db.device("kitchen-1")!;
  assert.equal(device.boot, 2);
  assert.equal(device.reset_reason, "power-on");
  // Boot 1 sent 20 of its 26 readings before the power went; boot 2 sent 20 of 21.
  assert.equal(stored(server).length, 40);
});

test("battery: sleeps between samples, wakes on time, sends every tenth wake, joining the known AP fast", async () => {
  const { clock, server, dev } = await setUp({ mode: "battery" });
  await dev.boot();
  await clock.advance(60 * MINUTE);
  assert.equal(dev.sleeping, true);
  assert.equal(dev.hardware.boots, 61);
  assert.deepEqual(dev.samples.map((s) => (s.at - VIRTUAL_EPOCH) / MINUTE), Array.from({ length: 61 }, (_, i) => i));
  assert.deepEqual(stored(server), dev.samples.slice(0, 60).map((s) => [s.at, s.value]));
  assert.equal(dev.hardware.wifi.joins, 6);
  assert.equal(dev.hardware.wifi.fastJoins, 5, "every join after the first names the cached BSSID and channel");
  assert.equal(server.db.device("kitchen-1")?.boot, 1, "a wake is not a boot");
});

test("battery: a corrupt retained image is discarded and said, with the readings it held, not sent as data", async () => {
  const { clock, server, dev } = await setUp({ mode: "battery" });
  await dev.boot();
  await clock.advance(4 * MINUTE + 30_000); // 5 readings held, none sent yet
  assert.equal(dev.sleeping, true);
  const rtc = new Uint8Array(dev.hardware.retained(0)!);
  for (const slot of [0, 184]) rtc[slot + 40] ^= 0xff; // both image slots (modules/power/retained.ts SLOT_BYTES)
  await clock.advance(20 * MINUTE);
  const hello = server.db.device("kitchen-1")!;
  assert.deepEqual([hello.store_corrupt, hello.store_lost], [1, 5], "said in hello, with the readings lost");
  const rows = stored(server);
  assert.ok(rows.length >= 10);
  assert.deepEqual(rows, dev.samples.slice(5, 5 + rows.length).map((s) => [s.at, s.value]), "the 5 lost readings are not sent");
  // Its indexes start again at 0: a new boot, so the server cannot take them for readings it already has.
  assert.equal(server.db.device("kitchen-1")?.boot, 2);
});

test("the serial console answers on the simulated UART", async () => {
  const { clock, dev } = await setUp({}, { console: {} });
  await dev.boot();
  await clock.advance(1000);
  dev.hardware.serial.type("status\r\n");
  await clock.advance(1000);
  assert.match(dev.hardware.serial.output, /> status\r\n.*boot 1 \(power-on\)/s);
});
