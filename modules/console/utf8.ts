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
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xe000) {
      const next = text.charCodeAt(i + 1);
      if (c < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else c = 0xfffd;
    }
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return new Uint8Array(bytes);
}
