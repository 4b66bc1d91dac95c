import { test } from "node:test";
import assert from "node:assert/strict";
import { LinkError } from "../../modules/link/link";
import { Uplink } from "../../modules/uplink/uplink";
import { ReadingStore } from "../../modules/store/readings";
import { BatchEncoder } from "../../modules/protocol/batch";
import { decodeValues } from "../../modules/protocol/values";
import { Settings } from "../../config/settings";
import { FakeHost, MemoryPreferences } from "../support/fake-host";
import { frameBytes } from "../../modules/host/host";

function setup(batch = 5, latencyMs = 3600000) {
  const host = new FakeHost();
  const store = new ReadingStore(100);
  const failures: string[] = [];
  const settings = new Settings(new MemoryPreferences(), {});
  const uplink = new Uplink({
    host,
    store,
    encoder: new BatchEncoder(120),
    hello: () => ({ id: "d1", boot: 3 }),
    batchSize: () => batch,
    maxLatency: () => latencyMs,
    ackTimeout: () => 10000,
    applyConfig: (set) => settings.applyPushed(set),
    fail: (event, code, reason) => failures.push(`${event}:${code}:${reason}`),
  });
  const socket = host.openWebSocket("ws://x", [], { onOpen() {}, onText() {}, onClose() {} });
  const sample = (k: number) => {
    store.append(2000 + k, 3, k, 60, k * 60000);
    uplink.pump();
  };
  return { host, store, uplink, socket: host.socket!, failures, settings, sample, open: () => uplink.online(socket) };
}

test("says hello first, then sends a batch when it is full", () => {
  const { socket, sample, open } = setup();
  open();
  assert.deepEqual(socket.frames()[0], { id: "d1", boot: 3, t: "hello", v: 1 });
  for (let k = 0; k < 4; k++) sample(k);
  assert.equal(socket.sent.length, 1);
  sample(4);
  const batch = socket.frames()[1];
  assert.deepEqual([batch.t, batch.s, batch.o, batch.k, batch.n, batch.i], ["b", 1, 3, 0, 5, 60]);
  assert.deepEqual(decodeValues(batch.v, batch.b, batch.n).values, [2000, 2001, 2002, 2003, 2004]);
});

test("onReleased is called once an ack has released readings (battery mode commits then), not for an ack out of order", () => {
  const { uplink, sample, open } = setup();
  let calls = 0;
  uplink.onReleased = () => calls++;
  open();
  for (let k = 0; k < 10; k++) sample(k);
  uplink.text('{"t":"ack","s":2}'); // waits for batch 1
  assert.equal(calls, 0);
  uplink.text('{"t":"ack","s":1}'); // releases 1 and 2 together
  assert.equal(calls, 1);
  assert.equal(uplink.acked, 10);
});

test("forgets readings only on their ack; an ack for a batch never sent changes nothing", () => {
  const { host, store, uplink, socket, sample, open } = setup();
  open();
  for (let k = 0; k < 10; k++) sample(k);
  assert.equal(socket.sent.length, 3);
  uplink.text('{"t":"ack","s":99}');
  assert.equal(store.count, 10);
  assert.equal(uplink.bogus, 1);
  assert.deepEqual(host.events, [{ kind: "uplink.unknownAck", seq: 99 }]);
  uplink.text('{"t":"ack","s":1}');
  assert.equal(store.count, 5);
  assert.equal(uplink.acked, 5);
});

test("answers out of order release in order", () => {
  const { store, uplink, sample, open } = setup();
  open();
  for (let k = 0; k < 10; k++) sample(k);
  uplink.text('{"t":"ack","s":2}');
  assert.equal(store.count, 10, "batch 1 not answered yet");
  uplink.text('{"t":"ack","s":1}');
  assert.equal(store.count, 0);
});

test("after a reconnect, unacknowledged readings are sent again with new sequence numbers", () => {
  const { host, store, uplink, sample, open } = setup();
  open();
  for (let k = 0; k < 10; k++) sample(k);
  uplink.text('{"t":"ack","s":1}');
  uplink.offline();
  const socket2 = host.openWebSocket("ws://x", [], { onOpen() {}, onText() {}, onClose() {} });
  uplink.online(socket2);
  const frames = host.socket!.frames();
  assert.equal(frames[0].t, "hello");
  assert.deepEqual([frames[1].s, frames[1].k, frames[1].n], [1, 5, 5]);
  assert.equal(store.count, 5);
});

test("the window bounds batches in flight; acks let the backlog drain", () => {
  const { uplink, socket, store, sample } = setup();
  for (let k = 0; k < 40; k++) sample(k);
  uplink.online(socket);
  assert.equal(socket.sent.length, 1 + 4);
  for (let s = 1; s <= 8; s++) uplink.text(`{"t":"ack","s":${s}}`);
  assert.equal(store.count, 0);
  assert.equal(socket.sent.length, 1 + 8);
});

test("back-pressure: a frame the send buffer has no room for waits, in order, and nothing is encoded behind it", () => {
  // The frames' sizes, from the same session with room to spare.
  const dry = setup();
  for (let k = 0; k < 40; k++) dry.sample(k);
  dry.open();
  const [helloBytes, batchBytes] = dry.socket.sent.map(frameBytes);
  const { uplink, socket, store, sample } = setup();
  for (let k = 0; k < 40; k++) sample(k);
  // Room for the hello and one batch only: lwIP's buffer, which would throw on a write that does not fit.
  socket.room = helloBytes + batchBytes;
  uplink.online(socket);
  assert.deepEqual(socket.frames().map((f) => f.t === "b" ? f.s : f.t), ["hello", 1]);
  assert.equal(socket.refused, 1, "batch 2 was offered once and held");
  assert.equal(uplink.waited, 1);
  assert.equal(uplink.sentBatches, 2, "batch 2 is encoded and in the window, batch 3 is not");
  socket.drain(10 * batchBytes); // TCP acknowledged the bytes: the held frame goes, then what is due behind it
  uplink.writable(); // as the link passes on the socket's writable event
  assert.deepEqual(socket.frames().filter((f) => f.t === "b").map((f) => f.s), [1, 2, 3, 4], "up to the ack window");
  socket.room = Infinity;
  for (let s = 1; s <= 8; s++) {
    uplink.text(`{"t":"ack","s":${s}}`);
  }
  assert.equal(store.count, 0, "every reading acked once the buffer drained");
  const indexes = socket.frames().filter((f) => f.t === "b").map((f) => f.k);
  assert.deepEqual(indexes, [0, 5, 10, 15, 20, 25, 30, 35], "each batch sent once, in order");
});

test("back-pressure: cfgack replies wait behind a held frame; beyond the outbox they are counted, not lost silently", () => {
  const { uplink, socket, open } = setup();
  open();
  socket.room = 0;
  for (let id = 1; id <= 6; id++) uplink.text(`{"t":"cfg","id":${id},"set":{"batch.size":5}}`);
  assert.equal(uplink.waited, 4);
  assert.equal(uplink.unanswered, 2, "the server keeps those pushes pending and sends them again");
  socket.drain(10_000);
  uplink.writable();
  assert.deepEqual(socket.frames().filter((f) => f.t === "cfgack").map((f) => f.id), [1, 2, 3, 4]);
});

test("no ack in time makes the link reconnect", () => {
  const { host, failures, sample, open } = setup();
  open();
  for (let k = 0; k < 5; k++) sample(k);
  host.advance(9999);
  assert.deepEqual(failures, []);
  host.advance(1);
  assert.deepEqual(failures, [`Timeout:${LinkError.Ack}:no ack in time`]);
});

test("a reading older than the maximum latency goes out in a short batch", () => {
  const { host, socket, sample, open } = setup(10, 120000);
  open();
  sample(0);
  host.advance(60000);
  sample(1);
  assert.equal(socket.sent.length, 1);
  host.advance(60000);
  sample(2);
  assert.equal(socket.frames()[1].n, 3);
});

test("a batch the server refuses is dropped and counted, so it cannot jam the queue", () => {
  const { store, uplink, sample, open } = setup();
  open();
  for (let k = 0; k < 5; k++) sample(k);
  uplink.text('{"t":"err","code":"bad-values","msg":"x","s":1}');
  assert.equal(store.count, 0);
  assert.equal(uplink.rejected, 5);
});

test("credentials refused by the server suspend the link", () => {
  const { uplink, failures, open } = setup();
  open();
  uplink.text('{"t":"err","code":"revoked","msg":"token revoked"}');
  assert.deepEqual(failures, [`Rejected:${LinkError.Rejected}:server: revoked`]);
});

test("pushed configuration: each key judged, the good ones applied, and the cfgack says which were applied and which refused", () => {
  const { uplink, socket, settings, open } = setup();
  open();
  uplink.text('{"t":"cfg","id":7,"set":{"sample.interval":30,"batch.size":20}}');
  assert.deepEqual(socket.frames().at(-1), { t: "cfgack", id: 7, ok: true, applied: ["sample.interval", "batch.size"] });
  assert.equal(settings.int("sample.interval"), 30);
  uplink.text('{"t":"cfg","id":8,"set":{"batch.size":5,"sample.interval":0,"device.token":"x","no.such":1}}');
  const ack = socket.frames().at(-1);
  assert.deepEqual([ack.t, ack.id, ack.ok, ack.applied, Object.keys(ack.refused).sort()],
    ["cfgack", 8, false, ["batch.size"], ["device.token", "no.such", "sample.interval"]]);
  for (const reason of Object.values(ack.refused)) assert.equal(typeof reason, "string");
  assert.equal(settings.int("batch.size"), 5, "the good key applied");
  assert.equal(settings.int("sample.interval"), 30, "the bad one not");
  assert.equal(settings.text("device.token"), "", "a key the server may not set is refused");
  // A rule that joins keys refuses the keys it joins.
  uplink.text('{"t":"cfg","id":9,"set":{"link.backoff.base":50000,"link.backoff.cap":2000}}');
  assert.deepEqual(socket.frames().at(-1).applied, []);
  assert.deepEqual(Object.keys(socket.frames().at(-1).refused), ["link.backoff.base", "link.backoff.cap"]);
  assert.equal(settings.int("link.backoff.cap"), 60000);
});

test("garbage from the server is counted and ignored", () => {
  const { host, uplink, store, sample, open } = setup();
  open();
  for (let k = 0; k < 5; k++) sample(k);
  const garbage = ["", "nope", "[]", "null", '{"t":"ack"}', '{"t":"ack","s":"1"}', '{"t":"zzz"}'];
  for (const text of garbage) uplink.text(text);
  assert.equal(uplink.bogus, 7);
  assert.deepEqual(host.eventsOf("uplink.ignored").map((e) => e.frame), garbage);
  assert.equal(store.count, 5);
});

test("hello puts its type first, like every device frame", () => {
  const { socket, open } = setup();
  open();
  assert.ok(socket.sent[0].startsWith('{"t":"hello","v":1,'), socket.sent[0]);
});

test("errors that are the session's fault keep the batch and reconnect: no-hello, bad-seq, storage", () => {
  for (const code of ["no-hello", "bad-seq", "storage"]) {
    const { uplink, store, failures, sample, open } = setup();
    open();
    for (let k = 0; k < 5; k++) sample(k);
    uplink.text(`{"t":"err","code":"${code}","msg":"x","s":1}`);
    assert.equal(store.count, 5, `${code}: the readings stay`);
    assert.equal(uplink.rejected, 0, code);
    assert.deepEqual(failures, [`Closed:${LinkError.Connect}:server: ${code}`]);
  }
});

test("a pong is heard quietly; the session is confirmed once welcomed and every batch answered", () => {
  const { uplink, sample, open } = setup();
  open();
  assert.equal(uplink.confirmed, false);
  uplink.text('{"t":"pong"}');
  assert.equal(uplink.bogus, 0);
  for (let k = 0; k < 5; k++) sample(k);
  uplink.text('{"t":"welcome","v":1,"time":1764000000000}');
  assert.equal(uplink.confirmed, false, "a batch is still unanswered");
  uplink.text('{"t":"ack","s":1}');
  assert.equal(uplink.confirmed, true);
  uplink.offline();
  assert.equal(uplink.confirmed, false);
});

test("a two-channel probe's batch goes as a frame per channel; its readings leave the store with the last frame's ack", () => {
  const { host, store, uplink, socket, open } = setup(3);
  const humidity = new Int16Array(1);
  const sample = (k: number) => {
    humidity[0] = 4500 + 10 * k;
    store.appendChannels(2000 + k, humidity, 3, k, 60, k * 60000);
    uplink.pump();
  };
  open();
  for (let k = 0; k < 3; k++) sample(k);
  const frames = socket.frames().slice(1);
  assert.deepEqual(frames.map((f) => [f.s, f.c, f.k, f.n]), [[1, undefined, 0, 3], [2, 1, 0, 3]], "channel 0 leaves out c");
  assert.deepEqual(decodeValues(frames[0].v, frames[0].b, frames[0].n).values, [2000, 2001, 2002]);
  assert.deepEqual(decodeValues(frames[1].v, frames[1].b, frames[1].n).values, [4500, 4510, 4520]);
  uplink.text('{"t":"ack","s":1}');
  assert.equal(store.count, 3, "the humidity frame is not answered yet");
  uplink.text('{"t":"ack","s":2}');
  assert.equal(store.count, 0);
  assert.equal(uplink.acked, 3);
  // Two channels take two places in the window of 4: two batches in flight, the third waits.
  for (let k = 3; k < 12; k++) sample(k);
  assert.equal(uplink.inFlight, 4);
  assert.equal(store.unsent, 3);
  host.advance(0);
});
