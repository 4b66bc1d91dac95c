/*
 * Moddable Two (ESP32 with ILI9341 display and FT6206 touch).
 * Sources: Moddable SDK documentation/devices/moddable-two.md (16-pin header: GP0, 12, 13, 14, 16, 17,
 * 26, 27, 32, 33, 35; SDA GP21 / SCL GP22 shared with the touch panel at 0x38, no pull-ups on the board);
 * build/devices/esp32/targets/moddable_two (display on 2, 13, 14, 15, backlight 18; Analog default 33;
 * its provider's `led: 2` is the display's DC line, not an LED); modules/io/analog/esp32 (0…2450 mV).
 */
import type { BoardPins } from "./board";

export const MODDABLE_TWO: BoardPins = Object.freeze({
  name: "moddable-two",
  oneWire: 16, // GP16 on the header
  i2c: Object.freeze({ data: 21, clock: 22, hz: 100_000 }), // the probe breakout must bring pull-ups
  adc: Object.freeze({ pin: 33, fullScale: 2450 }), // GP33, ADC1_CH5
  supply: 3300,
  led: undefined, // no user LED
});
