/* SPDX-License-Identifier: MIT */
/* Unit tests of the injected clocks: monotonic and manual. */
#include "test_util.h"

#include <time.h>

#include "duet/clock.h"

static uint64_t ref_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void test_monotonic_non_decreasing(void **state)
{
	const struct duet_clock *c = duet_clock_monotonic();
	uint64_t prev, first;

	(void)state;
	assert_non_null(c);
	assert_ptr_equal(c, duet_clock_monotonic());
	first = prev = duet_clock_now(c);
	for (int i = 0; i < 200000; i++) {
		uint64_t now = duet_clock_now(c);

		assert_true(now >= prev);
		prev = now;
	}
	/* it moves: spin (no sleep) until the millisecond changes */
	for (uint64_t i = 0; prev == first && i < 100000000u; i++)
		prev = duet_clock_now(c);
	assert_true(prev > first);
}

static void test_monotonic_matches_system(void **state)
{
	const struct duet_clock *c = duet_clock_monotonic();

	(void)state;
	for (int i = 0; i < 1000; i++) {
		uint64_t lo = ref_ms(), now = duet_clock_now(c), hi = ref_ms();

		assert_true(lo <= now);
		assert_true(now <= hi);
	}
}

static void test_manual(void **state)
{
	struct manual_clock a, b;

	(void)state;
	manual_clock_init(&a, 0);
	manual_clock_init(&b, 5000);
	assert_int_equal(duet_clock_now(&a.clock), 0);
	assert_int_equal(duet_clock_now(&b.clock), 5000);
	a.now = 12345;
	assert_int_equal(duet_clock_now(&a.clock), 12345);
	assert_int_equal(duet_clock_now(&b.clock), 5000);
	a.now += 32000;
	assert_int_equal(duet_clock_now(&a.clock), 44345);
	/* it only moves when told to */
	assert_int_equal(duet_clock_now(&a.clock), 44345);
	manual_clock_init(&b, UINT64_MAX - 1);
	assert_true(duet_clock_now(&b.clock) == UINT64_MAX - 1);
	assert_int_equal(duet_clock_now(&a.clock), 44345);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_monotonic_non_decreasing),
		LEAK_TEST(test_monotonic_matches_system),
		LEAK_TEST(test_manual),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
