/* SPDX-License-Identifier: MIT */
/*
 * The B2BUA call: two dialogs linked by one state machine (RFC 3261 §12,
 * §13, §15, §9; RFC 5407 races; RFC 6026 2xx handling). Dispatch of
 * requests and responses to calls, the one function that writes a call's
 * state, and the actions of the table in include/duet/call_fsm.h.
 */
#include "call_internal.h"

#include <stdio.h>

#include "duet/alloc.h"
#include "duet/err.h"
#include "duet/log.h"

void calls_config_default(struct calls_config *cfg)
{
	*cfg = (struct calls_config){ .t1 = 500,
				      .t2 = 4000,
				      .ring_timeout_ms = 60000,
				      .ring_timeout_code = 480,
				      .max_calls = 0,
				      .reinvite_timeout_ms = 180000,
				      .session_expires = 1800,
				      .min_se = 90 };
}

int calls_new(struct calls **out, const struct calls_env *env,
	      const struct calls_config *cfg)
{
	struct calls *c;

	if (!env || !env->txl || !env->tp || !env->wheel || !env->ident ||
	    !env->route)
		return EINVAL;
	c = duet_calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->env = *env;
	c->orphan = (struct txref){ .purpose = TXP_ORPHAN };
	if (cfg)
		c->cfg = *cfg;
	else
		calls_config_default(&c->cfg);
	*out = c;
	return 0;
}

void calls_stats(const struct calls *c, struct calls_stats *out)
{
	*out = c->stats;
}

static uint32_t hash_slices(struct slice a, struct slice b)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < a.len; i++)
		h = (h ^ (unsigned char)a.p[i]) * 16777619u;
	h = (h ^ '|') * 16777619u;
	for (size_t i = 0; i < b.len; i++)
		h = (h ^ (unsigned char)b.p[i]) * 16777619u;
	return h;
}

static void unlink_chain(struct call **head, struct call *call, bool a)
{
	for (struct call **pp = head; *pp;
	     pp = a ? &(*pp)->next_a : &(*pp)->next_b) {
		if (*pp == call) {
			*pp = a ? call->next_a : call->next_b;
			return;
		}
	}
}

/* Index the A leg by (Call-ID, our tag), the B leg by its Call-ID. */
static void index_a(struct call *call)
{
	struct calls *c = call->owner;

	call->key_a =
		hash_slices(call->a_invite->call_id, slice_cstr(call->a_tag));
	call->next_a = c->by_a[call->key_a & (CALLS_BUCKETS - 1)];
	c->by_a[call->key_a & (CALLS_BUCKETS - 1)] = call;
}

void call_index_b(struct call *call)
{
	struct calls *c = call->owner;

	call->key_b = hash_slices(call->b_invite->call_id, SLICE_NULL);
	call->next_b = c->by_b[call->key_b & (CALLS_BUCKETS - 1)];
	c->by_b[call->key_b & (CALLS_BUCKETS - 1)] = call;
	call->b_indexed = true;
}

/* Each leg's Call-ID: from its INVITE, or from its dialog once
 * call_slim() let the INVITE go (it keeps the INVITE until the dialog
 * exists). */
static struct slice a_call_id(const struct call *call)
{
	return call->a_invite ? call->a_invite->call_id
			      : slice_cstr(call->leg[LEG_A].dlg->call_id);
}

static struct slice b_call_id(const struct call *call)
{
	return call->b_invite ? call->b_invite->call_id
			      : slice_cstr(call->leg[LEG_B].dlg->call_id);
}

/* The call an in-dialog message from the caller (To tag = ours) or from
 * the callee (its Call-ID is one we minted) belongs to. */
static struct call *find_call(struct calls *c, const struct sip_msg *m,
			      bool *from_a)
{
	struct slice our_tag = m->is_request ? m->to.tag : m->from.tag;
	uint32_t ka = hash_slices(m->call_id, our_tag);
	uint32_t kb = hash_slices(m->call_id, SLICE_NULL);

	for (struct call *x = c->by_a[ka & (CALLS_BUCKETS - 1)]; x;
	     x = x->next_a) {
		if (x->key_a == ka && slice_eq(a_call_id(x), m->call_id) &&
		    slice_eq_cstr(our_tag, x->a_tag)) {
			*from_a = true;
			return x;
		}
	}
	for (struct call *x = c->by_b[kb & (CALLS_BUCKETS - 1)]; x;
	     x = x->next_b) {
		if (x->key_b == kb && x->b_indexed &&
		    slice_eq(b_call_id(x), m->call_id)) {
			*from_a = false;
			return x;
		}
	}
	return NULL;
}

/* Let go of a transaction: it keeps running, its events are ignored. */
void call_release_tx(struct txref *ref)
{
	if (ref->tx) {
		sip_tx_let_go(ref->tx, NULL);
		ref->tx = NULL;
	}
}

void call_orphan_tx(struct call *call, struct txref *ref)
{
	if (ref->tx) {
		sip_tx_let_go(ref->tx, &call->owner->orphan);
		ref->tx = NULL;
	}
}

static void release_tx(struct call *call, enum txp p)
{
	call_release_tx(&call->ref[p]);
}

static void call_free(struct call *call)
{
	struct calls *c = call->owner;

	/* the INVITE's transaction may still pass a retransmitted 2xx */
	call_orphan_tx(call, &call->ref[TXP_B_INVITE]);
	for (unsigned p = 0; p < TXP_COUNT; p++)
		release_tx(call, (enum txp)p);
	unlink_chain(&c->by_a[call->key_a & (CALLS_BUCKETS - 1)], call, true);
	if (call->b_indexed)
		unlink_chain(&c->by_b[call->key_b & (CALLS_BUCKETS - 1)], call,
			     false);
	wheel_timer_cancel(&call->ring_timer);
	mid_free_all(call);
	prack_free(call);
	call_timer_free(call);
	call_hunt_clear(call);
	for (unsigned s = 0; s < 2; s++) {
		call_2xx_stop(&call->leg[s]);
		dialog_free(call->leg[s].dlg);
	}
	sip_msg_unref(call->a_invite);
	sip_msg_unref(call->b_invite);
	tp_conn_unref(call->a_src.conn);
	tp_conn_unref(call->b_dest.conn);
	call_b_ack_free(call);
	duet_free(call->cancel_reason);
	duet_free(call->end_reason);
	c->stats.active--;
	c->stats.ended++;
	call_set_route(call, NULL);
	duet_pool_free(call, sizeof(*call));
}

void calls_free(struct calls *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < CALLS_BUCKETS; i++)
		while (c->by_a[i])
			call_free(c->by_a[i]);
	call_route_counts_free(&c->route_counts);
	duet_free(c);
}

/* The only writer of call->state; every change is logged. */
void call_set_state(struct call *call, enum call_state next, enum call_event ev)
{
	if (next == call->state)
		return;
	LOG_INFO("call %llu [%s]: %s --%s--> %s", (unsigned long long)call->id,
		 call->route, call_state_name(call->state), call_event_name(ev),
		 call_state_name(next));
	if (next == CALL_READY)
		call->owner->stats.answered++;
	if (next == CALL_TERMINATED && call->a_final / 100 != 2)
		call->owner->stats.failed++; /* the caller had no 2xx */
	call->state = next;
}

/* Outstanding requests duet sent that a teardown waits for. */
bool call_teardown_pending(const struct call *call)
{
	return (call->ref[TXP_B_INVITE].tx && !call->b_final) ||
	       call->ref[TXP_CANCEL_B].tx || call->ref[TXP_BYE_A].tx ||
	       call->ref[TXP_BYE_B].tx || call->ref[TXP_FORK_BYE].tx ||
	       mid_pending(call);
}

/* The caller gets `code` if it has no final answer yet. */
static void answer_a_once(struct call *call, uint16_t code)
{
	if (!call->a_final)
		call_answer_a(call, code, SLICE_NULL, NULL);
}

static void do_cancel_b(struct call *call)
{
	if (call->b_final || call->ref[TXP_CANCEL_B].tx)
		return;
	if (!call->b_provisional) { /* §9.1: wait for a provisional */
		call->cancel_pending = true;
		return;
	}
	call->cancel_pending = false;
	if (call_send_cancel_b(call) == 0) {
		call->cancel_sent = true;
		wheel_timer_start(call->owner->env.wheel, &call->ring_timer,
				  64u * call->owner->cfg.t1);
	}
}

/*
 * The method map's ACK `immediate` (docs/policy.md): ACK the callee's 2xx
 * as it arrives rather than when the caller's ACK does (RFC 6026 leaves
 * each leg's ACK to its UAC). Not when the 2xx carries an offer (our
 * INVITE had no body): its answer only comes in the caller's ACK
 * (RFC 3264 §5, late offer), so that ACK is still relayed.
 */
static bool ack_immediate(const struct call *call, const struct sip_msg *ok)
{
	struct policy_method_rule mr;

	if (call->b_acked || !call->leg[LEG_B].dlg ||
	    call->leg[LEG_B].dlg->state != DIALOG_CONFIRMED)
		return false;
	if (ok->body.len && (!call->b_invite || !call->b_invite->body.len))
		return false;
	mr = policy_method_action(call_policy(call), call_rule(call),
				  POLICY_LEG_A, SIP_METHOD_ACK, true);
	return mr.mode == POLICY_METHOD_IMMEDIATE;
}

/* Carry out the actions of a row (call_fsm.h). st: the server
 * transaction of a mid-call request (msg), or NULL. */
static void call_act(struct call *call, enum call_event ev, uint32_t a,
		     struct sip_msg *msg, struct sip_tx *st)
{
	bool ok_taken = false; /* the callee's 2xx relayed or held */

	/* first: pending requests answered and 2xx ACKed before any BYE */
	if (a & CA_END_PENDING)
		mid_end_pending(call);
	if (a & CA_RELAY_REQ && msg && st)
		mid_request(call, ev == CEV_A_REQUEST ? LEG_A : LEG_B, st, msg);
	if (a & CA_REJECT_481 && msg && st)
		call_reply(call->owner, st, msg, 481, SLICE_NULL);
	if (a & CA_RELAY_1XX && msg && !call->a_final)
		call_answer_a(call, msg->status, msg->reason, msg);
	if (a & CA_RELAY_2XX && msg && !call->a_final) {
		call_answer_a(call, msg->status, msg->reason, msg);
		ok_taken = true;
	}
	if (a & CA_HOLD_2XX && msg) {
		prack_a_hold(call, msg); /* call_prack.c */
		ok_taken = true;
	}
	if (ok_taken && ack_immediate(call, msg))
		call_send_b_ack(call, NULL);
	if (a & CA_RELAY_FINAL && msg && !call->a_final)
		call_answer_a(call, msg->status, msg->reason, msg);
	if (a & CA_ANSWER_408)
		answer_a_once(call, 408);
	if (a & CA_ANSWER_480)
		answer_a_once(call, call->owner->cfg.ring_timeout_code);
	if (a & CA_ANSWER_GONE)
		answer_a_once(call, 480);
	if (a & CA_ANSWER_487)
		answer_a_once(call, 487);
	if (a & CA_ANSWER_503)
		answer_a_once(call, 503);
	if (a & CA_CANCEL_B)
		do_cancel_b(call);
	if (a & CA_ACK_B && msg && msg->is_request &&
	    msg->method == SIP_METHOD_ACK) { /* the caller's ACK */
		if (!call->b_acked) /* else ACKed at once (immediate) */
			call_send_b_ack(call, msg);
	} else if (a & CA_ACK_B && msg && !msg->is_request) /* a 2xx again */
		call_ack_bye_fork(call, msg);
	else if (a & CA_ACK_B && !call->b_acked && call->leg[LEG_B].dlg &&
		 call->leg[LEG_B].dlg->state == DIALOG_CONFIRMED)
		/* ending unACKed: §13.2.2.4 says every 2xx is ACKed */
		call_send_b_ack(call, NULL);
	if (a & CA_ACK_BYE_B && msg)
		call_ack_bye_fork(call, msg);
	if (a & CA_BYE_A)
		call_send_bye(call, true, msg);
	if (a & CA_BYE_B)
		call_send_bye(call, false, msg);
}

void call_event(struct call *call, enum call_event ev, struct sip_msg *msg)
{
	call_event_tx(call, ev, msg, NULL);
}

/* The Reason (RFC 3326) of the BYEs duet sends when ev ends the call
 * for reasons of its own, or NULL. */
static const char *own_end_reason(const struct call *call, enum call_event ev)
{
	switch (ev) {
	case CEV_SHUTDOWN:
		return "SIP;cause=503;text=\"Service shutting down\"";
	case CEV_ACK_TIMEOUT:
		return "SIP;cause=408;text=\"No ACK for the 2xx\"";
	case CEV_A_CANCEL: /* the callee answered, the caller cancelled */
		if (call->state != CALL_ANSWER_HELD)
			return NULL;
		return call->cancel_reason
			       ? call->cancel_reason
			       : "SIP;cause=487;text=\"Request Terminated\"";
	default:
		return NULL;
	}
}

void call_event_tx(struct call *call, enum call_event ev, struct sip_msg *msg,
		   struct sip_tx *st)
{
	struct call_rule r = call_fsm_rule(call->state, ev);

	if (r.action & CA_INVALID) {
		call->owner->stats.invalid_events++;
		LOG_DEBUG("call %llu: %s ignored in %s",
			  (unsigned long long)call->id, call_event_name(ev),
			  call_state_name(call->state));
		return;
	}
	/* RFC 3326: why duet itself ends a call, on the BYEs it sends */
	if (!call->end_reason) {
		const char *why = own_end_reason(call, ev);

		if (why)
			call->end_reason = duet_strndup(why, strlen(why));
	}
	call_act(call, ev, r.action, msg, st);
	call_set_state(call, (enum call_state)r.next, ev);
	if (call->state == CALL_TERMINATING && !call_teardown_pending(call))
		call_set_state(call, CALL_TERMINATED, CEV_BYES_DONE);
}

/*
 * An answered call whose setup is over (the caller ACKed, both INVITE
 * transactions ended: no 2xx can come again, RFC 6026 §8.4, §8.7) keeps
 * its dialogs, not its setup messages: the INVITEs and our ACK go, so a
 * call held for hours costs this struct and its two dialogs.
 */
static void call_slim(struct call *call)
{
	if (call->state != CALL_READY || !call->a_acked || !call->a_invite ||
	    call->ref[TXP_A_INVITE].tx || call->ref[TXP_B_INVITE].tx ||
	    !call->leg[LEG_A].dlg || !call->leg[LEG_B].dlg)
		return;
	sip_msg_unref(call->a_invite);
	call->a_invite = NULL;
	sip_msg_unref(call->b_invite);
	call->b_invite = NULL;
	call_b_ack_free(call);
	duet_free(call->cancel_reason);
	call->cancel_reason = NULL;
	call_hunt_slim(call);
	prack_free(call);
	LOG_DEBUG("call %llu [%s]: setup over, keeping the dialogs only",
		  (unsigned long long)call->id, call->route);
}

/* Free a terminated call, or slim a settled one. Entry points call this
 * last. */
void call_settle(struct call *call)
{
	if (call && call->state == CALL_TERMINATED)
		call_free(call);
	else if (call)
		call_slim(call);
}

static void on_ring_timeout(struct wheel_timer *t, void *arg)
{
	struct call *call = arg;

	(void)t;
	if (call->cancel_sent && !call->b_final) {
		/* §9.1: no final response 64*T1 after our CANCEL: the
		 * INVITE is considered cancelled */
		call->b_final = true;
		release_tx(call, TXP_B_INVITE);
		call_event(call, CEV_B_TIMEOUT, NULL);
	} else {
		/* the hunt may move on to the next target instead */
		struct sip_msg *relay = NULL;
		enum call_event ev = call_hunt_failed(call, NULL, true, &relay);

		if (ev != CALL_EVENT_COUNT)
			call_event(call, ev, relay);
	}
	call_settle(call);
}

/* §13.3.1.4: the UAS core retransmits its 2xx (T1 doubling up to T2)
 * until the ACK; with no ACK after 64*T1 the session ends. The same for
 * the initial INVITE (A leg) and a re-INVITE from either leg. */
static void on_2xx_timer(struct wheel_timer *t, void *arg)
{
	struct leg_2xx *x = arg;
	struct leg *leg = x->leg;
	struct call *call = leg->call;
	struct calls *c = call->owner;

	(void)t;
	x->waited += x->interval;
	if (x->waited >= 64u * c->cfg.t1) {
		struct relay *r = x->relay;

		call_2xx_stop(leg); /* frees x */
		if (r)		    /* the other leg's 2xx still gets its ACK */
			mid_2xx_timeout(r);
		call_event(call, CEV_ACK_TIMEOUT, NULL);
		call_settle(call);
		return;
	}
	if (x->st && x->st->tx)
		sip_tx_reply(x->st->tx, x->code, x->buf, x->len);
	x->interval = x->interval * 2 < c->cfg.t2 ? x->interval * 2 : c->cfg.t2;
	/* the last wait ends exactly at 64*T1 */
	if (x->interval > 64u * c->cfg.t1 - x->waited)
		x->interval = 64u * c->cfg.t1 - x->waited;
	wheel_timer_start(c->env.wheel, &x->timer, x->interval);
}

const char call_no_route[] = "";

void call_set_route(struct call *call, const char *name)
{
	char *copy = name ? duet_pool_strndup(name, strlen(name)) : NULL;

	if (call->route != call_no_route)
		duet_pool_free_str((char *)call->route);
	call->route = copy ? copy : call_no_route;
}

static struct call *call_alloc(struct calls *c, struct sip_msg *inv,
			       const struct tp_source *src)
{
	struct call *call = duet_pool_alloc(sizeof(*call));

	if (!call)
		return NULL;
	call->owner = c;
	call->route = call_no_route;
	call->id = ++c->next_id;
	call->state = CALL_CALLING;
	call->a_invite = sip_msg_ref(inv);
	call->a_src = *src;
	tp_conn_ref(src->conn);
	leg_ident_tag(c->env.ident, call->a_tag);
	for (unsigned p = 0; p < TXP_COUNT; p++)
		call->ref[p] =
			(struct txref){ .call = call, .purpose = (enum txp)p };
	wheel_timer_init(&call->ring_timer, on_ring_timeout, call);
	for (unsigned s = 0; s < 2; s++) {
		call->leg[s].call = call;
		call->leg[s].side = (enum leg_side)s;
	}
	call->leg[LEG_A].proto = src->proto;
	call_timer_init(call);
	call_hunt_init(call);
	index_a(call);
	c->stats.created++;
	c->stats.active++;
	return call;
}

/* A new INVITE from a caller: route it and start the B leg. */
static void new_call(struct calls *c, struct sip_tx *st, struct sip_msg *inv,
		     const struct tp_source *src)
{
	struct policy_decision d;
	const struct policy_decision *dec;
	struct call *call;
	uint32_t min_se = 0;
	uint16_t code;
	int err;

	/* RFC 7332 / §16.6: a request that may not travel further */
	if (inv->max_forwards == 0) {
		call_reply(c, st, inv, 483, SLICE_NULL);
		return;
	}
	if (c->cfg.max_calls && c->stats.active >= c->cfg.max_calls) {
		call_reply(c, st, inv, 503, SLICE_NULL);
		return;
	}
	/* RFC 4028 §9: too short a session interval (call_timer.c) */
	if (call_timer_check_invite(c, inv, &min_se) == 422) {
		char v[16];

		snprintf(v, sizeof(v), "%u", (unsigned)min_se);
		call_reply_hdr(c, st, inv, 422, SIP_HDR_MIN_SE, slice_cstr(v));
		return;
	}
	call = call_alloc(c, inv, src);
	if (!call) {
		call_reply(c, st, inv, 500, SLICE_NULL);
		return;
	}
	call->ref[TXP_A_INVITE].tx = st;
	sip_tx_set_arg(st, &call->ref[TXP_A_INVITE]);
	policy_decision_init(&d);
	err = c->env.route(inv, src, &d, c->env.route_arg);
	if (d.route)
		call_set_route(call, d.route);
	/* the route's reply map and response headers apply to every
	 * answer from here on (call_route.c) */
	if (err)
		answer_a_once(call, 404);
	else if (call_take_decision(call, &d))
		answer_a_once(call, 503);
	else if ((dec = call->hunt.dec)->action == POLICY_REJECT)
		answer_a_once(call, dec->status ? dec->status : 403);
	else if (dec->target_count == 0)
		answer_a_once(call, 404);
	else if (prack_check_require(call, dec->policy, dec->rule)) /* 420 */
		;
	else if ((code = call_hunt_begin(call))) /* call_route.c */
		answer_a_once(call, code);
	policy_decision_clear(&d);
	if (!call->b_indexed && !call_hunt_busy(call))
		call_set_state(call, CALL_TERMINATED, CEV_B_FAILURE);
	call_settle(call);
}

static void in_dialog(struct calls *c, struct call *call, bool from_a,
		      struct sip_tx *st, struct sip_msg *req)
{
	struct leg *leg = &call->leg[from_a ? LEG_A : LEG_B];
	uint16_t reject = 0;

	if (leg->dlg && dialog_on_request(leg->dlg, req, &reject) == 0 &&
	    reject) {
		call_reply(c, st, req, reject, SLICE_NULL);
		return;
	}
	if (req->method == SIP_METHOD_BYE) {
		/* a BYE always ends the leg it came on: 200 at once (§15.1.2)
		 */
		call_reply(c, st, req, 200, SLICE_NULL);
		leg->ended = true;
		call_event(call, from_a ? CEV_A_BYE : CEV_B_BYE, req);
	} else {
		/* re-INVITE, UPDATE, INFO...: the table says whether it
		 * crosses (legs/call_mid.c) or is answered here */
		call_event_tx(call, from_a ? CEV_A_REQUEST : CEV_B_REQUEST, req,
			      st);
	}
	call_settle(call);
}

bool calls_on_request(struct calls *c, struct sip_tx *st, struct sip_msg *req,
		      const struct tp_source *src)
{
	struct call *call;
	bool from_a = true;

	if (req->method == SIP_METHOD_CANCEL) {
		struct sip_tx *inv = sip_tx_cancel_target(st);
		struct txref *ref = inv ? sip_tx_arg(inv) : NULL;

		if (!inv) {
			call_reply(c, st, req, 481, SLICE_NULL);
			return true;
		}
		/* the INVITE's transaction points at its call; the 200 to the
		 * CANCEL carries the INVITE's To tag (§9.2) */
		if (ref && ref->purpose == TXP_RELAY_SRV) {
			/* a re-INVITE's CANCEL: 200, and the CANCEL crosses
			 * if that re-INVITE is still unanswered */
			call_reply(c, st, req, 200, SLICE_NULL);
			call = ref->call;
			mid_cancel(txref_relay(ref), req);
			call_settle(call);
			return true;
		}
		call = ref && ref->purpose == TXP_A_INVITE ? ref->call : NULL;
		call_reply(c, st, req, 200,
			   call ? slice_cstr(call->a_tag) : SLICE_NULL);
		if (call) {
			const struct sip_hdr *h =
				sip_msg_hdr(req, SIP_HDR_REASON);

			/* RFC 3326: the Reason crosses with the CANCEL */
			if (h && !call->cancel_reason)
				call->cancel_reason =
					duet_strndup(h->value.p, h->value.len);
			/* (no message: a BYE that follows carries the
			 * CANCEL's Reason, not its other headers) */
			call_event(call, CEV_A_CANCEL, NULL);
			call_settle(call);
		}
		return true;
	}
	if (!req->to.tag.p) {
		if (req->method != SIP_METHOD_INVITE)
			return false; /* out of dialog: the daemon's */
		new_call(c, st, req, src);
		return true;
	}
	call = find_call(c, req, &from_a);
	if (!call) {
		call_reply(c, st, req, 481, SLICE_NULL); /* §12.2.2 */
		return true;
	}
	in_dialog(c, call, from_a, st, req);
	return true;
}

void calls_on_ack(struct calls *c, struct sip_msg *ack,
		  const struct tp_source *src)
{
	bool from_a = true;
	struct call *call = find_call(c, ack, &from_a);

	(void)src;
	if (!call)
		return;
	/* the ACK of a re-INVITE's 2xx, on either leg */
	if (!from_a || call->a_acked) {
		mid_ack(call, from_a ? LEG_A : LEG_B, ack);
		call_settle(call);
		return;
	}
	call->a_acked = true;
	call_2xx_stop(&call->leg[LEG_A]);
	call_event(call, CEV_A_ACK, ack);
	call_settle(call);
}

void calls_on_stray(struct calls *c, struct sip_msg *resp,
		    const struct tp_source *src)
{
	bool from_a = false;
	struct call *call;

	(void)src;
	if (resp->status < 200 || resp->status >= 300 ||
	    resp->cseq_method != SIP_METHOD_INVITE)
		return;
	call = find_call(c, resp, &from_a);
	if (!call) { /* its call has ended */
		calls_ack_bye_stray(c, resp);
		return;
	}
	if (from_a)
		return;
	call_event(call, CEV_B_2XX, resp);
	call_settle(call);
}

/*
 * The first 2xx on the B leg confirms the dialog it belongs to: the early
 * one with its tag, or a new one (a 2xx with no provisional before it, or
 * from another fork than the early dialog's, §13.2.2.4). Later 2xx are
 * retransmissions or other forks, which call_ack_bye_fork() handles.
 */
static void b_answer_dialog(struct call *call, const struct sip_msg *resp)
{
	struct dialog *d = call->leg[LEG_B].dlg;

	if (d && d->state == DIALOG_EARLY && d->remote_tag &&
	    slice_eq_cstr(resp->to.tag, d->remote_tag) &&
	    dialog_confirm(d, resp) == 0)
		return;
	dialog_free(call->leg[LEG_B].dlg);
	call->leg[LEG_B].dlg = NULL;
	dialog_new_uac(&call->leg[LEG_B].dlg, call->b_invite, resp);
}

/* A response to the B-leg INVITE. */
static void b_invite_response(struct call *call, struct sip_msg *resp)
{
	enum call_event ev;

	/* RFC 4028 §7.3: sent again with the callee's Min-SE */
	if (resp->status == 422 && call_timer_b_422(call, resp))
		return;
	if (resp->status < 200)
		call->b_provisional = true;
	else
		call->b_final = true;
	/* a CANCEL that waited for the first provisional (§9.1) goes now,
	 * whatever becomes of this response (a reliable one dropped...) */
	if (call->cancel_pending && call->b_provisional && !call->b_final)
		do_cancel_b(call);
	if (resp->status == 100) {
		ev = CEV_B_100;
	} else if (resp->status < 200) {
		ev = resp->to.tag.p ? CEV_B_1XX_DIALOG : CEV_B_1XX;
		if (ev == CEV_B_1XX_DIALOG && !call->leg[LEG_B].dlg)
			dialog_new_uac(&call->leg[LEG_B].dlg, call->b_invite,
				       resp);
		if (prack_b_1xx(call, resp)) /* RFC 3262 (call_prack.c) */
			return;
	} else if (resp->status < 300) {
		bool first = call->state != CALL_READY &&
			     call->state != CALL_ANSWER_HELD &&
			     call->state != CALL_TERMINATING;

		/* RFC 3262 §3: held while the caller owes a PRACK */
		ev = first && prack_a_holds(call) ? CEV_B_2XX_HELD : CEV_B_2XX;
		wheel_timer_cancel(&call->ring_timer);
		if (first) {
			call_timer_uac_2xx(call, LEG_B, resp);
			b_answer_dialog(call, resp);
		}
	} else {
		wheel_timer_cancel(&call->ring_timer);
		/* the hunt may move on to the next target (call_route.c) */
		ev = call_hunt_failed(call, resp, false, &resp);
		if (ev == CALL_EVENT_COUNT)
			return;
	}
	call_event(call, ev, resp);
}

void calls_tx_response(struct sip_tx *ct, struct sip_msg *resp, void *tx_arg)
{
	struct txref *ref = tx_arg;
	struct call *call;

	(void)ct;
	if (!ref)
		return;
	if (ref->purpose == TXP_ORPHAN) {
		if (resp->status / 100 == 2)
			calls_ack_bye_stray(
				(struct calls *)((char *)ref -
						 offsetof(struct calls,
							  orphan)),
				resp);
		return;
	}
	call = ref->call;
	switch (ref->purpose) {
	case TXP_B_INVITE:
		b_invite_response(call, resp);
		break;
	case TXP_RELAY_CLI:
		mid_response(txref_relay(ref), resp);
		if (call->state == CALL_TERMINATING &&
		    !call_teardown_pending(call))
			call_event(call, CEV_BYES_DONE, NULL);
		break;
	case TXP_RELAY_SRV:
		break;
	case TXP_RELAY_CANCEL:
		if (resp->status >= 200)
			call_release_tx(ref);
		break;
	default:
		/* CANCEL and BYE: their final answer is all we wait for */
		if (resp->status >= 200) {
			release_tx(call, ref->purpose);
			if (call->state == CALL_TERMINATING &&
			    !call_teardown_pending(call))
				call_event(call, CEV_BYES_DONE, NULL);
		}
		break;
	}
	call_settle(call);
}

void calls_tx_ended(struct sip_tx *tx, int err, void *tx_arg)
{
	struct txref *ref = tx_arg;
	struct call *call;
	enum txp purpose;

	(void)tx;
	if (!ref || ref->purpose == TXP_ORPHAN)
		return;
	call = ref->call;
	purpose = ref->purpose; /* a relay's ref may be freed below */
	ref->tx = NULL;
	if (purpose == TXP_RELAY_CLI) {
		mid_cli_ended(txref_relay(ref));
	} else if (purpose == TXP_RELAY_SRV) {
		mid_srv_ended(txref_relay(ref));
	} else if (purpose == TXP_B_INVITE && !call->b_final) {
		/* Timer B or a transport error: no final answer (§17.1.1.2) */
		struct sip_msg *relay = NULL;
		enum call_event ev;

		call->b_final = true;
		wheel_timer_cancel(&call->ring_timer);
		LOG_INFO("call %llu [%s]: B leg INVITE ended: %s",
			 (unsigned long long)call->id, call->route,
			 duet_strerror(err));
		ev = call_hunt_failed(call, NULL, false, &relay);
		if (ev != CALL_EVENT_COUNT)
			call_event(call, ev, relay);
	}
	if (purpose != TXP_A_INVITE && purpose != TXP_B_INVITE &&
	    call->state == CALL_TERMINATING && !call_teardown_pending(call)) {
		call_event(call, CEV_BYES_DONE, NULL);
	}
	call_settle(call);
}

void calls_shutdown(struct calls *c)
{
	for (unsigned i = 0; i < CALLS_BUCKETS; i++) {
		struct call *x = c->by_a[i], *next;

		for (; x; x = next) {
			next = x->next_a;
			call_event(x, CEV_SHUTDOWN, NULL);
			call_settle(x);
		}
	}
}

/* Start 2xx retransmissions once a 2xx went out on st (§13.3.1.4).
 * Takes buf (duet_malloc'd). The state lives on the heap only while it
 * retransmits: it is gone before the call settles. */
void call_2xx_start(struct call *call, enum leg_side side, uint16_t code,
		    char *buf, size_t len, struct txref *st,
		    struct relay *relay)
{
	struct calls *c = call->owner;
	struct leg *leg = &call->leg[side];
	struct leg_2xx *x;

	call_2xx_stop(leg);
	x = duet_calloc(1, sizeof(*x));
	if (!x) { /* no retransmissions: the transaction sent it once */
		duet_free(buf);
		return;
	}
	*x = (struct leg_2xx){ .leg = leg,
			       .buf = buf,
			       .len = len,
			       .code = code,
			       .st = st,
			       .relay = relay,
			       .interval = c->cfg.t1 };
	wheel_timer_init(&x->timer, on_2xx_timer, x);
	leg->x2xx = x;
	wheel_timer_start(c->env.wheel, &x->timer, c->cfg.t1);
}

/* The ACK came (or the leg ends): no more retransmissions. */
void call_2xx_stop(struct leg *leg)
{
	struct leg_2xx *x = leg->x2xx;

	if (!x)
		return;
	wheel_timer_cancel(&x->timer);
	duet_free(x->buf);
	duet_free(x);
	leg->x2xx = NULL;
}
