/*
 * The dashboard in a real browser (Debian's chromium, headless, driven by playwright-core): logging in, a
 * device going online, a batch arriving live on the chart, a fault drawn as a gap, a CSV download that
 * matches the database, a config push reaching the device, and the phone layout. The device is a `ws`
 * client speaking the protocol (harness.ts). Screenshots go to artifacts/dashboard/.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium, type BrowserContext, type Locator, type Page } from "playwright-core";
import { registerDevice } from "../../server/cli";
import { NOW, TestServer, type DeviceClient } from "./harness";

// The browser binary itself: Debian's /usr/bin/chromium is a shell wrapper that adds its own flags (extensions,
// and --disable-dev-shm-usage only when its `findmnt` test parses, which fails where /dev/shm is listed twice).
const CHROMIUM = "/usr/lib/chromium/chromium";
const ARTIFACTS = "artifacts/dashboard";
const ID = "kitchen-1";

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (apt-get install chromium; .ci/run does)`;

let t: TestServer;
let context: BrowserContext;
let page: Page;
let device: DeviceClient;
let profile: string;

before(async () => {
  if (skip) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  t = await new TestServer().start();
  registerDevice(t.db, ID, "kitchen-token-123");
  profile = mkdtempSync(join(tmpdir(), "thermocast-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  page = context.pages()[0] ?? (await context.newPage());
  // Generous: a limit for a page that never shows what is awaited, not a speed goal (CI machines are busy).
  page.setDefaultTimeout(30_000);
});

after(async () => {
  if (skip) return;
  await context?.close();
  await t?.dispose();
  rmSync(profile, { recursive: true, force: true });
});

/**
 * Waits until the element's text holds every expected piece, then returns that text. A state attribute can
 * come before the content it announces (a row turns online before the hello's figures are committed), so
 * tests wait for the content they assert.
 */
async function textShowing(locator: Locator, expected: string[], timeout = 30_000): Promise<string> {
  const deadline = Date.now() + timeout;
  let text = "";
  for (;;) {
    text = await locator.innerText({ timeout: Math.max(1, deadline - Date.now()) });
    if (expected.every((piece) => text.includes(piece))) return text;
    if (Date.now() > deadline) assert.fail(`expected ${JSON.stringify(expected)} within ${timeout} ms; it shows: ${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
type ChartData = (number | null | undefined)[][];
/** The data uPlot draws (the page exposes its chart as `thermocast.chart()`). */
const chartData = () => page.evaluate("thermocast.chart()?.data ?? null") as Promise<ChartData | null>;

test("the dashboard, live, in headless Chromium", { skip, timeout: 300_000 }, async (s) => {
  await s.test("the login link opens the dashboard; the device is listed offline", async () => {
    await page.goto(t.server.loginUrl);
    await page.waitForURL(`${t.server.url}/`);
    await page.locator(`tr[data-id="${ID}"][data-state="offline"]`).waitFor();
    assert.equal(await page.locator("#feed").getAttribute("data-state"), "live");
  });

  await s.test("a device going online shows at once; its hello figures fill in when the hello is stored", async () => {
    device = await t.connect(ID, "kitchen-token-123");
    // Online as soon as the socket is admitted, before any hello: nothing of the device is known yet.
    const row = page.locator(`tr[data-id="${ID}"][data-state="online"]`);
    await textShowing(row, ["online", "never"]);
    await device.hello(ID, {
      fw: "0.3.1", mode: "battery", cfg: { "sample.interval": 60, "batch.size": 10 },
      wake: { awake: 812, connect: 420, retries: 2, n: 57 }, store: { n: 30, cap: 512, drop: 0, corrupt: 1, lost: 12 },
      mem: { slots: 10240, chunks: 4096 }, probe: { type: "ds18b20", n: 40, faults: { crc: 3 }, retries: { crc: 5 } },
    });
    // The figures follow the hello's commit (server/session.ts): the row fills in.
    const text = await textShowing(row, ["online", "0.3.1", "battery", "30 / 512", "812 ms, 2 retries"]);
    assert.doesNotMatch(text, /\bnever\b/, `last seen is the hello's time: ${text}`);
    await row.click();
    await page.locator("#detail:not([hidden])").waitFor();
    // Its health, from the hello: memory, store corruption (a warning), wakes, probe faults (a warning).
    const fact = (name: string) => page.locator(`#facts dd[data-fact="${name}"]`);
    await page.locator('#facts dd[data-fact="memory"]', { hasText: "B (" }).waitFor(); // the detail has come
    assert.equal(await fact("memory").innerText(), "14,336 B (10240 slots, 4096 chunks)");
    assert.equal(await fact("store corruption").innerText(), "1, 12 readings lost");
    assert.equal(await fact("wakes").innerText(), "57");
    assert.equal(await fact("probe faults").innerText(), "crc 3 in 40 readings, 5 retried (ds18b20)");
    for (const name of ["store corruption", "probe faults"]) assert.match(await fact(name).getAttribute("class") ?? "", /warn/, name);
    await shot("1-online");
  });

  await s.test("a batch arrives on the chart without a reload", async () => {
    await page.locator('#chart[data-points="0"]').waitFor();
    // 5 readings a minute apart (docs/protocol.md's example batch), the newest 5 minutes old.
    device.send({ t: "b", s: 1, o: 12, k: 480, i: 60, a: 301_500, n: 5, b: 2156, v: "AACBA" });
    assert.deepEqual(await device.next(), { t: "ack", s: 1 });
    await page.locator('#chart[data-points="5"]').waitFor();
    const data = await chartData();
    assert.ok(data, "the chart exists");
    assert.deepEqual(data[0], [4, 3, 2, 1, 0].map((m) => (NOW - 301_500 - m * 60_000) / 1000));
    assert.deepEqual(data[1], [21.56, 21.56, 21.57, 21.56, 21.56]);
    await shot("2-live-batch");
  });

  await s.test("faults are gaps in the line (null in uPlot's data) with a marker", async () => {
    // The next 5 minutes: 21.60, a CRC fault, 21.61, a disconnected probe, 21.62.
    device.send({ t: "b", s: 2, o: 12, k: 485, i: 60, a: 500, n: 5, b: 2160, v: "A~bC~dC" });
    assert.deepEqual(await device.next(), { t: "ack", s: 2 });
    await page.locator('#chart[data-points="8"][data-gaps="2"]').waitFor();
    const data = await chartData();
    assert.deepEqual(data![1].slice(5), [21.6, null, 21.61, null, 21.62]);
    assert.match(await page.locator("#chart-note").innerText(), /2 fault\(s\) shown as gaps \(crc, disconnected\)/);
    await shot("3-fault-gap");
  });

  await s.test("the CSV download holds exactly the database's rows", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#csv").click()]);
    const csv = readFileSync((await download.path())!, "utf8").trimEnd().split("\n");
    assert.equal(csv[0], "t,iso,boot,channel,idx,celsius,fault,quantity,value");
    const rows = t.db.readings(ID, 0, Number.MAX_SAFE_INTEGER);
    assert.equal(rows.length, 10);
    assert.deepEqual(csv.slice(1), rows.map((r) => {
      const value = r.centi === null ? "" : r.centi / 100;
      return [r.t, new Date(r.t).toISOString(), r.boot, r.channel, r.idx, value, r.fault ?? "", "t", value].join(",");
    }));
    assert.equal(download.suggestedFilename(), `${ID}.csv`);
  });

  await s.test("a config change pushed from the page reaches the device, and its answer shows", async () => {
    await page.locator('#config input[name="sample.interval"]').fill("30");
    await page.locator('#config select[name="mode"]').selectOption("always-on");
    await page.locator('#config button[type="submit"]').click();
    const cfg = await device.next();
    assert.equal(cfg.t, "cfg");
    assert.deepEqual(cfg.set, { "sample.interval": 30, mode: "always-on" });
    await page.locator('#config-status[data-state="sent"]').waitFor();
    device.send({ t: "cfgack", id: cfg.id, ok: true });
    await page.locator('#config-status[data-state="applied"]').waitFor();
    assert.match(await page.locator("#config-status").innerText(), /applied by the device: sample.interval = 30, mode = always-on/);
    assert.equal(t.db.lastConfigAnswer(ID)?.ok, 1);
    // Every pushable field of the schema, and only those, has an input.
    const names = await page.locator("#config [name]").evaluateAll((els) => els.map((e) => e.getAttribute("name")));
    const fields = ((await t.getJson("/api/config/fields")) as { key: string }[]).map((f) => f.key);
    assert.deepEqual(names, fields);
    assert.ok(!names.includes("wifi.password") && !names.includes("device.token"), "secrets are not pushable");
    await shot("4-config-applied");
  });

  await s.test("a temperature-and-humidity probe (SHT4x): a series per channel, humidity on its own axis", async () => {
    const id = "greenhouse-1";
    registerDevice(t.db, id, "greenhouse-token-1");
    const sht = await t.connect(id, "greenhouse-token-1");
    await sht.hello(id, { fw: "0.1.0", probe: { type: "sht4x", n: 0, ch: ["t", "rh"] } });
    const row = page.locator(`tr[data-id="${id}"][data-state="online"]`);
    await textShowing(row, ["online", "0.1.0"]);
    await row.click();
    await page.locator('#facts dd[data-fact="probe faults"]', { hasText: "sht4x" }).waitFor(); // its detail has come
    await page.locator('#chart[data-points="0"]').waitFor();
    // The same 5 slots on both channels: 21.50…21.54 °C, and 45.25, 45.3, 45.3, a bus error, 45.2 %RH.
    sht.send({ t: "b", s: 1, o: 3, k: 0, i: 60, a: 500, n: 5, b: 2150, v: "ACCCC" });
    assert.deepEqual(await sht.next(), { t: "ack", s: 1 });
    sht.send({ t: "b", s: 2, o: 3, k: 0, i: 60, a: 500, c: 1, n: 5, b: 4525, v: "AKA~gT" });
    assert.deepEqual(await sht.next(), { t: "ack", s: 2 });
    await page.locator('#chart[data-points="9"][data-gaps="1"]').waitFor();
    const data = await chartData();
    assert.equal(data!.length, 3, "time, and a column per channel");
    assert.deepEqual(data![1], [21.5, 21.51, 21.52, 21.53, 21.54]);
    assert.deepEqual(data![2], [45.25, 45.3, 45.3, null, 45.2]);
    const labels = (await page.evaluate("thermocast.chart().series.slice(1).map((s) => s.label)")) as string[];
    assert.deepEqual(labels, ["ch0 °C", "ch1 %RH"]);
    const scales = (await page.evaluate("thermocast.chart().series.slice(1).map((s) => s.scale)")) as string[];
    assert.deepEqual(scales, ["y", "rh"], "humidity on a scale of its own");
    const readings = (await t.getJson(`/api/devices/${id}/readings`)) as { channel: number; quantity: string; value: number | null }[];
    assert.deepEqual(readings.filter((r) => r.channel === 1).map((r) => [r.quantity, r.value]),
      [["rh", 45.25], ["rh", 45.3], ["rh", 45.3], ["rh", null], ["rh", 45.2]]);
    await shot("5-two-channels");
    await sht.close();
  });

  await s.test("a device going offline shows; the page fits a phone", async () => {
    await device.close();
    await page.locator(`tr[data-id="${ID}"][data-state="offline"]`).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal(await page.locator("#devices thead").isVisible(), false, "the table turns into cards");
    // The chart follows the window's resize event; then nothing is wider than the phone.
    const fits = await page.waitForFunction("document.documentElement.scrollWidth <= window.innerWidth", undefined, { timeout: 30_000 })
      .then(() => true, () => false);
    const overflow = (await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number;
    assert.ok(fits, `no sideways scrolling on a phone (${overflow} px too wide)`);
    const chartWidth = (await page.evaluate("document.querySelector('#chart canvas').getBoundingClientRect().width")) as number;
    assert.ok(chartWidth <= 390, `the chart fits the phone (${chartWidth} px)`);
    await shot("6-phone");
  });
});
