/*
 * DS18B20 on 1-Wire (Maxim DS18B20 datasheet 19-7487 Rev 6): one driver instance per device, so each
 * probe on a shared bus is its own channel. The bus is injected (the SDK's `onewire` instance on a board,
 * sensors/onewire/bus.ts), and so are the timers: a conversion is waited for with a timer, never a busy wait.
 *
 * Only externally powered devices (VDD wired) are supported: parasite power needs a strong pull-up during
 * the conversion, which the SDK's onewire module does not drive (its `write(0x44, true)` ignores the flag).
 *
 * Fault policy, per sample (docs/sensors.md):
 *   no presence pulse                  → NoDevice      retried: immediately, once
 *   scratchpad all 0xFF or all 0x00    → Disconnected  retried: re-read at once (data line open / held low)
 *   scratchpad CRC-8 mismatch          → Crc           retried: re-read at once (the register keeps its value)
 *   +85 °C power-on value, or a config
 *   register that is not ours (the
 *   device reset and reloaded EEPROM)  → PowerOn       retried: a fresh conversion, config written again
 *   −127 °C or below                   → Disconnected  (the value hosts substitute for a lost device)
 *   < −55 °C or > +125 °C              → OutOfRange    not retried: the device answered consistently
 * `retries` (default 1) bounds the retries of one sample, whatever their kinds.
 */
import { Fault, faultKind, faultValue, isFault } from "../../modules/protocol/values";
import type { TimerHandle } from "../../modules/host/host";
import type { ProbeTimers, SampleCallback, TemperatureProbe } from "../probe";
import { FaultCounter, SampleInProgress } from "../faults";
import { fixedToCenti, signed16 } from "../fixed";
import { CRC8_TABLE, crc8, RomCommand, wireOrder, type OneWireBus } from "../onewire/bus";

export const FAMILY_DS18B20 = 0x28;

export const Command = Object.freeze({
  ConvertT: 0x44,
  WriteScratchpad: 0x4e,
  ReadScratchpad: 0xbe,
  CopyScratchpad: 0x48,
  RecallEeprom: 0xb8,
  ReadPowerSupply: 0xb4,
});

/**
 * Waits for 9, 10, 11 and 12 bits: tCONV max 93.75, 187.5, 375 and 750 ms (datasheet, "Temperature
 * conversion time"), rounded up to whole milliseconds for the timer.
 */
export const CONVERSION_MS = Object.freeze([94, 188, 375, 750]);
/** Configuration register (scratchpad byte 4) for 9…12 bits: 0 R1 R0 1 1 1 1 1. */
export const CONFIG_REGISTER = Object.freeze([0x1f, 0x3f, 0x5f, 0x7f]);
const RESOLUTION_BITS = 0x60;

/** +85 °C: the temperature register's power-on reset value (datasheet, "Operation—Measuring Temperature"). */
export const POWER_ON_RAW = 0x0550;
/** −127 °C: what host libraries report for a lost device; raw values this low are never a reading. */
const DISCONNECTED_RAW = -127 * 16;
const RAW_MIN = -55 * 16;
const RAW_MAX = 125 * 16;
/** TH and TL written back with the configuration when no scratchpad has been read yet (factory values). */
const DEFAULT_TH = 0x4b;
const DEFAULT_TL = 0x46;

export type Resolution = 9 | 10 | 11 | 12;

export interface DS18B20Config {
  /** 9…12 bits (0.5 … 0.0625 °C); default 12. */
  resolution?: number;
  /** Retries per sample (0…3); default 1. */
  retries?: number;
}

export interface DS18B20Options extends DS18B20Config {
  sensor: {
    io: OneWireBus;
    /** The device's ROM as the bus's `search()` gave it; without one, Skip ROM (one device on the bus). */
    rom?: ArrayBuffer | Uint8Array;
    /** The platform's native CRC-8 (`ProbeIo.oneWireCrc`); without it, the JS table. */
    crc?: OneWireCrc;
  };
  timers: ProbeTimers;
  faults?: FaultCounter;
}

/** The CRC-8 the platform computes natively (the SDK's `OneWire.crc(buffer, length)`), when it offers one. */
export type OneWireCrc = (bytes: Uint8Array, length: number) => number;

/**
 * The scratchpad as a reading: centi-degrees, or a fault value. Bits below the resolution are undefined
 * on the wire (datasheet, Figure 4) and are cleared before use. `crc` is the platform's native CRC-8 when
 * there is one (`ProbeIo.oneWireCrc`), else the table, inline.
 *
 * Cost on XS's meter (`npm run bench`, 12 bits, JS CRC): 691 units a reading before issue 17, now under a
 * third. A good reading — CRC right, the configuration register exactly as written (0 R1 R0 11111), a
 * temperature in range — takes one straight pass in integer steps with no call and no allocation; anything
 * else goes to `checkScratchpad`, the full sequence of checks, which names the fault.
 */
export function decodeScratchpad(pad: Uint8Array, resolution: number): number {
  // The CRC inline, as crc8Of8: a call costs XS's meter as much as three bytes of it.
  const t = CRC8_TABLE;
  if (pad[4] !== (resolution << 5) - 0x101 || t[t[t[t[t[t[t[t[pad[0]] ^ pad[1]] ^ pad[2]] ^ pad[3]] ^ pad[4]] ^ pad[5]] ^ pad[6]] ^ pad[7]] !== pad[8]) return checkScratchpad(pad, resolution); // 0 R1 R0 11111, R1 R0 = resolution − 9
  // Signed, bits below the resolution cleared; +85 °C (maybe the power-on value) and the range go the long way.
  const value = (((pad[1] << 24) >> 16) | pad[0]) & (-1 << (12 - resolution));
  if (value === POWER_ON_RAW || value > RAW_MAX || value < RAW_MIN) return checkScratchpad(pad, resolution);
  // value / 16 °C in centi-degrees, rounded half away from zero (sensors/fixed.ts's fixedToCenti(value, 4)).
  return value >= 0 ? (value * 100 + 8) >> 4 : 0 - ((8 - value * 100) >> 4);
}

/** `decodeScratchpad` with the platform's CRC-8 (`ProbeIo.oneWireCrc`, the SDK's native `OneWire.crc`). */
export function decodeScratchpadWith(crc: OneWireCrc, pad: Uint8Array, resolution: number): number {
  if (crc(pad, 8) !== pad[8] || pad[4] !== (resolution << 5) - 0x101) return checkScratchpad(pad, resolution);
  const value = (((pad[1] << 24) >> 16) | pad[0]) & (-1 << (12 - resolution)); // as in decodeScratchpad
  if (value === POWER_ON_RAW || value > RAW_MAX || value < RAW_MIN) return checkScratchpad(pad, resolution);
  return value >= 0 ? (value * 100 + 8) >> 4 : 0 - ((8 - value * 100) >> 4);
}

/** Every check of a scratchpad, in order: the fault it shows, or its temperature. */
export function checkScratchpad(pad: Uint8Array, resolution: number): number {
  let ones = 0;
  let zeros = 0;
  for (let i = 0; i < 9; i++) {
    if (pad[i] === 0xff) ones++;
    else if (pad[i] === 0) zeros++;
  }
  if (ones === 9 || zeros === 9) return faultValue(Fault.Disconnected);
  if (crc8(pad, 8) !== pad[8]) return faultValue(Fault.Crc);
  if ((pad[4] & RESOLUTION_BITS) !== (CONFIG_REGISTER[resolution - 9] & RESOLUTION_BITS)) return faultValue(Fault.PowerOn);
  const raw = signed16(pad[0] | (pad[1] << 8));
  if (raw === POWER_ON_RAW) return faultValue(Fault.PowerOn);
  const value = raw & ~((1 << (12 - resolution)) - 1);
  if (value <= DISCONNECTED_RAW) return faultValue(Fault.Disconnected);
  if (value < RAW_MIN || value > RAW_MAX) return faultValue(Fault.OutOfRange);
  return fixedToCenti(value, 4);
}

/** The DS18B20s on `bus`, in wire order and sorted by serial, so channel numbers survive re-enumeration. */
export function discoverDS18B20(bus: OneWireBus): { roms: Uint8Array[]; ignored: number } {
  const roms: Uint8Array[] = [];
  let ignored = 0;
  for (const found of bus.search()) {
    const rom = wireOrder(found);
    if (!rom || rom[0] !== FAMILY_DS18B20) {
      ignored++;
      continue;
    }
    let at = roms.length;
    while (at > 0 && compareSerial(roms[at - 1], rom) > 0) at--;
    roms.splice(at, 0, rom);
  }
  return { roms, ignored };
}

function compareSerial(a: Uint8Array, b: Uint8Array): number {
  for (let i = 6; i >= 1; i--) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

export class DS18B20 implements TemperatureProbe {
  readonly faults: FaultCounter;
  /** The ROM in wire order, or undefined when addressed with Skip ROM. */
  readonly rom: Uint8Array | undefined;
  #bus: OneWireBus | undefined;
  #crc: OneWireCrc | undefined;
  #timers: ProbeTimers;
  #resolution: Resolution = 12;
  #retries = 1;
  /** Configuration register last written, or -1 when the device must be configured again. */
  #written = -1;
  #th = DEFAULT_TH;
  #tl = DEFAULT_TL;
  #sample: SampleInProgress;
  #timer: TimerHandle | undefined;
  /** Bound once: no closure per sample. */
  #onConverted = (): void => this.#read();

  constructor(options: DS18B20Options) {
    const { rom } = options.sensor;
    this.rom = rom === undefined ? undefined : wireOrder(rom);
    if (rom !== undefined && !this.rom) throw new RangeError("bad 1-Wire ROM");
    this.#bus = options.sensor.io;
    this.#crc = options.sensor.crc;
    this.#timers = options.timers;
    this.faults = options.faults ?? new FaultCounter();
    this.#sample = new SampleInProgress(this.faults);
    this.configure(options);
  }

  get resolution(): Resolution {
    return this.#resolution;
  }

  /** How long one conversion waits at the configured resolution (ms): for the power model. */
  get conversionTime(): number {
    return CONVERSION_MS[this.#resolution - 9];
  }

  configure(options: DS18B20Config): void {
    if (options.resolution !== undefined) {
      const bits = options.resolution;
      if (!(bits === 9 || bits === 10 || bits === 11 || bits === 12)) throw new RangeError("resolution must be 9…12 bits");
      if (bits !== this.#resolution) this.#written = -1;
      this.#resolution = bits;
    }
    if (options.retries !== undefined) {
      const retries = options.retries;
      if (!(retries >= 0 && retries <= 3 && (retries | 0) === retries)) throw new RangeError("retries must be 0…3");
      this.#retries = retries;
    }
  }

  sample(done: SampleCallback): void {
    if (!this.#bus) throw new Error("closed");
    if (this.#sample.begin(done, this.#retries)) this.#convert();
  }

  close(): void {
    this.#timers.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#sample.cancel();
    this.#bus = undefined;
  }

  #convert(): void {
    const bus = this.#bus;
    if (!bus) return;
    const config = CONFIG_REGISTER[this.#resolution - 9];
    for (;;) {
      if (this.#select(bus)) {
        if (this.#written === config) break;
        // Scratchpad only, not Copy Scratchpad: no EEPROM wear, and a device that resets loses our
        // configuration, which decodeScratchpad sees: that is how a lost conversion is caught.
        bus.write(Command.WriteScratchpad);
        bus.write(this.#th);
        bus.write(this.#tl);
        bus.write(config);
        this.#written = config;
        if (this.#select(bus)) break;
      }
      if (!this.#sample.retry(Fault.NoDevice)) return this.#sample.finish(faultValue(Fault.NoDevice));
    }
    bus.write(Command.ConvertT);
    this.#timer = this.#timers.setTimer(this.#onConverted, this.conversionTime);
  }

  #read(): void {
    this.#timer = undefined;
    const bus = this.#bus;
    if (!bus) return;
    for (;;) {
      const value = this.#readScratchpad(bus);
      if (!isFault(value)) return this.#sample.finish(value);
      const kind = faultKind(value);
      if (kind === Fault.OutOfRange || !this.#sample.retry(kind)) return this.#sample.finish(value);
      if (kind === Fault.PowerOn) {
        this.#written = -1;
        return this.#convert();
      }
    }
  }

  #readScratchpad(bus: OneWireBus): number {
    if (!this.#select(bus)) return faultValue(Fault.NoDevice);
    bus.write(Command.ReadScratchpad);
    const data = bus.read(9);
    const pad = data instanceof Uint8Array ? data : new Uint8Array(data);
    const crc = this.#crc;
    const value = crc ? decodeScratchpadWith(crc, pad, this.#resolution) : decodeScratchpad(pad, this.#resolution);
    if (!isFault(value) || faultKind(value) === Fault.OutOfRange) {
      this.#th = pad[2];
      this.#tl = pad[3];
    }
    return value;
  }

  /** Reset, then Match ROM (or Skip ROM); false when no device answered the reset. */
  #select(bus: OneWireBus): boolean {
    if (!bus.reset()) return false;
    const rom = this.rom;
    if (!rom) {
      bus.write(RomCommand.Skip);
      return true;
    }
    bus.write(RomCommand.Match);
    for (let i = 0; i < 8; i++) bus.write(rom[i]);
    return true;
  }

}
