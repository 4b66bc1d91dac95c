/*
 * A 1-Wire bus modelled bit by bit, with DS18B20s on it: reset/presence, the ROM commands (Search with
 * its bit/complement/direction slots and wired-AND, Match, Skip, Read), and the DS18B20 function commands
 * (Convert T with its conversion time, Write/Read/Copy Scratchpad). Faults are switches on a device.
 * The driver tests and the simulator's boards (io.ts) share it. No Node APIs: the same file runs in XS.
 */
import { crc8, type OneWireBitLink } from "../../sensors/onewire/bus";

/** tCONV max at 9…12 bits (DS18B20 datasheet), in ms. */
const T_CONV = [93.75, 187.5, 375, 750];

export function makeRom(family: number, serial: readonly number[]): Uint8Array {
  const rom = new Uint8Array(8);
  rom[0] = family;
  for (let i = 0; i < 6; i++) rom[i + 1] = serial[i];
  rom[7] = crc8(rom, 7);
  return rom;
}

type State = "idle" | "rom" | "match" | "search" | "function" | "write" | "output";

export class FakeDS18B20 {
  readonly rom: Uint8Array;
  /** What the next conversion measures: raw 1/16 °C (two's complement, 16 bits). */
  temperature = 0x0191;
  /** Answers resets with a presence pulse. */
  present = true;
  /** The next n resets get no presence pulse from this device. */
  missResets = 0;
  /** Answers presence but never drives a data slot (a broken data line after the presence pulse). */
  mute = false;
  /** The next n scratchpad reads have one bit flipped in transit. */
  corruptReads = 0;
  /** The next n Convert T commands brown the device out: back to its power-on state, no conversion. */
  brownOuts = 0;
  conversions = 0;
  // Scratchpad and EEPROM.
  raw = 0x0550;
  th = 0x4b;
  tl = 0x46;
  config = 0x7f;
  eeTh = 0x4b;
  eeTl = 0x46;
  eeConfig = 0x7f;
  #now: () => number;
  #doneAt = -1;
  #pending = 0;
  #state: State = "idle";
  #byte = 0;
  #bits = 0;
  #index = 0;
  #phase = 0;
  #out: Uint8Array = new Uint8Array(0);
  #written: number[] = [];

  constructor(rom: Uint8Array, now: () => number) {
    this.rom = rom;
    this.#now = now;
  }

  /** The 9-byte scratchpad as the device would send it now. */
  scratchpad(): Uint8Array {
    if (this.#doneAt >= 0 && this.#now() >= this.#doneAt) {
      this.raw = this.#pending;
      this.#doneAt = -1;
    }
    const pad = Uint8Array.of(this.raw & 0xff, (this.raw >> 8) & 0xff, this.th, this.tl, this.config, 0xff, 0x0c, 0x10, 0);
    pad[8] = crc8(pad, 8);
    return pad;
  }

  powerOn(): void {
    this.raw = 0x0550;
    this.th = this.eeTh;
    this.tl = this.eeTl;
    this.config = this.eeConfig;
    this.#doneAt = -1;
  }

  // The wire calls these.
  onReset(): boolean {
    this.#state = "idle";
    if (!this.present) return false;
    if (this.missResets > 0) {
      this.missResets--;
      return false;
    }
    this.#state = "rom";
    this.#byte = 0;
    this.#bits = 0;
    return true;
  }

  #romBit(index: number): number {
    return (this.rom[index >> 3] >> (index & 7)) & 1;
  }

  onWriteBit(bit: number): void {
    const state = this.#state;
    if (state === "search") {
      // The direction slot: devices whose bit differs drop out until the next reset.
      if (bit !== this.#romBit(this.#index)) this.#state = "idle";
      else if (++this.#index === 64) this.#state = "function";
      this.#phase = 0;
      return;
    }
    if (state === "match") {
      if (bit !== this.#romBit(this.#index)) this.#state = "idle";
      else if (++this.#index === 64) this.#enter("function");
      return;
    }
    if (state !== "rom" && state !== "function" && state !== "write") return;
    this.#byte |= bit << this.#bits;
    if (++this.#bits < 8) return;
    const byte = this.#byte;
    this.#byte = 0;
    this.#bits = 0;
    this.#onByte(byte);
  }

  onReadBit(): number {
    if (this.mute) return 1;
    if (this.#state === "search") {
      const bit = this.#romBit(this.#index);
      if (this.#phase === 0) {
        this.#phase = 1;
        return bit;
      }
      if (this.#phase === 1) {
        this.#phase = 2;
        return bit ^ 1;
      }
      return 1;
    }
    if (this.#state === "output") {
      if (this.#index >= this.#out.length * 8) return 1;
      const bit = (this.#out[this.#index >> 3] >> (this.#index & 7)) & 1;
      this.#index++;
      return bit;
    }
    return 1;
  }

  #enter(state: State): void {
    this.#state = state;
    this.#byte = 0;
    this.#bits = 0;
    this.#index = 0;
    this.#phase = 0;
  }

  #output(bytes: Uint8Array): void {
    this.#enter("output");
    this.#out = bytes;
  }

  #onByte(byte: number): void {
    if (this.#state === "rom") {
      if (byte === 0xf0) this.#enter("search");
      else if (byte === 0x55) this.#enter("match");
      else if (byte === 0xcc) this.#enter("function");
      else if (byte === 0x33) this.#output(this.rom.slice());
      else this.#state = "idle";
      return;
    }
    if (this.#state === "write") {
      this.#written.push(byte);
      if (this.#written.length === 3) {
        this.th = this.#written[0];
        this.tl = this.#written[1];
        this.config = (this.#written[2] & 0x60) | 0x1f;
        this.#state = "idle";
      }
      return;
    }
    // Function commands.
    if (byte === 0x44) {
      this.conversions++;
      if (this.brownOuts > 0) {
        this.brownOuts--;
        this.powerOn();
      } else {
        const resolution = (this.config >> 5) & 3;
        this.#pending = this.temperature & 0xffff;
        this.#doneAt = this.#now() + T_CONV[resolution];
      }
      this.#state = "idle";
    } else if (byte === 0xbe) {
      const pad = this.scratchpad();
      if (this.corruptReads > 0) {
        this.corruptReads--;
        pad[0] ^= 0x04;
      }
      this.#output(pad);
    } else if (byte === 0x4e) {
      this.#written = [];
      this.#enter("write");
    } else if (byte === 0x48) {
      this.eeTh = this.th;
      this.eeTl = this.tl;
      this.eeConfig = this.config;
      this.#state = "idle";
    } else this.#state = "idle";
  }
}

export class FakeWire implements OneWireBitLink {
  readonly devices: FakeDS18B20[] = [];
  /** The data line shorted to ground: every slot reads 0, which a master takes for presence. */
  heldLow = false;
  /** Bytes the master wrote, one array per reset (search directions show up as the ROM found). */
  readonly transactions: number[][] = [];
  resets = 0;
  #now: () => number;
  #byte = 0;
  #bits = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  add(rom: Uint8Array, temperature = 0x0191): FakeDS18B20 {
    const device = new FakeDS18B20(rom, this.#now);
    device.temperature = temperature;
    this.devices.push(device);
    return device;
  }

  reset(): boolean {
    this.resets++;
    this.transactions.push([]);
    this.#byte = 0;
    this.#bits = 0;
    let presence = this.heldLow;
    for (const device of this.devices) if (device.onReset()) presence = true;
    return presence;
  }

  writeBit(bit: number): void {
    this.#byte |= (bit & 1) << this.#bits;
    if (++this.#bits === 8) {
      this.transactions[this.transactions.length - 1]?.push(this.#byte);
      this.#byte = 0;
      this.#bits = 0;
    }
    if (this.heldLow) return;
    for (const device of this.devices) device.onWriteBit(bit & 1);
  }

  readBit(): number {
    let line = 1;
    for (const device of this.devices) line &= device.onReadBit();
    return this.heldLow ? 0 : line;
  }
}
