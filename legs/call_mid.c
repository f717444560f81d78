/* SPDX-License-Identifier: MIT */
/*
 * Mid-call requests (RFC 3261 §12.2, §14, §15.1.2; RFC 3311 UPDATE;
 * RFC 6086 INFO; RFC 3428 MESSAGE; RFC 3515 REFER; RFC 6141 re-INVITE
 * failures; RFC 5057 ending a dialog on 481/408; RFC 5407 races): a
 * request from one leg's peer becomes a request of the other leg's dialog
 * (its own CSeq), its responses go back by that pairing, the ACK of a
 * re-INVITE's 2xx goes forward. Glare (491) and overlap (500 with
 * Retry-After) are decided per leg from what is pending on it.
 */
#include "call_internal.h"
#include "call_route.h"

#include <event2/util.h>
#include <stdio.h>
#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"
#include "duet/log.h"

#define RELAYS_MAX 16	/* mid-call requests in flight on one call */
#define GLARE_RETRIES 3 /* duet's re-INVITE sent again after a 491 */

static uint32_t rnd(uint32_t n)
{
	uint32_t v = 0;

	evutil_secure_rng_get_bytes(&v, sizeof(v));
	return n ? v % n : 0;
}

/*
 * §14.1: after a 491 the UAC waits T before trying again: 2.1 to 4 s in
 * units of 10 ms when it owns the dialog's Call-ID, 0 to 2 s otherwise.
 * duet minted the B leg's Call-ID; the caller owns the A leg's.
 */
static uint32_t glare_wait_ms(enum leg_side side)
{
	return side == LEG_B ? 2100 + 10 * rnd(191) : 10 * rnd(201);
}

static void on_retry(struct wheel_timer *t, void *arg);

/* The offer/answer bookkeeping of both legs forgets r. */
static void oa_clear(struct relay *r)
{
	struct leg *f = &r->call->leg[r->from];
	struct leg *o = &r->call->leg[LEG_OTHER(r->from)];

	if (f->oa_in == r)
		f->oa_in = NULL;
	if (o->oa_out == r)
		o->oa_out = NULL;
}

static void relay_free(struct relay *r)
{
	struct call *call = r->call;

	for (struct relay **pp = &call->relays; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	oa_clear(r);
	for (unsigned s = 0; s < 2; s++)
		if (call->leg[s].x2xx && call->leg[s].x2xx->relay == r)
			call_2xx_stop(&call->leg[s]);
	call_release_tx(&r->srv);
	if (r->method == SIP_METHOD_INVITE)
		call_orphan_tx(call, &r->cli); /* late 2xx: ACK and BYE */
	call_release_tx(&r->cli);
	call_release_tx(&r->cancel);
	wheel_timer_cancel(&r->retry_timer);
	duet_free(r->ack);
	call->relay_count--;
	duet_free(r);
}

void mid_relay_free(struct relay *r)
{
	relay_free(r);
}

/*
 * The exchange is over on both legs. The relay stays only while duet's
 * copy was a re-INVITE whose 2xx duet ACKed: the ICT passes retransmitted
 * 2xx on (RFC 6026), and each gets the ACK again (§13.2.2.4).
 */
static void relay_done(struct relay *r)
{
	r->state = RELAY_DONE;
	oa_clear(r);
	wheel_timer_cancel(&r->retry_timer);
	call_release_tx(&r->srv);
	call_release_tx(&r->cancel);
	if (!r->ack)
		call_release_tx(&r->cli);
	if (!r->cli.tx)
		relay_free(r);
}

static void reply_retry_after(struct call *call, struct sip_tx *st,
			      const struct sip_msg *req, uint16_t code,
			      uint32_t max_s)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", (unsigned)rnd(max_s + 1));
	call_reply_hdr(call->owner, st, req, code, SIP_HDR_RETRY_AFTER,
		       slice_cstr(v));
}

/*
 * Can this request cross? 0 if so, else the status duet answers with
 * itself (*retry_after: add a Retry-After).
 */
static uint16_t mid_check(struct call *call, enum leg_side from,
			  const struct sip_msg *req, bool offer,
			  bool *retry_after)
{
	struct leg *f = &call->leg[from], *o = &call->leg[LEG_OTHER(from)];
	struct policy_method_rule mr;

	*retry_after = false;
	/* the route's method map (docs/policy.md, "methods"): answered or
	 * refused here, or relayed. An offer (re-INVITE, UPDATE with a body)
	 * is not answered locally: duet has no answer of its own to give.
	 * REFER (RFC 3515) is refused 403 unless the map relays it: a
	 * transfer must not reach where the policy did not route */
	mr = policy_method_action(call_policy(call), call_rule(call),
				  policy_leg_of(from), req->method, true);
	if (mr.mode == POLICY_METHOD_REJECT ||
	    (mr.mode == POLICY_METHOD_ANSWER && !offer))
		return mr.code;
	if (!f->dlg || !o->dlg || o->ended)
		return 481; /* nothing to relay it to */
	if (req->max_forwards == 0)
		return 483; /* RFC 7332 */
	if (req->method == SIP_METHOD_INVITE) {
		*retry_after = true;
		/* §14.1: no re-INVITE on an early dialog */
		if (call->state != CALL_READY)
			return 500;
		/* §14.2: a second INVITE while the first is unanswered (or,
		 * for duet, its 2xx not yet ACKed) */
		if ((f->oa_in && f->oa_in->method == SIP_METHOD_INVITE) ||
		    (from == LEG_A && !call->a_acked))
			return 500;
		*retry_after = false;
		/* §14.1: an INVITE while duet's own INVITE on this leg is in
		 * progress (until its ACK, incl. the initial one on B) */
		if ((f->oa_out && f->oa_out->method == SIP_METHOD_INVITE) ||
		    (from == LEG_B && !call->b_acked))
			return 491;
		/* nor may duet send one on the A leg while the caller's
		 * INVITE waits for its ACK there (ACK immediate ACKs the B
		 * leg first) */
		if (from == LEG_B && !call->a_acked)
			return 491;
	}
	if (offer) {
		/* RFC 3311 §5.2 (and §14.1 for INVITE): an offer while
		 * duet's own offer on this leg waits for its answer: 491; an
		 * offer while the peer's previous one is unanswered: 500 */
		if (f->oa_out)
			return 491;
		*retry_after = true;
		if (f->oa_in)
			return 500;
		*retry_after = false;
	}
	if (call->relay_count >= RELAYS_MAX) {
		*retry_after = true;
		return 500;
	}
	return 0;
}

/* A relay of call, linked, with its offer/answer bookkeeping: a peer's
 * offer from `from` is pending there and (PEERS) on the other leg. */
struct relay *mid_relay_new(struct call *call, enum leg_side from,
			    enum sip_method method, bool offer)
{
	struct relay *r = duet_calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->call = call;
	r->from = from;
	r->method = method;
	r->offer = offer;
	r->srv = (struct txref){ .call = call, .purpose = TXP_RELAY_SRV };
	r->cli = (struct txref){ .call = call, .purpose = TXP_RELAY_CLI };
	r->cancel = (struct txref){ .call = call, .purpose = TXP_RELAY_CANCEL };
	wheel_timer_init(&r->retry_timer, on_retry, r);
	r->next = call->relays;
	call->relays = r;
	call->relay_count++;
	return r;
}

void mid_request(struct call *call, enum leg_side from, struct sip_tx *st,
		 struct sip_msg *req)
{
	struct leg *f = &call->leg[from], *o = &call->leg[LEG_OTHER(from)];
	bool offer = req->method == SIP_METHOD_INVITE ||
		     (req->method == SIP_METHOD_UPDATE && req->body.len);
	bool retry_after;
	uint16_t code;
	struct relay *r;
	int err;

	/* RFC 3262: per_leg PRACKs are answered on their leg */
	if (req->method == SIP_METHOD_PRACK &&
	    prack_request(call, from, st, req))
		return;
	code = mid_check(call, from, req, offer, &retry_after);
	if (code) {
		LOG_INFO("call %llu: %.*s from %s answered %u",
			 (unsigned long long)call->id,
			 (int)req->method_text.len, req->method_text.p,
			 from == LEG_A ? "A" : "B", code);
		if (retry_after) /* §14.2: 0 to 10 s */
			reply_retry_after(call, st, req, code, 10);
		else
			call_reply(call->owner, st, req, code, SLICE_NULL);
		return;
	}
	/* a session refresh, "answer" mode (call_timer.c) */
	if (call_timer_mid_request(call, from, st, req))
		return;
	r = mid_relay_new(call, from, req->method, offer);
	if (!r) {
		call_reply(call->owner, st, req, 500, SLICE_NULL);
		return;
	}
	r->srv_cseq = req->cseq;
	r->srv.tx = st;
	sip_tx_set_arg(st, &r->srv);
	if (offer) {
		f->oa_in = r;
		o->oa_out = r;
	}
	err = call_send_relay(call, r, req);
	if (err) {
		LOG_WARN("call %llu: %.*s not relayed: %s",
			 (unsigned long long)call->id,
			 (int)req->method_text.len, req->method_text.p,
			 duet_strerror(err));
		call_relay_response(call, r, 500, NULL);
		relay_done(r);
		return;
	}
	LOG_DEBUG("call %llu: %.*s %s CSeq %u -> %s CSeq %u",
		  (unsigned long long)call->id, (int)req->method_text.len,
		  req->method_text.p, from == LEG_A ? "A" : "B",
		  (unsigned)r->srv_cseq, from == LEG_A ? "B" : "A",
		  (unsigned)r->cli_cseq);
}

/* After a 491, duet's copy goes out again (new CSeq, new branch). */
static void on_retry(struct wheel_timer *t, void *arg)
{
	struct relay *r = arg;
	struct call *call = r->call;

	(void)t;
	if (r->state == RELAY_SENT && call->state == CALL_READY && !r->final) {
		/* Timer C (§16.6 step 11): a provisional came and no final
		 * answer since: CANCEL the copy, 408 back. duet keeps the
		 * call up (RFC 6141: a failed re-INVITE leaves the session
		 * as it was); the peer may end its dialog on the 408
		 * (§12.2.1.2), its BYE then crosses as any other. The copy
		 * gets 64*T1 more for the 487 (§9.1). */
		LOG_INFO("call %llu: re-INVITE from %s: Timer C",
			 (unsigned long long)call->id,
			 r->from == LEG_A ? "A" : "B");
		call_relay_response(call, r, 408, NULL);
		if (call->leg[r->from].oa_in == r) /* the copy's stays */
			call->leg[r->from].oa_in = NULL;
		if (r->cli_1xx && !r->cancel.tx)
			call_send_relay_cancel(call, r, NULL);
		wheel_timer_start(call->owner->env.wheel, &r->retry_timer,
				  64u * call->owner->cfg.t1);
		return;
	}
	if (r->state == RELAY_SENT) {
		/* the teardown's wait for a re-INVITE's final answer is over
		 * (64*T1 after its CANCEL): the call ends without it */
		relay_done(r);
		if (call->state == CALL_TERMINATING &&
		    !call_teardown_pending(call))
			call_event(call, CEV_BYES_DONE, NULL);
		call_settle(call);
		return;
	}
	if (r->state != RELAY_RETRY)
		return;
	if (call->state != CALL_READY || !r->srv.tx || r->final) {
		relay_done(r);
		return;
	}
	r->state = RELAY_SENT;
	r->cli_1xx = false;
	if (call_send_relay(call, r, sip_tx_request(r->srv.tx))) {
		call_relay_response(call, r, 491, NULL);
		relay_done(r);
	}
}

/* RFC 5057 §5.1: this leg's dialog is gone; the call ends on both. */
static void dialog_gone(struct call *call, uint16_t code)
{
	char reason[96];

	if (!call->end_reason) {
		snprintf(reason, sizeof(reason), "SIP;cause=%u;text=\"%s\"",
			 (unsigned)code, sip_reason_phrase(code));
		call->end_reason = duet_strndup(reason, strlen(reason));
	}
	call_event(call, CEV_DIALOG_GONE, NULL);
}

/*
 * A response to duet's own session refresh (call_timer.c): nothing goes
 * back anywhere. A 2xx is ACKed without a body (duet offered the session
 * unchanged) and restarts the leg's timer; a failure leaves the timer to
 * decide (§10); 408 and 481 end the dialog (RFC 5057 §5.1).
 */
static void own_response(struct relay *r, struct sip_msg *resp)
{
	struct call *call = r->call;
	struct leg *o = &call->leg[LEG_OTHER(r->from)];
	uint16_t code = resp->status;

	if (code < 200) {
		r->cli_1xx = true;
		return;
	}
	if (code / 100 == 2) {
		dialog_on_refresh_response(o->dlg, resp);
		if (r->method == SIP_METHOD_INVITE)
			call_send_relay_ack(call, r, NULL);
		call_timer_uac_2xx(call, o->side, resp);
	} else {
		call_timer_own_failed(call, o->side);
	}
	relay_done(r);
	if (code == 408 || code == 481)
		dialog_gone(call, code);
}

void mid_response(struct relay *r, struct sip_msg *resp)
{
	struct call *call = r->call;
	struct leg *o = &call->leg[LEG_OTHER(r->from)];
	uint16_t code = resp->status;
	bool is_inv = r->method == SIP_METHOD_INVITE;

	if (r->state == RELAY_DONE) {
		/* a retransmitted 2xx duet ACKed already: ACK it again */
		if (code / 100 == 2 && r->ack)
			transport_send(call->owner->env.tp, &r->ack_dest,
				       r->ack, r->ack_len);
		return;
	}
	/* WAIT_ACK: a retransmitted 2xx; duet's ACK goes when the other
	 * leg's ACK comes. RETRY: a late response of the copy that got
	 * 491. */
	if (r->state != RELAY_SENT)
		return;
	if (r->kind == RELAY_OWN) {
		own_response(r, resp);
		return;
	}
	if (code < 200) {
		r->cli_1xx = true;
		/* Timer C runs from each provisional (§16.6 step 11) */
		if (code > 100 && is_inv && !r->final &&
		    call->state == CALL_READY)
			wheel_timer_start(call->owner->env.wheel,
					  &r->retry_timer,
					  call->owner->cfg.reinvite_timeout_ms);
		if (r->cancel_pending && !r->cancel.tx) {
			r->cancel_pending = false;
			call_send_relay_cancel(call, r, NULL);
		}
		if (code > 100 && is_inv && !r->final)
			call_relay_response(call, r, code, resp);
		return;
	}
	/* §12.2.1.2: a 2xx to a target refresh updates the remote target */
	if (code / 100 == 2 && (is_inv || r->method == SIP_METHOD_UPDATE)) {
		dialog_on_refresh_response(o->dlg, resp);
		call_timer_uac_2xx(call, o->side, resp); /* RFC 4028 §7.2 */
		/* the offer duet relayed is the session there now (a
		 * refused one is not, RFC 6141) */
		if (r->srv.tx)
			call_timer_sent(call, o->side,
					sip_tx_request(r->srv.tx));
	}
	if (r->final) {
		/* the request was answered on its own leg already (487 when a
		 * BYE came, §15.1.2): a 2xx still gets its ACK (§13.2.2.4),
		 * and a BYE if nobody has ended that dialog yet */
		if (code / 100 == 2 && is_inv) {
			call_send_relay_ack(call, r, NULL);
			if (call->state == CALL_READY) {
				/* after Timer C's 408: this leg took an offer
				 * the other refused; the sessions no longer
				 * agree, the call ends on both legs */
				relay_done(r);
				dialog_gone(call, 408);
				return;
			}
			if (!o->ended)
				call_send_bye(call, o->side == LEG_A, NULL);
		}
		relay_done(r);
		return;
	}
	/* §14.1: duet's offer crossed the peer's: wait, then try again;
	 * the leg it came from keeps waiting (its 100 Trying went out) */
	if (code == 491 && r->offer && r->retries < GLARE_RETRIES &&
	    call->state == CALL_READY) {
		r->retries++;
		r->state = RELAY_RETRY;
		call_release_tx(&r->cli); /* the ICT ACKs the 491 */
		wheel_timer_start(call->owner->env.wheel, &r->retry_timer,
				  glare_wait_ms(o->side));
		return;
	}
	/* the code and reason phrase cross as they are; RFC 6141: a failed
	 * re-INVITE leaves the session (and the call) as it was */
	call_relay_response(call, r, code, resp);
	if (code / 100 == 2 && is_inv)
		r->state = RELAY_WAIT_ACK;
	else
		relay_done(r);
	if (code == 408 || code == 481)
		dialog_gone(call, code);
}

void mid_cli_ended(struct relay *r)
{
	struct call *call = r->call;

	if (r->state == RELAY_SENT) {
		/* Timer B/F or a transport error: no answer, as a 408 */
		bool answered = r->final != 0;

		if (!answered)
			call_relay_response(call, r, 408, NULL);
		relay_done(r);
		if (!answered)
			dialog_gone(call, 408);
		return;
	}
	if (r->state == RELAY_DONE)
		relay_free(r);
}

void mid_srv_ended(struct relay *r)
{
	if (r->state == RELAY_DONE && !r->cli.tx)
		relay_free(r);
}

bool mid_ack(struct call *call, enum leg_side from, struct sip_msg *ack)
{
	struct relay *r;

	for (r = call->relays; r; r = r->next)
		if (r->from == from && r->method == SIP_METHOD_INVITE &&
		    r->srv_cseq == ack->cseq && r->state == RELAY_WAIT_ACK)
			break;
	if (!r)
		return false; /* a retransmitted ACK, or a stranger's */
	call_2xx_stop(&call->leg[from]);
	/* the ACK carries the answer when the 2xx carried the offer */
	call_send_relay_ack(call, r, ack);
	relay_done(r);
	return true;
}

bool mid_cancel(struct relay *r, const struct sip_msg *cancel)
{
	struct call *call = r->call;

	/* after the final answer a CANCEL changes nothing (§9.2) */
	if (r->method != SIP_METHOD_INVITE || r->final)
		return false;
	if (r->state == RELAY_RETRY) { /* nothing is out on the other leg */
		call_relay_response(call, r, 487, NULL);
		relay_done(r);
		return true;
	}
	if (r->state != RELAY_SENT || r->cancel.tx)
		return false;
	if (!r->cli_1xx) { /* §9.1: not before a provisional */
		r->cancel_pending = true;
		return true;
	}
	return call_send_relay_cancel(call, r, cancel) == 0;
}

void mid_2xx_timeout(struct relay *r)
{
	/* §13.3.1.4: no ACK; the other leg's 2xx is ACKed all the same
	 * before the session ends */
	if (r->state == RELAY_WAIT_ACK) {
		call_send_relay_ack(r->call, r, NULL);
		relay_done(r);
	}
}

void mid_end_pending(struct call *call)
{
	struct relay *r, *next;

	for (r = call->relays; r; r = next) {
		next = r->next;
		switch (r->state) {
		case RELAY_SENT:
			/* §15.1.2: a UAS receiving a BYE answers what is
			 * pending 487 */
			if (!r->final)
				call_relay_response(call, r, 487, NULL);
			oa_clear(r);
			/* a re-INVITE's copy stays until its final answer (a
			 * 2xx must still be ACKed), which its CANCEL hastens;
			 * 64*T1 at most, as after the INVITE's CANCEL (§9.1) */
			if (r->method != SIP_METHOD_INVITE) {
				relay_done(r);
				break;
			}
			if (r->cli_1xx && !r->cancel.tx)
				call_send_relay_cancel(call, r, NULL);
			else
				r->cancel_pending = true;
			wheel_timer_start(call->owner->env.wheel,
					  &r->retry_timer,
					  64u * call->owner->cfg.t1);
			break;
		case RELAY_RETRY:
			call_relay_response(call, r, 487, NULL);
			relay_done(r);
			break;
		case RELAY_WAIT_ACK:
			/* the other leg's 2xx never got its ACK yet */
			call_send_relay_ack(call, r, NULL);
			relay_done(r);
			break;
		case RELAY_DONE:
			break;
		}
	}
	for (unsigned s = 0; s < 2; s++)
		call_2xx_stop(&call->leg[s]);
	/* the callee's 2xx still waiting for the caller's ACK gets duet's
	 * ACK before the call ends (BYE before the ACK, §13.2.2.4) */
	if (!call->b_acked && call->leg[LEG_B].dlg &&
	    call->leg[LEG_B].dlg->state == DIALOG_CONFIRMED)
		call_send_b_ack(call, NULL);
}

bool mid_pending(const struct call *call)
{
	for (const struct relay *r = call->relays; r; r = r->next)
		if (r->state == RELAY_SENT && r->cli.tx)
			return true;
	return false;
}

void mid_free_all(struct call *call)
{
	while (call->relays)
		relay_free(call->relays);
}
