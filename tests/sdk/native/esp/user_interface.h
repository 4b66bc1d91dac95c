/* ESP8266 NONOS SDK include/user_interface.h (as the Moddable ESP8266 core ships it) */
#include <stdint.h>
#include <stdbool.h>
enum rst_reason {
	REASON_DEFAULT_RST = 0, REASON_WDT_RST = 1, REASON_EXCEPTION_RST = 2, REASON_SOFT_WDT_RST = 3,
	REASON_SOFT_RESTART = 4, REASON_DEEP_SLEEP_AWAKE = 5, REASON_EXT_SYS_RST = 6,
};
struct rst_info { uint32_t reason, exccause, epc1, epc2, epc3, excvaddr, depc; };
struct rst_info *system_get_rst_info(void);
bool system_rtc_mem_read(uint8_t src_addr, void *des_addr, uint16_t load_size);
bool system_rtc_mem_write(uint8_t des_addr, const void *src_addr, uint16_t save_size);
void system_restart(void);
