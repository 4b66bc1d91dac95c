/*
 * The writers behind the commit queue: the compact form writes cross to the writer thread in, and the
 * writer thread itself — outcomes in order, groups formed from what waits, a failing write failing alone,
 * close committing what it was handed — and the commit queue's back-pressure with an asynchronous writer.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CommitQueue, type GroupFigures, type Outcome, type Write, type Writer } from "../../server/commit";
import { TelemetryDb, type BatchRows } from "../../server/db";
import { PackedReader, ThreadWriter, packWrites } from "../../server/writer";
import { hello } from "./harness";
import type { Hello } from "../../server/protocol";

const T0 = Date.UTC(2025, 10, 24, 12);

function readings(deviceId: string, idx: number, values: (number | null)[], faults?: (string | null)[]): Write {
  const rows: BatchRows = { boot: 3, channel: 1, idx, oldest: T0, stepMs: 60000, values, faults: faults ?? values.map(() => null) };
  return { kind: "readings", deviceId, rows, at: T0 + 5 };
}

function copy(write: Write): unknown {
  return JSON.parse(JSON.stringify(write));
}

test("packed writes read back as they were: values, every fault kind, hellos, in order", () => {
  const faults = ["no-device", "crc", "power-on", "disconnected", "out-of-range", "stuck", "bus-error", "timeout", "other"];
  const writes: Write[] = [
    readings("a", 480, [2156, -32752, 32767, null, 0], [null, null, null, "crc", null]),
    { kind: "hello", hello: hello("b") as unknown as Hello, at: T0 },
    readings("c", 0, faults.map(() => null), faults),
    readings("a", 485, [1]),
  ];
  const rows = 5 + 9 + 1;
  const packed = packWrites(writes, rows);
  assert.equal(packed.codes.length, rows);
  const reader = new PackedReader();
  let first = 0;
  for (let i = 0; i < writes.length; i++) {
    assert.deepEqual(copy(reader.write(packed, i, first)), copy(writes[i]), `write ${i}`);
    first += PackedReader.rows(packed, i);
  }
});

test("writer thread: outcomes in the order handed over, waiting commits grouped, a failing write fails alone", async () => {
  const dir = mkdtempSync(join(tmpdir(), "thermocast-writer-"));
  const db = new TelemetryDb(join(dir, "db.sqlite"));
  for (const id of ["a", "b", "c"]) db.registerDevice(id, `token-of-${id}-123`, T0);
  const errors: Error[] = [];
  const writer = await ThreadWriter.start(join(dir, "db.sqlite"), { maxGroupRows: 1000, onError: (e) => errors.push(e) });
  try {
    const answers: { outcomes: Outcome[]; group?: GroupFigures }[] = [];
    const commit = (writes: Write[]) => new Promise<void>((resolve) => {
      const rows = writes.reduce((n, w) => n + (w.kind === "readings" ? w.rows.values.length : 0), 0);
      writer.commit(writes, rows, (outcomes, group) => {
        answers.push({ outcomes, group });
        resolve();
      });
    });
    // Handed over in one turn: one transaction (the first may start alone), outcomes in order.
    await Promise.all([
      commit([readings("a", 0, [1, 2, 3]), readings("b", 0, [4, 5])]),
      commit([readings("a", 0, [1, 2, 3])]), // stored already: 0 new
      commit([readings("c", 10, [6])]),
    ]);
    assert.deepEqual(answers.map((a) => a.outcomes), [[3, 2], [0], [1]]);
    assert.ok(answers.filter((a) => a.group).length <= 2, "the waiting commits shared a transaction");
    assert.equal(answers.at(-1)!.group !== undefined, true, "a transaction's figures come with its last part");
    assert.equal(db.device("a")!.reading_count, 3, "committed, and seen by the server's own connection");

    // A trigger in the file reaches the writer's connection: c's write fails, the others in its group commit.
    db.sqlite.exec("CREATE TRIGGER refuse BEFORE INSERT ON readings WHEN NEW.device_id = 'c' BEGIN SELECT RAISE(ABORT, 'refused (test)'); END");
    answers.length = 0;
    await commit([readings("a", 3, [7]), readings("c", 11, [8]), readings("b", 2, [9])]);
    const [stored, failed, after] = answers[0].outcomes;
    assert.equal(stored, 1);
    assert.ok(failed instanceof Error && /refused \(test\)/.test(failed.message), String(failed));
    assert.equal(after, 1);
    assert.equal(answers[0].group!.failed, true);
    assert.deepEqual(db.readings("c", 0, Number.MAX_SAFE_INTEGER).map((r) => r.idx), [10]);

    // Close commits and answers what it was handed before the thread lets go of the file.
    let answered = false;
    writer.commit([readings("b", 3, [10])], 1, () => (answered = true));
    await writer.close();
    assert.equal(answered, true);
    assert.equal(db.device("b")!.reading_count, 4);
    assert.deepEqual(errors, []);
    const late: Outcome[] = [];
    writer.commit([readings("b", 4, [11])], 1, (outcomes) => late.push(...outcomes));
    assert.ok(late[0] instanceof Error, "a closed writer commits nothing");
  } finally {
    await writer.close();
    await db.stopCheckpointer();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writer thread: a database it cannot open fails the start", async () => {
  const dir = mkdtempSync(join(tmpdir(), "thermocast-writer-"));
  try {
    await assert.rejects(ThreadWriter.start(join(dir, "no-such-dir", "x", "db.sqlite"), { maxGroupRows: 10, onError: () => {} }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writer thread: one that dies fails every write it had not answered, says so once, and the next commit starts a new one", async () => {
  const dir = mkdtempSync(join(tmpdir(), "thermocast-writer-"));
  const path = join(dir, "db.sqlite");
  const db = new TelemetryDb(path);
  db.registerDevice("a", "token-of-a-123", T0);
  const errors: Error[] = [];
  const entry = new URL("./fixtures/dying-writer-thread.ts", import.meta.url).href;
  const writer = await ThreadWriter.start(path, { maxGroupRows: 1000, onError: (e) => errors.push(e), entry });
  try {
    const commit = (writes: Write[]) => new Promise<Outcome[]>((resolve) => writer.commit(writes, writes.length, resolve));
    const lost = await Promise.all([commit([readings("a", 0, [1])]), commit([readings("a", 1, [2]), readings("a", 2, [3])])]);
    for (const outcome of lost.flat()) assert.ok(outcome instanceof Error && /exit code 3/.test(outcome.message), String(outcome));
    assert.equal(lost.flat().length, 3);
    assert.equal(errors.length, 1, "the loss is reported once");
    assert.equal(db.device("a")!.reading_count, 0, "nothing was written, and nothing is claimed to be");
    // The next commit starts a new thread (the real one now), and the resent readings are stored.
    assert.deepEqual(await commit([readings("a", 0, [1]), readings("a", 1, [2]), readings("a", 2, [3])]), [1, 1, 1]);
    assert.equal(db.device("a")!.reading_count, 3);
    assert.equal(errors.length, 1);
  } finally {
    await writer.close();
    await db.stopCheckpointer();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A writer that answers only when told: the queue must wait for it. */
class HeldWriter implements Writer {
  readonly inline = false;
  held: { rows: number; done: (outcomes: Outcome[], group?: GroupFigures) => void; count: number }[] = [];
  commit(writes: Write[], rows: number, done: (outcomes: Outcome[], group?: GroupFigures) => void): void {
    this.held.push({ rows, done, count: writes.length });
  }
  answerAll(): void {
    for (const { rows, done, count } of this.held.splice(0)) done(new Array(count).fill(rows / count), { writes: count, rows, ms: 1, failed: false });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

test("commit queue with an asynchronous writer: full until answered down to the low mark, then lets waiters in; drain waits for answers", async () => {
  const writer = new HeldWriter();
  const queue = new CommitQueue({ writer, maxGroupRows: 10, highWaterRows: 20 });
  const done: Outcome[] = [];
  for (let i = 0; i < 5; i++) queue.enqueue(readings("a", i * 5, [1, 2, 3, 4, 5]), (o) => done.push(o));
  assert.equal(queue.full, true, "25 readings waiting, over 20");
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writer.held.map((h) => h.rows), [10, 10, 5], "everything handed over at once, in groups of at most 10");
  let letIn = 0;
  queue.wait(() => letIn++);
  let drained = false;
  void queue.drain().then(() => (drained = true));
  assert.equal(queue.stats().queuedRows, 25, "handed over is still waiting for its commit");
  writer.answerAll();
  assert.deepEqual(done, [5, 5, 5, 5, 5]);
  assert.equal(queue.full, false);
  assert.equal(letIn, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(drained, true);
  assert.equal(queue.stats().groups, 3);
});
