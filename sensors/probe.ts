/*
 * The one interface every temperature probe driver offers, in the ECMA-419 sensor-class style: I/O is
 * injected through the constructor's options, then `configure`, `sample`, `close`.
 *
 * `sample` is asynchronous because real probes convert (a DS18B20 takes up to 750 ms at 12 bits): the
 * driver arms a timer instead of busy-waiting, and calls back once. The value is centi-degrees Celsius,
 * or a fault value from modules/protocol/values: a fault is data, never a made-up temperature.
 *
 * A probe that measures more than one quantity (an SHT4x: temperature and humidity) names them in `channels`
 * and hands the values of channels 1… to `done` in `more`, a buffer it keeps and reuses: read it during the
 * call. Channel 0 is always the temperature; each channel travels as its own series (docs/sensors.md).
 */
import type { Host } from "../modules/host/host";
import type { FaultCounter } from "./faults";

/** What a channel measures (hello's `probe.ch`): "t" centi-degrees Celsius, "rh" centi-percent relative humidity. */
export type Quantity = "t" | "rh";
/** A single-channel probe's channels. */
export const TEMPERATURE_ONLY: readonly Quantity[] = Object.freeze(["t"] as Quantity[]);

export type SampleCallback = (value: number, more?: ArrayLike<number>) => void;

export interface TemperatureProbe {
  configure(options: Readonly<Record<string, unknown>>): void;
  sample(done: SampleCallback): void;
  close(): void;
  /** What this probe reported: readings, faults by kind, retries by kind (sensors/faults.ts). */
  readonly faults?: FaultCounter;
  /** How long one sample waits for the sensor (ms), retries aside: the awake time the power model adds. */
  readonly conversionTime?: number;
  /** What each channel measures, channel 0 first; absent: temperature only. */
  readonly channels?: readonly Quantity[];
}

/** The timers a converting driver waits with: the Host's, or a test's fake clock. */
export type ProbeTimers = Pick<Host, "setTimer" | "clearTimer">;
