/*
 * The Moddable fakes against the SDK's semantics, through device code (fixtures/sdk.ts) that calls the
 * APIs directly. WebSocket behaviour is checked against a real `ws` server on loopback.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { SimDevice } from "../../simulator/device";
import { VIRTUAL_EPOCH, VirtualClock } from "../../simulator/hardware/clock";
import { events, startServer, type Handler, type TestServer } from "./helpers";

const ENTRY = "tests/simulator/fixtures/sdk.ts";
const servers: TestServer[] = [];
after(() => Promise.all(servers.map((server) => server.close())));

function device(clock: VirtualClock, config: Record<string, unknown>, id = "dev"): SimDevice {
  return new SimDevice({ clock, id, config, entry: ENTRY });
}

async function clientDevice(handler: Handler, extra: Record<string, unknown> = {}) {
  const clock = new VirtualClock();
  const server = await startServer(clock, handler);
  servers.push(server);
  const config = { scenario: "client", host: "127.0.0.1", port: server.port, path: "/v1/device/dev", headers: ["Authorization", "Bearer tok"], ...extra };
  const dev = device(clock, config);
  return { clock, server, dev };
}

test("Timer: order, repeat, schedule, unschedule, clear, and fired one-shots", async () => {
  const clock = new VirtualClock();
  const dev = device(clock, { scenario: "timers" });
  await dev.boot();
  await clock.advance(1000);
  assert.deepEqual(dev.log.slice(1), [
    "0 zero", "5 once true", "10 b", "10 c", "30 a", "50 s", "100 r1", "200 r2", "250 s", "300 r3", "440 s",
    "600 fired one-shot cannot be scheduled",
  ]);
  assert.equal(clock.pending, 0, "every timer is spent or cleared");
});

test("Time.ticks counts from power-on; Date is virtual; preference keeps values, with ESP32 limits", async () => {
  const clock = new VirtualClock();
  await clock.advance(5000);
  const dev = device(clock, { scenario: "prefs" });
  await dev.boot();
  assert.deepEqual(dev.log.slice(1, 5), [
    `0 boots 1 module 1 date 2026-01-01T00:00:05.000Z now ${VIRTUAL_EPOCH + 5000} random true`,
    "0 blob true 1,2,3 keys boots,blob",
    "0 long key refused",
    "0 after delete undefined keys boots",
  ]);
  await clock.advance(2000);
  assert.deepEqual(events(dev.log, "tick"), ["tick 2", "tick 3"]);
  assert.equal(dev.hardware.preferences.get("test", "boots"), 1);
});

test("WiFi: connect then gotIP one step apart; a wrong password, or mcsim's 'invalid!', is refused", async () => {
  for (const [extra, ap, expected] of [
    [{}, {}, ["1000 wifi connect", "2000 wifi gotIP"]],
    [{ password: "wrong" }, { password: "right" }, ["1000 wifi disconnect"]],
    [{ password: "invalid!" }, {}, ["1000 wifi disconnect"]],
    [{}, undefined, ["1000 wifi disconnect"]],
  ] as const) {
    const clock = new VirtualClock();
    const dev = device(clock, { scenario: "client", host: "127.0.0.1", port: 9, ...extra });
    dev.hardware.wifi.accessPoint = ap && { ...ap };
    await dev.boot();
    await clock.advance(1500);
    dev.hardware.network.refuse = true; // keep the gotIP case off the network
    await clock.advance(1500);
    assert.deepEqual(dev.log.filter((line) => line.includes("wifi")), expected);
  }
});

test("Client: connect, handshake, receive, then one disconnect when the server closes; headers arrive", async () => {
  const { clock, server, dev } = await clientDevice((ws) =>
    ws.on("message", (data) => {
      ws.send(`echo ${data}`);
      ws.send(new Uint8Array([1, 2, 3]));
      ws.close(4001, "unauthorized");
    }),
  );
  await dev.boot();
  await clock.advance(3000);
  assert.deepEqual(events(dev.log, "ws"), ["ws 1", "ws 2", "ws 3 echo hello", "ws 3 binary 3 true", "ws 4"]);
  assert.equal(server.requests[0].headers.authorization, "Bearer tok");
  assert.equal(server.requests[0].url, "/v1/device/dev");
  assert.deepEqual(server.received.map((r) => r.text), ["hello"]);
  // Everything happened at the instant Wi-Fi came up: the clock waited for the exchange.
  assert.ok(dev.log.filter((line) => line.includes(" ws ")).every((line) => line.startsWith("2000 ")));
});

test("Client: a refused connection reports disconnect only, once", async () => {
  const clock = new VirtualClock();
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const dev = device(clock, { scenario: "client", host: "127.0.0.1", port, path: "/", headers: [] });
  await dev.boot();
  await clock.advance(5000);
  assert.deepEqual(events(dev.log, "ws"), ["ws 4"]);
});

test("Client: a refused upgrade (HTTP 401) reports connect, then disconnect", async () => {
  const clock = new VirtualClock();
  const http = createServer();
  http.on("upgrade", (_request, socket) => socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"));
  clock.trackServer(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const dev = device(clock, { scenario: "client", host: "127.0.0.1", port: (http.address() as AddressInfo).port, path: "/", headers: [] });
  await dev.boot();
  await clock.advance(3000);
  assert.deepEqual(events(dev.log, "ws"), ["ws 1", "ws 4"]);
  await new Promise((resolve) => http.close(resolve));
});

test("Client: close() drops the connection without a close frame and without a disconnect event", async () => {
  const { clock, server, dev } = await clientDevice((ws) => ws.on("message", () => ws.send("close-me")));
  await dev.boot();
  await clock.advance(3000);
  assert.deepEqual(events(dev.log, "ws"), ["ws 1", "ws 2", "ws 3 close-me"]);
  assert.deepEqual(server.closes, [1006]);
});

test("Client: refuses to write 64 KB or more; a received message that large breaks the connection", async () => {
  const { clock, dev } = await clientDevice((ws) =>
    ws.on("message", () => {
      ws.send("write-big");
      ws.send("y".repeat(70000));
    }),
  );
  await dev.boot();
  await clock.advance(3000);
  assert.deepEqual(events(dev.log, "ws").concat(events(dev.log, "write")), ["ws 1", "ws 2", "ws 3 write-big", "ws 4", "write too long refused"]);
});

test("Client: the network seam refuses connections, and a Wi-Fi drop cuts open ones", async () => {
  const refused = await clientDevice(() => {});
  refused.dev.hardware.network.refuse = true;
  await refused.dev.boot();
  await refused.clock.advance(3000);
  assert.deepEqual(events(refused.dev.log, "ws"), ["ws 4"]);
  assert.equal(refused.server.requests.length, 0);

  const dropped = await clientDevice(() => {});
  await dropped.dev.boot();
  await dropped.clock.advance(3000);
  dropped.dev.hardware.wifi.drop();
  await dropped.clock.advance(1000);
  assert.deepEqual(events(dropped.dev.log, "wifi").concat(events(dropped.dev.log, "ws")), [
    "wifi connect", "wifi gotIP", "wifi disconnect", "ws 1", "ws 2", "ws 4",
  ]);
  assert.deepEqual(dropped.server.closes, [1006]);
});

test("an exception the firmware does not catch halts the device and fails the run", async () => {
  const { clock, dev } = await clientDevice((ws) => ws.on("message", () => ws.send("crash")));
  await dev.boot();
  await assert.rejects(clock.advance(3000), /dev halted: crash requested/);
  assert.equal(dev.running, false);
  assert.match(dev.crash!.message, /crash requested/);
  assert.ok(dev.log.includes("XS abort: unhandled exception: crash requested"));
  await clock.advance(60_000); // nothing of the halted device runs any more
  assert.equal(dev.log.at(-1), "[sim] halted");
});

test("native/power: deep sleep and restart keep RTC memory and report their reason; power loss does not", async () => {
  const clock = new VirtualClock();
  const dev = device(clock, { scenario: "power" });
  await dev.boot();
  assert.equal(dev.sleeping, true);
  await clock.advance(30_000);
  assert.deepEqual(events(dev.log, "power-on").concat(events(dev.log, "deep-sleep"), events(dev.log, "software")), [
    "power-on run 1 retained false bytes 4096 too-many undefined",
    "deep-sleep run 2 retained true bytes 4096 too-many undefined",
    "deep-sleep run 4 retained true bytes 4096 too-many undefined",
    "software run 3 retained true bytes 4096 too-many undefined",
  ]);
  assert.deepEqual(dev.log.filter((line) => line.startsWith("[sim]")).slice(0, 6), [
    "[sim] power-on (start 1)", "[sim] deep sleep 10000 ms", "[sim] deep-sleep (start 2)", "[sim] restart",
    "[sim] software (start 3)", "[sim] deep sleep 10000 ms",
  ]);
  await dev.reboot(); // a power cycle: RTC memory is noise again
  assert.equal(events(dev.log, "power-on").at(-1), "power-on run 1 retained false bytes 4096 too-many undefined");
  dev.powerOff();
  await clock.advance(60_000);
  assert.equal(dev.sleeping, false, "power loss cancels the wake");
  assert.equal(dev.log.at(-1), "[sim] power off");
});

test("net: nothing known before joining; BSSID and channel after; a join naming them skips the scan", async () => {
  const clock = new VirtualClock();
  const dev = device(clock, { scenario: "power" });
  await dev.boot();
  await clock.advance(30_000);
  assert.deepEqual(events(dev.log, "net").concat(events(dev.log, "rejoin")), [
    "net before undefined undefined",
    "net 192.168.4.3 sim 02:00:5e:00:00:01 6 -60",
    "rejoin connect",
    "rejoin gotIP",
  ]);
  // The first join scans (0.7 s) and associates (0.3 s); the rejoin, a second later, only associates.
  assert.deepEqual(dev.log.filter((line) => / (net 1|rejoin)/.test(line)).map((line) => Number(line.split(" ")[0])), [2000, 3300, 4300]);
  assert.equal(dev.hardware.wifi.fastJoins, 1);
});

test("embedded:io/serial: one port, reads what was typed, writes at most the FIFO's room, drains at the baud rate", async () => {
  const clock = new VirtualClock();
  const dev = device(clock, { scenario: "serial" });
  await dev.boot();
  await clock.advance(50);
  dev.hardware.serial.type("hi there\n");
  await clock.advance(1000);
  assert.equal(dev.hardware.serial.output, "HI THERE\n");
  // 9 bytes at 115200 baud, 10 bits each: the FIFO is empty again 1 ms after the write at 50 ms.
  assert.deepEqual(dev.log.slice(1), [
    "0 second port: in use", "0 writable 128", "50 readable 9 then undefined", "51 writable 128", "100 129 bytes: output full",
  ]);
});
