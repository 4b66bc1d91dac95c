/*
 * The writer thread (started by writer.ts): its own connection to the database file, on which every
 * device write is committed. Commits the event loop hands over while a transaction runs wait in the
 * message queue; the next transaction takes all of them, up to `maxGroupRows` readings — so groups grow by
 * themselves with the load, and one fsync serves everything that arrived during the previous commit.
 * Each transaction is answered at once, with one outcome per write, in the order handed over.
 */
import { parentPort, workerData } from "node:worker_threads";
import { TelemetryDb } from "./db";
import { PackedReader, commitGroup, applyWrite, type Committed, type PackedWrites, type ToWriter } from "./writer";

const { path, maxGroupRows } = workerData as { path: string; maxGroupRows: number };
const port = parentPort!;
// The server's own connection runs the checkpointer thread; this one checkpoints only as a backstop.
const db = new TelemetryDb(path, { checkpoints: "elsewhere", mustExist: true });
const reader = new PackedReader();
const pending: PackedWrites[] = [];
let scheduled = false;
let stopping = false;

port.on("message", (message: ToWriter) => {
  if (message.t === "stop") {
    stopping = true;
    while (pending.length > 0) commitNext();
    db.close();
    port.postMessage({ t: "stopped" });
    port.close();
    return;
  }
  pending.push(message.packed);
  if (!scheduled) {
    scheduled = true;
    // After the messages already queued have come in: they join this transaction.
    setImmediate(commitQueued);
  }
});

function commitQueued(): void {
  scheduled = false;
  if (stopping || pending.length === 0) return;
  commitNext();
  if (pending.length > 0) {
    scheduled = true;
    setImmediate(commitQueued);
  }
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
