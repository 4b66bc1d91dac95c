/*
 * wss:// in mcsim: the firmware built with the SDK's TLS client (host/tls → modules/host/tls/secure.ts on
 * lin, as on esp32) against the reference server over TLS on loopback (`serve --cert`). The test makes its
 * own CA and server certificates with openssl in a temp folder and builds with that CA as the resource
 * server-ca.der (THERMOCAST_TLS, config/tls/README.md). Runs when MODDABLE is set and openssl is there.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../../server/server";
import { registerDevice } from "../../server/cli";
import { TelemetryDb } from "../../server/db";
import { buildForSimulator, startSimulator, SKIP_REASON as SDK_SKIP, type RunningSimulator } from "./mcsim";

const SKIP_REASON = SDK_SKIP ?? (existsSync("/usr/bin/openssl") ? undefined : "openssl is not installed: the wss:// tier in mcsim is skipped");
if (SKIP_REASON) console.log(`# ${SKIP_REASON}`);

const DEVICE = "sdk-tls";
const TOKEN = "sdk-tls-token-0123456789";
const MANIFEST = join(process.cwd(), "tests", "sdk", "tls", "manifest.json");
const PREFERENCES = "/tmp/thermocast-sdk-tls-modpreferences.json"; // tests/sdk/tls/manifest.json's root
const quiet = () => {};

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

interface Pki {
  /** The folder holding server-ca.der, for THERMOCAST_TLS. */
  caFolder: string;
  /** The server's key and chain (its certificate, then its CA's), signed by the trusted CA. */
  trusted: { cert: Buffer; key: Buffer };
  /** The same, signed by another CA, which the build does not trust. */
  untrusted: { cert: Buffer; key: Buffer };
}

/** Two CAs and a server certificate from each, for 127.0.0.1 (subjectAltName IP), RSA 2048, SHA-256. */
function makePki(dir: string): Pki {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  writeFileSync(join(dir, "server.ext"), "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
  const server = (ca: string) => {
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${ca}.key`, "-out", `${ca}.pem`, "-days", "2", "-subj", `/CN=thermocast test ${ca}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${ca}-server.key`, "-out", `${ca}-server.csr`, "-subj", "/CN=127.0.0.1");
    openssl("x509", "-req", "-in", `${ca}-server.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-set_serial", "2", "-days", "2", "-sha256",
      "-extfile", "server.ext", "-out", `${ca}-server.pem`);
    const cert = Buffer.concat([readFileSync(join(dir, `${ca}-server.pem`)), readFileSync(join(dir, `${ca}.pem`))]);
    return { cert, key: readFileSync(join(dir, `${ca}-server.key`)) };
  };
  const trusted = server("ca");
  const untrusted = server("other-ca");
  const caFolder = join(dir, "trusted");
  mkdirSync(caFolder);
  openssl("x509", "-in", "ca.pem", "-outform", "der", "-out", join(caFolder, "server-ca.der"));
  return { caFolder, trusted, untrusted };
}

let work: string;
let pki: Pki;
let server: RunningServer;
let dbPath: string;
let port: number;
let so: string;
let sim: RunningSimulator | undefined;

before(async () => {
  if (SKIP_REASON) return;
  work = mkdtempSync(join(tmpdir(), "thermocast-sdk-tls-"));
  pki = makePki(work);
  dbPath = join(work, "db.sqlite");
  server = await startServer({ port: 0, dbPath, log: quiet, tls: pki.trusted });
  registerDevice(server.db, DEVICE, TOKEN);
  port = server.port;
  so = await buildForSimulator(MANIFEST, join(work, "build"), { "server.url": `wss://127.0.0.1:${port}`, "device.id": DEVICE, "device.token": TOKEN },
    undefined, { THERMOCAST_TLS: pki.caFolder });
}, { timeout: 900_000 });

after(async () => {
  if (SKIP_REASON) return;
  await sim?.stop();
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

/** A new mcsim on `build` with empty preferences. */
async function boot(build = so): Promise<RunningSimulator> {
  rmSync(PREFERENCES, { force: true });
  await sim?.stop();
  sim = startSimulator(build, join(work, `xdg-${Date.now()}`));
  await sim.waitFor(/thermocast .* boot 1 /, 120_000);
  return sim;
}

test("mcsim over wss://: readings stored exactly once across a server restart", { skip: SKIP_REASON, timeout: 600_000 }, async () => {
  const sim = await boot();
  await until("10 readings stored over wss://", 120_000, () => readings(server.db).length >= 10);
  await server.close();
  const offline = new TelemetryDb(dbPath);
  const downAt = readings(offline).length;
  offline.close();
  // The device notices the server gone and retries while it samples on.
  const retries = sim.lines.length;
  await until("the link retrying", 60_000, () => sim.lines.slice(retries).some((line) => line.startsWith("link: retry in")));
  server = await startServer({ port, dbPath, log: quiet, tls: pki.trusted });
  await until("20 readings stored", 120_000, () => readings(server.db).length >= Math.max(20, downAt + 5));
  await sim.stop();

  const rows = readings(server.db);
  const indexes = rows.map((r) => r.idx);
  assert.ok(rows.every((r) => r.boot === 1));
  assert.deepEqual(indexes, indexes.map((_, i) => i), "sample indexes 0…n-1, each stored once");
  assert.ok(!sim.lines.some((line) => /tls:|date validation failed|subjectAltName match failed/.test(line)), sim.lines.join("\n"));
  console.log(`# mcsim over wss://: ${rows.length} readings stored exactly once; server stopped at ${downAt} and restarted`);
});

test("mcsim over wss:// to a server whose certificate the build's CA did not sign: handshakes refused, nothing stored, the link says why", { skip: SKIP_REASON, timeout: 600_000 }, async () => {
  await server.close();
  const otherDb = join(work, "untrusted.sqlite");
  server = await startServer({ port, dbPath: otherDb, log: quiet, tls: pki.untrusted });
  registerDevice(server.db, DEVICE, TOKEN);
  const sim = await boot();
  const refused = /^link: retry in \d+ ms of \d+ \(tls: handshake failed/;
  await until("two refused handshakes", 120_000, () => sim.lines.filter((line) => refused.test(line)).length >= 2);
  await sim.stop();
  assert.equal(readings(server.db).length, 0);
  const count = sim.lines.filter((line) => refused.test(line)).length;
  console.log(`# untrusted certificate: ${count} handshakes refused, 0 stored; ${sim.lines.find((line) => refused.test(line))}`);
});

test("wss:// on a build with no CA certificate: the link is suspended with the reason, no connection tried", { skip: SKIP_REASON, timeout: 900_000 }, async () => {
  const empty = join(work, "no-ca");
  mkdirSync(empty);
  const bare = await buildForSimulator(MANIFEST, join(work, "build-no-ca"), { "server.url": `wss://127.0.0.1:${port}`, "device.id": DEVICE, "device.token": TOKEN },
    undefined, { THERMOCAST_TLS: empty });
  const sim = await boot(bare);
  const line = await sim.waitFor(/^link: suspended: /, 60_000);
  await sim.stop();
  assert.equal(line, "link: suspended: server.url: wss:// needs the server's CA certificate, config/tls/server-ca.der, in the build");
  assert.equal(sim.lines.filter((l) => l.startsWith("link: retry")).length, 0);
  console.log(`# no CA in the build: ${line}`);
});
