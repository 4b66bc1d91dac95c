/*
 * A console and Improv service on a fake serial port, for tests. No Node-only APIs (no Buffer, no
 * TextEncoder): the same files run inside XS.
 */
import { Settings } from "../../config/settings";
import type { ConfigKey } from "../../config/schema";
import { LineConsole, type DeviceStatus } from "../../modules/console/console";
import { PortOutput, type SerialPort } from "../../modules/console/output";
import { SharedPort } from "../../modules/console/shared-port";
import { decodeUtf8, encodeUtf8 } from "../../modules/console/utf8";
import { ImprovService, type WifiNetwork } from "../../modules/improv/improv";
import { MemoryPreferences } from "../support/fake-host";

export class FakePort implements SerialPort {
  bytes: number[] = [];
  /** Room in the transmit ring; `drain` gives it back. */
  writable = 1 << 30;
  write(piece: Uint8Array | string) {
    const bytes = typeof piece === "string" ? encodeUtf8(piece) : piece;
    if (bytes.length > this.writable) throw new Error(`write of ${bytes.length} bytes with ${this.writable} writable`);
    this.writable -= bytes.length;
    for (let i = 0; i < bytes.length; i++) this.bytes.push(bytes[i]);
  }
  closed = false;
  close() {
    this.closed = true;
  }
  /** Everything written since the last take, as bytes. */
  take(): number[] {
    const bytes = this.bytes;
    this.bytes = [];
    return bytes;
  }
  /** Everything written since the last take, as text. */
  text(): string {
    const bytes = this.take();
    const text = decodeUtf8(Uint8Array.from(bytes), 0, bytes.length);
    if (text !== undefined) return text;
    let latin1 = "";
    for (const b of bytes) latin1 += String.fromCharCode(b);
    return latin1;
  }
}

export interface RigOptions {
  manifest?: Record<string, unknown>;
  improv?: boolean;
  /** When set, `sample` answers at once with this value; otherwise the test answers `pendingSample`. */
  sampleValue?: number;
}

export function rig(options: RigOptions = {}) {
  const port = new FakePort();
  const output = new PortOutput(port);
  const preferences = new MemoryPreferences();
  const settings = new Settings(preferences, options.manifest ?? {});
  const calls = {
    reboots: 0,
    changed: [] as ConfigKey[][],
    samples: 0,
    pendingSample: undefined as ((value: number) => void) | undefined,
    pendingTest: undefined as { progress: (step: string) => void; done: (ok: boolean, summary: string) => void } | undefined,
    wifiTries: [] as [string, string][],
    pendingWifi: undefined as ((connected: boolean) => void) | undefined,
    pendingScan: undefined as ((networks: readonly WifiNetwork[]) => void) | undefined,
  };
  const status: DeviceStatus = {
    version: "thermocast 0.1.0",
    boot: 7,
    resetReason: "power-on",
    uptime: 3723000,
    link: "Backoff",
    lastError: "wifi join timed out",
    stored: 12,
    capacity: 512,
    dropped: 0,
    sentBatches: 3,
    acked: 30,
    wake: { awake: 312, wifi: 180 },
  };
  const console = new LineConsole({
    output,
    settings,
    status: () => status,
    sample(done) {
      calls.samples++;
      if (options.sampleValue !== undefined) done(options.sampleValue);
      else calls.pendingSample = done;
    },
    test(progress, done) {
      calls.pendingTest = { progress, done };
    },
    reboot() {
      calls.reboots++;
    },
    changed(keys) {
      calls.changed.push([...keys]);
    },
  });
  const improv = options.improv === false
    ? undefined
    : new ImprovService({
        output,
        settings,
        firmware: "thermocast",
        version: "0.1.0",
        chip: "ESP32",
        tryWifi(ssid, password, done) {
          calls.wifiTries.push([ssid, password]);
          calls.pendingWifi = done;
        },
        scan(done) {
          calls.pendingScan = done;
        },
        changed(keys) {
          calls.changed.push([...keys]);
        },
      });
  const shared = new SharedPort(console, improv);
  let now = 0;
  const feed = (bytes: ArrayLike<number>) => {
    for (let i = 0; i < bytes.length; i++) shared.receive(Uint8Array.of(bytes[i]), now);
  };
  return {
    port, output, preferences, settings, console, improv, shared, calls, status,
    /** Device clock, moved on by `wait`. */
    get now() {
      return now;
    },
    wait(ms: number) {
      now += ms;
    },
    /** Feeds bytes one at a time, as a UART delivers them. */
    feed,
    /** Types text (UTF-8) one byte at a time; returns what the device wrote back. */
    type(text: string): string {
      feed(encodeUtf8(text));
      return port.text();
    },
  };
}

/** A seeded PRNG (mulberry32), so that "random" noise is the same on every run and in XS. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Settings' values as plain data, to compare before and after. */
export function snapshot(values: object): string {
  return JSON.stringify(values);
}
