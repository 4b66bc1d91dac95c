/*
 * Operations: group commit and its bounds, back-pressure, graceful shutdown (in process and SIGTERM on
 * `cli serve`), the health endpoint, structured logs, and the retention command.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { test } from "node:test";
import Database from "better-sqlite3";
import { registerDevice } from "../../server/cli";
import { DeviceClient, NOW, TestServer, batch, deviceId, type Frame } from "./harness";

const DAY = 86_400_000;

for (const writer of ["thread", "inline"] as const) {
  test(`group commit (${writer} writer): batches that arrive together share one transaction, and each is acked after it`, async () => {
    const t = await new TestServer({ writer }).start();
    try {
      const devices: DeviceClient[] = [];
      for (let i = 0; i < 20; i++) {
        const id = deviceId("group");
        const device = await t.connect(id, registerDevice(t.db, id));
        await device.hello(id);
        devices.push(device);
      }
      const before = t.server.stats();
      for (const device of devices) for (let s = 1; s <= 5; s++) device.send(batch({ s, k: s * 5 }));
      for (const device of devices) for (let s = 1; s <= 5; s++) assert.deepEqual(await device.next(), { t: "ack", s });
      const after = t.server.stats();
      assert.equal(after.writes - before.writes, 100);
      assert.ok(after.groups - before.groups < 100 / 4, `100 batches in ${after.groups - before.groups} commits`);
      for (const device of devices) await device.close();
    } finally {
      await t.dispose();
    }
  });

  test(`bounded groups and back-pressure (${writer} writer): reading stops while the queue is over its mark, nothing is lost`, async () => {
    const t = await new TestServer({ writer, maxGroupRows: 10, highWaterRows: 20 }).start();
    try {
      const id = deviceId("pressure");
      const device = await t.connect(id, registerDevice(t.db, id));
      await device.hello(id);
      for (let s = 1; s <= 40; s++) device.send(batch({ s, k: s * 5 }));
      for (let s = 1; s <= 40; s++) assert.deepEqual(await device.next(), { t: "ack", s });
      const stats = t.server.stats();
      assert.ok(stats.maxGroupRows <= 10, `groups of at most 10 readings (${stats.maxGroupRows})`);
      assert.ok(stats.fulls >= 1 && stats.pauses >= 1, "the queue filled, and the connection waited for room");
      assert.ok(stats.maxQueuedRows <= 20 + 5, `the queue stayed bounded (${stats.maxQueuedRows} readings at most)`);
      assert.equal(stats.paused, 0, "and was let in again");
      assert.equal(t.readingCount(id), 200);
      await device.close();
    } finally {
      await t.dispose();
    }
  });

  test(`graceful shutdown (${writer} writer): every ack the device got is committed; it is closed with 1001; nothing is lost`, async () => {
    const t = await new TestServer({ writer }).start();
    try {
      const id = deviceId("shutdown");
      const token = registerDevice(t.db, id);
      const device = await t.connect(id, token);
      await device.hello(id);
      const acked: number[] = [];
      let firstAck: () => void;
      const acking = new Promise<void>((resolve) => (firstAck = resolve));
      device.socket.on("message", (data) => {
        const frame = JSON.parse(data.toString()) as Frame;
        if (frame.t === "ack") {
          acked.push(frame.s as number);
          firstAck();
        }
      });
      // A stream of batches, and the shutdown in the middle of it: once the first ack is back, the rest are in
      // flight or queued.
      for (let s = 1; s <= 200; s++) device.send(batch({ s, k: s * 5 }));
      await acking;
      const closed = device.closed;
      await t.stop();
      assert.equal((await closed).code, 1001);
      assert.ok(acked.length > 0, "acks came back before the stop"); // so the check below has something to check

      await t.start();
      const stored = new Set(t.db.readings(id, 0, Number.MAX_SAFE_INTEGER).map((r) => r.idx));
      for (const s of acked) for (let j = 0; j < 5; j++) assert.ok(stored.has(s * 5 + j), `acked batch ${s} is stored`);
      assert.equal(t.db.device(id)!.reading_count, stored.size, "the device's count matches its rows");
      // Whatever was not acked is sent again by the device; stored or not, it is stored once.
      const again = await t.connect(id, token);
      await again.hello(id);
      for (let s = 1; s <= 200; s++) again.send(batch({ s, k: s * 5 }));
      for (let s = 1; s <= 200; s++) assert.deepEqual(await again.next(), { t: "ack", s });
      assert.equal(t.readingCount(id), 1000);
      await again.close();
    } finally {
      await t.dispose();
    }
  });

  test(`a failed commit (${writer} writer) is answered with storage, never acked; the others in its group are`, async () => {
    const t = await new TestServer({ writer }).start();
    try {
      const ids = [deviceId("fail"), deviceId("fine"), deviceId("fine")];
      const devices: DeviceClient[] = [];
      for (const id of ids) {
        const device = await t.connect(id, registerDevice(t.db, id));
        await device.hello(id);
        devices.push(device);
      }
      t.db.sqlite.exec(`CREATE TRIGGER refuse BEFORE INSERT ON readings WHEN NEW.device_id = '${ids[0]}'
        BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END`);
      const before = t.server.stats();
      for (const device of devices) device.send(batch({ s: 1 }));
      assert.deepEqual(await devices[0].next(), { t: "err", code: "storage", msg: "could not store the batch, retry later", s: 1 });
      for (const device of devices.slice(1)) assert.deepEqual(await device.next(), { t: "ack", s: 1 });
      assert.equal(t.readingCount(ids[0]), 0);
      assert.deepEqual(ids.slice(1).map((id) => t.readingCount(id)), [5, 5]);
      assert.ok(t.server.stats().failedGroups - before.failedGroups <= 1);
      t.db.sqlite.exec("DROP TRIGGER refuse");
      await devices[0].acked(batch({ s: 1 }));
      assert.equal(t.readingCount(ids[0]), 5);
      for (const device of devices) await device.close();
    } finally {
      await t.dispose();
    }
  });
}

test("health: open, answers with the database's state and the commit queue", async () => {
  const t = await new TestServer().start();
  try {
    const id = deviceId("health");
    const device = await t.connect(id, registerDevice(t.db, id));
    await device.hello(id);
    const response = await fetch(`${t.server.url}/health`);
    assert.equal(response.status, 200);
    const health = (await response.json()) as Record<string, unknown>;
    assert.equal(health.ok, true);
    assert.equal(health.connections, 1);
    assert.equal(health.devices, 1);
    assert.equal(health.dashboards, 0);
    assert.deepEqual(Object.keys(health.commits as object).sort(), ["maxCommitMs", "paused", "queuedRows"]);
    assert.equal(typeof health.uptime, "number");
    await device.close();
  } finally {
    await t.dispose();
  }
});

test("retention: `cli retention --days N` deletes older readings, also while the server runs", async () => {
  const t = await new TestServer().start();
  try {
    const id = deviceId("retention");
    const device = await t.connect(id, registerDevice(t.db, id));
    await device.hello(id);
    // 5 readings 40 days old, 5 from 10 days ago, 5 now (the server's clock is 2025-11-24, the CLI's today).
    const realNow = Date.now();
    t.clock = realNow;
    await device.acked(batch({ s: 1, k: 0, a: undefined, T: realNow - 40 * DAY }));
    await device.acked(batch({ s: 2, k: 5, a: undefined, T: realNow - 10 * DAY }));
    await device.acked(batch({ s: 3, k: 10, a: 0 }));
    const run = spawnSync(process.execPath, ["--import", "tsx", "server/cli.ts", "retention", "--days", "30", "--db", t.dbPath], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^deleted 5 reading\(s\) dated before /);
    assert.deepEqual(t.db.readings(id, 0, Number.MAX_SAFE_INTEGER).map((r) => r.idx), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    assert.equal(t.db.device(id)!.reading_count, 10);
    await device.acked(batch({ s: 4, k: 15, a: 0 })); // the server goes on
    assert.equal(spawnSync(process.execPath, ["--import", "tsx", "server/cli.ts", "retention", "--db", t.dbPath]).status, 1, "--days is required");
    await device.close();
  } finally {
    t.clock = NOW;
    await t.dispose();
  }
});

test("cli serve: JSON log lines; SIGTERM stops it gracefully, every acked batch committed", { timeout: 120000 }, async () => {
  const t = new TestServer(); // only for its temp dir
  const id = "porch-1";
  const token = spawnSync(process.execPath, ["--import", "tsx", "server/cli.ts", "device", "add", id, "--db", t.dbPath], { encoding: "utf8" })
    .stdout.trim().split("\n").at(-1)!;
  const child = spawn(process.execPath, ["--import", "tsx", "server/cli.ts", "serve", "--port", "0", "--db", t.dbPath, "--admin-token", "serve-admin-token"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed:\n${stderr}`)), 60000); // a limit for a hung start, not a goal
      const check = () => {
        const match = /devices +(ws:\/\/127\.0\.0\.1:\d+\/v1\/device)/.exec(stderr);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        } else setTimeout(check, 50);
      };
      check();
    });
    assert.match(stderr, /log in with the admin token/);
    const device = await DeviceClient.connect(`${url}/${id}`, token);
    await device.hello(id);
    const acked: number[] = [];
    device.socket.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.t === "ack") acked.push(frame.s as number);
    });
    for (let s = 1; s <= 100; s++) device.send(batch({ s, k: s * 5, a: 0 }));
    // Once acks come back, a second burst, and the signal right behind it: batches in flight as it stops.
    for (const end = Date.now() + 60000; acked.length === 0 && Date.now() < end;) await new Promise((r) => setTimeout(r, 1));
    assert.ok(acked.length > 0, "acks came back before the signal");
    for (let s = 101; s <= 300; s++) device.send(batch({ s, k: s * 5, a: 0 }));
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    assert.equal(code, 0, stderr);
    assert.equal((await device.closed).code, 1001);

    const lines = stdout.trim().split("\n").map((line) => JSON.parse(line) as { time: string; level: string; event: string });
    assert.ok(lines.every((l) => typeof l.time === "string" && typeof l.level === "string" && typeof l.event === "string"), "every log line is a JSON event");
    assert.deepEqual(lines.filter((l) => ["started", "stopping", "stopped"].includes(l.event)).map((l) => l.event), ["started", "stopping", "stopped"]);

    const db = new Database(t.dbPath, { readonly: true });
    try {
      const stored = new Set((db.prepare("SELECT idx FROM readings WHERE device_id = ?").all(id) as { idx: number }[]).map((r) => r.idx));
      assert.ok(acked.length > 0, "some batches were acked before the signal");
      for (const s of acked) assert.ok(stored.has(s * 5), `acked batch ${s} is stored`);
    } finally {
      db.close();
    }
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(t.dir, { recursive: true, force: true });
  }
});
