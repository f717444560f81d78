/* SPDX-License-Identifier: MIT */
/*
 * Internals of the RFC 3263 resolver, shared by core/resolve*.c:
 * record sets and the cache (resolve_cache.c), network lookups
 * (resolve_lookup.c), the wire codec (resolve_dns.c) and queries
 * (resolve.c).
 */
#ifndef DUET_RESOLVE_INTERNAL_H
#define DUET_RESOLVE_INTERNAL_H

#include <stddef.h>

#include <event2/util.h>

#include "duet/resolve.h"

/* An intrusive circular list with a sentinel head. */
struct rlist {
	struct rlist *next, *prev;
};

#define RLIST_ENTRY(p, type, field)                                            \
	((type *)(void *)((char *)(p)-offsetof(type, field)))

static inline void rlist_init(struct rlist *h)
{
	h->next = h->prev = h;
}

static inline bool rlist_empty(const struct rlist *h)
{
	return h->next == h;
}

static inline void rlist_push(struct rlist *h, struct rlist *e)
{
	e->prev = h->prev;
	e->next = h;
	h->prev->next = e;
	h->prev = e;
}

static inline void rlist_unlink(struct rlist *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->next = e->prev = e;
}

/*
 * A record set: what one (name, type) lookup gave, immutable once built
 * and ref-counted (the cache and the queries using it share it). Answer
 * records carry the queried name as owner (CNAME chains followed); for
 * SRV, address records of the additional section follow with extra set
 * and their target as owner. Strings live in the same allocation.
 */
struct rr_rec {
	uint16_t type;
	bool extra;
	const char *owner;
	union {
		uint8_t addr[16];
		struct {
			uint16_t priority, weight, port;
			const char *target;
		} srv;
		struct {
			uint16_t order, preference;
			const char *flags, *service, *replacement;
		} naptr;
	} u;
};

struct rrset {
	unsigned refs;
	uint32_t ttl_s; /* clamped to [1 s, 1 h] */
	unsigned n;
	struct rr_rec rec[];
};

/** Build the set answering (qname, qtype) from a decoded response.
 * neg_ttl_s: lifetime of an empty set without an SOA. 0/ENOMEM. */
int rrset_from_msg(struct rrset **out, const struct resolve_dns_msg *m,
		   const char *qname, uint16_t qtype, uint32_t neg_ttl_s);
struct rrset *rrset_ref(struct rrset *s);
/** Returns NULL. */
struct rrset *rrset_unref(struct rrset *s);

/* The (name, type) -> rrset cache: a hash table with LRU eviction. */
struct rcache_entry;
struct rcache {
	struct rcache_entry **buckets;
	size_t nbuckets, count, cap;
	struct rlist lru; /* most recently used first */
};

/** cap 0: a cache that keeps nothing. 0/ENOMEM. */
int rcache_init(struct rcache *c, size_t cap);
void rcache_fini(struct rcache *c);
/** The live set for (name, type) at now (ms), borrowed; NULL if none. */
struct rrset *rcache_get(struct rcache *c, const char *name, uint16_t type,
			 uint64_t now);
/** Keep s (takes a reference) until now + its TTL. Best effort. */
void rcache_put(struct rcache *c, const char *name, uint16_t type,
		struct rrset *s, uint64_t now);

struct resolve_query;
struct lookup;

/* One (name, type) a query waits for. */
struct need {
	struct resolve_query *q;
	const char *name; /* borrowed from the query or one of its sets */
	uint16_t type;
	struct lookup *lk;  /* while waiting */
	struct rlist wlink; /* in lk->waiters */
	struct rrset *set;  /* once done: the answer, NULL on error */
	int err;
};

struct resolver {
	struct event_base *base;
	struct wheel *wheel;
	struct resolve_config cfg;
	struct rcache cache;
	struct rlist lookups; /* in flight */
	struct rlist active;  /* queries waiting for lookups */
	struct rlist ready;   /* queries waiting for delivery */
	struct event *ready_ev;
	struct resolve_dns_msg *scratch; /* decoder output */
	struct resolve_stats stats;
};

/** Wait for n's answer: join the lookup in flight for the same (name,
 * type), or start one. Returns 0, ENOMEM or a socket error. */
int lookup_attach(struct resolver *r, struct need *n);
/** Stop waiting; the lookup ends when nobody waits for it any more. */
void lookup_detach(struct need *n);
/** End every lookup (resolve_free). */
void lookup_free_all(struct resolver *r);

/** The ready event's callback: deliver the queries ready now. */
void resolve_deliver(evutil_socket_t fd, short what, void *arg);
/** Free every query without calling anything (resolve.c). */
void resolve_queries_free(struct resolver *r);

/** Called by a lookup for each waiter when it ends (resolve.c): err 0
 * and set (borrowed; take a reference), or an error and NULL. */
void need_done(struct need *n, int err, struct rrset *set);

#endif /* DUET_RESOLVE_INTERNAL_H */
