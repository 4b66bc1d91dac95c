/*
 * AbsentProbe: what the firmware samples when the configured probe cannot be opened (no probe I/O on this
 * platform, a pin the SDK refuses). Every sample is a NoDevice fault, counted: the slot says what went
 * wrong instead of holding a made-up temperature.
 */
import { Fault, faultValue } from "../modules/protocol/values";
import type { Quantity, SampleCallback, TemperatureProbe } from "./probe";
import { FaultCounter } from "./faults";

export class AbsentProbe implements TemperatureProbe {
  readonly faults: FaultCounter;
  readonly conversionTime = 0;
  readonly channels: readonly Quantity[] | undefined;
  /** Channels 1…: no device either. */
  #more: Int16Array | undefined;

  /** `channels`: those of the probe that could not be opened, so that each of its series says no-device. */
  constructor(options: { faults?: FaultCounter; channels?: readonly Quantity[] } = {}) {
    this.faults = options.faults ?? new FaultCounter();
    this.channels = options.channels;
    const extra = options.channels ? options.channels.length - 1 : 0;
    this.#more = extra > 0 ? new Int16Array(extra).fill(faultValue(Fault.NoDevice)) : undefined;
  }

  configure(): void {}

  sample(done: SampleCallback): void {
    done(this.faults.count(faultValue(Fault.NoDevice)), this.#more);
  }

  close(): void {}
}
