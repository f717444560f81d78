/* SPDX-License-Identifier: MIT */
/* The allocation counters, failure injection and the call-state pool. */
#include "test_util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "duet/alloc.h"

static void test_counts(void **state)
{
	struct duet_alloc_stats a = duet_alloc_stats(), b;
	char *p = duet_malloc(10), *q = duet_strndup("abc", 3);

	(void)state;
	b = duet_alloc_stats();
	assert_int_equal(b.live - a.live, 2);
	assert_int_equal(b.allocs - a.allocs, 2);
	assert_string_equal(q, "abc");
	duet_free(p);
	duet_free(q);
	duet_free(NULL);
	b = duet_alloc_stats();
	assert_int_equal(b.live, a.live);
	assert_int_equal(b.frees - a.frees, 2);
}

static void test_fail_nth(void **state)
{
	void *p, *q;

	(void)state;
	duet_alloc_fail_nth(2);
	p = duet_malloc(8);
	assert_non_null(p);
	assert_null(duet_pool_alloc(8)); /* the pool obeys injection too */
	q = duet_pool_alloc(8);
	assert_non_null(q);
	duet_free(p);
	duet_pool_free(q, 8);
}

/* Objects are zeroed, sized by class, reused after free, and counted. */
static void test_pool_reuse(void **state)
{
	struct duet_pool_stats s0 = duet_pool_stats(), s1;
	unsigned char *a = duet_pool_alloc(20), *b;

	(void)state;
	assert_non_null(a);
	for (int i = 0; i < 20; i++)
		assert_int_equal(a[i], 0);
	memset(a, 0xab, 20);
	s1 = duet_pool_stats();
	if (getenv("DUET_NO_POOL") == NULL && s1.objects != s0.objects) {
		/* pooled (not a sanitizer build): one 32-byte object */
		assert_int_equal(s1.objects - s0.objects, 1);
		assert_int_equal(s1.bytes - s0.bytes, 32);
		duet_pool_free(a, 20);
		b = duet_pool_alloc(32); /* same class: the freed object */
		assert_ptr_equal(a, b);
	} else {
		duet_pool_free(a, 20);
		b = duet_pool_alloc(32);
	}
	for (int i = 0; i < 32; i++)
		assert_int_equal(b[i], 0);
	duet_pool_free(b, 32);
	s1 = duet_pool_stats();
	assert_int_equal(s1.objects, s0.objects);
	assert_int_equal(s1.bytes, s0.bytes);
}

/* Many objects of many sizes: no two overlap, slabs fill densely, and
 * sizes over DUET_POOL_MAX still work (from the heap). */
static void test_pool_many(void **state)
{
	enum { N = 6000 };
	static unsigned char *p[N];
	struct duet_pool_stats s0 = duet_pool_stats(), s1;

	(void)state;
	for (int i = 0; i < N; i++) {
		size_t n = 1 + (size_t)(i * 37) % (DUET_POOL_MAX + 100);

		p[i] = duet_pool_alloc(n);
		assert_non_null(p[i]);
		memset(p[i], i & 0xff, n);
	}
	for (int i = 0; i < N; i++) {
		size_t n = 1 + (size_t)(i * 37) % (DUET_POOL_MAX + 100);

		for (size_t k = 0; k < n; k++)
			assert_int_equal(p[i][k], i & 0xff);
	}
	s1 = duet_pool_stats();
	if (s1.objects != s0.objects) /* pooled: slabs hold the bytes */
		assert_true(s1.slabs * 64 * 1024 >= s1.bytes - s0.bytes);
	for (int i = 0; i < N; i++)
		duet_pool_free(p[i],
			       1 + (size_t)(i * 37) % (DUET_POOL_MAX + 100));
	s1 = duet_pool_stats();
	assert_int_equal(s1.objects, s0.objects);
}

static void test_pool_strings(void **state)
{
	char *s = duet_pool_strndup("sip:alice@example.com;x", 21);

	(void)state;
	assert_string_equal(s, "sip:alice@example.com");
	duet_pool_free_str(s);
	duet_pool_free_str(NULL);
	s = duet_pool_strndup("", 0);
	assert_string_equal(s, "");
	duet_pool_free_str(s);
}

/* Whether this build pools (sanitizer builds and DUET_NO_POOL do not). */
static bool pooled(void)
{
	struct duet_pool_stats s0 = duet_pool_stats();
	void *p = duet_pool_alloc(8);
	bool on = duet_pool_stats().objects != s0.objects;

	duet_pool_free(p, 8);
	return on;
}

/* Freed blocks come back for the next allocation of their class, are
 * counted as freed while cached, and the cache stays within its bound. */
static void test_cache(void **state)
{
	enum { N = 600 };
	static char *p[N];
	struct duet_alloc_stats a = duet_alloc_stats(), b;
	char *x, *y;

	(void)state;
	x = duet_cache_alloc(1500);
	assert_non_null(x);
	memset(x, 'x', 1500);
	duet_cache_free(x, 1500);
	b = duet_alloc_stats();
	assert_int_equal(b.live, a.live);
	y = duet_cache_alloc(1400); /* same 256-byte class (1280..1536] */
	assert_non_null(y);
	if (pooled()) /* not a sanitizer build: the cached block, LIFO */
		assert_ptr_equal(y, x);
	memset(y, 'y', 1400);
	duet_cache_free(y, 1400);
	/* more than DUET_CACHE_BYTES freed: the rest goes to the heap */
	for (int i = 0; i < N; i++) {
		p[i] = duet_cache_alloc(4000);
		assert_non_null(p[i]);
		memset(p[i], i & 0xff, 4000);
	}
	for (int i = 0; i < N; i++)
		duet_cache_free(p[i], 4000);
	/* big ones bypass it */
	x = duet_cache_alloc(DUET_CACHE_MAX + 1);
	assert_non_null(x);
	duet_cache_free(x, DUET_CACHE_MAX + 1);
	duet_alloc_fail_nth(1);
	assert_null(duet_cache_alloc(4000)); /* injection, cached or not */
	b = duet_alloc_stats();
	assert_int_equal(b.live, a.live);
}

/*
 * FIFO arena: blocks are carved in order from one chunk, aligned; a chunk
 * whose blocks are all freed is reused (the current one from its start,
 * another as the spare), a third empty one is unmapped; chunks are
 * aligned to their size (so a huge page can back one); big blocks and
 * injected failures behave; every block is counted.
 */
static void test_fifo(void **state)
{
	/* SZ rounds up to 1008, plus the 16-byte header: PER to a chunk */
	enum {
		SZ = 1000,
		PER = (int)((DUET_FIFO_CHUNK - 16) / 1024),
		N = 3 * PER + PER / 2
	};
	static char *p[N];
	struct duet_alloc_stats a = duet_alloc_stats(), b;
	struct duet_fifo f = { 0 };
	char *x, *y, *big;
	bool on = pooled();

	(void)state;
	x = duet_fifo_alloc(&f, 100);
	y = duet_fifo_alloc(&f, 1);
	assert_non_null(x);
	assert_non_null(y);
	assert_int_equal((uintptr_t)x % 16, 0);
	assert_int_equal((uintptr_t)y % 16, 0);
	memset(x, 'x', 100);
	memset(y, 'y', 1);
	if (on) { /* carved one after the other: 112 + a 16-byte header */
		assert_ptr_equal(y, x + 112 + 16);
		assert_int_equal(f.chunks, 1);
	}
	b = duet_alloc_stats();
	assert_int_equal(b.live - a.live, 2);
	duet_fifo_free(x);
	duet_fifo_free(y);
	/* the current chunk emptied: the next block is its first again */
	y = duet_fifo_alloc(&f, 50);
	if (on)
		assert_ptr_equal(y, x);
	duet_fifo_free(y);
	/* N fill three chunks and half a fourth */
	for (int i = 0; i < N; i++) {
		p[i] = duet_fifo_alloc(&f, SZ);
		assert_non_null(p[i]);
		memset(p[i], i & 0xff, SZ);
	}
	if (on) {
		assert_int_equal(f.chunks, 4);
		assert_int_equal((uintptr_t)p[0] % DUET_FIFO_CHUNK, 32);
		assert_int_equal((uintptr_t)p[PER] % DUET_FIFO_CHUNK, 32);
		assert_ptr_equal(p[PER - 1], p[0] + (PER - 1) * 1024);
	}
	for (int i = 0; i < N; i++) { /* nothing overwritten another */
		for (int j = 0; j < SZ; j += 97)
			assert_int_equal((unsigned char)p[i][j], i & 0xff);
	}
	/* freed oldest first: the first full chunk becomes the spare, the
	 * next ones are unmapped */
	for (int i = 0; i < N; i++)
		duet_fifo_free(p[i]);
	for (int i = 0; i < N; i++) { /* spare and current: no new chunk */
		p[i] = duet_fifo_alloc(&f, SZ);
		assert_non_null(p[i]);
	}
	if (on)
		assert_int_equal(f.chunks, 4 + 2);
	for (int i = N - 1; i >= 0; i--) /* any order works */
		duet_fifo_free(p[i]);
	big = duet_fifo_alloc(&f, DUET_FIFO_CHUNK); /* bigger than a chunk */
	assert_non_null(big);
	memset(big, 'b', DUET_FIFO_CHUNK);
	duet_fifo_free(big);
	duet_fifo_free(NULL);
	duet_alloc_fail_nth(1);
	assert_null(duet_fifo_alloc(&f, 10));
	duet_fifo_release(&f);
	b = duet_alloc_stats();
	assert_int_equal(b.live, a.live);
}

/* Is the page at p mapped? mincore() fails with ENOMEM where nothing is. */
static bool page_mapped(const void *p)
{
	unsigned char v;
	uintptr_t page = (uintptr_t)p & ~(uintptr_t)(getpagesize() - 1);

	if (mincore((void *)page, 1, &v) == 0)
		return true;
	assert_int_equal(errno, ENOMEM);
	return false;
}

/*
 * duet_fifo_release (what txl_trim runs on the transaction arenas) gives
 * the empty chunks back to the system: the spare at once, the current one
 * once its last block is freed; a chunk with a live block stays mapped
 * and its blocks intact.
 */
static void test_fifo_release(void **state)
{
	enum { SZ = 1000, PER = (int)((DUET_FIFO_CHUNK - 16) / 1024) };
	static char *p[PER + 1];
	struct duet_alloc_stats a = duet_alloc_stats();
	struct duet_fifo f = { 0 };
	const char *first, *second;
	bool on = pooled();

	(void)state;
	for (int i = 0; i <= PER; i++) { /* a full chunk and one block */
		p[i] = duet_fifo_alloc(&f, SZ);
		assert_non_null(p[i]);
		memset(p[i], 'a' + i % 26, SZ);
	}
	first = p[0] - (uintptr_t)p[0] % DUET_FIFO_CHUNK;
	second = p[PER] - (uintptr_t)p[PER] % DUET_FIFO_CHUNK;
	for (int i = 0; i < PER; i++) /* the first chunk empties: spare */
		duet_fifo_free(p[i]);
	if (on) {
		assert_int_equal(f.chunks, 2);
		assert_ptr_not_equal(first, second);
		assert_true(page_mapped(first));
	}
	duet_fifo_release(&f);
	if (on) {
		assert_false(page_mapped(first)); /* the spare: gone */
		assert_true(page_mapped(second)); /* a block lives there */
	}
	assert_int_equal((unsigned char)p[PER][SZ - 1], 'a' + PER % 26);
	duet_fifo_free(p[PER]);
	duet_fifo_release(&f);
	if (on)
		assert_false(page_mapped(second)); /* current and empty: gone */
	p[0] = duet_fifo_alloc(&f, SZ);		   /* the arena still works */
	assert_non_null(p[0]);
	memset(p[0], 'z', SZ);
	duet_fifo_free(p[0]);
	duet_fifo_release(&f);
	assert_int_equal(duet_alloc_stats().live, a.live);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_counts),	      LEAK_TEST(test_fail_nth),
		LEAK_TEST(test_pool_reuse),   LEAK_TEST(test_pool_many),
		LEAK_TEST(test_pool_strings), LEAK_TEST(test_cache),
		LEAK_TEST(test_fifo),	      LEAK_TEST(test_fifo_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
