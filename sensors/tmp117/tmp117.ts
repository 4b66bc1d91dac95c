/*
 * TI TMP117 (datasheet SNOSD82D): ±0.1 °C, 16-bit result, 7.8125 m°C per LSB, in one-shot mode between
 * samples (150 nA shutdown instead of continuous conversions). Register math is ours; the SDK's
 * tmp117.js is not used (docs/sensors.md, "Reusing the SDK's drivers").
 */
import { Fault, faultValue } from "../../modules/protocol/values";
import { fixedToCenti, signed16 } from "../fixed";
import { OneShotProbe, type OneShotChip, type OneShotOptions, type SMBusDevice } from "../i2c/oneshot";

export const Register = Object.freeze({
  Temperature: 0x00,
  Configuration: 0x01,
  HighLimit: 0x02,
  LowLimit: 0x03,
  DeviceId: 0x0f,
});

export const ADDRESS = 0x48;
/** Device_ID register: bits 11:0 are 0x117 (bits 15:12 the revision). */
const DEVICE_ID = 0x117;
const DATA_READY = 0x2000;
/** MOD[1:0] (bits 11:10) = 11: one conversion, then shutdown. */
const MODE_ONE_SHOT = 0x0c00;
/** Temp_Result after reset, until the first conversion (with averaging) completes: −256 °C. */
export const RESET_RAW = 0x8000;
/** Averaged conversions AVG[1:0] (bits 6:5) = 00, 01, 10, 11. */
export const AVERAGING = Object.freeze([1, 8, 32, 64]);
/** One-shot conversion time by AVG: 15.5 ms per conversion (datasheet, "Averaging"), rounded up. */
export const ONE_SHOT_MS = Object.freeze([16, 125, 500, 1000]);
/** Operating range (datasheet, "Recommended Operating Conditions"). */
const CENTI_MIN = -5500;
const CENTI_MAX = 15000;

/** Temp_Result as centi-degrees, without judging it: 0x0C80 → 2500, 0xF380 → −2500. */
export function tmp117Centi(raw: number): number {
  return fixedToCenti(signed16(raw), 7);
}

/** Temp_Result as a reading: 0x8000 (no conversion finished since reset) is PowerOn, not −256 °C. */
export function tmp117Value(raw: number): number {
  if (raw === RESET_RAW) return faultValue(Fault.PowerOn);
  const centi = tmp117Centi(raw);
  return centi < CENTI_MIN || centi > CENTI_MAX ? faultValue(Fault.OutOfRange) : centi;
}

interface Settings {
  /** Index into AVERAGING. */
  avg: number;
}

const CHIP: OneShotChip<Settings> = Object.freeze({
  address: ADDRESS,
  identify(io: SMBusDevice) {
    return (io.readUint16(Register.DeviceId, true) & 0x0fff) === DEVICE_ID;
  },
  start(io: SMBusDevice, settings: Settings) {
    io.writeUint16(Register.Configuration, MODE_ONE_SHOT | (settings.avg << 5), true);
    return ONE_SHOT_MS[settings.avg];
  },
  ready(io: SMBusDevice) {
    return (io.readUint16(Register.Configuration, true) & DATA_READY) !== 0;
  },
  read(io: SMBusDevice) {
    return tmp117Value(io.readUint16(Register.Temperature, true));
  },
});

export interface TMP117Config {
  /** Conversions averaged per reading: 1, 8 (default, as the chip resets), 32 or 64. */
  averaging?: number;
}

export class TMP117 extends OneShotProbe<Settings> {
  constructor(options: OneShotOptions & TMP117Config) {
    super(CHIP, { avg: 1 }, options);
    this.configure(options);
  }

  /** How long one sample keeps the sensor converting (ms): for the power model. */
  get conversionTime(): number {
    return ONE_SHOT_MS[this.config.avg];
  }

  override configure(options: TMP117Config): void {
    if (options.averaging === undefined) return;
    const avg = AVERAGING.indexOf(options.averaging);
    if (avg < 0) throw new RangeError("averaging must be 1, 8, 32 or 64");
    this.config.avg = avg;
  }
}
