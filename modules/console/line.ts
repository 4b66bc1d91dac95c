/*
 * LineEditor: turns the bytes a terminal sends into lines, in a fixed buffer.
 *
 * Enter may arrive as CR, LF or CRLF (one line each). Backspace (BS or DEL) erases the last character,
 * Ctrl-U the whole line, Ctrl-C abandons it. Escape sequences (arrow keys: ESC [ A) are skipped, other
 * control bytes ignored. A line longer than LINE_MAX bytes is not grown into: the rest of it is
 * discarded up to the next Enter, which reports it as too long. Bytes 0x80 and up are kept as UTF-8
 * (SSIDs may hold any text); whether they form valid text is judged when the line ends.
 *
 * Echo: characters are echoed as they complete; after `set <secret key> ` they are echoed as `*`.
 */
import type { PortOutput } from "./output";
import { decodeUtf8 } from "./utf8";

export const LINE_MAX = 128;

export const LineEvent = Object.freeze({
  None: 0,
  /** Enter: the line is ready in `text()`. */
  Line: 1,
  /** Ctrl-C: the line was abandoned. */
  Cancelled: 2,
  /** Enter after a line longer than LINE_MAX: it was discarded. */
  TooLong: 3,
});
export type LineEventValue = (typeof LineEvent)[keyof typeof LineEvent];

const BS = 0x08, TAB = 0x09, LF = 0x0a, CR = 0x0d, ETX = 0x03, NAK = 0x15, ESC = 0x1b, DEL = 0x7f;
const SECRET_PREFIX = /^\s*set\s+(\S+)\s+$/;

export class LineEditor {
  #bytes = new Uint8Array(LINE_MAX);
  #length = 0;
  #overflow = false;
  #afterCR = false;
  /** 0: none; 1: after ESC; 2: inside a CSI/SS3 sequence. */
  #escape = 0;
  /** Continuation bytes still expected for the character being received. */
  #pending = 0;
  /** Echo `*` from this byte on (0: no masking). */
  #maskFrom = 0;
  #output: PortOutput;
  #echo: boolean;
  #isSecret: (key: string) => boolean;

  constructor(output: PortOutput, isSecret: (key: string) => boolean, echo = true) {
    this.#output = output;
    this.#isSecret = isSecret;
    this.#echo = echo;
  }

  get length(): number {
    return this.#length;
  }

  push(byte: number): LineEventValue {
    if (this.#escape) {
      if (this.#escape === 1 && (byte === 0x5b || byte === 0x4f)) this.#escape = 2;
      else if (this.#escape === 2 && byte >= 0x20 && byte < 0x40) return LineEvent.None;
      else this.#escape = 0;
      return LineEvent.None;
    }
    const afterCR = this.#afterCR;
    this.#afterCR = byte === CR;
    if (byte === CR || byte === LF) {
      if (byte === LF && afterCR) return LineEvent.None; // the LF of a CRLF
      this.#say("\r\n");
      const overflow = this.#overflow;
      if (overflow) this.clear();
      return overflow ? LineEvent.TooLong : LineEvent.Line;
    }
    if (byte === BS || byte === DEL) {
      if (!this.#overflow) this.#erase();
      return LineEvent.None;
    }
    if (byte === NAK) {
      while (this.#length && !this.#overflow) this.#erase();
      return LineEvent.None;
    }
    if (byte === ETX) {
      this.#say("^C\r\n");
      this.clear();
      return LineEvent.Cancelled;
    }
    if (byte === ESC) {
      this.#escape = 1;
      return LineEvent.None;
    }
    if (byte === TAB) byte = 0x20;
    if (byte < 0x20 || this.#overflow) return LineEvent.None;
    if (this.#length === LINE_MAX) {
      this.#overflow = true;
      return LineEvent.None;
    }
    this.#bytes[this.#length++] = byte;
    this.#echoByte(byte);
    return LineEvent.None;
  }

  /** The line as text, or undefined when its bytes are not valid UTF-8. */
  text(): string | undefined {
    return decodeUtf8(this.#bytes, 0, this.#length);
  }

  clear(): void {
    this.#length = 0;
    this.#overflow = false;
    this.#pending = 0;
    this.#maskFrom = 0;
  }

  /** The line as echoed, to show it again after output interrupted it. */
  shown(): string {
    const mask = this.#maskFrom || this.#length;
    let shown = decodeUtf8(this.#bytes, 0, mask) ?? "";
    for (let i = mask; i < this.#length; i++) if ((this.#bytes[i] & 0xc0) !== 0x80) shown += "*";
    return shown;
  }

  #echoByte(byte: number): void {
    if (byte < 0x80) {
      this.#pending = 0;
      const masked = this.#maskFrom && this.#length > this.#maskFrom;
      this.#say(masked ? "*" : String.fromCharCode(byte));
      if (byte === 0x20 && !this.#maskFrom) this.#checkSecret();
      return;
    }
    if (byte >= 0xc0) {
      this.#pending = byte >= 0xf0 ? 3 : byte >= 0xe0 ? 2 : 1;
      return;
    }
    if (!this.#pending || --this.#pending) return;
    // The last byte of a character: echo the whole character, if it is one.
    let start = this.#length - 1;
    while (start > 0 && (this.#bytes[start] & 0xc0) === 0x80) start--;
    const character = decodeUtf8(this.#bytes, start, this.#length);
    if (character) this.#say(this.#maskFrom && start >= this.#maskFrom ? "*" : character);
  }

  #checkSecret(): void {
    const match = SECRET_PREFIX.exec(decodeUtf8(this.#bytes, 0, this.#length) ?? "");
    if (match && this.#isSecret(match[1])) this.#maskFrom = this.#length;
  }

  #erase(): void {
    if (!this.#length) return;
    let n = this.#length;
    while (n > 1 && (this.#bytes[n - 1] & 0xc0) === 0x80) n--;
    this.#length = n - 1;
    this.#pending = 0;
    if (this.#length < this.#maskFrom) this.#maskFrom = 0;
    this.#say("\b \b");
  }

  #say(text: string): void {
    if (this.#echo) this.#output.write(text);
  }
}
