/*
 * ReadingStore: the bounded buffer of readings not yet acknowledged by the server.
 *
 * One ring of 16-bit cells holds readings (Int16 centi-degrees or a fault value, one cell each) and *run
 * marks*. A run is readings taken one `interval` apart in the same boot with consecutive sample indexes, so
 * a reading's time and identity are derived from its run instead of being stored with it. The oldest run is
 * described in the control words (`head`); every later run starts with a mark in the ring (MARK and nine
 * cells: boot, index, interval, time), written when a gap in the indexes starts it: a slot skipped by a long
 * wake, an interval change, a new boot. So runs cost ring cells, not a table of fixed size: a gap costs
 * MARK_CELLS cells (20 bytes), and no reading is dropped while the ring has room for it.
 *
 * Overflow policy: when the ring is full, the oldest reading is dropped to make room for the newest (a
 * sensor's recent past is worth more than its distant one), and `dropped` counts it; a mark goes with the
 * last reading before it, uncounted (it is not a reading). The count goes to the server in `hello`, and the
 * gap in sample indexes shows where. Nothing is dropped silently.
 *
 * Channels: a probe that measures more than one quantity (an SHT4x: temperature, then humidity) appends a
 * slot of `width` cells a reading, channel 0 first. The width is part of a run's identity, kept with its
 * interval (`interval + (width − 1) · WIDTH_UNIT` in the control words and the marks), so a store of
 * single-channel readings is laid out exactly as before, and a probe swapped for one with more channels
 * starts a run. A batch is cut in slots; the uplink sends it as one frame per channel (`c`), and the slots
 * leave the store once the last channel's frame is acknowledged.
 *
 * Durable use (battery mode, modules/power/retained.ts): the control words are copied into retained memory
 * at each commit, and the cells are written in place there. The store then keeps SPARE cells free, so that
 * the one append allowed between two commits never writes a cell the last committed image holds: a reset
 * before the next commit finds that image whole. `check` sums every held cell weighted by its position,
 * kept up to date as cells are written and freed, so the committed control words vouch for the cells.
 */
import { FAULT_LIMIT } from "../protocol/values";

export interface Run {
  boot: number;
  /** Channels a reading (cells a slot); 1 unless given. */
  width?: number;
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
  /** Cells a reading: its channels (reading j, channel c is cell `start + j · width + c`, round the ring). */
  width: number;
  boot: number;
  index: number;
  interval: number;
  /** Device clock (ms) of the slice's newest reading. */
  newest: number;
}

/** Starts a run mark: fault kind 15, which no probe gives (modules/protocol/values.ts has 9 kinds). */
const MARK = FAULT_LIMIT - 1;
/** A mark: MARK, boot (2 cells), index (2), interval (2), time (3: ms, 48 bits), low halves first. */
export const MARK_CELLS = 10;
/** Cells a durable store keeps free: the most one append writes (a mark and its reading). */
const SPARE = MARK_CELLS + 1;
/**
 * A run's width is kept above its interval (at most 86400 s, 17 bits): key = interval + (width − 1) · WIDTH_UNIT.
 * A slot of `width` cells keeps the ring within capacity + 1 − width cells, so the one append between two
 * commits still writes only spare cells (a wider probe swapped in mid-image is the exception: one cell).
 */
const WIDTH_UNIT = 0x20000;
const INTERVAL_MASK = WIDTH_UNIT - 1;
/** Channels a reading may have (docs/protocol.md, `c`: 0…15). */
export const MAX_CHANNELS = 16;

// Control words (Uint32), then two float64: the store's whole state but the cells. HEAD_* describe the
// oldest reading held, TAIL_* the first reading held of the newest run, which has TAIL_COUNT readings.
const HEAD = 0, USED = 1, COUNT = 2, DROPPED = 3, CHECK = 4, TAIL_COUNT = 5, HEAD_BOOT = 6, HEAD_INDEX = 7,
  HEAD_INTERVAL = 8, TAIL_BOOT = 9, TAIL_INDEX = 10, TAIL_INTERVAL = 11, WORDS = 12;
const HEAD_TIME = 0, TAIL_TIME = 1, FLOATS = 2;

export class ReadingStore {
  /** Readings held at most (all in one run; each further run's mark takes MARK_CELLS of it). */
  readonly capacity: number;
  /** The ring: readings and run marks. The encoder reads a slice of it. */
  readonly values: Int16Array;
  /** Bytes of control words (modules/power/retained.ts copies them at a commit). */
  static readonly CONTROL_BYTES = WORDS * 4 + FLOATS * 8;
  #words: Uint32Array;
  #floats: Float64Array;
  /** Keeps spare cells and the check of the held cells (battery mode); a store in RAM needs neither. */
  #durable: boolean;
  // Not kept across sleep: what is handed out in batches awaiting their ack, and where the next batch starts.
  #sent = 0;
  #sentAt = 0;
  #sentBoot = 0;
  #sentIndex = 0;
  #sentInterval = 0;
  #sentTime = 0;
  // The newest run's next slot, kept from the control words (`rewind`) so that an append on the grid reads
  // plain fields: the sample index and device time it expects, the run's boot and key, the cell it writes,
  // and the cell at which the ring is full. Such an append writes its cell and these fields only: the counts
  // in the control words (COUNT, USED, TAIL_COUNT) catch up with `#nextIndex − #folded` appends at the next
  // other call (`#fold`), or at once in a durable store, whose words a commit copies.
  #nextIndex = 0;
  #folded = 0;
  #fullAt = 0;
  /** Where the appends on the grid stop and take the long way: the ring's end, or the cell at which it is full. */
  #stop = 0;
  /** `unsent` less `#nextIndex`: COUNT − #folded − #sent, kept by every call but an append on the grid. */
  #unsentBase = 0;
  #nextTime = 0;
  #tailBoot = 0;
  #tailKey = 0;
  #end = 0;
  /** Cells in the ring (values.length, read once). */
  #length: number;

  /** Cells of ring a store of `capacity` readings needs (`durable`: with its spare cells). */
  static cellsFor(capacity: number, durable: boolean): number {
    return capacity + (durable ? SPARE : 0);
  }
  /** Readings a durable store can hold in `bytes` of cells. */
  static capacityFor(bytes: number): number {
    const capacity = Math.floor(bytes / 2) - SPARE;
    return capacity > 0 ? capacity : 0;
  }

  /**
   * A store of `capacity` readings. Its control words live in `control` (from `controlOffset`, 8-byte
   * aligned) and its cells in `cells` (from `cellsOffset`, 2-byte aligned) when given, as they were left
   * there; else in fresh memory, empty. `durable` keeps the spare cells a commit-per-append needs.
   */
  constructor(capacity: number, durable = false, control?: ArrayBuffer, controlOffset = 0, cells?: ArrayBuffer, cellsOffset = 0) {
    this.capacity = capacity;
    this.#durable = durable;
    const memory = control ?? new ArrayBuffer(ReadingStore.CONTROL_BYTES);
    this.#floats = new Float64Array(memory, controlOffset, FLOATS);
    this.#words = new Uint32Array(memory, controlOffset + FLOATS * 8, WORDS);
    const length = ReadingStore.cellsFor(capacity, durable);
    this.values = cells ? new Int16Array(cells, cellsOffset, length) : new Int16Array(length);
    this.#length = length;
    // A durable store keeps its control words exact at every append; a store in RAM lets them catch up.
    if (durable) this.append = (value, boot, index, interval, time) => ReadingStore.#appendDurable(this, value, boot, index, interval, time);
    this.rewind();
  }

  /** Empties the store (a fresh or a discarded retained image). */
  clear(): void {
    this.#folded = this.#nextIndex;
    this.#words.fill(0);
    this.#floats.fill(0);
    this.rewind();
  }

  get count(): number {
    return this.#words[COUNT] + this.#nextIndex - this.#folded;
  }
  /** Ring cells in use: readings and marks. */
  get used(): number {
    return this.#words[USED] + this.#nextIndex - this.#folded;
  }
  /** Readings dropped by the overflow policy, kept with the store. */
  get dropped(): number {
    return this.#words[DROPPED];
  }
  /** Readings not yet handed out in a batch. */
  get unsent(): number {
    return this.#nextIndex + this.#unsentBase;
  }
  /** The position-weighted sum of the held cells (the committed image's check on them). */
  get check(): number {
    ReadingStore.#fold(this);
    return this.#words[CHECK];
  }

  /**
   * Appends one reading (centi-degrees or a fault value) sampled at device time `time`. The common case — the
   * next slot of the newest run — reads plain fields and writes four numbers (`npm run bench`: issue 17 took
   * it from 230 units to about a third).
   */
  append(value: number, boot: number, index: number, interval: number, time: number): void {
    // The next slot of the newest run: on its grid (a reading later than its slot, a missed wake, starts a run
    // of its own, so times stay exact), in its boot, at its interval and width, with room for it.
    const late = time - this.#nextTime;
    if (index !== this.#nextIndex || late >= 500 || late <= -500 || boot !== this.#tailBoot || interval !== this.#tailKey || this.#end === this.#stop) {
      ReadingStore.#appendAside(this, value, boot, index, interval, time);
      return;
    }
    this.#nextIndex = index + 1;
    this.#nextTime += interval * 1000;
    // The cell after the last held one. Only a fault kind no probe gives could be taken for a mark: it is
    // kept as another such kind.
    // `#end` goes at most to the ring's length (`#stop`); `#fold` wraps it.
    this.values[this.#end++] = value === MARK ? MARK - 1 : value;
  }

  /** A durable store's `append`: the cell's share of the check, and the counts, at once (a commit copies them). */
  static #appendDurable(store: ReadingStore, value: number, boot: number, index: number, interval: number, time: number): void {
    const at = store.#end;
    ReadingStore.prototype.append.call(store, value, boot, index, interval, time);
    // Only the way on the grid leaves a count to catch up; the long way wrote its cells with `#put`.
    if (store.#folded !== store.#nextIndex) store.#words[CHECK] = (store.#words[CHECK] + store.#weigh(at)) >>> 0;
    ReadingStore.#fold(store);
  }

  /** The counts catch up with the appends made since the last call (see `#nextIndex`). */
  static #fold(store: ReadingStore): void {
    if (store.#end === store.#length) {
      store.#end = 0;
      ReadingStore.#restop(store);
    }
    const n = store.#nextIndex - store.#folded;
    if (n === 0) return;
    const w = store.#words;
    w[TAIL_COUNT] += n;
    w[USED] += n;
    w[COUNT] += n;
    store.#folded = store.#nextIndex;
  }

  /** The next slot of the newest run: its boot, index and key (interval and width), on its grid (±0.5 s). `append` inlines this. */
  static #onGrid(store: ReadingStore, boot: number, index: number, key: number, time: number): boolean {
    const late = time - store.#nextTime;
    return index === store.#nextIndex && late < 500 && late > -500 && boot === store.#tailBoot && key === store.#tailKey;
  }

  static #restop(store: ReadingStore): void {
    store.#stop = store.#fullAt >= store.#end ? store.#fullAt : store.#length;
  }

  static #appendAside(store: ReadingStore, value: number, boot: number, index: number, interval: number, time: number): void {
    ReadingStore.#fold(store);
    const w = store.#words;
    if (ReadingStore.#onGrid(store, boot, index, interval, time)) {
      ReadingStore.#makeRoom(store, 0);
      w[TAIL_COUNT]++;
    } else {
      store.#startRun(boot, index, interval, time, 0);
    }
    store.#nextIndex = index + 1;
    store.#nextTime += interval * 1000;
    store.#put(value === MARK ? MARK - 1 : value);
    w[COUNT]++;
    store.#folded = store.#nextIndex;
    ReadingStore.#restop(store);
    ReadingStore.#rebase(store);
  }

  /**
   * Appends one reading of a probe with more than one channel: channel 0's `value`, then `more` (channel 1
   * first), as a slot of 1 + more.length cells in a run of that width. No further channel: `append`.
   */
  appendChannels(value: number, more: ArrayLike<number>, boot: number, index: number, interval: number, time: number): void {
    const extra = more.length;
    if (extra === 0) return this.append(value, boot, index, interval, time);
    if (extra >= MAX_CHANNELS) throw new RangeError("too many channels");
    ReadingStore.#fold(this);
    const w = this.#words;
    const key = interval + extra * WIDTH_UNIT;
    if (ReadingStore.#onGrid(this, boot, index, key, time)) {
      ReadingStore.#makeRoom(this, extra);
      w[TAIL_COUNT]++;
    } else {
      this.#startRun(boot, index, key, time, extra);
    }
    this.#nextIndex = index + 1;
    this.#nextTime += interval * 1000;
    this.#put(value === MARK ? MARK - 1 : value);
    for (let c = 0; c < extra; c++) this.#put(more[c] === MARK ? MARK - 1 : more[c]);
    w[COUNT]++;
    this.#folded = this.#nextIndex;
    ReadingStore.#restop(this);
    ReadingStore.#rebase(this);
  }

  /** Channels a reading of the next batch has (1 when nothing is unsent): the uplink sends a frame for each. */
  get nextWidth(): number {
    ReadingStore.#fold(this);
    return this.#syncSent() ? (this.#sentInterval >>> 17) + 1 : 1;
  }

  static #makeRoom(store: ReadingStore, extra: number): number {
    const w = store.#words;
    while (w[USED] + extra + extra >= store.capacity) store.#dropOldest();
    return w[USED];
  }

  /** Starts a run at this reading (a mark, unless the store is empty); returns the cells then used. */
  #startRun(boot: number, index: number, interval: number, time: number, extra: number): number {
    const w = this.#words;
    const f = this.#floats;
    // Room for a mark and the reading; a store emptied on the way needs no mark.
    while (w[COUNT] !== 0 && w[USED] + MARK_CELLS + 1 + extra + extra > this.capacity) this.#dropOldest();
    if (w[COUNT] === 0) {
      // The first reading goes where the last one ended (HEAD): a cell the committed image does not hold.
      w[HEAD_BOOT] = boot;
      w[HEAD_INDEX] = index;
      w[HEAD_INTERVAL] = interval;
      f[HEAD_TIME] = time;
      this.rewind();
    } else {
      this.#writeMark(boot, index, interval, time);
    }
    w[TAIL_BOOT] = boot;
    w[TAIL_INDEX] = index;
    w[TAIL_INTERVAL] = interval;
    w[TAIL_COUNT] = 1;
    f[TAIL_TIME] = time;
    this.#tailBoot = boot;
    this.#tailKey = interval;
    this.#nextTime = time;
    return w[USED];
  }

  /**
   * Device time (ms) of the oldest reading not yet sent, or -1 when there is none. The batching rule
   * compares it with the maximum latency.
   */
  oldestUnsentTime(): number {
    ReadingStore.#fold(this);
    if (!this.#syncSent()) return -1;
    return this.#sentTime;
  }

  /**
   * True when the next batch is ready to go: a full `size` of one run, or the rest of a run that has
   * ended (a later run exists), since a batch never spans runs.
   */
  hasFullBatch(size: number): boolean {
    ReadingStore.#fold(this);
    const w = this.#words;
    if (this.#sent >= w[COUNT]) return false;
    return this.#sent < w[COUNT] - w[TAIL_COUNT] || w[COUNT] - this.#sent >= size;
  }

  /**
   * Hands out the next slice of at most `max` unsent readings, all from one run, and marks them sent.
   * Returns false when there is nothing to send.
   */
  takeBatch(max: number, slice: Slice): boolean {
    ReadingStore.#fold(this);
    if (!this.#syncSent()) return false;
    const w = this.#words;
    const cells = this.values;
    const length = cells.length;
    const start = this.#sentAt;
    const unsent = w[COUNT] - this.#sent;
    const key = this.#sentInterval;
    const width = (key >>> 17) + 1;
    let count = unsent < max ? unsent : max;
    let at = start + count * width;
    if (this.#sent < w[COUNT] - w[TAIL_COUNT]) {
      // Not in the newest run: the run may end before `count`, at its successor's mark.
      at = start;
      for (let n = 0; n < count; n++) {
        if (cells[at] === MARK) {
          count = n;
          break;
        }
        at += width;
        if (at >= length) at -= length;
      }
    } else if (at >= length) {
      at -= length;
    }
    const interval = key & INTERVAL_MASK;
    slice.start = start;
    slice.count = count;
    slice.width = width;
    slice.boot = this.#sentBoot;
    slice.index = this.#sentIndex;
    slice.interval = interval;
    slice.newest = this.#sentTime + (count - 1) * interval * 1000;
    this.#sent += count;
    this.#sentAt = at;
    this.#sentIndex += count;
    this.#sentTime += count * interval * 1000;
    ReadingStore.#rebase(this);
    return true;
  }

  /**
   * Forgets readings `[index, index + count)` of `boot` once the server has acknowledged them. Acks
   * arrive in order, so they are at the head; readings the overflow policy already dropped are skipped.
   * Returns how many readings were released.
   */
  release(boot: number, index: number, count: number): number {
    ReadingStore.#fold(this);
    const w = this.#words;
    if (w[COUNT] === 0 || w[HEAD_BOOT] !== boot) return 0;
    const end = index + count;
    const first = w[HEAD_INDEX];
    if (end <= first || index > first) return 0;
    let n = end - first;
    if (n > w[COUNT]) n = w[COUNT];
    if (w[COUNT] !== w[TAIL_COUNT]) {
      // A later run's mark lies ahead, and a batch never spans runs: stop at the head run's end.
      const cells = this.values;
      const width = (w[HEAD_INTERVAL] >>> 17) + 1;
      let at = w[HEAD];
      for (let k = 0; k < n; k++) {
        if (cells[at] === MARK) {
          n = k;
          break;
        }
        at += width;
        if (at >= cells.length) at -= cells.length;
      }
    }
    this.#dropHead(n);
    this.#forget(n);
    ReadingStore.#rebase(this);
    return n;
  }

  /** After a lost connection: everything in flight is unsent again, to be sent anew. */
  rewind(): void {
    ReadingStore.#fold(this);
    ReadingStore.#unsend(this);
    // The next slot, from the control words (a restored image, a cleared store).
    const w = this.#words;
    const n = w[TAIL_COUNT];
    this.#tailBoot = w[TAIL_BOOT];
    this.#tailKey = w[TAIL_INTERVAL];
    this.#nextIndex = w[TAIL_INDEX] + n;
    this.#nextTime = this.#floats[TAIL_TIME] + n * (w[TAIL_INTERVAL] & INTERVAL_MASK) * 1000;
    this.#folded = this.#nextIndex;
    const length = this.#length;
    const end = w[HEAD] + w[USED];
    this.#end = end >= length ? end - length : end;
    const full = w[HEAD] + this.capacity;
    this.#fullAt = full >= length ? full - length : full;
    ReadingStore.#restop(this);
    ReadingStore.#rebase(this);
  }

  static #rebase(store: ReadingStore): void {
    store.#unsentBase = store.#words[COUNT] - store.#folded - store.#sent;
  }

  /** Nothing is in flight: the next batch starts at the head. */
  static #unsend(store: ReadingStore): void {
    const w = store.#words;
    store.#sent = 0;
    store.#sentAt = w[HEAD];
    store.#sentBoot = w[HEAD_BOOT];
    store.#sentIndex = w[HEAD_INDEX];
    store.#sentInterval = w[HEAD_INTERVAL];
    store.#sentTime = store.#floats[HEAD_TIME];
  }

  /** Device time (ms) of the oldest reading held, or -1. */
  oldestTime(): number {
    ReadingStore.#fold(this);
    return this.#words[COUNT] ? this.#floats[HEAD_TIME] : -1;
  }

  /** Runs held (walks the ring: for inspection and tests). */
  get runs(): number {
    ReadingStore.#fold(this);
    let runs = 0;
    this.#walk((mark) => {
      if (mark) runs++;
    });
    return this.#words[COUNT] ? runs + 1 : 0;
  }

  /** Run `r` (0 = oldest), for inspection and tests (walks the ring). */
  run(r: number, into: Run): Run | undefined {
    ReadingStore.#fold(this);
    const w = this.#words;
    if (r < 0 || !w[COUNT]) return undefined;
    let k = 0;
    into.boot = w[HEAD_BOOT];
    into.index = w[HEAD_INDEX];
    into.interval = w[HEAD_INTERVAL] & INTERVAL_MASK;
    if (w[HEAD_INTERVAL] > INTERVAL_MASK || into.width !== undefined) into.width = (w[HEAD_INTERVAL] >>> 17) + 1;
    into.time = this.#floats[HEAD_TIME];
    into.count = 0;
    let found = r === 0;
    this.#walk((mark, at) => {
      if (!mark) {
        if (k === r) into.count++;
        return;
      }
      if (++k === r) {
        found = true;
        into.boot = this.#field(at, 1);
        into.index = this.#field(at, 3);
        const key = this.#field(at, 5);
        into.interval = key & INTERVAL_MASK;
        if (key > INTERVAL_MASK || into.width !== undefined) into.width = (key >>> 17) + 1;
        into.time = this.#field(at, 7) + this.#cell(at, 9) * 4294967296;
      }
    });
    return found ? into : undefined;
  }

  /** Value of the `i`-th oldest reading held, channel `channel` (NaN when it has none; walks the ring). */
  valueAt(i: number, channel = 0): number {
    ReadingStore.#fold(this);
    let value = NaN;
    let n = 0;
    this.#walk((mark, at, width) => {
      if (!mark && n++ === i && channel < width) value = (this.#cell(at, channel) << 16) >> 16;
    });
    return value;
  }

  /**
   * True when the control words describe the cells: counts in range, marks where the runs say, and the
   * position-weighted sum of the held cells matching `check` (a wake checks this with the image's CRC).
   */
  isConsistent(): boolean {
    ReadingStore.#fold(this);
    const w = this.#words;
    const length = this.values.length;
    if (w[HEAD] >= length || w[USED] > this.capacity || w[COUNT] > w[USED] || w[TAIL_COUNT] > w[COUNT]) return false;
    if ((w[COUNT] === 0) !== (w[USED] === 0) || (w[COUNT] !== 0 && this.values[w[HEAD]] === MARK)) return false;
    // One pass over the held cells (inline: it runs at every wake over up to a few thousand cells).
    const values = this.values;
    let readings = 0, tail = 0, sum = 0, left = w[USED], at = w[HEAD];
    let width = (w[HEAD_INTERVAL] >>> 17) + 1;
    while (left > 0) {
      let step = width;
      if (values[at] === MARK) {
        step = MARK_CELLS;
        if (step > left) return false;
        width = (this.#field(at, 5) >>> 17) + 1;
        tail = 0;
      } else {
        if (step > left) return false;
        readings++;
        tail++;
      }
      left -= step;
      while (step-- > 0) {
        sum = (sum + Math.imul((values[at] & 0xffff) + 1, 2 * at + 1)) >>> 0;
        if (++at === length) at = 0;
      }
    }
    return readings === w[COUNT] && tail === w[TAIL_COUNT] && (!this.#durable || sum === w[CHECK]);
  }

  /** Calls `visit` for each held item from the oldest: a reading (its first cell, its width), or a mark (at its MARK cell). */
  #walk(visit: (mark: boolean, at: number, width: number) => void): void {
    const w = this.#words;
    const length = this.values.length;
    let at = w[HEAD];
    let left = w[USED];
    let width = (w[HEAD_INTERVAL] >>> 17) + 1;
    while (left > 0) {
      const mark = this.values[at] === MARK;
      if (mark) width = (this.#field(at, 5) >>> 17) + 1;
      visit(mark, at, width);
      const step = mark ? (MARK_CELLS < left ? MARK_CELLS : left) : width < left ? width : left;
      left -= step;
      at += step;
      if (at >= length) at -= length;
    }
  }

  /** Skips a mark at the send position into the sent run's description; false when nothing is unsent. */
  #syncSent(): boolean {
    if (this.#sent >= this.#words[COUNT]) return false;
    const at = this.#sentAt;
    if (this.values[at] === MARK) {
      this.#sentBoot = this.#field(at, 1);
      this.#sentIndex = this.#field(at, 3);
      this.#sentInterval = this.#field(at, 5);
      this.#sentTime = this.#field(at, 7) + this.#cell(at, 9) * 4294967296;
      const next = at + MARK_CELLS;
      this.#sentAt = next >= this.values.length ? next - this.values.length : next;
    }
    return true;
  }

  /** `n` readings left the head: fewer are in flight; none when the head passed the send position. */
  #forget(n: number): void {
    if (this.#sent > n) this.#sent -= n;
    else ReadingStore.#unsend(this);
  }

  #dropOldest(): void {
    this.#words[DROPPED]++;
    this.#dropHead(1);
    this.#forget(1);
  }

  /**
   * Frees the `n` oldest readings, all of the head run; when a mark follows them, frees it too and takes its
   * run as the head run.
   */
  #dropHead(n: number): void {
    const w = this.#words;
    const f = this.#floats;
    const cells = this.values;
    const length = cells.length;
    const key = w[HEAD_INTERVAL];
    const slots = n;
    n *= (key >>> 17) + 1; // cells
    let at = w[HEAD];
    if (this.#durable) {
      let check = w[CHECK];
      for (let k = 0; k < n; k++) {
        check = (check - Math.imul((cells[at] & 0xffff) + 1, 2 * at + 1)) >>> 0;
        if (++at === length) at = 0;
      }
      w[CHECK] = check;
    } else {
      at += n;
      if (at >= length) at -= length;
    }
    w[USED] -= n;
    w[HEAD_INDEX] += slots;
    f[HEAD_TIME] += slots * (key & INTERVAL_MASK) * 1000;
    w[HEAD] = at;
    if (w[COUNT] === w[TAIL_COUNT]) {
      // The head run is the tail run: its first reading held moves on.
      w[TAIL_COUNT] -= slots;
      w[TAIL_INDEX] = w[HEAD_INDEX];
      f[TAIL_TIME] = f[HEAD_TIME];
    }
    w[COUNT] -= slots;
    const full = at + this.capacity;
    this.#fullAt = full >= length ? full - length : full;
    ReadingStore.#restop(this);
    if (w[COUNT] === 0 || cells[at] !== MARK) return;
    w[HEAD_BOOT] = this.#field(at, 1);
    w[HEAD_INDEX] = this.#field(at, 3);
    w[HEAD_INTERVAL] = this.#field(at, 5);
    f[HEAD_TIME] = this.#field(at, 7) + this.#cell(at, 9) * 4294967296;
    for (let k = 0; k < MARK_CELLS; k++) {
      if (this.#durable) w[CHECK] = (w[CHECK] - this.#weigh(at)) >>> 0;
      if (++at === length) at = 0;
    }
    w[USED] -= MARK_CELLS;
    w[HEAD] = at;
    const full2 = at + this.capacity;
    this.#fullAt = full2 >= length ? full2 - length : full2;
    ReadingStore.#restop(this);
  }

  #writeMark(boot: number, index: number, interval: number, time: number): void {
    const t = Math.round(time);
    const high = Math.floor(t / 4294967296);
    const low = t - high * 4294967296;
    this.#put(MARK);
    this.#put(boot & 0xffff);
    this.#put(boot >>> 16);
    this.#put(index & 0xffff);
    this.#put(index >>> 16);
    this.#put(interval & 0xffff);
    this.#put(interval >>> 16);
    this.#put(low & 0xffff);
    this.#put(low >>> 16);
    this.#put(high & 0xffff);
  }

  /** Writes the cell after the last held one, and counts it in. */
  #put(value: number): void {
    const w = this.#words;
    const cells = this.values;
    const at = this.#end;
    this.#end = at + 1 === this.#length ? 0 : at + 1;
    cells[at] = value;
    if (this.#durable) w[CHECK] = (w[CHECK] + Math.imul((cells[at] & 0xffff) + 1, 2 * at + 1)) >>> 0;
    w[USED]++;
  }

  /** A cell's share of `check`: odd weights, so a flipped bit or a moved cell always changes the sum. */
  #weigh(at: number): number {
    return Math.imul((this.values[at] & 0xffff) + 1, 2 * at + 1);
  }

  /** The unsigned 16-bit cell `k` after `at`. */
  #cell(at: number, k: number): number {
    const p = at + k;
    return this.values[p < this.values.length ? p : p - this.values.length] & 0xffff;
  }
  /** The 32-bit field in cells `k`, `k + 1` after `at`. */
  #field(at: number, k: number): number {
    return this.#cell(at, k) + this.#cell(at, k + 1) * 65536;
  }
}
