/*
 * `native/power`, thermocast's own native module (modules/host/native/<platform>/power.js): deep sleep,
 * RTC memory, reset reason and restart, as a board does them (simulator/hardware/hardware.ts). A deep
 * sleep ends this run of the firmware; the wake starts a fresh one from main(), so `wake` is not called.
 * Code after deepSleep() still runs, as on ESP8266 (which sleeps once the callback returns), but the
 * board is off: its timers, sockets and Wi-Fi do nothing.
 */
import { hardware } from "./hardware";

export default class Power {
  /** RTC memory (the whole region), or undefined when the platform has fewer than `bytes`. */
  static retained(bytes: number): ArrayBuffer | undefined {
    return hardware().retained(bytes);
  }
  static get maxSleep(): number {
    return hardware().maxSleepMs;
  }
  /** The retained image is whole (WakeState.commit): the simulated RTC memory is written in place, so it is counted only. */
  static commit(): void {
    hardware().retainedCommits++;
  }
  static deepSleep(ms: number, _wake?: () => void): void {
    hardware().deepSleep(ms);
  }
  static resetReason(): string {
    return hardware().resetReason;
  }
  static restart(): void {
    hardware().restart();
  }
}
