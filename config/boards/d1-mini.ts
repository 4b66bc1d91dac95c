/*
 * Wemos/LOLIN D1 mini, and NodeMCU v1.0 (ESP-12E), which share the D-pin to GPIO mapping used here.
 * Sources: LOLIN D1 mini documentation (D1 = GPIO5 = SCL, D2 = GPIO4 = SDA, D4 = GPIO2 = LED, active low;
 * A0 through an on-board 220 kΩ/100 kΩ divider, 0…3.2 V); ESP8266EX datasheet (one 10-bit ADC, TOUT
 * 0…1.0 V; GPIO0/2/15 strap the boot mode); Moddable SDK modules/io/analog/esp (reads 0…1023, `pin` unused).
 * Note: the SDK's esp/nodemcu provider.js names data 5 / clock 4, the reverse of the board's labels;
 * this map follows the labels printed on the board (D2 = SDA).
 */
import type { BoardPins } from "./board";

export const D1_MINI: BoardPins = Object.freeze({
  name: "d1-mini",
  oneWire: 14, // D5: no boot strapping, not shared with I2C or the LED
  i2c: Object.freeze({ data: 4, clock: 5, hz: 100_000 }), // D2 / D1
  adc: Object.freeze({ pin: 0, fullScale: 3200 }), // A0, the only ADC
  supply: 3300,
  led: Object.freeze({ pin: 2, activeLow: true }), // D4
});
