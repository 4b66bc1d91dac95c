/*
 * The boards' vendor calls, stood in for on the desktop so that the boards' own C
 * (modules/host/native/{esp32,esp}/*.c) runs in mcsim. What a chip keeps across a reset (its RTC memory,
 * why it reset) is kept in files in $THERMOCAST_BOARD_DIR, so that one mcsim run is one boot or wake:
 * a deep sleep or a restart saves them and ends the process, and the next mcsim run starts from them.
 * Every vendor call is recorded (calls.log there, and a "standin:" line on stdout for the harness).
 */
#ifndef __THERMOCAST_STANDIN__
#define __THERMOCAST_STANDIN__

#include <stddef.h>
#include <stdint.h>

/** Fills `data` from the file `name`, or with `garbage` when there is none (memory after a power-on). */
void standInLoad(const char *name, void *data, size_t size, uint8_t garbage);
void standInSave(const char *name, const void *data, size_t size);
/**
 * What ended the previous run: "deep-sleep" or "software" (a reset of ours), else "power-on" (no previous
 * run, or one that was killed: a power cycle, after which the RTC memory holds garbage).
 */
const char *standInResetReason(void);
/** Records one vendor call. */
void standInCall(const char *format, ...) __attribute__((format(printf, 1, 2)));
/** The chip resets: the next run boots with `reason`. The process ends here. */
void standInReset(const char *reason) __attribute__((noreturn));

#endif
