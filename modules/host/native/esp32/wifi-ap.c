/*
 * thermocast: the access point the station is associated with, read as the SDK's net module reads "BSSID"
 * and "CHANNEL" (modules/network/net/esp/modNet.c), into the caller's buffer rather than a string; and a
 * static address for the station (no DHCP exchange on a battery wake), set through esp_netif.
 */
#include <string.h>
#include "xsmc.h"
#include "xsHost.h"

#include "esp_wifi.h"
#include "esp_netif.h"

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

/* a.b.c.d as the number a·2^24 + b·2^16 + c·2^8 + d, to lwIP's order (ESP_IP4TOADDR: a in the lowest byte). */
static uint32_t networkOrder(double value)
{
	uint32_t v = (uint32_t)value;
	return ESP_IP4TOADDR((v >> 24) & 0xFF, (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF);
}

/*
 * address(address, netmask, gateway, dns): stops the station's DHCP client and sets its address, after
 * `new WiFi()` (which creates the station's netif) and before the association completes: on association
 * esp_netif then reports IP_EVENT_STA_GOT_IP at once with this address. address 0 starts DHCP again.
 * Returns whether it was applied (false: no station netif yet, or esp_netif refused).
 */
void xs_thermocast_wifi_ap_address(xsMachine *the)
{
	esp_netif_t *netif = esp_netif_get_handle_from_ifkey("WIFI_STA_DEF");
	esp_netif_ip_info_t info;
	esp_netif_dns_info_t dns;
	esp_err_t err;

	xsmcSetFalse(xsResult);
	if (NULL == netif)
		return;
	if (0 == (uint32_t)xsmcToNumber(xsArg(0))) {
		err = esp_netif_dhcpc_start(netif);
		xsmcSetBoolean(xsResult, (ESP_OK == err) || (ESP_ERR_ESP_NETIF_DHCP_ALREADY_STARTED == err));
		return;
	}
	err = esp_netif_dhcpc_stop(netif);
	if ((ESP_OK != err) && (ESP_ERR_ESP_NETIF_DHCP_ALREADY_STOPPED != err))
		return;
	memset(&info, 0, sizeof(info));
	info.ip.addr = networkOrder(xsmcToNumber(xsArg(0)));
	info.netmask.addr = networkOrder(xsmcToNumber(xsArg(1)));
	info.gw.addr = networkOrder(xsmcToNumber(xsArg(2)));
	if (ESP_OK != esp_netif_set_ip_info(netif, &info)) {
		esp_netif_dhcpc_start(netif);
		return;
	}
	memset(&dns, 0, sizeof(dns));
	dns.ip.type = ESP_IPADDR_TYPE_V4;
	dns.ip.u_addr.ip4.addr = networkOrder(xsmcToNumber(xsArg(3)));
	esp_netif_set_dns_info(netif, ESP_NETIF_DNS_MAIN, &dns);
	xsmcSetTrue(xsResult);
}
