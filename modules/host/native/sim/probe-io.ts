/*
 * `native/probe-io` on the desktop simulator (mcsim, lin and mac): no probe I/O. A hardware probe type
 * then reports no-device on every slot, and `probe.type = simulated` is the probe that reads
 * (sensors/select.ts). The Node simulator has its own, over modelled buses (simulator/moddable/probe-io.ts).
 */
import type { ProbeIo } from "../../../../sensors/probe-io";

const none: ProbeIo | undefined = undefined;
export default none;
