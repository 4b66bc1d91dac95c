/*
 * Test harness: a real server on a loopback port and a temp SQLite file (written by the writer thread),
 * a virtual clock, collected log lines, and a small WebSocket device client.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import type { LogLine } from "../../server/log";
import { startServer, type RunningServer, type ServerOptions } from "../../server/server";

/** 2025-11-24T12:00:00Z: the server's clock unless a test moves it. */
export const NOW = Date.UTC(2025, 10, 24, 12, 0, 0);

/** The admin credential of every test server. */
export const ADMIN_TOKEN = "test-admin-token-0123456789";

export class TestServer {
  readonly dir = mkdtempSync(join(tmpdir(), "thermocast-server-"));
  readonly dbPath = join(this.dir, "thermocast.db");
  readonly logs: LogLine[] = [];
  #logWaiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  clock = NOW;
  server!: RunningServer;
  readonly options: Partial<ServerOptions>;

  /** `options` override the test defaults (port 0, the temp database, the test clock and log). */
  constructor(options: Partial<ServerOptions> = {}) {
    this.options = options;
  }

  async start(): Promise<this> {
    this.server = await startServer({
      port: 0,
      dbPath: this.dbPath,
      now: () => this.clock,
      log: (line) => {
        this.logs.push(line);
        const waiter = this.#logWaiters.find((w) => w.match(line));
        if (waiter) {
          this.#logWaiters.splice(this.#logWaiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      },
      adminToken: ADMIN_TOKEN,
      revocationPollMs: 50,
      dashboardUpdateMs: 50,
      // The production path, although the test clock is given (which would choose "inline").
      writer: "thread",
      ...this.options,
    });
    return this;
  }

  async stop(): Promise<void> {
    await this.server.close();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  get db() {
    return this.server.db;
  }

  /** The first log line, logged so far or from now on, that `match` accepts. */
  logged(match: (line: LogLine) => boolean): Promise<LogLine> {
    const line = this.logs.find(match);
    if (line) return Promise.resolve(line);
    return new Promise((resolve) => this.#logWaiters.push({ match, resolve }));
  }

  /** Log lines of rejected frames or connections of one device. */
  rejections(deviceId: string): LogLine[] {
    return this.logs.filter((l) => l.event === "rejected" && l.device === deviceId);
  }

  readingCount(deviceId: string): number {
    const row = this.db.sqlite.prepare("SELECT count(*) AS n FROM readings WHERE device_id = ?").get(deviceId) as { n: number };
    return row.n;
  }

  /** An API request with the admin credential. */
  api(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(this.server.url + path, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...init.headers } });
  }

  async getJson(path: string): Promise<unknown> {
    const response = await this.api(path);
    assert.equal(response.status, 200, `GET ${path}`);
    return response.json();
  }

  /** Connects as `deviceId` with `token` (null: no Authorization header). */
  connect(deviceId: string, token: string | null): Promise<DeviceClient> {
    return DeviceClient.connect(`${this.server.wsUrl}/${deviceId}`, token);
  }
}

export type Frame = Record<string, unknown>;

export class DeviceClient {
  readonly socket: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  #inbox: Frame[] = [];
  #waiting: ((frame: Frame) => void)[] = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      const waiter = this.#waiting.shift();
      if (waiter) waiter(frame);
      else this.#inbox.push(frame);
    });
    this.closed = new Promise((resolve) => {
      socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  static connect(url: string, token: string | null): Promise<DeviceClient> {
    const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
    const socket = new WebSocket(url, { headers });
    const client = new DeviceClient(socket);
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(client));
      socket.once("error", reject);
    });
  }

  send(frame: Frame | string | Buffer): void {
    this.socket.send(typeof frame === "string" || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** The next frame from the server; fails after `timeoutMs` (a hang guard: busy CI machines are slow). */
  next(timeoutMs = 15_000): Promise<Frame> {
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no frame from the server")), timeoutMs);
      this.#waiting.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }

  /** Sends hello and expects welcome. */
  async hello(id: string, fields: Frame = {}): Promise<Frame> {
    this.send(hello(id, fields));
    const welcome = await this.next();
    assert.equal(welcome.t, "welcome");
    return welcome;
  }

  /** Sends a frame and expects its ack. */
  async acked(frame: Frame): Promise<void> {
    this.send(frame);
    assert.deepEqual(await this.next(), { t: "ack", s: frame.s });
  }

  close(): Promise<{ code: number; reason: string }> {
    this.socket.close();
    return this.closed;
  }
}

export function hello(id: string, fields: Frame = {}): Frame {
  return { t: "hello", v: 1, id, fw: "0.1.0", boot: 12, rr: "deep-sleep", mode: "battery", ...fields };
}

/** A valid 5-reading batch (docs/protocol.md example), with `fields` overriding. */
export function batch(fields: Frame = {}): Frame {
  return { t: "b", s: 3, o: 12, k: 480, i: 60, a: 1500, n: 5, b: 2156, v: "AACBA", ...fields };
}

let deviceCounter = 0;
/** A fresh device id, so tests on one server do not share state. */
export function deviceId(prefix = "dev"): string {
  return `${prefix}-${++deviceCounter}`;
}
