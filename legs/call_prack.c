/* SPDX-License-Identifier: MIT */
/*
 * Reliable provisional responses and PRACK (RFC 3262) on each leg of a
 * call: duet's own reliable 18x to a caller that supports 100rel (§3),
 * its PRACKs of the callee's reliable 18x (§4), the offer of a callee's
 * reliable 18x answered by the caller's PRACK (§5); the route's method
 * map can instead relay PRACK end to end (RAck renumbered) or refuse
 * 100rel altogether. Require options duet cannot satisfy get 420 with
 * Unsupported (RFC 3261 §8.2.2.3).
 */
#include "call_internal.h"

#include <event2/util.h>
#include <stdio.h>
#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"
#include "duet/log.h"

/* RFC 3262 §3: the first RSeq is random in 1 .. 2**31 - 1; taken from
 * the lower half so that counting up never wraps */
#define RSEQ_FIRST_MAX 0x3fffffffu

enum policy_method_mode prack_mode(const struct policy *p,
				   const struct policy_route *r)
{
	return policy_method_action(p, r, POLICY_LEG_A, SIP_METHOD_PRACK, true)
		.mode;
}

static enum policy_method_mode call_prack_mode(const struct call *call)
{
	return prack_mode(call_policy(call), call_rule(call));
}

/* Does duet send reliable provisionals to this caller (§3)? */
static bool a_reliable(const struct call *call)
{
	const struct sip_msg *inv = call->a_invite;

	return inv && call_prack_mode(call) == POLICY_METHOD_PER_LEG &&
	       (sip_msg_has_option(inv, SIP_HDR_SUPPORTED, "100rel") ||
		sip_msg_has_option(inv, SIP_HDR_REQUIRE, "100rel"));
}

static void on_a_timer(struct wheel_timer *t, void *arg);

static struct call_prack *prack_get(struct call *call)
{
	struct call_prack *p = call->prack;

	if (p)
		return p;
	p = duet_calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->call = call;
	wheel_timer_init(&p->a_timer, on_a_timer, p);
	call->prack = p;
	return p;
}

static void a_stop(struct call_prack *p)
{
	wheel_timer_cancel(&p->a_timer);
	duet_free(p->a_rel);
	p->a_rel = NULL;
}

static void a_drop_waiting(struct call_prack *p)
{
	for (unsigned i = 0; i < p->a_queued; i++)
		sip_msg_unref(p->a_queue[i]);
	p->a_queued = 0;
	p->a_held = sip_msg_unref(p->a_held);
}

void prack_free(struct call *call)
{
	struct call_prack *p = call->prack;

	if (!p)
		return;
	a_stop(p);
	a_drop_waiting(p);
	duet_free(p->a_unsupported);
	duet_free(p);
	call->prack = NULL;
}

/* ---- option tags (RFC 3261 §8.2.2.3, §19.2) ----------------------------- */

/* The options a caller may require of duet: 100rel unless the route
 * refuses it; timer crosses to the callee with Session-Expires. */
static bool option_known(struct slice tag, enum policy_method_mode mode)
{
	if (slice_caseeq_cstr(tag, "100rel"))
		return mode != POLICY_METHOD_REJECT;
	return slice_caseeq_cstr(tag, "timer");
}

/* Append the unknown tags of list to buf ("a, b"). */
static void unknown_tags(struct slice list, enum policy_method_mode mode,
			 char *buf, size_t cap)
{
	struct slice one;

	for (size_t pos = 0; sip_hdr_next_value(list, &pos, &one, NULL);) {
		size_t n = strlen(buf);

		if (one.len && !option_known(one, mode) &&
		    !sip_option_in(slice_make(buf, n), one) &&
		    n + one.len + 3 < cap)
			snprintf(buf + n, cap - n, "%s%.*s", n ? ", " : "",
				 (int)one.len, one.p);
	}
}

uint16_t prack_check_require(struct call *call, const struct policy *pol,
			     const struct policy_route *r)
{
	const struct sip_msg *inv = call->a_invite;
	struct sip_tx *st = call->ref[TXP_A_INVITE].tx;
	enum policy_method_mode mode = prack_mode(pol, r);
	struct call_prack *p;
	char list[256] = "";
	int err;

	for (const struct sip_hdr *h = sip_msg_hdr(inv, SIP_HDR_REQUIRE); h;
	     h = sip_msg_hdr_next(inv, h))
		unknown_tags(h->value, mode, list, sizeof(list));
	if (!list[0] || !st)
		return 0;
	LOG_INFO("call %llu [%s]: Require: %s not supported: 420",
		 (unsigned long long)call->id, call->route, list);
	/* through call_answer_a, as any answer to the caller: the route's
	 * response headers, Unsupported from prack_a_headers */
	if ((p = prack_get(call)) != NULL)
		p->a_unsupported = duet_strndup(list, strlen(list));
	err = call_answer_a(call, 420, SLICE_NULL, NULL);
	call->a_final = 420;
	if (err)
		LOG_WARN("call %llu: 420 not sent: %s",
			 (unsigned long long)call->id, duet_strerror(err));
	return 420;
}

void prack_copy_option_hdr(struct sip_writer *w, const struct sip_hdr *h,
			   bool drop_100rel)
{
	struct slice one;
	char buf[256];
	size_t n = 0;

	for (size_t pos = 0; sip_hdr_next_value(h->value, &pos, &one, NULL);) {
		/* timer: session timers are per leg too (call_timer.c) */
		if (one.len &&
		    !(drop_100rel && slice_caseeq_cstr(one, "100rel")) &&
		    !slice_caseeq_cstr(one, "timer") &&
		    n + one.len + 2 < sizeof(buf)) {
			if (n)
				memcpy(buf + n, ", ", 2), n += 2;
			memcpy(buf + n, one.p, one.len);
			n += one.len;
		}
	}
	if (n)
		sip_build_header_id(w, (enum sip_hdr_id)h->id,
				    slice_make(buf, n));
}

/* ---- B leg: duet is the UAC (§4) ----------------------------------------- */

bool prack_b_supported(const struct call *call)
{
	/* per_leg: duet PRACKs the callee itself, whatever the caller
	 * supports; relay: the caller's own Supported/Require crossed */
	return call_prack_mode(call) == POLICY_METHOD_PER_LEG;
}

/* duet's PRACK of (rseq, cseq INVITE) in the B leg's early dialog, with
 * body_from's body (the caller's answer, §5) if any. Nobody waits for
 * its answer: a lost PRACK shows as the callee's retransmissions. */
static int b_send_prack(struct call *call, uint32_t rseq, uint32_t cseq,
			const struct sip_msg *body_from)
{
	struct dialog *d = call->leg[LEG_B].dlg;
	struct calls *c = call->owner;
	char via[160], rack[40];
	struct sip_msg *m = NULL;
	const struct sip_hdr *ct;
	struct sip_writer w;
	struct tp_dest dest;
	const char *why = NULL;
	int err = d ? call_dialog_dest(d, call->b_dest.proto, &dest) : EINVAL;

	if (!err)
		err = call_local_parts(c, &dest, via, sizeof(via), NULL, 0);
	if (err)
		return err;
	sip_writer_init(&w, 512 + (body_from ? body_from->body.len : 0));
	dialog_build_request(d, &w,
			     &(struct dialog_req){ .method = SLICE_LIT("PRACK"),
						   .via = slice_cstr(via) },
			     NULL);
	snprintf(rack, sizeof(rack), "%u %u INVITE", (unsigned)rseq,
		 (unsigned)cseq);
	sip_build_header_id(&w, SIP_HDR_RACK, slice_cstr(rack));
	ct = body_from ? sip_msg_hdr(body_from, SIP_HDR_CONTENT_TYPE) : NULL;
	if (body_from && body_from->body.len)
		err = sip_build_finish(
			&w, ct ? ct->value : SLICE_LIT("application/sdp"),
			body_from->body);
	else
		err = sip_build_finish(&w, SLICE_NULL, SLICE_NULL);
	if (!err)
		err = sip_msg_parse(&m, w.buf, w.len, SIP_FRAMING_DGRAM, NULL,
				    &why);
	sip_writer_free(&w);
	if (!err)
		err = sip_tx_client_new(NULL, c->env.txl, m, &dest, NULL);
	sip_msg_unref(m);
	LOG_DEBUG("call %llu: PRACK RAck %u %u on B: %s",
		  (unsigned long long)call->id, (unsigned)rseq, (unsigned)cseq,
		  duet_strerror(err));
	return err;
}

/* The call cannot go on (a mapping duet cannot make, no PRACK): the
 * caller gets code, the callee a CANCEL (as after a ring timeout). */
/* The caller's INVITE ends with code by RFC 3262, and the callee's side
 * with it: a CANCEL, or ACK and BYE for a held 2xx, whose Reason is why
 * (RFC 3326; NULL: none of duet's own). */
static void fail_setup(struct call *call, uint16_t code, const char *why)
{
	if (why && !call->end_reason)
		call->end_reason = duet_strndup(why, strlen(why));
	call_answer_a(call, code, SLICE_NULL, NULL);
	call_event(call, CEV_PRACK_FAILED, NULL);
}

bool prack_b_1xx(struct call *call, struct sip_msg *resp)
{
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_RSEQ);
	struct dialog *d = call->leg[LEG_B].dlg;
	struct call_prack *p;
	uint32_t rseq;
	bool offer;

	if (resp->status <= 100 ||
	    !sip_msg_has_option(resp, SIP_HDR_REQUIRE, "100rel") ||
	    call_prack_mode(call) != POLICY_METHOD_PER_LEG)
		return false; /* unreliable, or relayed as it is */
	if (!h || sip_rseq_parse(h->value, &rseq)) {
		LOG_INFO("call %llu: reliable %u without a valid RSeq: dropped",
			 (unsigned long long)call->id, (unsigned)resp->status);
		return true;
	}
	if (!d || !d->remote_tag ||
	    !slice_eq_cstr(resp->to.tag, d->remote_tag)) {
		/* another fork's early dialog: duet follows one (limitation,
		 * docs/ARCHITECTURE.md) */
		LOG_INFO("call %llu: reliable %u of another early dialog: "
			 "not PRACKed",
			 (unsigned long long)call->id, (unsigned)resp->status);
		return true;
	}
	p = prack_get(call);
	if (!p)
		return true;
	if (p->b_cseq != resp->cseq) { /* a new attempt of the hunt */
		p->b_cseq = resp->cseq;
		p->b_rseq = 0;
		p->b_sdp_seen = p->b_offer_wait = false;
		p->a_offer = 0; /* the caller's answer is to this attempt's */
	}
	/* §4: a retransmission (same RSeq) is discarded, not PRACKed
	 * again; one that is not the next in order is not processed */
	if (p->b_rseq && rseq != p->b_rseq + 1) {
		LOG_DEBUG("call %llu: RSeq %u after %u: dropped",
			  (unsigned long long)call->id, (unsigned)rseq,
			  (unsigned)p->b_rseq);
		return true;
	}
	p->b_rseq = rseq;
	/* §5: with no offer in duet's INVITE the first SDP is the callee's
	 * offer; the answer comes from the caller in its PRACK */
	offer = resp->body.len && !p->b_sdp_seen && call->b_invite &&
		!call->b_invite->body.len;
	if (resp->body.len)
		p->b_sdp_seen = true;
	if (!offer) {
		b_send_prack(call, rseq, resp->cseq, NULL);
		return false;
	}
	if (!a_reliable(call) || call->a_final) {
		/* the caller cannot answer in a PRACK, and an offer may not
		 * go in an unreliable provisional (RFC 3261 §13.2.1) */
		LOG_INFO("call %llu [%s]: the callee's offer in a reliable %u "
			 "cannot reach a caller without 100rel: 488",
			 (unsigned long long)call->id, call->route,
			 (unsigned)resp->status);
		fail_setup(call, 488, NULL);
		return true;
	}
	p->b_offer_wait = true;
	p->b_offer_rseq = rseq;
	return false;
}

/* ---- A leg: duet is the UAS (§3) ----------------------------------------- */

static bool queued_sdp(const struct call_prack *p)
{
	for (unsigned i = 0; i < p->a_queued; i++)
		if (p->a_queue[i]->body.len)
			return true;
	return false;
}

bool prack_a_wait(struct call *call, uint16_t code,
		  const struct sip_msg *from_b)
{
	struct call_prack *p = call->prack;

	if (!p || !p->a_unacked)
		return false;
	if (code > 100 && code < 200 && p->a_rel) {
		/* §3: one unacknowledged reliable provisional at a time */
		if (!from_b || p->a_queued == PRACK_QUEUE) {
			LOG_INFO("call %llu: %u dropped: provisionals queue "
				 "full",
				 (unsigned long long)call->id, (unsigned)code);
			return true;
		}
		p->a_queue[p->a_queued++] =
			sip_msg_ref((struct sip_msg *)from_b);
		return true;
	}
	if (code >= 200) {
		/* §3: a final response ends the retransmissions; a PRACK
		 * that comes later is still answered */
		a_stop(p);
		for (unsigned i = 0; i < p->a_queued; i++)
			sip_msg_unref(p->a_queue[i]);
		p->a_queued = 0;
		if (p->a_held && p->a_held != from_b)
			p->a_held = sip_msg_unref(p->a_held);
	}
	return false;
}

bool prack_a_holds(const struct call *call)
{
	const struct call_prack *p = call->prack;

	/* §3: no 2xx before the PRACK of a reliable provisional with a
	 * session description; one still queued goes first, so that the
	 * caller sees the callee's early media too */
	return p && p->a_unacked && p->a_rel &&
	       (p->a_unacked_sdp || queued_sdp(p));
}

void prack_a_hold(struct call *call, struct sip_msg *ok)
{
	struct call_prack *p = call->prack;

	if (!p)
		return;
	sip_msg_unref(p->a_held);
	p->a_held = sip_msg_ref(ok);
}

uint32_t prack_a_headers(struct call *call, struct sip_writer *w, uint16_t code,
			 const struct sip_msg *from_b)
{
	struct call_prack *p;
	uint32_t rseq;
	char v[16];

	/* §8.2.2.3: duet's own 420 says what it refused (a relayed one's
	 * Unsupported crosses, call_build.c) */
	if (code == 420 && !from_b && (p = call->prack) && p->a_unsupported)
		sip_build_header_id(w, SIP_HDR_UNSUPPORTED,
				    slice_cstr(p->a_unsupported));
	if (code <= 100 || code >= 200 || !a_reliable(call) ||
	    !(p = prack_get(call)))
		return 0;
	if (!p->a_rseq) {
		evutil_secure_rng_get_bytes(&rseq, sizeof(rseq));
		rseq = 1 + rseq % RSEQ_FIRST_MAX;
		p->a_first = rseq;
	} else {
		rseq = p->a_rseq + 1;
	}
	snprintf(v, sizeof(v), "%u", (unsigned)rseq);
	sip_build_header_id(w, SIP_HDR_REQUIRE, SLICE_LIT("100rel"));
	sip_build_header_id(w, SIP_HDR_RSEQ, slice_cstr(v));
	return rseq;
}

void prack_a_sent(struct call *call, uint16_t code, uint32_t rseq,
		  const struct sip_writer *w, const struct sip_msg *from_b)
{
	struct call_prack *p = call->prack;
	struct calls *c = call->owner;

	if (!p || !rseq)
		return;
	p->a_rseq = rseq;
	p->a_unacked = rseq;
	p->a_unacked_sdp = from_b && from_b->body.len;
	if (p->b_offer_wait && !p->a_offer && p->a_unacked_sdp)
		p->a_offer = rseq;
	a_stop(p);
	p->a_rel = duet_malloc(w->len);
	if (!p->a_rel)
		return; /* sent once, not retransmitted */
	memcpy(p->a_rel, w->buf, w->len);
	p->a_rel_len = w->len;
	p->a_rel_code = code;
	p->a_interval = c->cfg.t1;
	p->a_waited = 0;
	wheel_timer_start(c->env.wheel, &p->a_timer, p->a_interval);
}

/* §3: no PRACK 64*T1 after the reliable provisional: the INVITE is
 * rejected with a 5xx (504: the caller's acknowledgement timed out) and
 * the callee's side ended. */
static void a_timeout(struct call_prack *p)
{
	struct call *call = p->call;

	LOG_INFO("call %llu [%s]: no PRACK for RSeq %u in 64*T1: 504",
		 (unsigned long long)call->id, call->route,
		 (unsigned)p->a_unacked);
	a_stop(p);
	a_drop_waiting(p);
	fail_setup(call, 504, "SIP;cause=504;text=\"No PRACK\"");
}

/* §3: retransmitted at T1, 2*T1, 4*T1... until its PRACK */
static void on_a_timer(struct wheel_timer *t, void *arg)
{
	struct call_prack *p = arg;
	struct call *call = p->call;
	struct calls *c = call->owner;
	struct sip_tx *st = call->ref[TXP_A_INVITE].tx;

	(void)t;
	p->a_waited += p->a_interval;
	if (!p->a_rel || !st || call->a_final)
		return;
	if (p->a_waited >= 64u * c->cfg.t1) {
		a_timeout(p);
		call_settle(call);
		return;
	}
	sip_tx_reply(st, p->a_rel_code, p->a_rel, p->a_rel_len);
	p->a_interval *= 2;
	if (p->a_interval > 64u * c->cfg.t1 - p->a_waited)
		p->a_interval = 64u * c->cfg.t1 - p->a_waited;
	wheel_timer_start(c->env.wheel, &p->a_timer, p->a_interval);
}

/* The PRACK of the unacknowledged provisional came: the next one waiting
 * goes, or the 2xx that waited for it. */
static void a_acked(struct call *call, struct call_prack *p)
{
	struct sip_msg *m;

	p->a_unacked = 0;
	a_stop(p);
	if (p->a_queued) {
		m = p->a_queue[0];
		memmove(p->a_queue, p->a_queue + 1,
			--p->a_queued * sizeof(p->a_queue[0]));
		if (!call->a_final)
			call_answer_a(call, m->status, m->reason, m);
		sip_msg_unref(m);
	} else if (p->a_held) { /* the call's answer goes on */
		m = p->a_held;
		p->a_held = NULL;
		call_event(call, CEV_A_PRACKED, m);
		sip_msg_unref(m);
	}
}

bool prack_request(struct call *call, enum leg_side from, struct sip_tx *st,
		   struct sip_msg *req)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_RACK);
	struct call_prack *p = call->prack;
	struct policy_method_rule mr;
	struct sip_rack rack;
	bool offer_answer;

	mr = policy_method_action(call_policy(call), call_rule(call),
				  policy_leg_of(from), SIP_METHOD_PRACK, true);
	if (mr.mode != POLICY_METHOD_PER_LEG)
		return false; /* relayed or refused by call_mid.c */
	if (!h || sip_rack_parse(h->value, &rack)) {
		call_reply(call->owner, st, req, 400, SLICE_NULL);
		return true;
	}
	/* §3: a PRACK matching no unacknowledged reliable provisional duet
	 * sent: 481 */
	if (from != LEG_A || !p || !p->a_first || !call->a_invite ||
	    rack.cseq != call->a_invite->cseq ||
	    !slice_eq_cstr(rack.method, "INVITE") || rack.rseq < p->a_first ||
	    rack.rseq > p->a_rseq) {
		call_reply(call->owner, st, req, 481, SLICE_NULL);
		return true;
	}
	/* §3: one acknowledged before is no unacknowledged provisional
	 * either (a retransmitted PRACK never gets here: its transaction
	 * absorbs it and sends its 200 again) */
	if (rack.rseq != p->a_unacked) {
		call_reply(call->owner, st, req, 481, SLICE_NULL);
		return true;
	}
	/* §5: the PRACK of the provisional that carried the callee's offer
	 * carries the caller's answer, which duet's PRACK takes to the
	 * callee; any other body would be a new offer, which duet cannot
	 * answer on this leg alone */
	offer_answer = p->b_offer_wait && rack.rseq == p->a_offer;
	if (req->body.len && !offer_answer) {
		LOG_INFO("call %llu: an offer in PRACK: 488",
			 (unsigned long long)call->id);
		call_reply(call->owner, st, req, 488, SLICE_NULL);
		return true;
	}
	call_reply(call->owner, st, req, 200, SLICE_NULL);
	if (offer_answer) {
		p->b_offer_wait = false;
		if (!req->body.len) {
			LOG_INFO("call %llu [%s]: PRACK without the answer to "
				 "the callee's offer: 488",
				 (unsigned long long)call->id, call->route);
			a_stop(p);
			a_drop_waiting(p);
			p->a_unacked = 0;
			fail_setup(call, 488, NULL);
			return true;
		}
		b_send_prack(call, p->b_offer_rseq, p->b_cseq, req);
	}
	a_acked(call, p);
	return true;
}

void prack_relay_rack(const struct call *call, struct sip_writer *w,
		      const struct sip_msg *req)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_RACK);
	struct sip_rack rack;
	char v[48];

	/* the RSeq crossed unchanged with the callee's provisional; the
	 * CSeq is the B leg's INVITE's */
	if (!h || sip_rack_parse(h->value, &rack))
		return;
	snprintf(v, sizeof(v), "%u %u %.*s", (unsigned)rack.rseq,
		 (unsigned)call->b_inv_cseq, (int)rack.method.len,
		 rack.method.p);
	sip_build_header_id(w, SIP_HDR_RACK, slice_cstr(v));
}
