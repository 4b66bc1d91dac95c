/*
 * The reference server: one HTTP server carrying the device WebSocket endpoint (/v1/device/<id>), the
 * HTTP API and the dashboard. The clock, the log and the database path come from the caller, so the
 * simulator can run it on a virtual clock and tests can restart it on the same database.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { apiHandler } from "./api";
import { TelemetryDb, type TokenCheck } from "./db";
import { consoleLog, type Log } from "./log";
import { Close, DEVICE_ID, MAX_FRAME_BYTES, type ErrorCode } from "./protocol";
import { DeviceSession } from "./session";

export interface ServerOptions {
  /** 0 picks a free port. Default 8080. */
  port?: number;
  host?: string;
  dbPath: string;
  /** Epoch ms clock used for dating readings, `welcome.time` and `last_seen`. */
  now?: () => number;
  log?: Log;
  maxFrameBytes?: number;
}

export interface RunningServer {
  /** http://HOST:PORT: dashboard at `/`, API under `/api`. */
  url: string;
  /** ws://HOST:PORT/v1/device: a device connects to `${wsUrl}/<id>`. */
  wsUrl: string;
  port: number;
  db: TelemetryDb;
  close(): Promise<void>;
}

const DEVICE_PATH = /^\/v1\/device\/([^/?]*)$/;
const SHUTDOWN_GRACE_MS = 2000;

const REFUSAL: Record<Exclude<TokenCheck, "ok">, [error: ErrorCode, close: number, reason: string]> = {
  "unknown-device": ["unknown-device", Close.UnknownDevice, "unknown device"],
  "bad-token": ["unauthorized", Close.Unauthorized, "missing or wrong token"],
  revoked: ["revoked", Close.Revoked, "token revoked"],
};

function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const now = options.now ?? Date.now;
  const log = options.log ?? consoleLog();
  const db = new TelemetryDb(options.dbPath);
  const sessions = new Map<string, DeviceSession>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? MAX_FRAME_BYTES });

  const http = createServer(apiHandler({
    db,
    now,
    log,
    connections: () => sessions.size,
    isOnline: (id) => sessions.has(id),
    deliverConfig: (push) => {
      const session = sessions.get(push.device_id);
      if (session === undefined || !session.helloed) return false;
      session.deliverConfig(push);
      return true;
    },
  }));

  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const match = DEVICE_PATH.exec(new URL(req.url ?? "/", "http://localhost").pathname);
    if (match === null) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    // Refusals come after the upgrade, as an err frame and a close code: embedded clients see those, not
    // HTTP statuses (docs/protocol.md, "Connection and authentication").
    wss.handleUpgrade(req, socket, head, (ws) => admit(ws, match[1], bearerToken(req)));
  });

  function admit(ws: WebSocket, deviceId: string, token: string | undefined): void {
    const check: TokenCheck = DEVICE_ID.test(deviceId) ? db.checkToken(deviceId, token) : "unknown-device";
    if (check !== "ok") {
      const [error, close, reason] = REFUSAL[check];
      log({ level: "warn", event: "rejected", device: deviceId, code: error, close, msg: reason });
      ws.send(JSON.stringify({ t: "err", code: error, msg: reason }));
      ws.close(close, reason);
      return;
    }
    // A device that reconnects before its old connection timed out replaces it.
    sessions.get(deviceId)?.close(Close.Normal, "replaced by a new connection");
    const session = new DeviceSession(deviceId, ws, { db, now, log });
    sessions.set(deviceId, session);
    db.markSeen(deviceId, now());
    ws.on("close", (code) => {
      if (sessions.get(deviceId) === session) sessions.delete(deviceId);
      log({ level: "info", event: "disconnected", device: deviceId, code });
    });
  }

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 8080, host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const authority = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;

  let closing: Promise<void> | undefined;
  // Idempotent: a test's cleanup may close a server its body already closed.
  const close = () => (closing ??= shutdown());

  async function shutdown(): Promise<void> {
    const closed = [...wss.clients].map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === ws.CLOSED) return resolve();
      const timer = setTimeout(() => ws.terminate(), SHUTDOWN_GRACE_MS);
      ws.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(Close.GoingAway, "server shutting down");
    }));
    await Promise.all(closed);
    await new Promise<void>((resolve) => {
      wss.close(() => resolve());
    });
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
    db.close();
  }

  return { url: `http://${authority}`, wsUrl: `ws://${authority}/v1/device`, port, db, close };
}
