/*
 * The temperature the simulated probe sees. By default the firmware's own seeded daily curve
 * (sensors/simulated/signal.ts), driven by virtual wall time instead of device ticks, so it does not
 * restart with each boot; a test may script `signal` instead. Every read is recorded in `samples`.
 */
import { ProbeSignal } from "../../sensors/simulated/signal";
import type { Clock } from "./clock";

export interface Sample {
  /** Virtual epoch ms of the read. */
  at: number;
  /** Centi-degrees Celsius, or a fault value (modules/protocol/values.ts). */
  value: number;
}

export class Probe {
  readonly samples: Sample[] = [];
  /** Centi-degrees (or a fault value) at virtual epoch ms `at`. */
  signal: (at: number) => number;
  #clock: Clock;
  #injected = 0;
  #injectedValue = 0;

  constructor(clock: Clock, seed: number) {
    this.#clock = clock;
    const curve = new ProbeSignal({ seed });
    this.signal = (at) => curve.read(at);
  }

  /** The next `reads` reads give `value` (a fault value), whatever the signal says. */
  inject(value: number, reads = 1): void {
    this.#injectedValue = value;
    this.#injected = reads;
  }

  read(): number {
    const at = this.#clock.now();
    const injected = this.#injected > 0;
    if (injected) this.#injected--;
    const value = injected ? this.#injectedValue : this.signal(at);
    this.samples.push({ at, value });
    return value;
  }
}
