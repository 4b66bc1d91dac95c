/*
 * The simulated probe's signal on a board or in the Moddable simulator: a slow daily swing with a little
 * seeded noise, so runs are repeatable. The Node simulator replaces this module with
 * simulator/moddable/probe-signal.ts, which scripts temperatures and faults and records sample times.
 *
 * Everything else is data in the options: drift, steps and fault windows, so a scenario is a value that can
 * be written down; `inject` adds faults on demand (the next n reads).
 */
import { faultValue, type FaultKind } from "../../modules/protocol/values";

/** From device time `at` (ms) on, the temperature is `delta` centi-degrees higher. */
export interface SignalStep {
  at: number;
  delta: number;
}

/** Reads at device times in [from, until) give fault `kind` instead of a temperature. */
export interface SignalFault {
  from: number;
  until: number;
  kind: FaultKind;
}

export interface SignalOptions {
  seed: number;
  /** Mean temperature, centi-degrees; default 2150. */
  base?: number;
  /** Amplitude of the daily swing, centi-degrees; default 300. */
  swing?: number;
  /** Period of the swing, ms; default one day. */
  period?: number;
  /** Uniform noise, ± centi-degrees; default 3. */
  noise?: number;
  /** Linear drift, centi-degrees per hour (device time); default 0. */
  drift?: number;
  steps?: readonly SignalStep[];
  faults?: readonly SignalFault[];
}

const DAY_MS = 86400000;
const HOUR_MS = 3600000;
const NO_STEPS: readonly SignalStep[] = Object.freeze([]);
const NO_FAULTS: readonly SignalFault[] = Object.freeze([]);

export class ProbeSignal {
  #state: number;
  #base: number;
  #swing: number;
  #period: number;
  #noise: number;
  #drift: number;
  #steps: readonly SignalStep[];
  #faults: readonly SignalFault[];
  #injected = 0;
  #injectedKind = 0 as FaultKind;

  constructor(options: SignalOptions) {
    this.#state = options.seed >>> 0 || 1;
    this.#base = options.base ?? 2150;
    this.#swing = options.swing ?? 300;
    this.#period = options.period ?? DAY_MS;
    this.#noise = Math.max(0, Math.floor(options.noise ?? 3));
    this.#drift = options.drift ?? 0;
    this.#steps = options.steps ?? NO_STEPS;
    this.#faults = options.faults ?? NO_FAULTS;
  }

  /** The next `reads` reads give fault `kind`. */
  inject(kind: FaultKind, reads = 1): void {
    this.#injectedKind = kind;
    this.#injected = reads;
  }

  /** Centi-degrees at device time `ticks`, or a fault value. */
  read(ticks: number): number {
    // xorshift32: tiny and deterministic on every engine. It advances on every read, faults included,
    // so a fault window does not shift the noise that follows it.
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    if (this.#injected > 0) {
      this.#injected--;
      return faultValue(this.#injectedKind);
    }
    for (const fault of this.#faults) if (ticks >= fault.from && ticks < fault.until) return faultValue(fault.kind);
    const noise = (this.#state % (2 * this.#noise + 1)) - this.#noise;
    const swing = Math.round(this.#swing * Math.sin((2 * Math.PI * (ticks % this.#period)) / this.#period));
    let value = this.#base + swing + noise + Math.round((this.#drift * ticks) / HOUR_MS);
    for (const step of this.#steps) if (ticks >= step.at) value += step.delta;
    return value;
  }
}
