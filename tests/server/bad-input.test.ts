/*
 * Every bad input gets its error frame or close code, stores nothing, is logged once, and leaves another
 * connected device streaming.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { registerDevice, revokeDevice } from "../../server/cli";
import type { ErrorCode } from "../../server/protocol";
import { DeviceClient, NOW, TestServer, batch, deviceId, hello, type Frame } from "./harness";

interface BadInput {
  name: string;
  /** Frames sent after hello (or instead of it, with `hello: false`). */
  frames: (string | Buffer | Frame)[];
  /** The err frame's code, the close code, or both (err first). */
  expect: { err?: ErrorCode; close?: number };
  hello?: boolean;
  /** Frames sent and acked before the bad one. */
  acked?: Frame[];
  token?: "wrong" | "none" | "revoked";
  unknownDevice?: boolean;
  /** The server clock for this case. */
  clock?: number;
}

const raw = (text: string) => text;

const cases: BadInput[] = [
  { name: "not JSON", frames: [raw('{"t":"b",')], expect: { err: "bad-json" } },
  { name: "JSON but not an object (array)", frames: [raw("[1,2,3]")], expect: { err: "bad-json" } },
  { name: "JSON but not an object (number)", frames: [raw("42")], expect: { err: "bad-json" } },
  { name: "JSON but not an object (null)", frames: [raw("null")], expect: { err: "bad-json" } },
  { name: "unknown frame type", frames: [{ t: "bogus" }], expect: { err: "bad-type" } },
  { name: "no frame type", frames: [{ s: 1 }], expect: { err: "bad-type" } },
  { name: "wrong type: s as a string", frames: [batch({ s: "3" })], expect: { err: "bad-field" } },
  { name: "wrong type: v as a number", frames: [batch({ v: 12 })], expect: { err: "bad-field" } },
  { name: "wrong type: c as a boolean", frames: [batch({ c: true })], expect: { err: "bad-field" } },
  { name: "missing field: n", frames: [batch({ n: undefined })], expect: { err: "bad-field" } },
  { name: "missing field: both a and T", frames: [batch({ a: undefined })], expect: { err: "bad-field" } },
  { name: "both a and T", frames: [batch({ T: NOW })], expect: { err: "bad-field" } },
  { name: "missing field: hello fw", hello: false, frames: [hello("x", { fw: undefined })], expect: { err: "bad-field" } },
  { name: "negative seq", frames: [batch({ s: -1 })], expect: { err: "bad-field" } },
  { name: "zero seq", frames: [batch({ s: 0 })], expect: { err: "bad-field" } },
  { name: "huge seq (> 2147483647)", frames: [batch({ s: 2147483648 })], expect: { err: "bad-field" } },
  { name: "non-integer seq", frames: [batch({ s: 1.5 })], expect: { err: "bad-field" } },
  { name: "a replayed seq", acked: [batch({ s: 5 })], frames: [batch({ s: 5, k: 900 })], expect: { err: "bad-seq" } },
  { name: "a lower seq", acked: [batch({ s: 5 })], frames: [batch({ s: 4, k: 900 })], expect: { err: "bad-seq" } },
  { name: "channel out of range", frames: [batch({ c: 16 })], expect: { err: "bad-field" } },
  { name: "interval out of range", frames: [batch({ i: 0 })], expect: { err: "bad-field" } },
  { name: "n out of range", frames: [batch({ n: 1025 })], expect: { err: "bad-field" } },
  { name: "base out of range", frames: [batch({ b: 32768 })], expect: { err: "bad-field" } },
  { name: "an oversized frame (> 16 KiB)", frames: [batch({ pad: "x".repeat(16384) })], expect: { close: 1009 } },
  { name: "a binary frame", frames: [Buffer.from(JSON.stringify(batch()))], expect: { close: 1003 } },
  { name: "an unknown device", unknownDevice: true, hello: false, frames: [], expect: { err: "unknown-device", close: 4004 } },
  { name: "a bad token", token: "wrong", hello: false, frames: [], expect: { err: "unauthorized", close: 4001 } },
  { name: "no token", token: "none", hello: false, frames: [], expect: { err: "unauthorized", close: 4001 } },
  { name: "a revoked token", token: "revoked", hello: false, frames: [], expect: { err: "revoked", close: 4003 } },
  { name: "a batch before hello", hello: false, frames: [batch()], expect: { err: "no-hello" } },
  { name: '"NaN" in a numeric field', frames: [batch({ i: "NaN" })], expect: { err: "bad-field" } },
  { name: "1e999 in a numeric field", frames: [raw(JSON.stringify(batch()).replace('"a":1500', '"a":1e999'))], expect: { err: "bad-field" } },
  { name: "-1e999 in the base", frames: [raw(JSON.stringify(batch()).replace('"b":2156', '"b":-1e999'))], expect: { err: "bad-field" } },
  { name: "v with bad characters", frames: [batch({ v: "AA*AA" })], expect: { err: "bad-values" } },
  { name: "v with an unknown fault code", frames: [batch({ v: "AA~yA" })], expect: { err: "bad-values" } },
  { name: "v with a value out of range", frames: [batch({ n: 1, b: 32767, v: "C" })], expect: { err: "bad-values" } },
  { name: "v count less than n", frames: [batch({ n: 6 })], expect: { err: "bad-values" } },
  { name: "v count more than n", frames: [batch({ n: 4 })], expect: { err: "bad-values" } },
  { name: "age dating readings before 2020", clock: Date.UTC(2020, 5, 1), frames: [batch({ a: 31536000000 })], expect: { err: "bad-time" } },
  { name: "T before 2020", frames: [batch({ a: undefined, T: Date.UTC(2019, 11, 31, 23, 59) })], expect: { err: "bad-time" } },
  { name: "T in the future", frames: [batch({ a: undefined, T: NOW + 61_000 })], expect: { err: "bad-time" } },
  { name: "age beyond a year", frames: [batch({ a: 31536000001 })], expect: { err: "bad-field" } },
  { name: "hello id ≠ path id", hello: false, frames: [hello("someone-else")], expect: { err: "bad-field", close: 1008 } },
  { name: "hello of an unsupported version", hello: false, frames: [{ t: "hello", v: 2, id: "x", features: ["future"] }], expect: { err: "bad-field", close: 1008 } },
  { name: "cfgack for no pending push", frames: [{ t: "cfgack", id: 99999, ok: true }], expect: { err: "bad-field" } },
  { name: "cfgack whose applied is not a list of names", frames: [{ t: "cfgack", id: 1, ok: true, applied: [1] }], expect: { err: "bad-field" } },
  { name: "cfgack whose refusal is not text", frames: [{ t: "cfgack", id: 1, ok: false, refused: { mode: 1 } }], expect: { err: "bad-field" } },
];

describe("bad input", () => {
  let t: TestServer;
  let bystander: DeviceClient;
  let bystanderSeq = 0;

  before(async () => {
    t = await new TestServer().start();
    const id = deviceId("bystander");
    bystander = await t.connect(id, registerDevice(t.db, id));
    await bystander.hello(id);
  });
  after(async () => {
    await t.dispose();
  });

  for (const c of cases) {
    test(c.name, async () => {
      const id = deviceId("victim");
      const token = registerDevice(t.db, id);
      if (c.token === "revoked") revokeDevice(t.db, id);
      const path = c.unknownDevice ? `ghost-${id}` : id;
      t.clock = c.clock ?? NOW;
      try {
        const device = await t.connect(path, c.token === "none" ? null : c.token === "wrong" ? "not-the-token-000" : token);
        if (c.hello ?? true) await device.hello(id);
        for (const frame of c.acked ?? []) await device.acked(frame);
        // Frames that name the device get the path id, so only the field under test is wrong.
        for (const frame of c.frames) device.send(typeof frame === "object" && !Buffer.isBuffer(frame) && frame.id === "x" ? { ...frame, id } : frame);

        if (c.expect.err !== undefined) {
          const err = await device.next();
          assert.equal(err.t, "err");
          assert.equal(err.code, c.expect.err, String(err.msg));
          assert.equal(typeof err.msg, "string");
          if (err.s !== undefined) assert.equal(typeof err.s, "number");
        }
        if (c.expect.close !== undefined) assert.equal((await device.closed).code, c.expect.close);
        assert.equal(t.readingCount(path), 5 * (c.acked?.length ?? 0), "nothing stored");
        const rejections = t.rejections(path);
        assert.equal(rejections.length, 1, JSON.stringify(rejections));
        assert.equal(rejections[0].level, "warn");
        device.socket.terminate();
      } finally {
        t.clock = NOW;
      }
      // Another device on the same server is untouched.
      bystanderSeq++;
      await bystander.acked(batch({ s: bystanderSeq, k: bystanderSeq * 5 }));
    });
  }

  test("errors carry the batch's seq when it could be read", async () => {
    const id = deviceId("victim");
    const device = await t.connect(id, registerDevice(t.db, id));
    await device.hello(id);
    device.send(batch({ s: 8, v: "*" }));
    assert.deepEqual(await device.next(), { t: "err", code: "bad-values", msg: "bad character at 0", s: 8 });
    device.send(batch({ s: 9, i: 1.5 }));
    const err = await device.next();
    assert.equal(err.s, 9);
    assert.match(String(err.msg), /^i /);
    await device.close();
  });

  test("a frame with a bad field does not use up its seq", async () => {
    const id = deviceId("victim");
    const device = await t.connect(id, registerDevice(t.db, id));
    await device.hello(id);
    device.send(batch({ s: 4, v: "AAA" }));
    assert.equal((await device.next()).code, "bad-values");
    await device.acked(batch({ s: 4 }));
    assert.equal(t.readingCount(id), 5);
    await device.close();
  });

  test("10 protocol errors on one connection close it with 4009", async () => {
    const id = deviceId("victim");
    const device = await t.connect(id, registerDevice(t.db, id));
    await device.hello(id);
    for (let n = 0; n < 10; n++) device.send("nope");
    for (let n = 0; n < 10; n++) assert.equal((await device.next()).code, "bad-json");
    assert.equal((await device.closed).code, 4009);
    const rejections = t.rejections(id);
    assert.equal(rejections.length, 10);
    assert.equal(rejections[9].close, 4009);
    await bystander.acked(batch({ s: ++bystanderSeq, k: bystanderSeq * 5 }));
  });

  test("a failed commit is answered with storage, and the same seq can be sent again", async () => {
    const id = deviceId("victim");
    const device = await t.connect(id, registerDevice(t.db, id));
    await device.hello(id);
    const trigger = `fail_${id.replace(/\W/g, "_")}`;
    // Not TEMP: the trigger must reach the writer thread's connection too.
    t.db.sqlite.exec(`CREATE TRIGGER ${trigger} BEFORE INSERT ON readings WHEN NEW.device_id = '${id}'
      BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END`);
    device.send(batch({ s: 1 }));
    assert.deepEqual(await device.next(), { t: "err", code: "storage", msg: "could not store the batch, retry later", s: 1 });
    assert.equal(t.readingCount(id), 0);
    assert.equal(t.db.device(id)!.reading_count, 0);
    assert.equal(t.rejections(id).length, 1);
    await bystander.acked(batch({ s: ++bystanderSeq, k: bystanderSeq * 5 }));
    t.db.sqlite.exec(`DROP TRIGGER ${trigger}`);
    await device.acked(batch({ s: 1 }));
    assert.equal(t.readingCount(id), 5);
    await device.close();
  });
});
