/*
 * The Moddable SDK tier: the firmware built by mcconfig and run in mcsim, streaming to the reference
 * server over loopback, its serial console on a real pseudo-terminal that `embedded:io/serial` opens (the
 * manifest's `console` set to the terminal's path at build time). Runs when MODDABLE is set; says it
 * skipped otherwise.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../../server/server";
import { registerDevice } from "../../server/cli";
import { TelemetryDb } from "../../server/db";
import { buildForSimulator, startSimulator, storedReadings, until, SKIP_REASON, type RunningSimulator } from "./mcsim";
import { error, rpc, state } from "../improv/spec";
import { openPseudoTerminal, type PseudoTerminal } from "../support/pty";

if (SKIP_REASON) console.log(`# ${SKIP_REASON}`);

const DEVICE = "sdk-test";
const TOKEN = "sdk-test-token-0123456789";

const readings = (db: TelemetryDb) => storedReadings(db, DEVICE);

const PREFERENCES = "/tmp/thermocast-sdk-test-modpreferences.json"; // the manifest's preference root
const quiet = () => {};
let work: string;
let terminal: PseudoTerminal;
let so: string;
let server: RunningServer;
let dbPath: string;
let port: number;
let sim: RunningSimulator | undefined;

// One build for the tests: it bakes in the server's port and the terminal's path.
before(async () => {
  if (SKIP_REASON) return;
  work = mkdtempSync(join(tmpdir(), "thermocast-sdk-"));
  dbPath = join(work, "db.sqlite");
  server = await startServer({ port: 0, dbPath, log: quiet });
  registerDevice(server.db, DEVICE, TOKEN);
  port = server.port;
  terminal = await openPseudoTerminal();
  so = await buildForSimulator(join(process.cwd(), "tests", "sdk", "manifest.json"), join(work, "build"), {
    "server.url": `ws://127.0.0.1:${port}`, "device.id": DEVICE, "device.token": TOKEN, console: terminal.path,
  });
}, { timeout: 900_000 }); // a first build compiles XS: minutes on a busy machine

after(async () => {
  if (SKIP_REASON) return;
  await sim?.stop();
  await server.close();
  await terminal.close();
  rmSync(work, { recursive: true, force: true });
});

/** A new mcsim on the build, with empty preferences unless `keep` (a power cycle: the flash stays). */
async function boot(keep = false, bootCount = 1): Promise<RunningSimulator> {
  if (!keep) rmSync(PREFERENCES, { force: true });
  await sim?.stop();
  terminal.clear(); // the last run's console wrote to the same terminal
  sim = startSimulator(so, join(work, `xdg-${Date.now()}`));
  await sim.waitFor(new RegExp(`thermocast .* boot ${bootCount} `), 120_000);
  return sim;
}

test("firmware built with mcconfig streams from mcsim to the server exactly once, across a server restart", { skip: SKIP_REASON, timeout: 600_000 }, async () => {
  const sim = await boot();
  await until("10 readings stored", 120_000, () => readings(server.db).length >= 10);
  await server.close();
  const offline = new TelemetryDb(dbPath);
  const downAt = readings(offline).length;
  offline.close();
  await new Promise((r) => setTimeout(r, 3000)); // the device samples on while the server is away
  server = await startServer({ port, dbPath, log: quiet });
  await until("readings after the restart", 120_000, () => readings(server.db).length >= downAt + 8);
  await sim.stop();

  const rows = readings(server.db);
  const indexes = rows.map((r) => r.idx);
  assert.ok(rows.every((r) => r.boot === 1));
  // Exactly once: sample indexes 0…n-1, each stored once, none missing (the store kept them through the outage).
  assert.deepEqual(indexes, indexes.map((_, i) => i));
  console.log(`# mcsim: ${rows.length} readings stored exactly once; server stopped at ${downAt} and restarted`);
});

test("the serial console in mcsim answers on a pseudo-terminal through embedded:io/serial", { skip: SKIP_REASON, timeout: 600_000 }, async () => {
  await boot();
  const command = async (line: string) => {
    terminal.clear();
    terminal.write(`${line}\r`);
    await until(`an answer to "${line}"`, 60_000, () => terminal.output.toString("utf8").endsWith("\r\n> "));
    return terminal.output.toString("utf8");
  };
  await until("the console's banner", 60_000, () => terminal.output.toString().includes("type help"));
  const status = await command("status");
  assert.match(status, /^status\r\n\S+, boot 1 \(power-on\), up 0:00:\d\d\r\n/);
  assert.match(status, /\r\n {2}device\.token = \*\*\*\*\r\n/);
  assert.ok(!status.includes(TOKEN), "the token is masked");
  assert.match(await command("set sample.interval 0"), /sample\.interval must be between 1 and 86400 s/);
  assert.match(await command("set batch.size 7"), /staged batch\.size = 7 \(save to apply\)/);
  assert.match(await command("save"), /saved: batch\.size/);
  assert.match(await command("get batch.size"), /batch\.size = 7\r\n/);
  // Saved in the simulator's preference file, as flash would hold it.
  assert.match(readFileSync(PREFERENCES, "utf8"), /"batch":\s*7\b/);
  // And kept across a power cycle, which is a new boot.
  await boot(true, 2);
  await until("the console's banner", 60_000, () => terminal.output.toString().includes("type help"));
  assert.match(await command("get batch.size"), /batch\.size = 7\r\n/);
  // Improv on the same port: request current state gets "no error" and "Provisioned" (Wi-Fi is configured).
  terminal.clear();
  terminal.write(Buffer.from(rpc(0x02)));
  await until("the Improv reply", 60_000, () => terminal.output.includes(Buffer.from(state(0x04))));
  assert.deepEqual([...terminal.output.subarray(terminal.output.indexOf(Buffer.from(error(0x00))))].slice(0, 24), [...error(0x00), ...state(0x04)]);
  console.log(`# mcsim: console answered status/set/save/get and Improv on ${terminal.path}`);
});

test("built as the boards preload it, no module of ours leaves mutable state in flash", { skip: SKIP_REASON, timeout: 900_000 }, async () => {
  // tests/sdk/heap preloads main and the adapter, as the esp32 and esp platforms do. The linker warns of each
  // unfrozen object it finds reachable from a preloaded module: state that would be copied to RAM when
  // touched, or that is module-level mutable state. The expected warnings are the SDK's own: its desktop
  // preference module (why the desktop build does not preload the adapter, docs/memory.md), and TLS's.
  let output = "";
  await buildForSimulator(join(process.cwd(), "tests", "sdk", "heap", "manifest.json"), join(work, "heap-build"), {}, (text) => (output = text));
  const unfrozen = output.split("\n").filter((line) => line.includes("not frozen"));
  assert.ok(unfrozen.length >= 1, "the linker's check ran (it flags the SDK's Preference cache)");
  // And the SDK's TLS client's own (crypt/tls_common.json preloads it): its session cache and the
  // certificates registered for every session, mutable by design (tests/sdk/boards.test.ts).
  const sdk = /Preference\.#cache|ssl\/cache: default: not frozen|ssl\/cert: default\.prototype\.getKey\(\) globalCerts: not frozen/;
  assert.deepEqual(unfrozen.filter((line) => !sdk.test(line)), []);
  console.log(`# mcconfig: ${unfrozen.length} 'not frozen' warnings, the SDK's only (Preference.#cache, ssl/cache, ssl/cert)`);
});
