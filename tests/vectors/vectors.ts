/* Loads the shared protocol vectors (tests/vectors/protocol.json). */
import { readFileSync } from "node:fs";

export interface VectorReading {
  o: number;
  c: number;
  k: number;
  centi: number | null;
  fault: string | null;
  ageMs: number;
}
export interface ValidVector {
  name: string;
  frame: string;
  readings: VectorReading[];
}
export interface InvalidVector {
  name: string;
  frame: string;
  error: string;
}

export const vectors = JSON.parse(readFileSync(new URL("./protocol.json", import.meta.url), "utf8")) as {
  valid: ValidVector[];
  invalid: InvalidVector[];
};
