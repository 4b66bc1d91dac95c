/*
 * Issue 4's property test. fast-check draws fault schedules (which fault, when, how long); each schedule
 * is a device running the unmodified firmware for two or three days of virtual time against the real
 * server, through its own fault proxy; three run side by side on one virtual clock in each property run.
 * Four quarters with their own seeds run in child processes (tests/e2e/faults-property-run.ts): the
 * simulation waits on loopback I/O about half the time, so four keep two cores busy.
 * For every schedule (the checks are in simulator/faults/schedules.ts):
 * - no reading lost while the store had room: every reading sampled is stored, except exactly as many as
 *   the device reports its store dropped on overflow (store.drop in its last hello);
 * - no reading stored twice, and each stored value is the one sampled;
 * - every backoff delay lies under its bound, the bounds are the backoff's (replayed from the reported
 *   delays: doubling from base to cap, the cap growing in a long outage) and start over only after a
 *   session the server confirmed, and the next attempt comes exactly when the delay said;
 * - an outage of d ms costs at most ramp + 1 + 3·d/cap + 10 connection attempts (full jitter averages
 *   cap/2 a delay once the ramp is climbed: 2·d/cap expected, and 3·d/cap is many deviations out);
 * - the device is back online no later than the cap (grown: at most a quarter of the fault's length, up
 *   to 15 min) + one handshake after the fault ends, plus the time the
 *   phase it was in may take to notice (the longest phase timeout; for a half-open connection, the
 *   heartbeat and its pong timeout, counted from when it struck; for a delay, the delay).
 * A failure prints fast-check's seed and path. Replay: FAULTS_SEED=<seed> FAULTS_PATH=<path> npx tsx --test
 * tests/e2e/faults-property.test.ts (one child, that seed, that case); FAULTS_SHRINK=1 shrinks (slow); FAULTS_RUNS
 * sets the property runs of each child (25: 75 schedules a child).
 */
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { test } from "node:test";
import type { Totals } from "../../simulator/faults/schedules";

const SEEDS = process.env.FAULTS_SEED ? [Number(process.env.FAULTS_SEED)] : [4042026, 2026404, 404, 2026];

interface QuarterResult {
  seed: number;
  seconds: number;
  error?: string;
  totals: Omit<Totals, "faults"> & { faults: [string, number][] };
}

function quarter(seed: number): Promise<QuarterResult> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL("./faults-property-run.ts", import.meta.url), [String(seed)], { execArgv: ["--import", "tsx"] });
    let result: QuarterResult | undefined;
    child.once("message", (message) => (result = message as QuarterResult));
    child.once("error", reject);
    child.once("exit", (code) => (result ? resolve(result) : reject(new Error(`the run for seed ${seed} exited with ${code} and no result`))));
  });
}

test("random fault schedules, days each, against the real server on virtual time: no loss, no duplicate, bounded backoff, prompt recovery", { timeout: 1_800_000 }, async (t) => {
  const started = performance.now();
  const quarters = await Promise.all(SEEDS.map(quarter));
  const seconds = (performance.now() - started) / 1000;
  const sum = (pick: (r: QuarterResult) => number) => quarters.reduce((total, r) => total + pick(r), 0);
  const faults = new Map<string, number>();
  for (const r of quarters) for (const [kind, n] of r.totals.faults) faults.set(kind, (faults.get(kind) ?? 0) + n);
  const hours = sum((r) => r.totals.outageHours);
  t.diagnostic(`${sum((r) => r.totals.schedules)} schedules, ${sum((r) => r.totals.days)} simulated days, ${seconds.toFixed(1)} s real time (seeds ${SEEDS.join(", ")}; ${quarters.map((r) => `${r.seconds.toFixed(1)} s`).join(" and ")} each)`);
  t.diagnostic(`faults struck: ${[...faults].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  t.diagnostic(`outages (down, dns, wifi): ${hours.toFixed(1)} h, ${(sum((r) => r.totals.outageAttempts) / Math.max(hours, 1e-9)).toFixed(1)} connection attempts an hour`);
  t.diagnostic(`${sum((r) => r.totals.retries)} backoff delays checked; ${sum((r) => r.totals.sampled)} readings sampled, ${sum((r) => r.totals.dropped)} dropped by overflow and reported`);
  for (const r of quarters) if (r.error) assert.fail(`seed ${r.seed}: ${r.error}`);
  assert.ok(sum((r) => r.totals.schedules) >= 300 || process.env.FAULTS_RUNS !== undefined || process.env.FAULTS_SEED !== undefined, "at least 300 schedules");
});
