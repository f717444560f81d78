/* SPDX-License-Identifier: MIT */
/*
 * Record sets built from DNS answers (RFC 1034 §3.6.2 CNAME chains,
 * RFC 2782 additional-section addresses, RFC 2308 §5 negative TTLs) and
 * the (name, type) cache that keeps them for their TTL (RFC 1035 §3.2.1),
 * clamped to [1 s, 1 h], with LRU eviction.
 */
#include "resolve_internal.h"

#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"

#define TTL_MIN_S 1u
#define TTL_MAX_S 3600u
#define CNAME_HOPS 8

/* Which records of a message answer (qname, qtype). */
struct pick {
	const struct resolve_dns_msg *m;
	uint16_t qtype;
	const char *chain[CNAME_HOPS + 1]; /* qname and its aliases */
	unsigned n_chain;
	uint32_t ttl; /* minimum over what was kept, CNAMEs included */
};

static bool in_chain(const struct pick *k, const char *name)
{
	for (unsigned i = 0; i < k->n_chain; i++)
		if (strcmp(k->chain[i], name) == 0)
			return true;
	return false;
}

static bool is_answer(const struct pick *k, const struct resolve_dns_rr *rr)
{
	return rr->section == RESOLVE_DNS_ANSWER && rr->rclass == 1 &&
	       rr->type == k->qtype && in_chain(k, rr->name);
}

static void follow_cnames(struct pick *k, const char *qname)
{
	k->chain[0] = qname;
	k->n_chain = 1;
	while (k->n_chain <= CNAME_HOPS) {
		const char *cur = k->chain[k->n_chain - 1];
		const struct resolve_dns_rr *hit = NULL;

		for (unsigned i = 0; i < k->m->n_rr && !hit; i++) {
			const struct resolve_dns_rr *rr = &k->m->rr[i];

			if (rr->section == RESOLVE_DNS_ANSWER &&
			    rr->rclass == 1 && rr->type == RESOLVE_DNS_CNAME &&
			    strcmp(rr->name, cur) == 0)
				hit = rr;
		}
		if (!hit || in_chain(k, hit->u.cname))
			break;
		k->chain[k->n_chain++] = hit->u.cname;
		if (hit->ttl < k->ttl)
			k->ttl = hit->ttl;
	}
}

/* An additional-section address of one of the answer's SRV targets. */
static bool is_extra(const struct pick *k, const struct resolve_dns_rr *rr)
{
	if (k->qtype != RESOLVE_DNS_SRV ||
	    rr->section != RESOLVE_DNS_ADDITIONAL || rr->rclass != 1 ||
	    (rr->type != RESOLVE_DNS_A && rr->type != RESOLVE_DNS_AAAA))
		return false;
	for (unsigned i = 0; i < k->m->n_rr; i++) {
		const struct resolve_dns_rr *a = &k->m->rr[i];

		if (is_answer(k, a) && a->u.srv.target[0] &&
		    strcmp(a->u.srv.target, rr->name) == 0)
			return true;
	}
	return false;
}

static size_t rr_strings(const struct resolve_dns_rr *rr)
{
	if (rr->type == RESOLVE_DNS_SRV)
		return strlen(rr->u.srv.target) + 1;
	if (rr->type == RESOLVE_DNS_NAPTR)
		return strlen(rr->u.naptr.flags) + strlen(rr->u.naptr.service) +
		       strlen(rr->u.naptr.replacement) + 3;
	return 0;
}

static const char *pool_put(char **pool, const char *s)
{
	size_t n = strlen(s) + 1;
	char *at = *pool;

	memcpy(at, s, n);
	*pool += n;
	return at;
}

/* The SRV target string of set equal to name (extras reuse it). */
static const char *srv_target(const struct rrset *s, const char *name)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->rec[i].type == RESOLVE_DNS_SRV &&
		    strcmp(s->rec[i].u.srv.target, name) == 0)
			return s->rec[i].u.srv.target;
	return NULL;
}

static void fill(struct rrset *s, const struct resolve_dns_rr *rr, bool extra,
		 char **pool, const char *owner)
{
	struct rr_rec *r = &s->rec[s->n++];

	r->type = rr->type;
	r->extra = extra;
	r->owner = extra ? srv_target(s, rr->name) : owner;
	if (rr->type == RESOLVE_DNS_A || rr->type == RESOLVE_DNS_AAAA) {
		memcpy(r->u.addr, rr->u.addr, sizeof(r->u.addr));
	} else if (rr->type == RESOLVE_DNS_SRV) {
		r->u.srv.priority = rr->u.srv.priority;
		r->u.srv.weight = rr->u.srv.weight;
		r->u.srv.port = rr->u.srv.port;
		r->u.srv.target = pool_put(pool, rr->u.srv.target);
	} else if (rr->type == RESOLVE_DNS_NAPTR) {
		r->u.naptr.order = rr->u.naptr.order;
		r->u.naptr.preference = rr->u.naptr.preference;
		r->u.naptr.flags = pool_put(pool, rr->u.naptr.flags);
		r->u.naptr.service = pool_put(pool, rr->u.naptr.service);
		r->u.naptr.replacement =
			pool_put(pool, rr->u.naptr.replacement);
	}
}

/* RFC 2308 §5: an SOA in the authority section bounds a negative TTL. */
static uint32_t negative_ttl(const struct resolve_dns_msg *m, uint32_t dflt)
{
	for (unsigned i = 0; i < m->n_rr; i++) {
		const struct resolve_dns_rr *rr = &m->rr[i];

		if (rr->section == RESOLVE_DNS_AUTHORITY && rr->rclass == 1 &&
		    rr->type == RESOLVE_DNS_SOA)
			return rr->ttl < rr->u.soa.minimum ? rr->ttl
							   : rr->u.soa.minimum;
	}
	return dflt;
}

static uint32_t clamp_ttl(uint32_t t)
{
	return t < TTL_MIN_S ? TTL_MIN_S : t > TTL_MAX_S ? TTL_MAX_S : t;
}

int rrset_from_msg(struct rrset **out, const struct resolve_dns_msg *m,
		   const char *qname, uint16_t qtype, uint32_t neg_ttl_s)
{
	struct pick k = { .m = m, .qtype = qtype, .ttl = UINT32_MAX };
	size_t n = 0, strings = strlen(qname) + 1;
	struct rrset *s;
	const char *owner;
	char *pool;

	follow_cnames(&k, qname);
	for (unsigned i = 0; i < m->n_rr; i++) {
		const struct resolve_dns_rr *rr = &m->rr[i];

		if (is_answer(&k, rr) || is_extra(&k, rr)) {
			n++;
			strings += rr_strings(rr);
			if (rr->ttl < k.ttl)
				k.ttl = rr->ttl;
		}
	}
	s = duet_malloc(sizeof(*s) + n * sizeof(s->rec[0]) + strings);
	if (!s)
		return ENOMEM;
	*s = (struct rrset){ .refs = 1 };
	pool = (char *)&s->rec[n];
	owner = pool_put(&pool, qname);
	for (unsigned i = 0; i < m->n_rr; i++) /* answers first */
		if (is_answer(&k, &m->rr[i]))
			fill(s, &m->rr[i], false, &pool, owner);
	for (unsigned i = 0; i < m->n_rr; i++)
		if (is_extra(&k, &m->rr[i]))
			fill(s, &m->rr[i], true, &pool, owner);
	s->ttl_s = clamp_ttl(n ? k.ttl : negative_ttl(m, neg_ttl_s));
	*out = s;
	return 0;
}

struct rrset *rrset_ref(struct rrset *s)
{
	if (s)
		s->refs++;
	return s;
}

struct rrset *rrset_unref(struct rrset *s)
{
	if (s && --s->refs == 0)
		duet_free(s);
	return NULL;
}

struct rcache_entry {
	struct rcache_entry *hnext; /* bucket chain */
	struct rlist lru;
	uint64_t expires; /* ms */
	uint32_t hash;
	uint16_t type;
	struct rrset *set;
	char name[];
};

/* FNV-1a over the (lower-case) name and the type. */
static uint32_t key_hash(const char *name, uint16_t type)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	h = (h ^ (type & 0xff)) * 16777619u;
	return (h ^ (type >> 8)) * 16777619u;
}

int rcache_init(struct rcache *c, size_t cap)
{
	size_t nb = 16;

	*c = (struct rcache){ .cap = cap };
	rlist_init(&c->lru);
	if (cap == 0)
		return 0;
	while (nb < cap && nb < ((size_t)1 << 20))
		nb <<= 1;
	c->buckets = duet_calloc(nb, sizeof(*c->buckets));
	if (!c->buckets)
		return ENOMEM;
	c->nbuckets = nb;
	return 0;
}

static void entry_remove(struct rcache *c, struct rcache_entry *e)
{
	struct rcache_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	rlist_unlink(&e->lru);
	rrset_unref(e->set);
	duet_free(e);
	c->count--;
}

void rcache_fini(struct rcache *c)
{
	while (!rlist_empty(&c->lru))
		entry_remove(
			c, RLIST_ENTRY(c->lru.next, struct rcache_entry, lru));
	duet_free(c->buckets);
	c->buckets = NULL;
	c->nbuckets = 0;
}

static struct rcache_entry *find(const struct rcache *c, const char *name,
				 uint16_t type, uint32_t h)
{
	struct rcache_entry *e = c->buckets[h & (c->nbuckets - 1)];

	for (; e; e = e->hnext)
		if (e->hash == h && e->type == type &&
		    strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

struct rrset *rcache_get(struct rcache *c, const char *name, uint16_t type,
			 uint64_t now)
{
	uint32_t h = key_hash(name, type);
	struct rcache_entry *e;

	if (!c->nbuckets)
		return NULL;
	e = find(c, name, type, h);
	if (!e)
		return NULL;
	if (now >= e->expires) {
		entry_remove(c, e);
		return NULL;
	}
	rlist_unlink(&e->lru);
	rlist_push(c->lru.next, &e->lru); /* to the front */
	return e->set;
}

void rcache_put(struct rcache *c, const char *name, uint16_t type,
		struct rrset *s, uint64_t now)
{
	uint32_t h = key_hash(name, type);
	size_t len = strlen(name);
	struct rcache_entry *e;

	if (!c->nbuckets)
		return;
	e = find(c, name, type, h);
	if (e)
		entry_remove(c, e);
	if (c->count >= c->cap) /* evict the least recently used */
		entry_remove(
			c, RLIST_ENTRY(c->lru.prev, struct rcache_entry, lru));
	e = duet_malloc(sizeof(*e) + len + 1);
	if (!e)
		return;
	e->hash = h;
	e->type = type;
	e->expires = now + (uint64_t)s->ttl_s * 1000u;
	e->set = rrset_ref(s);
	memcpy(e->name, name, len + 1);
	e->hnext = c->buckets[h & (c->nbuckets - 1)];
	c->buckets[h & (c->nbuckets - 1)] = e;
	rlist_push(c->lru.next, &e->lru);
	c->count++;
}
