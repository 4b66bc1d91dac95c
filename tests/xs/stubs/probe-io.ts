/* `native/probe-io` stub (modules/host/native/<platform>/probe-io): no probe I/O, as on the desktop simulator. */
import type { ProbeIo } from "../../../sensors/probe-io";

const none: ProbeIo | undefined = undefined;
export default none;
