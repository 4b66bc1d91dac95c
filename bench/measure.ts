/*
 * Measures the device code on XS's compute meter and heap, deterministically: the same figures on every
 * run of the same code. Used by bench/run.ts (printed, with baselines) and by tests/xs/budget.test.ts
 * (held to bench/budget.json).
 *
 * Compute: metering units of a crank (about one per bytecode executed, plus a charge proportional to the
 * work of native built-ins), less an empty crank's.
 * Heap: after gc(), slots in use (the worker's `currentHeapCount`) and the worker's heap-snapshot size; the
 * snapshot holds each live slot as 32 bytes and each live chunk (array buffer contents, strings) at its
 * size, so chunk bytes = snapshot growth - 32 x slot growth. A board's XS has 16-byte slots (32-bit), so
 * its bytes are estimated as 16 x slots + chunks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { baseOptions, buildOrExplain } from "../tests/xs/bundle";
import { ROOT } from "../tests/xs/device-tests";
import { XsWorker } from "../tests/xs/worker";

export const BATCH_SIZES = [1, 10, 60] as const;
export const STORE_SIZES = [512, 1024] as const;
const PATH_READINGS = 600;
/** Readings held in the retained image for the wake figures: 10 hours at one a minute. */
export const WAKE_READINGS = 600;
const SLOT_BYTES_HOST = 32;
const SLOT_BYTES_BOARD = 16;

/** Masked client-to-server WebSocket frame header (RFC 6455 §5.2): 2 bytes + mask 4, + 2 or 8 for length. */
export function clientFrameHeader(payload: number): number {
  return payload < 126 ? 6 : payload < 65536 ? 8 : 14;
}

export interface HeapFigure {
  slots: number;
  chunkBytes: number;
  /** Bytes on this 64-bit worker (32-byte slots). */
  hostBytes: number;
  /** Estimate for a 32-bit board (16-byte slots). */
  boardBytes: number;
}

export interface Figures {
  compute: {
    /** BatchEncoder.encode + text() for a batch of n readings of the store's ring. */
    encodeBatch: Record<number, number>;
    encodeBatch120: number;
    /** encode without text(): what the text conversion costs is the difference. */
    encodeBytesOnly60: number;
    /** encode + text() for 60 readings that all take the careful path: all faults, all two-character deltas. */
    encodeFaults60: number;
    encodeSteep60: number;
    /** Per reading: the probe's sample (simulated probe), store.append. */
    sample: number;
    append: number;
    /** Battery mode, ESP32 image holding WAKE_READINGS: one commit, one restore, and the old once-a-wake seal (CRC). */
    wakeCommit: number;
    wakeRestore: number;
    wakeSealBefore: number;
    /** Per reading: sample → append → takeBatch → encode → text → release, batches of n. */
    path: Record<number, number>;
    /** Per reading: naive baselines. */
    naiveJson: number;
    naiveJsonTime: number;
    concat60: number;
    /** Per reading: the scratchpad CRC-8 unrolled (sensors/onewire crc8Of8, as the driver inlines it), and a table loop (bench/suggested-crc8.ts). */
    crc8: number;
    suggestedCrc8Table: number;
  };
  heap: {
    store: Record<number, HeapFigure>;
    naive512: HeapFigure;
  };
  wire: {
    /** Batch frame payload bytes for n readings. */
    payload: Record<number, number>;
    naivePayload: number;
    naiveTimePayload: number;
  };
  /** The batch of 60 as sent, for the printout. */
  sample60: string;
  /** Suggestions whose frame differs from BatchEncoder's (their figures are then meaningless). */
  mismatches: string[];
}

async function bundleBench(): Promise<string> {
  const result = await buildOrExplain({ ...baseOptions(false), entryPoints: [path.join(ROOT, "bench/xs-bench.ts")] });
  return result.outputFiles![0].text;
}

/**
 * Heap retained by `__bench.hold(kind, n)`, in a fresh worker: XS 13.3 keeps the most recently constructed
 * instance of a class with private methods reachable, so a store made earlier in the same worker would
 * blur the figure. A crank's own residue (a slot and 64 bytes) is measured and taken off.
 */
async function held(code: string, kind: string, n: number, dir: string): Promise<HeapFigure> {
  const worker = new XsWorker({ meteringLimit: 1e9, timeout: 60_000 });
  try {
    await worker.evaluate(code);
    const after = async (source: string) => {
      await worker.evaluate(source);
      const { currentHeapCount } = (await worker.evaluate("gc()")).meter; // gc in a crank of its own: nothing on the stack
      return { slots: currentHeapCount, size: await worker.snapshot(path.join(dir, "heap.xss")) };
    };
    const before = await after('__bench.hold("none", 0)');
    const again = await after('__bench.hold("none", 0)');
    const full = await after(`__bench.hold(${JSON.stringify(kind)}, ${n})`);
    const slots = full.slots - again.slots - (again.slots - before.slots);
    const size = full.size - again.size - (again.size - before.size);
    const chunkBytes = size - SLOT_BYTES_HOST * slots;
    return { slots, chunkBytes, hostBytes: SLOT_BYTES_HOST * slots + chunkBytes, boardBytes: SLOT_BYTES_BOARD * slots + chunkBytes };
  } finally {
    await worker.close().catch(() => worker.kill());
  }
}

export async function measure(): Promise<Figures> {
  const worker = new XsWorker({ meteringLimit: 1e9, timeout: 60_000 });
  const dir = mkdtempSync(path.join(tmpdir(), "thermocast-xs-heap-"));
  try {
    const code = await bundleBench();
    // Heap figures come from workers of their own, measured meanwhile.
    const heaps = Promise.all([...STORE_SIZES.map((n) => held(code, "store", n, dir)), held(code, "naive", 512, dir)]);
    await worker.evaluate(code);

    const crank = async (source: string) => (await worker.evaluate(source)).meter;
    const report = async () => JSON.parse((await worker.evaluate("__bench.report()")).text) as Record<string, any>;
    await crank('__bench.setup("noop", 0)');
    const empty = (await crank("__bench.run()")).compute;
    /** Compute of one `run` of case `name` prepared for `n`, less an empty crank. */
    const cost = async (name: string, n: number) => {
      await crank(`__bench.setup(${JSON.stringify(name)}, ${n})`);
      return (await crank("__bench.run()")).compute - empty;
    };

    const encodeBatch: Record<number, number> = {};
    const payload: Record<number, number> = {};
    let sample60 = "";
    for (const n of BATCH_SIZES) {
      encodeBatch[n] = await cost("encode", n);
      const r = await report();
      payload[n] = r.payload;
      if (n === 60) sample60 = r.text;
    }
    const encodeBatch120 = await cost("encode", 120);
    const encodeBytesOnly60 = await cost("encode-bytes", 60);
    const encodeFaults60 = await cost("encode-faults", 60);
    const encodeSteep60 = await cost("encode-steep", 60);
    const sample = (await cost("sample", 480)) / 480;
    const append = (await cost("append", 480)) / 480;
    const wakeCommit = await cost("wake-commit", WAKE_READINGS);
    const wakeRestore = await cost("wake-restore", WAKE_READINGS);
    const wakeSealBefore = await cost("wake-seal-before", WAKE_READINGS);
    const pathCost: Record<number, number> = {};
    for (const n of BATCH_SIZES) pathCost[n] = (await cost(`path-${n}`, 0)) / PATH_READINGS;
    const naiveJson = (await cost("naive-json", 60)) / 60;
    const naivePayload = (await report()).bytes / 60;
    const naiveJsonTime = (await cost("naive-json-time", 60)) / 60;
    const naiveTimePayload = (await report()).bytes / 60;
    const concat60 = (await cost("concat", 60)) / 60;
    const concatText = (await report()).text;
    const mismatches: string[] = [];
    if (concatText !== sample60) mismatches.push("string-concatenation baseline");
    const crc8 = (await cost("crc8", 480)) / 480;
    const crcSum = (await report()).sum;
    const suggestedCrc8Table = (await cost("suggested-crc8-table", 480)) / 480;
    if ((await report()).sum !== crcSum) mismatches.push("table CRC-8");

    const heap = await heaps;
    const store: Record<number, HeapFigure> = {};
    STORE_SIZES.forEach((n, i) => (store[n] = heap[i]));
    const naive512 = heap[STORE_SIZES.length];

    return {
      compute: {
        encodeBatch, encodeBatch120, encodeBytesOnly60, encodeFaults60, encodeSteep60, sample, append, path: pathCost,
        wakeCommit, wakeRestore, wakeSealBefore, naiveJson, naiveJsonTime, concat60,
        crc8, suggestedCrc8Table,
      },
      heap: { store, naive512 },
      wire: { payload, naivePayload, naiveTimePayload },
      sample60,
      mismatches,
    };
  } finally {
    await worker.close().catch(() => worker.kill());
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures the budget holds (bench/budget.json), by name. Lower is better for each. */
export function budgetFigures(f: Figures): Record<string, number> {
  const round = (x: number) => Math.round(x * 100) / 100;
  const wire = (n: number) => round((f.wire.payload[n] + clientFrameHeader(f.wire.payload[n])) / n);
  return {
    "compute.encode.batch1": f.compute.encodeBatch[1],
    "compute.encode.batch10": f.compute.encodeBatch[10],
    "compute.encode.batch60": f.compute.encodeBatch[60],
    "compute.encode.perReading60": round(f.compute.encodeBatch[60] / 60),
    "compute.sample.perReading": round(f.compute.sample),
    "compute.append.perReading": round(f.compute.append),
    "compute.path.perReading60": round(f.compute.path[60]),
    "compute.wake.commit": f.compute.wakeCommit,
    "compute.wake.restore600": f.compute.wakeRestore,
    "heap.store512.bytes": f.heap.store[512].hostBytes,
    "heap.store512.slots": f.heap.store[512].slots,
    "wire.bytesPerReading1": wire(1),
    "wire.bytesPerReading10": wire(10),
    "wire.bytesPerReading60": wire(60),
  };
}
