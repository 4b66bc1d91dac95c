/*
 * ESP-IDF calls made by modules/host/native/esp32/*.c, stood in for on the desktop (standin.h). RTC slow
 * memory is the RTC_NOINIT_ATTR section: kept in a file across runs, garbage after a power-on.
 */
#include <stdio.h>
#include <string.h>
#include "standin.h"
#include "esp_sleep.h"
#include "esp_system.h"
#include "esp_wifi.h"
#include "esp_netif.h"

extern uint8_t __start_rtc_noinit[], __stop_rtc_noinit[];
static uint64_t gWakeupUs;

static void __attribute__((constructor)) powerOn(void)
{
	size_t size = __stop_rtc_noinit - __start_rtc_noinit;
	if (strcmp(standInResetReason(), "power-on"))
		standInLoad("rtc.bin", __start_rtc_noinit, size, 0xA5);
	else
		memset(__start_rtc_noinit, 0xA5, size);
	standInCall("esp32 boot (%s), %u bytes of RTC_NOINIT", standInResetReason(), (unsigned)size);
}

esp_err_t esp_sleep_enable_timer_wakeup(uint64_t time_in_us)
{
	gWakeupUs = time_in_us;
	standInCall("esp_sleep_enable_timer_wakeup %llu", (unsigned long long)time_in_us);
	return 0;
}

void esp_deep_sleep_start(void)
{
	standInSave("rtc.bin", __start_rtc_noinit, __stop_rtc_noinit - __start_rtc_noinit);
	standInCall("esp_deep_sleep_start: sleep %llu us", (unsigned long long)gWakeupUs);
	standInReset("deep-sleep");
}

esp_reset_reason_t esp_reset_reason(void)
{
	const char *reason = standInResetReason();
	standInCall("esp_reset_reason %s", reason);
	if (!strcmp(reason, "deep-sleep")) return ESP_RST_DEEPSLEEP;
	if (!strcmp(reason, "software")) return ESP_RST_SW;
	return ESP_RST_POWERON;
}

void esp_restart(void)
{
	standInSave("rtc.bin", __start_rtc_noinit, __stop_rtc_noinit - __start_rtc_noinit);
	standInCall("esp_restart");
	standInReset("software");
}

esp_err_t esp_wifi_sta_get_ap_info(wifi_ap_record_t *ap_info)
{
	static const uint8_t bssid[6] = {0x02, 0x54, 0x43, 0x00, 0x00, 0x01};
	memset(ap_info, 0, sizeof(*ap_info));
	memcpy(ap_info->bssid, bssid, 6);
	ap_info->primary = 6;
	standInCall("esp_wifi_sta_get_ap_info: channel 6");
	return ESP_OK;
}

/* lwIP's order (a in the lowest byte) back to a.b.c.d, for the record. */
static const char *dotted(uint32_t addr, char *text)
{
	sprintf(text, "%u.%u.%u.%u", addr & 0xFF, (addr >> 8) & 0xFF, (addr >> 16) & 0xFF, addr >> 24);
	return text;
}

struct esp_netif_obj { int dhcp; };
static struct esp_netif_obj gStation = { 1 };

esp_netif_t *esp_netif_get_handle_from_ifkey(const char *if_key)
{
	standInCall("esp_netif_get_handle_from_ifkey %s", if_key);
	return strcmp(if_key, "WIFI_STA_DEF") ? NULL : &gStation;
}

esp_err_t esp_netif_dhcpc_start(esp_netif_t *esp_netif)
{
	standInCall("esp_netif_dhcpc_start");
	if (esp_netif->dhcp) return ESP_ERR_ESP_NETIF_DHCP_ALREADY_STARTED;
	esp_netif->dhcp = 1;
	return ESP_OK;
}

esp_err_t esp_netif_dhcpc_stop(esp_netif_t *esp_netif)
{
	standInCall("esp_netif_dhcpc_stop");
	if (!esp_netif->dhcp) return ESP_ERR_ESP_NETIF_DHCP_ALREADY_STOPPED;
	esp_netif->dhcp = 0;
	return ESP_OK;
}

esp_err_t esp_netif_set_ip_info(esp_netif_t *esp_netif, const esp_netif_ip_info_t *ip_info)
{
	char ip[16], mask[16], gw[16];
	if (esp_netif->dhcp) {
		standInCall("esp_netif_set_ip_info refused: the DHCP client is running");
		return ESP_ERR_ESP_NETIF_DHCP_ALREADY_STARTED;
	}
	standInCall("esp_netif_set_ip_info: %s mask %s gw %s", dotted(ip_info->ip.addr, ip), dotted(ip_info->netmask.addr, mask), dotted(ip_info->gw.addr, gw));
	return ESP_OK;
}

esp_err_t esp_netif_set_dns_info(esp_netif_t *esp_netif, esp_netif_dns_type_t type, esp_netif_dns_info_t *dns)
{
	char text[16];
	standInCall("esp_netif_set_dns_info %d: %s", (int)type, dns->ip.type == ESP_IPADDR_TYPE_V4 ? dotted(dns->ip.u_addr.ip4.addr, text) : "not IPv4");
	return ESP_OK;
}
