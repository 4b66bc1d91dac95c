/*
 * Fleet: N simulated devices on one clock, each with its own board, config and seed.
 */
import type { Clock } from "./hardware/clock";
import { SimDevice, type SimDeviceOptions } from "./device";

export interface FleetOptions extends Omit<SimDeviceOptions, "config" | "id" | "seed"> {
  clock: Clock;
  count: number;
  /** The config of device `index` (0-based); give each its own "device.id". */
  config: (index: number) => Readonly<Record<string, unknown>>;
  /** Device `index` gets seed + index. */
  seed?: number;
}

export class Fleet {
  readonly devices: SimDevice[] = [];

  constructor(options: FleetOptions) {
    const { count, config, seed = 1, ...shared } = options;
    for (let index = 0; index < count; index++)
      this.devices.push(new SimDevice({ ...shared, config: config(index), seed: seed + index }));
  }

  async boot(): Promise<void> {
    for (const device of this.devices) await device.boot();
  }

  powerOff(): void {
    for (const device of this.devices) device.powerOff();
  }
}
