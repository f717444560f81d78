/* SPDX-License-Identifier: MIT */
/*
 * Logging to stderr with levels. One line per event, prefixed with the
 * time and the level; callers put the Call-ID, leg or branch in the text.
 * The level is process-wide and set once at start-up (a single word read
 * by every thread: the one mutable global this module has).
 */
#ifndef DUET_LOG_H
#define DUET_LOG_H

#include "duet/slice.h"

enum duet_log_level {
	DUET_LOG_ERROR = 0,
	DUET_LOG_WARN,
	DUET_LOG_INFO,
	DUET_LOG_DEBUG,
};

/** Set the most verbose level that is printed. */
void duet_log_set_level(enum duet_log_level level);

/** Parse "error", "warn", "info", "debug". 0 or EINVAL. */
int duet_log_level_from(const char *name, enum duet_log_level *out);

/** Print one line at a level (printf format; no newline needed). */
void duet_log(enum duet_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define LOG_ERROR(...) duet_log(DUET_LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(...) duet_log(DUET_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...) duet_log(DUET_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) duet_log(DUET_LOG_DEBUG, __VA_ARGS__)

#endif /* DUET_LOG_H */
