/*
 * `npm start`: the reference server and simulated devices on wall-clock time, for watching the system
 * run (dashboard, API, server log). Device traces go to stdout; in a terminal, lines typed go to the
 * first device's serial console.
 *
 *   tsx simulator/cli/start.ts [--devices 1] [--port 8080] [--db ./data/thermocast.db]
 *                              [--interval 1] [--batch 3] [--mode always-on|battery] [--url ws://…]
 *                              [--serial /dev/pts/N]
 *
 * The defaults are for watching: a reading every second, a batch every 3, so the first batch is stored
 * a few seconds after start (the server logs each one).
 *
 * With --serial the first device's UART is that terminal device instead (simulator/serial-tty.ts): the
 * console and Improv Wi-Fi over a real tty, for `screen` or a web flasher's serial bridge.
 *
 * With --url the devices talk to a server already running there (register them first; their tokens are
 * "<id>-token"); without it a server starts here and registers them itself.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { startServer, type RunningServer } from "../../server/server";
import { consoleLog } from "../../server/log";
import { RealClock } from "../hardware/clock";
import { Fleet } from "../fleet";
import { SerialTty } from "../serial-tty";

const { values } = parseArgs({
  options: {
    devices: { type: "string", default: "1" },
    port: { type: "string", default: "8080" },
    db: { type: "string", default: "./data/thermocast.db" },
    interval: { type: "string", default: "1" },
    batch: { type: "string", default: "3" },
    mode: { type: "string", default: "always-on" },
    url: { type: "string" },
    serial: { type: "string" },
  },
});

const clock = new RealClock();
const count = Number(values.devices);
const id = (index: number) => `sim-${index + 1}`;
let server: RunningServer | undefined;
let url = values.url;
if (!url) {
  mkdirSync(path.dirname(values.db), { recursive: true });
  server = await startServer({ port: Number(values.port), dbPath: values.db, log: consoleLog({ debug: true }) });
  for (let i = 0; i < count; i++) server.db.registerDevice(id(i), `${id(i)}-token`);
  url = `ws://127.0.0.1:${server.port}`;
  console.log(`dashboard: ${server.url}/`);
  console.log(`log in:    ${server.loginUrl}`);
  console.log(`admin:     ${server.adminToken}   (API: Authorization: Bearer <admin>)`);
  console.log(`API:       ${server.url}/api/devices`);
  console.log(`devices:   ${server.wsUrl}/<id>`);
}

const prefs = path.join(path.dirname(values.db), "sim");
mkdirSync(prefs, { recursive: true });
const fleet = new Fleet({
  clock,
  count,
  echo: true,
  manifest: { console: {} },
  config: (i) => ({
    "device.id": id(i), "device.token": `${id(i)}-token`, "server.url": url, "wifi.ssid": "sim",
    "sample.interval": Number(values.interval), "batch.size": Number(values.batch), mode: values.mode,
  }),
});
// Each device keeps its flash in a file, so settings made at its console survive a restart of the CLI.
fleet.devices.forEach((device, i) => device.hardware.preferences.attach(path.join(prefs, `${id(i)}.json`)));
await fleet.boot();

const first = fleet.devices[0];
if (values.serial && first) {
  new SerialTty(first.hardware.serial, values.serial);
  console.log(`serial:    ${first.id}'s console on ${values.serial}`);
} else if (process.stdin.isTTY && first) {
  first.hardware.serial.onOutput = (bytes) => process.stdout.write(bytes);
  createInterface({ input: process.stdin }).on("line", (line) => first.hardware.serial.type(`${line}\r\n`));
}

process.once("SIGINT", async () => {
  fleet.powerOff();
  await server?.close();
  process.exit(0);
});
