/*
 * Baseline: PostgreSQL alone storing the benchmark's rows — the same schema and statements as the server
 * (PostgresWriter: COPY into staging, INSERT … ON CONFLICT, counts), groups of the server's largest commit
 * group, devices in random order (as batches reach a server under overload), `writers` transactions at
 * once — with no WebSocket, no parsing and no server. Its rows per second are PostgreSQL's ceiling on
 * this machine. Run by load.ts in a process of its own; prints one JSON line.
 *
 *   pg-only.ts <url> <devices> <durationMs> <groupRows> <writers>
 */
import { performance } from "node:perf_hooks";
import type { Write } from "../../server/commit";
import { openStore } from "../../server/open-store";
import { INTERVAL_S, READINGS_PER_BATCH, deviceId, variants } from "./workload";

const [url, devicesText, durationText, groupText, writersText] = process.argv.slice(2);
const devices = Number(devicesText);
const durationMs = Number(durationText);
const groupRows = Number(groupText);
const writers = Number(writersText);
process.env.THERMOCAST_PG_WRITERS = String(writers);

const store = await openStore(url);
const writer = await store.openWriter({ threaded: true, maxGroupRows: groupRows, onError: (e) => console.error(e) });
const kinds = variants();
const nextIndex = new Array<number>(devices).fill(0);
const batchesPerGroup = Math.max(1, Math.floor(groupRows / READINGS_PER_BATCH));
let seed = 1;
const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
let rows = 0;
let groups = 0;
let maxCommitMs = 0;
const started = performance.now();

function group(): Write[] {
  const now = Date.now();
  const writes: Write[] = [];
  for (let b = 0; b < batchesPerGroup; b++) {
    const device = Math.floor(random() * devices);
    const kind = kinds[(device + nextIndex[device]) % kinds.length];
    writes.push({ kind: "readings", deviceId: deviceId(device), at: now, rows: {
      boot: 1, channel: 0, idx: nextIndex[device], oldest: now - (READINGS_PER_BATCH - 1) * INTERVAL_S * 1000,
      stepMs: INTERVAL_S * 1000, values: kind.values, faults: kind.faults,
    } });
    nextIndex[device] += READINGS_PER_BATCH;
  }
  return writes;
}

await new Promise<void>((resolve) => {
  let inFlight = 0;
  const submit = () => {
    inFlight++;
    const writes = group();
    writer.commit(writes, writes.length * READINGS_PER_BATCH, (outcomes, figures) => {
      inFlight--;
      for (const o of outcomes) if (typeof o === "number") rows += o;
      if (figures) {
        groups++;
        maxCommitMs = Math.max(maxCommitMs, figures.ms);
      }
      if (performance.now() - started < durationMs) submit();
      else if (inFlight === 0) resolve();
    });
  };
  // One waiting beside each running transaction, so that none waits for this loop.
  for (let i = 0; i < writers * 2; i++) submit();
});
const seconds = (performance.now() - started) / 1000;
await writer.close();
await store.close();
console.log(JSON.stringify({ rowsPerSecond: rows / seconds, rows, groups, groupRows: batchesPerGroup * READINGS_PER_BATCH, maxCommitMs }));
