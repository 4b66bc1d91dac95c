/*
 * Batch frame encoder (docs/protocol.md, frame `b`), shaped by XS's costs: about one meter unit a bytecode,
 * while native calls are cheap per character.
 * - The envelope is one template literal (number to text is native).
 * - Readings whose delta fits one character, nearly all of a real probe's, go BLOCK at a time through one
 *   `String.fromCharCode` call of table lookups: a read, a subtraction, a mask and a lookup a reading, no
 *   branch. A native scan of the block then finds any reading the table had no character for.
 * - Faults, longer deltas, values next to the fault codes and short tails take a careful path.
 * The ring is read as at most two straight segments. The fast path allocates a string a block, the careful
 * path one a reading; the frame is one string, as the WebSocket sends it.
 */
import { ALPHABET, FAULT_BASE, FAULT_CODES, FAULT_LIMIT } from "./values";

export interface BatchHeader {
  seq: number;
  boot: number;
  /** Sample index of the first reading. */
  index: number;
  /** Seconds between readings. */
  interval: number;
  /** Age of the newest reading in ms at send time; ignored when `time` is set. */
  age: number;
  /** Epoch ms of the newest reading, when the device has real time; 0 when it has not. */
  time: number;
  channel: number;
}

/** Readings per fast-path `String.fromCharCode` call (the call in #tokens is written out for this many). */
const BLOCK = 20;
/** Below this many readings left, the careful path (~60 units a reading) costs less than a block (~400). */
const BLOCK_WORTH = 7;
/**
 * Deltas are looked up by their low 17 bits: a negative delta d is key 131072 + d, and the deltas two
 * int16 values can have (±65535) never collide. The mask is then all the arithmetic a lookup needs, and a
 * key is never negative (XS would intern a negative one as a property name).
 */
const DELTA_KEY = 0x1ffff;
/**
 * Char code of the one-character token of each delta −16…15 (zig-zag 0…31, the alphabet's first 32
 * characters), by delta key. Any other delta reads a missing key: undefined, which fromCharCode writes as "\0".
 */
const ONE_CHAR: Readonly<Record<number, number>> = oneCharacterTable((zigzag) => ALPHABET.charCodeAt(zigzag));
/** The same tokens as strings, for the careful path. */
const ONE_TOKEN: Readonly<Record<number, string | undefined>> = oneCharacterTable((zigzag) => ALPHABET[zigzag]);
/**
 * With the value before a block at or above this, the block is clear of the fault codes: a one-character
 * step moves at most 16, so each reading up to the block's first miss is a temperature, never a fault.
 */
const BLOCK_SAFE = FAULT_LIMIT + 16 * BLOCK;
/** `~` and the fault's code, by fault value − FAULT_BASE (kinds past FAULT_CODES write "\0", as they always have). */
const FAULT_TOKENS: readonly string[] = Object.freeze(
  Array.from({ length: FAULT_LIMIT - FAULT_BASE }, (_, kind) =>
    "~" + String.fromCharCode(kind < FAULT_CODES.length ? FAULT_CODES.charCodeAt(kind) : 0)),
);
/** The alphabet as one-character strings (indexing ALPHABET would make a new string each time). */
const CHARS: readonly string[] = Object.freeze(ALPHABET.split(""));

function oneCharacterTable<T>(token: (zigzag: number) => T): Readonly<Record<number, T>> {
  const table: Record<number, T> = {};
  for (let delta = -16; delta < 16; delta++) table[delta & DELTA_KEY] = token(delta < 0 ? -2 * delta - 1 : 2 * delta);
  return Object.freeze(table);
}

/**
 * The token of a delta outside −16…15: zig-zag, then 5 bits a character, least significant group first
 * (docs/protocol.md). Two characters cover ±5.11 °C.
 */
function longToken(delta: number): string {
  let zigzag = delta < 0 ? -2 * delta - 1 : 2 * delta;
  if (zigzag < 1024) return CHARS[32 | (zigzag & 31)] + CHARS[zigzag >> 5];
  let token = "";
  while (zigzag >= 32) {
    token += CHARS[32 | (zigzag & 31)];
    zigzag >>= 5;
  }
  return token + CHARS[zigzag];
}

/** The first numeric value of `count` ring slots from `start`, or 0 when all are faults. */
function firstNumeric(values: Int16Array, start: number, count: number): number {
  for (let j = 0, p = start; j < count; j++) {
    if (values[p] >= FAULT_LIMIT) return values[p];
    if (++p === values.length) p = 0;
  }
  return 0;
}

/** Worst case for `bytes()`: a fault or a 4-character delta per reading, plus the envelope. */
const ENVELOPE_BYTES = 160;
const BYTES_PER_READING = 4;

export class BatchEncoder {
  readonly maxReadings: number;
  #text = "";
  /** The last numeric value written, carried from one ring segment to the next. */
  #previous = 0;
  /** For `bytes()` only, allocated on its first call. */
  #bytes: Uint8Array | undefined;

  constructor(maxReadings: number) {
    this.maxReadings = maxReadings;
  }

  /**
   * Encodes `count` readings of the ring `values` (capacity `values.length`) starting at slot `start`.
   * Returns the frame length in bytes; read it with `text()` or `bytes()`.
   */
  encode(header: BatchHeader, values: Int16Array, start: number, count: number): number {
    if (count < 1 || count > this.maxReadings) throw new RangeError("batch size");
    // The base is the first numeric reading, so the first delta is 0 in the common case.
    let base = values[start];
    if (base < FAULT_LIMIT) base = firstNumeric(values, start, count);
    this.#previous = base;
    const end = start + count;
    const capacity = values.length;
    const v = end <= capacity
      ? this.#tokens(values, start, end)
      : this.#tokens(values, start, capacity) + this.#tokens(values, 0, end - capacity);
    const time = header.time > 0 ? `,"T":${header.time}` : `,"a":${header.age}`;
    const channel = header.channel ? `,"c":${header.channel}` : "";
    this.#text = `{"t":"b","s":${header.seq},"o":${header.boot},"k":${header.index},"i":${header.interval}${time}${channel},"n":${count},"b":${base},"v":"${v}"}`;
    return this.#text.length;
  }

  /** The last encoded frame, for a WebSocket text frame. */
  text(): string {
    return this.#text;
  }

  /** The last encoded frame's bytes (ASCII), in a buffer reused from one call to the next. */
  bytes(): Uint8Array {
    const text = this.#text;
    const bytes = (this.#bytes ??= new Uint8Array(ENVELOPE_BYTES + BYTES_PER_READING * this.maxReadings));
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.subarray(0, text.length);
  }

  /** The tokens of ring slots `[from, to)`, deltas from `#previous`, which it leaves at the last numeric value. */
  #tokens(values: Int16Array, from: number, to: number): string {
    const t = ONE_CHAR, chars = String.fromCharCode, key = DELTA_KEY;
    let text = "";
    let previous = this.#previous;
    let j = from;
    while (j < to) {
      if (previous >= BLOCK_SAFE && to - j >= BLOCK_WORTH) {
        // Fast path. Each value is read once: `c` and `p` take turns holding a reading and the one before it.
        // A block may read past `to` (past the array's end it reads undefined); only `to - j` characters count.
        let c = 0, p = previous;
        const block = chars(
          t[((c = values[j]) - p) & key], t[((p = values[j + 1]) - c) & key],
          t[((c = values[j + 2]) - p) & key], t[((p = values[j + 3]) - c) & key],
          t[((c = values[j + 4]) - p) & key], t[((p = values[j + 5]) - c) & key],
          t[((c = values[j + 6]) - p) & key], t[((p = values[j + 7]) - c) & key],
          t[((c = values[j + 8]) - p) & key], t[((p = values[j + 9]) - c) & key],
          t[((c = values[j + 10]) - p) & key], t[((p = values[j + 11]) - c) & key],
          t[((c = values[j + 12]) - p) & key], t[((p = values[j + 13]) - c) & key],
          t[((c = values[j + 14]) - p) & key], t[((p = values[j + 15]) - c) & key],
          t[((c = values[j + 16]) - p) & key], t[((p = values[j + 17]) - c) & key],
          t[((c = values[j + 18]) - p) & key], t[((p = values[j + 19]) - c) & key],
        );
        // "\0" marks a reading the table has no character for; the scan is native, not per reading.
        let miss = block.indexOf("\0");
        const left = to - j;
        if (miss < 0 && left >= BLOCK) {
          text += block;
          j += BLOCK;
          previous = p;
          continue;
        }
        // One longer delta a block is written in place, since the characters after it were computed from its
        // value. A second miss, a fault or a value near the fault codes ends the run for the careful path.
        const usable = left < BLOCK ? left : BLOCK;
        let taken = 0;
        if (miss >= 0 && miss < usable) {
          const value = values[j + miss];
          if (value >= BLOCK_SAFE) {
            text += block.slice(0, miss) + longToken(value - (miss > 0 ? values[j + miss - 1] : previous));
            taken = miss + 1;
            miss = block.indexOf("\0", taken);
          }
        }
        const end = miss >= 0 && miss < usable ? miss : usable;
        text += block.slice(taken, end);
        j += end;
        if (end > 0) previous = values[j - 1];
        if (end === usable) continue;
      }
      // Careful path, a reading at a time, back to the fast path after a one-character reading. Faults leave
      // `previous` as it is: a delta is always from the last numeric value.
      while (j < to) {
        const value = values[j];
        j++;
        if (value < FAULT_LIMIT) {
          text += FAULT_TOKENS[value - FAULT_BASE];
          continue;
        }
        const one = ONE_TOKEN[(value - previous) & key];
        text += one === undefined ? longToken(value - previous) : one;
        previous = value;
        if (one !== undefined && to - j >= BLOCK_WORTH) break;
      }
    }
    this.#previous = previous;
    return text;
  }
}
