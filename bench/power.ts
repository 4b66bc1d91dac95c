/*
 * The power benchmark (issues 5 and 17): µAh per reading and projected battery life on the same simulated
 * days, the real firmware on the simulator against the real server, the time in each power state measured
 * on the virtual clock and priced at docs/power.md's currents (ESP32; each figure's source is there).
 *
 *   naive               always-on, every reading in its own frame at once (the textbook example loop:
 *                       Wi-Fi stays associated, modem sleep between frames)
 *   connect-every-wake  deep sleep between readings; every wake joins Wi-Fi with a scan and DHCP and
 *                       sends its one reading (what popular YAML firmware does)
 * then thermocast, one lever at a time, each row adding one to the row above it:
 *   batching            15-minute uploads of batched readings (still a scan and DHCP at each join)
 *   remembered AP       the join names the BSSID and channel learned at the last one: no scan
 *   static address      `wifi.ip`: no DHCP exchange
 * and the floor under them all:
 *   no-radio floor      the same wakes, sampling only, the radio never on (no SSID set)
 *
 * The strategies run in child processes, two at a time (one a core). `tsx bench/power.ts [--days 30]`;
 * 3 simulated days by default, to keep `npm run bench` short.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startServer } from "../server/server";
import { SimDevice } from "../simulator/device";
import { VirtualClock } from "../simulator/hardware/clock";
import { ESP32, PHASES, TLS_HANDSHAKE_MS, type Phase } from "../simulator/hardware/energy";

const THERMOCAST = { mode: "battery", "batch.size": 15, "batch.latency": 900 };
const STRATEGIES = {
  naive: { config: { mode: "always-on", "batch.size": 1, "batch.latency": 0 }, alwaysScan: false },
  "connect-every-wake": { config: { mode: "battery", "batch.size": 1, "batch.latency": 60 }, alwaysScan: true },
  batching: { config: THERMOCAST, alwaysScan: true },
  "remembered AP": { config: THERMOCAST, alwaysScan: false },
  "static address": { config: { ...THERMOCAST, "wifi.ip": "10.0.0.50/24,10.0.0.1" }, alwaysScan: false },
  "no-radio floor": { config: { ...THERMOCAST, "wifi.ssid": "" }, alwaysScan: false },
} as const;
type Strategy = keyof typeof STRATEGIES;
/** The levers, in the order each is added: every row is the row above plus one. */
const LEVERS: readonly Strategy[] = ["connect-every-wake", "batching", "remembered AP", "static address"];
const FINAL: Strategy = "static address";

interface Outcome {
  strategy: Strategy;
  /** Readings the server stored (sampled, for the floor, which sends none). */
  readings: number;
  /** Wi-Fi joins: one a radio wake on battery. */
  joins: number;
  microampHours: number;
  ms: Record<Phase, number>;
  days: number;
  realMs: number;
}

const BATTERY_MAH = 2500;
/** Issue 17's goals. */
const GOAL_RATIO = 20;
const GOAL_DAYS = 480;

async function run(strategy: Strategy, days: number): Promise<Outcome> {
  const clock = new VirtualClock({ settleLimitMs: 60_000 });
  const untrack = clock.trackAllServers();
  const server = await startServer({ port: 0, dbPath: ":memory:", now: () => clock.now(), log: () => {} });
  server.db.registerDevice("bench-1", "bench-1-token", clock.now());
  const { config, alwaysScan } = STRATEGIES[strategy];
  const device = new SimDevice({
    clock,
    config: {
      "device.id": "bench-1", "device.token": "bench-1-token", "server.url": `ws://127.0.0.1:${server.port}`,
      "wifi.ssid": "sim", "sample.interval": 60, ...config,
    },
  });
  device.hardware.wifi.alwaysScan = alwaysScan;
  const started = Date.now();
  await device.boot();
  await clock.advance(days * 86_400_000);
  const energy = device.hardware.energy;
  const microampHours = energy.microampHours(ESP32);
  const stored = server.db.readings("bench-1", 0, Number.MAX_SAFE_INTEGER).length;
  const readings = strategy === "no-radio floor" ? device.samples.length : stored;
  const joins = device.hardware.wifi.joins;
  device.powerOff();
  await server.close();
  untrack();
  return { strategy, readings, joins, microampHours, ms: { ...energy.ms }, days, realMs: Date.now() - started };
}

// Not strict: bench/run.ts imports this module, and its own flags (--write-budget) are in the same argv.
const { values } = parseArgs({ options: { days: { type: "string", default: "3" }, strategy: { type: "string" } }, strict: false });
const days = Number(values.days);

if (values.strategy) {
  // A child: run one strategy, hand the outcome to the parent.
  process.send!(await run(values.strategy as Strategy, days));
  process.exit(0);
}

export async function powerBenchmark(): Promise<Outcome[]> {
  const self = fileURLToPath(import.meta.url);
  const runOne = (strategy: Strategy) => new Promise<Outcome>((resolve, reject) => {
    const child = fork(self, ["--strategy", strategy, "--days", String(days)], { execArgv: ["--import", "tsx"] });
    child.once("message", (outcome) => resolve(outcome as Outcome));
    child.once("exit", (code) => code && reject(new Error(`${strategy} exited with ${code}`)));
  });
  // Two at a time: one a core.
  const names = Object.keys(STRATEGIES) as Strategy[];
  const outcomes: Outcome[] = [];
  for (let i = 0; i < names.length; i += 2) outcomes.push(...(await Promise.all(names.slice(i, i + 2).map(runOne))));
  return outcomes;
}

const perReading = (o: Outcome) => o.microampHours / o.readings;
const lifeDays = (microampHoursPerReading: number, o: Outcome) =>
  (BATTERY_MAH * 1000) / ((microampHoursPerReading * o.readings) / (o.days * 24)) / 24;
const life = (days: number) => (days > 730 ? `${(days / 365).toFixed(1)} years` : `${days.toFixed(0)} days`);

export function printPower(outcomes: Outcome[]): void {
  const get = (strategy: Strategy) => outcomes.find((o) => o.strategy === strategy)!;
  const ours = get(FINAL);
  const days = ours.days;
  console.log(`\nEnergy on the same ${days} simulated days, 1-minute sampling (ESP32 currents, docs/power.md "Energy figures and their sources")`);
  console.log(`  ${"strategy".padEnd(22)}${"readings".padStart(9)}${"radio wakes".padStart(12)}${"µAh/reading".padStart(13)}${"avg µA".padStart(9)}${"life on 2500 mAh".padStart(18)}${"vs thermocast".padStart(15)}   time in states (s): ${PHASES.join(" / ")}`);
  const row = (o: Outcome, label: string = o.strategy) => {
    const states = PHASES.map((p) => (o.ms[p] / 1000).toFixed(0)).join(" / ");
    console.log(`  ${label.padEnd(22)}${String(o.readings).padStart(9)}${String(o.joins).padStart(12)}${perReading(o).toFixed(2).padStart(13)}` +
      `${(o.microampHours / (o.days * 24)).toFixed(0).padStart(9)}${life(lifeDays(perReading(o), o)).padStart(18)}${`${(perReading(o) / perReading(ours)).toFixed(1)}x`.padStart(15)}   ${states}`);
  };
  row(get("naive"));
  for (const name of LEVERS) row(get(name), name === "connect-every-wake" ? name : `+ ${name}`);
  row(get("no-radio floor"));

  console.log("  Each lever's saving, per reading (each row adds one lever to the row above)");
  for (let i = 1; i < LEVERS.length; i++) {
    const before = get(LEVERS[i - 1]), after = get(LEVERS[i]);
    const saved = perReading(before) - perReading(after);
    console.log(`    ${LEVERS[i].padEnd(18)} ${perReading(before).toFixed(2).padStart(6)} -> ${perReading(after).toFixed(2).padStart(5)} µAh/reading: ` +
      `saves ${saved.toFixed(2)} µAh (${(perReading(before) / perReading(after)).toFixed(2)}x), ${lifeDays(perReading(before), before).toFixed(0)} -> ${lifeDays(perReading(after), after).toFixed(0)} days`);
  }

  const every = get("connect-every-wake"), floor = get("no-radio floor");
  const ratio = perReading(every) / perReading(ours);
  const ourDays = lifeDays(perReading(ours), ours);
  const floorDays = lifeDays(perReading(floor), floor);
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
  console.log(`  ≥${GOAL_RATIO}x less than connect-every-wake: ${verdict(ratio >= GOAL_RATIO)} (${ratio.toFixed(1)}x: ${perReading(every).toFixed(2)} -> ${perReading(ours).toFixed(2)} µAh/reading)`);
  console.log(`  ≥${GOAL_DAYS} days on ${BATTERY_MAH} mAh over ws: ${verdict(ourDays >= GOAL_DAYS)} (${ourDays.toFixed(0)} days)`);
  console.log(`  within 2x of the no-radio floor (${floorDays.toFixed(0)} days, ${perReading(floor).toFixed(2)} µAh/reading): ${verdict(2 * ourDays >= floorDays)} (${(floorDays / ourDays).toFixed(2)}x)`);
  // wss: one TLS handshake more a radio wake (not simulated: the simulator's sockets are plain), at the active current.
  const tlsPerReading = (ours.joins * TLS_HANDSHAKE_MS * ESP32.active) / 3_600_000 * 1000 / ours.readings;
  const wss = perReading(ours) + tlsPerReading;
  console.log(`  wss (estimate: + a ${TLS_HANDSHAKE_MS / 1000} s TLS handshake at ${ESP32.active} mA a radio wake): ${wss.toFixed(2)} µAh/reading, ${lifeDays(wss, ours).toFixed(0)} days ` +
    `(${(perReading(every) / wss).toFixed(1)}x less than connect-every-wake over ws)`);
  const naive = get("naive");
  const naiveRatio = perReading(naive) / perReading(ours);
  console.log(`  naive / thermocast = ${naiveRatio.toFixed(1)}x per reading (goal >= 10: ${verdict(naiveRatio >= 10)}); simulated in ${outcomes.map((o) => `${o.strategy} ${(o.realMs / 1000).toFixed(0)} s`).join(", ")}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) printPower(await powerBenchmark());
