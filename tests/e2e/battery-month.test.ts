/*
 * Issue 5's month: the real firmware in battery mode (1-minute sampling, 15-minute uploads), each wake a
 * fresh start with only RTC memory kept, against the real server, which is down 6 hours every day.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../../server/server";
import { SimDevice } from "../../simulator/device";
import { VIRTUAL_EPOCH, VirtualClock } from "../../simulator/hardware/clock";
import type { Platform } from "../../simulator/hardware/preferences";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const AWAKE_CAP = 15_000;
const ID = "field-7";
const TOKEN = "field-7-token-0001";

async function month(days: number, platform: Platform) {
  const work = mkdtempSync(join(tmpdir(), "thermocast-month-"));
  const dbPath = join(work, "db.sqlite");
  const clock = new VirtualClock();
  const untrack = clock.trackAllServers();
  const quiet = () => {};
  let server: RunningServer = await startServer({ port: 0, dbPath, now: () => clock.now(), log: quiet });
  const port = server.port;
  server.db.registerDevice(ID, TOKEN, clock.now());
  const device = new SimDevice({
    clock, platform,
    config: {
      "device.id": ID, "device.token": TOKEN, "server.url": `ws://127.0.0.1:${port}`, "wifi.ssid": "sim",
      mode: "battery", "sample.interval": 60, "batch.size": 15, "batch.latency": 900,
    },
  });
  await device.boot();
  for (let day = 0; day < days; day++) {
    // The server is away from 02:00 to 08:00 every day.
    await clock.runUntil(VIRTUAL_EPOCH + day * DAY + 2 * HOUR);
    await server.close();
    await clock.runUntil(VIRTUAL_EPOCH + day * DAY + 8 * HOUR);
    server = await startServer({ port, dbPath, now: () => clock.now(), log: quiet });
  }
  // The end of the last day: a wake sends what the latency rule says is due.
  await clock.runUntil(VIRTUAL_EPOCH + days * DAY - MINUTE);
  const rows = server.db.readings(ID, 0, VIRTUAL_EPOCH * 2);
  const hello = JSON.parse(server.db.device(ID)!.last_hello ?? "{}");
  const result = { device, rows, hello, samples: device.samples };
  device.powerOff();
  await server.close();
  untrack();
  rmSync(work, { recursive: true, force: true });
  return result;
}

test("30 days on battery, the server down 6 h a day: nothing lost or doubled, wakes on the grid, awake cap held", { timeout: 1_800_000 }, async () => {
  const { device, rows, samples } = await month(30, "esp32");
  assert.equal(samples.length, 30 * 1440, "a sample every minute");
  samples.forEach((s, k) => assert.equal(s.at, VIRTUAL_EPOCH + k * MINUTE, `wake ${k} on the grid`));
  const indexes = new Set(rows.map((r) => r.idx));
  assert.equal(indexes.size, rows.length, "no reading stored twice");
  // All but the readings of the last, still-filling upload window are stored, each with its value.
  assert.ok(rows.length >= samples.length - 15, `stored ${rows.length} of ${samples.length}`);
  for (const row of rows) {
    assert.equal(row.centi, samples[row.idx].value, `reading ${row.idx}`);
    assert.equal(row.t, samples[row.idx].at, `reading ${row.idx} dated`);
  }
  assert.deepEqual([...indexes].sort((a, b) => a - b), rows.map((_, i) => i), "no gap: every reading up to the last upload");
  assert.ok(device.hardware.longestRun <= AWAKE_CAP, `longest wake ${device.hardware.longestRun} ms`);
  assert.equal(device.crash, undefined);
});

test("a store too small for the outage (ESP8266's 472 bytes): every dropped reading is counted and reported", { timeout: 600_000 }, async () => {
  const { rows, hello, samples } = await month(2, "esp8266");
  const stored = new Set(rows.map((r) => r.idx));
  const lastStored = Math.max(...stored);
  let missing = 0;
  for (let k = 0; k <= lastStored; k++) if (!stored.has(k)) missing++;
  assert.ok(missing > 0, "a 6-hour outage cannot fit in 133 readings");
  assert.equal(hello.store.drop, missing, "the device reports exactly the readings it dropped");
  assert.ok(samples.length > 2800, "sampling went on through the outages");
});
