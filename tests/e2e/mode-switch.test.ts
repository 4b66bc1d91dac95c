/*
 * A pushed `mode` switches the running device (docs/protocol.md, "Configuration push"), on the simulated
 * ESP32 against the real server on virtual time: always-on to battery once the readings in RAM are acked,
 * battery back to always-on once the wakes have sent what retained memory held, and nothing lost either
 * way. A board without retained memory refuses battery mode in its cfgack and runs on.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../../server/server";
import { SimDevice } from "../../simulator/device";
import { VirtualClock } from "../../simulator/hardware/clock";

const MINUTE = 60_000;
const ID = "porch-1";
const TOKEN = "porch-1-token-0001";
const ADMIN = "mode-switch-admin-token-0001";

async function rig(options: { retained: boolean }) {
  const work = mkdtempSync(join(tmpdir(), "thermocast-mode-"));
  const clock = new VirtualClock();
  const untrack = clock.trackAllServers();
  const server = await startServer({ port: 0, dbPath: join(work, "db.sqlite"), now: () => clock.now(), log: () => {}, adminToken: ADMIN });
  server.db.registerDevice(ID, TOKEN, clock.now());
  const device = new SimDevice({
    clock, platform: "esp32",
    config: {
      "device.id": ID, "device.token": TOKEN, "server.url": `ws://127.0.0.1:${server.port}`, "wifi.ssid": "sim",
      mode: "always-on", "sample.interval": 60, "batch.size": 5, "batch.latency": 900,
    },
  });
  if (!options.retained) device.hardware.retained = () => undefined;
  const dispose = async () => {
    device.powerOff();
    await server.close();
    untrack();
    rmSync(work, { recursive: true, force: true });
  };
  return { clock, server, device, dispose };
}

async function push(server: RunningServer, set: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${server.url}/api/devices/${ID}/config`, {
    method: "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify({ set }),
  });
  assert.equal(response.status, 202);
  return ((await response.json()) as { state: string }).state;
}

/** Every sample taken up to `until` (device time) is stored once, dated when it was taken, with its value. */
function assertStored(server: RunningServer, device: SimDevice, until: number): void {
  const rows = server.db.readings(ID, 0, Number.MAX_SAFE_INTEGER);
  const byTime = new Map<number, number | null>();
  for (const row of rows) {
    assert.ok(!byTime.has(row.t), `one reading at ${row.t}`);
    byTime.set(row.t, row.centi);
  }
  const taken = device.samples.filter((s) => s.at <= until);
  assert.ok(taken.length > 0);
  for (const sample of taken) assert.equal(byTime.get(sample.at), sample.value, `the sample at ${sample.at} is stored`);
}

test("a pushed mode switches always-on to battery and back, losing no reading", { timeout: 300_000 }, async () => {
  const { clock, server, device, dispose } = await rig({ retained: true });
  try {
    await device.boot();
    await clock.advance(7.5 * MINUTE);
    assert.equal(device.samples.length, 8);
    const heldBefore = device.samples.at(-1)!.at;

    // Always-on → battery: applied, the readings in RAM sent at once, then a restart into battery mode.
    assert.equal(await push(server, { mode: "battery" }), "sent");
    await clock.advance(MINUTE);
    const answer = server.db.lastConfigAnswer(ID)!;
    assert.deepEqual([answer.ok, answer.err], [1, null]);
    assertStored(server, device, heldBefore);
    const sleeping = () => device.sleeping;
    let slept = false;
    for (let k = 0; k < 60 && !slept; k++) {
      await clock.advance(5_000);
      slept = sleeping();
    }
    assert.ok(slept, "battery mode sleeps between samples");
    await clock.advance(6 * MINUTE); // a full batch: a wake connects
    assert.equal(server.db.device(ID)!.mode, "battery", "the hello of a battery wake says battery");

    // Battery → always-on: pending until a wake connects; that wake sends what is retained, then restarts.
    assert.equal(await push(server, { mode: "always-on" }), "pending");
    await clock.advance(12 * MINUTE);
    assert.deepEqual([server.db.lastConfigAnswer(ID)!.ok, server.db.pendingConfigPushes(ID).length], [1, 0]);
    assert.equal(server.db.device(ID)!.mode, "always-on", "the hello after the restart says always-on");
    const switchedAt = clock.now();
    await clock.advance(20 * MINUTE);
    for (let k = 0; k < 20; k++) {
      await clock.advance(30_000);
      assert.ok(!device.sleeping, "always-on does not sleep");
    }
    // Everything up to the switch back went; since then the always-on run sends by its batch and latency rules.
    assertStored(server, device, switchedAt);
    assert.equal(device.crash, undefined);
  } finally {
    await dispose();
  }
});

test("a board without retained memory refuses battery mode in its cfgack and runs on always-on", { timeout: 120_000 }, async () => {
  const { clock, server, device, dispose } = await rig({ retained: false });
  try {
    await device.boot();
    await clock.advance(2.5 * MINUTE);
    assert.equal(await push(server, { mode: "battery", "batch.size": 2 }), "sent");
    await clock.advance(MINUTE);
    const answer = server.db.lastConfigAnswer(ID)!;
    assert.equal(answer.ok, 0);
    assert.match(answer.err ?? "", /^mode/, "the refusal names the key");
    const samples = device.samples.length;
    for (let k = 0; k < 10; k++) {
      await clock.advance(30_000);
      assert.ok(!device.sleeping, "still always-on");
    }
    assert.equal(device.samples.length, samples + 5);
    // The key the board could honour was applied: batches of 2 now.
    assertStored(server, device, clock.now() - 2 * MINUTE);
    assert.equal(device.crash, undefined);
  } finally {
    await dispose();
  }
});
