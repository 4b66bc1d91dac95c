/*
 * Issue 17, item 4: `wifi.ip`, a static address for battery wakes (no DHCP exchange), read and applied
 * through native/wifi-ap's address(), and invalidated after a failed join as the remembered access point is:
 * a join with it that fails makes it suspect, the next radio wake tries DHCP; if that works (a strike) the
 * static address is tried once more, and dropped if it fails again (kept in the retained image's bits).
 * Always-on mode keeps DHCP.
 */
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { startServer, type RunningServer } from "../../server/server";
import { SimDevice } from "../../simulator/device";
import { VIRTUAL_EPOCH, VirtualClock } from "../../simulator/hardware/clock";
import { WakeState } from "../../modules/power/retained";
import { staticAddress } from "../../config/schema";

const MINUTE = 60_000;
/** On the simulated access point's network (192.168.4.0/24, hardware/wifi.ts). */
const FITS = "192.168.4.200/24,192.168.4.1";
/** A network the access point does not serve: joins, but nothing gets through. */
const WRONG = "10.0.0.50/24,10.0.0.1";

let cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup) await step();
  cleanup = [];
});

async function setUp(config: Record<string, unknown>) {
  const clock = new VirtualClock();
  const stop = clock.trackAllServers();
  const server: RunningServer = await startServer({ port: 0, dbPath: ":memory:", now: () => clock.now(), log: () => {} });
  server.db.registerDevice("kitchen-1", "kitchen-token-1", clock.now());
  const dev = new SimDevice({
    clock,
    config: {
      "device.id": "kitchen-1", "device.token": "kitchen-token-1", "server.url": `ws://127.0.0.1:${server.port}`, "wifi.ssid": "sim",
      "sample.interval": 60, "batch.size": 10, mode: "battery", ...config,
    },
  });
  cleanup.push(() => dev.powerOff(), () => server.close(), stop);
  return { clock, server, dev };
}

/** Every reading sampled up to the last full batch is stored once, as sampled. */
function assertExactlyOnce(server: RunningServer, dev: SimDevice, count: number): void {
  const rows = server.db.readings("kitchen-1", 0, VIRTUAL_EPOCH * 2).map((r) => [r.t, r.centi]);
  assert.ok(rows.length >= count, `${rows.length} stored`);
  assert.deepEqual(rows, dev.samples.slice(0, rows.length).map((s) => [s.at, s.value]));
}

test("battery: every join takes the static address, no DHCP, and spends less time joining than DHCP does", async () => {
  const withStatic = await setUp({ "wifi.ip": FITS });
  await withStatic.dev.boot();
  await withStatic.clock.advance(60 * MINUTE);
  const radio = withStatic.dev.hardware.wifi;
  assert.equal(radio.joins, 6);
  assert.equal(radio.staticJoins, 6, "each radio wake set the static address before its association");
  assertExactlyOnce(withStatic.server, withStatic.dev, 60);
  const staticJoining = withStatic.dev.hardware.energy.ms.joining;

  const dhcp = await setUp({});
  await dhcp.dev.boot();
  await dhcp.clock.advance(60 * MINUTE);
  assert.equal(dhcp.dev.hardware.wifi.staticJoins, 0);
  const dhcpJoining = dhcp.dev.hardware.energy.ms.joining;
  // Six joins, each without the DHCP exchange (Radio.addressMs).
  assert.equal(dhcpJoining - staticJoining, 6 * radio.addressMs, `joining ${staticJoining} ms against ${dhcpJoining} ms`);
});

test("always-on keeps DHCP whatever wifi.ip says", async () => {
  const { clock, dev } = await setUp({ mode: "always-on", "wifi.ip": FITS });
  await dev.boot();
  await clock.advance(15 * MINUTE);
  assert.ok(dev.hardware.wifi.joins >= 1);
  assert.equal(dev.hardware.wifi.staticJoins, 0);
});

test("a static address the network does not route: fails, DHCP works, fails again: dropped for DHCP", async () => {
  const { clock, server, dev } = await setUp({ "wifi.ip": WRONG });
  await dev.boot();
  await clock.advance(60 * MINUTE);
  const radio = dev.hardware.wifi;
  assert.equal(radio.staticJoins, 2, "two joins with the static address, a DHCP one between them, then DHCP only");
  assert.ok(radio.joins >= 6, `${radio.joins} joins`);
  assert.ok(dev.events.some((e) => e.kind === "link.retry"), "the failed join backed off");
  assertExactlyOnce(server, dev, 50);
  const rtc = dev.hardware.retained(0)!;
  const state = new WakeState(rtc, WakeState.capacityFor(rtc.byteLength, 2), 2);
  assert.equal(state.restore(), "restored");
  assert.equal(state.staticDropped, true, "dropped, in the retained image");
  assert.equal(state.useStaticAddress(staticAddress(WRONG)), false);
  assert.equal(state.useStaticAddress(staticAddress(FITS)), true, "a changed wifi.ip is tried afresh");
});

test("a failure that is not the address's (the server down): the static address is kept and used again after", async () => {
  const { clock, server, dev } = await setUp({ "wifi.ip": FITS });
  await dev.boot();
  await clock.advance(15 * MINUTE);
  const radio = dev.hardware.wifi;
  const before = radio.staticJoins;
  assert.ok(before >= 1);
  dev.hardware.network.refuse = true; // the server refuses: with the static address, and with DHCP
  await clock.advance(60 * MINUTE);
  const joinsDown = radio.joins, staticDown = radio.staticJoins;
  assert.ok(joinsDown - before >= 3, `${joinsDown - before} joins in the outage`);
  assert.ok(staticDown - before >= 2 && joinsDown - staticDown >= 1, "static and DHCP joins alternate while both fail");
  dev.hardware.network.refuse = false;
  await clock.advance(60 * MINUTE);
  const joinsAfter = radio.joins - joinsDown, staticAfter = radio.staticJoins - staticDown;
  assert.ok(joinsAfter >= 4 && staticAfter >= joinsAfter - 1, `${staticAfter} of ${joinsAfter} joins static since: at most one DHCP try`);
  const rtc = dev.hardware.retained(0)!;
  const state = new WakeState(rtc, WakeState.capacityFor(rtc.byteLength, 2), 2);
  state.restore();
  assert.equal(state.staticDropped, false, "kept");
  assertExactlyOnce(server, dev, 100);
});

test("WakeState: suspect after a failure with it, dropped when DHCP then works, cleared when DHCP fails too; the access point's channel untouched", () => {
  const memory = new ArrayBuffer(WakeState.bytesFor(16, 1));
  const state = new WakeState(memory, 16, 1);
  state.restore();
  const fixed = staticAddress(FITS)!;
  const bssid = Uint8Array.of(1, 2, 3, 4, 5, 6);
  state.rememberAccessPoint(bssid, 11);
  assert.equal(state.useStaticAddress(undefined), false);
  assert.equal(state.useStaticAddress(fixed), true);

  state.staticAddressOutcome(fixed, true, true);
  assert.equal(state.useStaticAddress(fixed), true, "worked: used again");
  state.staticAddressOutcome(fixed, true, false);
  assert.equal(state.useStaticAddress(fixed), false, "failed: suspect, DHCP next");
  state.staticAddressOutcome(fixed, false, false);
  assert.equal(state.useStaticAddress(fixed), true, "DHCP failed too: not the address's fault");
  state.staticAddressOutcome(fixed, true, false);
  assert.equal(state.staticDropped, false, "no strike: suspect again, not dropped");

  // An outage that ends between the two: DHCP works (a strike), the address works again: all cleared.
  state.staticAddressOutcome(fixed, false, true);
  assert.equal(state.useStaticAddress(fixed), true, "after a strike, tried again");
  state.staticAddressOutcome(fixed, true, true);
  state.staticAddressOutcome(fixed, true, false);
  state.staticAddressOutcome(fixed, false, true);
  assert.equal(state.staticDropped, false, "one strike since it last worked");

  // The address at fault: failed, DHCP worked, failed again: dropped.
  state.staticAddressOutcome(fixed, true, false);
  assert.equal(state.staticDropped, true, "failed right after a strike: dropped");
  assert.equal(state.useStaticAddress(fixed), false);
  state.staticAddressOutcome(fixed, false, true);
  assert.equal(state.useStaticAddress(fixed), false, "stays dropped");

  // Kept across a commit and a restore, beside the remembered access point.
  state.commit();
  const again = new WakeState(memory, 16, 1);
  assert.equal(again.restore(), "restored");
  assert.equal(again.staticDropped, true);
  assert.equal(again.channel, 11);
  const into = new Uint8Array(6);
  assert.equal(again.bssid(into), true);
  assert.deepEqual([...into], [...bssid]);
  again.rememberAccessPoint(undefined, 0);
  assert.equal(again.channel, 0);
  assert.equal(again.staticDropped, true, "forgetting the access point keeps the address's state");
});
