/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the cmocka tests. */
#ifndef DUET_TEST_UTIL_H
#define DUET_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "duet/alloc.h"
#include "duet/slice.h"

/* Assert a slice equals a C string. */
#define assert_slice(s, cstr)                                                  \
	do {                                                                   \
		struct slice s__ = (s);                                        \
		char b__[512];                                                 \
		slice_to_cstr(s__, b__, sizeof(b__));                          \
		assert_string_equal(b__, (cstr));                              \
	} while (0)

/* Turn "\n" into "\r\n" so messages in tests read naturally. */
static inline size_t test_crlf(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; *in && n + 2 < cap; in++) {
		if (*in == '\n')
			out[n++] = '\r';
		out[n++] = *in;
	}
	out[n] = '\0';
	return n;
}

/* Every test checks that it left no allocation behind. */
static inline int test_leak_setup(void **state)
{
	struct duet_alloc_stats *s = test_malloc(sizeof(*s));

	*s = duet_alloc_stats();
	*state = s;
	return 0;
}

static inline int test_leak_teardown(void **state)
{
	struct duet_alloc_stats *s = *state, now = duet_alloc_stats();
	int64_t before = s->live;

	test_free(s);
	duet_alloc_fail_nth(0);
	if (now.live != before) {
		fprintf(stderr, "leak: %lld live allocations\n",
			(long long)(now.live - before));
		return -1;
	}
	return 0;
}

#define LEAK_TEST(f)                                                           \
	cmocka_unit_test_setup_teardown(f, test_leak_setup, test_leak_teardown)

#endif
