/*
 * The guard: device code (main.ts and everything under modules/, sensors/, config/) uses nothing XS 13.3
 * lacks, and the XS engine itself parses, links and runs the firmware's composition root on stubs.
 * Then proof that the guard catches an offender (tests/xs/fixtures/offender/report.ts) and syntax XS
 * cannot parse.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { bundleFirmware, deviceSourceFiles, firmwareEntry } from "./firmware";
import { describeFindings, scanForGaps, XS_LACKS } from "./xs-gaps";
import { XsException, XsWorker } from "./worker";

const workers: XsWorker[] = [];
function worker(): XsWorker {
  const w = new XsWorker({ meteringLimit: 1e9, timeout: 20_000 });
  workers.push(w);
  return w;
}
after(async () => {
  await Promise.all(workers.map((w) => w.close().catch(() => w.kill())));
});

/** Evaluates `expression` (a string value) in the worker and returns it. */
async function text(w: XsWorker, expression: string): Promise<string> {
  const reply = await w.evaluate(
    `(() => { const s = String(${expression}); const b = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0x7f; return b.buffer; })()`,
  );
  return reply.text;
}

test("every built-in on the guard's list is really missing in XS 13.3", async () => {
  const w = worker();
  const protos = "[Array.prototype, String.prototype, Set.prototype, Map.prototype, DataView.prototype, ArrayBuffer.prototype, " +
    "Object.getPrototypeOf(Int8Array.prototype), Uint8Array.prototype, Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()))]";
  const checks = XS_LACKS.map((gap) => {
    if (gap.kind === "method") return `${protos}.some((p) => ${JSON.stringify(gap.name)} in p)`;
    if (gap.kind === "static") {
      const [owner, name] = gap.name.split(".");
      return `(typeof ${owner} !== "undefined" && ${JSON.stringify(name)} in ${owner})`;
    }
    return `(${JSON.stringify(gap.name)} in globalThis)`;
  });
  const present = JSON.parse(await text(w, `JSON.stringify([${checks.join(",")}])`)) as boolean[];
  const stale = XS_LACKS.filter((_, i) => present[i]).map((gap) => gap.name);
  assert.deepEqual(stale, [], `XS has these now; take them off XS_LACKS in tests/xs/xs-gaps.ts: ${stale.join(", ")}`);
});

test("device code uses no built-in XS lacks and no host global a board lacks", async () => {
  const files = deviceSourceFiles();
  assert.ok(files.includes("main.ts") && files.length > 5, `device sources: ${files.join(", ")}`);
  const { findings, inputs } = await scanForGaps(firmwareEntry(files));
  for (const file of files) assert.ok(inputs.includes(file), `${file} was not scanned`);
  assert.equal(findings.length, 0, `device code uses what XS on a board does not have:\n${describeFindings(findings)}`);
});

test("the firmware parses and links in XS, and main() runs on Moddable stubs", async () => {
  const w = worker();
  const code = await bundleFirmware();
  await w.evaluate(code); // parses every device module and runs their top-level code
  await w.evaluate("__firmwareMain()");
  const fired = Number(await text(w, "__moddableStubs.runTimers(100)"));
  assert.ok(fired > 0, "main() armed no timer");
  assert.equal(await text(w, '__moddableStubs.preferences.get("thermocast.boots")'), "1");
});

test("the guard catches built-ins XS lacks in an offender, and ignores the decoys", async () => {
  const { findings } = await scanForGaps(firmwareEntry(["tests/xs/fixtures/offender/report.ts"]));
  assert.deepEqual(findings.map((f) => f.name).sort(), ["Object.groupBy", "queueMicrotask", "structuredClone", "toSorted"]);
  const where = Object.fromEntries(findings.map((f) => [f.name, f.where]));
  const at = (line: number) => [`tests/xs/fixtures/offender/report.ts:${line}`];
  assert.deepEqual(where, { toSorted: at(7), structuredClone: at(8), "Object.groupBy": at(9), queueMicrotask: at(10) });
  assert.match(describeFindings(findings), /report\.ts:8: structuredClone — /);
});

test("the guard catches syntax XS cannot parse (a regex with the v flag)", async () => {
  const w = worker();
  const code = await bundleFirmware("export const letters = /[\\p{L}--[a-z]]/v;\n(globalThis as any).letters = letters;");
  await assert.rejects(w.evaluate(code), (error: unknown) => error instanceof XsException && /SyntaxError/.test(error.message));
});
