/*
 * FaultCounter: what a probe reported, for the device's status report. Counters are fixed-size typed
 * arrays indexed by fault kind (modules/protocol/values), so counting allocates nothing.
 */
import { FAULT_NAMES, faultKind, isFault, type FaultKind } from "../modules/protocol/values";

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
