/*
 * The Moddable SDK tier: the firmware built by mcconfig and run in mcsim, streaming to the reference
 * server over loopback. Runs when MODDABLE is set; says it skipped otherwise.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../../server/server";
import { registerDevice } from "../../server/cli";
import { TelemetryDb } from "../../server/db";
import { buildForSimulator, startSimulator, SKIP_REASON, type RunningSimulator } from "./mcsim";

if (SKIP_REASON) console.log(`# ${SKIP_REASON}`);

const DEVICE = "sdk-test";
const TOKEN = "sdk-test-token-0123456789";

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | false): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function readings(db: TelemetryDb): { idx: number; boot: number }[] {
  return db.sqlite.prepare("SELECT idx, boot FROM readings WHERE device_id = ? ORDER BY boot, idx").all(DEVICE) as { idx: number; boot: number }[];
}

test("firmware built with mcconfig streams from mcsim to the server exactly once, across a server restart", { skip: SKIP_REASON, timeout: 240000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), "thermocast-sdk-"));
  rmSync("/tmp/thermocast-sdk-test-modpreferences.json", { force: true }); // the manifest's preference root
  const dbPath = join(work, "db.sqlite");
  const quiet = () => {};
  let server: RunningServer = await startServer({ port: 0, dbPath, log: quiet });
  registerDevice(server.db, DEVICE, TOKEN);
  const port = server.port;
  let sim: RunningSimulator | undefined;
  after(async () => {
    await sim?.stop();
    await server.close();
  });

  const so = await buildForSimulator(join(process.cwd(), "tests", "sdk", "manifest.json"), join(work, "build"), {
    "server.url": `ws://127.0.0.1:${port}`, "device.id": DEVICE, "device.token": TOKEN,
  });
  sim = startSimulator(so, join(work, "xdg"));
  await sim.waitFor(/thermocast .* boot 1 /, 30000);

  await until("10 readings stored", 30000, () => readings(server.db).length >= 10);
  await server.close();
  const offline = new TelemetryDb(dbPath);
  const downAt = readings(offline).length;
  offline.close();
  await new Promise((r) => setTimeout(r, 3000)); // the device samples on while the server is away
  server = await startServer({ port, dbPath, log: quiet });
  await until("readings after the restart", 30000, () => readings(server.db).length >= downAt + 8);
  await sim.stop();

  const rows = readings(server.db);
  const indexes = rows.map((r) => r.idx);
  assert.ok(rows.every((r) => r.boot === 1));
  // Exactly once: sample indexes 0…n-1, each stored once, none missing (the store kept them through the outage).
  assert.deepEqual(indexes, indexes.map((_, i) => i));
  console.log(`# mcsim: ${rows.length} readings stored exactly once; server stopped at ${downAt} and restarted`);
  rmSync(work, { recursive: true, force: true });
});
