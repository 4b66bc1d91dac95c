/* The shared protocol vectors (tests/vectors/protocol.json), for the firmware's and the server's tests. */
import data from "./protocol.json" with { type: "json" };

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

export const vectors = data as { valid: ValidVector[]; invalid: InvalidVector[] };
