/*
 * Fixed-point register values to centi-degrees, in integer steps every engine agrees on.
 */

/**
 * `raw / 2^fractionBits` °C as centi-degrees, rounded half away from zero so that +x and −x read the same
 * magnitude (DS18B20 and TMP102: 4 fraction bits, 0.0625 °C; TMP117: 7 fraction bits, 7.8125 m°C).
 */
export function fixedToCenti(raw: number, fractionBits: number): number {
  const scale = 2 ** fractionBits;
  const half = scale / 2;
  const hundredfold = raw * 100;
  return hundredfold >= 0 ? Math.floor((hundredfold + half) / scale) : 0 - Math.floor((half - hundredfold) / scale); // 0 − x: never −0
}

/** A 16-bit register value as a signed (two's complement) number. */
export function signed16(value: number): number {
  return (value << 16) >> 16;
}
