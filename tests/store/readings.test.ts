import { test } from "node:test";
import assert from "node:assert/strict";
import { MARK_CELLS, ReadingStore, type Run, type Slice } from "../../modules/store/readings";
import { mulberry32 as random } from "../../simulator/hardware/random";

const slice = (): Slice => ({ start: 0, count: 0, width: 1, boot: 0, index: 0, interval: 0, newest: 0 });

function fill(store: ReadingStore, from: number, to: number, boot = 1, interval = 60, t0 = 0) {
  for (let k = from; k < to; k++) store.append(2000 + k, boot, k, interval, t0 + k * interval * 1000);
}

test("readings on one grid form one run; batches are cut in order and released by ack", () => {
  const store = new ReadingStore(100);
  fill(store, 0, 25);
  assert.equal(store.runs, 1);
  assert.ok(store.hasFullBatch(10));
  const s = slice();
  assert.ok(store.takeBatch(10, s));
  assert.deepEqual([s.index, s.count, s.boot, s.interval, s.newest], [0, 10, 1, 60, 9 * 60000]);
  assert.ok(store.takeBatch(10, s));
  assert.equal(s.index, 10);
  assert.equal(store.unsent, 5);
  assert.equal(store.release(1, 0, 10), 10);
  assert.equal(store.count, 15);
  assert.equal(store.valueAt(0), 2010);
  assert.equal(store.oldestUnsentTime(), 20 * 60000);
});

test("rewind makes unacknowledged readings unsent again, and a resend cuts the same readings", () => {
  const store = new ReadingStore(50);
  fill(store, 0, 20);
  const s = slice();
  store.takeBatch(10, s);
  store.takeBatch(10, s);
  store.release(1, 0, 10);
  store.rewind();
  assert.equal(store.unsent, 10);
  store.takeBatch(10, s);
  assert.equal(s.index, 10);
  assert.equal(store.values[s.start], 2010);
});

test("overflow drops the oldest readings and counts every one", () => {
  const store = new ReadingStore(10);
  fill(store, 0, 25);
  assert.equal(store.count, 10);
  assert.equal(store.dropped, 15);
  assert.equal(store.valueAt(0), 2015);
  const s = slice();
  store.takeBatch(10, s);
  assert.equal(s.index, 15);
  assert.equal(s.newest, 24 * 60000);
});

test("an ack for readings the overflow already dropped releases only what is left", () => {
  const store = new ReadingStore(10);
  fill(store, 0, 10);
  const s = slice();
  store.takeBatch(5, s); // readings 0..4 in flight
  fill(store, 10, 13); // drops 0..2
  assert.equal(store.dropped, 3);
  assert.equal(store.release(1, 0, 5), 2);
  assert.equal(store.valueAt(0), 2005);
  assert.equal(store.unsent, 8);
});

test("a new interval, a new boot or a missed slot starts a new run; a batch never spans runs", () => {
  const store = new ReadingStore(100);
  fill(store, 0, 3);
  store.append(1, 1, 3, 30, 3 * 60000); // interval change
  store.append(2, 2, 0, 30, 10 * 60000); // new boot
  store.append(3, 2, 2, 30, 10 * 60000 + 60000); // index gap
  assert.equal(store.runs, 4);
  const s = slice();
  assert.ok(store.hasFullBatch(10), "a finished run is sendable though short");
  store.takeBatch(10, s);
  assert.equal(s.count, 3);
  store.takeBatch(10, s);
  assert.deepEqual([s.count, s.interval, s.index], [1, 30, 3]);
});

/** ESP8266 battery mode's store: a few dozen readings in RTC memory (docs/power.md). */
const SMALL = 36;

function drain(store: ReadingStore): Slice[] {
  const out: Slice[] = [];
  for (let s = slice(); store.takeBatch(100, s); s = slice()) out.push(s);
  return out;
}

test("a slot skipped by a long wake starts a run in the ring: nothing dropped while the ring has room", () => {
  const store = new ReadingStore(SMALL, true);
  // Every other slot skipped: each reading is a run of its own, 1 + MARK_CELLS cells each after the first.
  let k = 0;
  for (; 1 + k * (1 + MARK_CELLS) <= SMALL; k++) store.append(100 + k, 1, 2 * k, 60, 2 * k * 60000);
  assert.equal(store.count, k);
  assert.equal(store.runs, k);
  assert.equal(store.dropped, 0, "no reading dropped while the ring had room");
  assert.deepEqual(drain(store).map((s) => [s.index, s.count, s.newest]), Array.from({ length: k }, (_, j) => [2 * j, 1, 2 * j * 60000]));
  // One more gap than fits: the oldest reading goes, counted, and its mark with it.
  store.rewind();
  store.append(999, 1, 2 * k, 60, 2 * k * 60000);
  assert.equal(store.dropped, 1);
  assert.equal(store.count, k);
  assert.equal(store.valueAt(0), 101);
  assert.ok(store.isConsistent());
});

test("a pushed interval change starts a run in the ring, and its readings keep their own interval", () => {
  const store = new ReadingStore(SMALL, true);
  fill(store, 0, 5, 1, 60);
  for (let k = 5; k < 10; k++) store.append(3000 + k, 1, k, 30, 5 * 60000 + (k - 5) * 30000);
  fill(store, 10, 15, 1, 120, 10 * 30000 - 10 * 120000 + 5 * 60000 - 5 * 30000 + 5 * 30000);
  assert.equal(store.runs, 3);
  assert.equal(store.count, 15);
  assert.equal(store.dropped, 0);
  const runs = drain(store).map((s) => [s.index, s.count, s.interval]);
  assert.deepEqual(runs, [[0, 5, 60], [5, 5, 30], [10, 5, 120]]);
});

test("a new boot starts a run in the ring; readings of the old boot stay until acknowledged", () => {
  const store = new ReadingStore(SMALL, true);
  fill(store, 0, 8, 1);
  for (let boot = 2; boot <= 3; boot++) fill(store, 0, 4, boot, 60, boot * 3600000);
  assert.equal(store.runs, 3);
  assert.equal(store.dropped, 0);
  const batches = drain(store);
  assert.deepEqual(batches.map((s) => [s.boot, s.index, s.count]), [[1, 0, 8], [2, 0, 4], [3, 0, 4]]);
  assert.equal(store.release(1, 0, 8), 8);
  assert.equal(store.release(2, 0, 4), 4);
  assert.deepEqual([store.count, store.runs, store.valueAt(0)], [4, 1, 2000]);
  const r: Run = { boot: 0, index: 0, count: 0, interval: 0, time: 0 };
  assert.deepEqual(store.run(0, r), { boot: 3, index: 0, count: 4, interval: 60, time: 3 * 3600000 });
});

test("a store over given memory is found again as it was left, by a new instance (a wake)", () => {
  const control = new ArrayBuffer(ReadingStore.CONTROL_BYTES + 8);
  const cells = new ArrayBuffer(2 * ReadingStore.cellsFor(50, true) + 2);
  const before = new ReadingStore(50, true, control, 8, cells, 2);
  before.clear();
  fill(before, 0, 30);
  before.append(7, 1, 40, 30, 99999);
  const s = slice();
  before.takeBatch(10, s);
  before.release(1, 0, 10);

  const after = new ReadingStore(50, true, control, 8, cells, 2);
  assert.ok(after.isConsistent());
  assert.equal(after.count, 21);
  assert.equal(after.runs, 2);
  assert.equal(after.unsent, 21, "nothing is in flight after a wake");
  assert.equal(after.valueAt(0), 2010);
  after.takeBatch(100, s);
  assert.deepEqual([s.index, s.count, s.newest], [10, 20, 29 * 60000]);
  after.takeBatch(100, s);
  assert.deepEqual([s.index, s.count, s.interval, s.newest, after.values[s.start]], [40, 1, 30, 99999, 7]);
});

test("control words that cannot describe the cells, or a changed held cell, are caught", () => {
  const control = new ArrayBuffer(ReadingStore.CONTROL_BYTES);
  const cells = new ArrayBuffer(2 * ReadingStore.cellsFor(20, true));
  const store = new ReadingStore(20, true, control, 0, cells);
  fill(store, 0, 5);
  fill(store, 0, 2, 2);
  assert.ok(store.isConsistent());
  const words = new Uint32Array(control, 16, 12);
  const again = () => new ReadingStore(20, true, control, 0, cells).isConsistent();
  words[2] = 6; // count no longer matches the cells
  assert.equal(again(), false);
  words[2] = 7;
  words[0] = 40; // head out of range
  assert.equal(again(), false);
  words[0] = 0;
  assert.equal(again(), true);
  const values = new Int16Array(cells);
  values[3] ^= 0x40; // a held reading
  assert.equal(again(), false);
  values[3] ^= 0x40;
  values[7] ^= 0x01; // the mark's boot
  assert.equal(again(), false);
  values[7] ^= 0x01;
  values[25] ^= 0x7f; // a free cell: not part of the store
  assert.equal(again(), true);
});


interface Held { boot: number; index: number; interval: number; time: number; value: number; starts: boolean }

test("random gaps, boots, interval changes, batches and acks: the store matches a model, and drops only when the ring is full", () => {
  const seed = 14_07;
  const next = random(seed);
  for (const capacity of [SMALL, 60, 150]) {
    const store = new ReadingStore(capacity, true);
    const model: Held[] = [];
    let dropped = 0, boot = 1, index = 0, interval = 60, time = 0, inFlight = 0, drops = 0;
    const cellsOf = (list: Held[]) => list.reduce((n, h, i) => n + 1 + (h.starts && i > 0 ? MARK_CELLS : 0), 0);
    for (let step = 0; step < 600; step++) {
      const r = next();
      if (r < 0.6) {
        // A reading: mostly on the grid, sometimes after a skipped slot, an interval change or a new boot.
        const gap = next();
        if (gap < 0.08) { index += 1 + Math.floor(next() * 3); time += interval * 1000 * (index % 4); }
        else if (gap < 0.12) interval = [30, 60, 120][Math.floor(next() * 3)];
        else if (gap < 0.15) { boot++; index = 0; time += 3600000; }
        const last = model[model.length - 1];
        const starts = !last || last.boot !== boot || last.interval !== interval || last.index + 1 !== index || Math.abs(last.time + interval * 1000 - time) >= 500;
        model.push({ boot, index, interval, time, value: Math.floor(next() * 4000) - 1000, starts });
        const room = cellsOf(model) <= capacity;
        while (cellsOf(model) > capacity) {
          model.shift();
          if (model.length) model[0].starts = true;
          dropped++;
          inFlight = Math.max(0, inFlight - 1);
        }
        store.append(model[model.length - 1].value, boot, index, interval, time);
        if (room) assert.equal(store.dropped, dropped, `step ${step}: nothing dropped while the ring had room`);
        index++;
        time += interval * 1000;
      } else if (r < 0.8) {
        const s = slice();
        const max = 1 + Math.floor(next() * 12);
        if (store.takeBatch(max, s)) {
          const first = model[inFlight];
          let n = 1;
          while (n < max && inFlight + n < model.length && !model[inFlight + n].starts) n++;
          assert.deepEqual([s.boot, s.index, s.interval, s.count], [first.boot, first.index, first.interval, n], `step ${step}: batch`);
          assert.equal(s.newest, model[inFlight + n - 1].time);
          for (let k = 0; k < n; k++) assert.equal(store.values[(s.start + k) % store.values.length], model[inFlight + k].value);
          inFlight += n;
        } else assert.equal(inFlight, model.length);
      } else if (r < 0.95) {
        // The ack of the oldest batch in flight: its run's readings up to the send position.
        if (!inFlight) continue;
        let n = 1;
        while (n < inFlight && !model[n].starts) n++;
        assert.equal(store.release(model[0].boot, model[0].index, n), n, `step ${step}: release`);
        model.splice(0, n);
        if (model.length) model[0].starts = true;
        inFlight -= n;
      } else {
        store.rewind();
        inFlight = 0;
      }
      if (store.dropped > drops) drops = store.dropped;
      assert.equal(store.count, model.length, `step ${step}: count`);
      assert.equal(store.dropped, dropped, `step ${step}: dropped`);
      assert.equal(store.unsent, model.length - inFlight);
      assert.ok(store.isConsistent(), `step ${step}: consistent`);
    }
    assert.ok(drops > 0, `capacity ${capacity}: the run overflowed at least once (seed ${seed})`);
  }
});

test("a two-channel probe's readings keep their channels: slots of two cells, a run of their own, released by slot", () => {
  const store = new ReadingStore(40);
  fill(store, 0, 3); // temperature only: width 1
  const more = new Int16Array(1);
  for (let k = 3; k < 8; k++) {
    more[0] = 5000 + k;
    store.appendChannels(2000 + k, more, 1, k, 60, k * 60000);
  }
  assert.equal(store.count, 8);
  assert.equal(store.runs, 2, "the width starts a run");
  assert.equal(store.valueAt(4), 2004);
  assert.equal(store.valueAt(4, 1), 5004);
  assert.ok(Number.isNaN(store.valueAt(1, 1)), "a temperature-only reading has no channel 1");
  assert.deepEqual(store.run(1, { boot: 0, index: 0, count: 0, interval: 0, time: 0 }), { boot: 1, index: 3, count: 5, interval: 60, width: 2, time: 180000 });
  const s = slice();
  assert.ok(store.takeBatch(10, s));
  assert.deepEqual([s.index, s.count, s.width], [0, 3, 1]);
  assert.equal(store.nextWidth, 2);
  assert.ok(store.takeBatch(10, s));
  assert.deepEqual([s.index, s.count, s.width, s.interval, s.newest], [3, 5, 2, 60, 7 * 60000]);
  const cells = Array.from({ length: 10 }, (_, k) => store.values[(s.start + k) % store.values.length]);
  assert.deepEqual(cells, [2003, 5003, 2004, 5004, 2005, 5005, 2006, 5006, 2007, 5007]);
  assert.equal(store.release(1, 0, 3), 3);
  assert.equal(store.release(1, 3, 5), 5);
  assert.equal(store.count, 0);
  assert.ok(store.isConsistent());
});

test("two-channel readings overflow by whole slots and stay consistent, in RAM and durable", () => {
  for (const durable of [false, true]) {
    const store = durable ? new ReadingStore(30, true, new ArrayBuffer(ReadingStore.CONTROL_BYTES), 0, new ArrayBuffer(2 * ReadingStore.cellsFor(30, true))) : new ReadingStore(30);
    const more = new Int16Array(1);
    for (let k = 0; k < 100; k++) {
      more[0] = 7000 + k;
      store.appendChannels(2000 + k, more, 1, k, 60, k * 60000);
      assert.ok(store.isConsistent(), `durable ${durable}, reading ${k}`);
      assert.ok(store.used <= 30);
    }
    // A slot of w cells keeps the ring within capacity + 1 − w cells (the spare cells of a durable store).
    assert.equal(store.count, 14, "14 slots of two cells in 30");
    assert.equal(store.dropped, 86);
    assert.deepEqual([store.valueAt(0), store.valueAt(0, 1), store.valueAt(13, 1)], [2086, 7086, 7099]);
  }
});
