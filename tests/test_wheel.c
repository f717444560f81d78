/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the timing wheel, driven by a manual clock (RFC 3261 §17
 * timers A, B, E, F as scenarios), plus one real libevent loop.
 */
#include "test_util.h"

#include <event2/event.h>
#include <time.h>

#include "duet/clock.h"
#include "duet/err.h"
#include "duet/wheel.h"

#define T1 500u	 /* RFC 3261 §17: RTT estimate */
#define T2 4000u /* RFC 3261 §17.1.2.2: max non-INVITE retransmit */
#define DAY 86400000ull

struct fix {
	struct manual_clock mc;
	struct wheel *w;
	uint64_t last; /* expiry of the last timer fired (order checks) */
	size_t nfired;
	struct rec *all; /* for callbacks that touch other timers */
	size_t nall;
	uint64_t seed;
};

struct rec {
	struct wheel_timer t;
	struct fix *f;
	uint64_t want; /* expected expiry, absolute ms */
	unsigned fired;
	uint64_t fired_at;
};

static void fix_init(struct fix *f, uint64_t start)
{
	memset(f, 0, sizeof(*f));
	manual_clock_init(&f->mc, start);
	assert_int_equal(wheel_new(&f->w, NULL, &f->mc.clock), 0);
	assert_int_equal(wheel_count(f->w), 0);
	assert_true(wheel_next_due(f->w) == UINT64_MAX);
}

static void fix_done(struct fix *f)
{
	wheel_free(f->w);
	f->w = NULL;
}

/* The plain callback: record, check order and exactness. */
static void rec_fire(struct wheel_timer *t, void *arg)
{
	struct rec *r = arg;

	assert_ptr_equal(t, &r->t);
	assert_false(wheel_timer_armed(t));
	r->fired++;
	r->fired_at = r->f->mc.now;
	assert_true(r->want >= r->f->last);
	r->f->last = r->want;
	r->f->nfired++;
}

static void rec_init(struct rec *r, struct fix *f)
{
	r->f = f;
	r->fired = 0;
	r->fired_at = 0;
	wheel_timer_init(&r->t, rec_fire, r);
}

static void rec_start(struct rec *r, uint64_t delay)
{
	r->want = r->f->mc.now + delay;
	wheel_timer_start(r->f->w, &r->t, delay);
	assert_true(wheel_timer_armed(&r->t));
}

/* splitmix64: a fixed-seed PRNG so failures reproduce */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The earliest expiry among armed records (UINT64_MAX if none). */
static uint64_t min_want(const struct rec *r, size_t n)
{
	uint64_t m = UINT64_MAX;

	for (size_t i = 0; i < n; i++)
		if (wheel_timer_armed(&r[i].t) && r[i].want < m)
			m = r[i].want;
	return m;
}

/* wheel_next_due() is never later than the real next expiry. */
static void check_next_due(struct fix *f, const struct rec *r, size_t n)
{
	uint64_t m = min_want(r, n), due = wheel_next_due(f->w);

	if (m == UINT64_MAX) {
		assert_true(due == UINT64_MAX);
		return;
	}
	assert_true(due != UINT64_MAX);
	assert_true(f->mc.now + due <= (m > f->mc.now ? m : f->mc.now));
}

static void test_new_args(void **state)
{
	struct manual_clock mc;
	struct wheel *w = (struct wheel *)&mc;

	(void)state;
	manual_clock_init(&mc, 0);
	assert_int_equal(wheel_new(&w, NULL, NULL), EINVAL);
	assert_ptr_equal(w, (struct wheel *)&mc);
	duet_alloc_fail_nth(1);
	assert_int_equal(wheel_new(&w, NULL, &mc.clock), ENOMEM);
	assert_ptr_equal(w, (struct wheel *)&mc);
	duet_alloc_fail_nth(0);
	assert_int_equal(wheel_new(&w, NULL, &mc.clock), 0);
	assert_int_equal(wheel_now(w), 0);
	mc.now = 77;
	assert_int_equal(wheel_now(w), 77);
	wheel_free(w);
	wheel_free(NULL);
}

/*
 * Each delay, from several starting points (mid-block, at a block start,
 * right after a run), fires exactly at its expiry and not 1 ms before.
 */
static void test_fires_exactly(void **state)
{
	static const uint64_t delays[] = {
		1,	  2,	   100,	    254,	   255,	     256,
		257,	  511,	   512,	    16383,	   16384,    16385,
		40000,	  1048575, 1048576, 1048577,	   67108863, 67108864,
		67108865, 3600000, 2 * DAY, 4294967295ull,
	};
	static const uint64_t starts[] = { 0, 1, 100, 255, 256, 1000000 };

	(void)state;
	for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		for (size_t d = 0; d < sizeof(delays) / sizeof(delays[0]);
		     d++) {
			struct fix f;
			struct rec r;

			fix_init(&f, starts[s]);
			/* a run first, so cur sits after now */
			if (s % 2)
				wheel_advance(f.w, &f.mc, 0);
			rec_init(&r, &f);
			rec_start(&r, delays[d]);
			assert_int_equal(wheel_count(f.w), 1);
			check_next_due(&f, &r, 1);
			wheel_advance(f.w, &f.mc, delays[d] - 1);
			assert_int_equal(r.fired, 0);
			assert_true(wheel_timer_armed(&r.t));
			assert_int_equal(wheel_count(f.w), 1);
			check_next_due(&f, &r, 1);
			assert_int_equal(wheel_next_due(f.w), 1);
			wheel_advance(f.w, &f.mc, 1);
			assert_int_equal(r.fired, 1);
			assert_true(r.fired_at == r.want);
			assert_false(wheel_timer_armed(&r.t));
			assert_int_equal(wheel_count(f.w), 0);
			assert_true(wheel_next_due(f.w) == UINT64_MAX);
			wheel_advance(f.w, &f.mc, 5 * DAY);
			assert_int_equal(r.fired, 1);
			fix_done(&f);
		}
	}
}

/* Coarse timers fire on the first multiple of the grain at or after
 * their delay, never before it; grain 0 or 1 is exact. */
static void test_coarse(void **state)
{
	static const struct {
		uint64_t start, delay, grain, want;
	} t[] = {
		{ 1000, 5000, 128, 6016 }, /* 6000 -> 47 * 128 */
		{ 1000, 5000, 8, 6000 },   /* already a multiple */
		{ 1000, 5000, 1, 6000 },   { 1000, 5000, 0, 6000 },
		{ 0, 1, 128, 128 },	   { 127, 1, 128, 128 },
		{ 129, 0, 128, 256 },	   { 5, DAY, 1000, DAY + 1000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct fix f;
		struct rec r;

		fix_init(&f, t[i].start);
		rec_init(&r, &f);
		r.want = t[i].want;
		wheel_timer_start_coarse(f.w, &r.t, t[i].delay, t[i].grain);
		wheel_advance(f.w, &f.mc, t[i].want - t[i].start - 1);
		assert_int_equal(r.fired, 0);
		wheel_advance(f.w, &f.mc, 1);
		assert_int_equal(r.fired, 1);
		assert_true(r.fired_at == t[i].want);
		fix_done(&f);
	}
}

/* Callback that checks mc.now is exactly its expiry. */
static void rec_fire_exact(struct wheel_timer *t, void *arg)
{
	struct rec *r = arg;

	rec_fire(t, arg);
	assert_true(r->f->mc.now == r->want);
}

#define NRANDOM 5000

static void test_random_order(void **state)
{
	struct fix f;
	struct rec *r = test_calloc(NRANDOM, sizeof(*r));
	uint64_t seed = 42;

	(void)state;
	fix_init(&f, 123456);
	for (size_t i = 0; i < NRANDOM; i++) {
		rec_init(&r[i], &f);
		wheel_timer_init(&r[i].t, rec_fire_exact, &r[i]);
		rec_start(&r[i], rnd(&seed) % 100001);
		assert_int_equal(wheel_count(f.w), i + 1);
	}
	check_next_due(&f, r, NRANDOM);
	/* step through in uneven strides, checking accounting each time */
	while (f.nfired < NRANDOM) {
		wheel_advance(f.w, &f.mc, 1 + rnd(&seed) % 3000);
		assert_int_equal(wheel_count(f.w), NRANDOM - f.nfired);
		check_next_due(&f, r, NRANDOM);
	}
	for (size_t i = 0; i < NRANDOM; i++) {
		assert_int_equal(r[i].fired, 1);
		assert_true(r[i].fired_at == r[i].want);
	}
	assert_int_equal(wheel_count(f.w), 0);
	assert_true(wheel_next_due(f.w) == UINT64_MAX);
	fix_done(&f);
	test_free(r);
}

/*
 * Timers started in batches between advances, over every level, some
 * cancelled and restarted on the way: each fires once, at its expiry, in
 * order, and wheel_next_due() never overshoots.
 */
static void test_random_interleaved(void **state)
{
	enum { N = 2000 };
	struct fix f;
	struct rec *r = test_calloc(N, sizeof(*r));
	uint64_t seed = 7, cancelled = 0;

	(void)state;
	fix_init(&f, 5);
	for (size_t i = 0; i < N; i++) {
		rec_init(&r[i], &f);
		wheel_timer_init(&r[i].t, rec_fire_exact, &r[i]);
	}
	for (size_t i = 0; i < N; i++) {
		uint64_t range = (uint64_t[]){ 300, 20000, 2000000,
					       100000000 }[rnd(&seed) % 4];

		rec_start(&r[i], 1 + rnd(&seed) % range);
		if (rnd(&seed) % 8 == 0) {
			size_t j = rnd(&seed) % (i + 1);

			if (wheel_timer_armed(&r[j].t)) {
				wheel_timer_cancel(&r[j].t);
				cancelled++;
			}
		}
		if (i % 50 == 49) {
			wheel_advance(f.w, &f.mc, rnd(&seed) % 5000);
			check_next_due(&f, r, N);
		}
	}
	while (wheel_count(f.w) > 0) {
		wheel_advance(f.w, &f.mc, rnd(&seed) % 3000000);
		check_next_due(&f, r, N);
	}
	assert_int_equal(f.nfired + cancelled, N);
	for (size_t i = 0; i < N; i++) {
		assert_true(r[i].fired <= 1);
		if (r[i].fired)
			assert_true(r[i].fired_at == r[i].want);
	}
	fix_done(&f);
	test_free(r);
}

/* RFC 3261 §17.1.1.2 (Timer A/B) and §17.1.2.2 (Timer E/F). */
struct retx {
	struct wheel_timer a, b;
	struct fix *f;
	uint64_t interval, cap; /* cap 0: none (INVITE) */
	uint64_t fired[16];
	size_t n, b_fired;
	uint64_t b_at;
};

static void retx_a(struct wheel_timer *t, void *arg)
{
	struct retx *x = arg;

	assert_true(x->n < 16);
	x->fired[x->n++] = x->f->mc.now;
	x->interval *= 2;
	if (x->cap && x->interval > x->cap)
		x->interval = x->cap;
	wheel_timer_start(x->f->w, t, x->interval);
	assert_int_equal(wheel_count(x->f->w), 2);
}

static void retx_b(struct wheel_timer *t, void *arg)
{
	struct retx *x = arg;

	(void)t;
	x->b_fired++;
	x->b_at = x->f->mc.now;
	wheel_timer_cancel(&x->a);
	wheel_timer_cancel(&x->a);
}

static void run_retx(uint64_t cap, const uint64_t *want, size_t nwant)
{
	struct fix f;
	struct retx x = { .f = &f, .interval = T1, .cap = cap };

	fix_init(&f, 1000);
	wheel_timer_init(&x.a, retx_a, &x);
	wheel_timer_init(&x.b, retx_b, &x);
	wheel_timer_start(f.w, &x.a, T1);
	wheel_timer_start(f.w, &x.b, 64 * T1);
	assert_int_equal(wheel_count(f.w), 2);
	wheel_advance(f.w, &f.mc, 64 * T1 - 1);
	assert_int_equal(x.b_fired, 0);
	assert_int_equal(wheel_count(f.w), 2);
	wheel_advance(f.w, &f.mc, 1);
	assert_int_equal(x.b_fired, 1);
	assert_true(x.b_at == 1000 + 64 * T1);
	assert_int_equal(wheel_count(f.w), 0);
	assert_int_equal(x.n, nwant);
	for (size_t i = 0; i < nwant; i++)
		assert_true(x.fired[i] == 1000 + want[i]);
	wheel_advance(f.w, &f.mc, 10 * 64 * T1);
	assert_int_equal(x.b_fired, 1);
	assert_int_equal(x.n, nwant);
	fix_done(&f);
}

static void test_timer_a_b(void **state)
{
	/* INVITE: A doubles without a cap until B (64*T1) */
	static const uint64_t want[] = { 500, 1500, 3500, 7500, 15500, 31500 };

	(void)state;
	run_retx(0, want, sizeof(want) / sizeof(want[0]));
}

static void test_timer_e_f(void **state)
{
	/* non-INVITE: E doubles up to T2 until F (64*T1) */
	static const uint64_t want[] = { 500,	1500,  3500,  7500,  11500,
					 15500, 19500, 23500, 27500, 31500 };

	(void)state;
	run_retx(T2, want, sizeof(want) / sizeof(want[0]));
}

static void test_timer_b_once(void **state)
{
	struct fix f;
	struct rec b;

	(void)state;
	fix_init(&f, 0);
	rec_init(&b, &f);
	rec_start(&b, 64 * T1);
	assert_int_equal(b.want, 32000);
	for (int i = 0; i < 31999; i++) {
		wheel_advance(f.w, &f.mc, 1);
		assert_int_equal(b.fired, 0);
	}
	assert_int_equal(f.mc.now, 31999);
	wheel_advance(f.w, &f.mc, 1);
	assert_int_equal(b.fired, 1);
	assert_int_equal(b.fired_at, 32000);
	wheel_advance(f.w, &f.mc, 100000);
	assert_int_equal(b.fired, 1);
	assert_int_equal(wheel_count(f.w), 0);
	fix_done(&f);
}

static void test_long_timers(void **state)
{
	static const uint64_t delays[] = { 3600000,  2 * DAY,  49 * DAY,
					   50 * DAY, 60 * DAY, 200 * DAY };
	enum { N = sizeof(delays) / sizeof(delays[0]) };
	struct fix f;
	struct rec r[N];

	(void)state;
	/* each on its own: not 1 ms early, then exactly on time */
	for (size_t i = 0; i < N; i++) {
		fix_init(&f, 999);
		rec_init(&r[i], &f);
		rec_start(&r[i], delays[i]);
		check_next_due(&f, &r[i], 1);
		wheel_advance(f.w, &f.mc, delays[i] - 1);
		assert_int_equal(r[i].fired, 0);
		assert_int_equal(wheel_count(f.w), 1);
		wheel_advance(f.w, &f.mc, 1);
		assert_int_equal(r[i].fired, 1);
		assert_true(r[i].fired_at == r[i].want);
		assert_int_equal(wheel_count(f.w), 0);
		fix_done(&f);
	}
	/* together, with one long advance: in order, each on time */
	fix_init(&f, 1u << 20);
	for (size_t i = 0; i < N; i++) {
		rec_init(&r[i], &f);
		wheel_timer_init(&r[i].t, rec_fire_exact, &r[i]);
		rec_start(&r[i], delays[N - 1 - i]);
	}
	wheel_advance(f.w, &f.mc, 201 * DAY);
	assert_int_equal(f.nfired, N);
	assert_int_equal(wheel_count(f.w), 0);
	fix_done(&f);
}

/* A delay so large that now + delay overflows must not fire at once. */
static void test_huge_delay(void **state)
{
	struct fix f;
	struct rec r;

	(void)state;
	fix_init(&f, 1000);
	rec_init(&r, &f);
	wheel_timer_start(f.w, &r.t, UINT64_MAX);
	assert_int_equal(wheel_count(f.w), 1);
	wheel_advance(f.w, &f.mc, 0);
	wheel_advance(f.w, &f.mc, 1);
	wheel_advance(f.w, &f.mc, 100 * DAY);
	assert_int_equal(r.fired, 0);
	assert_true(wheel_timer_armed(&r.t));
	assert_true(wheel_next_due(f.w) != UINT64_MAX);
	wheel_timer_cancel(&r.t);
	assert_int_equal(wheel_count(f.w), 0);
	fix_done(&f);
}

/* Callbacks that start, restart and cancel random timers. */
static void chaos_fire(struct wheel_timer *t, void *arg)
{
	struct rec *r = arg;
	struct fix *f = r->f;
	static const uint64_t range[] = { 10, 300, 20000, 2000000, 9 * DAY };

	assert_ptr_equal(t, &r->t);
	r->fired++;
	f->nfired++;
	assert_true(f->mc.now == r->want);
	for (int n = 1 + (int)(rnd(&f->seed) % 4); n > 0; n--) {
		struct rec *o = &f->all[rnd(&f->seed) % f->nall];

		if (rnd(&f->seed) % 3 == 0) {
			wheel_timer_cancel(&o->t);
			assert_false(wheel_timer_armed(&o->t));
		} else {
			rec_start(o,
				  1 + rnd(&f->seed) % range[rnd(&f->seed) % 5]);
		}
	}
}

static void test_random_callbacks(void **state)
{
	enum { N = 600 };
	struct fix f;
	struct rec *r = test_calloc(N, sizeof(*r));

	(void)state;
	fix_init(&f, 1ull << 33);
	f.all = r;
	f.nall = N;
	f.seed = 2024;
	for (size_t i = 0; i < N; i++) {
		rec_init(&r[i], &f);
		wheel_timer_init(&r[i].t, chaos_fire, &r[i]);
		if (i % 2)
			rec_start(&r[i], 1 + rnd(&f.seed) % 50000);
	}
	for (int step = 0; step < 3000; step++) {
		size_t armed = 0;

		wheel_advance(f.w, &f.mc, rnd(&f.seed) % 4000);
		for (size_t i = 0; i < N; i++) {
			if (!wheel_timer_armed(&r[i].t))
				continue;
			armed++;
			assert_true(r[i].want > f.mc.now); /* none missed */
		}
		assert_int_equal(wheel_count(f.w), armed);
		check_next_due(&f, r, N);
		if (step % 100 == 99)
			wheel_timer_cancel(&r[rnd(&f.seed) % N].t);
	}
	assert_true(f.nfired > 3000);
	for (size_t i = 0; i < N; i++)
		wheel_timer_cancel(&r[i].t);
	assert_int_equal(wheel_count(f.w), 0);
	assert_true(wheel_next_due(f.w) == UINT64_MAX);
	fix_done(&f);
	test_free(r);
}

static void test_cancel_before_fire(void **state)
{
	struct fix f;
	struct rec r[3];

	(void)state;
	fix_init(&f, 0);
	for (int i = 0; i < 3; i++)
		rec_init(&r[i], &f);
	rec_start(&r[0], 10);
	rec_start(&r[1], 10);
	rec_start(&r[2], 100000);
	assert_int_equal(wheel_count(f.w), 3);
	wheel_advance(f.w, &f.mc, 9);
	wheel_timer_cancel(&r[0].t);
	assert_false(wheel_timer_armed(&r[0].t));
	assert_int_equal(wheel_count(f.w), 2);
	wheel_timer_cancel(&r[2].t);
	assert_int_equal(wheel_count(f.w), 1);
	wheel_advance(f.w, &f.mc, 200000);
	assert_int_equal(r[0].fired, 0);
	assert_int_equal(r[1].fired, 1);
	assert_int_equal(r[2].fired, 0);
	assert_int_equal(wheel_count(f.w), 0);
	assert_true(wheel_next_due(f.w) == UINT64_MAX);
	fix_done(&f);
}

/* Two timers in one slot: whichever fires first cancels the other. */
struct pair {
	struct wheel_timer t[2];
	struct fix *f;
	unsigned fired[2];
};

static void pair_fire(struct wheel_timer *t, void *arg)
{
	struct pair *p = arg;
	int me = t == &p->t[1];

	p->fired[me]++;
	assert_true(wheel_timer_armed(&p->t[!me]));
	wheel_timer_cancel(&p->t[!me]);
	assert_false(wheel_timer_armed(&p->t[!me]));
	wheel_timer_cancel(&p->t[!me]);
	assert_int_equal(wheel_count(p->f->w), 0);
}

static void test_cancel_same_slot_in_callback(void **state)
{
	static const uint64_t delays[] = { 7, 300, 20000, 3 * DAY };

	(void)state;
	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		struct fix f;
		struct pair p = { .f = &f };

		fix_init(&f, 0);
		wheel_timer_init(&p.t[0], pair_fire, &p);
		wheel_timer_init(&p.t[1], pair_fire, &p);
		wheel_timer_start(f.w, &p.t[0], delays[i]);
		wheel_timer_start(f.w, &p.t[1], delays[i]);
		wheel_advance(f.w, &f.mc, delays[i]);
		assert_int_equal(p.fired[0] + p.fired[1], 1);
		wheel_advance(f.w, &f.mc, 1000);
		assert_int_equal(p.fired[0] + p.fired[1], 1);
		assert_int_equal(wheel_count(f.w), 0);
		fix_done(&f);
	}
}

static void test_cancel_idempotent(void **state)
{
	struct fix f;
	struct rec r;
	struct wheel_timer never;

	(void)state;
	fix_init(&f, 0);
	/* never started */
	wheel_timer_init(&never, rec_fire, NULL);
	assert_false(wheel_timer_armed(&never));
	wheel_timer_cancel(&never);
	wheel_timer_cancel(&never);
	assert_false(wheel_timer_armed(&never));
	assert_int_equal(wheel_count(f.w), 0);
	/* started, cancelled twice */
	rec_init(&r, &f);
	rec_start(&r, 50);
	wheel_timer_cancel(&r.t);
	wheel_timer_cancel(&r.t);
	assert_int_equal(wheel_count(f.w), 0);
	/* after it fired */
	rec_start(&r, 50);
	wheel_advance(f.w, &f.mc, 50);
	assert_int_equal(r.fired, 1);
	wheel_timer_cancel(&r.t);
	assert_int_equal(wheel_count(f.w), 0);
	wheel_advance(f.w, &f.mc, 1000);
	assert_int_equal(r.fired, 1);
	fix_done(&f);
}

static void test_restart_moves(void **state)
{
	struct fix f;
	struct rec r;

	(void)state;
	fix_init(&f, 0);
	rec_init(&r, &f);
	/* earlier */
	rec_start(&r, 20000);
	rec_start(&r, 50);
	assert_int_equal(wheel_count(f.w), 1);
	assert_int_equal(wheel_next_due(f.w), 50);
	wheel_advance(f.w, &f.mc, 50);
	assert_int_equal(r.fired, 1);
	assert_true(r.fired_at == r.want);
	wheel_advance(f.w, &f.mc, 30000);
	assert_int_equal(r.fired, 1);
	/* later */
	rec_start(&r, 50);
	wheel_advance(f.w, &f.mc, 10);
	rec_start(&r, 1000);
	assert_int_equal(wheel_count(f.w), 1);
	wheel_advance(f.w, &f.mc, 999);
	assert_int_equal(r.fired, 1);
	wheel_advance(f.w, &f.mc, 1);
	assert_int_equal(r.fired, 2);
	assert_true(r.fired_at == r.want);
	assert_int_equal(wheel_count(f.w), 0);
	fix_done(&f);
}

/* A periodic timer restarting itself from its callback. */
struct periodic {
	struct wheel_timer t;
	struct fix *f;
	uint64_t period, next;
	unsigned n, max;
};

static void periodic_fire(struct wheel_timer *t, void *arg)
{
	struct periodic *p = arg;

	assert_true(p->f->mc.now == p->next);
	p->n++;
	if (p->n < p->max) {
		p->next += p->period;
		wheel_timer_start(p->f->w, t, p->period);
		assert_true(wheel_timer_armed(t));
	}
}

static void test_restart_in_callback(void **state)
{
	struct fix f;
	struct periodic p = { .f = &f, .period = 37, .max = 1000 };

	(void)state;
	fix_init(&f, 3);
	wheel_timer_init(&p.t, periodic_fire, &p);
	p.next = 3 + 37;
	wheel_timer_start(f.w, &p.t, 37);
	wheel_advance(f.w, &f.mc, 37 * 500);
	assert_int_equal(p.n, 500);
	assert_int_equal(wheel_count(f.w), 1);
	wheel_advance(f.w, &f.mc, 37 * 1000);
	assert_int_equal(p.n, 1000);
	assert_int_equal(wheel_count(f.w), 0);
	fix_done(&f);
}

/* Owners holding embedded timers, freed from inside callbacks. */
struct owner {
	char pad[40];
	struct wheel_timer t;
	struct owner **self;   /* cleared when o is freed, or NULL */
	struct owner **victim; /* another owner to destroy, or NULL */
	unsigned *fired;
};

static void owner_destroy(struct owner *o)
{
	if (o->self)
		*o->self = NULL;
	wheel_timer_cancel(&o->t);
	memset(o, 0xa5, sizeof(*o));
	duet_free(o);
}

static void owner_fire(struct wheel_timer *t, void *arg)
{
	struct owner *o = arg;

	assert_ptr_equal(t, &o->t);
	(*o->fired)++;
	if (o->victim && *o->victim) {
		owner_destroy(*o->victim);
	}
	if (o->self)
		*o->self = NULL;
	memset(o, 0x5a, sizeof(*o));
	duet_free(o); /* the wheel must not touch t after this */
}

static struct owner *owner_new(unsigned *fired)
{
	struct owner *o = duet_calloc(1, sizeof(*o));

	assert_non_null(o);
	o->fired = fired;
	wheel_timer_init(&o->t, owner_fire, o);
	return o;
}

static void test_callback_frees_owner(void **state)
{
	struct fix f;
	unsigned fired = 0;
	struct owner *a, *b, *c;

	(void)state;
	fix_init(&f, 0);
	/* three owners in one slot, plus one per level */
	for (int i = 0; i < 3; i++)
		wheel_timer_start(f.w, &owner_new(&fired)->t, 10);
	wheel_timer_start(f.w, &owner_new(&fired)->t, 300);
	wheel_timer_start(f.w, &owner_new(&fired)->t, 20000);
	wheel_timer_start(f.w, &owner_new(&fired)->t, 2000000);
	/* the first of a and b to fire frees the other (same slot, not yet
	 * fired), then itself; c, in the same slot, fires after */
	a = owner_new(&fired);
	b = owner_new(&fired);
	c = owner_new(&fired);
	a->self = &a;
	b->self = &b;
	c->self = &c;
	a->victim = &b;
	b->victim = &a;
	wheel_timer_start(f.w, &a->t, 5000);
	wheel_timer_start(f.w, &b->t, 5000);
	wheel_timer_start(f.w, &c->t, 5000);
	assert_int_equal(wheel_count(f.w), 9);
	wheel_advance(f.w, &f.mc, 3000000);
	assert_true(a == NULL && b == NULL && c == NULL);
	assert_int_equal(fired, 8);
	assert_int_equal(wheel_count(f.w), 0);
	fix_done(&f);
}

static void test_next_due(void **state)
{
	struct fix f;
	struct rec r[8];

	(void)state;
	fix_init(&f, 1000);
	for (int i = 0; i < 8; i++)
		rec_init(&r[i], &f);
	assert_true(wheel_next_due(f.w) == UINT64_MAX);
	/* a level-0 timer: exact */
	rec_start(&r[0], 100);
	assert_int_equal(wheel_next_due(f.w), 100);
	wheel_advance(f.w, &f.mc, 30);
	assert_int_equal(wheel_next_due(f.w), 70);
	rec_start(&r[1], 5);
	assert_int_equal(wheel_next_due(f.w), 5);
	wheel_timer_cancel(&r[1].t);
	check_next_due(&f, r, 8);
	wheel_advance(f.w, &f.mc, 70);
	assert_int_equal(r[0].fired, 1);
	assert_true(wheel_next_due(f.w) == UINT64_MAX);
	/* higher levels: never later than the real expiry */
	rec_start(&r[2], 300);
	rec_start(&r[3], 20000);
	rec_start(&r[4], 2000000);
	rec_start(&r[5], 100000000);
	rec_start(&r[6], 60 * DAY);
	while (wheel_count(f.w) > 0) {
		uint64_t due = wheel_next_due(f.w);

		check_next_due(&f, r, 8);
		assert_true(due > 0);
		wheel_advance(f.w, &f.mc, due);
	}
	for (int i = 2; i < 7; i++)
		assert_true(r[i].fired_at == r[i].want);
	assert_true(wheel_next_due(f.w) == UINT64_MAX);
	fix_done(&f);
}

/*
 * A cancelled timer leaves no wakeup behind: most timers are cancelled
 * (retransmission timers once the answer came), and a slot still marked
 * used woke the process at that tick for nothing. A slot another timer
 * still holds stays marked.
 */
static void test_cancel_leaves_no_wakeup(void **state)
{
	struct fix f;
	struct rec r[4];

	(void)state;
	fix_init(&f, 5000);
	for (int i = 0; i < 4; i++)
		rec_init(&r[i], &f);
	rec_start(&r[0], 10);	 /* level 0 */
	rec_start(&r[1], 500);	 /* level 1 */
	rec_start(&r[2], 40000); /* level 2 */
	rec_start(&r[3], 90);
	assert_int_equal(wheel_next_due(f.w), 10);
	wheel_timer_cancel(&r[0].t);
	assert_int_equal(wheel_next_due(f.w), 90);
	wheel_timer_cancel(&r[3].t);
	/* r[1]'s level-1 slot: due at its cascade point, not before */
	assert_true(wheel_next_due(f.w) > 90);
	assert_true(wheel_next_due(f.w) <= 500);
	wheel_timer_cancel(&r[1].t);
	assert_true(wheel_next_due(f.w) > 500);
	/* two timers in one slot: cancelling one keeps the other's mark */
	rec_start(&r[0], 70);
	rec_start(&r[3], 70);
	wheel_timer_cancel(&r[0].t);
	assert_int_equal(wheel_next_due(f.w), 70);
	wheel_advance(f.w, &f.mc, 70);
	assert_int_equal(r[3].fired, 1);
	assert_int_equal(r[0].fired, 0);
	wheel_timer_cancel(&r[2].t);
	assert_true(wheel_next_due(f.w) == UINT64_MAX);
	fix_done(&f);
}

/*
 * Found in review: with the wheel's position at the start of a block (a
 * run that ended on the block's last ms) and a timer waiting at level 1
 * for that block, wheel_next_due() pointed at the next block, 256 ms
 * too late, so the timer fired late.
 */
static void test_next_due_at_block_start(void **state)
{
	struct fix f;
	struct rec a, b;

	(void)state;
	fix_init(&f, 0);
	rec_init(&a, &f);
	rec_init(&b, &f);
	wheel_timer_init(&b.t, rec_fire_exact, &b);
	rec_start(&a, 255);
	rec_start(&b, 300);
	wheel_advance(f.w, &f.mc, 255);
	assert_int_equal(a.fired, 1);
	check_next_due(&f, &b, 1);
	wheel_advance(f.w, &f.mc, 1000);
	assert_int_equal(b.fired, 1);
	assert_int_equal(b.fired_at, 300);
	fix_done(&f);
}

/* One wheel_advance over a long span fires everything, in order, each
 * with the clock at its expiry. */
static void test_clock_jump_advance(void **state)
{
	enum { N = 1000 };
	struct fix f;
	struct rec *r = test_calloc(N, sizeof(*r));
	uint64_t seed = 99;

	(void)state;
	fix_init(&f, 777);
	for (size_t i = 0; i < N; i++) {
		rec_init(&r[i], &f);
		wheel_timer_init(&r[i].t, rec_fire_exact, &r[i]);
		rec_start(&r[i], rnd(&seed) % (10 * DAY));
	}
	wheel_advance(f.w, &f.mc, 10 * DAY);
	assert_int_equal(f.nfired, N);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(r[i].fired, 1);
	assert_int_equal(wheel_count(f.w), 0);
	fix_done(&f);
	test_free(r);
}

/* The clock jumps with no advance (a stalled loop): one run fires all
 * that is due, in expiry order, and leaves the rest. */
static void test_clock_jump_run_due(void **state)
{
	enum { N = 1000 };
	struct fix f;
	struct rec *r = test_calloc(N, sizeof(*r));
	uint64_t seed = 5;
	size_t due = 0;

	(void)state;
	fix_init(&f, 0);
	for (size_t i = 0; i < N; i++) {
		rec_init(&r[i], &f);
		rec_start(&r[i], rnd(&seed) % 4000000);
		due += r[i].want <= 3000000;
	}
	f.mc.now = 3000000;
	wheel_run_due(f.w);
	assert_int_equal(f.nfired, due);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(r[i].fired, r[i].want <= 3000000);
		if (r[i].fired)
			assert_int_equal(r[i].fired_at, 3000000);
	}
	assert_int_equal(wheel_count(f.w), N - due);
	check_next_due(&f, r, N);
	wheel_run_due(f.w); /* nothing more at the same time */
	assert_int_equal(f.nfired, due);
	f.mc.now = 5000000;
	wheel_run_due(f.w);
	assert_int_equal(f.nfired, N);
	assert_int_equal(wheel_count(f.w), 0);
	fix_done(&f);
	test_free(r);
}

/* A callback that starts a timer (another, or itself) with delay 0. */
struct zero {
	struct wheel_timer self, other;
	struct fix *f;
	unsigned self_n, other_n, max;
	uint64_t other_at;
};

static void zero_other(struct wheel_timer *t, void *arg)
{
	struct zero *z = arg;

	(void)t;
	z->other_n++;
	z->other_at = z->f->mc.now;
}

static void zero_self(struct wheel_timer *t, void *arg)
{
	struct zero *z = arg;

	z->self_n++;
	if (z->self_n == 1)
		wheel_timer_start(z->f->w, &z->other, 0);
	if (z->self_n < z->max)
		wheel_timer_start(z->f->w, t, 0);
}

/*
 * Found in review: a delay-0 start from a callback went into the slot being
 * fired, which the wheel had already left: it waited a full turn of level
 * 0 (256 ms). It must fire on the next run (the next ms), and a timer
 * restarting itself with delay 0 must not spin inside one run.
 */
static void test_delay_zero_in_callback(void **state)
{
	struct fix f;
	struct zero z = { .f = &f, .max = 100 };

	(void)state;
	fix_init(&f, 0);
	wheel_timer_init(&z.self, zero_self, &z);
	wheel_timer_init(&z.other, zero_other, &z);
	wheel_timer_start(f.w, &z.self, 10);
	wheel_advance(f.w, &f.mc, 10);
	assert_int_equal(z.self_n, 1);
	assert_int_equal(z.other_n, 0);
	assert_int_equal(wheel_count(f.w), 2);
	assert_true(wheel_next_due(f.w) <= 1);
	wheel_advance(f.w, &f.mc, 1);
	assert_int_equal(z.other_n, 1);
	assert_int_equal(z.other_at, 11);
	assert_int_equal(z.self_n, 2);
	wheel_run_due(f.w); /* same ms: nothing more */
	assert_int_equal(z.self_n, 2);
	wheel_advance(f.w, &f.mc, 10);
	assert_int_equal(z.self_n, 12);
	/* a stalled loop: one run, still at most once per ms of lateness */
	f.mc.now += 50;
	wheel_run_due(f.w);
	assert_true(z.self_n > 12 && z.self_n <= 63);
	wheel_advance(f.w, &f.mc, 1000);
	assert_int_equal(z.self_n, 100);
	assert_int_equal(wheel_count(f.w), 0);
	fix_done(&f);
}

/* A callback that runs the wheel again (say, through a helper that
 * "flushes due timers"): the nested run does nothing, and the rest of the
 * slot still fires once each. */
static void rerun_fire(struct wheel_timer *t, void *arg)
{
	struct rec *r = arg;

	rec_fire(t, arg);
	r->f->mc.now += 5;
	wheel_run_due(r->f->w);
	r->f->mc.now -= 5;
	wheel_advance(r->f->w, &r->f->mc, 3); /* moves the clock only */
	assert_int_equal(r->f->nfired, 1);
	r->f->mc.now -= 3;
}

static void test_run_due_from_callback(void **state)
{
	struct fix f;
	struct rec r[4];

	(void)state;
	fix_init(&f, 0);
	for (int i = 0; i < 4; i++)
		rec_init(&r[i], &f);
	wheel_timer_init(&r[0].t, rerun_fire, &r[0]);
	for (int i = 0; i < 3; i++)
		rec_start(&r[i], 10);
	rec_start(&r[3], 12);
	wheel_advance(f.w, &f.mc, 10);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].fired, 1);
		assert_false(wheel_timer_armed(&r[i].t));
	}
	assert_int_equal(r[3].fired, 0);
	assert_int_equal(wheel_count(f.w), 1);
	wheel_advance(f.w, &f.mc, 2);
	assert_int_equal(r[3].fired, 1);
	assert_true(r[3].fired_at == r[3].want);
	assert_int_equal(wheel_count(f.w), 0);
	fix_done(&f);
}

static void test_free_disarms(void **state)
{
	struct fix f;
	struct rec r[6];
	static const uint64_t delays[] = {
		0, 10, 300, 20000, 3 * DAY, 90 * DAY
	};

	(void)state;
	fix_init(&f, 0);
	for (int i = 0; i < 6; i++) {
		rec_init(&r[i], &f);
		rec_start(&r[i], delays[i]);
	}
	wheel_advance(f.w, &f.mc, 0);
	assert_int_equal(r[0].fired, 1);
	assert_int_equal(wheel_count(f.w), 5);
	fix_done(&f);
	for (int i = 0; i < 6; i++) {
		assert_false(wheel_timer_armed(&r[i].t));
		wheel_timer_cancel(&r[i].t); /* still safe */
	}
	for (int i = 1; i < 6; i++)
		assert_int_equal(r[i].fired, 0);
}

/* The real loop: a 20 ms timer on the monotonic clock. */
struct live {
	struct wheel_timer t;
	struct wheel *w;
	const struct duet_clock *c;
	uint64_t fired_at, fired_ns;
	unsigned n;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void live_fire(struct wheel_timer *t, void *arg)
{
	struct live *l = arg;

	(void)t;
	l->n++;
	l->fired_at = duet_clock_now(l->c);
	l->fired_ns = mono_ns();
}

static void test_event_loop(void **state)
{
	struct event_base *base = event_base_new();
	const struct duet_clock *c = duet_clock_monotonic();
	struct live l = { .c = c };
	uint64_t start, start_ns;

	(void)state;
	assert_non_null(base);
	assert_int_equal(wheel_new(&l.w, base, c), 0);
	wheel_timer_init(&l.t, live_fire, &l);
	start_ns = mono_ns();
	start = duet_clock_now(c);
	wheel_timer_start(l.w, &l.t, 20);
	/* returns once no event is left: the wheel's must not linger */
	assert_int_equal(event_base_dispatch(base), 1);
	assert_int_equal(l.n, 1);
	assert_true(l.fired_at - start >= 20);
	/* the clock counts whole ms, so a timer started late in one ms may
	 * fire up to 1 ms sooner than its delay in real time */
	assert_true(l.fired_ns - start_ns > 19000000u);
	assert_true(duet_clock_now(c) - start < 200);
	assert_int_equal(wheel_count(l.w), 0);
	wheel_free(l.w);
	event_base_free(base);
}

static void live_cancel(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wheel_timer_cancel(arg);
}

/*
 * Cancelling the last timer from outside the wheel (another event) must
 * let the loop end, not keep it waiting for the cancelled timer's wakeup.
 */
static void test_event_loop_cancel(void **state)
{
	struct event_base *base = event_base_new();
	const struct duet_clock *c = duet_clock_monotonic();
	struct live l = { .c = c };
	struct timeval tv = { .tv_usec = 10000 };
	uint64_t start;

	(void)state;
	assert_non_null(base);
	assert_int_equal(wheel_new(&l.w, base, c), 0);
	wheel_timer_init(&l.t, live_fire, &l);
	start = duet_clock_now(c);
	wheel_timer_start(l.w, &l.t, 5000);
	assert_int_equal(
		event_base_once(base, -1, EV_TIMEOUT, live_cancel, &l.t, &tv),
		0);
	assert_int_equal(event_base_dispatch(base), 1);
	assert_int_equal(l.n, 0);
	assert_true(duet_clock_now(c) - start < 200);
	wheel_free(l.w);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_new_args),
		LEAK_TEST(test_fires_exactly),
		LEAK_TEST(test_coarse),
		LEAK_TEST(test_random_order),
		LEAK_TEST(test_random_interleaved),
		LEAK_TEST(test_timer_a_b),
		LEAK_TEST(test_timer_e_f),
		LEAK_TEST(test_timer_b_once),
		LEAK_TEST(test_long_timers),
		LEAK_TEST(test_huge_delay),
		LEAK_TEST(test_random_callbacks),
		LEAK_TEST(test_cancel_before_fire),
		LEAK_TEST(test_cancel_same_slot_in_callback),
		LEAK_TEST(test_cancel_idempotent),
		LEAK_TEST(test_restart_moves),
		LEAK_TEST(test_restart_in_callback),
		LEAK_TEST(test_callback_frees_owner),
		LEAK_TEST(test_next_due),
		LEAK_TEST(test_cancel_leaves_no_wakeup),
		LEAK_TEST(test_next_due_at_block_start),
		LEAK_TEST(test_clock_jump_advance),
		LEAK_TEST(test_clock_jump_run_due),
		LEAK_TEST(test_delay_zero_in_callback),
		LEAK_TEST(test_run_due_from_callback),
		LEAK_TEST(test_free_disarms),
		LEAK_TEST(test_event_loop),
		LEAK_TEST(test_event_loop_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
