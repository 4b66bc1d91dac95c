/*
 * Sampler: reads the probe on a fixed grid. Slot k is due at `start + k · interval`; each timer is set
 * from the grid, not from the last firing, so lateness never accumulates into drift.
 */
import type { Host, TimerHandle } from "../host/host";
import type { TemperatureProbe } from "../../sensors/probe";

/**
 * A reading and its slot: sample index within this boot, and the slot's device time (ms); `more`: the values
 * of channels 1… of a multi-channel probe (its buffer, to read during the call).
 */
export type ReadingSink = (value: number, index: number, interval: number, time: number, more?: ArrayLike<number>) => void;

export class Sampler {
  /** Sample index of the next slot: unique within a boot, with gaps where slots were missed. */
  index = 0;
  /** Slots skipped because the device was busy past them. */
  missed = 0;
  #host: Host;
  #probe: TemperatureProbe;
  #sink: ReadingSink;
  #interval: number;
  #gridStart = 0;
  #slot = 0;
  #timer: TimerHandle | undefined;
  #running = false;

  constructor(host: Host, probe: TemperatureProbe, interval: number, sink: ReadingSink) {
    this.#host = host;
    this.#probe = probe;
    this.#interval = interval;
    this.#sink = sink;
  }

  /** Starts the grid with a reading now (or at device time `at`). */
  start(at = this.#host.ticks()): void {
    this.#running = true;
    this.#gridStart = at;
    this.#slot = 0;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    this.#host.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  /** A new interval starts a new grid one new interval from now. */
  setInterval(seconds: number): void {
    if (seconds === this.#interval) return;
    this.#interval = seconds;
    if (!this.#running) return;
    this.#host.clearTimer(this.#timer);
    this.#gridStart = this.#host.ticks() + seconds * 1000;
    this.#slot = 0;
    this.#schedule();
  }

  /** Device time of the next slot. */
  nextSlotTime(): number {
    return this.#gridStart + this.#slot * this.#interval * 1000;
  }

  #schedule(): void {
    const delay = this.nextSlotTime() - this.#host.ticks();
    this.#timer = this.#host.setTimer(() => this.#fire(), delay > 0 ? delay : 0);
  }

  #fire(): void {
    this.#timer = undefined;
    const period = this.#interval * 1000;
    // Slots already past by a whole period were missed: skip them, and keep the index honest.
    const late = this.#host.ticks() - this.nextSlotTime();
    if (late >= period) {
      const skip = Math.floor(late / period);
      this.#slot += skip;
      this.index += skip;
      this.missed += skip;
    }
    const index = this.index++;
    const time = this.nextSlotTime();
    const interval = this.#interval;
    this.#slot++;
    this.#schedule();
    this.#probe.sample((value, more) => this.#sink(value, index, interval, time, more));
  }
}
