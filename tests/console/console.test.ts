import { test } from "node:test";
import assert from "node:assert/strict";
import { closest, COMMANDS } from "../../modules/console/console";
import { LINE_MAX } from "../../modules/console/line";
import { faultValue, Fault } from "../../modules/protocol/values";
import { urlRefusal } from "../../modules/link/link";
import { prng, rig, snapshot } from "./rig";

const NL = "\r\n";

test("a command typed byte by byte is echoed, run, and followed by the prompt", () => {
  const r = rig();
  r.console.start("thermocast 0.1.0");
  assert.equal(r.port.text(), `${NL}thermocast 0.1.0: type help${NL}> `);
  const out = r.type("help\r");
  assert.ok(out.startsWith(`help${NL}commands:${NL}`), out);
  for (const [, usage] of COMMANDS) assert.ok(out.includes(`  ${usage}`), usage);
  assert.ok(out.endsWith(`${NL}> `));
});

test("backspace and DEL erase the last character, on screen too", () => {
  const r = rig();
  const out = r.type("gte\x08\x08et\x7f\x7fet sample.interval\r");
  assert.ok(out.startsWith("gte\b \b\b \bet\b \b\b \bet sample.interval\r\n"), JSON.stringify(out));
  assert.ok(out.includes("sample.interval = 60\r\n> "));
  // Backspace on an empty line does nothing.
  assert.equal(r.type("\x08\x7f"), "");
});

test("backspace erases a whole UTF-8 character", () => {
  const r = rig();
  const out = r.type("set wifi.ssid Café\x7fe\r");
  assert.ok(out.startsWith("set wifi.ssid Café\b \be\r\n"), JSON.stringify(out));
  assert.equal(r.console.unsaved.length, 1);
  assert.ok(r.type("get wifi.ssid\r").includes('wifi.ssid = "" -> Cafe (unsaved)'));
});

test("CR, LF and CRLF each end one line; an empty line gives a fresh prompt", () => {
  for (const end of ["\r", "\n", "\r\n"]) {
    const r = rig();
    const out = r.type(`get mode${end}get batch.size${end}`);
    assert.equal(out, `get mode${NL}mode = always-on${NL}> get batch.size${NL}batch.size = 10${NL}> `, JSON.stringify(end));
  }
  const r = rig();
  assert.equal(r.type("\r\n\r\n"), `${NL}> ${NL}> `);
  assert.equal(r.type("\n\r"), `${NL}> ${NL}> `, "LF CR is two lines");
});

test("an over-long line is discarded with a message, without growing, and the next line works", () => {
  const r = rig();
  const long = "set device.token " + "x".repeat(300);
  const out = r.type(long + "\r");
  assert.ok(out.endsWith(`${NL}ignored: the line is longer than ${LINE_MAX} bytes${NL}> `), out.slice(-80));
  assert.equal(out.length, LINE_MAX + 2 + `ignored: the line is longer than ${LINE_MAX} bytes${NL}> `.length, "echo stops at the limit");
  assert.deepEqual(r.console.unsaved, []);
  assert.ok(r.type("get mode\r").includes("mode = always-on"));
  // A line of exactly LINE_MAX bytes is still a line.
  const exact = "get " + "m".repeat(LINE_MAX - 4);
  assert.ok(r.type(exact + "\r").includes("unknown setting 'mmmmmmmmmmmmmmmmmmmmmmmm…'"));
});

test("set refuses what the build cannot use: wss:// without TLS (ESP8266), or without the server's CA", () => {
  for (const [tls, reason] of [
    ["none", "server.url: this build has no TLS for wss://, use ws://"],
    ["no-ca", "server.url: wss:// needs the server's CA certificate, config/tls/server-ca.der, in the build"],
  ] as const) {
    const r = rig({ refuse: (key, value) => (key === "server.url" ? urlRefusal(String(value), tls) : undefined) });
    assert.equal(r.type("set server.url wss://example.com:8443\r").split(NL)[1], reason);
    assert.deepEqual(r.console.unsaved, [], "nothing staged");
    assert.equal(r.type("set server.url ws://example.com:8080\r").split(NL)[1], "staged server.url = ws://example.com:8080 (save to apply)");
  }
  const ready = rig({ refuse: (key, value) => (key === "server.url" ? urlRefusal(String(value), "ready") : undefined) });
  assert.equal(ready.type("set server.url wss://example.com:8443\r").split(NL)[1], "staged server.url = wss://example.com:8443 (save to apply)");
});

test("escape sequences (arrow keys) and stray control bytes are ignored; Ctrl-C abandons the line, Ctrl-U erases it", () => {
  const r = rig();
  assert.ok(r.type("\x1b[A\x1b[1;5Cget\x01\x02 mode\r").includes("mode = always-on"));
  assert.equal(r.type("set mode battery\x03"), `set mode battery^C${NL}> `);
  assert.deepEqual(r.console.unsaved, []);
  r.type("set mode bat\x15");
  assert.ok(r.type("get mode\r").startsWith("get mode\r\nmode = always-on"));
});

test("set checks at once and stages; save applies all staged values together; get shows both", () => {
  const r = rig({ manifest: { "server.url": "ws://127.0.0.1:8080" } });
  assert.equal(r.type("set wifi.ssid My Home Net\r").split(NL)[1], "staged wifi.ssid = My Home Net (save to apply)");
  assert.equal(r.type("set server.url http://x\r").split(NL)[1], "server.url must start with ws:// or wss://");
  r.type("set server.url ws://10.0.0.5:9000\r");
  r.type("set sample.interval 30\r");
  assert.equal(r.settings.text("wifi.ssid"), "", "nothing applied before save");
  assert.ok(r.type("get server.url\r").includes("server.url = ws://127.0.0.1:8080 -> ws://10.0.0.5:9000 (unsaved)"));
  assert.equal(r.type("save\r").split(NL)[1], "saved: wifi.ssid, server.url, sample.interval");
  assert.deepEqual(r.calls.changed, [["wifi.ssid", "server.url", "sample.interval"]]);
  assert.equal(r.settings.text("wifi.ssid"), "My Home Net");
  assert.equal(r.preferences.get("url"), "ws://10.0.0.5:9000");
  assert.equal(r.type("save\r").split(NL)[1], "nothing to save: values are staged with set and unset");
  // Quotes keep spaces; "" is the empty value.
  r.type('set wifi.ssid "  spaced  "\r');
  r.type("save\r");
  assert.equal(r.settings.text("wifi.ssid"), "  spaced  ");
  r.type('set wifi.ssid ""\rsave\r');
  assert.equal(r.settings.text("wifi.ssid"), "");
});

test("a bad value never replaces a good one, staged or saved; a failing save changes nothing", () => {
  const r = rig();
  r.type("set sample.interval 30\rsave\r");
  const before = snapshot(r.settings.values);
  const writes = r.preferences.writes;
  assert.equal(r.type("set sample.interval 0\r").split(NL)[1], "sample.interval must be between 1 and 86400 s");
  assert.equal(r.type("set sample.interval abc\r").split(NL)[1], "sample.interval must be a whole number of s");
  assert.deepEqual(r.console.unsaved, []);
  r.type("set batch.size 20\r");
  assert.equal(r.type("set batch.size 500\r").split(NL)[1], "batch.size must be between 1 and 120 readings");
  assert.ok(r.type("get batch.size\r").includes("batch.size = 10 -> 20 (unsaved)"), "the staged good value stays");
  // A combination the schema refuses: nothing of it is applied, and it stays staged to be fixed.
  r.type("set link.backoff.base 50000\rset link.backoff.cap 20000\r");
  assert.equal(
    r.type("save\r").split(NL)[1],
    "not saved, nothing changed: link.backoff.base must not be more than link.backoff.cap",
  );
  assert.equal(snapshot(r.settings.values), before);
  assert.equal(r.preferences.writes, writes);
  r.type("unset link.backoff.cap\rset link.backoff.base 5000\r");
  assert.equal(r.type("save\r").split(NL)[1], "saved: batch.size, link.backoff.base");
});

test("unset stages going back to the default; discard forgets staged changes", () => {
  const r = rig({ manifest: { "device.id": "from-manifest" } });
  r.type("set device.id typed\rsave\r");
  assert.equal(r.type("unset device.id\r").split(NL)[1], "staged device.id back to from-manifest (save to apply)");
  r.type("save\r");
  assert.equal(r.settings.text("device.id"), "from-manifest");
  assert.equal(r.preferences.get("id"), undefined);
  r.type("set mode battery\rset batch.size 3\r");
  assert.equal(r.type("discard\r").split(NL)[1], "discarded 2 staged changes");
  assert.equal(r.type("discard\r").split(NL)[1], "nothing staged");
  assert.equal(r.settings.text("mode"), "always-on");
  assert.equal(r.type("unset\r").split(NL)[1], "usage: unset <key>");
  assert.equal(r.type("set mode\r").split(NL)[1], "usage: set <key> <value>  (help keys lists the keys)");
});

test("secrets are masked in echo, get and status", () => {
  const r = rig();
  const echo = r.type("set wifi.password hunter22\r");
  assert.ok(echo.startsWith("set wifi.password ********\r\n"), echo);
  assert.ok(!echo.includes("hunter22"));
  assert.ok(echo.includes("staged wifi.password = ****"));
  // Backspacing into the key unmasks; the value after a new space is masked again.
  const retyped = r.type("set device.token ab\x7f\x7f\x7fx ab\r");
  assert.ok(retyped.startsWith("set device.token **\b \b\b \b\b \bx ab"), JSON.stringify(retyped));
  r.type("set device.token s3cret-token\rsave\r");
  assert.equal(r.settings.text("device.token"), "s3cret-token");
  assert.ok(r.type("get wifi.password\r").includes("wifi.password = ****\r\n"));
  const status = r.type("status\r");
  assert.ok(status.includes("  wifi.password = ****\r\n"));
  assert.ok(status.includes("  device.token = ****\r\n"));
  assert.ok(!status.includes("hunter22") && !status.includes("s3cret"));
  r.type("unset wifi.password\rsave\r");
  assert.ok(r.type("get wifi.password\r").includes("wifi.password = (not set)"));
});

test("status shows link, store, last error and last wake from the parts", () => {
  const r = rig();
  r.type("set mode battery\r");
  const out = r.type("status\r");
  const lines = out.split(NL);
  assert.deepEqual(lines.slice(1, 7), [
    "thermocast 0.1.0, boot 7 (power-on), up 1:02:03",
    "link: Backoff, last error: wifi join timed out",
    "store: 12 of 512 readings, 0 dropped; 3 batches sent, 30 readings acked",
    "last wake: awake 312 ms, wifi 180 ms",
    "unsaved: mode (save or discard)",
    "config:",
  ]);
  assert.ok(out.includes("  mode = always-on -> battery (unsaved)\r\n"));
  assert.ok(out.includes("  probe.address = 0x0\r\n"));
  assert.ok(out.endsWith(`${NL}> `));
});

test("in battery mode, status says how many retained images were discarded as corrupt and the readings lost with them", () => {
  const r = rig();
  r.status.retained = { corrupt: 2, lost: 61 };
  const lines = r.type("status\r").split(NL);
  assert.equal(lines[5], "retained image: 2 found corrupt and discarded, 61 readings lost with them");
});

test("unknown commands and keys get the closest name as a hint", () => {
  const r = rig();
  assert.equal(r.type("stauts\r").split(NL)[1], "unknown command 'stauts': did you mean status? (help lists the commands)");
  assert.equal(r.type("gte mode\r").split(NL)[1], "unknown command 'gte': did you mean get? (help lists the commands)");
  assert.equal(r.type("fact\r").split(NL)[1], "unknown command 'fact': did you mean factory-reset? (help lists the commands)");
  assert.equal(r.type("xyzzy\r").split(NL)[1], "unknown command 'xyzzy' (help lists the commands)");
  assert.equal(r.type("get wifi.sid\r").split(NL)[1], "unknown setting 'wifi.sid': did you mean wifi.ssid? (help keys lists them)");
  assert.equal(r.type("set sample.intreval 5\r").split(NL)[1], "unknown setting 'sample.intreval': did you mean sample.interval? (help keys lists them)");
  assert.equal(closest("reboto", ["reboot", "status"]), "reboot");
  assert.equal(closest("", ["reboot"]), undefined);
});

test("help describes keys with their ranges and defaults, but no secret's default", () => {
  const r = rig();
  assert.equal(r.type("help sample.interval\r").split(NL)[1], "sample.interval: seconds between readings [1..86400 s, default 60]");
  assert.equal(r.type("help probe.address\r").split(NL)[1], "probe.address: I2C address of the probe chip; 0 for its own (TMP117/TMP102 0x48, SHT4x 0x44) [0x0..0x77, default 0x0]");
  assert.equal(r.type("help device.token\r").split(NL)[1], "device.token: device token from the server [text, up to 128 bytes]");
  assert.equal(r.type("help save\r").split(NL)[1], "save: apply and store what is staged, all or nothing");
  const keys = r.type("help keys\r");
  assert.ok(keys.includes("mode: always-on (mains) or battery (deep sleep) [always-on|battery, default always-on]\r\n"));
});

test("reboot refuses while changes are unsaved; factory-reset wants a second word", () => {
  const r = rig();
  r.type("set wifi.ssid x\r");
  assert.equal(r.type("reboot\r").split(NL)[1], "1 unsaved change(s): wifi.ssid; save or discard first");
  assert.equal(r.calls.reboots, 0);
  r.type("save\r");
  assert.equal(r.type("reboot\r"), `reboot${NL}restarting${NL}`);
  assert.equal(r.calls.reboots, 1);

  r.type("set device.token t0k3n\rsave\r");
  assert.ok(r.preferences.map.size > 0);
  assert.ok(r.type("factory-reset\r").includes("type factory-reset yes"));
  assert.ok(r.type("factory-reset please\r").includes("type factory-reset yes"));
  assert.equal(r.calls.reboots, 1);
  assert.ok(r.type("factory-reset yes\r").includes("stored settings erased; restarting"));
  assert.equal(r.calls.reboots, 2);
  assert.equal(r.preferences.map.size, 0);
  assert.equal(r.settings.text("wifi.ssid"), "");
  assert.deepEqual(r.calls.changed.at(-1)?.sort(), ["device.token", "wifi.ssid"]);
});

test("sample reads the probe now, at once or later, and shows faults by name", () => {
  const now = rig({ sampleValue: -1234 });
  assert.equal(now.type("sample\r"), `sample${NL}probe (simulated): -12.34 °C${NL}> `);
  const fault = rig({ sampleValue: faultValue(Fault.NoDevice) });
  assert.ok(fault.type("sample\r").includes("probe (simulated): no reading (no-device)"));

  const later = rig();
  assert.equal(later.type("sample\r"), `sample${NL}reading the probe…${NL}> `);
  assert.equal(later.type("sample\r").split(NL)[1], "a reading is already under way");
  later.type("get");
  later.calls.pendingSample!(2105);
  assert.equal(later.port.text(), `${NL}probe (simulated): 21.05 °C${NL}> get`, "shown below the half-typed line, which is shown again");
  later.calls.pendingSample!(1);
  assert.equal(later.port.text(), "", "a second answer is ignored");
});

test("test reports its steps and its outcome, once", () => {
  const r = rig();
  r.type("set mode battery\r");
  assert.equal(r.type("test\r").split(NL)[1], "testing with the saved settings (1 unsaved change is not used)…");
  assert.equal(r.type("test\r").split(NL)[1], "a test is already running");
  const { progress, done } = r.calls.pendingTest!;
  progress("joining Wi-Fi moddable-simulator");
  assert.equal(r.port.text(), `\rtest: joining Wi-Fi moddable-simulator${NL}> `, "overwrites the bare prompt");
  done(false, "server refused the token (unauthorized)");
  assert.equal(r.port.text(), `\rtest failed: server refused the token (unauthorized)${NL}> `);
  done(true, "again");
  progress("late");
  assert.equal(r.port.text(), "");
  r.type("test\r");
  r.calls.pendingTest!.done(true, "connected to ws://127.0.0.1:8080 in 1210 ms");
  assert.ok(r.port.text().includes("test passed: connected to ws://127.0.0.1:8080 in 1210 ms"));
});

test("text that is not UTF-8 is refused, not stored", () => {
  const r = rig();
  r.feed([...Array.from("set wifi.ssid ab", (c) => c.charCodeAt(0)), 0xc3, 0x28, 0x0d]);
  assert.ok(r.port.text().endsWith(`ignored: the line is not UTF-8 text${NL}> `));
  assert.deepEqual(r.console.unsaved, []);
});

test("a long listing goes out line by line as the port makes room", () => {
  const r = rig();
  r.port.writable = 40;
  r.feed(Array.from("get\r", (c) => c.charCodeAt(0)));
  const first = r.port.take().length;
  assert.ok(first <= 40);
  let total = first;
  let rounds = 0;
  while (r.output.busy) {
    r.port.writable = 40;
    r.output.drain();
    const n = r.port.take().length;
    assert.ok(n <= 40);
    total += n;
    rounds++;
  }
  assert.ok(rounds > 10, `${rounds} rounds`);
  r.port.writable = 1 << 20;
  const whole = rig().type("get\r").length;
  assert.equal(total, whole, "nothing lost or repeated");
});

test("100 KB of random bytes neither throw nor change configuration, and the console still works", () => {
  for (const improv of [true, false]) {
    const r = rig({ improv, manifest: { "server.url": "ws://127.0.0.1:8080" } });
    r.type("set wifi.ssid home\rset wifi.password hunter22\rsave\r");
    const before = snapshot(r.settings.values);
    const writes = r.preferences.writes;
    const random = prng(improv ? 0xc0ffee : 42);
    const noise = new Uint8Array(100 * 1024);
    for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(random() * 256);
    for (let at = 0; at < noise.length; at += 64) {
      r.shared.receive(noise.subarray(at, at + 64), r.now);
      r.wait(Math.floor(random() * 20));
      r.port.take();
    }
    assert.equal(snapshot(r.settings.values), before);
    assert.equal(r.preferences.writes, writes);
    assert.equal(r.calls.reboots, 0);
    assert.equal(r.calls.wifiTries.length, 0);
    // After a pause and a fresh line the console answers again.
    r.wait(1000);
    r.type("\x03");
    r.type("discard\r");
    assert.ok(r.type("get wifi.ssid\r").includes("wifi.ssid = home\r\n"));
  }
});

test("help names a setting's allowed values when only some numbers are (TMP117 averaging)", () => {
  const r = rig();
  assert.equal(r.type("help probe.avg\r").split(NL)[1], "probe.avg: TMP117 averaging: 1 converts in 16 ms, 8 in 125 ms, 32 in 500 ms, 64 in 1 s [1|8|32|64 conversions, default 8]");
  assert.equal(r.type("set probe.avg 16\r").split(NL)[1], "probe.avg must be one of 1, 8, 32, 64");
});
