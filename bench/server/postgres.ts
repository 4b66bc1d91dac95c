/*
 * The load benchmark's PostgreSQL (`npm run bench:server -- --store postgres`): a private cluster started for
 * the run (tests/support/postgres.ts) with durability on — fsync and synchronous_commit, so that an ack
 * means on disk as SQLite's synchronous=FULL does — and a database per phase with the bench's devices.
 */
import pg from "pg";
import { hashToken } from "../../server/db";
import { openStore } from "../../server/open-store";
import { PostgresCluster } from "../../tests/support/postgres";
import { deviceId, deviceToken } from "./workload";

export async function startBenchCluster(): Promise<PostgresCluster> {
  return PostgresCluster.start({
    fast: false,
    // Room for the bench's working set and no checkpoint storm within a run; the rest is Debian's default.
    settings: { shared_buffers: "256MB", max_wal_size: "4GB", checkpoint_timeout: "30min" },
  });
}

/** A new database with the schema and `devices` registered (one statement); its URL. */
export async function benchDatabase(cluster: PostgresCluster, devices: number, prefix = "bench"): Promise<string> {
  const url = await cluster.createDatabase(prefix);
  const store = await openStore(url);
  await store.close();
  const client = new pg.Client(url);
  await client.connect();
  try {
    const ids = Array.from({ length: devices }, (_, i) => deviceId(i));
    const hashes = ids.map((_, i) => hashToken(deviceToken(i)));
    await client.query("INSERT INTO devices (id, token_hash, created) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])",
      [ids, hashes, ids.map(() => Date.now())]);
  } finally {
    await client.end();
  }
  return url;
}

/** CPU time of the PostgreSQL server (the postmaster and every backend it forked), ms; Linux /proc. */
export async function postgresCpuMs(postmaster: number): Promise<number> {
  const { readdirSync, readFileSync } = await import("node:fs");
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // ended meanwhile
    }
    // Fields after the command name (which may hold spaces): state ppid … utime(14) stime(15).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pid = Number(entry);
    if (pid === postmaster || Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * tick;
}
