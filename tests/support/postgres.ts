/*
 * A private PostgreSQL cluster for tests and the bench: `initdb` in a temp folder, `pg_ctl` on a free
 * loopback port, as the `postgres` user when this runs as root (the server refuses root), stopped by its
 * PID when done and by an exit hook should the process end first. Uses Debian's `postgresql` package
 * (/usr/lib/postgresql/<version>/bin); `.ci/run` installs it when it is missing.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** The folder of initdb and pg_ctl, newest version first; undefined when PostgreSQL is not installed. */
export function postgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a));
  return versions.length === 0 ? undefined : join(root, versions[0], "bin");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL program, as `postgres` when we are root. */
function run(bin: string, program: string, args: string[]): string {
  const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", join(bin, program), ...args]] : [join(bin, program), args];
  return execFileSync(file, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export interface ClusterOptions {
  /** Durability off (fsync, synchronous_commit): for tests, where a power loss is not what is tested. Default true. */
  fast?: boolean;
  /** More `-c name=value` settings. */
  settings?: Record<string, string | number>;
}

export class PostgresCluster {
  readonly dir: string;
  readonly port: number;
  readonly pid: number;
  #exitHook: () => void;
  #stopped = false;
  #databases = 0;

  private constructor(dir: string, port: number, pid: number) {
    this.dir = dir;
    this.port = port;
    this.pid = pid;
    // Should the process end without stop() (a failed test, Ctrl-C), the server does not outlive it.
    this.#exitHook = () => {
      try {
        process.kill(pid, "SIGQUIT");
      } catch {
        // gone already
      }
    };
    process.once("exit", this.#exitHook);
  }

  static async start(options: ClusterOptions = {}): Promise<PostgresCluster> {
    const bin = postgresBin();
    if (bin === undefined) throw new Error("PostgreSQL is not installed: apt-get install postgresql (.ci/run does it)");
    const dir = mkdtempSync(join(tmpdir(), "thermocast-pg-"));
    if (asRoot) chownSync(dir, uid("postgres"), gid("postgres"));
    const data = join(dir, "data");
    run(bin, "initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"]);
    const port = await freePort();
    const settings: Record<string, string | number> = {
      listen_addresses: "127.0.0.1", port, unix_socket_directories: dir, max_connections: 200,
      ...(options.fast ?? true ? { fsync: "off", synchronous_commit: "off", full_page_writes: "off" } : {}),
      ...options.settings,
    };
    const flags = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(" ");
    run(bin, "pg_ctl", ["-D", data, "-l", join(dir, "log"), "-o", flags, "-w", "-t", "60", "start"]);
    const pid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    return new PostgresCluster(dir, port, pid);
  }

  /** The URL of database `name` (the superuser, trust auth on loopback). */
  url(name = "postgres"): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  /** A new empty database; its URL. */
  async createDatabase(prefix = "t"): Promise<string> {
    const name = `${prefix}_${process.pid}_${++this.#databases}`;
    const client = new pg.Client(this.url());
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** Stops the server (fast shutdown) by its PID, waits until it is gone, removes the folder. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    process.off("exit", this.#exitHook);
    try {
      process.kill(this.pid, "SIGINT");
    } catch {
      // gone already
    }
    const deadline = Date.now() + 30_000;
    while (alive(this.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (alive(this.pid)) process.kill(this.pid, "SIGQUIT");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function uid(user: string): number {
  return Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
}

function gid(user: string): number {
  return Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
}
