/*
 * thermocast: deep sleep, retained memory and reset reason on ESP8266, after the SDK's own native modules
 * (modules/io/system/system.c). RTC user memory is not memory-mapped: it is read into a RAM copy on first
 * use and written back just before sleep. It keeps its contents through deep sleep, not a power loss: the
 * firmware checks it (magic + CRC-32) before trusting it.
 */
#include "xsmc.h"
#include "mc.xs.h"		// xsID_byteLength
#include "xsHost.h"
#include "user_interface.h"

// RTC user memory is blocks 64-191 (512 bytes). The SDK's rtctime keeps its clock in the first 10 of them
// (RTC_TIME_BASE 0 to RTC_LASTTODUS_POS 9 in build/devices/esp/lib/rtc/rtctime_internal.h) and rewrites
// them while the app runs once Date is used: ours is the rest, blocks 74-191.
#define kRTCUserBlock (64 + 10)
#define kRetainedBytes ((192 - kRTCUserBlock) * 4)
#define kMaxSleepMs (3600000)		// Power.maxSleep in power.js

// Not in the core's user_interface.h; the SDK's own system.c declares it the same way.
extern void system_deep_sleep_instant(uint32_t time_in_us);

static uint32_t gRetained[kRetainedBytes / 4];
static uint8_t gLoaded;

void xs_thermocast_power_retained(xsMachine *the)
{
	int bytes = xsmcToInteger(xsArg(0));
	if ((bytes < 0) || (bytes > kRetainedBytes))
		return;		// undefined: the platform has not that much
	if (!gLoaded) {
		system_rtc_mem_read(kRTCUserBlock, gRetained, kRetainedBytes);
		gLoaded = 1;
	}
	// A host buffer goes on a host object, and JS reads its byteLength (the SDK's pattern in modZip.c).
	xsResult = xsNewHostObject(NULL);
	xsmcSetHostBuffer(xsResult, (void *)gRetained, kRetainedBytes);
	xsmcVars(1);
	xsmcSetInteger(xsVar(0), kRetainedBytes);
	xsmcDefine(xsResult, xsID_byteLength, xsVar(0), xsDontDelete | xsDontSet);
}

// The image is whole in the RAM copy (modules/power/retained.ts commits): write it through, so that a reset
// during the wake (watchdog, panic, brownout, a console reboot) finds it. 472 bytes of register writes.
void xs_thermocast_power_commit(xsMachine *the)
{
	if (gLoaded)
		system_rtc_mem_write(kRTCUserBlock, gRetained, kRetainedBytes);
}

static void deepSleepDeliver(void *notThe, void *refcon, uint8_t *message, uint16_t messageLength)
{
	system_deep_sleep_instant((uintptr_t)refcon);
}

void xs_thermocast_power_deep_sleep(xsMachine *the)
{
	// µs in a uint32: 71.6 minutes at most. JS takes longer sleeps in steps of Power.maxSleep (power.js).
	int ms = xsmcToInteger(xsArg(0));
	if (ms < 1)
		ms = 1;
	else if (ms > kMaxSleepMs)
		ms = kMaxSleepMs;
	uint32_t us = (uint32_t)ms * 1000;
	if (gLoaded)
		system_rtc_mem_write(kRTCUserBlock, gRetained, kRetainedBytes);
	// As the SDK's System.deepSleep: sleep from a fresh turn, after the current callback has returned.
	modMessagePostToMachine(the, NULL, 0, deepSleepDeliver, (void *)(uintptr_t)us);
}

void xs_thermocast_power_reset_reason(xsMachine *the)
{
	const char *reason;
	switch (system_get_rst_info()->reason) {
		case REASON_DEFAULT_RST:		reason = "power-on"; break;
		case REASON_DEEP_SLEEP_AWAKE:	reason = "deep-sleep"; break;
		case REASON_SOFT_RESTART:		reason = "software"; break;
		case REASON_EXCEPTION_RST:		reason = "panic"; break;
		case REASON_WDT_RST:
		case REASON_SOFT_WDT_RST:		reason = "watchdog"; break;
		case REASON_EXT_SYS_RST:		reason = "external"; break;
		default:						reason = "unknown"; break;
	}
	xsmcSetString(xsResult, (char *)reason);
}

void xs_thermocast_power_restart(xsMachine *the)
{
	system_restart();
	while (1)
		modDelayMilliseconds(1000);
}
