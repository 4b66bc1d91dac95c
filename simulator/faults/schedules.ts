/*
 * Random fault schedules for the property test (tests/e2e/faults-property.test.ts): what fast-check draws,
 * how a draw becomes faults on a timeline, and the checks each schedule must pass once run. Several
 * schedules run side by side on one virtual clock, each with its own device and fault proxy.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { FaultDevice, type FaultServer, delivery, happeningText } from "./rig";
import { PONG_TIMEOUT, WIFI_TIMEOUT } from "../../modules/link/link";
import { Backoff, OUTAGE_CAP } from "../../modules/link/backoff";

const SECOND = 1000, MINUTE = 60 * SECOND, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
export const SAMPLE_S = 300;
export const LATENCY_S = 3600;
export const HEARTBEAT_S = 1800;
/** Wi-Fi association and DHCP (2 s in the simulated radio) and the upgrade. */
const HANDSHAKE = 5 * SECOND;
/** Any phase in progress when a fault ends notices within this (Wi-Fi join 20 s; connect, handshake, ack 10 s). */
const PHASE = WIFI_TIMEOUT;

const WINDOWS = ["down", "blackhole", "delay", "dns", "wifi", "no-acks"] as const;
const INSTANTS = ["reset", "cut-up", "cut-down", "corrupt-up", "corrupt-down", "close", "half-open", "bogus-ack", "wifi-drop"] as const;
type Kind = (typeof WINDOWS)[number] | (typeof INSTANTS)[number];
const CLOSE_CODES = [1000, 1001, 1003, 1008, 1009, 1011, 4001, 4003, 4004, 4008, 4009];
const DELAYS = [300, 2000, 15000];
const BACKOFFS: [base: number, cap: number][] = [[500, 60 * SECOND], [1000, 60 * SECOND], [2000, 120 * SECOND]];

export interface FaultDraw {
  kind: Kind;
  /** Minutes after boot it would like to strike (moved later when the one before it is not over). */
  at: number;
  minutes: number;
  /**
   * 0 makes a Wi-Fi outage long: 40 to 48 hours, past what the store holds (512 readings, 42.7 hours at
   * one every 5 minutes), so the overflow policy is exercised. Long outages are Wi-Fi ones because a
   * failed join costs no socket: two days of retries stay cheap to simulate.
   */
  long: number;
  param: number;
}

export interface ScheduleDraw {
  seed: number;
  backoff: number;
  days: number;
  faults: FaultDraw[];
}

export const faultDraw: fc.Arbitrary<FaultDraw> = fc.record({
  kind: fc.constantFrom<Kind>(...WINDOWS, ...INSTANTS),
  at: fc.integer({ min: 0, max: 3 * 1440 }),
  minutes: fc.integer({ min: 1, max: 120 }),
  long: fc.integer({ min: 0, max: 7 }),
  param: fc.nat({ max: 1000 }),
});

export const scheduleDraw: fc.Arbitrary<ScheduleDraw> = fc.record({
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  backoff: fc.nat({ max: BACKOFFS.length - 1 }),
  days: fc.integer({ min: 2, max: 3 }),
  faults: fc.array(faultDraw, { minLength: 1, maxLength: 6 }),
});

/** A fault placed on the timeline: strikes at `start`, ends at `end` (equal for an instant one). */
export interface Placed {
  kind: Kind;
  start: number;
  end: number;
  param: number;
  /** Online again by this time. */
  backBy: number;
}

export function place(draw: ScheduleDraw, boot: number): { faults: Placed[]; horizon: number } {
  const [, cap] = BACKOFFS[draw.backoff];
  const horizon = boot + draw.days * DAY;
  const faults: Placed[] = [];
  let free = boot + 10 * MINUTE;
  for (const f of [...draw.faults].sort((a, b) => a.at - b.at)) {
    const start = Math.max(boot + f.at * MINUTE, free);
    const windowed = (WINDOWS as readonly string[]).includes(f.kind);
    const length = !windowed ? 0 : f.kind === "wifi" && f.long === 0 ? 40 * HOUR + (f.minutes % 8) * HOUR : f.minutes * MINUTE;
    const end = start + length;
    const notice = f.kind === "half-open" ? HEARTBEAT_S * SECOND + PONG_TIMEOUT : f.kind === "delay" ? PHASE + DELAYS[f.param % DELAYS.length] : PHASE;
    // A long outage grows the backoff's cap (modules/link/backoff.ts) to a quarter of the delays waited,
    // which never add up to more than the outage's length.
    const grown = Math.max(cap, Math.min(OUTAGE_CAP, Math.floor(length / 4)));
    const backBy = (f.kind === "half-open" ? start : end) + notice + grown + HANDSHAKE;
    if (backBy + 10 * MINUTE > horizon) break;
    faults.push({ kind: f.kind, start, end, param: f.param, backBy });
    free = backBy + 5 * MINUTE;
  }
  return { faults, horizon };
}

/** One schedule: its device, its placed faults, and what it struck. */
export class Run {
  readonly draw: ScheduleDraw;
  readonly device: FaultDevice;
  readonly faults: Placed[];
  readonly horizon: number;
  readonly base: number;
  readonly cap: number;

  constructor(draw: ScheduleDraw, device: FaultDevice, faults: Placed[], horizon: number) {
    this.draw = draw;
    this.device = device;
    this.faults = faults;
    this.horizon = horizon;
    [this.base, this.cap] = BACKOFFS[draw.backoff];
  }

  describe(): string {
    const at = (ms: number) => `${((ms - this.faults[0]?.start + 0) / MINUTE).toFixed(1)}min`;
    return `${this.device.id} backoff ${this.base}/${this.cap} days ${this.draw.days}: ` +
      this.faults.map((f) => `${f.kind}(${f.param}) ${at(f.start)}..${at(f.end)}`).join(", ");
  }

  async strike(f: Placed): Promise<void> {
    const { proxy, device } = this.device;
    const radio = device.hardware.wifi;
    switch (f.kind) {
      case "down": return proxy.down();
      case "blackhole": return proxy.blackhole(true);
      case "delay":
        proxy.reset();
        return proxy.delay(DELAYS[f.param % DELAYS.length]);
      case "dns":
        this.device.dnsDown = true;
        return proxy.reset();
      case "wifi":
        radio.accessPoint = undefined;
        return radio.drop();
      case "no-acks": return proxy.dropAcks(true);
      case "reset": return proxy.reset();
      case "cut-up": return proxy.cutNextFrame("up");
      case "cut-down": return proxy.cutNextFrame("down");
      case "corrupt-up": return proxy.corruptNextFrame("up");
      case "corrupt-down": return proxy.corruptNextFrame("down");
      case "close": return proxy.closeWith(CLOSE_CODES[f.param % CLOSE_CODES.length], "fault");
      case "half-open": return proxy.halfOpen();
      case "bogus-ack": return proxy.inject(`{"t":"ack","s":${100000 + f.param}}`);
      case "wifi-drop": return radio.drop();
    }
  }

  async heal(f: Placed): Promise<void> {
    const { proxy, device } = this.device;
    switch (f.kind) {
      case "down": return proxy.up();
      case "blackhole": return proxy.blackhole(false);
      case "delay": return proxy.delay(0);
      case "dns":
        this.device.dnsDown = false;
        return;
      case "wifi":
        device.hardware.wifi.accessPoint = {};
        return;
      case "no-acks": return proxy.dropAcks(false);
    }
  }

  checkBack(f: Placed): void {
    assert.ok(this.device.proxy.connected, `${this.describe()}\n${f.kind} ended ${(f.end - f.start) / MINUTE} min after it struck: not back online by ${(f.backBy - f.end) / SECOND} s after\n${this.tail()}`);
  }

  checkAttempts(): { hours: number; attempts: number } {
    let hours = 0, total = 0;
    const ramp = Math.ceil(Math.log2(this.cap / this.base)) + 1;
    for (const f of this.faults) {
      if (f.kind !== "down" && f.kind !== "dns" && f.kind !== "wifi") continue;
      const d = f.end - f.start;
      const attempts = this.device.events.filter((e) => (e.kind === "connect" || e.kind === "join") && e.at >= f.start && e.at <= f.end).length;
      const bound = ramp + 1 + (3 * d) / this.cap + 10;
      assert.ok(attempts <= bound, `${this.describe()}\n${f.kind} of ${d / MINUTE} min: ${attempts} attempts, bound ${bound}`);
      hours += d / HOUR;
      total += attempts;
    }
    return { hours, attempts: total };
  }

  checkBackoff(): number {
    const hellos = this.device.record.hellos;
    let previous: { at: number; boundMs: number } | undefined;
    const model = new Backoff(this.base, this.cap);
    const retries = this.device.retries();
    for (const retry of retries) {
      const where = `${this.describe()}\nretry at ${retry.at}: ${retry.delayMs} of ${retry.boundMs} (${retry.reason})`;
      assert.ok(retry.delayMs >= 0 && retry.delayMs < retry.boundMs && retry.boundMs <= Math.max(this.cap, OUTAGE_CAP), where);
      const confirmedSince = previous === undefined || hellos.some((h) => h > previous!.at && h <= retry.at);
      // The bounds are the backoff's own, attempt after attempt; they start over at base only after a hello.
      if (retry.boundMs === this.base && confirmedSince) model.reset();
      assert.equal(retry.boundMs, model.bound(), `${where}: bound after ${previous?.boundMs}, attempt ${model.attempt}`);
      model.attempt++;
      model.waited += retry.delayMs;
      previous = retry;
      const next = this.device.events.slice(retry.seq + 1).find((e) => e.kind === "join" || e.kind === "connect");
      if (next) assert.equal(next.at, retry.at + retry.delayMs, `${where}: the next attempt came ${next.at - retry.at} ms later`);
    }
    assert.ok(!this.device.events.some((e) => e.kind === "link.suspended"), `${this.describe()}: no transient fault suspends the link`);
    return retries.length;
  }

  checkDelivery(): { sampled: number; dropped: number } {
    // Dated by age at receipt: a frame a fault held is dated late by as long as it was held.
    let tolerance = SECOND;
    for (const f of this.faults) {
      if (f.kind === "delay") tolerance = Math.max(tolerance, SECOND + DELAYS[f.param % DELAYS.length]);
      if (f.kind === "blackhole") tolerance = Math.max(tolerance, SECOND + 10 * SECOND);
    }
    const report = delivery(this.device, this.horizon, tolerance);
    const where = `${this.describe()}\n${JSON.stringify({ ...report, missing: report.missing.length })}`;
    assert.deepEqual(report.duplicated, [], `none stored twice: ${where}`);
    assert.deepEqual(report.wrong, [], `every stored value is the one sampled: ${where}`);
    assert.equal(report.strays, 0, `no row that matches no sample: ${where}`);
    assert.equal(report.missing.length, report.dropped, `missing only what overflow dropped, and said so: ${where}`);
    assert.equal(report.stored + report.missing.length, report.sampled, where);
    assert.equal(this.device.device.crash, undefined, `the firmware did not halt: ${where}`);
    return { sampled: report.sampled, dropped: report.dropped };
  }

  tail(): string {
    return this.device.events.slice(-12).map((e) => `  ${happeningText(e)}`).join("\n");
  }
}

/** What all schedules run so far add up to, for the test's report. */
export interface Totals {
  schedules: number;
  days: number;
  faults: Map<string, number>;
  outageHours: number;
  outageAttempts: number;
  retries: number;
  sampled: number;
  dropped: number;
}

export function newTotals(): Totals {
  return { schedules: 0, days: 0, faults: new Map(), outageHours: 0, outageAttempts: 0, retries: 0, sampled: 0, dropped: 0 };
}

let serial = 0;

/** Runs `draws` side by side on the bench's clock; throws (an assertion) on the first schedule that fails a check. */
export async function runSchedules(bench: FaultServer, draws: ScheduleDraw[], totals: Totals): Promise<void> {
  const clock = bench.clock;
  const boot = clock.now();
  const runs: Run[] = [];
  try {
    for (const draw of draws) {
      const id = `prop-${++serial}`;
      const [base, cap] = BACKOFFS[draw.backoff];
      const device = await FaultDevice.start(bench, {
        id, seed: draw.seed,
        config: {
          "sample.interval": SAMPLE_S, "batch.size": 12, "batch.latency": LATENCY_S, "link.heartbeat": HEARTBEAT_S,
          "link.backoff.base": base, "link.backoff.cap": cap,
        },
      });
      const { faults, horizon } = place(draw, boot);
      runs.push(new Run(draw, device, faults, horizon));
      await device.device.boot();
    }
    // One timeline for all: strike, heal, and check each fault's recovery, in time order.
    const steps: { at: number; order: number; act: () => Promise<void> | void }[] = [];
    for (const run of runs) {
      for (const f of run.faults) {
        steps.push({ at: f.start, order: 0, act: () => run.strike(f) });
        if (f.end > f.start) steps.push({ at: f.end, order: 1, act: () => run.heal(f) });
        steps.push({ at: f.backBy, order: 2, act: () => run.checkBack(f) });
      }
    }
    steps.sort((a, b) => a.at - b.at || a.order - b.order);
    for (const step of steps) {
      await clock.runUntil(step.at);
      await step.act();
    }
    // Past the last horizon by the longest a reading waits, so every reading sampled by then went out.
    const end = Math.max(...runs.map((r) => r.horizon)) + LATENCY_S * SECOND + 10 * MINUTE;
    await clock.runUntil(end);
    for (const run of runs) {
      const { hours, attempts } = run.checkAttempts();
      totals.retries += run.checkBackoff();
      const { sampled, dropped } = run.checkDelivery();
      totals.outageHours += hours;
      totals.outageAttempts += attempts;
      totals.sampled += sampled;
      totals.dropped += dropped;
      totals.schedules++;
      totals.days += run.draw.days;
      for (const f of run.faults) totals.faults.set(f.kind, (totals.faults.get(f.kind) ?? 0) + 1);
    }
  } finally {
    for (const run of runs) await run.device.close();
  }
}

