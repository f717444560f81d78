/* SPDX-License-Identifier: MIT */
/*
 * What a call asks its route after the decision: rewritten Request-URI,
 * From and To parts (RFC 3261 §19.1, §20.20, §20.39), header rules
 * (§7.3, §8.1.1), the method map, the reply map (§21), failover codes,
 * limits; and a token bucket for calls per second.
 */
#include "policy_internal.h"

#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"
#include "duet/sip_build.h"

#define SUBJECT_CAP 1024

/* The route's match.ruri.user captures for req; false when none. */
static bool route_caps(const struct policy_route *r, const struct sip_msg *req,
		       char *subject, size_t cap, regmatch_t *caps)
{
	return r->match.has_re[MF_RURI_USER] &&
	       re_match_slice(&r->match.re[MF_RURI_USER], req->ruri.user, caps,
			      POLICY_MAX_CAPS, subject, cap);
}

static struct slice rw_current(const struct sip_msg *req, enum rw_field f)
{
	switch (f) {
	case RW_RURI_USER:
		return req->ruri.user;
	case RW_RURI_HOST:
		return req->ruri.host;
	case RW_FROM_USER:
		return sip_addr_uri_user(&req->from);
	case RW_FROM_HOST:
		return sip_addr_uri_host(&req->from);
	case RW_FROM_DISPLAY:
		return req->from.display;
	case RW_TO_USER:
		return sip_addr_uri_user(&req->to);
	case RW_TO_HOST:
		return sip_addr_uri_host(&req->to);
	case RW_TO_DISPLAY:
		return req->to.display;
	case RW_COUNT:
		break;
	}
	return SLICE_NULL;
}

int policy_rewrite(const struct policy_route *r, const struct sip_msg *req,
		   const struct policy_source *src, struct policy_rewrite *out)
{
	char subject[SUBJECT_CAP], own[SUBJECT_CAP];
	regmatch_t caps[POLICY_MAX_CAPS], mine[POLICY_MAX_CAPS];
	struct policy_rewrite rw = { 0 };
	char **slot[RW_COUNT] = { &rw.ruri_user,    &rw.ruri_host,
				  &rw.from_user,    &rw.from_host,
				  &rw.from_display, &rw.to_user,
				  &rw.to_host,	    &rw.to_display };
	struct tmpl_ctx ctx = { .req = req, .src = src };
	bool have = route_caps(r, req, subject, sizeof(subject), caps);
	int err = 0;

	for (size_t f = 0; f < RW_COUNT && !err; f++) {
		const struct rewrite *w = &r->rw[f];

		if (!w->t)
			continue;
		if (w->has_re) {
			if (!re_match_slice(
				    &w->re, rw_current(req, (enum rw_field)f),
				    mine, POLICY_MAX_CAPS, own, sizeof(own)))
				continue; /* no match: the field stays */
			ctx.subject = own;
			ctx.caps = mine;
		} else {
			ctx.subject = subject;
			ctx.caps = have ? caps : NULL;
		}
		ctx.ncaps = POLICY_MAX_CAPS;
		err = tmpl_expand(w->t, &ctx, slot[f]);
	}
	if (err) {
		policy_rewrite_clear(&rw);
		return err;
	}
	*out = rw;
	return 0;
}

void policy_rewrite_clear(struct policy_rewrite *rw)
{
	duet_free(rw->ruri_user);
	duet_free(rw->ruri_host);
	duet_free(rw->from_user);
	duet_free(rw->from_host);
	duet_free(rw->from_display);
	duet_free(rw->to_user);
	duet_free(rw->to_host);
	duet_free(rw->to_display);
	*rw = (struct policy_rewrite){ 0 };
}

/* ---- headers ------------------------------------------------------------ */

bool policy_header_crosses(const struct policy_route *r, enum sip_hdr_id id,
			   struct slice name)
{
	bool listed = false;

	if (policy_header_managed(id))
		return false;
	if (!r || r->hdr_default) /* the built-in allow-list */
		return id == SIP_HDR_ALLOW || id == SIP_HDR_SUPPORTED ||
		       id == SIP_HDR_REQUIRE || id == SIP_HDR_ACCEPT;
	for (size_t i = 0; i < r->cross_count && !listed; i++)
		listed = hdr_name_is(&r->cross[i], id, name);
	return r->hdr_deny ? !listed : listed;
}

bool policy_header_denied(const struct policy_route *r, enum sip_hdr_id id,
			  struct slice name)
{
	if (!r || r->hdr_default || !r->hdr_deny)
		return false;
	for (size_t i = 0; i < r->cross_count; i++)
		if (hdr_name_is(&r->cross[i], id, name))
			return true;
	return false;
}

bool policy_header_removed(const struct policy_route *r, enum policy_leg leg,
			   bool response, enum sip_hdr_id id, struct slice name)
{
	const struct hdr_edit *e;

	if (!r || leg >= POLICY_LEG_COUNT)
		return false;
	e = &r->edit[leg][response];
	for (size_t i = 0; i < e->remove_count; i++)
		if (hdr_name_is(&e->remove[i], id, name))
			return true;
	return false;
}

int policy_header_adds(const struct policy_route *r, enum policy_leg leg,
		       bool response, const struct sip_msg *req,
		       const struct policy_source *src,
		       struct policy_headers *out)
{
	char subject[SUBJECT_CAP];
	regmatch_t caps[POLICY_MAX_CAPS];
	struct policy_headers h = { 0 };
	const struct hdr_edit *e;
	struct tmpl_ctx ctx = { .req = req, .src = src, .subject = subject };
	int err = 0;

	*out = h;
	if (!r || leg >= POLICY_LEG_COUNT)
		return 0;
	e = &r->edit[leg][response];
	if (!e->add_count)
		return 0;
	if (route_caps(r, req, subject, sizeof(subject), caps)) {
		ctx.caps = caps;
		ctx.ncaps = POLICY_MAX_CAPS;
	}
	h.h = duet_calloc(e->add_count, sizeof(*h.h));
	if (!h.h)
		return ENOMEM;
	for (size_t i = 0; i < e->add_count && !err; i++) {
		struct policy_header *ph = &h.h[h.count];

		ph->name = duet_strndup(e->add[i].name, strlen(e->add[i].name));
		if (!ph->name) {
			err = ENOMEM;
			break;
		}
		h.count++;
		err = tmpl_expand(e->add[i].value, &ctx, &ph->value);
	}
	if (err) {
		policy_headers_clear(&h);
		return err;
	}
	*out = h;
	return 0;
}

int policy_header_write_adds(struct sip_writer *w, const struct policy_route *r,
			     enum policy_leg leg, bool response,
			     const struct sip_msg *req,
			     const struct policy_source *src)
{
	struct policy_headers hs;
	int err = policy_header_adds(r, leg, response, req, src, &hs);

	if (err)
		return err;
	for (size_t i = 0; i < hs.count; i++)
		sip_build_header(w, slice_cstr(hs.h[i].name),
				 slice_cstr(hs.h[i].value));
	policy_headers_clear(&hs);
	return 0;
}

void policy_header_write_server(struct sip_writer *w,
				const struct policy_route *r,
				enum policy_leg leg)
{
	if (!policy_header_removed(r, leg, true, SIP_HDR_SERVER,
				   SLICE_LIT("Server")))
		sip_build_header_id(w, SIP_HDR_SERVER, SLICE_LIT("duet"));
}

void policy_headers_clear(struct policy_headers *h)
{
	for (size_t i = 0; i < h->count; i++) {
		duet_free(h->h[i].name);
		duet_free(h->h[i].value);
	}
	duet_free(h->h);
	*h = (struct policy_headers){ 0 };
}

/* ---- methods ------------------------------------------------------------ */

enum method_row method_row_of(enum sip_method m, bool in_dialog)
{
	switch (m) {
	case SIP_METHOD_INVITE:
		return in_dialog ? MR_REINVITE : MR_INVITE;
	case SIP_METHOD_ACK:
		return MR_ACK;
	case SIP_METHOD_BYE:
		return MR_BYE;
	case SIP_METHOD_CANCEL:
		return MR_CANCEL;
	case SIP_METHOD_UPDATE:
		return MR_UPDATE;
	case SIP_METHOD_INFO:
		return MR_INFO;
	case SIP_METHOD_PRACK:
		return MR_PRACK;
	case SIP_METHOD_OPTIONS:
		return MR_OPTIONS;
	case SIP_METHOD_MESSAGE:
		return MR_MESSAGE;
	case SIP_METHOD_REFER:
		return MR_REFER;
	case SIP_METHOD_NOTIFY:
		return MR_NOTIFY;
	default:
		return MR_COUNT;
	}
}

/* What duet does today (docs/policy.md, "methods"). */
static struct policy_method_rule default_rule(enum method_row row,
					      bool in_dialog)
{
	const struct policy_method_rule relay = { POLICY_METHOD_RELAY, 0,
						  NULL };
	const struct policy_method_rule r501 = { POLICY_METHOD_REJECT, 501,
						 NULL };

	switch (row) {
	case MR_INVITE:
	case MR_REINVITE:
	case MR_ACK:
	case MR_BYE:
	case MR_CANCEL:
	case MR_UPDATE:
	case MR_INFO:
	case MR_MESSAGE:
	case MR_NOTIFY:
		return relay;
	case MR_OPTIONS:
		return in_dialog ? relay
				 : (struct policy_method_rule){
					   POLICY_METHOD_ANSWER, 200, NULL
				   };
	case MR_PRACK: /* RFC 3262 on each leg (legs/call_prack.c) */
		return (struct policy_method_rule){ POLICY_METHOD_PER_LEG, 0,
						    NULL };
	case MR_REFER:
		return (struct policy_method_rule){ POLICY_METHOD_REJECT, 403,
						    NULL };
	default:
		return r501;
	}
}

struct policy_method_rule
policy_method_action(const struct policy *p, const struct policy_route *r,
		     enum policy_leg leg, enum sip_method m, bool in_dialog)
{
	enum method_row row = method_row_of(m, in_dialog);

	(void)p;
	if (r && row < MR_COUNT && leg < POLICY_LEG_COUNT &&
	    r->methods[leg][row].set)
		return r->methods[leg][row].rule;
	return default_rule(row, in_dialog);
}

const char *policy_method_mode_name(enum policy_method_mode m)
{
	switch (m) {
	case POLICY_METHOD_RELAY:
		return "relay";
	case POLICY_METHOD_ANSWER:
		return "answer";
	case POLICY_METHOD_REJECT:
		return "reject";
	case POLICY_METHOD_IMMEDIATE:
		return "immediate";
	case POLICY_METHOD_PER_LEG:
		return "per_leg";
	}
	return "?";
}

/* ---- replies, failover, limits ------------------------------------------ */

uint16_t policy_reply_map(const struct policy_route *r, uint16_t code,
			  const char **reason)
{
	*reason = NULL;
	if (!r)
		return code;
	for (size_t i = 0; i < r->reply_count; i++) {
		const struct reply_rule *rr = &r->replies[i];

		if (code < rr->lo || code > rr->hi)
			continue;
		*reason = rr->reason;
		if (rr->code && rr->code != code && !*reason)
			*reason = ""; /* another code: its own phrase */
		code = rr->code ? rr->code : code;
		break;
	}
	if (r->hide_reasons && !*reason)
		*reason = "";
	return code;
}

static bool code_in(const uint64_t bits[11], uint16_t code)
{
	return code < 704 && (bits[code / 64] >> (code % 64)) & 1;
}

bool policy_failover_on_code(const struct policy_route *r, uint16_t code)
{
	if (!r || code_in(r->stop_codes, code))
		return false;
	return code_in(r->failover_codes, code);
}

bool policy_failover_on_timeout(const struct policy_route *r)
{
	return r && r->failover_timeout;
}

const struct policy_route_limits *
policy_route_limits(const struct policy_route *r)
{
	return &r->limits;
}

/* ---- token bucket ------------------------------------------------------- */

void policy_bucket_init(struct policy_bucket *b, uint32_t rate, uint32_t burst,
			uint64_t now_ms)
{
	if (!burst)
		burst = rate ? rate : 1;
	*b = (struct policy_bucket){ .milli_tokens = (uint64_t)burst * 1000,
				     .last_ms = now_ms,
				     .rate = rate,
				     .burst = burst };
}

bool policy_bucket_take(struct policy_bucket *b, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)b->burst * 1000;

	if (!b->rate)
		return true;
	if (now_ms > b->last_ms) {
		uint64_t add = (now_ms - b->last_ms) * b->rate;

		b->milli_tokens = add >= cap || b->milli_tokens + add > cap
					  ? cap
					  : b->milli_tokens + add;
		b->last_ms = now_ms;
	}
	if (b->milli_tokens < 1000)
		return false;
	b->milli_tokens -= 1000;
	return true;
}

uint32_t policy_bucket_wait_s(const struct policy_bucket *b, uint64_t now_ms)
{
	uint64_t have = b->milli_tokens, ms;

	if (!b->rate)
		return 1;
	if (now_ms > b->last_ms)
		have += (now_ms - b->last_ms) * b->rate;
	if (have >= 1000)
		return 1;
	ms = (1000 - have + b->rate - 1) / b->rate;
	return (uint32_t)((ms + 999) / 1000 ? (ms + 999) / 1000 : 1);
}
