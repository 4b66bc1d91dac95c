/*
 * thermocast firmware: the composition root. It reads the configuration, builds the parts and starts
 * them; the parts live in modules/ and know nothing of each other beyond what is passed in here.
 */
import { ModdableHost } from "./modules/host/moddable";
import { Settings } from "./config/settings";
import type { ConfigKey } from "./config/schema";
import { ReadingStore } from "./modules/store/readings";
import { BatchEncoder } from "./modules/protocol/batch";
import { Link, type LinkSettings } from "./modules/link/link";
import { Uplink } from "./modules/uplink/uplink";
import { Sampler } from "./modules/sampler/sampler";
import { SimulatedProbe } from "./sensors/simulated/probe";
import { ProbeSignal } from "./sensors/simulated/signal";

export const FIRMWARE_VERSION = "0.1.0";
/** 2 bytes a reading: 512 readings are 1 KiB, 8.5 hours at one a minute. */
const STORE_CAPACITY = 512;
const MAX_BATCH = 120;

export default function main(): void {
  const host = new ModdableHost();
  const settings = new Settings(host.preferences, host.manifest);
  for (const warning of settings.warnings) host.log(`config: ${warning}`);

  const boots = host.preferences.get("boots");
  const boot = typeof boots === "number" ? boots + 1 : 1;
  host.preferences.set("boots", boot);
  const resetReason = host.resetReason();

  const store = new ReadingStore(STORE_CAPACITY);
  const probe = new SimulatedProbe({
    sensor: { io: new ProbeSignal({ seed: boot }) },
    ticks: () => host.ticks(),
  });

  const linkSettings = (): LinkSettings => ({
    ssid: settings.text("wifi.ssid"),
    password: settings.text("wifi.password"),
    url: settings.text("server.url"),
    deviceId: settings.text("device.id"),
    token: settings.text("device.token"),
    backoffBase: settings.int("link.backoff.base"),
    backoffCap: settings.int("link.backoff.cap"),
  });

  const uplink: Uplink = new Uplink({
    host,
    store,
    encoder: new BatchEncoder(MAX_BATCH),
    hello: () => ({
      id: settings.text("device.id"),
      fw: FIRMWARE_VERSION,
      boot,
      rr: resetReason,
      mode: settings.text("mode"),
      cfg: {
        "sample.interval": settings.int("sample.interval"),
        "batch.size": settings.int("batch.size"),
        "batch.latency": settings.int("batch.latency"),
      },
      err: link.takeError() || undefined,
      store: { n: store.count, cap: store.capacity, drop: store.dropped },
    }),
    batchSize: () => settings.int("batch.size"),
    maxLatency: () => settings.int("batch.latency") * 1000,
    ackTimeout: () => settings.int("link.ack.timeout"),
    applyConfig: (set) => {
      const applied = settings.apply(set, true);
      if (!applied.ok) return applied.error;
      changed(applied.changed);
      return "";
    },
    fail: (event, reason) => link.fail(event, reason),
  });
  const link = new Link(host, linkSettings(), uplink);

  const sampler = new Sampler(host, probe, settings.int("sample.interval"), (value, index, interval, time) => {
    store.append(value, boot, index, interval, time);
    uplink.pump();
  });

  function changed(keys: ConfigKey[]): void {
    for (const key of keys) {
      if (key === "sample.interval") sampler.setInterval(settings.int(key));
      if (key.startsWith("wifi.") || key.startsWith("server.") || key.startsWith("device.") || key.startsWith("link."))
        link.configure(linkSettings());
    }
    if (keys.length) host.log(`config: changed ${keys.join(", ")}`);
  }

  host.log(`thermocast ${FIRMWARE_VERSION} boot ${boot} (${resetReason}) as ${settings.text("device.id")}`);
  sampler.start();
  link.start();
}
