/*
 * Not device code: earlier suggestions for modules/protocol/batch.ts, kept as measured alternatives.
 * bench/run.ts checks that each writes byte for byte the frame BatchEncoder writes, and prints what each
 * costs on XS.
 *
 * They were measured against the first BatchEncoder, which wrote the envelope a character at a time
 * (~4,500 units a batch), spent ~88 units a reading in its loop and ~7 a character in text()
 * (String.fromCharCode.apply). BatchEncoder has since taken suggestion 1's one-piece envelope (now a
 * concatenation, cheaper in XS than a template literal) and its straight reading of the ring, and goes further
 * (see its header): at batch 60 it costs less than suggestion 1, and less than suggestion 2 once what that
 * adds to each append is counted (19.05 units a reading against ~89).
 *
 * 1. EnvelopeTemplateEncoder: the envelope as one template literal (number to text is native), the readings
 *    in a tight loop (no wrap test: at most two straight segments; one-character deltas from a 32-entry
 *    table), text() = envelope + String.fromCharCode.apply(readings) + '"}'.
 * 2. TokensAtAppend: the store keeps, beside each value, its token (the delta from the value before it,
 *    computed once in append, where that value is at hand); a batch's text is then a native copy of the
 *    tokens. The per-reading work moves to append, and is paid once even when a batch is sent again after
 *    a reconnect; encoding does none. Not taken: in battery mode the store lives in memory that survives
 *    deep sleep, checked by a CRC of its values (modules/power/retained.ts); tokens kept beside them would
 *    need a byte a reading more of that memory and the same check, or be worked out again after each wake,
 *    which is the encoding work again. And a copy out of a typed array costs XS ~6 units a character
 *    (apply reads each element through the generic path), so the send side would still cost ~10 a reading.
 */
import type { BatchHeader } from "../modules/protocol/batch";
import { ALPHABET, FAULT_BASE, FAULT_CODES, FAULT_LIMIT } from "../modules/protocol/values";

const ONE_CHAR = (() => {
  // Deltas −16…15 are one character: zigzag 0…31.
  const table = new Uint8Array(32);
  for (let d = -16; d < 16; d++) table[d + 16] = ALPHABET.charCodeAt(d < 0 ? -2 * d - 1 : 2 * d);
  return table;
})();
const ALPHABET_CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const FAULT_CHAR_CODES = Uint8Array.from(FAULT_CODES, (c) => c.charCodeAt(0));

function envelope(h: BatchHeader, count: number, base: number): string {
  const time = h.time > 0 ? `,"T":${h.time}` : `,"a":${h.age}`;
  const channel = h.channel ? `,"c":${h.channel}` : "";
  return `{"t":"b","s":${h.seq},"o":${h.boot},"k":${h.index},"i":${h.interval}${time}${channel},"n":${count},"b":${base},"v":"`;
}

/** Writes the delta of `value` from `previous` (or a fault) at `at`; returns the new `at`. */
function writeToken(bytes: Uint8Array, at: number, value: number, previous: number): number {
  if (value < FAULT_LIMIT) {
    bytes[at] = 0x7e;
    bytes[at + 1] = FAULT_CHAR_CODES[value - FAULT_BASE];
    return at + 2;
  }
  const delta = value - previous;
  let zigzag = delta < 0 ? -2 * delta - 1 : 2 * delta;
  while (zigzag >= 32) {
    bytes[at] = ALPHABET_CODES[32 | (zigzag & 31)];
    at = at + 1;
    zigzag >>= 5;
  }
  bytes[at] = ALPHABET_CODES[zigzag];
  return at + 1;
}

export class EnvelopeTemplateEncoder {
  #bytes: Uint8Array;
  #head = "";
  #length = 0;

  constructor(maxReadings: number) {
    this.#bytes = new Uint8Array(4 * maxReadings);
  }

  encode(h: BatchHeader, values: Int16Array, start: number, count: number): number {
    const capacity = values.length;
    let base = 0;
    for (let j = 0, p = start; j < count; j++) {
      if (values[p] >= FAULT_LIMIT) {
        base = values[p];
        break;
      }
      if (++p === capacity) p = 0;
    }
    this.#head = envelope(h, count, base);
    const bytes = this.#bytes, one = ONE_CHAR;
    let at = 0, previous = base, value = 0, d = 0, p = start, left = count;
    while (left > 0) {
      let end = p + left;
      if (end > capacity) end = capacity;
      left -= end - p;
      p = p - 1;
      end = end - 1;
      while (p < end) {
        p = p + 1;
        value = values[p];
        d = value - previous + 16;
        if (d >>> 5 === 0 && value >= FAULT_LIMIT) {
          bytes[at] = one[d];
          at = at + 1;
          previous = value;
        } else {
          at = writeToken(bytes, at, value, previous);
          if (value >= FAULT_LIMIT) previous = value;
        }
      }
      p = 0;
    }
    this.#length = at;
    return this.#head.length + at + 2;
  }

  text(): string {
    return this.#head + String.fromCharCode.apply(null, this.#bytes.subarray(0, this.#length) as unknown as number[]) + '"}';
  }
}

/**
 * Suggestion 2: a ring of values with each reading's token (its delta from the numeric reading before it,
 * or its fault) written once, at append, into a byte ring beside it. A batch's text is then the envelope,
 * "A" for its first reading (the base) and the tokens of the others as they lie: no JavaScript per reading.
 * (A batch opening on a fault would need the first numeric reading's token redone; the sketch leaves
 * that to EnvelopeTemplateEncoder.)
 */
export class TokensAtAppend {
  readonly values: Int16Array;
  #tokens: Uint8Array;
  /** Bytes of the token ring; the array has 4 more, for a token that runs past the end before it wraps. */
  #size: number;
  /** Where each slot's token starts in the token ring. */
  #offsets: Uint16Array;
  #tail = 0;
  #tokenTail = 0;
  #previous = 0;

  constructor(capacity: number) {
    this.values = new Int16Array(capacity);
    this.#size = 4 * capacity;
    this.#tokens = new Uint8Array(this.#size + 4);
    this.#offsets = new Uint16Array(capacity);
  }

  /** The ring's append and what the suggestion adds to it: the reading's token. */
  append(value: number): void {
    const tail = this.#tail, tokens = this.#tokens;
    this.values[tail] = value;
    let at = this.#tokenTail;
    this.#offsets[tail] = at;
    const d = value - this.#previous + 16;
    if (d >>> 5 === 0 && value >= FAULT_LIMIT) {
      tokens[at] = ONE_CHAR[d];
      at = at + 1;
      this.#previous = value;
    } else {
      at = writeToken(tokens, at, value, this.#previous);
      if (value >= FAULT_LIMIT) this.#previous = value;
    }
    if (at >= this.#size) {
      tokens.copyWithin(0, this.#size, at);
      at -= this.#size;
    }
    this.#tokenTail = at;
    this.#tail = tail + 1 === this.values.length ? 0 : tail + 1;
  }

  /** The same ring append without the token: the difference is what the suggestion costs append. */
  appendValueOnly(value: number): void {
    const tail = this.#tail;
    this.values[tail] = value;
    this.#tail = tail + 1 === this.values.length ? 0 : tail + 1;
  }

  /** The batch of `count` readings from slot `start` (held, not the newest slot overwritten) as frame text. */
  text(h: BatchHeader, start: number, count: number): string {
    const capacity = this.values.length;
    const first = this.values[start];
    if (first < FAULT_LIMIT) return ""; // see the class comment
    let head = envelope(h, count, first) + "A";
    if (count > 1) {
      let second = start + 1, after = start + count;
      if (second >= capacity) second -= capacity;
      if (after >= capacity) after -= capacity;
      const from = this.#offsets[second];
      const to = after === this.#tail ? this.#tokenTail : this.#offsets[after];
      const tokens = this.#tokens;
      if (from < to) head += String.fromCharCode.apply(null, tokens.subarray(from, to) as unknown as number[]);
      else {
        head += String.fromCharCode.apply(null, tokens.subarray(from, this.#size) as unknown as number[]);
        head += String.fromCharCode.apply(null, tokens.subarray(0, to) as unknown as number[]);
      }
    }
    return head + '"}';
  }
}
