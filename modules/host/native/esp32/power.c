/*
 * thermocast: deep sleep, retained memory and reset reason on ESP32, after the SDK's own native modules
 * (modules/io/system/system.c). RTC_NOINIT memory keeps its contents through deep sleep and soft resets,
 * not through a power loss: the firmware checks it (magic + CRC-32) before trusting it.
 */
#include "xsmc.h"
#include "mc.xs.h"		// xsID_byteLength
#include "xsHost.h"

#include "esp_sleep.h"
#include "esp_system.h"
#include "esp_attr.h"

// ESP32 has 8 KB of RTC slow memory; half is ours (the reading store of docs/power.md fits in 4 KB).
#define kRetainedBytes (4096)

static RTC_NOINIT_ATTR uint64_t gRetained[kRetainedBytes / sizeof(uint64_t)];

void xs_thermocast_power_retained(xsMachine *the)
{
	int bytes = xsmcToInteger(xsArg(0));
	if ((bytes < 0) || (bytes > kRetainedBytes))
		return;		// undefined: the platform has not that much
	// A host buffer goes on a host object, and JS reads its byteLength (the SDK's pattern in modZip.c).
	xsResult = xsNewHostObject(NULL);
	xsmcSetHostBuffer(xsResult, (void *)gRetained, kRetainedBytes);
	xsmcVars(1);
	xsmcSetInteger(xsVar(0), kRetainedBytes);
	xsmcDefine(xsResult, xsID_byteLength, xsVar(0), xsDontDelete | xsDontSet);
}

void xs_thermocast_power_deep_sleep(xsMachine *the)
{
	int ms = xsmcToInteger(xsArg(0));
	if (ms < 1)
		ms = 1;
	esp_sleep_enable_timer_wakeup((uint64_t)ms * 1000);
	esp_deep_sleep_start();		// does not return
}

void xs_thermocast_power_reset_reason(xsMachine *the)
{
	const char *reason;
	switch (esp_reset_reason()) {
		case ESP_RST_POWERON:	reason = "power-on"; break;
		case ESP_RST_DEEPSLEEP:	reason = "deep-sleep"; break;
		case ESP_RST_SW:		reason = "software"; break;
		case ESP_RST_PANIC:		reason = "panic"; break;
		case ESP_RST_INT_WDT:
		case ESP_RST_TASK_WDT:
		case ESP_RST_WDT:		reason = "watchdog"; break;
		case ESP_RST_BROWNOUT:	reason = "brownout"; break;
		default:				reason = "unknown"; break;
	}
	xsmcSetString(xsResult, (char *)reason);
}

void xs_thermocast_power_restart(xsMachine *the)
{
	esp_restart();
}
