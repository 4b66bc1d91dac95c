/*
 * The storage interface (server/store.ts): the same tests on each backend, SQLite (a temp file, its writer
 * thread) and PostgreSQL (a private cluster: tests/support/postgres.ts), then what only PostgreSQL has to
 * guarantee (partitions across midnight, two nodes writing the same batches at once).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Outcome, Write } from "../../server/commit";
import { DAY_MS, NEAR_MS, PostgresStore, PostgresWriter } from "../../server/postgres";
import { SqliteStore } from "../../server/sqlite-store";
import { openStore } from "../../server/open-store";
import type { BatchRows, Store, TokenChange, Writer } from "../../server/store";
import { PostgresCluster } from "../support/postgres";

const T0 = Date.UTC(2025, 10, 24, 12, 0, 0);
const FAR = Number.MAX_SAFE_INTEGER;

let cluster: PostgresCluster | undefined;
const dirs: string[] = [];
before(async () => {
  cluster = await PostgresCluster.start();
});
after(async () => {
  await cluster?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Backend {
  name: "sqlite" | "postgres";
  /** A new empty database: its location. */
  create(): Promise<string>;
}

const BACKENDS: Backend[] = [
  {
    name: "sqlite",
    async create() {
      const dir = mkdtempSync(join(tmpdir(), "thermocast-store-"));
      dirs.push(dir);
      return join(dir, "store.db");
    },
  },
  { name: "postgres", create: () => cluster!.createDatabase("store") },
];

function rows(idx: number, n: number, oldest = T0, channel = 0): BatchRows {
  const values = Array.from({ length: n }, (_, j) => (j % 7 === 3 ? null : 2000 + idx + j));
  return { boot: 1, channel, idx, oldest, stepMs: 1000, values, faults: values.map((v) => (v === null ? "crc" : null)) };
}

function commit(writer: Writer, writes: Write[]): Promise<Outcome[]> {
  const count = writes.reduce((n, w) => n + (w.kind === "readings" ? w.rows.values.length : 0), 0);
  return new Promise((resolve) => writer.commit(writes, count, (outcomes) => resolve(outcomes)));
}

async function withStore(backend: Backend, body: (store: Store, where: string) => Promise<void>): Promise<void> {
  const where = await backend.create();
  const store = await openStore(where, { checkpoints: "here" });
  try {
    await body(store, where);
  } finally {
    await store.close();
  }
}

async function withWriter(store: Store, body: (writer: Writer) => Promise<void>): Promise<void> {
  const writer = await store.openWriter({ threaded: true, maxGroupRows: 8192, onError: (e) => assert.fail(e) });
  try {
    await body(writer);
  } finally {
    await writer.close();
  }
}

/** Resolves with the first event `accept` takes, or fails after `ms` (a hang guard). */
function eventually<T>(ms: number, what: string, register: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

for (const backend of BACKENDS) {
  describe(`store: ${backend.name}`, () => {
    test("devices: the same token again is a no-op, another needs replace; tokens hashed; each change raises the token version", async () => {
      await withStore(backend, async (store) => {
        assert.equal(await store.registerDevice("a", "token-of-a-123", T0), "token-of-a-123");
        assert.equal(await store.registerDevice("a", "token-of-a-123", T0), "token-of-a-123");
        await assert.rejects(store.registerDevice("a", "token-of-a-456", T0), /already registered/);
        assert.match(await store.registerDevice("b"), /^[A-Za-z0-9_-]{43}$/);
        assert.equal((await store.device("a"))!.token_hash.length, 64);
        assert.equal((await store.device("a"))!.token_hash.includes("token"), false);
        const first = await store.checkToken("a", "token-of-a-123");
        assert.equal(first.check, "ok");
        assert.equal((await store.checkToken("a", "wrong-token-1")).check, "bad-token");
        assert.equal((await store.checkToken("a", undefined)).check, "bad-token");
        assert.equal((await store.checkToken("nobody", "token-of-a-123")).check, "unknown-device");
        await store.registerDevice("a", "token-of-a-456", T0, true);
        const rekeyed = await store.checkToken("a", "token-of-a-456");
        assert.equal(rekeyed.check, "ok");
        assert.ok(rekeyed.version > first.version, "a re-key raises the version");
        assert.equal(await store.revokeDevice("a"), true);
        assert.equal(await store.revokeDevice("nobody"), false);
        const revoked = await store.checkToken("a", "token-of-a-456");
        assert.equal(revoked.check, "revoked");
        assert.ok(revoked.version > rekeyed.version);
        assert.deepEqual((await store.devices()).map((d) => d.id), ["a", "b"]);
        assert.equal(await store.deviceCount(), 2);
      });
    });

    test("a group commits once; a resent batch stores nothing twice; counts and last_seen follow", async () => {
      await withStore(backend, async (store) => {
        for (const id of ["a", "b"]) await store.registerDevice(id, `token-of-${id}-123`, T0);
        await withWriter(store, async (writer) => {
          const outcomes = await commit(writer, [
            { kind: "readings", deviceId: "a", rows: rows(0, 10), at: T0 + 10_000 },
            { kind: "readings", deviceId: "b", rows: rows(0, 5), at: T0 + 11_000 },
            { kind: "readings", deviceId: "a", rows: rows(10, 10, T0 + 10_000), at: T0 + 20_000 },
          ]);
          assert.deepEqual(outcomes, [10, 5, 10]);
          // The first batch again (a device that had no ack), dated a little differently on arrival, and a new one.
          const again = await commit(writer, [
            { kind: "readings", deviceId: "a", rows: rows(0, 10, T0 + 37), at: T0 + 30_000 },
            { kind: "readings", deviceId: "b", rows: rows(5, 5, T0 + 5_000), at: T0 + 31_000 },
          ]);
          assert.deepEqual(again, [0, 5]);
        });
        const a = await store.readings("a", 0, FAR);
        assert.deepEqual(a.map((r) => r.idx), Array.from({ length: 20 }, (_, i) => i));
        assert.equal(a[0].t, T0, "the first copy is kept");
        assert.equal(a[3].centi, null);
        assert.equal(a[3].fault, "crc");
        assert.equal(a[4].centi, 2004);
        assert.equal((await store.device("a"))!.reading_count, 20);
        assert.equal((await store.device("b"))!.reading_count, 10);
        assert.equal((await store.device("a"))!.last_seen, T0 + 30_000);
      });
    });

    test("hellos through the writer fill the device row; the last one wins", async () => {
      await withStore(backend, async (store) => {
        await store.registerDevice("h", "token-of-h-123", T0);
        await withWriter(store, async (writer) => {
          const hello = { t: "hello" as const, v: 1, id: "h", fw: "1.2.3", boot: 7, rr: "power-on", mode: "battery" as const,
            wake: { awake: 310, connect: 120, retries: 1, n: 42 }, store: { n: 3, cap: 512, drop: 0, corrupt: 1, lost: 9 },
            mem: { slots: 1000, chunks: 2000 }, err: "probe-timeout" };
          assert.deepEqual(await commit(writer, [{ kind: "hello", hello, at: T0 + 1 }]), [0]);
          await commit(writer, [{ kind: "hello", hello: { ...hello, boot: 8, err: undefined }, at: T0 + 2 }]);
        });
        const row = (await store.device("h"))!;
        assert.equal(row.firmware, "1.2.3");
        assert.equal(row.boot, 8);
        assert.equal(row.mode, "battery");
        assert.equal(row.wake_awake, 310);
        assert.equal(row.wake_n, 42);
        assert.equal(row.store_lost, 9);
        assert.equal(row.mem_chunks, 2000);
        assert.equal(row.last_err, "probe-timeout", "a hello without err keeps the last one");
        assert.equal(row.last_seen, T0 + 2);
      });
    });

    test("readings: a range, the newest N, and pages in (t, channel, boot, idx) order", async () => {
      await withStore(backend, async (store) => {
        await store.registerDevice("r", "token-of-r-123", T0);
        await withWriter(store, async (writer) => {
          await commit(writer, [
            { kind: "readings", deviceId: "r", rows: rows(0, 30, T0, 0), at: T0 },
            { kind: "readings", deviceId: "r", rows: rows(0, 30, T0, 1), at: T0 },
          ]);
        });
        const all = await store.readings("r", 0, FAR);
        assert.equal(all.length, 60);
        const ordered = [...all].sort((x, y) => x.t - y.t || x.channel - y.channel || x.boot - y.boot || x.idx - y.idx);
        assert.deepEqual(all, ordered);
        assert.deepEqual((await store.readings("r", T0 + 10_000, T0 + 12_000)).map((r) => [r.idx, r.channel]), [[10, 0], [10, 1], [11, 0], [11, 1]]);
        assert.deepEqual((await store.readings("r", 0, FAR, 3)).map((r) => [r.idx, r.channel]), [[28, 1], [29, 0], [29, 1]]);
        const paged = [];
        let after;
        for (;;) {
          const page = await store.readingsPage("r", 0, FAR, after, 7);
          paged.push(...page);
          if (page.length < 7) break;
          after = page[page.length - 1];
        }
        assert.deepEqual(paged, all);
      });
    });

    test("readings over several days: the newest N and pages cross midnight in order, a page's day read ahead or not", async () => {
      await withStore(backend, async (store) => {
        await store.registerDevice("w", "token-of-w-123", T0);
        const midnight = Math.ceil(T0 / DAY_MS) * DAY_MS;
        await withWriter(store, async (writer) => {
          // 40 readings a second apart on each side of two midnights, two channels, and a day with none between.
          for (const start of [midnight - 20_000, midnight + DAY_MS - 20_000, midnight + 3 * DAY_MS])
            for (const channel of [0, 1]) await commit(writer, [{ kind: "readings", deviceId: "w", rows: rows(Math.round(start / 1000), 40, start, channel), at: start }]);
        });
        const all = await store.readings("w", 0, FAR);
        assert.equal(all.length, 240);
        assert.deepEqual(all, [...all].sort((x, y) => x.t - y.t || x.channel - y.channel || x.boot - y.boot || x.idx - y.idx));
        for (const last of [1, 50, 100, 239, 240, 1000]) assert.deepEqual(await store.readings("w", 0, FAR, last), all.slice(-last), `last ${last}`);
        const from = midnight - 10_000;
        const to = midnight + 3 * DAY_MS + 5_000;
        const inRange = all.filter((r) => r.t >= from && r.t < to);
        assert.deepEqual(await store.readings("w", from, to), inRange);
        assert.deepEqual(await store.readings("w", from, to, 30), inRange.slice(-30));
        for (const size of [7, 60, 500]) {
          const paged = [];
          let after;
          for (;;) {
            const page = await store.readingsPage("w", from, to, after, size);
            paged.push(...page);
            if (page.length < size) break;
            after = page[page.length - 1];
          }
          assert.deepEqual(paged, inRange, `pages of ${size}`);
        }
        // A page asked from a cursor the store did not hand out (another node's, or after the read-ahead expired).
        assert.deepEqual(await store.readingsPage("w", from, to, inRange[99], 10), inRange.slice(100, 110));
        assert.deepEqual(await store.readings("nobody", 0, FAR), []);
      });
    });

    test("config pushes: pending until answered, answered once, the last answer kept", async () => {
      await withStore(backend, async (store) => {
        await store.registerDevice("c", "token-of-c-123", T0);
        const one = await store.addConfigPush("c", { "sample.interval": 30 }, T0);
        const two = await store.addConfigPush("c", { "batch.size": 20 }, T0 + 1);
        assert.ok(two.id > one.id);
        assert.deepEqual((await store.pendingConfigPushes("c")).map((p) => p.id), [one.id, two.id]);
        await store.markConfigSent(one.id, T0 + 5);
        assert.equal((await store.pendingConfigPushes("c"))[0].sent, T0 + 5);
        assert.equal(await store.lastConfigAnswer("c"), undefined);
        assert.equal(await store.recordConfigAnswer("c", one.id, true, undefined, T0 + 6), true);
        assert.equal(await store.recordConfigAnswer("c", one.id, true, undefined, T0 + 7), false, "answered once");
        assert.equal(await store.recordConfigAnswer("other", two.id, true, undefined, T0 + 7), false, "another device's push");
        assert.equal(await store.recordConfigAnswer("c", two.id, false, "out of range", T0 + 8), true);
        assert.deepEqual(await store.pendingConfigPushes("c"), []);
        const last = (await store.lastConfigAnswer("c"))!;
        assert.equal(last.id, two.id);
        assert.equal(last.ok, 0);
        assert.equal(last.err, "out of range");
        assert.deepEqual(JSON.parse(last.set_json), { "batch.size": 20 });
      });
    });

    test("retention deletes the readings dated before the cutoff and counts them off their devices", async () => {
      await withStore(backend, async (store) => {
        await store.registerDevice("old", "token-of-old-123", T0);
        await withWriter(store, async (writer) => {
          // Readings an hour apart over three days.
          await commit(writer, [{ kind: "readings", deviceId: "old", rows: { ...rows(0, 72, T0 - 3 * DAY_MS), stepMs: 3_600_000 }, at: T0 }]);
        });
        const cutoff = T0 - DAY_MS;
        const before = (await store.readings("old", 0, FAR)).filter((r) => r.t < cutoff).length;
        assert.ok(before > 24);
        assert.equal(await store.deleteReadingsBefore(cutoff), before);
        const left = await store.readings("old", 0, FAR);
        assert.equal(left.length, 72 - before);
        assert.ok(left.every((r) => r.t >= cutoff));
        assert.equal((await store.device("old"))!.reading_count, 72 - before);
        if (store instanceof PostgresStore)
          assert.ok((await store.partitionDays()).every((day) => day >= Math.floor(cutoff / DAY_MS)), "whole days went as partitions");
      });
    });

    test("a revoke made through another connection (the CLI, another node) reaches a joined node as a newer token change", async () => {
      await withStore(backend, async (store, where) => {
        await store.registerDevice("v", "token-of-v-123", T0);
        const checked = await store.checkToken("v", "token-of-v-123");
        const changes: TokenChange[] = [];
        let heard: ((change: TokenChange) => void) | undefined;
        const node = await store.joinCluster("node-a", {
          tokenChanged: (change) => {
            changes.push(change);
            heard?.(change);
          },
          claimed: () => {}, configPushed: () => {}, stored: () => {}, changed: () => {},
        }, { tokenPollMs: 20 });
        const other = await openStore(where, { checkpoints: "here" });
        try {
          const change = eventually<TokenChange>(5000, "token change", (resolve) => (heard = resolve));
          assert.equal(await other.revokeDevice("v"), true);
          const got = await change;
          assert.equal(got.device_id, "v");
          assert.equal(got.kind, "revoked");
          assert.ok(got.version > checked.version, "newer than what the connection's check saw");
        } finally {
          await node.close();
          await other.close();
        }
        assert.equal(changes.length, 1);
      });
    });
  });
}

describe("store: postgres only", () => {
  test("a database whose readings are keyed by the text device id (before devices.key) is refused, not half used", async () => {
    const url = await cluster!.createDatabase("old");
    const store = await openStore(url);
    assert.ok(store instanceof PostgresStore);
    await store.pool.query("DROP TABLE readings; ALTER TABLE devices DROP COLUMN key");
    await store.pool.query(`CREATE TABLE readings (device_id text NOT NULL, boot bigint NOT NULL, channel integer NOT NULL, idx bigint NOT NULL,
      t bigint NOT NULL, day integer NOT NULL, centi integer, fault text, PRIMARY KEY (device_id, boot, channel, idx, day)) PARTITION BY RANGE (day)`);
    await store.close();
    await assert.rejects(openStore(url), /Upgrading/);
  });

  test("a reading resent across midnight, dated into the next day's partition, is not stored twice", async () => {
    const store = await openStore(await cluster!.createDatabase("midnight"));
    try {
      assert.ok(store instanceof PostgresStore);
      await store.registerDevice("m", "token-of-m-123", T0);
      const midnight = Math.ceil(T0 / DAY_MS) * DAY_MS;
      await withWriter(store, async (writer) => {
        // Ten readings ending 2 s before midnight; resent, they are dated 5 s later: the last three cross it.
        assert.deepEqual(await commit(writer, [{ kind: "readings", deviceId: "m", rows: rows(100, 10, midnight - 11_000), at: midnight }]), [10]);
        assert.deepEqual(await commit(writer, [{ kind: "readings", deviceId: "m", rows: rows(100, 10, midnight - 6_000), at: midnight + 5_000 }]), [0]);
        // Far from midnight, the same key in another day is a different reading (the check is only near it).
        assert.ok(NEAR_MS < DAY_MS / 2);
      });
      const stored = await store.readings("m", 0, FAR);
      assert.deepEqual(stored.map((r) => r.idx), Array.from({ length: 10 }, (_, j) => 100 + j));
      assert.equal((await store.device("m"))!.reading_count, 10);
    } finally {
      await store.close();
    }
  });

  test("a resend meeting the direct COPY: the failed transaction is rolled back, the group stored the careful way, once", async () => {
    const store = await openStore(await cluster!.createDatabase("resend"));
    try {
      assert.ok(store instanceof PostgresStore);
      for (const id of ["a", "b"]) await store.registerDevice(id, `token-of-${id}-123`, T0);
      // Each writer on one connection: the retry and the next group reuse the connection the failed COPY was on.
      const open = () => new PostgresWriter(store, { threaded: true, maxGroupRows: 8192, onError: (e) => assert.fail(e), concurrency: 1 });
      const through = async (body: (writer: Writer) => Promise<void>) => {
        const writer = open();
        try {
          await body(writer);
        } finally {
          await writer.close();
        }
      };
      await through(async (writer) => assert.deepEqual(await commit(writer, [{ kind: "readings", deviceId: "a", rows: rows(0, 20), at: T0 }]), [20]));
      // New writers (no resend met yet: the direct path): the same batch alone, dated again on arrival...
      await through(async (writer) => {
        assert.deepEqual(await commit(writer, [{ kind: "readings", deviceId: "a", rows: rows(0, 20, T0 + 40), at: T0 + 60_000 }]), [0]);
      });
      // ...and half of it again beside new readings; the next group on the same connection commits.
      await through(async (writer) => {
        assert.deepEqual(await commit(writer, [
          { kind: "readings", deviceId: "b", rows: rows(0, 10), at: T0 + 61_000 },
          { kind: "readings", deviceId: "a", rows: rows(10, 20, T0 + 10_000), at: T0 + 61_000 },
        ]), [10, 10]);
        assert.deepEqual(await commit(writer, [{ kind: "readings", deviceId: "b", rows: rows(10, 5, T0 + 10_000), at: T0 + 62_000 }]), [5]);
      });
      const { rows: counted } = await store.pool.query<{ device_id: string; n: number; keys: number }>(
        `SELECT d.id AS device_id, count(*) AS n, count(DISTINCT (r.boot, r.channel, r.idx)) AS keys FROM readings r JOIN devices d ON d.key = r.device_key
        GROUP BY d.id ORDER BY d.id`);
      assert.deepEqual(counted, [{ device_id: "a", n: 30, keys: 30 }, { device_id: "b", n: 15, keys: 15 }]);
      assert.equal((await store.readings("a", 0, FAR))[0].t, T0, "the first copy is kept");
      assert.equal((await store.device("a"))!.reading_count, 30);
      assert.equal((await store.device("b"))!.reading_count, 15);
      assert.equal((await store.device("a"))!.last_seen, T0 + 61_000);
      const { rows: stuck } = await store.pool.query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'");
      assert.equal(stuck.length, 0, "no transaction left open");
    } finally {
      await store.close();
    }
  });

  test("two nodes storing the same batches at the same moment, near midnight too, store each reading once", async () => {
    const url = await cluster!.createDatabase("race");
    const a = await openStore(url);
    const b = await openStore(url);
    try {
      const devices = Array.from({ length: 20 }, (_, i) => `d${i}`);
      for (const id of devices) await a.registerDevice(id, `token-of-${id}-123`, T0);
      const midnight = Math.ceil(T0 / DAY_MS) * DAY_MS;
      await withWriter(a, (wa) => withWriter(b, async (wb) => {
        for (let round = 0; round < 5; round++) {
          const batch = (shift: number): Write[] => devices.map((id, i) => ({
            kind: "readings", deviceId: id, rows: rows(round * 30, 30, midnight - 20_000 + round * 30_000 + shift + i), at: midnight,
          }));
          // The same readings through both nodes, dated 3 ms apart (each dates them on arrival): some fall on either side of midnight.
          const [x, y] = await Promise.all([commit(wa, batch(0)), commit(wb, batch(-3))]);
          for (let i = 0; i < devices.length; i++) assert.equal((x[i] as number) + (y[i] as number), 30, `${devices[i]} round ${round}: stored once in all`);
        }
      }));
      for (const id of devices) {
        const stored = await a.readings(id, 0, FAR);
        assert.deepEqual(stored.map((r) => r.idx).sort((p, q) => p - q), Array.from({ length: 150 }, (_, j) => j), id);
        assert.equal((await a.device(id))!.reading_count, 150);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});

test("postgres: a node whose listening connection is cut gets it back, and a revoke made meanwhile still drops its device", async () => {
  const url = await cluster!.createDatabase("listen");
  const store = await openStore(url);
  const other = await openStore(url);
  const logs: string[] = [];
  let heard: ((change: TokenChange) => void) | undefined;
  const node = await store.joinCluster("node-l", {
    tokenChanged: (change) => heard?.(change),
    claimed: () => {}, configPushed: () => {}, stored: () => {}, changed: () => {},
  }, { tokenPollMs: 1000, log: (line) => logs.push(String(line.event)) });
  try {
    await store.registerDevice("l", "token-of-l-123", T0);
    const checked = await store.checkToken("l", "token-of-l-123");
    await node.claim("l");
    const change = eventually<TokenChange>(10_000, "token change after the reconnect", (resolve) => (heard = resolve));
    assert.ok(other instanceof PostgresStore);
    const cut = await other.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN thermocast' AND datname = current_database()");
    assert.equal(cut.rowCount, 1);
    assert.equal(await other.revokeDevice("l"), true); // while the node is not listening
    const got = await change;
    assert.equal(got.device_id, "l");
    assert.equal(got.kind, "revoked");
    assert.ok(got.version > checked.version);
    assert.ok(logs.includes("cluster-listener-lost"));
  } finally {
    await node.close();
    await store.close();
    await other.close();
  }
});

// SqliteStore is what `openStore` gives for a path: the default needs no database server.
test("openStore: a path is SQLite, a postgres:// URL is PostgreSQL", async () => {
  const dir = mkdtempSync(join(tmpdir(), "thermocast-store-"));
  dirs.push(dir);
  const store = await openStore(join(dir, "x.db"), { checkpoints: "here" });
  assert.ok(store instanceof SqliteStore);
  assert.equal(store.kind, "sqlite");
  await store.close();
});
