/*
 * thermocast: the access point the station is associated with, read as the SDK's net module reads "BSSID"
 * and "CHANNEL" (modules/network/net/esp/modNet.c), into the caller's buffer rather than a string.
 */
#include <string.h>
#include "xsmc.h"
#include "xsHost.h"

#include "esp_wifi.h"

void xs_thermocast_wifi_ap_read(xsMachine *the)
{
	void *bssid;
	xsUnsignedValue count;
	wifi_ap_record_t info;

	xsmcGetBufferWritable(xsArg(0), &bssid, &count);
	if ((count < 6) || (ESP_OK != esp_wifi_sta_get_ap_info(&info))) {
		xsmcSetInteger(xsResult, 0);
		return;
	}
	memcpy(bssid, info.bssid, 6);
	xsmcSetInteger(xsResult, info.primary);
}
