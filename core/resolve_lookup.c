/* SPDX-License-Identifier: MIT */
/*
 * DNS lookups over UDP (RFC 1035 §4.2.1, §7.2, §7.3): one query per
 * (name, type) in flight, shared by every query waiting for it. Each
 * lookup has its own connected socket (a fresh source port, so answers
 * come only from the server asked) and a random ID; a response must match
 * ID and question. Silent tries are retried after the timeout, rotating
 * through the nameservers; SERVFAIL and the like move on to the next
 * server, or end the lookup with EBADMSG when there is no other. A
 * truncated (TC) response is an error: there is no TCP fallback.
 */
#include "resolve_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "duet/alloc.h"
#include "duet/err.h"
#include "duet/log.h"

#define RECV_BATCH 16 /* datagrams read per wakeup at most */
#define RECV_BUF 4096

struct lookup {
	struct resolver *r;
	struct rlist link;    /* r->lookups */
	struct rlist waiters; /* struct need.wlink */
	char name[RESOLVE_DNS_NAME_MAX + 1];
	uint16_t type, id;
	int fd;		 /* -1: none */
	unsigned server; /* whose socket fd is */
	unsigned tries;	 /* datagrams sent */
	struct event *ev;
	struct wheel_timer timer;
	uint8_t pkt[RESOLVE_DNS_QUERY_MAX];
	size_t pkt_len;
};

static void lookup_free(struct lookup *lk)
{
	wheel_timer_cancel(&lk->timer);
	if (lk->ev)
		event_free(lk->ev);
	if (lk->fd >= 0)
		close(lk->fd);
	rlist_unlink(&lk->link);
	duet_free(lk);
}

/* End the lookup: cache the answer, tell every waiter, free. */
static void lookup_finish(struct lookup *lk, int err, struct rrset *set)
{
	struct resolver *r = lk->r;

	rlist_unlink(&lk->link); /* new needs must not join it any more */
	if (!err)
		rcache_put(&r->cache, lk->name, lk->type, set,
			   wheel_now(r->wheel));
	else if (err != ETIMEDOUT)
		r->stats.errors++;
	if (err)
		LOG_DEBUG("resolve: %s type %u: %s", lk->name, lk->type,
			  duet_errname(err));
	while (!rlist_empty(&lk->waiters)) {
		struct need *n =
			RLIST_ENTRY(lk->waiters.next, struct need, wlink);

		rlist_unlink(&n->wlink);
		n->lk = NULL;
		need_done(n, err, set);
	}
	rrset_unref(set);
	lookup_free(lk);
}

static void read_cb(evutil_socket_t fd, short what, void *arg);

/* A socket connected to server s, with its read event. */
static int lookup_open(struct lookup *lk, unsigned s)
{
	const struct tp_addr *a = &lk->r->cfg.servers[s];
	int fd, err;

	if (lk->ev)
		event_free(lk->ev);
	if (lk->fd >= 0)
		close(lk->fd);
	lk->ev = NULL;
	lk->fd = -1;
	fd = socket(a->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len)) {
		err = errno;
		close(fd);
		return err;
	}
	lk->ev = event_new(lk->r->base, fd, EV_READ | EV_PERSIST, read_cb, lk);
	if (!lk->ev || event_add(lk->ev, NULL)) {
		if (lk->ev)
			event_free(lk->ev);
		lk->ev = NULL;
		close(fd);
		return ENOMEM;
	}
	lk->fd = fd;
	lk->server = s;
	return 0;
}

/* Send the next try, to the next server in turn. A send that fails is
 * left to the timeout, like a lost datagram. */
static int lookup_send(struct lookup *lk)
{
	struct resolver *r = lk->r;
	unsigned s = lk->tries % r->cfg.n_servers;
	int err;

	if (lk->fd < 0 || s != lk->server) {
		err = lookup_open(lk, s);
		if (err)
			return err;
	}
	if (send(lk->fd, lk->pkt, lk->pkt_len, 0) < 0)
		LOG_DEBUG("resolve: send %s: %s", lk->name, strerror(errno));
	lk->tries++;
	r->stats.queries_sent++;
	wheel_timer_start(r->wheel, &lk->timer, r->cfg.timeout_ms);
	return 0;
}

static void timer_cb(struct wheel_timer *t, void *arg)
{
	struct lookup *lk = arg;
	struct resolver *r = lk->r;
	int err;

	(void)t;
	if (lk->tries > r->cfg.retries) {
		r->stats.timeouts++;
		lookup_finish(lk, ETIMEDOUT, NULL);
		return;
	}
	r->stats.retransmits++;
	err = lookup_send(lk);
	if (err)
		lookup_finish(lk, err, NULL);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* One datagram. Returns true when the caller must stop reading: the
 * lookup ended (and is freed) or moved to another server's socket. */
static bool lookup_input(struct lookup *lk, const uint8_t *buf, size_t n)
{
	struct resolver *r = lk->r;
	struct resolve_dns_msg *m = r->scratch;
	struct rrset *set;
	int err;

	if (n < 12 || rd16(buf) != lk->id)
		return false; /* not ours */
	if (resolve_dns_decode(m, buf, n)) {
		lookup_finish(lk, EBADMSG, NULL);
		return true;
	}
	if (!m->qr || m->qdcount != 1 || m->qtype != lk->type ||
	    m->qclass != 1 || strcmp(m->qname, lk->name) != 0)
		return false; /* not an answer to our question */
	if (m->tc || (m->rcode != 0 && m->rcode != 3)) {
		/* another server may do better; TC would need TCP */
		if (!m->tc && lk->tries <= r->cfg.retries &&
		    r->cfg.n_servers > 1 && !lookup_send(lk))
			return true;
		lookup_finish(lk, EBADMSG, NULL);
		return true;
	}
	err = rrset_from_msg(&set, m, lk->name, lk->type, r->cfg.neg_ttl_s);
	lookup_finish(lk, err, err ? NULL : set);
	return true;
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lookup *lk = arg;
	uint8_t buf[RECV_BUF];

	(void)what;
	for (unsigned i = 0; i < RECV_BATCH; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			continue; /* ICMP errors: as if lost, wait */
		}
		if (lookup_input(lk, buf, (size_t)n))
			return;
	}
}

static struct lookup *lookup_find(struct resolver *r, const char *name,
				  uint16_t type)
{
	for (struct rlist *e = r->lookups.next; e != &r->lookups; e = e->next) {
		struct lookup *lk = RLIST_ENTRY(e, struct lookup, link);

		if (lk->type == type && strcmp(lk->name, name) == 0)
			return lk;
	}
	return NULL;
}

static int lookup_start(struct resolver *r, const char *name, uint16_t type,
			struct lookup **out)
{
	struct lookup *lk = duet_calloc(1, sizeof(*lk));
	int err;

	if (!lk)
		return ENOMEM;
	lk->r = r;
	lk->fd = -1;
	lk->type = type;
	rlist_init(&lk->link);
	rlist_init(&lk->waiters);
	wheel_timer_init(&lk->timer, timer_cb, lk);
	evutil_secure_rng_get_bytes(&lk->id, sizeof(lk->id));
	err = resolve_dns_encode_query(lk->pkt, sizeof(lk->pkt), lk->id, name,
				       type, &lk->pkt_len);
	if (!err) {
		snprintf(lk->name, sizeof(lk->name), "%s", name);
		err = lookup_send(lk);
	}
	if (err) {
		lookup_free(lk);
		return err;
	}
	rlist_push(&r->lookups, &lk->link);
	*out = lk;
	return 0;
}

int lookup_attach(struct resolver *r, struct need *n)
{
	struct lookup *lk = lookup_find(r, n->name, n->type);
	int err;

	if (!lk) {
		err = lookup_start(r, n->name, n->type, &lk);
		if (err)
			return err;
	}
	n->lk = lk;
	rlist_push(&lk->waiters, &n->wlink);
	return 0;
}

void lookup_detach(struct need *n)
{
	struct lookup *lk = n->lk;

	if (!lk)
		return;
	rlist_unlink(&n->wlink);
	n->lk = NULL;
	if (rlist_empty(&lk->waiters))
		lookup_free(lk);
}

void lookup_free_all(struct resolver *r)
{
	while (!rlist_empty(&r->lookups)) {
		struct lookup *lk =
			RLIST_ENTRY(r->lookups.next, struct lookup, link);

		while (!rlist_empty(&lk->waiters)) {
			struct need *n = RLIST_ENTRY(lk->waiters.next,
						     struct need, wlink);

			rlist_unlink(&n->wlink);
			n->lk = NULL;
		}
		lookup_free(lk);
	}
}
