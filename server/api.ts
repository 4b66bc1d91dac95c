/*
 * The HTTP side: the JSON/CSV API, the login, the health check and the dashboard's files.
 *
 *   GET  /health                              {ok, devices, connections, dashboards, commits}   (open)
 *   GET  /login, POST /login (token=…)        the admin login form; sets the session cookie      (open)
 *   POST /logout
 *   GET  /                                    the dashboard (redirects to /login without a session)
 *   GET  /api/devices                         [summary]: id, state, hello figures
 *   GET  /api/devices/:id                     one device: summary, hello figures and config push state
 *   GET  /api/devices/:id/readings?from=&to=&last=&format=json|csv
 *                                             readings dated in [from, to) epoch ms, oldest first;
 *                                             `last=N` keeps only the newest N; without it the whole
 *                                             range, sent in pages (READINGS_PAGE_ROWS)
 *   POST /api/devices/:id/config  {"set":{}}  202 {id, state: "sent" | "pending"} (pending: the device is
 *                                             not here; the node that holds it, if any, sends it)
 *   POST /api/devices/:id/revoke              200 {id, revoked: true}: the node holding it drops it
 *   GET  /api/config/fields                   the pushable settings of config/schema.ts, for the form
 *
 * /api and / need the admin credential (admin.ts); a request that changes something and carries a
 * browser's cookie must also come from this server's own origin.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { FIELDS } from "../config/schema";
import { AdminCredential, logoutCookie, sameOrigin } from "./admin";
import type { CommitStats } from "./commit";
import { validatePush } from "./config";
import type { ConfigPushRow, DeviceRow, ReadingRow, Store } from "./store";
import type { Log } from "./log";
import { DEVICE_ID, quantityOf, type ProbeFigures } from "./protocol";

export interface ApiContext {
  store: Store;
  now: () => number;
  log: Log;
  admin: AdminCredential;
  /** Served over TLS: cookies get `Secure`, origins are https. */
  secure: boolean;
  connections: () => number;
  dashboards: () => number;
  commits: () => CommitStats;
  isOnline: (deviceId: string) => boolean;
  /** Sends a push to the device if it is connected and has said hello; false leaves it pending. */
  deliverConfig: (push: ConfigPushRow) => boolean;
  /** Told when a device's row changed through the API (a config push). */
  changed: (deviceId: string) => void;
}

const require = createRequire(import.meta.url);
const DASHBOARD = new URL("./dashboard/", import.meta.url);
const TYPES = { html: "text/html; charset=utf-8", js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8" };
/** Files anyone may fetch: they hold no data. uPlot comes from node_modules: no CDN, works offline. */
const PUBLIC_FILES: Record<string, [path: string | URL, type: string]> = {
  "/login": [new URL("login.html", DASHBOARD), TYPES.html],
  "/login.js": [new URL("login.js", DASHBOARD), TYPES.js],
  "/dashboard.js": [new URL("dashboard.js", DASHBOARD), TYPES.js],
  "/dashboard.css": [new URL("dashboard.css", DASHBOARD), TYPES.css],
  "/vendor/uPlot.iife.min.js": [require.resolve("uplot/dist/uPlot.iife.min.js"), TYPES.js],
  "/vendor/uPlot.min.css": [require.resolve("uplot/dist/uPlot.min.css"), TYPES.css],
};
const INDEX = new URL("index.html", DASHBOARD);
// uPlot sizes its elements through inline styles, hence style-src 'unsafe-inline'.
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  // Not no-referrer: with it, Chromium sends `Origin: null` on the login form's POST, which the origin check refuses.
  "referrer-policy": "same-origin",
  "cache-control": "no-cache",
};
/** On every API answer: a browser must not take JSON or CSV for something it would run or render. */
const API_HEADERS = { "x-content-type-options": "nosniff" };
const MAX_BODY_BYTES = 65536;
const MAX_LAST = 100000;

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export function apiHandler(context: ApiContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(context, req, res).catch((e: unknown) => {
      if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message }, e.headers);
      context.log({ level: "error", event: "http-error", method: req.method, url: req.url, msg: String(e) });
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    });
  };
}

/**
 * The request target as a URL, or undefined when it is not one (`//[/x`: the URL parser throws on it). Its
 * length is bounded by Node's limit on the request line and headers (16 KiB).
 */
export function requestUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? "/", "http://localhost");
  } catch {
    return undefined;
  }
}

/** A path segment with its percent-escapes decoded; a malformed escape (`%ZZ`, a lone `%`) is a 400. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, "malformed percent-encoding in the path");
  }
}

async function route(context: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { store, admin } = context;
  const url = requestUrl(req.url);
  if (url === undefined) throw new HttpError(400, "malformed request target");
  const path = url.pathname;
  const method = req.method ?? "GET";

  const file = PUBLIC_FILES[path];
  if (file !== undefined && method !== "POST") {
    allow(method, "GET");
    return sendFile(res, file[0], file[1]);
  }
  if (path === "/favicon.ico") {
    res.writeHead(204, { "cache-control": "max-age=86400" });
    res.end();
    return;
  }
  if (path === "/health") {
    allow(method, "GET");
    return sendHealth(context, res);
  }
  if (path === "/login") return login(context, req, res);
  if (path === "/logout") {
    allow(method, "POST");
    res.writeHead(303, { location: "/login", "set-cookie": logoutCookie(context.secure) });
    res.end();
    return;
  }
  if (path === "/" || path === "/index.html") {
    allow(method, "GET");
    if (!admin.authorized(req)) {
      res.writeHead(303, { location: "/login", "cache-control": "no-cache" });
      res.end();
      return;
    }
    return sendFile(res, INDEX, TYPES.html);
  }
  if (!path.startsWith("/api/")) throw new HttpError(404, "not found");

  if (!admin.authorized(req))
    throw new HttpError(401, "admin credential required", { "www-authenticate": 'Bearer realm="thermocast"' });
  // Cross-site request forgery: a browser sends the cookie with a request another site's page makes, but
  // then the Origin is that site's. A Bearer header is never sent by a browser on its own.
  const cookieAuth = req.headers.authorization === undefined;
  if (method !== "GET" && method !== "HEAD" && cookieAuth && !sameOrigin(req, context.secure, true))
    throw new HttpError(403, "cross-origin request refused");

  if (path === "/api/devices") {
    allow(method, "GET");
    return sendJson(res, 200, (await store.devices()).map((d) => deviceSummary(d, context.isOnline(d.id))));
  }
  if (path === "/api/config/fields") {
    allow(method, "GET");
    return sendJson(res, 200, pushableFields());
  }
  const match = /^\/api\/devices\/([^/]+)(\/readings|\/config|\/revoke)?$/.exec(path);
  if (match === null) throw new HttpError(404, "not found");
  const device = await findDevice(store, decodeSegment(match[1]));
  switch (match[2]) {
    case undefined:
      allow(method, "GET");
      return sendJson(res, 200, await deviceDetail(store, device, context.isOnline(device.id)));
    case "/readings":
      allow(method, "GET");
      return sendReadings(store, device.id, url.searchParams, res);
    case "/revoke": {
      allow(method, "POST");
      // The revoke reaches the node that holds the device (store.ts, ClusterEvents.tokenChanged).
      await store.revokeDevice(device.id, context.now());
      context.changed(device.id);
      context.log({ level: "info", event: "device-revoked", device: device.id });
      return sendJson(res, 200, { id: device.id, revoked: true });
    }
    case "/config": {
      allow(method, "POST");
      const body = await readJsonBody(req);
      const check = validatePush(typeof body === "object" && body !== null ? (body as { set?: unknown }).set : undefined);
      if (!check.ok) throw new HttpError(400, check.error);
      const push = await store.addConfigPush(device.id, check.set, context.now());
      const sent = context.deliverConfig(push);
      context.changed(device.id);
      context.log({ level: "info", event: "config-pushed", device: device.id, id: push.id, set: check.set, sent });
      return sendJson(res, 202, { id: push.id, state: sent ? "sent" : "pending" });
    }
  }
}

async function login(context: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  allow(req.method ?? "GET", "POST");
  if (!sameOrigin(req, context.secure, false)) throw new HttpError(403, "cross-origin request refused");
  const body = (await readBody(req)).toString();
  const token = (req.headers["content-type"] ?? "").startsWith("application/json")
    ? (() => { try { return String((JSON.parse(body) as { token?: unknown }).token ?? ""); } catch { return ""; } })()
    : new URLSearchParams(body).get("token") ?? "";
  if (!context.admin.checkToken(token)) {
    context.log({ level: "warn", event: "login-refused", address: req.socket.remoteAddress });
    res.writeHead(303, { location: "/login?failed=1" });
    res.end();
    return;
  }
  context.log({ level: "info", event: "login", address: req.socket.remoteAddress });
  res.writeHead(303, { location: "/", "set-cookie": context.admin.loginCookie(context.secure) });
  res.end();
}

async function sendHealth(context: ApiContext, res: ServerResponse): Promise<void> {
  let devices: number;
  try {
    devices = await context.store.deviceCount();
  } catch (e) {
    return sendJson(res, 503, { ok: false, error: `database: ${e instanceof Error ? e.message : e}` });
  }
  const { queuedRows, paused, maxCommitMs } = context.commits();
  sendJson(res, 200, {
    ok: true, devices, connections: context.connections(), dashboards: context.dashboards(),
    commits: { queuedRows, paused, maxCommitMs: Math.round(maxCommitMs) }, uptime: Math.round(process.uptime()),
  });
}

async function sendFile(res: ServerResponse, path: string | URL, type: string): Promise<void> {
  const body = await readFile(path);
  res.writeHead(200, { "content-type": type, ...PAGE_HEADERS });
  res.end(body);
}

function allow(method: string, expected: string): void {
  if (method !== expected && !(expected === "GET" && method === "HEAD")) throw new HttpError(405, `use ${expected}`, { allow: expected });
}

async function findDevice(store: Store, id: string): Promise<DeviceRow> {
  const device = DEVICE_ID.test(id) ? await store.device(id) : undefined;
  if (device === undefined) throw new HttpError(404, `no device ${id}`);
  return device;
}

/** The settings the server may push, as the dashboard's form needs them: one schema for every side. */
export function pushableFields() {
  return FIELDS.filter((f) => f.pushable).map((f) => ({
    key: f.key, type: f.type, help: f.help, default: f.default,
    ...(f.type === "int" ? { unit: f.unit, min: f.min, max: f.max } : {}),
    ...(f.type === "choice" ? { choices: f.choices } : {}),
    ...(f.type === "text" ? { maxLength: f.maxLength } : {}),
  }));
}

/** A row of the device list: state, last hello's figures (backlog and last wake). */
export function deviceSummary(d: DeviceRow, online: boolean) {
  return {
    id: d.id,
    firmware: d.firmware,
    lastSeen: d.last_seen,
    readingCount: d.reading_count,
    online,
    mode: d.mode,
    boot: d.boot,
    revoked: d.revoked === 1,
    wake: { awake: d.wake_awake, connect: d.wake_connect, retries: d.wake_retries, n: d.wake_n },
    store: { n: d.store_n, cap: d.store_cap, drop: d.store_drop, corrupt: d.store_corrupt, lost: d.store_lost },
  };
}

export async function deviceDetail(store: Store, d: DeviceRow, online: boolean) {
  const [last, pending] = await Promise.all([store.lastConfigAnswer(d.id), store.pendingConfigPushes(d.id)]);
  return {
    ...deviceSummary(d, online),
    created: d.created,
    resetReason: d.reset_reason,
    cfg: d.cfg === null ? null : JSON.parse(d.cfg),
    lastError: d.last_err,
    mem: { slots: d.mem_slots, chunks: d.mem_chunks },
    probe: d.probe === null ? null : JSON.parse(d.probe),
    config: {
      pending: pending.map((p) => ({ id: p.id, set: JSON.parse(p.set_json), created: p.created, sent: p.sent })),
      last: last === undefined ? null : { id: last.id, set: JSON.parse(last.set_json), ok: last.ok === 1, err: last.err, answered: last.answered },
    },
  };
}

function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const text = params.get(name);
  if (text === null || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new HttpError(400, `${name} must be an integer from ${min} to ${max}`);
  return value;
}

/**
 * A range without `last` is sent in pages of this many readings, one short query and one write each, with
 * a turn of the event loop in between: a long export never holds up acks for long (one page ≈ 5 ms). Each
 * page is read in a transaction of its own, in the readings' order, from where the last one ended.
 */
export const READINGS_PAGE_ROWS = 5000;

async function sendReadings(store: Store, deviceId: string, params: URLSearchParams, res: ServerResponse): Promise<void> {
  const from = intParam(params, "from", 0, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const to = intParam(params, "to", Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const last = params.has("last") ? intParam(params, "last", 0, 1, MAX_LAST) : undefined;
  const format = params.get("format") ?? "json";
  if (format !== "json" && format !== "csv") throw new HttpError(400, "format must be json or csv");
  const probe = await probeOf(store, deviceId);
  if (last !== undefined && format === "json") return sendJson(res, 200, (await store.readings(deviceId, from, to, last)).map((r) => readingJson(r, probe)));
  res.writeHead(200, format === "json"
    ? { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...API_HEADERS }
    : { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${deviceId}.csv"`, ...API_HEADERS });
  if (last !== undefined) return void res.end(readingsCsv(await store.readings(deviceId, from, to, last), probe));
  let text = format === "json" ? "[" : `${CSV_HEADER}\n`;
  let after: ReadingRow | undefined;
  for (;;) {
    const rows = await store.readingsPage(deviceId, from, to, after, READINGS_PAGE_ROWS);
    if (format === "json") text += (after === undefined ? "" : rows.length > 0 ? "," : "") + rows.map((r) => JSON.stringify(readingJson(r, probe))).join(",");
    else text += csvLines(rows, probe);
    if (rows.length < READINGS_PAGE_ROWS) break;
    after = rows[rows.length - 1];
    if (!(await written(res, text))) return; // the client went away
    text = "";
    await new Promise((resolve) => setImmediate(resolve));
  }
  res.end(format === "json" ? `${text}]` : text);
}

/** Writes `text`; resolves once the response can take more (true), or when it has closed (false). */
function written(res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (res.write(text)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off("drain", drained);
      res.off("close", closed);
      resolve(ok);
    };
    const drained = done(true);
    const closed = done(false);
    res.once("drain", drained);
    res.once("close", closed);
  });
}

/**
 * A reading as the API gives it: `quantity` is what its channel measures (the device's last hello, `probe.ch`;
 * "t" when it said nothing) and `value` is in that quantity's unit (°C, %RH); `celsius` repeats a temperature.
 */
export function readingJson(r: ReadingRow, probe?: ProbeFigures | null) {
  const quantity = quantityOf(probe, r.channel);
  const value = r.centi === null ? null : r.centi / 100;
  return { t: r.t, boot: r.boot, channel: r.channel, idx: r.idx, celsius: quantity === "t" ? value : null, fault: r.fault, quantity, value };
}

export const CSV_HEADER = "t,iso,boot,channel,idx,celsius,fault,quantity,value";

export function readingsCsv(rows: readonly ReadingRow[], probe?: ProbeFigures | null): string {
  return `${CSV_HEADER}\n${csvLines(rows, probe)}`;
}

/** One line per reading, each ending in a newline. */
function csvLines(rows: readonly ReadingRow[], probe?: ProbeFigures | null): string {
  let text = "";
  // Fault names are [a-z-] only and quantities [a-z], so no field needs quoting.
  for (const r of rows) {
    const quantity = quantityOf(probe, r.channel);
    const value = r.centi === null ? "" : r.centi / 100;
    text += `${r.t},${new Date(r.t).toISOString()},${r.boot},${r.channel},${r.idx},${quantity === "t" ? value : ""},${r.fault ?? ""},${quantity},${value}\n`;
  }
  return text;
}

/** The probe figures of the device's last hello (what its channels measure). */
async function probeOf(store: Store, deviceId: string): Promise<ProbeFigures | null> {
  const probe = (await store.device(deviceId))?.probe;
  return probe ? (JSON.parse(probe) as ProbeFigures) : null;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req);
  try {
    return JSON.parse(body.toString());
  } catch {
    throw new HttpError(400, "body is not JSON");
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...API_HEADERS, ...headers });
  res.end(JSON.stringify(body));
}
