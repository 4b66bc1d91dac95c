/*
 * BoardIo: what is wired to a simulated board's pins for the probe drivers — 1-Wire buses with DS18B20
 * models (onewire.ts), one I2C bus with TMP117/TMP102/SHT4x models (i2c.ts), analog inputs and digital outputs.
 * The `native/probe-io` fake (simulator/moddable/probe-io.ts) opens them as the SDK's modules would, and,
 * like the SDK, refuses a pin another bus holds open ("inUse") or a second open of an I2C address
 * ("duplicate address"). What is wired outlives a run of the firmware; what a run opened ends with it.
 */
import type { SMBusDevice, SMBusOptions } from "../../sensors/i2c/oneshot";
import { readBytes, readWord, writeBytes, writeWord, type FakeI2CDevice } from "./i2c";
import { FakeWire } from "./onewire";

/** What an ADC pin reads: a code of `resolution` bits, or undefined for a failed conversion. */
export interface AnalogModel {
  resolution: number;
  read(): number | undefined;
}

/** A thermistor divider as wired (NTC by its Beta model), for `ntcCode`. */
export interface NtcWiring {
  side: "low" | "high";
  /** Ω */
  series: number;
  /** Ω at 25 °C */
  r25: number;
  /** K */
  beta: number;
  /** Divider supply and the ADC's full scale, mV. */
  supply: number;
  fullScale: number;
  resolution: number;
}

const KELVIN = 273.15;

/**
 * The ADC code a Beta-model NTC at `celsius` gives in `wiring`; `celsius` Infinity is an open thermistor
 * (no current), −Infinity a shorted one. The pin voltage clips at the ADC's full scale.
 */
export function ntcCode(celsius: number, wiring: NtcWiring): number {
  const ohms = celsius === Infinity ? Infinity : celsius === -Infinity ? 0 : wiring.r25 * Math.exp(wiring.beta * (1 / (celsius + KELVIN) - 1 / (25 + KELVIN)));
  const share = ohms === Infinity ? 1 : ohms / (wiring.series + ohms); // of the supply across the NTC
  const volts = wiring.supply * (wiring.side === "low" ? share : 1 - share);
  const top = 2 ** wiring.resolution - 1;
  return Math.round((Math.min(volts, wiring.fullScale) / wiring.fullScale) * top);
}

interface Hold {
  what: "onewire" | "i2c" | "analog" | "output";
  run: number;
}

export class BoardIo {
  /** Devices on the board's I2C bus, by 7-bit address. */
  readonly i2c = new Map<number, FakeI2CDevice>();
  /** ADC inputs by GPIO. */
  readonly analog = new Map<number, AnalogModel>();
  /** Digital outputs by GPIO: the last value written (0 once opened). */
  readonly outputs = new Map<number, number>();
  /** 1-Wire opens, I2C opens and their closes, for tests: "onewire 4", "close onewire 4", "i2c 0x48"… */
  readonly events: string[] = [];
  #wires = new Map<number, FakeWire>();
  #holds = new Map<number, Hold>();
  #addresses = new Map<number, number>();
  #now: () => number;
  #run: () => number;

  /** `now`: virtual time, for conversions; `run`: which run of the firmware is opening things. */
  constructor(now: () => number, run: () => number) {
    this.#now = now;
    this.#run = run;
  }

  /** The 1-Wire bus on `pin`, for a test to add devices to (`wire(4).add(rom)`). */
  wire(pin: number): FakeWire {
    let wire = this.#wires.get(pin);
    if (!wire) {
      wire = new FakeWire(this.#now);
      this.#wires.set(pin, wire);
    }
    return wire;
  }

  openOneWire(pin: number): { wire: FakeWire; close(): void } {
    this.#hold(pin, "onewire");
    this.events.push(`onewire ${pin}`);
    return { wire: this.wire(pin), close: () => this.#release(pin, "onewire") };
  }

  /** An SMBus device at `options.address`; transactions reach whatever is wired there at the time. */
  openI2C(options: SMBusOptions): SMBusDevice {
    const { address, data, clock } = options;
    if (data === undefined || clock === undefined) throw new RangeError(data === undefined ? "data required" : "clock required");
    if (!(address >= 0 && address <= 127)) throw new RangeError("invalid address");
    if (this.#addresses.get(address) === this.#run()) throw new RangeError("duplicate address");
    this.#hold(data, "i2c");
    this.#hold(clock, "i2c");
    this.#addresses.set(address, this.#run());
    this.events.push(`i2c 0x${address.toString(16)}`);
    let open = true;
    const io = this;
    return {
      readUint16(register: number, bigEndian?: boolean): number {
        if (!open) throw new Error("closed");
        return readWord(io.i2c.get(address), register, bigEndian);
      },
      writeUint16(register: number, word: number, bigEndian?: boolean): void {
        if (!open) throw new Error("closed");
        writeWord(io.i2c.get(address), register, word, bigEndian);
      },
      read(buffer: Uint8Array): number {
        if (!open) throw new Error("closed");
        return readBytes(io.i2c.get(address), buffer);
      },
      write(buffer: Uint8Array): number | void {
        if (!open) throw new Error("closed");
        return writeBytes(io.i2c.get(address), buffer);
      },
      close(): void {
        if (!open) return;
        open = false;
        io.#addresses.delete(address);
        io.events.push(`close i2c 0x${address.toString(16)}`);
        // The pins stay with the bus while another device on it is open, as the SDK shares one bus.
        if (![...io.#addresses.values()].some((run) => run === io.#run())) {
          io.#release(data, "i2c");
          io.#release(clock, "i2c");
        }
      },
    };
  }

  openAnalog(pin: number): AnalogModel & { close(): void } {
    const model = this.analog.get(pin);
    if (!model) throw new RangeError("invalid pin"); // not an ADC pin on this board
    this.#hold(pin, "analog");
    return {
      resolution: model.resolution,
      read: () => this.analog.get(pin)?.read(),
      close: () => this.#release(pin, "analog"),
    };
  }

  openOutput(pin: number): { write(value: number): void; close(): void } {
    this.#hold(pin, "output");
    this.outputs.set(pin, 0);
    return {
      write: (value: number) => void this.outputs.set(pin, value ? 1 : 0),
      close: () => this.#release(pin, "output"),
    };
  }

  /** Pins the current run holds open, and by what. */
  held(): Record<number, string> {
    const held: Record<number, string> = {};
    for (const [pin, hold] of this.#holds) if (hold.run === this.#run()) held[pin] = hold.what;
    return held;
  }

  #hold(pin: number, what: Hold["what"]): void {
    const hold = this.#holds.get(pin);
    // What an earlier run opened ended with it (a reset frees every pin).
    if (hold && hold.run === this.#run() && !(what === "i2c" && hold.what === "i2c")) throw new Error("inUse");
    this.#holds.set(pin, { what, run: this.#run() });
  }

  #release(pin: number, what: Hold["what"]): void {
    const hold = this.#holds.get(pin);
    if (hold && hold.what === what && hold.run === this.#run()) {
      this.#holds.delete(pin);
      if (what === "onewire") this.events.push(`close onewire ${pin}`);
    }
  }
}
