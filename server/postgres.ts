/*
 * The PostgreSQL store: one database shared by any number of ingest nodes (`serve --db postgres://…`).
 * Nodes hold no state another node needs: devices, hashed tokens, pending config pushes and session claims
 * are rows here, and what must reach another node within a second goes through LISTEN/NOTIFY (PgCluster).
 *
 * Readings (same guarantees as SQLite: an ack only after the commit, a resent batch stores nothing twice):
 * - `readings` is partitioned by day (`day` = t / 86 400 000, declarative range partitions created a few
 *   days ahead and on demand), so that retention drops whole partitions.
 * - The dedupe key is (device, boot, channel, index) and the day: a key must hold the partition key. A
 *   resend is dated again on arrival (protocol.ts, batchTimes), so a reading dated within NEAR_MS of
 *   midnight may land in the next day's partition: those rows are also looked for in the neighbouring day,
 *   and every transaction first locks its devices' rows in id order, so two nodes storing the same
 *   device's readings commit one after the other and the second one sees the first one's rows.
 * - A group of writes is one transaction. The direct way, when all its readings fall in one day and none
 *   near midnight: COPY straight into the day's partition, and the devices' counts in one UPDATE. A resend
 *   fails that COPY on the unique key: the transaction is rolled back and the group runs again the careful
 *   way, which every group takes for CAREFUL_MS after that (resends come in bursts, after an outage):
 *   COPY into a temporary staging table, then one INSERT … SELECT … ON CONFLICT DO NOTHING that also counts
 *   the new rows per device (1.24-1.31× faster than one INSERT from unnest(…) arrays; docs/scale.md).
 */
import pg from "pg";
import type { GroupFigures, Outcome, Write, Writer } from "./commit";
import type { PushedConfig } from "./config";
import { hashToken, newToken } from "./db";
import { timingSafeEqual } from "node:crypto";
import type { Log } from "./log";
import type { Hello, Reading } from "./protocol";
import type {
  BatchRows, CheckedToken, Cluster, ClusterEvents, ConfigPushRow, DeviceRow, ReadingRow, Store, TokenCheck, WriterOptions,
} from "./store";

export const DAY_MS = 86_400_000;
/** Readings dated this close to midnight are also looked for in the neighbouring day's partition. */
export const NEAR_MS = 15 * 60_000;
/** Partitions made ahead of today, so the hot path never waits for one. */
const DAYS_AHEAD = 2;
/**
 * Transactions a node's writer runs at once (THERMOCAST_PG_WRITERS): while one waits for its WAL flush or
 * its reply, the others keep PostgreSQL busy. 3, not 4, since the integer key and no time index made a
 * group cheaper: with 4 in flight at 100 000 readings/s paced the groups shrank to ~170 readings and
 * PostgreSQL spent its CPU per transaction (87% of a core, ack p99 234 ms); with 3, ~210 readings, p99 131
 * ms; with 2, ~470 readings and 56% but a lower ceiling (docs/scale.md). Groups are not bounded below the
 * commit queue's 8192 (bounded at 2048, a paced backlog no longer drained).
 */
const PG_WRITERS = 3;
/** The one channel every node listens on. */
const CHANNEL = "thermocast";
/** NOTIFY payloads are at most 8000 bytes; readings that do not fit are announced as a changed row only. */
const MAX_PAYLOAD = 7900;
const TOKEN_FORMAT = /^[A-Za-z0-9._~+/-]{8,256}=*$/;
const SCHEMA_LOCK = 0x7468_6d63; // "thmc": schema setup is done by one node at a time
/** An export's day read ahead is kept this long for its next page, for at most this many exports at once. */
const DAY_REST_MS = 30_000;
const DAY_RESTS_KEPT = 4;
/** Device keys a node keeps in memory (~100 B each); past it the cache starts again. */
const KEYS_KEPT = 1 << 20;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS devices (
  id text PRIMARY KEY,
  -- The device in readings: 4 bytes a row instead of its text id (a group's COPY ~15% cheaper; docs/scale.md).
  -- Devices are never deleted, so a device keeps its key for good (a re-key or revoke keeps the row).
  key integer GENERATED ALWAYS AS IDENTITY UNIQUE,
  token_hash text NOT NULL,
  revoked integer NOT NULL DEFAULT 0,
  created bigint NOT NULL,
  firmware text, boot bigint, reset_reason text, mode text, cfg text,
  wake_awake bigint, wake_connect bigint, wake_retries bigint,
  store_n bigint, store_cap bigint, store_drop bigint,
  last_err text, last_seen bigint, last_hello text,
  reading_count bigint NOT NULL DEFAULT 0,
  mem_slots bigint, mem_chunks bigint, store_corrupt bigint, store_lost bigint, wake_n bigint, probe text,
  -- +1 at every revoke or re-key: orders the token changes of one device (store.ts, TokenChange)
  token_version bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS readings (
  device_key integer NOT NULL, -- devices.key
  boot bigint NOT NULL,
  channel integer NOT NULL,
  idx bigint NOT NULL,
  t bigint NOT NULL,        -- epoch ms
  day integer NOT NULL,     -- t / 86 400 000: the partition
  centi integer,            -- 0.01 °C; NULL when the slot holds a fault
  fault text,
  PRIMARY KEY (device_key, boot, channel, idx, day)
) PARTITION BY RANGE (day);
CREATE TABLE IF NOT EXISTS config_pushes (
  id bigserial PRIMARY KEY,
  device_id text NOT NULL,
  set_json text NOT NULL,
  created bigint NOT NULL,
  sent bigint,
  answered bigint,
  ok integer,
  err text
);
CREATE INDEX IF NOT EXISTS config_pushes_pending ON config_pushes (device_id, answered);
-- The one live session of each device: which node holds it (NULL: none) and the claim's generation, which
-- only grows, so a node that sees a claim with a greater one than its session's closes that session.
CREATE TABLE IF NOT EXISTS sessions (
  device_id text PRIMARY KEY,
  node text,
  generation bigint NOT NULL,
  since bigint NOT NULL
);
-- Nodes and their heartbeats: the sessions of a node not seen for NODE_EXPIRY are released by the others.
CREATE TABLE IF NOT EXISTS nodes (
  id text PRIMARY KEY,
  seen timestamptz NOT NULL
);
`;

/** bigint and count(*) as numbers: every value here (epoch ms, counters) is below 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 ? (text: string) => Number(text) : pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
};

/** The rows of a day's partition. */
function partitionName(day: number): string {
  return `readings_p${day}`;
}

/** What a read returns of each reading besides the device id. */
const READ_COLUMNS = "boot, channel, idx, t, centi, fault";

/** The first and last day of the times [from, to), within `day`'s integer range (the API allows any safe integer). */
function daysOf(from: number, to: number): [number, number] {
  const within = (day: number) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, day));
  return [within(Math.floor(from / DAY_MS)), within(Math.floor((to - 1) / DAY_MS))];
}

/** A device row as the store's interface has it: the key stays inside the store. */
function withoutKey(row: DeviceRow & { key?: number }): DeviceRow {
  const { key: _key, ...device } = row;
  return device;
}

export class PostgresStore implements Store {
  readonly kind = "postgres";
  readonly url: string;
  readonly pool: pg.Pool;
  /** Days whose partition exists (or was made by this process). */
  #partitions = new Set<number>();
  /** Days read to their end for an export's page and not all returned yet (readingsPage). */
  #dayRests: { deviceId: string; from: number; to: number; day: number; rows: ReadingRow[]; after: Reading; at: number }[] = [];
  /** Device id → devices.key, which never changes (devices are never deleted). Cleared when it grows past KEYS_KEPT. */
  #keys = new Map<string, number>();
  #making = new Map<number, Promise<void>>();

  private constructor(url: string) {
    this.url = url;
    this.pool = new pg.Pool({ connectionString: url, max: 6, types: TYPES });
    // An idle connection that breaks (the server restarted) must not end the process: the pool replaces it.
    this.pool.on("error", () => {});
  }

  /** Connects, brings the schema up (one node at a time) and makes the partitions of the coming days. */
  static async open(url: string): Promise<PostgresStore> {
    const store = new PostgresStore(url);
    try {
      const client = await store.pool.connect();
      try {
        await client.query("SELECT pg_advisory_lock($1)", [SCHEMA_LOCK]);
        try {
          await client.query(SCHEMA);
          const column = (table: string, name: string) => `EXISTS (SELECT 1 FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = '${table}' AND column_name = '${name}')`;
          const { rows: [schema] } = await client.query<{ keyed: boolean; old: boolean }>(
            `SELECT ${column("devices", "key")} AS keyed, ${column("readings", "device_id")} AS old`);
          if (!schema.keyed || schema.old) {
            throw new Error("this database has readings keyed by the text device id (before devices.key): copy them into the new schema (docs/scale.md, \"Upgrading\")");
          }
        } finally {
          await client.query("SELECT pg_advisory_unlock($1)", [SCHEMA_LOCK]);
        }
      } finally {
        client.release();
      }
      await store.#loadPartitions();
      await store.makePartitionsAhead(Date.now());
    } catch (e) {
      await store.pool.end();
      throw e;
    }
    return store;
  }

  async #loadPartitions(): Promise<void> {
    const { rows } = await this.pool.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = 'readings' AND p.relnamespace = to_regnamespace(current_schema())::oid`);
    this.#partitions.clear();
    for (const { name } of rows) {
      const day = /^readings_p(\d+)$/.exec(name)?.[1];
      if (day !== undefined) this.#partitions.add(Number(day));
    }
  }

  /** The partitions of yesterday, today and DAYS_AHEAD days after `now`. */
  async makePartitionsAhead(now: number): Promise<void> {
    const today = Math.floor(now / DAY_MS);
    const days: number[] = [];
    for (let d = today - 1; d <= today + DAYS_AHEAD; d++) days.push(d);
    await this.ensurePartitions(days);
  }

  /** Makes the partitions of `days` that do not exist yet (outside any write transaction). */
  async ensurePartitions(days: Iterable<number>): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const day of days) {
      if (this.#partitions.has(day)) continue;
      let making = this.#making.get(day);
      if (making === undefined) {
        making = this.#makePartition(day).finally(() => this.#making.delete(day));
        this.#making.set(day, making);
      }
      waits.push(making);
    }
    await Promise.all(waits);
  }

  async #makePartition(day: number): Promise<void> {
    try {
      await this.pool.query(`CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF readings FOR VALUES FROM (${day}) TO (${day + 1})`);
    } catch (e) {
      // Another node made it at the same moment: duplicate table, or a unique violation in the catalog.
      const code = (e as { code?: string }).code;
      if (code !== "42P07" && code !== "23505" && code !== "42P17") throw e;
    }
    this.#partitions.add(day);
  }

  /** Forgets which partitions exist (another process dropped one: retention) and reads them again. */
  async reloadPartitions(): Promise<void> {
    await this.#loadPartitions();
  }

  /** Days whose partitions exist, oldest first. */
  async partitionDays(): Promise<number[]> {
    await this.#loadPartitions();
    return [...this.#partitions].sort((a, b) => a - b);
  }

  #remember(id: string, key: number): void {
    if (this.#keys.size >= KEYS_KEPT) this.#keys.clear();
    this.#keys.set(id, key);
  }

  /** The devices' keys (those not registered are left out), from the cache or one query. */
  async keysOf(ids: readonly string[]): Promise<Map<string, number>> {
    const keys = new Map<string, number>();
    const missing: string[] = [];
    for (const id of ids) {
      const key = this.#keys.get(id);
      if (key === undefined) missing.push(id);
      else keys.set(id, key);
    }
    if (missing.length > 0) {
      const { rows } = await this.pool.query<{ id: string; key: number }>("SELECT id, key FROM devices WHERE id = ANY($1::text[])", [missing]);
      for (const { id, key } of rows) {
        this.#remember(id, key);
        keys.set(id, key);
      }
    }
    return keys;
  }

  async device(id: string): Promise<DeviceRow | undefined> {
    const { rows } = await this.pool.query<DeviceRow & { key?: number }>("SELECT * FROM devices WHERE id = $1", [id]);
    return rows[0] === undefined ? undefined : withoutKey(rows[0]);
  }

  async devices(): Promise<DeviceRow[]> {
    return (await this.pool.query<DeviceRow & { key?: number }>("SELECT * FROM devices ORDER BY id")).rows.map(withoutKey);
  }

  async deviceCount(): Promise<number> {
    return (await this.pool.query<{ n: number }>("SELECT count(*) AS n FROM devices")).rows[0].n;
  }

  async registerDevice(id: string, token: string = newToken(), now = Date.now(), replace = false): Promise<string> {
    if (!TOKEN_FORMAT.test(token)) throw new Error("a token is 8 to 256 characters of [A-Za-z0-9._~+/-]");
    const hash = hashToken(token);
    const added = await this.pool.query("INSERT INTO devices (id, token_hash, created) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING", [id, hash, now]);
    if (added.rowCount === 1) return token;
    const existing = await this.device(id);
    if (existing === undefined || existing.token_hash === hash) return token;
    if (!replace) throw new Error(`device ${id} is already registered with another token`);
    // The NOTIFY goes out with the commit: the node holding the device drops it then.
    await this.pool.query(`WITH u AS (UPDATE devices SET token_hash = $2, revoked = 0, token_version = token_version + 1
      WHERE id = $1 RETURNING id, token_version)
      SELECT pg_notify('${CHANNEL}', json_build_object('e', 'token', 'd', id, 'k', 'rekeyed', 'v', token_version)::text) FROM u`, [id, hash]);
    return token;
  }

  async revokeDevice(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`WITH u AS (UPDATE devices SET revoked = 1, token_version = token_version + 1
      WHERE id = $1 RETURNING id, token_version)
      SELECT pg_notify('${CHANNEL}', json_build_object('e', 'token', 'd', id, 'k', 'revoked', 'v', token_version)::text) FROM u`, [id]);
    return rowCount === 1;
  }

  async checkToken(id: string, token: string | undefined): Promise<CheckedToken> {
    const { rows } = await this.pool.query<{ token_hash: string; revoked: number; token_version: number; key: number }>(
      "SELECT token_hash, revoked, token_version, key FROM devices WHERE id = $1", [id]);
    const device = rows[0];
    if (device === undefined) return { check: "unknown-device", version: 0 };
    this.#remember(id, device.key); // the writer needs it next
    let check: TokenCheck;
    if (token === undefined) check = "bad-token";
    else if (!timingSafeEqual(Buffer.from(device.token_hash, "hex"), Buffer.from(hashToken(token), "hex"))) check = "bad-token";
    else check = device.revoked ? "revoked" : "ok";
    return { check, version: device.token_version };
  }

  /*
   * A device's readings are read through the key's device prefix in the day partitions the range covers,
   * each day's rows sorted by time: no second index by time, which cost ~18% of a group's time (docs/scale.md,
   * "Reading without a time index"). The newest N and the pages go day by day from the range's end (or the
   * page's start) and stop once they have enough, so a read touches only the days it returns.
   */
  async readings(deviceId: string, from: number, to: number, last?: number): Promise<ReadingRow[]> {
    const key = (await this.keysOf([deviceId])).get(deviceId);
    if (key === undefined) return [];
    const [firstDay, lastDay] = daysOf(from, to);
    if (last === undefined) {
      return (await this.pool.query<ReadingRow>(`SELECT $1::text AS device_id, ${READ_COLUMNS} FROM readings
        WHERE device_key = $2 AND day >= $3 AND day <= $4 AND t >= $5 AND t < $6 ORDER BY t, channel, boot, idx`,
      [deviceId, key, firstDay, lastDay, from, to])).rows;
    }
    const newest: ReadingRow[][] = [];
    let left = last;
    for (const day of (await this.partitionDays()).filter((d) => d >= firstDay && d <= lastDay).reverse()) {
      const { rows } = await this.pool.query<ReadingRow>(`SELECT $1::text AS device_id, ${READ_COLUMNS} FROM readings
        WHERE device_key = $2 AND day = $3 AND t >= $4 AND t < $5 ORDER BY t DESC, channel DESC, boot DESC, idx DESC LIMIT $6`,
      [deviceId, key, day, from, to, left]);
      newest.push(rows);
      left -= rows.length;
      if (left === 0) break;
    }
    return newest.flat().reverse();
  }

  async readingsPage(deviceId: string, from: number, to: number, after: Reading | undefined, limit: number): Promise<ReadingRow[]> {
    const key = (await this.keysOf([deviceId])).get(deviceId);
    if (key === undefined) return [];
    const [t, channel, boot, idx] = after === undefined ? [from, -1, -1, -1] : [after.t, after.channel, after.boot, after.idx];
    let [firstDay, lastDay] = daysOf(Math.max(from, t), to);
    const page: ReadingRow[] = [];
    // The previous page's day, read to its end: this page starts with what it left.
    const rest = after === undefined ? -1 : this.#dayRests.findIndex((r) => r.deviceId === deviceId && r.from === from && r.to === to &&
      r.after.t === t && r.after.channel === channel && r.after.boot === boot && r.after.idx === idx);
    if (rest >= 0) {
      const [{ rows, day }] = this.#dayRests.splice(rest, 1);
      this.#take(page, rows, limit, { deviceId, from, to, day });
      if (page.length === limit) return page;
      firstDay = day + 1;
    }
    for (const day of (await this.partitionDays()).filter((d) => d >= firstDay && d <= lastDay)) {
      // The day's rows after the cursor, all of them: without a time index PostgreSQL reads and sorts them
      // all for a page anyway, so the next pages of the same day are served from what is left.
      const { rows } = await this.pool.query<ReadingRow>(`SELECT $1::text AS device_id, ${READ_COLUMNS} FROM readings
        WHERE device_key = $2 AND day = $3 AND t >= $4 AND (t, channel, boot, idx) > ($5, $6, $7, $8) AND t < $9
        ORDER BY t, channel, boot, idx`, [deviceId, key, day, from, t, channel, boot, idx, to]);
      this.#take(page, rows, limit, { deviceId, from, to, day });
      if (page.length === limit) break;
    }
    return page;
  }

  /** Rows into `page` up to `limit`; what is left is kept for the export's next page (a few exports, briefly). */
  #take(page: ReadingRow[], rows: ReadingRow[], limit: number, where: { deviceId: string; from: number; to: number; day: number }): void {
    const n = Math.min(rows.length, limit - page.length);
    for (let i = 0; i < n; i++) page.push(rows[i]);
    if (n === rows.length) return;
    const now = performance.now();
    this.#dayRests = this.#dayRests.filter((r) => now - r.at < DAY_REST_MS).slice(-(DAY_RESTS_KEPT - 1));
    this.#dayRests.push({ ...where, rows: rows.slice(n), after: rows[n - 1], at: now });
  }

  async addConfigPush(deviceId: string, set: PushedConfig, now: number): Promise<ConfigPushRow> {
    return (await this.pool.query<ConfigPushRow>("INSERT INTO config_pushes (device_id, set_json, created) VALUES ($1, $2, $3) RETURNING *",
      [deviceId, JSON.stringify(set), now])).rows[0];
  }

  async pendingConfigPushes(deviceId: string): Promise<ConfigPushRow[]> {
    return (await this.pool.query<ConfigPushRow>("SELECT * FROM config_pushes WHERE device_id = $1 AND answered IS NULL ORDER BY id", [deviceId])).rows;
  }

  async lastConfigAnswer(deviceId: string): Promise<ConfigPushRow | undefined> {
    return (await this.pool.query<ConfigPushRow>(
      "SELECT * FROM config_pushes WHERE device_id = $1 AND answered IS NOT NULL ORDER BY answered DESC, id DESC LIMIT 1", [deviceId])).rows[0];
  }

  async markConfigSent(pushId: number, now: number): Promise<void> {
    await this.pool.query("UPDATE config_pushes SET sent = $1 WHERE id = $2", [now, pushId]);
  }

  async recordConfigAnswer(deviceId: string, pushId: number, ok: boolean, err: string | undefined, now: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      "UPDATE config_pushes SET answered = $1, ok = $2, err = $3 WHERE id = $4 AND device_id = $5 AND answered IS NULL",
      [now, ok ? 1 : 0, err ?? null, pushId, deviceId]);
    return rowCount === 1;
  }

  /**
   * Drops every partition whose day ended before `cutoff` (counting its readings off their devices in the
   * same transaction), and deletes the readings before `cutoff` in the day it falls in.
   */
  async deleteReadingsBefore(cutoff: number): Promise<number> {
    const cutoffDay = Math.floor(cutoff / DAY_MS);
    let deleted = 0;
    for (const day of await this.partitionDays()) {
      if (day >= cutoffDay) break;
      deleted += await this.#transaction(async (client) => {
        const { rows } = await client.query<{ device_key: number; n: number }>(
          `SELECT device_key, count(*) AS n FROM ${partitionName(day)} GROUP BY device_key`);
        await client.query(`UPDATE devices d SET reading_count = greatest(d.reading_count - c.n, 0)
          FROM unnest($1::integer[], $2::bigint[]) AS c(key, n) WHERE d.key = c.key`, [rows.map((r) => r.device_key), rows.map((r) => r.n)]);
        await client.query(`DROP TABLE ${partitionName(day)}`);
        return rows.reduce((sum, r) => sum + r.n, 0);
      });
      this.#partitions.delete(day);
    }
    const { rows } = await this.pool.query<{ n: number }>(`WITH d AS (DELETE FROM readings WHERE day = $1 AND t < $2 RETURNING device_key),
      c AS (SELECT device_key, count(*) AS n FROM d GROUP BY device_key),
      u AS (UPDATE devices SET reading_count = greatest(reading_count - c.n, 0) FROM c WHERE devices.key = c.device_key)
      SELECT coalesce(sum(n), 0)::bigint AS n FROM c`, [cutoffDay, cutoff]);
    return deleted + rows[0].n;
  }

  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  async openWriter(options: WriterOptions): Promise<Writer> {
    return new PostgresWriter(this, options);
  }

  async joinCluster(node: string, events: ClusterEvents, options: { log?: Log } = {}): Promise<Cluster> {
    return PgCluster.join(this, node, events, options.log ?? (() => {}));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** COPY … FROM STDIN of one text, as a `pg` submittable (what pg-copy-streams does, for a whole buffer). */
class CopyIn {
  readonly text: string;
  #data: string;
  #resolve!: () => void;
  #reject!: (e: Error) => void;
  readonly done: Promise<void>;

  constructor(text: string, data: string) {
    this.text = text;
    this.#data = data;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: { sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void }): void {
    connection.sendCopyFromChunk(Buffer.from(this.#data));
    connection.endCopyFrom();
  }

  // pg forgets the active query on an error (no ReadyForQuery reaches it then): the error ends the COPY here.
  handleError(error: Error): void {
    this.#reject(error);
  }

  handleCommandComplete(): void {}
  handleReadyForQuery(): void {
    this.#resolve();
  }
  handleEmptyQuery(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCopyData(): void {}
  handlePortalSuspended(): void {}
}

interface Part {
  writes: Write[];
  rows: number;
  done: (outcomes: Outcome[], group?: GroupFigures) => void;
}

const STAGING = `CREATE TEMP TABLE IF NOT EXISTS staging (
  device_key integer, boot bigint, channel integer, idx bigint, t bigint, day integer, centi integer, fault text
) ON COMMIT DELETE ROWS`;
/** The columns of a COPY line, staged or straight into a partition. */
const COLUMNS = "device_key, boot, channel, idx, t, day, centi, fault";
/** After a resend met on the direct path, groups take the careful one (staging, ON CONFLICT) this long. */
const CAREFUL_MS = 10_000;

/** The group's devices, locked in id order. */
const LOCK = "SELECT 1 FROM devices WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE";
/** The devices' counts and last-seen times after a direct COPY, which stored every reading of the group. */
const COUNTED = `UPDATE devices d SET reading_count = d.reading_count + a.n, last_seen = greatest(coalesce(d.last_seen, 0), a.at)
  FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS a(id, at, n) WHERE d.id = a.id`;

/**
 * Staged rows into `target`: the day's partition itself when they all fall in one day (tuple routing
 * skipped: the INSERT took ~15-25% less time in trials on the bench machine), else the parent.
 */
const insertStaged = (target: string) => `WITH ins AS (
  INSERT INTO ${target} (${COLUMNS})
  SELECT ${COLUMNS} FROM staging s
  WHERE (s.t - s.day::bigint * ${DAY_MS} >= ${NEAR_MS} AND (s.day + 1)::bigint * ${DAY_MS} - s.t > ${NEAR_MS}) OR NOT EXISTS (SELECT 1 FROM readings r WHERE r.device_key = s.device_key AND r.boot = s.boot
    AND r.channel = s.channel AND r.idx = s.idx AND r.day IN (s.day - 1, s.day + 1))
  ON CONFLICT DO NOTHING
  RETURNING device_key
), counted AS (SELECT device_key, count(*) AS n FROM ins GROUP BY device_key),
upd AS (UPDATE devices d SET reading_count = d.reading_count + coalesce(c.n, 0), last_seen = greatest(coalesce(d.last_seen, 0), a.at)
  FROM unnest($1::text[], $2::bigint[], $3::integer[]) AS a(id, at, key) LEFT JOIN counted c ON c.device_key = a.key WHERE d.id = a.id)
SELECT device_key, n FROM counted`;

const HELLOS = `UPDATE devices d SET firmware = h.fw, boot = h.boot, reset_reason = h.rr, mode = h.mode, cfg = h.cfg,
  wake_awake = h.awake, wake_connect = h.connect, wake_retries = h.retries, store_n = h.n, store_cap = h.cap,
  store_drop = h.drop, last_err = coalesce(h.err, d.last_err), mem_slots = h.slots, mem_chunks = h.chunks,
  store_corrupt = h.corrupt, store_lost = h.lost, wake_n = h.wakes, probe = h.probe, last_seen = h.now, last_hello = h.json
  FROM jsonb_to_recordset($1::jsonb) AS h(id text, fw text, boot bigint, rr text, mode text, cfg text, awake bigint,
    connect bigint, retries bigint, n bigint, cap bigint, drop bigint, err text, slots bigint, chunks bigint,
    corrupt bigint, lost bigint, wakes bigint, probe text, now bigint, json text)
  WHERE d.id = h.id`;

function helloRecord(hello: Hello, now: number) {
  return {
    id: hello.id, fw: hello.fw, boot: hello.boot, rr: hello.rr, mode: hello.mode ?? null,
    cfg: hello.cfg === undefined ? null : JSON.stringify(hello.cfg),
    awake: hello.wake?.awake ?? null, connect: hello.wake?.connect ?? null, retries: hello.wake?.retries ?? null,
    n: hello.store?.n ?? null, cap: hello.store?.cap ?? null, drop: hello.store?.drop ?? null,
    corrupt: hello.store?.corrupt ?? null, lost: hello.store?.lost ?? null, wakes: hello.wake?.n ?? null,
    slots: hello.mem?.slots ?? null, chunks: hello.mem?.chunks ?? null,
    probe: hello.probe === undefined ? null : JSON.stringify(hello.probe),
    err: hello.err ?? null, now, json: JSON.stringify(hello),
  };
}

/**
 * Commits device writes in groups, one transaction each, on connections of its own. While a transaction
 * runs, what arrives waits and joins the next one (up to `maxGroupRows` readings), so groups grow with the
 * load as they do on the SQLite writer thread. `concurrency` transactions may run at once: their device
 * locks are taken in id order, so they cannot deadlock one another.
 */
export class PostgresWriter implements Writer {
  readonly inline = false;
  #store: PostgresStore;
  #pool: pg.Pool;
  #options: WriterOptions;
  #pending: Part[] = [];
  #running = 0;
  #concurrency: number;
  #closing = false;
  #idle: (() => void)[] = [];
  #staged = new WeakSet<pg.PoolClient>();
  #ahead: NodeJS.Timeout;
  /** Until then (performance.now()), groups go through staging: a resend was met on the direct path. */
  #carefulUntil = 0;

  constructor(store: PostgresStore, options: WriterOptions & { concurrency?: number }) {
    this.#store = store;
    this.#options = options;
    this.#concurrency = options.concurrency ?? Number(process.env.THERMOCAST_PG_WRITERS ?? PG_WRITERS);
    this.#pool = new pg.Pool({ connectionString: store.url, max: this.#concurrency, types: TYPES });
    this.#pool.on("error", () => {});
    // Tomorrow's partitions exist before tomorrow.
    this.#ahead = setInterval(() => void store.makePartitionsAhead(Date.now()).catch(() => {}), 3_600_000);
    this.#ahead.unref();
  }

  commit(writes: Write[], rows: number, done: (outcomes: Outcome[], group?: GroupFigures) => void): void {
    if (this.#closing) return done(writes.map(() => new Error("the writer is closed")));
    this.#pending.push({ writes, rows, done });
    this.#next();
  }

  #next(): void {
    while (this.#running < this.#concurrency && this.#pending.length > 0) {
      let rows = 0;
      let n = 0;
      while (n < this.#pending.length && (n === 0 || rows + this.#pending[n].rows <= this.#options.maxGroupRows)) rows += this.#pending[n++].rows;
      const parts = this.#pending.splice(0, n);
      this.#running++;
      void this.#run(parts, rows).finally(() => {
        this.#running--;
        this.#next();
        if (this.#running === 0 && this.#pending.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    }
  }

  async #run(parts: Part[], rows: number): Promise<void> {
    const writes = parts.flatMap((p) => p.writes);
    const began = performance.now();
    let outcomes: Outcome[];
    let failed = false;
    try {
      outcomes = await this.#commitGroup(writes);
    } catch (e) {
      // A partition this process knew of was dropped by another (retention): it is made again if needed.
      if ((e as { code?: string }).code === "42P01") await this.#store.reloadPartitions().catch(() => {});
      // One bad write fails alone: each again in a transaction of its own.
      failed = writes.length > 1;
      outcomes = [];
      if (!failed) outcomes.push(asError(e));
      else for (const write of writes) outcomes.push(await this.#commitGroup([write]).then((o) => o[0], asError));
    }
    const group: GroupFigures = { writes: writes.length, rows, ms: performance.now() - began, failed };
    let o = 0;
    for (let p = 0; p < parts.length; p++) {
      const part = parts[p];
      part.done(outcomes.slice(o, o + part.writes.length), p === parts.length - 1 ? group : undefined);
      o += part.writes.length;
    }
  }

  /** One transaction for `writes`; the readings each one stored. */
  async #commitGroup(writes: Write[]): Promise<Outcome[]> {
    const devices = new Map<string, number>(); // id → the latest `at` of its writes
    const counts = new Map<string, number>(); // id → readings in its writes
    const hellos = new Map<string, ReturnType<typeof helloRecord>>();
    const days = new Set<number>();
    let near = false;
    const writeLines: string[] = [];
    const keys = await this.#store.keysOf(writes.flatMap((w) => w.kind === "readings" ? [w.deviceId] : []));
    for (const write of writes) {
      if (write.kind === "hello") {
        hellos.set(write.hello.id, helloRecord(write.hello, write.at));
        devices.set(write.hello.id, Math.max(write.at, devices.get(write.hello.id) ?? 0));
        continue;
      }
      const { deviceId, rows, at } = write;
      devices.set(deviceId, Math.max(at, devices.get(deviceId) ?? 0));
      counts.set(deviceId, (counts.get(deviceId) ?? 0) + rows.values.length);
      // Built on the event loop: the line's fixed part once a write, the day's once a day, one string a write
      // (~2× less time than a template per reading). Fault names are [a-z-]: nothing in COPY's text format
      // needs escaping.
      const key = keys.get(deviceId);
      if (key === undefined) throw new Error(`device ${deviceId} is not registered`);
      const { values, faults, oldest, stepMs, idx } = rows;
      const prefix = `${key}\t${rows.boot}\t${rows.channel}\t`;
      let lastDay = NaN;
      let dayText = "";
      let lines = "";
      for (let j = 0; j < values.length; j++) {
        const t = oldest + j * stepMs;
        const day = Math.floor(t / DAY_MS);
        if (day !== lastDay) {
          lastDay = day;
          dayText = `\t${day}\t`;
          days.add(day);
        }
        const into = t - day * DAY_MS;
        if (into < NEAR_MS || DAY_MS - into <= NEAR_MS) near = true;
        const value = values[j];
        lines += prefix + (idx + j) + "\t" + t + dayText + (value === null ? "\\N\t" + (faults[j] ?? "other") : value + "\t\\N") + "\n";
      }
      writeLines.push(lines);
    }
    const copy = writeLines.join("");
    if (days.size > 0) await this.#store.ensurePartitions(days);
    const ids = [...devices.keys()].sort();
    const ats = ids.map((id) => devices.get(id)!);
    // Straight into the day's partition when no reading needs the cross-midnight check and no resend was
    // met lately; a resend then fails the COPY (unique key) and the group runs again the careful way.
    let direct = copy.length > 0 && days.size === 1 && !near && performance.now() >= this.#carefulUntil;
    const client = await this.#pool.connect();
    try {
      for (;;) {
        try {
          return await this.#transaction(client, writes, { ids, ats, hellos, copy, days, counts, keys, direct });
        } catch (e) {
          if (!direct || (e as { code?: string }).code !== "23505") throw e;
          this.#carefulUntil = performance.now() + CAREFUL_MS;
          direct = false;
        }
      }
    } finally {
      client.release();
    }
  }

  async #transaction(client: pg.PoolClient, writes: Write[], group: {
    ids: string[]; ats: number[]; hellos: Map<string, ReturnType<typeof helloRecord>>; copy: string; days: Set<number>;
    counts: Map<string, number>; keys: Map<string, number>; direct: boolean;
  }): Promise<Outcome[]> {
    const { ids, ats, hellos, copy, days, counts, keys, direct } = group;
    if (!direct && !this.#staged.has(client)) {
      await client.query(STAGING);
      this.#staged.add(client);
    }
    if (direct) {
      // The whole transaction in one simple-protocol message (COPY included: the statements after it run
      // once its data is in): one round trip, not five. The arrays and hellos go as quoted literals.
      const list = (values: (string | number)[], type: string) => `ARRAY[${values.map((v) => typeof v === "number" ? v : pg.escapeLiteral(v)).join(",")}]::${type}[]`;
      const text = ["BEGIN", `${LOCK.replace("$1::text[]", list(ids, "text"))}`,
        ...(hellos.size > 0 ? [HELLOS.replace("$1::jsonb", `${pg.escapeLiteral(JSON.stringify([...hellos.values()]))}::jsonb`)] : []),
        COUNTED.replace("$1::text[]", list(ids, "text")).replace("$2::bigint[]", list(ats, "bigint")).replace("$3::bigint[]", list(ids.map((id) => counts.get(id) ?? 0), "bigint")),
        `COPY ${partitionName(days.values().next().value!)} (${COLUMNS}) FROM STDIN`, "COMMIT"].join(";\n");
      const copyIn = new CopyIn(text, copy);
      try {
        client.query(copyIn as unknown as pg.QueryConfig);
        await copyIn.done;
      } catch (e) {
        // A failed statement discards the rest of the message (COMMIT too): the transaction is still open.
        await client.query("ROLLBACK").catch(() => {});
        throw e;
      }
      // Every row went in: each device stored all its readings.
      return writes.map((write) => write.kind === "hello" ? 0 : write.rows.values.length);
    }
    await client.query("BEGIN");
    try {
      // Devices in id order: two transactions with devices in common wait for each other instead of
      // deadlocking, and the second one's INSERT sees the first one's rows (the cross-midnight check).
      await client.query(LOCK, [ids]);
      if (hellos.size > 0) await client.query(HELLOS, [JSON.stringify([...hellos.values()])]);
      const stored = new Map<number, number>(); // device key → new rows
      if (copy.length > 0) {
        const copyIn = new CopyIn("COPY staging FROM STDIN", copy);
        client.query(copyIn as unknown as pg.QueryConfig);
        await copyIn.done;
        const target = days.size === 1 ? partitionName(days.values().next().value!) : "readings";
        const { rows } = await client.query<{ device_key: number; n: number }>(insertStaged(target), [ids, ats, ids.map((id) => keys.get(id) ?? null)]);
        for (const r of rows) stored.set(r.device_key, r.n);
      } else {
        await client.query("UPDATE devices d SET last_seen = greatest(coalesce(d.last_seen, 0), a.at) FROM unnest($1::text[], $2::bigint[]) AS a(id, at) WHERE d.id = a.id",
          [ids, ats]);
      }
      await client.query("COMMIT");
      // The new rows of each device, given to its writes in order (a resend gets what is left: 0).
      return writes.map((write) => {
        if (write.kind === "hello") return 0;
        const key = keys.get(write.deviceId)!;
        const left = stored.get(key) ?? 0;
        const n = Math.min(left, write.rows.values.length);
        stored.set(key, left - n);
        return n;
      });
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {});
      throw e;
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#ahead);
    if (this.#running > 0 || this.#pending.length > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    await this.#pool.end();
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Heartbeat period, and the silence after which a node's sessions are released by the others. */
const HEARTBEAT_MS = 2000;
const NODE_EXPIRY_S = 10;
/** Device-row changes go to other nodes' dashboards at most this often. */
const CHANGED_MS = 250;

type Event =
  | { e: "token"; d: string; k: "revoked" | "rekeyed"; v: number }
  | { e: "claim"; d: string; n: string; g: number }
  | { e: "release"; d: string; n: string; g: number }
  | { e: "config"; d: string; p: number }
  | { e: "live"; n: string; d: string; c: number; o: number; k: number; t0: number; s: number; v: (number | null)[]; f: (string | null)[] }
  | { e: "changed"; n: string; ids: string[] }
  | { e: "view"; n: string; c: number; w: string[] };

/**
 * The nodes on one database, through LISTEN/NOTIFY on one channel. A NOTIFY sent inside a transaction goes
 * out with its commit (a revoke), and every listener, this node included, gets it. Claims say which node
 * holds each device; heartbeats let the nodes release the sessions of a node that died (SIGKILL).
 * Live readings go out only for devices a dashboard on another node watches, row changes only while
 * another node has a dashboard open: a fleet with no dashboard open sends none.
 */
class PgCluster implements Cluster {
  readonly node: string;
  #store: PostgresStore;
  #events: ClusterEvents;
  #listener: pg.Client;
  #heartbeat: NodeJS.Timeout | undefined;
  #closing = false;
  /** Devices held by other nodes: node and claim generation. */
  #elsewhere = new Map<string, { node: string; generation: number }>();
  /** Other nodes' dashboards: how many, what they watch, when last heard. */
  #views = new Map<string, { count: number; watching: Set<string>; at: number }>();
  #myView: { count: number; watching: string[] } = { count: 0, watching: [] };
  #changed = new Set<string>();
  #changedTimer: NodeJS.Timeout | undefined;

  /** Devices claimed here and not released: their claim generations. */
  #mine = new Map<string, number>();
  #log: Log;
  #retryMs = 500;

  private constructor(store: PostgresStore, node: string, events: ClusterEvents, listener: pg.Client, log: Log) {
    this.#store = store;
    this.node = node;
    this.#events = events;
    this.#listener = listener;
    this.#log = log;
  }

  static async join(store: PostgresStore, node: string, events: ClusterEvents, log: Log): Promise<PgCluster> {
    const cluster = new PgCluster(store, node, events, await PgCluster.#listen(store), log);
    cluster.#watch(cluster.#listener);
    // A node restarted under the same name holds none of what it held before.
    await store.pool.query(`WITH r AS (UPDATE sessions SET node = NULL WHERE node = $1 RETURNING device_id, generation)
      SELECT pg_notify('${CHANNEL}', json_build_object('e', 'release', 'd', device_id, 'n', $1::text, 'g', generation)::text) FROM r`, [node]);
    await cluster.#beat();
    await cluster.#resync();
    cluster.#heartbeat = setInterval(() => void cluster.#beat().catch(() => {}), HEARTBEAT_MS);
    cluster.#heartbeat.unref();
    return cluster;
  }

  /** A connection that LISTENs. */
  static async #listen(store: PostgresStore): Promise<pg.Client> {
    const listener = new pg.Client({ connectionString: store.url, types: TYPES });
    await listener.connect();
    await listener.query(`LISTEN ${CHANNEL}`);
    return listener;
  }

  #watch(listener: pg.Client): void {
    listener.on("notification", (message) => {
      if (message.channel !== CHANNEL || message.payload === undefined) return;
      let event: Event;
      try {
        event = JSON.parse(message.payload) as Event;
      } catch {
        return;
      }
      this.#receive(event);
    });
    const lost = (e?: Error) => {
      if (this.#closing || this.#listener !== listener) return;
      this.#log({ level: "error", event: "cluster-listener-lost", node: this.node, msg: e?.message ?? "connection ended" });
      listener.removeAllListeners("end");
      listener.end().catch(() => {});
      setTimeout(() => void this.#reconnect(), this.#retryMs).unref();
    };
    listener.on("error", lost);
    listener.on("end", () => lost());
  }

  /**
   * A new listening connection, then what may have been missed meanwhile read from the tables: who holds
   * which device, and the token versions of the devices held here (a revoke made meanwhile drops them).
   */
  async #reconnect(): Promise<void> {
    if (this.#closing) return;
    try {
      const listener = await PgCluster.#listen(this.#store);
      if (this.#closing) return void listener.end().catch(() => {});
      this.#listener = listener;
      this.#watch(listener);
      await this.#resync();
      this.#retryMs = 500;
      this.#log({ level: "info", event: "cluster-listener-back", node: this.node });
    } catch (e) {
      this.#retryMs = Math.min(this.#retryMs * 2, 10_000);
      this.#log({ level: "error", event: "cluster-listener-lost", node: this.node, msg: e instanceof Error ? e.message : String(e) });
      setTimeout(() => void this.#reconnect(), this.#retryMs).unref();
    }
  }

  async #resync(): Promise<void> {
    const pool = this.#store.pool;
    const { rows } = await pool.query<{ device_id: string; node: string; generation: number }>(
      "SELECT device_id, node, generation FROM sessions WHERE node IS NOT NULL");
    const before = new Set(this.#elsewhere.keys());
    this.#elsewhere.clear();
    for (const r of rows) {
      if (r.node !== this.node) this.#elsewhere.set(r.device_id, { node: r.node, generation: r.generation });
      const mine = this.#mine.get(r.device_id);
      if (mine !== undefined && r.node !== this.node && r.generation > mine) this.#events.claimed(r.device_id, r.generation);
    }
    const mine = [...this.#mine.keys()];
    if (mine.length > 0) {
      const changed = await pool.query<{ id: string; revoked: number; token_version: number }>(
        "SELECT id, revoked, token_version FROM devices WHERE id = ANY($1::text[]) AND token_version > 0", [mine]);
      for (const d of changed.rows) this.#events.tokenChanged({ device_id: d.id, kind: d.revoked ? "revoked" : "rekeyed", version: d.token_version });
    }
    const touched = new Set([...before, ...this.#elsewhere.keys()]);
    if (touched.size > 0) this.#events.changed([...touched]);
  }

  /** Says this node is alive, releases the sessions of nodes that are not, repeats what its dashboards watch. */
  async #beat(): Promise<void> {
    const pool = this.#store.pool;
    await pool.query("INSERT INTO nodes (id, seen) VALUES ($1, now()) ON CONFLICT (id) DO UPDATE SET seen = now()", [this.node]);
    await pool.query(`DELETE FROM nodes WHERE seen < now() - interval '${NODE_EXPIRY_S} seconds'`);
    // Sessions of nodes that are gone (killed: no heartbeat; or left without releasing them).
    await pool.query(`WITH r AS (UPDATE sessions SET node = NULL WHERE node IS NOT NULL AND node NOT IN (SELECT id FROM nodes)
        RETURNING device_id, generation)
      SELECT pg_notify('${CHANNEL}', json_build_object('e', 'release', 'd', device_id, 'n', '', 'g', generation)::text) FROM r`);
    if (this.#myView.count > 0) this.#notify({ e: "view", n: this.node, c: this.#myView.count, w: this.#myView.watching });
    const stale = Date.now() - 3 * HEARTBEAT_MS;
    for (const [node, view] of this.#views) if (view.at < stale) this.#views.delete(node);
  }

  #receive(event: Event): void {
    switch (event.e) {
      case "token":
        return this.#events.tokenChanged({ device_id: event.d, kind: event.k, version: event.v });
      case "claim": {
        const held = this.#elsewhere.get(event.d);
        if (event.n === this.node) {
          if (held !== undefined && held.generation < event.g) this.#elsewhere.delete(event.d);
          return;
        }
        if (held === undefined || held.generation < event.g) this.#elsewhere.set(event.d, { node: event.n, generation: event.g });
        this.#events.claimed(event.d, event.g);
        return this.#events.changed([event.d]);
      }
      case "release": {
        const held = this.#elsewhere.get(event.d);
        if (held !== undefined && held.generation === event.g) {
          this.#elsewhere.delete(event.d);
          this.#events.changed([event.d]);
        }
        return;
      }
      case "config":
        return this.#events.configPushed(event.d, event.p);
      case "live":
        if (event.n === this.node) return;
        return this.#events.stored(event.d, { boot: event.o, channel: event.c, idx: event.k, oldest: event.t0, stepMs: event.s, values: event.v, faults: event.f });
      case "changed":
        if (event.n !== this.node) this.#events.changed(event.ids);
        return;
      case "view":
        if (event.n !== this.node) this.#views.set(event.n, { count: event.c, watching: new Set(event.w), at: Date.now() });
        return;
    }
  }

  #notify(event: Event): void {
    this.#store.pool.query("SELECT pg_notify($1, $2)", [CHANNEL, JSON.stringify(event)]).catch(() => {});
  }

  async claim(deviceId: string): Promise<number> {
    const { rows } = await this.#store.pool.query<{ generation: number }>(`WITH c AS (
        INSERT INTO sessions (device_id, node, generation, since) VALUES ($1, $2, 1, $3)
        ON CONFLICT (device_id) DO UPDATE SET node = EXCLUDED.node, generation = sessions.generation + 1, since = EXCLUDED.since
        RETURNING generation)
      SELECT generation, pg_notify('${CHANNEL}', json_build_object('e', 'claim', 'd', $1::text, 'n', $2::text, 'g', generation)::text) FROM c`,
    [deviceId, this.node, Date.now()]);
    const generation = rows[0].generation;
    if ((this.#mine.get(deviceId) ?? 0) < generation) this.#mine.set(deviceId, generation);
    return generation;
  }

  release(deviceId: string, generation: number): void {
    if (this.#mine.get(deviceId) === generation) this.#mine.delete(deviceId);
    if (this.#closing) return;
    this.#store.pool.query(`WITH r AS (UPDATE sessions SET node = NULL WHERE device_id = $1 AND node = $2 AND generation = $3 RETURNING device_id)
      SELECT pg_notify('${CHANNEL}', json_build_object('e', 'release', 'd', $1::text, 'n', $2::text, 'g', $3::bigint)::text) FROM r`,
    [deviceId, this.node, generation]).catch(() => {});
  }

  checkTokenChanges(): void {} // they arrive by NOTIFY

  onlineElsewhere(deviceId: string): boolean {
    return this.#elsewhere.has(deviceId);
  }

  configPushed(deviceId: string, pushId: number): void {
    this.#notify({ e: "config", d: deviceId, p: pushId });
  }

  stored(deviceId: string, rows: BatchRows): void {
    let watched = false;
    for (const view of this.#views.values()) if (view.watching.has(deviceId)) watched = true;
    if (!watched) return this.changed(deviceId);
    const text = JSON.stringify({
      e: "live", n: this.node, d: deviceId, c: rows.channel, o: rows.boot, k: rows.idx, t0: rows.oldest, s: rows.stepMs, v: rows.values, f: rows.faults,
    });
    if (Buffer.byteLength(text) > MAX_PAYLOAD) return this.changed(deviceId);
    this.#store.pool.query("SELECT pg_notify($1, $2)", [CHANNEL, text]).catch(() => {});
    this.changed(deviceId);
  }

  changed(deviceId: string): void {
    let viewers = false;
    for (const view of this.#views.values()) if (view.count > 0) viewers = true;
    if (!viewers) return;
    this.#changed.add(deviceId);
    this.#changedTimer ??= setTimeout(() => {
      this.#changedTimer = undefined;
      let ids: string[] = [];
      let size = 0;
      for (const id of this.#changed) {
        if (size + id.length + 3 > MAX_PAYLOAD - 100) {
          this.#notify({ e: "changed", n: this.node, ids });
          ids = [];
          size = 0;
        }
        ids.push(id);
        size += id.length + 3;
      }
      this.#changed.clear();
      if (ids.length > 0) this.#notify({ e: "changed", n: this.node, ids });
    }, CHANGED_MS);
  }

  viewing(dashboards: number, watching: ReadonlySet<string>): void {
    const list = [...watching].slice(0, 200);
    const same = dashboards === this.#myView.count && list.length === this.#myView.watching.length && list.every((id, i) => id === this.#myView.watching[i]);
    this.#myView = { count: dashboards, watching: list };
    if (!same) this.#notify({ e: "view", n: this.node, c: dashboards, w: list });
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#changedTimer);
    await this.#listener.end().catch(() => {});
    // Leaves: its sessions are closed by now; the others forget its views.
    await this.#store.pool.query(`WITH r AS (UPDATE sessions SET node = NULL WHERE node = $1 RETURNING device_id, generation)
      SELECT pg_notify('${CHANNEL}', json_build_object('e', 'release', 'd', device_id, 'n', $1::text, 'g', generation)::text) FROM r`, [this.node]).catch(() => {});
    await this.#store.pool.query("DELETE FROM nodes WHERE id = $1", [this.node]).catch(() => {});
  }
}
