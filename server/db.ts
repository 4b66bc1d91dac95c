/*
 * The server's storage: registered devices, their readings and pushed configurations, in one SQLite file.
 */
import Database from "better-sqlite3";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync } from "node:fs";
import type { Worker } from "node:worker_threads";
import { startCheckpointer } from "./checkpointer";
import { dirname } from "node:path";
import type { Hello, Reading } from "./protocol";
import type { BatchRows, ConfigPushRow, DeviceRow, ReadingRow, TokenCheck } from "./store";
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
-- Every revoke or re-key, in order: a running server reads the new rows and drops that device's connection,
-- whichever process (the CLI) wrote them.
CREATE TABLE IF NOT EXISTS token_changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  kind TEXT NOT NULL,     -- 'revoked' or 'rekeyed'
  at INTEGER NOT NULL
);
`;

/**
 * Changes to the schema above, in order: a database at `PRAGMA user_version` n has had the first n. Each runs
 * in one transaction with the version bump, so a database is never half-migrated.
 */
const MIGRATIONS: readonly string[] = [
  // 1: hello figures the server used to drop: the XS heap, store corruption, wakes, and the probe's counts.
  `ALTER TABLE devices ADD COLUMN mem_slots INTEGER;
   ALTER TABLE devices ADD COLUMN mem_chunks INTEGER;
   ALTER TABLE devices ADD COLUMN store_corrupt INTEGER;
   ALTER TABLE devices ADD COLUMN wake_n INTEGER;
   ALTER TABLE devices ADD COLUMN probe TEXT;  -- JSON: {type, n, faults: {name: count}, retries: {name: count}}`,
  // 2: readings lost with retained images found corrupt (battery mode, hello's store.lost).
  `ALTER TABLE devices ADD COLUMN store_lost INTEGER;`,
];

/** Brings the schema up to date; another connection may be doing the same, hence the check inside the lock. */
function migrate(sqlite: Database.Database): void {
  const version = () => sqlite.pragma("user_version", { simple: true }) as number;
  if (version() >= MIGRATIONS.length) return;
  sqlite.transaction(() => {
    for (let v = version(); v < MIGRATIONS.length; v++) sqlite.exec(MIGRATIONS[v]);
    sqlite.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

/** Rows per INSERT statement: one call into SQLite carries this many readings (7 parameters each). */
const ROWS_PER_INSERT = 64;
/** Retention deletes this many readings a transaction, so a running server's commits wait little. */
const RETENTION_CHUNK = 20000;
const INSERT_READINGS = "INSERT OR IGNORE INTO readings (device_id, boot, channel, idx, t, centi, fault) VALUES ";

// A device token is 32 random bytes, so a fast hash is enough: there is nothing to brute-force.
const TOKEN_FORMAT = /^[A-Za-z0-9._~+/-]{8,256}=*$/;

export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export type { BatchRows, ConfigPushRow, DeviceRow, ReadingRow, TokenCheck } from "./store";

/** A row of `token_changes`: every revoke or re-key, in commit order (its id is the SQLite token version). */
export interface TokenChangeRow {
  id: number;
  device_id: string;
  kind: "revoked" | "rekeyed";
  at: number;
}

function prepareStatements(sqlite: Database.Database) {
  return {
    device: sqlite.prepare<[string], DeviceRow>("SELECT * FROM devices WHERE id = ?"),
    devices: sqlite.prepare<[], DeviceRow>("SELECT * FROM devices ORDER BY id"),
    deviceCount: sqlite.prepare<[], { n: number }>("SELECT count(*) AS n FROM devices"),
    addDevice: sqlite.prepare("INSERT INTO devices (id, token_hash, created) VALUES (?, ?, ?)"),
    rekey: sqlite.prepare("UPDATE devices SET token_hash = ?, revoked = 0 WHERE id = ?"),
    revoke: sqlite.prepare("UPDATE devices SET revoked = 1 WHERE id = ?"),
    tokenChanged: sqlite.prepare("INSERT INTO token_changes (device_id, kind, at) VALUES (?, ?, ?)"),
    tokenChangesAfter: sqlite.prepare<[number], TokenChangeRow>("SELECT * FROM token_changes WHERE id > ? ORDER BY id"),
    lastTokenChange: sqlite.prepare<[], { id: number | null }>("SELECT max(id) AS id FROM token_changes"),
    deviceIds: sqlite.prepare<[], { id: string }>("SELECT id FROM devices ORDER BY id"),
    // At most RETENTION_CHUNK rows a statement: those dated before the chunk's last reading's time.
    deleteChunk: sqlite.prepare(`DELETE FROM readings WHERE device_id = @id AND t < coalesce(
      (SELECT t FROM readings WHERE device_id = @id AND t < @cutoff ORDER BY t LIMIT 1 OFFSET ${RETENTION_CHUNK}), @cutoff)`),
    deleteBefore: sqlite.prepare("DELETE FROM readings WHERE device_id = ? AND t < ?"),
    uncount: sqlite.prepare("UPDATE devices SET reading_count = max(reading_count - ?, 0) WHERE id = ?"),
    hello: sqlite.prepare(`UPDATE devices SET firmware = @fw, boot = @boot, reset_reason = @rr, mode = @mode,
      cfg = @cfg, wake_awake = @awake, wake_connect = @connect, wake_retries = @retries,
      store_n = @n, store_cap = @cap, store_drop = @drop, last_err = coalesce(@err, last_err),
      mem_slots = @slots, mem_chunks = @chunks, store_corrupt = @corrupt, store_lost = @lost, wake_n = @wakes, probe = @probe,
      last_seen = @now, last_hello = @json WHERE id = @id`),
    seen: sqlite.prepare("UPDATE devices SET last_seen = ? WHERE id = ?"),
    counted: sqlite.prepare("UPDATE devices SET reading_count = reading_count + ?, last_seen = ? WHERE id = ?"),
    readings: sqlite.prepare<[string, number, number], ReadingRow>(`SELECT device_id, boot, channel, idx, t, centi, fault
      FROM readings WHERE device_id = ? AND t >= ? AND t < ? ORDER BY t, channel, boot, idx`),
    // Keyset paging in the readings' order: the page after the row (t, channel, boot, idx).
    readingsAfter: sqlite.prepare<[string, number, number, number, number, number, number, number], ReadingRow>(`SELECT device_id, boot, channel, idx, t, centi, fault
      FROM readings WHERE device_id = ? AND t >= ? AND (t, channel, boot, idx) > (?, ?, ?, ?) AND t < ?
      ORDER BY t, channel, boot, idx LIMIT ?`),
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
  /** Multi-row INSERT statements by row count (1 … ROWS_PER_INSERT), prepared when first needed. */
  #inserts: (Database.Statement | undefined)[] = [];
  #params: unknown[][] = [];
  #group: <T>(write: () => T) => T;
  #checkpointer: Worker | undefined;

  /**
   * `checkpoints`: who copies the WAL back into the database file. "thread" (the default for a file): a
   * checkpointer thread this connection starts (checkpointer.ts). "here": this connection, as SQLite does
   * by default (one-shot commands). "elsewhere": another connection's checkpointer (the writer thread's
   * connection, writer-thread.ts); this one checkpoints only as a backstop. `mustExist`: open a database
   * another connection made, never create one. `cacheMb`: the page cache's limit (default 64).
   */
  constructor(path: string, options: { checkpoints?: "thread" | "here" | "elsewhere"; mustExist?: boolean; cacheMb?: number } = {}) {
    if (path !== ":memory:" && !options.mustExist) mkdirSync(dirname(path), { recursive: true });
    const sqlite = new Database(path, { fileMustExist: options.mustExist ?? false });
    sqlite.pragma("journal_mode = WAL");
    // An ack lets the device forget its readings, so a commit must survive power loss, not only a crash.
    sqlite.pragma("synchronous = FULL");
    sqlite.pragma("busy_timeout = 5000");
    // Readings go into two B-trees (the key and the time index), each touched at one leaf per device: with
    // thousands of devices the default 2 MB page cache misses on nearly every insert. 64 MB (a limit, not an
    // allocation) took SQLite alone from ~250 000 to ~370 000 rows/s with 10 000 devices (bench/server).
    sqlite.pragma(`cache_size = ${-1024 * (options.cacheMb ?? 64)}`);
    const checkpoints = options.checkpoints ?? "thread";
    if (path !== ":memory:" && checkpoints !== "here") {
      // Checkpoints move to a worker thread (checkpointer.ts); the committing connection checkpoints only
      // as a backstop, should that thread fall far behind.
      sqlite.pragma("wal_autocheckpoint = 65536");
      if (checkpoints === "thread") {
        this.#checkpointer = startCheckpointer(path);
        this.#checkpointer.on("error", () => {
          // No checkpointer (it could not start): SQLite's own checkpoints, on this connection, as usual.
          if (sqlite.open) sqlite.pragma("wal_autocheckpoint = 1000");
        });
      }
    }
    sqlite.exec(SCHEMA);
    migrate(sqlite);
    this.sqlite = sqlite;
    const st = prepareStatements(sqlite);
    this.#statements = st;
    // BEGIN IMMEDIATE: two connections write (the writer thread's and this one, for registrations and
    // config pushes); a transaction that took the write lock at its start cannot fail to upgrade later.
    const group = sqlite.transaction((write: () => unknown) => write()).immediate;
    this.#group = group as <T>(write: () => T) => T;
  }

  /**
   * Runs `write` in one transaction (one commit, one fsync): the group commit. Throws, having rolled back,
   * if it cannot commit. Calls nested inside it become savepoints.
   */
  inTransaction<T>(write: () => T): T {
    return this.#group(write);
  }

  /**
   * Stores a batch's readings (ignoring those already stored) and counts them on the device; returns how
   * many were new. The server calls it inside a group's `inTransaction` (commit.ts); alone it runs in a
   * transaction of its own.
   */
  storeReadings(deviceId: string, rows: BatchRows, now: number): number {
    if (!this.sqlite.inTransaction) return this.inTransaction(() => this.storeReadings(deviceId, rows, now));
    const n = rows.values.length;
    let stored = 0;
    for (let start = 0; start < n; start += ROWS_PER_INSERT) {
      const count = Math.min(ROWS_PER_INSERT, n - start);
      const params = (this.#params[count] ??= new Array(count * 7));
      for (let j = 0, p = 0; j < count; j++, p += 7) {
        const r = start + j;
        params[p] = deviceId;
        params[p + 1] = rows.boot;
        params[p + 2] = rows.channel;
        params[p + 3] = rows.idx + r;
        params[p + 4] = rows.oldest + r * rows.stepMs;
        params[p + 5] = rows.values[r];
        params[p + 6] = rows.faults[r];
      }
      stored += this.#insertStatement(count).run(params).changes;
    }
    this.#statements.counted.run(stored, now, deviceId);
    return stored;
  }

  #insertStatement(count: number): Database.Statement {
    let statement = this.#inserts[count];
    if (statement === undefined) {
      statement = this.sqlite.prepare(INSERT_READINGS + new Array(count).fill("(?, ?, ?, ?, ?, ?, ?)").join(", "));
      this.#inserts[count] = statement;
    }
    return statement;
  }

  /** Stops the checkpointer thread and waits until it has closed its connection. */
  async stopCheckpointer(): Promise<void> {
    const worker = this.#checkpointer;
    this.#checkpointer = undefined;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.ref(); // keeps the process up until it has closed
    worker.postMessage("stop");
    await exited;
  }

  close(): void {
    this.#checkpointer?.postMessage("stop");
    this.#checkpointer = undefined;
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
      this.inTransaction(() => {
        this.#statements.rekey.run(hash, id);
        this.#statements.tokenChanged.run(id, "rekeyed", now);
      });
    }
    return token;
  }

  /** Revokes the device's token; a running server on this database drops its connection (`tokenChangesAfter`). */
  revokeDevice(id: string, now = Date.now()): boolean {
    return this.inTransaction(() => {
      if (this.#statements.revoke.run(id).changes !== 1) return false;
      this.#statements.tokenChanged.run(id, "revoked", now);
      return true;
    });
  }

  /** Revokes and re-keys recorded after change `afterId`, oldest first. */
  tokenChangesAfter(afterId: number): TokenChangeRow[] {
    return this.#statements.tokenChangesAfter.all(afterId);
  }

  lastTokenChange(): number {
    return this.#statements.lastTokenChange.get()?.id ?? 0;
  }

  /**
   * Deletes readings dated before `cutoff` (epoch ms) in transactions of about RETENTION_CHUNK rows, so
   * that a running server's commits wait little. Returns how many were deleted.
   */
  deleteReadingsBefore(cutoff: number): number {
    const st = this.#statements;
    let deleted = 0;
    for (const { id } of st.deviceIds.all()) {
      for (;;) {
        const n = this.inTransaction(() => {
          // A chunk whose readings all share one time deletes nothing: then the rest goes at once.
          let changes = st.deleteChunk.run({ id, cutoff }).changes;
          if (changes === 0) changes = st.deleteBefore.run(id, cutoff).changes;
          if (changes > 0) st.uncount.run(changes, id);
          return changes;
        });
        deleted += n;
        if (n === 0) break;
      }
    }
    return deleted;
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
      corrupt: hello.store?.corrupt ?? null,
      lost: hello.store?.lost ?? null,
      wakes: hello.wake?.n ?? null,
      slots: hello.mem?.slots ?? null,
      chunks: hello.mem?.chunks ?? null,
      probe: hello.probe === undefined ? null : JSON.stringify(hello.probe),
      err: hello.err ?? null,
      now,
      json: JSON.stringify(hello),
    });
  }

  markSeen(id: string, now: number): void {
    this.#statements.seen.run(now, id);
  }

  /** Readings dated in [from, to), oldest first; with `last`, only the newest `last` of them. */
  readings(deviceId: string, from: number, to: number, last?: number): ReadingRow[] {
    return last === undefined
      ? this.#statements.readings.all(deviceId, from, to)
      : this.#statements.lastReadings.all(deviceId, from, to, last);
  }

  /**
   * Readings dated in [from, to) that come after `after` in their order (t, channel, boot, idx), at most
   * `limit`: a page. Without `after`, the first page.
   */
  readingsPage(deviceId: string, from: number, to: number, after: Reading | undefined, limit: number): ReadingRow[] {
    const [t, channel, boot, idx] = after === undefined ? [from, -1, -1, -1] : [after.t, after.channel, after.boot, after.idx];
    return this.#statements.readingsAfter.all(deviceId, from, t, channel, boot, idx, to, limit);
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
