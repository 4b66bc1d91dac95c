/*
 * The server's storage: registered devices, their readings and pushed configurations, in one SQLite file.
 */
import Database from "better-sqlite3";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Hello, Reading } from "./protocol";
import type { PushedConfig } from "./config";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  firmware TEXT,
  boot INTEGER,
  reset_reason TEXT,
  mode TEXT,
  cfg TEXT,               -- JSON: the configuration the device reported in its last hello
  wake_awake INTEGER, wake_connect INTEGER, wake_retries INTEGER,
  store_n INTEGER, store_cap INTEGER, store_drop INTEGER,
  last_err TEXT,
  last_seen INTEGER,
  last_hello TEXT,        -- JSON: the last hello as received
  reading_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS readings (
  device_id TEXT NOT NULL,
  boot INTEGER NOT NULL,
  channel INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  t INTEGER NOT NULL,     -- epoch ms
  centi INTEGER,          -- 0.01 °C; NULL when the slot holds a fault
  fault TEXT,
  PRIMARY KEY (device_id, boot, channel, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_by_time ON readings (device_id, t);
CREATE TABLE IF NOT EXISTS config_pushes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  set_json TEXT NOT NULL,
  created INTEGER NOT NULL,
  sent INTEGER,           -- last time it went to the device
  answered INTEGER,       -- NULL while pending
  ok INTEGER,
  err TEXT
);
CREATE INDEX IF NOT EXISTS config_pushes_pending ON config_pushes (device_id, answered);
`;

// A device token is 32 random bytes, so a fast hash is enough: there is nothing to brute-force.
const TOKEN_FORMAT = /^[A-Za-z0-9._~+/-]{8,256}=*$/;

export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export type TokenCheck = "ok" | "unknown-device" | "bad-token" | "revoked";

export interface DeviceRow {
  id: string;
  token_hash: string;
  revoked: number;
  created: number;
  firmware: string | null;
  boot: number | null;
  reset_reason: string | null;
  mode: string | null;
  cfg: string | null;
  wake_awake: number | null;
  wake_connect: number | null;
  wake_retries: number | null;
  store_n: number | null;
  store_cap: number | null;
  store_drop: number | null;
  last_err: string | null;
  last_seen: number | null;
  last_hello: string | null;
  reading_count: number;
}

export interface ReadingRow extends Reading {
  device_id: string;
}

export interface ConfigPushRow {
  id: number;
  device_id: string;
  set_json: string;
  created: number;
  sent: number | null;
  answered: number | null;
  ok: number | null;
  err: string | null;
}

function prepareStatements(sqlite: Database.Database) {
  return {
    device: sqlite.prepare<[string], DeviceRow>("SELECT * FROM devices WHERE id = ?"),
    devices: sqlite.prepare<[], DeviceRow>("SELECT * FROM devices ORDER BY id"),
    deviceCount: sqlite.prepare<[], { n: number }>("SELECT count(*) AS n FROM devices"),
    addDevice: sqlite.prepare("INSERT INTO devices (id, token_hash, created) VALUES (?, ?, ?)"),
    rekey: sqlite.prepare("UPDATE devices SET token_hash = ?, revoked = 0 WHERE id = ?"),
    revoke: sqlite.prepare("UPDATE devices SET revoked = 1 WHERE id = ?"),
    hello: sqlite.prepare(`UPDATE devices SET firmware = @fw, boot = @boot, reset_reason = @rr, mode = @mode,
      cfg = @cfg, wake_awake = @awake, wake_connect = @connect, wake_retries = @retries,
      store_n = @n, store_cap = @cap, store_drop = @drop, last_err = coalesce(@err, last_err),
      last_seen = @now, last_hello = @json WHERE id = @id`),
    seen: sqlite.prepare("UPDATE devices SET last_seen = ? WHERE id = ?"),
    insertReading: sqlite.prepare(`INSERT OR IGNORE INTO readings (device_id, boot, channel, idx, t, centi, fault)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    counted: sqlite.prepare("UPDATE devices SET reading_count = reading_count + ?, last_seen = ? WHERE id = ?"),
    readings: sqlite.prepare<[string, number, number], ReadingRow>(`SELECT device_id, boot, channel, idx, t, centi, fault
      FROM readings WHERE device_id = ? AND t >= ? AND t < ? ORDER BY t, channel, boot, idx`),
    lastReadings: sqlite.prepare<[string, number, number, number], ReadingRow>(`SELECT * FROM (
      SELECT device_id, boot, channel, idx, t, centi, fault FROM readings WHERE device_id = ? AND t >= ? AND t < ?
      ORDER BY t DESC, channel DESC, boot DESC, idx DESC LIMIT ?) ORDER BY t, channel, boot, idx`),
    addPush: sqlite.prepare("INSERT INTO config_pushes (device_id, set_json, created) VALUES (?, ?, ?)"),
    push: sqlite.prepare<[number | bigint], ConfigPushRow>("SELECT * FROM config_pushes WHERE id = ?"),
    pendingPushes: sqlite.prepare<[string], ConfigPushRow>(
      "SELECT * FROM config_pushes WHERE device_id = ? AND answered IS NULL ORDER BY id"),
    lastAnswer: sqlite.prepare<[string], ConfigPushRow>(
      "SELECT * FROM config_pushes WHERE device_id = ? AND answered IS NOT NULL ORDER BY answered DESC, id DESC LIMIT 1"),
    pushSent: sqlite.prepare("UPDATE config_pushes SET sent = ? WHERE id = ?"),
    pushAnswered: sqlite.prepare(
      "UPDATE config_pushes SET answered = ?, ok = ?, err = ? WHERE id = ? AND device_id = ? AND answered IS NULL"),
  };
}

export class TelemetryDb {
  readonly sqlite: Database.Database;
  #statements: ReturnType<typeof prepareStatements>;
  #storeBatch: (deviceId: string, readings: readonly Reading[], now: number) => number;

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const sqlite = new Database(path);
    sqlite.pragma("journal_mode = WAL");
    // An ack lets the device forget its readings, so a commit must survive power loss, not only a crash.
    sqlite.pragma("synchronous = FULL");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.exec(SCHEMA);
    this.sqlite = sqlite;
    const st = prepareStatements(sqlite);
    this.#statements = st;
    this.#storeBatch = sqlite.transaction((deviceId: string, readings: readonly Reading[], now: number): number => {
      let stored = 0;
      for (const r of readings)
        stored += st.insertReading.run(deviceId, r.boot, r.channel, r.idx, r.t, r.centi, r.fault).changes;
      st.counted.run(stored, now, deviceId);
      return stored;
    });
  }

  close(): void {
    this.sqlite.close();
  }

  device(id: string): DeviceRow | undefined {
    return this.#statements.device.get(id);
  }

  devices(): DeviceRow[] {
    return this.#statements.devices.all();
  }

  deviceCount(): number {
    return this.#statements.deviceCount.get()!.n;
  }

  /**
   * Registers `id` and returns its token (a new random one unless `token` is given). Registering again
   * with the same token is a no-op, so a simulator can do it on every start; another token needs `replace`.
   */
  registerDevice(id: string, token: string = newToken(), now = Date.now(), replace = false): string {
    if (!TOKEN_FORMAT.test(token)) throw new Error("a token is 8 to 256 characters of [A-Za-z0-9._~+/-]");
    const hash = hashToken(token);
    const existing = this.device(id);
    if (existing === undefined) this.#statements.addDevice.run(id, hash, now);
    else if (existing.token_hash !== hash) {
      if (!replace) throw new Error(`device ${id} is already registered with another token`);
      this.#statements.rekey.run(hash, id);
    }
    return token;
  }

  revokeDevice(id: string): boolean {
    return this.#statements.revoke.run(id).changes === 1;
  }

  checkToken(id: string, token: string | undefined): TokenCheck {
    const device = this.device(id);
    if (device === undefined) return "unknown-device";
    if (token === undefined) return "bad-token";
    const expected = Buffer.from(device.token_hash, "hex");
    const given = Buffer.from(hashToken(token), "hex");
    if (!timingSafeEqual(expected, given)) return "bad-token";
    return device.revoked ? "revoked" : "ok";
  }

  recordHello(hello: Hello, now: number): void {
    this.#statements.hello.run({
      id: hello.id,
      fw: hello.fw,
      boot: hello.boot,
      rr: hello.rr,
      mode: hello.mode ?? null,
      cfg: hello.cfg === undefined ? null : JSON.stringify(hello.cfg),
      awake: hello.wake?.awake ?? null,
      connect: hello.wake?.connect ?? null,
      retries: hello.wake?.retries ?? null,
      n: hello.store?.n ?? null,
      cap: hello.store?.cap ?? null,
      drop: hello.store?.drop ?? null,
      err: hello.err ?? null,
      now,
      json: JSON.stringify(hello),
    });
  }

  markSeen(id: string, now: number): void {
    this.#statements.seen.run(now, id);
  }

  /** Stores a batch's readings in one transaction; returns how many were new. Throws if it cannot commit. */
  storeReadings(deviceId: string, readings: readonly Reading[], now: number): number {
    return this.#storeBatch(deviceId, readings, now);
  }

  /** Readings dated in [from, to), oldest first; with `last`, only the newest `last` of them. */
  readings(deviceId: string, from: number, to: number, last?: number): ReadingRow[] {
    return last === undefined
      ? this.#statements.readings.all(deviceId, from, to)
      : this.#statements.lastReadings.all(deviceId, from, to, last);
  }

  addConfigPush(deviceId: string, set: PushedConfig, now: number): ConfigPushRow {
    const id = this.#statements.addPush.run(deviceId, JSON.stringify(set), now).lastInsertRowid;
    return this.#statements.push.get(id)!;
  }

  pendingConfigPushes(deviceId: string): ConfigPushRow[] {
    return this.#statements.pendingPushes.all(deviceId);
  }

  lastConfigAnswer(deviceId: string): ConfigPushRow | undefined {
    return this.#statements.lastAnswer.get(deviceId);
  }

  markConfigSent(pushId: number, now: number): void {
    this.#statements.pushSent.run(now, pushId);
  }

  /** Records the device's answer; false when no pending push of that device has this id. */
  recordConfigAnswer(deviceId: string, pushId: number, ok: boolean, err: string | undefined, now: number): boolean {
    return this.#statements.pushAnswered.run(now, ok ? 1 : 0, err ?? null, pushId, deviceId).changes === 1;
  }
}
