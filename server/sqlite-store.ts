/*
 * The SQLite store (the default): TelemetryDb (db.ts) behind the Store interface, its device writes on the
 * writer thread (writer.ts) or inline. One node: a cluster of one, where only token changes made by another
 * process on the same file (the CLI) travel, read from `token_changes` every `tokenPollMs`.
 */
import type { PushedConfig } from "./config";
import { TelemetryDb } from "./db";
import type { Reading } from "./protocol";
import type {
  BatchRows, CheckedToken, Cluster, ClusterEvents, ConfigPushRow, DeviceRow, ReadingRow, Store, Writer, WriterOptions,
} from "./store";
import { InlineWriter, ThreadWriter } from "./writer";

export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly db: TelemetryDb;
  readonly path: string;

  constructor(db: TelemetryDb, path: string) {
    this.db = db;
    this.path = path;
  }

  /** `checkpoints: "here"` for one-shot commands (no checkpointer thread). */
  static open(path: string, options: { cacheMb?: number; checkpoints?: "thread" | "here" } = {}): SqliteStore {
    return new SqliteStore(new TelemetryDb(path, options), path);
  }

  async device(id: string): Promise<DeviceRow | undefined> {
    return this.db.device(id);
  }

  async devices(): Promise<DeviceRow[]> {
    return this.db.devices();
  }

  async deviceCount(): Promise<number> {
    return this.db.deviceCount();
  }

  async registerDevice(id: string, token?: string, now?: number, replace?: boolean): Promise<string> {
    return this.db.registerDevice(id, token, now, replace);
  }

  async revokeDevice(id: string, now?: number): Promise<boolean> {
    return this.db.revokeDevice(id, now);
  }

  async checkToken(id: string, token: string | undefined): Promise<CheckedToken> {
    // Read before the check: every change up to this one is in the check's answer.
    const version = this.db.lastTokenChange();
    return { check: this.db.checkToken(id, token), version };
  }

  async readings(deviceId: string, from: number, to: number, last?: number): Promise<ReadingRow[]> {
    return this.db.readings(deviceId, from, to, last);
  }

  async readingsPage(deviceId: string, from: number, to: number, after: Reading | undefined, limit: number): Promise<ReadingRow[]> {
    return this.db.readingsPage(deviceId, from, to, after, limit);
  }

  async addConfigPush(deviceId: string, set: PushedConfig, now: number): Promise<ConfigPushRow> {
    return this.db.addConfigPush(deviceId, set, now);
  }

  async pendingConfigPushes(deviceId: string): Promise<ConfigPushRow[]> {
    return this.db.pendingConfigPushes(deviceId);
  }

  async lastConfigAnswer(deviceId: string): Promise<ConfigPushRow | undefined> {
    return this.db.lastConfigAnswer(deviceId);
  }

  async markConfigSent(pushId: number, now: number): Promise<void> {
    this.db.markConfigSent(pushId, now);
  }

  async recordConfigAnswer(deviceId: string, pushId: number, ok: boolean, err: string | undefined, now: number): Promise<boolean> {
    return this.db.recordConfigAnswer(deviceId, pushId, ok, err, now);
  }

  async deleteReadingsBefore(cutoff: number): Promise<number> {
    return this.db.deleteReadingsBefore(cutoff);
  }

  async openWriter(options: WriterOptions): Promise<Writer> {
    if (!options.threaded) return new InlineWriter(this.db);
    if (this.path === ":memory:") throw new Error("a memory database cannot be shared with a writer thread: writer \"inline\"");
    return ThreadWriter.start(this.path, options);
  }

  async joinCluster(node: string, events: ClusterEvents, options: { tokenPollMs: number }): Promise<Cluster> {
    return new LocalCluster(this.db, node, events, options.tokenPollMs);
  }

  async close(): Promise<void> {
    await this.db.stopCheckpointer();
    this.db.close();
  }
}

/** A cluster of one node: claims are local, and token changes by other processes are polled for. */
class LocalCluster implements Cluster {
  readonly node: string;
  #generation = 0;
  #poll: NodeJS.Timeout;
  readonly checkTokenChanges: () => void;

  constructor(db: TelemetryDb, node: string, events: ClusterEvents, pollMs: number) {
    this.node = node;
    let last = db.lastTokenChange();
    this.checkTokenChanges = () => {
      let changes;
      try {
        changes = db.tokenChangesAfter(last);
      } catch {
        return; // busy: next time
      }
      for (const change of changes) {
        last = change.id;
        events.tokenChanged({ device_id: change.device_id, kind: change.kind, version: change.id });
      }
    };
    this.#poll = setInterval(this.checkTokenChanges, pollMs);
    this.#poll.unref();
  }

  async claim(): Promise<number> {
    return ++this.#generation;
  }

  release(): void {}

  onlineElsewhere(): boolean {
    return false;
  }

  configPushed(): void {}

  stored(_deviceId: string, _rows: BatchRows): void {}

  changed(): void {}

  viewing(): void {}

  async close(): Promise<void> {
    clearInterval(this.#poll);
  }
}
