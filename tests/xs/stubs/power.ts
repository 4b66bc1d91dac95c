/* `native/power` stub (modules/host/native/<platform>/power.js): retained memory in a buffer, sleeps recorded. */
import { stubs } from "./state";

let retained: ArrayBuffer | undefined;

export default class Power {
  static retained(bytes: number): ArrayBuffer | undefined {
    retained ??= new ArrayBuffer(bytes);
    return retained.byteLength >= bytes ? retained : undefined;
  }
  static get maxSleep(): number {
    return 0x7fffffff;
  }
  static deepSleep(ms: number, _wake: () => void): void {
    stubs.sleeps.push(ms);
  }
  static resetReason(): string {
    return "power-on";
  }
  static restart(): void {
    throw new Error("restart is not available in the XS tier");
  }
}
