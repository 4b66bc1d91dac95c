/*
 * The one interface every temperature probe driver offers, in the ECMA-419 sensor-class style: I/O is
 * injected through the constructor's options, then `configure`, `sample`, `close`.
 *
 * `sample` is asynchronous because real probes convert (a DS18B20 takes up to 750 ms at 12 bits): the
 * driver arms a timer instead of busy-waiting, and calls back once. The value is centi-degrees Celsius,
 * or a fault value from modules/protocol/values: a fault is data, never a made-up temperature.
 */
import type { Host } from "../modules/host/host";
import type { FaultCounter } from "./faults";

export type SampleCallback = (value: number) => void;

export interface TemperatureProbe {
  configure(options: Readonly<Record<string, unknown>>): void;
  sample(done: SampleCallback): void;
  close(): void;
  /** What this probe reported: readings, faults by kind, retries by kind (sensors/faults.ts). */
  readonly faults?: FaultCounter;
  /** How long one sample waits for the sensor (ms), retries aside: the awake time the power model adds. */
  readonly conversionTime?: number;
}

/** The timers a converting driver waits with: the Host's, or a test's fake clock. */
export type ProbeTimers = Pick<Host, "setTimer" | "clearTimer">;
