/* `timer` stub: timers fire only from `__moddableStubs.runTimers()`. */
import { stubs, type StubTimer } from "./state";

let nextId = 1;

export default class Timer {
  static set(callback: (timer: StubTimer) => void, interval = 0, repeat = 0): StubTimer {
    const timer = { id: nextId++, due: stubs.now + interval, callback, repeat };
    stubs.timers.push(timer);
    return timer;
  }
  static repeat(callback: (timer: StubTimer) => void, interval: number): StubTimer {
    return Timer.set(callback, interval, interval);
  }
  static schedule(timer: StubTimer, interval = 0, repeat = 0): void {
    Timer.clear(timer);
    timer.due = stubs.now + interval;
    timer.repeat = repeat;
    stubs.timers.push(timer);
  }
  static clear(timer: StubTimer | undefined | null): void {
    const at = timer ? stubs.timers.indexOf(timer) : -1;
    if (at >= 0) stubs.timers.splice(at, 1);
  }
}
