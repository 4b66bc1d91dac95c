/*
 * TI TMP102 (datasheet SBOS397): 12-bit result, 0.0625 °C per LSB (13 bits in extended mode), in shutdown
 * between samples with one-shot conversions. Register math is ours; the SDK's tmp102.js is not used
 * (docs/sensors.md, "Reusing the SDK's drivers").
 */
import { Fault, faultValue } from "../../modules/protocol/values";
import { fixedToCenti, signed16 } from "../fixed";
import { OneShotProbe, type OneShotChip, type OneShotOptions, type SMBusDevice } from "../i2c/oneshot";

export const Register = Object.freeze({
  Temperature: 0x00,
  Configuration: 0x01,
  LowLimit: 0x02,
  HighLimit: 0x03,
});

export const ADDRESS = 0x48;
/** Configuration byte 1: OS R1 R0 F1 F0 POL TM SD; byte 2: CR1 CR0 AL EM 0 0 0 0. */
const ONE_SHOT = 0x8000;
const RESOLUTION = 0x6000; // R1 R0: read-only, always 11
const SHUTDOWN = 0x0100;
const RATE_4HZ = 0x0080; // CR = 10, the reset value (unused in shutdown)
const EXTENDED = 0x0010;
/** Conversion time: 26 ms typical, 35 ms maximum (datasheet, "Electrical Characteristics"). */
export const CONVERSION_MS = 35;
const CENTI_MIN = -5500;
const CENTI_MAX = 15000;

/**
 * The temperature register as centi-degrees, without judging it. Bit 0 tells the format (datasheet,
 * "Temperature Register"): 0 → 12 bits in 15:4 (0xE700 → −2500), 1 → 13 bits in 15:3 (extended mode).
 */
export function tmp102Centi(raw: number): number {
  const value = signed16(raw) >> (raw & 1 ? 3 : 4);
  return fixedToCenti(value, 4);
}

/** The temperature register as a reading, or OutOfRange beyond −55…150 °C. */
export function tmp102Value(raw: number): number {
  const centi = tmp102Centi(raw);
  return centi < CENTI_MIN || centi > CENTI_MAX ? faultValue(Fault.OutOfRange) : centi;
}

interface Settings {
  extended: boolean;
}

const CHIP: OneShotChip<Settings> = Object.freeze({
  address: ADDRESS,
  /** No ID register: R1 R0 always read 11, which an absent or different device rarely mimics. */
  identify(io: SMBusDevice) {
    return (io.readUint16(Register.Configuration, true) & RESOLUTION) === RESOLUTION;
  },
  start(io: SMBusDevice, settings: Settings) {
    io.writeUint16(Register.Configuration, ONE_SHOT | RESOLUTION | SHUTDOWN | RATE_4HZ | (settings.extended ? EXTENDED : 0), true);
    return CONVERSION_MS;
  },
  /** OS reads 0 while the one-shot conversion runs and 1 once it is done. */
  ready(io: SMBusDevice) {
    return (io.readUint16(Register.Configuration, true) & ONE_SHOT) !== 0;
  },
  read(io: SMBusDevice) {
    return tmp102Value(io.readUint16(Register.Temperature, true));
  },
});

export interface TMP102Config {
  /** 13-bit extended mode, up to 150 °C; default false. */
  extended?: boolean;
}

export class TMP102 extends OneShotProbe<Settings> {
  constructor(options: OneShotOptions & TMP102Config) {
    super(CHIP, { extended: false }, options);
    this.configure(options);
  }

  get conversionTime(): number {
    return CONVERSION_MS;
  }

  override configure(options: TMP102Config): void {
    if (options.extended !== undefined) this.config.extended = options.extended === true;
  }
}
