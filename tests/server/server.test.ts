/* The reference server end to end: real WebSocket over loopback, real SQLite. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { READINGS_PAGE_ROWS } from "../../server/api";
import { listDevices, registerDevice, revokeDevice } from "../../server/cli";
import { NOW, TestServer, batch, deviceId, hello } from "./harness";

describe("reference server", () => {
  let t: TestServer;
  before(async () => {
    t = await new TestServer().start();
  });
  after(async () => {
    await t.dispose();
  });

  test("hello is answered with welcome and recorded on the device", async () => {
    const id = deviceId();
    const device = await t.connect(id, registerDevice(t.db, id));
    const welcome = await device.hello(id, {
      boot: 7, rr: "power-on", mode: "always-on", cfg: { "sample.interval": 60 }, err: "auth",
      wake: { awake: 812, connect: 420, retries: 1 }, store: { n: 30, cap: 512, drop: 2 },
    });
    assert.deepEqual(welcome, { t: "welcome", v: 1, time: NOW });
    const row = t.db.device(id)!;
    assert.equal(row.firmware, "0.1.0");
    assert.equal(row.boot, 7);
    assert.equal(row.reset_reason, "power-on");
    assert.equal(row.mode, "always-on");
    assert.deepEqual(JSON.parse(row.cfg!), { "sample.interval": 60 });
    assert.deepEqual([row.wake_awake, row.wake_connect, row.wake_retries], [812, 420, 1]);
    assert.deepEqual([row.store_n, row.store_cap, row.store_drop], [30, 512, 2]);
    assert.equal(row.last_err, "auth");
    assert.equal(row.last_seen, NOW);
    await device.close();
  });

  test("a batch is acked only once committed, and its readings are dated from the receive time", async () => {
    const id = deviceId();
    const device = await t.connect(id, registerDevice(t.db, id));
    await device.hello(id);
    const reader = new Database(t.dbPath, { readonly: true });
    try {
      device.send(batch({ s: 3 }));
      assert.deepEqual(await device.next(), { t: "ack", s: 3 });
      // Another connection sees the rows the moment the ack arrives: the transaction had committed.
      const rows = reader.prepare("SELECT boot, channel, idx, t, centi, fault FROM readings WHERE device_id = ? ORDER BY idx").all(id);
      assert.deepEqual(rows, [2156, 2156, 2157, 2156, 2156].map((centi, j) => ({
        boot: 12, channel: 0, idx: 480 + j, t: NOW - 1500 - (4 - j) * 60_000, centi, fault: null,
      })));
    } finally {
      reader.close();
    }
    await device.close();
  });

  test("a batch with T, a channel and faults", async () => {
    const id = deviceId();
    const device = await t.connect(id, registerDevice(t.db, id));
    await device.hello(id);
    const newest = NOW - 10_000;
    // 20.00, fault crc, 20.01 (delta +1 from 20.00), fault disconnected
    await device.acked({ t: "b", s: 1, o: 3, k: 0, i: 10, T: newest, c: 2, n: 4, b: 2000, v: "A~bC~d" });
    assert.deepEqual(t.db.readings(id, 0, Number.MAX_SAFE_INTEGER).map(({ device_id, ...r }) => r), [
      { boot: 3, channel: 2, idx: 0, t: newest - 30_000, centi: 2000, fault: null },
      { boot: 3, channel: 2, idx: 1, t: newest - 20_000, centi: null, fault: "crc" },
      { boot: 3, channel: 2, idx: 2, t: newest - 10_000, centi: 2001, fault: null },
      { boot: 3, channel: 2, idx: 3, t: newest, centi: null, fault: "disconnected" },
    ]);
    await device.close();
  });

  test("a batch sent again, with a new seq or cut differently, stores nothing twice", async () => {
    const id = deviceId();
    const token = registerDevice(t.db, id);
    let device = await t.connect(id, token);
    await device.hello(id);
    await device.acked(batch({ s: 1 }));
    await device.acked(batch({ s: 2 }));
    assert.equal(t.readingCount(id), 5);
    await device.close();

    // After a reconnect the seq starts again; readings 482..486 overlap the first batch by three.
    device = await t.connect(id, token);
    await device.hello(id);
    await device.acked(batch({ s: 1 }));
    await device.acked(batch({ s: 2, k: 482, v: "AAAAA" }));
    assert.equal(t.readingCount(id), 7);
    assert.equal(t.db.device(id)!.reading_count, 7);
    // The first batch's readings keep their first dating.
    const first = t.db.readings(id, 0, Number.MAX_SAFE_INTEGER).find((r) => r.idx === 482)!;
    assert.equal(first.t, NOW - 1500 - 2 * 60_000);
    await device.close();
  });

  test("a probe's channels (hello probe.ch): humidity is stored as channel 1 and the API and CSV name its quantity", async () => {
    const id = deviceId();
    const device = await t.connect(id, registerDevice(t.db, id));
    await device.hello(id, { probe: { type: "sht4x", n: 0, ch: ["t", "rh"] } });
    await device.acked({ t: "b", s: 1, o: 12, k: 0, i: 60, a: 500, n: 2, b: 2150, v: "AC" });
    await device.acked({ t: "b", s: 2, o: 12, k: 0, i: 60, a: 500, c: 1, n: 2, b: 4525, v: "A~g" });
    const json = (await t.getJson(`/api/devices/${id}/readings`)) as Record<string, unknown>[];
    assert.deepEqual(json.map((r) => [r.channel, r.quantity, r.value, r.celsius, r.fault]), [
      [0, "t", 21.5, 21.5, null], [1, "rh", 45.25, null, null], [0, "t", 21.51, 21.51, null], [1, "rh", null, null, "bus-error"],
    ]);
    const csv = (await (await t.api(`/api/devices/${id}/readings?format=csv`)).text()).trimEnd().split("\n");
    assert.deepEqual(csv.slice(1).map((line) => line.split(",").slice(3)), [
      ["0", "0", "21.5", "", "t", "21.5"], ["1", "0", "", "", "rh", "45.25"], ["0", "1", "21.51", "", "t", "21.51"], ["1", "1", "", "bus-error", "rh", ""],
    ]);
    const detail = (await t.getJson(`/api/devices/${id}`)) as { probe: { ch: string[] } };
    assert.deepEqual(detail.probe.ch, ["t", "rh"]);
    await device.close();
    // A channel list that names something else is refused with the hello.
    const other = deviceId();
    const bad = await t.connect(other, registerDevice(t.db, other));
    bad.send({ t: "hello", v: 1, id: other, fw: "0.1.0", boot: 1, rr: "power-on", probe: { ch: ["t", "co2"] } });
    const answer = await bad.next();
    assert.deepEqual([answer.t, answer.code], ["err", "bad-field"]);
    assert.match(String(answer.msg), /probe\.ch/);
    await bad.close();
  });

  test("API: device list, readings as JSON and as CSV match the stored rows", async () => {
    const id = deviceId();
    const device = await t.connect(id, registerDevice(t.db, id));
    await device.hello(id);
    await device.acked(batch({ s: 1 }));
    await device.acked({ t: "b", s: 2, o: 12, k: 485, i: 60, a: 500, c: 1, n: 2, b: -1250, v: "~aB" });
    const rows = t.db.readings(id, 0, Number.MAX_SAFE_INTEGER);
    assert.equal(rows.length, 7);

    const devices = (await t.getJson("/api/devices")) as Record<string, unknown>[];
    const listed = devices.find((d) => d.id === id);
    assert.deepEqual(listed, {
      id, firmware: "0.1.0", lastSeen: NOW, readingCount: 7, online: true, mode: "battery", boot: 12, revoked: false,
      wake: { awake: null, connect: null, retries: null, n: null }, store: { n: null, cap: null, drop: null, corrupt: null, lost: null },
    });

    const json = (await t.getJson(`/api/devices/${id}/readings`)) as Record<string, unknown>[];
    assert.deepEqual(json, rows.map((r) => ({
      t: r.t, boot: r.boot, channel: r.channel, idx: r.idx, celsius: r.centi === null ? null : r.centi / 100, fault: r.fault,
      quantity: "t", value: r.centi === null ? null : r.centi / 100,
    })));
    assert.deepEqual(json.filter((r) => r.channel === 1).map((r) => [r.celsius, r.fault]), [[null, "no-device"], [-12.51, null]]);

    const response = await t.api(`/api/devices/${id}/readings?format=csv`);
    assert.match(response.headers.get("content-type") ?? "", /^text\/csv/);
    const lines = (await response.text()).trimEnd().split("\n");
    assert.equal(lines[0], "t,iso,boot,channel,idx,celsius,fault,quantity,value");
    assert.deepEqual(lines.slice(1).map((line) => line.split(",")), rows.map((r) => [
      String(r.t), new Date(r.t).toISOString(), String(r.boot), String(r.channel), String(r.idx),
      r.centi === null ? "" : String(r.centi / 100), r.fault ?? "", "t", r.centi === null ? "" : String(r.centi / 100),
    ]));

    // from is inclusive, to exclusive; last keeps the newest.
    const from = rows[2].t;
    const window = (await t.getJson(`/api/devices/${id}/readings?from=${from}&to=${rows[4].t}`)) as { t: number }[];
    assert.ok(window.length > 0 && window.every((r) => r.t >= from && r.t < rows[4].t), "readings in [from, to)");
    const last = (await t.getJson(`/api/devices/${id}/readings?last=2`)) as { idx: number }[];
    assert.deepEqual(last.map((r) => r.idx), rows.slice(-2).map((r) => r.idx));

    assert.equal((await t.api(`/api/devices/${id}/readings?from=yesterday`)).status, 400);
    assert.equal((await t.api(`/api/devices/nobody/readings`)).status, 404);
    const health = (await (await fetch(`${t.server.url}/health`)).json()) as Record<string, unknown>;
    assert.equal(health.ok, true);
    assert.ok((health.devices as number) >= 1 && (health.connections as number) >= 1, JSON.stringify(health));
    await device.close();
  });

  test("API: a long range is sent in pages, every reading once and in order, JSON and CSV alike", async () => {
    const id = deviceId("pages");
    registerDevice(t.db, id);
    // Two channels on the same times (the order's ties), over more than two pages.
    const n = Math.ceil(READINGS_PAGE_ROWS * 1.2);
    const values = Array.from({ length: n }, (_, j) => j % 3000);
    for (const channel of [0, 1])
      t.db.storeReadings(id, { boot: 1, channel, idx: 0, oldest: NOW - n * 1000, stepMs: 1000, values, faults: values.map(() => null) }, NOW);
    const rows = t.db.readings(id, 0, Number.MAX_SAFE_INTEGER);
    assert.equal(rows.length, 2 * n);
    const key = (r: { t: number; channel: number; idx: number }) => `${r.t}/${r.channel}/${r.idx}`;
    const json = (await t.getJson(`/api/devices/${id}/readings`)) as { t: number; channel: number; idx: number }[];
    assert.deepEqual(json.map(key), rows.map(key));
    const csv = (await (await t.api(`/api/devices/${id}/readings?format=csv`)).text()).trimEnd().split("\n");
    assert.equal(csv.length, 1 + 2 * n);
    assert.deepEqual(csv.slice(1).map((line) => { const [time, , , channel, idx] = line.split(","); return `${time}/${channel}/${idx}`; }), rows.map(key));
    // A range that ends on a page boundary, and an empty one.
    const to = rows[READINGS_PAGE_ROWS].t;
    const part = (await t.getJson(`/api/devices/${id}/readings?to=${to}`)) as { t: number }[];
    assert.deepEqual(part.map((r) => r.t), rows.filter((r) => r.t < to).map((r) => r.t));
    assert.deepEqual(await t.getJson(`/api/devices/${id}/readings?from=${NOW}`), []);
  });

  test("the dashboard is served, with uPlot from node_modules", async () => {
    const page = await t.api("/");
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script src="\/dashboard.js"/);
    const script = await fetch(`${t.server.url}/dashboard.js`);
    assert.equal(script.status, 200);
    assert.match(await script.text(), /\/api\/devices/);
    const uplot = await fetch(`${t.server.url}/vendor/uPlot.iife.min.js`);
    assert.equal(uplot.status, 200);
    assert.match(await uplot.text(), /uPlot/);
  });

  test("config push: sent at once to a connected device, its answer recorded", async () => {
    const id = deviceId();
    const device = await t.connect(id, registerDevice(t.db, id));
    await device.hello(id);
    const response = await t.api(`/api/devices/${id}/config`, {
      method: "POST", body: JSON.stringify({ set: { "sample.interval": 30, "batch.size": 20 } }),
    });
    assert.equal(response.status, 202);
    const { id: pushId, state } = (await response.json()) as { id: number; state: string };
    assert.equal(state, "sent");
    assert.deepEqual(await device.next(), { t: "cfg", id: pushId, set: { "sample.interval": 30, "batch.size": 20 } });
    let detail = (await t.getJson(`/api/devices/${id}`)) as { config: { pending: { id: number }[]; last: unknown } };
    assert.deepEqual(detail.config.pending.map((p) => p.id), [pushId]);

    // One key applied, one refused: the record keeps the refusal's reason.
    device.send({ t: "cfgack", id: pushId, ok: false, applied: ["batch.size"], refused: { "sample.interval": "sample.interval must be between 1 and 86400 s" } });
    await device.acked(batch({ s: 1 })); // the cfgack is handled before the next frame
    detail = (await t.getJson(`/api/devices/${id}`)) as typeof detail;
    assert.deepEqual(detail.config.pending, []);
    assert.deepEqual(detail.config.last, {
      id: pushId, set: { "sample.interval": 30, "batch.size": 20 }, ok: false,
      err: "sample.interval must be between 1 and 86400 s", answered: NOW,
    });
    await device.close();
  });

  test("config push: kept pending for an offline device and sent after its next hello", async () => {
    const id = deviceId();
    const token = registerDevice(t.db, id);
    const response = await t.api(`/api/devices/${id}/config`, {
      method: "POST", body: JSON.stringify({ set: { "sample.interval": 120 } }),
    });
    assert.equal(response.status, 202);
    const { id: pushId, state } = (await response.json()) as { id: number; state: string };
    assert.equal(state, "pending");

    const device = await t.connect(id, token);
    device.send(hello(id));
    // Pending configuration comes before the welcome, so a device that only checks in can sleep after it.
    assert.deepEqual(await device.next(), { t: "cfg", id: pushId, set: { "sample.interval": 120 } });
    assert.equal((await device.next()).t, "welcome");
    device.send({ t: "cfgack", id: pushId, ok: true });
    await device.acked(batch({ s: 1 }));
    const detail = (await t.getJson(`/api/devices/${id}`)) as { config: { pending: unknown[]; last: { ok: boolean } } };
    assert.deepEqual(detail.config.pending, []);
    assert.equal(detail.config.last.ok, true);
    await device.close();
  });

  test("config push: malformed sets are refused with 400", async () => {
    const id = deviceId();
    registerDevice(t.db, id);
    for (const body of [{}, { set: {} }, { set: [] }, { set: { "Sample.Interval": 1 } }, { set: { "sample.": 1 } }, { set: { "a.b": { x: 1 } } }, { set: { "a.b": null } }]) {
      const response = await t.api(`/api/devices/${id}/config`, { method: "POST", body: JSON.stringify(body) });
      assert.equal(response.status, 400, JSON.stringify(body));
    }
    const unknown = await t.api(`/api/devices/nobody/config`, { method: "POST", body: '{"set":{"a":1}}' });
    assert.equal(unknown.status, 404);
  });

  test("a device that reconnects replaces its old connection", async () => {
    const id = deviceId();
    const token = registerDevice(t.db, id);
    const old = await t.connect(id, token);
    await old.hello(id);
    const fresh = await t.connect(id, token);
    assert.equal((await old.closed).code, 1000);
    await fresh.hello(id);
    await fresh.acked(batch({ s: 1 }));
    await fresh.close();
  });

  test("registering: same token again is a no-op, another token needs replace; revoke and list", () => {
    const id = deviceId();
    const token = registerDevice(t.db, id, "simulator-token-1");
    assert.equal(token, "simulator-token-1");
    assert.equal(registerDevice(t.db, id, "simulator-token-1"), "simulator-token-1");
    assert.throws(() => registerDevice(t.db, id, "simulator-token-2"), /already registered/);
    assert.equal(registerDevice(t.db, id, "simulator-token-2", { replace: true }), "simulator-token-2");
    assert.equal(t.db.checkToken(id, "simulator-token-2"), "ok");
    assert.equal(t.db.checkToken(id, "simulator-token-1"), "bad-token");
    assert.match(registerDevice(t.db, deviceId()), /^[A-Za-z0-9_-]{43}$/);
    assert.throws(() => registerDevice(t.db, "bad id!"), /device id/);
    assert.equal(revokeDevice(t.db, id), true);
    assert.equal(revokeDevice(t.db, "nobody"), false);
    assert.equal(listDevices(t.db).find((d) => d.id === id)?.revoked, true);
    assert.equal(t.db.device(id)!.token_hash.length, 64); // sha256 hex, never the token
  });
});

test("the server restarts on the same database and keeps its data", async () => {
  const t = await new TestServer().start();
  try {
    const id = deviceId();
    const token = registerDevice(t.db, id);
    let device = await t.connect(id, token);
    await device.hello(id);
    await device.acked(batch({ s: 1 }));
    const closing = device.closed;
    await t.stop();
    assert.equal((await closing).code, 1001);

    for (let restart = 0; restart < 2; restart++) {
      await t.start();
      assert.equal(t.readingCount(id), 5 + restart * 5);
      device = await t.connect(id, token);
      await device.hello(id);
      await device.acked(batch({ s: 1, k: 485 + restart * 5 }));
      await device.close();
      await t.stop();
    }
    await t.start();
    assert.equal(t.readingCount(id), 15);
    const devices = (await t.getJson("/api/devices")) as { id: string; readingCount: number; online: boolean }[];
    assert.deepEqual(devices.map((d) => [d.id, d.readingCount, d.online]), [[id, 15, false]]);
  } finally {
    await t.dispose();
  }
});

test("cli: device add prints the token once, list and revoke", () => {
  const t = new TestServer(); // only for its temp dir
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", "server/cli.ts", ...args, "--db", t.dbPath], { encoding: "utf8" });
  const added = run("device", "add", "porch");
  assert.equal(added.status, 0, added.stderr);
  const token = added.stdout.trim().split("\n").at(-1)!;
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(run("device", "add", "sim-1", "--token", "sim-token-abc").status, 0);
  assert.notEqual(run("device", "add", "porch").status, 0);
  assert.equal(run("device", "revoke", "porch").status, 0);
  const listed = run("device", "list");
  assert.equal(listed.status, 0);
  assert.match(listed.stdout, /porch/);
  assert.match(listed.stdout, /sim-1/);
  assert.doesNotMatch(listed.stdout, new RegExp(token));
  assert.equal(run("bogus").status, 2);
});
