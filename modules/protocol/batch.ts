/*
 * Batch frame encoder (docs/protocol.md, frame `b`), shaped by XS's costs: its meter charges about a unit a
 * bytecode (a call, and each argument passed, several), while native work is cheap per character.
 * - Readings whose delta fits one character, nearly all of a real probe's, go up to SPAN at a time through one
 *   view of the ring (`subarray`, so that each is read at a constant index) into String.fromCharCode calls of
 *   table lookups: a read, a subtraction, a mask and a lookup a reading, no branch. A native scan (`indexOf`)
 *   then finds the readings the table had no character for ("\0").
 * - A longer delta is written in place, since the characters after it were computed from its value. A fault or
 *   a value near the fault codes hands over to the careful path, a reading at a time, which hands back after a
 *   one-character reading.
 * - The envelope is one concatenation (number to text is native; a template literal costs XS more).
 * A batch that wraps round the ring is first copied out straight, by native copies into a buffer kept for it.
 * The frame is one string, as the WebSocket sends it.
 *
 * Cost (`npm run bench`): 1,330 units a batch of 60, 22.2 a reading. 840 of them are the lookups, 14 a reading,
 * the least a lookup a reading costs in XS: the typed-array read 5 (four bytecodes and its getter's unit),
 * keeping the value for the next delta 1, the subtraction 2, the mask 2 (a negative key would be interned as a
 * property name), the lookup 3, fromCharCode 1 a character. The bench's XS compiles with line information, a
 * unit for each source line a lookup sits on (60; a release build has none). The one two-character delta in
 * the bench's 60 costs ~100, the envelope ~55, the call and the bench's own code ~50.
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

/** The most readings a batch may hold (docs/protocol.md, `n`). */
const MAX_READINGS = 1024;
/** Readings a fast pass reads through one view, in fromCharCode calls of 10, 10, 20 and 20: as many as it needs. */
const SPAN = 60;
/** Below this many readings left, the careful path (~70 units a reading) costs less than a fast pass (~225 for 10). */
const FAST_WORTH = 4;
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
 * A fast pass starts from a value at or above this (−163.68 °C). A one-character step moves at most 16, so
 * every reading a pass reaches by such steps within a batch stays at FAULT_LIMIT + 16 or above: a fault after
 * it is more than 16 away, so it always misses the table. A longer delta is only written in place to a value
 * at or above this, which starts the count again.
 */
const RUN_SAFE = FAULT_LIMIT + 16 * MAX_READINGS;
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
  return zigzagToken(delta < 0 ? -2 * delta - 1 : 2 * delta);
}

/** The token of a zig-zag value of 32 or more (the fast pass inlines its two-character case). */
function zigzagToken(zigzag: number): string {
  if (zigzag < 1024) return CHARS[32 | (zigzag & 31)] + CHARS[zigzag >> 5];
  let token = "";
  while (zigzag >= 32) {
    token += CHARS[32 | (zigzag & 31)];
    zigzag >>= 5;
  }
  return token + CHARS[zigzag];
}

/** The first numeric value of `values[start…end)`, or 0 when all are faults. */
function firstNumeric(values: Int16Array, start: number, end: number): number {
  for (let j = start; j < end; j++) if (values[j] >= FAULT_LIMIT) return values[j];
  return 0;
}

/** Worst case for `bytes()`: a fault or a 4-character delta per reading, plus the envelope. */
const ENVELOPE_BYTES = 160;
const BYTES_PER_READING = 4;

export class BatchEncoder {
  readonly maxReadings: number;
  #text = "";
  /** A batch that wraps round the ring, copied out straight; allocated on the first such batch. */
  #straight: Int16Array | undefined;
  /** For `bytes()` only, allocated on its first call. */
  #bytes: Uint8Array | undefined;

  constructor(maxReadings: number) {
    if (maxReadings > MAX_READINGS) throw new RangeError("batch size");
    this.maxReadings = maxReadings;
  }

  /**
   * Encodes `count` readings of the ring `values` (capacity `values.length`) starting at slot `start`.
   * Returns the frame length in bytes; read it with `text()` or `bytes()`.
   */
  encode(header: BatchHeader, values: Int16Array, start: number, count: number): number {
    if (count < 1 || count > this.maxReadings) throw new RangeError("batch size");
    if (start + count > values.length) {
      const straight = (this.#straight ??= new Int16Array(this.maxReadings));
      straight.set(values.subarray(start));
      straight.set(values.subarray(0, start + count - values.length), values.length - start);
      values = straight;
      start = 0;
    }
    const end = start + count;
    // The base is the first numeric reading, so the first delta is 0; faults before it are written as they come.
    let base = values[start], v = "", j = start;
    if (base < FAULT_LIMIT) {
      base = firstNumeric(values, start, end);
      while (j < end && values[j] < FAULT_LIMIT) v += FAULT_TOKENS[values[j++] - FAULT_BASE];
    }
    // `p` is the last numeric value written. In a fast pass `c` and `p` take turns holding a reading and the one
    // before it, so each value is read once.
    let p = base, c = 0;
    while (j < end) {
      if (p >= RUN_SAFE && end - j >= FAST_WORTH) {
        // Fast pass over the next SPAN readings. It may read past `end` (past the array's end it reads undefined,
        // which makes "A"): only `left` characters count.
        const r = values.subarray(j), left = end - j, chars = String.fromCharCode;
        let s = chars(
          ONE_CHAR[((c = r[0]) - p) & DELTA_KEY], ONE_CHAR[((p = r[1]) - c) & DELTA_KEY],
          ONE_CHAR[((c = r[2]) - p) & DELTA_KEY], ONE_CHAR[((p = r[3]) - c) & DELTA_KEY],
          ONE_CHAR[((c = r[4]) - p) & DELTA_KEY], ONE_CHAR[((p = r[5]) - c) & DELTA_KEY],
          ONE_CHAR[((c = r[6]) - p) & DELTA_KEY], ONE_CHAR[((p = r[7]) - c) & DELTA_KEY],
          ONE_CHAR[((c = r[8]) - p) & DELTA_KEY], ONE_CHAR[((p = r[9]) - c) & DELTA_KEY],
        );
        if (left > 10) {
          s += chars(
            ONE_CHAR[((c = r[10]) - p) & DELTA_KEY], ONE_CHAR[((p = r[11]) - c) & DELTA_KEY],
            ONE_CHAR[((c = r[12]) - p) & DELTA_KEY], ONE_CHAR[((p = r[13]) - c) & DELTA_KEY],
            ONE_CHAR[((c = r[14]) - p) & DELTA_KEY], ONE_CHAR[((p = r[15]) - c) & DELTA_KEY],
            ONE_CHAR[((c = r[16]) - p) & DELTA_KEY], ONE_CHAR[((p = r[17]) - c) & DELTA_KEY],
            ONE_CHAR[((c = r[18]) - p) & DELTA_KEY], ONE_CHAR[((p = r[19]) - c) & DELTA_KEY],
          );
          if (left > 20) {
            s += chars(
              ONE_CHAR[((c = r[20]) - p) & DELTA_KEY], ONE_CHAR[((p = r[21]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[22]) - p) & DELTA_KEY], ONE_CHAR[((p = r[23]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[24]) - p) & DELTA_KEY], ONE_CHAR[((p = r[25]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[26]) - p) & DELTA_KEY], ONE_CHAR[((p = r[27]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[28]) - p) & DELTA_KEY], ONE_CHAR[((p = r[29]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[30]) - p) & DELTA_KEY], ONE_CHAR[((p = r[31]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[32]) - p) & DELTA_KEY], ONE_CHAR[((p = r[33]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[34]) - p) & DELTA_KEY], ONE_CHAR[((p = r[35]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[36]) - p) & DELTA_KEY], ONE_CHAR[((p = r[37]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[38]) - p) & DELTA_KEY], ONE_CHAR[((p = r[39]) - c) & DELTA_KEY],
            );
            if (left > 40) s += chars(
              ONE_CHAR[((c = r[40]) - p) & DELTA_KEY], ONE_CHAR[((p = r[41]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[42]) - p) & DELTA_KEY], ONE_CHAR[((p = r[43]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[44]) - p) & DELTA_KEY], ONE_CHAR[((p = r[45]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[46]) - p) & DELTA_KEY], ONE_CHAR[((p = r[47]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[48]) - p) & DELTA_KEY], ONE_CHAR[((p = r[49]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[50]) - p) & DELTA_KEY], ONE_CHAR[((p = r[51]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[52]) - p) & DELTA_KEY], ONE_CHAR[((p = r[53]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[54]) - p) & DELTA_KEY], ONE_CHAR[((p = r[55]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[56]) - p) & DELTA_KEY], ONE_CHAR[((p = r[57]) - c) & DELTA_KEY],
              ONE_CHAR[((c = r[58]) - p) & DELTA_KEY], ONE_CHAR[((p = r[59]) - c) & DELTA_KEY],
            );
          }
        }
        let miss = s.indexOf("\0");
        if (miss < 0 || miss >= left) {
          if (left <= SPAN) {
            v += left < s.length ? s.slice(0, left) : s;
            break;
          }
          // All SPAN readings taken: `p` holds the last of them.
          v += s;
          j += SPAN;
          continue;
        }
        // Longer deltas are written in place; a fault or a value near the fault codes ends the pass.
        let at = 0;
        do {
          c = values[j + miss];
          if (c < RUN_SAFE) break;
          const zigzag = (c -= values[j + miss - 1]) < 0 ? -2 * c - 1 : 2 * c;
          v += s.slice(at, miss) + (zigzag < 1024 ? CHARS[32 | (zigzag & 31)] + CHARS[zigzag >> 5] : zigzagToken(zigzag));
          at = miss + 1;
          miss = s.indexOf("\0", at);
        } while (miss >= 0 && miss < left);
        if (miss < 0 || miss >= left) {
          if (left <= SPAN) {
            v += s.slice(at, left);
            break;
          }
          v += s.slice(at);
          j += SPAN;
          continue;
        }
        // The pass has moved `p` on. The reading before the fault is numeric: one the pass wrote, or the careful
        // path's last (a pass never starts on a fault at the batch start: leading faults are written first).
        v += s.slice(at, miss);
        j += miss;
        p = values[j - 1];
      }
      // Careful path, a reading at a time, back to a fast pass after a one-character reading. Faults leave `p`
      // as it is: a delta is always from the last numeric value.
      while (j < end) {
        c = values[j++];
        if (c < FAULT_LIMIT) {
          v += FAULT_TOKENS[c - FAULT_BASE];
          continue;
        }
        const one = ONE_TOKEN[(c - p) & DELTA_KEY];
        v += one === undefined ? longToken(c - p) : one;
        p = c;
        if (one !== undefined && c >= RUN_SAFE && end - j >= FAST_WORTH) break;
      }
    }
    return (this.#text = '{"t":"b","s":' + header.seq + ',"o":' + header.boot + ',"k":' + header.index + ',"i":' + header.interval +
      (header.time > 0 ? ',"T":' + header.time : ',"a":' + header.age) + (header.channel ? ',"c":' + header.channel : "") +
      ',"n":' + count + ',"b":' + base + ',"v":"' + v + '"}').length;
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
}
