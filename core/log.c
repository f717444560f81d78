/* SPDX-License-Identifier: MIT */
/* Levelled logging to stderr. */
#include "duet/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "duet/err.h"

static enum duet_log_level max_level = DUET_LOG_INFO;

static const char *const names[] = { "error", "warn", "info", "debug" };

void duet_log_set_level(enum duet_log_level level)
{
	max_level = level;
}

int duet_log_level_from(const char *name, enum duet_log_level *out)
{
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum duet_log_level)i;
			return 0;
		}
	}
	return EINVAL;
}

void duet_log(enum duet_log_level level, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (level > max_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %-5s ",
		     tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		     names[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* one write per line so concurrent writers do not interleave */
	fprintf(stderr, "%s\n", line);
}
