/*
 * ProbeChannel: what the firmware samples. It wraps any probe with the per-channel policy that is not
 * the driver's business: the calibration offset (centi-degrees, added to every temperature) and
 * stuck-value detection (the same raw value `stuckAfter` times in a row is reported as Stuck from then
 * on, until the value changes; off by default, because a probe in a stable room can legitimately repeat).
 * `replace` swaps the driver behind it (a configuration change) without losing a sample in flight.
 */
import { Fault, faultValue, isFault, VALUE_MAX, VALUE_MIN } from "../modules/protocol/values";
import { TEMPERATURE_ONLY, type Quantity, type SampleCallback, type TemperatureProbe } from "./probe";
import { FaultCounter } from "./faults";

export interface ChannelConfig {
  /** Added to every temperature, centi-degrees (−1000…1000: ±10 °C); default 0. */
  offset?: number;
  /** Identical raw readings in a row reported as Stuck (2…1000); 0 (default) or 1: off. */
  stuckAfter?: number;
}

export interface ChannelOptions extends ChannelConfig {
  probe: TemperatureProbe;
  /** A name for the status report (a DS18B20's ROM name, "tmp117", …). */
  name?: string;
}

export const OFFSET_LIMIT = 1000;

export class ProbeChannel implements TemperatureProbe {
  readonly name: string;
  readonly faults: FaultCounter;
  #probe: TemperatureProbe;
  /** Builds the driver that takes over once no sample is in flight. */
  #next: (() => TemperatureProbe) | undefined;
  #sampling = 0;
  #offset = 0;
  #stuckAfter = 0;
  #last = NaN;
  #repeats = 0;

  constructor(options: ChannelOptions) {
    this.#probe = options.probe;
    this.name = options.name ?? "";
    this.faults = options.probe.faults ?? new FaultCounter();
    this.configure(options);
  }

  get conversionTime(): number {
    return this.#probe.conversionTime ?? 0;
  }

  /** What each channel of the driver measures; the offset and stuck detection apply to channel 0. */
  get channels(): readonly Quantity[] {
    return this.#probe.channels ?? TEMPERATURE_ONLY;
  }

  get offset(): number {
    return this.#offset;
  }

  /** Takes the channel's own options; the driver is configured through its own `configure`. */
  configure(options: ChannelConfig): void {
    const { offset, stuckAfter } = options;
    if (offset !== undefined) {
      if (!(Number.isInteger(offset) && offset >= -OFFSET_LIMIT && offset <= OFFSET_LIMIT)) throw new RangeError("offset must be −1000…1000 centi-degrees");
      this.#offset = offset;
    }
    if (stuckAfter !== undefined) {
      if (!(Number.isInteger(stuckAfter) && stuckAfter >= 0 && stuckAfter <= 1000)) throw new RangeError("stuckAfter must be 0…1000");
      this.#stuckAfter = stuckAfter < 2 ? 0 : stuckAfter;
      this.#repeats = 0;
    }
  }

  sample(done: SampleCallback): void {
    this.#sampling++;
    this.#probe.sample((value, more) => {
      this.#sampling--;
      done(this.#judge(value), more);
      this.#swap();
    });
  }

  /**
   * Closes the driver and takes the one `make` builds, at once or, while a sample is in flight, when it
   * completes: the old driver's buses are released before the new one opens them (the SDK refuses a pin
   * or an I2C address that is still open). The stuck memory starts again; the offset and counts stay.
   */
  replace(make: () => TemperatureProbe): void {
    this.#next = make;
    this.#swap();
  }

  close(): void {
    this.#next = undefined;
    this.#probe.close();
  }

  #swap(): void {
    const make = this.#next;
    if (!make || this.#sampling) return;
    this.#next = undefined;
    this.#probe.close();
    this.#probe = make();
    this.#last = NaN;
    this.#repeats = 0;
  }

  #judge(value: number): number {
    if (isFault(value)) {
      this.#last = NaN;
      this.#repeats = 0;
      return value;
    }
    if (value === this.#last) this.#repeats++;
    else {
      this.#last = value;
      this.#repeats = 1;
    }
    if (this.#stuckAfter && this.#repeats >= this.#stuckAfter) {
      this.faults.add(Fault.Stuck);
      return faultValue(Fault.Stuck);
    }
    const calibrated = value + this.#offset;
    if (calibrated < VALUE_MIN || calibrated > VALUE_MAX) {
      this.faults.add(Fault.OutOfRange);
      return faultValue(Fault.OutOfRange);
    }
    return calibrated;
  }
}
