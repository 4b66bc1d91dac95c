/*
 * EnergyMeter: how long a simulated board spends in each power state, on the virtual clock, and the
 * charge that costs at the currents of docs/power.md (datasheet figures, sources named there).
 *
 * States: off, deep sleep, awake with the radio off (boot, sampling), joining Wi-Fi (scan, association,
 * DHCP), and associated: active while frames go back and forth (RX/TX), in modem sleep when the link is
 * idle for longer than ACTIVE_AFTER_TRAFFIC.
 */
import type { Clock } from "./clock";

export type PowerState = "off" | "sleep" | "cpu" | "joining" | "associated";
export type Phase = "sleep" | "cpu" | "joining" | "active" | "idle";
export const PHASES: readonly Phase[] = ["sleep", "cpu", "joining", "active", "idle"];

/** Currents in mA per phase. */
export type Currents = Readonly<Record<Phase, number>>;

/** ESP32 (ESP32-WROOM-32 datasheet, esp-idf sleep and power-management docs): see docs/power.md. */
export const ESP32: Currents = Object.freeze({
  sleep: 0.005, // deep sleep, RTC timer on
  cpu: 40, // CPU active, RF off
  joining: 120, // scan + association + DHCP: RX-heavy with TX bursts
  active: 100, // RX 80–90 mA, TX bursts at 160–260 mA while frames go back and forth
  idle: 30, // modem sleep while associated (DTIM)
});

/** ESP8266 (ESP8266EX datasheet): see docs/power.md. */
export const ESP8266: Currents = Object.freeze({
  sleep: 0.02,
  cpu: 25,
  joining: 80,
  active: 75,
  idle: 15,
});

/** After a frame, the radio stays awake this long (ACKs, TCP, the DTIM wait) before modem sleep. */
export const ACTIVE_AFTER_TRAFFIC = 100;

/*
 * Work that takes no virtual time in the simulator (the firmware runs between two instants, loopback is
 * instant) but takes real time on a board, charged as modelled durations:
 */
/** Wake from deep sleep (or power-on) to application code on ESP32: ~100 ms (arduino-esp32 #6906). */
export const BOOT_MS = 100;
/** TCP connect and the WebSocket upgrade: two round trips over Wi-Fi on a LAN. */
export const HANDSHAKE_MS = 40;
/** One frame out or in, with its TCP acknowledgement. */
export const FRAME_MS = 5;
/**
 * A TLS handshake (wss://) on ESP32: ~1.2 s (micropython-esp32 #131, measured). Not simulated (the
 * simulator's sockets are plain): the power benchmark adds it to each radio wake as an estimate.
 */
export const TLS_HANDSHAKE_MS = 1200;

export class EnergyMeter {
  /** ms spent in each phase. */
  readonly ms: Record<Phase, number> = { sleep: 0, cpu: 0, joining: 0, active: 0, idle: 0 };
  #clock: Clock;
  #state: PowerState = "off";
  #since: number;
  #activeUntil = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#since = clock.now();
  }

  get state(): PowerState {
    return this.#state;
  }

  set(state: PowerState): void {
    this.#account();
    this.#state = state;
  }

  /** A frame went out or came in (`ms`: the modelled airtime). */
  traffic(ms = FRAME_MS): void {
    this.#account();
    this.ms.active += ms;
    this.#activeUntil = this.#clock.now() + ACTIVE_AFTER_TRAFFIC;
  }

  /** Modelled time in `phase` that the virtual clock does not see (a boot). */
  charge(phase: Phase, ms: number): void {
    this.ms[phase] += ms;
  }

  /** Charge so far in µAh at `currents`. */
  microampHours(currents: Currents): number {
    this.#account();
    let total = 0;
    for (const phase of PHASES) total += (currents[phase] * 1000 * this.ms[phase]) / 3_600_000;
    return total;
  }

  #account(): void {
    const now = this.#clock.now();
    const span = now - this.#since;
    this.#since = now;
    if (span <= 0) return;
    switch (this.#state) {
      case "off": return;
      case "sleep": this.ms.sleep += span; return;
      case "cpu": this.ms.cpu += span; return;
      case "joining": this.ms.joining += span; return;
      case "associated": {
        const active = Math.max(0, Math.min(span, this.#activeUntil - (now - span)));
        this.ms.active += active;
        this.ms.idle += span - active;
      }
    }
  }
}
