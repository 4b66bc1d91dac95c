/*
 * The fuzz tier (issue 15): `serve` as a child process (a crash shows as its exit), ≥ 10 000 generated
 * connections from a raw client (fuzz-cases.ts) in every connection state, while an honest device streams
 * batches beside them. At the end: the server is alive and answers /health, its RSS stayed within
 * RSS_BOUND_MB, it stops cleanly on SIGTERM, `PRAGMA integrity_check` is ok, and every reading the honest
 * device had acked is stored exactly once.
 *
 *   FUZZ_SEED=<seed> replays a run (the seed is printed); FUZZ_CASES=<n> sets the count (default 10 000);
 *   FUZZ_CASE=<index>[,<index>…] sends only those cases of the seed's run (a crash names the cases in flight).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import Database from "better-sqlite3";
import fc from "fast-check";
import WebSocket from "ws";
import { openDb, registerDevice } from "../../server/cli";
import { FUZZ_DEVICES, caseBytes, fuzzCase, fuzzDeviceId, type FuzzCase } from "./fuzz-cases";

const CASES = Number(process.env.FUZZ_CASES ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ONLY = process.env.FUZZ_CASE?.split(",").map(Number);
/** Connections open at once. */
const CONCURRENCY = 24;
/** How long a case waits for the server to close after its half-close before dropping the connection. */
const CASE_WAIT_MS = 2000;
/**
 * The server's RSS at its highest, sampled through the run. It starts at ~125 MB (Node, tsx, SQLite, the
 * writer and checkpointer threads) and peaked at ~170 MB in trials; the bound leaves room for the page
 * caches (limits of 2 MB and 64 MB) and the connections in flight, and less than a leak of 13 KB a case.
 */
const RSS_BOUND_MB = 256;
/** The honest device sends a batch each time this many more cases are done. */
const CASES_PER_BATCH = 25;
const ADMIN_TOKEN = "fuzz-admin-token-0123456789";

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match === null ? 0 : Number(match[1]) / 1024;
}

/** Starts `serve` on a free port; resolves with its port once it logs `started`. */
function serve(dbPath: string): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "server/cli.ts", "serve", "--port", "0", "--db", dbPath, "--admin-token", ADMIN_TOKEN],
    { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
  return new Promise((resolve, reject) => {
    // Every line is read (a full pipe would stall the server); only `started` is kept.
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const match = /"event":"started".*"dashboard":"http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
      if (match) resolve({ child, port: Number(match[1]), stderr: () => stderr });
    });
    child.once("exit", (code) => reject(new Error(`serve exited with ${code} before it started:\n${stderr}`)));
  });
}

/**
 * One case: its bytes in pieces, then a half-close (waiting a while for the server's close) or a drop.
 * Resolves with how the server answered: its HTTP status, "silent", or "timeout" (it had not closed).
 */
function runCase(port: number, c: FuzzCase, token: string): Promise<string> {
  const bytes = caseBytes(c, token);
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "silent";
    let waited = false;
    socket.on("error", () => {}); // a reset is one of the server's answers
    socket.on("data", (chunk: Buffer) => {
      if (answer === "silent") answer = /^HTTP\/1\.1 (\d{3})/.exec(chunk.toString("latin1", 0, 12))?.[1] ?? "other";
    });
    socket.once("close", () => resolve(waited ? "timeout" : c.ending === "destroy" ? "dropped by us" : answer));
    socket.once("connect", () => {
      for (let at = 0, p = 0; at < bytes.length; p++) {
        const size = c.pieces[p % c.pieces.length];
        socket.write(bytes.subarray(at, at + size));
        at += size;
      }
      if (c.ending === "destroy") return socket.destroy();
      socket.end();
      setTimeout(() => {
        waited = true;
        socket.destroy();
      }, CASE_WAIT_MS).unref();
    });
  });
}

/** A device that follows the protocol, one batch at a time, each sent when asked; remembers what was acked. */
class HonestDevice {
  readonly acked: number[] = [];
  readonly problems: string[] = [];
  #socket: WebSocket;
  #seq = 0;
  #inFlight: Promise<void> = Promise.resolve();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on("close", (code) => this.problems.push(`closed by the server (${code})`));
  }

  static async connect(port: number, token: string): Promise<HonestDevice> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/device/honest`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const device = new HonestDevice(socket);
    const welcome = await device.#answer(JSON.stringify({ t: "hello", v: 1, id: "honest", fw: "0.1.0", boot: 1, rr: "power-on" }));
    if (welcome.t !== "welcome") device.problems.push(`hello answered with ${JSON.stringify(welcome)}`);
    return device;
  }

  /** Sends the next batch after the last one's answer. */
  send(): void {
    this.#inFlight = this.#inFlight.then(async () => {
      const s = ++this.#seq;
      const answer = await this.#answer(JSON.stringify({ t: "b", s, o: 1, k: s * 5, i: 1, a: 0, n: 5, b: 2000 + s, v: "AACBA" }));
      if (answer.t === "ack" && answer.s === s) this.acked.push(s);
      else this.problems.push(`batch ${s} answered with ${JSON.stringify(answer)}`);
    });
  }

  async close(): Promise<void> {
    await this.#inFlight;
    this.#socket.removeAllListeners("close");
    this.#socket.close();
  }

  #answer(frame: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.#socket.once("message", (data) => resolve(JSON.parse(data.toString()) as Record<string, unknown>));
      this.#socket.send(frame);
    });
  }
}

test(`fuzz: ${ONLY?.length ?? CASES} generated connections against \`serve\`, an honest device beside them`, { timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "thermocast-fuzz-"));
  const dbPath = join(dir, "fuzz.db");
  const setup = openDb(dbPath);
  const tokens = Array.from({ length: FUZZ_DEVICES }, (_, n) => registerDevice(setup, fuzzDeviceId(n)));
  const honestToken = registerDevice(setup, "honest");
  setup.close();

  // fast-check draws the same first n cases of a seed whatever the count asked for: a case replays alone.
  const cases = fc.sample(fuzzCase, { seed: SEED, numRuns: ONLY === undefined ? CASES : Math.max(...ONLY) + 1 });
  const chosen = ONLY === undefined ? cases.map((c, index) => ({ c, index })) : ONLY.map((index) => ({ c: cases[index], index }));
  t.diagnostic(`seed ${SEED} (replay: FUZZ_SEED=${SEED}), ${chosen.length} cases, ${CONCURRENCY} connections at once`);

  const { child, port, stderr } = await serve(dbPath);
  let exited: string | undefined;
  const inFlight = new Set<number>();
  child.once("exit", (code, signal) => (exited = `serve exited (${code ?? signal}) during cases ${[...inFlight].join(", ")}`));
  try {
    const started = performance.now();
    const device = await HonestDevice.connect(port, honestToken);
    let next = 0;
    let done = 0;
    const answers = new Map<string, number>();
    let maxRss = rssMb(child.pid!);
    const startRss = maxRss;
    const worker = async () => {
      while (next < chosen.length && exited === undefined) {
        const { c, index } = chosen[next++];
        inFlight.add(index);
        const answer = await runCase(port, c, tokens[c.device]);
        answers.set(answer, (answers.get(answer) ?? 0) + 1);
        inFlight.delete(index);
        if (exited !== undefined) return;
        if (++done % CASES_PER_BATCH === 0) device.send();
        if (done % 500 === 0) maxRss = Math.max(maxRss, rssMb(child.pid!));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const casesSeconds = (performance.now() - started) / 1000;
    if (exited !== undefined)
      assert.fail(`${exited} (replay one: FUZZ_SEED=${SEED} FUZZ_CASE=<index>)\n${stderr()}`);
    device.send();
    await device.close();
    maxRss = Math.max(maxRss, rssMb(child.pid!));

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200, "the server still answers /health");
    t.diagnostic(`${done} cases in ${casesSeconds.toFixed(1)} s; server RSS ${startRss.toFixed(0)} MB at the start, at most ${maxRss.toFixed(0)} MB (bound ${RSS_BOUND_MB}); the honest device had ${device.acked.length} batches acked`);
    t.diagnostic(`answers: ${[...answers].sort((a, b) => b[1] - a[1]).map(([answer, n]) => `${answer} ×${n}`).join(", ")}`);
    assert.deepEqual(device.problems, [], "the honest device was served throughout");
    assert.ok(maxRss <= RSS_BOUND_MB, `server RSS ${maxRss.toFixed(0)} MB over ${RSS_BOUND_MB} MB`);

    const stopped = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    assert.equal(await stopped, 0, `serve stops cleanly on SIGTERM\n${stderr()}`);

    const db = new Database(dbPath, { readonly: true });
    try {
      assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
      const rows = db.prepare("SELECT idx FROM readings WHERE device_id = 'honest' AND boot = 1 ORDER BY idx").all() as { idx: number }[];
      const expected = device.acked.flatMap((s) => [0, 1, 2, 3, 4].map((j) => s * 5 + j));
      assert.deepEqual(rows.map((r) => r.idx), expected, "every acked reading stored, once");
      const counted = db.prepare("SELECT reading_count AS n FROM devices WHERE id = 'honest'").get() as { n: number };
      assert.equal(counted.n, expected.length, "the device's reading count agrees");
    } finally {
      db.close();
    }
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
