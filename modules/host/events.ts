/*
 * What the firmware reports to the platform, as small records of facts: a retry and its delay, a probe found,
 * a frame not understood. Events are rare (never one per reading), so each is one small object. `eventText`
 * is the one place an event becomes its line on the debug console; tools and tests read the records (the
 * simulator keeps them), not the wording.
 */
import type { LinkErrorCode, LinkEventName, LinkStateName } from "../link/codes";

export type DeviceEvent =
  /** Always-on mode started (a battery wake reports nothing). */
  | { kind: "boot"; version: string; boot: number; resetReason: string; id: string }
  /** A manifest or stored setting that did not validate, and so is not used (config/settings.ts). */
  | { kind: "config.warning"; warning: string }
  /** Settings changed at run time (console, Improv, pushed). */
  | { kind: "config.changed"; keys: readonly string[] }
  /** The retained image failed its check at a wake and was discarded: the counts so far. */
  | { kind: "power.corrupt"; corrupt: number; lost: number }
  /** Battery mode asked for on a platform with no memory kept through deep sleep. */
  | { kind: "power.noRetained" }
  /** XS heap in use after `readings` readings (docs/memory.md). */
  | { kind: "heap"; slots: number; chunks: number; readings: number }
  /**
   * The link waits `delayMs`, drawn under `boundMs`, after `on` ended state `from`: `reason` says why (what
   * `hello` reports), `error` is its code.
   */
  | { kind: "link.retry"; delayMs: number; boundMs: number; error: LinkErrorCode; from: LinkStateName; on: LinkEventName; reason: string }
  /** The link gave up until the long retry (SUSPEND_RETRY) or a change of settings. */
  | { kind: "link.suspended"; error: LinkErrorCode; reason: string }
  /** A frame from the server the uplink did not understand (kept whole here; the line shortens it). */
  | { kind: "uplink.ignored"; frame: string }
  /** An ack for a batch not in the window. */
  | { kind: "uplink.unknownAck"; seq: number }
  /** An `err` frame from the server. */
  | { kind: "uplink.serverError"; code: string; message: string }
  /** `probe` is configured but the platform has no probe I/O: it reports no-device. */
  | { kind: "probe.noIo"; probe: string }
  /** The driver could not be opened: it reports no-device. */
  | { kind: "probe.cannotOpen"; probe: string; error: string }
  /** An I2C probe on the board's bus; `address` 0: the chip's own. */
  | { kind: "probe.i2c"; probe: string; address: number; data: number; clock: number }
  /** The DS18B20 bus searched: the serial sampled ("" when none answered yet), and how many more answered. */
  | { kind: "probe.onewire"; gpio: number; rom: string; more: number }
  /** The thermistor's ADC pin, and the pin that powers its divider (-1: always powered). */
  | { kind: "probe.ntc"; gpio: number; power: number };

export type DeviceEventKind = DeviceEvent["kind"];
/** The event of kind `K`. */
export type EventOf<K extends DeviceEventKind> = Extract<DeviceEvent, { kind: K }>;

/** Longest part of an ignored frame the line shows. */
const FRAME_SHOWN = 80;

/** The event's line on the debug console. */
export function eventText(event: DeviceEvent): string {
  switch (event.kind) {
    case "boot": return `thermocast ${event.version} boot ${event.boot} (${event.resetReason}) as ${event.id}`;
    case "config.warning": return `config: ${event.warning}`;
    case "config.changed": return `config: changed ${event.keys.join(", ")}`;
    case "power.corrupt": return `power: retained image corrupt, discarded (${event.corrupt} so far, ${event.lost} readings lost)`;
    case "power.noRetained": return "power: no retained memory on this platform, running always-on";
    case "heap": return `heap: ${event.slots} slot bytes, ${event.chunks} chunk bytes after ${event.readings} readings`;
    case "link.retry": return `link: retry in ${event.delayMs} ms of ${event.boundMs} (${event.reason})`;
    case "link.suspended": return `link: suspended: ${event.reason}`;
    case "uplink.ignored": {
      const frame = event.frame;
      return `uplink: ignored frame ${frame.length > FRAME_SHOWN ? frame.slice(0, FRAME_SHOWN) + "…" : frame}`;
    }
    case "uplink.unknownAck": return `uplink: ack for unknown batch ${event.seq}`;
    case "uplink.serverError": return `uplink: server error ${event.code}: ${event.message}`;
    case "probe.noIo": return `probe: ${event.probe}: this platform has no probe I/O, reporting no-device`;
    case "probe.cannotOpen": return `probe: ${event.probe}: cannot open (${event.error}), reporting no-device`;
    case "probe.i2c":
      return `probe: ${event.probe} at ${event.address ? `0x${event.address.toString(16)}` : "its own address"} on SDA GPIO${event.data}, SCL GPIO${event.clock}`;
    case "probe.onewire":
      return `probe: ds18b20 on GPIO${event.gpio}: ${event.rom || "none found yet"}${event.more ? `, ${event.more} more not sampled` : ""}`;
    case "probe.ntc": return `probe: ntc on ADC GPIO${event.gpio}${event.power >= 0 ? `, powered from GPIO${event.power}` : ""}`;
  }
}
