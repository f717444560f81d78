/* SPDX-License-Identifier: MIT */
/* The injected clock: monotonic for the daemon, manual for tests. */
#include "duet/clock.h"

#include <time.h>

uint64_t duet_clock_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t monotonic_now(void *arg)
{
	(void)arg;
	return duet_clock_monotonic_us() / 1000u;
}

static const struct duet_clock monotonic = { .now_ms = monotonic_now };

const struct duet_clock *duet_clock_monotonic(void)
{
	return &monotonic;
}

static uint64_t manual_now(void *arg)
{
	return ((struct manual_clock *)arg)->now;
}

void manual_clock_init(struct manual_clock *mc, uint64_t start)
{
	mc->clock.now_ms = manual_now;
	mc->clock.arg = mc;
	mc->now = start;
}
