/*
 * The probe the settings describe: the driver for `probe.type` on the board's pins (config/boards, or
 * `probe.pin`), inside the ProbeChannel that applies `probe.offset` and `probe.stuck`. The firmware samples
 * the channel; a configuration change swaps the driver behind it (`reconfigureProbe`) and keeps the counts.
 *
 * When the hardware is missing — no probe I/O on this platform (the desktop simulator), or a pin or bus
 * the SDK refuses — the channel gets an AbsentProbe: every sample is a NoDevice fault, never a made-up
 * temperature. Only `probe.type = simulated` reads the simulated signal.
 */
import type { Host } from "../modules/host/host";
import type { ConfigKey } from "../config/schema";
import type { Settings } from "../config/settings";
import { boardPins, BOARDS, type BoardPins } from "../config/boards/boards";
import type { Quantity, SampleCallback, TemperatureProbe } from "./probe";
import type { Closable, ProbeIo } from "./probe-io";
import { ProbeChannel, type ChannelConfig } from "./channel";
import { FaultCounter } from "./faults";
import { AbsentProbe } from "./absent";
import { SimulatedProbe } from "./simulated/probe";
import { ProbeSignal } from "./simulated/signal";
import { discoverDS18B20, DS18B20 } from "./ds18b20/ds18b20";
import { romName } from "./onewire/bus";
import { TMP117 } from "./tmp117/tmp117";
import { TMP102 } from "./tmp102/tmp102";
import { CHANNELS as SHT4X_CHANNELS, SHT4x } from "./sht4x";
import type { I2CSensor } from "./i2c/oneshot";
import { NtcThermistor, parseSteinhartHart, type ThermistorModel } from "./ntc/ntc";

export type ProbeSettings = Pick<Settings, "int" | "text">;
/** What building a probe needs from the platform: its probe I/O, timers, clock and log. */
export type ProbeHost = Pick<Host, "probeIo" | "setTimer" | "clearTimer" | "ticks" | "event">;

/** Settings the channel applies itself; every other probe setting rebuilds the driver. */
const CHANNEL_KEYS: readonly ConfigKey[] = Object.freeze(["probe.offset", "probe.stuck"] as ConfigKey[]);

/** True for the settings that shape the probe: `board`, `probe.*`, `ntc.*`. */
export function isProbeKey(key: string): boolean {
  return key === "board" || key.startsWith("probe.") || key.startsWith("ntc.");
}

/** The probe the settings describe, in its channel. `seed` seeds the simulated probe (the boot count). */
export function createProbe(settings: ProbeSettings, host: ProbeHost, seed: number): ProbeChannel {
  const faults = new FaultCounter();
  return new ProbeChannel({ probe: buildDriver(settings, host, seed, faults), ...channelConfig(settings) });
}

/** Applies changed settings: offset and stuck on the channel at once; any other probe key rebuilds the driver. */
export function reconfigureProbe(channel: ProbeChannel, keys: readonly string[], settings: ProbeSettings, host: ProbeHost, seed: number): void {
  let rebuild = false;
  let channelKeys = false;
  for (const key of keys) {
    if (!isProbeKey(key)) continue;
    if (CHANNEL_KEYS.indexOf(key as ConfigKey) >= 0) channelKeys = true;
    else rebuild = true;
  }
  if (channelKeys) channel.configure(channelConfig(settings));
  if (rebuild) channel.replace(() => buildDriver(settings, host, seed, channel.faults));
}

function channelConfig(settings: ProbeSettings): ChannelConfig {
  return { offset: settings.int("probe.offset"), stuckAfter: settings.int("probe.stuck") };
}

function buildDriver(settings: ProbeSettings, host: ProbeHost, seed: number, faults: FaultCounter): TemperatureProbe {
  const type = settings.text("probe.type");
  if (type === "simulated") return new SimulatedProbe({ sensor: { io: new ProbeSignal({ seed }) }, ticks: () => host.ticks(), faults });
  const driver = DRIVERS[type];
  const channels = driver?.channels;
  const io = host.probeIo();
  if (!io) {
    host.event({ kind: "probe.noIo", probe: type });
    return new AbsentProbe({ faults, channels });
  }
  const opened: Closable[] = [];
  try {
    if (!driver) throw new RangeError(`unknown probe type '${type}'`);
    const probe = driver.open({ settings, io, pins: boardPins(settings.text("board")) ?? BOARDS[0], host, faults, opened });
    return opened.length ? new WithBuses(probe, opened) : probe;
  } catch (error) {
    closeAll(opened);
    host.event({ kind: "probe.cannotOpen", probe: type, error: String((error as Error)?.message ?? error) });
    return new AbsentProbe({ faults, channels });
  }
}

/** What opening a driver has to hand: the settings, the board's probe I/O and pins, timers and log, the counts. */
interface DriverContext {
  settings: ProbeSettings;
  io: ProbeIo;
  pins: BoardPins;
  host: ProbeHost;
  faults: FaultCounter;
  /** What the driver needs opened beyond what its own close() releases (given back when it closes). */
  opened: Closable[];
}

interface DriverEntry {
  open(context: DriverContext): TemperatureProbe;
  /** A multi-channel probe's channels, so that a probe that cannot be opened says no-device on each. */
  channels?: readonly Quantity[];
}

/**
 * The probe types `probe.type` names (config/schema.ts lists them for validation), each a line: how to open
 * its driver on the board. Adding a probe: its driver file, its test, a line here, a simulator model. Frozen, each
 * line too: a preloaded module keeps no mutable state.
 */
const DRIVERS: Readonly<Record<string, DriverEntry>> = Object.freeze({
  ds18b20: Object.freeze({ open: openDS18B20 }),
  tmp117: Object.freeze({ open: (c: DriverContext) => new TMP117({ sensor: i2c(c, "tmp117"), timers: c.host, faults: c.faults, averaging: c.settings.int("probe.avg") }) }),
  tmp102: Object.freeze({ open: (c: DriverContext) => new TMP102({ sensor: i2c(c, "tmp102"), timers: c.host, faults: c.faults, extended: c.settings.text("probe.ext") === "on" }) }),
  ntc: Object.freeze({ open: openNtc }),
  sht4x: Object.freeze({ channels: SHT4X_CHANNELS, open: (c: DriverContext) => new SHT4x({ sensor: i2c(c, "sht4x"), timers: c.host, faults: c.faults }) }),
});

/** The probe types with a driver (`simulated` aside). */
export const DRIVER_TYPES: readonly string[] = Object.freeze(Object.keys(DRIVERS));

/** An I2C chip's `options.sensor`: the board's bus at `probe.address` (0: the chip's own address). */
function i2c(c: DriverContext, type: string): I2CSensor {
  const address = c.settings.int("probe.address") || undefined;
  const sensor = { io: c.io.SMBus, address, data: c.pins.i2c.data, clock: c.pins.i2c.clock, hz: c.pins.i2c.hz };
  c.host.event({ kind: "probe.i2c", probe: type, address: address ?? 0, data: sensor.data, clock: sensor.clock });
  return sensor;
}

function openDS18B20({ settings, io, pins, host, faults, opened }: DriverContext): TemperatureProbe {
  const pin = settings.int("probe.pin");
  const gpio = pin >= 0 ? pin : pins.oneWire;
  const bus = io.oneWire(gpio);
  opened.push(bus); // shared by every device on it: the driver does not close it
  // Match ROM on the lowest serial, so a second device on the bus cannot garble the reading; none found
  // now: Skip ROM, so a probe plugged in later is read (and until then each slot says no-device).
  let roms: Uint8Array[] = [];
  try {
    roms = discoverDS18B20(bus).roms;
  } catch {} // a search the platform gives up on finds nothing
  const rom = roms.length ? roms[0] : undefined;
  host.event({ kind: "probe.onewire", gpio, rom: rom ? romName(rom) : "", more: roms.length > 1 ? roms.length - 1 : 0 });
  return new DS18B20({ sensor: { io: bus, rom, crc: io.oneWireCrc }, timers: host, faults, resolution: settings.int("probe.resolution") });
}

function openNtc({ settings, io, pins, host, faults, opened }: DriverContext): TemperatureProbe {
  const pin = settings.int("probe.pin");
  const gpio = pin >= 0 ? pin : pins.adc.pin;
  const powerPin = settings.int("ntc.power");
  const power = powerPin >= 0 ? io.digitalOutput(powerPin) : undefined;
  if (power) opened.push(power);
  const table = settings.text("ntc.sh");
  const fitted = table ? parseSteinhartHart(table) : undefined;
  if (typeof fitted === "string") throw new RangeError(`ntc.sh ${fitted}`);
  const model: ThermistorModel = fitted ?? { type: "beta", nominal: settings.int("ntc.r25"), beta: settings.int("ntc.beta") };
  host.event({ kind: "probe.ntc", gpio, power: power ? powerPin : -1 });
  return new NtcThermistor({
    sensor: { io: io.Analog, pin: gpio },
    timers: host,
    power,
    faults,
    model,
    divider: { thermistor: settings.text("ntc.side") === "high" ? "high" : "low", series: settings.int("ntc.series"), supply: pins.supply, fullScale: pins.adc.fullScale },
  });
}

function closeAll(opened: readonly Closable[]): void {
  for (const item of opened) {
    try {
      item.close();
    } catch {}
  }
}

/** A driver with the buses opened for it, released when it closes (a DS18B20 never closes its shared bus). */
class WithBuses implements TemperatureProbe {
  #probe: TemperatureProbe;
  #opened: readonly Closable[];

  constructor(probe: TemperatureProbe, opened: readonly Closable[]) {
    this.#probe = probe;
    this.#opened = opened;
  }

  get faults(): FaultCounter | undefined {
    return this.#probe.faults;
  }

  get conversionTime(): number | undefined {
    return this.#probe.conversionTime;
  }

  get channels(): readonly Quantity[] | undefined {
    return this.#probe.channels;
  }

  configure(options: Readonly<Record<string, unknown>>): void {
    this.#probe.configure(options);
  }

  sample(done: SampleCallback): void {
    this.#probe.sample(done);
  }

  close(): void {
    this.#probe.close();
    closeAll(this.#opened);
  }
}
