/*
 * The writers behind the commit queue (commit.ts): where groups of writes become one SQLite transaction.
 *
 * - `ThreadWriter`: the writer thread (writer-thread.ts), with its own connection to the database file. The
 *   event loop keeps sockets, parsing and acks; the inserts and the fsync of every commit happen beside it.
 *   Writes cross in compact form (`packWrites`): per write a few numbers and its device id, and every
 *   reading as the wire's own Int16 code (values.ts), in two typed arrays whose buffers are transferred,
 *   not copied. The thread answers each commit with its outcomes, in order.
 * - `InlineWriter`: the same transactions on this thread's connection, for ":memory:" (a memory database
 *   cannot be shared with another thread) and for simulations on a virtual clock, whose time can only wait
 *   for work it can see.
 */
import { Worker } from "node:worker_threads";
import { FAULT_BASE, FAULT_LIMIT, FAULT_NAMES, Fault } from "../modules/protocol/values";
import type { GroupFigures, Outcome, Write, Writer } from "./commit";
import type { BatchRows, TelemetryDb } from "./db";
import type { Hello } from "./protocol";

/** Applies one write on `db`, inside the group's transaction; returns the readings it stored. */
export function applyWrite(db: TelemetryDb, write: Write): number {
  if (write.kind === "readings") return db.storeReadings(write.deviceId, write.rows, write.at);
  db.recordHello(write.hello, write.at);
  return 0;
}

/**
 * Writes 0 … count-1 in one transaction (one commit, one fsync). If it fails, each write alone, so that
 * one bad write fails only itself; a write whose transaction did not commit gets its error.
 */
export function commitGroup(db: TelemetryDb, count: number, apply: (i: number) => number): { outcomes: Outcome[]; failed: boolean } {
  try {
    return {
      outcomes: db.inTransaction(() => {
        const outcomes: Outcome[] = new Array(count);
        for (let i = 0; i < count; i++) outcomes[i] = apply(i);
        return outcomes;
      }),
      failed: false,
    };
  } catch (e) {
    if (count === 1) return { outcomes: [asError(e)], failed: false };
    const outcomes: Outcome[] = new Array(count);
    for (let i = 0; i < count; i++) {
      try {
        outcomes[i] = db.inTransaction(() => apply(i));
      } catch (e) {
        outcomes[i] = asError(e);
      }
    }
    return { outcomes, failed: true };
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

export class InlineWriter implements Writer {
  readonly inline = true;
  #db: TelemetryDb;

  constructor(db: TelemetryDb) {
    this.#db = db;
  }

  commit(writes: Write[], rows: number, done: (outcomes: Outcome[], group?: GroupFigures) => void): void {
    const began = performance.now();
    const { outcomes, failed } = commitGroup(this.#db, writes.length, (i) => applyWrite(this.#db, writes[i]));
    done(outcomes, { writes: writes.length, rows, ms: performance.now() - began, failed });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Numbers per write in `PackedWrites.meta`: kind, n, boot, channel, idx, oldest, stepMs, at. */
const META = 8;
const READINGS = 0;
const HELLO = 1;

/** Writes in the form they cross to the writer thread in. */
export interface PackedWrites {
  count: number;
  /** META numbers a write: kind (0 readings, 1 hello), n, boot, channel, idx, oldest, stepMs, at. */
  meta: Float64Array;
  /** The readings of every write, one after another, as the wire codes them: centi-degrees or a fault. */
  codes: Int16Array;
  /** A write's device id (readings) or its hello as JSON. */
  texts: string[];
}

const FAULT_CODE = new Map(FAULT_NAMES.map((name, kind) => [name, FAULT_BASE + kind]));

export function packWrites(writes: readonly Write[], rows: number): PackedWrites {
  const meta = new Float64Array(writes.length * META);
  const codes = new Int16Array(rows);
  const texts: string[] = new Array(writes.length);
  let c = 0;
  for (let w = 0, m = 0; w < writes.length; w++, m += META) {
    const write = writes[w];
    if (write.kind === "hello") {
      meta[m] = HELLO;
      meta[m + 7] = write.at;
      texts[w] = JSON.stringify(write.hello);
      continue;
    }
    const { values, faults } = write.rows;
    const n = values.length;
    meta[m] = READINGS;
    meta[m + 1] = n;
    meta[m + 2] = write.rows.boot;
    meta[m + 3] = write.rows.channel;
    meta[m + 4] = write.rows.idx;
    meta[m + 5] = write.rows.oldest;
    meta[m + 6] = write.rows.stepMs;
    meta[m + 7] = write.at;
    texts[w] = write.deviceId;
    for (let j = 0; j < n; j++) {
      const value = values[j];
      // Faults come from the decoder, which knows only FAULT_NAMES.
      codes[c++] = value ?? FAULT_CODE.get(faults[j] ?? "") ?? FAULT_BASE + Fault.Other;
    }
  }
  return { count: writes.length, meta, codes, texts };
}

/**
 * Reads packed writes back, one at a time, into one reused `Write` per shape: applying them allocates
 * nothing per reading.
 */
export class PackedReader {
  #rows = new Map<number, BatchRows>();

  /** The write at `index` of `packed`, whose readings start at code `first`; valid until the next call. */
  write(packed: PackedWrites, index: number, first: number): Write {
    const { meta, codes, texts } = packed;
    const m = index * META;
    if (meta[m] === HELLO) return { kind: "hello", hello: JSON.parse(texts[index]) as Hello, at: meta[m + 7] };
    const n = meta[m + 1];
    let rows = this.#rows.get(n);
    if (rows === undefined) {
      rows = { boot: 0, channel: 0, idx: 0, oldest: 0, stepMs: 0, values: new Array(n), faults: new Array(n) };
      this.#rows.set(n, rows);
    }
    rows.boot = meta[m + 2];
    rows.channel = meta[m + 3];
    rows.idx = meta[m + 4];
    rows.oldest = meta[m + 5];
    rows.stepMs = meta[m + 6];
    const values = rows.values as (number | null)[];
    const faults = rows.faults as (string | null)[];
    for (let j = 0; j < n; j++) {
      const code = codes[first + j];
      if (code < FAULT_LIMIT) {
        values[j] = null;
        faults[j] = FAULT_NAMES[code - FAULT_BASE];
      } else {
        values[j] = code;
        faults[j] = null;
      }
    }
    return { kind: "readings", deviceId: texts[index], rows, at: meta[m + 7] };
  }

  /** Readings of the write at `index` (where the next write's codes start, counted from this one's). */
  static rows(packed: PackedWrites, index: number): number {
    const m = index * META;
    return packed.meta[m] === READINGS ? packed.meta[m + 1] : 0;
  }
}

/** Thread → main: the answer to one transaction, which held the next `parts` commits handed over. */
export interface Committed {
  t: "committed";
  parts: number;
  /** Per write of those parts, in order: readings stored, or -1 (failed: its message is next in `errors`). */
  outcomes: Int32Array;
  errors: string[];
  group: GroupFigures;
}

export type ToWriter = { t: "commit"; packed: PackedWrites } | { t: "stop" };
export type FromWriter = Committed | { t: "ready" } | { t: "stopped" };

interface Part {
  count: number;
  done: (outcomes: Outcome[], group?: GroupFigures) => void;
}

const THREAD_ENTRY = new URL(`./writer-thread${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url).href;
/**
 * The TypeScript loader the server runs under (tsx) does not reach worker threads by itself: the thread
 * registers it before loading its entry.
 */
const BOOT = `
const { workerData } = require("node:worker_threads");
(workerData.tsx ? import(workerData.tsx).then((tsx) => tsx.register()) : Promise.resolve())
  .then(() => import(workerData.entry));
`;

/**
 * Under load the writer thread starts a commit at most this often. bench/server, 200 000 readings/s: with
 * no interval every commit took what had come during the last one (~270 readings) and the thread was in a
 * transaction ~88% of the time; at 5 ms, ~960 readings a group, ~62% (each commit pays ~0.5 ms of fsync and
 * locking), leaving room to catch up after a stall, for a median ack 3-4 ms later.
 */
export const DEFAULT_COMMIT_INTERVAL_MS = 5;

export interface ThreadWriterOptions {
  maxGroupRows: number;
  /** Default DEFAULT_COMMIT_INTERVAL_MS. */
  commitIntervalMs?: number;
  /** A thread that stopped unasked: its unanswered writes fail, the next commit starts a new one. */
  onError: (error: Error) => void;
  /** The thread's module (URL); writer-thread.ts unless a test brings one that fails. */
  entry?: string;
}

export class ThreadWriter implements Writer {
  readonly inline = false;
  #path: string;
  #options: ThreadWriterOptions;
  #worker: Worker | undefined;
  /** Commits handed over and not yet answered, oldest first. */
  #parts: Part[] = [];
  #partsHead = 0;
  #closing = false;
  #closed: Promise<void> | undefined;

  private constructor(path: string, options: ThreadWriterOptions) {
    this.#path = path;
    this.#options = options;
  }

  /**
   * Starts the writer thread on the database file at `path` (which exists, with its schema) and resolves
   * once it has opened it.
   */
  static async start(path: string, options: ThreadWriterOptions): Promise<ThreadWriter> {
    const writer = new ThreadWriter(path, options);
    await writer.#spawn();
    return writer;
  }

  commit(writes: Write[], rows: number, done: (outcomes: Outcome[], group?: GroupFigures) => void): void {
    if (this.#closing) {
      done(writes.map(() => new Error("the writer is closed")));
      return;
    }
    let packed: PackedWrites;
    try {
      packed = packWrites(writes, rows);
    } catch (e) {
      // Called from the commit queue's timer: a throw here would end the process, so each write fails.
      const error = e instanceof Error ? e : new Error(String(e));
      done(writes.map(() => error));
      return;
    }
    if (this.#worker === undefined) void this.#spawn().catch(() => {});
    this.#parts.push({ count: writes.length, done });
    const message: ToWriter = { t: "commit", packed };
    this.#worker!.postMessage(message, [packed.meta.buffer as ArrayBuffer, packed.codes.buffer as ArrayBuffer]);
  }

  close(): Promise<void> {
    this.#closing = true;
    return (this.#closed ??= this.#stop());
  }

  async #stop(): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined) return;
    // The thread commits what it was handed, answers, closes its connection and ends.
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    const message: ToWriter = { t: "stop" };
    worker.postMessage(message);
    await exited;
  }

  #spawn(): Promise<void> {
    const entry = this.#options.entry ?? THREAD_ENTRY;
    const tsx = entry.endsWith(".ts") ? import.meta.resolve("tsx/esm/api") : undefined;
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: {
        entry, tsx, path: this.#path, maxGroupRows: this.#options.maxGroupRows,
        commitIntervalMs: this.#options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS,
      },
      // What the thread allocates per commit dies young: a small young generation keeps its memory small.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.#worker = worker;
    let ready = false;
    return new Promise<void>((resolve, reject) => {
      worker.on("message", (message: FromWriter) => {
        if (message.t === "committed") this.#answer(message);
        else if (message.t === "ready") {
          ready = true;
          resolve();
        }
      });
      worker.once("error", (error) => {
        if (!ready) reject(error);
        this.#lost(worker, error);
      });
      worker.once("exit", (code) => {
        const error = new Error(`the writer thread stopped (exit code ${code})`);
        if (!ready) reject(error);
        if (!this.#closing || this.#pending > 0) this.#lost(worker, error);
      });
    });
  }

  get #pending(): number {
    return this.#parts.length - this.#partsHead;
  }

  /** The thread is gone: nothing it was handed and did not answer is known to be committed. */
  #lost(worker: Worker, error: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    const parts = this.#parts.slice(this.#partsHead);
    this.#parts = [];
    this.#partsHead = 0;
    if (!this.#closing) this.#options.onError(error);
    for (const part of parts) part.done(new Array(part.count).fill(error));
  }

  #answer(message: Committed): void {
    const { outcomes, errors } = message;
    let o = 0;
    let e = 0;
    for (let p = 0; p < message.parts; p++) {
      const part = this.#parts[this.#partsHead++];
      const answers: Outcome[] = new Array(part.count);
      for (let i = 0; i < part.count; i++, o++) answers[i] = outcomes[o] >= 0 ? outcomes[o] : new Error(errors[e++]);
      part.done(answers, p === message.parts - 1 ? message.group : undefined);
    }
    if (this.#partsHead === this.#parts.length) {
      this.#parts.length = 0;
      this.#partsHead = 0;
    } else if (this.#partsHead > 1024 && this.#partsHead * 2 > this.#parts.length) {
      this.#parts.splice(0, this.#partsHead);
      this.#partsHead = 0;
    }
  }
}
