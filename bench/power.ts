/*
 * The power benchmark (issue 5): µAh per reading and projected battery life for three strategies on the
 * same simulated month, the real firmware on the simulator against the real server, the time in each
 * power state measured on the virtual clock and priced at docs/power.md's currents (ESP32).
 *
 *   naive             always-on, every reading in its own frame at once (the textbook example loop:
 *                     Wi-Fi stays associated, modem sleep between frames)
 *   connect-every-wake  deep sleep between readings; every wake joins Wi-Fi with a scan and DHCP and
 *                     sends its one reading (what popular YAML firmware does)
 *   thermocast        deep sleep; 15-minute uploads of batched readings, a remembered access point
 *
 * The strategies run in parallel child processes (one a core). `tsx bench/power.ts [--days 30]`.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startServer } from "../server/server";
import { SimDevice } from "../simulator/device";
import { VirtualClock } from "../simulator/hardware/clock";
import { ESP32, PHASES, type Phase } from "../simulator/hardware/energy";

const STRATEGIES = {
  naive: { config: { mode: "always-on", "batch.size": 1, "batch.latency": 0 }, alwaysScan: false },
  "connect-every-wake": { config: { mode: "battery", "batch.size": 1, "batch.latency": 60 }, alwaysScan: true },
  thermocast: { config: { mode: "battery", "batch.size": 15, "batch.latency": 900 }, alwaysScan: false },
} as const;
type Strategy = keyof typeof STRATEGIES;

interface Outcome {
  strategy: Strategy;
  readings: number;
  microampHours: number;
  ms: Record<Phase, number>;
  days: number;
  realMs: number;
}

const BATTERY_MAH = 2500;

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
  const readings = server.db.readings("bench-1", 0, Number.MAX_SAFE_INTEGER).length;
  device.powerOff();
  await server.close();
  untrack();
  return { strategy, readings, microampHours, ms: { ...energy.ms }, days, realMs: Date.now() - started };
}

// Not strict: bench/run.ts imports this module, and its own flags (--write-budget) are in the same argv.
const { values } = parseArgs({ options: { days: { type: "string", default: "30" }, strategy: { type: "string" } }, strict: false });
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
  const [naive, every] = await Promise.all([runOne("naive"), runOne("connect-every-wake")]);
  const ours = await runOne("thermocast");
  return [naive, every, ours];
}

export function printPower(outcomes: Outcome[]): void {
  const ours = outcomes.find((o) => o.strategy === "thermocast")!;
  const perReading = (o: Outcome) => o.microampHours / o.readings;
  console.log(`\nEnergy on the same simulated ${ours.days}-day month, 1-minute sampling (ESP32 currents, docs/power.md)`);
  console.log(`  ${"strategy".padEnd(20)}${"readings".padStart(9)}${"µAh/reading".padStart(13)}${"avg µA".padStart(9)}${"life on 2500 mAh".padStart(18)}${"vs thermocast".padStart(15)}   time in states (s): ${PHASES.join(" / ")}`);
  for (const o of outcomes) {
    const hours = o.days * 24;
    const averageMicroamps = o.microampHours / hours;
    const lifeDays = (BATTERY_MAH * 1000) / averageMicroamps / 24;
    const life = lifeDays > 730 ? `${(lifeDays / 365).toFixed(1)} years` : `${lifeDays.toFixed(1)} days`;
    const states = PHASES.map((p) => (o.ms[p] / 1000).toFixed(0)).join(" / ");
    console.log(`  ${o.strategy.padEnd(20)}${String(o.readings).padStart(9)}${perReading(o).toFixed(2).padStart(13)}${averageMicroamps.toFixed(0).padStart(9)}${life.padStart(18)}${`${(perReading(o) / perReading(ours)).toFixed(1)}x`.padStart(15)}   ${states}`);
  }
  const naive = outcomes.find((o) => o.strategy === "naive")!;
  const ratio = perReading(naive) / perReading(ours);
  console.log(`  naive / thermocast = ${ratio.toFixed(1)}x per reading (goal >= 10: ${ratio >= 10 ? "met" : "MISSED"}); simulated in ${outcomes.map((o) => `${o.strategy} ${(o.realMs / 1000).toFixed(0)} s`).join(", ")}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) printPower(await powerBenchmark());
