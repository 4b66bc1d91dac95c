/*
 * Deep sleep, retained memory and reset reason on ESP32 (power.c). The SDK has no ESP32 deep-sleep API.
 */
class Power {
	/** An ArrayBuffer-like HostBuffer over RTC slow memory kept through deep sleep, or undefined if `bytes` is too many. */
	static retained(bytes) @ "xs_thermocast_power_retained";
	/** Sleeps `ms`, then the chip boots again from main(). Does not return. */
	static deepSleep(ms, wake) @ "xs_thermocast_power_deep_sleep";
	static resetReason() @ "xs_thermocast_power_reset_reason";
	static restart() @ "xs_thermocast_power_restart";
	/** ms: power.c takes an int32 of ms (the timer itself takes 64-bit µs). */
	static get maxSleep() { return 0x7fffffff; }
}
Object.freeze(Power);
export default Power;
