/*
 * UTF-8 both ways, for the serial port. XS on the boards has no TextEncoder/TextDecoder (Moddable ships
 * them as optional modules), and these few lines cost less than including them.
 */
export { utf8Length } from "../../config/schema";

/**
 * Decodes bytes `[start, end)` strictly: returns undefined for anything that is not well-formed UTF-8
 * (stray continuation bytes, overlong forms, surrogates, truncated sequences), so noise on the line is
 * refused rather than turned into text.
 */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  let text = "";
  let i = start;
  while (i < end) {
    const b = bytes[i];
    if (b < 0x80) {
      text += String.fromCharCode(b);
      i++;
      continue;
    }
    // Lead byte: how many continuation bytes follow, and the smallest code point that needs them.
    const need = b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : 0;
    if (!need || i + need >= end) return undefined;
    let code = b & (0x7f >> (need + 1));
    const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) return undefined;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code < 0xe000)) return undefined;
    text += String.fromCodePoint(code);
    i += need + 1;
  }
  return text;
}

/** Encodes well-formed text (lone surrogates become U+FFFD). */
export function encodeUtf8(text: string): Uint8Array {
  const bytes = new Uint8Array(encodedLength(text));
  encodeUtf8Into(text, bytes, 0);
  return bytes;
}

/** Bytes encodeUtf8 makes of `text` (a lone surrogate: the 3 of U+FFFD). */
export function encodedLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && isLowSurrogate(text.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Writes `text` as UTF-8 into `target` from `at`, wrapping round at its end (a ring), and returns the bytes
 * written: the caller has checked there is room (encodedLength). No array of numbers on the way: one is 16
 * bytes a byte on a board, and grown by push (the ESP8266 heap bench ran out of chunks at `set` on one).
 */
export function encodeUtf8Into(text: string, target: Uint8Array, at: number): number {
  const size = target.length;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xe000) {
      const next = text.charCodeAt(i + 1);
      if (c < 0xdc00 && isLowSurrogate(next)) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else c = 0xfffd;
    }
    if (c < 0x80) target[(at + n++) % size] = c;
    else if (c < 0x800) {
      target[(at + n++) % size] = 0xc0 | (c >> 6);
      target[(at + n++) % size] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      target[(at + n++) % size] = 0xe0 | (c >> 12);
      target[(at + n++) % size] = 0x80 | ((c >> 6) & 0x3f);
      target[(at + n++) % size] = 0x80 | (c & 0x3f);
    } else {
      target[(at + n++) % size] = 0xf0 | (c >> 18);
      target[(at + n++) % size] = 0x80 | ((c >> 12) & 0x3f);
      target[(at + n++) % size] = 0x80 | ((c >> 6) & 0x3f);
      target[(at + n++) % size] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c < 0xe000;
}
