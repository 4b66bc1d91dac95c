/*
 * NTC thermistor in a voltage divider on an ADC pin. The Analog class is injected ECMA-419 style
 * (`options.sensor.io`, `embedded:io/analog` on a board); an optional digital output powers the divider only
 * while sampling (a 10 kΩ + 10 kΩ divider left on draws 165 µA from 3.3 V, more than an ESP32 asleep).
 *
 *   thermistor "low":  supply ─ series ─┬─ NTC ─ GND     fraction = Rt / (Rs + Rt)
 *   thermistor "high": supply ─ NTC ─┬─ series ─ GND     fraction = Rs / (Rs + Rt)
 *                                    └─ ADC
 * `fraction` is the node voltage over the divider supply: code / maxCode × fullScale / supply. When the
 * ADC's full scale is the supply (ratiometric) the two cancel; on an ESP32 (Moddable's Analog at 12 dB
 * reads 0…2450 mV) or an ESP8266 board with the 220k/100k A0 divider (0…3200 mV) they do not, and the
 * board map gives both (config/boards).
 *
 * Faults:
 *   code at the bottom rail            → low: short (BusError)      high: open (Disconnected)
 *   code at the top rail, ratiometric  → low: open (Disconnected)   high: short (BusError)
 *   code at the top rail, ADC full scale below the supply → OutOfRange (beyond what this divider can
 *                                        measure on this ADC; an open circuit looks the same)
 *   temperature outside [min, max]     → OutOfRange
 * The rails are `rail` × maxCode from either end (default 0.5 %). Nothing is retried: an ADC read is
 * cheap, so the average of `oversample` reads is the retry.
 */
import { Fault, faultValue, toCenti } from "../../modules/protocol/values";
import type { TimerHandle } from "../../modules/host/host";
import type { ProbeTimers, SampleCallback, TemperatureProbe } from "../probe";
import { FaultCounter, SampleInProgress } from "../faults";
import { steinhartHartCelsius } from "../../config/steinhart-hart";
import type { AnalogClass, AnalogInput, DigitalOutput } from "../probe-io";

export { fitSteinhartHart, parseSteinhartHart, steinhartHartCelsius } from "../../config/steinhart-hart";
export type { AnalogClass, AnalogInput, DigitalOutput };

const KELVIN = 273.15;

export type ThermistorModel =
  | { type: "beta"; /** Ω at t0 */ nominal: number; /** K */ beta: number; /** °C, default 25 */ t0?: number }
  | { type: "steinhart-hart"; a: number; b: number; c: number };

export interface Divider {
  thermistor: "low" | "high";
  /** Series resistor, Ω. */
  series: number;
  /** Divider supply, mV; with `fullScale`, only their ratio matters. Default: ratiometric. */
  supply?: number;
  /** Voltage at the ADC pin that reads as the top code, mV. Default: the supply. */
  fullScale?: number;
}

export interface NtcConfig {
  divider?: Divider;
  model?: ThermistorModel;
  /** ADC reads averaged per sample, 1…64; default 8. */
  oversample?: number;
  /** Plausible range, °C; default −40…125. */
  min?: number;
  max?: number;
  /** Rail band as a fraction of full scale, default 0.005. */
  rail?: number;
  /** Settling time after powering the divider, ms; default 1. */
  settle?: number;
}

export interface NtcOptions extends NtcConfig {
  sensor: { io: AnalogClass; pin?: number };
  timers: ProbeTimers;
  /** Powers the divider during a sample; without it the divider is always powered. */
  power?: DigitalOutput;
  faults?: FaultCounter;
}

/** Thermistor resistance (Ω) from the node fraction; 0 or Infinity at the rails. */
export function dividerResistance(fraction: number, series: number, thermistor: "low" | "high"): number {
  if (fraction <= 0) return thermistor === "low" ? 0 : Infinity;
  if (fraction >= 1) return thermistor === "low" ? Infinity : 0;
  return thermistor === "low" ? (series * fraction) / (1 - fraction) : (series * (1 - fraction)) / fraction;
}

/** Beta equation: 1/T = 1/T0 + ln(R/R0)/β. Exact at T0, drifting from manufacturer tables away from it. */
export function betaCelsius(resistance: number, nominal: number, beta: number, t0 = 25): number {
  return 1 / (1 / (t0 + KELVIN) + Math.log(resistance / nominal) / beta) - KELVIN;
}

export function modelCelsius(model: ThermistorModel, resistance: number): number {
  return model.type === "beta"
    ? betaCelsius(resistance, model.nominal, model.beta, model.t0)
    : steinhartHartCelsius(resistance, model.a, model.b, model.c);
}

/** A 10 kΩ B3950 thermistor, low side, under a 10 kΩ series resistor, read ratiometrically. */
const DEFAULTS = Object.freeze({
  divider: Object.freeze({ thermistor: "low", series: 10000 }) as Divider,
  model: Object.freeze({ type: "beta", nominal: 10000, beta: 3950 }) as ThermistorModel,
  oversample: 8,
  min: -40,
  max: 125,
  rail: 0.005,
  settle: 1,
});

/**
 * One averaged ADC code as a reading: centi-degrees or a fault value. Pure: the driver's arithmetic, for
 * tests and for the simulator.
 */
export function ntcValue(code: number, maxCode: number, divider: Divider, model: ThermistorModel, min: number, max: number, rail: number): number {
  const band = maxCode * rail;
  const low = divider.thermistor === "low";
  if (code <= band) return faultValue(low ? Fault.BusError : Fault.Disconnected);
  const supply = divider.supply ?? 1;
  const fullScale = divider.fullScale ?? supply;
  if (code >= maxCode - band) {
    if (fullScale < supply) return faultValue(Fault.OutOfRange);
    return faultValue(low ? Fault.Disconnected : Fault.BusError);
  }
  const fraction = ((code / maxCode) * fullScale) / supply;
  if (fraction >= 1) return faultValue(low ? Fault.Disconnected : Fault.BusError);
  const celsius = modelCelsius(model, dividerResistance(fraction, divider.series, divider.thermistor));
  if (!(celsius >= min && celsius <= max)) return faultValue(Fault.OutOfRange);
  return toCenti(celsius);
}

export class NtcThermistor implements TemperatureProbe {
  readonly faults: FaultCounter;
  #io: AnalogInput | undefined;
  #timers: ProbeTimers;
  #power: DigitalOutput | undefined;
  #divider: Divider = DEFAULTS.divider;
  #model: ThermistorModel = DEFAULTS.model;
  #oversample: number = DEFAULTS.oversample;
  #min: number = DEFAULTS.min;
  #max: number = DEFAULTS.max;
  #rail: number = DEFAULTS.rail;
  #settle: number = DEFAULTS.settle;
  #sample: SampleInProgress;
  #timer: TimerHandle | undefined;
  /** Bound once: no closure per sample. */
  #onSettled = (): void => this.#settled();

  constructor(options: NtcOptions) {
    this.#io = new options.sensor.io({ pin: options.sensor.pin });
    this.#timers = options.timers;
    this.#power = options.power;
    this.faults = options.faults ?? new FaultCounter();
    this.#sample = new SampleInProgress(this.faults);
    this.#power?.write(0);
    this.configure(options);
  }

  /** The settling wait when the divider is powered per sample, else 0 (ms). */
  get conversionTime(): number {
    return this.#power ? this.#settle : 0;
  }

  configure(options: NtcConfig): void {
    const { divider, model, oversample, min, max, rail, settle } = options;
    if (divider !== undefined) {
      if (divider.thermistor !== "low" && divider.thermistor !== "high") throw new RangeError("thermistor must be low or high");
      if (!(divider.series > 0)) throw new RangeError("series resistance must be positive");
      if (divider.supply !== undefined && !(divider.supply > 0)) throw new RangeError("supply must be positive");
      if (divider.fullScale !== undefined && !(divider.fullScale > 0)) throw new RangeError("fullScale must be positive");
      this.#divider = divider;
    }
    if (model !== undefined) {
      const ok = model.type === "beta" ? model.nominal > 0 && model.beta > 0 : model.type === "steinhart-hart" && isFinite(model.a) && isFinite(model.b) && isFinite(model.c);
      if (!ok) throw new RangeError("bad thermistor model");
      this.#model = model;
    }
    if (oversample !== undefined) {
      if (!(oversample >= 1 && oversample <= 64 && (oversample | 0) === oversample)) throw new RangeError("oversample must be 1…64");
      this.#oversample = oversample;
    }
    if (min !== undefined) this.#min = min;
    if (max !== undefined) this.#max = max;
    if (!(this.#min < this.#max)) throw new RangeError("min must be below max");
    if (rail !== undefined) {
      if (!(rail >= 0 && rail < 0.25)) throw new RangeError("rail must be 0…0.25");
      this.#rail = rail;
    }
    if (settle !== undefined) {
      if (!(settle >= 0 && settle <= 1000)) throw new RangeError("settle must be 0…1000 ms");
      this.#settle = settle;
    }
  }

  sample(done: SampleCallback): void {
    if (!this.#io) throw new Error("closed");
    if (!this.#sample.begin(done, 0)) return;
    const power = this.#power;
    if (!power) return this.#sample.finish(this.#measure());
    power.write(1);
    this.#timer = this.#timers.setTimer(this.#onSettled, this.#settle);
  }

  #settled(): void {
    this.#timer = undefined;
    const value = this.#measure();
    this.#power?.write(0);
    this.#sample.finish(value);
  }

  close(): void {
    this.#timers.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#sample.cancel();
    this.#power?.write(0);
    const io = this.#io;
    this.#io = undefined;
    io?.close();
  }

  #measure(): number {
    const io = this.#io;
    if (!io) return faultValue(Fault.Other);
    let sum = 0;
    for (let i = 0; i < this.#oversample; i++) {
      const code = io.read();
      if (code === undefined) return faultValue(Fault.BusError);
      sum += code;
    }
    const maxCode = 2 ** io.resolution - 1;
    return ntcValue(sum / this.#oversample, maxCode, this.#divider, this.#model, this.#min, this.#max, this.#rail);
  }
}
