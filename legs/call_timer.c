/* SPDX-License-Identifier: MIT */
/*
 * Session timers (RFC 4028), negotiated on each leg alone: duet is the UAS
 * of the A leg's INVITE and the UAC of the B leg's, and a refresh on one
 * leg never crosses to the other. Per leg: the interval, who refreshes,
 * one wheel timer (duet's refresh at half the interval, §10; the end of
 * the session min(32, SE/3) s before it expires, §10), and the session
 * description duet last sent there, which duet offers again unchanged in
 * its own refresh and answers a peer's refresh with (RFC 3264 §8: the
 * same session keeps its o= version). A peer's re-INVITE or UPDATE that
 * only refreshes (the SDP that peer last sent, or an UPDATE without
 * body), and any re-INVITE when the route's method map says "answer",
 * is answered here and does not cross.
 */
#include "call_internal.h"

#include <stdio.h>
#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"
#include "duet/log.h"

#define EXPIRED_REASON "SIP;cause=408;text=\"Session expired\""
#define BUSY_RETRY_MS 1000u /* the leg has an offer pending: try again */
#define FAIL_RETRY_MS 2000u /* duet's refresh failed: try again */
#define FAIL_RETRIES 3

static const char *side_name(enum leg_side s)
{
	return s == LEG_A ? "A" : "B";
}

/* §10: the side that does not refresh ends the session min(32, SE/3) s
 * before it expires; duet as refresher gives up at the same time. */
static uint64_t deadline(const struct leg_timer *t)
{
	uint32_t margin = t->se / 3 < 32 ? t->se / 3 : 32;

	return t->expires_at - (uint64_t)margin * 1000u;
}

static void arm(struct call *call, struct leg_timer *t, uint64_t at)
{
	struct wheel *w = call->owner->env.wheel;
	uint64_t now = wheel_now(w);

	wheel_timer_start(w, &t->timer, at > now ? at - now : 0);
}

/* The leg's session was (re)negotiated or refreshed now (§10). */
static void start(struct call *call, enum leg_side side)
{
	struct leg_timer *t = &call->leg[side].st;
	uint64_t now = wheel_now(call->owner->env.wheel);

	if (!t->se) {
		wheel_timer_cancel(&t->timer);
		return;
	}
	t->expires_at = now + (uint64_t)t->se * 1000u;
	t->fails = 0;
	arm(call, t, t->refresher ? now + (uint64_t)t->se * 500u : deadline(t));
	LOG_DEBUG("call %llu: %s leg session timer %us, refresher %s",
		  (unsigned long long)call->id, side_name(side),
		  (unsigned)t->se, t->refresher ? "duet" : "peer");
}

static void on_leg_timer(struct wheel_timer *wt, void *arg);

void call_timer_init(struct call *call)
{
	for (unsigned s = 0; s < 2; s++)
		wheel_timer_init(&call->leg[s].st.timer, on_leg_timer,
				 &call->leg[s]);
}

static void sdp_free(struct leg_timer *t)
{
	if (t->sdp)
		duet_pool_free(t->sdp, strlen(t->sdp) + 1 + t->sdp_len);
	t->sdp = NULL;
	t->sdp_len = 0;
}

void call_timer_free(struct call *call)
{
	for (unsigned s = 0; s < 2; s++) {
		wheel_timer_cancel(&call->leg[s].st.timer);
		sdp_free(&call->leg[s].st);
	}
}

uint16_t call_timer_check_invite(const struct calls *c,
				 const struct sip_msg *req, uint32_t *min_se)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_SESSION_EXPIRES);
	enum sip_refresher r;
	uint32_t se;

	/* §9: an interval below duet's minimum is refused with 422 and
	 * duet's Min-SE; a malformed value counts as none */
	if (h && !sip_session_expires_parse(h->value, &se, &r) &&
	    se < c->cfg.min_se) {
		*min_se = c->cfg.min_se;
		return 422;
	}
	return 0;
}

void call_timer_sent(struct call *call, enum leg_side side,
		     const struct sip_msg *m)
{
	struct leg_timer *t = &call->leg[side].st;
	const struct sip_hdr *h;
	struct slice ct;
	char *p;

	if (!m || !m->body.len)
		return;
	h = sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE);
	ct = h ? slice_trim(h->value) : SLICE_LIT("application/sdp");
	/* the usual type is kept as "" (16 bytes less per leg held) */
	if (slice_caseeq_cstr(ct, "application/sdp"))
		ct = SLICE_LIT("");
	if (t->sdp && t->sdp_len == m->body.len && slice_eq_cstr(ct, t->sdp) &&
	    !memcmp(t->sdp + strlen(t->sdp) + 1, m->body.p, m->body.len))
		return;
	/* from the pool, like the rest of a held call: a heap block living
	 * as long as the call would pin a page of freed setup memory */
	p = duet_pool_alloc(ct.len + 1 + m->body.len);
	if (!p)
		return; /* a refresh then crosses as any re-INVITE */
	memcpy(p, ct.p, ct.len);
	p[ct.len] = '\0';
	memcpy(p + ct.len + 1, m->body.p, m->body.len);
	sdp_free(t);
	t->sdp = p;
	t->sdp_len = m->body.len;
}

static struct slice sdp_ct(const struct leg_timer *t)
{
	if (!t->sdp)
		return SLICE_NULL;
	return t->sdp[0] ? slice_cstr(t->sdp) : SLICE_LIT("application/sdp");
}

static struct slice sdp_body(const struct leg_timer *t)
{
	return t->sdp ? slice_make(t->sdp + strlen(t->sdp) + 1, t->sdp_len)
		      : SLICE_NULL;
}

/* refresher: NULL (none), "uac" or "uas" (RFC 4028 §4) */
static void put_se(struct sip_writer *w, uint32_t se, const char *refresher)
{
	struct slice tail = SLICE_NULL;

	if (refresher)
		tail = strcmp(refresher, "uac") == 0
			       ? SLICE_LIT(";refresher=uac")
			       : SLICE_LIT(";refresher=uas");
	sip_build_header_u32(w, SIP_HDR_SESSION_EXPIRES, se, tail);
}

static void put_min_se(struct sip_writer *w, uint32_t min_se)
{
	sip_build_header_u32(w, SIP_HDR_MIN_SE, min_se, SLICE_NULL);
}

/* The Min-SE duet sends on B: its own, or what a 422 taught it (§7.3). */
static uint32_t b_min_se(const struct call *call)
{
	uint32_t m = call->leg[LEG_B].st.min_se;

	return m ? m : call->owner->cfg.min_se;
}

/* The interval duet asks for on B: its own, not below that Min-SE. */
static uint32_t b_interval(const struct call *call)
{
	uint32_t se = call->owner->cfg.session_expires;
	uint32_t m = b_min_se(call);

	return se && se < m ? m : se;
}

bool call_timer_b_on(const struct call *call)
{
	return b_interval(call) != 0;
}

void call_timer_b_invite_headers(struct call *call, struct sip_writer *w)
{
	uint32_t se = b_interval(call);

	if (!se)
		return;
	/* §7.1: no refresher parameter: the callee chooses (§9); the
	 * "timer" tag goes in duet's one Supported (call_build.c) */
	put_se(w, se, NULL);
	put_min_se(w, b_min_se(call));
}

/*
 * §7.3: a 422 names the callee's minimum; duet sends the INVITE again
 * with that interval, once: the same Call-ID, tags and Request-URI, the
 * next CSeq, a new branch (a new transaction of the same attempt).
 */
bool call_timer_b_422(struct call *call, const struct sip_msg *resp)
{
	struct calls *c = call->owner;
	struct leg_timer *t = &call->leg[LEG_B].st;
	const struct sip_msg *prev = call->b_invite;
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_MIN_SE);
	char via[160];
	struct sip_msg *m = NULL;
	struct sip_writer w;
	uint32_t min;
	int err;

	if (!prev || t->retried_422 || !h || sip_min_se_parse(h->value, &min) ||
	    min <= b_min_se(call) || min > 86400 || !c->cfg.session_expires ||
	    call->state > CALL_EARLY || call->cancel_pending ||
	    call->cancel_sent)
		return false;
	if (call_local_parts(c, &call->b_dest, via, sizeof(via), NULL, 0))
		return false;
	t->retried_422 = true;
	t->min_se = min;
	sip_writer_init(&w, 1024 + prev->body.len);
	sip_build_request_line(&w, SLICE_LIT("INVITE"), prev->ruri.raw);
	for (uint16_t i = 0; i < prev->hdr_count; i++) {
		const struct sip_hdr *x = &prev->hdrs[i];

		switch (x->id) {
		case SIP_HDR_VIA:
			sip_build_header_id(&w, SIP_HDR_VIA, slice_cstr(via));
			break;
		case SIP_HDR_CSEQ:
			sip_build_header_u32(&w, SIP_HDR_CSEQ, prev->cseq + 1,
					     SLICE_LIT(" INVITE"));
			break;
		case SIP_HDR_SESSION_EXPIRES:
			put_se(&w, b_interval(call), NULL);
			break;
		case SIP_HDR_MIN_SE:
			put_min_se(&w, min);
			break;
		case SIP_HDR_CONTENT_LENGTH:
		case SIP_HDR_CONTENT_TYPE:
			break; /* finish writes them */
		default:
			if (x->id != SIP_HDR_OTHER)
				sip_build_header_id(&w, (enum sip_hdr_id)x->id,
						    x->value);
			else
				sip_build_header(&w, x->name, x->value);
		}
	}
	err = call_finish_parse(&w, prev, &m);
	if (!err) {
		call_release_tx(&call->ref[TXP_B_INVITE]); /* it ACKs the 422 */
		err = sip_tx_client_new(&call->ref[TXP_B_INVITE].tx, c->env.txl,
					m, &call->b_dest,
					&call->ref[TXP_B_INVITE]);
	}
	if (err) {
		LOG_WARN("call %llu [%s]: INVITE not sent again after 422: %s",
			 (unsigned long long)call->id, call->route,
			 duet_strerror(err));
		sip_msg_unref(m);
		return false;
	}
	LOG_INFO("call %llu [%s]: 422 from the callee: INVITE again with "
		 "Session-Expires %u",
		 (unsigned long long)call->id, call->route,
		 (unsigned)b_interval(call));
	sip_msg_unref(call->b_invite);
	call->b_invite = m;
	call->b_inv_cseq = m->cseq;
	/* an early dialog of the first INVITE is over with its 422 */
	dialog_free(call->leg[LEG_B].dlg);
	call->leg[LEG_B].dlg = NULL;
	call->b_provisional = false;
	return true;
}

/*
 * §9: duet answers req (an INVITE, re-INVITE or UPDATE from the peer of
 * leg side) with a 2xx: the peer's interval (422 refused a short one), or
 * duet's own when it asked for none; the peer's refresher choice, else
 * the peer when it supports timer (duet may choose the UAC), else duet.
 */
static void uas_negotiate(struct call *call, enum leg_side side,
			  const struct sip_msg *req)
{
	const struct calls_config *cfg = &call->owner->cfg;
	struct leg_timer *t = &call->leg[side].st;
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_SESSION_EXPIRES);
	const struct sip_hdr *m = sip_msg_hdr(req, SIP_HDR_MIN_SE);
	enum sip_refresher r = SIP_REFRESHER_NONE;
	uint32_t se = 0, min = 0;

	t->peer_timer = sip_msg_has_option(req, SIP_HDR_SUPPORTED, "timer");
	if (!h || sip_session_expires_parse(h->value, &se, &r)) {
		se = cfg->session_expires;
		r = SIP_REFRESHER_NONE;
		if (se && m && !sip_min_se_parse(m->value, &min) && min > se)
			se = min;
	}
	if (se && se < cfg->min_se)
		se = cfg->min_se;
	t->se = se;
	if (r == SIP_REFRESHER_NONE)
		r = t->peer_timer ? SIP_REFRESHER_UAC : SIP_REFRESHER_UAS;
	t->refresher = r == SIP_REFRESHER_UAS;
}

void call_timer_uas_2xx(struct call *call, enum leg_side side,
			const struct sip_msg *req, struct sip_writer *w)
{
	struct leg_timer *t = &call->leg[side].st;

	if (!req)
		return;
	uas_negotiate(call, side, req);
	if (t->se) {
		put_se(w, t->se, t->refresher ? "uas" : "uac");
		/* §9: Require only toward a peer that supports timer */
		if (t->peer_timer)
			sip_build_header_id(w, SIP_HDR_REQUIRE,
					    SLICE_LIT("timer"));
	}
	start(call, side);
}

void call_timer_uac_headers(struct call *call, enum leg_side side,
			    struct sip_writer *w)
{
	struct leg_timer *t = &call->leg[side].st;

	if (!t->se)
		return;
	/* §7.4: the interval in force, the refresher kept as it is: the UAC
	 * of this request is duet */
	put_se(w, t->se, t->refresher ? "uac" : "uas");
	if (side == LEG_B)
		put_min_se(w, b_min_se(call));
	sip_build_header_id(w, SIP_HDR_SUPPORTED, SLICE_LIT("timer"));
}

/*
 * §7.2: a 2xx to duet's request on leg side. Its Session-Expires decides
 * (refresher=uac: duet); without one the peer runs no timer and duet,
 * if it asked for one, refreshes alone with the interval it asked for.
 */
void call_timer_uac_2xx(struct call *call, enum leg_side side,
			const struct sip_msg *resp)
{
	struct leg_timer *t = &call->leg[side].st;
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_SESSION_EXPIRES);
	enum sip_refresher r;
	uint32_t se;

	if (h && !sip_session_expires_parse(h->value, &se, &r) && se) {
		t->se = se;
		t->refresher = r != SIP_REFRESHER_UAS;
		t->peer_timer = true;
	} else {
		if (!t->se && side == LEG_B)
			t->se = b_interval(call);
		t->refresher = true;
	}
	start(call, side);
}

void call_timer_own_failed(struct call *call, enum leg_side side)
{
	struct leg_timer *t = &call->leg[side].st;
	uint64_t now = wheel_now(call->owner->env.wheel);

	/* try again a little later while the session lasts (a 491 crossed
	 * the peer's offer, §14.1, whose refresh counts as well) */
	if (t->se && ++t->fails <= FAIL_RETRIES &&
	    now + FAIL_RETRY_MS < deadline(t))
		arm(call, t, now + FAIL_RETRY_MS);
	else if (t->se)
		arm(call, t, deadline(t));
}

static bool own_pending(const struct call *call, enum leg_side side)
{
	for (const struct relay *r = call->relays; r; r = r->next)
		if (r->kind == RELAY_OWN && r->from == LEG_OTHER(side) &&
		    r->state == RELAY_SENT)
			return true;
	return false;
}

/* duet's refresh on leg side: a re-INVITE offering the session duet last
 * offered or answered there, unchanged (§7.4, RFC 3264 §8). */
static int send_refresh(struct call *call, enum leg_side side)
{
	struct calls *c = call->owner;
	struct leg *leg = &call->leg[side];
	struct leg_timer *t = &leg->st;
	char via[160], contact[96];
	struct sip_msg *m = NULL;
	struct sip_writer w;
	struct tp_dest dest;
	struct relay *r;
	const char *why = NULL;
	int err = call_dialog_dest(leg->dlg, leg->proto, &dest);

	if (!err)
		err = call_local_parts(c, &dest, via, sizeof(via), contact,
				       sizeof(contact));
	if (err)
		return err;
	sip_writer_init(&w, 1024 + t->sdp_len);
	dialog_build_request(
		leg->dlg, &w,
		&(struct dialog_req){ .method = SLICE_LIT("INVITE"),
				      .via = slice_cstr(via),
				      .contact = slice_cstr(contact) },
		NULL);
	call_timer_uac_headers(call, side, &w);
	err = sip_build_finish(&w, sdp_ct(t), sdp_body(t));
	if (!err)
		err = sip_msg_parse(&m, w.buf, w.len, SIP_FRAMING_DGRAM, NULL,
				    &why);
	sip_writer_free(&w);
	if (err)
		return err;
	r = mid_relay_new(call, LEG_OTHER(side), SIP_METHOD_INVITE, true);
	if (!r) {
		sip_msg_unref(m);
		return ENOMEM;
	}
	r->kind = RELAY_OWN;
	r->cli_cseq = m->cseq;
	leg->oa_out = r;
	err = sip_tx_client_new(&r->cli.tx, c->env.txl, m, &dest, &r->cli);
	sip_msg_unref(m);
	if (err) {
		leg->oa_out = NULL;
		mid_relay_free(r);
	}
	return err;
}

/* The session of leg side was not refreshed in time (§10): BYE on both
 * legs with a Reason (RFC 3326). */
static void expire(struct call *call, enum leg_side side)
{
	LOG_INFO("call %llu [%s]: %s leg session expired: ending the call",
		 (unsigned long long)call->id, call->route, side_name(side));
	if (!call->end_reason)
		call->end_reason =
			duet_strndup(EXPIRED_REASON, strlen(EXPIRED_REASON));
	call_event(call, CEV_DIALOG_GONE, NULL);
	call_settle(call);
}

static void on_leg_timer(struct wheel_timer *wt, void *arg)
{
	struct leg *leg = arg;
	struct call *call = leg->call;
	struct leg_timer *t = &leg->st;
	uint64_t now = wheel_now(call->owner->env.wheel);
	int err;

	(void)wt;
	if (!t->se || leg->ended || call->state == CALL_TERMINATING ||
	    call->state == CALL_TERMINATED)
		return;
	if (now >= deadline(t)) {
		expire(call, leg->side);
		return;
	}
	if (!t->refresher || own_pending(call, leg->side)) {
		arm(call, t, deadline(t));
		return;
	}
	/* not while an offer is pending on the leg or setup is unfinished:
	 * its 2xx (a refresh too) restarts the timer */
	if (call->state != CALL_READY || !leg->dlg || leg->oa_in ||
	    leg->oa_out || leg->x2xx || !t->sdp ||
	    (leg->side == LEG_B && !call->b_acked)) {
		arm(call, t,
		    now + BUSY_RETRY_MS < deadline(t) ? now + BUSY_RETRY_MS
						      : deadline(t));
		return;
	}
	err = send_refresh(call, leg->side);
	LOG_INFO("call %llu [%s]: session refresh on the %s leg%s%s",
		 (unsigned long long)call->id, call->route,
		 side_name(leg->side), err ? ": " : "",
		 err ? duet_strerror(err) : "");
	if (err)
		call_timer_own_failed(call, leg->side);
	else
		arm(call, t, deadline(t));
}

/* Does req carry the session description its peer (on from) last sent,
 * i.e. what duet last relayed to the other leg? */
static bool same_session(const struct call *call, enum leg_side from,
			 const struct sip_msg *req)
{
	const struct leg_timer *o = &call->leg[LEG_OTHER(from)].st;
	struct slice b = sdp_body(o);

	return o->sdp && req->body.len == b.len &&
	       !memcmp(req->body.p, b.p, b.len);
}

/* duet's own 2xx to a peer's refresh (or "answer" mode) on its leg. */
static void answer_here(struct call *call, enum leg_side from,
			struct sip_tx *st, struct sip_msg *req, uint16_t code)
{
	struct leg *f = &call->leg[from];
	struct leg_timer *t = &f->st;
	bool inv = req->method == SIP_METHOD_INVITE;
	bool body = inv || req->body.len;
	char via[160], contact[96];
	struct relay *r = NULL;
	struct sip_writer w;
	struct tp_dest dest;
	int err;

	if (inv) { /* the ACK matches it and stops the 2xx (§13.3.1.4) */
		r = mid_relay_new(call, from, req->method, true);
		if (!r) {
			call_reply(call->owner, st, req, 500, SLICE_NULL);
			return;
		}
		r->kind = RELAY_LOCAL;
		r->srv_cseq = req->cseq;
		r->srv.tx = st;
		sip_tx_set_arg(st, &r->srv);
		f->oa_in = r;
	}
	sip_writer_init(&w, 1024 + t->sdp_len);
	sip_build_response_head_stamped(&w, req, code, SLICE_NULL, SLICE_NULL,
					sip_tx_via_stamp(st));
	if (!call_dialog_dest(f->dlg, f->proto, &dest) &&
	    !call_local_parts(call->owner, &dest, via, sizeof(via), contact,
			      sizeof(contact)))
		sip_build_header_id(&w, SIP_HDR_CONTACT, slice_cstr(contact));
	call_timer_uas_2xx(call, from, req, &w);
	sip_build_header_id(&w, SIP_HDR_SUPPORTED, SLICE_LIT("timer"));
	policy_header_write_server(&w, call_rule(call), policy_leg_of(from));
	err = sip_build_finish(&w, body ? sdp_ct(t) : SLICE_NULL,
			       body ? sdp_body(t) : SLICE_NULL);
	if (!err)
		err = sip_tx_reply(st, code, w.buf, w.len);
	LOG_INFO("call %llu [%s]: %.*s from %s answered %u here%s%s",
		 (unsigned long long)call->id, call->route,
		 (int)req->method_text.len, req->method_text.p, side_name(from),
		 (unsigned)code, err ? ": " : "",
		 err ? duet_strerror(err) : "");
	if (r) {
		r->final = code;
		r->state = RELAY_WAIT_ACK;
		if (!err) {
			size_t len = 0;
			char *buf = sip_writer_steal(&w, &len);

			if (buf)
				call_2xx_start(call, from, code, buf, len,
					       &r->srv, r);
		}
	}
	sip_writer_free(&w);
}

bool call_timer_mid_request(struct call *call, enum leg_side from,
			    struct sip_tx *st, struct sip_msg *req)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_SESSION_EXPIRES);
	struct policy_method_rule mr;
	enum sip_refresher r;
	uint32_t se;
	bool answer, refresh;

	if (req->method != SIP_METHOD_INVITE &&
	    req->method != SIP_METHOD_UPDATE)
		return false;
	/* §9: too short an interval in a refresh too */
	if (h && !sip_session_expires_parse(h->value, &se, &r) &&
	    se < call->owner->cfg.min_se) {
		char v[16];

		snprintf(v, sizeof(v), "%u", (unsigned)call->owner->cfg.min_se);
		call_reply_hdr(call->owner, st, req, 422, SIP_HDR_MIN_SE,
			       slice_cstr(v));
		return true;
	}
	if (call->state != CALL_READY)
		return false;
	mr = policy_method_action(call_policy(call), call_rule(call),
				  policy_leg_of(from), req->method, true);
	answer = req->method == SIP_METHOD_INVITE &&
		 mr.mode == POLICY_METHOD_ANSWER;
	refresh = req->body.len ? same_session(call, from, req)
				: req->method == SIP_METHOD_UPDATE;
	if (!answer && !refresh)
		return false;
	/* nothing to answer a re-INVITE with: it crosses after all */
	if (req->method == SIP_METHOD_INVITE && !call->leg[from].st.sdp)
		return false;
	answer_here(call, from, st, req, answer ? mr.code : 200);
	return true;
}
