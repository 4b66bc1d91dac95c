/*
 * What a device reports of its health in hello (the XS heap, store corruption, wakes, the probe's faults)
 * is kept: stored on the device's row, shown by GET /api/devices/:id, against the real server. A database
 * made before these columns existed is migrated in place.
 */
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { registerDevice } from "../../server/cli";
import { TelemetryDb } from "../../server/db";
import { TestServer, deviceId } from "./harness";

/** What main.ts puts in a hello on a battery board after a few wakes. */
const HEALTH = {
  store: { n: 30, cap: 512, drop: 2, corrupt: 1, lost: 12 },
  mem: { slots: 10240, chunks: 4096 },
  probe: { type: "ds18b20", n: 40, faults: { crc: 3, disconnected: 1 }, retries: { crc: 5 } },
  wake: { awake: 812, connect: 420, retries: 0, n: 57 },
};

test("hello's probe, mem, store.corrupt, store.lost and wake.n are stored and shown by GET /api/devices/:id; the next hello replaces them", async () => {
  const t = await new TestServer().start();
  try {
    const id = deviceId("health");
    const token = registerDevice(t.db, id);
    const device = await t.connect(id, token);
    await device.hello(id, HEALTH);
    const detail = (await t.getJson(`/api/devices/${id}`)) as Record<string, unknown>;
    assert.deepEqual(detail.store, HEALTH.store);
    assert.deepEqual(detail.wake, HEALTH.wake);
    assert.deepEqual(detail.mem, HEALTH.mem);
    assert.deepEqual(detail.probe, HEALTH.probe);
    const listed = ((await t.getJson("/api/devices")) as Record<string, unknown>[]).find((d) => d.id === id)!;
    assert.deepEqual([listed.store, listed.wake], [HEALTH.store, HEALTH.wake], "the list shows the store and wake figures too");

    // An always-on device's hello has no wake figures and no corruption count: nothing is left over.
    await device.close();
    const again = await t.connect(id, token);
    await again.hello(id, { store: { n: 0, cap: 512, drop: 0 }, probe: { type: "tmp117", n: 0, faults: {}, retries: {} } });
    const now = (await t.getJson(`/api/devices/${id}`)) as Record<string, unknown>;
    assert.deepEqual(now.wake, { awake: null, connect: null, retries: null, n: null });
    assert.deepEqual(now.store, { n: 0, cap: 512, drop: 0, corrupt: null, lost: null });
    assert.deepEqual(now.mem, { slots: null, chunks: null });
    assert.deepEqual(now.probe, { type: "tmp117", n: 0, faults: {}, retries: {} });
    await again.close();
  } finally {
    await t.dispose();
  }
});

test("a health figure out of range (a negative count, a fault count that is not a number) refuses the hello: bad-field", async () => {
  const t = await new TestServer().start();
  try {
    const id = deviceId("health");
    const device = await t.connect(id, registerDevice(t.db, id));
    for (const bad of [{ mem: { slots: -1 } }, { probe: { faults: { crc: "3" } } }, { store: { corrupt: 1.5 } }, { wake: { n: "57" } }]) {
      device.send({ t: "hello", v: 1, id, fw: "0.1.0", boot: 1, rr: "power-on", ...bad });
      const err = await device.next();
      assert.deepEqual([err.t, err.code], ["err", "bad-field"], JSON.stringify(bad));
    }
    assert.equal(t.db.device(id)!.last_seen, null, "no hello was recorded");
    await device.close();
  } finally {
    await t.dispose();
  }
});

test("a database from before the health columns is migrated when opened: rows kept, columns added, version 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "thermocast-migrate-"));
  const path = join(dir, "old.db");
  try {
    // The devices table as it was, with one device that has said hello.
    const old = new Database(path);
    old.exec(`CREATE TABLE devices (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
      created INTEGER NOT NULL, firmware TEXT, boot INTEGER, reset_reason TEXT, mode TEXT, cfg TEXT,
      wake_awake INTEGER, wake_connect INTEGER, wake_retries INTEGER, store_n INTEGER, store_cap INTEGER, store_drop INTEGER,
      last_err TEXT, last_seen INTEGER, last_hello TEXT, reading_count INTEGER NOT NULL DEFAULT 0);
      INSERT INTO devices (id, token_hash, created, firmware, reading_count) VALUES ('old-1', 'ab', 1, '0.0.9', 7);`);
    old.close();
    const db = new TelemetryDb(path, { checkpoints: "here" });
    try {
      assert.equal(db.sqlite.pragma("user_version", { simple: true }), 2);
      const row = db.device("old-1")!;
      assert.deepEqual([row.firmware, row.reading_count, row.mem_slots, row.probe, row.wake_n, row.store_corrupt, row.store_lost], ["0.0.9", 7, null, null, null, null, null]);
    } finally {
      db.close();
    }
    // Opening it again changes nothing.
    const again = new TelemetryDb(path, { checkpoints: "here" });
    assert.equal(again.sqlite.pragma("user_version", { simple: true }), 2);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
