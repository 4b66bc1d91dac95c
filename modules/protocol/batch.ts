/*
 * Batch frame encoder (docs/protocol.md, frame `b`), shaped by XS's costs: its meter charges about a unit a
 * bytecode (a call, and each argument passed, several), while native work is cheap per character.
 * - Readings whose delta is in −64…63 (every one-character token, and the two-character ones of steps up to
 *   0.64 °C: nearly all of a real probe's) go up to SPAN at a time through one view of the ring (`subarray`, so
 *   that each is read at a constant index) into a `+` chain of table lookups, one per block of 10, 10, 20 and
 *   20 readings: a read, a subtraction, a mask, a lookup and a concatenation a reading, no branch, no call. The
 *   table holds strings, so a two-character token costs what a one-character one does.
 * - A delta the table has no token for reads undefined, which `+` writes as "undefined": nine characters where
 *   a token has one or two. So a pass's text shorter than its lookups + 8 holds no miss (one comparison);
 *   a longer one is checked reading by reading against the table, which finds the first miss and where its
 *   text starts. No token's content matters to the check. The readings before a miss are kept, the missed
 *   one (a longer delta, a fault) goes to the careful path, a reading at a time, which hands back to a fast
 *   pass after a reading the table has.
 * - The envelope is one concatenation (number to text is native; a template literal costs XS more).
 * A batch that wraps round the ring is first copied out straight, by native copies into a buffer kept for it.
 * The frame is one string, as the WebSocket sends it.
 *
 * Cost (`npm run bench`): 1,168 units a batch of 60, 19.47 a reading (436 a batch of 10, 271 of 1); the miss
 * check costs 25 of them at 60 (the search for "un" it replaced cost less, and proved nothing). 840 of
 * them are the lookups, 14 a reading, the least a lookup costs in XS: the typed-array read 5 (four bytecodes
 * and its getter's unit), keeping the value for the next delta 1, the subtraction 2, the mask 2 (a negative
 * key is interned as a property name, for good, on a typed array as on an object: measured), the lookup 3,
 * the `+` 1. The bench's XS compiles with line information, a unit each time a new source line runs; esbuild,
 * the bench's bundler, prints a `+` chain on one line, so the lookups pay none (String.fromCharCode calls, one
 * argument a line, paid ~60 at 60, and 6 a call). Fixed, ~300: the bench's call and text() ~59, the checks
 * and the set-up before a pass ~75, the view ~28, the blocks ~40, the miss check and the end of the pass ~65, the
 * envelope ~54. Each block starts from "" (2 units) so that its pieces are short-lived strings of at most 20
 * readings, not of the whole pass.
 * A miss costs more than the pass it is in: the readings before it are counted again by their tokens' lengths
 * (~25 each) and the pass after it starts afresh. A jump of more than 0.64 °C at reading 30 of 60 costs ~3,190
 * units, a fault there ~3,100 (~1,430 and ~2,220 when a miss was mended in place, before the string table).
 * The bench's data has none: its one two-character delta is in the table. The table has 128 entries (frozen:
 * in flash on the boards).
 * Measured and dropped: a Uint8Array table indexed by delta + 16 (a unit more a reading, and no safer).
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
/** Readings a fast pass reads through one view, in blocks of 10, 10, 20 and 20: as many as it needs. */
const SPAN = 60;
/** Below this many readings left, the careful path (~70 units a reading) costs less than a fast pass (~230 for 10). */
const FAST_WORTH = 4;
/** The table holds the token of each delta −TABLE_DELTA…TABLE_DELTA − 1: one character up to ±16, two beyond. */
const TABLE_DELTA = 64;
/**
 * Deltas are looked up by their low 17 bits: a negative delta d is key 131072 + d, and the deltas two
 * int16 values can have (±65535) never collide. The mask is then all the arithmetic a lookup needs, and a
 * key is never negative (XS would intern a negative one as a property name).
 */
const DELTA_KEY = 0x1ffff;
/**
 * A fast pass starts from a value at or above this (−289.12 °C). A step the table has moves at most 64, so
 * each of the first SPAN − 1 readings a pass reaches by such steps stays at FAULT_LIMIT + 64 or above: a fault
 * after one of them is more than 64 away, so it always misses the table.
 */
const RUN_SAFE = FAULT_LIMIT + TABLE_DELTA * SPAN;
/** `~` and the fault's code, by fault value − FAULT_BASE (kinds past FAULT_CODES write "\0", as they always have). */
const FAULT_TOKENS: readonly string[] = Object.freeze(
  Array.from({ length: FAULT_LIMIT - FAULT_BASE }, (_, kind) =>
    "~" + String.fromCharCode(kind < FAULT_CODES.length ? FAULT_CODES.charCodeAt(kind) : 0)),
);
/** The alphabet as one-character strings (indexing ALPHABET would make a new string each time). */
const CHARS: readonly string[] = Object.freeze(ALPHABET.split(""));

/**
 * The token of a delta outside −16…15: zig-zag, then 5 bits a character, least significant group first
 * (docs/protocol.md). Two characters cover ±5.11 °C.
 */
function longToken(delta: number): string {
  return zigzagToken(delta < 0 ? -2 * delta - 1 : 2 * delta);
}

/** The token of a zig-zag value of 32 or more. */
function zigzagToken(zigzag: number): string {
  if (zigzag < 1024) return CHARS[32 | (zigzag & 31)] + CHARS[zigzag >> 5];
  let token = "";
  while (zigzag >= 32) {
    token += CHARS[32 | (zigzag & 31)];
    zigzag >>= 5;
  }
  return token + CHARS[zigzag];
}

/**
 * The token of each delta −TABLE_DELTA…TABLE_DELTA − 1, by delta key. Any other delta reads a missing key:
 * undefined.
 */
const TOKEN: Readonly<Record<number, string | undefined>> = (() => {
  const table: Record<number, string> = {};
  for (let delta = -TABLE_DELTA; delta < TABLE_DELTA; delta++) {
    const token = delta >= -16 && delta < 16 ? CHARS[delta < 0 ? -2 * delta - 1 : 2 * delta] : longToken(delta);
    // The miss check counts on it (built once, preloaded in flash on the boards).
    if (token.length > 2) throw new Error("a table token is longer than 2 characters");
    table[delta & DELTA_KEY] = token;
  }
  return Object.freeze(table);
})();

/** The first numeric value of `values[start…end)`, or 0 when all are faults. */
function firstNumeric(values: Int16Array, start: number, end: number): number {
  for (let j = start; j < end; j++) if (values[j] >= FAULT_LIMIT) return values[j];
  return 0;
}

/** Characters `+` writes for a lookup the table misses (String(undefined)); a token has one or two. */
const MISS_TEXT = 9;

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
    let p = base, c: number;
    while (j < end) {
      if (p >= RUN_SAFE && end - j >= FAST_WORTH) {
        // Fast pass over the next SPAN readings, of a view that ends with the batch: past its end a reading is
        // undefined, its delta NaN, key 0, written "A". `-` binds before `&`. Each block starts from "" so that
        // two misses in a row make "undefinedundefined", not NaN.
        const r = values.subarray(j, end), left = end - j, from = p;
        let s = "" + TOKEN[(c = r[0]) - p & DELTA_KEY] + TOKEN[(p = r[1]) - c & DELTA_KEY] + TOKEN[(c = r[2]) - p & DELTA_KEY] + TOKEN[(p = r[3]) - c & DELTA_KEY] +
          TOKEN[(c = r[4]) - p & DELTA_KEY] + TOKEN[(p = r[5]) - c & DELTA_KEY] + TOKEN[(c = r[6]) - p & DELTA_KEY] + TOKEN[(p = r[7]) - c & DELTA_KEY] +
          TOKEN[(c = r[8]) - p & DELTA_KEY] + TOKEN[(p = r[9]) - c & DELTA_KEY];
        if (left > 10) {
          s += "" + TOKEN[(c = r[10]) - p & DELTA_KEY] + TOKEN[(p = r[11]) - c & DELTA_KEY] + TOKEN[(c = r[12]) - p & DELTA_KEY] + TOKEN[(p = r[13]) - c & DELTA_KEY] +
            TOKEN[(c = r[14]) - p & DELTA_KEY] + TOKEN[(p = r[15]) - c & DELTA_KEY] + TOKEN[(c = r[16]) - p & DELTA_KEY] + TOKEN[(p = r[17]) - c & DELTA_KEY] +
            TOKEN[(c = r[18]) - p & DELTA_KEY] + TOKEN[(p = r[19]) - c & DELTA_KEY];
          if (left > 20) {
            s += "" + TOKEN[(c = r[20]) - p & DELTA_KEY] + TOKEN[(p = r[21]) - c & DELTA_KEY] + TOKEN[(c = r[22]) - p & DELTA_KEY] + TOKEN[(p = r[23]) - c & DELTA_KEY] +
              TOKEN[(c = r[24]) - p & DELTA_KEY] + TOKEN[(p = r[25]) - c & DELTA_KEY] + TOKEN[(c = r[26]) - p & DELTA_KEY] + TOKEN[(p = r[27]) - c & DELTA_KEY] +
              TOKEN[(c = r[28]) - p & DELTA_KEY] + TOKEN[(p = r[29]) - c & DELTA_KEY] + TOKEN[(c = r[30]) - p & DELTA_KEY] + TOKEN[(p = r[31]) - c & DELTA_KEY] +
              TOKEN[(c = r[32]) - p & DELTA_KEY] + TOKEN[(p = r[33]) - c & DELTA_KEY] + TOKEN[(c = r[34]) - p & DELTA_KEY] + TOKEN[(p = r[35]) - c & DELTA_KEY] +
              TOKEN[(c = r[36]) - p & DELTA_KEY] + TOKEN[(p = r[37]) - c & DELTA_KEY] + TOKEN[(c = r[38]) - p & DELTA_KEY] + TOKEN[(p = r[39]) - c & DELTA_KEY];
            if (left > 40) s += "" + TOKEN[(c = r[40]) - p & DELTA_KEY] + TOKEN[(p = r[41]) - c & DELTA_KEY] + TOKEN[(c = r[42]) - p & DELTA_KEY] + TOKEN[(p = r[43]) - c & DELTA_KEY] +
              TOKEN[(c = r[44]) - p & DELTA_KEY] + TOKEN[(p = r[45]) - c & DELTA_KEY] + TOKEN[(c = r[46]) - p & DELTA_KEY] + TOKEN[(p = r[47]) - c & DELTA_KEY] +
              TOKEN[(c = r[48]) - p & DELTA_KEY] + TOKEN[(p = r[49]) - c & DELTA_KEY] + TOKEN[(c = r[50]) - p & DELTA_KEY] + TOKEN[(p = r[51]) - c & DELTA_KEY] +
              TOKEN[(c = r[52]) - p & DELTA_KEY] + TOKEN[(p = r[53]) - c & DELTA_KEY] + TOKEN[(c = r[54]) - p & DELTA_KEY] + TOKEN[(p = r[55]) - c & DELTA_KEY] +
              TOKEN[(c = r[56]) - p & DELTA_KEY] + TOKEN[(p = r[57]) - c & DELTA_KEY] + TOKEN[(c = r[58]) - p & DELTA_KEY] + TOKEN[(p = r[59]) - c & DELTA_KEY];
          }
        }
        // The miss check. A token is one or two characters and a lookup the table misses writes "undefined"
        // (MISS_TEXT characters), so a text shorter than MISS_TEXT − 1 characters over one a lookup holds no
        // miss. Otherwise each reading is looked up again, up to the first the table has no token for; `at`
        // counts the characters before it.
        const lookups = left <= 10 ? 10 : left <= 20 ? 20 : left <= 40 ? 40 : SPAN;
        let miss = -1, at = 0;
        if (s.length >= lookups + MISS_TEXT - 1) {
          let token: string | undefined;
          for (let k = 0, span = left < SPAN ? left : SPAN, q = from; k < span; q = r[k++]) {
            if ((token = TOKEN[r[k] - q & DELTA_KEY]) === undefined) {
              miss = k;
              c = q;
              break;
            }
            at += token.length;
          }
        }
        if (miss < 0) {
          if (left >= SPAN) {
            // All SPAN readings taken: `p` holds the last of them.
            v += s;
            j += SPAN;
            continue;
          }
          // The readings past the batch end made an "A" each, last.
          const past = lookups - left;
          v += past ? s.slice(0, s.length - past) : s;
          break;
        }
        // A miss: the readings before it are kept, the careful path takes the missed one. The reading before it
        // is numeric (`c`): one the pass wrote, or the careful path's last.
        v += s.slice(0, at);
        j += miss;
        p = c;
      }
      // Careful path, a reading at a time, back to a fast pass after a reading the table has. Faults leave `p`
      // as it is: a delta is always from the last numeric value.
      while (j < end) {
        c = values[j++];
        if (c < FAULT_LIMIT) {
          v += FAULT_TOKENS[c - FAULT_BASE];
          continue;
        }
        const one = TOKEN[(c - p) & DELTA_KEY];
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
