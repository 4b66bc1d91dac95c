/*
 * Deep sleep emulated on the Moddable desktop simulator, which has no sleep and no RTC memory: the
 * retained memory is an ArrayBuffer kept on the global object (the one thing an emulated sleep keeps),
 * and a sleep is a timer that runs main() again from scratch.
 */
import Timer from "timer";
import config from "mc/config";

const RETAINED = Symbol.for("thermocast.retained");
/**
 * The region's size: an ESP32's 4 KB, or the manifest's `retained` (tests/sdk/heap: the ESP8266's 472 B).
 * On the boards it is a host buffer outside the XS heap; here it is an ArrayBuffer in it (docs/memory.md).
 */
const REGION = config.retained ?? 4096;
const REASON = Symbol.for("thermocast.resetReason");

class Power {
	static retained(bytes) {
		// Like the boards: the whole region, whatever size was asked for.
		globalThis[RETAINED] ??= new ArrayBuffer(Math.max(bytes, REGION));
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
