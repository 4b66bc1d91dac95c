/*
 * thermocast: the access point the station is associated with, read as the SDK's net module reads "BSSID"
 * and "CHANNEL" on ESP8266 (modules/network/net/esp/modNet.c), into the caller's buffer rather than a string;
 * and a static address for the station (no DHCP exchange on a battery wake), as the ESP8266 Arduino core's
 * WiFi.config() sets one (wifi_station_dhcpc_stop, wifi_set_ip_info, lwIP's dns_setserver).
 */
#include <string.h>
#include "xsmc.h"
#include "xsHost.h"
#include "user_interface.h"
#include "lwip/dns.h"

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

/* a.b.c.d as the number a·2^24 + b·2^16 + c·2^8 + d, to lwIP's order (IP4_ADDR: a in the lowest byte). */
static uint32_t networkOrder(double value)
{
	uint32_t v = (uint32_t)value;
	return ((v >> 24) & 0xFF) | (((v >> 16) & 0xFF) << 8) | (((v >> 8) & 0xFF) << 16) | ((v & 0xFF) << 24);
}

/*
 * address(address, netmask, gateway, dns): stops the station's DHCP client and sets its address before the
 * association completes (the station then reports EVENT_STAMODE_GOT_IP on association with it). address 0
 * starts DHCP again. Returns whether it was applied.
 */
void xs_thermocast_wifi_ap_address(xsMachine *the)
{
	struct ip_info info;
	ip_addr_t dns;

	if (0 == (uint32_t)xsmcToNumber(xsArg(0))) {
		xsmcSetBoolean(xsResult, wifi_station_dhcpc_start());
		return;
	}
	wifi_station_dhcpc_stop();
	info.ip.addr = networkOrder(xsmcToNumber(xsArg(0)));
	info.netmask.addr = networkOrder(xsmcToNumber(xsArg(1)));
	info.gw.addr = networkOrder(xsmcToNumber(xsArg(2)));
	if (!wifi_set_ip_info(STATION_IF, &info)) {
		wifi_station_dhcpc_start();
		xsmcSetFalse(xsResult);
		return;
	}
	dns.addr = networkOrder(xsmcToNumber(xsArg(3)));
	dns_setserver(0, &dns);
	xsmcSetTrue(xsResult);
}
