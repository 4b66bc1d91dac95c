/*
 * The fakes below replace Moddable host modules inside a simulated device's vm context. They keep no
 * state of their own: each call goes to the board's hardware object, found at `globalThis.__hardware`.
 */
import type { Hardware } from "../hardware/hardware";

export function hardware(): Hardware {
  const found = (globalThis as { __hardware?: Hardware }).__hardware;
  if (!found) throw new Error("no simulated hardware here: Moddable fakes run only inside a SimDevice");
  return found;
}

/** An ArrayBuffer from the Node side, copied into this realm (so `instanceof ArrayBuffer` holds). */
export function local<T>(value: T): T {
  return (typeof value === "object" && value !== null && Object.prototype.toString.call(value) === "[object ArrayBuffer]"
    ? new Uint8Array(value as unknown as ArrayBuffer).slice().buffer
    : value) as T;
}
