/*
 * The boards' builds, through the XS side of mcconfig: TypeScript (tsc), xsc for every module, and the XS
 * linker (xsl), which resolves every import and preloads what the platform preloads. That is where a
 * missing module ("module "wifi" not found") or mutable state in a preloaded module ("not frozen") shows.
 * The C side needs the ESP-IDF (v6.0 for SDK 8.2.3) and the ESP8266 toolchain, which cannot be installed
 * here; so mcconfig is given stand-in folders for them (made below, nothing of the vendors' in them) and
 * the build stops at the XS linker's output, `mc.xs.c`. The boards' native C is exercised separately, on
 * the desktop (board-c.test.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildThroughLink, makeToolchainStandIns, SKIP_REASON } from "./mcsim";

if (SKIP_REASON) console.log(`# ${SKIP_REASON}`);

/**
 * The SDK's own mutable state in the TLS client, preloaded by its manifest (crypt/tls_common.json): the
 * session cache (a session resumes across connections) and the certificates registered for every session.
 */
const SDK_MUTABLE = /ssl\/cache: default: not frozen|ssl\/cert: default\.prototype\.getKey\(\) globalCerts: not frozen/;

// Each platform of manifest.json that is a board, with the folder mcconfig builds it in.
const BOARDS = ["esp32", "esp/nodemcu", "esp32/moddable_two"];

for (const platform of BOARDS) {
  test(`mcconfig -m -p ${platform} gets through tsc, xsc and xsl with no error of ours`, { skip: SKIP_REASON, timeout: 300000 }, async () => {
    const work = mkdtempSync(join(tmpdir(), "thermocast-board-"));
    try {
      const standIns = makeToolchainStandIns(join(work, "toolchains"));
      const { output, ok, linked: xs } = await buildThroughLink(join(process.cwd(), "manifest.json"), platform, join(work, "build"), standIns);
      const ours = output.split("\n").filter((line) => /not found|not frozen|error/i.test(line) && !/^# /.test(line) && !SDK_MUTABLE.test(line));
      assert.deepEqual(ours, [], `mcconfig -p ${platform} reported:\n${output.slice(-3000)}`);
      assert.ok(ok, `the XS link finished:\n${output.slice(-3000)}`);
      const linked = /### (\d+) instances, (\d+) keys/.exec(output);
      assert.ok(linked, `xsl printed its summary:\n${output.slice(-2000)}`);
      // TLS (wss://) where the platform maps host/tls to the SDK's client: esp32, not the ESP8266 (docs/tls.md).
      const tls = /"ssl\/session"|ssl\/session\.xsb/.test(readFileSync(xs, "latin1"));
      assert.equal(tls, !platform.startsWith("esp/"), `TLS ${tls ? "linked" : "absent"} on ${platform}`);
      console.log(`# ${platform}: xsl linked ${linked[1]} instances, ${linked[2]} keys, TLS ${tls ? "linked" : "absent"}; no module of ours missing or unfrozen`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}
