/*
 * Stand-in for the ESP8266 NONOS SDK's include/user_interface.h (as the Moddable ESP8266 core ships it):
 * the calls modules/host/native/esp/*.c make. Also the two calls of the SDK's ESP8266 port
 * (xs/platforms/esp/xsHost.h) that power.c makes and the desktop port lacks.
 */
#include <stdint.h>
#include <stdbool.h>
#include <unistd.h>

enum rst_reason {
	REASON_DEFAULT_RST = 0, REASON_WDT_RST = 1, REASON_EXCEPTION_RST = 2, REASON_SOFT_WDT_RST = 3,
	REASON_SOFT_RESTART = 4, REASON_DEEP_SLEEP_AWAKE = 5, REASON_EXT_SYS_RST = 6,
};
struct rst_info { uint32_t reason, exccause, epc1, epc2, epc3, excvaddr, depc; };
struct rst_info *system_get_rst_info(void);
bool system_rtc_mem_read(uint8_t src_addr, void *des_addr, uint16_t load_size);
bool system_rtc_mem_write(uint8_t des_addr, const void *src_addr, uint16_t save_size);
void system_restart(void);
struct station_config { uint8_t ssid[32]; uint8_t password[64]; uint8_t bssid_set; uint8_t bssid[6]; };
bool wifi_station_get_config(struct station_config *config);
uint8_t wifi_get_channel(void);
enum { STATION_IDLE = 0, STATION_CONNECTING, STATION_WRONG_PASSWORD, STATION_NO_AP_FOUND, STATION_CONNECT_FAIL, STATION_GOT_IP };
uint8_t wifi_station_get_connect_status(void);
#include "lwip/dns.h"
struct ip_info { struct ip_addr ip; struct ip_addr netmask; struct ip_addr gw; };
#define STATION_IF 0x00
bool wifi_station_dhcpc_start(void);
bool wifi_station_dhcpc_stop(void);
bool wifi_set_ip_info(uint8_t if_index, struct ip_info *info);

// xs/platforms/esp/xsHost.h
typedef void (*modMessageDeliver)(void *the, void *refcon, uint8_t *message, uint16_t messageLength);
int modMessagePostToMachine(void *the, uint8_t *message, uint16_t messageLength, modMessageDeliver callback, void *refcon);
#undef modDelayMilliseconds
#define modDelayMilliseconds(ms) usleep((ms) * 1000)
