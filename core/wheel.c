/* SPDX-License-Identifier: MIT */
/*
 * A hierarchical timing wheel (1 ms ticks; 256 slots at level 0, then 64
 * slots per level, four levels above: about 49 days of range) on one
 * libevent timer. Slots are circular lists with embedded sentinels, so
 * start and cancel are O(1) and never allocate. Higher levels cascade into
 * lower ones as time reaches them; libevent wakes us only for level-0
 * slots and the cascade points of higher-level slots in use.
 *
 * A timer whose tick the wheel has already passed (delay 0 from inside a
 * callback, or right after a run) fires on the next tick: never inside the
 * run that started it, so a callback restarting itself cannot spin.
 */
#include "duet/wheel.h"

#include <event2/event.h>

#include "duet/alloc.h"
#include "duet/err.h"

#define L0_BITS 8
#define LN_BITS 6
#define LEVELS 5
#define L0_SIZE (1u << L0_BITS)
#define LN_SIZE (1u << LN_BITS)
#define MAX_DELTA ((1ull << (L0_BITS + LN_BITS * (LEVELS - 1))) - 1)

struct wheel {
	struct event_base *base;
	struct event *ev;
	const struct duet_clock *clock;
	uint64_t cur;	   /* every tick before cur has been processed */
	uint64_t armed_at; /* when the libevent timer fires (UINT64_MAX) */
	size_t count;
	bool running; /* in wheel_run_due(): a nested call is a no-op */
	struct wheel_timer slot[LEVELS][L0_SIZE]; /* sentinels */
	uint64_t used[LEVELS][L0_SIZE / 64];	  /* may hold stale bits */
	struct wheel_timer firing;		  /* sentinel */
};

static inline void ring_init(struct wheel_timer *s)
{
	s->next = s->prev = s;
}

static inline bool ring_empty(const struct wheel_timer *s)
{
	return s->next == s;
}

static inline void ring_push(struct wheel_timer *s, struct wheel_timer *t)
{
	t->prev = s->prev;
	t->next = s;
	s->prev->next = t;
	s->prev = t;
}

static inline void ring_unlink(struct wheel_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

/* Move every node of ring `from` to the (empty) ring `to`. */
static void ring_move(struct wheel_timer *from, struct wheel_timer *to)
{
	if (ring_empty(from)) {
		ring_init(to);
		return;
	}
	to->next = from->next;
	to->prev = from->prev;
	to->next->prev = to;
	to->prev->next = to;
	ring_init(from);
}

static inline void used_set(struct wheel *w, unsigned level, unsigned idx)
{
	w->used[level][idx / 64] |= 1ull << (idx % 64);
}

static inline void used_clear(struct wheel *w, unsigned level, unsigned idx)
{
	w->used[level][idx / 64] &= ~(1ull << (idx % 64));
}

static void place(struct wheel *w, struct wheel_timer *t)
{
	uint64_t exp = t->expires < w->cur ? w->cur : t->expires;
	uint64_t delta = exp - w->cur;
	unsigned level = 0, idx;

	if (delta > MAX_DELTA) {
		delta = MAX_DELTA;
		exp = w->cur + MAX_DELTA;
	}
	if (delta < L0_SIZE) {
		idx = (unsigned)(exp & (L0_SIZE - 1));
	} else {
		level = 1;
		while (delta >= (1ull << (L0_BITS + LN_BITS * level)))
			level++;
		idx = (unsigned)((exp >> (L0_BITS + LN_BITS * (level - 1))) &
				 (LN_SIZE - 1));
	}
	ring_push(&w->slot[level][idx], t);
	used_set(w, level, idx);
}

static void rearm(struct wheel *w);

int wheel_new(struct wheel **out, struct event_base *base,
	      const struct duet_clock *clock)
{
	struct wheel *w;

	if (!clock)
		return EINVAL;
	w = duet_calloc(1, sizeof(*w));
	if (!w)
		return ENOMEM;
	w->base = base;
	w->clock = clock;
	w->cur = duet_clock_now(clock);
	w->armed_at = UINT64_MAX;
	for (unsigned l = 0; l < LEVELS; l++)
		for (unsigned i = 0; i < L0_SIZE; i++)
			ring_init(&w->slot[l][i]);
	ring_init(&w->firing);
	*out = w;
	return 0;
}

static void disarm_ring(struct wheel_timer *s)
{
	while (!ring_empty(s)) {
		struct wheel_timer *t = s->next;

		ring_unlink(t);
		t->wheel = NULL;
	}
}

void wheel_free(struct wheel *w)
{
	if (!w)
		return;
	for (unsigned l = 0; l < LEVELS; l++)
		for (unsigned i = 0; i < L0_SIZE; i++)
			disarm_ring(&w->slot[l][i]);
	disarm_ring(&w->firing);
	if (w->ev)
		event_free(w->ev);
	duet_free(w);
}

/*
 * t is about to leave a ring it is alone in (its neighbour both ways is the
 * sentinel): if that sentinel is a slot's, clear the slot's bit. Most
 * timers are cancelled (retransmission timers, once the answer came), and
 * a stale bit costs a wakeup of the whole process at that tick for nothing:
 * at a few hundred calls a second nearly every millisecond had one.
 */
static bool clear_if_last(struct wheel *w, const struct wheel_timer *t)
{
	uintptr_t off = (uintptr_t)t->next - (uintptr_t)&w->slot[0][0];
	size_t flat;

	if (off >= sizeof(w->slot))
		return false; /* the firing ring */
	flat = off / sizeof(w->slot[0][0]);
	used_clear(w, (unsigned)(flat / L0_SIZE), (unsigned)(flat % L0_SIZE));
	return true;
}

void wheel_timer_init(struct wheel_timer *t, wheel_timer_fn *fn, void *arg)
{
	*t = (struct wheel_timer){ .fn = fn, .arg = arg };
}

bool wheel_timer_armed(const struct wheel_timer *t)
{
	return t->wheel != NULL;
}

void wheel_timer_moved(struct wheel_timer *t, void *arg)
{
	t->arg = arg;
	if (t->wheel) { /* its neighbours (or its slot's sentinel) */
		t->next->prev = t;
		t->prev->next = t;
	}
}

/* Take an armed t out of its wheel; true when that emptied a slot. */
static bool detach(struct wheel *w, struct wheel_timer *t)
{
	bool cleared = t->next == t->prev && clear_if_last(w, t);

	ring_unlink(t);
	t->wheel = NULL;
	w->count--;
	return cleared;
}

void wheel_timer_cancel(struct wheel_timer *t)
{
	struct wheel *w = t->wheel;
	bool cleared;

	if (!w)
		return;
	cleared = detach(w, t);
	/* the last one: drop the libevent timer, so that it does not keep
	 * the loop alive until the cancelled timer's wakeup */
	if (w->count == 0 && w->ev && w->armed_at != UINT64_MAX) {
		event_del(w->ev);
		w->armed_at = UINT64_MAX;
	} else if (cleared && !w->running && w->armed_at != UINT64_MAX &&
		   t->expires <= w->armed_at) {
		rearm(w); /* the wakeup was for this slot: move it on */
	}
}

void wheel_timer_start(struct wheel *w, struct wheel_timer *t,
		       uint64_t delay_ms)
{
	uint64_t now = duet_clock_now(w->clock);
	bool emptied = false; /* the restart emptied a slot */

	if (t->wheel == w)
		emptied = detach(w, t);
	else
		wheel_timer_cancel(t);
	/* saturate: a huge delay means "never", not "in the past" */
	t->expires = delay_ms > UINT64_MAX - now ? UINT64_MAX : now + delay_ms;
	t->wheel = w;
	w->count++;
	place(w, t);
	/* one rearm per restart, not one in the cancel and one here */
	if (t->expires < w->armed_at || (emptied && !w->running))
		rearm(w);
}

void wheel_timer_start_coarse(struct wheel *w, struct wheel_timer *t,
			      uint64_t delay_ms, uint64_t grain_ms)
{
	uint64_t now = duet_clock_now(w->clock), at;

	if (grain_ms <= 1 || delay_ms > UINT64_MAX - now - grain_ms) {
		wheel_timer_start(w, t, delay_ms);
		return;
	}
	at = (now + delay_ms + grain_ms - 1) / grain_ms * grain_ms;
	wheel_timer_start(w, t, at - now);
}

uint64_t wheel_now(const struct wheel *w)
{
	return duet_clock_now(w->clock);
}

size_t wheel_count(const struct wheel *w)
{
	return w->count;
}

/* Re-place every timer of a higher-level slot relative to cur. */
static void cascade(struct wheel *w, unsigned level, unsigned idx)
{
	struct wheel_timer tmp;

	ring_move(&w->slot[level][idx], &tmp);
	used_clear(w, level, idx);
	while (!ring_empty(&tmp)) {
		struct wheel_timer *t = tmp.next;

		ring_unlink(t);
		place(w, t);
	}
}

/* At a block start, cascade from the highest level whose index also
 * wrapped, down to level 1. */
static void cascade_block(struct wheel *w)
{
	unsigned top = 1;

	while (top < LEVELS - 1 &&
	       ((w->cur >> (L0_BITS + LN_BITS * (top - 1))) & (LN_SIZE - 1)) ==
		       0)
		top++;
	for (unsigned l = top; l >= 1; l--)
		cascade(w, l,
			(unsigned)((w->cur >> (L0_BITS + LN_BITS * (l - 1))) &
				   (LN_SIZE - 1)));
}

/* Fire the level-0 slot of tick cur and leave cur at the next tick.
 * Callbacks may start or cancel any timer; the slot is moved aside and cur
 * moved on first, so the walk stays consistent and a timer started for a
 * tick already passed (delay 0) lands in the next tick's slot, not in the
 * one being fired (which the wheel would see again only a turn later). */
static void fire_slot(struct wheel *w)
{
	uint64_t tick = w->cur;
	unsigned idx = (unsigned)(tick & (L0_SIZE - 1));

	used_clear(w, 0, idx);
	w->cur = tick + 1;
	if (ring_empty(&w->slot[0][idx]))
		return;
	ring_move(&w->slot[0][idx], &w->firing);
	while (!ring_empty(&w->firing)) {
		struct wheel_timer *t = w->firing.next;

		ring_unlink(t);
		if (t->expires > tick) { /* clamped far timer: not yet */
			place(w, t);
			continue;
		}
		t->wheel = NULL;
		w->count--;
		t->fn(t, t->arg);
	}
}

/* First tick >= from (within this level-0 block) whose slot may be used. */
static uint64_t next_in_block(const struct wheel *w, uint64_t from)
{
	uint64_t block_end = (from | (L0_SIZE - 1)) + 1;

	for (unsigned i = (unsigned)(from & (L0_SIZE - 1)); i < L0_SIZE;) {
		uint64_t bits = w->used[0][i / 64] >> (i % 64);

		if (bits)
			return (from & ~(uint64_t)(L0_SIZE - 1)) + i +
			       (unsigned)__builtin_ctzll(bits);
		i = (i / 64 + 1) * 64;
	}
	return block_end;
}

/*
 * The first tick >= cur with work to do (UINT64_MAX if none): a level-0
 * slot that may hold timers, or the cascade point of a higher-level slot
 * that may. Level l is cascaded at the multiples of 2^shift(l), slot
 * (tick >> shift) % 64. Stale bits only make the answer early, never late;
 * ticks before it are provably empty, so runs and wakeups skip them.
 */
static uint64_t next_tick(const struct wheel *w)
{
	uint64_t block_end = (w->cur | (L0_SIZE - 1)) + 1;
	uint64_t at = next_in_block(w, w->cur);

	if (at == block_end) {
		/* slots before cur's index hold the next block's ticks */
		at = next_in_block(w, block_end);
		if (at == block_end + L0_SIZE)
			at = UINT64_MAX;
	}
	for (unsigned l = 1; l < LEVELS; l++) {
		unsigned shift = L0_BITS + LN_BITS * (l - 1), i0, k;
		uint64_t bits = w->used[l][0], step = 1ull << shift, first, rot;

		if (!bits)
			continue;
		first = (w->cur + step - 1) & ~(step - 1);
		i0 = (unsigned)((first >> shift) & (LN_SIZE - 1));
		rot = i0 ? (bits >> i0) | (bits << (LN_SIZE - i0)) : bits;
		k = (unsigned)__builtin_ctzll(rot);
		if (first + ((uint64_t)k << shift) < at)
			at = first + ((uint64_t)k << shift);
	}
	return at;
}

void wheel_run_due(struct wheel *w)
{
	uint64_t now = duet_clock_now(w->clock);

	/* called again from a callback: the outer run goes on (re-entering
	 * would reuse the firing ring under the outer walk) */
	if (w->running)
		return;
	w->running = true;
	while (w->cur <= now) {
		uint64_t n;

		if (w->count == 0) {
			w->cur = now + 1;
			break;
		}
		if ((w->cur & (L0_SIZE - 1)) == 0)
			cascade_block(w);
		fire_slot(w);
		n = next_tick(w);
		w->cur = n <= now ? n : now + 1;
	}
	w->running = false;
	w->armed_at = UINT64_MAX;
	rearm(w);
}

uint64_t wheel_next_due(const struct wheel *w)
{
	uint64_t now = duet_clock_now(w->clock), at;

	if (w->count == 0)
		return UINT64_MAX;
	at = next_tick(w);
	if (at == UINT64_MAX)
		return UINT64_MAX;
	return at > now ? at - now : 0;
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wheel_run_due(arg);
}

static void rearm(struct wheel *w)
{
	uint64_t due;
	struct timeval tv;

	if (!w->base)
		return;
	due = wheel_next_due(w);
	if (due == UINT64_MAX) {
		if (w->ev)
			event_del(w->ev);
		w->armed_at = UINT64_MAX;
		return;
	}
	if (!w->ev) {
		w->ev = evtimer_new(w->base, on_event, w);
		if (!w->ev)
			return; /* retried on the next start */
	}
	tv.tv_sec = (time_t)(due / 1000);
	tv.tv_usec = (suseconds_t)(due % 1000) * 1000;
	evtimer_add(w->ev, &tv);
	w->armed_at = duet_clock_now(w->clock) + due;
}

void wheel_advance(struct wheel *w, struct manual_clock *mc, uint64_t ms)
{
	uint64_t target = mc->now + ms;

	if (w->running) { /* from a callback: the clock only */
		mc->now = target;
		return;
	}
	for (;;) {
		uint64_t due = wheel_next_due(w);

		if (due == UINT64_MAX || mc->now + due > target)
			break;
		mc->now += due;
		wheel_run_due(w);
	}
	mc->now = target;
	wheel_run_due(w);
}
