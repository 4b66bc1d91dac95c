/*
 * Scale-out on PostgreSQL (issue 16): two ingest nodes (`serve --db postgres://…` child processes, so one
 * can be SIGKILLed) on one private PostgreSQL cluster, and simulated devices as real WebSocket clients on
 * loopback that keep what was not acked and send it again to whichever node they reach next.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import WebSocket from "ws";
import { mulberry32 } from "../../simulator/hardware/random";
import { openStore } from "../../server/open-store";
import { batchFrame, variants, READINGS_PER_BATCH } from "../../bench/server/workload";
import { PostgresCluster } from "../support/postgres";

const ADMIN = "scale-admin-token-0123456789";
const CLI = fileURLToPath(new URL("../../server/cli.ts", import.meta.url));
const VARIANTS = variants();
const SEED = Number(process.env.SCALE_SEED ?? 16);

let cluster: PostgresCluster;
before(async () => {
  cluster = await PostgresCluster.start();
});
after(async () => {
  await cluster?.stop();
});

/** Resolves when `condition()` holds, checked on every event-loop turn that a timer ends; fails at the deadline. */
async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One `serve` process: a node of the cluster. */
class Node {
  readonly name: string;
  readonly child: ChildProcess;
  url = "";
  readonly exited: Promise<number | null>;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  static async start(name: string, db: string): Promise<Node> {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, "serve", "--db", db, "--port", "0", "--node", name,
      "--admin-token", ADMIN, "--batches-per-minute", "0", "--max-connections-per-address", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    const node = new Node(name, child);
    const kill = () => child.kill("SIGKILL");
    process.once("exit", kill);
    child.once("exit", () => process.off("exit", kill));
    let stderr = "";
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on("line", (line) => {
        try {
          const entry = JSON.parse(line) as { event?: string; dashboard?: string };
          if (entry.event === "started") {
            node.url = entry.dashboard!.replace(/\/$/, "");
            resolve();
          }
        } catch {
          // not a log line
        }
      });
      child.once("exit", (code) => reject(new Error(`node ${name} exited (${code}) before it started: ${stderr}`)));
    });
    return node;
  }

  get wsUrl(): string {
    return this.url.replace(/^http/, "ws") + "/v1/device";
  }

  api(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(this.url + path, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...init.headers } });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }
}

type Frame = Record<string, unknown>;

/**
 * A device as the firmware behaves on the wire: hello, batches with a growing seq, every batch kept until
 * acked and sent again after a reconnect; on a close it goes to the next node in its list. Answers pushes.
 */
class Device {
  readonly id: string;
  readonly token: string;
  nodes: Node[];
  /** Index in `nodes` of the node it connects to next. */
  at: number;
  ws: WebSocket | undefined;
  connectedTo: Node | undefined;
  welcomed = false;
  seq = 0;
  k = 0;
  unacked = new Map<number, string>();
  acked = 0;
  resent = 0;
  closes: { node: string; code: number; reason: string }[] = [];
  frames: Frame[] = [];
  reconnect = true;
  #stopped = false;

  constructor(id: string, token: string, nodes: Node[], at: number) {
    this.id = id;
    this.token = token;
    this.nodes = nodes;
    this.at = at;
  }

  connect(): void {
    if (this.#stopped) return;
    const node = this.nodes[this.at % this.nodes.length];
    const ws = new WebSocket(`${node.wsUrl}/${this.id}`, { headers: { authorization: `Bearer ${this.token}` } });
    this.ws = ws;
    this.welcomed = false;
    ws.on("open", () => {
      this.connectedTo = node;
      ws.send(JSON.stringify({ t: "hello", v: 1, id: this.id, fw: "scale", boot: 1, rr: "power-on", mode: "always-on" }));
    });
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      if (frame.t === "welcome") {
        this.welcomed = true;
        // Everything not acked goes again, in order, with new seqs: this connection starts its own count.
        const pending = [...this.unacked.values()];
        this.resent += pending.length;
        this.unacked.clear();
        for (const text of pending) this.#send(text);
      } else if (frame.t === "ack") {
        if (this.unacked.delete(frame.s as number)) this.acked++;
      } else if (frame.t === "cfg") {
        ws.send(JSON.stringify({ t: "cfgack", id: frame.id, ok: true }));
      }
    });
    ws.on("error", () => {});
    ws.on("close", (code, reason) => {
      if (this.ws !== ws) return;
      this.closes.push({ node: node.name, code, reason: reason.toString() });
      this.ws = undefined;
      this.connectedTo = undefined;
      this.welcomed = false;
      if (!this.reconnect || this.#stopped) return;
      this.at++; // the next node in its list
      setImmediate(() => this.connect());
    });
  }

  /** A new batch of 60 readings (kept until acked). */
  produce(rng: () => number): void {
    const variant = VARIANTS[Math.floor(rng() * VARIANTS.length)];
    const text = batchFrame(variant, 0, this.k, 200);
    this.k += READINGS_PER_BATCH;
    if (this.welcomed) this.#send(text);
    else this.unacked.set(-this.k, text); // sent (and given its seq) after the next welcome
  }

  /** Sends a batch (kept as its template, `"s":0`) with the connection's next seq. */
  #send(batch: string): void {
    const s = ++this.seq;
    this.unacked.set(s, batch);
    this.ws!.send(batch.replace('"s":0,', `"s":${s},`));
  }

  stop(): void {
    this.#stopped = true;
    this.ws?.terminate();
  }
}

async function setup(devices: number, prefix: string) {
  const db = await cluster.createDatabase(prefix);
  const store = await openStore(db);
  const tokens: string[] = [];
  try {
    for (let i = 0; i < devices; i++) tokens.push(await store.registerDevice(`${prefix}-${i}`, `${prefix}-token-${i}-0123456789`, Date.now()));
  } finally {
    await store.close();
  }
  const a = await Node.start(`${prefix}-A`, db);
  const b = await Node.start(`${prefix}-B`, db);
  return { db, a, b, tokens };
}

async function query<T extends pg.QueryResultRow>(db: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client(db);
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe("scale-out: two ingest nodes on one PostgreSQL", () => {
  test("node A is SIGKILLed mid-stream: its devices reconnect to B and resend; 0 readings lost, 0 duplicated", async (t) => {
    const { db, a, b } = await setup(40, "kill");
    const rng = mulberry32(SEED);
    const devices = Array.from({ length: 40 }, (_, i) => new Device(`kill-${i}`, `kill-token-${i}-0123456789`, [a, b], i < 20 ? 0 : 1));
    // A device that only knows A and stays away once A is gone: its session row is left behind by the kill.
    const stranded = new Device("kill-39", "kill-token-39-0123456789", [a], 0);
    devices[39] = stranded;
    stranded.reconnect = false;
    try {
      for (const d of devices) d.connect();
      await until("every device welcomed", () => devices.every((d) => d.welcomed));
      const BATCHES = 30;
      let killedWith = -1;
      for (let round = 0; round < BATCHES; round++) {
        for (const d of devices) if (d !== stranded || round < 10) d.produce(rng);
        // Each round waits for the acks of most of the last one: a stream, not one burst.
        await until(`round ${round} mostly acked`, () => devices.filter((d) => d.unacked.size <= 1).length >= 30);
        if (round === 10) {
          await until("the stranded device acked", () => stranded.unacked.size === 0);
          // Batches in flight to A when it dies: sent, not acked.
          for (const d of devices.slice(0, 20)) if (d !== stranded) d.produce(rng);
          killedWith = devices.slice(0, 20).reduce((n, d) => n + d.unacked.size, 0);
          a.child.kill("SIGKILL");
          await a.exited;
        }
      }
      assert.ok(killedWith > 0, "some batches were unacked when A died");
      await until("every batch acked", () => devices.every((d) => d === stranded || (d.welcomed && d.unacked.size === 0)), 30_000);
      for (const d of devices.slice(0, 19)) assert.equal(d.connectedTo, b, `${d.id} moved to B`);
      const resent = devices.reduce((n, d) => n + d.resent, 0);
      assert.ok(resent > 0, "devices sent again what A had not acked");

      const rows = await query<{ device_id: string; n: number; distinct_n: number; min: number; max: number; counted: number }>(db, `
        SELECT d.id AS device_id, count(*)::int AS n, count(DISTINCT (r.boot, r.channel, r.idx))::int AS distinct_n, min(r.idx)::int AS min,
          max(r.idx)::int AS max, d.reading_count::int AS counted
        FROM readings r JOIN devices d ON d.key = r.device_key GROUP BY d.id, d.reading_count`);
      const byId = new Map(rows.map((r) => [r.device_id, r]));
      for (const d of devices) {
        const r = byId.get(d.id);
        const expected = d.k;
        assert.ok(r !== undefined, `${d.id} stored nothing`);
        assert.equal(r.distinct_n, expected, `${d.id}: every reading stored (0 lost)`);
        assert.equal(r.n, expected, `${d.id}: none twice (0 duplicated)`);
        assert.equal(r.min, 0);
        assert.equal(r.max, expected - 1);
        assert.equal(r.counted, expected, `${d.id}: the device's count`);
      }
      // The stranded device's session died with A: B releases it once A's heartbeat is missed (~10 s).
      await until("the dead node's session released", async () => {
        const list = (await (await b.api("/api/devices")).json()) as { id: string; online: boolean }[];
        return list.find((x) => x.id === stranded.id)?.online === false;
      }, 30_000);
      t.diagnostic(`SIGKILL: ${killedWith} batches unacked at the kill, ${resent} sent again, ${devices.reduce((n, d) => n + d.k, 0)} readings stored exactly once`);
    } finally {
      for (const d of devices) d.stop();
      await a.stop();
      await b.stop();
    }
  });

  test("a revoke through node A drops the device held by node B, within a second", async () => {
    const { a, b } = await setup(2, "revoke");
    const device = new Device("revoke-0", "revoke-token-0-0123456789", [b], 0);
    device.reconnect = false;
    try {
      device.connect();
      await until("welcomed on B", () => device.welcomed);
      const started = Date.now();
      const response = await a.api("/api/devices/revoke-0/revoke", { method: "POST" });
      assert.equal(response.status, 200);
      await until("dropped by B", () => device.closes.length > 0, 5000);
      const ms = Date.now() - started;
      assert.deepEqual(device.closes[0], { node: b.name, code: 4003, reason: "token revoked" });
      assert.ok(device.frames.some((f) => f.t === "err" && f.code === "revoked"));
      assert.ok(ms < 1000, `dropped after ${ms} ms`);
      // And it cannot come back on either node.
      const again = new Device("revoke-0", "revoke-token-0-0123456789", [a], 0);
      again.reconnect = false;
      again.connect();
      await until("refused by A", () => again.closes.length > 0);
      assert.equal(again.closes[0].code, 4003);
    } finally {
      device.stop();
      await a.stop();
      await b.stop();
    }
  });

  test("a config push made through node A is delivered by node B, and its answer shows on A", async () => {
    const { a, b } = await setup(1, "push");
    const device = new Device("push-0", "push-token-0-0123456789", [b], 0);
    try {
      device.connect();
      await until("welcomed on B", () => device.welcomed);
      const response = await a.api("/api/devices/push-0/config", { method: "POST", body: JSON.stringify({ set: { "sample.interval": 30 } }) });
      assert.equal(response.status, 202);
      const { id } = (await response.json()) as { id: number };
      await until("the push delivered by B", () => device.frames.some((f) => f.t === "cfg" && f.id === id), 5000);
      assert.deepEqual(device.frames.filter((f) => f.t === "cfg"), [{ t: "cfg", id, set: { "sample.interval": 30 } }], "once");
      await until("the answer on A", async () => {
        const detail = (await (await a.api("/api/devices/push-0")).json()) as { config: { last: { id: number; ok: boolean } | null } };
        return detail.config.last?.id === id && detail.config.last.ok;
      });
    } finally {
      device.stop();
      await a.stop();
      await b.stop();
    }
  });

  test("a device that jumps between nodes keeps one session: the node it left closes the old one", async () => {
    const { db, a, b } = await setup(1, "jump");
    const first = new Device("jump-0", "jump-token-0-0123456789", [a], 0);
    first.reconnect = false;
    const second = new Device("jump-0", "jump-token-0-0123456789", [b], 0);
    second.reconnect = false;
    const third = new Device("jump-0", "jump-token-0-0123456789", [a], 0);
    third.reconnect = false;
    try {
      first.connect();
      await until("on A", () => first.welcomed);
      second.connect(); // the same device, now through B, its old connection still open
      await until("A closed the old session", () => first.closes.length > 0, 5000);
      assert.equal(first.closes[0].code, 1000);
      assert.match(first.closes[0].reason, /replaced/);
      assert.ok(second.welcomed || (await until("on B", () => second.welcomed).then(() => true)));
      third.connect(); // and back to A
      await until("B closed its session", () => second.closes.length > 0, 5000);
      await until("on A again", () => third.welcomed);
      assert.equal(third.closes.length, 0);
      const sessions = await query<{ node: string }>(db, "SELECT node FROM sessions WHERE device_id = 'jump-0'");
      assert.deepEqual(sessions, [{ node: a.name }]);
      // Both nodes see it online (B through the claim), once.
      for (const node of [a, b]) {
        await until(`${node.name} sees it online`, async () => {
          const list = (await (await node.api("/api/devices")).json()) as { id: string; online: boolean }[];
          return list.filter((x) => x.id === "jump-0").map((x) => x.online).join() === "true";
        });
      }
      third.stop();
      await until("offline on B once it left A", async () => {
        const list = (await (await b.api("/api/devices")).json()) as { id: string; online: boolean }[];
        return list.find((x) => x.id === "jump-0")?.online === false;
      });
    } finally {
      for (const d of [first, second, third]) d.stop();
      await a.stop();
      await b.stop();
    }
  });

  test("a dashboard on node A sees the live readings of a device on node B", async () => {
    const { a, b } = await setup(1, "live");
    const device = new Device("live-0", "live-token-0-0123456789", [b], 0);
    const dashboard = new WebSocket(a.url.replace(/^http/, "ws") + "/v1/dashboard", { headers: { authorization: `Bearer ${ADMIN}`, origin: a.url } });
    const messages: Frame[] = [];
    dashboard.on("message", (data) => messages.push(JSON.parse(data.toString()) as Frame));
    try {
      await new Promise((resolve, reject) => {
        dashboard.once("open", resolve);
        dashboard.once("error", reject);
      });
      await until("the device list", () => messages.some((m) => m.t === "devices"));
      dashboard.send(JSON.stringify({ t: "watch", id: "live-0" }));
      device.connect();
      await until("welcomed on B", () => device.welcomed);
      const rng = mulberry32(SEED);
      // B learns that A watches it from A's announcement: batches keep coming until one shows on A.
      await until("live readings on A", () => {
        if (device.unacked.size === 0) device.produce(rng);
        return messages.some((m) => m.t === "readings" && m.id === "live-0");
      });
      const live = messages.find((m) => m.t === "readings")!;
      assert.equal((live.v as unknown[]).length, READINGS_PER_BATCH);
      await until("the device shown online on A", () => messages.some((m) => m.t === "devices" &&
        (m.devices as { id: string; online: boolean }[]).some((d) => d.id === "live-0" && d.online)));
    } finally {
      dashboard.terminate();
      device.stop();
      await a.stop();
      await b.stop();
    }
  });
});
