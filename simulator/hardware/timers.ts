/*
 * Moddable `Timer` semantics on the simulated hardware (SDK modules/base/timer/modTimer.c): the callback
 * gets the timer as its argument; `set(cb, ms, repeat)` fires after `ms`, then every `repeat` ms if
 * non-zero; `schedule(t)` unschedules but keeps the timer, `schedule(t, ms, repeat)` re-arms it;
 * `clear` of a cleared or fired one-shot timer does nothing; `schedule` of one throws.
 */
import type { ClockTimer } from "./clock";
import type { Board } from "./board";

/** The handle the firmware holds. */
export class DeviceTimer {
  readonly callback: (timer: DeviceTimer) => void;
  repeat: number;
  /** The clock entry while armed. */
  armed: ClockTimer | undefined;
  live = true;
  /** Counts `schedule` calls, so a callback that reschedules or unschedules its timer is respected. */
  generation = 0;

  constructor(callback: (timer: DeviceTimer) => void, repeat: number) {
    this.callback = callback;
    this.repeat = repeat;
  }
}

function ms(value: unknown): number {
  const n = Math.trunc(Number(value));
  return n > 0 ? n : 0;
}

export class DeviceTimers {
  #hardware: Board;

  constructor(hardware: Board) {
    this.#hardware = hardware;
  }

  set(callback: (timer: DeviceTimer) => void, delay?: number, repeat?: number): DeviceTimer {
    if (typeof callback !== "function") throw new TypeError("Timer callback is not a function");
    const timer = new DeviceTimer(callback, ms(repeat));
    this.#arm(timer, ms(delay));
    return timer;
  }

  /** `args` as passed: one argument less means "unschedule". */
  schedule(timer: DeviceTimer, args: unknown[]): void {
    if (!(timer instanceof DeviceTimer) || !timer.live) throw new Error("Timer.schedule: not a live timer");
    this.#disarm(timer);
    timer.generation++;
    if (args.length === 0) return;
    timer.repeat = ms(args[1]);
    this.#arm(timer, ms(args[0]));
  }

  clear(timer: unknown): void {
    if (!(timer instanceof DeviceTimer) || !timer.live) return;
    timer.live = false;
    this.#disarm(timer);
  }

  #arm(timer: DeviceTimer, delay: number): void {
    timer.armed = this.#hardware.after(delay, () => {
      timer.armed = undefined;
      const generation = timer.generation;
      this.#hardware.run(() => timer.callback(timer));
      // Re-arm a repeating timer unless the callback cleared, rescheduled or unscheduled it.
      if (!timer.live || timer.generation !== generation) return;
      if (timer.repeat) this.#arm(timer, timer.repeat);
      else timer.live = false;
    });
  }

  #disarm(timer: DeviceTimer): void {
    this.#hardware.cancel(timer.armed);
    timer.armed = undefined;
  }
}
