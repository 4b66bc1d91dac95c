/*
 * Group commit. The writes devices cause (batches, hellos, last-seen) wait here until the end of the
 * event-loop turn in which they arrived, then go to SQLite together in one transaction — one fsync for the
 * whole group instead of one per batch — and only after that commit is each one answered (a batch's ack).
 *
 * Bounded: a group holds at most `maxGroupRows` readings, so one commit blocks the event loop for a bounded
 * time however far behind the queue is; the next group waits for the next turn, so acks, pings and the
 * HTTP API get their turn in between. Back-pressure: from the moment more than `highWaterRows` readings
 * are queued until the queue has drained to `lowWaterRows`, it is `full`: a connection that reads a frame
 * then parks that write on itself, stops reading its socket (TCP then holds the device back, in its memory
 * and the kernel's rather than ours) and waits its turn (`wait`). As groups commit, waiting connections are
 * let in first come, first served, as many as there is room for. The work of pausing and resuming is
 * proportional to the connections that send, not to all connections.
 */
import { performance } from "node:perf_hooks";

/** The transaction the queue commits a group in (TelemetryDb.inTransaction). */
export type Transaction = <T>(write: () => T) => T;

export interface CommitQueueOptions {
  transaction: Transaction;
  /** Readings per commit group, at most (a single larger write still goes alone). */
  maxGroupRows?: number;
  /** Queued readings above which writers are paused. */
  highWaterRows?: number;
  /** Queued readings at or below which the queue takes writes again. */
  lowWaterRows?: number;
}

export interface CommitStats {
  /** Writes and readings waiting now. */
  queuedWrites: number;
  queuedRows: number;
  /** Since start. */
  groups: number;
  writes: number;
  rows: number;
  maxGroupRows: number;
  maxQueuedRows: number;
  /** The longest and the total time spent in commits, ms. */
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

interface Write {
  rows: number;
  apply: () => unknown;
  done: (result: unknown, error?: Error) => void;
}

/**
 * 8192 readings commit in ~25-50 ms on the 2-core bench machine: a stall that short keeps acks flowing,
 * while a group that large already pays the fsync ~1/2000th of a reading.
 */
export const DEFAULT_MAX_GROUP_ROWS = 8192;
/** Four groups queued: beyond that, TCP holds the devices back instead of the server's memory. */
export const DEFAULT_HIGH_WATER_ROWS = 4 * DEFAULT_MAX_GROUP_ROWS;

export class CommitQueue {
  readonly maxGroupRows: number;
  readonly highWaterRows: number;
  readonly lowWaterRows: number;
  #transaction: Transaction;
  #writes: Write[] = [];
  #head = 0;
  #rows = 0;
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
    this.#transaction = options.transaction;
    this.maxGroupRows = options.maxGroupRows ?? DEFAULT_MAX_GROUP_ROWS;
    this.highWaterRows = options.highWaterRows ?? DEFAULT_HIGH_WATER_ROWS;
    this.lowWaterRows = options.lowWaterRows ?? Math.floor(this.highWaterRows / 2);
  }

  /**
   * Queues a write of `rows` readings. `apply` runs inside the group's transaction (and again alone, if
   * the group failed); `done` runs after the commit, with apply's result or the error that stopped it.
   */
  enqueue<T>(rows: number, apply: () => T, done: (result: T | undefined, error?: Error) => void): void {
    this.#writes.push({ rows, apply, done: done as Write["done"] });
    this.#rows += rows;
    if (this.#rows > this.#stats.maxQueuedRows) this.#stats.maxQueuedRows = this.#rows;
    this.#scheduled ??= setImmediate(() => this.#flushGroup());
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

  get idle(): boolean {
    return this.#head === this.#writes.length;
  }

  /** Commits everything queued now, group by group, and resolves when the queue is empty. */
  drain(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  stats(): CommitStats {
    return { ...this.#stats, queuedWrites: this.#writes.length - this.#head, queuedRows: this.#rows, paused: this.#waiting.size, full: this.#full };
  }

  #flushGroup(): void {
    this.#scheduled = undefined;
    const writes = this.#writes;
    const start = this.#head;
    let end = start;
    let rows = 0;
    // At least one write, then as many as fit.
    while (end < writes.length && (end === start || rows + writes[end].rows <= this.maxGroupRows)) rows += writes[end++].rows;
    const group = writes.slice(start, end);
    this.#head = end;
    if (this.#head === writes.length) {
      writes.length = 0;
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > writes.length) {
      writes.splice(0, this.#head);
      this.#head = 0;
    }

    const began = performance.now();
    const results = this.#commit(group);
    const took = performance.now() - began;
    const stats = this.#stats;
    stats.groups++;
    stats.writes += group.length;
    stats.rows += rows;
    stats.commitMs += took;
    if (took > stats.maxCommitMs) stats.maxCommitMs = took;
    if (rows > stats.maxGroupRows) stats.maxGroupRows = rows;
    this.#rows -= rows;

    if (this.#full && this.#rows <= this.lowWaterRows) this.#full = false;
    // First come, first served, while there is room; each one let in enqueues what it had parked.
    for (const letIn of this.#waiting) {
      if (this.#full || this.#rows >= this.highWaterRows) break;
      this.#waiting.delete(letIn);
      letIn();
    }
    if (!this.idle) this.#scheduled ??= setImmediate(() => this.#flushGroup());
    for (let i = 0; i < group.length; i++) {
      const result = results[i];
      if (result instanceof Failure) group[i].done(undefined, result.error);
      else group[i].done(result);
    }
    if (this.idle && this.#drained.length > 0) {
      const drained = this.#drained;
      this.#drained = [];
      for (const resolve of drained) resolve();
    }
  }

  /** One transaction for the group; if it fails, each write alone, so that one bad write fails only itself. */
  #commit(group: Write[]): unknown[] {
    try {
      return this.#transaction(() => group.map((write) => write.apply()));
    } catch (e) {
      if (group.length === 1) return [new Failure(e instanceof Error ? e : new Error(String(e)))];
      this.#stats.failedGroups++;
      return group.map((write) => {
        try {
          return this.#transaction(() => write.apply());
        } catch (e) {
          return new Failure(e instanceof Error ? e : new Error(String(e)));
        }
      });
    }
  }
}

class Failure {
  constructor(readonly error: Error) {}
}
