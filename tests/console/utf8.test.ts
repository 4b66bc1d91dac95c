import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeUtf8, encodedLength, encodeUtf8, encodeUtf8Into } from "../../modules/console/utf8";

// Bytes written out by hand (runs under XS too: no Buffer, no TextEncoder).
const VECTORS: [text: string, bytes: number[]][] = [
  ["", []],
  ["ok\r\n> ", [0x6f, 0x6b, 0x0d, 0x0a, 0x3e, 0x20]],
  ["é", [0xc3, 0xa9]],
  ["°C", [0xc2, 0xb0, 0x43]],
  ["\u07ff\u0800", [0xdf, 0xbf, 0xe0, 0xa0, 0x80]],
  ["€", [0xe2, 0x82, 0xac]],
  ["\uffff", [0xef, 0xbf, 0xbf]],
  ["𝄞", [0xf0, 0x9d, 0x84, 0x9e]],
];

test("encodeUtf8 gives each character's UTF-8 bytes, and encodedLength their count", () => {
  for (const [text, bytes] of VECTORS) {
    const encoded = encodeUtf8(text);
    assert.deepEqual([...encoded], bytes, JSON.stringify(text));
    assert.equal(encodedLength(text), bytes.length, JSON.stringify(text));
    assert.equal(decodeUtf8(encoded, 0, encoded.length), text);
  }
});

test("a lone surrogate is encoded as U+FFFD, counted as its 3 bytes", () => {
  const replacement = [0xef, 0xbf, 0xbd];
  for (const [text, bytes] of [
    ["a\ud800b", [0x61, ...replacement, 0x62]],
    ["a\udc00", [0x61, ...replacement]],
    ["\ud83d", replacement],
  ] as [string, number[]][]) {
    assert.deepEqual([...encodeUtf8(text)], bytes, JSON.stringify(text));
    assert.equal(encodedLength(text), bytes.length, JSON.stringify(text));
  }
});

test("encodeUtf8Into writes round the end of a ring and returns the bytes written", () => {
  const ring = new Uint8Array(8).fill(0xaa);
  assert.equal(encodeUtf8Into("a€𝄞", ring, 5), 8);
  // "a" at 5, "€" at 6, 7 and 0, "𝄞" at 1 to 4.
  assert.deepEqual([...ring], [0xac, 0xf0, 0x9d, 0x84, 0x9e, 0x61, 0xe2, 0x82]);
});
