/*
 * A sampling interval longer than the chip's longest deep sleep: ESP8266's timer takes µs in a uint32
 * (71.6 min), so a 2-hour sleep is taken in steps (Host.maxSleepMs). The simulated ESP8266 wraps a
 * longer request as the chip does, so a sleep asked for whole would wake it 48 minutes in.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../../server/server";
import { SimDevice } from "../../simulator/device";
import { VIRTUAL_EPOCH, VirtualClock } from "../../simulator/hardware/clock";

const HOUR = 3_600_000;
const ID = "attic-2";
const TOKEN = "attic-2-token-0001";

test("ESP8266 sampling every 2 hours: each sleep in steps of at most an hour, readings on the grid and dated right", { timeout: 600_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), "thermocast-long-sleep-"));
  const clock = new VirtualClock();
  const untrack = clock.trackAllServers();
  const server = await startServer({ port: 0, dbPath: join(work, "db.sqlite"), now: () => clock.now(), log: () => {} });
  server.db.registerDevice(ID, TOKEN, clock.now());
  const device = new SimDevice({
    clock, platform: "esp8266",
    config: {
      "device.id": ID, "device.token": TOKEN, "server.url": `ws://127.0.0.1:${server.port}`, "wifi.ssid": "sim",
      mode: "battery", "sample.interval": 7200, "batch.size": 3, "batch.latency": 21600,
    },
  });
  try {
    const sleeps: number[] = [];
    const deepSleep = device.hardware.deepSleep.bind(device.hardware);
    device.hardware.deepSleep = (ms: number) => {
      sleeps.push(ms);
      deepSleep(ms);
    };
    await device.boot();
    await clock.runUntil(VIRTUAL_EPOCH + 48 * HOUR - 60_000);
    const samples = device.samples;
    assert.equal(samples.length, 24, "a sample every 2 hours for 2 days");
    samples.forEach((s, k) => assert.equal(s.at, VIRTUAL_EPOCH + k * 2 * HOUR, `sample ${k} on the grid`));
    assert.ok(sleeps.length >= 2 * samples.length - 1, `${sleeps.length} sleeps for ${samples.length} samples: two steps each`);
    assert.ok(Math.max(...sleeps) <= HOUR, `no sleep longer than the chip takes (${Math.max(...sleeps)} ms)`);
    const rows = server.db.readings(ID, 0, VIRTUAL_EPOCH * 2);
    assert.ok(rows.length >= samples.length - 3, `stored ${rows.length} of ${samples.length}`);
    for (const row of rows) {
      assert.equal(row.centi, samples[row.idx].value, `reading ${row.idx}`);
      assert.equal(row.t, samples[row.idx].at, `reading ${row.idx} dated`);
    }
    assert.equal(device.crash, undefined);
  } finally {
    device.powerOff();
    await server.close();
    untrack();
    rmSync(work, { recursive: true, force: true });
  }
});
