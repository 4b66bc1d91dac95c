/*
 * A device's readings read back from a filled PostgreSQL table, with and without the `(device_key, t)`
 * index (docs/scale.md, "Reading without a time index"). The table is filled as a paced fleet fills it:
 * every device's 60-reading batches one after another, devices interleaved, at a 10 s interval, for DAYS
 * days; then each way of reading a device is timed on random devices (warm cache: the whole table fits in
 * this machine's memory).
 *
 *   npx tsx bench/server/pg-read.ts            (READ_DEVICES=100 READ_DAYS=7 READ_RUNS=30 READ_STEP_S=10)
 *
 * "old": the queries before the integer key and day bounds (ORDER BY t, through the time index, every
 * partition). "new": PostgresStore's (day bounds; the newest N and pages day by day: the key's device prefix).
 */
import { performance } from "node:perf_hooks";
import { DAY_MS, PostgresStore } from "../../server/postgres";
import type { Reading } from "../../server/protocol";
import { PostgresCluster } from "../../tests/support/postgres";
import { percentile } from "./workload";

const DEVICES = Number(process.env.READ_DEVICES ?? 100);
const DAYS = Number(process.env.READ_DAYS ?? 7);
const RUNS = Number(process.env.READ_RUNS ?? 30);
const STEP_MS = 1000 * Number(process.env.READ_STEP_S ?? 10);
const PER_DAY = DAY_MS / STEP_MS; // 8 640 at 10 s
const BATCH = 60;

const cluster = await PostgresCluster.start({ fast: true, settings: { shared_buffers: "256MB", max_wal_size: "4GB", work_mem: "64MB" } });
try {
  const store = await PostgresStore.open(await cluster.createDatabase("read"));
  const firstDay = Math.floor(Date.now() / DAY_MS) - DAYS + 1;
  const days = Array.from({ length: DAYS }, (_, d) => firstDay + d);
  await store.ensurePartitions(days);
  await store.pool.query("INSERT INTO devices (id, token_hash, created) SELECT 'dev-' || i, 'x', 0 FROM generate_series(0, $1::int - 1) i", [DEVICES]);
  const { rows: keyRows } = await store.pool.query<{ id: string; key: number }>("SELECT id, key FROM devices ORDER BY key");
  const filled = performance.now();
  for (const day of days) {
    // Slot s of the day: each device's batch of 60 readings (10 min), devices one after another.
    await store.pool.query(`INSERT INTO readings_p${day} (device_key, boot, channel, idx, t, day, centi, fault)
      SELECT d.key, 1, 0, ($1::bigint - $2::bigint) * ${PER_DAY} + s * ${BATCH} + j, $1::bigint * ${DAY_MS} + (s * ${BATCH} + j) * ${STEP_MS}, $1, 2000 + j, NULL
      FROM generate_series(0, ${PER_DAY / BATCH - 1}) s, devices d, generate_series(0, ${BATCH - 1}) j ORDER BY s, d.key, j`, [day, firstDay]);
  }
  // The index the schema had before (server/postgres.ts no longer makes it), for the old way's reads.
  await store.pool.query("CREATE INDEX readings_by_time ON readings (device_key, t)");
  await store.pool.query("VACUUM ANALYZE readings");
  const { rows: [size] } = await store.pool.query<{ n: number; bytes: string }>(
    "SELECT (SELECT count(*) FROM readings) AS n, pg_size_pretty(sum(pg_total_relation_size(inhrelid))) AS bytes FROM pg_inherits WHERE inhparent = 'readings'::regclass");
  console.log(`filled: ${size.n} readings (${DEVICES} devices × ${DAYS} days × ${PER_DAY}), ${size.bytes} with both indexes, in ${((performance.now() - filled) / 1000).toFixed(0)} s`);

  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  const lastDayStart = days[DAYS - 1] * DAY_MS;
  const end = lastDayStart + DAY_MS;

  type Read = (device: { id: string; key: number }) => Promise<number>;
  const oldWay = (where: string, order: string, values: (d: { key: number }) => unknown[]): Read => async (d) =>
    (await store.pool.query(`SELECT device_key, boot, channel, idx, t, centi, fault FROM readings WHERE device_key = $1 AND ${where} ${order}`, [d.key, ...values(d)])).rows.length;
  const oldLast = (from: number, to: number, last: number): Read => async (d) => (await store.pool.query(`SELECT * FROM (SELECT device_key, boot, channel, idx, t, centi, fault
    FROM readings WHERE device_key = $1 AND t >= $2 AND t < $3 ORDER BY t DESC, channel DESC, boot DESC, idx DESC LIMIT $4) r ORDER BY t, channel, boot, idx`,
  [d.key, from, to, last])).rows.length;
  /** A whole export in pages of 5 000, as the API sends it. */
  const pages = async (d: { id: string }, page: (after: Reading | undefined) => Promise<Reading[]>) => {
    let n = 0;
    let after: Reading | undefined;
    for (;;) {
      const rows = await page(after);
      n += rows.length;
      if (rows.length < 5000) return n;
      after = rows[rows.length - 1];
    }
  };
  const ways: Record<string, { old: Read; now: Read }> = {
    [`one day (${PER_DAY} readings)`]: {
      old: oldWay("t >= $2 AND t < $3", "ORDER BY t, channel, boot, idx", () => [lastDayStart, end]),
      now: async (d) => (await store.readings(d.id, lastDayStart, end)).length,
    },
    "the dashboard: last 24 h, last=100000 (two days' partitions)": {
      old: oldLast(end - DAY_MS - DAY_MS / 2, end - DAY_MS / 2, 100000),
      now: async (d) => (await store.readings(d.id, end - DAY_MS - DAY_MS / 2, end - DAY_MS / 2, 100000)).length,
    },
    [`the newest 1 000 of all ${DAYS} days`]: {
      old: oldLast(0, Number.MAX_SAFE_INTEGER, 1000),
      now: async (d) => (await store.readings(d.id, 0, Number.MAX_SAFE_INTEGER, 1000)).length,
    },
    [`all ${DAYS} days, last=100000`]: {
      old: oldLast(0, Number.MAX_SAFE_INTEGER, 100000),
      now: async (d) => (await store.readings(d.id, 0, Number.MAX_SAFE_INTEGER, 100000)).length,
    },
    [`an export of all ${DAYS} days in pages of 5 000`]: {
      old: (d) => pages(d, async (after) => (await store.pool.query<Reading>(`SELECT device_key, boot, channel, idx, t, centi, fault FROM readings
        WHERE device_key = $1 AND t >= 0 AND (t, channel, boot, idx) > ($2, $3, $4, $5) ORDER BY t, channel, boot, idx LIMIT 5000`,
      after === undefined ? [(d as { key: number }).key, 0, -1, -1, -1] : [(d as { key: number }).key, after.t, after.channel, after.boot, after.idx])).rows),
      now: (d) => pages(d, (after) => store.readingsPage(d.id, 0, Number.MAX_SAFE_INTEGER, after, 5000)),
    },
  };
  const time = async (read: Read) => {
    const ms: number[] = [];
    let rows = 0;
    for (let i = 0; i < RUNS; i++) {
      const device = keyRows[Math.floor(random() * keyRows.length)];
      const began = performance.now();
      rows = await read(device);
      ms.push(performance.now() - began);
    }
    ms.sort((a, b) => a - b);
    return `${rows} rows, median ${percentile(ms, 50).toFixed(1)} ms, p90 ${percentile(ms, 90).toFixed(1)} ms`;
  };
  const results: Record<string, string[]> = {};
  for (const [name, way] of Object.entries(ways)) results[name] = [`old, time index: ${await time(way.old)}`, `new, time index: ${await time(way.now)}`];
  await store.pool.query("DROP INDEX readings_by_time");
  await store.pool.query("ANALYZE readings");
  const { rows: [bytes] } = await store.pool.query<{ heap: number; key: number }>(`SELECT sum(pg_relation_size(inhrelid))::float8 / $1 AS heap,
    sum(pg_indexes_size(inhrelid))::float8 / $1 AS key FROM pg_inherits WHERE inhparent = 'readings'::regclass`, [size.n]);
  console.log(`without the time index: ${(bytes.heap + bytes.key).toFixed(0)} bytes a reading (heap ${bytes.heap.toFixed(0)}, key ${bytes.key.toFixed(0)})`);
  for (const [name, way] of Object.entries(ways)) results[name].push(`new, no time index: ${await time(way.now)}`);
  for (const [name, lines] of Object.entries(results)) console.log(`${name}\n  ${lines.join("\n  ")}`);
  const sample = keyRows[0];
  // One day of the newest N, as PostgresStore reads it.
  const plan = await store.pool.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT boot, channel, idx, t, centi, fault FROM readings
    WHERE device_key = $1 AND day = $2 AND t >= $3 AND t < $4 ORDER BY t DESC, channel DESC, boot DESC, idx DESC LIMIT 100000`,
  [sample.key, days[DAYS - 1], lastDayStart, end]);
  console.log(plan.rows.map((r) => r["QUERY PLAN"]).join("\n"));
  await store.close();
} finally {
  await cluster.stop();
}
