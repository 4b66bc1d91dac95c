/*
 * A fake ECMA-419 SMBus at byte level: each register holds the two bytes the chip sends (MSB first, as TI's
 * sensors do), and readUint16/writeUint16 turn them into words exactly as the SDK's smbus.js does, so a
 * driver that gets the byte order wrong reads garbage here too. Devices NACK on demand (throw, as the SDK's
 * I2C does: "read failed" / "write failed"). A chip driven by commands rather than registers (SHT4x,
 * sht4x.ts) answers plain I2C writes and reads (`command`, `reply`). The TMP117 and TMP102 models here follow
 * their datasheets.
 * The driver tests and the simulator's boards (io.ts) share these models; no Node APIs (they run in XS).
 */
import type { SMBusClass, SMBusDevice, SMBusOptions } from "../../sensors/i2c/oneshot";

export class FakeI2CDevice {
  readonly registers = new Map<number, Uint8Array>();
  /** Nothing acknowledges at the address. */
  absent = false;
  /** The next n transactions fail (a glitch on the bus). */
  failures = 0;
  readonly opened: SMBusOptions[] = [];
  /** [register, MSB, LSB] of each write. */
  readonly writes: number[][] = [];
  closed = false;

  bytes(register: number): Uint8Array {
    let bytes = this.registers.get(register);
    if (!bytes) {
      bytes = new Uint8Array(2);
      this.registers.set(register, bytes);
    }
    return bytes;
  }
  word(register: number): number {
    const bytes = this.bytes(register);
    return (bytes[0] << 8) | bytes[1];
  }
  setWord(register: number, word: number): void {
    const bytes = this.bytes(register);
    bytes[0] = (word >> 8) & 0xff;
    bytes[1] = word & 0xff;
  }
  transaction(kind: "read" | "write"): void {
    if (this.absent) throw new Error(`${kind} failed`);
    if (this.failures > 0) {
      this.failures--;
      throw new Error(`${kind} failed`);
    }
  }
  /** Chip behaviour on a register read (before the bytes are taken) and after a register write. */
  beforeRead(_register: number): void {}
  afterRead(_register: number): void {}
  afterWrite(_register: number): void {}
  /** A plain I2C write: the bytes after the address. A register chip takes the first as its pointer. */
  command(_bytes: Uint8Array): void {}
  /** A plain I2C read into `into`; throws to refuse it (NACK), as a chip that is still measuring does. */
  reply(into: Uint8Array): void {
    into.fill(0xff);
  }
}

/**
 * A plain I2C write of `bytes` to `device`; undefined: nothing acknowledges. Of no bytes, a quick write: 1 when
 * nothing acknowledges, as the SDK's I2C returns it, instead of throwing.
 */
export function writeBytes(device: FakeI2CDevice | undefined, bytes: Uint8Array): number | void {
  if (bytes.length === 0) {
    try {
      if (!device) return 1;
      device.transaction("write");
    } catch {
      return 1;
    }
    return;
  }
  if (!device) throw new Error("write failed");
  device.transaction("write");
  device.command(bytes);
}

/** A plain I2C read from `device` into `into`; undefined: nothing acknowledges. */
export function readBytes(device: FakeI2CDevice | undefined, into: Uint8Array): number {
  if (!device) throw new Error("read failed");
  device.transaction("read");
  device.reply(into);
  return into.length;
}

/** SMBus readUint16 on `device`, as the SDK's smbus.js does it; undefined: nothing acknowledges. */
export function readWord(device: FakeI2CDevice | undefined, register: number, bigEndian?: boolean): number {
  if (!device) throw new Error("read failed");
  device.transaction("read");
  device.beforeRead(register);
  const bytes = device.bytes(register);
  const word = bigEndian ? (bytes[0] << 8) | bytes[1] : (bytes[1] << 8) | bytes[0];
  device.afterRead(register);
  return word;
}

/** SMBus writeUint16 on `device`; undefined: nothing acknowledges. */
export function writeWord(device: FakeI2CDevice | undefined, register: number, word: number, bigEndian?: boolean): void {
  if (!device) throw new Error("write failed");
  device.transaction("write");
  const msb = bigEndian ? (word >> 8) & 0xff : word & 0xff;
  const lsb = bigEndian ? word & 0xff : (word >> 8) & 0xff;
  device.writes.push([register, msb, lsb]);
  const bytes = device.bytes(register);
  bytes[0] = msb;
  bytes[1] = lsb;
  device.afterWrite(register);
}

/** An SMBus class bound to `device`, as `options.sensor.io`. */
export function smbusFor(device: FakeI2CDevice): SMBusClass {
  return class implements SMBusDevice {
    constructor(options: SMBusOptions) {
      device.opened.push(options);
    }
    readUint16(register: number, bigEndian?: boolean): number {
      return readWord(device, register, bigEndian);
    }
    writeUint16(register: number, word: number, bigEndian?: boolean): void {
      writeWord(device, register, word, bigEndian);
    }
    read(buffer: Uint8Array): number {
      return readBytes(device, buffer);
    }
    write(buffer: Uint8Array): number | void {
      return writeBytes(device, buffer);
    }
    close(): void {
      device.closed = true;
    }
  };
}

/** TMP117: Temp_Result 0x8000 until a conversion completes; one-shot sets Data_Ready, reads clear it. */
export class FakeTMP117 extends FakeI2CDevice {
  /** What the next conversion yields (Temp_Result word). */
  result = 0x0c80;
  /** Conversions take this much longer than the datasheet figure (a slow part), ms. */
  lag = 0;
  conversions = 0;
  #now: () => number;
  #doneAt = -1;
  #ready = false;

  constructor(now: () => number) {
    super();
    this.#now = now;
    this.setWord(0x00, 0x8000);
    this.setWord(0x01, 0x0220);
    this.setWord(0x0f, 0x1117);
  }
  #settle(): void {
    if (this.#doneAt >= 0 && this.#now() >= this.#doneAt) {
      this.#doneAt = -1;
      this.setWord(0x00, this.result);
      this.#ready = true;
      this.setWord(0x01, (this.word(0x01) & ~0x0c00) | 0x0400); // back to shutdown
    }
  }
  override beforeRead(register: number): void {
    this.#settle();
    if (register === 0x01) this.setWord(0x01, (this.word(0x01) & ~0x2000) | (this.#ready ? 0x2000 : 0));
  }
  override afterRead(register: number): void {
    if (register === 0x00 || register === 0x01) this.#ready = false;
  }
  override afterWrite(register: number): void {
    if (register !== 0x01) return;
    const config = this.word(0x01);
    if ((config & 0x0c00) === 0x0c00) {
      const avg = [1, 8, 32, 64][(config >> 5) & 3];
      this.conversions++;
      this.#ready = false;
      this.#doneAt = this.#now() + avg * 15.5 + this.lag;
    }
  }
}

/** TMP102: in shutdown, writing OS=1 runs one conversion (26 ms typical); OS reads 0 until it is done. */
export class FakeTMP102 extends FakeI2CDevice {
  /** What the next conversion measures, in 1/16 °C (13-bit range). */
  sixteenths = 0x190; // 25 °C
  lag = 0;
  conversions = 0;
  #now: () => number;
  #doneAt = -1;

  constructor(now: () => number) {
    super();
    this.#now = now;
    this.setWord(0x00, 0x0000); // 0 °C until the first conversion
    this.setWord(0x01, 0x60a0);
  }
  #settle(): void {
    if (this.#doneAt >= 0 && this.#now() >= this.#doneAt) {
      this.#doneAt = -1;
      const extended = (this.word(0x01) & 0x0010) !== 0;
      const value = this.sixteenths & (extended ? 0x1fff : 0x0fff);
      this.setWord(0x00, extended ? (value << 3) | 1 : value << 4);
      this.setWord(0x01, this.word(0x01) | 0x8000);
    }
  }
  override beforeRead(): void {
    this.#settle();
  }
  override afterWrite(register: number): void {
    if (register !== 0x01) return;
    let config = (this.word(0x01) & ~0x6020) | 0x6000 | 0x0020; // R1 R0 and AL are read-only
    if (config & 0x0100 && config & 0x8000) {
      this.conversions++;
      this.#doneAt = this.#now() + 26 + this.lag;
      config &= ~0x8000;
    }
    this.setWord(0x01, config);
  }
}
