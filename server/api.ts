/*
 * The HTTP side: the JSON/CSV API, the health check and the dashboard's static files.
 *
 *   GET  /health                              {ok, devices, connections}
 *   GET  /api/devices                         [{id, firmware, lastSeen, readingCount, online, mode, boot, revoked}]
 *   GET  /api/devices/:id                     one device: hello figures and config push state
 *   GET  /api/devices/:id/readings?from=&to=&last=&format=json|csv
 *                                             readings dated in [from, to) epoch ms, oldest first;
 *                                             `last=N` keeps only the newest N
 *   POST /api/devices/:id/config  {"set":{}}  202 {id, state: "sent" | "pending"}
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { validatePush } from "./config";
import type { ConfigPushRow, DeviceRow, ReadingRow, TelemetryDb } from "./db";
import type { Log } from "./log";
import { DEVICE_ID } from "./protocol";

export interface ApiContext {
  db: TelemetryDb;
  now: () => number;
  log: Log;
  connections: () => number;
  isOnline: (deviceId: string) => boolean;
  /** Sends a push to the device if it is connected and has said hello; false leaves it pending. */
  deliverConfig: (push: ConfigPushRow) => boolean;
}

const DASHBOARD = new URL("./dashboard/", import.meta.url);
const STATIC_FILES: Record<string, [file: string, type: string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/dashboard.js": ["dashboard.js", "text/javascript; charset=utf-8"],
};
const MAX_BODY_BYTES = 65536;
const MAX_LAST = 100000;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function apiHandler(context: ApiContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(context, req, res).catch((e: unknown) => {
      if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message });
      context.log({ level: "error", event: "http-error", method: req.method, url: req.url, msg: String(e) });
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    });
  };
}

async function route(context: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { db } = context;
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = url.pathname;
  const method = req.method ?? "GET";

  const file = STATIC_FILES[path];
  if (file !== undefined) {
    allow(method, "GET");
    const body = await readFile(new URL(file[0], DASHBOARD));
    res.writeHead(200, { "content-type": file[1], "cache-control": "no-cache" });
    res.end(body);
    return;
  }
  if (path === "/health") {
    allow(method, "GET");
    return sendJson(res, 200, { ok: true, devices: db.deviceCount(), connections: context.connections() });
  }
  if (path === "/api/devices") {
    allow(method, "GET");
    return sendJson(res, 200, db.devices().map((d) => deviceSummary(context, d)));
  }
  const match = /^\/api\/devices\/([^/]+)(\/readings|\/config)?$/.exec(path);
  if (match === null) throw new HttpError(404, "not found");
  const device = findDevice(db, decodeURIComponent(match[1]));
  switch (match[2]) {
    case undefined:
      allow(method, "GET");
      return sendJson(res, 200, deviceDetail(context, device));
    case "/readings":
      allow(method, "GET");
      return sendReadings(db, device.id, url.searchParams, res);
    case "/config": {
      allow(method, "POST");
      const body = await readJsonBody(req);
      const check = validatePush(typeof body === "object" && body !== null ? (body as { set?: unknown }).set : undefined);
      if (!check.ok) throw new HttpError(400, check.error);
      const push = db.addConfigPush(device.id, check.set, context.now());
      const sent = context.deliverConfig(push);
      context.log({ level: "info", event: "config-pushed", device: device.id, id: push.id, set: check.set, sent });
      return sendJson(res, 202, { id: push.id, state: sent ? "sent" : "pending" });
    }
  }
}

function allow(method: string, expected: string): void {
  if (method !== expected && !(expected === "GET" && method === "HEAD")) throw new HttpError(405, `use ${expected}`);
}

function findDevice(db: TelemetryDb, id: string): DeviceRow {
  const device = DEVICE_ID.test(id) ? db.device(id) : undefined;
  if (device === undefined) throw new HttpError(404, `no device ${id}`);
  return device;
}

function deviceSummary(context: ApiContext, d: DeviceRow) {
  return {
    id: d.id,
    firmware: d.firmware,
    lastSeen: d.last_seen,
    readingCount: d.reading_count,
    online: context.isOnline(d.id),
    mode: d.mode,
    boot: d.boot,
    revoked: d.revoked === 1,
  };
}

function deviceDetail(context: ApiContext, d: DeviceRow) {
  const last = context.db.lastConfigAnswer(d.id);
  return {
    ...deviceSummary(context, d),
    created: d.created,
    resetReason: d.reset_reason,
    cfg: d.cfg === null ? null : JSON.parse(d.cfg),
    wake: { awake: d.wake_awake, connect: d.wake_connect, retries: d.wake_retries },
    store: { n: d.store_n, cap: d.store_cap, drop: d.store_drop },
    lastError: d.last_err,
    config: {
      pending: context.db.pendingConfigPushes(d.id).map((p) => ({ id: p.id, set: JSON.parse(p.set_json), created: p.created, sent: p.sent })),
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

function sendReadings(db: TelemetryDb, deviceId: string, params: URLSearchParams, res: ServerResponse): void {
  const from = intParam(params, "from", 0, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const to = intParam(params, "to", Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const last = params.has("last") ? intParam(params, "last", 0, 1, MAX_LAST) : undefined;
  const format = params.get("format") ?? "json";
  if (format !== "json" && format !== "csv") throw new HttpError(400, "format must be json or csv");
  const rows = db.readings(deviceId, from, to, last);
  if (format === "json") return sendJson(res, 200, rows.map(readingJson));
  res.writeHead(200, { "content-type": "text/csv; charset=utf-8" });
  res.end(readingsCsv(rows));
}

export function readingJson(r: ReadingRow) {
  return { t: r.t, boot: r.boot, channel: r.channel, idx: r.idx, celsius: r.centi === null ? null : r.centi / 100, fault: r.fault };
}

export const CSV_HEADER = "t,iso,boot,channel,idx,celsius,fault";

export function readingsCsv(rows: readonly ReadingRow[]): string {
  const lines = [CSV_HEADER];
  for (const r of rows) {
    // Fault names are [a-z-] only, so no field needs quoting.
    lines.push(`${r.t},${new Date(r.t).toISOString()},${r.boot},${r.channel},${r.idx},${r.centi === null ? "" : r.centi / 100},${r.fault ?? ""}`);
  }
  return lines.join("\n") + "\n";
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "body too large");
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString());
  } catch {
    throw new HttpError(400, "body is not JSON");
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}
