/*
 * The server side of the load benchmark, in a process of its own (so its memory and CPU are its own):
 * either the thermocast server (real SQLite file, or a node on a PostgreSQL database whose devices load.ts
 * registered, group commit, every check on) or, as a baseline, a bare
 * `ws` server that parses each frame and acks it without storing anything. Driven over IPC by load.ts.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { WebSocketServer } from "ws";
import { startServer, type RunningServer } from "../../server/server";
import { deviceId, deviceToken } from "./workload";

type Command =
  | { cmd: "start"; mode: "thermocast" | "bare"; devices: number; db?: string; node?: string }
  | { cmd: "memory" }
  | { cmd: "stats" }
  | { cmd: "stop" };

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const reply = (message: object) => process.send!(message);

let server: RunningServer | undefined;
let bare: WebSocketServer | undefined;
let frames = 0;
let work: string | undefined;
// How late the event loop runs (its turns' blocking), between two `stats` requests.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

/** CPU of the whole process (every thread) and busy time of the event loop, ms since start. */
function cpu() {
  const { user, system } = process.cpuUsage();
  return {
    cpuMs: (user + system) / 1000,
    loopBusyMs: performance.eventLoopUtilization().active,
    loopDelayP99: loopDelay.percentile(99) / 1e6,
    loopDelayMax: loopDelay.max / 1e6,
  };
}

process.on("message", async (command: Command) => {
  switch (command.cmd) {
    case "start": {
      if (command.mode === "bare") {
        bare = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false, maxPayload: 16384 });
        await new Promise((resolve) => bare!.once("listening", resolve));
        bare.on("connection", (ws) => {
          ws.on("message", (data) => {
            const frame = JSON.parse(data.toString()) as { t: string; s?: number };
            frames++;
            if (frame.t === "b") ws.send(`{"t":"ack","s":${frame.s}}`);
            else if (frame.t === "hello") ws.send(`{"t":"welcome","v":1,"time":${Date.now()}}`);
          });
        });
        return reply({ port: (bare.address() as { port: number }).port });
      }
      if (command.db === undefined) work = mkdtempSync(join(tmpdir(), "thermocast-bench-"));
      server = await startServer({
        port: 0,
        dbPath: command.db ?? join(work!, "bench.db"),
        node: command.node,
        log: (line) => {
          if (line.level === "error") console.error(JSON.stringify(line));
        },
        adminToken: "bench-admin-token",
        // Every device of the bench connects from 127.0.0.1.
        maxConnectionsPerAddress: 0,
        writer: (process.env.BENCH_WRITER as "thread" | "inline" | undefined),
        commitIntervalMs: process.env.BENCH_COMMIT_INTERVAL_MS === undefined ? undefined : Number(process.env.BENCH_COMMIT_INTERVAL_MS),
      });
      if (command.db === undefined) {
        const db = server.db;
        db.inTransaction(() => {
          for (let i = 0; i < command.devices; i++) db.registerDevice(deviceId(i), deviceToken(i), Date.now());
        });
      }
      return reply({ port: server.port });
    }
    case "memory":
      gc();
      gc();
      return reply({ ...process.memoryUsage() });
    case "stats": {
      const wal = work ? join(work, "bench.db-wal") : "";
      const waits = server?.commitWaits;
      const figures = {
        ...cpu(), frames, walBytes: existsSync(wal) ? statSync(wal).size : 0,
        // Inside the server: from a write being queued to its answer (the rest of an ack's latency is
        // sockets, scheduling and the clients).
        commitWaitP50: (waits?.percentile(50) ?? NaN) / 1e6, commitWaitP99: (waits?.percentile(99) ?? NaN) / 1e6,
      };
      waits?.reset();
      loopDelay.reset();
      return reply(server ? { ...server.stats(), ...figures } : { ...figures, rows: 0 });
    }
    case "stop":
      await server?.close();
      bare?.close();
      if (work) rmSync(work, { recursive: true, force: true });
      reply({ stopped: true });
      process.exit(0);
  }
});
process.send!({ ready: true });
