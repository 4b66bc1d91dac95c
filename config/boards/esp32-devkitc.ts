/*
 * Espressif ESP32-DevKitC V4 (ESP32-WROOM-32).
 * Sources: Espressif "ESP32-DevKitC V4 Getting Started Guide" (header pinout; only a power LED on board);
 * ESP32 datasheet §ADC (ADC1 = GPIO32…39, usable while Wi-Fi runs, unlike ADC2; GPIO0/2/5/12/15 strap
 * the boot mode); Moddable SDK build/devices/esp32/targets/nodemcu/host/provider.js (I2C 21/22, Analog 33);
 * modules/io/analog/esp32 (Analog defaults to 12 dB attenuation and reads 0…2450 mV, calibrated).
 */
import type { BoardPins } from "./board";

export const ESP32_DEVKITC: BoardPins = Object.freeze({
  name: "esp32-devkitc",
  oneWire: 4, // not a strapping pin, no other function on the DevKitC
  i2c: Object.freeze({ data: 21, clock: 22, hz: 100_000 }), // standard mode: probes sit on cables
  adc: Object.freeze({ pin: 33, fullScale: 2450 }), // ADC1_CH5
  supply: 3300,
  led: undefined, // DevKitC V4 has no user LED; "ESP32 DevKit V1" clones put one on GPIO2
});
