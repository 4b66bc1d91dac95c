/*
 * SimDevice: one simulated board running the unmodified firmware. Each boot evaluates the bundled
 * firmware in a fresh vm context (no state carries over but the board's flash), with the Moddable host
 * modules answered by the board's hardware (simulator/hardware/).
 */
import vm from "node:vm";
import { firmwareScript } from "./bundle";
import type { Clock } from "./hardware/clock";
import { Hardware, type ResetReason, type TimedEvent } from "./hardware/hardware";
import type { Platform } from "./hardware/preferences";
import type { Sample } from "./hardware/probe";
import type { DeviceEventKind, EventOf } from "../modules/host/events";

export interface SimDeviceOptions {
  clock: Clock;
  /** Names the device in its trace; defaults to config["device.id"]. */
  id?: string;
  /** The manifest's thermocast config: {"device.id", "device.token", "server.url", "wifi.ssid", ...}. */
  config: Readonly<Record<string, unknown>>;
  /** Top-level `mc/config` entries beside `thermocast`, e.g. `console: {}` to open the serial console. */
  manifest?: Readonly<Record<string, unknown>>;
  seed?: number;
  /** Firmware entry, relative to the repository root. */
  entry?: string;
  echo?: boolean;
  platform?: Platform;
  preferencesFile?: string;
}

/*
 * Runs first in every context: the globals XS gives the firmware that V8 lacks or has differently.
 * Date reads virtual time, Math.random is seeded, trace() goes to the board's console.
 */
const PRELUDE = new vm.Script(`(() => {
  const hardware = globalThis.__hardware;
  const HostDate = Date;
  function SimDate(...args) {
    if (!new.target) return new HostDate(hardware.now()).toString();
    return Reflect.construct(HostDate, args.length ? args : [hardware.now()], new.target);
  }
  Object.setPrototypeOf(SimDate, HostDate);
  SimDate.prototype = HostDate.prototype;
  SimDate.now = () => hardware.now();
  Object.defineProperty(HostDate.prototype, "constructor", { value: SimDate, writable: true, configurable: true });
  globalThis.Date = SimDate;
  Math.random = () => hardware.random();
  globalThis.trace = (...parts) => hardware.trace.write(...parts);
})();`, { filename: "simulator:prelude" });

export class SimDevice {
  readonly id: string;
  readonly hardware: Hardware;
  readonly entry: string;
  #script: vm.Script | undefined;

  constructor(options: SimDeviceOptions) {
    this.id = options.id ?? String(options.config["device.id"] ?? "device");
    this.entry = options.entry ?? "main.ts";
    this.hardware = new Hardware({ ...options, id: this.id });
    // A wake or a restart starts the firmware again inside the clock's run: a halt there fails the run.
    this.hardware.onReset = (reason) => this.#start(reason, false);
  }

  /** Every probe read, across runs. */
  get samples(): Sample[] {
    return this.hardware.probe.samples;
  }
  /** The firmware's events (modules/host/events.ts), across runs, with their virtual times. */
  get events(): readonly TimedEvent[] {
    return this.hardware.events;
  }
  /** The events of one kind, across runs. */
  eventsOf<K extends DeviceEventKind>(kind: K): (EventOf<K> & { readonly at: number })[] {
    return this.hardware.events.filter((e): e is EventOf<K> & { readonly at: number } => e.kind === kind);
  }
  /** Console lines, across runs. */
  get log(): string[] {
    return this.hardware.trace.lines;
  }
  /** The firmware is running (not off, halted, or in deep sleep). */
  get running(): boolean {
    return this.hardware.powered;
  }
  get sleeping(): boolean {
    return this.hardware.sleeping;
  }
  /** The exception that halted the firmware, if one did in its last run. */
  get crash(): Error | undefined {
    return this.hardware.crash;
  }

  /** Powers on and runs the firmware's main(). Throws what main() throws (the device is then halted). */
  async boot(): Promise<void> {
    if (this.hardware.powered) throw new Error(`${this.id} is already running`);
    this.#script = await firmwareScript(this.entry);
    this.hardware.powerOff(); // from deep sleep or a halt: a cold boot is a power cycle
    this.#start("power-on", true);
    if (this.hardware.crash) throw this.hardware.crash;
  }

  /** Cuts the power: timers, Wi-Fi, sockets, a pending wake and RTC memory go; only the flash keeps anything. */
  powerOff(): void {
    this.hardware.powerOff();
  }

  async reboot(): Promise<void> {
    this.powerOff();
    await this.boot();
  }

  /** A fresh vm context per run: no module state survives. */
  #start(reason: ResetReason, quiet: boolean): void {
    const hardware = this.hardware;
    const script = this.#script!;
    hardware.powerOn(reason);
    const context = vm.createContext({ __hardware: hardware }, { name: `${this.id} #${hardware.boots}` });
    PRELUDE.runInContext(context);
    hardware.run(() => {
      script.runInContext(context);
      const main = (context.__firmware as { default?: unknown } | undefined)?.default;
      if (typeof main !== "function") throw new Error(`${this.entry} has no default export to run`);
      main();
    }, quiet);
  }
}
