/*
 * `npm run bench:heap`: the XS heap of the firmware built by the user's Moddable SDK ($MODDABLE), in mcsim,
 * always-on, streaming to the reference server started here, for N readings (a reading a second, so
 * 1 000 readings take about 17 minutes). An instrumented release build (`mcconfig -i -m -p lin`) prints
 * Moddable's instrumentation every second; this reads the slot and chunk heap from it. The build is
 * tests/sdk/heap/manifest.json, which preloads main and the adapter as the boards do (the desktop build
 * does not: see docs/memory.md), so the heap holds what a board's would.
 *
 *   HEAP_READINGS=1000 npm run bench:heap
 *   HEAP_TLS=1 HEAP_READINGS=200 npm run bench:heap     # over wss://, with a CA made here (docs/tls.md)
 *
 * Figures are 64-bit (mcsim's slots are 32 bytes, a board's 16); the budget (docs/memory.md) is checked on
 * the 32-bit estimate: half the slots plus the chunks.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../server/server";
import { registerDevice } from "../server/cli";
import { MODDABLE, startSimulator } from "../tests/sdk/mcsim";
import { makePki } from "../tests/sdk/pki";
import { execFileSync } from "node:child_process";

const READINGS = Number(process.env.HEAP_READINGS ?? 1000);
/** Over wss:// (the SDK's TLS client, a session held open): what TLS adds on esp32. */
const TLS = process.env.HEAP_TLS === "1";
const BUDGET_BYTES = 24 * 1024;
const DEVICE = "heap-test";
const TOKEN = "heap-test-token-0001";

if (!MODDABLE) {
  console.error("MODDABLE is not set: install the Moddable SDK (README) and export MODDABLE to measure the heap in mcsim.");
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), "thermocast-heap-"));
const pki = TLS ? makePki(work) : undefined;
const server = await startServer({ port: 0, dbPath: join(work, "db.sqlite"), log: () => {}, tls: pki?.trusted });
registerDevice(server.db, DEVICE, TOKEN);
const out = join(work, "build");
mkdirSync(out);
const bin = join(MODDABLE, "build", "bin", "lin", "release");
// tests/sdk/heap maps host/tls to none.ts, as the ESP8266 build does; over wss:// the app maps it back to
// the TLS module, as esp32 does.
const app = TLS ? join(work, "heap-tls") : join(process.cwd(), "tests", "sdk", "heap");
if (TLS) {
  mkdirSync(app);
  writeFileSync(join(app, "manifest.json"), JSON.stringify({
    include: [join(process.cwd(), "tests", "sdk", "heap", "manifest.json")],
    platforms: { lin: { modules: { "host/tls": join(process.cwd(), "modules", "host", "tls", "secure") } } },
  }, null, 1));
}
execFileSync("mcconfig", ["-i", "-m", "-p", "lin", "-o", out, "manifest.json",
  `server.url=${TLS ? "wss" : "ws"}://127.0.0.1:${server.port}`, `device.id=${DEVICE}`, `device.token=${TOKEN}`], {
  cwd: app,
  env: { ...process.env, ...(pki ? { THERMOCAST_TLS: pki.caFolder } : {}), PATH: `${bin}:${join(process.cwd(), "node_modules", ".bin")}:${process.env.PATH}` },
  stdio: ["ignore", "ignore", "inherit"],
});
const sim = startSimulator(join(out, "bin", "lin", "mc", "instrument", TLS ? "heap-tls" : "heap", "mc.so"), join(work, "xdg"));

/** One instrumentation sample a second: [slot bytes used, chunk bytes used, collections in that second]. */
const samples: { slots: number; chunks: number; readings: number }[] = [];
let keys: string[] = [];
let readings = 0;
let booted = false;
let atTrace: string | undefined;
const done = new Promise<void>((resolve) => {
  const onLine = (line: string) => {
    if (line.startsWith("instruments key: ")) keys = line.slice(17).split(",");
    else if (line.startsWith("thermocast ")) booted = true; // samples before main() ran are the bare VM's
    else if (line.startsWith("instruments: ") && keys.length && booted) {
      const values = line.slice(13).split(",").map(Number);
      samples.push({ slots: values[keys.indexOf("Slot used")], chunks: values[keys.indexOf("Chunk used")], readings });
    } else {
      const heap = /^heap: (\d+) slot bytes, (\d+) chunk bytes after (\d+) readings/.exec(line);
      if (heap) {
        readings = Number(heap[3]);
        process.stdout.write(`  ${line}\n`);
        if (readings >= READINGS) {
          atTrace = line;
          resolve();
        }
      }
    }
  };
  let partial = "";
  const feed = (chunk: Buffer) => {
    partial += chunk.toString();
    let newline;
    while ((newline = partial.indexOf("\n")) >= 0) {
      onLine(partial.slice(0, newline));
      partial = partial.slice(newline + 1);
    }
  };
  sim.process.stdout!.on("data", feed);
});
console.log(`mcsim: ${READINGS} readings, a reading a second, batches of 5, over ${TLS ? "wss://" : "ws://"} …`);
await done;
await sim.stop();
const stored = server.db.readings(DEVICE, 0, Date.now() + 86_400_000).length;
await server.close();
rmSync(work, { recursive: true, force: true });

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const boot = samples[0];
// Per 100-reading window, the lowest figures (just after a collection) and the highest (just before one).
const windows: { from: number; slots: number[]; chunks: number[] }[] = [];
for (const s of samples) {
  if (s.readings < 100) continue;
  const w = Math.floor(s.readings / 100);
  (windows[w] ??= { from: w * 100, slots: [], chunks: [] }).slots.push(s.slots);
  windows[w].chunks.push(s.chunks);
}
const floors = windows.filter(Boolean).map((w) => ({ from: w.from, slots: Math.min(...w.slots), chunks: Math.min(...w.chunks), peak: Math.max(...w.slots) + Math.max(...w.chunks) }));
const worst = floors.reduce((a, b) => (b.slots / 2 + b.chunks > a.slots / 2 + a.chunks ? b : a));
const estimate = worst.slots / 2 + worst.chunks;
console.log(`
XS heap in mcsim (64-bit), always-on, over ${TLS ? "wss://" : "ws://"}, ${READINGS} readings (${stored} stored on the server)
  at boot:                     slots ${boot.slots} B, chunks ${boot.chunks} B
  at reading ${READINGS} (trace):     ${atTrace?.replace(/^heap: /, "")}
  lowest per 100 readings:     slots ${Math.min(...floors.map((f) => f.slots))}–${Math.max(...floors.map((f) => f.slots))} B, chunks ${Math.min(...floors.map((f) => f.chunks))}–${Math.max(...floors.map((f) => f.chunks))} B
  first vs last window floor:  ${floors[0].slots + floors[0].chunks} B → ${floors.at(-1)!.slots + floors.at(-1)!.chunks} B (a leak would climb)
  highest (before a collection): ${Math.max(...floors.map((f) => f.peak))} B
  32-bit live heap, worst window: ${kb(estimate)} = ${(estimate / BUDGET_BYTES).toFixed(2)} of the ${kb(BUDGET_BYTES)} budget ${estimate <= BUDGET_BYTES ? "(within)" : "(OVER)"}`);
process.exit(estimate <= BUDGET_BYTES ? 0 : 1);
