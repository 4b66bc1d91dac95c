/*
 * The simulated probe: a TemperatureProbe over an injected signal (ECMA-419 style `options.sensor.io`).
 * Noise, drift, steps and faults are the signal's business (signal.ts); this counts what it reports.
 */
import type { SampleCallback, TemperatureProbe } from "../probe";
import { FaultCounter } from "../faults";

export interface SignalSource {
  read(ticks: number): number;
}

export interface SimulatedProbeOptions {
  sensor: { io: SignalSource };
  /** Device clock, so the signal can depend on time. */
  ticks: () => number;
  faults?: FaultCounter;
}

export class SimulatedProbe implements TemperatureProbe {
  readonly faults: FaultCounter;
  #io: SignalSource | undefined;
  #ticks: () => number;

  constructor(options: SimulatedProbeOptions) {
    this.#io = options.sensor.io;
    this.#ticks = options.ticks;
    this.faults = options.faults ?? new FaultCounter();
  }

  readonly conversionTime = 0;

  configure(): void {}

  sample(done: SampleCallback): void {
    if (!this.#io) throw new Error("closed");
    done(this.faults.count(this.#io.read(this.#ticks())));
  }

  close(): void {
    this.#io = undefined;
  }
}
