/*
 * Steinhart–Hart: the NTC model the `ntc.sh` setting names. Pure arithmetic, apart from the driver
 * (sensors/ntc), so that the config schema can judge a table without importing device drivers.
 */
const KELVIN = 273.15;

/** Steinhart–Hart: 1/T = A + B·ln R + C·(ln R)³. */
export function steinhartHartCelsius(resistance: number, a: number, b: number, c: number): number {
  const l = Math.log(resistance);
  return 1 / (a + b * l + c * l * l * l) - KELVIN;
}


/** Steinhart–Hart coefficients through three (°C, Ω) points, e.g. from the thermistor's R/T table. */
export function fitSteinhartHart(t1: number, r1: number, t2: number, r2: number, t3: number, r3: number): { a: number; b: number; c: number } {
  const l1 = Math.log(r1);
  const l2 = Math.log(r2);
  const l3 = Math.log(r3);
  const y1 = 1 / (t1 + KELVIN);
  const y2 = 1 / (t2 + KELVIN);
  const y3 = 1 / (t3 + KELVIN);
  const g2 = (y2 - y1) / (l2 - l1);
  const g3 = (y3 - y1) / (l3 - l1);
  const c = (g3 - g2) / (l3 - l2) / (l1 + l2 + l3);
  const b = g2 - c * (l1 * l1 + l1 * l2 + l2 * l2);
  const a = y1 - (b + l1 * l1 * c) * l1;
  return { a, b, c };
}


/**
 * Steinhart–Hart coefficients from a setting's text, three table rows "°C:Ω" separated by commas
 * ("0:31770,25:10000,50:3592"), or an error message.
 */
export function parseSteinhartHart(text: string): { type: "steinhart-hart"; a: number; b: number; c: number } | string {
  const rows = text.split(",");
  if (rows.length !== 3) return "needs three points °C:Ω, comma-separated";
  const t: number[] = [];
  const r: number[] = [];
  for (const row of rows) {
    const parts = row.split(":");
    const celsius = Number(parts[0]);
    const ohms = Number(parts[1]);
    if (parts.length !== 2 || parts[0].trim() === "" || !isFinite(celsius) || !(ohms > 0 && isFinite(ohms))) return `bad point '${row}'`;
    t.push(celsius);
    r.push(ohms);
  }
  if (!(t[0] < t[1] && t[1] < t[2] && r[0] > r[1] && r[1] > r[2])) return "points must rise in °C and fall in Ω";
  const { a, b, c } = fitSteinhartHart(t[0], r[0], t[1], r[1], t[2], r[2]);
  if (!isFinite(a) || !isFinite(b) || !isFinite(c)) return "points do not fit";
  return { type: "steinhart-hart", a, b, c };
}
