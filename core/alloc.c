/* SPDX-License-Identifier: MIT */
/* Allocation accounting and failure injection (per thread). */
#include "duet/alloc.h"

#include <stdlib.h>
#include <string.h>

static _Thread_local struct duet_alloc_stats stats;
static _Thread_local uint64_t fail_countdown;

/* true when this allocation must fail (injected) */
static int injected_failure(void)
{
	if (fail_countdown == 0)
		return 0;
	if (--fail_countdown == 0) {
		stats.failed++;
		return 1;
	}
	return 0;
}

static void *counted(void *p)
{
	if (p) {
		stats.allocs++;
		stats.live++;
	} else {
		stats.failed++;
	}
	return p;
}

void *duet_malloc(size_t size)
{
	if (injected_failure())
		return NULL;
	return counted(malloc(size ? size : 1));
}

void *duet_calloc(size_t n, size_t size)
{
	if (injected_failure())
		return NULL;
	return counted(calloc(n ? n : 1, size ? size : 1));
}

void *duet_realloc(void *p, size_t size)
{
	void *q;

	if (!p)
		return duet_malloc(size);
	if (injected_failure())
		return NULL;
	q = realloc(p, size ? size : 1);
	if (!q)
		stats.failed++;
	return q;
}

void duet_free(void *p)
{
	if (!p)
		return;
	stats.frees++;
	stats.live--;
	free(p);
}

char *duet_strndup(const char *s, size_t n)
{
	char *d = duet_malloc(n + 1);

	if (!d)
		return NULL;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

struct duet_alloc_stats duet_alloc_stats(void)
{
	return stats;
}

void duet_alloc_fail_nth(uint64_t nth)
{
	fail_countdown = nth;
}
