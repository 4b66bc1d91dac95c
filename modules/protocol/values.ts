/*
 * Reading values and their compact text encoding (docs/protocol.md, "Value encoding").
 *
 * Values are centi-degrees Celsius held in an Int16Array. The lowest 16 codes of the Int16 range are
 * fault markers: a slot that has a fault instead of a temperature (−327.52 °C and below is no reading
 * any probe can give).
 */

/** Base64url: JSON-safe, so a batch string needs no escaping. */
export const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
export const FAULT_MARK = "~";

export const FAULT_BASE = -32768;
export const FAULT_LIMIT = FAULT_BASE + 16; // values below this are faults
export const VALUE_MIN = FAULT_LIMIT;
export const VALUE_MAX = 32767;

/** Fault kinds, in code order: the wire character is `FAULT_CODES[kind]`. */
export const Fault = Object.freeze({
  NoDevice: 0,
  Crc: 1,
  PowerOn: 2,
  Disconnected: 3,
  OutOfRange: 4,
  Stuck: 5,
  BusError: 6,
  Timeout: 7,
  Other: 8,
});
export type FaultKind = (typeof Fault)[keyof typeof Fault];
export const FAULT_CODES = "abcdefghz";
export const FAULT_NAMES = Object.freeze([
  "no-device", "crc", "power-on", "disconnected", "out-of-range", "stuck", "bus-error", "timeout", "other",
]);

export function faultValue(kind: FaultKind): number {
  return FAULT_BASE + kind;
}
export function isFault(value: number): boolean {
  return value < FAULT_LIMIT;
}
export function faultKind(value: number): FaultKind {
  return (value - FAULT_BASE) as FaultKind;
}

/** °C to stored centi-degrees, or a fault value when the reading cannot be held. */
export function toCenti(celsius: number): number {
  if (!(celsius === celsius) || celsius === Infinity || celsius === -Infinity) return faultValue(Fault.Other);
  const centi = Math.round(celsius * 100);
  if (centi < VALUE_MIN || centi > VALUE_MAX) return faultValue(Fault.OutOfRange);
  return centi;
}

/** Decoded readings: `values[j]` is centi-degrees, or null where `faults[j]` names a fault. */
export interface DecodedValues {
  values: (number | null)[];
  faults: (string | null)[];
}

const DECODE = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < 64; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();
const FAULT_MARK_CODE = 0x7e;

/**
 * Decodes `text` starting from `base`. Throws a RangeError naming what is wrong; the server answers it
 * with a `bad-values` error.
 */
export function decodeValues(text: string, base: number, expectedCount?: number): DecodedValues {
  const values: (number | null)[] = [];
  const faults: (string | null)[] = [];
  let previous = base;
  let i = 0;
  const length = text.length;
  while (i < length) {
    const c = text.charCodeAt(i++);
    if (c === FAULT_MARK_CODE) {
      if (i >= length) throw new RangeError("fault mark at end of values");
      const kind = FAULT_CODES.indexOf(text[i++]);
      if (kind < 0) throw new RangeError(`unknown fault code '${text[i - 1]}'`);
      values.push(null);
      faults.push(FAULT_NAMES[kind]);
    } else {
      let digit = c < 128 ? DECODE[c] : -1;
      let zigzag = 0;
      let shift = 0;
      for (;;) {
        if (digit < 0) throw new RangeError(`bad character at ${i - 1}`);
        zigzag += (digit & 31) * 2 ** shift;
        shift += 5;
        if (digit < 32) break;
        if (shift > 20) throw new RangeError(`delta too long at ${i - 1}`);
        if (i >= length) throw new RangeError("delta cut short");
        const next = text.charCodeAt(i++);
        digit = next < 128 ? DECODE[next] : -1;
      }
      const delta = zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
      const value = previous + delta;
      if (value < VALUE_MIN || value > VALUE_MAX) throw new RangeError(`value out of range at reading ${values.length}`);
      previous = value;
      values.push(value);
      faults.push(null);
    }
    if (expectedCount !== undefined && values.length > expectedCount) throw new RangeError("more values than n");
  }
  if (expectedCount !== undefined && values.length !== expectedCount)
    throw new RangeError(`values hold ${values.length} readings, n says ${expectedCount}`);
  return { values, faults };
}
