/* `timer` (SDK modules/base/timer/timer.js); semantics in simulator/hardware/timers.ts. */
import type { DeviceTimer } from "../hardware/timers";
import { hardware } from "./hardware";

export type TimerCallback = (timer: Timer) => void;

export default class Timer {
  declare private brand: boolean;

  static set(callback: TimerCallback, interval?: number, repeat?: number): Timer {
    return hardware().timers.set(callback as never, interval, repeat) as unknown as Timer;
  }
  static repeat(callback: TimerCallback, interval: number): Timer {
    return hardware().timers.set(callback as never, interval, interval) as unknown as Timer;
  }
  static schedule(timer: Timer, ...args: [interval?: number, repeat?: number]): void {
    hardware().timers.schedule(timer as unknown as DeviceTimer, args);
  }
  static clear(timer: Timer | undefined | null): void {
    hardware().timers.clear(timer);
  }
}
