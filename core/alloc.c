/* SPDX-License-Identifier: MIT */
/* Allocation accounting and failure injection (per thread). */
#include "duet/alloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

/* ---- the pool ---- */

#if defined(__SANITIZE_ADDRESS__)
#define POOL_HEAP_ONLY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_HEAP_ONLY 1
#endif
#endif

#define POOL_STEP 16
#define POOL_CLASSES (DUET_POOL_MAX / POOL_STEP)
#define POOL_SLAB ((size_t)64 * 1024)

struct pool_free_obj {
	struct pool_free_obj *next;
};

struct pool_class {
	struct pool_free_obj *free; /* freed objects of this class */
	char *bump, *end;	    /* never-used room in the newest slab */
};

static _Thread_local struct pool_class pool[POOL_CLASSES];
static _Thread_local struct duet_pool_stats pstats;
static _Thread_local int pool_mode; /* 0: unknown, 1: pool, 2: heap */

/* once per thread: the environment's answer */
static bool pool_decide(void)
{
#ifdef POOL_HEAP_ONLY
	pool_mode = 2;
#else
	const char *e = getenv("DUET_NO_POOL");

	pool_mode = e && *e && strcmp(e, "0") != 0 ? 2 : 1;
#endif
	return pool_mode == 1;
}

static inline bool pool_on(void)
{
	return pool_mode == 1 || (pool_mode == 0 && pool_decide());
}

void *duet_pool_alloc(size_t n)
{
	struct pool_class *c;
	size_t size;
	void *p;

	if (n == 0 || n > DUET_POOL_MAX || !pool_on())
		return duet_calloc(1, n);
	if (injected_failure())
		return NULL;
	size = (n + POOL_STEP - 1) / POOL_STEP * POOL_STEP;
	c = &pool[size / POOL_STEP - 1];
	if (c->free) {
		p = c->free;
		c->free = c->free->next;
	} else {
		if ((size_t)(c->end - c->bump) < size) {
			/* the rest of the old slab (under one object) is lost
			 */
			char *slab =
				mmap(NULL, POOL_SLAB, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (slab == MAP_FAILED) {
				stats.failed++;
				return NULL;
			}
			pstats.slabs++;
			c->bump = slab;
			c->end = slab + POOL_SLAB;
		}
		p = c->bump;
		c->bump += size;
	}
	memset(p, 0, size);
	pstats.objects++;
	pstats.bytes += size;
	return counted(p);
}

void duet_pool_free(void *p, size_t n)
{
	struct pool_class *c;
	struct pool_free_obj *o = p;
	size_t size;

	if (!p)
		return;
	if (n == 0 || n > DUET_POOL_MAX || !pool_on()) {
		duet_free(p);
		return;
	}
	size = (n + POOL_STEP - 1) / POOL_STEP * POOL_STEP;
	c = &pool[size / POOL_STEP - 1];
	o->next = c->free;
	c->free = o;
	stats.frees++;
	stats.live--;
	pstats.objects--;
	pstats.bytes -= size;
}

char *duet_pool_strndup(const char *s, size_t n)
{
	char *d = duet_pool_alloc(n + 1);

	if (d && n)
		memcpy(d, s, n);
	return d; /* zeroed: NUL-terminated */
}

void duet_pool_free_str(char *s)
{
	if (s)
		duet_pool_free(s, strlen(s) + 1);
}

/* ---- the churn cache ---- */

#define CACHE_STEP 256
#define CACHE_CLASSES (DUET_CACHE_MAX / CACHE_STEP)

static _Thread_local struct pool_free_obj *cache[CACHE_CLASSES];
static _Thread_local size_t cache_bytes;

void *duet_cache_alloc(size_t n)
{
	size_t size = (n + CACHE_STEP - 1) / CACHE_STEP * CACHE_STEP;
	struct pool_free_obj **c;
	void *p;

	if (n == 0 || n > DUET_CACHE_MAX || !pool_on())
		return duet_malloc(n);
	c = &cache[size / CACHE_STEP - 1];
	if (!*c) /* the whole class, so the block can serve any of it */
		return duet_malloc(size);
	if (injected_failure())
		return NULL;
	p = *c;
	*c = (*c)->next;
	cache_bytes -= size;
	return counted(p);
}

void duet_cache_free(void *p, size_t n)
{
	size_t size = (n + CACHE_STEP - 1) / CACHE_STEP * CACHE_STEP;
	struct pool_free_obj *o = p, **c;

	if (!p)
		return;
	if (n == 0 || n > DUET_CACHE_MAX || !pool_on() ||
	    cache_bytes + size > DUET_CACHE_BYTES) {
		duet_free(p);
		return;
	}
	c = &cache[size / CACHE_STEP - 1];
	o->next = *c;
	*c = o;
	cache_bytes += size;
	stats.frees++;
	stats.live--;
}

/* ---- the FIFO arena ---- */

struct duet_fifo_chunk {
	struct duet_fifo *owner;
	uint32_t live; /* blocks not freed yet */
	uint32_t used; /* bytes carved, this header included */
};

/* before each block: its offset in its chunk, 0 for a heap block */
struct fifo_block {
	uint32_t off;
	uint32_t pad[3]; /* keeps the block 16-byte aligned */
};

#define FIFO_ROUND(n) (((n) + 15) & ~(size_t)15)
#define FIFO_HDR FIFO_ROUND(sizeof(struct duet_fifo_chunk))

_Static_assert(sizeof(struct fifo_block) == 16, "block header size");

static void *fifo_heap_block(size_t n)
{
	struct fifo_block *b = malloc(sizeof(*b) + n);

	if (!b)
		return counted(NULL);
	b->off = 0;
	return counted(b + 1);
}

/*
 * A chunk is a mapping of its own, aligned to its size, so that the
 * kernel can back it with one transparent huge page (MADV_HUGEPAGE): the
 * blocks of one chunk are written once each, front to back, and each
 * 4 KiB page touched for the first time is a page fault (about 10 us on
 * the bench machine); a huge page is one fault for 512 of them. Outside
 * the heap, the chunks also leave no holes in it between the short-lived
 * blocks malloc hands out, so the heap stays small and warm.
 */
static struct duet_fifo_chunk *chunk_map(void)
{
	size_t len = 2 * DUET_FIFO_CHUNK, head;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + DUET_FIFO_CHUNK - 1) &
		     ~(uintptr_t)(DUET_FIFO_CHUNK - 1));
	head = (size_t)(a - p);
	if (head)
		munmap(p, head);
	if (len - head > DUET_FIFO_CHUNK)
		munmap(a + DUET_FIFO_CHUNK, len - head - DUET_FIFO_CHUNK);
#ifdef MADV_HUGEPAGE
	(void)madvise(a, DUET_FIFO_CHUNK, MADV_HUGEPAGE); /* a hint only */
#endif
	return (struct duet_fifo_chunk *)(void *)a;
}

static void chunk_unmap(struct duet_fifo_chunk *c)
{
	if (c)
		munmap(c, DUET_FIFO_CHUNK);
}

void *duet_fifo_alloc(struct duet_fifo *f, size_t n)
{
	size_t need = sizeof(struct fifo_block) + FIFO_ROUND(n ? n : 1);
	struct duet_fifo_chunk *c = f->cur;
	struct fifo_block *b;

	if (injected_failure())
		return NULL;
	if (need > DUET_FIFO_CHUNK - FIFO_HDR || !pool_on())
		return fifo_heap_block(n);
	/* an empty current chunk is reset by its last free, so it always
	 * has room: a full one has live blocks and stays until they go */
	if (!c || c->used + need > DUET_FIFO_CHUNK) {
		c = f->spare;
		f->spare = NULL;
		if (!c) {
			c = chunk_map();
			if (!c)
				return counted(NULL);
			f->chunks++;
		}
		c->owner = f;
		c->live = 0;
		c->used = FIFO_HDR;
		f->cur = c;
	}
	b = (struct fifo_block *)(void *)((char *)c + c->used);
	b->off = c->used;
	c->used += (uint32_t)need;
	c->live++;
	return counted(b + 1);
}

void duet_fifo_free(void *p)
{
	struct fifo_block *b;
	struct duet_fifo_chunk *c;
	struct duet_fifo *f;

	if (!p)
		return;
	stats.frees++;
	stats.live--;
	b = (struct fifo_block *)p - 1;
	if (b->off == 0) {
		free(b);
		return;
	}
	c = (struct duet_fifo_chunk *)(void *)((char *)b - b->off);
	if (--c->live)
		return;
	f = c->owner;
	if (c == f->cur) /* empty: carve it again from the start */
		c->used = FIFO_HDR;
	else if (!f->spare)
		f->spare = c;
	else
		chunk_unmap(c);
}

void duet_fifo_release(struct duet_fifo *f)
{
	chunk_unmap(f->spare);
	f->spare = NULL;
	if (f->cur && f->cur->live == 0) {
		chunk_unmap(f->cur);
		f->cur = NULL;
	}
}

struct duet_pool_stats duet_pool_stats(void)
{
	return pstats;
}
