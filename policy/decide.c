/* SPDX-License-Identifier: MIT */
/*
 * Deciding: the first route whose match holds (method, Request-URI, From,
 * To per RFC 3261 §19.1/§20, source CIDR, transport, headers) and its
 * action, with relay targets in the order of the route's strategy.
 */
#include "policy_internal.h"

#include <netinet/in.h>
#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"

#define SUBJECT_CAP 1024

bool hdr_name_is(const struct hdr_name *n, enum sip_hdr_id id,
		 struct slice name)
{
	if (!n->text) /* a config error left it out */
		return false;
	if (n->id != SIP_HDR_OTHER || id != SIP_HDR_OTHER)
		return n->id == id;
	return slice_caseeq(name, slice_cstr(n->text));
}

bool re_match_slice(const regex_t *re, struct slice s, regmatch_t *caps,
		    size_t ncaps, char *subject, size_t cap)
{
	char *tmp = NULL, *text = subject;
	bool ok;

	if (s.len >= cap) {
		if (caps)
			return false; /* captures need the caller's buffer */
		tmp = duet_strndup(s.p, s.len);
		if (!tmp)
			return false;
		text = tmp;
	} else {
		if (s.len)
			memcpy(subject, s.p, s.len);
		subject[s.len] = '\0';
	}
	ok = regexec(re, text, caps ? ncaps : 0, caps, 0) == 0;
	duet_free(tmp);
	return ok;
}

struct slice match_field_text(const struct sip_msg *req, enum match_field f,
			      char *buf, size_t cap)
{
	switch (f) {
	case MF_RURI_USER:
		return req->ruri.user;
	case MF_RURI_HOST:
		return req->ruri.host;
	case MF_RURI_PORT:
		if (req->ruri.scheme != SIP_URI_SIP &&
		    req->ruri.scheme != SIP_URI_SIPS)
			return SLICE_NULL;
		snprintf(buf, cap, "%u",
			 (unsigned)sip_uri_port_or_default(&req->ruri));
		return slice_cstr(buf);
	case MF_FROM_USER:
		return sip_addr_uri_user(&req->from);
	case MF_FROM_HOST:
		return sip_addr_uri_host(&req->from);
	case MF_TO_USER:
		return sip_addr_uri_user(&req->to);
	case MF_TO_HOST:
		return sip_addr_uri_host(&req->to);
	case MF_COUNT:
		break;
	}
	return SLICE_NULL;
}

static bool cidr_match(const struct cidr *c, const struct tp_addr *a)
{
	const uint8_t *ip;
	int fam = a->ss.ss_family;
	unsigned full, rest;

	if (fam == AF_INET) {
		ip = (const uint8_t *)&((const struct sockaddr_in *)&a->ss)
			     ->sin_addr;
	} else if (fam == AF_INET6) {
		ip = ((const struct sockaddr_in6 *)&a->ss)->sin6_addr.s6_addr;
		/* an IPv4-mapped source (::ffff:a.b.c.d) matches IPv4 CIDRs */
		if (c->family == AF_INET &&
		    memcmp(ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			ip += 12;
			fam = AF_INET;
		}
	} else {
		return false;
	}
	if (fam != c->family)
		return false;
	full = c->bits / 8;
	rest = c->bits % 8;
	if (memcmp(ip, c->addr, full) != 0)
		return false;
	return !rest || ((ip[full] ^ c->addr[full]) &
			 (uint8_t)(0xFF << (8 - rest))) == 0;
}

static bool headers_match(const struct route_match *m,
			  const struct sip_msg *req, char *subject, size_t cap)
{
	for (size_t i = 0; i < m->hdr_count; i++) {
		const struct hdr_match *hm = &m->hdrs[i];
		bool present = false, hit = false;

		for (uint16_t k = 0; k < req->hdr_count && !hit; k++) {
			if (!hdr_name_is(&hm->name, req->hdrs[k].id,
					 req->hdrs[k].name))
				continue;
			present = true;
			hit = hm->kind != 2 ||
			      re_match_slice(&hm->re, req->hdrs[k].value, NULL,
					     0, subject, cap);
		}
		if (hm->kind == 0 ? present : !hit)
			return false;
	}
	return true;
}

bool match_route(const struct policy_route *r, const struct sip_msg *req,
		 const struct policy_source *src, char *subject, size_t cap,
		 regmatch_t *caps, size_t ncaps)
{
	const struct route_match *m = &r->match;
	char buf[16],
		scratch[SUBJECT_CAP] = ""; /* cppcheck: an output buffer */

	if (ncaps)
		caps[0].rm_so = -1;
	if (m->any)
		return true;
	if (m->methods || (m->method_other && m->method_other[0])) {
		bool ok = req->method != SIP_METHOD_OTHER &&
			  (m->methods & (1u << req->method));

		for (size_t i = 0; !ok && req->method == SIP_METHOD_OTHER &&
				   m->method_other && m->method_other[i];
		     i++)
			ok = slice_eq_cstr(req->method_text,
					   m->method_other[i]);
		if (!ok)
			return false;
	}
	if (m->transports && (!src || !(m->transports & (1u << src->proto))))
		return false;
	if (m->src_count) {
		bool ok = false;

		for (size_t i = 0; src && i < m->src_count && !ok; i++)
			ok = cidr_match(&m->src[i], &src->remote);
		if (!ok)
			return false;
	}
	for (int f = 0; f < MF_COUNT; f++) {
		struct slice s;
		bool cap_here = f == MF_RURI_USER && caps;

		if (!m->has_re[f])
			continue;
		s = match_field_text(req, (enum match_field)f, buf,
				     sizeof(buf));
		if (!re_match_slice(&m->re[f], s, cap_here ? caps : NULL,
				    cap_here ? ncaps : 0,
				    cap_here ? subject : scratch,
				    cap_here ? cap : sizeof(scratch)))
			return false;
	}
	return headers_match(m, req, scratch, sizeof(scratch));
}

bool policy_route_matches(const struct policy_route *r,
			  const struct sip_msg *req,
			  const struct policy_source *src)
{
	char subject[SUBJECT_CAP];

	return match_route(r, req, src, subject, sizeof(subject), NULL, 0);
}

static uint64_t fnv1a(struct slice s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The hunt order of the route's targets for this request. */
static size_t target_order(const struct policy_route *r,
			   const struct sip_msg *req, size_t *order)
{
	size_t n = r->target_count, k = 0;
	bool seen[POLICY_MAX_TARGETS] = { false };
	uint64_t pos;

	switch (r->strategy) {
	case TS_FAILOVER:
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		return n;
	case TS_ROUND_ROBIN:
		pos = r->state->rr++;
		for (size_t i = 0; i < n; i++)
			order[i] = (size_t)((pos + i) % n);
		return n;
	case TS_WEIGHTED:
		pos = r->state->rr++;
		break;
	case TS_HASH:
		pos = fnv1a(r->hash_from_user ? sip_addr_uri_user(&req->from)
					      : req->call_id);
		break;
	default:
		return 0;
	}
	/* the weighted cycle from pos, each target once, then weight 0 */
	for (size_t j = 0; j < r->wseq_len && k < n; j++) {
		size_t t = r->wseq[(size_t)((pos + j) % r->wseq_len)];

		if (!seen[t]) {
			seen[t] = true;
			order[k++] = t;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!seen[i])
			order[k++] = i;
	return k;
}

int policy_decide(struct policy *p, const struct sip_msg *req,
		  const struct policy_source *src, struct policy_decision *out)
{
	char subject[SUBJECT_CAP];
	regmatch_t caps[POLICY_MAX_CAPS];
	const struct policy_route *r = NULL;
	size_t order[POLICY_MAX_TARGETS], n;
	struct tmpl_ctx ctx;
	int err;

	for (size_t i = 0; i < p->route_count && !r; i++)
		if (match_route(&p->routes[i], req, src, subject,
				sizeof(subject), caps, POLICY_MAX_CAPS))
			r = &p->routes[i];
	out->policy = policy_ref(p);
	out->rule = r;
	if (!r) {
		out->action = POLICY_REJECT;
		out->status = 404;
		return policy_decision_set_route(out, SLICE_LIT("none"));
	}
	err = policy_decision_set_route(out, slice_cstr(r->name));
	if (err)
		return err;
	out->action = r->action;
	out->status = r->status;
	out->retry_after = r->retry_after;
	if (r->action == POLICY_REJECT) {
		if (r->reason &&
		    !(out->reason = duet_strndup(r->reason, strlen(r->reason))))
			return ENOMEM;
		return 0;
	}
	ctx = (struct tmpl_ctx){ .req = req,
				 .src = src,
				 .subject = subject,
				 .caps = r->match.has_re[MF_RURI_USER] ? caps
								       : NULL,
				 .ncaps = POLICY_MAX_CAPS };
	if (r->action == POLICY_REDIRECT) {
		for (size_t i = 0; i < r->target_count; i++)
			order[i] = i;
		n = r->target_count;
	} else {
		n = target_order(r, req, order);
	}
	for (size_t i = 0; i < n; i++) {
		const struct target *t = &r->targets[order[i]];
		struct sip_uri u;
		char *uri = NULL;

		err = tmpl_expand(t->uri, &ctx, &uri);
		if (err == ENOMEM)
			return ENOMEM;
		/* a template that gives no SIP URI for this request: skipped */
		if (!err && !sip_uri_parse(&u, slice_cstr(uri), NULL) &&
		    (u.scheme == SIP_URI_SIP || u.scheme == SIP_URI_SIPS))
			err = policy_decision_add_target(out, slice_cstr(uri),
							 t->weight);
		duet_free(uri);
		if (err == ENOMEM)
			return ENOMEM;
	}
	return 0;
}
