/*
 * Command line: `tsx server/cli.ts serve | device add|revoke|list | retention`.
 *
 *   serve [--port 8080] [--host 127.0.0.1] [--db ./data/thermocast.db | postgres://…] [--node NAME] [--debug]
 *         [--admin-token T] [--cert cert.pem --key key.pem] [--max-connections-per-address 1000]
 *         [--batches-per-minute 120]
 *
 * `--db` is a SQLite file (the default) or a PostgreSQL URL; without `--db`, DATABASE_URL is used if set.
 *   device add <id> [--token <t>] [--replace] [--db …]   prints the token once
 *   device revoke <id> [--db …]                         a running server drops the device within a second
 *   device list [--db …]
 *   retention --days N [--db …]                         deletes readings dated more than N days ago
 */
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { TelemetryDb } from "./db";
import { consoleLog } from "./log";
import { DEVICE_ID } from "./protocol";
import { startServer, type RunningServer } from "./server";
import { openStore } from "./open-store";
import type { Store } from "./store";

export const DEFAULT_DB_PATH = "./data/thermocast.db";

/** The database for a one-shot command: no checkpointer thread (SQLite checkpoints as usual). */
export function openDb(path: string = DEFAULT_DB_PATH): TelemetryDb {
  return new TelemetryDb(path, { checkpoints: "here" });
}

/** Registers a device and returns its token; see `TelemetryDb.registerDevice` for re-registering. */
export function registerDevice(db: TelemetryDb, id: string, token?: string, options: { replace?: boolean } = {}): string {
  if (!DEVICE_ID.test(id)) throw new Error("a device id is 1 to 32 characters of [A-Za-z0-9_.-], not . or ..");
  return db.registerDevice(id, token, Date.now(), options.replace ?? false);
}

export function revokeDevice(db: TelemetryDb, id: string): boolean {
  return db.revokeDevice(id);
}

export function listDevices(db: TelemetryDb | Awaited<ReturnType<Store["devices"]>>) {
  return (Array.isArray(db) ? db : db.devices()).map((d) => ({
    id: d.id, revoked: d.revoked === 1, firmware: d.firmware, boot: d.boot, mode: d.mode,
    lastSeen: d.last_seen, readingCount: d.reading_count,
  }));
}

const USAGE = `usage:
  serve [--port 8080] [--host 127.0.0.1] [--db ${DEFAULT_DB_PATH} | postgres://…] [--debug]   (--debug: log every stored batch)
        [--node <name>]   (this node's name among the nodes on one PostgreSQL database)
        [--admin-token <token>]   (or THERMOCAST_ADMIN_TOKEN; without either, one is made and logged)
        [--cert <cert.pem> --key <key.pem>]   (https:// and wss://)
        [--max-connections-per-address 1000] [--batches-per-minute 120]   (0: no limit)
  device add <id> [--token <token>] [--replace] [--db …]
  device revoke <id> [--db …]
  device list [--db …]
  retention --days <N> [--db …]   (deletes readings dated more than N days ago)
--db is a SQLite file or a postgres:// URL; without it, DATABASE_URL if set, else ${DEFAULT_DB_PATH}.`;

const OPTIONS = {
  port: { type: "string", default: "8080" },
  host: { type: "string", default: "127.0.0.1" },
  db: { type: "string" },
  node: { type: "string" },
  token: { type: "string" },
  replace: { type: "boolean", default: false },
  debug: { type: "boolean", default: false },
  "admin-token": { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  "max-connections-per-address": { type: "string", default: "1000" },
  "batches-per-minute": { type: "string", default: "120" },
  days: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : e}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, sub, id] = positionals;
  const database = values.db ?? (process.env.DATABASE_URL || DEFAULT_DB_PATH);

  if (command === "serve") {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("--port must be 0 to 65535");
    if ((values.cert === undefined) !== (values.key === undefined)) throw new Error("--cert and --key go together");
    const log = consoleLog({ debug: values.debug });
    const server = await startServer({
      port, host: values.host, dbPath: database, node: values.node, log,
      adminToken: values["admin-token"],
      tls: values.cert === undefined ? undefined : { cert: readFileSync(values.cert), key: readFileSync(values.key!) },
      maxConnectionsPerAddress: count(values["max-connections-per-address"], "--max-connections-per-address"),
      batchesPerMinute: count(values["batches-per-minute"], "--batches-per-minute"),
    });
    const shown = redactUrl(database);
    log({ level: "info", event: "started", db: shown, node: server.node, dashboard: `${server.url}/`, api: `${server.url}/api/devices`, devices: `${server.wsUrl}/<id>` });
    console.error(`thermocast server
  dashboard  ${server.url}/   (log in with the admin token: ${server.loginUrl})
  API        ${server.url}/api/devices   (Authorization: Bearer <admin token>)
  devices    ${server.wsUrl}/<id>   (Authorization: Bearer <device token>)
  database   ${shown}`);
    stopOnSignal(server, log);
    return 0;
  }

  if (command === "retention") {
    const days = Number(values.days);
    if (values.days === undefined || !Number.isFinite(days) || days < 0) throw new Error("retention needs --days N (N ≥ 0)");
    const store = await openStore(database, { checkpoints: "here" });
    try {
      const cutoff = Date.now() - days * 86_400_000;
      const deleted = await store.deleteReadingsBefore(cutoff);
      console.log(`deleted ${deleted} reading(s) dated before ${new Date(cutoff).toISOString()}`);
      return 0;
    } finally {
      await store.close();
    }
  }

  if (command === "device") {
    const store = await openStore(database, { checkpoints: "here" });
    try {
      if (sub === "add" && id !== undefined) {
        if (!DEVICE_ID.test(id)) throw new Error("a device id is 1 to 32 characters of [A-Za-z0-9_.-], not . or ..");
        const token = await store.registerDevice(id, values.token, Date.now(), values.replace);
        console.log(`device ${id} registered; its token (shown only now):\n${token}`);
        return 0;
      }
      if (sub === "revoke" && id !== undefined) {
        if (await store.revokeDevice(id)) {
          console.log(`device ${id} revoked`);
          return 0;
        }
        console.error(`no device ${id}`);
        return 1;
      }
      if (sub === "list") {
        console.table(listDevices(await store.devices()));
        return 0;
      }
    } finally {
      await store.close();
    }
  }

  console.error(USAGE);
  return 2;
}

/** The URL without its password, for logs. */
function redactUrl(db: string): string {
  return db.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}

function count(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number ≥ 0`);
  return value;
}

/** SIGTERM/SIGINT: stop reading, commit and ack what was read, close connections (1001), close the database. */
function stopOnSignal(server: RunningServer, log: ReturnType<typeof consoleLog>): void {
  const stop = (signal: string) => {
    log({ level: "info", event: "stopping", signal });
    server.close().then(
      () => {
        log({ level: "info", event: "stopped" });
        process.exit(0);
      },
      (e: unknown) => {
        log({ level: "error", event: "stop-failed", msg: String(e) });
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

// Run only when executed, not when the simulator imports the functions above.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => { if (code !== 0) process.exitCode = code; },
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 1;
    },
  );
}
