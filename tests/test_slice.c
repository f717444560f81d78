/* SPDX-License-Identifier: MIT */
/* Unit tests of slices, checked numbers, errors and allocation accounting. */
#include "test_util.h"

#include "duet/err.h"

static void test_compare(void **state)
{
	(void)state;
	assert_true(slice_eq(SLICE_LIT("abc"), slice_cstr("abc")));
	assert_false(slice_eq(SLICE_LIT("abc"), SLICE_LIT("abC")));
	assert_true(slice_caseeq(SLICE_LIT("Call-ID"), SLICE_LIT("call-id")));
	assert_false(slice_caseeq(SLICE_LIT("Call-ID"), SLICE_LIT("call-i")));
	assert_true(slice_eq(SLICE_NULL, SLICE_LIT("")));
	assert_false(slice_present(SLICE_NULL));
	assert_true(slice_present(SLICE_LIT("")));
}

static void test_trim_sub_find(void **state)
{
	(void)state;
	assert_slice(slice_trim(SLICE_LIT(" \t a b \r\n")), "a b");
	assert_int_equal(slice_trim(SLICE_LIT("   ")).len, 0);
	assert_slice(slice_sub(SLICE_LIT("abcdef"), 2, 3), "cde");
	assert_slice(slice_sub(SLICE_LIT("abc"), 2, 9), "c");
	assert_int_equal(slice_sub(SLICE_LIT("abc"), 7, 1).len, 0);
	assert_int_equal(slice_find(SLICE_LIT("a;b"), ';'), 1);
	assert_int_equal(slice_find(SLICE_LIT("ab"), ';'), 2);
	assert_int_equal(slice_find(SLICE_NULL, ';'), 0);
}

static void test_numbers(void **state)
{
	(void)state;
	uint64_t v = 99;
	uint32_t w = 99;

	assert_int_equal(slice_to_u64(SLICE_LIT("0"), 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(
		slice_to_u64(SLICE_LIT("18446744073709551615"), UINT64_MAX, &v),
		0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(
		slice_to_u64(SLICE_LIT("18446744073709551616"), UINT64_MAX, &v),
		EBADMSG);
	assert_int_equal(slice_to_u32(SLICE_LIT("255"), 255, &w), 0);
	assert_int_equal(w, 255);
	assert_int_equal(slice_to_u32(SLICE_LIT("256"), 255, &w), EBADMSG);
	assert_int_equal(w, 255); /* untouched on error */
	assert_int_equal(slice_to_u32(SLICE_LIT(""), 255, &w), EBADMSG);
	assert_int_equal(slice_to_u32(SLICE_LIT("+1"), 255, &w), EBADMSG);
	assert_int_equal(slice_to_u32(SLICE_LIT("1 "), 255, &w), EBADMSG);
	assert_int_equal(slice_to_u32(SLICE_LIT("4294967295"), UINT32_MAX, &w),
			 0);
	assert_true(w == UINT32_MAX);
}

static void test_cstr(void **state)
{
	(void)state;
	char b[4];

	assert_string_equal(slice_to_cstr(SLICE_LIT("abcdef"), b, sizeof(b)),
			    "abc");
	assert_string_equal(slice_to_cstr(SLICE_NULL, b, sizeof(b)), "");
}

static void test_errors(void **state)
{
	(void)state;
	static const int codes[] = { EINVAL,   ENOMEM, EBADMSG,	 ENODATA,
				     EMSGSIZE, ENOENT, ETIMEDOUT };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		assert_string_not_equal(duet_strerror(codes[i]),
					"unknown error");
		assert_string_not_equal(duet_errname(codes[i]), "E?");
	}
	assert_string_equal(duet_errname(EBADMSG), "EBADMSG");
	assert_string_equal(duet_strerror(12345), "unknown error");
}

static void test_alloc_accounting(void **state)
{
	(void)state;
	struct duet_alloc_stats a = duet_alloc_stats(), b;
	char *p = duet_malloc(10), *q;

	assert_non_null(p);
	q = duet_realloc(p, 100);
	assert_non_null(q);
	b = duet_alloc_stats();
	assert_int_equal(b.allocs - a.allocs, 1);
	assert_int_equal(b.live - a.live, 1);
	duet_free(q);
	duet_free(NULL);
	b = duet_alloc_stats();
	assert_int_equal(b.live, a.live);
	/* injected failure of the 2nd allocation from now */
	duet_alloc_fail_nth(2);
	p = duet_strndup("x", 1);
	assert_non_null(p);
	assert_null(duet_calloc(1, 8));
	q = duet_malloc(1);
	assert_non_null(q);
	duet_free(p);
	duet_free(q);
	assert_int_equal(duet_alloc_stats().failed - a.failed, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_compare), LEAK_TEST(test_trim_sub_find),
		LEAK_TEST(test_numbers), LEAK_TEST(test_cstr),
		LEAK_TEST(test_errors),	 LEAK_TEST(test_alloc_accounting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
