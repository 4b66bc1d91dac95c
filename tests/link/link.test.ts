import { test } from "node:test";
import assert from "node:assert/strict";
import { Link, LinkEvent, LinkState, TRANSITIONS, type LinkClient } from "../../modules/link/link";
import { FakeHost } from "../support/fake-host";
import type { WebSocketHandle } from "../../modules/host/host";

const settings = {
  ssid: "home", password: "secret", url: "ws://127.0.0.1:8080", deviceId: "d1", token: "tok",
  backoffBase: 1000, backoffCap: 60000,
};

class RecordingClient implements LinkClient {
  events: string[] = [];
  online(_socket: WebSocketHandle) {
    this.events.push("online");
  }
  text(text: string) {
    this.events.push(`text:${text}`);
  }
  offline() {
    this.events.push("offline");
  }
}

function setup() {
  const host = new FakeHost();
  const client = new RecordingClient();
  const link = new Link(host, settings, client);
  const path: string[] = [];
  link.onTransition = (from, event, to) => path.push(`${from} -${event}-> ${to}`);
  return { host, client, link, path };
}

test("every transition names a known state, event and action", () => {
  const states = Object.values(LinkState) as string[];
  const link = setup().link as unknown as Record<string, unknown>;
  for (const t of TRANSITIONS) {
    assert.ok(t.from === "*" || states.includes(t.from), t.from);
    assert.ok(states.includes(t.to), t.to);
    assert.ok((Object.values(LinkEvent) as string[]).includes(t.on), t.on);
    assert.equal(typeof link[t.action], "function", t.action);
  }
});

test("joins Wi-Fi, connects with the token on the upgrade, and goes online on the handshake", () => {
  const { host, client, link, path } = setup();
  link.start();
  assert.deepEqual(host.wifiJoins, [{ ssid: "home", password: "secret", bssid: undefined, channel: undefined }]);
  assert.equal(host.socket!.url, "ws://127.0.0.1:8080/v1/device/d1");
  assert.deepEqual(host.socket!.headers, ["Authorization", "Bearer tok"]);
  host.socket!.events.onOpen();
  host.socket!.events.onText("hi");
  assert.equal(link.state, LinkState.Online);
  assert.deepEqual(client.events, ["online", "text:hi"]);
  assert.deepEqual(path, ["Idle -Start-> JoiningWiFi", "JoiningWiFi -WifiUp-> Connecting", "Connecting -Opened-> Online"]);
});

test("a closed connection backs off within the jitter bound, then reconnects", () => {
  const { host, client, link } = setup();
  link.start();
  host.socket!.events.onOpen();
  host.socket!.events.onClose();
  assert.equal(link.state, LinkState.Backoff);
  assert.deepEqual(client.events, ["online", "offline"]);
  const delay = host.nextTimer()!;
  assert.ok(delay >= 0 && delay < 1000, `first delay ${delay}`);
  host.advance(delay);
  assert.equal(link.state, LinkState.Connecting);
  assert.equal(host.sockets.length, 2);
  assert.equal(link.lastError, "connection closed");
});

test("repeated failures grow the bound to the cap; success resets it", () => {
  const { host, link } = setup();
  link.start();
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    host.socket!.events.onClose();
    const delay = host.nextTimer()!;
    delays.push(delay);
    assert.ok(delay < Math.min(60000, 1000 * 2 ** i), `attempt ${i}: ${delay}`);
    host.advance(delay);
  }
  host.socket!.events.onOpen();
  assert.equal(link.backoff.attempt, 0);
});

test("a connect that never completes times out and retries", () => {
  const { host, link } = setup();
  link.start();
  host.advance(10000);
  assert.equal(link.state, LinkState.Backoff);
  assert.equal(link.lastError, "connect timed out");
  assert.ok(host.socket!.closed);
});

test("a rejection suspends the link until the configuration changes", () => {
  const { host, link } = setup();
  link.start();
  host.socket!.events.onOpen();
  link.fail(LinkEvent.Rejected, "server: unauthorized");
  assert.equal(link.state, LinkState.Suspended);
  assert.ok(host.socket!.closed);
  host.advance(600000);
  assert.equal(link.state, LinkState.Suspended, "no retry loop on bad credentials");
  link.configure({ ...settings, token: "new" });
  assert.equal(link.state, LinkState.Connecting);
  assert.deepEqual(host.socket!.headers, ["Authorization", "Bearer new"]);
  assert.equal(link.takeError(), "server: unauthorized");
  assert.equal(link.takeError(), "", "an error is reported once");
});

test("no server URL is a configuration error, not a retry loop", () => {
  const host = new FakeHost();
  const link = new Link(host, { ...settings, url: "" }, new RecordingClient());
  link.start();
  assert.equal(link.state, LinkState.Suspended);
  assert.equal(link.lastError, "server.url is not set");
  assert.equal(host.sockets.length, 0);
});

test("a late close of an old socket does not disturb the new connection", () => {
  const { host, link } = setup();
  link.start();
  const first = host.socket!;
  first.events.onClose();
  host.advance(host.nextTimer()!);
  first.events.onClose();
  assert.equal(link.state, LinkState.Connecting);
});
