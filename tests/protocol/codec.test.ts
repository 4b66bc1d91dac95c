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
  const encoder = new BatchEncoder(120);
  for (let start = 0; start < ring.length; start += 13) {
    for (const n of [1, 4, 10, 59, 60, 61, 120]) {
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
});
