/*
 * What the board's parts (timers, radio, network, serial port) use of the board they are part of. Hardware
 * implements it; the parts take it, so that they do not import the Hardware that builds them.
 */
import type { Clock, ClockTimer } from "./clock";
import type { EnergyMeter } from "./energy";
import type { Platform } from "./preferences";

export interface Board {
  readonly clock: Clock;
  readonly platform: Platform;
  readonly energy: EnergyMeter;
  readonly mac: string;
  readonly address: string;
  readonly wifi: { readonly hasAddress: boolean };
  readonly network: { drop(): void };
  /** Runs `action` in `ms` of device time, unless the board loses power first. */
  after(ms: number, action: () => void): ClockTimer | undefined;
  cancel(timer: ClockTimer | undefined): void;
  /** Runs firmware code as the device would (a crash stops the board). */
  run(action: () => void, quiet?: boolean): void;
}
