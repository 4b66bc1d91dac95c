/*
 * FaultCounter: what a probe reported, for the device's status report. Counters are fixed-size typed
 * arrays indexed by fault kind (modules/protocol/values), so counting allocates nothing.
 */
import { FAULT_NAMES, Fault, faultKind, faultValue, isFault, type FaultKind } from "../modules/protocol/values";

const KINDS = FAULT_NAMES.length;

export interface FaultReport {
  /** Readings reported, faults included. */
  n: number;
  /** Fault readings reported, by fault name; kinds never seen are left out. */
  faults: Record<string, number>;
  /** Retries made, by the fault that caused them. */
  retries: Record<string, number>;
}

export class FaultCounter {
  /** Readings reported, faults included. */
  readings = 0;
  /** Fault readings reported, indexed by FaultKind. */
  readonly counts = new Uint32Array(KINDS);
  /** Retries made, indexed by the FaultKind that caused them. */
  readonly retries = new Uint32Array(KINDS);

  /** Counts a reported value (a temperature or a fault) and returns it. */
  count(value: number): number {
    this.readings++;
    if (isFault(value)) this.add(faultKind(value));
    return value;
  }

  /** Counts one fault of `kind` for a reading already counted (a wrapper that re-judges it, e.g. stuck). */
  add(kind: FaultKind): void {
    if (kind < KINDS) this.counts[kind]++;
  }

  retry(kind: FaultKind): void {
    if (kind < KINDS) this.retries[kind]++;
  }

  total(): number {
    let sum = 0;
    for (let i = 0; i < KINDS; i++) sum += this.counts[i];
    return sum;
  }

  report(): FaultReport {
    const faults: Record<string, number> = {};
    const retries: Record<string, number> = {};
    for (let i = 0; i < KINDS; i++) {
      if (this.counts[i]) faults[FAULT_NAMES[i]] = this.counts[i];
      if (this.retries[i]) retries[FAULT_NAMES[i]] = this.retries[i];
    }
    return { n: this.readings, faults, retries };
  }

  reset(): void {
    this.readings = 0;
    this.counts.fill(0);
    this.retries.fill(0);
  }
}

/**
 * The sample a driver has under way: its callback and the retries it has left. The drivers that sample
 * asynchronously (DS18B20, the I2C one-shot chips, a powered NTC) keep one each; it allocates nothing.
 */
export class SampleInProgress {
  readonly #faults: FaultCounter;
  #done: ((value: number, more?: ArrayLike<number>) => void) | undefined;
  #retriesLeft = 0;

  constructor(faults: FaultCounter) {
    this.#faults = faults;
  }

  /**
   * Takes `done` with a budget of `retries`. False when a sample is still under way: `done` is then answered
   * at once with a timeout, and the new slot gets no reading of its own.
   */
  begin(done: (value: number, more?: ArrayLike<number>) => void, retries: number): boolean {
    if (this.#done) {
      done(this.#faults.count(faultValue(Fault.Timeout)));
      return false;
    }
    this.#done = done;
    this.#retriesLeft = retries;
    return true;
  }

  /** Spends a retry on `kind`, counted; false when none is left. */
  retry(kind: FaultKind): boolean {
    if (this.#retriesLeft <= 0) return false;
    this.#retriesLeft--;
    this.#faults.retry(kind);
    return true;
  }

  /** Answers the sample under way with `value`, counted, and a multi-channel probe's channels 1… (faults counted). */
  finish(value: number, more?: ArrayLike<number>): void {
    const done = this.#done;
    this.#done = undefined;
    if (more) for (let c = 0; c < more.length; c++) if (isFault(more[c])) this.#faults.add(faultKind(more[c]));
    done?.(this.#faults.count(value), more);
  }

  /** Forgets the sample under way, unanswered (the driver is closing). */
  cancel(): void {
    this.#done = undefined;
  }
}
