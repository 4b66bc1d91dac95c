/*
 * Issue 3's end to end: one simulated day of the real firmware (1-minute sampling, batches of 10) against
 * the real server over loopback, while the server is stopped and restarted 3 times at seeded random
 * moments, once in the middle of a batch (committed, but stopped before its ack went out). The database
 * then holds exactly one row per sampled reading, each dated within 1 s of when it was sampled.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../../server/server";
import { SimDevice } from "../../simulator/device";
import { VIRTUAL_EPOCH, VirtualClock } from "../../simulator/hardware/clock";
import { mulberry32 } from "../../simulator/hardware/random";

const MINUTE = 60_000;
const DAY = 1440 * MINUTE;
const ID = "greenhouse-1";
const TOKEN = "greenhouse-token-1";


for (const seed of [1, 2, 3]) {
  test(`a day with 3 server restarts (seed ${seed}): every reading stored once, dated within 1 s`, { timeout: 600_000 }, async () => {
    const random = mulberry32(seed);
    const work = mkdtempSync(join(tmpdir(), "thermocast-day-"));
    const dbPath = join(work, "db.sqlite");
    const clock = new VirtualClock();
    const untrack = clock.trackAllServers();
    // Batches the server stored nothing new from: the resend of the batch whose ack was lost.
    const resent: number[] = [];
    const quiet = (line: { event?: string; stored?: number; n?: number }) => {
      if (line.event === "batch-stored" && line.stored === 0) resent.push(line.n ?? 0);
    };
    let server: RunningServer = await startServer({ port: 0, dbPath, now: () => clock.now(), log: quiet });
    const port = server.port;
    server.db.registerDevice(ID, TOKEN, clock.now());
    const device = new SimDevice({
      clock,
      config: {
        "device.id": ID, "device.token": TOKEN, "server.url": `ws://127.0.0.1:${port}`, "wifi.ssid": "sim",
        "sample.interval": 60, "batch.size": 10, "link.backoff.base": 1000, "link.backoff.cap": 60000,
      },
    });
    try {
      await device.boot();
      // Three outages at random moments, in order; the second one strikes inside a batch: the server commits
      // it, then stops before the ack leaves, so the device must send it again and the server must not
      // store it twice.
      const starts = [0.1, 0.4, 0.7].map((at) => Math.floor((at + random() * 0.2) * DAY));
      const midBatch = 1;
      let stopped = 0;
      for (let i = 0; i < starts.length; i++) {
        await clock.runUntil(VIRTUAL_EPOCH + starts[i]);
        if (i === midBatch) {
          const store = server.db.storeReadings.bind(server.db);
          const current = server;
          let struck = false;
          const stopping = new Promise<void>((resolve) => {
            current.db.storeReadings = (...args) => {
              const n = store(...args);
              current.db.storeReadings = store;
              struck = true;
              void current.close().then(resolve); // committed, and the ack goes nowhere
              return n;
            };
          });
          await clock.advance(10 * MINUTE); // the next batch comes within 10 minutes
          assert.ok(struck, "a batch arrived to be struck in the middle of");
          await stopping;
          await clock.settle();
        } else {
          await server.close();
        }
        stopped++;
        await clock.advance(Math.floor((1 + random() * 29) * MINUTE));
        server = await startServer({ port, dbPath, now: () => clock.now(), log: quiet });
      }
      await clock.runUntil(VIRTUAL_EPOCH + DAY - MINUTE + 5000); // the 1440th reading (minute 1439) completes a batch
      assert.equal(stopped, 3);
      assert.ok(resent.length >= 1, "the batch committed before the stop was sent again, and stored nothing twice");

      const samples = device.samples;
      assert.equal(samples.length, 1440, "one sample a minute for a day");
      const rows = server.db.readings(ID, 0, VIRTUAL_EPOCH * 2);
      assert.equal(rows.length, 1440, "exactly one row per sampled reading");
      const byIndex = new Map(rows.map((r) => [r.idx, r]));
      for (let k = 0; k < samples.length; k++) {
        const row = byIndex.get(k);
        assert.ok(row, `reading ${k} stored`);
        assert.ok(Math.abs(row.t - samples[k].at) <= 1000, `reading ${k} dated ${row.t - samples[k].at} ms off`);
        assert.equal(row.centi, samples[k].value, `reading ${k} value`);
      }
      assert.equal(device.crash, undefined);
    } finally {
      device.powerOff();
      await server.close();
      untrack();
      rmSync(work, { recursive: true, force: true });
    }
  });
}
