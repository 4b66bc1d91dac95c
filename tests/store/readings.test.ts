import { test } from "node:test";
import assert from "node:assert/strict";
import { ReadingStore, type Slice } from "../../modules/store/readings";

const slice = (): Slice => ({ start: 0, count: 0, boot: 0, index: 0, interval: 0, newest: 0 });

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

test("the run table is bounded: a run past it drops the oldest run, counted", () => {
  const store = new ReadingStore(100, 2);
  store.append(1, 1, 0, 60, 0);
  store.append(2, 2, 0, 60, 0);
  store.append(3, 3, 0, 60, 0);
  assert.equal(store.runs, 2);
  assert.equal(store.dropped, 1);
  assert.equal(store.valueAt(0), 2);
});

test("a store over given memory is found again as it was left, by a new instance (a wake)", () => {
  const memory = new ArrayBuffer(ReadingStore.bytesFor(50, 4) + 8);
  const before = new ReadingStore(50, 4, memory, 8);
  before.clear();
  fill(before, 0, 30);
  before.append(7, 1, 40, 30, 99999);
  const s = slice();
  before.takeBatch(10, s);
  before.release(1, 0, 10);

  const after = new ReadingStore(50, 4, memory, 8);
  assert.ok(after.isConsistent());
  assert.equal(after.count, 21);
  assert.equal(after.runs, 2);
  assert.equal(after.unsent, 21, "nothing is in flight after a wake");
  assert.equal(after.valueAt(0), 2010);
  after.takeBatch(100, s);
  assert.deepEqual([s.index, s.count, s.newest], [10, 20, 29 * 60000]);
});

test("meta words that cannot describe a store are caught", () => {
  const memory = new ArrayBuffer(ReadingStore.bytesFor(10, 2));
  const store = new ReadingStore(10, 2, memory);
  fill(store, 0, 5);
  assert.ok(store.isConsistent());
  const meta = new Uint32Array(memory, 2 * 8 + 2 * 16, 4);
  meta[1] = 6; // count no longer matches the runs
  assert.equal(new ReadingStore(10, 2, memory).isConsistent(), false);
  meta[1] = 5;
  meta[0] = 10; // head out of range
  assert.equal(new ReadingStore(10, 2, memory).isConsistent(), false);
});
