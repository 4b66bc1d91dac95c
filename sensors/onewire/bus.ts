/*
 * 1-Wire: the bus interface the DS18B20 driver needs, the Dallas/Maxim CRC-8, ROM codes, and the ROM
 * search algorithm (Maxim AN187) for buses that offer only bit primitives.
 *
 * `OneWireBus` is the part of the Moddable SDK's `onewire` module (modules/drivers/onewire/onewire.js)
 * the driver uses, so on a board the adapter hands `new OneWire({pin})` in as it is. Facts from its C
 * sources (esp/modonewire.c, esp32/modonewire.c):
 * - `write(byte)` sends ONE byte (the argument goes through xsmcToInteger; an array is not accepted);
 * - `read(count)` returns an ArrayBuffer of `count` bytes;
 * - `select(rom)` does reset + Match ROM but ignores the presence pulse, so the driver addresses devices
 *   itself to see "no device";
 * - `search()` returns the ROMs as 8-byte ArrayBuffers: wire order (family code first) on ESP8266, but
 *   reversed (CRC first) on ESP32, where the esp-idf onewire_bus component yields a uint64 that the module
 *   byte-swaps. `wireOrder` undoes that by checking the CRC, so ROM identity is the same on every board.
 */
import type { OneWireBus } from "../probe-io";

export type { OneWireBus };

/** Bit-level access to the wire: what a bit-banged master or a simulated bus offers. */
export interface OneWireBitLink {
  reset(): boolean;
  writeBit(bit: number): void;
  /** The wired-AND of what the master and every device drive in one read slot: 0 or 1. */
  readBit(): number;
}

export const RomCommand = Object.freeze({
  Search: 0xf0,
  Read: 0x33,
  Match: 0x55,
  Skip: 0xcc,
});

/** Most devices one search reports: a bound on the work a faulty bus can cause. */
export const MAX_DEVICES = 32;

/**
 * Dallas/Maxim CRC-8 (polynomial x⁸+x⁵+x⁴+1, 0x31, processed LSB first as 0x8C; Maxim AN27) over the
 * first `length` bytes. Over a ROM or scratchpad including its CRC byte, the result is 0.
 */
/** The Dallas/Maxim CRC-8 of each byte value: one lookup a byte instead of 8 shift-and-xor rounds (11x less on XS). */
export const CRC8_TABLE: readonly number[] = Object.freeze(Array.from({ length: 256 }, (_, value) => {
  let crc = value;
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >> 1) ^ 0x8c : crc >> 1;
  return crc;
}));

export function crc8(bytes: Uint8Array, length = bytes.length): number {
  const table = CRC8_TABLE;
  let crc = 0;
  for (let i = 0; i < length; i++) crc = table[crc ^ bytes[i]];
  return crc;
}

/**
 * The CRC-8 of a scratchpad's first 8 bytes, unrolled: one expression, no loop, about a third of `crc8`'s cost
 * on XS's meter (`npm run bench`). The driver uses the platform's native `OneWire.crc` instead where the
 * adapter offers it (`ProbeIo.oneWireCrc`).
 */
export function crc8Of8(b: Uint8Array): number {
  const t = CRC8_TABLE;
  return t[t[t[t[t[t[t[t[b[0]] ^ b[1]] ^ b[2]] ^ b[3]] ^ b[4]] ^ b[5]] ^ b[6]] ^ b[7]];
}

function validRom(rom: Uint8Array): boolean {
  return rom.length === 8 && rom[0] !== 0 && crc8(rom, 7) === rom[7];
}

/**
 * A ROM as the platform's `search()` gave it, in wire order (family code first, CRC last), or undefined
 * when neither byte order carries a valid CRC (a corrupted search result) or it is all zeros (a bus held low
 * reads as ROM 00…00, whose CRC is also 00).
 */
export function wireOrder(rom: ArrayBuffer | Uint8Array): Uint8Array | undefined {
  const bytes = rom instanceof Uint8Array ? rom : new Uint8Array(rom);
  if (bytes.length !== 8) return undefined;
  const copy = new Uint8Array(8);
  copy.set(bytes);
  if (validRom(copy)) return copy;
  copy.reverse();
  return validRom(copy) ? copy : undefined;
}

/**
 * The name Linux's w1 subsystem gives a device ("28-0316a2795aff": family, then the 48-bit serial most
 * significant byte first): the name people already know from labels and other tools.
 */
export function romName(rom: Uint8Array): string {
  let text = hex(rom[0]) + "-";
  for (let i = 6; i >= 1; i--) text += hex(rom[i]);
  return text;
}

function hex(byte: number): string {
  return (byte < 16 ? "0" : "") + byte.toString(16);
}

/**
 * Search ROM (Maxim AN187, "1-Wire Search Algorithm") over a bit link: every valid ROM on the bus, in the
 * order the algorithm meets them (ascending by ROM bits, least significant first). Per bit, every device
 * still taking part drives its ROM bit and then its complement (wired-AND); 1/1 means nobody is left,
 * 0/0 a discrepancy where the last-discrepancy bookkeeping picks the branch.
 */
export function searchRoms(link: OneWireBitLink, max = MAX_DEVICES): Uint8Array[] {
  const found: Uint8Array[] = [];
  const rom = new Uint8Array(8);
  let lastDiscrepancy = 0;
  while (found.length < max) {
    if (!link.reset()) break;
    writeByte(link, RomCommand.Search);
    let lastZero = 0;
    for (let bit = 1; bit <= 64; bit++) {
      const index = (bit - 1) >> 3;
      const mask = 1 << ((bit - 1) & 7);
      const id = link.readBit();
      const complement = link.readBit();
      if (id && complement) return found; // nobody answered: devices left mid-search
      let direction: number;
      if (id !== complement) direction = id;
      else {
        if (bit < lastDiscrepancy) direction = rom[index] & mask ? 1 : 0;
        else direction = bit === lastDiscrepancy ? 1 : 0;
        if (!direction) lastZero = bit;
      }
      if (direction) rom[index] |= mask;
      else rom[index] &= ~mask;
      link.writeBit(direction);
    }
    if (!validRom(rom)) break; // a corrupted pass, or a bus held low: stop rather than loop on noise
    found.push(rom.slice());
    lastDiscrepancy = lastZero;
    if (!lastDiscrepancy) break;
  }
  return found;
}

function writeByte(link: OneWireBitLink, byte: number): void {
  for (let i = 0; i < 8; i++) link.writeBit((byte >> i) & 1);
}

/**
 * A OneWireBus over a bit link: the byte-level interface of the Moddable `onewire` module, with `search`
 * done by `searchRoms`. For the simulator's and the tests' modelled wire, and for any platform whose
 * 1-Wire master offers only bit slots; on the boards the SDK's own module is used instead.
 */
export class BitBangOneWire implements OneWireBus {
  #link: OneWireBitLink;

  constructor(link: OneWireBitLink) {
    this.#link = link;
  }

  reset(): boolean {
    return this.#link.reset();
  }

  write(byte: number): void {
    writeByte(this.#link, byte);
  }

  read(count: number): Uint8Array {
    const bytes = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      let byte = 0;
      for (let bit = 0; bit < 8; bit++) if (this.#link.readBit()) byte |= 1 << bit;
      bytes[i] = byte;
    }
    return bytes;
  }

  search(): Uint8Array[] {
    return searchRoms(this.#link);
  }
}
