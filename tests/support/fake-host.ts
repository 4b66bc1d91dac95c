/*
 * A Host for unit tests of device parts: a manual clock, timers fired by `advance`, seeded randomness,
 * Wi-Fi and sockets driven by the test. No I/O, no real time.
 */
import { frameBytes, type Host, type TlsState, type TimerHandle, type WebSocketEvents, type WebSocketHandle, type WifiEvent, type WifiOptions } from "../../modules/host/host";
import type { PreferenceStore } from "../../modules/host/host";
import type { ProbeIo } from "../../sensors/probe-io";
import type { DeviceEvent, DeviceEventKind, EventOf } from "../../modules/host/events";

export class MemoryPreferences implements PreferenceStore {
  map = new Map<string, string | number>();
  writes = 0;
  get(key: string) {
    return this.map.get(key);
  }
  set(key: string, value: string | number) {
    this.writes++;
    this.map.set(key, value);
  }
  remove(key: string) {
    this.map.delete(key);
  }
}

export class FakeSocket implements WebSocketHandle {
  sent: string[] = [];
  closed = false;
  /** Bytes the send buffer takes now (frameBytes of each frame); a test lowers it, then frees room with `drain`. */
  room = Infinity;
  /** Frames refused for want of room. */
  refused = 0;
  constructor(readonly url: string, readonly headers: string[], readonly events: WebSocketEvents, readonly ntp?: string) {}
  send(text: string): boolean {
    if (this.closed) throw new Error("send on a closed socket");
    const bytes = frameBytes(text);
    if (bytes > this.room) {
      this.refused++;
      return false;
    }
    this.room -= bytes;
    this.sent.push(text);
    return true;
  }
  /** TCP acknowledged `bytes`: room again, and the writable event. */
  drain(bytes: number) {
    this.room += bytes;
    this.events.onWritable?.();
  }
  close() {
    this.closed = true;
  }
  /** Frames sent, parsed. */
  frames(): any[] {
    return this.sent.map((text) => JSON.parse(text));
  }
}

interface PendingTimer {
  at: number;
  seq: number;
  callback: () => void;
}

export class FakeHost implements Host {
  chip = "test";
  manifest: Record<string, unknown> = {};
  preferences = new MemoryPreferences();
  logs: string[] = [];
  /** The events reported, in order. */
  events: DeviceEvent[] = [];
  sockets: FakeSocket[] = [];
  wifiJoins: WifiOptions[] = [];
  wifiListener: ((event: WifiEvent) => void) | undefined;
  /** Answer Wi-Fi joins at once with this event, or leave them pending when undefined. */
  wifiAnswer: WifiEvent | undefined = "connected";
  /** Memory that survives deepSleep(); tests pass the same buffer to the next wake's host. */
  retained: ArrayBuffer | undefined;
  /** Whether wss:// can be opened. */
  tls: TlsState = "none";
  /** The longest deepSleep() the chip takes at once. */
  maxSleepMs = 0x7fffffff;
  /** Each deepSleep(ms) asked for. */
  sleeps: number[] = [];
  /** commitRetained() calls. */
  commits = 0;
  /** What accessPoint() reports. */
  joinedBssid = Uint8Array.of(2, 4, 6, 8, 10, 12);
  joinedChannel = 6;
  /** What probeIo() offers: none by default, as on the desktop simulator. */
  io: ProbeIo | undefined;
  #now = 0;
  #timers: PendingTimer[] = [];
  #seq = 0;
  #seed: number;

  constructor(seed = 1) {
    this.#seed = seed;
  }

  ticks() {
    return this.#now;
  }
  resumeClock(ms: number) {
    this.#now = ms;
  }
  retainedMemory(bytes: number) {
    return this.retained && this.retained.byteLength >= bytes ? this.retained : undefined;
  }
  commitRetained() {
    this.commits++;
  }
  deepSleep(ms: number) {
    this.sleeps.push(ms);
    this.#timers = []; // nothing runs on after a sleep
  }
  accessPoint(bssid: Uint8Array) {
    bssid.set(this.joinedBssid);
    return this.joinedChannel;
  }
  random() {
    this.#seed = (this.#seed * 1103515245 + 12345) & 0x7fffffff;
    return this.#seed / 0x80000000;
  }
  setTimer(callback: () => void, ms: number): TimerHandle {
    const timer = { at: this.#now + ms, seq: this.#seq++, callback };
    this.#timers.push(timer);
    return timer as unknown as TimerHandle;
  }
  clearTimer(timer: TimerHandle | undefined) {
    const i = this.#timers.indexOf(timer as unknown as PendingTimer);
    if (i >= 0) this.#timers.splice(i, 1);
  }
  joinWifi(options: WifiOptions, onEvent: (event: WifiEvent) => void) {
    this.wifiJoins.push(options);
    this.wifiListener = onEvent;
    if (this.wifiAnswer) onEvent(this.wifiAnswer);
  }
  leaveWifi() {
    this.wifiListener = undefined;
  }
  openWebSocket(url: string, headers: string[], events: WebSocketEvents, ntp?: string): WebSocketHandle {
    const socket = new FakeSocket(url, headers, events, ntp);
    this.sockets.push(socket);
    return socket;
  }
  probeIo() {
    return this.io;
  }
  memory() {
    return undefined;
  }
  openSerial() {
    return undefined;
  }
  scanWifi(done: (networks: { ssid: string; rssi: number; secure: boolean }[]) => void) {
    done([]);
  }
  log(text: string) {
    this.logs.push(text);
  }
  event(event: DeviceEvent) {
    this.events.push(event);
  }
  /** The events of one kind, in order. */
  eventsOf<K extends DeviceEventKind>(kind: K): EventOf<K>[] {
    return this.events.filter((e): e is EventOf<K> => e.kind === kind);
  }
  resetReason() {
    return "power-on";
  }
  restarts = 0;
  restart() {
    this.restarts++;
  }

  get socket(): FakeSocket | undefined {
    return this.sockets[this.sockets.length - 1];
  }
  /** Delay until the next timer, or undefined. */
  nextTimer(): number | undefined {
    if (!this.#timers.length) return undefined;
    return Math.min(...this.#timers.map((t) => t.at)) - this.#now;
  }
  /** The device is busy for `ms`: time passes and nothing fires; what fell due fires late, at the next advance. */
  busy(ms: number) {
    this.#now += ms;
  }
  /** Moves the clock on by `ms`, firing due timers in order (a late one at the present: time never goes back). */
  advance(ms: number) {
    const end = this.#now + ms;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const t of this.#timers) if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (!next) break;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      if (next.at > this.#now) this.#now = next.at;
      next.callback();
    }
    this.#now = end;
  }
}
