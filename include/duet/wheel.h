/* SPDX-License-Identifier: MIT */
/*
 * Timers: one timing wheel per event loop, driven by a single libevent
 * timer event, reading time from an injected struct duet_clock.
 *
 * Timer handles (struct wheel_timer) are embedded in their owners: starting
 * one never allocates, cancelling is O(1) and idempotent. A callback may
 * start or cancel any timer, including its own; it must not free the
 * wheel. An owner that frees itself from its own timer callback may do so
 * (the wheel no longer touches a timer once its callback has been called).
 * A timer started with delay 0 from a callback fires on the next tick
 * (1 ms later), never within the same run, so a self-restarting timer
 * cannot spin. wheel_run_due() called from a callback does nothing.
 */
#ifndef DUET_WHEEL_H
#define DUET_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/clock.h"

struct event_base;
struct wheel; /* opaque; singly owned: wheel_new() / wheel_free() */
struct wheel_timer;

typedef void wheel_timer_fn(struct wheel_timer *t, void *arg);

/* Embedded handle. Fields are private to wheel.c. */
struct wheel_timer {
	struct wheel_timer *next, *prev; /* slot list; NULL when idle */
	uint64_t expires;		 /* absolute ms */
	wheel_timer_fn *fn;
	void *arg;
	struct wheel *wheel; /* set while armed */
};

/**
 * Create a wheel on `base` (may be NULL: then nothing fires by itself and
 * tests call wheel_advance()/wheel_run_due()). The clock is borrowed and
 * must outlive the wheel. Returns 0, EINVAL or ENOMEM.
 */
int wheel_new(struct wheel **out, struct event_base *base,
	      const struct duet_clock *clock);

/** Free the wheel. Armed timers are disarmed (their callbacks never run). */
void wheel_free(struct wheel *w);

/** Prepare an embedded handle. Call once before first use. */
void wheel_timer_init(struct wheel_timer *t, wheel_timer_fn *fn, void *arg);

/** (Re)start t to fire delay_ms from now. Never allocates. */
void wheel_timer_start(struct wheel *w, struct wheel_timer *t,
		       uint64_t delay_ms);

/** Stop t if armed. O(1); safe on an idle or never-started timer. */
void wheel_timer_cancel(struct wheel_timer *t);

/** Start t to fire delay_ms from now or up to grain_ms - 1 later: at the
 * next multiple of grain_ms, so timers whose exact moment does not matter
 * (a transaction's end, say) share one wakeup. */
void wheel_timer_start_coarse(struct wheel *w, struct wheel_timer *t,
			      uint64_t delay_ms, uint64_t grain_ms);

/**
 * t is a byte copy of a timer that will not be used again (its owner
 * moved to new memory): the wheel's links now lead to t, which fires
 * with arg. t may be armed or not.
 */
void wheel_timer_moved(struct wheel_timer *t, void *arg);

/** Is t armed? */
bool wheel_timer_armed(const struct wheel_timer *t);

/** The wheel's clock, now. */
uint64_t wheel_now(const struct wheel *w);

/** Run every timer due at the clock's current time, in expiry order. */
void wheel_run_due(struct wheel *w);

/**
 * For tests with a manual clock: move the clock forward by ms, firing
 * timers in order, each with the clock set to its own expiry time.
 */
void wheel_advance(struct wheel *w, struct manual_clock *mc, uint64_t ms);

/** The number of armed timers (leak checks read it). */
size_t wheel_count(const struct wheel *w);

/** ms until the next timer may be due (UINT64_MAX when none): exact for
 * near timers, possibly early (never late) for far ones. */
uint64_t wheel_next_due(const struct wheel *w);

#endif /* DUET_WHEEL_H */
