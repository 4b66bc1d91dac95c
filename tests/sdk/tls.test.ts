/*
 * wss:// in mcsim: the firmware built with the SDK's TLS client (host/tls → modules/host/tls/secure.ts on
 * lin, as on esp32) against the reference server over TLS on loopback (`serve --cert`). The test makes its
 * own CA and server certificates with openssl in a temp folder and builds with that CA as the resource
 * server-ca.der (THERMOCAST_TLS, config/tls/README.md). Runs when MODDABLE is set and openssl is there.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../../server/server";
import { registerDevice } from "../../server/cli";
import { TelemetryDb } from "../../server/db";
import { buildForSimulator, startSimulator, storedReadings, until, SKIP_REASON as SDK_SKIP, type RunningSimulator } from "./mcsim";
import { makePki, type Pki } from "./pki";

const SKIP_REASON = SDK_SKIP ?? (existsSync("/usr/bin/openssl") ? undefined : "openssl is not installed: the wss:// tier in mcsim is skipped");
if (SKIP_REASON) console.log(`# ${SKIP_REASON}`);

const DEVICE = "sdk-tls";
const TOKEN = "sdk-tls-token-0123456789";
const MANIFEST = join(process.cwd(), "tests", "sdk", "tls", "manifest.json");
const PREFERENCES = "/tmp/thermocast-sdk-tls-modpreferences.json"; // tests/sdk/tls/manifest.json's root
const quiet = () => {};

const readings = (db: TelemetryDb) => storedReadings(db, DEVICE);

/**
 * An SNTP server on loopback port 123 (needs root, as here), at the first free address of 127.0.0.123…:
 * it keeps each request and answers from the `ignore + 1`th on with the real time.
 */
interface NtpResponder {
  address: string;
  requests: Buffer[];
  ignore: number;
  close(): void;
}
async function startNtpResponder(): Promise<NtpResponder | string> {
  for (let last = 123; last < 133; last++) {
    const address = `127.0.0.${last}`;
    const socket: UdpSocket = createSocket("udp4");
    const bound = await new Promise<string | undefined>((resolve) => {
      socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      socket.bind(123, address, () => resolve(undefined));
    });
    if (bound === "EACCES") return "binding UDP port 123 needs root: the SNTP test is skipped";
    if (bound) {
      socket.close();
      continue;
    }
    const responder: NtpResponder = { address, requests: [], ignore: 2, close: () => socket.close() };
    socket.on("message", (request, from) => {
      responder.requests.push(request);
      if (responder.requests.length <= responder.ignore) return;
      const reply = Buffer.alloc(48);
      reply[0] = 0x24; // no leap warning, version 4, mode 4 (server)
      reply[1] = 1; // stratum 1 (0 would be a kiss-o'-death)
      const seconds = Math.floor(Date.now() / 1000) + 2208988800; // NTP counts from 1900
      reply.writeUInt32BE(seconds >>> 0, 32); // receive timestamp
      reply.writeUInt32BE(seconds >>> 0, 40); // transmit timestamp, which the SDK's client reads
      socket.send(reply, from.port, from.address);
    });
    return responder;
  }
  return "no free loopback address for port 123: the SNTP test is skipped";
}

/**
 * A library for LD_PRELOAD that sets mcsim's wall clock back to 1970-01-02 (what a board reads after a
 * power-on), moving on at the real rate: gettimeofday, which XS's Date and lin's Time.ticks both read.
 */
function buildClockShim(dir: string): string {
  const source = join(dir, "clock1970.c");
  writeFileSync(source, [
    "#define _GNU_SOURCE",
    "#include <dlfcn.h>",
    "#include <sys/time.h>",
    "static long offset = -1;",
    "int gettimeofday(struct timeval *tv, void *tz) {",
    "  static int (*real)(struct timeval *, void *);",
    '  if (!real) real = (int (*)(struct timeval *, void *))dlsym(RTLD_NEXT, "gettimeofday");',
    "  int result = real(tv, tz);",
    "  if (result == 0 && tv) {",
    "    if (offset < 0) offset = tv->tv_sec - 86400;",
    "    tv->tv_sec -= offset;",
    "  }",
    "  return result;",
    "}",
    "",
  ].join("\n"));
  const library = join(dir, "clock1970.so");
  execFileSync("cc", ["-shared", "-fPIC", "-o", library, source, "-ldl"], { stdio: "pipe" });
  return library;
}

let work: string;
let ntp: NtpResponder | string;
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
  ntp = await startNtpResponder();
  // `server.ntp` is only asked when the clock reads before 2025: the SNTP test sets mcsim's clock back.
  so = await buildForSimulator(MANIFEST, join(work, "build"), {
    "server.url": `wss://127.0.0.1:${port}`, "device.id": DEVICE, "device.token": TOKEN, ...(typeof ntp === "string" ? {} : { "server.ntp": ntp.address }),
  }, undefined, { THERMOCAST_TLS: pki.caFolder });
}, { timeout: 900_000 });

after(async () => {
  if (SKIP_REASON) return;
  await sim?.stop();
  await server.close();
  if (typeof ntp === "object") ntp.close();
  rmSync(work, { recursive: true, force: true });
});

/** A new mcsim on `build` with empty preferences (with a library preloaded into it). */
async function boot(build = so, preload?: string): Promise<RunningSimulator> {
  rmSync(PREFERENCES, { force: true });
  await sim?.stop();
  sim = startSimulator(build, join(work, `xdg-${Date.now()}`), {}, preload);
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

test("a clock at 1970: SNTP to the `server.ntp` server before wss://, and the reason when it does not answer", { skip: SKIP_REASON, timeout: 600_000 }, async (t) => {
  if (typeof ntp === "string") return t.skip(ntp);
  const responder = ntp;
  const sim = await boot(so, buildClockShim(work));
  const silent = `link: retry in \\d+ ms of \\d+ \\(tls: the clock is not set \\(no answer from ${responder.address.replace(/\./g, "\\.")} in 8 s\\)\\)`;
  await sim.waitFor(new RegExp(`^${silent}$`), 60_000);
  // Then it answers. lin's Time.set does nothing (the SDK's modules/base/time/lin), so the clock stays at
  // 1970 and the device says so; on a board, Time.set sets it and the connection goes ahead.
  const answered = await sim.waitFor(/^link: retry in \d+ ms of \d+ \(tls: the clock is not set \(.* answered, the clock did not take it\)\)$/, 60_000);
  await sim.stop();
  assert.ok(responder.requests.length >= 3, `${responder.requests.length} SNTP requests`);
  for (const request of responder.requests) {
    assert.equal(request.length, 48);
    assert.equal(request[0] & 7, 3, "mode 3: a client's request");
  }
  assert.ok(sim.lines.some((line) => / boot 1 /.test(line)));
  console.log(`# clock at 1970: ${responder.requests.length} SNTP requests to ${responder.address} (the first ${responder.ignore} unanswered); ${answered}`);
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
