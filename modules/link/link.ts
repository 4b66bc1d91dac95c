/*
 * The link to the server as an explicit state machine. States and events are named, the transitions
 * are the table `TRANSITIONS` (docs/link.md draws it), and each transition names the action it runs.
 * Time, randomness, Wi-Fi and sockets come from the Host.
 */
import type { Host, WebSocketHandle } from "../host/host";
import { Backoff } from "./backoff";

export const LinkState = Object.freeze({
  Idle: "Idle",
  JoiningWiFi: "JoiningWiFi",
  Connecting: "Connecting",
  Online: "Online",
  Backoff: "Backoff",
  Suspended: "Suspended",
});
export type LinkStateName = (typeof LinkState)[keyof typeof LinkState];

export const LinkEvent = Object.freeze({
  Start: "Start",
  WifiUp: "WifiUp",
  WifiDown: "WifiDown",
  Opened: "Opened",
  Closed: "Closed",
  Timeout: "Timeout",
  /** The server refused the credentials, or the configuration cannot work: retrying will not help. */
  Rejected: "Rejected",
  RetryDue: "RetryDue",
  ConfigChanged: "ConfigChanged",
  Stop: "Stop",
});
export type LinkEventName = (typeof LinkEvent)[keyof typeof LinkEvent];

export type LinkAction = "joinWifi" | "connect" | "goOnline" | "retryLater" | "suspend" | "shutDown";

export interface Transition {
  from: LinkStateName | "*";
  on: LinkEventName;
  to: LinkStateName;
  action: LinkAction;
}

const S = LinkState, E = LinkEvent;
export const TRANSITIONS: readonly Transition[] = Object.freeze([
  { from: S.Idle, on: E.Start, to: S.JoiningWiFi, action: "joinWifi" },
  { from: S.JoiningWiFi, on: E.WifiUp, to: S.Connecting, action: "connect" },
  { from: S.JoiningWiFi, on: E.WifiDown, to: S.Backoff, action: "retryLater" },
  { from: S.JoiningWiFi, on: E.Timeout, to: S.Backoff, action: "retryLater" },
  { from: S.JoiningWiFi, on: E.Rejected, to: S.Suspended, action: "suspend" },
  { from: S.Connecting, on: E.Opened, to: S.Online, action: "goOnline" },
  { from: S.Connecting, on: E.Closed, to: S.Backoff, action: "retryLater" },
  { from: S.Connecting, on: E.Timeout, to: S.Backoff, action: "retryLater" },
  { from: S.Connecting, on: E.WifiDown, to: S.Backoff, action: "retryLater" },
  { from: S.Connecting, on: E.Rejected, to: S.Suspended, action: "suspend" },
  { from: S.Online, on: E.Closed, to: S.Backoff, action: "retryLater" },
  { from: S.Online, on: E.Timeout, to: S.Backoff, action: "retryLater" },
  { from: S.Online, on: E.WifiDown, to: S.Backoff, action: "retryLater" },
  { from: S.Online, on: E.Rejected, to: S.Suspended, action: "suspend" },
  { from: S.Backoff, on: E.RetryDue, to: S.JoiningWiFi, action: "joinWifi" },
  { from: S.Backoff, on: E.ConfigChanged, to: S.JoiningWiFi, action: "joinWifi" },
  { from: S.Suspended, on: E.RetryDue, to: S.JoiningWiFi, action: "joinWifi" },
  { from: S.Suspended, on: E.ConfigChanged, to: S.JoiningWiFi, action: "joinWifi" },
  { from: "*", on: E.Stop, to: S.Idle, action: "shutDown" },
] as Transition[]);

export interface LinkSettings {
  ssid: string;
  password: string;
  url: string;
  deviceId: string;
  token: string;
  backoffBase: number;
  backoffCap: number;
  /**
   * Battery mode: one attempt per wake. Instead of waiting out a backoff delay awake, the link reports
   * it through `onRest` and stays put; the caller sleeps and keeps the delay across the sleep.
   */
  oneShot?: boolean;
  /** Access point of the last join (6 bytes) and its channel, for a fast re-join; channel 0 when unknown. */
  bssid?: Uint8Array;
  channel?: number;
}

/** The session protocol on top of an open socket (modules/uplink). */
export interface LinkClient {
  online(socket: WebSocketHandle): void;
  text(text: string): void;
  offline(): void;
}

const WIFI_TIMEOUT = 20000;
const CONNECT_TIMEOUT = 10000;
/** After a rejection: wait long, but not forever (a revoked token may be reinstated). */
const SUSPEND_RETRY = 3600000;

export class Link {
  state: LinkStateName = LinkState.Idle;
  /** The reason of the last failure, reported in the next `hello` and by `status`. */
  lastError = "";
  attempts = 0;
  readonly backoff: Backoff;
  /** Observers, for the console and for tests: every transition taken. */
  onTransition: ((from: LinkStateName, event: LinkEventName, to: LinkStateName) => void) | undefined;
  /** One-shot mode: the link gave up for this wake; try again no sooner than `delay` ms from now. */
  onRest: ((delay: number) => void) | undefined;
  #host: Host;
  #settings: LinkSettings;
  #client: LinkClient;
  #socket: WebSocketHandle | undefined;
  #timer: ReturnType<Host["setTimer"]> | undefined;
  #wifiUp = false;
  #queue: LinkEventName[] = [];
  #dispatching = false;
  #pendingError = "";

  constructor(host: Host, settings: LinkSettings, client: LinkClient) {
    this.#host = host;
    this.#settings = settings;
    this.#client = client;
    this.backoff = new Backoff(settings.backoffBase, settings.backoffCap);
  }

  start(): void {
    this.dispatch(LinkEvent.Start);
  }
  stop(): void {
    this.dispatch(LinkEvent.Stop);
  }

  /** New settings: takes effect at the next connection; a suspended link tries again at once. */
  configure(settings: LinkSettings): void {
    this.#settings = settings;
    this.backoff.base = settings.backoffBase;
    this.backoff.cap = settings.backoffCap;
    this.dispatch(LinkEvent.ConfigChanged);
  }

  /** The session saw something wrong (no ack in time, a rejection): `event` is Timeout or Rejected. */
  fail(event: LinkEventName, reason: string): void {
    this.#pendingError = reason;
    this.dispatch(event);
  }

  dispatch(event: LinkEventName): void {
    this.#queue.push(event);
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      while (this.#queue.length) this.#step(this.#queue.shift()!);
    } finally {
      this.#dispatching = false;
    }
  }

  #step(event: LinkEventName): void {
    let transition: Transition | undefined;
    for (const t of TRANSITIONS) {
      if (t.on === event && (t.from === this.state || t.from === "*")) {
        transition = t;
        break;
      }
    }
    if (!transition) return; // events that do not apply in a state are ignored, by design
    const from = this.state;
    this.state = transition.to;
    this.#host.clearTimer(this.#timer);
    this.#timer = undefined;
    this[transition.action]();
    this.onTransition?.(from, event, transition.to);
  }

  joinWifi(): void {
    const settings = this.#settings;
    if (!settings.url) return this.fail(LinkEvent.Rejected, "server.url is not set");
    if (this.#wifiUp) return this.dispatch(LinkEvent.WifiUp);
    if (!settings.ssid) return this.fail(LinkEvent.Rejected, "wifi.ssid is not set");
    this.#arm(WIFI_TIMEOUT, LinkEvent.Timeout, "wifi join timed out");
    const options = { ssid: settings.ssid, password: settings.password, bssid: settings.bssid, channel: settings.channel };
    this.#host.joinWifi(options, (event) => {
      this.#wifiUp = event === "connected";
      if (!this.#wifiUp) this.#pendingError ||= "wifi disconnected";
      this.dispatch(this.#wifiUp ? LinkEvent.WifiUp : LinkEvent.WifiDown);
    });
  }

  connect(): void {
    const settings = this.#settings;
    this.attempts++;
    this.#arm(CONNECT_TIMEOUT, LinkEvent.Timeout, "connect timed out");
    const url = `${settings.url.replace(/\/+$/, "")}/v1/device/${settings.deviceId}`;
    let socket: WebSocketHandle | undefined;
    const events = {
      onOpen: () => {
        if (socket === this.#socket) this.dispatch(LinkEvent.Opened);
      },
      onText: (text: string) => {
        if (socket === this.#socket && this.state === LinkState.Online) this.#client.text(text);
      },
      onClose: () => {
        if (socket !== this.#socket) return;
        this.#socket = undefined;
        this.#pendingError ||= "connection closed";
        this.dispatch(LinkEvent.Closed);
      },
    };
    try {
      socket = this.#socket = this.#host.openWebSocket(url, ["Authorization", `Bearer ${settings.token}`], events);
    } catch {
      // The platform could not even start a connection (no socket, no route): transient, like a refusal.
      this.#pendingError = `cannot open ${url}`;
      this.dispatch(LinkEvent.Closed);
    }
  }

  goOnline(): void {
    this.backoff.reset();
    this.#pendingError = "";
    this.#client.online(this.#socket!);
  }

  retryLater(): void {
    this.#drop();
    if (this.#pendingError) this.lastError = this.#pendingError;
    this.#pendingError = "";
    const next = this.backoff.next(this.#host.random());
    this.#rest(next < 0 ? SUSPEND_RETRY : next);
  }

  suspend(): void {
    this.#drop();
    this.lastError = this.#pendingError || "rejected";
    this.#pendingError = "";
    this.#host.log(`link: suspended: ${this.lastError}`);
    this.#rest(SUSPEND_RETRY);
  }

  shutDown(): void {
    this.#drop();
    this.#host.leaveWifi();
    this.#wifiUp = false;
  }

  /** Takes the last error to report it once, in `hello`. */
  takeError(): string {
    const error = this.lastError;
    this.lastError = "";
    return error;
  }

  #rest(delay: number): void {
    if (this.#settings.oneShot) this.onRest?.(delay);
    else this.#arm(delay, LinkEvent.RetryDue, "");
  }

  #arm(ms: number, event: LinkEventName, reason: string): void {
    this.#timer = this.#host.setTimer(() => {
      this.#timer = undefined;
      if (reason) this.#pendingError = reason;
      this.dispatch(event);
    }, ms);
  }

  #drop(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) {
      this.#client.offline();
      socket.close();
    } else if (this.state !== LinkState.Online) {
      this.#client.offline();
    }
  }
}
