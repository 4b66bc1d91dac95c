import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeHost } from "../support/fake-host";
import { WakeState, SLOT_BYTES } from "../../modules/power/retained";
import { DutyCycle } from "../../modules/power/duty-cycle";
import { ReadingStore } from "../../modules/store/readings";
import { BatchEncoder } from "../../modules/protocol/batch";
import { Uplink } from "../../modules/uplink/uplink";
import { Link, LinkError } from "../../modules/link/link";
import { reasonToConnect } from "../../modules/power/wake-plan";
import { crc32 } from "../../modules/power/crc32";

const SLOTS = 2;
const CAPACITY = 100;
const INTERVAL = 60;

/** One device's retained memory and clock, woken again and again the way main() does it. */
class BatteryDevice {
  memory = new ArrayBuffer(WakeState.bytesFor(CAPACITY, SLOTS));
  clock = 0;
  hosts: FakeHost[] = [];
  wakeTimes: number[] = [];
  batch = 10;
  latencyMs = 3600000;
  /** Battery mode switched off (a pushed `mode`). */
  leaving = false;
  /** The next wake starts this many ms off the clock the image planned (negative: early). */
  clockSkew = 0;

  /**
   * Runs one wake to its sleep; `network` acts on the wake's host while it is awake. `afterReset`: this
   * start follows a reset, not the deep sleep's timer (main.ts then passes `resumed` false).
   */
  wake(network: (host: FakeHost, cycle: DutyCycle) => void = () => {}, afterReset = false): { host: FakeHost; cycle: DutyCycle; state: WakeState } {
    const host = new FakeHost(this.hosts.length + 1);
    host.retained = this.memory;
    host.wifiAnswer = undefined;
    this.hosts.push(host);
    const state = new WakeState(this.memory, WakeState.capacityFor(this.memory.byteLength, SLOTS), SLOTS, () => host.commitRetained());
    const fresh = state.restore() !== "restored";
    if (!fresh) host.resumeClock(state.clock + this.clockSkew);
    this.clockSkew = 0;
    this.wakeTimes.push(host.ticks());
    const uplink: Uplink = new Uplink({
      host, store: state.store, encoder: new BatchEncoder(120), hello: () => ({ id: "d", err: link.takeError() || undefined }),
      batchSize: () => this.batch, maxLatency: () => this.latencyMs, ackTimeout: () => 5000,
      applyConfig: () => ({ applied: [], refused: {} }), fail: (event, code, reason) => link.fail(event, code, reason),
    });
    const link = new Link(host, {
      ssid: "s", password: "p", url: "ws://x", deviceId: "d", token: "t", backoffBase: 1000, backoffCap: 600000, oneShot: true,
    }, uplink);
    const cycle = new DutyCycle(host, state, { configure() {}, sample: (done) => done(2000 + this.wakeTimes.length), close() {} }, uplink, link, {
      interval: () => INTERVAL, batchSize: () => this.batch, maxLatency: () => this.latencyMs,
      awakeCap: () => 15000, checkIn: () => 0, leaving: () => this.leaving,
    });
    cycle.wake(fresh, 1, !fresh && !afterReset);
    if (!cycle.cause) network(host, cycle);
    host.advance(20000); // past the awake cap: every wake ends in a sleep, or a restart out of battery mode
    assert.equal(host.sleeps.length + host.restarts, 1, "every wake ends in exactly one sleep or restart");
    return { host, cycle, state };
  }
}

/** Answers the wake's Wi-Fi join and WebSocket like a healthy server that acks everything. */
function healthyServer(host: FakeHost) {
  host.wifiListener!("connected");
  const socket = host.socket!;
  socket.events.onOpen();
  socket.events.onText('{"t":"welcome","v":1,"time":0}');
  for (const frame of socket.frames()) if (frame.t === "b") socket.events.onText(`{"t":"ack","s":${frame.s}}`);
}

test("a wake samples into retained memory and sleeps until the next slot, without the radio", () => {
  const device = new BatteryDevice();
  const { host, cycle, state } = device.wake();
  assert.equal(cycle.cause, "idle");
  assert.equal(host.wifiJoins.length, 0);
  assert.deepEqual(host.sleeps, [INTERVAL * 1000]);
  assert.equal(state.store.count, 1);
});

test("wakes stay on the grid; the radio comes up when a batch is full, and acks empty the store", () => {
  const device = new BatteryDevice();
  for (let i = 0; i < 9; i++) assert.equal(device.wake().cycle.cause, "idle");
  const { host, cycle, state } = device.wake(healthyServer);
  assert.equal(cycle.reason, "batch");
  assert.equal(cycle.cause, "sent");
  const batch = host.socket!.frames().find((f) => f.t === "b");
  assert.deepEqual([batch.k, batch.n, batch.o], [0, 10, 1]);
  assert.equal(state.store.count, 0);
  assert.deepEqual(device.wakeTimes, device.wakeTimes.map((_, k) => k * INTERVAL * 1000), "no drift off the grid");
  assert.deepEqual([...host.joinedBssid], [...(() => { const b = new Uint8Array(6); state.bssid(b); return b; })()], "access point remembered");
});

test("a failed connection keeps its backoff across sleep: no radio until the retry time", () => {
  const device = new BatteryDevice();
  device.batch = 1;
  const first = device.wake((host) => {
    host.wifiListener!("connected");
    host.socket!.events.onClose();
  });
  assert.equal(first.cycle.cause, "backoff");
  const retryAt = first.state.retryAt;
  assert.ok(retryAt > device.wakeTimes[0], "a retry time is set");
  let radioWakes = 0;
  for (let i = 0; i < 40; i++) {
    const { host, cycle } = device.wake((h) => { h.wifiListener!("connected"); h.socket!.events.onClose(); });
    if (host.wifiJoins.length) {
      radioWakes++;
      assert.ok(device.wakeTimes.at(-1)! >= retryAt, "no attempt before the retry time");
    } else {
      assert.equal(cycle.cause, "idle");
    }
  }
  assert.ok(radioWakes < 40, `${radioWakes} of 40 wakes used the radio during the outage`);
});

test("a connection that hangs online is given up at the ack timeout, and kept for later", () => {
  const device = new BatteryDevice();
  device.batch = 1;
  const { host, cycle, state } = device.wake((h) => {
    h.wifiListener!("connected");
    h.socket!.events.onOpen(); // online, but the server never acks
  });
  assert.equal(cycle.cause, "backoff");
  assert.ok(host.socket!.closed);
  assert.equal(state.store.count, 1, "the unacknowledged reading stays");
  assert.equal(state.awakeMs, 5000);
});

test("the awake cap ends a wake whatever the network does, and counts it", () => {
  const device = new BatteryDevice();
  device.batch = 1;
  const { cycle, state } = device.wake(() => {}); // Wi-Fi never answers: its own timeout (20 s) is past the cap
  assert.equal(cycle.cause, "cap");
  assert.equal(state.awakeMs, 15000);
  assert.equal(state.overCap, 1);
  assert.ok(state.retryAt > 0, "a capped wake backs off like a failure");
  assert.equal(state.store.count, 1);
});

test("a corrupt retained image is discarded, counted with the readings it held, and never sent as data", () => {
  const device = new BatteryDevice();
  device.wake();
  device.wake();
  const bytes = new Uint8Array(device.memory);
  for (let slot = 0; slot < SLOTS; slot++) bytes[slot * SLOT_BYTES + 40] ^= 0xff; // both images
  const { state } = device.wake();
  assert.equal(state.corrupt, 1);
  assert.equal(state.lost, 2, "the two readings the image held are counted lost");
  assert.equal(state.store.count, 1, "only this wake's reading");
  assert.equal(state.wakes, 1);
});

test("a commit cut short (the newest image's slot half written) leaves the previous image: nothing lost", () => {
  const device = new BatteryDevice();
  device.wake();
  const { state: before } = device.wake();
  const newest = before.sequence % SLOTS;
  new Uint8Array(device.memory).fill(0x5a, newest * SLOT_BYTES + 60, newest * SLOT_BYTES + 90);
  const { state } = device.wake(undefined, true); // the tear was a reset during the commit
  assert.equal(state.corrupt, 0, "a torn commit is not corruption");
  assert.equal(state.store.count, 3, "both earlier readings kept, and this wake's");
});

test("a wake before its slot (one step of a sleep longer than the chip takes at once) sleeps on: no sample, no radio", () => {
  const device = new BatteryDevice();
  device.wake();
  device.clockSkew = -20_000;
  const { host, cycle, state } = device.wake();
  assert.equal(cycle.cause, "step");
  assert.equal(state.store.count, 1, "nothing sampled before the slot");
  assert.equal(host.wifiJoins.length, 0);
  assert.deepEqual(host.sleeps, [20_000], "sleeps the rest of the way");
  assert.equal(device.wake().state.store.count, 2, "the wake at the slot samples");
});

test("after a reset the wake samples at once, its slot not waited for", () => {
  const device = new BatteryDevice();
  device.wake();
  device.clockSkew = -20_000;
  const { cycle, state } = device.wake(undefined, true);
  assert.notEqual(cycle.cause, "step");
  assert.equal(state.store.count, 2);
});

test("every wake commits after its reading and before its sleep; acks are committed as they come", () => {
  const device = new BatteryDevice();
  assert.equal(device.wake().host.commits, 3, "the first wake also commits the empty image it starts");
  const idle = device.wake();
  assert.equal(idle.host.commits, 2, "after the reading, and at sleep");
  device.batch = 3; // the three readings so far: one batch, one ack
  const sent = device.wake(healthyServer);
  assert.equal(sent.cycle.cause, "sent");
  assert.equal(sent.host.commits, 3, "after the reading, after the ack, at sleep");
  assert.equal(sent.state.store.count, 0);
});

test("garbage after a power loss is an empty image, not corruption", () => {
  const device = new BatteryDevice();
  new Uint8Array(device.memory).fill(0xa5);
  const { state } = device.wake();
  assert.equal(state.corrupt, 0);
  assert.equal(state.store.count, 1);
});

test("the wake plan connects for a full batch, for latency, to leave battery mode, and respects the backoff", () => {
  const base = { now: 100000, unsent: 3, batchSize: 10, oldestUnsent: 0, maxLatency: 900000, interval: 60000, retryAt: 0, leaving: false, checkIn: 0, lastCheckIn: 0 };
  assert.equal(reasonToConnect(base), "");
  assert.equal(reasonToConnect({ ...base, unsent: 10 }), "batch");
  assert.equal(reasonToConnect({ ...base, now: 850000 }), "latency");
  assert.equal(reasonToConnect({ ...base, unsent: 10, retryAt: 200000 }), "");
  assert.equal(reasonToConnect({ ...base, leaving: true }), "leaving");
  assert.equal(reasonToConnect({ ...base, leaving: true, unsent: 0, oldestUnsent: -1 }), "", "nothing held: nothing to send");
  assert.equal(reasonToConnect({ ...base, leaving: true, retryAt: 200000 }), "", "the backoff holds");
  assert.equal(reasonToConnect({ ...base, checkIn: 50000 }), "check-in");
});

test("leaving battery mode: wakes send what is held, then restart instead of sleeping, and the image is forgotten", () => {
  const device = new BatteryDevice();
  for (let i = 0; i < 3; i++) assert.equal(device.wake().cycle.cause, "idle");
  device.leaving = true;
  // Backoff first: the held readings stay, and the wake sleeps as battery mode does.
  const failed = device.wake((host) => {
    host.wifiListener!("connected");
    host.socket!.events.onClose();
  });
  assert.equal(failed.cycle.reason, "leaving");
  assert.deepEqual([failed.cycle.cause, failed.host.restarts, failed.state.store.count], ["backoff", 0, 4]);
  device.clockSkew = 60 * INTERVAL * 1000; // past the retry time
  const sent = device.wake(healthyServer);
  assert.deepEqual([sent.cycle.reason, sent.cycle.cause, sent.host.restarts, sent.host.sleeps.length], ["leaving", "leave", 1, 0]);
  const stored = sent.host.socket!.frames().filter((f) => f.t === "b").reduce((n, f) => n + f.n, 0);
  assert.equal(stored, 5, "the four held and this wake's reading went");
  assert.equal(new WakeState(device.memory, WakeState.capacityFor(device.memory.byteLength, SLOTS), SLOTS).restore(), "empty");
});

test("leaving battery mode with nothing held restarts at once, without the radio", () => {
  const device = new BatteryDevice();
  device.batch = 1;
  assert.equal(device.wake(healthyServer).cycle.cause, "sent");
  device.leaving = true;
  const { host, cycle } = device.wake();
  assert.deepEqual([cycle.cause, host.restarts, host.wifiJoins.length], ["leave", 1, 0]);
});

test("a wake's link failure is kept across sleep as its code (not its text), and the next hello reports it", () => {
  const closed = new BatteryDevice();
  closed.batch = 1;
  assert.equal(closed.wake((h) => { h.wifiListener!("connected"); h.socket!.events.onClose(); }).state.error, LinkError.Connect);
  closed.clockSkew = 10 * INTERVAL * 1000; // past the retry time
  const next = closed.wake(healthyServer);
  assert.equal(next.cycle.cause, "sent");
  assert.equal(next.host.socket!.frames().find((f) => f.t === "hello").err, "connect");
  assert.equal(next.state.error, LinkError.None, "reported once");

  const unacked = new BatteryDevice();
  unacked.batch = 1;
  assert.equal(unacked.wake((h) => { h.wifiListener!("connected"); h.socket!.events.onOpen(); }).state.error, LinkError.Ack);
  const capped = new BatteryDevice();
  capped.batch = 1;
  assert.equal(capped.wake(() => {}).state.error, LinkError.Timeout);
});

test("CRC-32 matches the standard check value", () => {
  assert.equal(crc32(Uint8Array.from("123456789", (c) => c.charCodeAt(0))), 0xcbf43926);
});

test("CRC-32 continues across pieces as over the whole", () => {
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => (i * 37) & 255);
  assert.equal(crc32(bytes, 40, 100, crc32(bytes, 0, 40)), crc32(bytes));
});

test("a change in a held reading is caught; an empty cell is not part of the image", () => {
  const device = new BatteryDevice();
  device.wake();
  device.wake();
  const cells = SLOTS * SLOT_BYTES;
  new Uint8Array(device.memory)[cells + 2 * 50] ^= 0xff; // cell 50 holds nothing
  assert.equal(device.wake().state.corrupt, 0, "an empty cell changed: no harm");
  new Uint8Array(device.memory)[cells + 1] ^= 0x01; // reading 0
  const { state } = device.wake();
  assert.equal(state.corrupt, 1);
  assert.equal(state.lost, 3);
});
