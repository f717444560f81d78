/* SPDX-License-Identifier: MIT */
/*
 * A call's route: the policy decision it keeps for its whole life (a
 * reference to the policy that decided, so a reload never changes a call
 * in progress), the hunt along the decision's targets, RFC 3263
 * resolution of host-name targets, per-route concurrency, the maximum
 * duration, and the dry run of `duet route`.
 *
 * The hunt: each target (each resolved address of a host-name target) is
 * one B-leg INVITE transaction in turn, each in a Call-ID of its own
 * (call_build.c says why). A final failure the route lists in
 * failover_on.codes, or a timeout (Timer B, a transport error, or the ring
 * timeout) when failover_on.timeout holds, moves on to the next one; 486
 * and 6xx by default never do (docs/policy.md). Once the caller has
 * CANCELled, or anything was answered, the hunt is over. When every
 * target failed, the caller gets the best final response (RFC 3261 §16.7
 * step 6: a 6xx, else the lowest class), through the reply map.
 */
#include "call_internal.h"

#include <stdio.h>
#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"
#include "duet/log.h"

#define MAX_DURATION_REASON "Q.850;cause=102;text=\"maximum call duration\""

enum best_kind { BEST_NONE = 0, BEST_MSG, BEST_TIMEOUT, BEST_RING };

static void on_duration(struct wheel_timer *t, void *arg);

void call_hunt_init(struct call *call)
{
	call->hunt.cur = -1;
	wheel_timer_init(&call->hunt.duration, on_duration, call);
}

const struct policy_route *call_rule(const struct call *call)
{
	return call->hunt.dec ? call->hunt.dec->rule : call->hunt.rule;
}

const struct policy *call_policy(const struct call *call)
{
	return call->hunt.dec ? call->hunt.dec->policy : call->hunt.policy;
}

struct policy_source call_policy_source(const struct call *call)
{
	return (struct policy_source){ .proto = call->a_src.proto,
				       .remote = call->a_src.remote };
}

void calls_set_config(struct calls *c, const struct calls_config *cfg)
{
	c->cfg = *cfg;
}

/* ---- concurrent calls per route --------------------------------------- */

static struct call_route_count *route_count(struct calls *c, const char *name)
{
	struct call_route_counts *rc = &c->route_counts;

	for (unsigned i = 0; i < rc->n; i++)
		if (strcmp(rc->c[i].name, name) == 0)
			return &rc->c[i];
	if (rc->n == rc->cap) {
		unsigned cap = rc->cap ? rc->cap * 2 : 8;
		struct call_route_count *n =
			duet_realloc(rc->c, cap * sizeof(*n));

		if (!n)
			return NULL;
		rc->c = n;
		rc->cap = cap;
	}
	rc->c[rc->n] = (struct call_route_count){ .n = 0 };
	snprintf(rc->c[rc->n].name, sizeof(rc->c[rc->n].name), "%s", name);
	return &rc->c[rc->n++];
}

void call_route_counts_free(struct call_route_counts *rc)
{
	duet_free(rc->c);
	*rc = (struct call_route_counts){ 0 };
}

/* ---- attempts ----------------------------------------------------------- */

static bool has_more(const struct call_hunt *h)
{
	return (h->addrs && h->addr_next < h->addrs->n) ||
	       (h->dec && h->next < h->dec->target_count);
}

/* One B-leg INVITE transaction to the current target at dest. */
static int send_attempt(struct call *call, const struct tp_dest *dest)
{
	struct calls *c = call->owner;
	struct call_hunt *h = &call->hunt;
	const char *target = h->dec->targets[h->cur].uri;
	struct sip_msg *m = NULL;
	char a[64];
	int err = call_build_b_invite(call, target, dest, &m);

	if (!err)
		err = sip_tx_client_new(&call->ref[TXP_B_INVITE].tx, c->env.txl,
					m, &call->b_dest,
					&call->ref[TXP_B_INVITE]);
	if (err) {
		LOG_WARN("call %llu [%s]: no B leg to %s: %s",
			 (unsigned long long)call->id, call->route, target,
			 duet_strerror(err));
		sip_msg_unref(m);
		return err;
	}
	/* the attempt's own Call-ID (call_build.c) is the B leg's key */
	if (call->b_indexed) {
		struct call **pp = &c->by_b[call->key_b & (CALLS_BUCKETS - 1)];

		while (*pp && *pp != call)
			pp = &(*pp)->next_b;
		if (*pp)
			*pp = call->next_b;
		call->b_indexed = false;
	}
	sip_msg_unref(call->b_invite);
	call->b_invite = m;
	call->b_inv_cseq = m->cseq;
	call->leg[LEG_B].proto = call->b_dest.proto;
	h->attempts++;
	call_index_b(call);
	if (c->cfg.ring_timeout_ms)
		wheel_timer_start(c->env.wheel, &call->ring_timer,
				  c->cfg.ring_timeout_ms);
	LOG_INFO("call %llu [%s]: attempt %u: %s via %s %s",
		 (unsigned long long)call->id, call->route, h->attempts, target,
		 sip_proto_name(call->b_dest.proto),
		 tp_addr_str(&call->b_dest.remote, a, sizeof(a)));
	return 0;
}

static void on_resolved(int err, const struct resolve_result *res, void *arg);

/*
 * Start the next attempt: the next address of a resolved target, else
 * the next target (numeric: at once; a host name: RFC 3263 first).
 * Returns 0 when one is under way (sent, or resolving), else the error of
 * the last target tried (ENOENT: none could be reached).
 */
static int hunt_next(struct call *call)
{
	struct calls *c = call->owner;
	struct call_hunt *h = &call->hunt;
	int last = ENOENT;

	for (;;) {
		struct tp_dest dest;
		struct sip_uri uri;
		const char *target;
		int err;

		if (h->addrs && h->addr_next < h->addrs->n) {
			const struct resolve_target *t =
				&h->addrs->t[h->addr_next++];

			dest = (struct tp_dest){ .proto = t->proto,
						 .remote = t->addr };
			if (!(last = send_attempt(call, &dest)))
				return 0;
			continue;
		}
		duet_free(h->addrs);
		h->addrs = NULL;
		if (!h->dec || h->next >= h->dec->target_count)
			return last;
		h->cur = (int)h->next++;
		target = h->dec->targets[h->cur].uri;
		err = sip_uri_parse(&uri, slice_cstr(target), NULL);
		if (!err)
			err = call_uri_dest(&uri, SIP_PROTO_UDP, &dest);
		if (err == ENOENT && c->env.resolver) {
			/* RFC 3263 §4: a host name; each address it gives
			 * is a candidate of its own */
			err = resolve_uri(c->env.resolver, &uri, on_resolved,
					  call, &h->rq);
			if (!err)
				return 0;
		}
		if (!err && !(err = send_attempt(call, &dest)))
			return 0;
		if (err != ENOENT || last == ENOENT)
			last = err;
		LOG_WARN("call %llu [%s]: target %s skipped: %s",
			 (unsigned long long)call->id, call->route, target,
			 duet_strerror(err));
	}
}

/* Let go of the current attempt: its transaction runs on alone (it ACKs
 * a failure itself, §17.1.1.3) and its provisionals reach nobody, so they
 * cannot leak to the caller. A ring timeout CANCELs it once it has spoken
 * (§9.1); should the callee answer 200 all the same (the CANCEL crossed
 * it, RFC 5407 §3.1.2), that 2xx is ACKed and BYEd (TXP_ORPHAN), as
 * §13.2.2.4 wants every 2xx ACKed. */
static void abandon(struct call *call, bool cancel)
{
	struct sip_tx *tx = call->ref[TXP_B_INVITE].tx;

	if (cancel && tx && call->b_provisional && !call->b_final &&
	    call->b_invite)
		call_send_cancel_of(call, call->b_invite, &call->b_dest, false);
	call_orphan_tx(call, &call->ref[TXP_B_INVITE]);
	wheel_timer_cancel(&call->ring_timer);
	dialog_free(call->leg[LEG_B].dlg);
	call->leg[LEG_B].dlg = NULL;
	call->b_provisional = false;
	call->b_final = false;
	call->cancel_pending = false;
	call->cancel_sent = false;
	call->tcp_fallback = false;
	tp_conn_unref(call->b_dest.conn);
	call->b_dest.conn = NULL;
}

/* §16.7 step 6: a 6xx first, else the lowest class; in 4xx, 401, 407,
 * 415, 420 and 484 before the others (lower ranks are better). */
static unsigned rank(uint16_t code)
{
	bool pref = code == 401 || code == 407 || code == 415 || code == 420 ||
		    code == 484;

	if (code >= 600)
		return 0;
	return (code / 100u) * 10u + (pref ? 0u : 1u);
}

/* Keep resp (NULL: a timeout as 408, §16.7, or a ring timeout) when it
 * is better than the best so far; the first of equals stays. */
static void keep_best(struct call *call, struct sip_msg *resp, bool ring)
{
	struct call_hunt *h = &call->hunt;
	uint16_t code = resp   ? resp->status
			: ring ? call->owner->cfg.ring_timeout_code
			       : 408;

	if (h->best_code && rank(code) >= rank(h->best_code))
		return;
	sip_msg_unref(h->best);
	h->best = resp ? sip_msg_ref(resp) : NULL;
	h->best_code = code;
}

/* The event that gives the caller the best response. */
static enum call_event best_event(struct call *call, struct sip_msg **relay)
{
	struct call_hunt *h = &call->hunt;

	*relay = h->best;
	if (h->best)
		return CEV_B_FAILURE;
	return h->best_code == call->owner->cfg.ring_timeout_code &&
			       h->best_code != 408
		       ? CEV_RING_TIMEOUT
		       : CEV_B_TIMEOUT;
}

int call_take_decision(struct call *call, struct policy_decision *d)
{
	struct call_hunt *h = &call->hunt;

	/* the heap, not the pool: call_hunt_slim frees it */
	h->dec = duet_malloc(sizeof(*h->dec));
	if (!h->dec)
		return ENOMEM;
	*h->dec = *d;
	policy_decision_init(d);
	h->have_dec = true;
	return 0;
}

uint16_t call_hunt_begin(struct call *call)
{
	struct call_hunt *h = &call->hunt;
	const struct policy_route_limits *lim;
	struct call_route_count *rc;
	int err;

	if (!h->dec)
		return 503;
	lim = h->dec->rule ? policy_route_limits(h->dec->rule) : NULL;
	rc = route_count(call->owner, call->route);
	if (lim && lim->max_calls && rc && rc->n >= lim->max_calls) {
		LOG_INFO("call %llu [%s]: over the route's %u concurrent calls",
			 (unsigned long long)call->id, call->route,
			 lim->max_calls);
		h->retry_after = lim->retry_after;
		return 503;
	}
	if (rc) {
		rc->n++;
		h->counted = true;
	}
	err = hunt_next(call);
	if (!err)
		return 0;
	return err == ENOENT ? 404 : 503;
}

bool call_hunt_busy(const struct call *call)
{
	return call->hunt.rq != NULL;
}

enum call_event call_hunt_failed(struct call *call, struct sip_msg *resp,
				 bool ring, struct sip_msg **relay)
{
	struct call_hunt *h = &call->hunt;
	enum call_event plain = resp   ? CEV_B_FAILURE
				: ring ? CEV_RING_TIMEOUT
				       : CEV_B_TIMEOUT;
	bool on;

	*relay = resp;
	/* §9.2: once the caller CANCELled (terminating) its 487 comes
	 * from the callee or from duet, never from a later target */
	if (!h->have_dec || !h->dec || call->a_final ||
	    call->state == CALL_TERMINATING || call->state == CALL_READY ||
	    call->state == CALL_ANSWER_HELD || call->state == CALL_TERMINATED)
		return plain;
	keep_best(call, resp, ring);
	on = resp ? policy_failover_on_code(h->dec->rule, resp->status)
		  : policy_failover_on_timeout(h->dec->rule);
	if (on && has_more(h)) {
		LOG_INFO("call %llu [%s]: attempt %u %s %u: next target",
			 (unsigned long long)call->id, call->route, h->attempts,
			 resp ? "answered" : "timed out",
			 (unsigned)(resp ? resp->status : 0));
		abandon(call, ring);
		/* the next callee has said nothing yet: a CANCEL from the
		 * caller now gets its 487 at once, as before any answer */
		call_set_state(call, CALL_CALLING, plain);
		if (hunt_next(call) == 0)
			return CALL_EVENT_COUNT;
	} else if (ring) {
		return CEV_RING_TIMEOUT; /* CANCEL the attempt, 480 */
	} else if (!on || h->attempts <= 1) {
		return plain; /* not a failover case: as it is */
	}
	return best_event(call, relay);
}

/* A host name resolved (or not): try its addresses, or move on. */
static void on_resolved(int err, const struct resolve_result *res, void *arg)
{
	struct call *call = arg;
	struct call_hunt *h = &call->hunt;
	struct sip_msg *relay = NULL;
	int e;

	h->rq = NULL;
	if (!err && res->n) {
		h->addrs = duet_malloc(sizeof(*h->addrs));
		if (h->addrs) {
			*h->addrs = *res;
			h->addr_next = 0;
		}
	} else {
		LOG_WARN("call %llu [%s]: %s: no address: %s",
			 (unsigned long long)call->id, call->route,
			 h->dec->targets[h->cur].uri, duet_strerror(err));
	}
	e = hunt_next(call);
	if (!e)
		return;
	if (h->best_code) {
		enum call_event ev = best_event(call, &relay);

		call_event(call, ev, relay);
	} else {
		/* nothing was ever sent: duet answers */
		call_answer_a(call, e == ENOENT ? 404 : 503, SLICE_NULL, NULL);
		call_event(call, CEV_B_TIMEOUT, NULL); /* ends it */
	}
	call_settle(call);
}

/* ---- answered calls ------------------------------------------------------ */

void call_hunt_answered(struct call *call)
{
	const struct policy_route *r = call_rule(call);
	const struct policy_route_limits *lim =
		r ? policy_route_limits(r) : NULL;

	if (lim && lim->max_duration && !call->owner->dry)
		wheel_timer_start(call->owner->env.wheel, &call->hunt.duration,
				  lim->max_duration * 1000u);
}

/* The route's max_duration: BYE on both legs, with a Reason (RFC 3326). */
static void on_duration(struct wheel_timer *t, void *arg)
{
	struct call *call = arg;

	(void)t;
	LOG_INFO("call %llu [%s]: maximum duration reached: ending it",
		 (unsigned long long)call->id, call->route);
	if (!call->end_reason) /* RFC 3326, on the BYEs of both legs */
		call->end_reason = duet_strndup(MAX_DURATION_REASON,
						strlen(MAX_DURATION_REASON));
	call_event(call, CEV_SHUTDOWN, NULL);
	call_settle(call);
}

void call_hunt_slim(struct call *call)
{
	struct call_hunt *h = &call->hunt;

	h->next = 0;
	h->best = sip_msg_unref(h->best);
	duet_free(h->addrs);
	h->addrs = NULL;
	/* a held call keeps no heap allocation of its own (each would pin
	 * a page of its setup's freed memory): call->route has the name;
	 * the rule and the policy reference stay */
	if (h->dec) {
		h->rule = h->dec->rule;
		h->policy = h->dec->policy;
		h->dec->policy = NULL;
		policy_decision_clear(h->dec);
		duet_free(h->dec);
		h->dec = NULL;
	}
}

void call_hunt_clear(struct call *call)
{
	struct call_hunt *h = &call->hunt;

	resolve_cancel(h->rq);
	h->rq = NULL;
	duet_free(h->addrs);
	h->addrs = NULL;
	h->best = sip_msg_unref(h->best);
	wheel_timer_cancel(&h->duration);
	if (h->counted) {
		struct call_route_count *rc =
			route_count(call->owner, call->route);

		if (rc && rc->n)
			rc->n--;
		h->counted = false;
	}
	if (h->dec) {
		policy_decision_clear(h->dec);
		duet_free(h->dec);
		h->dec = NULL;
	}
	h->policy = policy_unref(h->policy);
	h->have_dec = false;
}

/* ---- the dry run --------------------------------------------------------- */

int calls_dry_run_b_invite(const struct policy_decision *d,
			   const struct calls_config *cfg,
			   struct sip_msg *invite, const struct tp_source *src,
			   const struct tp_addr *local, uint64_t seed,
			   size_t target, char **out, size_t *len)
{
	struct calls *c;
	struct call *call;
	struct leg_ident ident;
	struct sip_msg *m = NULL;
	struct tp_dest dest;
	struct sip_uri uri;
	int err;

	if (d->action != POLICY_RELAY || target >= d->target_count)
		return EINVAL;
	err = sip_uri_parse(&uri, slice_cstr(d->targets[target].uri), NULL);
	if (err)
		return err;
	err = call_uri_dest(&uri, SIP_PROTO_UDP, &dest);
	if (err == ENOENT) { /* a host name: resolved when the call is made */
		dest = (struct tp_dest){ .proto = SIP_PROTO_UDP };
		if (uri.transport.p &&
		    sip_proto_from(uri.transport, &dest.proto))
			return EPROTONOSUPPORT;
		err = 0;
	}
	if (err)
		return err;
	c = duet_calloc(1, sizeof(*c));
	call = duet_calloc(1, sizeof(*call));
	if (!c || !call) {
		duet_free(c);
		duet_free(call);
		return ENOMEM;
	}
	leg_ident_init(&ident, 0, seed ? seed : 1);
	c->env.ident = &ident;
	c->dry = true;
	c->dry_local = *local;
	if (cfg)
		c->cfg = *cfg;
	else
		calls_config_default(&c->cfg);
	call->owner = c;
	call->id = 1;
	call->a_invite = invite;
	call->a_src = *src;
	call->a_src.conn = NULL;
	leg_ident_tag(&ident, call->a_tag); /* as a real call would */
	/* borrowed: never cleared here */
	call->hunt.dec = (struct policy_decision *)d;
	call->hunt.cur = (int)target;
	call->route = d->route ? d->route : call_no_route; /* borrowed */
	err = call_build_b_invite(call, d->targets[target].uri, &dest, &m);
	if (!err) {
		*out = duet_malloc(m->len + 1);
		if (!*out) {
			err = ENOMEM;
		} else {
			memcpy(*out, m->buf, m->len);
			(*out)[m->len] = '\0';
			*len = m->len;
		}
	}
	sip_msg_unref(m);
	call_timer_free(call); /* the offer call_build.c remembered */
	duet_free(call);
	duet_free(c);
	return err;
}
