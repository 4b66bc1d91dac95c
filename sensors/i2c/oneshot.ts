/*
 * One-shot I2C temperature sensors (TMP117, TMP102): the sensor sleeps in shutdown, each sample starts
 * one conversion, waits for it with a timer, checks the chip's "conversion done" flag and reads the result.
 * The chip specifics are a small table of functions (`OneShotChip`); this file holds the sequence and the
 * fault policy they share.
 *
 * The bus is an ECMA-419 SMBus class (`embedded:io/smbus` on a board), injected as `options.sensor.io` and
 * constructed here with the sensor's address, as the SDK's own drivers do. Its calls are synchronous and
 * throw when the device does not acknowledge (NACK) or the bus fails; the messages differ by platform,
 * so the kind is found by asking the device again:
 *   transaction throws                 → retried once, at once (BusError counted as the retry's cause)
 *   still throws; an ID read fails too → NoDevice      (nothing acknowledges at the address)
 *   still throws; the ID read works    → BusError      (the device is there, the transfer failed)
 *   ID register names another chip     → NoDevice      (not retried)
 *   conversion-done flag not set       → one more wait of a quarter of the conversion time, then Timeout
 */
import { Fault, faultValue } from "../../modules/protocol/values";
import type { TimerHandle } from "../../modules/host/host";
import type { ProbeTimers, Quantity, SampleCallback, TemperatureProbe } from "../probe";
import { FaultCounter, SampleInProgress } from "../faults";
import type { SMBusClass, SMBusDevice, SMBusOptions } from "../probe-io";

export type { SMBusClass, SMBusDevice, SMBusOptions };

/** `options.sensor`: the SMBus class and its constructor options (pins from config/boards). */
export interface I2CSensor {
  io: SMBusClass;
  address?: number;
  hz?: number;
  data?: number;
  clock?: number;
  port?: number;
}

export interface OneShotChip<Config> {
  readonly address: number;
  /** False when the device at the address is not this chip. */
  identify(io: SMBusDevice): boolean;
  /** Starts one conversion; returns how long it takes (ms). */
  start(io: SMBusDevice, config: Config): number;
  /** True once the conversion has finished. */
  ready(io: SMBusDevice, config: Config): boolean;
  /** The result: centi-degrees or a fault value; a multi-channel chip puts channels 1… in `more`. */
  read(io: SMBusDevice, config: Config, more: Int16Array | undefined): number;
  /** What each channel measures (sensors/probe.ts); absent: temperature only. */
  readonly channels?: readonly Quantity[];
}

export interface OneShotOptions {
  sensor: I2CSensor;
  timers: ProbeTimers;
  faults?: FaultCounter;
}

/** Retries per sample: one, as stated above. */
const RETRIES = 1;
const I2C_HZ = 400_000;

export class OneShotProbe<Config> implements TemperatureProbe {
  readonly faults: FaultCounter;
  #io: SMBusDevice | undefined;
  #chip: OneShotChip<Config>;
  #timers: ProbeTimers;
  #config: Config;
  #identified = false;
  #sample: SampleInProgress;
  #timer: TimerHandle | undefined;
  #wait = 0;
  /** Channels 1… of a multi-channel chip, handed on with each reading. */
  #more: Int16Array | undefined;
  /** Bound once: no closure per sample. */
  #onConverted = (): void => this.#collect(true);

  constructor(chip: OneShotChip<Config>, config: Config, options: OneShotOptions) {
    const sensor = options.sensor;
    this.#io = new sensor.io({
      address: sensor.address ?? chip.address,
      hz: sensor.hz ?? I2C_HZ,
      data: sensor.data,
      clock: sensor.clock,
      port: sensor.port,
    });
    this.#chip = chip;
    this.#config = config;
    this.#timers = options.timers;
    this.faults = options.faults ?? new FaultCounter();
    this.#sample = new SampleInProgress(this.faults);
    const channels = chip.channels;
    if (channels && channels.length > 1) this.#more = new Int16Array(channels.length - 1);
  }

  get channels(): readonly Quantity[] | undefined {
    return this.#chip.channels;
  }

  protected get config(): Config {
    return this.#config;
  }

  configure(_options: Readonly<Record<string, unknown>>): void {}

  sample(done: SampleCallback): void {
    if (!this.#io) throw new Error("closed");
    if (this.#sample.begin(done, RETRIES)) this.#start();
  }

  /** Leaves the sensor as it sleeps between samples (shutdown) and releases the bus. */
  close(): void {
    this.#timers.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#sample.cancel();
    const io = this.#io;
    this.#io = undefined;
    io?.close();
  }

  #start(): void {
    const io = this.#io;
    if (!io) return;
    try {
      if (!this.#identified) {
        if (!this.#chip.identify(io)) return this.#finish(faultValue(Fault.NoDevice));
        this.#identified = true;
      }
      this.#wait = this.#chip.start(io, this.#config);
    } catch {
      return this.#busFault(io, () => this.#start());
    }
    this.#timer = this.#timers.setTimer(this.#onConverted, this.#wait);
  }

  #collect(checkReady: boolean): void {
    this.#timer = undefined;
    const io = this.#io;
    if (!io) return;
    let value: number;
    try {
      if (checkReady && !this.#chip.ready(io, this.#config)) {
        if (!this.#sample.retry(Fault.Timeout)) return this.#finish(faultValue(Fault.Timeout));
        this.#timer = this.#timers.setTimer(this.#onConverted, Math.max(2, Math.ceil(this.#wait / 4)));
        return;
      }
      value = this.#chip.read(io, this.#config, this.#more);
    } catch {
      // The conversion is done; reading the flag again would find it cleared by the failed read.
      return this.#busFault(io, () => this.#collect(false));
    }
    this.#sample.finish(value, this.#more);
  }

  /** Answers with a fault the chip did not read: every channel says it. */
  #finish(fault: number): void {
    this.#more?.fill(fault);
    this.#sample.finish(fault, this.#more);
  }

  #busFault(io: SMBusDevice, again: () => void): void {
    if (this.#sample.retry(Fault.BusError)) return again();
    let answered = false;
    try {
      this.#chip.identify(io);
      answered = true;
    } catch {}
    this.#finish(faultValue(answered ? Fault.BusError : Fault.NoDevice));
  }

}
