/* SPDX-License-Identifier: MIT */
/*
 * The injected clock: everything in duet that needs "now" asks a
 * struct duet_clock, so tests can drive time by hand (a manual clock)
 * instead of sleeping.
 */
#ifndef DUET_CLOCK_H
#define DUET_CLOCK_H

#include <stdint.h>

struct duet_clock {
	/** Milliseconds on a monotonic scale (the origin is arbitrary). */
	uint64_t (*now_ms)(void *arg);
	void *arg;
};

/** The system's monotonic clock (CLOCK_MONOTONIC). */
const struct duet_clock *duet_clock_monotonic(void);

/** CLOCK_MONOTONIC in microseconds, for what a millisecond cannot time
 * (the transport's UDP read window). */
uint64_t duet_clock_monotonic_us(void);

/** A clock that only moves when told to: tests embed one. */
struct manual_clock {
	struct duet_clock clock; /* pass &mc.clock where a clock is wanted */
	uint64_t now;
};

/** Start a manual clock at `start` ms. */
void manual_clock_init(struct manual_clock *mc, uint64_t start);

static inline uint64_t duet_clock_now(const struct duet_clock *c)
{
	return c->now_ms(c->arg);
}

#endif /* DUET_CLOCK_H */
