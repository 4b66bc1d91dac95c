/* The file-backed board state behind the vendor stand-ins (standin.h). */
#include "standin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char gReason[32];

static const char *pathOf(const char *name, char *path, size_t size)
{
	const char *dir = getenv("THERMOCAST_BOARD_DIR");
	snprintf(path, size, "%s/%s", dir ? dir : "/tmp", name);
	return path;
}

void standInLoad(const char *name, void *data, size_t size, uint8_t garbage)
{
	char path[1024];
	FILE *file = fopen(pathOf(name, path, sizeof(path)), "rb");
	memset(data, garbage, size);
	if (file) {
		if (fread(data, 1, size, file) != size)
			memset(data, garbage, size);
		fclose(file);
	}
}

void standInSave(const char *name, const void *data, size_t size)
{
	char path[1024];
	FILE *file = fopen(pathOf(name, path, sizeof(path)), "wb");
	if (!file || (fwrite(data, 1, size, file) != size)) {
		fprintf(stdout, "standin: cannot write %s\n", path);
		exit(1);
	}
	fclose(file);
}

const char *standInResetReason(void)
{
	if (!gReason[0]) {
		char next[32] = "power-on";
		standInLoad("reset", gReason, sizeof(gReason) - 1, 0);
		if (!gReason[0])
			strcpy(gReason, "power-on");
		// A run that ends without a reset of ours (mcsim killed) was a power cycle.
		standInSave("reset", next, sizeof(next));
	}
	return gReason;
}

void standInCall(const char *format, ...)
{
	char line[256], path[1024];
	va_list args;
	va_start(args, format);
	vsnprintf(line, sizeof(line), format, args);
	va_end(args);
	fprintf(stdout, "standin: %s\n", line);
	fflush(stdout);
	FILE *log = fopen(pathOf("calls.log", path, sizeof(path)), "a");
	if (log) {
		fprintf(log, "%s\n", line);
		fclose(log);
	}
}

void standInReset(const char *reason)
{
	char saved[32] = {0};
	strncpy(saved, reason, sizeof(saved) - 1);
	standInSave("reset", saved, sizeof(saved));
	standInCall("reset %s", reason);
	_exit(0);
}
