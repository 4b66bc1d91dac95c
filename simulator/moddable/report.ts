/*
 * `host/report` (modules/host/report/trace.ts on the boards): the board keeps the event's record beside its
 * line on the console, for tests and tools to read the facts, not the wording.
 */
import type { DeviceEvent } from "../../modules/host/events";
import { hardware } from "./hardware";

export default function report(event: DeviceEvent, text: string): void {
  hardware().report(event, text);
}
