/* SPDX-License-Identifier: MIT */
/*
 * Compiling one route: its name, its match (method, Request-URI, From,
 * To, source CIDRs, transport, headers; RFC 3261 §19.1, §20) and its
 * action (targets with a strategy, reject, or redirect, §21.3).
 */
#include "policy_internal.h"

#include <arpa/inet.h>
#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"

static const char *const route_keys[] = {
	"name",	       "match",	  "targets",  "strategy", "hash_by",
	"failover_on", "reject",  "redirect", "rewrite",  "headers",
	"reply_map",   "methods", "limits",   NULL
};

const char *const *policy_route_keys(void)
{
	return route_keys;
}

/* ---- match ----------------------------------------------------------------
 */

static void match_method_one(struct compiler *c, struct route_match *m,
			     json_t *v, size_t *other)
{
	enum sip_method sm;

	if (!json_is_string(v) || !*json_string_value(v)) {
		cerror(c, "expected a method name");
		return;
	}
	sm = sip_method_from(slice_cstr(json_string_value(v)));
	if (sm != SIP_METHOD_OTHER) {
		m->methods |= 1u << sm;
		return;
	}
	m->method_other[(*other)++] = cstrdup(c, json_string_value(v));
}

static void match_methods(struct compiler *c, struct route_match *m, json_t *v)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 1, other = 0;

	if (json_is_array(v) && n == 0) {
		cerror(c, "expected a method or a non-empty list of methods");
		return;
	}
	m->method_other = duet_calloc(n + 1, sizeof(char *));
	if (!m->method_other) {
		coom(c);
		return;
	}
	if (!json_is_array(v)) {
		match_method_one(c, m, v, &other);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t save = cpush_index(c, i);

		match_method_one(c, m, json_array_get(v, i), &other);
		cpop(c, save);
	}
}

static bool cidr_parse(const char *s, struct cidr *out)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long bits;
	char *end;

	if (n >= sizeof(addr))
		return false;
	memcpy(addr, s, n);
	addr[n] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = AF_INET6;
	else
		return false;
	bits = out->family == AF_INET ? 32 : 128;
	if (slash) {
		if (!slash[1] || slash[1] < '0' || slash[1] > '9')
			return false;
		bits = strtoul(slash + 1, &end, 10);
		if (*end || bits > (out->family == AF_INET ? 32u : 128u))
			return false;
	}
	out->bits = (unsigned)bits;
	return true;
}

static void match_source(struct compiler *c, struct route_match *m, json_t *v)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 1;

	if ((!json_is_array(v) && !json_is_string(v)) || n == 0) {
		cerror(c, "expected a CIDR or a non-empty list of CIDRs");
		return;
	}
	m->src = duet_calloc(n, sizeof(*m->src));
	if (!m->src) {
		coom(c);
		return;
	}
	m->src_count = n;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
		size_t save =
			json_is_array(v) ? cpush_index(c, i) : strlen(c->path);

		if (!json_is_string(e) ||
		    !cidr_parse(json_string_value(e), &m->src[i]))
			cerror(c, "expected an IPv4 or IPv6 address or CIDR "
				  "(\"10.0.0.0/8\", \"2001:db8::/32\")");
		cpop(c, save);
	}
}

static void match_transport(struct compiler *c, struct route_match *m,
			    json_t *v)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 1;

	if ((!json_is_array(v) && !json_is_string(v)) || n == 0) {
		cerror(c, "expected \"udp\", \"tcp\" or a list of them");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
		size_t save =
			json_is_array(v) ? cpush_index(c, i) : strlen(c->path);
		enum sip_proto pr;

		if (!json_is_string(e) ||
		    sip_proto_from(slice_cstr(json_string_value(e)), &pr))
			cerror(c, "expected \"udp\", \"tcp\" or \"tls\"");
		else
			m->transports |= 1u << pr;
		cpop(c, save);
	}
}

static void match_headers(struct compiler *c, struct route_match *m, json_t *v)
{
	const char *name;
	json_t *e;
	size_t i = 0;

	if (!json_is_object(v) || json_object_size(v) == 0) {
		cerror(c, "expected an object of header name: true, false "
			  "or a regular expression");
		return;
	}
	m->hdrs = duet_calloc(json_object_size(v), sizeof(*m->hdrs));
	if (!m->hdrs) {
		coom(c);
		return;
	}
	json_object_foreach(v, name, e)
	{
		struct hdr_match *h = &m->hdrs[i++];
		size_t save = cpush_key(c, name);

		m->hdr_count = i;
		h->name = hdr_name_make(c, name);
		h->kind = -1;
		if (json_is_boolean(e))
			h->kind = json_is_true(e) ? 1 : 0;
		else if (cregex(c, e, &h->re))
			h->kind = 2;
		cpop(c, save);
	}
}

static const char *const field_names[MF_COUNT] = {
	[MF_RURI_USER] = "user", [MF_RURI_HOST] = "host",
	[MF_RURI_PORT] = "port", [MF_FROM_USER] = "user",
	[MF_FROM_HOST] = "host", [MF_TO_USER] = "user",
	[MF_TO_HOST] = "host",
};

/* match.ruri / match.from / match.to: an object of regexes. */
static void match_uri(struct compiler *c, struct route_match *m, json_t *v,
		      enum match_field first, enum match_field last)
{
	static const char *const ruri_keys[] = { "user", "host", "port", NULL };

	if (!json_is_object(v)) {
		cerror(c, "expected an object");
		return;
	}
	cunknown(c, v, ruri_keys);
	for (enum match_field f = first; f <= last; f++) {
		json_t *e = json_object_get(v, field_names[f]);
		size_t save = cpush_key(c, field_names[f]);

		if (e && f == MF_RURI_PORT && json_is_integer(e)) {
			char re[32];
			json_t *s;

			snprintf(re, sizeof(re), "^%lld$",
				 (long long)json_integer_value(e));
			s = json_string(re);
			if (!s)
				coom(c);
			else if (cregex(c, s, &m->re[f]))
				m->has_re[f] = true;
			json_decref(s);
		} else if (e && cregex(c, e, &m->re[f])) {
			m->has_re[f] = true;
		}
		cpop(c, save);
	}
	if (first != MF_RURI_USER && json_object_get(v, "port")) {
		size_t save = cpush_key(c, "port");

		cerror(c, "only match.ruri has a port");
		cpop(c, save);
	}
}

static void compile_match(struct compiler *c, json_t *v, struct route_match *m)
{
	static const char *const keys[] = { "method",  "ruri",	 "from",
					    "to",      "source", "transport",
					    "headers", NULL };
	static const struct {
		const char *key;
		enum match_field first, last;
	} uris[] = { { "ruri", MF_RURI_USER, MF_RURI_PORT },
		     { "from", MF_FROM_USER, MF_FROM_HOST },
		     { "to", MF_TO_USER, MF_TO_HOST } };
	json_t *e;
	size_t save;

	m->any = true;
	if (!v)
		return;
	if (!json_is_object(v)) {
		cerror(c, "expected an object");
		return;
	}
	cunknown(c, v, keys);
	for (const char *const *k = keys; *k; k++)
		if (json_object_get(v, *k))
			m->any = false;
	if ((e = json_object_get(v, "method"))) {
		save = cpush_key(c, "method");
		match_methods(c, m, e);
		cpop(c, save);
	}
	for (size_t i = 0; i < 3; i++) {
		if (!(e = json_object_get(v, uris[i].key)))
			continue;
		save = cpush_key(c, uris[i].key);
		match_uri(c, m, e, uris[i].first, uris[i].last);
		cpop(c, save);
	}
	if ((e = json_object_get(v, "source"))) {
		save = cpush_key(c, "source");
		match_source(c, m, e);
		cpop(c, save);
	}
	if ((e = json_object_get(v, "transport"))) {
		save = cpush_key(c, "transport");
		match_transport(c, m, e);
		cpop(c, save);
	}
	if ((e = json_object_get(v, "headers"))) {
		save = cpush_key(c, "headers");
		match_headers(c, m, e);
		cpop(c, save);
	}
}

/* ---- actions --------------------------------------------------------------
 */

static unsigned ruri_captures(const struct policy_route *r)
{
	return r->match.has_re[MF_RURI_USER]
		       ? (unsigned)r->match.re[MF_RURI_USER].re_nsub
		       : 0;
}

/* The smooth weighted round-robin order of one cycle (nginx's). */
static void weighted_sequence(struct compiler *c, struct policy_route *r)
{
	long cur[POLICY_MAX_TARGETS] = { 0 };
	size_t total = 0;

	for (size_t i = 0; i < r->target_count; i++)
		total += r->targets[i].weight;
	if (total == 0) {
		size_t save = cpush_key(c, "targets");

		cerror(c,
		       "the \"%s\" strategy needs a target with a weight "
		       "above 0",
		       r->strategy == TS_HASH ? "hash" : "weighted");
		cpop(c, save);
		return;
	}
	r->wseq = duet_calloc(total, sizeof(*r->wseq));
	if (!r->wseq) {
		coom(c);
		return;
	}
	r->wseq_len = total;
	for (size_t k = 0; k < total; k++) {
		size_t best = 0;

		for (size_t i = 0; i < r->target_count; i++) {
			cur[i] += r->targets[i].weight;
			if (cur[i] > cur[best])
				best = i;
		}
		cur[best] -= (long)total;
		r->wseq[k] = (uint16_t)best;
	}
}

static void compile_targets(struct compiler *c, json_t *v,
			    struct policy_route *r)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 0;

	if (n == 0 || n > POLICY_MAX_TARGETS) {
		cerror(c, "expected an array of 1..%d targets",
		       POLICY_MAX_TARGETS);
		return;
	}
	r->targets = duet_calloc(n, sizeof(*r->targets));
	if (!r->targets) {
		coom(c);
		return;
	}
	r->target_count = n;
	for (size_t i = 0; i < n; i++) {
		static const char *const keys[] = { "uri", "weight", NULL };
		json_t *t = json_array_get(v, i);
		size_t save = cpush_index(c, i), s2;
		long long w = 1;

		r->targets[i].weight = 1;
		if (json_is_string(t)) {
			r->targets[i].uri = ctmpl(c, t, ruri_captures(r), true);
		} else if (!json_is_object(t)) {
			cerror(c, "expected a URI or an object with \"uri\"");
		} else {
			cunknown(c, t, keys);
			s2 = cpush_key(c, "uri");
			if (!json_object_get(t, "uri"))
				cerror(c, "missing (a SIP URI)");
			else
				r->targets[i].uri =
					ctmpl(c, json_object_get(t, "uri"),
					      ruri_captures(r), true);
			cpop(c, s2);
			s2 = cpush_key(c, "weight");
			if (json_object_get(t, "weight") &&
			    cint(c, json_object_get(t, "weight"), 0, 1000, &w))
				r->targets[i].weight = (uint16_t)w;
			cpop(c, s2);
		}
		cpop(c, save);
	}
}

static void compile_strategy(struct compiler *c, json_t *jr,
			     struct policy_route *r)
{
	static const char *const names[] = { "failover", "round_robin",
					     "weighted", "hash" };
	json_t *v = json_object_get(jr, "strategy");
	size_t save = cpush_key(c, "strategy");
	bool found = false;

	for (size_t i = 0; v && i < 4; i++) {
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), names[i]) == 0) {
			r->strategy = (enum target_strategy)i;
			found = true;
		}
	}
	if (v && !found)
		cerror(c, "expected \"failover\", \"round_robin\", "
			  "\"weighted\" or \"hash\"");
	cpop(c, save);
	save = cpush_key(c, "hash_by");
	v = json_object_get(jr, "hash_by");
	if (v && json_is_string(v) &&
	    strcmp(json_string_value(v), "from.user") == 0)
		r->hash_from_user = true;
	else if (v && (!json_is_string(v) ||
		       strcmp(json_string_value(v), "call_id") != 0))
		cerror(c, "expected \"call_id\" or \"from.user\"");
	else if (v && r->strategy != TS_HASH)
		cwarn(c, "ignored: the strategy is not \"hash\"");
	cpop(c, save);
	if (found && (r->strategy == TS_WEIGHTED || r->strategy == TS_HASH) &&
	    r->targets)
		weighted_sequence(c, r);
}

static void compile_reject(struct compiler *c, json_t *v,
			   struct policy_route *r)
{
	static const char *const keys[] = { "code", "reason", "retry_after",
					    NULL };
	json_t *e;
	long long n;
	size_t save;

	r->action = POLICY_REJECT;
	r->status = 403;
	if (json_is_integer(v)) {
		if (cint(c, v, 400, 699, &n))
			r->status = (uint16_t)n;
		return;
	}
	if (!json_is_object(v)) {
		cerror(c, "expected a code (400..699) or an object with "
			  "\"code\"");
		return;
	}
	cunknown(c, v, keys);
	save = cpush_key(c, "code");
	if (!(e = json_object_get(v, "code")))
		cerror(c, "missing (a final code 400..699)");
	else if (cint(c, e, 400, 699, &n))
		r->status = (uint16_t)n;
	cpop(c, save);
	save = cpush_key(c, "reason");
	if ((e = json_object_get(v, "reason"))) {
		const char *s = json_is_string(e) ? json_string_value(e) : NULL;

		if (!s || !*s || strpbrk(s, "\r\n"))
			cerror(c, "expected a reason phrase on one line");
		else
			r->reason = cstrdup(c, s);
	}
	cpop(c, save);
	save = cpush_key(c, "retry_after");
	if ((e = json_object_get(v, "retry_after")) && cint(c, e, 0, 86400, &n))
		r->retry_after = (uint32_t)n;
	cpop(c, save);
}

static void compile_redirect(struct compiler *c, json_t *v,
			     struct policy_route *r)
{
	static const char *const keys[] = { "code", "contacts", NULL };
	json_t *e;
	long long n;
	size_t save;

	r->action = POLICY_REDIRECT;
	r->status = 302;
	if (!json_is_object(v)) {
		cerror(c, "expected an object with \"contacts\"");
		return;
	}
	cunknown(c, v, keys);
	save = cpush_key(c, "code");
	if ((e = json_object_get(v, "code")) && cint(c, e, 300, 302, &n))
		r->status = (uint16_t)n;
	cpop(c, save);
	save = cpush_key(c, "contacts");
	e = json_object_get(v, "contacts");
	if (!e)
		cerror(c, "missing (a list of SIP URIs)");
	else
		compile_targets(c, e, r);
	cpop(c, save);
}

void compile_route(struct compiler *c, json_t *jr, struct policy_route *r)
{
	static const char *const acts[] = { "targets", "reject", "redirect" };
	json_t *v;
	size_t save, nacts = 0;
	char def[32];

	/* defaults: relay to targets in order, failover on 408, 480, 5xx
	 * and timeouts, never on 486 or 6xx (§21.6) */
	r->failover_timeout = true;
	r->failover_codes[408 / 64] |= 1ull << (408 % 64);
	r->failover_codes[480 / 64] |= 1ull << (480 % 64);
	for (unsigned k = 500; k < 600; k++)
		r->failover_codes[k / 64] |= 1ull << (k % 64);
	r->stop_codes[486 / 64] |= 1ull << (486 % 64);
	for (unsigned k = 600; k < 700; k++)
		r->stop_codes[k / 64] |= 1ull << (k % 64);
	r->hdr_default = true;
	r->limits.retry_after = 1;

	snprintf(def, sizeof(def), "routes[%zu]", r->index);
	if (!json_is_object(jr)) {
		cerror(c, "expected an object");
		r->name = cstrdup(c, def);
		r->match.any = false;
		return;
	}
	cunknown(c, jr, route_keys);
	save = cpush_key(c, "name");
	v = json_object_get(jr, "name");
	if (v && (!json_is_string(v) || !*json_string_value(v) ||
		  strlen(json_string_value(v)) > 63 ||
		  strpbrk(json_string_value(v), "\r\n"))) {
		cerror(c, "expected a name of 1..63 characters");
		v = NULL;
	}
	r->name = cstrdup(c, v ? json_string_value(v) : def);
	cpop(c, save);

	save = cpush_key(c, "match");
	compile_match(c, json_object_get(jr, "match"), &r->match);
	cpop(c, save);

	for (size_t i = 0; i < 3; i++)
		nacts += json_object_get(jr, acts[i]) != NULL;
	if (nacts != 1)
		cerror(c, "a route needs exactly one of \"targets\", "
			  "\"reject\" and \"redirect\"");
	if ((v = json_object_get(jr, "targets"))) {
		r->action = POLICY_RELAY;
		save = cpush_key(c, "targets");
		compile_targets(c, v, r);
		cpop(c, save);
		compile_strategy(c, jr, r);
	} else if ((v = json_object_get(jr, "reject"))) {
		save = cpush_key(c, "reject");
		compile_reject(c, v, r);
		cpop(c, save);
	} else if ((v = json_object_get(jr, "redirect"))) {
		save = cpush_key(c, "redirect");
		compile_redirect(c, v, r);
		cpop(c, save);
	}
	if (r->action != POLICY_RELAY) {
		static const char *const relay_only[] = { "strategy", "hash_by",
							  "failover_on" };

		for (size_t i = 0; i < 3; i++)
			if (json_object_get(jr, relay_only[i]))
				cwarn_key(c, relay_only[i],
					  "ignored: the route has no "
					  "\"targets\"");
	}
	compile_failover(c, json_object_get(jr, "failover_on"), r);
	compile_rewrite(c, json_object_get(jr, "rewrite"), r);
	compile_headers(c, json_object_get(jr, "headers"), r);
	compile_reply_map(c, json_object_get(jr, "reply_map"), r);
	compile_methods(c, json_object_get(jr, "methods"), r);
	compile_route_limits(c, json_object_get(jr, "limits"), r);
}

static void free_names(struct hdr_name *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		duet_free(v[i].text);
	duet_free(v);
}

void route_free(struct policy_route *r)
{
	struct route_match *m = &r->match;

	duet_free(r->name);
	if (m->method_other)
		for (size_t i = 0; m->method_other[i]; i++)
			duet_free(m->method_other[i]);
	duet_free(m->method_other);
	for (size_t f = 0; f < MF_COUNT; f++)
		if (m->has_re[f])
			regfree(&m->re[f]);
	duet_free(m->src);
	for (size_t i = 0; i < m->hdr_count; i++) {
		duet_free(m->hdrs[i].name.text);
		if (m->hdrs[i].kind == 2)
			regfree(&m->hdrs[i].re);
	}
	duet_free(m->hdrs);
	for (size_t i = 0; i < r->target_count; i++)
		tmpl_free(r->targets[i].uri);
	duet_free(r->targets);
	duet_free(r->wseq);
	duet_free(r->reason);
	for (size_t i = 0; i < RW_COUNT; i++) {
		tmpl_free(r->rw[i].t);
		if (r->rw[i].has_re)
			regfree(&r->rw[i].re);
	}
	free_names(r->cross, r->cross_count);
	for (size_t l = 0; l < POLICY_LEG_COUNT; l++) {
		for (size_t k = 0; k < 2; k++) {
			struct hdr_edit *e = &r->edit[l][k];

			free_names(e->remove, e->remove_count);
			for (size_t i = 0; i < e->add_count; i++) {
				duet_free(e->add[i].name);
				tmpl_free(e->add[i].value);
			}
			duet_free(e->add);
		}
	}
	for (size_t l = 0; l < POLICY_LEG_COUNT; l++)
		for (size_t i = 0; i < MR_COUNT; i++)
			duet_free((void *)r->methods[l][i].rule.reason);
	for (size_t i = 0; i < r->reply_count; i++)
		duet_free(r->replies[i].reason);
	duet_free(r->replies);
}
