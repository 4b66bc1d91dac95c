/*
 * DutyCycle: one wake of battery mode. Each wake runs main() from scratch and finds its state in the
 * retained image (WakeState): sample into the retained store, decide whether the radio pays for itself
 * this wake (WakePlan), send and wait for the acks if so, then sleep until the next slot of the sampling
 * grid. A hard cap bounds the time awake, whatever the network does; a failed link keeps its backoff
 * across the sleep instead of waiting it out awake.
 */
import type { Host, TimerHandle } from "../host/host";
import type { Link } from "../link/link";
import { LinkState } from "../link/link";
import type { Uplink } from "../uplink/uplink";
import type { TemperatureProbe } from "../../sensors/probe";
import { LINK_ERRORS, linkErrorCode, type WakeState } from "./retained";
import { reasonToConnect, type WakeReason } from "./wake-plan";

export interface DutyCycleSettings {
  /** Seconds between samples (and wakes). */
  interval(): number;
  batchSize(): number;
  /** ms */
  maxLatency(): number;
  /** ms: the most one wake may stay awake. */
  awakeCap(): number;
  /** ms: check in for pushed configuration at least this often; 0 never. */
  checkIn(): number;
  /** True when a reading (centi-degrees) should be sent at once. */
  isAlarm(value: number): boolean;
}

/** Why the wake ended; "step" is a wake before its slot, one step of a sleep longer than the chip takes at once. */
export type SleepCause = "idle" | "sent" | "backoff" | "cap" | "step";

/** Don't plan a sleep shorter than this: waking costs more than staying awake that long. */
const MIN_SLEEP = 200;

export class DutyCycle {
  /** What this wake decided and how it ended, for the console and tests. */
  reason: WakeReason = "";
  cause: SleepCause | "" = "";
  #host: Host;
  #state: WakeState;
  #probe: TemperatureProbe;
  #uplink: Uplink;
  #link: Link;
  #settings: DutyCycleSettings;
  #wokeAt = 0;
  #connectStarted = 0;
  #connecting = false;
  #capTimer: TimerHandle | undefined;
  #bssid = new Uint8Array(6);

  constructor(host: Host, state: WakeState, probe: TemperatureProbe, uplink: Uplink, link: Link, settings: DutyCycleSettings) {
    this.#host = host;
    this.#state = state;
    this.#probe = probe;
    this.#uplink = uplink;
    this.#link = link;
    this.#settings = settings;
  }

  /**
   * Runs this wake. `fresh` is true when the retained image was empty or discarded: the sampling grid
   * starts now, for `boot`. `resumed` is true when the device clock continues from before a deep sleep.
   */
  wake(fresh: boolean, boot: number, resumed = !fresh): void {
    const host = this.#host;
    const state = this.#state;
    const now = (this.#wokeAt = host.ticks());
    const interval = this.#settings.interval();
    const newBoot = fresh || state.boot !== boot;
    if (resumed && !newBoot && state.interval === interval) {
      // Woken before the slot: a sleep longer than the chip takes at once goes on, radio and probe off.
      const due = state.gridStart + state.slot * interval * 1000;
      if (due - now > MIN_SLEEP) {
        this.cause = "step";
        return this.#sleepFor(due - now, now);
      }
    }
    if (newBoot || state.interval !== interval) {
      // A new grid from now: after a cold boot, or when the interval changed.
      if (newBoot) state.nextIndex = 0;
      state.boot = boot;
      state.interval = interval;
      state.gridStart = now;
      state.slot = 0;
    }
    state.wakes++;
    this.#capTimer = host.setTimer(() => this.#sleep("cap"), this.#settings.awakeCap());

    // Woken later than a whole interval past the slot: those slots were missed, and the indexes say so.
    const period = interval * 1000;
    let slot = state.slot;
    const behind = Math.floor((now - (state.gridStart + slot * period)) / period);
    if (behind > 0) {
      slot += behind;
      state.nextIndex += behind;
    }
    const index = state.nextIndex;
    const time = state.gridStart + slot * period;
    state.slot = slot + 1;
    state.nextIndex = index + 1;

    this.#probe.sample((value, more) => {
      if (more) state.store.appendChannels(value, more, state.boot, index, interval, time);
      else state.store.append(value, state.boot, index, interval, time);
      // The commit point: from here a reset keeps the reading (and this wake's place on the grid).
      this.#commit();
      this.#decide(this.#settings.isAlarm(value));
    });
  }

  #decide(alarm: boolean): void {
    const host = this.#host;
    const state = this.#state;
    const store = state.store;
    const reason = (this.reason = reasonToConnect({
      now: host.ticks(),
      unsent: store.unsent,
      batchSize: this.#settings.batchSize(),
      oldestUnsent: store.oldestUnsentTime(),
      maxLatency: this.#settings.maxLatency(),
      interval: state.interval * 1000,
      retryAt: state.retryAt,
      alarm,
      checkIn: this.#settings.checkIn(),
      lastCheckIn: state.lastCheckIn,
    }));
    if (!reason) return this.#sleep("idle");

    const link = this.#link;
    link.backoff.attempt = state.backoffAttempt;
    // A failure in an earlier wake is still to be reported in the next successful hello.
    if (state.error) link.lastError = LINK_ERRORS[state.error] ?? "";
    let associated = false;
    link.onTransition = (_from, _event, to) => {
      if (to === LinkState.Connecting) associated = true;
      if (to !== LinkState.Online) return;
      state.connectMs = host.ticks() - this.#connectStarted;
      // Remember the access point for a fast re-join next time (no scan, known channel).
      const bssid = this.#bssid;
      state.rememberAccessPoint(bssid, host.accessPoint(bssid));
    };
    link.onRest = (delay) => {
      // A join that failed with a remembered access point may have failed because of it: forget it.
      if (!associated) state.rememberAccessPoint(undefined, 0);
      state.retryAt = host.ticks() + delay;
      this.#sleep("backoff");
    };
    this.#uplink.flush = true;
    this.#uplink.onIdle = () => this.#sleep("sent");
    // Acknowledged readings leave the retained image at once: after a reset they are not sent again.
    this.#uplink.onReleased = () => this.#commit();
    this.#connectStarted = host.ticks();
    this.#connecting = true;
    state.connectMs = 0;
    link.start();
  }

  #sleep(cause: SleepCause): void {
    if (this.cause) return; // already on the way down
    this.cause = cause;
    const host = this.#host;
    const state = this.#state;
    host.clearTimer(this.#capTimer);
    const link = this.#link;
    if (this.#connecting) {
      if (cause === "sent") {
        state.lastUpload = state.lastCheckIn = host.ticks();
        state.backoffAttempt = 0;
        state.retryAt = 0;
      } else if (cause === "cap") {
        // The cap cut a connection short: count it as a failure, so that the next tries back off.
        state.overCap++;
        state.retryAt = host.ticks() + link.backoff.next(host.random());
        state.backoffAttempt = link.backoff.attempt;
      } else {
        state.backoffAttempt = link.backoff.attempt;
      }
      state.retries = link.backoff.attempt;
      // Kept until a hello has carried it (hello takes it from the link).
      state.error = cause === "cap" && !link.lastError ? LINK_ERRORS.indexOf("timeout") : linkErrorCode(link.lastError);
      link.onRest = undefined;
      link.stop(); // closes the socket, leaves Wi-Fi; unacknowledged readings stay in the store
    }
    this.#uplink.onIdle = undefined;
    this.#uplink.onReleased = undefined;

    const now = host.ticks();
    state.awakeMs = now - this.#wokeAt;
    const period = state.interval * 1000;
    let slot = state.slot;
    while (state.gridStart + slot * period < now + MIN_SLEEP) {
      slot++;
      state.nextIndex++; // a slot skipped because this wake ran long: an index gap marks it
    }
    state.slot = slot;
    this.#sleepFor(state.gridStart + slot * period - now, now);
  }

  /** Sleeps `delay`, or the longest the chip can (Host.maxSleepMs), after which the next wake goes on sleeping. */
  #sleepFor(delay: number, now: number): void {
    const max = this.#host.maxSleepMs;
    const sleep = delay < max ? delay : max;
    this.#state.clock = now + sleep;
    this.#state.commit();
    this.#host.deepSleep(sleep);
  }

  /**
   * Commits the retained image in the middle of a wake, with the device clock now: a reset before the next
   * commit resumes the clock from there (the time between is not known, at most the awake cap).
   */
  #commit(): void {
    const state = this.#state;
    state.clock = this.#host.ticks();
    state.commit();
  }
}
