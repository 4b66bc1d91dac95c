import { test } from "node:test";
import assert from "node:assert/strict";
import { Fault, faultValue } from "../../modules/protocol/values";
import {
  betaCelsius,
  dividerResistance,
  fitSteinhartHart,
  NtcThermistor,
  parseSteinhartHart,
  ntcValue,
  steinhartHartCelsius,
  type AnalogClass,
  type AnalogInput,
  type Divider,
  type ThermistorModel,
} from "../../sensors/ntc/ntc";
import { FakeHost } from "../support/fake-host";

/**
 * A manufacturer's R/T table for a 10 kΩ B25/50 = 3950 K NTC, kΩ at −10…100 °C in 1 °C steps, as
 * published (Adafruit "10K Precision Epoxy Thermistor - 3950 NTC", cdn-shop.adafruit.com/datasheets/
 * 103_3950_lookuptable.pdf). Tables of other "3950" parts differ by up to ~3 % away from 25 °C (this one
 * has 31.77 kΩ at 0 °C; the 10K3A curve has 32.65 kΩ): fit the coefficients to your part's table.
 */
const TABLE_FROM = -10;
const TABLE_KOHM = [
  51.82, 49.28, 46.89, 44.62, 42.48, 40.45, 38.53, 36.70, 34.97, 33.33,
  31.77, 30.25, 28.82, 27.45, 26.16, 24.94, 23.77, 22.67, 21.62, 20.63,
  19.68, 18.78, 17.93, 17.12, 16.35, 15.62, 14.93, 14.26, 13.63, 13.04,
  12.47, 11.92, 11.41, 10.91, 10.45, 10.00, 9.575, 9.170, 8.784, 8.416,
  8.064, 7.730, 7.410, 7.106, 6.815, 6.538, 6.273, 6.020, 5.778, 5.548,
  5.327, 5.117, 4.915, 4.723, 4.539, 4.363, 4.195, 4.034, 3.880, 3.733,
  3.592, 3.457, 3.328, 3.204, 3.086, 2.972, 2.863, 2.759, 2.659, 2.564,
  2.472, 2.384, 2.299, 2.218, 2.141, 2.066, 1.994, 1.926, 1.860, 1.796,
  1.735, 1.677, 1.621, 1.567, 1.515, 1.465, 1.417, 1.371, 1.326, 1.284,
  1.243, 1.203, 1.165, 1.128, 1.093, 1.059, 1.027, 0.9955, 0.9654, 0.9363,
  0.9083, 0.8812, 0.8550, 0.8297, 0.8052, 0.7816, 0.7587, 0.7366, 0.7152, 0.6945,
  0.6744,
];
const ohms = (celsius: number) => TABLE_KOHM[celsius - TABLE_FROM] * 1000;

function worstError(model: ThermistorModel, from: number, to: number): { error: number; at: number } {
  let worst = { error: 0, at: from };
  for (let t = from; t <= to; t++) {
    const r = ohms(t);
    const got = model.type === "beta" ? betaCelsius(r, model.nominal, model.beta) : steinhartHartCelsius(r, model.a, model.b, model.c);
    if (Math.abs(got - t) > Math.abs(worst.error)) worst = { error: got - t, at: t };
  }
  return worst;
}

test("the table is what it claims: 10.000 kΩ at 25 °C, 0.6744 kΩ at 100 °C", () => {
  assert.equal(TABLE_KOHM.length, 111);
  assert.equal(ohms(25), 10000);
  assert.equal(ohms(100), 674.4);
});

test("Steinhart–Hart fitted to the table at 0, 25, 50 °C: every 1 °C row from 0 to 60 °C within 0.1 °C", () => {
  const sh = fitSteinhartHart(0, ohms(0), 25, ohms(25), 50, ohms(50));
  const { error, at } = worstError({ type: "steinhart-hart", ...sh }, 0, 60);
  assert.ok(Math.abs(error) < 0.1, `worst ${error.toFixed(3)} °C at ${at} °C`);
});

test("Steinhart–Hart fitted at 50, 75, 100 °C: every row from 45 to 100 °C within 0.1 °C", () => {
  const sh = fitSteinhartHart(50, ohms(50), 75, ohms(75), 100, ohms(100));
  const { error, at } = worstError({ type: "steinhart-hart", ...sh }, 45, 100);
  assert.ok(Math.abs(error) < 0.1, `worst ${error.toFixed(3)} °C at ${at} °C`);
});

test("Beta 3950 alone: good near 25 °C, more than 1 °C off the table at 0 °C and at 100 °C", () => {
  const beta: ThermistorModel = { type: "beta", nominal: 10000, beta: 3950 };
  assert.ok(Math.abs(worstError(beta, 20, 50).error) < 0.15);
  assert.equal(betaCelsius(10000, 10000, 3950), 25);
  assert.ok(betaCelsius(ohms(0), 10000, 3950) - 0 > 1);
  assert.ok(betaCelsius(ohms(100), 10000, 3950) - 100 > 1);
});

test("divider resistance: thermistor low or high side, rails as 0 and Infinity", () => {
  assert.equal(dividerResistance(0.5, 10000, "low"), 10000);
  assert.equal(dividerResistance(0.5, 10000, "high"), 10000);
  assert.ok(Math.abs(dividerResistance(0.75, 10000, "low") - 30000) < 1e-6);
  assert.ok(Math.abs(dividerResistance(0.25, 10000, "high") - 30000) < 1e-6);
  assert.equal(dividerResistance(0, 10000, "low"), 0);
  assert.equal(dividerResistance(1, 10000, "low"), Infinity);
  assert.equal(dividerResistance(0, 10000, "high"), Infinity);
  assert.equal(dividerResistance(1, 10000, "high"), 0);
});

const SH = fitSteinhartHart(0, ohms(0), 25, ohms(25), 50, ohms(50));
const MODEL: ThermistorModel = { type: "steinhart-hart", ...SH };

/** The ADC code a divider produces for a thermistor resistance (what the fake ADC returns). */
function codeFor(resistance: number, divider: Divider, bits: number): number {
  const fraction = divider.thermistor === "low" ? resistance / (divider.series + resistance) : divider.series / (divider.series + resistance);
  const supply = divider.supply ?? 1;
  const fullScale = divider.fullScale ?? supply;
  const max = 2 ** bits - 1;
  return Math.min(max, Math.round((fraction * supply * max) / fullScale));
}

test("ADC code → temperature through the divider, ratiometric and not, 12 and 10 bits", () => {
  const setups: { divider: Divider; bits: number; tolerance: number }[] = [
    { divider: { thermistor: "low", series: 10000 }, bits: 12, tolerance: 0.1 },
    { divider: { thermistor: "high", series: 10000 }, bits: 12, tolerance: 0.1 },
    { divider: { thermistor: "high", series: 10000, supply: 3300, fullScale: 2450 }, bits: 12, tolerance: 0.1 }, // ESP32
    { divider: { thermistor: "low", series: 10000, supply: 3300, fullScale: 3200 }, bits: 10, tolerance: 0.2 }, // ESP8266 A0
  ];
  for (const { divider, bits, tolerance } of setups) {
    for (const t of [10, 20, 25, 30, 40]) {
      const centi = ntcValue(codeFor(ohms(t), divider, bits), 2 ** bits - 1, divider, MODEL, -40, 125, 0.005);
      assert.ok(Math.abs(centi - t * 100) <= tolerance * 100, `${JSON.stringify(divider)} ${bits} bits at ${t} °C: ${centi}`);
    }
  }
});

test("open and short circuits, a clipped ADC, and the plausible range", () => {
  const low: Divider = { thermistor: "low", series: 10000 };
  const high: Divider = { thermistor: "high", series: 10000 };
  const esp32: Divider = { thermistor: "low", series: 10000, supply: 3300, fullScale: 2450 };
  const value = (code: number, divider: Divider) => ntcValue(code, 4095, divider, MODEL, -40, 125, 0.005);
  assert.equal(value(0, low), faultValue(Fault.BusError), "low side at 0 V: thermistor shorted");
  assert.equal(value(4095, low), faultValue(Fault.Disconnected), "low side at the supply: thermistor open");
  assert.equal(value(3, high), faultValue(Fault.Disconnected), "high side near 0 V: thermistor open");
  assert.equal(value(4093, high), faultValue(Fault.BusError), "high side at the supply: thermistor shorted");
  assert.equal(value(4095, esp32), faultValue(Fault.OutOfRange), "ADC clipped below the supply: cannot tell");
  assert.equal(value(codeFor(ohms(-5), esp32, 12), esp32), faultValue(Fault.OutOfRange), "−5 °C is past 2450 mV here");
  assert.equal(ntcValue(codeFor(ohms(90), low, 12), 4095, low, MODEL, -40, 60, 0.005), faultValue(Fault.OutOfRange));
});

interface FakeAnalogState {
  codes: number[];
  bits: number;
  reads: number;
  powered: boolean;
  closed: boolean;
}

function analogFor(state: FakeAnalogState): AnalogClass {
  return class implements AnalogInput {
    readonly resolution = state.bits;
    constructor(_options: { pin?: number }) {}
    read(): number | undefined {
      if (!state.powered) return 0; // an unpowered divider reads 0 V
      const code = state.codes[state.reads % state.codes.length];
      state.reads++;
      return code;
    }
    close() {
      state.closed = true;
    }
  };
}

test("the driver averages `oversample` reads and calls back at once without a power pin", () => {
  const host = new FakeHost();
  const divider: Divider = { thermistor: "low", series: 10000 };
  const code = codeFor(ohms(25), divider, 12);
  const state = { codes: [code - 4, code + 4], bits: 12, reads: 0, powered: true, closed: false };
  const probe = new NtcThermistor({ sensor: { io: analogFor(state), pin: 33 }, timers: host, divider, model: MODEL, oversample: 4 });
  let value: number | undefined;
  probe.sample((v) => (value = v));
  assert.ok(value !== undefined && Math.abs(value - 2500) <= 5, `${value}`);
  assert.equal(state.reads, 4);
  probe.close();
  assert.equal(state.closed, true);
});

test("with a power pin the divider is on only while sampling, after a settling timer", () => {
  const host = new FakeHost();
  const divider: Divider = { thermistor: "high", series: 10000 };
  const state = { codes: [codeFor(ohms(40), divider, 12)], bits: 12, reads: 0, powered: false, closed: false };
  const writes: number[] = [];
  const power = {
    write(v: number) {
      writes.push(v);
      state.powered = v === 1;
    },
  };
  const probe = new NtcThermistor({ sensor: { io: analogFor(state) }, timers: host, power, divider, model: MODEL, settle: 2 });
  let value: number | undefined;
  probe.sample((v) => (value = v));
  assert.equal(value, undefined);
  assert.equal(host.nextTimer(), 2);
  host.advance(2);
  assert.ok(value !== undefined && Math.abs(value - 4000) <= 10, `${value}`);
  assert.deepEqual(writes, [0, 1, 0]);
});

test("an ADC that returns nothing is a BusError; bad configuration throws", () => {
  const host = new FakeHost();
  const silent = class implements AnalogInput {
    readonly resolution = 12;
    constructor(_options: { pin?: number }) {}
    read() {
      return undefined;
    }
    close() {}
  };
  const probe = new NtcThermistor({ sensor: { io: silent }, timers: host });
  let value: number | undefined;
  probe.sample((v) => (value = v));
  assert.equal(value, faultValue(Fault.BusError));
  assert.throws(() => probe.configure({ divider: { thermistor: "low", series: 0 } }), RangeError);
  assert.throws(() => probe.configure({ oversample: 0 }), RangeError);
  assert.throws(() => probe.configure({ model: { type: "beta", nominal: 10000, beta: -1 } }), RangeError);
});

test("Steinhart–Hart from a setting: three table rows as text", () => {
  const model = parseSteinhartHart("0:31770, 25:10000, 50:3592");
  assert.ok(typeof model !== "string");
  assert.deepEqual(model, { type: "steinhart-hart", ...SH });
  assert.equal(typeof parseSteinhartHart("0:31770,25:10000"), "string");
  assert.equal(typeof parseSteinhartHart("0:31770,25:abc,50:3592"), "string");
  assert.equal(typeof parseSteinhartHart("50:3592,25:10000,0:31770"), "string");
});
