/*
 * The writer thread (started by writer.ts): its own connection to the database file, on which every
 * device write is committed. Commits the event loop hands over while a transaction runs, or before the
 * next may start, wait in the message queue; the next transaction takes all of them, up to `maxGroupRows`
 * readings — so groups grow by themselves with the load, and one fsync serves everything that arrived
 * since the previous commit. Each transaction is answered at once, with one outcome per write, in order.
 */
import { parentPort, workerData } from "node:worker_threads";
import { TelemetryDb } from "./db";
import { PackedReader, commitGroup, applyWrite, type Committed, type PackedWrites, type ToWriter } from "./writer";

const { path, maxGroupRows, commitIntervalMs } = workerData as { path: string; maxGroupRows: number; commitIntervalMs: number };
const port = parentPort!;
// The server's own connection runs the checkpointer thread; this one checkpoints only as a backstop.
const db = new TelemetryDb(path, { checkpoints: "elsewhere", mustExist: true });
const reader = new PackedReader();
const pending: PackedWrites[] = [];
let pendingRows = 0;
let scheduled = false;
let timer: NodeJS.Timeout | undefined;
let lastStart = -Infinity;
let stopping = false;

port.on("message", (message: ToWriter) => {
  if (message.t === "stop") {
    stopping = true;
    clearTimeout(timer);
    while (pending.length > 0) commitNext();
    db.close();
    port.postMessage({ t: "stopped" });
    port.close();
    return;
  }
  pending.push(message.packed);
  pendingRows += message.packed.codes.length;
  schedule();
});

/**
 * The next transaction starts once the messages already queued have come in (they join it), and no sooner
 * than `commitIntervalMs` after the previous one started — unless a full group waits. A lone write commits
 * at once; under load commits come at most every interval, so groups grow and fsyncs stay few.
 */
function schedule(): void {
  if (scheduled) {
    if (timer !== undefined && pendingRows >= maxGroupRows) {
      clearTimeout(timer);
      timer = undefined;
      setImmediate(commitQueued);
    }
    return;
  }
  scheduled = true;
  const wait = lastStart + commitIntervalMs - performance.now();
  if (wait > 0 && pendingRows < maxGroupRows) timer = setTimeout(commitQueued, wait);
  else setImmediate(commitQueued);
}

function commitQueued(): void {
  scheduled = false;
  timer = undefined;
  if (stopping || pending.length === 0) return;
  lastStart = performance.now();
  commitNext();
  if (pending.length > 0) schedule();
}

/** One transaction: the oldest commit handed over, then as many as fit. */
function commitNext(): void {
  let parts = 0;
  let rows = 0;
  let count = 0;
  while (parts < pending.length) {
    const packed = pending[parts];
    const n = packed.codes.length;
    if (parts > 0 && rows + n > maxGroupRows) break;
    rows += n;
    count += packed.count;
    parts++;
  }
  const group = pending.splice(0, parts);
  pendingRows -= rows;
  // Write i of the transaction is write `index[i]` of `group[part[i]]`, its readings from code `first[i]`.
  const part = new Uint32Array(count);
  const index = new Uint32Array(count);
  const first = new Uint32Array(count);
  for (let p = 0, i = 0; p < group.length; p++) {
    for (let w = 0, c = 0; w < group[p].count; w++, i++) {
      part[i] = p;
      index[i] = w;
      first[i] = c;
      c += PackedReader.rows(group[p], w);
    }
  }
  const began = performance.now();
  const { outcomes, failed } = commitGroup(db, count, (i) => applyWrite(db, reader.write(group[part[i]], index[i], first[i])));
  const ms = performance.now() - began;
  const stored = new Int32Array(count);
  const errors: string[] = [];
  for (let i = 0; i < count; i++) {
    const outcome = outcomes[i];
    if (typeof outcome === "number") stored[i] = outcome;
    else {
      stored[i] = -1;
      errors.push(outcome.message);
    }
  }
  const answer: Committed = { t: "committed", parts, outcomes: stored, errors, group: { writes: count, rows, ms, failed } };
  port.postMessage(answer, [stored.buffer as ArrayBuffer]);
}

port.postMessage({ t: "ready" });
