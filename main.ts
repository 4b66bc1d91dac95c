/*
 * thermocast firmware: the composition root. It reads the configuration, builds the parts and starts
 * them; the parts live in modules/ and know nothing of each other beyond what is passed in here.
 */
import { ModdableHost } from "./modules/host/moddable";
import { Settings } from "./config/settings";
import { staticAddress, type ConfigKey } from "./config/schema";
import { ReadingStore } from "./modules/store/readings";
import { BatchEncoder } from "./modules/protocol/batch";
import { Link, type LinkSettings } from "./modules/link/link";
import { Uplink, type ConfigAnswer, type UplinkOptions } from "./modules/uplink/uplink";
import type { LinkErrorCode, LinkEventName } from "./modules/link/link";
import type { ProbeChannel } from "./sensors/channel";
import { Sampler } from "./modules/sampler/sampler";
import { createProbe, reconfigureProbe } from "./sensors/select";
import { WakeState } from "./modules/power/retained";
import { DutyCycle } from "./modules/power/duty-cycle";
import { openDeviceConsole } from "./modules/console/device-console";

export const FIRMWARE_VERSION = "0.1.0";
/**
 * Always-on mode: 2 bytes a reading in RAM, 512 readings are 1 KiB, 8.5 hours at one a minute. A platform may
 * keep fewer (the ESP8266: 256, 4.3 hours, in its 32 KB XS block; manifest.json, docs/memory.md).
 */
const STORE_CAPACITY = 512;
const MAX_BATCH = 120;
/** Battery mode: the most a wake may stay awake, whatever the network does. */
const AWAKE_CAP_MS = 15000;
/** Battery mode: connect at least this often to pick up pushed configuration. */
const CHECK_IN_MS = 6 * 3600 * 1000;

export default function main(): void {
  const host = new ModdableHost(main);
  const settings = new Settings(host.preferences, host.manifest);
  for (const warning of settings.warnings) host.event({ kind: "config.warning", warning });

  const resetReason = host.resetReason();
  const memory = host.retainedMemory(0);
  // Two image slots where there is room (ESP32's 4 KB): a reset in the middle of a commit then loses
  // nothing. ESP8266's few hundred bytes keep one (docs/power.md).
  const slots = memory && memory.byteLength >= 1024 ? 2 : 1;
  const capacity = memory ? WakeState.capacityFor(memory.byteLength, slots) : 0;
  let wake: WakeState | undefined;
  let fresh = true;
  // Battery mode; or a wake from deep sleep after a pushed always-on, whose retained readings go first (the
  // DutyCycle restarts into always-on once nothing is held).
  if (settings.text("mode") === "battery" || resetReason === "deep-sleep") {
    if (memory && capacity > 0) {
      wake = new WakeState(memory, capacity, slots, () => host.commitRetained());
      const found = wake.restore();
      if (found === "corrupt") host.event({ kind: "power.corrupt", corrupt: wake.corrupt, lost: wake.lost });
      fresh = found !== "restored";
      // After a deep sleep the clock goes on from the planned wake; after a reset in a wake, from the last
      // commit (the time since is not known: at most the awake cap).
      if (!fresh) host.resumeClock(wake.clock);
    } else {
      host.event({ kind: "power.noRetained" });
    }
  }
  // Boots are counted in flash, once per cold boot: a deep-sleep wake is not a boot, unless it found no
  // image to go on from (its sample indexes start again at 0: a new boot keeps them apart from the old).
  const boots = host.preferences.get("boots");
  let boot = typeof boots === "number" ? boots : 0;
  if (resetReason !== "deep-sleep" || !boot || (wake && fresh)) host.preferences.set("boots", ++boot);
  const store = wake ? wake.store : new ReadingStore(host.storeReadings ?? STORE_CAPACITY);
  // The probe `probe.type` names, on the board's pins, in its channel (offset, stuck detection).
  const probe = createProbe(settings, host, boot);

  const accessPoint = new Uint8Array(6);
  // Battery wakes join with the static address, if set, unless the last join with it failed (docs/power.md).
  const fixedAddress = () => (wake ? staticAddress(settings.text("wifi.ip")) : undefined);
  const linkSettings = (): LinkSettings => {
    const fixed = fixedAddress();
    return {
      ssid: settings.text("wifi.ssid"),
      password: settings.text("wifi.password"),
      url: settings.text("server.url"),
      ntp: settings.text("server.ntp"),
      deviceId: settings.text("device.id"),
      token: settings.text("device.token"),
      // On battery a retry costs a wake with the radio on: no sooner than the next wake, no more often
      // than the latency asked for (docs/power.md).
      backoffBase: wake ? Math.max(settings.int("link.backoff.base"), settings.int("sample.interval") * 1000) : settings.int("link.backoff.base"),
      backoffCap: wake ? Math.max(settings.int("link.backoff.cap"), settings.int("batch.latency") * 1000) : settings.int("link.backoff.cap"),
      heartbeat: settings.int("link.heartbeat") * 1000,
      oneShot: wake !== undefined,
      bssid: wake && wake.bssid(accessPoint) ? accessPoint : undefined,
      channel: wake?.channel,
      address: wake?.useStaticAddress(fixed) ? fixed : undefined,
    };
  };

  const terms = new UplinkTerms(host, store, new BatchEncoder(MAX_BATCH), settings, probe, wake, boot, resetReason, capacity, changed);
  const uplink = new Uplink(terms);
  const link = (terms.link = new Link(host, linkSettings(), uplink));

  const sampler = new Sampler(host, probe, settings.int("sample.interval"), (value, index, interval, time, more) => {
    if (more) store.appendChannels(value, more, boot, index, interval, time);
    else store.append(value, boot, index, interval, time);
    uplink.pump();
    // Every 100 readings, the heap in use: the figure docs/memory.md budgets (Moddable's instrumentation).
    if (index % 100 === 99) {
      const memory = host.memory();
      if (memory) host.event({ kind: "heap", slots: memory.slots, chunks: memory.chunks, readings: index + 1 });
    }
  });

  openDeviceConsole({
    host, settings, link, uplink, store, probe, wake, version: FIRMWARE_VERSION, boot, resetReason, linkSettings, changed,
  });

  function changed(keys: readonly ConfigKey[]): void {
    for (const key of keys) {
      if (key === "sample.interval") sampler.setInterval(settings.int(key));
      if (key.startsWith("wifi.") || key.startsWith("server.") || key.startsWith("device.") || key.startsWith("link."))
        link.configure(linkSettings());
    }
    reconfigureProbe(probe, keys, settings, host, boot);
    if (keys.indexOf("mode") >= 0) switchMode();
    if (keys.length) host.event({ kind: "config.changed", keys });
  }

  /**
   * A pushed `mode`. Battery to always-on: the DutyCycle sees it (`leaving`) and restarts once what is retained
   * is sent. Always-on to battery: a restart into battery mode once the readings in RAM are acknowledged.
   */
  function switchMode(): void {
    if (wake) return;
    if (settings.text("mode") !== "battery") {
      uplink.flush = false;
      uplink.onIdle = undefined;
      return;
    }
    uplink.whenIdle(() => {
      uplink.onIdle = undefined;
      // After this turn: the cfgack that carried the change goes out first.
      host.setTimer(() => {
        link.stop();
        host.restart();
      }, 0);
    });
  }

  if (wake) {
    new DutyCycle(host, wake, probe, uplink, link, {
      interval: () => settings.int("sample.interval"),
      batchSize: () => settings.int("batch.size"),
      maxLatency: () => settings.int("batch.latency") * 1000,
      awakeCap: () => AWAKE_CAP_MS,
      checkIn: () => CHECK_IN_MS,
      leaving: () => settings.text("mode") !== "battery",
      staticAddress: fixedAddress,
    }).wake(fresh, boot, !fresh && resetReason === "deep-sleep");
    return;
  }
  host.event({ kind: "boot", version: FIRMWARE_VERSION, boot, resetReason, id: settings.text("device.id") });
  sampler.start();
  link.start();
}

/**
 * What the uplink asks of the rest of the firmware: what `hello` says, the batch limits, pushed
 * configuration. Methods of one object rather than closures: on the ESP8266 each closure is a function
 * instance of about five slots and one more a variable it captures, while methods stay in flash
 * (docs/memory.md).
 */
class UplinkTerms implements UplinkOptions {
  /** Set once the link is built (it takes the uplink). */
  link!: Link;
  constructor(
    readonly host: ModdableHost,
    readonly store: ReadingStore,
    readonly encoder: BatchEncoder,
    readonly settings: Settings,
    readonly probe: ProbeChannel,
    readonly wake: WakeState | undefined,
    readonly boot: number,
    readonly resetReason: string,
    /** Readings retained memory holds in battery mode; 0 where the board keeps none. */
    readonly capacity: number,
    readonly changed: (keys: readonly ConfigKey[]) => void,
  ) {}

  hello(): Record<string, unknown> {
    const { settings, store, wake, probe } = this;
    return {
      id: settings.text("device.id"),
      fw: FIRMWARE_VERSION,
      boot: this.boot,
      rr: this.resetReason,
      mode: settings.text("mode"),
      cfg: {
        "sample.interval": settings.int("sample.interval"),
        "batch.size": settings.int("batch.size"),
        "batch.latency": settings.int("batch.latency"),
      },
      err: this.link.takeError() || undefined,
      store: { n: store.count, cap: store.capacity, drop: store.dropped, corrupt: wake?.corrupt, lost: wake?.lost },
      mem: this.host.memory(),
      // `ch` only for a probe with more than one channel: a temperature probe's hello is as it was.
      probe: { type: settings.text("probe.type"), ch: probe.channels.length > 1 ? probe.channels : undefined, ...probe.faults.report() },
      wake: wake ? { awake: wake.awakeMs, connect: wake.connectMs, retries: wake.retries, n: wake.wakes } : undefined,
    };
  }
  batchSize(): number {
    return this.settings.int("batch.size");
  }
  maxLatency(): number {
    return this.settings.int("batch.latency") * 1000;
  }
  ackTimeout(): number {
    return this.settings.int("link.ack.timeout");
  }
  applyConfig(set: Record<string, unknown>): ConfigAnswer {
    const pushed = this.settings.applyPushed(set, this.capacity <= 0 ? refuseBattery : undefined);
    this.changed(pushed.changed);
    return pushed;
  }
  fail(event: LinkEventName, code: LinkErrorCode, reason: string): void {
    this.link.fail(event, code, reason);
  }
}

/** A pushed `mode` of battery, on a board without retained memory. */
function refuseBattery(key: string, value: unknown): string | undefined {
  return key === "mode" && value === "battery" ? "mode: this board keeps no memory through deep sleep" : undefined;
}
