/*
 * The load benchmark's workload, shared by its processes: device ids and tokens, and batch frames of 60
 * readings made by the firmware's own encoder (a slow random walk, one variant in eight with a fault), so
 * the server parses and stores what real devices send.
 */
import { BatchEncoder } from "../../modules/protocol/batch";
import { decodeValues, FAULT_BASE } from "../../modules/protocol/values";

export const READINGS_PER_BATCH = 60;
/** Seconds between readings: a batch spans a minute, dated from its `a`. */
export const INTERVAL_S = 1;

export const deviceId = (i: number) => `bench-${i}`;
export const deviceToken = (i: number) => `bench-token-${i}-0123456789`;

export interface Variant {
  base: number;
  v: string;
  values: (number | null)[];
  faults: (string | null)[];
}

/** Eight encodings of 60 readings. */
export function variants(): Variant[] {
  const encoder = new BatchEncoder(READINGS_PER_BATCH);
  const out: Variant[] = [];
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let k = 0; k < 8; k++) {
    const values = new Int16Array(READINGS_PER_BATCH);
    let centi = 1800 + k * 150;
    for (let j = 0; j < values.length; j++) {
      centi += Math.round((random() - 0.5) * 12);
      values[j] = centi;
    }
    if (k === 3) values[20] = FAULT_BASE + 1; // a CRC fault
    encoder.encode({ seq: 1, boot: 1, index: 0, interval: INTERVAL_S, age: 0, time: 0, channel: 0 }, values, 0, values.length);
    const frame = JSON.parse(encoder.text()) as { b: number; v: string };
    const decoded = decodeValues(frame.v, frame.b, READINGS_PER_BATCH);
    out.push({ base: frame.b, v: frame.v, values: decoded.values, faults: decoded.faults });
  }
  return out;
}

/** Batch `s` of a device: its readings are samples `k … k + 59` of boot 1, the newest `a` ms old. */
export function batchFrame(variant: Variant, s: number, k: number, a: number): string {
  return `{"t":"b","s":${s},"o":1,"k":${k},"i":${INTERVAL_S},"a":${a},"n":${READINGS_PER_BATCH},"b":${variant.base},"v":"${variant.v}"}`;
}

export function helloFrame(i: number): string {
  return JSON.stringify({ t: "hello", v: 1, id: deviceId(i), fw: "bench", boot: 1, rr: "power-on", mode: "always-on", wake: { awake: 0, retries: 0 }, store: { n: 0, cap: 512, drop: 0 } });
}

/** Percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
