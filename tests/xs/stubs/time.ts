/* `time` stub: ticks follow the stub clock that runTimers() advances. */
import { stubs } from "./state";

export default class Time {
  static get ticks(): number {
    return stubs.now;
  }
}
