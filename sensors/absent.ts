/*
 * AbsentProbe: what the firmware samples when the configured probe cannot be opened (no probe I/O on this
 * platform, a pin the SDK refuses). Every sample is a NoDevice fault, counted: the slot says what went
 * wrong instead of holding a made-up temperature.
 */
import { Fault, faultValue } from "../modules/protocol/values";
import type { SampleCallback, TemperatureProbe } from "./probe";
import { FaultCounter } from "./faults";

export class AbsentProbe implements TemperatureProbe {
  readonly faults: FaultCounter;
  readonly conversionTime = 0;

  constructor(options: { faults?: FaultCounter } = {}) {
    this.faults = options.faults ?? new FaultCounter();
  }

  configure(): void {}

  sample(done: SampleCallback): void {
    done(this.faults.count(faultValue(Fault.NoDevice)));
  }

  close(): void {}
}
