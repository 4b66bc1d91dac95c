/*
 * The server's edge (issue 15): what a peer sends in any state cannot throw past a handler, nor grow the
 * server without bound, nor hold a connection past its phase's time limit. One test per finding; each
 * would have failed before its fix (a crash ends this test process, which fails the file).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { registerDevice } from "../../server/cli";
import { TelemetryDb } from "../../server/db";
import { LogLimit, type LogLine } from "../../server/log";
import { MAX_JSON_DEPTH, nestedDeeper, parseFrame } from "../../server/protocol";
import { ThreadWriter } from "../../server/writer";
import { TestServer, batch, deviceId, hello } from "./harness";
import { RawClient, frameBytes, text, upgradeRequest } from "./raw-client";

/** A registered device says hello and has a batch acked: the server is up and serving. */
async function serving(t: TestServer): Promise<void> {
  const id = deviceId("alive");
  const device = await t.connect(id, registerDevice(t.db, id));
  await device.hello(id);
  await device.acked(batch({ s: 1 }));
  await device.close();
}

describe("a peer cannot crash the server", () => {
  let t: TestServer;
  before(async () => {
    t = await new TestServer().start();
  });
  after(async () => {
    await t.dispose();
  });

  const refused = [
    { name: "no token", token: undefined, registered: true, close: 4001 },
    { name: "a wrong token", token: "not-the-token-000", registered: true, close: 4001 },
    { name: "an unknown device", token: "some-token-0000", registered: false, close: 4004 },
  ];
  const badFrames = [
    { name: "a frame with RSV2 set", bytes: frameBytes({ opcode: 1, rsv: 2, payload: '{"t":"ping"}' }) },
    { name: "a frame over 16 KiB", bytes: text("x".repeat(16385)) },
  ];
  for (const r of refused) {
    for (const bad of badFrames) {
      test(`a refused socket (${r.name}) sends ${bad.name} right behind its upgrade: closed, the server serves on`, async () => {
        const id = deviceId("refused");
        if (r.registered) registerDevice(t.db, id);
        const client = await RawClient.open(t.server.port);
        client.write(Buffer.concat([Buffer.from(upgradeRequest(`/v1/device/${id}`, r.token)), bad.bytes]));
        await client.closed;
        assert.equal(client.status, 101);
        assert.equal(client.messages[0]?.t, "err", "the refusal's err frame went out first");
        await serving(t);
      });
    }
  }

  test("an upgrade to the path //[/x (the URL parser throws on it) is answered 400", async () => {
    const client = await RawClient.open(t.server.port);
    client.write(upgradeRequest("//[/x"));
    await client.closed;
    assert.equal(client.status, 400);
    await serving(t);
  });

  test("a hello whose cfg holds arrays nested 8 000 deep is bad-json; nothing recursive meets it; the device's next hello is taken", async () => {
    const id = deviceId("deep");
    const device = await t.connect(id, registerDevice(t.db, id));
    device.send(JSON.stringify(hello(id)).replace('"mode"', `"cfg":{"x":${"[".repeat(8000)}${"]".repeat(8000)}},"mode"`));
    const err = await device.next();
    assert.deepEqual([err.t, err.code], ["err", "bad-json"]);
    await device.hello(id);
    await device.acked(batch({ s: 1 }));
    assert.equal(t.db.device(id)!.cfg, null, "the deep cfg was not stored");
    await device.close();
  });

  test("a percent-escape that does not decode (%ZZ, %E0%A4%A, a lone %) in an API path is a 400, not logged as an error", async () => {
    for (const id of ["%ZZ", "%E0%A4%A", "%", "a%"]) {
      const response = await t.api(`/api/devices/${id}`);
      assert.equal(response.status, 400, id);
      assert.match(((await response.json()) as { error: string }).error, /percent-encoding/);
    }
    assert.deepEqual(t.logs.filter((l) => l.level === "error"), []);
  });
});

test("nesting is measured on the text, strings skipped; a frame nested deeper than MAX_JSON_DEPTH is bad-json", () => {
  const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
  assert.equal(nestedDeeper(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH), false);
  assert.equal(nestedDeeper(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH), true);
  assert.equal(nestedDeeper(JSON.stringify({ s: "[[[[[[[[[[[[\\\"{{{{{{{{{{{" }), 2), false, "brackets in a string do not count");
  assert.equal(parseFrame(`{"t":"ping","x":${nested(MAX_JSON_DEPTH)}}`).error?.code, "bad-json");
  assert.equal(parseFrame(`{"t":"ping","x":${nested(MAX_JSON_DEPTH - 1)}}`).frame?.t, "ping");
  // cfg is flat: a nested value is refused before anything stores it.
  assert.equal(parseFrame(JSON.stringify(hello("a", { cfg: { x: [[1]] } }))).error?.code, "bad-field");
});

test("a write the writer cannot pack fails alone, answered; nothing is thrown from the commit queue's timer", async () => {
  const dir = mkdtempSync(join(tmpdir(), "thermocast-edge-"));
  const path = join(dir, "t.db");
  const db = new TelemetryDb(path, { checkpoints: "here" });
  const writer = await ThreadWriter.start(path, { maxGroupRows: 64, onError: () => {} });
  try {
    // A BigInt cannot be written as JSON: packing throws, as a stack overflow would.
    const unpackable = { ...hello("a"), cfg: { x: 1n } } as never;
    const outcomes = await new Promise<unknown[]>((resolve) => writer.commit([{ kind: "hello", hello: unpackable, at: 0 }], 0, resolve));
    assert.equal(outcomes.length, 1);
    assert.ok(outcomes[0] instanceof Error);
  } finally {
    await writer.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("bounded memory per connection", () => {
  test("pings over the device's allowance: err rate-limited and close 4008, as for batches", async () => {
    const t = await new TestServer({ pingsPerMinute: 20 }).start();
    try {
      const id = deviceId("pings");
      const client = await RawClient.upgrade(t.server.port, `/v1/device/${id}`, registerDevice(t.db, id));
      client.write(Buffer.concat(new Array(200).fill(text({ t: "ping" }))));
      await client.until(() => client.closeCode !== undefined);
      const answers = client.messages;
      assert.equal(answers.filter((m) => m.t === "pong").length, 20);
      assert.deepEqual(answers.at(-1), { t: "err", code: "rate-limited", msg: "too many pings per minute" });
      assert.equal(client.closeCode, 4008);
      client.destroy();
      await serving(t);
    } finally {
      await t.dispose();
    }
  });

  test("hellos over the device's allowance: err rate-limited and close 4008", async () => {
    const t = await new TestServer({ hellosPerMinute: 3 }).start();
    try {
      const id = deviceId("hellos");
      const token = registerDevice(t.db, id);
      for (let n = 0; n < 3; n++) {
        const device = await t.connect(id, token);
        await device.hello(id);
        await device.close();
      }
      const device = await t.connect(id, token);
      device.send(hello(id));
      assert.deepEqual(await device.next(), { t: "err", code: "rate-limited", msg: "too many hellos per minute" });
      assert.equal((await device.closed).code, 4008);
      t.clock += 20_000; // a third of a minute: one hello more
      await (await t.connect(id, token)).hello(id);
    } finally {
      await t.dispose();
    }
  });

  test("a device that never reads its answers is no longer read, then dropped", { timeout: 30_000 }, async () => {
    const t = await new TestServer({ pingsPerMinute: 0, maxBufferedBytes: 1024, stalledMs: 200 }).start();
    try {
      const id = deviceId("deaf");
      const client = await RawClient.upgrade(t.server.port, `/v1/device/${id}`, registerDevice(t.db, id));
      client.socket.pause(); // reads nothing: the pongs fill the kernel's buffers, then the server's
      const dropped = t.logged((l) => l.device === id && /^not reading its answers/.test(String(l.msg)));
      let over = false;
      void dropped.then(() => (over = true));
      const pings = Buffer.concat(new Array(10_000).fill(text({ t: "ping" })));
      while (!over && !client.socket.destroyed) {
        // Once the server stops reading, these wait in our own buffers: stop adding when they are full.
        if (!client.socket.write(pings)) await Promise.race([dropped, new Promise((resolve) => client.socket.once("drain", resolve))]);
      }
      const line = await dropped;
      assert.equal(line.close, 1008);
      client.socket.resume();
      await client.closed;
      await serving(t);
    } finally {
      await t.dispose();
    }
  });
});

describe("time limits and the per-address limit", () => {
  test("idle TCP connections cannot lock an address out: the oldest makes room; /health and a device get in", async () => {
    const t = await new TestServer({ maxConnectionsPerAddress: 10 }).start();
    try {
      const idle = await Promise.all(Array.from({ length: 30 }, () => RawClient.open(t.server.port)));
      // Twenty more than the limit: twenty are closed (the oldest, each as a newer one arrives); ten stay.
      let closed = 0;
      await new Promise<void>((resolve) => {
        for (const c of idle) void c.closed.then(() => ++closed === 20 && resolve());
      });
      assert.equal(idle.filter((c) => !c.socket.closed).length, 10);
      assert.equal((await fetch(`${t.server.url}/health`)).status, 200);
      await serving(t);
      for (const c of idle) c.destroy();
    } finally {
      await t.dispose();
    }
  });

  test("a connection that sends nothing, or its headers a byte at a time, gets 408 at the headers timeout", { timeout: 8000 }, async () => {
    // Node looks for late requests every 30 s unless told otherwise: then this test times out.
    const t = await new TestServer({ headersTimeoutMs: 400 }).start();
    try {
      const silent = await RawClient.open(t.server.port);
      const slow = await RawClient.open(t.server.port);
      slow.write("GET /health HTTP/1.1\r\n");
      const drip = setInterval(() => slow.write("X"), 50);
      await Promise.all([silent.closed, slow.closed]);
      clearInterval(drip);
      assert.equal(silent.status, 408);
      assert.equal(slow.status, 408);
    } finally {
      await t.dispose();
    }
  });

  test("a WebSocket that sends no valid hello in time: err no-hello and close 1008 (pings and a bad hello do not count)", async () => {
    const t = await new TestServer({ helloTimeoutMs: 1500 }).start();
    try {
      const [silentId, chattyId] = [deviceId("mute"), deviceId("mute")];
      const token = registerDevice(t.db, silentId);
      const silent = await t.connect(silentId, token);
      const chatty = await t.connect(chattyId, registerDevice(t.db, chattyId));
      chatty.send({ t: "ping" });
      assert.deepEqual(await chatty.next(), { t: "pong" });
      chatty.send(hello(chattyId, { fw: "" }));
      assert.equal((await chatty.next()).code, "bad-field");

      for (const device of [silent, chatty]) {
        const err = await device.next(5000);
        assert.deepEqual([err.t, err.code], ["err", "no-hello"]);
        assert.equal((await device.closed).code, 1008);
      }
      const prompt = await t.connect(silentId, token);
      await prompt.hello(silentId);
      await prompt.acked(batch({ s: 1 }));
      assert.equal(t.readingCount(silentId), 5);
      await prompt.close();
    } finally {
      await t.dispose();
    }
  });
});

test("repeated log lines: at most N per event and level a window, then one line saying how many were left out", () => {
  const written: LogLine[] = [];
  let clock = 0;
  const limit = new LogLimit((line) => written.push(line), { lines: 3, windowMs: 1000, now: () => clock });
  for (let n = 0; n < 10; n++) limit.log({ level: "warn", event: "rejected", n });
  limit.log({ level: "info", event: "hello" });
  limit.log({ level: "debug", event: "batch-stored" });
  limit.log({ level: "debug", event: "batch-stored" });
  limit.log({ level: "debug", event: "batch-stored" });
  limit.log({ level: "debug", event: "batch-stored" });
  assert.deepEqual(written.map((l) => l.n ?? l.event), [0, 1, 2, "hello", ...new Array(4).fill("batch-stored")], "debug lines are not limited");
  clock = 1000; // the next window: its first line says what the last one left out
  limit.log({ level: "warn", event: "rejected", n: 10 });
  assert.deepEqual(written.slice(-2), [
    { level: "warn", event: "log-suppressed", of: "rejected", ofLevel: "warn", suppressed: 7, msg: "7 more 'rejected' line(s) not logged" },
    { level: "warn", event: "rejected", n: 10 },
  ]);
  limit.flush();
  assert.equal(written.length, 10, "nothing to say for a window with nothing left out");
});

test("API answers carry nosniff: JSON, CSV and errors", async () => {
  const t = await new TestServer().start();
  try {
    const id = deviceId("api");
    registerDevice(t.db, id);
    for (const path of ["/api/devices", `/api/devices/${id}`, `/api/devices/${id}/readings?format=csv`, "/api/devices/nobody", "/health"]) {
      const response = await t.api(path);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
    }
    assert.equal((await fetch(`${t.server.url}/api/devices`)).headers.get("x-content-type-options"), "nosniff", "401 too");
  } finally {
    await t.dispose();
  }
});

test("device ids . and .. are refused (a URL path normalises them away: such a device could never connect)", () => {
  const dir = mkdtempSync(join(tmpdir(), "thermocast-edge-"));
  const db = new TelemetryDb(join(dir, "t.db"), { checkpoints: "here" });
  try {
    for (const id of [".", ".."]) assert.throws(() => registerDevice(db, id), /not \. or \.\./);
    for (const id of ["...", "a.b", ".a"]) registerDevice(db, id);
    assert.deepEqual(db.devices().map((d) => d.id), ["...", ".a", "a.b"]);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
