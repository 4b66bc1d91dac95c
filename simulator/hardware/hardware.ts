/*
 * Hardware: everything one simulated board owns, and all the Moddable fakes (simulator/moddable/) talk
 * to, through `globalThis.__hardware` inside the device's vm context.
 *
 * What is physical outlives a run of the firmware: flash (preferences), the probe's surroundings, the
 * console record, and RTC memory, which keeps its bytes through deep sleep and soft resets but holds
 * noise after a power loss (RTC_NOINIT, modules/host/native/esp32/power.c). What belongs to one run
 * (timers, Wi-Fi association, sockets, the tick counter) ends with it.
 */
import { types } from "node:util";
import { mapStack } from "../sourcemap";
import type { Clock, ClockTimer } from "./clock";
import { Network } from "./network";
import { Preferences, type Platform } from "./preferences";
import { Probe } from "./probe";
import { BoardIo } from "./io";
import { SerialPort } from "./serial";
import { DeviceTimers } from "./timers";
import { Trace } from "./trace";
import { Radio } from "./wifi";
import { BOOT_MS, EnergyMeter } from "./energy";
import { mulberry32 as generator } from "./random";
import type { Board } from "./board";
import type { DeviceEvent } from "../../modules/host/events";

export interface HardwareOptions {
  id: string;
  clock: Clock;
  /** The manifest's `config.thermocast` object: what `mc/config` holds under `thermocast`. */
  config: Readonly<Record<string, unknown>>;
  /** Seeds the probe's default curve, Math.random and the noise in RTC memory. */
  seed?: number;
  /** Top-level `mc/config` entries beside `thermocast`: e.g. `console` to open the serial console, `chip`. */
  manifest?: Readonly<Record<string, unknown>>;
  /** Echo the console to stdout. */
  echo?: boolean;
  platform?: Platform;
  /** Keep the flash in this JSON file. */
  preferencesFile?: string;
}

/** Why the firmware last started, as Power.resetReason() says it (docs/protocol.md, `rr`). */
export type ResetReason = "power-on" | "deep-sleep" | "software" | "watchdog" | "panic" | "brownout";

/** An event the firmware reported (modules/host/events.ts), with the virtual time it did. */
export type TimedEvent = DeviceEvent & { readonly at: number };

/** How a run of the firmware ended. */
export type RunEnd = "deep sleep" | "restart" | "reset" | "halted" | "power off";
export interface Run {
  start: number;
  end: number;
  reason: ResetReason;
  ended: RunEnd;
}

/** RTC memory the firmware may keep (modules/host/native/<platform>/power.c). */
const RETAINED_BYTES: Record<Platform, number> = { esp32: 4096, esp8266: 472, lin: 4096 };
/** The longest deep sleep the native module takes, ms (Power.maxSleep in modules/host/native/<platform>/power.js). */
const MAX_SLEEP_MS: Record<Platform, number> = { esp32: 0x7fffffff, esp8266: 3600000, lin: 0x7fffffff };


export class Hardware implements Board {
  readonly id: string;
  readonly clock: Clock;
  readonly seed: number;
  readonly platform: Platform;
  /** What `mc/config` exports. */
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly preferences: Preferences;
  readonly probe: Probe;
  /** What is wired to the pins for the probe drivers: 1-Wire, I2C, ADC (native/probe-io). */
  readonly io: BoardIo;
  readonly trace: Trace;
  /** The firmware's events, across runs: what tests read instead of the console's wording. */
  readonly events: TimedEvent[] = [];
  /** Told of each event as it is reported (the fault rig's timeline). */
  onEvent: ((event: TimedEvent) => void) | undefined;
  readonly timers = new DeviceTimers(this);
  readonly wifi = new Radio(this);
  readonly network = new Network(this);
  readonly serial = new SerialPort(this);
  /** Time in each power state, for the power model (docs/power.md). */
  readonly energy: EnergyMeter;
  readonly mac: string;
  readonly address: string;
  /** Time.ticks when the firmware starts. Boards start at 0; set near 2 ** 32 to test the wrap. */
  ticksAtBoot = 0;
  /** Firmware starts so far: cold boots, wakes and restarts. */
  boots = 0;
  /** The longest a run (a wake) lasted, in virtual ms: the awake cap's check. */
  longestRun = 0;
  /** Each run of the firmware that ended: its virtual start and end, why it started, and how it ended. */
  readonly runs: Run[] = [];
  resetReason: ResetReason = "power-on";
  /** WakeState commits reported through Power.commit (modules/power/retained.ts), across runs. */
  retainedCommits = 0;
  /** The exception that halted the firmware in this run, as XS aborts on an unhandled one. */
  crash: Error | undefined;
  /** Starts the firmware again after a wake or a restart (SimDevice sets it). */
  onReset: ((reason: ResetReason) => void) | undefined;
  #powered = false;
  #bootAt = 0;
  #pending = new Set<ClockTimer>();
  #random: () => number = Math.random;
  #retained: ArrayBuffer | undefined;
  #wake: ClockTimer | undefined;

  constructor(options: HardwareOptions) {
    this.id = options.id;
    this.clock = options.clock;
    this.seed = options.seed ?? 1;
    this.platform = options.platform ?? "esp32";
    this.manifest = { file: { root: `/sim/${options.id}/` }, ...options.manifest, thermocast: { ...options.config } };
    this.preferences = new Preferences(this.platform);
    if (options.preferencesFile) this.preferences.attach(options.preferencesFile);
    this.probe = new Probe(options.clock, this.seed);
    this.io = new BoardIo(() => this.clock.now(), () => this.boots);
    this.energy = new EnergyMeter(options.clock);
    this.trace = new Trace(() => `${new Date(this.clock.now()).toISOString()} ${this.id}`, options.echo);
    const byte = (n: number) => ((Math.imul(this.seed, 2654435761) >>> n) & 0xff).toString(16).padStart(2, "0");
    this.mac = `24:0a:c4:${byte(0)}:${byte(8)}:${byte(16)}`;
    this.address = `192.168.4.${2 + ((this.seed >>> 0) % 250)}`;
  }

  /** The firmware is running. */
  get powered(): boolean {
    return this.#powered;
  }
  /** In deep sleep, waiting for its wake timer. */
  get sleeping(): boolean {
    return this.#wake !== undefined;
  }

  /** Starts a run of the firmware's board: `reason` "power-on" is a cold boot. */
  powerOn(reason: ResetReason = "power-on"): void {
    if (this.#powered) throw new Error(`${this.id} is already powered`);
    this.#powered = true;
    this.boots++;
    this.resetReason = reason;
    this.crash = undefined;
    this.#bootAt = this.clock.now();
    this.energy.set("cpu");
    this.energy.charge("cpu", BOOT_MS);
    this.clock.clearTimer(this.#wake);
    this.#wake = undefined;
    // Repeatable, yet not the same sequence in every run.
    this.#random = generator(Math.imul(this.seed, 2654435761) ^ this.boots);
    this.trace.line(`[sim] ${reason} (start ${this.boots})`);
  }

  /** Power loss: the run ends, a pending wake with it, and RTC memory forgets. */
  powerOff(): void {
    const asleep = this.#wake !== undefined;
    this.clock.clearTimer(this.#wake);
    this.#wake = undefined;
    this.#retained = undefined;
    this.energy.set("off");
    if (asleep) this.trace.line("[sim] power off");
    else this.#stop("power off", "power off");
  }

  get maxSleepMs(): number {
    return MAX_SLEEP_MS[this.platform];
  }

  /**
   * Power.deepSleep: the run ends; after `ms` the firmware starts again, RTC memory intact. As the chips'
   * timers do, ESP8266 takes µs in a uint32: a longer sleep wraps and the chip wakes early.
   */
  deepSleep(ms: number): void {
    if (!this.#powered) return;
    if (this.platform === "esp8266") ms = ((ms * 1000) % 2 ** 32) / 1000;
    this.#stop("deep sleep", `deep sleep ${ms} ms`);
    this.energy.set("sleep");
    this.#wake = this.clock.setTimer(() => {
      this.#wake = undefined;
      this.onReset?.("deep-sleep");
    }, Math.max(1, ms));
  }

  /**
   * `host/report` (simulator/moddable/report.ts): the record, copied out of the firmware's vm realm (so
   * that deepStrictEqual holds against a test's own objects), and its line on the console as a board traces it.
   */
  report(event: DeviceEvent, text: string): void {
    const timed: TimedEvent = { ...structuredClone(event), at: this.clock.now() };
    this.events.push(timed);
    this.onEvent?.(timed);
    this.trace.write(text, "\n");
  }

  /** Power.restart: a software reset, at once (from a fresh turn, outside the caller's stack). */
  restart(): void {
    if (!this.#powered) return;
    this.#stop("restart", "restart");
    this.#wake = this.clock.setTimer(() => {
      this.#wake = undefined;
      this.onReset?.("software");
    }, 0);
  }

  /**
   * A reset from outside the firmware at this instant: a watchdog, a panic, a brownout. The run ends where it
   * is (its timers, sockets and Wi-Fi go, whatever it was doing); RTC memory keeps its bytes as they are now;
   * the firmware starts again at once with `reason`. Returns false when the firmware was not running (asleep
   * or off): nothing happens then.
   */
  reset(reason: Exclude<ResetReason, "power-on" | "deep-sleep">): boolean {
    if (!this.#powered) return false;
    this.#stop("reset", `reset: ${reason}`);
    this.#wake = this.clock.setTimer(() => {
      this.#wake = undefined;
      this.onReset?.(reason);
    }, 0);
    return true;
  }

  /** Power.retained: RTC memory, the same bytes across sleeps and restarts; noise after power-on. */
  retained(bytes: number): ArrayBuffer | undefined {
    const size = RETAINED_BYTES[this.platform];
    if (!(bytes >= 0 && bytes <= size)) return undefined;
    if (!this.#retained) {
      const noise = generator(this.seed ^ 0x5eed);
      this.#retained = new ArrayBuffer(size);
      new Uint8Array(this.#retained).forEach((_, i, all) => (all[i] = (noise() * 256) | 0));
    }
    return this.#retained;
  }

  now(): number {
    return this.clock.now();
  }

  /** Time.ticks: ms since the firmware started, a 32-bit counter as on the boards. */
  ticks(): number {
    return (this.ticksAtBoot + this.clock.now() - this.#bootAt) % 4294967296;
  }

  random(): number {
    return this.#random();
  }

  /** A hardware event `ms` from now in this run; the run's end cancels it. */
  after(ms: number, action: () => void): ClockTimer | undefined {
    if (!this.#powered) return undefined;
    const timer = this.clock.setTimer(() => {
      this.#pending.delete(timer);
      if (this.#powered) action();
    }, ms, "device");
    this.#pending.add(timer);
    return timer;
  }

  cancel(timer: ClockTimer | undefined): void {
    if (!timer || !this.#pending.delete(timer)) return;
    this.clock.clearTimer(timer);
  }

  /**
   * Runs firmware code. An exception it does not catch halts the device, as XS aborts on an unhandled
   * exception (mcsim stays up but runs nothing more); the clock's run reports it unless `quiet`.
   */
  run(action: () => void, quiet = false): void {
    if (!this.#powered) return;
    try {
      action();
    } catch (thrown) {
      // Errors from the vm context are not instances of this realm's Error.
      const error = types.isNativeError(thrown) ? (thrown as Error) : new Error(String(thrown));
      if (error.stack) error.stack = mapStack(error.stack);
      this.crash = error;
      this.trace.flush();
      this.trace.line(`XS abort: unhandled exception: ${error.message}`);
      this.#stop("halted", "halted");
      if (!quiet) this.clock.fault(new Error(`${this.id} halted: ${error.message}`, { cause: error }));
    }
  }

  /** The run ends (`ended`); `note` is the console's `[sim]` line. */
  #stop(ended: RunEnd, note: string): void {
    if (!this.#powered) return;
    this.#powered = false;
    const now = this.clock.now();
    this.longestRun = Math.max(this.longestRun, now - this.#bootAt);
    this.runs.push({ start: this.#bootAt, end: now, reason: this.resetReason, ended });
    for (const timer of this.#pending) this.clock.clearTimer(timer);
    this.#pending.clear();
    this.network.powerOff();
    this.wifi.powerOff();
    this.serial.powerOff();
    this.energy.set("off");
    this.trace.flush();
    this.trace.line(`[sim] ${note}`);
  }
}
