/*
 * ReadingStore: the bounded buffer of readings not yet acknowledged by the server.
 *
 * Values are Int16 centi-degrees (2 bytes a reading) in a ring. Readings are grouped in *runs*: readings
 * taken one `interval` apart in the same boot with consecutive sample indexes, so a reading's time and
 * identity are derived from its run instead of being stored with it.
 *
 * Overflow policy: when the ring is full, the oldest reading is dropped to make room for the newest (a
 * sensor's recent past is worth more than its distant one), and `dropped` counts it. The count goes to the
 * server in `hello`, and the gap in sample indexes shows where. Nothing is dropped silently.
 */

export interface Run {
  boot: number;
  /** Sample index of the run's first reading held. */
  index: number;
  count: number;
  /** Seconds between readings. */
  interval: number;
  /** Device clock (ms) of the run's first reading held. */
  time: number;
}

/** A slice of the store handed to the encoder: readings `[start, start + count)` of the ring. */
export interface Slice {
  start: number;
  count: number;
  boot: number;
  index: number;
  interval: number;
  /** Device clock (ms) of the slice's newest reading. */
  newest: number;
}

// Positions in the meta words.
const HEAD = 0, COUNT = 1, DROPPED = 2, RUNS = 3, META_WORDS = 4;

export class ReadingStore {
  readonly capacity: number;
  readonly maxRuns: number;
  readonly values: Int16Array;
  /** Readings at the head already handed out in batches awaiting their ack (not kept across sleep). */
  #sent = 0;
  // Everything else lives in typed arrays over one buffer, so that the whole store can sit in memory
  // that survives deep sleep (RTC memory) and be checked and restored without copying or parsing.
  #meta: Uint32Array;
  #runTime: Float64Array;
  #runBoot: Uint32Array;
  #runIndex: Uint32Array;
  #runCount: Uint32Array;
  #runInterval: Uint32Array;

  /** Bytes of backing memory a store of `capacity` readings and `maxRuns` runs needs. */
  static bytesFor(capacity: number, maxRuns = 8): number {
    return maxRuns * 8 + maxRuns * 16 + META_WORDS * 4 + capacity * 2;
  }

  /**
   * A store over `buffer` (from `byteOffset`, 8-byte aligned) when given, as it was left there; else over
   * fresh memory, empty.
   */
  constructor(capacity: number, maxRuns = 8, buffer?: ArrayBuffer, byteOffset = 0) {
    this.capacity = capacity;
    this.maxRuns = maxRuns;
    const memory = buffer ?? new ArrayBuffer(ReadingStore.bytesFor(capacity, maxRuns));
    let at = byteOffset;
    this.#runTime = new Float64Array(memory, at, maxRuns);
    at += maxRuns * 8;
    this.#runBoot = new Uint32Array(memory, at, maxRuns);
    at += maxRuns * 4;
    this.#runIndex = new Uint32Array(memory, at, maxRuns);
    at += maxRuns * 4;
    this.#runCount = new Uint32Array(memory, at, maxRuns);
    at += maxRuns * 4;
    this.#runInterval = new Uint32Array(memory, at, maxRuns);
    at += maxRuns * 4;
    this.#meta = new Uint32Array(memory, at, META_WORDS);
    at += META_WORDS * 4;
    this.values = new Int16Array(memory, at, capacity);
  }

  /** Empties the store (a fresh or a discarded retained image). */
  clear(): void {
    this.#meta.fill(0);
    this.#sent = 0;
  }

  /** True when the meta words describe a store this one could be (checked after a wake, with the CRC). */
  isConsistent(): boolean {
    const meta = this.#meta;
    if (meta[HEAD] >= this.capacity || meta[COUNT] > this.capacity || meta[RUNS] > this.maxRuns) return false;
    let total = 0;
    for (let r = 0; r < meta[RUNS]; r++) total += this.#runCount[r];
    return total === meta[COUNT] && (meta[COUNT] === 0) === (meta[RUNS] === 0);
  }

  get count(): number {
    return this.#meta[COUNT];
  }
  /** Ring slot of the oldest reading. */
  get head(): number {
    return this.#meta[HEAD];
  }
  /** Readings dropped by the overflow policy, kept with the store. */
  get dropped(): number {
    return this.#meta[DROPPED];
  }
  /** Readings not yet handed out in a batch. */
  get unsent(): number {
    return this.#meta[COUNT] - this.#sent;
  }

  /** Appends one reading (centi-degrees or a fault value) sampled at device time `time`. */
  append(value: number, boot: number, index: number, interval: number, time: number): void {
    if (this.#meta[COUNT] === this.capacity) this.#dropOldest(1);
    const last = this.#meta[RUNS] - 1;
    const continues = last >= 0 &&
      this.#runBoot[last] === boot &&
      this.#runInterval[last] === interval &&
      this.#runIndex[last] + this.#runCount[last] === index &&
      // A reading later than its slot (a missed wake) starts a run of its own, so times stay exact.
      Math.abs(this.#runTime[last] + this.#runCount[last] * interval * 1000 - time) < 500;
    if (continues) {
      this.#runCount[last]++;
    } else {
      if (this.#meta[RUNS] === this.maxRuns) this.#dropOldest(this.#runCount[0]);
      const r = this.#meta[RUNS]++;
      this.#runBoot[r] = boot;
      this.#runIndex[r] = index;
      this.#runCount[r] = 1;
      this.#runInterval[r] = interval;
      this.#runTime[r] = time;
    }
    let tail = this.#meta[HEAD] + this.#meta[COUNT];
    if (tail >= this.capacity) tail -= this.capacity;
    this.values[tail] = value;
    this.#meta[COUNT]++;
  }

  /**
   * Device time (ms) of the oldest reading not yet sent, or -1 when there is none. The batching rule
   * compares it with the maximum latency.
   */
  oldestUnsentTime(): number {
    const at = this.#locate(this.#sent);
    if (at < 0) return -1;
    return this.#runTime[at] + this.#offsetInRun * this.#runInterval[at] * 1000;
  }

  /**
   * True when the next batch is ready to go: a full `size` of one run, or the rest of a run that has
   * ended (a later run exists), since a batch never spans runs.
   */
  hasFullBatch(size: number): boolean {
    const at = this.#locate(this.#sent);
    if (at < 0) return false;
    return at < this.#meta[RUNS] - 1 || this.#runCount[at] - this.#offsetInRun >= size;
  }

  /**
   * Hands out the next slice of at most `max` unsent readings, all from one run, and marks them sent.
   * Returns false when there is nothing to send.
   */
  takeBatch(max: number, slice: Slice): boolean {
    const at = this.#locate(this.#sent);
    if (at < 0) return false;
    const offset = this.#offsetInRun;
    const left = this.#runCount[at] - offset;
    const count = left < max ? left : max;
    let start = this.#meta[HEAD] + this.#sent;
    if (start >= this.capacity) start -= this.capacity;
    const interval = this.#runInterval[at];
    slice.start = start;
    slice.count = count;
    slice.boot = this.#runBoot[at];
    slice.index = this.#runIndex[at] + offset;
    slice.interval = interval;
    slice.newest = this.#runTime[at] + (offset + count - 1) * interval * 1000;
    this.#sent += count;
    return true;
  }

  /**
   * Forgets readings `[index, index + count)` of `boot` once the server has acknowledged them. Acks
   * arrive in order, so they are at the head; readings the overflow policy already dropped are skipped.
   * Returns how many readings were released.
   */
  release(boot: number, index: number, count: number): number {
    if (this.#meta[RUNS] === 0) return 0;
    if (this.#runBoot[0] !== boot) return 0;
    const first = this.#runIndex[0];
    const end = index + count;
    if (end <= first || index > first) return 0;
    const n = Math.min(end - first, this.#runCount[0]);
    this.#dropHead(n);
    this.#sent = this.#sent > n ? this.#sent - n : 0;
    return n;
  }

  /** After a lost connection: everything in flight is unsent again, to be sent anew. */
  rewind(): void {
    this.#sent = 0;
  }

  /** Device time (ms) of the oldest reading held, or -1. */
  oldestTime(): number {
    return this.#meta[RUNS] ? this.#runTime[0] : -1;
  }

  /** Run `r` (0 = oldest), for inspection and for the retained-memory layout. */
  run(r: number, into: Run): Run | undefined {
    if (r < 0 || r >= this.#meta[RUNS]) return undefined;
    into.boot = this.#runBoot[r];
    into.index = this.#runIndex[r];
    into.count = this.#runCount[r];
    into.interval = this.#runInterval[r];
    into.time = this.#runTime[r];
    return into;
  }
  get runs(): number {
    return this.#meta[RUNS];
  }

  /** Value of the `i`-th oldest reading held. */
  valueAt(i: number): number {
    let p = this.#meta[HEAD] + i;
    if (p >= this.capacity) p -= this.capacity;
    return this.values[p];
  }

  #offsetInRun = 0;
  /** The run holding the `n`-th reading from the head, with its offset in `#offsetInRun`; -1 if none. */
  #locate(n: number): number {
    if (n >= this.#meta[COUNT]) return -1;
    for (let r = 0; r < this.#meta[RUNS]; r++) {
      const c = this.#runCount[r];
      if (n < c) {
        this.#offsetInRun = n;
        return r;
      }
      n -= c;
    }
    return -1;
  }

  #dropOldest(n: number): void {
    this.#meta[DROPPED] += n;
    this.#dropHead(n);
    this.#sent = this.#sent > n ? this.#sent - n : 0;
  }

  #dropHead(n: number): void {
    if (n > this.#meta[COUNT]) n = this.#meta[COUNT];
    this.#meta[HEAD] += n;
    if (this.#meta[HEAD] >= this.capacity) this.#meta[HEAD] -= this.capacity;
    this.#meta[COUNT] -= n;
    while (n > 0 && this.#meta[RUNS] > 0) {
      const c = this.#runCount[0];
      if (n < c) {
        this.#runCount[0] = c - n;
        this.#runIndex[0] += n;
        this.#runTime[0] += n * this.#runInterval[0] * 1000;
        return;
      }
      n -= c;
      this.#shiftRuns();
    }
  }

  #shiftRuns(): void {
    const last = --this.#meta[RUNS];
    this.#runBoot.copyWithin(0, 1, last + 1);
    this.#runIndex.copyWithin(0, 1, last + 1);
    this.#runCount.copyWithin(0, 1, last + 1);
    this.#runInterval.copyWithin(0, 1, last + 1);
    this.#runTime.copyWithin(0, 1, last + 1);
  }
}
