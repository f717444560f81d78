/* SPDX-License-Identifier: MIT */
/*
 * Locating SIP servers (RFC 3263 §4.1 transport, §4.2 port and address):
 * a query walks NAPTR (RFC 3403) -> SRV (RFC 2782) -> A/AAAA, each phase
 * waiting for all its lookups, then hands back an ordered target list
 * through the event loop. The resolver object and its configuration live
 * here too.
 */
#include "resolve_internal.h"

#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <event2/util.h>

#include "duet/alloc.h"
#include "duet/err.h"

#define RQ_MAX_SRV 4 /* SRV names one query looks up */
#define RQ_MAX_NEEDS (1 + RQ_MAX_SRV + 2 * RESOLVE_MAX_TARGETS)

enum rq_phase { PH_NAPTR, PH_SRV, PH_ADDR, PH_DONE };

struct rq_srv {
	char name[RESOLVE_DNS_NAME_MAX + 1];
	enum sip_proto proto;
};

struct rq_target {
	const char *name; /* in q->name or an SRV set the query holds */
	uint16_t port;
	enum sip_proto proto;
	const struct rrset *from; /* its SRV set, NULL for the fallback */
	bool extra;		  /* addresses from from's additional records */
	unsigned need_a, need_aaaa;
};

struct resolve_query {
	struct resolver *r;
	struct rlist link; /* r->active, then r->ready */
	resolve_done_fn *done;
	void *arg;
	enum rq_phase phase;
	bool sips, has_proto;
	enum sip_proto proto; /* of the transport parameter */
	uint16_t port;	      /* explicit port, 0 if none */
	char name[RESOLVE_DNS_NAME_MAX + 1];
	struct rq_srv srv[RQ_MAX_SRV];
	unsigned n_srv, srv_need0;
	struct rq_target tg[RESOLVE_MAX_TARGETS];
	unsigned n_tg;
	struct need needs[RQ_MAX_NEEDS];
	unsigned n_needs, pending;
	int err;
	struct resolve_result res;
};

static uint16_t default_port(enum sip_proto p)
{
	return p == SIP_PROTO_TLS ? 5061 : 5060;
}

/* ---- needs ---------------------------------------------------------- */

/* Wait for (name, type), from the cache or a lookup. Returns its index.
 * A query needs at most one NAPTR, RQ_MAX_SRV SRV and two address
 * lookups per target: RQ_MAX_NEEDS is never exceeded. */
static unsigned need_start(struct resolve_query *q, const char *name,
			   uint16_t type)
{
	struct resolver *r = q->r;
	struct need *n;
	struct rrset *hit;
	int err;

	for (unsigned i = 0; i < q->n_needs; i++)
		if (q->needs[i].type == type &&
		    strcmp(q->needs[i].name, name) == 0)
			return i;
	n = &q->needs[q->n_needs];
	*n = (struct need){ .q = q, .name = name, .type = type };
	rlist_init(&n->wlink);
	hit = rcache_get(&r->cache, name, type, wheel_now(r->wheel));
	if (hit) {
		r->stats.cache_hits++;
		n->set = rrset_ref(hit);
		return q->n_needs++;
	}
	r->stats.cache_misses++;
	err = lookup_attach(r, n);
	if (err)
		n->err = err;
	else
		q->pending++;
	return q->n_needs++;
}

static void query_advance(struct resolve_query *q);

void need_done(struct need *n, int err, struct rrset *set)
{
	struct resolve_query *q = n->q;

	n->err = err;
	n->set = rrset_ref(set);
	q->pending--;
	query_advance(q);
}

/* ---- NAPTR (RFC 3263 §4.1, RFC 3403 §4) ------------------------------ */

/* The transport of a NAPTR service duet can use for this scheme. */
static bool naptr_service(const char *svc, bool sips, enum sip_proto *p)
{
	if (sips) {
		*p = SIP_PROTO_TLS;
		return strcmp(svc, "sips+d2t") == 0;
	}
	if (strcmp(svc, "sip+d2u") == 0)
		*p = SIP_PROTO_UDP;
	else if (strcmp(svc, "sip+d2t") == 0)
		*p = SIP_PROTO_TCP;
	else
		return false;
	return true;
}

static void srv_add(struct resolve_query *q, const char *prefix,
		    const char *name, enum sip_proto p)
{
	struct rq_srv *s = &q->srv[q->n_srv];
	int n;

	if (q->n_srv == RQ_MAX_SRV)
		return;
	n = snprintf(s->name, sizeof(s->name), "%s%s", prefix, name);
	if (n <= 0 || (size_t)n > RESOLVE_DNS_NAME_MAX)
		return; /* too long to exist */
	for (unsigned i = 0; i < q->n_srv; i++)
		if (q->srv[i].proto == p &&
		    strcmp(q->srv[i].name, s->name) == 0)
			return;
	s->proto = p;
	q->n_srv++;
}

static const char *srv_prefix(enum sip_proto p)
{
	return p == SIP_PROTO_UDP   ? "_sip._udp."
	       : p == SIP_PROTO_TCP ? "_sip._tcp."
				    : "_sips._tcp.";
}

static bool naptr_before(const struct rr_rec *a, const struct rr_rec *b)
{
	return a->u.naptr.order < b->u.naptr.order ||
	       (a->u.naptr.order == b->u.naptr.order &&
		a->u.naptr.preference < b->u.naptr.preference);
}

/* The SRV names to look up: usable NAPTR records by order, then
 * preference; without any, the transports' SRV names (§4.1). */
static void naptr_to_srv(struct resolve_query *q)
{
	const struct rrset *set = q->needs[0].set;
	const struct rr_rec *v[RESOLVE_DNS_MAX_RR];
	unsigned n = 0;
	enum sip_proto p;

	for (unsigned i = 0; set && i < set->n && n < RESOLVE_DNS_MAX_RR; i++) {
		const struct rr_rec *rec = &set->rec[i];
		unsigned j = n;

		if (rec->type != RESOLVE_DNS_NAPTR ||
		    strcmp(rec->u.naptr.flags, "s") != 0 ||
		    !rec->u.naptr.replacement[0] ||
		    !naptr_service(rec->u.naptr.service, q->sips, &p))
			continue;
		n++;
		for (; j > 0 && naptr_before(rec, v[j - 1]); j--)
			v[j] = v[j - 1]; /* stable insertion sort */
		v[j] = rec;
	}
	for (unsigned i = 0; i < n; i++) {
		naptr_service(v[i]->u.naptr.service, q->sips, &p);
		srv_add(q, "", v[i]->u.naptr.replacement, p);
	}
	if (q->n_srv)
		return;
	if (q->sips) {
		srv_add(q, srv_prefix(SIP_PROTO_TLS), q->name, SIP_PROTO_TLS);
	} else {
		srv_add(q, srv_prefix(SIP_PROTO_UDP), q->name, SIP_PROTO_UDP);
		srv_add(q, srv_prefix(SIP_PROTO_TCP), q->name, SIP_PROTO_TCP);
	}
}

/* ---- SRV (RFC 2782) -------------------------------------------------- */

static uint32_t random_u32(struct resolver *r)
{
	uint32_t v;

	if (r->cfg.random)
		return r->cfg.random(r->cfg.random_arg);
	evutil_secure_rng_get_bytes(&v, sizeof(v));
	return v;
}

/* Order one priority group v[0..n) in place: zero weights first, then
 * repeated weighted random picks (RFC 2782, "Usage rules"). */
static void srv_weigh(struct resolver *r, const struct rr_rec **v, unsigned n)
{
	unsigned z = 0;

	for (unsigned i = 0; i < n; i++) { /* stable: zero weights first */
		if (v[i]->u.srv.weight == 0) {
			const struct rr_rec *t = v[i];

			memmove(&v[z + 1], &v[z], (i - z) * sizeof(v[0]));
			v[z++] = t;
		}
	}
	for (unsigned i = 0; i + 1 < n; i++) {
		uint32_t sum = 0, run = 0, pick;
		const struct rr_rec *t;
		unsigned k;

		for (unsigned j = i; j < n; j++)
			sum += v[j]->u.srv.weight;
		pick = random_u32(r) % (sum + 1);
		for (k = i; k < n - 1; k++) { /* first running sum >= pick */
			run += v[k]->u.srv.weight;
			if (run >= pick)
				break;
		}
		t = v[k];
		memmove(&v[i + 1], &v[i], (k - i) * sizeof(v[0]));
		v[i] = t;
	}
}

/* The SRV answers of set in the order to try them. Returns their count. */
static unsigned srv_order(struct resolver *r, const struct rrset *set,
			  const struct rr_rec **v)
{
	unsigned n = 0;

	for (unsigned i = 0; i < set->n && n < RESOLVE_DNS_MAX_RR; i++) {
		const struct rr_rec *rec = &set->rec[i];
		unsigned j = n;

		if (rec->type != RESOLVE_DNS_SRV || rec->extra)
			continue;
		n++;
		for (; j > 0 && rec->u.srv.priority < v[j - 1]->u.srv.priority;
		     j--)
			v[j] = v[j - 1];
		v[j] = rec;
	}
	for (unsigned i = 0, j; i < n; i = j) {
		for (j = i;
		     j < n && v[j]->u.srv.priority == v[i]->u.srv.priority; j++)
			;
		srv_weigh(r, &v[i], j - i);
	}
	return n;
}

static void target_add(struct resolve_query *q, const char *name, uint16_t port,
		       enum sip_proto p, const struct rrset *from)
{
	if (q->n_tg < RESOLVE_MAX_TARGETS)
		q->tg[q->n_tg++] = (struct rq_target){
			.name = name, .port = port, .proto = p, .from = from
		};
}

/* Targets from the SRV answers, in order; without any SRV record, the
 * name itself at the default port (RFC 3263 §4.2). */
static void srv_to_targets(struct resolve_query *q)
{
	bool any = false;
	enum sip_proto p;

	for (unsigned i = 0; i < q->n_srv; i++) {
		const struct rrset *set = q->needs[q->srv_need0 + i].set;
		const struct rr_rec *v[RESOLVE_DNS_MAX_RR];
		unsigned n;

		if (!set)
			continue;
		n = srv_order(q->r, set, v);
		any = any || n > 0;
		for (unsigned j = 0; j < n; j++)
			if (v[j]->u.srv.target[0]) /* "." = not here */
				target_add(q, v[j]->u.srv.target,
					   v[j]->u.srv.port, q->srv[i].proto,
					   set);
	}
	if (any)
		return;
	p = q->has_proto ? q->proto : q->sips ? SIP_PROTO_TLS : SIP_PROTO_UDP;
	target_add(q, q->name, default_port(p), p, NULL);
}

/* ---- addresses (RFC 3263 §4.2) -------------------------------------- */

static bool has_extra(const struct rrset *set, const char *name)
{
	for (unsigned i = 0; set && i < set->n; i++)
		if (set->rec[i].extra && strcmp(set->rec[i].owner, name) == 0)
			return true;
	return false;
}

static void srv_start(struct resolve_query *q)
{
	q->srv_need0 = q->n_needs;
	for (unsigned i = 0; i < q->n_srv; i++)
		need_start(q, q->srv[i].name, RESOLVE_DNS_SRV);
}

static void addr_start(struct resolve_query *q)
{
	for (unsigned i = 0; i < q->n_tg; i++) {
		struct rq_target *t = &q->tg[i];

		t->extra = has_extra(t->from, t->name);
		if (t->extra)
			continue;
		t->need_a = need_start(q, t->name, RESOLVE_DNS_A);
		t->need_aaaa = need_start(q, t->name, RESOLVE_DNS_AAAA);
	}
}

static void result_add(struct resolve_query *q, const struct rr_rec *rec,
		       uint16_t port, enum sip_proto p)
{
	struct resolve_target t = { .proto = p };

	if (q->res.n == RESOLVE_MAX_TARGETS)
		return;
	if (rec->type == RESOLVE_DNS_A) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&t.addr.ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, rec->u.addr, 4);
		t.addr.len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t.addr.ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, rec->u.addr, 16);
		t.addr.len = sizeof(*sin6);
	}
	for (unsigned i = 0; i < q->res.n; i++)
		if (q->res.t[i].proto == p &&
		    tp_addr_equal(&q->res.t[i].addr, &t.addr))
			return;
	q->res.t[q->res.n++] = t;
}

/* Add the addresses of type of one target found in set. */
static void result_from(struct resolve_query *q, const struct rq_target *t,
			const struct rrset *set, uint16_t type)
{
	for (unsigned i = 0; set && i < set->n; i++) {
		const struct rr_rec *rec = &set->rec[i];

		if (rec->type == type && rec->extra == t->extra &&
		    (!t->extra || strcmp(rec->owner, t->name) == 0))
			result_add(q, rec, t->port, t->proto);
	}
}

/* IPv4 addresses of each target, then its IPv6 ones, in target order. */
static void assemble(struct resolve_query *q)
{
	for (unsigned i = 0; i < q->n_tg; i++) {
		const struct rq_target *t = &q->tg[i];

		result_from(q, t, t->extra ? t->from : q->needs[t->need_a].set,
			    RESOLVE_DNS_A);
		result_from(q, t,
			    t->extra ? t->from : q->needs[t->need_aaaa].set,
			    RESOLVE_DNS_AAAA);
	}
	q->err = 0;
	if (q->res.n)
		return;
	q->err = ENOENT;
	for (unsigned i = 0; i < q->n_needs; i++) {
		if (q->needs[i].err) {
			q->err = q->needs[i].err;
			break;
		}
	}
}

/* ---- query life ------------------------------------------------------ */

static void make_ready(struct resolve_query *q)
{
	q->phase = PH_DONE;
	rlist_unlink(&q->link);
	rlist_push(&q->r->ready, &q->link);
	event_active(q->r->ready_ev, EV_TIMEOUT, 1);
}

/* Move on while the current phase has nothing left to wait for. */
static void query_advance(struct resolve_query *q)
{
	while (q->pending == 0 && q->phase != PH_DONE) {
		switch (q->phase) {
		case PH_NAPTR:
			naptr_to_srv(q);
			q->phase = PH_SRV;
			srv_start(q);
			break;
		case PH_SRV:
			srv_to_targets(q);
			q->phase = PH_ADDR;
			addr_start(q);
			break;
		case PH_ADDR:
			assemble(q);
			make_ready(q);
			break;
		case PH_DONE:
			break;
		}
	}
}

static void query_free(struct resolve_query *q)
{
	for (unsigned i = 0; i < q->n_needs; i++) {
		lookup_detach(&q->needs[i]);
		rrset_unref(q->needs[i].set);
	}
	rlist_unlink(&q->link);
	duet_free(q);
}

void resolve_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct resolver *r = arg;
	struct rlist batch;

	(void)fd;
	(void)what;
	if (rlist_empty(&r->ready))
		return;
	/* only those ready now: a callback's new queries wait a turn */
	batch = r->ready;
	batch.next->prev = &batch;
	batch.prev->next = &batch;
	rlist_init(&r->ready);
	while (!rlist_empty(&batch)) {
		struct resolve_query *q =
			RLIST_ENTRY(batch.next, struct resolve_query, link);

		rlist_unlink(&q->link);
		r->stats.pending--;
		q->done(q->err, &q->res, q->arg);
		query_free(q);
	}
}

void resolve_cancel(struct resolve_query *q)
{
	if (!q)
		return;
	q->r->stats.pending--;
	query_free(q);
}

/* Release every query without calling anything (resolve_free). */
void resolve_queries_free(struct resolver *r)
{
	while (!rlist_empty(&r->ready))
		query_free(
			RLIST_ENTRY(r->ready.next, struct resolve_query, link));
	while (!rlist_empty(&r->active))
		query_free(RLIST_ENTRY(r->active.next, struct resolve_query,
				       link));
	r->stats.pending = 0;
}

/* ---- starting a query (RFC 3263 §4.1, §4.2) -------------------------- */

/* The host name, lower case, without a trailing dot. */
static int set_name(struct resolve_query *q, struct slice host)
{
	if (host.len && host.p[host.len - 1] == '.')
		host.len--;
	if (host.len == 0 || host.len > RESOLVE_DNS_NAME_MAX)
		return EINVAL;
	for (size_t i = 0; i < host.len; i++)
		q->name[i] = (char)tolower((unsigned char)host.p[i]);
	q->name[host.len] = '\0';
	return 0;
}

/* The transport parameter, checked against the scheme. */
static int set_proto(struct resolve_query *q, const struct sip_uri *uri)
{
	if (slice_empty(uri->transport))
		return 0;
	if (sip_proto_from(uri->transport, &q->proto))
		return EPROTONOSUPPORT;
	q->has_proto = true;
	if (q->sips) {
		if (q->proto == SIP_PROTO_UDP)
			return EINVAL; /* RFC 3261 §26.2.2: TLS needs TCP */
		q->proto = SIP_PROTO_TLS;
	}
	return 0;
}

/* A numeric host: the one target, no DNS. Returns ENOENT for a name. */
static int numeric(struct resolve_query *q, const struct sip_uri *uri,
		   struct slice host, enum sip_proto p)
{
	struct resolve_target *t = &q->res.t[0];
	bool maddr = slice_present(uri->maddr) && !slice_empty(uri->maddr);
	uint16_t port = q->port ? q->port : default_port(p);

	if (!maddr && uri->host_kind != SIP_HOST_IPV4 &&
	    uri->host_kind != SIP_HOST_IPV6)
		return ENOENT;
	if (tp_addr_set(&t->addr, host, port))
		return maddr ? ENOENT : EINVAL;
	t->proto = p;
	q->res.n = 1;
	return 0;
}

/* Decide where the query starts; a numeric host ends it at once. */
static int query_setup(struct resolve_query *q, const struct sip_uri *uri)
{
	bool maddr = slice_present(uri->maddr) && !slice_empty(uri->maddr);
	struct slice host = maddr ? uri->maddr : uri->host;
	enum sip_proto p;
	int err;

	if ((uri->scheme != SIP_URI_SIP && uri->scheme != SIP_URI_SIPS) ||
	    (!maddr && uri->host_kind == SIP_HOST_NONE))
		return EINVAL;
	q->sips = uri->scheme == SIP_URI_SIPS;
	q->port = uri->port;
	err = set_proto(q, uri);
	if (err)
		return err;
	p = q->has_proto ? q->proto : q->sips ? SIP_PROTO_TLS : SIP_PROTO_UDP;
	err = numeric(q, uri, host, p);
	if (err != ENOENT) {
		q->phase = PH_DONE;
		return err;
	}
	err = set_name(q, host);
	if (err)
		return err;
	if (q->port) { /* §4.2: a port means A/AAAA only */
		target_add(q, q->name, q->port, p, NULL);
		q->phase = PH_ADDR;
		addr_start(q);
	} else if (q->has_proto) { /* §4.1: the transport's SRV */
		srv_add(q, srv_prefix(q->proto), q->name, q->proto);
		q->phase = PH_SRV;
		srv_start(q);
	} else {
		q->phase = PH_NAPTR;
		need_start(q, q->name, RESOLVE_DNS_NAPTR);
	}
	return 0;
}

int resolve_uri(struct resolver *r, const struct sip_uri *uri,
		resolve_done_fn *done, void *arg, struct resolve_query **qp)
{
	struct resolve_query *q;
	int err;

	if (!r || !uri || !done)
		return EINVAL;
	q = duet_calloc(1, sizeof(*q));
	if (!q)
		return ENOMEM;
	q->r = r;
	q->done = done;
	q->arg = arg;
	rlist_init(&q->link);
	rlist_push(&r->active, &q->link);
	err = query_setup(q, uri);
	if (err) {
		query_free(q);
		return err;
	}
	r->stats.pending++;
	if (q->phase == PH_DONE)
		make_ready(q);
	else
		query_advance(q);
	if (qp)
		*qp = q;
	return 0;
}
