/*
 * `npm run bench:server`: the reference server under load, with its two baselines, in one run.
 *
 *   1. SQLite alone (sqlite-only.ts): the same rows through the same statements, grouped commits, no network;
 *      devices in round-robin order (the goal's baseline), then in random order (as under overload).
 *   2. A bare `ws` server that parses each frame and acks it, storing nothing (target.ts, "bare").
 *   3. The thermocast server (target.ts): 10 000 devices connected and said hello, then
 *      a. paced load: every device sends a 60-reading batch every 3 s (200 000 readings/s offered);
 *      b. overload: every device keeps 2 batches in flight, as fast as acks come back.
 *
 * Devices are real WebSocket clients on 127.0.0.1, spread over several processes (client.ts) so that the
 * client side is not the bottleneck. Memory per connection is the server process's RSS growth from
 * before the devices connected to after (both after a GC), divided by the devices.
 *
 *   BENCH_DEVICES=10000 BENCH_CLIENTS=4 BENCH_SCALE=1 npm run bench:server   (BENCH_SCALE scales every phase's duration)
 *   BENCH_WRITER=inline (commits on the event loop instead of the writer thread), BENCH_COMMIT_INTERVAL_MS=N
 *
 * `npm run bench:server -- --store postgres` (issue 16) runs instead, in one run, on a private PostgreSQL
 * cluster (postgres.ts, durability on): PostgreSQL alone storing the same rows through the server's writer
 * with 1, 2 and 4 writers (its ceiling here), then one node and two nodes on one database, and the SQLite
 * server, each paced at BENCH_RATE (default 100 000 readings/s) and overloaded, with ack p50/p99 and the
 * ratios between them. BENCH_PHASES=alone,one,two,sqlite (the default) picks phases. Figures and what
 * changed run to run: docs/scale.md ("Measured"; run 4: the integer device key, no time index, 3 writers).
 *
 * Every phase also says where the time went: CPU of the server process (all threads), of its event loop, of
 * the writer's transactions, of the clients and of every other process on the machine (/proc/stat), and
 * how late the event loops ran; the numbers are only comparable between runs on an equally quiet machine.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { DEFAULT_MAX_GROUP_ROWS as MAX_GROUP_ROWS } from "../../server/commit";
import type { PostgresCluster } from "../../tests/support/postgres";
import { benchDatabase, postgresCpuMs, startBenchCluster } from "./postgres";
import { percentile } from "./workload";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const STORE = (() => {
  const i = process.argv.indexOf("--store");
  return i < 0 ? "sqlite" : process.argv[i + 1];
})();
/** `--store postgres`: the phases to run (BENCH_PHASES=alone,one,two,sqlite, the default: all). */
const PHASES = new Set((process.env.BENCH_PHASES ?? "alone,one,two,sqlite").split(","));
const OFFERED_READINGS_PER_S = Number(process.env.BENCH_RATE ?? (STORE === "postgres" ? 100000 : 200000));
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** A child process spoken to over IPC, one request at a time; the open-files limit raised to the hard one. */
class Process {
  readonly child: ChildProcess;
  #waiting: ((message: unknown) => void)[] = [];

  constructor(file: string, args: string[] = [], stdout: "inherit" | "pipe" = "inherit", node: string[] = []) {
    this.child = spawn("sh", ["-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', "sh",
      process.execPath, "--expose-gc", ...node, "--import", "tsx", file, ...args], { stdio: ["ignore", stdout, "inherit", "ipc"] });
    this.child.on("message", (message) => this.#waiting.shift()?.(message));
  }

  next<T>(): Promise<T> {
    return new Promise((resolve) => this.#waiting.push(resolve as (message: unknown) => void));
  }

  request<T>(message: object): Promise<T> {
    const answer = this.next<T>();
    this.child.send(message);
    return answer;
  }

  exited(): Promise<void> {
    return new Promise((resolve) => (this.child.exitCode !== null ? resolve() : this.child.once("exit", () => resolve())));
  }
}

interface Memory { rss: number; heapUsed: number }
interface Stats {
  walBytes?: number; rows: number; groups: number; maxGroupRows: number; maxCommitMs: number; commitMs: number; maxQueuedRows: number;
  pauses: number; connections: number; frames?: number;
  cpuMs: number; loopBusyMs: number; loopDelayP99: number; loopDelayMax: number; commitWaitP50: number; commitWaitP99: number;
}
interface RunResult { sent: number; acked: number; ackedRows: number; seconds: number; latencies: string; unacked: number; errors: number; closes: number; cpuMs: number; loopDelayP99: number; loopDelayMax: number }

/** The machine's busy and total CPU time so far, in clock ticks (Linux /proc/stat); undefined elsewhere. */
function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
    return { busy: user + nice + system + irq + softirq + steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n: number, digits = 0) => Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "—";

async function sqliteAlone(order: "round-robin" | "random"): Promise<{ rowsPerSecond: number; groupRows: number; maxCommitMs: number; machineCpu: number }> {
  const machine0 = machineCpu();
  const proc = new Process(here("./sqlite-only.ts"), [String(DEVICES), String(8000 * SCALE), String(MAX_GROUP_ROWS), order], "pipe");
  let out = "";
  proc.child.stdout!.on("data", (chunk) => (out += chunk));
  await proc.exited();
  const machine1 = machineCpu();
  const machine = machine0 && machine1 ? (100 * cpus().length * (machine1.busy - machine0.busy)) / (machine1.total - machine0.total) : NaN;
  return { ...JSON.parse(out.trim().split("\n").at(-1)!), machineCpu: machine };
}

/** Client processes, each connecting its share of the devices; client i to `ports[i % ports.length]`. */
async function startClients(ports: number | number[]): Promise<Process[]> {
  const to = Array.isArray(ports) ? ports : [ports];
  const clients = Array.from({ length: CLIENTS }, () => new Process(here("./client.ts")));
  await Promise.all(clients.map((c) => c.next()));
  const per = Math.ceil(DEVICES / CLIENTS);
  const results = await Promise.all(clients.map((c, i) => c.request<{ connected: number; failed: number; ms: number }>({
    cmd: "connect", url: `ws://127.0.0.1:${to[i % to.length]}/v1/device`, from: i * per, count: Math.min(per, DEVICES - i * per),
  })));
  const connected = results.reduce((n, r) => n + r.connected, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const ms = Math.max(...results.map((r) => r.ms));
  console.log(`  ${fmt(connected)} devices connected and welcomed in ${fmt(ms / 1000, 1)} s${failed ? ` (${failed} failed)` : ""}`);
  return clients;
}

/** The stats of several server processes as one: sums, and the worst of each bound or delay. */
function merged(all: Stats[]): Stats {
  const sum = (f: (s: Stats) => number) => all.reduce((n, s) => n + f(s), 0);
  const max = (f: (s: Stats) => number) => Math.max(...all.map(f));
  return {
    walBytes: sum((s) => s.walBytes ?? 0), rows: sum((s) => s.rows), groups: sum((s) => s.groups), maxGroupRows: max((s) => s.maxGroupRows),
    maxCommitMs: max((s) => s.maxCommitMs), commitMs: sum((s) => s.commitMs), maxQueuedRows: max((s) => s.maxQueuedRows),
    pauses: sum((s) => s.pauses), connections: sum((s) => s.connections), frames: sum((s) => s.frames ?? 0),
    cpuMs: sum((s) => s.cpuMs), loopBusyMs: sum((s) => s.loopBusyMs), loopDelayP99: max((s) => s.loopDelayP99), loopDelayMax: max((s) => s.loopDelayMax),
    commitWaitP50: max((s) => s.commitWaitP50), commitWaitP99: max((s) => s.commitWaitP99),
  };
}

/** A base64 text of Float64 values, decoded from a copy: a small Buffer is a view into Node's shared pool. */
function float64s(base64: string): Float64Array {
  const bytes = Buffer.from(base64, "base64");
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

async function load(targets: Process | Process[], clients: Process[], run: { durationMs: number; warmupMs: number; [field: string]: unknown }, postmaster?: number) {
  const servers = Array.isArray(targets) ? targets : [targets];
  const stats = async () => merged(await Promise.all(servers.map((t) => t.request<Stats>({ cmd: "stats" }))));
  const results = Promise.all(clients.map((c) => c.request<RunResult>({ cmd: "run", ...run })));
  await sleep(run.warmupMs);
  const before = await stats();
  const machine0 = machineCpu();
  const pg0 = postmaster === undefined ? 0 : await postgresCpuMs(postmaster);
  const t0 = performance.now();
  await sleep(run.durationMs - run.warmupMs);
  const after = await stats();
  const machine1 = machineCpu();
  const pg1 = postmaster === undefined ? 0 : await postgresCpuMs(postmaster);
  const seconds = (performance.now() - t0) / 1000;
  const done = await results;
  const latencies = Float64Array.from(done.flatMap((r) => [...float64s(r.latencies)])).sort();
  const ackedRows = done.reduce((n, r) => n + r.ackedRows, 0);
  const measured = done[0].seconds;
  return {
    storedPerSecond: (after.rows - before.rows) / seconds,
    framesPerSecond: ((after.frames ?? 0) - (before.frames ?? 0)) / seconds,
    ackedPerSecond: ackedRows / measured,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.length ? latencies[latencies.length - 1] : NaN,
    acks: latencies.length,
    groups: after.groups - before.groups,
    // Where the time went, in % of one core: the server process (all its threads), its event loop, the
    // writer's transactions (inside the writer thread, or on the event loop for an inline writer), clients.
    serverCpu: (100 * (after.cpuMs - before.cpuMs)) / (seconds * 1000),
    loopBusy: (100 * (after.loopBusyMs - before.loopBusyMs)) / (seconds * 1000),
    inCommits: (100 * (after.commitMs - before.commitMs)) / (seconds * 1000),
    clientCpu: (100 * done.reduce((n, r) => n + r.cpuMs, 0)) / run.durationMs,
    postgresCpu: postmaster === undefined ? NaN : (100 * (pg1 - pg0)) / (seconds * 1000),
    // All processes on the machine, in % of one core: what is not the server's or the clients' is others'.
    machineCpu: machine0 && machine1 ? (100 * cpus().length * (machine1.busy - machine0.busy)) / (machine1.total - machine0.total) : NaN,
    clientLoopDelayP99: Math.max(...done.map((r) => r.loopDelayP99)),
    clientLoopDelayMax: Math.max(...done.map((r) => r.loopDelayMax)),
    rowsPerGroup: (after.rows - before.rows) / Math.max(1, after.groups - before.groups),
    after,
    errors: done.reduce((n, r) => n + r.errors, 0),
    closes: done.reduce((n, r) => n + r.closes, 0),
    unacked: done.reduce((n, r) => n + r.unacked, 0),
  };
}

function whereTimeGoes(r: Awaited<ReturnType<typeof load>>): string {
  const pg = Number.isFinite(r.postgresCpu);
  return `     commit queue, from a write queued to its answer: p50 ${fmt(r.after.commitWaitP50, 1)} ms, p99 ${fmt(r.after.commitWaitP99, 1)} ms\n` +
    `     CPU, % of one core (${cpus().length} cores): server ${fmt(r.serverCpu)} (event loop busy ${fmt(r.loopBusy)}, writer in transactions ${fmt(r.inCommits)}), ` +
    `clients ${fmt(r.clientCpu)}, ${pg ? `PostgreSQL ${fmt(r.postgresCpu)}, ` : ""}other processes ${fmt(r.machineCpu - r.serverCpu - r.clientCpu - (pg ? r.postgresCpu : 0))}; event-loop delay p99/max: server ${fmt(r.after.loopDelayP99, 1)}/${fmt(r.after.loopDelayMax, 1)} ms, ` +
    `clients ${fmt(r.clientLoopDelayP99, 1)}/${fmt(r.clientLoopDelayMax, 1)} ms`;
}

async function stop(target: Process, clients: Process[]) {
  await Promise.all(clients.map((c) => c.request({ cmd: "close" })));
  await Promise.all(clients.map((c) => c.exited()));
  await target.request({ cmd: "stop" });
  await target.exited();
}

async function main() {
  const began = performance.now();
  console.log(`thermocast server load benchmark: ${fmt(DEVICES)} devices in ${CLIENTS} client processes, 60-reading batches, ` +
    `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, Node ${process.version}\n`);

  console.log("1. SQLite alone (same schema and statements, WAL, synchronous=FULL, grouped commits)");
  const sqlite = await sqliteAlone("round-robin");
  console.log(`  ${fmt(sqlite.rowsPerSecond)} rows/s in groups of ${fmt(sqlite.groupRows)} rows (longest commit ${fmt(sqlite.maxCommitMs, 1)} ms); ` +
    `the machine was busy ${fmt(sqlite.machineCpu)}% of one core meanwhile (this process included)`);
  // Under overload batches reach the server in no order of device: each dirties pages of its own.
  const sqliteRandom = await sqliteAlone("random");
  console.log(`  ${fmt(sqliteRandom.rowsPerSecond)} rows/s with the devices in random order, as batches reach a server under overload ` +
    `(longest commit ${fmt(sqliteRandom.maxCommitMs, 1)} ms; machine busy ${fmt(sqliteRandom.machineCpu)}%)\n`);

  console.log("2. bare ws server: parses and acks each batch, stores nothing");
  let target = new Process(here("./target.ts"));
  await target.next();
  let { port } = await target.request<{ port: number }>({ cmd: "start", mode: "bare", devices: DEVICES });
  let memory0 = await target.request<Memory>({ cmd: "memory" });
  let clients = await startClients(port);
  let memory1 = await target.request<Memory>({ cmd: "memory" });
  const bareMemory = (memory1.rss - memory0.rss) / DEVICES;
  console.log(`  memory ${fmt(bareMemory / 1024, 1)} KB per connection (RSS), ${fmt((memory1.heapUsed - memory0.heapUsed) / DEVICES / 1024, 1)} KB of it JS heap`);
  const bare = await load(target, clients, { kind: "closed", window: 2, durationMs: 8000 * SCALE, warmupMs: 2000 * SCALE });
  console.log(`  ${fmt(bare.ackedPerSecond)} readings/s acked (${fmt(bare.framesPerSecond)} frames/s); ack p50 ${fmt(bare.p50, 1)} ms, p99 ${fmt(bare.p99, 1)} ms\n`);
  await stop(target, clients);

  console.log(`3. thermocast server (SQLite file, WAL, synchronous=FULL, group commit on ${process.env.BENCH_WRITER === "inline" ? "the event loop" : "the writer thread"}, auth, limits)`);
  // BENCH_PROFILE=DIR: a V8 CPU profile of the server process, for Chrome DevTools.
  target = new Process(here("./target.ts"), [], "inherit", process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []);
  await target.next();
  ({ port } = await target.request<{ port: number }>({ cmd: "start", mode: "thermocast", devices: DEVICES }));
  memory0 = await target.request<Memory>({ cmd: "memory" });
  clients = await startClients(port);
  memory1 = await target.request<Memory>({ cmd: "memory" });
  const held = (await target.request<Stats>({ cmd: "stats" })).connections;
  const perConnection = (memory1.rss - memory0.rss) / DEVICES;
  console.log(`  ${fmt(held)} concurrent devices held; memory ${fmt(perConnection / 1024, 1)} KB per connection (RSS), ${fmt((memory1.heapUsed - memory0.heapUsed) / DEVICES / 1024, 1)} KB of it JS heap`);

  const periodMs = Math.round((DEVICES * 60 * 1000) / OFFERED_READINGS_PER_S);
  console.log(`  a. paced: a batch per device every ${fmt(periodMs / 1000, 1)} s (${fmt((DEVICES * 60 * 1000) / periodMs)} readings/s offered)`);
  const paced = await load(target, clients, { kind: "paced", periodMs, durationMs: 12000 * SCALE, warmupMs: 4000 * SCALE });
  console.log(`     ${fmt(paced.storedPerSecond)} readings/s stored; ack p50 ${fmt(paced.p50, 1)} ms, p99 ${fmt(paced.p99, 1)} ms, max ${fmt(paced.max, 1)} ms ` +
    `(${fmt(paced.acks)} acks); ${fmt(paced.rowsPerGroup)} rows per commit group, longest commit ${fmt(paced.after.maxCommitMs, 1)} ms; WAL ${fmt((paced.after.walBytes ?? 0) / 1048576)} MB`);
  console.log(whereTimeGoes(paced));

  console.log("  b. overload: 2 batches in flight per device, sent as fast as acks return");
  const overload = await load(target, clients, { kind: "closed", window: 2, durationMs: 10000 * SCALE, warmupMs: 2000 * SCALE });
  const s = overload.after;
  console.log(`     ${fmt(overload.storedPerSecond)} readings/s stored (${fmt((100 * overload.storedPerSecond) / sqlite.rowsPerSecond)}% of SQLite alone, ` +
    `${fmt((100 * overload.storedPerSecond) / sqliteRandom.rowsPerSecond)}% of it in random device order); ` +
    `ack p50 ${fmt(overload.p50, 1)} ms, p99 ${fmt(overload.p99, 1)} ms (queueing: ${fmt(DEVICES * 2)} batches in flight)`);
  console.log(`     commit groups: ${fmt(overload.rowsPerGroup)} rows on average, at most ${fmt(s.maxGroupRows)} (bound ${fmt(MAX_GROUP_ROWS)}); longest commit ${fmt(s.maxCommitMs, 1)} ms; ` +
    `queue peaked at ${fmt(s.maxQueuedRows)} rows; connections held back ${fmt(s.pauses)} times by back-pressure; WAL ${fmt((s.walBytes ?? 0) / 1048576)} MB`);
  console.log(whereTimeGoes(overload));
  if (paced.errors + overload.errors + paced.closes + overload.closes + overload.unacked > 0)
    console.log(`     errors ${paced.errors + overload.errors}, closes ${paced.closes + overload.closes}, unacked at the end ${overload.unacked}`);
  await stop(target, clients);

  const goals: [string, boolean][] = [
    [`${fmt(held)} devices held (goal 10 000)`, held >= 10000],
    [`${fmt(perConnection / 1024, 1)} KB per connection (goal < 10)`, perConnection < 10 * 1024],
    [`${fmt(paced.storedPerSecond)} readings/s stored at p99 ack ${fmt(paced.p99, 1)} ms (goal ≥ 200 000 at < 50 ms)`, paced.storedPerSecond >= 0.98 * 200000 && paced.p99 < 50],
    // The ceiling is SQLite alone storing the same rows in the order they reach the server under overload
    // (devices at random); in device order (neighbours share B-tree pages) SQLite goes faster than any
    // arrival order allows, and that ratio is printed beside it.
    [`ceiling ${fmt(overload.storedPerSecond)} readings/s = ${fmt((100 * overload.storedPerSecond) / sqliteRandom.rowsPerSecond)}% of SQLite alone in arrival order (goal ≥ 70%); ` +
      `${fmt((100 * overload.storedPerSecond) / sqlite.rowsPerSecond)}% of it in device order`, overload.storedPerSecond >= 0.7 * sqliteRandom.rowsPerSecond],
    [`overload: longest commit ${fmt(s.maxCommitMs, 1)} ms, groups ≤ ${fmt(s.maxGroupRows)} rows (goal: bounded, no multi-second stall)`, s.maxCommitMs < 1000 && s.maxGroupRows <= MAX_GROUP_ROWS],
  ];
  console.log("\nsummary");
  for (const [text, ok] of goals) console.log(`  ${ok ? "ok  " : "MISS"} ${text}`);
  console.log(`  baselines: bare ws ${fmt(bare.ackedPerSecond)} readings/s at ${fmt(bareMemory / 1024, 1)} KB per connection; SQLite alone ${fmt(sqlite.rowsPerSecond)} rows/s ` +
    `(${fmt(sqliteRandom.rowsPerSecond)} in random device order)`);
  console.log(`  (${fmt((performance.now() - began) / 1000)} s)`);
}

/** PostgreSQL alone: the server's statements with no server, `writers` transactions at once. */
async function postgresAlone(cluster: PostgresCluster, writers: number) {
  const url = await benchDatabase(cluster, DEVICES, `alone${writers}`);
  const machine0 = machineCpu();
  const pg0 = await postgresCpuMs(cluster.pid);
  const t0 = performance.now();
  const proc = new Process(here("./pg-only.ts"), [url, String(DEVICES), String(8000 * SCALE), String(MAX_GROUP_ROWS), String(writers)], "pipe");
  let out = "";
  proc.child.stdout!.on("data", (chunk) => (out += chunk));
  await proc.exited();
  const seconds = (performance.now() - t0) / 1000;
  const pg1 = await postgresCpuMs(cluster.pid);
  const machine1 = machineCpu();
  const machine = machine0 && machine1 ? (100 * cpus().length * (machine1.busy - machine0.busy)) / (machine1.total - machine0.total) : NaN;
  const result = JSON.parse(out.trim().split("\n").at(-1)!) as { rowsPerSecond: number; groupRows: number; maxCommitMs: number };
  return { ...result, machineCpu: machine, postgresCpu: (100 * (pg1 - pg0)) / (seconds * 1000) };
}

type Phase = { name: string; nodes: number; held: number; perConnection: number; paced: Awaited<ReturnType<typeof load>>; overload: Awaited<ReturnType<typeof load>> };

/** One configuration of servers (1 or 2 nodes on PostgreSQL, or the SQLite server): paced, then overload. */
async function serverPhase(name: string, dbs: (string | undefined)[], postmaster?: number): Promise<Phase> {
  console.log(name);
  const targets = dbs.map(() => new Process(here("./target.ts")));
  await Promise.all(targets.map((t) => t.next()));
  const ports: number[] = [];
  for (let i = 0; i < targets.length; i++)
    ports.push((await targets[i].request<{ port: number }>({ cmd: "start", mode: "thermocast", devices: DEVICES, db: dbs[i], node: `bench-${i}` })).port);
  const memory0 = await Promise.all(targets.map((t) => t.request<Memory>({ cmd: "memory" })));
  const clients = await startClients(ports);
  const memory1 = await Promise.all(targets.map((t) => t.request<Memory>({ cmd: "memory" })));
  const held = merged(await Promise.all(targets.map((t) => t.request<Stats>({ cmd: "stats" })))).connections;
  const perConnection = memory1.reduce((n, m, i) => n + m.rss - memory0[i].rss, 0) / DEVICES;
  console.log(`  ${fmt(held)} devices held over ${targets.length} node(s); memory ${fmt(perConnection / 1024, 1)} KB per connection (RSS, all nodes)`);
  const periodMs = Math.round((DEVICES * 60 * 1000) / OFFERED_READINGS_PER_S);
  const paced = await load(targets, clients, { kind: "paced", periodMs, durationMs: 12000 * SCALE, warmupMs: 4000 * SCALE }, postmaster);
  console.log(`  a. paced, ${fmt((DEVICES * 60 * 1000) / periodMs)} readings/s offered: ${fmt(paced.storedPerSecond)} readings/s stored; ` +
    (paced.acks === 0 ? `no batch sent in the window was acked within it (acks later than ${fmt((8000 * SCALE) / 1000)} s: the offered rate is over what this machine stores)`
      : `ack p50 ${fmt(paced.p50, 1)} ms, p99 ${fmt(paced.p99, 1)} ms, max ${fmt(paced.max, 1)} ms (${fmt(paced.acks)} acks)`) + `; ${fmt(paced.rowsPerGroup)} rows per commit group`);
  console.log(whereTimeGoes(paced));
  const overload = await load(targets, clients, { kind: "closed", window: 2, durationMs: 10000 * SCALE, warmupMs: 2000 * SCALE }, postmaster);
  console.log(`  b. overload, 2 batches in flight per device: ${fmt(overload.storedPerSecond)} readings/s stored; ack p50 ${fmt(overload.p50, 1)} ms, ` +
    `p99 ${fmt(overload.p99, 1)} ms; ${fmt(overload.rowsPerGroup)} rows per commit group, longest commit ${fmt(overload.after.maxCommitMs, 1)} ms`);
  console.log(whereTimeGoes(overload));
  const trouble = paced.errors + overload.errors + paced.closes + overload.closes + overload.unacked;
  if (trouble > 0) console.log(`  errors ${paced.errors + overload.errors}, closes ${paced.closes + overload.closes}, unacked at the end ${overload.unacked}`);
  console.log("");
  await Promise.all(clients.map((c) => c.request({ cmd: "close" })));
  await Promise.all(clients.map((c) => c.exited()));
  await Promise.all(targets.map(async (t) => {
    await t.request({ cmd: "stop" });
    await t.exited();
  }));
  return { name, nodes: targets.length, held, perConnection, paced, overload };
}

async function mainPostgres() {
  const began = performance.now();
  console.log(`thermocast server load benchmark on PostgreSQL: ${fmt(DEVICES)} devices in ${CLIENTS} client processes, 60-reading batches, ` +
    `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, Node ${process.version}`);
  const cluster = await startBenchCluster();
  try {
    const version = await (async () => {
      const pg = (await import("pg")).default;
      const client = new pg.Client(cluster.url());
      await client.connect();
      try {
        return (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v;
      } finally {
        await client.end();
      }
    })();
    console.log(`PostgreSQL ${version}, a private cluster on 127.0.0.1:${cluster.port}: fsync and synchronous_commit on (an ack means on disk), ` +
      `shared_buffers 256MB; it shares the ${cpus().length} cores with the nodes and the clients\n`);

    // 1, 2 and 4 transactions at once (a node's default is 3: server/postgres.ts).
    const alone = [1, 2, 4].map(() => ({ rowsPerSecond: NaN }));
    if (PHASES.has("alone")) {
      console.log("1. PostgreSQL alone: the server's writer (PostgresWriter: COPY straight into the day's partition, counts), groups of " +
        `${fmt(Math.floor(MAX_GROUP_ROWS / 60) * 60)} rows, devices in a shuffled round (each once per round), no server`);
      for (const [i, writers] of [1, 2, 4].entries()) {
        const a = await postgresAlone(cluster, writers);
        console.log(`  ${writers} writer${writers > 1 ? "s" : " "}: ${fmt(a.rowsPerSecond)} rows/s (longest commit ${fmt(a.maxCommitMs, 1)} ms; PostgreSQL ${fmt(a.postgresCpu)}% of a core, machine ${fmt(a.machineCpu)}%)`);
        alone[i] = a;
      }
      console.log("");
    }
    const ceiling = Math.max(...alone.map((a) => a.rowsPerSecond));

    const none = { storedPerSecond: NaN, p50: NaN, p99: NaN };
    const missing = (name: string, nodes: number) => ({ name, nodes, paced: none, overload: none });
    const one = PHASES.has("one") ? await serverPhase("2. one node on PostgreSQL", [await benchDatabase(cluster, DEVICES, "one")], cluster.pid)
      : missing("2. one node on PostgreSQL", 1);
    const db = PHASES.has("two") ? await benchDatabase(cluster, DEVICES, "two") : "";
    const two = PHASES.has("two") ? await serverPhase("3. two nodes on one PostgreSQL (half the client processes on each)", [db, db], cluster.pid)
      : missing("3. two nodes on one PostgreSQL (half the client processes on each)", 2);
    const sqlite = PHASES.has("sqlite") ? await serverPhase("4. the SQLite server (one node, its default store)", [undefined])
      : missing("4. the SQLite server (one node, its default store)", 1);

    const goal = 100000;
    const met = (p: { paced: { storedPerSecond: number; p99: number } }) => p.paced.storedPerSecond >= 0.98 * goal && p.paced.p99 < 100;
    console.log("summary (readings/s stored; ack p50/p99)");
    for (const p of [one, two, sqlite]) {
      console.log(`  ${p.name.replace(/^\d\. /, "").padEnd(68)} paced ${fmt(p.paced.storedPerSecond)} (p50 ${fmt(p.paced.p50, 1)} / p99 ${fmt(p.paced.p99, 1)} ms); ` +
        `ceiling ${fmt(p.overload.storedPerSecond)} (p50 ${fmt(p.overload.p50, 1)} / p99 ${fmt(p.overload.p99, 1)} ms)`);
    }
    console.log(`  PostgreSQL alone: ${fmt(alone[0].rowsPerSecond)} rows/s with 1 writer, ${fmt(alone[1].rowsPerSecond)} with 2, ${fmt(alone[2].rowsPerSecond)} with 4`);
    console.log("ratios");
    console.log(`  one node's ceiling / PostgreSQL alone: ${fmt((100 * one.overload.storedPerSecond) / ceiling)}%; two nodes' / PostgreSQL alone: ${fmt((100 * two.overload.storedPerSecond) / ceiling)}%`);
    console.log(`  two nodes / one node: ${fmt(two.overload.storedPerSecond / one.overload.storedPerSecond, 2)}× at the ceiling, ${fmt(two.paced.storedPerSecond / one.paced.storedPerSecond, 2)}× paced ` +
      `(one machine: the nodes, PostgreSQL and the clients share its ${cpus().length} cores; see the CPU lines)`);
    console.log(`  PostgreSQL (best of one and two nodes) / SQLite server at the ceiling: ${fmt(Math.max(one.overload.storedPerSecond, two.overload.storedPerSecond) / sqlite.overload.storedPerSecond, 2)}×`);
    console.log("goal: ≥ 100 000 readings/s stored through PostgreSQL with ack p99 < 100 ms at that rate");
    for (const p of [one, two])
      console.log(`  ${met(p) ? "met " : "MISS"} ${p.nodes} node(s): ${fmt(p.paced.storedPerSecond)} readings/s at p99 ${fmt(p.paced.p99, 1)} ms = ` +
        `${fmt((100 * p.paced.storedPerSecond) / goal)}% of the goal's rate; ${fmt((100 * p.paced.storedPerSecond) / ceiling)}% of PostgreSQL alone`);
    console.log(`  (${fmt((performance.now() - began) / 1000)} s)`);
  } finally {
    await cluster.stop();
  }
}

if (STORE === "postgres") await mainPostgres();
else if (STORE === "sqlite") await main();
else throw new Error(`--store sqlite | postgres, not ${STORE}`);
