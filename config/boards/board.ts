/*
 * A board's pin map: where the probes are wired by default. Frozen constant tables, one file per board,
 * each naming its sources. Pins are GPIO numbers as the Moddable SDK's IO classes take them.
 */
export interface BoardPins {
  /** The `board` setting's value. */
  readonly name: string;
  /** 1-Wire data pin (DS18B20), with a 4.7 kΩ pull-up to 3.3 V on the probe side. */
  readonly oneWire: number;
  readonly i2c: Readonly<{ data: number; clock: number; hz: number }>;
  /** ADC input for an NTC divider; `fullScale` is the pin voltage (mV) the top code stands for. */
  readonly adc: Readonly<{ pin: number; fullScale: number }>;
  /** The rail that feeds an NTC divider, mV. */
  readonly supply: number;
  /** A user LED, or undefined when the board has none. */
  readonly led: Readonly<{ pin: number; activeLow: boolean }> | undefined;
}
