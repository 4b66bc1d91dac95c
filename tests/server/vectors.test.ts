/* The shared protocol vectors (tests/vectors/protocol.json) against the running server. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { registerDevice } from "../../server/cli";
import { vectors } from "../vectors/vectors";
import { NOW, TestServer, deviceId } from "./harness";

describe("protocol vectors", () => {
  let t: TestServer;
  before(async () => {
    t = await new TestServer().start();
  });
  after(async () => {
    await t.dispose();
  });

  for (const vector of vectors.valid) {
    test(`valid: ${vector.name}`, async () => {
      const id = deviceId("vector");
      const device = await t.connect(id, registerDevice(t.db, id));
      await device.hello(id);
      device.send(vector.frame);
      assert.deepEqual(await device.next(), { t: "ack", s: JSON.parse(vector.frame).s });
      const stored = t.db.readings(id, 0, Number.MAX_SAFE_INTEGER)
        .map((r) => ({ o: r.boot, c: r.channel, k: r.idx, centi: r.centi, fault: r.fault, t: r.t }));
      // The server's clock stands still, so every reading's receive time is NOW.
      const expected = vector.readings.map(({ ageMs, ...r }) => ({ ...r, t: NOW - ageMs }));
      const order = (a: { o: number; c: number; k: number }, b: { o: number; c: number; k: number }) => a.o - b.o || a.c - b.c || a.k - b.k;
      assert.deepEqual(stored.sort(order), expected.sort(order));
      await device.close();
    });
  }

  for (const vector of vectors.invalid) {
    test(`invalid: ${vector.name}`, async () => {
      const id = deviceId("vector");
      const device = await t.connect(id, registerDevice(t.db, id));
      await device.hello(id);
      device.send(vector.frame);
      const err = await device.next();
      assert.equal(err.t, "err");
      assert.equal(err.code, vector.error, String(err.msg));
      assert.equal(t.readingCount(id), 0);
      await device.close();
    });
  }
});
