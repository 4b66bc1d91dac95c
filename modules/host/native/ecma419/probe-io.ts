/*
 * `native/probe-io` on the boards (esp32, esp): the SDK's bus layers the probe drivers are given, as
 * sensors/manifest.json includes them — the `onewire` module (modules/drivers/onewire) and the ECMA-419
 * SMBus, Analog and Digital classes (modules/io). A thin mapping: the drivers hold the sequence and the
 * fault policy (docs/sensors.md, "Reusing the SDK's drivers"). Constructors throw on a pin the SDK cannot
 * use or that is open already; sensors/select.ts turns that into a no-device probe.
 */
import OneWire from "onewire";
import SMBus from "embedded:io/smbus";
import Analog from "embedded:io/analog";
import Digital from "embedded:io/digital";
import type { AnalogClass, Closable, DigitalOutput, OneWireBus, ProbeIo, SMBusClass } from "../../../../sensors/probe-io";

const io: ProbeIo = Object.freeze({
  oneWire(pin: number): OneWireBus & Closable {
    // `read(count)` returns an ArrayBuffer and `search()` ArrayBuffers (modonewire.c), whatever the SDK's
    // onewire.d.ts says; OneWireBus is typed after the C sources.
    return new OneWire({ pin }) as unknown as OneWireBus & Closable;
  },
  // Native: the DS18B20's scratchpad check costs a call instead of the JS table (docs/sensors.md). The C
  // takes an optional length (modonewire.c, xs_onewire_crc) that the SDK's onewire.d.ts leaves out.
  oneWireCrc: OneWire.crc as unknown as (bytes: Uint8Array, length: number) => number,
  SMBus: SMBus as unknown as SMBusClass,
  // The typings leave out Analog's close(), which both platforms' _analog.js have.
  Analog: Analog as unknown as AnalogClass,
  digitalOutput(pin: number): DigitalOutput & Closable {
    return new Digital({ pin, mode: Digital.Output });
  },
});
export default io;
