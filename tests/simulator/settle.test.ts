/*
 * Settling: real loopback traffic between a simulated device and a server in this process completes
 * before virtual time moves on, and a server that stays silent, or a socket that is stuck, cannot hang
 * the clock.
 */
import assert from "node:assert/strict";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { after, test } from "node:test";
import { SimDevice } from "../../simulator/device";
import { VirtualClock } from "../../simulator/hardware/clock";
import { startServer, type Handler, type TestServer } from "./helpers";

const servers: TestServer[] = [];
after(() => Promise.all(servers.map((server) => server.close())));

async function setUp(handler: Handler, clock = new VirtualClock()) {
  const server = await startServer(clock, handler);
  servers.push(server);
  const dev = new SimDevice({
    clock,
    entry: "tests/simulator/fixtures/host.ts",
    config: { "device.id": "kitchen-1", "device.token": "t0k", "server.url": server.url, "wifi.ssid": "sim", "sample.interval": 60 },
  });
  await dev.boot();
  return { clock, server, dev };
}

/** For each "sample V @T" the device sent, the tick at which it logged the server's answer to it. */
function answerTicks(log: string[]): [number, number][] {
  const pairs: [number, number][] = [];
  for (const line of log) {
    const match = /^rx ack sample -?\d+ @(\d+) @(\d+)$/.exec(line);
    if (match) pairs.push([Number(match[1]), Number(match[2])]);
  }
  return pairs;
}

test("a device's send and the server's answer complete before the clock moves on", async () => {
  const { clock, server, dev } = await setUp((ws) => ws.on("message", (data) => ws.send(`ack ${data}`)));
  await clock.advance(10 * 60_000);
  const pairs = answerTicks(dev.log);
  assert.equal(pairs.length, 10);
  for (const [sent, answered] of pairs) assert.equal(answered, sent);
  // The server received each sample at the virtual instant it was taken.
  const start = clock.now() - 10 * 60_000;
  assert.deepEqual(server.received.slice(1).map((r) => (r.at - start) / 60_000), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test("answers deferred by a promise or setImmediate still arrive at the same instant", async () => {
  const { clock, dev } = await setUp((ws) =>
    ws.on("message", (data) => {
      Promise.resolve().then(() => setImmediate(() => ws.send(`ack ${data}`)));
    }),
  );
  await clock.advance(5 * 60_000);
  const pairs = answerTicks(dev.log);
  assert.equal(pairs.length, 5);
  for (const [sent, answered] of pairs) assert.equal(answered, sent);
});

test("a server with slower asynchronous work says when it is idle, and is waited for", async () => {
  const clock = new VirtualClock();
  let inFlight = 0;
  clock.trackIdle(() => inFlight === 0);
  const { dev } = await setUp(
    (ws) =>
      ws.on("message", (data) => {
        inFlight++;
        // Work that takes many event-loop turns, more than a settle's steady turns would wait for unasked.
        let turns = 20;
        const work = () => {
          if (--turns > 0) return void setImmediate(work);
          ws.send(`ack ${data}`);
          inFlight--;
        };
        setImmediate(work);
      }),
    clock,
  );
  await clock.advance(3 * 60_000);
  const pairs = answerTicks(dev.log);
  assert.equal(pairs.length, 3);
  for (const [sent, answered] of pairs) assert.equal(answered, sent);
});

test("a server that never answers does not hold the clock", async () => {
  const { clock, server, dev } = await setUp(() => {});
  // Were the clock waiting on the silent server, a settle would reach its limit and the advance would fail.
  await clock.advance(24 * 3600_000);
  assert.equal(dev.log.filter((line) => line.startsWith("sample")).length, 1440);
  assert.equal(server.received.length, 1441); // hello, then every sample
  assert.equal(dev.log.filter((line) => line.startsWith("rx")).length, 0);
});

test("a server that never answers the upgrade does not hold the clock", async () => {
  const clock = new VirtualClock();
  const server = await startServer(clock);
  servers.push(server);
  server.wss.removeAllListeners("connection");
  server.http.removeAllListeners("upgrade");
  server.http.on("upgrade", () => {}); // reads the request, never answers
  const dev = new SimDevice({
    clock,
    entry: "tests/simulator/fixtures/host.ts",
    config: { "device.id": "d", "server.url": server.url, "wifi.ssid": "sim", "sample.interval": 60 },
  });
  await dev.boot();
  await clock.advance(3600_000);
  assert.equal(dev.log.filter((line) => line.startsWith("sample")).length, 60);
  assert.equal(dev.log.filter((line) => line.startsWith("open")).length, 0);
});

test("a socket whose bytes are never read fails the run with a clear error instead of hanging", async () => {
  // The settle limit is measured on a stand-in clock that moves 50 ms each time it is read: the stuck socket
  // fails the run after a few event-loop turns, however fast or loaded the machine is.
  let real = 0;
  const clock = new VirtualClock({ settleLimitMs: 200, settleNow: () => (real += 50) });
  const accepted: Socket[] = [];
  const stuck = createServer({ pauseOnConnect: true }, (socket) => accepted.push(socket)); // accepts, never reads
  clock.trackServer(stuck);
  await new Promise<void>((resolve) => stuck.listen(0, "127.0.0.1", resolve));
  const dev = new SimDevice({
    clock,
    entry: "tests/simulator/fixtures/host.ts",
    config: { "device.id": "d", "server.url": `ws://127.0.0.1:${(stuck.address() as AddressInfo).port}`, "wifi.ssid": "sim" },
  });
  try {
    await dev.boot();
    // The settle limit (200 ms of the stand-in clock) ends the wait: the test's own time limit guards against a hang.
    await assert.rejects(clock.advance(5000), /did not settle within 200 ms: .*wrote \d+ bytes, peer read 0/);
    // Once the stuck end is gone, the clock runs again.
    dev.powerOff();
    for (const socket of accepted) socket.destroy();
    await clock.advance(1000);
  } finally {
    dev.powerOff();
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => stuck.close(resolve));
  }
});
