/*
 * Batch frame encoder (docs/protocol.md, frame `b`).
 *
 * Writes ASCII bytes into one buffer allocated at start and reused for every batch; the only allocation
 * per batch is the final string the WebSocket needs for a text frame. No string is built per reading.
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

/** Worst case: a fault or a 4-character delta per reading, plus the envelope. */
const ENVELOPE_BYTES = 160;
const BYTES_PER_READING = 4;
const STRING_CHUNK = 256;

const QUOTE = 0x22, MINUS = 0x2d, ZERO = 0x30, FAULT_MARK = 0x7e;

export class BatchEncoder {
  readonly maxReadings: number;
  #bytes: Uint8Array;
  #digits = new Uint8Array(16);
  #alphabet = new Uint8Array(64);
  #faultCodes = new Uint8Array(16);
  #length = 0;

  constructor(maxReadings: number) {
    this.maxReadings = maxReadings;
    this.#bytes = new Uint8Array(ENVELOPE_BYTES + BYTES_PER_READING * maxReadings);
    for (let i = 0; i < 64; i++) this.#alphabet[i] = ALPHABET.charCodeAt(i);
    for (let i = 0; i < FAULT_CODES.length; i++) this.#faultCodes[i] = FAULT_CODES.charCodeAt(i);
  }

  /**
   * Encodes `count` readings of the ring `values` (capacity `values.length`) starting at slot `start`.
   * Returns the frame length in bytes; read it with `bytes()` or `text()`.
   */
  encode(header: BatchHeader, values: Int16Array, start: number, count: number): number {
    if (count < 1 || count > this.maxReadings) throw new RangeError("batch size");
    const bytes = this.#bytes;
    const alphabet = this.#alphabet;
    const capacity = values.length;
    this.#length = 0;
    this.#ascii('{"t":"b","s":');
    this.#int(header.seq);
    this.#ascii(',"o":');
    this.#int(header.boot);
    this.#ascii(',"k":');
    this.#int(header.index);
    this.#ascii(',"i":');
    this.#int(header.interval);
    if (header.time > 0) {
      this.#ascii(',"T":');
      this.#int(header.time);
    } else {
      this.#ascii(',"a":');
      this.#int(header.age);
    }
    if (header.channel) {
      this.#ascii(',"c":');
      this.#int(header.channel);
    }
    this.#ascii(',"n":');
    this.#int(count);

    // The base is the first numeric reading, so the first delta is 0 in the common case.
    let previous = 0;
    for (let j = 0, p = start; j < count; j++) {
      const value = values[p];
      if (value >= FAULT_LIMIT) {
        previous = value;
        break;
      }
      if (++p === capacity) p = 0;
    }
    this.#ascii(',"b":');
    this.#int(previous);
    this.#ascii(',"v":"');

    let at = this.#length;
    for (let j = 0, p = start; j < count; j++) {
      const value = values[p];
      if (++p === capacity) p = 0;
      if (value < FAULT_LIMIT) {
        bytes[at++] = FAULT_MARK;
        bytes[at++] = this.#faultCodes[value - FAULT_BASE];
        continue;
      }
      const delta = value - previous;
      previous = value;
      let zigzag = delta < 0 ? -2 * delta - 1 : 2 * delta;
      while (zigzag >= 32) {
        bytes[at++] = alphabet[32 | (zigzag & 31)];
        zigzag >>= 5;
      }
      bytes[at++] = alphabet[zigzag];
    }
    bytes[at++] = QUOTE;
    bytes[at++] = 0x7d; // }
    this.#length = at;
    return at;
  }

  /** The last encoded frame's bytes (a view into the reused buffer). */
  bytes(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  /** The last encoded frame as a string, for a WebSocket text frame. */
  text(): string {
    const bytes = this.#bytes;
    const length = this.#length;
    let text = "";
    for (let at = 0; at < length; at += STRING_CHUNK) {
      const end = at + STRING_CHUNK < length ? at + STRING_CHUNK : length;
      text += String.fromCharCode.apply(null, bytes.subarray(at, end) as unknown as number[]);
    }
    return text;
  }

  #ascii(text: string): void {
    const bytes = this.#bytes;
    let at = this.#length;
    for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
    this.#length = at;
  }

  #int(value: number): void {
    const bytes = this.#bytes;
    const digits = this.#digits;
    let at = this.#length;
    if (value < 0) {
      bytes[at++] = MINUS;
      value = -value;
    }
    let n = 0;
    do {
      const next = Math.floor(value / 10);
      digits[n++] = ZERO + (value - next * 10);
      value = next;
    } while (value > 0);
    while (n > 0) bytes[at++] = digits[--n];
    this.#length = at;
  }
}

