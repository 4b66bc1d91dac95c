/*
 * Send back-pressure: lwIP's TCP send buffer is small and the SDK socket throws on a write that does not
 * fit. The simulated network models that buffer (simulator/hardware/network.ts); here it is made smaller
 * than the hello plus a window of batches, and slow to drain (the peer's TCP acknowledges late), as a
 * congested link to the server would. The firmware must send only when the socket says it has room: a
 * write that throws is a disconnect, and the same burst on every reconnect would never drain the backlog.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../../server/server";
import { SimDevice } from "../../simulator/device";
import { VIRTUAL_EPOCH, VirtualClock } from "../../simulator/hardware/clock";

const MINUTE = 60_000;
const ID = "cellar-3";
const TOKEN = "cellar-3-token-0001";

test("a send buffer smaller than a burst, slow to drain: the backlog goes out on one connection, every reading once", { timeout: 600_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), "thermocast-backpressure-"));
  const dbPath = join(work, "db.sqlite");
  const clock = new VirtualClock();
  const untrack = clock.trackAllServers();
  let hellos = 0;
  const log = (line: { event?: string }) => {
    if (line.event === "hello") hellos++;
  };
  let server: RunningServer = await startServer({ port: 0, dbPath, now: () => clock.now(), log });
  const port = server.port;
  server.db.registerDevice(ID, TOKEN, clock.now());
  const device = new SimDevice({
    clock, platform: "esp8266",
    config: {
      "device.id": ID, "device.token": TOKEN, "server.url": `ws://127.0.0.1:${port}`, "wifi.ssid": "sim",
      "sample.interval": 10, "batch.size": 20, "link.backoff.base": 1000, "link.backoff.cap": 30000,
    },
  });
  try {
    device.hardware.network.sendBufferBytes = 700;
    device.hardware.network.ackDelayMs = 400;
    await device.boot();
    // A backlog: the server is away for 20 minutes (120 readings), then back.
    await server.close();
    await clock.advance(20 * MINUTE);
    hellos = 0;
    server = await startServer({ port, dbPath, now: () => clock.now(), log });
    await clock.advance(10 * MINUTE);

    const samples = device.samples;
    const rows = server.db.readings(ID, 0, VIRTUAL_EPOCH * 2);
    const indexes = rows.map((r) => r.idx);
    assert.equal(new Set(indexes).size, rows.length, "no reading stored twice");
    assert.deepEqual(indexes, indexes.map((_, i) => i), "no gap");
    assert.ok(rows.length >= samples.length - 20, `stored ${rows.length} of ${samples.length}: the backlog drained`);
    for (const row of rows) assert.equal(row.centi, samples[row.idx].value, `reading ${row.idx}`);
    t.diagnostic(`after the outage: ${hellos} session(s), ${rows.length} of ${samples.length} readings stored`);
    assert.equal(hellos, 1, "one session after the outage: no write failed, no reconnect");
    assert.equal(device.hardware.network.refusedWrites, 0, "no write was attempted without room");
    assert.equal(device.crash, undefined);
  } finally {
    device.powerOff();
    await server.close();
    untrack();
    rmSync(work, { recursive: true, force: true });
  }
});
