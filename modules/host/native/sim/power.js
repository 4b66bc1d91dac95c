/*
 * Deep sleep emulated on the Moddable desktop simulator, which has no sleep and no RTC memory: the
 * retained memory is an ArrayBuffer kept on the global object (the one thing an emulated sleep keeps),
 * and a sleep is a timer that runs main() again from scratch.
 */
import Timer from "timer";

const RETAINED = Symbol.for("thermocast.retained");
const REASON = Symbol.for("thermocast.resetReason");

class Power {
	static retained(bytes) {
		// Like the boards: the whole region (an ESP32-sized 4 KB), whatever size was asked for.
		globalThis[RETAINED] ??= new ArrayBuffer(Math.max(bytes, 4096));
		return globalThis[RETAINED].byteLength >= bytes ? globalThis[RETAINED] : undefined;
	}
	static deepSleep(ms, wake) {
		trace(`power: deep sleep ${ms} ms (emulated)\n`);
		globalThis[REASON] = "deep-sleep";
		Timer.set(() => wake(), ms);
	}
	static resetReason() {
		return globalThis[REASON] ?? "power-on";
	}
	static get maxSleep() {
		return 0x7fffffff; // a Timer's delay
	}
	static restart() {
		// A throw here would abort XS from inside a timer; the desktop cannot reset the app, so it says so.
		trace("power: restart is not emulated on the desktop: quit mcsim and start it again\n");
	}
}
Object.freeze(Power);
export default Power;
