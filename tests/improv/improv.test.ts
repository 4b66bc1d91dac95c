/*
 * Improv Wi-Fi Serial v1, checked byte by byte against packets built here from the spec
 * (improv-wifi.com/serial), not with the module's own encoder.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { dashboardUrl } from "../../modules/improv/improv";
import { PACKET_GAP } from "../../modules/improv/packet";
import { rig } from "../console/rig";

import { ascii, error, packet, result, rpc, sent, state, utf8, wifiSettings } from "./spec";

test("the packet layout matches the spec's bytes", () => {
  // Request current state, checksum worked out by hand: 0x49+0x4d+0x50+0x52+0x4f+0x56+1+3+2+2+0 = 0x1e5.
  assert.deepEqual(rpc(0x02), [0x49, 0x4d, 0x50, 0x52, 0x4f, 0x56, 0x01, 0x03, 0x02, 0x02, 0x00, 0xe5, 0x0a]);
  // The spec's example payload: 01 1E 0C {MyWirelessAP} 10 {mysecurepassword}.
  assert.deepEqual(
    [0x01, 0x1e, ...wifiSettings("MyWirelessAP", "mysecurepassword")],
    [0x01, 0x1e, 0x0c, ...ascii("MyWirelessAP"), 0x10, ...ascii("mysecurepassword")],
  );
});

test("request current state: no error, then Ready when no Wi-Fi is configured", () => {
  const r = rig();
  r.feed(rpc(0x02));
  assert.deepEqual(r.port.take(), [...error(0x00), ...state(0x02)]);
  assert.deepEqual(
    error(0x00).concat(state(0x02)),
    [73, 77, 80, 82, 79, 86, 1, 2, 1, 0, 0xe1, 10, 73, 77, 80, 82, 79, 86, 1, 1, 1, 2, 0xe2, 10],
  );
});

test("request current state when provisioned: state 0x04 and the dashboard URL", () => {
  const r = rig({ manifest: { "wifi.ssid": "home", "server.url": "ws://192.168.1.10:8080" } });
  r.feed(rpc(0x02));
  assert.deepEqual(r.port.take(), [...error(0x00), ...state(0x04), ...result(0x02, ["http://192.168.1.10:8080/"])]);
});

test("request device info: firmware, version, chip family, device name", () => {
  const r = rig({ manifest: { "device.id": "greenhouse-3" } });
  r.feed(rpc(0x03));
  assert.deepEqual(r.port.take(), [...error(0x00), ...result(0x03, ["thermocast", "0.1.0", "ESP32", "greenhouse-3"])]);
});

test("send Wi-Fi settings: provisioning, then provisioned with a URL; stored only once they work", () => {
  const r = rig({ manifest: { "server.url": "wss://example.com/base" } });
  r.feed(rpc(0x01, wifiSettings("MyWirelessAP", "mysecurepassword")));
  assert.deepEqual(r.port.take(), [...error(0x00), ...state(0x03)]);
  assert.deepEqual(r.calls.wifiTries, [["MyWirelessAP", "mysecurepassword"]]);
  assert.equal(r.settings.text("wifi.ssid"), "", "not stored before the join succeeds");
  assert.equal(r.preferences.writes, 0);
  r.calls.pendingWifi!(true);
  assert.deepEqual(r.port.take(), [...state(0x04), ...result(0x01, ["https://example.com/base/"])]);
  assert.equal(r.settings.text("wifi.ssid"), "MyWirelessAP");
  assert.equal(r.settings.text("wifi.password"), "mysecurepassword");
  assert.deepEqual(r.calls.changed, [["wifi.ssid", "wifi.password"]]);
  assert.equal(r.improv!.state, 0x04);
});

test("send Wi-Fi settings that do not connect: error 0x03, back to Ready, the old settings kept", () => {
  const r = rig({ manifest: { "wifi.ssid": "old", "wifi.password": "old-password" } });
  r.feed(rpc(0x01, wifiSettings("Café ☕", "invalid!")));
  assert.deepEqual(r.calls.wifiTries, [["Café ☕", "invalid!"]]);
  r.port.take();
  // A second attempt while the first is under way is refused.
  r.feed(rpc(0x01, wifiSettings("other", "x")));
  assert.deepEqual(r.port.take(), error(0xff));
  r.calls.pendingWifi!(false);
  assert.deepEqual(r.port.take(), [...error(0x03), ...state(0x02)]);
  assert.equal(r.settings.text("wifi.ssid"), "old");
  assert.equal(r.preferences.writes, 0);
  assert.deepEqual(r.calls.changed, []);
});

test("a wrong checksum gets error 0x01, and nothing is done", () => {
  const r = rig();
  const bad = rpc(0x01, wifiSettings("net", "password"));
  bad[bad.length - 2] ^= 0x01;
  r.feed(bad);
  assert.deepEqual(r.port.take(), error(0x01));
  assert.deepEqual(r.calls.wifiTries, []);
});

test("an unknown RPC command gets error 0x02", () => {
  const r = rig();
  r.feed(rpc(0x09));
  assert.deepEqual(r.port.take(), error(0x02));
  r.feed(rpc(0x05, ascii("host")));
  assert.deepEqual(r.port.take(), error(0x02), "hostname is optional and not offered");
});

test("malformed RPCs get error 0x01", () => {
  const cases: number[][] = [
    [0x02, 0x05], // says 5 bytes follow, none do
    [0x01], // no length
    [0x01, 0x03, 0x05, 0x61, 0x62], // ssid longer than the data
    [0x01, 0x04, 0x01, 0x61, 0x05, 0x62], // password longer than the data
    [0x01, 0x05, 0x01, 0x61, 0x01, 0x62, 0x63], // a byte too many
    [0x01, 0x02, 0x00, 0x00], // empty ssid
    [0x01, 0x04, 0x02, 0xc3, 0x28, 0x00], // ssid is not UTF-8
    [0x01, 35, 33, ...ascii("a".repeat(33)), 0], // ssid longer than 32 bytes
  ];
  for (const data of cases) {
    const r = rig();
    r.feed([...packet(0x03, data), 0x0a]);
    assert.deepEqual(r.port.take(), error(0x01), JSON.stringify(data));
  }
});

test("packets of other types are ignored", () => {
  const r = rig();
  r.feed(sent(0x01, [0x02]));
  r.feed(sent(0x04, [0x02, 0x00]));
  assert.deepEqual(r.port.take(), []);
});

test("scan: one result per network, then an empty result", () => {
  const r = rig();
  r.feed(rpc(0x04));
  assert.deepEqual(r.port.take(), error(0x00));
  r.feed(rpc(0x04)); // asked again while scanning: the scan under way answers
  r.port.take();
  r.calls.pendingScan!([
    { ssid: "home", rssi: -48, secure: true },
    { ssid: "Café ☕", rssi: -71, secure: false },
  ]);
  assert.deepEqual(r.port.take(), [
    ...result(0x04, ["home", "-48", "YES"]),
    ...result(0x04, ["Café ☕", "-71", "NO"]),
    ...result(0x04, []),
  ]);
  r.feed(rpc(0x04));
  r.calls.pendingScan!([]);
  assert.deepEqual(r.port.take(), [...error(0x00), ...result(0x04, [])]);
});

test("Improv and the console share the port: text that merely starts like IMPROV reaches the console", () => {
  const r = rig();
  assert.equal(r.type("set wifi.ssid IMPORTANT\r").split("\r\n")[1], "staged wifi.ssid = IMPORTANT (save to apply)");
  assert.equal(r.type("set device.id IIMPROVE\r").split("\r\n")[1], "staged device.id = IIMPROVE (save to apply)");
  // "IIMPROV…": the second I starts the real header.
  r.feed([0x49, ...rpc(0x02)]);
  assert.deepEqual(r.port.take(), [0x49, ...ascii("\r\n"), ...error(0x00), ...state(0x02)]);
});

test("a packet after console output starts on a new line; the browser's trailing newline is swallowed", () => {
  const r = rig();
  r.console.start("thermocast 0.1.0");
  r.port.take();
  r.feed(rpc(0x02));
  assert.deepEqual(r.port.take(), [0x0d, 0x0a, ...error(0x00), ...state(0x02)], "no prompt for the \\n after the packet");
  r.feed([...packet(0x03, [0x02, 0x00]), 0x0d, 0x0a]);
  assert.deepEqual(r.port.take(), [...error(0x00), ...state(0x02)], "CRLF after a packet is swallowed too");
  assert.equal(r.type("get mode\r"), "get mode\r\nmode = always-on\r\n> ");
});

test("a packet that stops half-way is abandoned after a pause, and the console gets its input again", () => {
  const r = rig();
  r.feed([...ascii("IMPROV"), 1, 3, 200, 1, 2, 3]);
  r.wait(PACKET_GAP + 1);
  assert.equal(r.type("get mode\r"), "get mode\r\nmode = always-on\r\n> ");
  assert.equal(r.shared.receiver.abandoned, 1);
  // A header prefix followed by a pause is typed text after all.
  r.feed(ascii("IMP"));
  r.wait(PACKET_GAP + 1);
  assert.equal(r.type("\r"), "IMP\r\nunknown command 'IMP' (help lists the commands)\r\n> ");
});

test("dashboardUrl derives the browser URL from server.url", () => {
  assert.equal(dashboardUrl("ws://127.0.0.1:8080"), "http://127.0.0.1:8080/");
  assert.equal(dashboardUrl("wss://example.com/base?x=1"), "https://example.com/base/");
  assert.equal(dashboardUrl(""), "");
});
