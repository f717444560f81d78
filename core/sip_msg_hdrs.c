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
	const char *why;
};

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

static struct slice take_class(struct cur *c, unsigned cls)
{
	const char *s = c->p;

	while (c->p < c->end && sip_is((unsigned char)*c->p, cls))
		c->p++;
	return slice_make(s, (size_t)(c->p - s));
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
static int param_next(struct cur *c, struct param *pm)
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
	return at_end(c) || peek(c) == ',' ? 0
					   : fail(c, "unexpected text after value");
}

static int port_parse(struct slice s, uint16_t *port)
{
	uint32_t v;

	if (slice_to_u32(s, 65535, &v) || v == 0)
		return EBADMSG;
	*port = (uint16_t)v;
	return 0;
}

static int via_param(struct sip_via *via, const struct param *pm)
{
	enum sip_host_kind kind;
	uint32_t v;

	if (SIP_TOKEN_IS(pm->name, "branch")) {
		if (!pm->value.p || !pm->value.len)
			return EBADMSG;
		via->branch = pm->value;
	} else if (SIP_TOKEN_IS(pm->name, "received")) {
		/* IPv4 or IPv6, bare or bracketed (RFC 5118 §4.5) */
		if (!pm->value.p || sip_host_parse(pm->value, false, &kind) ||
		    kind == SIP_HOST_NAME)
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
		if (!pm->value.p || slice_to_u32(pm->value, 255, &v))
			return EBADMSG;
		via->ttl = pm->value;
	}
	return 0;
}

/*
 * via-parm = sent-protocol LWS sent-by *( SEMI via-params )
 * sent-protocol = protocol-name SLASH protocol-version SLASH transport
 * sent-by = host [ COLON port ]                       (§20.42, §25)
 */
static int via_parse_at(struct cur *cp, struct sip_via *out, const char **why)
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
	if (!(version.len == 3 && memcmp(version.p, "2.0", 3) == 0) || !sep(&c, '/'))
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
		if (via_param(&via, &pm))
			return *why = "bad Via parameter", EBADMSG;
	}
	via.params = slice_trim(slice_make(ps, (size_t)(c.p - ps)));
	if (err != ENOENT || expect_elem_end(&c))
		return *why = "bad Via parameter", EBADMSG;
	via.raw = slice_trim(slice_make(cp->p, (size_t)(c.p - cp->p)));
	*out = via;
	cp->p = c.p;
	return 0;
}

int sip_via_parse(struct sip_via *out, struct slice value, const char **why)
{
	struct cur c = { value.p, value.p + value.len, NULL };
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

enum addr_kind { ADDR_PLAIN, ADDR_CONTACT, ADDR_ROUTE };

static int addr_params(struct sip_addr *a, struct cur *c, enum addr_kind kind)
{
	const char *ps = c->p;
	struct param pm;
	int err;

	while ((err = param_next(c, &pm)) == 0) {
		if (SIP_TOKEN_IS(pm.name, "tag")) {
			if (!pm.value.len)
				return fail(c, "bad tag");
			a->tag = pm.value;
		} else if (kind == ADDR_CONTACT &&
			   SIP_TOKEN_IS(pm.name, "expires")) {
			if (slice_to_u32(pm.value, UINT32_MAX, &a->expires))
				return fail(c, "bad Contact expires");
			a->has_expires = true;
		} else if (kind == ADDR_CONTACT &&
			   SIP_TOKEN_IS(pm.name, "q")) {
			if (qvalue_parse(pm.value, &a->q))
				return fail(c, "bad Contact q");
			a->has_q = true;
		}
	}
	if (err != ENOENT)
		return EBADMSG;
	a->params = slice_trim(slice_make(ps, (size_t)(c->p - ps)));
	return expect_elem_end(c);
}

/*
 * (name-addr / addr-spec) *( SEMI generic-param ) (§20.10, §20.20, §25)
 * name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 * display-name = *(token LWS) / quoted-string
 */
static int addr_parse_at(struct cur *cp, struct sip_addr *out,
			 enum addr_kind kind, const char **why)
{
	struct cur c = *cp;
	struct sip_addr *a = out; /* filled in place: callers discard it on
				     error (sip_addr_parse uses a copy) */
	struct slice uri;
	const char *s;

	memset(a, 0, offsetof(struct sip_addr, uri));
	memset(&a->uri + 1, 0,
	       sizeof(*a) - offsetof(struct sip_addr, uri) - sizeof(a->uri));

	skip_lws(&c);
	if (peek(&c) == '"') {
		if (quoted(&c, &a->display))
			return *why = "bad display name", EBADMSG;
		a->display_quoted = true;
		skip_lws(&c);
		if (peek(&c) != '<')
			return *why = "quoted display name without <URI>",
			       EBADMSG;
	} else {
		s = c.p;
		while (c.p < c.end &&
		       sip_is((unsigned char)*c.p, SIP_C_TOKEN | SIP_C_WS))
			c.p++;
		if (peek(&c) == '<') {
			struct slice d = slice_trim(
				slice_make(s, (size_t)(c.p - s)));

			if (d.len)
				a->display = d;
		} else {
			c.p = s;
		}
	}
	if (peek(&c) == '<') {
		const char *gt = memchr(c.p, '>', (size_t)(c.end - c.p));

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
	if (sip_uri_parse(&a->uri, uri, why))
		return EBADMSG;
	if (addr_params(a, &c, kind))
		return *why = c.why ? c.why : "bad header parameter", EBADMSG;
	a->raw = slice_trim(slice_make(cp->p, (size_t)(c.p - cp->p)));
	cp->p = c.p;
	return 0;
}

/* A value holding exactly one element (From, To, on-demand parses). */
static int addr_parse(struct sip_addr *out, struct slice value,
		      enum addr_kind kind, const char **why)
{
	struct cur c = { value.p, value.p + value.len, NULL };

	if (addr_parse_at(&c, out, kind, why))
		return EBADMSG;
	return at_end(&c) ? 0 : (*why = "unexpected text after value", EBADMSG);
}

int sip_addr_parse(struct sip_addr *addr, struct slice value, const char **why)
{
	struct sip_addr tmp;
	const char *dummy;

	if (addr_parse(&tmp, value, ADDR_PLAIN, why ? why : &dummy))
		return EBADMSG;
	*addr = tmp;
	return 0;
}

/* callid = word [ "@" word ] (§25) */
static int call_id_check(struct slice v)
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

/* CSeq = 1*DIGIT LWS Method; the number is below 2**31 (§8.1.1.5) */
static int cseq_parse(struct sip_msg *msg, struct slice v)
{
	struct cur c = { v.p, v.p + v.len, NULL };
	struct slice num;

	num = take_class(&c, SIP_C_DIGIT);
	if (slice_to_u32(num, 0x7fffffff, &msg->cseq) || !skip_lws(&c))
		return EBADMSG;
	msg->cseq_method_text = take_class(&c, SIP_C_TOKEN);
	if (msg->cseq_method_text.len == 0 || expect_end(&c))
		return EBADMSG;
	msg->cseq_method = sip_method_from(msg->cseq_method_text);
	return 0;
}

/* Content-Type = m-type SLASH m-subtype *(SEMI m-parameter) (§20.15) */
static int content_type_parse(struct sip_msg *msg, struct slice v)
{
	struct cur c = { v.p, v.p + v.len, NULL };
	struct slice type, sub;
	struct param pm;
	const char *ps;
	int err;

	type = take_class(&c, SIP_C_TOKEN);
	if (!type.len || !sep(&c, '/'))
		return EBADMSG;
	sub = take_class(&c, SIP_C_TOKEN);
	if (!sub.len)
		return EBADMSG;
	msg->content_type = slice_make(type.p, (size_t)(sub.p + sub.len - type.p));
	ps = c.p;
	while ((err = param_next(&c, &pm)) == 0) {
		if (!pm.value.p)
			return EBADMSG;
	}
	if (err != ENOENT || expect_end(&c))
		return EBADMSG;
	msg->content_type_params = slice_trim(slice_make(ps, (size_t)(c.p - ps)));
	return 0;
}

/* Count the values a list field may hold: one more than its commas. */
static unsigned list_bound(const struct sip_msg *msg, enum sip_hdr_id id)
{
	unsigned n = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(msg, id); h;
	     h = sip_msg_hdr_next(msg, h)) {
		const char *p = h->value.p, *end = p + h->value.len;

		n++;
		while ((p = memchr(p, ',', (size_t)(end - p))) != NULL) {
			n++;
			p++;
		}
	}
	return n;
}

/*
 * Walk the elements of every field with this id: element *(COMMA
 * element), no empty elements (§7.3.1). `one` parses the element at the
 * cursor into slot i and leaves the cursor after it.
 */
typedef int elem_fn(struct sip_msg *msg, struct cur *c, unsigned i,
		    const char **why);

static int list_walk(struct sip_msg *msg, enum sip_hdr_id id, elem_fn *one,
		     uint16_t *n, const char **why)
{
	for (const struct sip_hdr *h = sip_msg_hdr(msg, id); h;
	     h = sip_msg_hdr_next(msg, h)) {
		struct cur c = { h->value.p, h->value.p + h->value.len, NULL };

		for (;;) {
			skip_lws(&c);
			if (at_end(&c) || peek(&c) == ',')
				return *why = "empty list element", EBADMSG;
			if (one(msg, &c, *n, why))
				return EBADMSG;
			(*n)++;
			if (at_end(&c))
				break;
			c.p++; /* the COMMA */
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

/* One allocation for the parsed values of the list headers. */
static int values_alloc(struct sip_msg *msg)
{
	unsigned nv = list_bound(msg, SIP_HDR_VIA);
	unsigned nc = list_bound(msg, SIP_HDR_CONTACT);
	unsigned nr = list_bound(msg, SIP_HDR_ROUTE);
	unsigned nrr = list_bound(msg, SIP_HDR_RECORD_ROUTE);
	size_t bytes = nv * sizeof(struct sip_via) +
		       (nc + nr + nrr) * sizeof(struct sip_addr);
	char *p;

	if (bytes == 0)
		return 0;
	p = duet_malloc(bytes);
	if (!p)
		return ENOMEM;
	msg->values = p;
	msg->contacts = (struct sip_addr *)p;
	msg->routes = msg->contacts + nc;
	msg->record_routes = msg->routes + nr;
	msg->vias = (struct sip_via *)(msg->record_routes + nrr);
	return 0;
}

static int single_addr(struct sip_msg *msg, enum sip_hdr_id id,
		       struct sip_addr *a, const char **why)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, id);

	if (!h)
		return *why = id == SIP_HDR_FROM ? "missing From" : "missing To",
		       EBADMSG;
	return addr_parse(a, h->value, ADDR_PLAIN, why);
}

static int contacts_parse(struct sip_msg *msg, const char **why)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTACT);

	/* Contact: * stands alone (§10.2.2, §20.10) */
	if (h && h->value.len == 1 && h->value.p[0] == '*') {
		if (h->next != SIP_HDR_NONE)
			return *why = "Contact * with other contacts", EBADMSG;
		msg->contacts[0] = (struct sip_addr){ .raw = h->value,
						      .star = true };
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

	h = sip_msg_hdr(msg, SIP_HDR_CALL_ID);
	if (!h || call_id_check(h->value))
		return *why = h ? "bad Call-ID" : "missing Call-ID", EBADMSG;
	msg->call_id = h->value;
	h = sip_msg_hdr(msg, SIP_HDR_CSEQ);
	if (!h || cseq_parse(msg, h->value))
		return *why = h ? "bad CSeq" : "missing CSeq", EBADMSG;
	msg->max_forwards = -1;
	if ((h = sip_msg_hdr(msg, SIP_HDR_MAX_FORWARDS))) {
		if (slice_to_u32(h->value, 255, &v))
			return *why = "bad Max-Forwards", EBADMSG;
		msg->max_forwards = (int)v;
	}
	if ((h = sip_msg_hdr(msg, SIP_HDR_EXPIRES))) {
		if (slice_to_u32(h->value, UINT32_MAX, &msg->expires))
			return *why = "bad Expires", EBADMSG;
		msg->has_expires = true;
	}
	if ((h = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE)) &&
	    content_type_parse(msg, h->value))
		return *why = "bad Content-Type", EBADMSG;
	return 0;
}

int sip_msg_parse_known(struct sip_msg *msg, const char **why)
{
	int err;

	if ((err = values_alloc(msg)))
		return *why = "out of memory", err;
	if (sip_msg_hdr(msg, SIP_HDR_VIA) == NULL)
		return *why = "missing Via", EBADMSG;
	if (list_walk(msg, SIP_HDR_VIA, via_elem, &msg->via_count, why) ||
	    single_addr(msg, SIP_HDR_FROM, &msg->from, why) ||
	    single_addr(msg, SIP_HDR_TO, &msg->to, why) ||
	    scalars_parse(msg, why) || contacts_parse(msg, why) ||
	    list_walk(msg, SIP_HDR_ROUTE, route_elem, &msg->route_count, why) ||
	    list_walk(msg, SIP_HDR_RECORD_ROUTE, rr_elem,
		      &msg->record_route_count, why))
		return EBADMSG;
	/* the CSeq method matches the request's (§8.1.1.5, §12.2.1.1) */
	if (msg->is_request &&
	    !slice_eq(msg->cseq_method_text, msg->method_text))
		return *why = "CSeq method does not match", EBADMSG;
	return 0;
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (§25) */
static bool version_valid(struct slice v)
{
	size_t i = 4, d1 = 0, d2 = 0;

	if (v.len < 7 || !slice_caseeq(slice_sub(v, 0, 4), SLICE_LIT("SIP/")))
		return false;
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

	msg->version = slice_sub(line, 0, sp);
	if (!version_valid(msg->version))
		return *why = "bad SIP version", EBADMSG;
	code = slice_sub(line, sp + 1, 3);
	if (code.len != 3 || slice_to_u32(code, 699, &v) || v < 100)
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
	struct cur c = { line.p, line.p + line.len, NULL };
	const char *u;

	msg->is_request = true;
	msg->method_text = take_class(&c, SIP_C_TOKEN);
	if (msg->method_text.len == 0 || peek(&c) != ' ')
		return *why = "bad request line", EBADMSG;
	msg->method = sip_method_from(msg->method_text);
	u = ++c.p;
	while (c.p < c.end && *c.p != ' ')
		c.p++;
	if (at_end(&c) || c.p == u)
		return *why = "bad request line", EBADMSG;
	msg->version = slice_make(c.p + 1, (size_t)(c.end - c.p - 1));
	if (memchr(msg->version.p, ' ', msg->version.len))
		return *why = "bad request line", EBADMSG;
	if (!version_valid(msg->version))
		return *why = "bad SIP version", EBADMSG;
	if (sip_uri_parse(&msg->ruri, slice_make(u, (size_t)(c.p - u)), why))
		return *why = "bad Request-URI", EBADMSG;
	return 0;
}

int sip_msg_parse_start(struct sip_msg *msg, const char **why)
{
	const char *nl = memchr(msg->buf, '\n', msg->len);
	struct slice line = slice_make(msg->buf, (size_t)(nl - msg->buf));

	if (line.len && line.p[line.len - 1] == '\r')
		line.len--;
	msg->start_line = line;
	if (memchr(line.p, '\r', line.len))
		return *why = "bare CR in start line", EBADMSG;
	if (line.len >= 4 && slice_caseeq(slice_sub(line, 0, 4),
					  SLICE_LIT("SIP/")))
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
		c = (struct cur){ p, le, NULL }; /* the line without its CRLF */
		name = take_class(&c, SIP_C_TOKEN);
		id = name.len ? sip_hdr_lookup(name) : SIP_HDR_OTHER;
		if (id == SIP_HDR_CONTENT_LENGTH && sep(&c, ':')) {
			h->name = name;
			h->value = slice_trim(slice_make(c.p, (size_t)(le - c.p)));
			h->id = (uint16_t)id;
			return 0;
		}
		p = nl ? nl + 1 : end;
	}
	*why = "Content-Length not found";
	return EBADMSG;
}
