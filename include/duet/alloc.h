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
	uint64_t allocs; /* successful allocations (malloc, calloc, new realloc)
			  */
	uint64_t frees;	 /* frees of non-NULL pointers */
	int64_t live;	 /* allocs - frees */
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

/*
 * The pool: small objects that live as long as a call (the call, its
 * dialogs and their strings) are carved from 64 KiB slabs of their own,
 * by size class (16-byte steps up to DUET_POOL_MAX), not from the heap
 * that messages churn through. So a call held for hours pins a few
 * hundred dense bytes, not the pages its setup traffic was spread over,
 * and those pages can go back to the system. Freed objects
 * are reused by their class; slabs are kept. Counted like duet_malloc
 * (live, failure injection). Bigger objects, sanitizer builds and
 * DUET_NO_POOL=1 in the environment (valgrind runs) use the heap.
 */
#define DUET_POOL_MAX 2048

/** n zeroed bytes (n > 0), or NULL. Free with duet_pool_free(p, n). */
void *duet_pool_alloc(size_t n);
/** Free p (NULL is fine); n must be the size it was allocated with. */
void duet_pool_free(void *p, size_t n);
/** A pooled copy of s plus a NUL; free with duet_pool_free_str. */
char *duet_pool_strndup(const char *s, size_t n);
void duet_pool_free_str(char *s);

struct duet_pool_stats {
	uint64_t slabs;	  /* 64 KiB slabs mapped */
	uint64_t objects; /* pooled objects in use */
	uint64_t bytes;	  /* their bytes, rounded to their class */
};

/*
 * The churn cache: blocks made and dropped by the thousand per second
 * (parsed messages: 1.3-8 KiB, above the C library's per-thread cache,
 * where every malloc sorts the heap's free lists) go on a LIFO list of
 * their 256-byte class when freed and are handed out again, up to
 * DUET_CACHE_BYTES in all; beyond that, and above DUET_CACHE_MAX, the
 * heap. Not zeroed. Counted like duet_malloc; sanitizer builds and
 * DUET_NO_POOL=1 use the heap.
 */
#define DUET_CACHE_MAX 8192
#define DUET_CACHE_BYTES ((size_t)1024 * 1024)

/** n bytes (not zeroed), or NULL. Free with duet_cache_free(p, n). */
void *duet_cache_alloc(size_t n);
/** Free p (NULL is fine); n must be the size it was allocated with. */
void duet_cache_free(void *p, size_t n);

/*
 * The FIFO arena: blocks that die in about the order they were made (a
 * lingering transaction ends 64*T1 after it began to linger) are carved
 * one after the other from 2 MiB chunks, each a mapping of its own that
 * the kernel may back with one huge page, and a chunk is unmapped when
 * its last block is freed (one empty chunk is kept as the next). So
 * neither making nor freeing such a block searches the heap's free lists,
 * blocks that live 32 s leave no holes in the heap between the
 * short-lived ones it hands out meanwhile, and writing 32 s of them costs
 * a page fault per 2 MiB rather than per 4 KiB. A block's 16-byte header
 * finds its chunk. Counted like duet_malloc (live, failure injection).
 * Blocks bigger than a chunk's room, sanitizer builds and DUET_NO_POOL=1
 * use the heap. An arena belongs to one thread; a zeroed struct is an
 * empty one.
 */
#define DUET_FIFO_CHUNK ((size_t)2 * 1024 * 1024)

struct duet_fifo_chunk;
struct duet_fifo {
	struct duet_fifo_chunk *cur;   /* where blocks are carved */
	struct duet_fifo_chunk *spare; /* an empty one, kept for the next */
	uint64_t chunks;	       /* chunks mapped */
};

/** n bytes (not zeroed, 16-byte aligned), or NULL. */
void *duet_fifo_alloc(struct duet_fifo *f, size_t n);
/** Free a block of any arena (NULL is fine). */
void duet_fifo_free(void *p);
/** Unmap f's empty chunks: the spare, and the current one when no block
 * of it is live (blocks still live keep theirs). */
void duet_fifo_release(struct duet_fifo *f);

/** This thread's pool counters. */
struct duet_pool_stats duet_pool_stats(void);

#endif /* DUET_ALLOC_H */
