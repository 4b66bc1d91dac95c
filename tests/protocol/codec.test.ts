import { test } from "node:test";
import assert from "node:assert/strict";
import { BatchEncoder } from "../../modules/protocol/batch";
import { decodeValues, FAULT_NAMES, faultValue, type FaultKind } from "../../modules/protocol/values";
import { vectors } from "../vectors/vectors";

function header(frame: Record<string, number>) {
  return { seq: frame.s, boot: frame.o, index: frame.k, interval: frame.i, age: frame.a ?? 0, time: frame.T ?? 0, channel: frame.c ?? 0 };
}

for (const vector of vectors.valid) {
  test(`encoder writes vector: ${vector.name}`, () => {
    const frame = JSON.parse(vector.frame);
    const values = Int16Array.from(vector.readings, (r) =>
      r.fault === null ? r.centi! : faultValue(FAULT_NAMES.indexOf(r.fault) as FaultKind));
    const encoder = new BatchEncoder(120);
    encoder.encode(header(frame), values, 0, values.length);
    assert.equal(encoder.text(), vector.frame);
    assert.equal(String.fromCharCode(...encoder.bytes()), vector.frame);
  });

  test(`decoder reads vector: ${vector.name}`, () => {
    const frame = JSON.parse(vector.frame);
    const decoded = decodeValues(frame.v, frame.b, frame.n);
    assert.deepEqual(decoded.values, vector.readings.map((r) => r.centi));
    assert.deepEqual(decoded.faults, vector.readings.map((r) => r.fault));
  });
}

for (const vector of vectors.invalid.filter((v) => v.error === "bad-values")) {
  test(`decoder refuses vector: ${vector.name}`, () => {
    const frame = JSON.parse(vector.frame);
    assert.throws(() => decodeValues(frame.v, frame.b, frame.n), RangeError);
  });
}

test("encoder reads a ring that wraps, and reuses its buffer", () => {
  const ring = new Int16Array(5);
  ring.set([2003, 2004, 0, 2001, 2002]); // oldest at slot 3
  const encoder = new BatchEncoder(8);
  const h = { seq: 1, boot: 1, index: 0, interval: 60, age: 0, time: 0, channel: 0 };
  encoder.encode(h, ring, 3, 4);
  const first = JSON.parse(encoder.text());
  assert.deepEqual(decodeValues(first.v, first.b, first.n).values, [2001, 2002, 2003, 2004]);
  encoder.encode({ ...h, seq: 2 }, ring, 0, 1);
  assert.equal(JSON.parse(encoder.text()).v, "A");
  assert.throws(() => encoder.encode(h, ring, 0, 9), RangeError);
});

test("round trip of random walks, including faults, at every batch size up to 120", () => {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
  const encoder = new BatchEncoder(120);
  for (let n = 1; n <= 120; n++) {
    const values = new Int16Array(n);
    let t = Math.floor(random() * 10000) - 5000;
    for (let j = 0; j < n; j++) {
      if (random() < 0.05) values[j] = faultValue(Math.floor(random() * 9) as FaultKind);
      else values[j] = t = Math.max(-32752, Math.min(32767, t + Math.floor((random() - 0.5) * (random() < 0.1 ? 20000 : 40))));
    }
    encoder.encode({ seq: n, boot: 1, index: 0, interval: 1, age: 0, time: 0, channel: 0 }, values, 0, n);
    const frame = JSON.parse(encoder.text());
    const decoded = decodeValues(frame.v, frame.b, frame.n);
    for (let j = 0; j < n; j++) {
      if (values[j] < -32752) assert.equal(decoded.faults[j], FAULT_NAMES[values[j] + 32768]);
      else assert.equal(decoded.values[j], values[j]);
    }
  }
});

test("a 60-reading batch costs under 2.5 bytes a reading on the wire, framing included", () => {
  const sixty = vectors.valid.find((v) => v.readings.length === 60)!;
  const payload = sixty.frame.length;
  const clientFrameHeader = payload < 126 ? 6 : 8; // masked client frame
  assert.ok((payload + clientFrameHeader) / 60 <= 2.5, `${(payload + clientFrameHeader) / 60} bytes a reading`);
});

/** Batches of each size in `sizes`, from every `every`-th slot of the ring (wrapping), decode to the ring's readings. */
function assertRoundTrips(ring: Int16Array, every: number, sizes: readonly number[]): void {
  const encoder = new BatchEncoder(120);
  for (let start = 0; start < ring.length; start += every) {
    for (const n of sizes) {
      encoder.encode({ seq: 1, boot: 1, index: 0, interval: 1, age: 0, time: 0, channel: 0 }, ring, start, n);
      const frame = JSON.parse(encoder.text());
      const decoded = decodeValues(frame.v, frame.b, frame.n);
      for (let j = 0; j < n; j++) {
        const value = ring[(start + j) % ring.length];
        if (value < -32752) assert.equal(decoded.faults[j], FAULT_NAMES[value + 32768], `start ${start}, n ${n}, reading ${j}`);
        else assert.equal(decoded.values[j], value, `start ${start}, n ${n}, reading ${j}`);
      }
    }
  }
}

test("round trip from many starts of a ring that wraps: long runs, long deltas, faults and values next to the fault codes", () => {
  let seed = 4242;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
  const ring = new Int16Array(300);
  let t = -32752;
  for (let i = 0; i < ring.length; i++) {
    if (i === 60) t = 2000; // first next to the fault codes, then a room
    if (i === 200) t = -16300; // a long fall by the largest one-character step
    const fault = random() < (i < 60 ? 0.3 : 0.1);
    const step = i >= 200 ? -16 : random() < 0.05 ? Math.floor((random() - 0.5) * 3000) : Math.floor((random() - 0.5) * 30);
    if (fault) ring[i] = faultValue(Math.floor(random() * 9) as FaultKind);
    else ring[i] = t = Math.max(-32752, Math.min(32767, t + step));
  }
  assertRoundTrips(ring, 13, [1, 4, 10, 59, 60, 61, 120]);
});

test("round trip of steps at the token table's edges (±16, ±64, ±65), a fall by 64 a reading into the fault codes, faults after two-character tokens", () => {
  let seed = 777;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
  const edges = [-66, -65, -64, -63, -17, -16, -15, 15, 16, 17, 62, 63, 64, 65];
  const ring = new Int16Array(400);
  let t = 0;
  for (let i = 0; i < ring.length; i++) {
    if (i === 150) t = -28912 + 64 * 3; // a fast pass may start here, then falls as far as the table lets it
    let step: number;
    if (i < 150) step = edges[Math.floor(random() * edges.length)];
    else if (i < 260) step = -64;
    else step = Math.floor((random() - 0.5) * 130);
    const fault = i >= 260 ? random() < 0.08 : i >= 150 && random() < 0.03;
    if (fault) ring[i] = faultValue(Math.floor(random() * 9) as FaultKind);
    else ring[i] = t = Math.max(-32752, Math.min(32767, t + step));
  }
  assertRoundTrips(ring, 7, [1, 4, 10, 11, 20, 21, 39, 40, 41, 59, 60, 61, 120]);
});

test("a fault after a fall by 64 a reading to just above the fault codes is written as a fault, from any height", () => {
  // With a lead of 60 level readings the fall starts a fast pass of its own, one step below the pass's start.
  const encoder = new BatchEncoder(200);
  for (const lead of [0, 60]) {
    for (let m = 1; m <= 70; m++) {
      for (const off of [0, 1, 17, 40, 63]) {
        const values = [];
        for (let k = 0; k < lead; k++) values.push(-32752 + off + 64 * (m + 1));
        for (let k = 0; k <= m; k++) values.push(-32752 + off + 64 * (m - k));
        values.push(faultValue(3), 2000, 2001, 2002);
        const ring = Int16Array.from(values);
        encoder.encode({ seq: 1, boot: 1, index: 0, interval: 1, age: 0, time: 0, channel: 0 }, ring, 0, ring.length);
        const frame = JSON.parse(encoder.text());
        const decoded = decodeValues(frame.v, frame.b, frame.n);
        const at = `lead ${lead}, m ${m}, off ${off}`;
        assert.equal(decoded.faults[lead + m + 1], FAULT_NAMES[3], at);
        assert.deepEqual(decoded.values.slice(0, lead + m + 1), values.slice(0, lead + m + 1), at);
        assert.deepEqual(decoded.values.slice(lead + m + 2), [2000, 2001, 2002], at);
      }
    }
  }
});

test("the miss check finds a step the table has no token for at any place in a pass, after one- or two-character tokens", () => {
  const encoder = new BatchEncoder(120);
  for (const step of [1, 40]) {
    for (const jump of [65, -65, 1000, "fault"] as const) {
      for (let at = 0; at < 70; at++) {
        const values: number[] = [];
        let t = 2000;
        for (let k = 0; k < 80; k++) {
          if (k === at) {
            if (jump === "fault") {
              values.push(faultValue(2));
              continue;
            }
            t += jump;
          } else t += k % 2 ? step : -step;
          values.push(t);
        }
        const ring = Int16Array.from(values);
        encoder.encode({ seq: 1, boot: 1, index: 0, interval: 1, age: 0, time: 0, channel: 0 }, ring, 0, ring.length);
        const frame = JSON.parse(encoder.text());
        const decoded = decodeValues(frame.v, frame.b, frame.n);
        const where = `step ${step}, jump ${jump} at ${at}`;
        for (let k = 0; k < values.length; k++) {
          if (jump === "fault" && k === at) assert.equal(decoded.faults[k], FAULT_NAMES[2], where);
          else assert.equal(decoded.values[k], values[k], where);
        }
      }
    }
  }
});
