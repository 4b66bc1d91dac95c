import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Link, LinkError, LinkEvent, LinkState, TRANSITIONS, CONNECT_TIMEOUT, HANDSHAKE_TIMEOUT, PONG_TIMEOUT, SUSPEND_RETRY, WIFI_TIMEOUT,
  type LinkClient, type LinkSettings, type LinkStateName,
} from "../../modules/link/link";
import { FakeHost } from "../support/fake-host";
import type { WebSocketHandle } from "../../modules/host/host";

const settings: LinkSettings = {
  ssid: "home", password: "secret", url: "ws://127.0.0.1:8080", deviceId: "d1", token: "tok",
  backoffBase: 1000, backoffCap: 60000,
};

class RecordingClient implements LinkClient {
  events: string[] = [];
  confirmed = false;
  online(_socket: WebSocketHandle) {
    this.events.push("online");
  }
  text(text: string) {
    this.events.push(`text:${text}`);
  }
  offline() {
    this.events.push("offline");
  }
  writable() {
    this.events.push("writable");
  }
}

function setup(overrides: Partial<LinkSettings> = {}) {
  const host = new FakeHost();
  const client = new RecordingClient();
  const link = new Link(host, { ...settings, ...overrides }, client);
  const path: string[] = [];
  link.onTransition = (from, event, to) => path.push(`${from} -${event}-> ${to}`);
  const retries = () => host.eventsOf("link.retry");
  return { host, client, link, path, retries };
}

/** A fresh link brought to `state` the ordinary way. */
function reach(state: LinkStateName) {
  const rig = setup();
  const { host, link } = rig;
  if (state === LinkState.Idle) return rig;
  if (state === LinkState.JoiningWiFi) host.wifiAnswer = undefined;
  link.start();
  if (state === LinkState.Backoff) host.socket!.events.onClose();
  if (state === LinkState.Suspended) link.fail(LinkEvent.Rejected, LinkError.Rejected, "server: unauthorized");
  if (state === LinkState.Handshaking || state === LinkState.Online) host.socket!.events.onConnect!();
  if (state === LinkState.Online) host.socket!.events.onOpen();
  assert.equal(link.state, state, `reached ${state}`);
  return rig;
}

test("a join names the remembered access point and the static address its settings carry", () => {
  const bssid = Uint8Array.of(2, 0, 0x5e, 0, 0, 1);
  const address = { address: 0xc0a80132, netmask: 0xffffff00, gateway: 0xc0a80101, dns: 0xc0a80101 };
  const { host, link } = setup({ bssid, channel: 6, address });
  link.start();
  assert.deepEqual(host.wifiJoins, [{ ssid: "home", password: "secret", bssid, channel: 6, address }]);
});

/**
 * The transition table, written out (docs/link.md draws the same): state, event, next state, action. The
 * link's TRANSITIONS must be exactly this, and the link must do what each row says.
 */
const EXPECTED_ROWS: readonly (readonly [string, string, string, string])[] = [
  ["Idle", "Start", "JoiningWiFi", "joinWifi"],
  ["JoiningWiFi", "WifiUp", "Connecting", "connect"],
  ["JoiningWiFi", "WifiDown", "Backoff", "retryLater"],
  ["JoiningWiFi", "Timeout", "Backoff", "retryLater"],
  ["JoiningWiFi", "Rejected", "Suspended", "suspend"],
  ["JoiningWiFi", "ConfigChanged", "JoiningWiFi", "rejoin"],
  ["Connecting", "Connected", "Handshaking", "handshake"],
  ["Connecting", "Opened", "Online", "goOnline"],
  ["Connecting", "Closed", "Backoff", "retryLater"],
  ["Connecting", "Timeout", "Backoff", "retryLater"],
  ["Connecting", "WifiDown", "Backoff", "retryLater"],
  ["Connecting", "Rejected", "Suspended", "suspend"],
  ["Connecting", "ConfigChanged", "JoiningWiFi", "rejoin"],
  ["Handshaking", "Opened", "Online", "goOnline"],
  ["Handshaking", "Closed", "Backoff", "retryLater"],
  ["Handshaking", "Timeout", "Backoff", "retryLater"],
  ["Handshaking", "WifiDown", "Backoff", "retryLater"],
  ["Handshaking", "Rejected", "Suspended", "suspend"],
  ["Handshaking", "ConfigChanged", "JoiningWiFi", "rejoin"],
  ["Online", "Quiet", "Online", "ping"],
  ["Online", "Closed", "Backoff", "retryLater"],
  ["Online", "Timeout", "Backoff", "retryLater"],
  ["Online", "WifiDown", "Backoff", "retryLater"],
  ["Online", "Rejected", "Suspended", "suspend"],
  ["Online", "ConfigChanged", "JoiningWiFi", "rejoin"],
  ["Backoff", "RetryDue", "JoiningWiFi", "joinWifi"],
  ["Backoff", "ConfigChanged", "JoiningWiFi", "joinWifi"],
  ["Suspended", "RetryDue", "JoiningWiFi", "joinWifi"],
  ["Suspended", "ConfigChanged", "JoiningWiFi", "joinWifi"],
  ["*", "Stop", "Idle", "shutDown"],
];
const STATES = ["Idle", "JoiningWiFi", "Connecting", "Handshaking", "Online", "Backoff", "Suspended"] as const;
const EVENTS = ["Start", "WifiUp", "WifiDown", "Connected", "Opened", "Closed", "Timeout", "Quiet", "Rejected", "RetryDue", "ConfigChanged", "Stop"] as const;

test("the link's table is the written-out table, row for row", () => {
  assert.deepEqual(TRANSITIONS.map((t) => [t.from, t.on, t.to, t.action]), EXPECTED_ROWS);
  assert.deepEqual(Object.values(LinkState), STATES);
  assert.deepEqual(Object.values(LinkEvent), EVENTS);
});

/** Sends `event` the way its source would (ConfigChanged comes from new settings). */
function send(link: Link, event: string): void {
  if (event === "ConfigChanged") link.configure({ ...settings, token: "changed" });
  else link.dispatch(event as (typeof EVENTS)[number]);
}

test("the table row by row: each (state, event) leads where the written-out row says", () => {
  for (const [from, on, to] of EXPECTED_ROWS) {
    for (const state of from === "*" ? STATES : [from as LinkStateName]) {
      const { link, path } = reach(state);
      path.length = 0;
      send(link, on);
      // The row's transition is the first taken; an action may go on by itself (joining with Wi-Fi already up
      // goes straight to Connecting).
      assert.equal(path[0], `${state} -${on}-> ${to}`, `${state} on ${on}`);
    }
  }
});

test("an event a state has no row for changes nothing", () => {
  for (const state of STATES) {
    for (const event of EVENTS) {
      if (EXPECTED_ROWS.some(([from, on]) => on === event && (from === state || from === "*"))) continue;
      const { link, path } = reach(state);
      path.length = 0;
      send(link, event);
      assert.deepEqual(path, [], `${state} on ${event}`);
      assert.equal(link.state, state, `${state} on ${event}`);
    }
  }
});

test("the actions are not methods anyone can call: only a transition runs one", () => {
  const link = setup().link as unknown as Record<string, unknown>;
  for (const action of new Set(EXPECTED_ROWS.map((row) => row[3]))) assert.equal(link[action], undefined, action);
});

test("events a state has no row for are ignored", () => {
  const { link } = reach(LinkState.Suspended);
  link.dispatch(LinkEvent.Opened);
  link.dispatch(LinkEvent.Timeout);
  link.dispatch(LinkEvent.Quiet);
  assert.equal(link.state, LinkState.Suspended);
});

test("joins Wi-Fi, connects with the token on the upgrade, handshakes, and goes online", () => {
  const { host, client, link, path } = setup();
  link.start();
  assert.deepEqual(host.wifiJoins, [{ ssid: "home", password: "secret", bssid: undefined, channel: undefined, address: undefined }]);
  assert.equal(host.socket!.url, "ws://127.0.0.1:8080/v1/device/d1");
  assert.deepEqual(host.socket!.headers, ["Authorization", "Bearer tok"]);
  host.socket!.events.onConnect!();
  host.socket!.events.onOpen();
  host.socket!.events.onText("hi");
  assert.equal(link.state, LinkState.Online);
  assert.deepEqual(client.events, ["online", "text:hi"]);
  assert.deepEqual(path, [
    "Idle -Start-> JoiningWiFi", "JoiningWiFi -WifiUp-> Connecting", "Connecting -Connected-> Handshaking", "Handshaking -Opened-> Online",
  ]);
  assert.equal(link.attempts, 1);
});

test("an adapter that does not report the TCP connect goes from Connecting straight online", () => {
  const { host, link } = setup();
  link.start();
  host.socket!.events.onOpen();
  assert.equal(link.state, LinkState.Online);
});

test("a closed connection backs off within the jitter bound, says why, then reconnects", () => {
  const { host, client, link, retries } = setup();
  link.start();
  host.socket!.events.onOpen();
  host.socket!.events.onClose();
  assert.equal(link.state, LinkState.Backoff);
  assert.deepEqual(client.events, ["online", "offline"]);
  const delay = host.nextTimer()!;
  assert.ok(delay >= 0 && delay < 1000, `first delay ${delay}`);
  assert.deepEqual(retries(), [
    { kind: "link.retry", delayMs: delay, boundMs: 1000, error: LinkError.Connect, from: LinkState.Online, on: LinkEvent.Closed, reason: "connection closed" },
  ]);
  assert.deepEqual([link.lastError, link.lastErrorCode], ["connection closed", LinkError.Connect]);
  host.advance(delay);
  assert.equal(link.state, LinkState.Connecting);
  assert.equal(host.sockets.length, 2);
  assert.equal(link.lastError, "connection closed");
});

test("the reason names the phase that failed", () => {
  const cases: [LinkStateName, string][] = [
    [LinkState.Connecting, "connect failed"],
    [LinkState.Handshaking, "closed during the handshake"],
    [LinkState.Online, "connection closed"],
  ];
  for (const [state, reason] of cases) {
    const { host, link } = reach(state);
    host.socket!.events.onClose();
    assert.equal(link.lastError, reason, state);
  }
});

test("repeated failures double the bound up to the cap; a confirmed session resets it", () => {
  const { host, client, link, retries } = setup();
  link.start();
  for (let i = 0; i < 10; i++) {
    host.socket!.events.onClose();
    const delay = host.nextTimer()!;
    assert.ok(delay < Math.min(60000, 1000 * 2 ** i), `attempt ${i}: ${delay}`);
    host.advance(delay);
  }
  assert.deepEqual(retries().map((r) => r.boundMs), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
  host.socket!.events.onOpen();
  assert.equal(link.backoff.attempt, 10, "online alone does not reset the backoff");
  host.socket!.events.onText('{"t":"welcome"}');
  assert.equal(link.backoff.attempt, 10, "nor a frame while the session is unconfirmed");
  client.confirmed = true;
  host.socket!.events.onText('{"t":"ack","s":1}');
  assert.equal(link.backoff.attempt, 0);
});

test("a server that accepts and then drops every session meets a growing delay, not a loop", () => {
  const { host, link, retries } = setup();
  link.start();
  for (let i = 0; i < 8; i++) {
    host.socket!.events.onConnect!();
    host.socket!.events.onOpen();
    host.socket!.events.onText('{"t":"err","code":"rate-limited"}');
    host.socket!.events.onClose();
    host.advance(host.nextTimer()!);
  }
  assert.equal(retries().at(-1)!.boundMs, 60000);
});

test("each phase has its timeout: Wi-Fi join, TCP connect, handshake", () => {
  {
    const { host, link } = setup();
    host.wifiAnswer = undefined;
    link.start();
    host.advance(WIFI_TIMEOUT - 1);
    assert.equal(link.state, LinkState.JoiningWiFi);
    host.advance(1);
    assert.equal(link.state, LinkState.Backoff);
    assert.equal(link.lastError, "wifi join timed out");
  }
  {
    const { host, link } = setup();
    link.start();
    host.advance(CONNECT_TIMEOUT);
    assert.equal(link.state, LinkState.Backoff);
    assert.equal(link.lastError, "connect timed out");
    assert.ok(host.socket!.closed);
  }
  {
    const { host, link } = setup();
    link.start();
    host.advance(CONNECT_TIMEOUT - 1);
    host.socket!.events.onConnect!();
    host.advance(HANDSHAKE_TIMEOUT - 1);
    assert.equal(link.state, LinkState.Handshaking, "the handshake has its own time");
    host.advance(1);
    assert.equal(link.state, LinkState.Backoff);
    assert.equal(link.lastError, "handshake timed out");
    assert.ok(host.socket!.closed);
  }
});

test("heartbeat: a quiet line gets a ping; no answer in time reconnects", () => {
  const { host, link, client } = setup({ heartbeat: 60000 });
  link.start();
  host.socket!.events.onOpen();
  host.advance(59999);
  assert.equal(host.socket!.sent.length, 0);
  host.advance(1);
  assert.deepEqual(host.socket!.sent, ['{"t":"ping"}']);
  assert.equal(link.state, LinkState.Online);
  host.advance(PONG_TIMEOUT);
  assert.equal(link.state, LinkState.Backoff);
  assert.equal(link.lastError, "no pong in time");
  assert.ok(host.socket!.closed);
  assert.deepEqual(client.events, ["online", "offline"]);
});

test("heartbeat: any frame counts as life and restarts the quiet period; a pong keeps the link up", () => {
  const { host, link } = setup({ heartbeat: 60000 });
  link.start();
  host.socket!.events.onOpen();
  host.advance(50000);
  host.socket!.events.onText('{"t":"ack","s":1}');
  host.advance(50000);
  assert.equal(host.socket!.sent.length, 0, "a frame 50 s in put the ping off");
  host.advance(10000);
  assert.deepEqual(host.socket!.sent, ['{"t":"ping"}']);
  host.advance(PONG_TIMEOUT - 1);
  host.socket!.events.onText('{"t":"pong"}');
  host.advance(PONG_TIMEOUT);
  assert.equal(link.state, LinkState.Online);
  host.advance(60000 - PONG_TIMEOUT);
  assert.equal(host.socket!.sent.length, 2, "the next ping after another quiet minute");
});

test("heartbeat 0 never pings", () => {
  const { host, link } = setup({ heartbeat: 0 });
  link.start();
  host.socket!.events.onOpen();
  host.advance(24 * 3600000);
  assert.equal(host.socket!.sent.length, 0);
  assert.equal(link.state, LinkState.Online);
});

test("a rejection suspends the link until the configuration changes, and is reported once", () => {
  const { host, link } = setup();
  link.start();
  host.socket!.events.onOpen();
  link.fail(LinkEvent.Rejected, LinkError.Rejected, "server: unauthorized");
  assert.equal(link.state, LinkState.Suspended);
  assert.ok(host.socket!.closed);
  assert.deepEqual([link.lastError, link.lastErrorCode], ["server: unauthorized", LinkError.Rejected], "the reason is kept for status and hello");
  host.advance(600000);
  assert.equal(link.state, LinkState.Suspended, "no retry loop on bad credentials");
  link.configure({ ...settings, token: "new" });
  assert.equal(link.state, LinkState.Connecting);
  assert.deepEqual(host.socket!.headers, ["Authorization", "Bearer new"]);
  assert.equal(link.takeError(), "server: unauthorized");
  assert.equal(link.takeError(), "", "an error is reported once");
});

test("suspended, the link still tries again after a long wait", () => {
  const { host, link } = reach(LinkState.Suspended);
  assert.equal(host.nextTimer(), SUSPEND_RETRY);
  host.advance(SUSPEND_RETRY);
  assert.equal(link.state, LinkState.Connecting);
});

test("configuration errors are rejections, not retry loops: no URL, an unusable URL, no SSID", () => {
  for (const [overrides, reason] of [
    [{ url: "" }, "server.url is not set"],
    [{ url: "http://example.com" }, "server.url must start with ws:// or wss://"],
    [{ url: "ws://:80" }, "server.url has no host"],
    [{ url: "ws://example.com/?a=1" }, "server.url must not have a query (?) or a fragment (#)"],
    [{ ssid: "" }, "wifi.ssid is not set"],
    [{ url: "wss://example.com" }, "server.url: this build has no TLS for wss://, use ws://"],
  ] as [Partial<LinkSettings>, string][]) {
    const { host, link } = setup(overrides);
    link.start();
    assert.equal(link.state, LinkState.Suspended, reason);
    assert.equal(link.lastError, reason);
    assert.equal(host.sockets.length, 0);
  }
});

test("wss:// on a build without TLS: suspended with the reason, one check an hour, no radio", () => {
  const { host, link, path } = setup({ url: "wss://example.com:8443" });
  link.start();
  host.advance(3 * SUSPEND_RETRY);
  assert.equal(link.state, LinkState.Suspended);
  assert.equal(link.lastError, "server.url: this build has no TLS for wss://, use ws://");
  assert.equal(host.wifiJoins.length, 0, "Wi-Fi is never joined for a URL that cannot be opened");
  assert.equal(host.sockets.length, 0);
  const checks = path.filter((step) => step.endsWith("-> Suspended")).length;
  assert.ok(checks >= 1 && checks <= 4, `${checks} checks in 3 suspension periods`);
});

test("wss:// on a build with TLS but no CA certificate: suspended with the reason, no radio", () => {
  const { host, link } = setup({ url: "wss://example.com:8443" });
  host.tls = "no-ca";
  link.start();
  assert.equal(link.state, LinkState.Suspended);
  assert.equal(link.lastError, "server.url: wss:// needs the server's CA certificate, config/tls/server-ca.der, in the build");
  assert.equal(host.wifiJoins.length, 0);
  assert.equal(host.sockets.length, 0);
});

test("wss:// on a build with TLS and its CA: connects; a close with a reason (a refused handshake, no clock) backs off with that reason", () => {
  const { host, link, retries } = setup({ url: "wss://example.com:8443", ntp: "192.168.1.1" });
  host.tls = "ready";
  link.start();
  assert.equal(link.state, LinkState.Connecting);
  assert.equal(host.sockets.length, 1);
  assert.equal(host.sockets[0].ntp, "192.168.1.1", "the SNTP server setting reaches the adapter");
  assert.match(host.sockets[0].url, /^wss:\/\/example\.com:8443\/v1\/device\//);
  host.sockets[0].events.onClose("tls: the clock is not set (no answer from pool.ntp.org in 8 s)");
  assert.equal(link.state, LinkState.Backoff);
  assert.equal(link.lastError, "tls: the clock is not set (no answer from pool.ntp.org in 8 s)");
  assert.equal(retries().at(-1)!.reason, "tls: the clock is not set (no answer from pool.ntp.org in 8 s)");
});

test("a refused Wi-Fi password backs off once, and suspends when refused again", () => {
  const { host, link } = setup();
  host.wifiAnswer = "rejected";
  link.start();
  assert.equal(link.state, LinkState.Backoff, "one refusal may be a weak signal");
  assert.equal(link.lastError, "wifi: password rejected");
  host.advance(host.nextTimer()!);
  assert.equal(link.state, LinkState.Suspended);
  assert.equal(link.lastError, "wifi: password rejected");
  assert.deepEqual(host.eventsOf("link.suspended"), [{ kind: "link.suspended", error: LinkError.Wifi, reason: "wifi: password rejected" }]);
  host.wifiAnswer = "connected";
  link.configure({ ...settings, password: "right" });
  assert.equal(link.state, LinkState.Connecting);
  assert.equal(host.wifiJoins.at(-1)!.password, "right");
});

test("Wi-Fi lost while online backs off and joins again", () => {
  const { host, link } = reach(LinkState.Online);
  host.wifiListener!("disconnected");
  assert.equal(link.state, LinkState.Backoff);
  assert.equal(link.lastError, "wifi disconnected");
  host.advance(host.nextTimer()!);
  assert.equal(host.wifiJoins.length, 2);
});

test("new server or credentials reconnect at once; other changes leave a healthy link alone", () => {
  const { host, link } = reach(LinkState.Online);
  link.configure({ ...settings, backoffBase: 2000 });
  assert.equal(link.state, LinkState.Online);
  assert.equal(link.backoff.base, 2000);
  const first = host.socket!;
  link.configure({ ...settings, url: "ws://10.0.0.2:8080" });
  assert.ok(first.closed);
  assert.equal(link.state, LinkState.Connecting);
  assert.equal(host.socket!.url, "ws://10.0.0.2:8080/v1/device/d1");
  assert.equal(host.wifiJoins.length, 1, "same network: no new join");
  link.configure({ ...settings, url: "ws://10.0.0.2:8080", ssid: "other" });
  assert.equal(host.wifiJoins.at(-1)!.ssid, "other");
});

test("any change ends a backoff wait at once", () => {
  const { link } = reach(LinkState.Backoff);
  link.configure({ ...settings, backoffCap: 30000 });
  assert.equal(link.state, LinkState.Connecting);
});

test("one-shot mode reports the rest instead of waiting awake", () => {
  const { host, link } = setup({ oneShot: true });
  const rests: number[] = [];
  link.onRest = (delay) => rests.push(delay);
  link.start();
  host.socket!.events.onClose();
  assert.equal(rests.length, 1);
  assert.ok(rests[0] < 1000);
  assert.equal(host.nextTimer(), undefined, "no timer left running");
  link.fail(LinkEvent.Rejected, LinkError.Rejected, "server: revoked");
  assert.equal(rests.length, 1, "a rejection in Backoff has no row");
});

test("stop leaves Wi-Fi and closes the socket from any state", () => {
  const { host, link } = reach(LinkState.Online);
  link.stop();
  assert.equal(link.state, LinkState.Idle);
  assert.ok(host.socket!.closed);
  assert.equal(host.wifiListener, undefined);
  assert.equal(host.nextTimer(), undefined);
});

test("a late close of an old socket does not disturb the new connection", () => {
  const { host, link } = setup();
  link.start();
  const first = host.socket!;
  first.events.onClose();
  host.advance(host.nextTimer()!);
  first.events.onClose();
  first.events.onConnect!();
  assert.equal(link.state, LinkState.Connecting);
});
