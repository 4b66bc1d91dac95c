/* Stand-in for ESP-IDF components/esp_wifi/include/esp_wifi.h and esp_wifi_types.h (the fields used). */
#include <stdint.h>
typedef int esp_err_t;
#define ESP_OK 0
#define ESP_ERR_WIFI_NOT_CONNECT 0x300A
typedef struct {
	uint8_t bssid[6];
	uint8_t ssid[33];
	uint8_t primary;
	int secondary;
	int8_t rssi;
} wifi_ap_record_t;
esp_err_t esp_wifi_sta_get_ap_info(wifi_ap_record_t *ap_info);
