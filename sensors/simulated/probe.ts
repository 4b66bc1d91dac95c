/*
 * The simulated probe: a TemperatureProbe over an injected signal (ECMA-419 style `options.sensor.io`).
 */
import type { SampleCallback, TemperatureProbe } from "../probe";

export interface SignalSource {
  read(ticks: number): number;
}

export interface SimulatedProbeOptions {
  sensor: { io: SignalSource };
  /** Device clock, so the signal can depend on time. */
  ticks: () => number;
}

export class SimulatedProbe implements TemperatureProbe {
  #io: SignalSource | undefined;
  #ticks: () => number;

  constructor(options: SimulatedProbeOptions) {
    this.#io = options.sensor.io;
    this.#ticks = options.ticks;
  }

  configure(): void {}

  sample(done: SampleCallback): void {
    if (!this.#io) throw new Error("closed");
    done(this.#io.read(this.#ticks()));
  }

  close(): void {
    this.#io = undefined;
  }
}
