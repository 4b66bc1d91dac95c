/*
 * The XS side of the benchmarks: bundled with the device modules and evaluated in the XS worker, where
 * bench/measure.ts drives it one crank at a time. `setup` prepares a case (untimed, and runs it once so
 * the measured run is a steady one), `run` does only the measured work; the worker's compute meter for
 * the `run` crank, less an empty crank's, is the cost. `report` returns figures the case computed
 * (frame lengths) as ASCII JSON.
 */
import { ReadingStore, type Slice } from "../modules/store/readings";
import { BatchEncoder, type BatchHeader } from "../modules/protocol/batch";
import { ALPHABET, FAULT_CODES, FAULT_LIMIT, FAULT_BASE } from "../modules/protocol/values";
import { decodeScratchpad } from "../sensors/ds18b20/ds18b20";
import { crc8, crc8Of8 } from "../sensors/onewire/bus";
import { crc8Table } from "./suggested-crc8";
import { WakeState } from "../modules/power/retained";
import { crc32 } from "../modules/power/crc32";

declare function gc(): void;

/** What main.ts uses: a 512-reading store, batches of up to 120, one reading a minute. */
export const STORE_CAPACITY = 512;
export const MAX_BATCH = 120;
const INTERVAL = 60;
const BOOT = 12;
/** An epoch-ms time for the naive frame that carries one (2025-11-25). */
const EPOCH = 1764081609000;

interface Case {
  setup(n: number): void;
  run(): void;
  report?(): Record<string, unknown>;
}

/**
 * `n` readings as a DS18B20 at 12 bits gives them (0.0625 °C steps) for a room: a slow swing plus a
 * little noise, one reading a minute. The bench's own seeded generator, so the data never changes.
 */
function signal(n: number): Int16Array {
  const values = new Int16Array(n);
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const sixteenths = Math.round(21.5 * 16 + 24 * Math.sin((2 * Math.PI * i) / 1440) + ((seed >> 16) % 3) - 1);
    values[i] = Math.round((sixteenths * 100) / 16);
  }
  return values;
}

/** The DS18B20 scratchpads (with their CRC) that read as `signal(n)`: the driver's input on a board. */
function scratchpads(n: number): Uint8Array[] {
  const values = signal(n);
  const pads: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const raw = Math.round((values[i] * 16) / 100) & 0xffff;
    const pad = new Uint8Array([raw & 0xff, raw >> 8, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0]);
    pad[8] = crc8(pad, 8);
    pads.push(pad);
  }
  return pads;
}

function header(seq: number, index: number): BatchHeader {
  return { seq, boot: BOOT, index, interval: INTERVAL, age: 1500, time: 0, channel: 0 };
}

let done = 0;

/** The encode path's cases. */
function encodeCase(withText: boolean): Case {
  let encoder: BatchEncoder, values: Int16Array, h: BatchHeader, n = 0, length = 0, text = "";
  return {
    setup(count) {
      n = count;
      encoder = new BatchEncoder(MAX_BATCH);
      values = signal(STORE_CAPACITY);
      h = header(42, 480);
      this.run();
    },
    run() {
      length = encoder.encode(h, values, 0, n);
      if (withText) text = encoder.text();
    },
    report() {
      return { payload: length, text: withText ? text : "" };
    },
  };
}

/**
 * The encoder on data its fast path cannot take: a disconnected probe (every reading a fault) or a steep
 * ramp (1 °C a reading: every delta two characters and beyond the fast path's table, which ends at ±0.64 °C).
 */
function encodeShapeCase(shape: "faults" | "steep"): Case {
  let encoder: BatchEncoder, values: Int16Array, h: BatchHeader, n = 0, length = 0;
  return {
    setup(count) {
      n = count;
      encoder = new BatchEncoder(MAX_BATCH);
      values = new Int16Array(STORE_CAPACITY);
      for (let i = 0; i < values.length; i++) values[i] = shape === "faults" ? FAULT_BASE + 3 : 2000 + 100 * i;
      h = header(42, 480);
      this.run();
    },
    run() {
      length = encoder.encode(h, values, 0, n);
      encoder.text();
    },
    report() {
      return { payload: length };
    },
  };
}

/**
 * The whole path per reading: sample (the DS18B20 driver decodes a scratchpad) → store.append → for every
 * `batch` readings, takeBatch → encode → text → release (the server's ack).
 */
function pathCase(batch: number, readings: number): Case {
  let store: ReadingStore, encoder: BatchEncoder, pads: Uint8Array[];
  let index = 0, seq = 0, time = 0, bytes = 0, frames = 0;
  const slice: Slice = { start: 0, count: 0, width: 1, boot: 0, index: 0, interval: 0, newest: 0 };
  const h = header(0, 0);
  const step = () => {
    for (let r = 0; r < readings; r++) {
      store.append(decodeScratchpad(pads[r], 12), BOOT, index++, INTERVAL, time);
      if (store.unsent >= batch && store.takeBatch(batch, slice)) {
        h.seq = ++seq;
        h.boot = slice.boot;
        h.index = slice.index;
        h.interval = slice.interval;
        h.age = time - slice.newest;
        encoder.encode(h, store.values, slice.start, slice.count);
        bytes += encoder.text().length;
        frames++;
        store.release(slice.boot, slice.index, slice.count);
      }
      time += INTERVAL * 1000;
    }
  };
  return {
    setup() {
      store = new ReadingStore(STORE_CAPACITY);
      encoder = new BatchEncoder(MAX_BATCH);
      pads = scratchpads(readings);
      step();
      bytes = frames = 0;
    },
    run: step,
    report() {
      return { bytes, frames };
    },
  };
}

/** The sample step alone: the DS18B20 driver's scratchpad decode (CRC-8, checks, fixed point). */
function sampleCase(): Case {
  let pads: Uint8Array[], n = 0;
  return {
    setup(count) {
      n = count;
      pads = scratchpads(count);
      this.run();
    },
    run() {
      for (let r = 0; r < n; r++) done = decodeScratchpad(pads[r], 12);
    },
  };
}

function appendCase(): Case {
  let store: ReadingStore, values: Int16Array, n = 0, index = 0, time = 0;
  return {
    setup(count) {
      n = count;
      values = signal(count);
      store = new ReadingStore(STORE_CAPACITY);
      this.run();
      store = new ReadingStore(STORE_CAPACITY);
      index = time = 0;
    },
    run() {
      for (let r = 0; r < n; r++) {
        store.append(values[r], BOOT, index++, INTERVAL, time);
        time += INTERVAL * 1000;
      }
    },
  };
}

/** ESP32's retained memory (docs/power.md) and its two image slots. */
const RETAINED_BYTES = 4096;
const SLOTS = 2;

/**
 * Battery mode's retained image holding `n` readings: `commit` writes the image (CRC-32 of the state, the copy
 * into a slot) as a wake does after its reading and each ack and before it sleeps; `restore` checks and loads it
 * (CRC of each slot, the walk and check of the held cells) as each wake starts; `seal-before` is what the image's
 * check cost before it was committed in slots: CRC-32 of the state, run table and held readings, once a wake.
 */
function wakeCase(kind: "commit" | "restore" | "seal-before"): Case {
  let state: WakeState, memory: ArrayBuffer, bytes: Uint8Array, n = 0;
  return {
    setup(count) {
      n = count;
      memory = new ArrayBuffer(RETAINED_BYTES);
      bytes = new Uint8Array(memory);
      state = new WakeState(memory, WakeState.capacityFor(RETAINED_BYTES, SLOTS), SLOTS);
      state.restore();
      const values = signal(count);
      for (let i = 0; i < count; i++) state.store.append(values[i], BOOT, i, INTERVAL, i * INTERVAL * 1000);
      state.commit();
      this.run();
    },
    run() {
      if (kind === "commit") state.commit();
      else if (kind === "restore") done = state.restore() === "restored" ? 1 : 0;
      else done = crc32(bytes, 8, 144 + 4 * 24 + 16 + 2 * n);
    },
  };
}

/** Naive baseline: one JSON text frame per reading, `{"temp":21.56}`, built with JSON.stringify. */
function naiveJsonCase(withTime: boolean): Case {
  let values: Int16Array, n = 0, bytes = 0;
  return {
    setup(count) {
      n = count;
      values = signal(count);
      this.run();
    },
    run() {
      bytes = 0;
      for (let r = 0; r < n; r++) {
        const frame = withTime
          ? JSON.stringify({ temp: values[r] / 100, time: EPOCH + r * INTERVAL * 1000 })
          : JSON.stringify({ temp: values[r] / 100 });
        bytes += frame.length;
      }
    },
    report() {
      return { bytes };
    },
  };
}

/** Naive baseline: the same delta batch as the encoder's, built by string concatenation. */
function concatCase(): Case {
  let values: Int16Array, n = 0, text = "";
  return {
    setup(count) {
      n = count;
      values = signal(count);
      this.run();
    },
    run() {
      let base = 0;
      for (let j = 0; j < n; j++) {
        if (values[j] >= FAULT_LIMIT) {
          base = values[j];
          break;
        }
      }
      let v = "";
      let previous = base;
      for (let j = 0; j < n; j++) {
        const value = values[j];
        if (value < FAULT_LIMIT) {
          v += "~" + FAULT_CODES[value - FAULT_BASE];
          continue;
        }
        const delta = value - previous;
        previous = value;
        let zigzag = delta < 0 ? -2 * delta - 1 : 2 * delta;
        while (zigzag >= 32) {
          v += ALPHABET[32 | (zigzag & 31)];
          zigzag >>= 5;
        }
        v += ALPHABET[zigzag];
      }
      text = `{"t":"b","s":42,"o":${BOOT},"k":480,"i":${INTERVAL},"a":1500,"n":${n},"b":${base},"v":"${v}"}`;
    },
    report() {
      return { payload: text.length, text };
    },
  };
}

/** The scratchpad CRC alone: unrolled over the table (crc8Of8, what decodeScratchpad inlines) or a table loop (bench/suggested-crc8.ts). */
function crcCase(table: boolean): Case {
  let pads: Uint8Array[], n = 0, sum = 0;
  return {
    setup(count) {
      n = count;
      pads = scratchpads(count);
      this.run();
    },
    run() {
      sum = 0;
      if (table) for (let r = 0; r < n; r++) sum += crc8Table(pads[r], 8);
      else for (let r = 0; r < n; r++) sum += crc8Of8(pads[r]);
    },
    report() {
      return { sum };
    },
  };
}

const CASES: Record<string, () => Case> = {
  noop: () => ({ setup() {}, run() {} }),
  encode: () => encodeCase(true),
  "encode-bytes": () => encodeCase(false),
  "encode-faults": () => encodeShapeCase("faults"),
  "encode-steep": () => encodeShapeCase("steep"),
  sample: sampleCase,
  append: appendCase,
  "wake-commit": () => wakeCase("commit"),
  "wake-restore": () => wakeCase("restore"),
  "wake-seal-before": () => wakeCase("seal-before"),
  "naive-json": () => naiveJsonCase(false),
  "naive-json-time": () => naiveJsonCase(true),
  concat: concatCase,
  crc8: () => crcCase(false),
  "suggested-crc8-table": () => crcCase(true),
};
for (const batch of [1, 10, 60]) CASES[`path-${batch}`] = () => pathCase(batch, 600);

/** Heap: what stays allocated once a store holds `n` readings (or a naive array of reading objects). */
let held: unknown;
function hold(kind: string, n: number): void {
  held = undefined;
  if (kind === "store") {
    const store = new ReadingStore(n);
    const values = signal(n);
    for (let i = 0; i < n; i++) store.append(values[i], BOOT, i, INTERVAL, i * INTERVAL * 1000);
    held = store;
  } else if (kind === "naive") {
    const values = signal(n);
    const list: { temp: number; time: number }[] = [];
    for (let i = 0; i < n; i++) list.push({ temp: values[i] / 100, time: EPOCH + i * INTERVAL * 1000 });
    held = list;
  }
}

function ascii(value: unknown): ArrayBuffer {
  const json = JSON.stringify(value);
  const bytes = new Uint8Array(json.length);
  for (let i = 0; i < json.length; i++) bytes[i] = json.charCodeAt(i) & 0x7f;
  return bytes.buffer;
}

let current: Case = CASES.noop();
(globalThis as Record<string, unknown>).__bench = {
  setup(name: string, n: number): void {
    current = CASES[name]();
    current.setup(n);
  },
  run(): void {
    current.run();
  },
  report(): ArrayBuffer {
    return ascii({ ...(current.report?.() ?? {}), done });
  },
  hold,
};
