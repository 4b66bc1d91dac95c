/*
 * Stand-in for ESP-IDF components/esp_netif/include/esp_netif.h, esp_netif_types.h and esp_netif_ip_addr.h
 * (the declarations modules/host/native/esp32/wifi-ap.c uses, with the real names, values and signatures).
 */
#include <stdint.h>
typedef int esp_err_t;
#define ESP_ERR_ESP_NETIF_BASE 0x5000
#define ESP_ERR_ESP_NETIF_DHCP_ALREADY_STARTED (ESP_ERR_ESP_NETIF_BASE + 0x04)
#define ESP_ERR_ESP_NETIF_DHCP_ALREADY_STOPPED (ESP_ERR_ESP_NETIF_BASE + 0x05)

typedef struct esp_netif_obj esp_netif_t;
typedef struct { uint32_t addr; } esp_ip4_addr_t;
typedef struct { uint32_t addr[4]; uint8_t zone; } esp_ip6_addr_t;
#define ESP_IPADDR_TYPE_V4 0
typedef struct {
	union { esp_ip6_addr_t ip6; esp_ip4_addr_t ip4; } u_addr;
	uint8_t type;
} esp_ip_addr_t;
typedef struct { esp_ip4_addr_t ip, netmask, gw; } esp_netif_ip_info_t;
typedef struct { esp_ip_addr_t ip; } esp_netif_dns_info_t;
typedef enum { ESP_NETIF_DNS_MAIN = 0, ESP_NETIF_DNS_BACKUP, ESP_NETIF_DNS_FALLBACK, ESP_NETIF_DNS_MAX } esp_netif_dns_type_t;

/* esp_netif_htonl(ESP_IP4TOUINT32(a, b, c, d)) on a little-endian chip: a in the lowest byte. */
#define ESP_IP4TOADDR(a, b, c, d) ((uint32_t)(((a) & 0xFF) | (((b) & 0xFF) << 8) | (((c) & 0xFF) << 16) | ((uint32_t)((d) & 0xFF) << 24)))

esp_netif_t *esp_netif_get_handle_from_ifkey(const char *if_key);
esp_err_t esp_netif_dhcpc_start(esp_netif_t *esp_netif);
esp_err_t esp_netif_dhcpc_stop(esp_netif_t *esp_netif);
esp_err_t esp_netif_set_ip_info(esp_netif_t *esp_netif, const esp_netif_ip_info_t *ip_info);
esp_err_t esp_netif_set_dns_info(esp_netif_t *esp_netif, esp_netif_dns_type_t type, esp_netif_dns_info_t *dns);
