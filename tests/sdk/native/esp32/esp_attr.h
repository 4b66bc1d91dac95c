/* ESP-IDF components/esp_common/include/esp_attr.h */
#define RTC_NOINIT_ATTR __attribute__((section(".rtc_noinit")))
