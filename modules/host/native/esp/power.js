/*
 * Deep sleep, retained memory and reset reason on ESP8266 (power.c): RTC user memory is copied in at boot and out before sleep.
 */
class Power {
	/** An ArrayBuffer-like HostBuffer over a RAM copy of RTC user memory, or undefined if `bytes` is too many. */
	static retained(bytes) @ "xs_thermocast_power_retained";
	/** Sleeps `ms`, then the chip boots again from main(). Does not return. */
	static deepSleep(ms, wake) @ "xs_thermocast_power_deep_sleep";
	static resetReason() @ "xs_thermocast_power_reset_reason";
	static restart() @ "xs_thermocast_power_restart";
	/** Writes the RAM copy through to RTC user memory (a commit of modules/power/retained.ts). */
	static commit() @ "xs_thermocast_power_commit";
	/** ms: system_deep_sleep takes µs in a uint32 (71.6 min); a round hour leaves room for its clock's drift. */
	static get maxSleep() { return 3600000; }
}
Object.freeze(Power);
export default Power;
