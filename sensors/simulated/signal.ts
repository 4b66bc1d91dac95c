/*
 * The simulated probe's signal on a board or in the Moddable simulator: a slow daily swing with a little
 * seeded noise, so runs are repeatable. The Node simulator replaces this module with
 * simulator/hardware/probe-signal.ts, which scripts temperatures and faults and records sample times.
 */
export interface SignalOptions {
  seed: number;
}

const DAY_MS = 86400000;

export class ProbeSignal {
  #state: number;

  constructor(options: SignalOptions) {
    this.#state = options.seed >>> 0 || 1;
  }

  /** Centi-degrees at device time `ticks`, or a fault value. */
  read(ticks: number): number {
    // xorshift32: tiny and deterministic on every engine.
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    const noise = (this.#state % 7) - 3;
    const swing = Math.round(300 * Math.sin((2 * Math.PI * (ticks % DAY_MS)) / DAY_MS));
    return 2150 + swing + noise;
  }
}
