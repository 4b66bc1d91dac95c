import { test } from "node:test";
import assert from "node:assert/strict";
import { FIELDS, findField, parseValue, staticAddress, utf8Length } from "../../config/schema";
import { Settings } from "../../config/settings";
import { MemoryPreferences } from "../support/fake-host";

const CONTROL = "must not contain control characters";
const IP_SHAPE = "wifi.ip must look like 192.168.1.50/24,192.168.1.1[,dns] (address/prefix,gateway and a DNS server, the gateway's if not given), or be empty for DHCP";

/** Every bad input the console, the manifest or the server may send, with the exact message shown. */
const BAD: readonly [key: string, raw: unknown, message: string][] = [
  ["no.such", "1", "unknown setting 'no.such'"],
  ["wifi.ssid", "a".repeat(33), "wifi.ssid must be at most 32 characters"],
  ["wifi.ssid", "é".repeat(17), "wifi.ssid must be at most 32 bytes in UTF-8 (accented letters take 2 or more)"],
  ["wifi.ssid", "home\tnet", `wifi.ssid ${CONTROL}`],
  ["wifi.ssid", 42, "wifi.ssid must be text"],
  ["wifi.password", "x".repeat(64), "wifi.password must be at most 63 characters"],
  ["wifi.password", "ab\u0085cd", `wifi.password ${CONTROL}`],
  ["wifi.password", "ab\x7fcd", `wifi.password ${CONTROL}`],
  ["wifi.password", "\ud800x", "wifi.password must be valid Unicode text"],
  ["wifi.bssid", "12:34:56:78:9a:bc", "unknown setting 'wifi.bssid'"],
  ["wifi.channel", "6", "unknown setting 'wifi.channel'"],
  ["wifi.ip", "192.168.1.50/24,192.168.1.1,1.1.1", IP_SHAPE],
  ["wifi.ip", "192.168.1.50", IP_SHAPE],
  ["wifi.ip", "192.168.1.300/24,192.168.1.1", IP_SHAPE],
  ["wifi.ip", "192.168.1.50/31,192.168.1.1", IP_SHAPE],
  ["wifi.ip", "192.168.1.50/24,10.0.0.1", "wifi.ip gateway 10.0.0.1 is not in 192.168.1.50/24"],
  ["wifi.ip", "192.168.1.1/24,192.168.1.1", "wifi.ip address and gateway must differ"],
  ["server.url", "http://example.com", "server.url must start with ws:// or wss://"],
  ["server.ntp", "ntp.example.org:123", "server.ntp must be a host name or an IPv4 address"],
  ["server.url", "ws://", "server.url has no host"],
  ["server.url", "ws://:8080", "server.url has no host"],
  ["server.url", "ws://host:0", "server.url has a bad port"],
  ["server.url", "ws://host:99999", "server.url has a bad port"],
  ["server.url", "ws://host:80a", "server.url has a bad port"],
  ["server.url", "ws://my host:80", "server.url must not contain spaces"],
  ["server.url", "ws://" + "h".repeat(196), "server.url must be at most 200 characters"],
  ["device.id", "", "device.id must not be empty"],
  ["device.id", "bad id!", "device.id may use only letters, digits, '_', '.' and '-'"],
  ["device.token", "t".repeat(129), "device.token must be at most 128 characters"],
  ["sample.interval", "0", "sample.interval must be between 1 and 86400 s"],
  ["sample.interval", "86401", "sample.interval must be between 1 and 86400 s"],
  ["sample.interval", "1.5", "sample.interval must be a whole number of s"],
  ["sample.interval", "ten", "sample.interval must be a whole number of s"],
  ["sample.interval", "", "sample.interval must be a whole number of s"],
  ["sample.interval", 1.5, "sample.interval must be a whole number of s"],
  ["sample.interval", true, "sample.interval must be a whole number of s"],
  ["batch.size", "121", "batch.size must be between 1 and 120 readings"],
  ["batch.latency", "-1", "batch.latency must be between 0 and 86400 s"],
  ["link.backoff.base", "99", "link.backoff.base must be between 100 and 60000 ms"],
  ["link.ack.timeout", "0x10", "link.ack.timeout must be a whole number of ms"],
  ["mode", "eco", "mode must be one of always-on, battery"],
  ["mode", "Battery", "mode must be one of always-on, battery"],
  ["mode", null, "mode must be text"],
  ["probe.type", "dht22", `probe.type must be one of ${(findField("probe.type") as unknown as { choices: string[] }).choices.join(", ")}`],
  ["probe.pin", "49", "probe.pin must be between -1 and 48"],
  ["probe.pin", "GPIO4", "probe.pin must be a whole number"],
  ["probe.resolution", "8", "probe.resolution must be between 9 and 12 bits"],
  ["probe.offset", "1001", "probe.offset must be between -1000 and 1000 hundredths of °C"],
  ["probe.address", "0x78", "probe.address must be between 0x0 and 0x77"],
  ["probe.address", "0xZZ", "probe.address must be a whole number"],
  ["ntc.beta", "999", "ntc.beta must be between 1000 and 10000 K"],
  ["ntc.series", "50", "ntc.series must be between 100 and 1000000 ohms"],
];

const GOOD: readonly [key: string, raw: unknown, value: string | number][] = [
  ["sample.interval", " 30 ", 30],
  ["sample.interval", 30, 30],
  ["probe.address", "0x49", 0x49],
  ["probe.address", "74", 74],
  ["probe.offset", "-250", -250],
  ["probe.pin", "-1", -1],
  ["wifi.ssid", "Café ☕ 5G", "Café ☕ 5G"],
  ["wifi.ssid", "é".repeat(16), "é".repeat(16)],
  ["wifi.password", "", ""],
  ["wifi.ip", "192.168.1.50/24,192.168.1.1,1.1.1.1", "192.168.1.50/24,192.168.1.1,1.1.1.1"],
  ["wifi.ip", "", ""],
  ["wifi.ip", "10.0.0.9/8,10.1.2.3", "10.0.0.9/8,10.1.2.3"],
  ["server.url", "wss://example.com:8443/base", "wss://example.com:8443/base"],
  ["server.url", "", ""],
  ["mode", "battery", "battery"],
];

test(`parseValue refuses ${BAD.length} bad inputs, each with its own message`, () => {
  assert.ok(BAD.length >= 25);
  for (const [key, raw, message] of BAD) assert.deepEqual(parseValue(key, raw), { ok: false, error: message }, `${key} = ${JSON.stringify(raw)}`);
});

test("parseValue accepts good inputs and returns them typed", () => {
  for (const [key, raw, value] of GOOD) assert.deepEqual(parseValue(key, raw), { ok: true, value }, `${key} = ${JSON.stringify(raw)}`);
});

test("the sensors' fields exist with their defaults and ranges", () => {
  const expect: [string, number, number, number][] = [
    ["probe.pin", -1, 48, -1], ["probe.resolution", 9, 12, 12], ["probe.offset", -1000, 1000, 0],
    ["probe.address", 0, 0x77, 0], ["ntc.beta", 1000, 10000, 3950], ["ntc.series", 100, 1000000, 10000],
  ];
  for (const [key, min, max, fallback] of expect) {
    const field = findField(key);
    assert.ok(field && field.type === "int", key);
    assert.deepEqual([field.min, field.max, field.default], [min, max, fallback], key);
  }
  for (const key of ["wifi.ip"]) assert.equal(findField(key)?.default, "");
});

test("preference keys are unique and fit ESP32 NVS (15 characters) with their chunk suffixes", () => {
  const seen = new Set<string>();
  for (const field of FIELDS) {
    assert.ok(!seen.has(field.pref), `${field.pref} used twice`);
    seen.add(field.pref);
    // Worst case a chunk holds 57 bytes (a 4-byte character does not fit the last 3 of 60).
    const chunks = field.type === "text" ? Math.ceil(field.maxLength / 57) : 1;
    const longest = chunks > 1 ? `${field.pref}.${chunks - 1}` : field.pref;
    assert.ok(longest.length <= 15, `${longest} is longer than 15 characters`);
    assert.ok(chunks <= 8);
  }
});

test("long text is stored in chunks of at most 60 UTF-8 bytes (ESP8266 values hold 63) and read back whole", () => {
  const prefs = new MemoryPreferences();
  const settings = new Settings(prefs, {});
  const url = "ws://" + "a".repeat(150) + ".example.com:8080/x";
  const token = "€".repeat(42); // 126 bytes
  assert.deepEqual(settings.apply({ "server.url": url, "device.token": token }), { ok: true, changed: ["server.url", "device.token"] });
  for (const [key, value] of prefs.map) {
    if (typeof value === "string") assert.ok(utf8Length(value) <= 60, `${key} holds ${utf8Length(value)} bytes`);
  }
  assert.deepEqual([...prefs.map.keys()].filter((k) => k.startsWith("token")), ["token", "token.1", "token.2"]);
  const again = new Settings(prefs, {});
  assert.equal(again.text("server.url"), url);
  assert.equal(again.text("device.token"), token);
  // A shorter value leaves no stale chunk behind.
  settings.apply({ "server.url": "ws://h:1" });
  assert.deepEqual([...prefs.map.keys()].filter((k) => k.startsWith("url")), ["url"]);
  assert.equal(new Settings(prefs, {}).text("server.url"), "ws://h:1");
  // A value of exactly 60 bytes, and one of 61.
  for (const n of [60, 61, 120]) {
    const id = "d".repeat(n > 32 ? 32 : n);
    settings.apply({ "device.id": id, "device.token": "t".repeat(n) });
    assert.equal(new Settings(prefs, {}).text("device.token"), "t".repeat(n));
  }
});

test("apply is all or nothing, and writes preferences only for values that change", () => {
  const prefs = new MemoryPreferences();
  const settings = new Settings(prefs, {});
  assert.deepEqual(settings.apply({ "sample.interval": 30, "batch.size": 999 }), { ok: false, error: "batch.size must be between 1 and 120 readings" });
  assert.equal(settings.int("sample.interval"), 60);
  assert.equal(prefs.writes, 0);
  assert.deepEqual(settings.apply({ "sample.interval": "30" }), { ok: true, changed: ["sample.interval"] });
  assert.equal(prefs.writes, 1);
  assert.deepEqual(settings.apply({ "sample.interval": 30 }), { ok: true, changed: [] });
  assert.equal(prefs.writes, 1, "an unchanged value is not written again");
});

test("rules across fields are checked on the combination: nothing half-applied", () => {
  const settings = new Settings(new MemoryPreferences(), {});
  const error = "link.backoff.base must not be more than link.backoff.cap";
  assert.deepEqual(settings.apply({ "link.backoff.cap": 5000, "link.backoff.base": 6000 }), { ok: false, error });
  assert.deepEqual(settings.apply({ "link.backoff.base": 6000 }), { ok: true, changed: ["link.backoff.base"] });
  assert.deepEqual(settings.apply({ "link.backoff.cap": 5000 }), { ok: false, error });
  assert.equal(settings.int("link.backoff.cap"), 60000);
});

test("the server may set only pushable keys", () => {
  const settings = new Settings(new MemoryPreferences(), {});
  assert.deepEqual(settings.apply({ "wifi.ssid": "x" }, true), { ok: false, error: "wifi.ssid cannot be set by the server" });
  assert.deepEqual(settings.apply({ "probe.offset": -30 }, true), { ok: true, changed: ["probe.offset"] });
});

test("change with unset goes back to the manifest's value, and clear forgets every stored value", () => {
  const prefs = new MemoryPreferences();
  const settings = new Settings(prefs, { "server.url": "ws://manifest:8080", "sample.interval": 10 });
  settings.apply({ "server.url": "ws://typed:1", "sample.interval": 20, "wifi.ssid": "home" });
  assert.equal(new Settings(prefs, { "server.url": "ws://manifest:8080" }).text("server.url"), "ws://typed:1");
  assert.deepEqual(settings.change({ "batch.size": 5 }, ["server.url"]), { ok: true, changed: ["server.url", "batch.size"] });
  assert.equal(settings.text("server.url"), "ws://manifest:8080");
  assert.equal(prefs.get("url"), undefined);
  assert.deepEqual(settings.change({}, ["no.such"]), { ok: false, error: "unknown setting 'no.such'" });
  assert.deepEqual(settings.clear().sort(), ["batch.size", "sample.interval", "wifi.ssid"]);
  assert.equal(prefs.map.size, 0);
  assert.equal(settings.int("sample.interval"), 10);
});

test("bad stored or manifest values are warned about and do not replace defaults", () => {
  const prefs = new MemoryPreferences();
  prefs.set("interval", 0);
  const settings = new Settings(prefs, { "batch.size": 0, bogus: 1 });
  assert.equal(settings.int("sample.interval"), 60);
  assert.equal(settings.int("batch.size"), 10);
  assert.deepEqual(settings.warnings, [
    "manifest: batch.size must be between 1 and 120 readings",
    "manifest: unknown setting 'bogus'",
    "stored: sample.interval must be between 1 and 86400 s",
  ]);
});

test("probe settings: board, stuck, TMP117 averaging, TMP102 extended mode, the NTC divider and its Steinhart–Hart table", () => {
  const cases: [key: string, raw: unknown, result: { ok: true; value: unknown } | { ok: false; error: string }][] = [
    ["board", "moddable-two", { ok: true, value: "moddable-two" }],
    ["board", "uno", { ok: false, error: "board must be one of esp32-devkitc, d1-mini, moddable-two" }],
    ["probe.stuck", "0", { ok: true, value: 0 }],
    ["probe.stuck", 1001, { ok: false, error: "probe.stuck must be between 0 and 1000 readings" }],
    ["probe.avg", "32", { ok: true, value: 32 }],
    ["probe.avg", 16, { ok: false, error: "probe.avg must be one of 1, 8, 32, 64" }],
    ["probe.ext", "on", { ok: true, value: "on" }],
    ["ntc.side", "middle", { ok: false, error: "ntc.side must be one of low, high" }],
    ["ntc.r25", "4700", { ok: true, value: 4700 }],
    ["ntc.sh", "0:32650,25:10000,50:3602", { ok: true, value: "0:32650,25:10000,50:3602" }],
    ["ntc.sh", "", { ok: true, value: "" }],
    ["ntc.sh", "0:32650,25:10000", { ok: false, error: "ntc.sh needs three points °C:Ω, comma-separated" }],
    ["ntc.sh", "0:3000,25:10000,50:3602", { ok: false, error: "ntc.sh points must rise in °C and fall in Ω" }],
    ["ntc.power", "40", { ok: false, error: "ntc.power must be between -1 and 39" }],
  ];
  for (const [key, raw, result] of cases) assert.deepEqual(parseValue(key, raw), result, `${key} = ${JSON.stringify(raw)}`);
  const defaults = ["board", "probe.stuck", "probe.avg", "probe.ext", "ntc.side", "ntc.r25", "ntc.sh", "ntc.power"].map((key) => findField(key)?.default);
  assert.deepEqual(defaults, ["esp32-devkitc", 0, 8, "off", "low", 10000, "", -1]);
  const pushable = FIELDS.filter((f) => f.pushable && (f.key.startsWith("probe.") || f.key.startsWith("ntc.") || f.key === "board")).map((f) => f.key);
  assert.deepEqual(pushable, ["probe.resolution", "probe.offset", "probe.stuck", "probe.avg", "probe.ext"], "wiring stays with the console");
});

test("wifi.ip as numbers: address, netmask of the prefix, gateway, and DNS (the gateway's unless given)", () => {
  const ip = (text: string) => text.split(".").reduce((n, part) => n * 256 + Number(part), 0);
  assert.deepEqual(staticAddress("192.168.1.50/24,192.168.1.1"),
    { address: ip("192.168.1.50"), netmask: ip("255.255.255.0"), gateway: ip("192.168.1.1"), dns: ip("192.168.1.1") });
  assert.deepEqual(staticAddress("10.0.0.9/8,10.1.2.3,9.9.9.9"),
    { address: ip("10.0.0.9"), netmask: ip("255.0.0.0"), gateway: ip("10.1.2.3"), dns: ip("9.9.9.9") });
  assert.equal(staticAddress("10.0.0.9/30,10.0.0.10")?.netmask, ip("255.255.255.252"));
  for (const bad of ["", "10.0.0.9", "10.0.0.9/31,10.0.0.8", "10.0.0.256/24,10.0.0.1", "10.0.0.9/24,10.0.0.1,"]) assert.equal(staticAddress(bad), undefined, bad);
});
