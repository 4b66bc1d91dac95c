/*
 * Sensirion SHT4x (SHT40/41/43/45; datasheet "SHT4x", version 6.6, April 2024): temperature and relative
 * humidity, two channels. The chip has no registers: one command byte starts a measurement, and a read of six
 * bytes returns T (MSB, LSB, CRC) and RH (MSB, LSB, CRC). It idles at 0.08 µA between measurements, so it
 * needs no shutdown mode. The one-shot sequence, the timer wait and the fault policy are OneShotProbe's
 * (sensors/i2c/oneshot.ts); this file is the chip. The SDK has no SHT4x driver (its sht3x.js speaks the
 * SHT3x's 16-bit commands and busy-waits with Timer.delay): docs/sensors.md.
 *
 * Fault policy, per sample (OneShotProbe's, and):
 *   the read is refused (NACK: still measuring)  → one extra wait, then Timeout
 *   a word's CRC-8 fails                          → Crc for that channel only (each word has its own CRC)
 *   T outside −40…125 °C (the specified range)    → OutOfRange; RH is cropped to 0…100 % as the datasheet says
 * Presence (the first sample, and after a failed transfer: NoDevice or BusError) is a quick write, the address
 * alone, which the SDK's I2C answers without throwing.
 */
import { Fault, faultValue } from "../modules/protocol/values";
import type { Quantity } from "./probe";
import { OneShotProbe, type OneShotChip, type OneShotOptions, type SMBusDevice } from "./i2c/oneshot";

/** I2C address of the SHT40-AD1B, SHT41 and SHT45; the SHT40-BD1B answers at 0x45, the -CD1B at 0x46. */
export const ADDRESS = 0x44;

export const Command = Object.freeze({
  /** Measure T and RH with high precision (repeatability): 8.3 ms max. */
  MeasureHigh: 0xfd,
  MeasureMedium: 0xf6,
  MeasureLow: 0xe0,
  ReadSerial: 0x89,
  SoftReset: 0x94,
});

/** Measurement duration, high precision: 8.3 ms max (datasheet, table "Timing"), rounded up. */
export const MEASURE_MS = 9;
/** Channel 0 temperature, channel 1 relative humidity. */
export const CHANNELS: readonly Quantity[] = Object.freeze(["t", "rh"] as Quantity[]);
const CENTI_MIN = -4000;
const CENTI_MAX = 12500;

/**
 * Sensirion's CRC-8 (datasheet, "Checksum Calculation"): polynomial 0x31 (x⁸+x⁵+x⁴+1), initial 0xFF, MSB
 * first, no final XOR; CRC(0xBE, 0xEF) = 0x92. Over the two bytes of a word, bit by bit: no table to keep.
 */
export function sensirionCrc8(high: number, low: number): number {
  let crc = 0xff ^ high;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
  crc ^= low;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
  return crc;
}

/** Raw S_T as centi-degrees: T = −45 + 175 · S_T / 65535 °C (datasheet, "Conversion of Signal Output"), rounded. */
export function sht4xCenti(raw: number): number {
  return Math.round((17500 * raw) / 65535) - 4500;
}

/** Raw S_RH as centi-percent: RH = −6 + 125 · S_RH / 65535 %, cropped to 0…100 % as the datasheet advises. */
export function sht4xHumidity(raw: number): number {
  const centi = Math.round((12500 * raw) / 65535) - 600;
  return centi < 0 ? 0 : centi > 10000 ? 10000 : centi;
}

/** The six bytes of a measurement as channel 0's reading, channel 1's into `more[0]`. */
export function decodeMeasurement(reply: Uint8Array, more: Int16Array): number {
  more[0] = sensirionCrc8(reply[3], reply[4]) === reply[5] ? sht4xHumidity((reply[3] << 8) | reply[4]) : faultValue(Fault.Crc);
  if (sensirionCrc8(reply[0], reply[1]) !== reply[2]) return faultValue(Fault.Crc);
  const centi = sht4xCenti((reply[0] << 8) | reply[1]);
  return centi < CENTI_MIN || centi > CENTI_MAX ? faultValue(Fault.OutOfRange) : centi;
}

interface State {
  readonly command: Uint8Array;
  readonly reply: Uint8Array;
}

const CHIP: OneShotChip<State> = Object.freeze({
  address: ADDRESS,
  channels: CHANNELS,
  /**
   * Is a device there? A quick write (the address alone): a command would keep the chip busy, and it refuses
   * the measurement command that follows while it is. Nothing to check beyond presence: no ID register.
   */
  identify(io: SMBusDevice) {
    if (io.write(new Uint8Array(0)) === 1) throw new Error("no device");
    return true;
  },
  start(io: SMBusDevice, state: State) {
    io.write(state.command);
    return MEASURE_MS;
  },
  /** The chip refuses the read (NACK) until the measurement is done; the bytes it gives are kept for `read`. */
  ready(io: SMBusDevice, state: State) {
    try {
      io.read(state.reply);
    } catch {
      return false;
    }
    return true;
  },
  read(_io: SMBusDevice, state: State, more: Int16Array | undefined) {
    return decodeMeasurement(state.reply, more!);
  },
});

export class SHT4x extends OneShotProbe<State> {
  constructor(options: OneShotOptions) {
    super(CHIP, { command: Uint8Array.of(Command.MeasureHigh), reply: new Uint8Array(6) }, options);
  }

  /** How long one sample waits for the chip (ms): for the power model. */
  get conversionTime(): number {
    return MEASURE_MS;
  }
}
