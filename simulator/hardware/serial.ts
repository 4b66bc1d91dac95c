/*
 * The board's serial port (UART), with the ECMA-419 Serial semantics of the SDK's ESP32 driver
 * (modules/io/serial/esp32/serial.c): read() takes every byte waiting, or undefined when none; write()
 * throws "output full" for more than the transmit FIFO's free space; onWritable(count) reports space
 * again as the FIFO drains at the baud rate; one instance at a time ("in use"). Tests type into it and
 * read what the device wrote.
 */
import type { ClockTimer } from "./clock";
import type { Board } from "./board";

/** ESP32 UART transmit FIFO. */
const TX_FIFO = 128;

export interface SerialOptions {
  baud?: number;
  onReadable?: (count: number) => void;
  onWritable?: (count: number) => void;
}

export class SerialPort {
  /** Everything the device wrote, across runs. */
  readonly written: number[] = [];
  /** Hears each write as it happens (the CLI prints it). */
  onOutput: ((bytes: Uint8Array) => void) | undefined;
  #hardware: Board;
  #open: SerialOptions | undefined;
  #baud = 115200;
  #input: number[] = [];
  #queued = 0;
  #drain: ClockTimer | undefined;

  constructor(hardware: Board) {
    this.#hardware = hardware;
  }

  /** What the device wrote, as text. */
  get output(): string {
    return Buffer.from(this.written).toString("utf8");
  }

  /** The host side sends `data` to the device. */
  type(data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    this.#input.push(...bytes);
    this.#hardware.after(0, () => {
      const open = this.#open;
      if (open?.onReadable && this.#input.length) this.#hardware.run(() => open.onReadable!(this.#input.length));
    });
  }

  open(options: SerialOptions): void {
    if (this.#open) throw new Error("in use");
    this.#open = options;
    this.#baud = options.baud ?? 115200;
    this.#queued = 0;
    this.#wake(0); // an empty FIFO asks for bytes at once
  }

  read(): ArrayBuffer | undefined {
    if (!this.#input.length) return undefined;
    return Uint8Array.from(this.#input.splice(0)).buffer;
  }

  write(bytes: Uint8Array): void {
    if (bytes.length > TX_FIFO - this.#queued) throw new Error("output full");
    this.written.push(...bytes);
    this.onOutput?.(bytes.slice());
    this.#queued += bytes.length;
    // 10 bits a byte on the wire.
    this.#wake(Math.ceil((this.#queued * 10 * 1000) / this.#baud));
  }

  close(): void {
    this.#open = undefined;
    this.#hardware.cancel(this.#drain);
    this.#drain = undefined;
  }

  powerOff(): void {
    this.#open = undefined;
    this.#drain = undefined;
    this.#input.length = 0;
  }

  #wake(ms: number): void {
    this.#hardware.cancel(this.#drain);
    this.#drain = this.#hardware.after(ms, () => {
      this.#drain = undefined;
      this.#queued = 0;
      const open = this.#open;
      if (open?.onWritable) this.#hardware.run(() => open.onWritable!(TX_FIFO));
    });
  }
}
