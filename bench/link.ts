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

const MINUTE = 60_000, HOUR = 60 * MINUTE;
/** Devices side by side on one clock: the simulation waits on loopback I/O, so a few share it well. */
const GROUP = 4;

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
    await clock.advance(10 * MINUTE);
    for (const d of devices) {
      attempts.push(d.attempts.filter((at) => at >= down && at < up).length);
      const back = d.record.hellos.find((at) => at >= up);
      if (back === undefined) throw new Error(`${d.id} did not come back within 10 minutes`);
      recover.push(back - up);
      await d.close();
    }
  }
  return { attempts, recover };
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
    const name = f.client === "thermocast" ? "thermocast (full jitter, 1 s doubling to 60 s)" : "fixed 500 ms reconnect (arduinoWebSockets)";
    row([`${name}: attempts`, String(f.attempts.median), String(f.attempts.p99), String(f.attempts.max)]);
    row([`  recovery after the server returns`, seconds(f.recoverMs.median), seconds(f.recoverMs.p99), seconds(f.recoverMs.max)]);
  }
  const [ours, baseline] = figures;
  console.log(`  thermocast makes ${(baseline.attempts.median / ours.attempts.median).toFixed(0)}x fewer attempts (median), and comes back within its cap (60 s) + a handshake, ` +
    `${seconds(ours.recoverMs.median - baseline.recoverMs.median)} later than the baseline at the median`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = performance.now();
  const figures = await outageBench();
  printOutage(figures);
  console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s real time)`);
}
