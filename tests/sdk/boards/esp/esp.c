/*
 * ESP8266 calls made by modules/host/native/esp/*.c, stood in for on the desktop (standin.h). RTC memory
 * is 768 bytes in 4-byte blocks: 0-63 the system's, 64-191 the user's. It is kept in a file across runs,
 * garbage after a power-on. The SDK's rtctime (build/devices/esp/lib/rtc) keeps its clock in user slots
 * 0-9 (blocks 64-73) and rewrites them while the app runs, once anything has used Date: this stand-in
 * writes them at every boot, so an image placed over them is found corrupt.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include "standin.h"
#include "user_interface.h"

#define kRTCBytes (768)
#define kUserBlock (64)
#define kRTCTimeSlots (10)

static uint8_t gRTC[kRTCBytes];
static struct rst_info gResetInfo;

static void __attribute__((constructor)) powerOn(void)
{
	const char *reason = standInResetReason();
	if (strcmp(reason, "power-on"))
		standInLoad("rtc.bin", gRTC, sizeof(gRTC), 0xA5);
	else
		memset(gRTC, 0xA5, sizeof(gRTC));
	for (int slot = 0; slot < kRTCTimeSlots; slot++)
		memcpy(gRTC + (kUserBlock + slot) * 4, "rtct", 4);
	gResetInfo.reason = !strcmp(reason, "deep-sleep") ? REASON_DEEP_SLEEP_AWAKE : !strcmp(reason, "software") ? REASON_SOFT_RESTART : REASON_DEFAULT_RST;
	standInCall("esp8266 boot (%s)", reason);
}

static bool inUserMemory(uint8_t block, uint16_t size)
{
	return (block >= kUserBlock) && ((block * 4 + size) <= kRTCBytes) && !(size & 3);
}

bool system_rtc_mem_read(uint8_t src_addr, void *des_addr, uint16_t load_size)
{
	standInCall("system_rtc_mem_read block %u, %u bytes", src_addr, load_size);
	if (!inUserMemory(src_addr, load_size))
		return false;
	memcpy(des_addr, gRTC + src_addr * 4, load_size);
	return true;
}

bool system_rtc_mem_write(uint8_t des_addr, const void *src_addr, uint16_t save_size)
{
	standInCall("system_rtc_mem_write block %u, %u bytes", des_addr, save_size);
	if (!inUserMemory(des_addr, save_size))
		return false;
	memcpy(gRTC + des_addr * 4, src_addr, save_size);
	return true;
}

void system_deep_sleep_instant(uint32_t time_in_us)
{
	standInSave("rtc.bin", gRTC, sizeof(gRTC));
	standInCall("system_deep_sleep_instant: sleep %u us", time_in_us);
	standInReset("deep-sleep");
}

struct rst_info *system_get_rst_info(void)
{
	standInCall("system_get_rst_info %u", gResetInfo.reason);
	return &gResetInfo;
}

void system_restart(void)
{
	standInSave("rtc.bin", gRTC, sizeof(gRTC));
	standInCall("system_restart");
	standInReset("software");
}

uint8_t wifi_station_get_connect_status(void) { return STATION_GOT_IP; }
uint8_t wifi_get_channel(void) { return 6; }

bool wifi_station_get_config(struct station_config *config)
{
	static const uint8_t bssid[6] = {0x02, 0x54, 0x43, 0x00, 0x00, 0x01};
	memset(config, 0, sizeof(*config));
	config->bssid_set = 1;
	memcpy(config->bssid, bssid, 6);
	standInCall("wifi_station_get_config: channel 6");
	return true;
}

/* lwIP's order (a in the lowest byte) back to a.b.c.d, for the record. */
static const char *dotted(uint32_t addr, char *text)
{
	sprintf(text, "%u.%u.%u.%u", addr & 0xFF, (addr >> 8) & 0xFF, (addr >> 16) & 0xFF, addr >> 24);
	return text;
}

static bool gDhcp = true;

bool wifi_station_dhcpc_start(void)
{
	gDhcp = true;
	standInCall("wifi_station_dhcpc_start");
	return true;
}

bool wifi_station_dhcpc_stop(void)
{
	gDhcp = false;
	standInCall("wifi_station_dhcpc_stop");
	return true;
}

bool wifi_set_ip_info(uint8_t if_index, struct ip_info *info)
{
	char ip[16], mask[16], gw[16];
	if ((STATION_IF != if_index) || gDhcp) {
		standInCall("wifi_set_ip_info refused: interface %u, DHCP client %s", if_index, gDhcp ? "running" : "stopped");
		return false;		// the SDK takes an address only with its DHCP client stopped
	}
	standInCall("wifi_set_ip_info: %s mask %s gw %s", dotted(info->ip.addr, ip), dotted(info->netmask.addr, mask), dotted(info->gw.addr, gw));
	return true;
}

void dns_setserver(uint8_t numdns, ip_addr_t *dnsserver)
{
	char dns[16];
	standInCall("dns_setserver %u: %s", numdns, dotted(dnsserver->addr, dns));
}

// The SDK's ESP8266 port delivers a posted message on a later turn of the main loop; mcsim's loop is GLib's.
typedef struct { modMessageDeliver callback; void *the; void *refcon; } Posted;

static gboolean deliver(gpointer data)
{
	Posted *posted = data;
	posted->callback(posted->the, posted->refcon, NULL, 0);
	g_free(posted);
	return G_SOURCE_REMOVE;
}

int modMessagePostToMachine(void *the, uint8_t *message, uint16_t messageLength, modMessageDeliver callback, void *refcon)
{
	Posted *posted = g_new(Posted, 1);
	posted->callback = callback;
	posted->the = the;
	posted->refcon = refcon;
	g_idle_add(deliver, posted);
	return 0;
}
