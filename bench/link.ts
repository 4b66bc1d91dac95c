/*
 * Link benchmark (issue 4): a 1-hour server outage, for thermocast's link and for a fixed-interval
 * reconnect (bench/link-baseline.ts: 500 ms, the arduinoWebSockets default, a separate tiny client on the
 * same simulated hardware). Each client runs on many seeds against the real server through the fault
 * proxy, on virtual time: online for 5 minutes, then the server is down for an hour (the proxy resets the
 * open connection and refuses new ones: the SDK reports a refused connect as a bare disconnect), then it
 * is back. Figures: connection attempts during the hour, and time from the server's return to the
 * client's next accepted hello; median and p99 (nearest rank) over seeds.
 *
 * `npx tsx bench/link.ts` prints the table alone; `npm run bench` prints it after the XS benchmarks.
 */
import { FaultDevice, FaultServer } from "../simulator/faults/rig";
import { ESP32, PHASES, type Phase } from "../simulator/hardware/energy";

const MINUTE = 60_000, HOUR = 60 * MINUTE;
/** Devices side by side on one clock: the simulation waits on loopback I/O, so a few share it well. */
const GROUP = 4;
/** Issue 17's goals: attempts in an hour's outage; recovery after a short one within the cap + a handshake. */
const GOAL_ATTEMPTS = 60;
const SHORT_OUTAGE = 4 * MINUTE;
const CAP = 60_000;
/** One handshake: Wi-Fi (if it went), TCP, the WebSocket upgrade and hello (tests/e2e/faults.test.ts). */
const HANDSHAKE = 3_000;
/** Battery mode as the power bench runs it (bench/power.ts, thermocast). */
const BATTERY = { mode: "battery", "sample.interval": 60, "batch.size": 15, "batch.latency": 900 };

export interface OutageFigures {
  client: string;
  seeds: number;
  attempts: { median: number; p99: number; max: number };
  recoverMs: { median: number; p99: number; max: number };
}

export interface OutageOptions {
  seeds?: number;
  outageMs?: number;
}

export interface BatteryOutage {
  seeds: number;
  attempts: { median: number; max: number };
  /** Charge in the outage hour spent with the radio on (joining, active, idle) and with the CPU on, µAh. */
  radioMicroampHours: { median: number; max: number };
  cpuMicroampHours: { median: number; max: number };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summary(values: number[]) {
  return { median: percentile(values, 50), p99: percentile(values, 99), max: Math.max(...values) };
}

async function outage(bench: FaultServer, client: "thermocast" | "baseline", seeds: number[], outageMs: number): Promise<{ attempts: number[]; recover: number[] }> {
  const clock = bench.clock;
  const attempts: number[] = [];
  const recover: number[] = [];
  for (let i = 0; i < seeds.length; i += GROUP) {
    const devices: FaultDevice[] = [];
    for (const seed of seeds.slice(i, i + GROUP)) {
      const device = await FaultDevice.start(bench, {
        id: `bench-${client}-${seed}`, seed,
        entry: client === "baseline" ? "bench/link-baseline.ts" : undefined,
        // thermocast as shipped: defaults (backoff 1 s doubling to 60 s, full jitter; heartbeat 60 s).
        config: { "sample.interval": 60, "batch.size": 10 },
      });
      devices.push(device);
      await device.device.boot();
    }
    await clock.advance(5 * MINUTE);
    const down = clock.now();
    for (const d of devices) {
      if (!d.proxy.connected) throw new Error(`${d.id} was not online before the outage`);
      d.proxy.down();
    }
    await clock.advance(outageMs);
    const up = clock.now();
    for (const d of devices) d.proxy.up();
    // After an hour of failing the cap has grown (up to 15 min, modules/link/backoff.ts): wait that out.
    await clock.advance(20 * MINUTE);
    for (const d of devices) {
      attempts.push(d.attempts.filter((at) => at >= down && at < up).length);
      const back = d.record.hellos.find((at) => at >= up);
      if (back === undefined) throw new Error(`${d.id} did not come back within 20 minutes`);
      recover.push(back - up);
      await d.close();
    }
  }
  return { attempts, recover };
}

/** Battery mode through an hour's outage: attempts, and what they cost (ESP32 currents). */
async function batteryOutage(bench: FaultServer, seeds: number[], outageMs: number): Promise<BatteryOutage> {
  const clock = bench.clock;
  const attempts: number[] = [], radio: number[] = [], cpu: number[] = [];
  const charge = (ms: Record<Phase, number>, phases: Phase[]) => phases.reduce((sum, p) => sum + (ESP32[p] * 1000 * ms[p]) / 3_600_000, 0);
  for (let i = 0; i < seeds.length; i += GROUP) {
    const devices: FaultDevice[] = [];
    for (const seed of seeds.slice(i, i + GROUP)) {
      const device = await FaultDevice.start(bench, { id: `bench-battery-${seed}`, seed, config: BATTERY });
      devices.push(device);
      await device.device.boot();
    }
    await clock.advance(20 * MINUTE);
    const down = clock.now();
    const before = devices.map((d) => ({ ...d.device.hardware.energy.ms }));
    for (const d of devices) d.proxy.down();
    await clock.advance(outageMs);
    const up = clock.now();
    devices.forEach((d, k) => {
      const energy = d.device.hardware.energy;
      energy.microampHours(ESP32); // reading the meter accounts the time up to now
      const spent = Object.fromEntries(PHASES.map((p) => [p, energy.ms[p] - before[k][p]])) as Record<Phase, number>;
      attempts.push(d.attempts.filter((at) => at >= down && at < up).length);
      radio.push(charge(spent, ["joining", "active", "idle"]));
      cpu.push(charge(spent, ["cpu"]));
      d.proxy.up();
    });
    await clock.advance(30 * MINUTE);
    for (const d of devices) {
      if (!d.record.hellos.some((at) => at >= up)) throw new Error(`${d.id} did not come back within 30 minutes`);
      await d.close();
    }
  }
  const two = (values: number[]) => ({ median: percentile(values, 50), max: Math.max(...values) });
  return { seeds: seeds.length, attempts: two(attempts), radioMicroampHours: two(radio), cpuMicroampHours: two(cpu) };
}

export interface LinkBench {
  hour: OutageFigures[];
  short: OutageFigures;
  battery: BatteryOutage;
}

export async function linkBench(options: OutageOptions = {}): Promise<LinkBench> {
  const count = options.seeds ?? 100;
  const seeds = Array.from({ length: count }, (_, i) => i + 1);
  const hour = await outageBench(options);
  const bench = await FaultServer.start();
  try {
    const { attempts, recover } = await outage(bench, "thermocast", seeds, SHORT_OUTAGE);
    const short = { client: "thermocast", seeds: count, attempts: summary(attempts), recoverMs: summary(recover) };
    const battery = await batteryOutage(bench, seeds.slice(0, 12), HOUR);
    return { hour, short, battery };
  } finally {
    await bench.close();
  }
}

export function printLinkBench(figures: LinkBench): void {
  printOutage(figures.hour);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
  const ours = figures.hour[0];
  console.log(`  ≤${GOAL_ATTEMPTS} attempts over a 60-min outage: ${verdict(ours.attempts.median <= GOAL_ATTEMPTS)} ` +
    `(median ${ours.attempts.median}, p99 ${ours.attempts.p99}; ${(GOAL_ATTEMPTS / ours.attempts.median).toFixed(2)}x under the goal, ${(figures.hour[1].attempts.median / ours.attempts.median).toFixed(0)}x fewer than the baseline)`);
  const short = figures.short;
  const bound = CAP + HANDSHAKE;
  console.log(`  back within cap+handshake after a ${SHORT_OUTAGE / MINUTE}-min outage: ${verdict(short.recoverMs.max <= bound)} ` +
    `(max ${seconds(short.recoverMs.max)}, median ${seconds(short.recoverMs.median)}, bound ${seconds(bound)}; ${short.attempts.median} attempts at the median)`);
  const b = figures.battery;
  console.log(`  battery mode (batch 15, latency 15 min, ESP32 currents), a 60-min outage, ${b.seeds} seeds: ${b.attempts.median} attempts at the median (max ${b.attempts.max}), ` +
    `costing ${b.radioMicroampHours.median.toFixed(0)} µAh of radio (max ${b.radioMicroampHours.max.toFixed(0)}; ${(b.radioMicroampHours.median / b.attempts.median).toFixed(0)} µAh an attempt) and ${b.cpuMicroampHours.median.toFixed(0)} µAh of CPU awake in the hour`);
}

export async function outageBench(options: OutageOptions = {}): Promise<OutageFigures[]> {
  const count = options.seeds ?? 100;
  const outageMs = options.outageMs ?? HOUR;
  const seeds = Array.from({ length: count }, (_, i) => i + 1);
  const bench = await FaultServer.start();
  try {
    const figures: OutageFigures[] = [];
    for (const client of ["thermocast", "baseline"] as const) {
      const { attempts, recover } = await outage(bench, client, seeds, outageMs);
      figures.push({ client, seeds: count, attempts: summary(attempts), recoverMs: summary(recover) });
    }
    return figures;
  } finally {
    await bench.close();
  }
}

export function printOutage(figures: OutageFigures[], outageMs = HOUR): void {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const row = (cells: string[]) => console.log(`  ${cells[0].padEnd(44)}${cells.slice(1).map((c) => c.padStart(11)).join("")}`);
  console.log(`\nLink: a ${outageMs / MINUTE}-minute server outage (connections refused), ${figures[0].seeds} seeds each, virtual time against the real server`);
  row(["", "median", "p99", "max"]);
  for (const f of figures) {
    const name = f.client === "thermocast" ? "thermocast (full jitter, 1 s to 60 s, cap grows)" : "fixed 500 ms reconnect (arduinoWebSockets)";
    row([`${name}: attempts`, String(f.attempts.median), String(f.attempts.p99), String(f.attempts.max)]);
    row([`  recovery after the server returns`, seconds(f.recoverMs.median), seconds(f.recoverMs.p99), seconds(f.recoverMs.max)]);
  }
  const [ours, baseline] = figures;
  console.log(`  thermocast makes ${(baseline.attempts.median / ours.attempts.median).toFixed(0)}x fewer attempts (median), and comes back ` +
    `${seconds(ours.recoverMs.median - baseline.recoverMs.median)} later than the baseline at the median (after an hour its cap has grown: modules/link/backoff.ts)`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = performance.now();
  printLinkBench(await linkBench());
  console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s real time)`);
}
