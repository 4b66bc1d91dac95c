/*
 * Command line: `tsx server/cli.ts serve | device add|revoke|list`.
 *
 *   serve [--port 8080] [--host 127.0.0.1] [--db ./data/thermocast.db] [--debug]
 *   device add <id> [--token <t>] [--replace] [--db …]   prints the token once
 *   device revoke <id> [--db …]
 *   device list [--db …]
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { TelemetryDb } from "./db";
import { consoleLog } from "./log";
import { DEVICE_ID } from "./protocol";
import { startServer, type RunningServer } from "./server";

export const DEFAULT_DB_PATH = "./data/thermocast.db";

export function openDb(path: string = DEFAULT_DB_PATH): TelemetryDb {
  return new TelemetryDb(path);
}

/** Registers a device and returns its token; see `TelemetryDb.registerDevice` for re-registering. */
export function registerDevice(db: TelemetryDb, id: string, token?: string, options: { replace?: boolean } = {}): string {
  if (!DEVICE_ID.test(id)) throw new Error("a device id is 1 to 32 characters of [A-Za-z0-9_.-]");
  return db.registerDevice(id, token, Date.now(), options.replace ?? false);
}

export function revokeDevice(db: TelemetryDb, id: string): boolean {
  return db.revokeDevice(id);
}

export function listDevices(db: TelemetryDb) {
  return db.devices().map((d) => ({
    id: d.id, revoked: d.revoked === 1, firmware: d.firmware, boot: d.boot, mode: d.mode,
    lastSeen: d.last_seen, readingCount: d.reading_count,
  }));
}

const USAGE = `usage:
  serve [--port 8080] [--host 127.0.0.1] [--db ${DEFAULT_DB_PATH}] [--debug]   (--debug: log every stored batch)
  device add <id> [--token <token>] [--replace] [--db …]
  device revoke <id> [--db …]
  device list [--db …]`;

const OPTIONS = {
  port: { type: "string", default: "8080" },
  host: { type: "string", default: "127.0.0.1" },
  db: { type: "string", default: DEFAULT_DB_PATH },
  token: { type: "string" },
  replace: { type: "boolean", default: false },
  debug: { type: "boolean", default: false },
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

  if (command === "serve") {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("--port must be 0 to 65535");
    const log = consoleLog({ debug: values.debug });
    const server = await startServer({ port, host: values.host, dbPath: values.db, log });
    log({ level: "info", event: "started", db: values.db, dashboard: `${server.url}/`, api: `${server.url}/api/devices`, devices: `${server.wsUrl}/<id>` });
    console.error(`thermocast server
  dashboard  ${server.url}/
  API        ${server.url}/api/devices
  devices    ${server.wsUrl}/<id>   (Authorization: Bearer <token>)
  database   ${values.db}`);
    stopOnSignal(server);
    return 0;
  }

  if (command === "device") {
    const db = openDb(values.db);
    try {
      if (sub === "add" && id !== undefined) {
        const token = registerDevice(db, id, values.token, { replace: values.replace });
        console.log(`device ${id} registered; its token (shown only now):\n${token}`);
        return 0;
      }
      if (sub === "revoke" && id !== undefined) {
        if (revokeDevice(db, id)) {
          console.log(`device ${id} revoked`);
          return 0;
        }
        console.error(`no device ${id}`);
        return 1;
      }
      if (sub === "list") {
        console.table(listDevices(db));
        return 0;
      }
    } finally {
      db.close();
    }
  }

  console.error(USAGE);
  return 2;
}

function stopOnSignal(server: RunningServer): void {
  const stop = () => {
    server.close().then(() => process.exit(0), () => process.exit(1));
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
