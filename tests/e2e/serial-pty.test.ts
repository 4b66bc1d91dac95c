/*
 * The serial console and Improv Wi-Fi end to end, over a real pseudo-terminal: the unmodified firmware on a
 * simulated board whose UART is wired to a pty (simulator/serial-tty.ts), the test typing at the other end
 * as a person at `screen` or a web flasher would, and the real server receiving what the device then sends.
 * The device runs on virtual time; bytes cross the pty in real time, so waits move virtual time in small
 * steps until the terminal shows what is expected.
 */
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { startServer, type RunningServer } from "../../server/server";
import { SimDevice } from "../../simulator/device";
import { VIRTUAL_EPOCH, VirtualClock } from "../../simulator/hardware/clock";
import { SerialTty } from "../../simulator/serial-tty";
import { error, result, rpc, state, wifiSettings } from "../improv/spec";
import { openPseudoTerminal, type PseudoTerminal } from "../support/pty";

const ID = "lab-7";
const TOKEN = "lab-7-token-5f1d2c";
const SSID = "office";
const PASSWORD = "correct horse";
const MINUTE = 60_000;

let cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

interface Rig {
  clock: VirtualClock;
  server: RunningServer;
  dev: SimDevice;
  terminal: PseudoTerminal;
  bridge: SerialTty;
  /** Moves virtual time until `done` holds; fails with what the terminal shows after `realMs` of real time. */
  until(what: string, done: () => boolean, realMs?: number): Promise<void>;
  /** Types `bytes` into the terminal, `chunk` bytes at a time, each delivered to the device before the next. */
  type(bytes: string | number[], chunk?: number): Promise<void>;
  /** Types a command line and Enter; resolves with what the device answered up to its next prompt. */
  command(line: string): Promise<string>;
}

async function setUp(config: Record<string, unknown>): Promise<Rig> {
  const clock = new VirtualClock();
  cleanup.push(clock.trackAllServers());
  const server = await startServer({ port: 0, dbPath: ":memory:", now: () => clock.now(), log: () => {} });
  cleanup.push(() => server.close());
  server.db.registerDevice(ID, TOKEN, clock.now());
  const dev = new SimDevice({
    clock,
    manifest: { console: {}, chip: "ESP32" }, // as the esp32 platform's manifest config has it
    config: { "device.id": ID, "sample.interval": 60, "batch.size": 5, ...config },
  });
  cleanup.push(() => dev.powerOff());
  dev.hardware.wifi.accessPoint = { ssid: SSID, password: PASSWORD };
  const terminal = await openPseudoTerminal();
  cleanup.push(() => terminal.close());
  const bridge = new SerialTty(dev.hardware.serial, terminal.path);
  cleanup.push(() => bridge.close());

  const until = async (what: string, done: () => boolean, realMs = 15000) => {
    const deadline = Date.now() + realMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the terminal shows:\n${JSON.stringify(terminal.output.toString("latin1").slice(-1500))}`);
      await clock.advance(20);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  const type = async (data: string | number[], chunk = 1 << 16) => {
    const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
    for (let at = 0; at < bytes.length; at += chunk) {
      const piece = bytes.subarray(at, at + chunk);
      const expected = bridge.received + piece.length;
      terminal.write(piece);
      await until(`the device to receive byte ${at + piece.length} of ${bytes.length}`, () => bridge.received >= expected);
    }
  };
  const command = async (line: string) => {
    terminal.clear();
    await type(`${line}\r`);
    // The answer ends with a fresh prompt on its own line.
    await until(`an answer to "${line}"`, () => terminal.output.toString("utf8").endsWith("\r\n> "));
    return terminal.output.toString("utf8");
  };
  return { clock, server, dev, terminal, bridge, until, type, command };
}

function stored(server: RunningServer) {
  return server.db.readings(ID, 0, VIRTUAL_EPOCH * 2).map((r) => [r.t, r.centi]);
}

test("typed at a real terminal: Wi-Fi, server URL and token set, saved, rebooted; the device streams there", async () => {
  // Freshly flashed: nothing but the device id.
  const r = await setUp({});
  await r.dev.boot();
  await r.until("the console's prompt", () => r.terminal.output.toString().includes("> "));
  assert.match(await r.command("status"), /link: .*last error: (server\.url|wifi\.ssid) is not set/);

  assert.match(await r.command(`set wifi.ssid ${SSID}`), /staged wifi\.ssid = office \(save to apply\)/);
  const password = await r.command(`set wifi.password ${PASSWORD}`);
  assert.ok(password.startsWith(`set wifi.password ${"*".repeat(PASSWORD.length)}\r\n`), JSON.stringify(password));
  assert.match(await r.command("set server.url http://127.0.0.1"), /server\.url must start with ws:\/\/ or wss:\/\//);
  await r.command(`set server.url ${r.server.wsUrl.replace(/\/v1\/device$/, "")}`);
  await r.command(`set device.token ${TOKEN}`);
  assert.match(await r.command("save"), /saved: wifi\.ssid, wifi\.password, server\.url, device\.token/);

  const status = await r.command("status");
  assert.match(status, /\r\n {2}wifi\.ssid = office\r\n/);
  assert.match(status, /\r\n {2}wifi\.password = \*\*\*\*\r\n/);
  assert.match(status, /\r\n {2}device\.token = \*\*\*\*\r\n/);
  assert.match(status, new RegExp(`\\r\\n {2}server\\.url = ws://127\\.0\\.0\\.1:${r.server.port}\\r\\n`));

  r.terminal.clear();
  await r.type("reboot\r");
  await r.until("the second boot", () => r.dev.hardware.boots === 2);
  const rebootedAt = r.clock.now();
  await r.clock.advance(30 * MINUTE);

  // Every reading of the second boot that has gone out is stored, as sampled.
  const samples = r.dev.samples.filter((s) => s.at >= rebootedAt);
  const rows = stored(r.server);
  assert.ok(rows.length >= 30, `${rows.length} readings stored`);
  assert.deepEqual(rows, samples.slice(0, rows.length).map((s) => [s.at, s.value]));
  assert.equal(r.server.db.device(ID)?.boot, 2);
  // The secrets never crossed the terminal, not even as echo.
  const everything = Buffer.from(r.dev.hardware.serial.written).toString("utf8");
  assert.ok(!everything.includes(PASSWORD) && !everything.includes(TOKEN));
  assert.equal(r.dev.crash, undefined);
});

test("Improv Wi-Fi over a real terminal, byte by byte: state, info, scan, bad checksum, unknown RPC, provisioning", async () => {
  const r = await setUp({ "device.token": TOKEN });
  // The server URL is known (as a web flasher's firmware would have it); Wi-Fi is not.
  await r.dev.boot();
  await r.until("the console's prompt", () => r.terminal.output.toString().includes("> "));
  const url = `http://127.0.0.1:${r.server.port}/`;
  await r.command(`set server.url ws://127.0.0.1:${r.server.port}`);
  await r.command("save");

  /** Sends an RPC a byte at a time; resolves when `expected` has come back, and checks it byte for byte. */
  const exchange = async (request: number[], expected: number[]) => {
    r.terminal.clear();
    await r.type(request, 1);
    await r.until(`${expected.length} bytes of reply`, () => r.terminal.output.length >= expected.length);
    await r.clock.advance(100);
    // The reply starts on a new line after console output; that line break is not part of the packet.
    const reply = [...r.terminal.output];
    const at = reply[0] === 0x0d && reply[1] === 0x0a ? 2 : 0;
    assert.deepEqual(reply.slice(at), expected);
  };

  await exchange(rpc(0x02), [...error(0x00), ...state(0x02)]); // no Wi-Fi yet: Ready (authorized)
  await exchange(rpc(0x03), [...error(0x00), ...result(0x03, ["thermocast", "0.1.0", "ESP32", ID])]);

  const bad = rpc(0x01, wifiSettings(SSID, PASSWORD));
  bad[bad.length - 2] ^= 0x5a;
  await exchange(bad, error(0x01));
  await exchange(rpc(0x09), error(0x02));

  // Scan: one result per network (name, RSSI, secured), then an empty result.
  r.terminal.clear();
  await r.type(rpc(0x04), 1);
  const scanned = [...error(0x00), ...result(0x04, [SSID, "-60", "YES"]), ...result(0x04, [])];
  await r.until("the scan's results", () => r.terminal.output.length >= scanned.length, 20000);
  assert.deepEqual([...r.terminal.output], scanned);

  // A password the access point refuses: "unable to connect", back to Ready, nothing stored.
  r.terminal.clear();
  await r.type(rpc(0x01, wifiSettings(SSID, "wrong password")), 1);
  const refused = [...error(0x00), ...state(0x03), ...error(0x03), ...state(0x02)];
  await r.until("the refusal", () => r.terminal.output.length >= refused.length, 30000);
  assert.deepEqual([...r.terminal.output], refused);
  assert.ok(!JSON.stringify(r.dev.hardware.preferences).includes(`"ssid"`), "no Wi-Fi settings stored");

  // The right one: Provisioning, Provisioned, and the URL the browser may open.
  r.terminal.clear();
  await r.type(rpc(0x01, wifiSettings(SSID, PASSWORD)), 1);
  const provisioned = [...error(0x00), ...state(0x03), ...state(0x04), ...result(0x01, [url])];
  await r.until("provisioning", () => r.terminal.output.length >= provisioned.length, 30000);
  assert.deepEqual([...r.terminal.output], provisioned);

  // Provisioned means streaming: the readings reach the server without a reboot.
  await r.clock.advance(10 * MINUTE);
  assert.ok(stored(r.server).length >= 5, `${stored(r.server).length} readings stored`);
  assert.equal(r.dev.hardware.boots, 1);
  assert.equal(r.dev.crash, undefined);
});

test("random bytes and over-long lines on the terminal neither crash the firmware nor change its configuration", async () => {
  const r = await setUp({ "device.token": TOKEN, "wifi.ssid": SSID, "wifi.password": PASSWORD });
  await r.dev.boot();
  // Point it at the server through the console, so there is a saved configuration to keep.
  await r.until("the console's prompt", () => r.terminal.output.toString().includes("> "));
  await r.command(`set server.url ws://127.0.0.1:${r.server.port}`);
  await r.command("set sample.interval 30");
  await r.command("save");
  const saved = JSON.stringify(r.dev.hardware.preferences);
  await r.clock.advance(5 * MINUTE);
  assert.ok(stored(r.server).length >= 5, `${stored(r.server).length} readings stored`);

  // Seeded noise (xorshift32), no Enter-free guarantee: it may end lines, erase, escape, start IMPROV.
  let x = 0x2545f491;
  const noise = Array.from({ length: 32 * 1024 }, () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return x & 0xff;
  });
  await r.type(noise, 512);
  await r.type(`${"a".repeat(5000)}\r${"set sample.interval 5".padEnd(4000, "5")}\r`, 700);
  await r.clock.advance(2000); // any half Improv packet is abandoned

  // The console still answers, nothing was saved, and the device kept streaming.
  // Ctrl-C: abandon whatever half line the noise left. Its answer ends the output in order, so once it is
  // here nothing of the noise's echo can still arrive inside the next command's answer.
  r.terminal.clear();
  await r.type("\x03");
  await r.until("the prompt after Ctrl-C", () => r.terminal.output.toString("utf8").endsWith("^C\r\n> "));
  const status = await r.command("status");
  assert.match(status, /\r\n {2}sample\.interval = 30\r\n/);
  assert.equal(JSON.stringify(r.dev.hardware.preferences), saved);
  const before = stored(r.server).length;
  await r.clock.advance(10 * MINUTE);
  assert.ok(stored(r.server).length >= before + 15, `${stored(r.server).length - before} more readings stored`);
  assert.equal(r.dev.hardware.boots, 1);
  assert.equal(r.dev.crash, undefined);
});
