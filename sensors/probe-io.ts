/*
 * The I/O a probe driver is given (ECMA-419 style, `options.sensor.io`): the parts of the SDK's classes the
 * drivers use, and the board's set of them by pin. Types only, importing nothing, so that the Host
 * (modules/host), which hands them out, and the drivers, which take them, do not import each other.
 */

export interface OneWireBus {
  /** Reset pulse; true when at least one device answered with a presence pulse. */
  reset(): boolean;
  /** Writes one byte, least significant bit first. */
  write(byte: number): void;
  read(count: number): ArrayBuffer | Uint8Array;
  /** Every ROM on the bus, in the platform's byte order (see `wireOrder`). */
  search(): readonly (ArrayBuffer | Uint8Array)[];
}

/** The part of the ECMA-419 SMBus class the drivers use (typings/embedded_io/smbus.d.ts, i2c.d.ts). */
export interface SMBusDevice {
  readUint16(register: number, bigEndian?: boolean): number;
  writeUint16(register: number, value: number, bigEndian?: boolean): void;
  /** Plain I2C (SMBus extends I2C), for chips driven by commands rather than registers (SHT4x): fills `buffer`. */
  read(buffer: Uint8Array): number | void;
  /**
   * Plain I2C write. Of no bytes: a quick write, the address alone, which returns 1 when nothing acknowledges
   * instead of throwing (the SDK's modules/io/i2c/esp32/_i2c.c and esp/_i2c.c).
   */
  write(buffer: Uint8Array): number | void;
  close(): void;
}

export interface SMBusOptions {
  address: number;
  hz: number;
  data?: number;
  clock?: number;
  port?: number;
}

export type SMBusClass = new (options: SMBusOptions) => SMBusDevice;

/** The part of the ECMA-419 Analog class used (typings/embedded_io/analog.d.ts). */
export interface AnalogInput {
  read(): number | undefined;
  readonly resolution: number;
  close(): void;
}
export type AnalogClass = new (options: { pin?: number }) => AnalogInput;

/** The part of the ECMA-419 Digital class used to power the divider. */
export interface DigitalOutput {
  write(value: number): void;
}

/** A bus or pin the caller opened and must give back. */
export interface Closable {
  close(): void;
}

/**
 * The board's I/O for the drivers, by pin (modules/host/native/<platform>/probe-io: the SDK's `onewire`
 * module and ECMA-419 classes on a board, none on the desktop simulator, models in the Node simulator).
 * Opening a pin throws when the pin cannot be used or is taken.
 */
export interface ProbeIo {
  oneWire(pin: number): OneWireBus & Closable;
  /** The platform's native Dallas CRC-8 (the SDK's `OneWire.crc`), where there is one. */
  readonly oneWireCrc?: (bytes: Uint8Array, length: number) => number;
  readonly SMBus: SMBusClass;
  readonly Analog: AnalogClass;
  digitalOutput(pin: number): DigitalOutput & Closable;
}
