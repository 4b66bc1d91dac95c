/* `embedded:io/serial` (ECMA-419, SDK modules/io/serial): the board's UART (hardware/serial.ts). */
import { hardware, local } from "./hardware";

export interface SerialOptions {
  baud?: number;
  format?: "buffer";
  onReadable?: (this: Serial, count: number) => void;
  onWritable?: (this: Serial, count: number) => void;
  [option: string]: unknown;
}

export default class Serial {
  readonly format = "buffer";

  constructor(options: SerialOptions) {
    if ((options.format ?? "buffer") !== "buffer") throw new RangeError("invalid format");
    const { onReadable, onWritable } = options;
    hardware().serial.open({
      baud: options.baud,
      onReadable: onReadable && ((count) => onReadable.call(this, count)),
      onWritable: onWritable && ((count) => onWritable.call(this, count)),
    });
  }

  read(): ArrayBuffer | undefined {
    return local(hardware().serial.read());
  }

  write(buffer: ArrayBuffer | ArrayBufferView): void {
    const bytes = ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) : new Uint8Array(buffer);
    hardware().serial.write(bytes);
  }

  close(): void {
    hardware().serial.close();
  }
}
