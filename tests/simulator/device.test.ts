/*
 * SimDevice: a fresh firmware run per boot with only the flash kept, devices isolated from each other on
 * one clock, a scripted probe, and loud failures for what the simulator cannot run.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { faultValue, Fault } from "../../modules/protocol/values";
import { firmwareScript } from "../../simulator/bundle";
import { SimDevice } from "../../simulator/device";
import { Fleet } from "../../simulator/fleet";
import { VIRTUAL_EPOCH, VirtualClock } from "../../simulator/hardware/clock";
import { events, startServer, type TestServer } from "./helpers";

const HOST = "tests/simulator/fixtures/host.ts";
const servers: TestServer[] = [];
after(() => Promise.all(servers.map((server) => server.close())));

async function echoServer(clock: VirtualClock): Promise<TestServer> {
  const server = await startServer(clock, (ws) => ws.on("message", (data) => ws.send(`ack ${data}`)));
  servers.push(server);
  return server;
}

test("a reboot keeps the preferences and nothing else", async () => {
  const clock = new VirtualClock();
  const server = await echoServer(clock);
  const dev = new SimDevice({ clock, entry: HOST, config: { "device.id": "k1", "server.url": server.url, "wifi.ssid": "sim", "sample.interval": 60 } });
  await dev.boot();
  await clock.advance(150_000);
  assert.equal(server.requests.length, 1);
  await dev.reboot();
  await clock.settle();
  assert.deepEqual(server.closes, [1006], "the old connection died with the power");
  await clock.advance(150_000);
  assert.deepEqual(events(dev.log, "boot").map((line) => line.split(" ").slice(0, 2).join(" ")), ["boot 1", "boot 2"]);
  assert.equal(dev.hardware.preferences.get("thermocast", "boots"), 2);
  // The first run's timers died with it: samples at 60 s and 120 s of each run, ticks restarting at 0.
  assert.deepEqual(events(dev.log, "sample").map((line) => line.split(" @")[1]), ["60000", "120000", "60000", "120000"]);
  assert.deepEqual(dev.samples.map((s) => (s.at - VIRTUAL_EPOCH) / 1000), [60, 120, 210, 270]);
  assert.equal(server.requests.length, 2);
  assert.equal(dev.hardware.boots, 2);
});

test("a reset from outside (watchdog, panic, brownout) ends the run where it is and starts again, RTC memory as it was", async () => {
  const clock = new VirtualClock();
  const dev = new SimDevice({ clock, entry: HOST, config: { "device.id": "r1", "sample.interval": 60 } });
  await dev.boot();
  const rtc = new Uint8Array(dev.hardware.retained(0)!);
  rtc.set([1, 2, 3], 100);
  await clock.advance(90_000);
  assert.equal(dev.hardware.reset("watchdog"), true);
  assert.equal(dev.running, false, "the run ended at once");
  await clock.advance(150_000);
  assert.equal(dev.hardware.resetReason, "watchdog");
  assert.equal(dev.hardware.boots, 2);
  assert.deepEqual(dev.hardware.runs.map((run) => [run.reason, run.ended, run.end - run.start]), [["power-on", "reset", 90_000]], "run 1 ended by the reset; run 2 goes on");
  assert.deepEqual([...new Uint8Array(dev.hardware.retained(0)!).subarray(100, 103)], [1, 2, 3], "RTC memory kept");
  // The first run's timer (its second sample at 120 s) died with it: samples at 60 s, then 60 and 120 s of the new run.
  assert.deepEqual(dev.samples.map((s) => (s.at - VIRTUAL_EPOCH) / 1000), [60, 150, 210]);
  dev.powerOff();
  assert.equal(dev.hardware.reset("panic"), false, "a board that is off is not reset");
});

test("two devices on one clock share nothing but time", async () => {
  const clock = new VirtualClock();
  const server = await echoServer(clock);
  const fleet = new Fleet({
    clock,
    count: 2,
    entry: HOST,
    config: (i) => ({ "device.id": `d${i}`, "device.token": `token-${i}`, "server.url": server.url, "wifi.ssid": "sim", "sample.interval": 30 * (i + 1) }),
  });
  const [a, b] = fleet.devices;
  b.hardware.probe.signal = () => 1234;
  await fleet.boot();
  await clock.advance(5000);
  await b.reboot();
  await clock.advance(295_000);
  assert.equal(a.hardware.preferences.get("thermocast", "boots"), 1);
  assert.equal(b.hardware.preferences.get("thermocast", "boots"), 2);
  assert.equal(a.samples.length, 10);
  assert.deepEqual(b.samples.map((s) => (s.at - VIRTUAL_EPOCH) / 1000), [65, 125, 185, 245]);
  assert.ok(b.samples.every((s) => s.value === 1234));
  assert.ok(a.samples.every((s) => s.value !== 1234));
  assert.ok(a.log.every((line) => !line.includes("d1")) && b.log.every((line) => !line.includes("d0")));
  assert.deepEqual(server.requests.map((r) => [r.url, r.headers.authorization]).sort(), [
    ["/v1/device/d0", "Bearer token-0"], ["/v1/device/d1", "Bearer token-1"], ["/v1/device/d1", "Bearer token-1"],
  ]);
  fleet.powerOff();
});

test("the probe plays a script, faults included, and records every read at its virtual time", async () => {
  const clock = new VirtualClock();
  const dev = new SimDevice({ clock, entry: HOST, config: { "device.id": "p", "sample.interval": 10 } });
  const stuck = faultValue(Fault.Disconnected);
  dev.hardware.probe.signal = (at) => ((at - VIRTUAL_EPOCH) % 30_000 === 0 ? stuck : 2000 + (at - VIRTUAL_EPOCH) / 1000);
  await dev.boot();
  await clock.advance(60_000);
  assert.deepEqual(dev.samples.map((s) => [(s.at - VIRTUAL_EPOCH) / 1000, s.value]), [
    [10, 2010], [20, 2020], [30, stuck], [40, 2040], [50, 2050], [60, stuck],
  ]);
  assert.deepEqual(events(dev.log, "sample").map((line) => line.split(" ")[1]), ["2010", "2020", String(stuck), "2040", "2050", String(stuck)]);
  dev.hardware.probe.inject(faultValue(Fault.Crc), 2); // the next two reads, whatever the script says
  await clock.advance(30_000);
  assert.deepEqual(dev.samples.slice(-3).map((s) => s.value), [faultValue(Fault.Crc), faultValue(Fault.Crc), stuck]);
});

test("the tick counter can start near its 32-bit wrap, and the adapter unwraps it", async () => {
  const clock = new VirtualClock();
  const dev = new SimDevice({ clock, entry: HOST, config: { "device.id": "w", "sample.interval": 60 } });
  dev.hardware.ticksAtBoot = 2 ** 32 - 90_000;
  await dev.boot();
  await clock.advance(180_000);
  assert.deepEqual(events(dev.log, "sample").map((line) => Number(line.split(" @")[1]) - 2 ** 32), [-30_000, 30_000, 90_000]);
});

test("main() throwing fails boot() and leaves the device halted", async () => {
  const clock = new VirtualClock();
  const dev = new SimDevice({ clock, entry: "tests/simulator/fixtures/sdk.ts", config: { scenario: "throw" } });
  await assert.rejects(dev.boot(), /main failed/);
  assert.equal(dev.running, false);
  assert.ok(dev.log.includes("XS abort: unhandled exception: main failed"));
  assert.match(dev.crash!.stack!, /at main \(tests\/simulator\/fixtures\/sdk\.ts:\d+:\d+\)/, "frames point at the TypeScript source");
  await clock.advance(10_000);
});

test("device code importing a module the simulator lacks fails the build, naming it", async () => {
  await assert.rejects(firmwareScript("tests/simulator/fixtures/bad-import.ts"), /device code imports "node:fs", which the simulator does not provide/);
});
