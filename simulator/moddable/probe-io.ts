/*
 * `native/probe-io` (modules/host/native/<platform>/probe-io) on a simulated board: the SDK's bus layers
 * over what the board has wired (hardware/io.ts). The 1-Wire bus is the byte-level `onewire` interface
 * over the modelled wire (BitBangOneWire, bit slots and all); `search()` hands ROMs over in the platform's
 * byte order, reversed on esp32 as the SDK's esp32 module does (sensors/onewire/bus.ts).
 */
import type { AnalogInput } from "../../sensors/ntc/ntc";
import type { SMBusDevice, SMBusOptions } from "../../sensors/i2c/oneshot";
import { BitBangOneWire, type OneWireBus } from "../../sensors/onewire/bus";
import type { Closable, ProbeIo } from "../../sensors/probe-io";
import type { AnalogModel, BoardIo } from "../hardware/io";
import { hardware } from "./hardware";

export interface WiredBoard {
  readonly io: BoardIo;
  readonly platform: string;
}

/** The probe I/O of the board `board()` returns when a bus is opened; tests pass their own board. */
export function probeIoOver(board: () => WiredBoard): ProbeIo {
  class SMBus implements SMBusDevice {
    #device: SMBusDevice;

    constructor(options: SMBusOptions) {
      this.#device = board().io.openI2C(options);
    }
    readUint16(register: number, bigEndian?: boolean): number {
      return this.#device.readUint16(register, bigEndian);
    }
    writeUint16(register: number, value: number, bigEndian?: boolean): void {
      this.#device.writeUint16(register, value, bigEndian);
    }
    read(buffer: Uint8Array): number | void {
      return this.#device.read(buffer);
    }
    write(buffer: Uint8Array): number | void {
      return this.#device.write(buffer);
    }
    close(): void {
      this.#device.close();
    }
  }

  class Analog implements AnalogInput {
    readonly resolution: number;
    #input: AnalogModel & Closable;

    constructor(options: { pin?: number }) {
      this.#input = board().io.openAnalog(options.pin ?? -1);
      this.resolution = this.#input.resolution;
    }
    read(): number | undefined {
      return this.#input.read();
    }
    close(): void {
      this.#input.close();
    }
  }

  return Object.freeze({
    oneWire(pin: number): OneWireBus & Closable {
      const { io, platform } = board();
      const { wire, close } = io.openOneWire(pin);
      const bus = new BitBangOneWire(wire);
      const reversed = platform === "esp32";
      return {
        reset: () => bus.reset(),
        write: (byte: number) => bus.write(byte),
        read: (count: number) => bus.read(count).buffer as ArrayBuffer,
        search: () => bus.search().map((rom) => (reversed ? rom.reverse() : rom).buffer as ArrayBuffer),
        close,
      };
    },
    SMBus,
    Analog,
    digitalOutput(pin: number) {
      return board().io.openOutput(pin);
    },
  });
}

export default probeIoOver(hardware);
