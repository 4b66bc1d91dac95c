/*
 * The console and Improv on the device's serial port, given the running parts: what `status`, `sample`,
 * `test` and `reboot` do, and how Improv tries Wi-Fi credentials. main.ts calls this once.
 */
import type { Host } from "../host/host";
import type { Link, LinkSettings } from "../link/link";
import { LinkState, urlRefusal } from "../link/link";
import type { Uplink } from "../uplink/uplink";
import type { ReadingStore } from "../store/readings";
import type { WakeState } from "../power/retained";
import type { TemperatureProbe } from "../../sensors/probe";
import type { Settings } from "../../config/settings";
import type { ConfigKey, ConfigValue } from "../../config/schema";
import { LineConsole, type ConsoleOptions, type DeviceStatus } from "./console";
import { PortOutput } from "./output";
import { SharedPort } from "./shared-port";
import { ImprovService, type ImprovOptions, type WifiNetwork } from "../improv/improv";

export interface DeviceConsoleParts {
  host: Host;
  settings: Settings;
  link: Link;
  uplink: Uplink;
  store: ReadingStore;
  probe: TemperatureProbe;
  wake: WakeState | undefined;
  version: string;
  boot: number;
  resetReason: string;
  linkSettings(): LinkSettings;
  changed(keys: readonly ConfigKey[]): void;
}

const TEST_TIMEOUT = 30000;
const JOIN_TIMEOUT = 20000;

/** Opens the console on the serial port; undefined when the build has no port for it. */
export function openDeviceConsole(parts: DeviceConsoleParts): LineConsole | undefined {
  const host = parts.host;
  let shared: SharedPort | undefined;
  let output: PortOutput | undefined;
  const port = host.openSerial((bytes) => shared?.receive(bytes, host.ticks()), () => output?.drain());
  if (!port) return undefined;
  output = new PortOutput(port);
  const device = new DeviceServices(parts, output);
  const console = new LineConsole(device);
  shared = new SharedPort(console, new ImprovService(device));
  console.start(`thermocast ${parts.version}`);
  return console;
}

/**
 * What the console and Improv ask of the running firmware: `status`, `sample`, `test`, `reboot`, trying
 * Wi-Fi credentials. Methods of one object rather than closures: on the ESP8266 each closure is a function
 * instance of about five slots and one more a variable it captures, while methods stay in flash
 * (docs/memory.md).
 */
class DeviceServices implements ConsoleOptions, ImprovOptions {
  readonly output: PortOutput;
  readonly settings: Settings;
  readonly firmware = "thermocast";
  readonly version: string;
  readonly chip: string;
  #parts: DeviceConsoleParts;
  /** Uptime from here: mcsim's ticks count from the host's boot, and a board's wrap at 2^32. */
  #startedAt: number;

  constructor(parts: DeviceConsoleParts, output: PortOutput) {
    this.#parts = parts;
    this.output = output;
    this.settings = parts.settings;
    this.version = parts.version;
    this.chip = parts.host.chip;
    this.#startedAt = parts.host.ticks();
  }

  changed(keys: readonly ConfigKey[]): void {
    this.#parts.changed(keys);
  }

  refuse(key: ConfigKey, value: ConfigValue): string | undefined {
    return key === "server.url" ? urlRefusal(String(value), this.#parts.host.tls) : undefined;
  }

  status(): DeviceStatus {
    const { link, uplink, store, wake } = this.#parts;
    return {
      version: this.#parts.version,
      boot: this.#parts.boot,
      resetReason: this.#parts.resetReason,
      uptime: (this.#parts.host.ticks() - this.#startedAt) >>> 0,
      link: link.state,
      lastError: link.lastError,
      stored: store.count,
      capacity: store.capacity,
      dropped: store.dropped,
      sentBatches: uplink.sentBatches,
      acked: uplink.acked,
      wake: wake ? { awake: wake.awakeMs, connect: wake.connectMs, retries: wake.retries } : undefined,
      retained: wake ? { corrupt: wake.corrupt, lost: wake.lost } : undefined,
    };
  }

  sample(done: (value: number) => void): void {
    this.#parts.probe.sample(done);
  }

  test(progress: (step: string) => void, done: (ok: boolean, summary: string) => void): void {
    const { host, link } = this.#parts;
    // Watch the link through one attempt; the observer before us (if any) keeps its calls.
    const before = link.onTransition;
    let finished = false;
    const finish = (ok: boolean, summary: string) => {
      if (finished) return;
      finished = true;
      host.clearTimer(timer);
      link.onTransition = before;
      done(ok, summary);
    };
    const timer = host.setTimer(() => finish(false, `no connection in ${TEST_TIMEOUT / 1000} s: ${link.lastError || link.state}`), TEST_TIMEOUT);
    link.onTransition = (from, event, to) => {
      before?.(from, event, to);
      progress(`${from} -> ${to}`);
      if (to === LinkState.Online) finish(true, "connected to the server");
      else if (to === LinkState.Backoff || to === LinkState.Suspended) finish(false, link.lastError || to);
    };
    if (link.state === LinkState.Online) return finish(true, "already connected to the server");
    if (link.state === LinkState.Idle) link.start();
    else link.configure(this.#parts.linkSettings());
  }

  reboot(): void {
    const host = this.#parts.host;
    host.setTimer(() => host.restart(), 200); // let the last words leave the port first
  }

  scan(done: (networks: readonly WifiNetwork[]) => void): void {
    this.#parts.host.scanWifi(done);
  }

  tryWifi(ssid: string, password: string, done: (connected: boolean) => void): void {
    const { host, link } = this.#parts;
    // Try the candidate without touching the stored settings; the link re-joins after Improv stored them.
    link.stop();
    const timer = host.setTimer(() => end(false), JOIN_TIMEOUT);
    let ended = false;
    const end = (ok: boolean) => {
      if (ended) return;
      ended = true;
      host.clearTimer(timer);
      done(ok);
      link.start();
    };
    host.joinWifi({ ssid, password }, (event) => end(event === "connected"));
  }

  log(text: string): void {
    this.#parts.host.log(text);
  }
}
