/*
 * The link to the server as an explicit state machine. States and events are named, the transitions
 * are the table `TRANSITIONS` (docs/link.md draws it), and each transition names the action it runs.
 * Every state but Idle has at most one timer, its timeout, and leaving the state clears it. Time,
 * randomness, Wi-Fi and sockets come from the Host.
 */
import type { Host, TlsState, WebSocketEvents, WebSocketHandle } from "../host/host";
import type { StaticAddress } from "../../config/schema";
import { deviceUrl, parseServerUrl } from "../protocol/endpoint";
import { Backoff } from "./backoff";
import { LinkError, LinkEvent, LinkState, LINK_ERROR_TEXT, type LinkErrorCode, type LinkEventName, type LinkStateName } from "./codes";

export { LinkError, LinkEvent, LinkState, LINK_ERROR_TEXT, type LinkErrorCode, type LinkEventName, type LinkStateName } from "./codes";

export type LinkAction = "joinWifi" | "connect" | "handshake" | "goOnline" | "ping" | "retryLater" | "suspend" | "rejoin" | "shutDown";

export interface Transition {
  from: LinkStateName | "*";
  on: LinkEventName;
  to: LinkStateName;
  action: LinkAction;
}

const S = LinkState, E = LinkEvent;
export const TRANSITIONS: readonly Transition[] = Object.freeze(([
  { from: S.Idle, on: E.Start, to: S.JoiningWiFi, action: "joinWifi" },
  { from: S.JoiningWiFi, on: E.WifiUp, to: S.Connecting, action: "connect" },
  { from: S.JoiningWiFi, on: E.WifiDown, to: S.Backoff, action: "retryLater" },
  { from: S.JoiningWiFi, on: E.Timeout, to: S.Backoff, action: "retryLater" },
  { from: S.JoiningWiFi, on: E.Rejected, to: S.Suspended, action: "suspend" },
  { from: S.JoiningWiFi, on: E.ConfigChanged, to: S.JoiningWiFi, action: "rejoin" },
  { from: S.Connecting, on: E.Connected, to: S.Handshaking, action: "handshake" },
  // An adapter that does not report the TCP connect goes straight on.
  { from: S.Connecting, on: E.Opened, to: S.Online, action: "goOnline" },
  { from: S.Connecting, on: E.Closed, to: S.Backoff, action: "retryLater" },
  { from: S.Connecting, on: E.Timeout, to: S.Backoff, action: "retryLater" },
  { from: S.Connecting, on: E.WifiDown, to: S.Backoff, action: "retryLater" },
  { from: S.Connecting, on: E.Rejected, to: S.Suspended, action: "suspend" },
  { from: S.Connecting, on: E.ConfigChanged, to: S.JoiningWiFi, action: "rejoin" },
  { from: S.Handshaking, on: E.Opened, to: S.Online, action: "goOnline" },
  { from: S.Handshaking, on: E.Closed, to: S.Backoff, action: "retryLater" },
  { from: S.Handshaking, on: E.Timeout, to: S.Backoff, action: "retryLater" },
  { from: S.Handshaking, on: E.WifiDown, to: S.Backoff, action: "retryLater" },
  { from: S.Handshaking, on: E.Rejected, to: S.Suspended, action: "suspend" },
  { from: S.Handshaking, on: E.ConfigChanged, to: S.JoiningWiFi, action: "rejoin" },
  { from: S.Online, on: E.Quiet, to: S.Online, action: "ping" },
  { from: S.Online, on: E.Closed, to: S.Backoff, action: "retryLater" },
  { from: S.Online, on: E.Timeout, to: S.Backoff, action: "retryLater" },
  { from: S.Online, on: E.WifiDown, to: S.Backoff, action: "retryLater" },
  { from: S.Online, on: E.Rejected, to: S.Suspended, action: "suspend" },
  { from: S.Online, on: E.ConfigChanged, to: S.JoiningWiFi, action: "rejoin" },
  { from: S.Backoff, on: E.RetryDue, to: S.JoiningWiFi, action: "joinWifi" },
  { from: S.Backoff, on: E.ConfigChanged, to: S.JoiningWiFi, action: "joinWifi" },
  { from: S.Suspended, on: E.RetryDue, to: S.JoiningWiFi, action: "joinWifi" },
  { from: S.Suspended, on: E.ConfigChanged, to: S.JoiningWiFi, action: "joinWifi" },
  { from: "*", on: E.Stop, to: S.Idle, action: "shutDown" },
] as Transition[]).map((row) => Object.freeze(row)));

export interface LinkSettings {
  ssid: string;
  password: string;
  url: string;
  /** The SNTP server a wss:// connection sets the clock from when it must (docs/tls.md); empty: the adapter's default. */
  ntp?: string;
  deviceId: string;
  token: string;
  backoffBase: number;
  backoffCap: number;
  /** ms of silence while online before a `ping`; 0 or absent: no heartbeat. */
  heartbeat?: number;
  /**
   * Battery mode: one attempt per wake. Instead of waiting out a backoff delay awake, the link reports
   * it through `onRest` and stays put; the caller sleeps and keeps the delay across the sleep.
   */
  oneShot?: boolean;
  /** Access point of the last join (6 bytes) and its channel, for a fast re-join; channel 0 when unknown. */
  bssid?: Uint8Array;
  channel?: number;
  /** A static address instead of DHCP (battery wakes, `wifi.ip`). */
  address?: StaticAddress;
}

/** The session protocol on top of an open socket (modules/uplink). */
export interface LinkClient {
  online(socket: WebSocketHandle): void;
  text(text: string): void;
  offline(): void;
  /** The socket can take more after it refused a frame. */
  writable(): void;
  /**
   * The server has accepted this session: welcomed it and acknowledged everything sent on it. Only then
   * does the backoff start over, so a server that accepts connections and then fails them (never acks,
   * rate-limits, closes at once) meets a growing delay, not a reconnect loop.
   */
  readonly confirmed: boolean;
}

/** wss:// where the build has no TLS client (ESP8266), and where it has one but no CA to trust. */
export const NO_TLS = "server.url: this build has no TLS for wss://, use ws://";
export const NO_CA = "server.url: wss:// needs the server's CA certificate, config/tls/server-ca.der, in the build";

/** Why this build cannot use `url` (wss:// without TLS, or without its CA), or undefined: the console refuses it when set. */
export function urlRefusal(url: string, tls: TlsState): string | undefined {
  if (!url.startsWith("wss://") || tls === "ready") return undefined;
  return tls === "none" ? NO_TLS : NO_CA;
}

export const WIFI_TIMEOUT = 20000;
/** TCP connect, DNS included. */
export const CONNECT_TIMEOUT = 10000;
/** The WebSocket upgrade, once TCP is up. */
export const HANDSHAKE_TIMEOUT = 10000;
/** How long a `ping` waits for any frame back. */
export const PONG_TIMEOUT = 10000;
/** After a rejection: wait long, but not forever (a revoked token may be reinstated). */
export const SUSPEND_RETRY = 3600000;
/** Wi-Fi password refusals in a row that count as a wrong password (one may be a weak signal's). */
const WIFI_REFUSALS = 2;
const PING = '{"t":"ping"}';

const SOCKET_CONNECT = 0, SOCKET_OPEN = 1, SOCKET_TEXT = 2, SOCKET_WRITABLE = 3, SOCKET_CLOSE = 4;

/**
 * One connection's events, handed to the link with the connection they came from. Methods, in flash on the
 * boards, where five closures a connection were about forty slots on the ESP8266 (docs/memory.md).
 */
class ConnectionEvents implements WebSocketEvents {
  /** The connection these events are about, once the host has opened it. */
  socket: WebSocketHandle | undefined;
  readonly #link: (events: ConnectionEvents, what: number, text?: string) => void;
  constructor(link: (events: ConnectionEvents, what: number, text?: string) => void) {
    this.#link = link;
  }
  onConnect(): void {
    this.#link(this, SOCKET_CONNECT);
  }
  onOpen(): void {
    this.#link(this, SOCKET_OPEN);
  }
  onText(text: string): void {
    this.#link(this, SOCKET_TEXT, text);
  }
  onWritable(): void {
    this.#link(this, SOCKET_WRITABLE);
  }
  onClose(reason?: string): void {
    this.#link(this, SOCKET_CLOSE, reason);
  }
}

export class Link {
  state: LinkStateName = LinkState.Idle;
  /** The reason of the last failure, reported in the next `hello` and by `status`, and its LinkError code. */
  lastError = "";
  lastErrorCode: LinkErrorCode = LinkError.None;
  /** Connections attempted (TCP connects started). */
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
  /** What a connection's events do; one function for every connection (ConnectionEvents). */
  #onSocket = (events: ConnectionEvents, what: number, text?: string): void => {
    if (events.socket !== this.#socket) return; // a connection already left behind
    if (what === SOCKET_CONNECT) this.dispatch(LinkEvent.Connected);
    else if (what === SOCKET_OPEN) this.dispatch(LinkEvent.Opened);
    else if (what === SOCKET_TEXT) {
      // A frame while online: the line is alive. Handled here, not in a method of its own: a pushed
      // configuration is applied at the bottom of this call, and each frame costs stack slots, of which the
      // ESP8266 has 256 (docs/memory.md). The timer is re-armed before the frame is handled, which may end
      // the state (and so this timer).
      if (this.state !== LinkState.Online) return;
      this.#host.clearTimer(this.#timer);
      this.#timer = undefined;
      this.#listen();
      this.#client.text(text!);
      if (!this.#confirmed && this.state === LinkState.Online && this.#client.confirmed) {
        this.#confirmed = true;
        this.backoff.reset();
      }
    } else if (what === SOCKET_WRITABLE) {
      if (this.state === LinkState.Online) this.#client.writable();
    } else {
      this.#socket = undefined;
      const state = this.state;
      this.#note(LinkError.Connect, text || (state === LinkState.Connecting ? "connect failed" : state === LinkState.Handshaking ? "closed during the handshake" : "connection closed"));
      this.dispatch(LinkEvent.Closed);
    }
  };
  #timer: ReturnType<Host["setTimer"]> | undefined;
  #wifiUp = false;
  #wifiRefusals = 0;
  #confirmed = false;
  #queue: LinkEventName[] = [];
  #dispatching = false;
  #pendingError = "";
  #pendingCode: LinkErrorCode = LinkError.None;

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

  /**
   * New settings. A change of Wi-Fi, server or credentials reconnects at once; any change ends a Backoff or
   * Suspended wait at once; the rest takes effect at the next use.
   */
  configure(settings: LinkSettings): void {
    const old = this.#settings;
    this.#settings = settings;
    this.backoff.base = settings.backoffBase;
    this.backoff.cap = settings.backoffCap;
    const wifi = old.ssid !== settings.ssid || old.password !== settings.password;
    const server = old.url !== settings.url || old.deviceId !== settings.deviceId || old.token !== settings.token;
    if (wifi) {
      this.#wifiUp = false;
      this.#wifiRefusals = 0;
    }
    if (wifi || server || this.state === LinkState.Backoff || this.state === LinkState.Suspended) this.dispatch(LinkEvent.ConfigChanged);
  }

  /** The session or the configuration saw something wrong (no ack in time, a rejection): `event` says what follows. */
  fail(event: LinkEventName, code: LinkErrorCode, reason: string): void {
    this.#pendingError = reason;
    this.#pendingCode = code;
    this.dispatch(event);
  }

  /** A failure an earlier run met (a battery wake's, kept across sleep as its code), still to be reported. */
  carryError(code: number): void {
    if (!(code > LinkError.None && code < LINK_ERROR_TEXT.length)) return;
    this.lastErrorCode = code as LinkErrorCode;
    this.lastError = LINK_ERROR_TEXT[code];
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
    // The action (private: only a transition of the table runs one), here rather than in a method of its own:
    // connecting sends `hello` at the bottom of this call, inside the socket's callback, and each frame costs
    // stack slots (256 on the ESP8266, docs/memory.md).
    switch (transition.action) {
      case "joinWifi": this.#joinWifi(); break;
      case "connect": this.#connect(); break;
      case "handshake": this.#handshake(); break;
      case "goOnline": this.#goOnline(); break;
      case "ping": this.#ping(); break;
      case "retryLater": this.#retryLater(from, event); break;
      case "suspend": this.#suspend(); break;
      case "rejoin": this.#rejoin(); break;
      case "shutDown": this.#shutDown(); break;
    }
    this.onTransition?.(from, event, transition.to);
  }

  #joinWifi(): void {
    const settings = this.#settings;
    if (!settings.url) return this.fail(LinkEvent.Rejected, LinkError.Rejected, "server.url is not set");
    const parts = parseServerUrl(settings.url);
    if (typeof parts === "string") return this.fail(LinkEvent.Rejected, LinkError.Rejected, `server.url ${parts}`);
    const refused = urlRefusal(settings.url, this.#host.tls);
    if (refused) return this.fail(LinkEvent.Rejected, LinkError.Rejected, refused);
    if (this.#wifiUp) return this.dispatch(LinkEvent.WifiUp);
    if (!settings.ssid) return this.fail(LinkEvent.Rejected, LinkError.Rejected, "wifi.ssid is not set");
    this.#arm(WIFI_TIMEOUT, LinkEvent.Timeout, LinkError.Wifi, "wifi join timed out");
    const options = { ssid: settings.ssid, password: settings.password, bssid: settings.bssid, channel: settings.channel, address: settings.address };
    this.#host.joinWifi(options, (event) => {
      this.#wifiUp = event === "connected";
      if (this.#wifiUp) {
        this.#wifiRefusals = 0;
        return this.dispatch(LinkEvent.WifiUp);
      }
      if (event === "rejected" && ++this.#wifiRefusals >= WIFI_REFUSALS) return this.fail(LinkEvent.Rejected, LinkError.Wifi, "wifi: password rejected");
      this.#note(LinkError.Wifi, event === "rejected" ? "wifi: password rejected" : "wifi disconnected");
      this.dispatch(LinkEvent.WifiDown);
    });
  }

  #connect(): void {
    const settings = this.#settings;
    this.attempts++;
    this.#arm(CONNECT_TIMEOUT, LinkEvent.Timeout, LinkError.Timeout, "connect timed out");
    const url = deviceUrl(settings.url, settings.deviceId);
    const events = new ConnectionEvents(this.#onSocket);
    try {
      events.socket = this.#socket = this.#host.openWebSocket(url, ["Authorization", `Bearer ${settings.token}`], events, settings.ntp);
    } catch {
      // The platform could not even start a connection (no socket, no route): transient, like a refusal.
      this.#pendingError = `cannot open ${url}`;
      this.#pendingCode = LinkError.Connect;
      this.dispatch(LinkEvent.Closed);
    }
  }

  #handshake(): void {
    this.#arm(HANDSHAKE_TIMEOUT, LinkEvent.Timeout, LinkError.Timeout, "handshake timed out");
  }

  #goOnline(): void {
    this.#pendingError = "";
    this.#pendingCode = LinkError.None;
    this.#confirmed = false;
    this.#listen();
    this.#client.online(this.#socket!);
  }

  /**
   * Half-open detection: the legacy Moddable client cannot send a WebSocket ping, so ask the server in a
   * frame. A ping the send buffer has no room for is not sent: a link that cannot take 12 bytes, and
   * answers nothing before the timeout, is taken for dead all the same.
   */
  #ping(): void {
    this.#arm(PONG_TIMEOUT, LinkEvent.Timeout, LinkError.Timeout, "no pong in time");
    this.#socket?.send(PING);
  }

  /** `from` and `on`: the state the failure ended, and the event that ended it. */
  #retryLater(from: LinkStateName, on: LinkEventName): void {
    this.#drop();
    if (this.#pendingError) {
      this.lastError = this.#pendingError;
      this.lastErrorCode = this.#pendingCode;
    }
    this.#pendingError = "";
    this.#pendingCode = LinkError.None;
    const bound = this.backoff.bound();
    const next = this.backoff.next(this.#host.random());
    // One event a retry: the serial console shows why.
    this.#host.event({ kind: "link.retry", delayMs: next, boundMs: bound, error: this.lastErrorCode, from, on, reason: this.lastError });
    this.#rest(next);
  }

  #suspend(): void {
    this.#drop();
    this.lastError = this.#pendingError || "rejected";
    this.lastErrorCode = this.#pendingError ? this.#pendingCode : LinkError.Rejected;
    this.#pendingError = "";
    this.#pendingCode = LinkError.None;
    this.backoff.reset(); // after the long wait, the ramp starts over
    this.#host.event({ kind: "link.suspended", error: this.lastErrorCode, reason: this.lastError });
    this.#rest(SUSPEND_RETRY);
  }

  /** Connection settings changed: drop what is under way and start again with the new ones. */
  #rejoin(): void {
    this.#drop();
    this.#joinWifi();
  }

  #shutDown(): void {
    this.#drop();
    this.#host.leaveWifi();
    this.#wifiUp = false;
  }

  /** Takes the last error to report it once, in `hello`. */
  takeError(): string {
    const error = this.lastError;
    this.lastError = "";
    this.lastErrorCode = LinkError.None;
    return error;
  }

  #listen(): void {
    const heartbeat = this.#settings.heartbeat ?? 0;
    if (heartbeat > 0) this.#arm(heartbeat, LinkEvent.Quiet, LinkError.None, "");
  }

  #rest(delay: number): void {
    if (this.#settings.oneShot) this.onRest?.(delay);
    else this.#arm(delay, LinkEvent.RetryDue, LinkError.None, "");
  }

  #arm(ms: number, event: LinkEventName, code: LinkErrorCode, reason: string): void {
    this.#timer = this.#host.setTimer(() => {
      this.#timer = undefined;
      if (reason) {
        this.#pendingError = reason;
        this.#pendingCode = code;
      }
      this.dispatch(event);
    }, ms);
  }

  /** A failure's reason, unless one is already noted for this transition. */
  #note(code: LinkErrorCode, reason: string): void {
    if (this.#pendingError) return;
    this.#pendingError = reason;
    this.#pendingCode = code;
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
