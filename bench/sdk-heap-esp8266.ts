/*
 * `npm run bench:heap:esp8266`: the firmware in mcsim inside a fixed XS heap sized as the ESP8266's, for N
 * readings, with a console session and a configuration push on the way. XS aborts with "memory full" when
 * a fixed heap runs out (incremental sizes 0: xs/sources/xsMemory.c), so the run itself is the check.
 *
 * How the ESP8266's heap is scaled to mcsim: the esp build gives XS one static block of 32 768 bytes
 * (build/devices/esp/manifest.json, `creation.static`) holding the stack (256 slots in the SDK's esp build,
 * 288 in thermocast's: `creation.stack` in manifest_firmware.json, docs/memory.md), the slots and the
 * chunks. 32 768 − 288 × 16 (stack) = 28 160 bytes, split as 9 216 bytes of chunks and
 * (28 160 − 9 216) / 16 = 1 184 slots, by default, the split measured to fit (HEAP_CHUNK_BYTES moves the
 * split; the manifest is written here, over tests/sdk/heap/manifest.json, with `creation` fixed). The bench
 * reads the mode from the built mc.so's ELF class (byte 4: 1 = 32-bit, 2 = 64-bit) and says it in the verdict:
 * - 32-bit mcsim (an i386 build of the lin app, docs/memory.md "In a 32-bit simulator"): a slot is 16 bytes
 *   and a pointer 4, as on the ESP8266's Xtensa, so slots and chunks are the board's sizes: the figures are
 *   the board's, not scaled.
 * - 64-bit mcsim: a slot is 32 bytes, and what is scarce on the board is the *number* of slots, so the
 *   emulation fixes the counts, not the bytes (peak slot bytes / 32 = slots, × 16 on the board). Chunks hold
 *   the same bytes on both but for the slot arrays inside them (array elements) and pointers, which are
 *   larger on 64-bit: so the chunk half is stricter here than on the board.
 * The board shares the block between slots and chunks as needed; the emulation splits it once, which is also
 * stricter: in the SDK's xs/platforms/mc/xsHosts.c (fxAllocateChunks, fxAllocateSlots, with `creation.static`)
 * chunks grow up from one end of the block and slots down from the other, and a slot allocation that finds no
 * room compacts the chunks and takes what that frees. So a run that passes at ANY split with
 * chunks + 16 × slots ≤ 28 160 bytes fits the board's block, less the board's growth steps (slots 64 at a time
 * when a collection leaves fewer than 64 free, chunks in 512-byte steps: `incremental` in
 * build/devices/esp/manifest.json): about 1.5 KB should be left over.
 *
 *   HEAP_READINGS=1000 [HEAP_CHUNK_BYTES=9216] [HEAP_SLOTS=1184] [HEAP_TRACE=file] npm run bench:heap:esp8266
 * HEAP_STACK (default 288, thermocast's esp build's) sets the stack's slots; the block left for slots and
 * chunks shrinks by 16 bytes a stack slot.
 * HEAP_CONSOLE_AT and HEAP_PUSH_AT (default 200 and 400) move the console session and the push, for short runs.
 * HEAP_DEBUG=1 adds the SDK's `debug` module (Debug.gc()) for attribution traces of the garbage-collected heap.
 */
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { startServer } from "../server/server";
import { registerDevice } from "../server/cli";
import { MODDABLE, startSimulator } from "../tests/sdk/mcsim";
import { openPseudoTerminal } from "../tests/support/pty";

const READINGS = Number(process.env.HEAP_READINGS ?? 1000);
/** The reading after which the console is used, and the one after which the configuration is pushed. */
const CONSOLE_AT = Number(process.env.HEAP_CONSOLE_AT ?? 200);
const PUSH_AT = Number(process.env.HEAP_PUSH_AT ?? 400);
/** Stack slots: thermocast's esp build's 288 (`creation.stack`), or HEAP_STACK to try another. */
const STACK = Number(process.env.HEAP_STACK ?? 288);
/** The esp build's XS block less its stack of 16-byte slots. */
const BLOCK_BYTES = 32768 - STACK * 16;
const CHUNK_BYTES = Number(process.env.HEAP_CHUNK_BYTES ?? 9216);
const SLOTS = Number(process.env.HEAP_SLOTS ?? Math.floor((BLOCK_BYTES - CHUNK_BYTES) / 16));
/** A file to keep the firmware's whole trace in (instrumentation lines included), for attribution. */
const TRACE = process.env.HEAP_TRACE;
const DEVICE = "heap-test";
const TOKEN = "heap-test-token-0001";
const ADMIN = "heap-bench-admin-token-0001";

if (!MODDABLE) {
  console.error("MODDABLE is not set: install the Moddable SDK (README) and export MODDABLE to measure the heap in mcsim.");
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), "thermocast-heap-esp8266-"));
const server = await startServer({ port: 0, dbPath: join(work, "db.sqlite"), log: () => {}, adminToken: ADMIN });
registerDevice(server.db, DEVICE, TOKEN);
const terminal = await openPseudoTerminal();
const out = join(work, "build");
mkdirSync(out);
const app = join(work, "heap-esp8266");
mkdirSync(app);
writeFileSync(join(app, "manifest.json"), JSON.stringify({
  include: [join(process.cwd(), "tests", "sdk", "heap", "manifest.json"), ...(process.env.HEAP_DEBUG ? ["$(MODULES)/base/debug/manifest.json"] : [])],
  platforms: { lin: {
    creation: { chunk: { initial: CHUNK_BYTES, incremental: 0 }, heap: { initial: SLOTS, incremental: 0 }, stack: STACK },
    // Preferences of this run only: runs side by side (and other SDK tests) do not share a file.
    config: { file: { root: `${work}/` } },
  } },
}, null, 1));
const bin = join(MODDABLE, "build", "bin", "lin", "release");
execFileSync("mcconfig", ["-i", "-m", "-p", "lin", "-o", out, "manifest.json",
  `server.url=ws://127.0.0.1:${server.port}`, `device.id=${DEVICE}`, `device.token=${TOKEN}`, `console=${terminal.path}`], {
  cwd: app,
  env: { ...process.env, PATH: `${bin}:${join(process.cwd(), "node_modules", ".bin")}:${process.env.PATH}` },
  stdio: ["ignore", "ignore", "inherit"],
});
const so = join(out, "bin", "lin", "mc", "instrument", "heap-esp8266", "mc.so");
/** The ELF class of the app mcsim runs (byte 4 of the file: 1 = 32-bit, 2 = 64-bit) gives XS's slot size. */
const elfHeader = Buffer.alloc(5);
const soFile = openSync(so, "r");
readSync(soFile, elfHeader, 0, 5, 0);
closeSync(soFile);
const SLOT_BYTES = elfHeader[4] === 1 ? 16 : 32;
const MODE = SLOT_BYTES === 16
  ? "32-bit mcsim: 16-byte slots and 4-byte pointers as on the board, figures not scaled"
  : "64-bit mcsim: 32-byte slots, slot counts kept (bytes / 32), chunks stricter than the board";
const sim = startSimulator(so, join(work, "xdg"));

let keys: string[] = [];
let readings = 0;
let peakSlots = 0;
let peakChunks = 0;
let peakStack = 0;
const aborts: string[] = [];
/** The trace just before an abort: what was running. */
const recent: string[] = [];
const steps: string[] = [];
const until = async (what: string, check: () => boolean, ms = 60_000) => {
  for (const end = Date.now() + ms; !check();) {
    if (Date.now() > end || aborts.length) throw new Error(`${what}: not seen (${aborts.join("; ")})`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
const command = async (line: string, answer: RegExp) => {
  terminal.clear();
  terminal.write(`${line}\r`);
  await until(`the console's answer to "${line}"`, () => answer.test(terminal.output.toString("utf8")));
  steps.push(`console: ${line}`);
};

let partial = "";
sim.process.stdout!.on("data", (chunk: Buffer) => {
  partial += chunk.toString();
  let newline;
  while ((newline = partial.indexOf("\n")) >= 0) {
    const line = partial.slice(0, newline);
    partial = partial.slice(newline + 1);
    if (TRACE) appendFileSync(TRACE, `${line}\n`);
    if (/memory full|not enough memory|allocation: failed|XS abort/i.test(line)) {
      if (!aborts.length) console.log(`trace before the abort:\n  ${recent.join("\n  ")}`);
      aborts.push(line);
    }
    if (!line.startsWith("instruments")) {
      recent.push(line);
      if (recent.length > 12) recent.shift();
    }
    if (line.startsWith("instruments key: ")) keys = line.slice(17).split(",");
    else if (line.startsWith("instruments: ") && keys.length) {
      const values = line.slice(13).split(",").map(Number);
      peakSlots = Math.max(peakSlots, values[keys.indexOf("Slot used")]);
      peakChunks = Math.max(peakChunks, values[keys.indexOf("Chunk used")]);
      peakStack = Math.max(peakStack, values[keys.indexOf("Stack used")]);
    }
    const heap = /^heap: \d+ slot bytes, \d+ chunk bytes after (\d+) readings/.exec(line);
    if (heap) readings = Number(heap[1]);
  }
});
sim.process.stderr!.on("data", (chunk: Buffer) => {
  for (const line of chunk.toString().split("\n")) if (/memory full|allocation: failed|XS abort/i.test(line)) aborts.push(line);
});

let failure: Error | undefined;
try {
  console.log(`${MODE}; XS heap fixed at ${SLOTS} slots + ${CHUNK_BYTES} B of chunks, stack ${STACK} slots (the ESP8266's 32 KB block, see the header): ${READINGS} readings, a reading a second …`);
  await until("the console's banner", () => terminal.output.toString().includes("type help"), 120_000);
  await until(`reading ${CONSOLE_AT}`, () => readings >= CONSOLE_AT, 600_000);
  await command("status", /\r\n> $/);
  await command("set batch.size 7", /staged batch\.size = 7/);
  await command("save", /saved: batch\.size/);
  await command("get batch.size", /batch\.size = 7\r\n/);
  await until(`reading ${PUSH_AT}`, () => readings >= PUSH_AT, 600_000);
  const pushed = await fetch(`${server.url}/api/devices/${DEVICE}/config`, {
    method: "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ set: { "batch.size": 5, "batch.latency": 30 } }),
  });
  if (pushed.status !== 202) throw new Error(`config push refused: HTTP ${pushed.status}`);
  await until("the device's answer to the push", () => server.db.lastConfigAnswer(DEVICE)?.ok === 1);
  steps.push("config push applied");
  await until(`reading ${READINGS}`, () => readings >= READINGS, (READINGS + 120) * 1000 * 2);
} catch (e) {
  failure = e as Error;
}
await sim.stop();
const stored = server.db.readings(DEVICE, 0, Date.now() + 86_400_000).length;
await server.close();
await terminal.close();
rmSync(work, { recursive: true, force: true });

const slotsUsed = peakSlots / SLOT_BYTES;
console.log(`
XS heap fixed as on ESP8266 (${MODE}):
  readings sampled:        ${readings} (${stored} stored on the server)
  steps:                   ${steps.join(", ") || "none"}
  peak slots in use:       ${slotsUsed} of ${SLOTS} (${(slotsUsed / SLOTS).toFixed(2)}; ${slotsUsed * 16} B on the board)
  peak chunk bytes in use: ${peakChunks} of ${CHUNK_BYTES} (${(peakChunks / CHUNK_BYTES).toFixed(2)})
  peak stack:              ${peakStack / SLOT_BYTES} of ${STACK} slots (XS's stack peak at function entry, kept per second)
  memory full / aborts:    ${aborts.length ? aborts.join("; ") : "none"}
  on the board this split is ${SLOTS} × 16 + ${CHUNK_BYTES} = ${SLOTS * 16 + CHUNK_BYTES} B of the ${BLOCK_BYTES} B block (${((SLOTS * 16 + CHUNK_BYTES) / BLOCK_BYTES).toFixed(2)})`);
const boardBytes = SLOTS * 16 + CHUNK_BYTES;
const share = `${boardBytes} B on the board, ${((boardBytes / BLOCK_BYTES) * 100).toFixed(0)}% of ${BLOCK_BYTES}, the block less a stack of ${STACK} slots`;
if (failure || aborts.length) console.log(`  does not fit at this split (${share}): ${failure?.message ?? aborts.join("; ")}`);
else if (boardBytes <= BLOCK_BYTES) console.log(`  fits the ESP8266 block: ${readings} readings, console, push; chunks ${CHUNK_BYTES} B + slots ${SLOTS} (${share}; ${SLOT_BYTES === 16 ? "32-bit, exact" : "64-bit, scaled"})`);
else console.log(`  passes, but this split is larger than the block (${share}): no fit shown`);
process.exit(failure || aborts.length ? 1 : 0);
