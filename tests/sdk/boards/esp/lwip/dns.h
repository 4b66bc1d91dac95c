/*
 * Stand-in for lwIP 1.4's lwip/dns.h and ip_addr.h as the ESP8266 core ships them (the declarations
 * modules/host/native/esp/wifi-ap.c uses).
 */
#ifndef __THERMOCAST_STANDIN_LWIP_DNS__
#define __THERMOCAST_STANDIN_LWIP_DNS__
#include <stdint.h>
struct ip_addr { uint32_t addr; };
typedef struct ip_addr ip_addr_t;
void dns_setserver(uint8_t numdns, ip_addr_t *dnsserver);
#endif
