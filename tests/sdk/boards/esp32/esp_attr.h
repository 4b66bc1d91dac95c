/* Stand-in for ESP-IDF components/esp_common/include/esp_attr.h. The section is named without the real
 * one's leading dot so that the linker defines __start_/__stop_ symbols for it (esp32.c keeps it in a file). */
#define RTC_NOINIT_ATTR __attribute__((section("rtc_noinit")))
