/*
 * The one renderer of events to console lines: the board's trace (and mcsim's, which tests/sdk read) says
 * what it said before events were records. Every other test reads the records.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { eventText, type DeviceEvent } from "../../modules/host/events";
import { LinkError, LinkEvent, LinkState } from "../../modules/link/link";

const LINES: [DeviceEvent, string][] = [
  [{ kind: "boot", version: "0.1.0", boot: 3, resetReason: "power-on", id: "kitchen-1" }, "thermocast 0.1.0 boot 3 (power-on) as kitchen-1"],
  [{ kind: "config.warning", warning: "stored: sample.interval must be at least 1" }, "config: stored: sample.interval must be at least 1"],
  [{ kind: "config.changed", keys: ["sample.interval", "batch.size"] }, "config: changed sample.interval, batch.size"],
  [{ kind: "power.corrupt", corrupt: 2, lost: 17 }, "power: retained image corrupt, discarded (2 so far, 17 readings lost)"],
  [{ kind: "power.noRetained" }, "power: no retained memory on this platform, running always-on"],
  [{ kind: "heap", slots: 10240, chunks: 4096, readings: 100 }, "heap: 10240 slot bytes, 4096 chunk bytes after 100 readings"],
  [
    { kind: "link.retry", delayMs: 712, boundMs: 1000, error: LinkError.Connect, from: LinkState.Online, on: LinkEvent.Closed, reason: "connection closed" },
    "link: retry in 712 ms of 1000 (connection closed)",
  ],
  [{ kind: "link.suspended", error: LinkError.Rejected, reason: "server: revoked" }, "link: suspended: server: revoked"],
  [{ kind: "uplink.ignored", frame: '{"t":"what"}' }, 'uplink: ignored frame {"t":"what"}'],
  [{ kind: "uplink.ignored", frame: "x".repeat(81) }, `uplink: ignored frame ${"x".repeat(80)}…`],
  [{ kind: "uplink.unknownAck", seq: 7 }, "uplink: ack for unknown batch 7"],
  [{ kind: "uplink.serverError", code: "bad-frame", message: "no seq" }, "uplink: server error bad-frame: no seq"],
  [{ kind: "probe.noIo", probe: "tmp117" }, "probe: tmp117: this platform has no probe I/O, reporting no-device"],
  [{ kind: "probe.cannotOpen", probe: "ntc", error: "inUse" }, "probe: ntc: cannot open (inUse), reporting no-device"],
  [{ kind: "probe.i2c", probe: "sht4x", address: 0, data: 21, clock: 22 }, "probe: sht4x at its own address on SDA GPIO21, SCL GPIO22"],
  [{ kind: "probe.i2c", probe: "tmp117", address: 0x49, data: 21, clock: 22 }, "probe: tmp117 at 0x49 on SDA GPIO21, SCL GPIO22"],
  [{ kind: "probe.onewire", gpio: 4, rom: "28-0316a2795aff", more: 1 }, "probe: ds18b20 on GPIO4: 28-0316a2795aff, 1 more not sampled"],
  [{ kind: "probe.onewire", gpio: 13, rom: "", more: 0 }, "probe: ds18b20 on GPIO13: none found yet"],
  [{ kind: "probe.ntc", gpio: 33, power: 25 }, "probe: ntc on ADC GPIO33, powered from GPIO25"],
  [{ kind: "probe.ntc", gpio: 34, power: -1 }, "probe: ntc on ADC GPIO34"],
];

test("each event's console line", () => {
  for (const [event, line] of LINES) assert.equal(eventText(event), line, event.kind);
});
