/*
 * thermocast: the access point the station is associated with, read as the SDK's net module reads "BSSID"
 * and "CHANNEL" on ESP8266 (modules/network/net/esp/modNet.c), into the caller's buffer rather than a string.
 */
#include <string.h>
#include "xsmc.h"
#include "xsHost.h"
#include "user_interface.h"

void xs_thermocast_wifi_ap_read(xsMachine *the)
{
	void *bssid;
	xsUnsignedValue count;
	struct station_config config;
	uint8_t channel, any = 0;
	int i;

	xsmcGetBufferWritable(xsArg(0), &bssid, &count);
	channel = (STATION_GOT_IP == wifi_station_get_connect_status()) ? wifi_get_channel() : 0;
	if ((count < 6) || !channel || !wifi_station_get_config(&config)) {
		xsmcSetInteger(xsResult, 0);
		return;
	}
	for (i = 0; i < 6; i++)
		any |= config.bssid[i];
	if (!any) {		// not recorded: join by name
		xsmcSetInteger(xsResult, 0);
		return;
	}
	memcpy(bssid, config.bssid, 6);
	xsmcSetInteger(xsResult, channel);
}
