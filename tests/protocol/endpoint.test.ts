/*
 * The endpoint rules both sides share (modules/protocol/endpoint.ts): one parser of the server URL, one
 * device-id rule, one protocol version.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkDeviceId, DEVICE_ID, deviceUrl, parseServerUrl, PROTOCOL_VERSION } from "../../modules/protocol/endpoint";
import { parseValue } from "../../config/schema";

test("a server URL: its parts, with default ports and a trimmed path", () => {
  assert.deepEqual(parseServerUrl("ws://10.0.0.5:9000"), { secure: false, host: "10.0.0.5", port: 9000, path: "/" });
  assert.deepEqual(parseServerUrl("wss://example.com/base/"), { secure: true, host: "example.com", port: 443, path: "/base" });
  assert.deepEqual(parseServerUrl("ws://example.com"), { secure: false, host: "example.com", port: 80, path: "/" });
  assert.deepEqual(parseServerUrl("ws://[::1]:8080/x"), { secure: false, host: "[::1]", port: 8080, path: "/x" });
});

test("a server URL with a query, a fragment, no host, a bad port or spaces is refused", () => {
  for (const url of ["ws://h/x?a=1", "ws://h:80#top", "ws://h?", "http://h", "ws://", "ws://:80", "ws://h:0", "ws://h:65536", "ws://h:8o", "ws://a b"]) {
    assert.equal(typeof parseServerUrl(url), "string", url);
    // The config schema judges server.url with the same parser.
    assert.equal(parseValue("server.url", url).ok, false, url);
  }
});

test("the device URL is the server URL, the device path and the id", () => {
  assert.equal(deviceUrl("ws://h:1/", "a"), "ws://h:1/v1/device/a");
  assert.equal(deviceUrl("ws://h:1/base//", "a"), "ws://h:1/base/v1/device/a");
});

test("a device id: 1 to 32 of [A-Za-z0-9_.-], not . or .., the same for the schema and the server's regex", () => {
  for (const id of ["a", "x".repeat(32), "lab-1.room_2", "..a"]) {
    assert.equal(checkDeviceId(id), undefined, id);
    assert.ok(DEVICE_ID.test(id), id);
    assert.equal(parseValue("device.id", id).ok, true, id);
  }
  for (const id of ["", ".", "..", "x".repeat(33), "a/b", "é", "a b"]) {
    assert.equal(typeof checkDeviceId(id), "string", id);
    assert.ok(!DEVICE_ID.test(id), id);
    assert.equal(parseValue("device.id", id).ok, false, id);
  }
});

test("one protocol version", () => {
  assert.equal(PROTOCOL_VERSION, 1);
});
