/*
 * `host/report` on the boards and the Moddable simulator: an event's line goes to the debug console (trace);
 * nothing reads the record. The Node simulator's stands in for it and keeps the record (simulator/moddable/report.ts).
 */
import type { DeviceEvent } from "../events";

export default function report(_event: DeviceEvent, text: string): void {
  trace(text, "\n");
}
