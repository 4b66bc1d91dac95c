/*
 * Baseline: SQLite alone storing the benchmark's rows — the same schema and statements (TelemetryDb),
 * WAL, synchronous=FULL, in groups as large as the server's biggest commit group — with no network, no
 * parsing and no decoding. Its rows per second are the ceiling the server is measured against.
 *
 * Order: "round-robin" (device 0, 1, 2, …: consecutive devices' rows are neighbours in both B-trees, so a
 * group dirties few pages) or "random" (a device at random for each batch, as batches arrive at a server
 * under overload: every batch dirties pages of its own; ~30% slower on the bench machine).
 * Run by load.ts in a process of its own; prints one JSON line.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DEFAULT_MAX_GROUP_ROWS } from "../../server/commit";
import { TelemetryDb, type BatchRows } from "../../server/db";
import { INTERVAL_S, READINGS_PER_BATCH, deviceId, deviceToken, variants } from "./workload";

const devices = Number(process.argv[2] ?? 10000);
const durationMs = Number(process.argv[3] ?? 8000);
const groupRows = Number(process.argv[4] ?? DEFAULT_MAX_GROUP_ROWS);
const order = process.argv[5] ?? "round-robin";

const work = mkdtempSync(join(tmpdir(), "thermocast-bench-sqlite-"));
const db = new TelemetryDb(join(work, "bench.db"));
try {
  db.inTransaction(() => {
    for (let i = 0; i < devices; i++) db.registerDevice(deviceId(i), deviceToken(i), Date.now());
  });
  const kinds = variants();
  const nextIndex = new Array<number>(devices).fill(0);
  const batchesPerGroup = Math.max(1, Math.floor(groupRows / READINGS_PER_BATCH));
  let device = 0;
  let seed = 1;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  let rows = 0;
  let groups = 0;
  let maxCommitMs = 0;
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    const now = Date.now();
    const began = performance.now();
    db.inTransaction(() => {
      for (let b = 0; b < batchesPerGroup; b++) {
        const kind = kinds[(device + nextIndex[device]) % kinds.length];
        const batch: BatchRows = {
          boot: 1, channel: 0, idx: nextIndex[device], oldest: now - (READINGS_PER_BATCH - 1) * INTERVAL_S * 1000,
          stepMs: INTERVAL_S * 1000, values: kind.values, faults: kind.faults,
        };
        rows += db.storeReadings(deviceId(device), batch, now);
        nextIndex[device] += READINGS_PER_BATCH;
        device = order === "random" ? Math.floor(random() * devices) : (device + 1) % devices;
      }
    });
    maxCommitMs = Math.max(maxCommitMs, performance.now() - began);
    groups++;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ rowsPerSecond: rows / seconds, rows, groups, groupRows: batchesPerGroup * READINGS_PER_BATCH, maxCommitMs }));
} finally {
  db.close();
  rmSync(work, { recursive: true, force: true });
}
