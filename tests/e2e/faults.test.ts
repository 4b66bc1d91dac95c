/*
 * Issue 4, fault by fault: the unmodified firmware against the real server through the fault proxy, on
 * virtual time. Each test names one fault, strikes it, and checks that the link notices it in the time its
 * phase allows, backs off within its bounds, comes back, and that every reading is stored exactly once.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import { FaultDevice, FaultServer, delivery, type FaultDeviceOptions } from "../../simulator/faults/rig";
import { HANDSHAKE_TIMEOUT, LinkError, LinkEvent, LinkState, PONG_TIMEOUT, SUSPEND_RETRY, WIFI_TIMEOUT } from "../../modules/link/link";
import { Backoff, OUTAGE_CAP } from "../../modules/link/backoff";

const SECOND = 1000, MINUTE = 60 * SECOND, HOUR = 60 * MINUTE;
/** A Wi-Fi join (scan, association, DHCP) and the upgrade: the simulated radio takes 2 s. */
const HANDSHAKE = 3 * SECOND;
const BASE = 1000, CAP = 60 * SECOND;

let bench: FaultServer;
let serial = 0;
before(async () => {
  bench = await FaultServer.start();
});
after(async () => {
  await bench.close();
});

/** A device sampling every minute, batches of 5 (at most 5 minutes late), heartbeat every minute, booted and online. */
async function online(config: FaultDeviceOptions["config"] = {}): Promise<FaultDevice> {
  const device = await FaultDevice.start(bench, {
    id: `faults-${++serial}`,
    seed: serial,
    config: {
      "sample.interval": 60, "batch.size": 5, "batch.latency": 300, "link.heartbeat": 60,
      "link.backoff.base": BASE, "link.backoff.cap": CAP, ...config,
    },
  });
  await device.device.boot();
  await run(10 * SECOND);
  assert.ok(device.proxy.connected, "online after boot");
  return device;
}

function run(ms: number): Promise<void> {
  return bench.clock.advance(ms);
}

/** Every reading sampled up to now, less the batch still filling, is stored once with its value. */
function assertDelivered(device: FaultDevice, slack = 6 * MINUTE, tolerance = SECOND): void {
  const report = delivery(device, bench.clock.now() - slack, tolerance);
  assert.ok(report.sampled > 0, "readings were sampled");
  assert.deepEqual(report.missing, [], "no reading missing");
  assert.deepEqual(report.duplicated, [], "no reading stored twice");
  assert.deepEqual(report.wrong, [], "every stored value is the sampled one");
  assert.equal(report.stored, report.sampled);
}

/**
 * Every reported backoff delay lies under its bound, the bounds are the backoff's (doubling from base to cap,
 * the cap growing in a long outage), starting over only at base, and the retry came on time.
 */
function assertBackoff(device: FaultDevice): void {
  const model = new Backoff(BASE, CAP);
  for (const retry of device.retries()) {
    assert.ok(retry.delayMs >= 0 && retry.delayMs < retry.boundMs, `delay ${retry.delayMs} under bound ${retry.boundMs}`);
    assert.ok(retry.boundMs <= OUTAGE_CAP, `bound ${retry.boundMs} within the outage cap`);
    if (retry.boundMs === BASE) model.reset();
    assert.equal(retry.boundMs, model.bound(), `bound ${retry.boundMs} at attempt ${model.attempt}`);
    model.attempt++;
    model.waited += retry.delayMs;
    const next = device.events.slice(retry.seq + 1).find((e) => e.kind === "join" || e.kind === "connect");
    if (next) assert.equal(next.at, retry.at + retry.delayMs, "the next attempt came when the delay said");
  }
}

/** The bound of the last backoff delay: the cap, or more once a long outage has grown it. */
function lastBound(device: FaultDevice): number {
  return Math.max(CAP, device.retries().at(-1)?.boundMs ?? 0);
}

/** The device said hello again no later than `by` ms after `from` (default now), and is online. */
async function backWithin(device: FaultDevice, by: number, from = bench.clock.now()): Promise<void> {
  for (;;) {
    const hello = device.record.hellos.find((at) => at >= from);
    if (hello !== undefined && device.proxy.connected) {
      assert.ok(hello - from <= by, `back after ${hello - from} ms, bound ${by}`);
      return;
    }
    if (bench.clock.now() - from > by) assert.fail(`not back online within ${by} ms`);
    await run(SECOND);
  }
}

async function close(device: FaultDevice): Promise<void> {
  assert.equal(device.device.crash, undefined, "the firmware did not halt");
  await device.close();
}

test("through the proxy and a name lookup, a healthy hour: every reading stored once, the heartbeat answered", async () => {
  const device = await online();
  await run(HOUR);
  assertDelivered(device);
  assert.equal(device.attempts.length, 1, "one connection all along");
  assert.equal(device.retries().length, 0);
  assert.deepEqual(device.device.events.filter((e) => e.kind.startsWith("uplink.")), [], "no frame the device did not understand");
  await close(device);
});

test("the server down for an hour: bounded attempts, back within cap + a handshake, nothing lost", async () => {
  const device = await online();
  device.proxy.down();
  const before = device.attempts.length;
  await run(HOUR);
  const attempts = device.attempts.length - before;
  // Full jitter: ~log2(cap/base) attempts up the ramp, then one per cap/2 on average.
  const bound = Math.ceil(Math.log2(CAP / BASE)) + 1 + (3 * HOUR) / CAP + 10;
  assert.ok(attempts <= bound, `${attempts} attempts in an hour of outage, bound ${bound}`);
  assert.ok(attempts >= HOUR / OUTAGE_CAP, `${attempts} attempts: it kept trying`);
  // An hour of failing has grown the cap: back within the bound of the last delay, plus a handshake.
  const grown = device.retries().at(-1)!.boundMs;
  assert.ok(grown > CAP && grown <= OUTAGE_CAP, `cap grown to ${grown}`);
  device.proxy.up();
  await backWithin(device, grown + HANDSHAKE);
  await run(10 * MINUTE);
  assertDelivered(device);
  assertBackoff(device);
  await close(device);
});

test("a refusing proxy keeps its port and resets what it accepts; on the rig the device sees a plain refusal", async () => {
  const device = await online();
  device.proxy.refuse(true);
  const socket = connect(device.proxy.port, "127.0.0.1");
  const ended = await new Promise<string>((resolve) => {
    socket.on("data", () => resolve("data"));
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
    socket.on("close", () => resolve("close"));
  });
  assert.notEqual(ended, "data", "nothing gets through");
  assert.equal(device.proxy.refused, 1);
  assert.ok(device.proxy.connected, "open connections are left alone");
  device.proxy.reset();
  await run(MINUTE);
  assert.equal(device.proxy.refused, 1, "the device's own attempts fail before TCP");
  assert.ok(device.retries().some((r) => r.from === LinkState.Connecting && r.on === LinkEvent.Closed), "refused: the connect failed");
  device.proxy.refuse(false);
  await backWithin(device, CAP + HANDSHAKE);
  await close(device);
});

test("a reset, a frame cut halfway each way, a corrupted frame each way: reconnects, nothing lost or stored twice", async () => {
  const device = await online();
  const strikes: [string, () => void][] = [
    ["reset", () => device.proxy.reset()],
    ["cut up", () => device.proxy.cutNextFrame("up")],
    ["cut down", () => device.proxy.cutNextFrame("down")],
    ["corrupt down", () => device.proxy.corruptNextFrame("down")],
  ];
  for (const [name, strike] of strikes) {
    const hellos = device.record.hellos.length;
    strike();
    await run(10 * MINUTE);
    assert.ok(device.record.hellos.length > hellos, `${name}: the device reconnected`);
    assert.ok(device.proxy.connected, `${name}: online again`);
  }
  assert.equal(device.proxy.struck.cut, 2);
  // A garbled frame up is refused by the server, and a batch it carried is sent again after its ack timeout.
  device.proxy.corruptNextFrame("up");
  await run(10 * MINUTE);
  assert.equal(device.proxy.struck.corrupted, 2);
  assert.ok(device.record.rejections.some((r) => r.code === "bad-json" || r.code === "bad-type"), "the server refused the garbled frame");
  await run(10 * MINUTE);
  assertDelivered(device);
  assertBackoff(device);
  await close(device);
});

test("closed by the server with each close code: the legacy client sees no code, so each is transient", async () => {
  const device = await online();
  for (const code of [1000, 1001, 1003, 1008, 1009, 1011, 4001, 4003, 4004, 4008, 4009]) {
    const hellos = device.record.hellos.length;
    device.proxy.closeWith(code, "fault");
    await run(3 * MINUTE);
    assert.ok(device.record.hellos.length > hellos, `close ${code}: reconnected`);
  }
  assert.equal(device.proxy.struck.closed, 11);
  assert.ok(!device.events.some((e) => e.kind === "link.suspended"), "no close code alone suspends");
  await run(10 * MINUTE);
  assertDelivered(device);
  assertBackoff(device);
  await close(device);
});

test("a blackhole: the heartbeat or the ack timeout notices; held bytes never stall the clock; back after it ends", async () => {
  const device = await online();
  device.proxy.blackhole(true);
  await run(2 * MINUTE);
  assert.ok(device.retries().length >= 1, "noticed within heartbeat + pong timeout");
  assert.ok(device.retries()[0].at <= bench.clock.now(), "noticed");
  await run(18 * MINUTE);
  assert.ok(device.retries().some((r) => r.from === LinkState.Handshaking && r.on === LinkEvent.Timeout), "new connections stall in the handshake");
  device.proxy.blackhole(false);
  await backWithin(device, HANDSHAKE_TIMEOUT + CAP + HANDSHAKE);
  await run(10 * MINUTE);
  assertDelivered(device);
  assertBackoff(device);
  await close(device);
});

test("a half-open connection is noticed within heartbeat + pong timeout, and replaced", async () => {
  const device = await online({ "link.heartbeat": 120, "batch.size": 60, "batch.latency": 3600 });
  await run(30 * SECOND);
  const struck = bench.clock.now();
  device.proxy.halfOpen();
  await run(120 * SECOND + PONG_TIMEOUT + SECOND);
  const noticed = device.retries().find((r) => r.at >= struck);
  assert.ok(noticed, "noticed");
  assert.deepEqual([noticed.from, noticed.on, noticed.error], [LinkState.Online, LinkEvent.Timeout, LinkError.Timeout], "no pong in time");
  assert.ok(noticed.at - struck <= 120 * SECOND + PONG_TIMEOUT, `noticed after ${noticed.at - struck} ms`);
  await backWithin(device, CAP + HANDSHAKE, noticed.at);
  await close(device);
});

test("delays: 2 s each way works as is; 20 s each way cannot connect until it ends", async () => {
  const device = await online();
  device.proxy.reset();
  device.proxy.delay(2 * SECOND);
  await run(20 * MINUTE);
  assert.ok(device.proxy.connected, "online through a slow path");
  assertDelivered(device, 10 * MINUTE, 2 * SECOND + SECOND); // dated by age at receipt: 2 s late
  device.proxy.delay(20 * SECOND);
  device.proxy.reset();
  await run(10 * MINUTE);
  assert.ok(device.retries().some((r) => r.from === LinkState.Handshaking && r.on === LinkEvent.Timeout), "the upgrade cannot finish in time");
  device.proxy.delay(0);
  await backWithin(device, HANDSHAKE_TIMEOUT + CAP + HANDSHAKE);
  await run(10 * MINUTE);
  assertDelivered(device, 6 * MINUTE, 3 * SECOND);
  assertBackoff(device);
  await close(device);
});

test("DNS fails for 20 minutes: each attempt fails at the lookup, backs off, and resumes when names resolve", async () => {
  const device = await online();
  device.dnsDown = true;
  device.proxy.reset();
  await run(20 * MINUTE);
  assert.ok(device.retries().length >= 5, "kept retrying");
  assert.equal(device.proxy.accepted, 1, "no connection reached the proxy");
  device.dnsDown = false;
  // 20 minutes of failing grew the cap: back within the last delay's bound and a handshake.
  await backWithin(device, lastBound(device) + HANDSHAKE);
  await run(10 * MINUTE);
  assertDelivered(device);
  assertBackoff(device);
  await close(device);
});

test("Wi-Fi: the access point gone for 20 minutes, then a join that never completes, hits the join timeout", async () => {
  const device = await online();
  const radio = device.device.hardware.wifi;
  const ap = radio.accessPoint;
  radio.accessPoint = undefined;
  radio.drop();
  await run(20 * MINUTE);
  const joins = device.joins.length;
  assert.ok(joins >= 5, `${joins} joins tried`);
  assert.ok(device.retries().every((r) => r.on === LinkEvent.WifiDown || (r.from === LinkState.Online && r.on === LinkEvent.Closed)), "wifi reasons");
  radio.accessPoint = ap;
  await backWithin(device, lastBound(device) + HANDSHAKE);
  radio.associateMs = 10 * HOUR; // the access point answers no more
  radio.drop();
  await run(WIFI_TIMEOUT + CAP);
  assert.ok(device.retries().some((r) => r.from === LinkState.JoiningWiFi && r.on === LinkEvent.Timeout), "the join timed out");
  radio.associateMs = 300;
  await backWithin(device, WIFI_TIMEOUT + CAP + HANDSHAKE);
  await run(10 * MINUTE);
  assertDelivered(device);
  assertBackoff(device);
  await close(device);
});

test("a server that never acks: each batch times out and is sent again, stored once; the backoff grows", async () => {
  const device = await online({ "batch.size": 1, "batch.latency": 60 });
  device.proxy.dropAcks(true);
  await run(30 * MINUTE);
  assert.ok(device.proxy.struck.dropped >= 10, `${device.proxy.struck.dropped} acks swallowed`);
  const timeouts = device.retries().filter((r) => r.error === LinkError.Ack);
  assert.ok(timeouts.length >= 5, `${timeouts.length} ack timeouts`);
  assert.ok(timeouts.at(-1)!.boundMs > BASE, "sessions that never confirm do not reset the backoff");
  assert.ok(device.record.batches.some((b) => b.stored === 0), "a resend the server already had stored nothing");
  device.proxy.dropAcks(false);
  await run(10 * MINUTE);
  assertDelivered(device, 2 * MINUTE);
  assertBackoff(device);
  await close(device);
});

test("an ack for a batch the device never sent is ignored and counted, and loses nothing", async () => {
  const device = await online();
  for (const s of [7, 1000, 2147483647]) device.proxy.inject(`{"t":"ack","s":${s}}`);
  await run(30 * MINUTE);
  assert.deepEqual(device.device.eventsOf("uplink.unknownAck").map((e) => e.seq), [7, 1000, 2147483647]);
  assert.equal(device.attempts.length, 1, "no reconnect over it");
  assertDelivered(device);
  await close(device);
});

test("a wrong Wi-Fi password: refused twice, suspended with the reason on the console, no retry loop; reported once fixed", async () => {
  const device = await online();
  const radio = device.device.hardware.wifi;
  radio.accessPoint = { password: "changed-by-the-owner" };
  const joins = device.joins.length;
  radio.drop();
  await run(30 * MINUTE);
  assert.equal(device.joins.length - joins, 2, "two refusals, then no more joins");
  assert.ok(!device.proxy.connected, "suspended");
  radio.accessPoint = {};
  await run(SUSPEND_RETRY);
  assert.ok(device.proxy.connected, "the hourly retry finds the network fixed");
  assert.equal(bench.server.db.device(device.id)?.last_err, "wifi: password rejected", "the next hello reported it");
  await run(10 * MINUTE);
  assertDelivered(device);
  await close(device);
});

test("a revoked token: suspended on the server's err frame, one try an hour, the reason reported once reinstated", async () => {
  const device = await online();
  bench.server.db.revokeDevice(device.id, bench.clock.now());
  device.proxy.reset();
  await run(3 * HOUR - MINUTE);
  assert.ok(!device.proxy.connected, "suspended");
  assert.ok(device.attempts.length <= 1 + 3 + 1, `${device.attempts.length} attempts in 3 hours`);
  bench.server.db.sqlite.prepare("UPDATE devices SET revoked = 0 WHERE id = ?").run(device.id); // the operator reinstates it
  await run(HOUR + MINUTE);
  assert.ok(device.proxy.connected, "back at the next hourly try");
  assert.equal(bench.server.db.device(device.id)?.last_err, "server: revoked");
  await run(10 * MINUTE);
  assertDelivered(device);
  await close(device);
});
