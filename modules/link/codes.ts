/*
 * The link's states, events and error codes, apart from the machine (link.ts re-exports them): what its events
 * (modules/host/events.ts) name without importing the machine, which imports the Host.
 */
export const LinkState = Object.freeze({
  Idle: "Idle",
  JoiningWiFi: "JoiningWiFi",
  /** TCP connect (and DNS) under way. */
  Connecting: "Connecting",
  /** TCP connected, the WebSocket upgrade under way. */
  Handshaking: "Handshaking",
  Online: "Online",
  Backoff: "Backoff",
  Suspended: "Suspended",
});
export type LinkStateName = (typeof LinkState)[keyof typeof LinkState];

export const LinkEvent = Object.freeze({
  Start: "Start",
  WifiUp: "WifiUp",
  WifiDown: "WifiDown",
  /** The TCP connection is up (Moddable's Client message 1). */
  Connected: "Connected",
  /** The WebSocket handshake completed (message 2). */
  Opened: "Opened",
  Closed: "Closed",
  Timeout: "Timeout",
  /** Online and nothing heard for `heartbeat` ms: time to ask. */
  Quiet: "Quiet",
  /** The server refused the credentials, or the configuration cannot work: retrying will not help. */
  Rejected: "Rejected",
  RetryDue: "RetryDue",
  ConfigChanged: "ConfigChanged",
  Stop: "Stop",
});
export type LinkEventName = (typeof LinkEvent)[keyof typeof LinkEvent];

/**
 * What kind of failure the link last met, as a code: what a battery wake keeps across deep sleep in a word of
 * retained memory (modules/power/retained.ts). In `hello` the sentence goes, or LINK_ERROR_TEXT[code] when
 * only the code survived a sleep.
 */
export const LinkError = Object.freeze({
  None: 0,
  /** Wi-Fi not joined, lost, or its password refused. */
  Wifi: 1,
  /** The connection failed or closed (a session error from the server included). */
  Connect: 2,
  /** A connect, handshake or pong took too long. */
  Timeout: 3,
  /** Refused by the server or by the configuration: retrying will not help. */
  Rejected: 4,
  /** A batch was not acknowledged in time. */
  Ack: 5,
});
export type LinkErrorCode = (typeof LinkError)[keyof typeof LinkError];
/** Each code's text, by code. */
export const LINK_ERROR_TEXT: readonly string[] = Object.freeze(["", "wifi", "connect", "timeout", "rejected", "ack"]);
