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
import type { ConfigKey } from "../../config/schema";
import { LineConsole } from "./console";
import { PortOutput } from "./output";
import { SharedPort } from "./shared-port";
import { ImprovService } from "../improv/improv";

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
  const { host, settings, link, uplink, store, probe, wake } = parts;
  let shared: SharedPort | undefined;
  let output: PortOutput | undefined;
  const port = host.openSerial((bytes) => shared?.receive(bytes, host.ticks()), () => output?.drain());
  if (!port) return undefined;
  output = new PortOutput(port);
  // Uptime from now: mcsim's ticks count from the host's boot, and a board's wrap at 2^32.
  const startedAt = host.ticks();

  const console = new LineConsole({
    output,
    settings,
    changed: parts.changed,
    refuse: (key, value) => (key === "server.url" ? urlRefusal(String(value), host.tls) : undefined),
    status: () => ({
      version: parts.version,
      boot: parts.boot,
      resetReason: parts.resetReason,
      uptime: (host.ticks() - startedAt) >>> 0,
      link: link.state,
      lastError: link.lastError,
      stored: store.count,
      capacity: store.capacity,
      dropped: store.dropped,
      sentBatches: uplink.sentBatches,
      acked: uplink.acked,
      wake: wake ? { awake: wake.awakeMs, connect: wake.connectMs, retries: wake.retries } : undefined,
      retained: wake ? { corrupt: wake.corrupt, lost: wake.lost } : undefined,
    }),
    sample: (done) => probe.sample(done),
    test: (progress, done) => {
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
      else link.configure(parts.linkSettings());
    },
    reboot: () => host.setTimer(() => host.restart(), 200), // let the last words leave the port first
  });

  const improv = new ImprovService({
    output,
    settings,
    firmware: "thermocast",
    version: parts.version,
    chip: host.chip,
    changed: parts.changed,
    scan: (done) => host.scanWifi(done),
    tryWifi: (ssid, password, done) => {
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
    },
    log: (text) => host.log(text),
  });
  shared = new SharedPort(console, improv);
  console.start(`thermocast ${parts.version}`);
  return console;
}
