/*
 * What the fuzz tier (fuzz.test.ts) sends: fast-check arbitraries for one connection's bytes, in each state a
 * connection can be in when they arrive. Frames are built by hand (raw-client.ts): any opcode, RSV bits,
 * length form (and lies about the length), masked or not, fragmented, with control frames between the
 * fragments; payloads are device frames with fields drawn from valid and invalid values, JSON of any shape
 * and depth, invalid UTF-8, and frames around the 16 KiB limit. Upgrade and HTTP requests get odd paths,
 * methods, versions and headers.
 */
import fc from "fast-check";
import { closeFrame, frameBytes, upgradeRequest, type FrameSpec } from "./raw-client";

/** Where the case's bytes land: before any HTTP request ends, or on a WebSocket in one of its states. */
export type CaseState = "http" | "refused" | "open" | "helloed" | "after-err" | "closing";

export interface FuzzCase {
  state: CaseState;
  /** Which fuzz device the connection is (fuzz-<n>), for the states that have one. */
  device: number;
  /** For "http": the request (whole or cut short); for the others, unused. */
  request: string;
  /** WebSocket frames (each may be several: a fragmented message), sent after the state's own bytes. */
  frames: Buffer[][];
  /** The bytes go out in pieces of these sizes, cycled (TCP segments arrive cut anywhere). */
  pieces: number[];
  /** After the bytes: half-close and wait for the server to close, or drop the connection at once. */
  ending: "end" | "destroy";
}

export const FUZZ_DEVICES = 64;
export const fuzzDeviceId = (n: number) => `fuzz-${n}`;

const weird = fc.oneof(
  fc.constantFrom(-1, 0, 1, 1.5, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, "", "1", "NaN", null, true, [], {}),
  fc.jsonValue({ maxDepth: 3 }),
);
/** A value for a field: mostly a plausible one, sometimes anything. */
const field = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: weird });
const optional = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined, freq: 3 });
const base64url = fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~"), maxLength: 80 });
const counts = fc.dictionary(fc.constantFrom("crc", "disconnected", "no-device", "timeout", "range", "x"), field(fc.nat(1000)), { maxKeys: 4 });

const helloFrame = (id: string) => fc.record({
  t: fc.constant("hello"),
  v: field(fc.constant(1)),
  id: fc.oneof({ weight: 5, arbitrary: fc.constant(id) }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) }),
  fw: field(fc.constantFrom("0.1.0", "1.2.3-beta")),
  boot: field(fc.nat(100)),
  rr: field(fc.constantFrom("power-on", "deep-sleep", "panic")),
  mode: optional(field(fc.constantFrom("battery", "always-on"))),
  cfg: optional(fc.oneof(fc.dictionary(fc.string({ maxLength: 20 }), field(fc.integer()), { maxKeys: 6 }), weird)),
  err: optional(field(fc.string({ maxLength: 250 }))),
  wake: optional(fc.record({ awake: field(fc.nat()), connect: field(fc.nat()), retries: field(fc.nat(9)), n: field(fc.nat()) }, { requiredKeys: [] })),
  store: optional(fc.record({ n: field(fc.nat(512)), cap: field(fc.constant(512)), drop: field(fc.nat()), corrupt: field(fc.nat(3)), lost: field(fc.nat()) }, { requiredKeys: [] })),
  mem: optional(fc.record({ slots: field(fc.nat(1 << 20)), chunks: field(fc.nat(1 << 20)) }, { requiredKeys: [] })),
  probe: optional(fc.record({ type: field(fc.constantFrom("ds18b20", "tmp117")), n: field(fc.nat()), faults: field(counts), retries: field(counts) }, { requiredKeys: [] })),
}, { requiredKeys: ["t"] });

/** A batch: often one that decodes (n zero deltas), dated around now. */
const batchFrame = fc.integer({ min: 1, max: 12 }).chain((n) => fc.record({
  t: fc.constant("b"),
  s: field(fc.integer({ min: 1, max: 2 ** 31 - 1 })),
  o: field(fc.nat(20)),
  k: field(fc.nat(1_000_000)),
  i: field(fc.integer({ min: 1, max: 86_400 })),
  a: optional(field(fc.nat(3_600_000))),
  T: optional(weird),
  c: optional(field(fc.nat(15))),
  n: field(fc.constant(n)),
  b: field(fc.integer({ min: -3000, max: 6000 })),
  v: fc.oneof({ weight: 3, arbitrary: fc.constant("A".repeat(n)) }, { weight: 1, arbitrary: base64url }, { weight: 1, arbitrary: weird }),
}, { requiredKeys: ["t", "s", "n", "v"] }));

const otherFrame = fc.oneof(
  fc.constant({ t: "ping" }),
  fc.record({ t: fc.constant("cfgack"), id: field(fc.nat()), ok: field(fc.boolean()), err: optional(field(fc.string())) }),
  fc.record({ t: weird }),
  fc.dictionary(fc.string({ maxLength: 8 }), weird, { maxKeys: 5 }),
);

/** A text payload: a device frame, broken JSON, deep nesting, or text around the frame limit. */
const textPayload = (id: string) => fc.oneof(
  { weight: 8, arbitrary: fc.oneof(helloFrame(id), batchFrame, otherFrame).map((frame) => JSON.stringify(frame)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 9000 }), fc.constantFrom("[", "{\"a\":")).map(([depth, open]) =>
    `{"t":"hello","cfg":${open.repeat(depth)}1${(open === "[" ? "]" : "}").repeat(depth)}}`) },
  { weight: 1, arbitrary: fc.integer({ min: 16_000, max: 16_800 }).map((size) => `{"t":"ping","pad":"${"x".repeat(size)}"}`) },
);

const payload = (id: string) => fc.oneof(
  { weight: 6, arbitrary: textPayload(id).map((text) => Buffer.from(text)) },
  // Invalid UTF-8 among valid bytes: lone continuation bytes, overlongs, surrogates, cut sequences.
  { weight: 1, arbitrary: fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x80, 0xc0, 0xed, 0xf4, 0xff)), { maxLength: 40 }).map((b) => Buffer.from(b)) },
);

const frameShape = fc.record({
  fin: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  rsv: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }),
  opcode: fc.oneof({ weight: 10, arbitrary: fc.constant(1) }, { weight: 3, arbitrary: fc.constantFrom(0, 2, 8, 9, 10) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
  mask: fc.oneof({ weight: 12, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  maskKey: fc.uint8Array({ minLength: 4, maxLength: 4 }).map((k) => Buffer.from(k)),
  lengthAs: fc.constantFrom<FrameSpec["lengthAs"]>(undefined, undefined, undefined, "16", "64"),
  announced: fc.option(fc.oneof(fc.nat(300), fc.constantFrom(2 ** 16, 2 ** 32, 2 ** 53 - 1)), { nil: undefined, freq: 20 }),
});

/** One frame, or a message cut into fragments (continuations), with pings or a close between them. */
const frame = (id: string) => fc.oneof(
  { weight: 6, arbitrary: fc.tuple(frameShape, payload(id)).map(([shape, p]) => [frameBytes({ ...shape, payload: p })]) },
  { weight: 1, arbitrary: fc.tuple(textPayload(id), fc.integer({ min: 2, max: 5 }), fc.boolean(), fc.boolean()).map(([text, parts, controlBetween, finishes]) => {
    const bytes = Buffer.from(text);
    const size = Math.ceil(bytes.length / parts);
    const frames: Buffer[] = [];
    for (let p = 0; p < parts; p++) {
      const last = p === parts - 1;
      frames.push(frameBytes({ opcode: p === 0 ? 1 : 0, fin: last && finishes, payload: bytes.subarray(p * size, (p + 1) * size) }));
      if (controlBetween && !last) frames.push(frameBytes({ opcode: 9, payload: "x" }));
    }
    return frames;
  }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.string({ maxLength: 130 })).map(([code, reason]) => [closeFrame(code, reason)]) },
);

const paths = (id: string) => fc.oneof(
  fc.constantFrom("/", "/health", "/api/devices", `/api/devices/${id}`, `/api/devices/${id}/readings?from=x&last=-1`, "/v1/dashboard",
    `/v1/device/${id}`, "/v1/device/", "/v1/device/honest", "/v1/device/..", "//[/x", "/%ZZ", "/api/devices/%E0%A4%A", "/api/devices/%",
    "*", "http://evil/v1/device/x", "/login", "/favicon.ico"),
  fc.string({ maxLength: 60 }).map((s) => `/v1/device/${s}`),
  fc.string({ maxLength: 60 }).map((s) => `/${encodeURIComponent(s)}`),
  fc.integer({ min: 8000, max: 20_000 }).map((n) => `/${"a".repeat(n)}`),
);

const headerLine = fc.oneof(
  fc.constantFrom("Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Key: short", "Content-Length: 5", "Content-Length: -1",
    "Content-Length: 99999999999", "Transfer-Encoding: chunked", "Authorization: Bearer wrong-token-0000", "Authorization: Basic x",
    "Origin: http://evil.example", "Cookie: thermocast_session=forged", "Sec-WebSocket-Extensions: permessage-deflate",
    "Host:", "no colon here", " folded continuation", "X: \u00ff\u0000"),
  fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 80 })).map(([name, value]) => `${name}: ${value}`),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => `X-Big: ${"b".repeat(n)}`),
);

const httpRequest = (id: string) => fc.tuple(
  fc.constantFrom("GET", "POST", "PUT", "HEAD", "OPTIONS", "CONNECT", "G\u00c9T", ""),
  paths(id),
  fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9", "", "HTTP/1.1 extra"),
  fc.array(headerLine, { maxLength: 12 }),
  fc.oneof({ weight: 3, arbitrary: fc.constant("\r\n\r\n") }, { weight: 1, arbitrary: fc.constantFrom("\r\n", "\n\n", "") }),
  fc.string({ maxLength: 40 }),
).map(([method, path, version, headers, end, body]) => `${method} ${path} ${version}\r\n${headers.join("\r\n")}${end}${body}`);

export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.nat(FUZZ_DEVICES - 1).chain((device) => {
  const id = fuzzDeviceId(device);
  return fc.record({
    state: fc.constantFrom<CaseState>("http", "refused", "open", "helloed", "helloed", "after-err", "closing"),
    device: fc.constant(device),
    request: httpRequest(id),
    frames: fc.array(frame(id), { minLength: 1, maxLength: 6 }),
    pieces: fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 4 }),
    ending: fc.constantFrom<FuzzCase["ending"]>("end", "end", "end", "destroy"),
  });
});

/** The bytes a case sends, its state's own first: the request, or the upgrade (and hello, bad frame, close). */
export function caseBytes(c: FuzzCase, token: string): Buffer {
  const id = fuzzDeviceId(c.device);
  const path = `/v1/device/${id}`;
  const hello = frameBytes({ opcode: 1, payload: JSON.stringify({ t: "hello", v: 1, id, fw: "fuzz", boot: 1, rr: "power-on" }) });
  const lead: (string | Buffer)[] = {
    http: [c.request],
    refused: [upgradeRequest(path, c.device % 2 === 0 ? undefined : "wrong-token-0000")],
    open: [upgradeRequest(path, token)],
    helloed: [upgradeRequest(path, token), hello],
    "after-err": [upgradeRequest(path, token), hello, frameBytes({ opcode: 1, payload: "nope" })],
    closing: [upgradeRequest(path, token), hello, closeFrame(1000)],
  }[c.state];
  // After an HTTP request, frames only sometimes follow (they are garbage to the HTTP parser).
  const frames = c.state === "http" && c.device % 3 !== 0 ? [] : c.frames.flat();
  return Buffer.concat([...lead.map((part) => (typeof part === "string" ? Buffer.from(part, "latin1") : part)), ...frames]);
}
