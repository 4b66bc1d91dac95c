/* Stand-in for $MODDABLE/xs/platforms/esp/xsHost.h: the parts the native modules use. */
#include <stdint.h>
#include "xs.h"
typedef void (*modMessageDeliver)(void *the, void *refcon, uint8_t *message, uint16_t messageLength);
int modMessagePostToMachine(xsMachine *the, uint8_t *message, uint16_t messageLength, modMessageDeliver callback, void *refcon);
void delay(uint32_t ms);
#define modDelayMilliseconds(ms) delay(ms)
