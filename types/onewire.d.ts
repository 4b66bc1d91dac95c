/*
 * The Moddable SDK's `onewire` module (modules/drivers/onewire/onewire.js), which @moddable/typings lacks.
 * Typed after its C sources (esp/modonewire.c, esp32/modonewire.c): `read(count)` returns an ArrayBuffer,
 * `search()` ArrayBuffers of 8 bytes, `write` takes one byte. mcconfig builds use the SDK's own onewire.d.ts.
 */
declare module "onewire" {
  export default class OneWire {
    constructor(options: { pin: number });
    reset(): boolean;
    write(byte: number): void;
    read(count: number): ArrayBuffer;
    search(): ArrayBuffer[];
    close(): void;
    static crc(buffer: Uint8Array, length?: number): number;
  }
}
