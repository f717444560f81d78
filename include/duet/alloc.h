/* SPDX-License-Identifier: MIT */
/*
 * Allocation with accounting. All of duet allocates through these so tests
 * can check that a piece of work left nothing behind (live count back to
 * where it started) and can make the Nth allocation fail to exercise
 * out-of-memory paths. Counters are per thread: each event loop owns its
 * thread, so no locking or atomics sit on the allocation path.
 */
#ifndef DUET_ALLOC_H
#define DUET_ALLOC_H

#include <stddef.h>
#include <stdint.h>

struct duet_alloc_stats {
	uint64_t allocs; /* successful allocations (malloc, calloc, new realloc) */
	uint64_t frees;  /* frees of non-NULL pointers */
	int64_t live;    /* allocs - frees */
	uint64_t failed; /* allocations refused (real or injected) */
};

void *duet_malloc(size_t size);
void *duet_calloc(size_t n, size_t size);
/** Like realloc(); counts as an allocation only when p is NULL. */
void *duet_realloc(void *p, size_t size);
/** Frees p (NULL is fine). */
void duet_free(void *p);
/** A duet_malloc'd copy of n bytes plus a NUL, or NULL. */
char *duet_strndup(const char *s, size_t n);

/** This thread's counters. */
struct duet_alloc_stats duet_alloc_stats(void);

/**
 * Make this thread's nth allocation from now fail (1 = the next one);
 * 0 turns injection off. For out-of-memory tests.
 */
void duet_alloc_fail_nth(uint64_t nth);

#endif /* DUET_ALLOC_H */
