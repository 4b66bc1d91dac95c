/*
 * A fault bench: the real server in this process, a FaultProxy in front of it, and simulated devices that
 * reach the proxy by a name the simulated network resolves (so DNS can fail too), all on one VirtualClock.
 * Each device's Wi-Fi joins, connection attempts and firmware events are recorded with their virtual time,
 * and the server's hellos and stored batches per device, for tests and benchmarks to check.
 */
import { startServer, type RunningServer } from "../../server/server";
import type { LogLine } from "../../server/log";
import { SimDevice } from "../device";
import { VirtualClock } from "../hardware/clock";
import type { TimedEvent } from "../hardware/hardware";
import { eventText, type EventOf } from "../../modules/host/events";
import type { Platform } from "../hardware/preferences";
import { FaultProxy } from "./proxy";

/** The name devices use for the server; the simulated network resolves it (rig.dns). */
export const SERVER_NAME = "thermocast.test";

export interface ServerRecord {
  /** Virtual times of accepted hellos. */
  hellos: number[];
  /** Virtual times and sizes of stored batches (`stored` 0: a resend the server already had). */
  batches: { at: number; n: number; stored: number }[];
  /** Virtual times and err codes of the frames the server refused (its `rejected` log events). */
  rejections: { at: number; code: string }[];
}

/** The real server on a virtual clock, with a record of what each device did to it. */
export class FaultServer {
  readonly clock: VirtualClock;
  server!: RunningServer;
  readonly records = new Map<string, ServerRecord>();
  /** Devices started on this bench: closed with it. */
  readonly devices = new Set<FaultDevice>();
  #untrack: () => void;

  private constructor(clock: VirtualClock) {
    this.clock = clock;
    // The server does not expose its net.Server: follow every connection accepted in this process.
    this.#untrack = clock.trackAllServers();
  }

  /**
   * `dbPath` defaults to an in-memory database: the fsync of each commit to a file costs more real time
   * than everything else in a simulated day, and durability is not what these runs are about.
   */
  static async start(clock = new VirtualClock(), dbPath = ":memory:"): Promise<FaultServer> {
    const bench = new FaultServer(clock);
    bench.server = await startServer({
      port: 0,
      dbPath,
      now: () => clock.now(),
      log: (line) => bench.#log(line),
      adminToken: "fault-bench-admin-token",
      // The poll for revokes made by another process runs on real time, so it would strike at whatever
      // virtual moment a run has reached; a revoke here is seen at the device's next upgrade instead.
      revocationPollMs: 2 ** 31 - 1,
    });
    return bench;
  }

  record(id: string): ServerRecord {
    let record = this.records.get(id);
    if (!record) this.records.set(id, (record = { hellos: [], batches: [], rejections: [] }));
    return record;
  }

  async close(): Promise<void> {
    for (const device of this.devices) await device.close();
    await this.server.close();
    this.#untrack();
  }

  #log(line: LogLine): void {
    const id = typeof line.device === "string" ? line.device : undefined;
    if (!id) return;
    if (line.event === "hello") this.record(id).hellos.push(this.clock.now());
    else if (line.event === "batch-stored") this.record(id).batches.push({ at: this.clock.now(), n: Number(line.n), stored: Number(line.stored) });
    else if (line.event === "rejected" && typeof line.code === "string") this.record(id).rejections.push({ at: this.clock.now(), code: line.code });
  }
}

export interface FaultDeviceOptions {
  id: string;
  /** Device settings over the defaults (sample interval, batch size, backoff, heartbeat, mode). */
  config?: Record<string, unknown>;
  seed?: number;
  platform?: Platform;
  /** Firmware entry, relative to the repository root (default main.ts). */
  entry?: string;
}

/**
 * What the device did, in order, with virtual times: Wi-Fi joins, connection attempts (a DNS lookup or a
 * TCP connect started), the simulator's power notes (`[sim] …`), and the firmware's events.
 */
export type Happening = { at: number; kind: "join" | "connect" | "sim"; text: string } | TimedEvent;

/** A happening as a line, for a failure's message. */
export function happeningText(happening: Happening): string {
  const text = "text" in happening ? happening.text : eventText(happening);
  return `${new Date(happening.at).toISOString()} ${happening.kind} ${text}`;
}

/** A backoff the firmware reported (its `link.retry` event), and where it is in `events`. */
export type Retry = EventOf<"link.retry"> & { readonly at: number; readonly seq: number };

/** One device behind its own FaultProxy. */
export class FaultDevice {
  readonly bench: FaultServer;
  readonly proxy: FaultProxy;
  readonly device: SimDevice;
  readonly id: string;
  readonly events: Happening[] = [];
  /** While true, looking the server's name up fails. */
  dnsDown = false;

  private constructor(bench: FaultServer, proxy: FaultProxy, options: FaultDeviceOptions) {
    this.bench = bench;
    this.proxy = proxy;
    this.id = options.id;
    const token = `${options.id}-token-0123456789`;
    bench.server.db.registerDevice(options.id, token, bench.clock.now());
    this.device = new SimDevice({
      clock: bench.clock,
      seed: options.seed,
      platform: options.platform,
      entry: options.entry,
      config: {
        "device.id": options.id, "device.token": token, "server.url": `ws://${SERVER_NAME}:${proxy.port}`, "wifi.ssid": "sim",
        ...options.config,
      },
    });
    const hardware = this.device.hardware;
    const clock = bench.clock;
    hardware.network.resolve = (name) => (name === SERVER_NAME && !this.dnsDown ? "127.0.0.1" : undefined);
    const network = hardware.network;
    const connect = network.connect.bind(network);
    network.connect = (settings, deliver) => {
      this.events.push({ at: clock.now(), kind: "connect", text: settings.host });
      // A refusing proxy stands for a closed port: the connect fails at once, without a TCP connection.
      const refuse = network.refuse;
      if (this.proxy.refusing) network.refuse = true;
      try {
        return connect(settings, deliver);
      } finally {
        network.refuse = refuse;
      }
    };
    const radio = hardware.wifi;
    const join = radio.join.bind(radio);
    radio.join = (joinOptions, notify) => {
      if (joinOptions) this.events.push({ at: clock.now(), kind: "join", text: joinOptions.ssid ?? "" });
      return join(joinOptions, notify);
    };
    hardware.onEvent = (event) => this.events.push(event);
    // The simulator's own notes (power on, deep sleep, reset): its wording, not the firmware's.
    const trace = hardware.trace;
    const line = trace.line.bind(trace);
    trace.line = (text: string) => {
      if (text.startsWith("[sim] ")) this.events.push({ at: clock.now(), kind: "sim", text });
      line(text);
    };
  }

  static async start(bench: FaultServer, options: FaultDeviceOptions): Promise<FaultDevice> {
    const port = bench.server.port;
    // The bench follows every server in the process already, the proxy's listener with them.
    const proxy = await FaultProxy.start({ clock: bench.clock, target: { port }, trackServer: false });
    const device = new FaultDevice(bench, proxy, options);
    bench.devices.add(device);
    return device;
  }

  get record(): ServerRecord {
    return this.bench.record(this.id);
  }

  /** Times of connection attempts (DNS lookup or TCP connect started). */
  get attempts(): number[] {
    return this.events.filter((e) => e.kind === "connect").map((e) => e.at);
  }
  get joins(): number[] {
    return this.events.filter((e) => e.kind === "join").map((e) => e.at);
  }

  /** Backoff delays the firmware reported: when, how long, the bound it was drawn under, and why. */
  retries(): Retry[] {
    const found: Retry[] = [];
    this.events.forEach((event, seq) => {
      if (event.kind === "link.retry") found.push({ ...event, seq });
    });
    return found;
  }

  /** The stored readings of this device, by sample index. */
  rows() {
    return this.bench.server.db.readings(this.id, 0, Number.MAX_SAFE_INTEGER);
  }

  async close(): Promise<void> {
    this.bench.devices.delete(this);
    this.device.powerOff();
    await this.proxy.close();
  }
}

export interface Delivery {
  /** Readings sampled up to the cut-off. */
  sampled: number;
  /** Of those, stored: exactly one row, dated within 1 s, with the sampled value. */
  stored: number;
  /** Sample times with no row. */
  missing: number[];
  /** Sample times with more than one row, and rows that match no sample. */
  duplicated: number[];
  strays: number;
  /** Rows whose value differs from the sample's. */
  wrong: number[];
  /** Readings the device says its store dropped on overflow (its last hello's `store.drop`). */
  dropped: number;
}

/**
 * Compares what the probe read up to `upTo` (epoch ms) with what the server stored, reading by reading. A
 * row matches a sample dated within `tolerance` ms: the server dates readings by their age at receipt, so
 * a path that delays frames shifts the dates by its delay.
 */
export function delivery(device: FaultDevice, upTo: number, tolerance = 1000): Delivery {
  const samples = device.device.samples.filter((s) => s.at <= upTo);
  const rows = device.rows().filter((r) => r.t <= upTo + tolerance);
  rows.sort((a, b) => a.t - b.t);
  const report: Delivery = { sampled: samples.length, stored: 0, missing: [], duplicated: [], strays: 0, wrong: [], dropped: 0 };
  const seen = new Set<string>();
  let r = 0;
  for (const sample of samples) {
    while (r < rows.length && rows[r].t < sample.at - tolerance) {
      report.strays++;
      r++;
    }
    let matches = 0;
    while (r < rows.length && rows[r].t <= sample.at + tolerance) {
      const row = rows[r++];
      const key = `${row.boot}/${row.channel}/${row.idx}`;
      if (seen.has(key)) report.duplicated.push(sample.at);
      seen.add(key);
      if (matches++ === 0 && (row.centi ?? NaN) !== sample.value && row.centi !== null) report.wrong.push(sample.at);
    }
    if (matches === 0) report.missing.push(sample.at);
    else if (matches > 1) report.duplicated.push(sample.at);
    else report.stored++;
  }
  report.dropped = device.bench.server.db.device(device.id)?.store_drop ?? 0;
  return report;
}
