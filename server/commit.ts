/*
 * Group commit and back-pressure. The writes devices cause (batches, hellos) wait here until the end of the
 * event-loop turn in which they arrived, then go to the writer (writer.ts), which commits them in groups —
 * one transaction, one fsync for the whole group — and only once a write's group has committed is it
 * answered (a batch's ack). A write that did not commit is answered with its error, never with an ack.
 *
 * The writer is either the writer thread (a file database: inserts and fsyncs leave the event loop) or
 * inline on this thread (":memory:", simulations on a virtual clock). An inline writer blocks while it
 * commits, so it gets one group of at most `maxGroupRows` readings a turn, and sockets get their turns in
 * between; the writer thread gets every turn's writes at once and groups them itself.
 *
 * Back-pressure: from the moment more than `highWaterRows` readings wait for their commit until only
 * `lowWaterRows` do, the queue is `full`: a connection that reads a frame then parks that write on itself,
 * stops reading its socket (TCP then holds the device back, in its memory and the kernel's rather than
 * ours) and waits its turn (`wait`). As groups commit, waiting connections are let in first come, first
 * served, as many as there is room for. The work of pausing and resuming is proportional to the
 * connections that send, not to all connections.
 */
import { createHistogram, performance, type RecordableHistogram } from "node:perf_hooks";
import type { GroupFigures, Outcome, Write, Writer } from "./store";

export type { GroupFigures, Outcome, Write, Writer };

export interface CommitQueueOptions {
  writer: Writer;
  /** Readings per commit group, at most (a single larger write still goes alone). */
  maxGroupRows?: number;
  /** Readings waiting for their commit above which writers are paused. */
  highWaterRows?: number;
  /** Readings waiting at or below which the queue takes writes again. */
  lowWaterRows?: number;
}

export interface CommitStats {
  /** Writes and readings waiting for their commit now (queued here or handed to the writer). */
  queuedWrites: number;
  queuedRows: number;
  /** Since start. */
  groups: number;
  writes: number;
  rows: number;
  maxGroupRows: number;
  maxQueuedRows: number;
  /** The longest and the total time spent in commits (transactions), ms. */
  maxCommitMs: number;
  commitMs: number;
  /** Connections waiting for room now (back-pressure), and how many times one had to wait since start. */
  paused: number;
  pauses: number;
  /** The queue was full now, and how many times it became full. */
  full: boolean;
  fulls: number;
  /** Groups that failed and were retried write by write. */
  failedGroups: number;
}

type Done = (outcome: Outcome) => void;

/**
 * 8192 readings commit in ~20-40 ms on the 2-core bench machine: with an inline writer a stall that short
 * keeps acks flowing, while a group that large already pays the fsync ~1/2000th of a reading.
 */
export const DEFAULT_MAX_GROUP_ROWS = 8192;
/** Four groups waiting: beyond that, TCP holds the devices back instead of the server's memory. */
export const DEFAULT_HIGH_WATER_ROWS = 4 * DEFAULT_MAX_GROUP_ROWS;

export class CommitQueue {
  readonly maxGroupRows: number;
  readonly highWaterRows: number;
  readonly lowWaterRows: number;
  /** Each write's time from `enqueue` to its answer, ns (reset it to start a window). */
  readonly waits: RecordableHistogram = createHistogram();
  #writer: Writer;
  #writes: Write[] = [];
  #dones: Done[] = [];
  #times: number[] = [];
  #head = 0;
  /** Readings queued here, and those plus the ones handed to the writer and not yet answered. */
  #queuedRows = 0;
  #rows = 0;
  #inFlight = 0;
  #scheduled: NodeJS.Immediate | undefined;
  #full = false;
  /** Connections with parked writes, in the order they came: each resumes when let in. */
  #waiting = new Set<() => void>();
  #drained: (() => void)[] = [];
  #stats: CommitStats = {
    queuedWrites: 0, queuedRows: 0, groups: 0, writes: 0, rows: 0, maxGroupRows: 0, maxQueuedRows: 0,
    maxCommitMs: 0, commitMs: 0, paused: 0, pauses: 0, full: false, fulls: 0, failedGroups: 0,
  };

  constructor(options: CommitQueueOptions) {
    this.#writer = options.writer;
    this.maxGroupRows = options.maxGroupRows ?? DEFAULT_MAX_GROUP_ROWS;
    this.highWaterRows = options.highWaterRows ?? DEFAULT_HIGH_WATER_ROWS;
    this.lowWaterRows = options.lowWaterRows ?? Math.floor(this.highWaterRows / 2);
  }

  /** Queues a write; `done` runs after its commit, with the readings it stored or the error that stopped it. */
  enqueue(write: Write, done: Done): void {
    const rows = write.kind === "readings" ? write.rows.values.length : 0;
    this.#writes.push(write);
    this.#dones.push(done);
    this.#times.push(performance.now());
    this.#queuedRows += rows;
    this.#rows += rows;
    if (this.#rows > this.#stats.maxQueuedRows) this.#stats.maxQueuedRows = this.#rows;
    this.#scheduled ??= setImmediate(() => this.#flush());
    if (!this.#full && this.#rows > this.highWaterRows) {
      this.#full = true;
      this.#stats.fulls++;
    }
  }

  /**
   * True from going over the high-water mark until drained to the low-water mark, and while connections
   * wait: a writer then parks its write, stops reading and calls `wait`.
   */
  get full(): boolean {
    return this.#full || this.#waiting.size > 0;
  }

  /** Registers a connection with parked writes; `letIn` is called when there is room (it enqueues them). */
  wait(letIn: () => void): void {
    if (this.#waiting.has(letIn)) return;
    this.#waiting.add(letIn);
    this.#stats.pauses++;
  }

  /** Forgets a waiting connection (it closed). */
  forget(letIn: () => void): void {
    this.#waiting.delete(letIn);
  }

  /** Nothing queued and nothing waiting for its commit. */
  get idle(): boolean {
    return this.#head === this.#writes.length && this.#inFlight === 0;
  }

  /** Commits everything queued now and resolves when every write has been answered. */
  drain(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  stats(): CommitStats {
    return {
      ...this.#stats, queuedWrites: this.#writes.length - this.#head + this.#inFlight, queuedRows: this.#rows,
      paused: this.#waiting.size, full: this.#full,
    };
  }

  #flush(): void {
    this.#scheduled = undefined;
    // An inline writer blocks: one group now, the next one next turn. The writer thread takes all.
    do this.#handOver();
    while (!this.#writer.inline && this.#head < this.#writes.length);
    if (this.#head < this.#writes.length) this.#scheduled ??= setImmediate(() => this.#flush());
  }

  /** Hands the writer the next group: at least one write, then as many as fit in `maxGroupRows`. */
  #handOver(): void {
    const writes = this.#writes;
    const start = this.#head;
    let end = start;
    let rows = 0;
    while (end < writes.length) {
      const write = writes[end];
      const n = write.kind === "readings" ? write.rows.values.length : 0;
      if (end > start && rows + n > this.maxGroupRows) break;
      rows += n;
      end++;
    }
    const group = writes.slice(start, end);
    const dones = this.#dones.slice(start, end);
    const times = this.#times.slice(start, end);
    this.#head = end;
    if (this.#head === writes.length) {
      writes.length = 0;
      this.#dones.length = 0;
      this.#times.length = 0;
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > writes.length) {
      writes.splice(0, this.#head);
      this.#dones.splice(0, this.#head);
      this.#times.splice(0, this.#head);
      this.#head = 0;
    }
    this.#queuedRows -= rows;
    this.#inFlight += group.length;
    this.#writer.commit(group, rows, (outcomes, figures) => this.#committed(dones, times, rows, outcomes, figures));
  }

  #committed(dones: Done[], times: number[], rows: number, outcomes: Outcome[], group: GroupFigures | undefined): void {
    const now = performance.now();
    for (const time of times) this.waits.record(Math.max(1, Math.round((now - time) * 1e6)));
    const stats = this.#stats;
    if (group !== undefined) {
      stats.groups++;
      stats.commitMs += group.ms;
      if (group.ms > stats.maxCommitMs) stats.maxCommitMs = group.ms;
      if (group.rows > stats.maxGroupRows) stats.maxGroupRows = group.rows;
      if (group.failed) stats.failedGroups++;
    }
    stats.writes += dones.length;
    stats.rows += rows;
    this.#rows -= rows;
    this.#inFlight -= dones.length;

    if (this.#full && this.#rows <= this.lowWaterRows) this.#full = false;
    // First come, first served, while there is room; each one let in enqueues what it had parked.
    for (const letIn of this.#waiting) {
      if (this.#full || this.#rows >= this.highWaterRows) break;
      this.#waiting.delete(letIn);
      letIn();
    }
    for (let i = 0; i < dones.length; i++) dones[i](outcomes[i]);
    if (this.idle && this.#drained.length > 0) {
      const drained = this.#drained;
      this.#drained = [];
      for (const resolve of drained) resolve();
    }
  }
}
