/*
 * Replaces sensors/simulated/signal.ts in the simulator: the temperature comes from the board's probe
 * (hardware/probe.ts), which tests script and which records every read.
 */
import { faultValue, type FaultKind } from "../../modules/protocol/values";
import { hardware } from "./hardware";

/** The firmware's options (sensors/simulated/signal.ts) are accepted; the board's probe decides the values. */
export interface SignalOptions {
  seed: number;
  [option: string]: unknown;
}

export class ProbeSignal {
  constructor(_options: SignalOptions) {}

  /** The next `reads` reads give fault `kind`. */
  inject(kind: FaultKind, reads = 1): void {
    hardware().probe.inject(faultValue(kind), reads);
  }

  /** Centi-degrees, or a fault value; the board's probe knows the virtual time itself. */
  read(_ticks: number): number {
    return hardware().probe.read();
  }
}
