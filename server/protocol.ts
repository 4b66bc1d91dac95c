/*
 * Device frames (docs/protocol.md): parsing, validation and dating. Pure: the caller passes the text and
 * the receive time, and gets back either a frame or the protocol error to answer with.
 */
import { decodeValues, type DecodedValues } from "../modules/protocol/values";
import { PROTOCOL_VERSION } from "../modules/protocol/endpoint";

export { DEVICE_ID, PROTOCOL_VERSION } from "../modules/protocol/endpoint";

/** Server limit on one frame (docs/protocol.md, close 1009). */
export const MAX_FRAME_BYTES = 16384;

/** A connection is closed (4009) at this many protocol errors. */
export const MAX_PROTOCOL_ERRORS = 10;

/**
 * Objects and arrays nest at most this deep in a device frame (a hello's `probe.faults` is 3 deep). Checked
 * on the text before JSON.parse, so that nothing recursive (parse, stringify, the writer) meets a deeper one.
 */
export const MAX_JSON_DEPTH = 8;

/** Readings are dated no earlier than 2020-01-01 and no later than a minute ahead of the server clock. */
export const EARLIEST_READING = Date.UTC(2020, 0, 1);
export const MAX_FUTURE_MS = 60_000;

export const Close = Object.freeze({
  Normal: 1000,
  GoingAway: 1001,
  Unsupported: 1003,
  Policy: 1008,
  TooLarge: 1009,
  Internal: 1011,
  Unauthorized: 4001,
  Revoked: 4003,
  UnknownDevice: 4004,
  RateLimited: 4008,
  TooManyErrors: 4009,
});

export type ErrorCode =
  | "bad-json" | "bad-type" | "bad-field" | "bad-values" | "bad-seq" | "bad-time" | "no-hello" | "storage"
  | "unauthorized" | "revoked" | "unknown-device" | "rate-limited";

export interface ProtocolError {
  code: ErrorCode;
  msg: string;
  /** The batch's seq, when the error concerns a batch whose `s` could be read. */
  s?: number;
  /** Set when the connection must close after the err frame (1008 for a hello that is refused). */
  close?: number;
}

export interface WakeFigures { awake?: number; connect?: number; retries?: number; n?: number }
export interface StoreFigures { n?: number; cap?: number; drop?: number; corrupt?: number; lost?: number }
/** The XS heap in use (Moddable's instrumentation), bytes. */
export interface MemoryFigures { slots?: number; chunks?: number }
/**
 * The probe's type, readings taken since the firmware started, faults and retries by fault name, and what each
 * channel measures (`ch`, a multi-channel probe only: "t" °C, "rh" %RH; channel c is `ch[c]`).
 */
export interface ProbeFigures { type?: string; n?: number; faults?: Record<string, number>; retries?: Record<string, number>; ch?: string[] }

/** What the readings of each channel measure: a hello's `probe.ch`, or temperature alone. */
export const QUANTITIES = Object.freeze(["t", "rh"]);
/** Unit of each quantity, for the API and CSV (values are hundredths of it on the wire). */
export const UNITS: Readonly<Record<string, string>> = Object.freeze({ t: "°C", rh: "%RH" });

/** The quantity channel `channel` of a device measures, by its probe figures (stored from its last hello). */
export function quantityOf(probe: ProbeFigures | null | undefined, channel: number): string {
  return probe?.ch?.[channel] ?? "t";
}

export interface Hello {
  t: "hello";
  v: number;
  id: string;
  fw: string;
  boot: number;
  rr: string;
  mode?: string;
  cfg?: Record<string, ConfigReport>;
  err?: string;
  wake?: WakeFigures;
  store?: StoreFigures;
  mem?: MemoryFigures;
  probe?: ProbeFigures;
}

/** A setting as the device reports it in `cfg`: config values are numbers, text or booleans. */
export type ConfigReport = number | string | boolean | null;

export interface Batch {
  t: "b";
  s: number;
  o: number;
  k: number;
  i: number;
  /** Exactly one of `a` (age of the newest reading) and `T` (its epoch ms) is set. */
  a?: number;
  T?: number;
  c: number;
  n: number;
  b: number;
  values: (number | null)[];
  faults: (string | null)[];
}

/** The answer to a pushed configuration: `ok` when every key was applied; `refused` gives each other key's reason. */
export interface CfgAck {
  t: "cfgack";
  id: number;
  ok: boolean;
  applied?: string[];
  refused?: Record<string, string>;
  /** From a device of before `applied`/`refused`: the one reason it refused the whole push. */
  err?: string;
}

/** The device's heartbeat (docs/link.md): answered with `{"t":"pong"}`, before or after hello. */
export interface Ping {
  t: "ping";
}

export type DeviceFrame = Hello | Batch | CfgAck | Ping;

export type Parsed = { frame: DeviceFrame; error?: undefined } | { frame?: undefined; error: ProtocolError };

/** One stored reading: identified by (device, boot, channel, idx), dated in epoch ms. */
export interface Reading {
  boot: number;
  channel: number;
  idx: number;
  t: number;
  centi: number | null;
  fault: string | null;
}

/** Thrown inside validation only; `parseFrame` turns it into a returned error. */
class Rejection extends Error {
  constructor(readonly error: ProtocolError) {
    super(error.msg);
  }
}

type Fields = Record<string, unknown>;

function reject(code: ErrorCode, msg: string, s?: number): never {
  throw new Rejection(s === undefined ? { code, msg } : { code, msg, s });
}

// JSON cannot carry NaN or Infinity, but "NaN", 1e999 (parsed as Infinity) and 1.5 can arrive: an
// integer field accepts only a finite integer within its range.
function int(f: Fields, name: string, min: number, max: number, s?: number): number {
  const value = f[name];
  if (value === undefined) reject("bad-field", `${name} is missing`, s);
  if (typeof value !== "number" || !Number.isInteger(value)) reject("bad-field", `${name} must be an integer`, s);
  if (value < min || value > max) reject("bad-field", `${name} must be between ${min} and ${max}`, s);
  return value;
}

function optionalInt(f: Fields, name: string, min: number, max: number, s?: number): number | undefined {
  return f[name] === undefined ? undefined : int(f, name, min, max, s);
}

function text(f: Fields, name: string, maxLength: number): string {
  const value = f[name];
  if (value === undefined) reject("bad-field", `${name} is missing`);
  if (typeof value !== "string" || value.length === 0 || value.length > maxLength)
    reject("bad-field", `${name} must be a string of 1 to ${maxLength} characters`);
  return value;
}

function optionalText(f: Fields, name: string, maxLength: number): string | undefined {
  return f[name] === undefined ? undefined : text(f, name, maxLength);
}

function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalObject(f: Fields, name: string): Fields | undefined {
  const value = f[name];
  if (value === undefined) return undefined;
  if (!isObject(value)) reject("bad-field", `${name} must be an object`);
  return value;
}

/** Figures such as `wake` and `store`: an object of optional non-negative integers. */
function figures<K extends string>(f: Fields, name: string, keys: readonly K[]): Partial<Record<K, number>> | undefined {
  const o = optionalObject(f, name);
  if (o === undefined) return undefined;
  const result: Partial<Record<K, number>> = {};
  for (const key of keys) {
    const value = optionalInt(o, key, 0, Number.MAX_SAFE_INTEGER);
    if (value !== undefined) result[key] = value;
  }
  return result;
}

/** Keys in a hello's `cfg` and in each of `probe`'s maps, and the length of a key or text value there. */
const MAX_KEYS = 64;
const MAX_KEY_LENGTH = 64;

function entries(o: Fields, name: string): [string, unknown][] {
  const all = Object.entries(o);
  if (all.length > MAX_KEYS) reject("bad-field", `${name} has more than ${MAX_KEYS} keys`);
  for (const [key] of all) if (key.length > MAX_KEY_LENGTH) reject("bad-field", `${name}: a key longer than ${MAX_KEY_LENGTH} characters`);
  return all;
}

/** `cfg`: a flat object of settings; a value is a number, text of at most 200 characters, a boolean or null. */
function configReport(f: Fields): Record<string, ConfigReport> | undefined {
  const o = optionalObject(f, "cfg");
  if (o === undefined) return undefined;
  const result: Record<string, ConfigReport> = {};
  for (const [key, value] of entries(o, "cfg")) {
    if (value !== null && typeof value !== "number" && typeof value !== "boolean" && !(typeof value === "string" && value.length <= 200))
      reject("bad-field", `cfg.${key} must be a number, a string of at most 200 characters, a boolean or null`);
    result[key] = value;
  }
  return result;
}

/** A map of fault name to a count (`probe.faults`, `probe.retries`). */
function counts(o: Fields, name: string): Record<string, number> | undefined {
  const map = optionalObject(o, name);
  if (map === undefined) return undefined;
  const result: Record<string, number> = {};
  for (const [key] of entries(map, `probe.${name}`)) result[key] = int(map, key, 0, Number.MAX_SAFE_INTEGER);
  return result;
}

function probeFigures(f: Fields): ProbeFigures | undefined {
  const o = optionalObject(f, "probe");
  if (o === undefined) return undefined;
  const probe: ProbeFigures = {};
  const type = optionalText(o, "type", 32);
  if (type !== undefined) probe.type = type;
  const n = optionalInt(o, "n", 0, Number.MAX_SAFE_INTEGER);
  if (n !== undefined) probe.n = n;
  const faults = counts(o, "faults");
  if (faults !== undefined) probe.faults = faults;
  const retries = counts(o, "retries");
  if (retries !== undefined) probe.retries = retries;
  if (o.ch !== undefined) {
    const ch = o.ch;
    if (!Array.isArray(ch) || ch.length < 1 || ch.length > 16 || !ch.every((q) => typeof q === "string" && QUANTITIES.includes(q)))
      reject("bad-field", `probe.ch must be a list of 1 to 16 of ${QUANTITIES.join(", ")}`);
    probe.ch = ch as string[];
  }
  return probe;
}

const U32 = 4294967295;
const S32 = 2147483647;
const YEAR_MS = 31536000000;

function parseHello(f: Fields): Hello {
  // Checked first: another version may have other fields (docs/protocol.md, "Versioning").
  const v = int(f, "v", 0, S32);
  if (v !== PROTOCOL_VERSION)
    throw new Rejection({ code: "bad-field", msg: `v: this server speaks protocol version ${PROTOCOL_VERSION}`, close: Close.Policy });
  const hello: Hello = {
    t: "hello",
    v,
    id: text(f, "id", 32),
    fw: text(f, "fw", 64),
    boot: int(f, "boot", 0, U32),
    rr: text(f, "rr", 32),
  };
  const mode = optionalText(f, "mode", 32);
  if (mode !== undefined) hello.mode = mode;
  const cfg = configReport(f);
  if (cfg !== undefined) hello.cfg = cfg;
  const err = optionalText(f, "err", 200);
  if (err !== undefined) hello.err = err;
  const wake = figures(f, "wake", ["awake", "connect", "retries", "n"] as const);
  if (wake !== undefined) hello.wake = wake;
  const store = figures(f, "store", ["n", "cap", "drop", "corrupt", "lost"] as const);
  if (store !== undefined) hello.store = store;
  const mem = figures(f, "mem", ["slots", "chunks"] as const);
  if (mem !== undefined) hello.mem = mem;
  const probe = probeFigures(f);
  if (probe !== undefined) hello.probe = probe;
  return hello;
}

function decode(v: string, base: number, n: number, s: number): DecodedValues {
  try {
    return decodeValues(v, base, n);
  } catch (e) {
    return reject("bad-values", e instanceof RangeError ? e.message : "v does not decode", s);
  }
}

function parseBatch(f: Fields): Batch {
  const s = int(f, "s", 1, S32);
  const o = int(f, "o", 0, U32, s);
  const k = int(f, "k", 0, U32, s);
  const i = int(f, "i", 1, 86400, s);
  const a = optionalInt(f, "a", 0, YEAR_MS, s);
  const T = optionalInt(f, "T", 0, Number.MAX_SAFE_INTEGER, s);
  if ((a === undefined) === (T === undefined)) reject("bad-field", "exactly one of a and T is required", s);
  const c = optionalInt(f, "c", 0, 15, s) ?? 0;
  const n = int(f, "n", 1, 1024, s);
  const b = int(f, "b", -32768, 32767, s);
  const v = f.v;
  if (typeof v !== "string") reject("bad-field", v === undefined ? "v is missing" : "v must be a string", s);
  const decoded = decode(v, b, n, s);
  const batch: Batch = { t: "b", s, o, k, i, c, n, b, values: decoded.values, faults: decoded.faults };
  if (a !== undefined) batch.a = a;
  if (T !== undefined) batch.T = T;
  return batch;
}

function parseCfgAck(f: Fields): CfgAck {
  const id = int(f, "id", 1, Number.MAX_SAFE_INTEGER);
  const ok = f.ok;
  if (typeof ok !== "boolean") reject("bad-field", "ok must be a boolean");
  const ack: CfgAck = { t: "cfgack", id, ok };
  const applied = f.applied;
  if (applied !== undefined) {
    if (!Array.isArray(applied) || applied.length > MAX_KEYS || applied.some((key) => typeof key !== "string" || key.length > MAX_KEY_LENGTH))
      reject("bad-field", `applied must be an array of at most ${MAX_KEYS} setting names`);
    ack.applied = applied as string[];
  }
  const refused = optionalObject(f, "refused");
  if (refused !== undefined) {
    ack.refused = {};
    for (const [key, reason] of entries(refused, "refused")) {
      if (typeof reason !== "string" || reason.length > 200) reject("bad-field", `refused.${key} must be a string of at most 200 characters`);
      ack.refused[key] = reason;
    }
  }
  const err = optionalText(f, "err", 200);
  if (err !== undefined) ack.err = err;
  return ack;
}

/** Parses and validates one text frame from a device. Never throws. */
export function parseFrame(frameText: string): Parsed {
  if (nestedDeeper(frameText, MAX_JSON_DEPTH)) return { error: { code: "bad-json", msg: `objects and arrays nested deeper than ${MAX_JSON_DEPTH}` } };
  let value: unknown;
  try {
    value = JSON.parse(frameText);
  } catch {
    return { error: { code: "bad-json", msg: "frame is not JSON" } };
  }
  if (!isObject(value)) return { error: { code: "bad-json", msg: "frame is not a JSON object" } };
  try {
    switch (value.t) {
      case "b": return { frame: parseBatch(value) };
      case "hello": return { frame: parseHello(value) };
      case "cfgack": return { frame: parseCfgAck(value) };
      case "ping": return { frame: { t: "ping" } };
      default: return { error: { code: "bad-type", msg: `unknown frame type ${JSON.stringify(value.t) ?? "(none)"}` } };
    }
  } catch (e) {
    if (e instanceof Rejection) return { error: e.error };
    throw e;
  }
}

/** True when objects and arrays in JSON `text` nest deeper than `max`: one pass, no recursion (strings skipped). */
export function nestedDeeper(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

export type BatchTimes = { oldest: number; stepMs: number; error?: undefined } | { oldest?: undefined; error: ProtocolError };

/**
 * Dates a batch received at `receivedAt`: reading j is taken (n − 1 − j) intervals before the newest,
 * which is `receivedAt − a`, or `T`. Returns the oldest reading's time and the step.
 */
export function batchTimes(batch: Batch, receivedAt: number): BatchTimes {
  const newest = batch.T ?? receivedAt - (batch.a ?? 0);
  const stepMs = batch.i * 1000;
  const oldest = newest - (batch.n - 1) * stepMs;
  if (oldest < EARLIEST_READING)
    return { error: { code: "bad-time", msg: `readings would be dated ${new Date(oldest).toISOString()}, before 2020`, s: batch.s } };
  if (newest > receivedAt + MAX_FUTURE_MS)
    return { error: { code: "bad-time", msg: "readings would be dated more than a minute in the future", s: batch.s } };
  return { oldest, stepMs };
}

/** `batchTimes`, as one Reading per reading. */
export function dateReadings(batch: Batch, receivedAt: number): { readings: Reading[]; error?: undefined } | { readings?: undefined; error: ProtocolError } {
  const times = batchTimes(batch, receivedAt);
  if (times.error) return { error: times.error };
  const { oldest, stepMs: step } = times;
  const readings: Reading[] = [];
  for (let j = 0; j < batch.n; j++) {
    readings.push({
      boot: batch.o,
      channel: batch.c,
      idx: batch.k + j,
      t: oldest + j * step,
      centi: batch.values[j],
      fault: batch.faults[j],
    });
  }
  return { readings };
}
