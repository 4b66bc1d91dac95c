/*
 * The boards' own C (modules/host/native/{esp32,esp}/*.c) running in mcsim: built into a `lin` app with
 * small stand-ins for the ESP-IDF and ESP8266 calls they make (tests/sdk/boards/), which keep the chip's
 * RTC memory and reset cause in files. In battery mode each mcsim run is one wake: the stand-in's deep
 * sleep saves the RTC memory and ends the process, and this harness starts the next run when the sleep is
 * over, as the chip's timer would. The server stores every reading exactly once, dated within the sleep's
 * accuracy, all of boot 1: each wake resumed from the retained image the C handed over.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../../server/server";
import { registerDevice } from "../../server/cli";
import { buildForSimulator, startSimulator, SKIP_REASON } from "./mcsim";

if (SKIP_REASON) console.log(`# ${SKIP_REASON}`);

const DEVICE = "board-c";
const TOKEN = "board-c-token-0123456789";
const MIN_WAKES = 10;
const MAX_WAKES = 24;
/** The board manifests' sample.interval: long enough that a wake that connects ends before the next slot. */
const INTERVAL_MS = 4000;

interface Reading { idx: number; boot: number; t: number }

for (const chip of ["esp32", "esp"]) {
  test(`battery mode in mcsim through the ${chip} C: every wake a new process, every reading stored once with its date`, { skip: SKIP_REASON, timeout: 600000 }, async (t) => {
    const work = mkdtempSync(join(tmpdir(), `thermocast-board-c-${chip}-`));
    const server = await startServer({ port: 0, dbPath: join(work, "db.sqlite"), log: () => {} });
    try {
      registerDevice(server.db, DEVICE, TOKEN);
      const so = await buildForSimulator(join(process.cwd(), "tests", "sdk", "boards", chip, "manifest.json"), join(work, "build"), {
        "server.url": `ws://127.0.0.1:${server.port}`, "device.id": DEVICE, "device.token": TOKEN,
        "sample.interval": INTERVAL_MS / 1000,
      });
      rmSync(`/tmp/thermocast-board-${chip}-modpreferences.json`, { force: true }); // flash: fresh
      const board = join(work, "board");
      mkdirSync(board);
      const readings = () => server.db.sqlite.prepare("SELECT idx, boot, t FROM readings WHERE device_id = ? ORDER BY boot, idx").all(DEVICE) as Reading[];

      // When each wake began, by the wall clock: reading i is sampled in wake i (one slot a wake, none skipped).
      const wokeAt: number[] = [];
      let stored: Reading[] = [];
      for (let wake = 0; wake < MAX_WAKES; wake++) {
        wokeAt.push(Date.now());
        const sim = startSimulator(so, join(work, "xdg"), { THERMOCAST_BOARD_DIR: board });
        const code = await Promise.race([sim.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 30000))]);
        if (code === "hung") await sim.stop();
        const said = sim.lines.join("\n");
        assert.ok(!said.includes("XS abort"), `wake ${wake}: XS aborted:\n${said}`);
        assert.notEqual(code, "hung", `wake ${wake}: mcsim did not end in a deep sleep:\n${said}`);
        assert.equal(code, 0, `wake ${wake}: mcsim exit code:\n${said}`);
        const slept = /standin: (?:esp_deep_sleep_start|system_deep_sleep_instant): sleep (\d+) us/.exec(said);
        assert.ok(slept, `wake ${wake}: the run ended in the chip's deep sleep:\n${said}`);
        assert.match(said, new RegExp(`standin: ${chip === "esp32" ? "esp_reset_reason" : "system_get_rst_info"} ${wake === 0 ? "(power-on|0)" : "(deep-sleep|5)"}`),
          `wake ${wake}: the C read the reset cause`);
        stored = readings();
        if (wake + 1 >= MIN_WAKES && stored.length === wake + 1) break;
        await new Promise((r) => setTimeout(r, Number(slept[1]) / 1000)); // the chip sleeps
      }
      const wakes = wokeAt.length;
      assert.ok(wakes >= MIN_WAKES);
      // Exactly once: one reading a wake, indexes 0…n-1, none missing, none twice, all of the first boot.
      assert.deepEqual(stored.map((r) => r.idx), wokeAt.map((_, i) => i), `stored ${JSON.stringify(stored.map((r) => r.idx))} after ${wakes} wakes`);
      assert.ok(stored.every((r) => r.boot === 1), "every wake resumed boot 1 from the retained image");
      // Dated by the device clock carried across sleeps (the server dates a reading by its age at upload).
      // That clock does not count a wake's start-up, here mcsim's (~1 s under Xvfb), on a chip its boot
      // (~100 ms on ESP32): dates are late by the start-ups between sampling and upload (up to a batch of
      // wakes), re-anchored at every upload, never drifting further over the run. A clock not carried over
      // a sleep, or a sleep of the wrong length, is off by whole intervals at once.
      const errors = stored.map((r) => r.t - wokeAt[r.idx]);
      const worst = Math.max(...errors.map(Math.abs));
      assert.ok(worst < 2 * INTERVAL_MS, `reading dates off the wakes by ${errors.join(", ")} ms`);
      const calls = readFileSync(join(board, "calls.log"), "utf8");
      const sleeps = calls.match(/: sleep \d+ us/g)?.length ?? 0;
      assert.equal(sleeps, wakes, "one deep sleep a wake, through the chip's call");
      // The board manifests set wifi.ip: each radio wake stopped DHCP and set the address through the chip's calls.
      const [setAddress, setDns] = chip === "esp32"
        ? ["esp_netif_set_ip_info: 192.168.1.50 mask 255.255.255.0 gw 192.168.1.1", "esp_netif_set_dns_info 0: 9.9.9.9"]
        : ["wifi_set_ip_info: 192.168.1.50 mask 255.255.255.0 gw 192.168.1.1", "dns_setserver 0: 9.9.9.9"];
      const addressed = calls.split("\n").filter((line) => line.includes(setAddress)).length;
      assert.ok(addressed >= 2, `the static address set in ${addressed} wakes:\n${calls}`);
      assert.equal(calls.split("\n").filter((line) => line.includes(setDns)).length, addressed, "with its DNS server each time");
      assert.ok(!calls.includes("refused"), "the DHCP client was stopped first");
      t.diagnostic(`${chip} C in mcsim: ${wakes} wakes, ${sleeps} deep sleeps, a static address set in ${addressed}; ${stored.length} readings stored exactly once, dates within ${worst} ms`);
    } finally {
      await server.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
}
