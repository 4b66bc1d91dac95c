/* Shared state of the Moddable stubs, reachable from the test side as `globalThis.__moddableStubs`. */
export interface StubTimer {
  id: number;
  due: number;
  callback: (timer: StubTimer) => void;
  repeat: number;
}

export const stubs = {
  now: 0,
  timers: [] as StubTimer[],
  preferences: new Map<string, unknown>(),
  wifiJoins: 0,
  /** Deep sleeps asked for (ms). */
  sleeps: [] as number[],
  sockets: 0,
  /** Moves the clock to each pending timer in turn and fires it, at most `limit` times. */
  runTimers(limit = 100): number {
    let fired = 0;
    while (fired < limit && stubs.timers.length) {
      let next = 0;
      for (let i = 1; i < stubs.timers.length; i++) if (stubs.timers[i].due < stubs.timers[next].due) next = i;
      const timer = stubs.timers[next];
      stubs.timers.splice(next, 1);
      if (timer.due > stubs.now) stubs.now = timer.due;
      if (timer.repeat > 0) {
        timer.due = stubs.now + timer.repeat;
        stubs.timers.push(timer);
      }
      timer.callback(timer);
      fired++;
    }
    return fired;
  },
};

(globalThis as Record<string, unknown>).__moddableStubs = stubs;
