/* SPDX-License-Identifier: MIT */
/* Start line and eagerly parsed headers (RFC 3261 §7.1, §7.2, §20, §25). */
#include <stddef.h>

#include "duet/alloc.h"
#include "duet/err.h"
#include "sip_internal.h"
#include "sip_msg_internal.h"

/* A cursor over one header value. Once a field is unfolded, CR and LF can
 * only be folding, so they count as LWS (§7.3.1). */
struct cur {
	const char *p, *end;
	const char *rend; /* readable up to here (>= end), see SIP_MSG_PAD */
	const char *why;
};

/* sip_msg_hdr() and sip_msg_hdr_next() for known ids, inlined. */
static inline const struct sip_hdr *hdr_first(const struct sip_msg *msg,
					      enum sip_hdr_id id)
{
	unsigned i = msg->first[id];

	return i == SIP_HDR_NONE ? NULL : &msg->hdrs[i];
}

static inline const struct sip_hdr *hdr_next(const struct sip_msg *msg,
					     const struct sip_hdr *h)
{
	return h->next == SIP_HDR_NONE ? NULL : &msg->hdrs[h->next];
}

static inline bool at_end(const struct cur *c)
{
	return c->p >= c->end;
}

static inline unsigned char peek(const struct cur *c)
{
	return at_end(c) ? 0 : (unsigned char)*c->p;
}

static inline bool skip_lws(struct cur *c)
{
	const char *s = c->p;

	while (c->p < c->end && sip_is((unsigned char)*c->p, SIP_C_WS))
		c->p++;
	return c->p != s;
}

static int fail(struct cur *c, const char *why)
{
	c->why = why;
	return EBADMSG;
}

static inline struct slice take_class(struct cur *c, unsigned cls)
{
	const char *s = c->p;

	if (cls == SIP_C_TOKEN) /* 16 at a time */
		c->p = sip_span_token(c->p, c->end, c->rend, cls);
	else
		while (c->p < c->end && sip_is((unsigned char)*c->p, cls))
			c->p++;
	return slice_make(s, (size_t)(c->p - s));
}

/* The run of class cls from p, not beyond end. */
static inline const char *span(const char *p, const char *end, unsigned cls)
{
	while (p < end && sip_is((unsigned char)*p, cls))
		p++;
	return p;
}

/* SWS ch SWS, e.g. SLASH, COLON, SEMI, EQUAL (§25). */
static bool sep(struct cur *c, char ch)
{
	const char *s = c->p;

	skip_lws(c);
	if (peek(c) != (unsigned char)ch) {
		c->p = s;
		return false;
	}
	c->p++;
	skip_lws(c);
	return true;
}

/* quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE; returns the
 * text between the quotes (quoted-pairs kept). */
static int quoted(struct cur *c, struct slice *out)
{
	const char *s;

	if (peek(c) != '"')
		return fail(c, "expected quoted string");
	s = ++c->p;
	while (c->p < c->end && *c->p != '"') {
		if (*c->p == '\\' && c->p + 1 < c->end)
			c->p++;
		c->p++;
	}
	if (at_end(c))
		return fail(c, "unbalanced quotes");
	*out = slice_make(s, (size_t)(c->p - s));
	c->p++;
	return 0;
}

struct param {
	struct slice name;
	struct slice value; /* NULL slice for a flag; quoted text unquoted */
};

/*
 * generic-param = token [ EQUAL gen-value ]; gen-value = token / host /
 * quoted-string. Call at a SEMI; returns 0 with *pm, ENOENT when no SEMI
 * follows, EBADMSG.
 */
static int param_next_full(struct cur *c, struct param *pm);

static inline int param_next(struct cur *c, struct param *pm)
{
	const char *p = c->p, *end = c->end;

	/* the common form first: no LWS, no quoted value */
	if (p < end && *p == ';') {
		const char *nm = p + 1, *v;
		const char *e = sip_span_token(nm, end, c->rend, SIP_C_TOKEN);

		if (e > nm &&
		    (e == end || !sip_is((unsigned char)*e, SIP_C_WS))) {
			pm->name = slice_make(nm, (size_t)(e - nm));
			pm->value = SLICE_NULL;
			if (e == end || *e != '=') {
				c->p = e;
				return 0;
			}
			v = e + 1;
			e = sip_span_token(v, end, c->rend,
					   SIP_C_TOKEN | SIP_C_HOST);
			if (e > v) {
				pm->value = slice_make(v, (size_t)(e - v));
				c->p = e;
				return 0;
			}
		}
	}
	return param_next_full(c, pm);
}

/* param_next() with LWS and quoted values. */
static __attribute__((noinline)) int param_next_full(struct cur *c,
						     struct param *pm)
{
	if (!sep(c, ';'))
		return ENOENT;
	pm->name = take_class(c, SIP_C_TOKEN);
	if (pm->name.len == 0)
		return fail(c, "bad parameter");
	pm->value = SLICE_NULL;
	if (!sep(c, '='))
		return 0;
	if (peek(c) == '"')
		return quoted(c, &pm->value);
	pm->value = take_class(c, SIP_C_TOKEN | SIP_C_HOST);
	if (pm->value.len == 0)
		return fail(c, "bad parameter value");
	return 0;
}

/* After the last parameter only LWS may remain. */
static int expect_end(struct cur *c)
{
	skip_lws(c);
	return at_end(c) ? 0 : fail(c, "unexpected text after value");
}

/* After one element of a list: LWS, then the end or a COMMA (§7.3.1). */
static int expect_elem_end(struct cur *c)
{
	skip_lws(c);
	return at_end(c) || peek(c) == ','
		       ? 0
		       : fail(c, "unexpected text after value");
}

static int port_parse(struct slice s, uint16_t *port)
{
	uint32_t v;

	if (sip_dec_u32(s, 65535, &v) || v == 0)
		return EBADMSG;
	*port = (uint16_t)v;
	return 0;
}

/* Is v an IPv4 or IPv6 address, bare or bracketed (RFC 5118 §4.5)? The
 * common IPv4 one in one look (sip_host_fast). */
static bool received_ok(struct slice v, const char *rend)
{
	enum sip_host_kind kind;
	const char *e = sip_host_fast(v.p, v.p + v.len, rend, &kind);

	if (e == v.p + v.len && kind == SIP_HOST_IPV4)
		return true;
	return sip_host_parse(v, false, &kind) == 0 && kind != SIP_HOST_NAME;
}

static int via_param(struct sip_via *via, const struct param *pm,
		     const char *rend)
{
	enum sip_host_kind kind;
	uint32_t v;

	if (SIP_TOKEN_IS(pm->name, "branch")) {
		if (!pm->value.p || !pm->value.len)
			return EBADMSG;
		via->branch = pm->value;
	} else if (SIP_TOKEN_IS(pm->name, "received")) {
		/* IPv4 or IPv6, bare or bracketed (RFC 5118 §4.5) */
		if (!pm->value.p || !received_ok(pm->value, rend))
			return EBADMSG;
		via->received = pm->value;
	} else if (SIP_TOKEN_IS(pm->name, "rport")) {
		/* RFC 3581 §3: "rport" or "rport=" 1*DIGIT */
		via->has_rport = true;
		if (pm->value.p && port_parse(pm->value, &via->rport))
			return EBADMSG;
	} else if (SIP_TOKEN_IS(pm->name, "maddr")) {
		if (!pm->value.p || sip_host_parse(pm->value, true, &kind))
			return EBADMSG;
		via->maddr = pm->value;
	} else if (SIP_TOKEN_IS(pm->name, "ttl")) {
		if (!pm->value.p || sip_dec_u32(pm->value, 255, &v))
			return EBADMSG;
		via->ttl = pm->value;
	}
	return 0;
}

/* protocol-name SLASH protocol-version SLASH, as "SIP/2.0/" (the name
 * case-insensitive) and without LWS: 8 bytes at p. */
static inline bool sip20_slash(const char *p)
{
	static const char lit[8] = { 's', 'i', 'p', '/', '2', '.', '0', '/' };
	static const char fold[8] = { 0x20, 0x20, 0x20 };
	uint64_t w, k, f;

	memcpy(&w, p, 8);
	memcpy(&k, lit, 8);
	memcpy(&f, fold, 8);
	return (w | f) == k;
}

/*
 * The common via-parm in one pass (§20.42, §25):
 *   "SIP/2.0/" transport LWS host [ ":" port ] *( ";" via-param )
 * host a hostname or IPv4address (sip_host_fast), no LWS but after the
 * transport and at the end, no quoted values. Fills *out and moves the
 * cursor past the element; false for anything else (the full grammar in
 * via_parse_at then decides; *out is partly written).
 */
static bool via_fast(struct cur *cp, struct sip_via *out)
{
	const char *s = cp->p, *end = cp->end, *q, *e;
	uint32_t port = 0;
	struct param pm;

	if (end - s < 8 || !sip20_slash(s))
		return false;
	q = s + 8;
	e = span(q, end, SIP_C_TOKEN); /* "UDP", "TCP", "TLS": short */
	if (e == q || e == end || !sip_is((unsigned char)*e, SIP_C_WS))
		return false;
	out->transport = slice_make(q, (size_t)(e - q));
	q = span(e, end, SIP_C_WS);
	e = sip_host_fast(q, end, cp->rend, &out->host_kind);
	if (!e)
		return false;
	out->host = slice_make(q, (size_t)(e - q));
	if (e < end && *e == ':') { /* port = 1*5DIGIT, 1..65535 */
		e++;
		if (!(port = sip_port_fast(&e, end)))
			return false;
	}
	out->port = (uint16_t)port;
	out->branch = out->received = out->maddr = out->ttl = SLICE_NULL;
	out->has_rport = false;
	out->rport = 0;
	q = e;
	while (e < end && *e == ';') { /* via-params as generic-params */
		const char *nm = ++e, *v;

		e = sip_span_token(e, end, cp->rend, SIP_C_TOKEN);
		if (e == nm)
			return false;
		pm.name = slice_make(nm, (size_t)(e - nm));
		pm.value = SLICE_NULL;
		if (e < end && *e == '=') {
			v = ++e;
			e = sip_span_token(e, end, cp->rend,
					   SIP_C_TOKEN | SIP_C_HOST);
			if (e == v)
				return false;
			pm.value = slice_make(v, (size_t)(e - v));
		}
		/* branch and rport first, as via_param() takes them */
		if (pm.name.len == 6 && sip_token_caseeq(nm, "branch", 6)) {
			if (!pm.value.p)
				return false;
			out->branch = pm.value;
		} else if (pm.name.len == 5 &&
			   sip_token_caseeq(nm, "rport", 5)) {
			out->has_rport = true;
			if (pm.value.p && port_parse(pm.value, &out->rport))
				return false;
		} else if (pm.name.len == 8 &&
			   sip_token_caseeq(nm, "received", 8)) {
			if (!pm.value.p || !received_ok(pm.value, cp->rend))
				return false;
			out->received = pm.value;
		} else if (via_param(out, &pm, cp->rend)) {
			return false;
		}
	}
	out->params = slice_make(q, (size_t)(e - q));
	out->raw = slice_make(s, (size_t)(e - s));
	e = span(e, end, SIP_C_WS);
	if (e < end && *e != ',')
		return false;
	cp->p = e;
	return true;
}

/*
 * via-parm = sent-protocol LWS sent-by *( SEMI via-params )
 * sent-protocol = protocol-name SLASH protocol-version SLASH transport
 * sent-by = host [ COLON port ]                       (§20.42, §25)
 * The full grammar, for what via_fast() leaves; *out is set on success.
 */
static __attribute__((noinline)) int
via_parse_full(struct cur *cp, struct sip_via *out, const char **why)
{
	struct cur c = *cp;
	struct sip_via via = { 0 };
	struct slice name, version, port;
	struct param pm;
	const char *ps;
	int err;

	skip_lws(&c);
	name = take_class(&c, SIP_C_TOKEN);
	if (!SIP_TOKEN_IS(name, "SIP") || !sep(&c, '/'))
		return *why = "bad Via protocol", EBADMSG;
	version = take_class(&c, SIP_C_TOKEN);
	if (!(version.len == 3 && memcmp(version.p, "2.0", 3) == 0) ||
	    !sep(&c, '/'))
		return *why = "bad Via version", EBADMSG;
	via.transport = take_class(&c, SIP_C_TOKEN);
	if (via.transport.len == 0 || !skip_lws(&c))
		return *why = "bad Via transport", EBADMSG;
	if (peek(&c) == '[') {
		const char *rb = memchr(c.p, ']', (size_t)(c.end - c.p));

		if (!rb)
			return *why = "bad Via host", EBADMSG;
		via.host = slice_make(c.p, (size_t)(rb + 1 - c.p));
		c.p = rb + 1;
	} else {
		const char *s = c.p;

		while (c.p < c.end && sip_is((unsigned char)*c.p, SIP_C_HOST) &&
		       *c.p != ':')
			c.p++;
		via.host = slice_make(s, (size_t)(c.p - s));
	}
	if (sip_host_parse(via.host, true, &via.host_kind))
		return *why = "bad Via host", EBADMSG;
	if (sep(&c, ':')) {
		port = take_class(&c, SIP_C_DIGIT);
		if (port_parse(port, &via.port))
			return *why = "bad Via port", EBADMSG;
	}
	ps = c.p;
	while ((err = param_next(&c, &pm)) == 0) {
		if (via_param(&via, &pm, c.rend))
			return *why = "bad Via parameter", EBADMSG;
	}
	via.params = sip_trim(ps, c.p);
	if (err != ENOENT || expect_elem_end(&c))
		return *why = "bad Via parameter", EBADMSG;
	via.raw = sip_trim(cp->p, c.p);
	*out = via;
	cp->p = c.p;
	return 0;
}

/* One via-parm at the cursor; *out is written in place (garbage on error). */
static inline int via_parse_at(struct cur *cp, struct sip_via *out,
			       const char **why)
{
	if (via_fast(cp, out))
		return 0;
	return via_parse_full(cp, out, why);
}

int sip_via_parse(struct sip_via *out, struct slice value, const char **why)
{
	struct cur c = { value.p, value.p + value.len, value.p + value.len,
			 NULL };
	struct sip_via via;
	const char *dummy;

	if (!why)
		why = &dummy;
	if (via_parse_at(&c, &via, why))
		return EBADMSG;
	if (!at_end(&c))
		return *why = "bad Via", EBADMSG;
	*out = via;
	return 0;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (§25) */
static int qvalue_parse(struct slice v, uint16_t *q)
{
	unsigned val, scale = 100;

	if (v.len == 0 || v.len > 5 || (v.p[0] != '0' && v.p[0] != '1'))
		return EBADMSG;
	val = (unsigned)(v.p[0] - '0') * 1000;
	if (v.len > 1) {
		if (v.p[1] != '.')
			return EBADMSG;
		for (size_t i = 2; i < v.len; i++, scale /= 10) {
			if (v.p[i] < '0' || v.p[i] > '9')
				return EBADMSG;
			val += (unsigned)(v.p[i] - '0') * scale;
		}
	}
	if (val > 1000)
		return EBADMSG;
	*q = (uint16_t)val;
	return 0;
}

/* ADDR_FROM_TO: a From or To, whose URI in <> may be left pending
 * (sip_addr_uri) */
enum addr_kind { ADDR_PLAIN, ADDR_FROM_TO, ADDR_CONTACT, ADDR_ROUTE };

static int addr_params(struct sip_addr *a, struct cur *c, enum addr_kind kind)
{
	const char *ps = c->p;
	struct param pm;
	int err;

	for (;;) {
		/* the end of the element: no parameter (as param_next says) */
		if (c->p == c->end || *c->p == ',') {
			err = ENOENT;
			break;
		}
		if ((err = param_next(c, &pm)))
			break;
		if (SIP_TOKEN_IS(pm.name, "tag")) {
			if (!pm.value.len)
				return fail(c, "bad tag");
			a->tag = pm.value;
		} else if (kind == ADDR_CONTACT &&
			   SIP_TOKEN_IS(pm.name, "expires")) {
			if (sip_dec_u32(pm.value, UINT32_MAX, &a->expires))
				return fail(c, "bad Contact expires");
			a->has_expires = true;
		} else if (kind == ADDR_CONTACT && SIP_TOKEN_IS(pm.name, "q")) {
			if (qvalue_parse(pm.value, &a->q))
				return fail(c, "bad Contact q");
			a->has_q = true;
		}
	}
	if (err != ENOENT)
		return EBADMSG;
	a->params = sip_trim(ps, c->p);
	return expect_elem_end(c);
}

static int addr_parse_full(struct cur *cp, struct sip_addr *out,
			   enum addr_kind kind, const char **why);

/* A URI in <> left for later: its text only (sip_addr_uri). */
static inline void uri_pend(struct sip_uri *u, bool *pending, const char *s,
			    const char *e)
{
	memset(u, 0, sizeof(*u));
	u->scheme = SIP_URI_OTHER; /* as text: never taken for a sip: one */
	u->raw = slice_make(s, (size_t)(e - s));
	*pending = true;
}

/* addr_fast() leaves this element to the full grammar. */
#define ADDR_FULL (-1)

/*
 * The common name-addr in one pass (§20.10, §20.20, §25):
 *   [ *(token LWS) ] LAQUOT URI RAQUOT *( SEMI token [ EQUAL token ] )
 * with no LWS in the parameters and no quotes. Returns 0, the URI's error
 * (the full grammar would find the same URI text), or ADDR_FULL for
 * anything else; *a is partly written then.
 */
static inline int addr_fast(struct cur *cp, struct sip_addr *a,
			    enum addr_kind kind, const char **why)
{
	const char *s = cp->p, *end = cp->end, *p = s, *gt, *ps;

	if (p == end)
		return ADDR_FULL;
	a->display = SLICE_NULL;
	a->display_quoted = a->star = a->uri_pending = false;
	a->tag = SLICE_NULL;
	a->has_expires = a->has_q = false;
	a->expires = 0;
	a->q = 0;
	if (*p != '<') { /* display-name = *(token LWS) */
		if (!sip_is((unsigned char)*p, SIP_C_TOKEN))
			return ADDR_FULL;
		while (p < end &&
		       sip_is((unsigned char)*p, SIP_C_TOKEN | SIP_C_WS))
			p++;
		if (p == end || *p != '<') {
			/* an addr-spec (a Contact without <>): the URI
			 * ends at the header parameters (§20.10) */
			if (kind == ADDR_ROUTE)
				return ADDR_FULL;
			for (p = s;
			     p < end && *p != ';' && *p != '?' && *p != ',' &&
			     !sip_is((unsigned char)*p, SIP_C_WS);
			     p++)
				;
			if ((p < end && *p == '?') ||
			    !sip_uri_fast(&a->uri, s, (size_t)(p - s),
					  cp->rend))
				return ADDR_FULL;
			a->bracketed = false;
			ps = p;
			goto params;
		}
		a->display = sip_trim(s, p);
	}
	gt = sip_find_byte(p + 1, end, cp->rend, '>');
	if (!gt)
		return ADDR_FULL;
	a->bracketed = true;
	if (kind == ADDR_FROM_TO)
		uri_pend(&a->uri, &a->uri_pending, p + 1, gt);
	else if (!sip_uri_fast(&a->uri, p + 1, (size_t)(gt - p - 1),
			       cp->rend) &&
		 sip_uri_parse_full(
			 &a->uri, slice_make(p + 1, (size_t)(gt - p - 1)), why))
		return EBADMSG;
	ps = p = gt + 1;
params:
	while (p < end && *p == ';') {
		const char *nm = p + 1, *ne, *v;
		struct slice val = SLICE_NULL;

		ne = p = span(nm, end, SIP_C_TOKEN); /* "tag": short */
		if (p == nm)
			return ADDR_FULL;
		if (p < end && *p == '=') {
			v = ++p;
			p = sip_span_token(p, end, cp->rend,
					   SIP_C_TOKEN | SIP_C_HOST);
			if (p == v)
				return ADDR_FULL;
			val = slice_make(v, (size_t)(p - v));
		}
		if (ne - nm == 3 && sip_token_caseeq(nm, "tag", 3)) {
			if (!val.len)
				return ADDR_FULL;
			a->tag = val;
		} else if (kind == ADDR_CONTACT) {
			return ADDR_FULL; /* expires, q and the rest */
		}
	}
	a->params = slice_make(ps, (size_t)(p - ps));
	a->raw = slice_make(s, (size_t)(p - s));
	while (p < end && sip_is((unsigned char)*p, SIP_C_WS))
		p++;
	if (p < end && *p != ',')
		return ADDR_FULL;
	cp->p = p;
	return 0;
}

/* One name-addr or addr-spec with its parameters at the cursor; *out is
 * written in place (garbage on error). */
static int addr_parse_at(struct cur *cp, struct sip_addr *out,
			 enum addr_kind kind, const char **why)
{
	int err = addr_fast(cp, out, kind, why);

	if (err != ADDR_FULL)
		return err;
	return addr_parse_full(cp, out, kind, why);
}

/*
 * (name-addr / addr-spec) *( SEMI generic-param ) (§20.10, §20.20, §25)
 * name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 * display-name = *(token LWS) / quoted-string
 * The full grammar, for what addr_fast() leaves.
 */
static int addr_parse_full(struct cur *cp, struct sip_addr *out,
			   enum addr_kind kind, const char **why)
{
	struct cur c = *cp;
	struct sip_addr *a = out; /* filled in place: callers discard it on
				     error (sip_addr_parse uses a copy) */
	struct slice uri;
	const char *s;

	a->display = SLICE_NULL;
	a->display_quoted = a->bracketed = a->star = a->uri_pending = false;
	a->params = a->tag = SLICE_NULL;
	a->has_expires = a->has_q = false;
	a->expires = 0;
	a->q = 0;
	skip_lws(&c);
	if (peek(&c) == '"') {
		if (quoted(&c, &a->display))
			return *why = "bad display name", EBADMSG;
		a->display_quoted = true;
		skip_lws(&c);
		if (peek(&c) != '<')
			return *why = "quoted display name without <URI>",
			       EBADMSG;
	} else if (peek(&c) != '<') {
		s = c.p;
		while (c.p < c.end &&
		       sip_is((unsigned char)*c.p, SIP_C_TOKEN | SIP_C_WS))
			c.p++;
		if (peek(&c) == '<') {
			struct slice d = sip_trim(s, c.p);

			if (d.len)
				a->display = d;
		} else {
			c.p = s;
		}
	}
	if (peek(&c) == '<') {
		const char *gt = sip_find_byte(c.p, c.end, c.rend, '>');

		if (!gt)
			return *why = "missing >", EBADMSG;
		uri = slice_make(c.p + 1, (size_t)(gt - c.p - 1));
		c.p = gt + 1;
		a->bracketed = true;
	} else {
		if (kind == ADDR_ROUTE)
			return *why = "route without <URI>", EBADMSG;
		/* addr-spec: header parameters follow the URI, and a URI
		 * with ',', ';' or '?' of its own needs <> (§20.10) */
		s = c.p;
		while (c.p < c.end && *c.p != ';' && *c.p != '?' &&
		       *c.p != ',' && !sip_is((unsigned char)*c.p, SIP_C_WS))
			c.p++;
		uri = slice_make(s, (size_t)(c.p - s));
	}
	if (kind == ADDR_FROM_TO && a->bracketed)
		uri_pend(&a->uri, &a->uri_pending, uri.p, uri.p + uri.len);
	else if (sip_uri_parse_in(&a->uri, uri, c.rend, why))
		return EBADMSG;
	if (addr_params(a, &c, kind))
		return *why = c.why ? c.why : "bad header parameter", EBADMSG;
	a->raw = sip_trim(cp->p, c.p);
	cp->p = c.p;
	return 0;
}

/* A value holding exactly one element (From, To, on-demand parses). */
static int addr_parse(struct sip_addr *out, struct slice value,
		      const char *rend, enum addr_kind kind, const char **why)
{
	struct cur c = { value.p, value.p + value.len, rend, NULL };

	if (addr_parse_at(&c, out, kind, why))
		return EBADMSG;
	return at_end(&c) ? 0 : (*why = "unexpected text after value", EBADMSG);
}

int sip_addr_parse(struct sip_addr *addr, struct slice value, const char **why)
{
	struct sip_addr tmp;
	const char *dummy;

	if (addr_parse(&tmp, value, value.p + value.len, ADDR_PLAIN,
		       why ? why : &dummy))
		return EBADMSG;
	*addr = tmp;
	return 0;
}

/* callid = word [ "@" word ] (§25), byte by byte */
static int call_id_scalar(struct slice v)
{
	bool at = false;

	if (v.len == 0)
		return EBADMSG;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char ch = (unsigned char)v.p[i];

		if (ch == '@' && !at && i > 0 && i + 1 < v.len)
			at = true;
		else if (!sip_is(ch, SIP_C_WORD))
			return EBADMSG;
	}
	return 0;
}

/*
 * callid = word [ "@" word ] (§25). word is the visible ASCII but
 * # $ & , ; = @ ^ |, so 16 bytes at a time: every byte a word byte but at
 * most one '@', neither first nor last. Bytes up to rend may be read.
 */
static int call_id_check(struct slice v, const char *rend)
{
#if defined(__SSE2__)
	/* the visible bytes that are not word bytes: # $ & (0x23 to 0x26
	 * but '%'), ',' ';' '=' '^' '|' */
	const __m128i c23 = _mm_set1_epi8(0x23), c3 = _mm_set1_epi8(3);
	const __m128i pct = _mm_set1_epi8('%'), comma = _mm_set1_epi8(',');
	const __m128i semi = _mm_set1_epi8(';'), eq = _mm_set1_epi8('=');
	const __m128i caret = _mm_set1_epi8('^'), bar = _mm_set1_epi8('|');
	const char *p = v.p, *end = v.p + v.len;
	unsigned ats = 0, at_pos = 0;

	if (v.len == 0 || rend - end < 16)
		return call_id_scalar(v);
	for (; p < end; p += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i t = _mm_sub_epi8(x, c23);
		__m128i bad =
			_mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x21)),
				     _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
		unsigned keep = 0xffffu, m, a;

		bad = _mm_or_si128(
			bad, _mm_andnot_si128(
				     _mm_cmpeq_epi8(x, pct),
				     _mm_cmpeq_epi8(_mm_min_epu8(t, c3), t)));
		bad = _mm_or_si128(
			bad,
			_mm_or_si128(
				_mm_or_si128(_mm_cmpeq_epi8(x, comma),
					     _mm_cmpeq_epi8(x, semi)),
				_mm_or_si128(
					_mm_cmpeq_epi8(x, eq),
					_mm_or_si128(_mm_cmpeq_epi8(x, caret),
						     _mm_cmpeq_epi8(x, bar)))));
		if (end - p < 16) /* the last block: the bytes before end */
			keep = (1u << (end - p)) - 1;
		m = (unsigned)_mm_movemask_epi8(bad) & keep;
		a = (unsigned)_mm_movemask_epi8(
			    _mm_cmpeq_epi8(x, _mm_set1_epi8('@'))) &
		    keep;
		if (m)
			return EBADMSG;
		if (a) {
			at_pos = (unsigned)(p - v.p) +
				 (unsigned)__builtin_ctz(a);
			ats += (a & (a - 1)) ? 2 : 1;
		}
	}
	if (ats > 1 || (ats && (at_pos == 0 || at_pos + 1 == v.len)))
		return EBADMSG;
	return 0;
#else
	(void)rend;
	return call_id_scalar(v);
#endif
}

/* RFC 3261 §8.1.1.5: a CSeq number is less than 2**31 */
#define CSEQ_NUM_MAX 0x7fffffffu
/* RFC 3262 §3: the first RSeq is below 2**31, later ones count up by
 * one to at most 2**32 - 1 */
#define RSEQ_NUM_MAX 0xffffffffu

/* num LWS: a number at the cursor, at most max, and the LWS after it */
static int num_lws(struct cur *c, uint32_t max, uint32_t *num)
{
	if (sip_dec_u32(take_class(c, SIP_C_DIGIT), max, num))
		return EBADMSG;
	if (c->p < c->end && *c->p == ' ' && c->p + 1 < c->end &&
	    !sip_is((unsigned char)c->p[1], SIP_C_WS)) {
		c->p++; /* the usual single SP */
		return 0;
	}
	return skip_lws(c) ? 0 : EBADMSG;
}

/* 1*DIGIT LWS Method to the end of the value: CSeq's grammar (§20.16),
 * and RAck's after its response-num (RFC 3262 §7.2) */
static int cseq_at(struct cur *c, uint32_t *num, struct slice *method)
{
	if (num_lws(c, CSEQ_NUM_MAX, num))
		return EBADMSG;
	*method = take_class(c, SIP_C_TOKEN);
	if (method->len == 0 || expect_end(c))
		return EBADMSG;
	return 0;
}

static int cseq_parse(struct sip_msg *msg, struct slice v)
{
	struct cur c = { v.p, v.p + v.len, sip_msg_rend(msg), NULL };

	if (cseq_at(&c, &msg->cseq, &msg->cseq_method_text))
		return EBADMSG;
	msg->cseq_method = sip_method_from(msg->cseq_method_text);
	return 0;
}

int sip_rseq_parse(struct slice v, uint32_t *out)
{
	struct slice t = slice_trim(v);
	uint32_t n;

	if (sip_dec_u32(t, RSEQ_NUM_MAX, &n) || n == 0)
		return EBADMSG;
	*out = n;
	return 0;
}

int sip_rack_parse(struct slice v, struct sip_rack *out)
{
	struct slice t = slice_trim(v);
	struct cur c = { t.p, t.p + t.len, t.p + t.len, NULL };
	struct sip_rack r;

	if (num_lws(&c, RSEQ_NUM_MAX, &r.rseq) || r.rseq == 0 ||
	    cseq_at(&c, &r.cseq, &r.method))
		return EBADMSG;
	*out = r;
	return 0;
}

/* Content-Type = m-type SLASH m-subtype *(SEMI m-parameter) (§20.15) */
static int content_type_parse(struct sip_msg *msg, struct slice v)
{
	struct cur c = { v.p, v.p + v.len, sip_msg_rend(msg), NULL };
	struct slice type, sub;
	struct param pm;
	const char *ps;
	int err;

	type = take_class(&c, SIP_C_TOKEN);
	if (!type.len)
		return EBADMSG;
	if (c.p + 1 < c.end && *c.p == '/' &&
	    !sip_is((unsigned char)c.p[1], SIP_C_WS))
		c.p++; /* SLASH without LWS, as sep() takes it */
	else if (!sep(&c, '/'))
		return EBADMSG;
	sub = take_class(&c, SIP_C_TOKEN);
	if (!sub.len)
		return EBADMSG;
	msg->content_type =
		slice_make(type.p, (size_t)(sub.p + sub.len - type.p));
	ps = c.p;
	for (;;) {
		if (c.p == c.end) { /* no parameter, as param_next says */
			err = ENOENT;
			break;
		}
		if ((err = param_next(&c, &pm)))
			break;
		if (!pm.value.p)
			return EBADMSG;
	}
	if (err != ENOENT || expect_end(&c))
		return EBADMSG;
	msg->content_type_params = sip_trim(ps, c.p);
	return 0;
}

/*
 * Walk the elements of every field with this id: element *(COMMA
 * element), no empty elements (§7.3.1). `one` parses the element at the
 * cursor into slot i and leaves the cursor after it.
 */
typedef int elem_fn(struct sip_msg *msg, struct cur *c, unsigned i,
		    const char **why);

static inline __attribute__((always_inline)) int
list_walk(struct sip_msg *msg, enum sip_hdr_id id, elem_fn *one, uint16_t *n,
	  const char **why)
{
	for (const struct sip_hdr *h = hdr_first(msg, id); h;
	     h = hdr_next(msg, h)) {
		struct cur c = { h->value.p, h->value.p + h->value.len,
				 sip_msg_rend(msg), NULL };

		/* (a field's value has no LWS around it: trimmed) */
		for (;;) {
			if (at_end(&c) || peek(&c) == ',')
				return *why = "empty list element", EBADMSG;
			if (one(msg, &c, *n, why))
				return EBADMSG;
			(*n)++;
			if (at_end(&c))
				break;
			c.p++; /* the COMMA */
			skip_lws(&c);
		}
	}
	return 0;
}

static int via_elem(struct sip_msg *msg, struct cur *c, unsigned i,
		    const char **why)
{
	return via_parse_at(c, &msg->vias[i], why);
}

static int contact_elem(struct sip_msg *msg, struct cur *c, unsigned i,
			const char **why)
{
	if (peek(c) == '*')
		return *why = "Contact * with other contacts", EBADMSG;
	return addr_parse_at(c, &msg->contacts[i], ADDR_CONTACT, why);
}

static int route_elem(struct sip_msg *msg, struct cur *c, unsigned i,
		      const char **why)
{
	return addr_parse_at(c, &msg->routes[i], ADDR_ROUTE, why);
}

static int rr_elem(struct sip_msg *msg, struct cur *c, unsigned i,
		   const char **why)
{
	return addr_parse_at(c, &msg->record_routes[i], ADDR_ROUTE, why);
}

/* Count the values a list field may hold: one more than its commas. */
static unsigned list_bound(const struct sip_msg *msg, enum sip_hdr_id id)
{
	const char *rend = sip_msg_rend(msg);
	unsigned n = 0;

	for (const struct sip_hdr *h = hdr_first(msg, id); h;
	     h = hdr_next(msg, h))
		n += 1 +
		     sip_commas(h->value.p, h->value.p + h->value.len, rend);
	return n;
}

/* Point the list arrays into the values area p. */
static void values_place(struct sip_msg *msg, char *p, const unsigned *lists)
{
	msg->contacts = (struct sip_addr *)(void *)p;
	msg->routes = msg->contacts + lists[SIP_LIST_CONTACT];
	msg->record_routes = msg->routes + lists[SIP_LIST_ROUTE];
	msg->vias = (struct sip_via *)(void *)(msg->record_routes +
					       lists[SIP_LIST_RECORD_ROUTE]);
}

/* One allocation for the parsed values of the list headers, unless the
 * message block has room for them. */
static int values_alloc(struct sip_msg *msg, const struct sip_values_room *room)
{
	unsigned lists[SIP_LISTS];
	char *p;

	if (room) {
		values_place(msg, room->area, room->lists);
		return 0;
	}
	lists[SIP_LIST_VIA] = list_bound(msg, SIP_HDR_VIA);
	lists[SIP_LIST_CONTACT] = list_bound(msg, SIP_HDR_CONTACT);
	lists[SIP_LIST_ROUTE] = list_bound(msg, SIP_HDR_ROUTE);
	lists[SIP_LIST_RECORD_ROUTE] = list_bound(msg, SIP_HDR_RECORD_ROUTE);
	if (sip_values_bytes(lists) == 0)
		return 0;
	p = duet_malloc(sip_values_bytes(lists));
	if (!p)
		return ENOMEM;
	msg->values = p;
	values_place(msg, p, lists);
	return 0;
}

static int single_addr(struct sip_msg *msg, enum sip_hdr_id id,
		       struct sip_addr *a, const char **why)
{
	const struct sip_hdr *h = hdr_first(msg, id);

	if (!h)
		return *why = id == SIP_HDR_FROM ? "missing From"
						 : "missing To",
		       EBADMSG;
	return addr_parse(a, h->value, sip_msg_rend(msg), ADDR_FROM_TO, why);
}

/* A pending From or To URI parsed in place (as the grammar would have,
 * with its error). */
static int pending_uri(const struct sip_msg *msg, struct sip_addr *a,
		       const char **why)
{
	if (!a->uri_pending)
		return 0;
	if (sip_uri_parse_in(&a->uri, a->uri.raw, sip_msg_rend(msg), why))
		return EBADMSG;
	a->uri_pending = false;
	return 0;
}

const struct sip_uri *sip_addr_uri(const struct sip_addr *a,
				   struct sip_uri *scratch)
{
	if (!a->uri_pending)
		return &a->uri;
	return sip_uri_parse(scratch, a->uri.raw, NULL) ? NULL : scratch;
}

struct slice sip_addr_uri_user(const struct sip_addr *a)
{
	struct sip_uri tmp;
	const struct sip_uri *u = sip_addr_uri(a, &tmp);

	return u ? u->user : SLICE_NULL;
}

struct slice sip_addr_uri_host(const struct sip_addr *a)
{
	struct sip_uri tmp;
	const struct sip_uri *u = sip_addr_uri(a, &tmp);

	return u ? u->host : SLICE_NULL;
}

static int contacts_parse(struct sip_msg *msg, const char **why)
{
	const struct sip_hdr *h = hdr_first(msg, SIP_HDR_CONTACT);

	/* Contact: * stands alone (§10.2.2, §20.10) */
	if (h && h->value.len == 1 && h->value.p[0] == '*') {
		if (h->next != SIP_HDR_NONE)
			return *why = "Contact * with other contacts", EBADMSG;
		msg->contacts[0] =
			(struct sip_addr){ .raw = h->value, .star = true };
		msg->contact_count = 1;
		return 0;
	}
	return list_walk(msg, SIP_HDR_CONTACT, contact_elem,
			 &msg->contact_count, why);
}

static int scalars_parse(struct sip_msg *msg, const char **why)
{
	const struct sip_hdr *h;
	uint32_t v;

	h = hdr_first(msg, SIP_HDR_CALL_ID);
	if (!h || call_id_check(h->value, sip_msg_rend(msg)))
		return *why = h ? "bad Call-ID" : "missing Call-ID", EBADMSG;
	msg->call_id = h->value;
	h = hdr_first(msg, SIP_HDR_CSEQ);
	if (!h || cseq_parse(msg, h->value))
		return *why = h ? "bad CSeq" : "missing CSeq", EBADMSG;
	msg->max_forwards = -1;
	if ((h = hdr_first(msg, SIP_HDR_MAX_FORWARDS))) {
		if (sip_dec_u32(h->value, 255, &v))
			return *why = "bad Max-Forwards", EBADMSG;
		msg->max_forwards = (int)v;
	}
	if ((h = hdr_first(msg, SIP_HDR_EXPIRES))) {
		if (sip_dec_u32(h->value, UINT32_MAX, &msg->expires))
			return *why = "bad Expires", EBADMSG;
		msg->has_expires = true;
	}
	if ((h = hdr_first(msg, SIP_HDR_CONTENT_TYPE)) &&
	    content_type_parse(msg, h->value))
		return *why = "bad Content-Type", EBADMSG;
	return 0;
}

int sip_msg_parse_known(struct sip_msg *msg, const struct sip_values_room *room,
			const char **why)
{
	int err;

	if ((err = values_alloc(msg, room)))
		return *why = "out of memory", err;
	if (hdr_first(msg, SIP_HDR_VIA) == NULL)
		return *why = "missing Via", EBADMSG;
	if (list_walk(msg, SIP_HDR_VIA, via_elem, &msg->via_count, why) ||
	    single_addr(msg, SIP_HDR_FROM, &msg->from, why) ||
	    single_addr(msg, SIP_HDR_TO, &msg->to, why) ||
	    scalars_parse(msg, why) || contacts_parse(msg, why) ||
	    list_walk(msg, SIP_HDR_ROUTE, route_elem, &msg->route_count, why) ||
	    list_walk(msg, SIP_HDR_RECORD_ROUTE, rr_elem,
		      &msg->record_route_count, why))
		return EBADMSG;
	/*
	 * The From and To URIs matter to routing a request that starts
	 * something (no To tag: the policy reads them; the B leg carries
	 * them): parsed now, so that a bad one is refused here. In a
	 * dialog's requests and in responses the tags identify it (§12.2.2)
	 * and duet reads the URIs there only as text: they stay pending.
	 */
	if (msg->is_request && !msg->to.tag.p &&
	    (pending_uri(msg, &msg->from, why) ||
	     pending_uri(msg, &msg->to, why)))
		return EBADMSG;
	/* the CSeq method matches the request's (§8.1.1.5, §12.2.1.1) */
	if (msg->is_request &&
	    !slice_eq(msg->cseq_method_text, msg->method_text))
		return *why = "CSeq method does not match", EBADMSG;
	return 0;
}

/* "SIP/" at p, case-insensitively (4 bytes). */
static inline bool sip_slash(const char *p)
{
	return (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' &&
	       (p[2] | 0x20) == 'p' && p[3] == '/';
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (§25) */
static bool version_valid(struct slice v)
{
	size_t i = 4, d1 = 0, d2 = 0;

	if (v.len < 7 || !sip_slash(v.p))
		return false;
	if (v.len == 7 && v.p[4] == '2' && v.p[5] == '.' && v.p[6] == '0')
		return true; /* the one in use */
	while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9')
		i++, d1++;
	if (i >= v.len || v.p[i++] != '.')
		return false;
	while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9')
		i++, d2++;
	return d1 && d2 && i == v.len;
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF (§7.2) */
static int status_line(struct sip_msg *msg, struct slice line, const char **why)
{
	size_t sp = slice_find(line, ' ');
	struct slice code;
	uint32_t v;

	memset(&msg->ruri, 0, sizeof(msg->ruri)); /* a request's only */
	msg->version = slice_sub(line, 0, sp);
	if (!version_valid(msg->version))
		return *why = "bad SIP version", EBADMSG;
	code = slice_sub(line, sp + 1, 3);
	if (code.len != 3 || sip_dec_u32(code, 699, &v) || v < 100)
		return *why = "bad status code", EBADMSG;
	msg->status = (uint16_t)v;
	if (line.len > sp + 4 && line.p[sp + 4] != ' ')
		return *why = "bad status code", EBADMSG;
	msg->reason = slice_sub(line, sp + 5, line.len);
	for (size_t i = 0; i < msg->reason.len; i++) {
		unsigned char ch = (unsigned char)msg->reason.p[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return *why = "bad reason phrase", EBADMSG;
	}
	return 0;
}

/* Request-Line = Method SP Request-URI SP SIP-Version CRLF (§7.1) */
static int request_line(struct sip_msg *msg, struct slice line,
			const char **why)
{
	const char *rend = sip_msg_rend(msg), *end = line.p + line.len, *p, *u;

	msg->is_request = true;
	p = sip_span_token(line.p, end, rend, SIP_C_TOKEN);
	msg->method_text = slice_make(line.p, (size_t)(p - line.p));
	if (msg->method_text.len == 0 || p == end || *p != ' ')
		return *why = "bad request line", EBADMSG;
	msg->method = sip_method_from(msg->method_text);
	u = ++p;
	p = sip_find_byte(p, end, rend, ' ');
	if (!p || p == u)
		return *why = "bad request line", EBADMSG;
	msg->version = slice_make(p + 1, (size_t)(end - p - 1));
	/* "SIP/2.0" has no SP; anything else is looked at in order */
	if (!(msg->version.len == 7 && version_valid(msg->version))) {
		if (sip_find_byte(msg->version.p, end, rend, ' '))
			return *why = "bad request line", EBADMSG;
		if (!version_valid(msg->version))
			return *why = "bad SIP version", EBADMSG;
	}
	if (!sip_uri_fast(&msg->ruri, u, (size_t)(p - u), rend) &&
	    sip_uri_parse_full(&msg->ruri, slice_make(u, (size_t)(p - u)), why))
		return *why = "bad Request-URI", EBADMSG;
	return 0;
}

int sip_msg_parse_start(struct sip_msg *msg, size_t nl, bool clean,
			const char **why)
{
	struct slice line = slice_make(msg->buf, nl);

	if (line.len && line.p[line.len - 1] == '\r')
		line.len--;
	msg->start_line = line;
	if (!clean && memchr(line.p, '\r', line.len))
		return *why = "bare CR in start line", EBADMSG;
	if (line.len >= 4 && sip_slash(line.p))
		return status_line(msg, line, why);
	return request_line(msg, line, why);
}

int sip_msg_find_cl(const char *p, const char *end, struct sip_hdr *h,
		    const char **why)
{
	enum sip_hdr_id id;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct cur c;
		struct slice name;

		if (le > p && le[-1] == '\r')
			le--;
		c = (struct cur){ p, le, le, NULL }; /* the line without CRLF */
		name = take_class(&c, SIP_C_TOKEN);
		id = name.len ? sip_hdr_lookup(name) : SIP_HDR_OTHER;
		if (id == SIP_HDR_CONTENT_LENGTH && sep(&c, ':')) {
			h->name = name;
			h->value =
				slice_trim(slice_make(c.p, (size_t)(le - c.p)));
			h->id = (uint16_t)id;
			return 0;
		}
		p = nl ? nl + 1 : end;
	}
	*why = "Content-Length not found";
	return EBADMSG;
}
