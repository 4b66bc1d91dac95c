/*
 * The server's storage, one interface with two backends: SQLite (sqlite-store.ts: one file, one node, the
 * default, nothing to install) and PostgreSQL (postgres.ts: one database shared by several ingest nodes).
 * Session, API, dashboard and CLI code see only this. Every call is async: PostgreSQL answers over a socket.
 *
 * Besides storage, a store carries what nodes tell each other (`Cluster`): token changes, session claims
 * (one live session per device across nodes), config pushes and live readings. On SQLite there is one node,
 * so only token changes made by another process (the CLI) travel, by polling; on PostgreSQL everything
 * goes through LISTEN/NOTIFY.
 */
import type { PushedConfig } from "./config";
import type { Log } from "./log";
import type { Hello, Reading } from "./protocol";

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
  mem_slots: number | null;
  mem_chunks: number | null;
  store_corrupt: number | null;
  store_lost: number | null;
  wake_n: number | null;
  probe: string | null;
}

export interface ReadingRow extends Reading {
  device_id: string;
}

/**
 * A batch's readings as stored: reading j is sample `idx + j`, dated `oldest + j * stepMs`, holding
 * `values[j]` centi-degrees or, when that is null, the fault `faults[j]`.
 */
export interface BatchRows {
  boot: number;
  channel: number;
  idx: number;
  oldest: number;
  stepMs: number;
  values: readonly (number | null)[];
  faults: readonly (string | null)[];
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

/**
 * A revoke or re-key. `version` orders the changes of one device: a connection whose token check saw
 * version v is dropped only for a change with a greater one (a device re-keyed and back with its new token
 * before the change arrived is not dropped for the change it connected after).
 */
export interface TokenChange {
  device_id: string;
  kind: "revoked" | "rekeyed";
  version: number;
}

/** A token check's answer and the token version it saw (see TokenChange). */
export interface CheckedToken {
  check: TokenCheck;
  version: number;
}

export interface WriterOptions {
  /** SQLite: the writer thread (else inline on the event loop). PostgreSQL commits on its own connections. */
  threaded: boolean;
  maxGroupRows: number;
  commitIntervalMs?: number;
  /** The writer stopped unasked (its thread died, its connection broke). */
  onError: (error: Error) => void;
}

/** What other nodes (or processes) tell this one. */
export interface ClusterEvents {
  tokenChanged(change: TokenChange): void;
  /** Another node took `deviceId` with claim generation `generation`: a local session with a lower one must go. */
  claimed(deviceId: string, generation: number): void;
  /** A config push for `deviceId` was made on some node: deliver it if the device is here. */
  configPushed(deviceId: string, pushId: number): void;
  /** Readings another node committed, for the dashboards here. */
  stored(deviceId: string, rows: BatchRows): void;
  /** Device rows another node changed (hello, counts, online), for the dashboards here. */
  changed(deviceIds: readonly string[]): void;
}

export interface Cluster {
  /** This node's name. */
  readonly node: string;
  /** Takes the device's one live session for this node; resolves to the claim's generation. */
  claim(deviceId: string): Promise<number>;
  /** Gives the claim back (the session closed); a later claim by another node is left alone. */
  release(deviceId: string, generation: number): void;
  /** The device has a live session on another node. */
  onlineElsewhere(deviceId: string): boolean;
  /** Tells the node that holds the device about a push made here. */
  configPushed(deviceId: string, pushId: number): void;
  /** A batch committed here: to dashboards on other nodes that watch this device. */
  stored(deviceId: string, rows: BatchRows): void;
  /** A device row changed here: to dashboards on other nodes. */
  changed(deviceId: string): void;
  /** Looks now for token changes other processes wrote, as the poll does (a no-op where they are notified). */
  checkTokenChanges(): void;
  /** What the dashboards here look at: how many are open, and the devices they watch. */
  viewing(dashboards: number, watching: ReadonlySet<string>): void;
  close(): Promise<void>;
}

export interface Store {
  readonly kind: "sqlite" | "postgres";
  device(id: string): Promise<DeviceRow | undefined>;
  devices(): Promise<DeviceRow[]>;
  deviceCount(): Promise<number>;
  /**
   * Registers `id` and returns its token (a new random one unless `token` is given). Registering again
   * with the same token is a no-op; another token needs `replace` (a re-key, which drops its connection).
   */
  registerDevice(id: string, token?: string, now?: number, replace?: boolean): Promise<string>;
  /** Revokes the device's token; the node holding it drops its connection. False: no such device. */
  revokeDevice(id: string, now?: number): Promise<boolean>;
  checkToken(id: string, token: string | undefined): Promise<CheckedToken>;
  /** Readings dated in [from, to), oldest first; with `last`, only the newest `last` of them. */
  readings(deviceId: string, from: number, to: number, last?: number): Promise<ReadingRow[]>;
  /** Readings dated in [from, to) after `after` in the order (t, channel, boot, idx), at most `limit`. */
  readingsPage(deviceId: string, from: number, to: number, after: Reading | undefined, limit: number): Promise<ReadingRow[]>;
  addConfigPush(deviceId: string, set: PushedConfig, now: number): Promise<ConfigPushRow>;
  pendingConfigPushes(deviceId: string): Promise<ConfigPushRow[]>;
  lastConfigAnswer(deviceId: string): Promise<ConfigPushRow | undefined>;
  markConfigSent(pushId: number, now: number): Promise<void>;
  /** Records the device's answer; false when no pending push of that device has this id. */
  recordConfigAnswer(deviceId: string, pushId: number, ok: boolean, err: string | undefined, now: number): Promise<boolean>;
  /** Deletes readings dated before `cutoff` (epoch ms); returns how many. */
  deleteReadingsBefore(cutoff: number): Promise<number>;
  /** The writer the commit queue hands device writes to (commit.ts): acks wait for its commits. */
  openWriter(options: WriterOptions): Promise<Writer>;
  /** Joins the cluster as `node`; events from other nodes (and processes) go to `events`. */
  joinCluster(node: string, events: ClusterEvents, options: { tokenPollMs: number; log?: Log }): Promise<Cluster>;
  close(): Promise<void>;
}

/** A write a device causes, as data: it may be committed on another thread. */
export type Write =
  | { kind: "readings"; deviceId: string; rows: BatchRows; at: number }
  | { kind: "hello"; hello: Hello; at: number };

/** What became of a write: how many readings it stored (0 for a hello), or why it did not commit. */
export type Outcome = number | Error;

/** One transaction's figures. */
export interface GroupFigures {
  writes: number;
  rows: number;
  ms: number;
  /** The group failed and its writes were retried one by one. */
  failed: boolean;
}

export interface Writer {
  /** Commits before `commit` returns, on this thread: the queue then hands it one group a turn. */
  readonly inline: boolean;
  /**
   * Commits `writes` (holding `rows` readings) after every write handed over before them, then calls
   * `done` with one outcome per write. `group` comes once per transaction, with the last writes it held.
   */
  commit(writes: Write[], rows: number, done: (outcomes: Outcome[], group?: GroupFigures) => void): void;
  /** Resolves once everything handed over is answered and the writer has let go of the database. */
  close(): Promise<void>;
}
