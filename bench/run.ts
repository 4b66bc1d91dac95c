/*
 * `npm run bench`: every benchmark, in one run, on XS's deterministic compute meter, with baselines,
 * ratios, the issue's goals and bench/budget.json. `-- --write-budget` rewrites the budget from this run.
 */
import { budgetFigures, clientFrameHeader, measure, WAKE_READINGS, type HeapFigure } from "./measure";
import { BUDGET_FILE, overBudget, readBudget, writeBudget } from "./budget";
import { existsSync } from "node:fs";

const GOAL_ENCODE_UNITS = 20;
const GOAL_WIRE_BYTES = 2.5;
/** Issue 17, goal 3: the whole sample → ack path per reading at batch 60, and what it cost when the issue was filed. */
const GOAL_PATH_UNITS = 400;
const PATH_BEFORE = 959.5;

const f = await measure();
const c = f.compute;
const fixed = (x: number, digits = 1) => x.toFixed(digits);
const ratio = (a: number, b: number) => `${fixed(a / b)}x`;
const row = (label: string, value: string, note = "") => console.log(`  ${label.padEnd(64)}${value.padStart(10)}  ${note}`);
const verdict = (ok: boolean) => (ok ? "met" : "MISSED");

console.log("thermocast on XS 13.3 (@agoric/xsnap 0.15.0): compute-meter units, heap after gc, bytes on the wire");
console.log("All figures are deterministic: the same code gives the same numbers on every run.\n");

const encode60 = c.encodeBatch[60] / 60;
const marginal = (c.encodeBatch120 - c.encodeBatch[60]) / 60;
const envelope = c.encodeBatch[1] - marginal;
console.log("Compute per reading (units)");
row("sample: DS18B20 scratchpad decode (sensors/ds18b20)", fixed(c.sample));
row("  of which its CRC-8 (unrolled table; a board uses the SDK's native OneWire.crc)", fixed(c.crc8), `the table loop (bench/suggested-crc8.ts): ${fixed(c.suggestedCrc8Table)}, ${ratio(c.suggestedCrc8Table, c.crc8)} this`);
row("store.append (modules/store)", fixed(c.append));
row("encode: BatchEncoder.encode + text(), batch of 60", fixed(encode60), `goal <= ${GOAL_ENCODE_UNITS}: ${verdict(encode60 <= GOAL_ENCODE_UNITS)} (${ratio(encode60, GOAL_ENCODE_UNITS)} the goal)`);
for (const n of [60, 10, 1] as const) {
  const goal = n === 60
    ? `goal <= ${GOAL_PATH_UNITS}: ${verdict(c.path[60] <= GOAL_PATH_UNITS)} (${fixed(c.path[60] / GOAL_PATH_UNITS, 2)}x the goal; ${ratio(PATH_BEFORE, c.path[60])} less than the ${PATH_BEFORE} before issue 17)`
    : "";
  row(`whole path, batch ${n}: sample -> append -> encode -> text -> ack`, fixed(c.path[n]), goal);
}
console.log(`Battery mode, the retained image on ESP32 (2 slots) holding ${WAKE_READINGS} readings (units)`);
row("WakeState.commit: CRC-32 of the state, copy into a slot", fixed(c.wakeCommit, 0), "after the reading, after each ack, before sleep");
row("WakeState.restore: CRC of each slot, walk and check of the cells", fixed(c.wakeRestore, 0), "once a wake");
row("  before: one seal a wake, CRC-32 of state, run table and readings", fixed(c.wakeSealBefore, 0), `a wake with 3 commits costs ${ratio(c.wakeRestore + 3 * c.wakeCommit, 2 * c.wakeSealBefore)} the old check and seal`);
console.log("Baselines per reading, encoding only");
row('naive: one JSON frame per reading, {"temp":21.44}', fixed(c.naiveJson), `encoder at batch 60 costs ${ratio(encode60, c.naiveJson)} this`);
row('naive: one JSON frame per reading, {"temp":..,"time":epoch ms}', fixed(c.naiveJsonTime), `encoder: ${ratio(encode60, c.naiveJsonTime)}`);
row("the same delta batch built by string concatenation (60)", fixed(c.concat60), `encoder: ${ratio(encode60, c.concat60)}`);

console.log("\nCompute per batch: BatchEncoder.encode + text() (units)");
for (const n of [1, 10, 60] as const) row(`batch of ${n}`, String(c.encodeBatch[n]), `${fixed(c.encodeBatch[n] / n)} a reading`);
row("batch of 120", String(c.encodeBatch120), `${fixed(c.encodeBatch120 / 120)} a reading`);
row("  fixed per batch", fixed(envelope, 0), "the envelope (one concatenation), the base, the calls");
row("  each further reading (120 vs 60)", fixed(marginal), "fast pass: a table lookup a reading, up to 60 through one view");
row("  text() at 60", String(c.encodeBatch[60] - c.encodeBytesOnly60), "encode builds the frame string; text() returns it");
row("60 readings, all faults (a disconnected probe)", String(c.encodeFaults60), `${fixed(c.encodeFaults60 / 60)} a reading: the careful path`);
row("60 readings, all deltas of 1 °C (a steep ramp)", String(c.encodeSteep60), `${fixed(c.encodeSteep60 / 60)} a reading: the careful path`);
if (f.mismatches.length) console.log(`  NOT the encoder's frame, ignore their figures: ${f.mismatches.join(", ")}`);

const heapRow = (label: string, h: HeapFigure, n: number, note = "") =>
  row(label, `${h.boardBytes} B`, `${h.slots} slots + ${h.chunkBytes} B chunks; ${h.hostBytes} B on this 64-bit worker; ${fixed(h.boardBytes / n, 2)} B a reading ${note}`);
console.log("\nHeap held (after gc; a board's 32-bit XS: 16-byte slots, plus chunk bytes)");
heapRow("ReadingStore(512), full (main.ts's store)", f.heap.store[512], 512);
heapRow("ReadingStore(1024), full", f.heap.store[1024], 1024);
row("  each further buffered reading (1024 vs 512)", `${fixed((f.heap.store[1024].boardBytes - f.heap.store[512].boardBytes) / 512, 2)} B`);
heapRow("naive: an array of 512 {temp, time} objects", f.heap.naive512, 512, `(${ratio(f.heap.naive512.boardBytes, f.heap.store[512].boardBytes)} the store)`);

console.log("\nBytes on the wire per reading (payload + masked client WebSocket frame header)");
const naive = f.wire.naivePayload + clientFrameHeader(f.wire.naivePayload);
const naiveTime = f.wire.naiveTimePayload + clientFrameHeader(f.wire.naiveTimePayload);
for (const n of [1, 10, 60] as const) {
  const p = f.wire.payload[n];
  const perReading = (p + clientFrameHeader(p)) / n;
  const goal = n === 60 ? `goal <= ${GOAL_WIRE_BYTES}: ${verdict(perReading <= GOAL_WIRE_BYTES)}; ` : "";
  row(`batch of ${n}: ${p} + ${clientFrameHeader(p)} bytes`, fixed(perReading, 2), `${goal}naive ÷ batch: ${ratio(naive, perReading)}, with time ${ratio(naiveTime, perReading)}`);
}
row(`naive: {"temp":21.44} frames, ${fixed(f.wire.naivePayload)} + 6 bytes`, fixed(naive, 2));
row(`naive: {"temp":..,"time":epoch ms} frames, ${fixed(f.wire.naiveTimePayload)} + 6 bytes`, fixed(naiveTime, 2));
console.log(`  the batch of 60: ${f.sample60}`);

const figures = budgetFigures(f);
if (process.argv.includes("--write-budget")) {
  writeBudget(figures);
  console.log(`\nBudget written: ${BUDGET_FILE}`);
} else if (existsSync(BUDGET_FILE)) {
  const problems = overBudget(figures, readBudget());
  console.log(`\nBudget (bench/budget.json): ${problems.length ? `${problems.length} over` : "every figure within it"}`);
  for (const line of problems) console.log(`  ${line}`);
  if (problems.length) process.exitCode = 1;
}

// The link under a server outage (bench/link.ts): simulated on virtual time, not on XS's meter.
const { linkBench, printLinkBench } = await import("./link");
printLinkBench(await linkBench());

// Energy (issue 5): the same simulated month for three strategies, in child processes (several minutes).
const { powerBenchmark, printPower } = await import("./power");
printPower(await powerBenchmark());
