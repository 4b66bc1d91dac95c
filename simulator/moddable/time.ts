/* `time` (SDK modules/base/time/time.js): only what the firmware uses. */
import { hardware } from "./hardware";

export default class Time {
  /** ms since power-on, 32 bits, as on the boards. */
  static get ticks(): number {
    return hardware().ticks();
  }
}
