/* SPDX-License-Identifier: MIT */
/*
 * Templates over a request: "+49$1", "sip:${ruri.user}@${src.ip}",
 * "${header.X-Account}". $N is a regex capture, ${name} a request field
 * (RFC 3261 §19.1 URI parts, §20.20/§20.39 From/To), $$ a dollar sign.
 */
#include "policy_internal.h"

#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"

static const struct {
	const char *name;
	enum tmpl_var var;
} vars[] = {
	{ "ruri", TV_RURI },
	{ "ruri.user", TV_RURI_USER },
	{ "ruri.host", TV_RURI_HOST },
	{ "ruri.port", TV_RURI_PORT },
	{ "from.uri", TV_FROM_URI },
	{ "from.user", TV_FROM_USER },
	{ "from.host", TV_FROM_HOST },
	{ "from.display", TV_FROM_DISPLAY },
	{ "to.uri", TV_TO_URI },
	{ "to.user", TV_TO_USER },
	{ "to.host", TV_TO_HOST },
	{ "to.display", TV_TO_DISPLAY },
	{ "src.ip", TV_SRC_IP },
	{ "src.port", TV_SRC_PORT },
	{ "src.transport", TV_SRC_TRANSPORT },
	{ "call_id", TV_CALL_ID },
	{ "method", TV_METHOD },
};

static bool header_name_ok(struct slice n)
{
	if (!n.len)
		return false;
	for (size_t i = 0; i < n.len; i++) /* token (RFC 3261 §25.1) */
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
			    "YZ"
			    "0123456789-.!%*_+`'~",
			    n.p[i]))
			return false;
	return true;
}

/* Split s into parts (parts NULL: count only). Returns the count or -1
 * with *why. */
static long parse(const char *s, struct tmpl_part *parts, unsigned *maxcap,
		  const char **why)
{
	long n = 0;
	size_t lit = 0, i = 0, len = strlen(s);

#define EMIT(part)                                                             \
	do {                                                                   \
		if (parts)                                                     \
			parts[n] = (part);                                     \
		n++;                                                           \
	} while (0)
#define FLUSH()                                                                \
	do {                                                                   \
		if (i > lit)                                                   \
			EMIT(((struct tmpl_part){                              \
				.var = TV_LITERAL,                             \
				.text = slice_make(s + lit, i - lit) }));      \
	} while (0)

	while (i < len) {
		if (s[i] != '$') {
			i++;
			continue;
		}
		FLUSH();
		if (s[i + 1] == '$') {
			EMIT(((struct tmpl_part){
				.var = TV_LITERAL,
				.text = slice_make(s + i, 1) }));
			i += 2;
		} else if (s[i + 1] >= '0' && s[i + 1] <= '9') {
			unsigned k = (unsigned)(s[i + 1] - '0');

			EMIT(((struct tmpl_part){ .var = TV_CAPTURE,
						  .capture = k }));
			if (k > *maxcap)
				*maxcap = k;
			i += 2;
		} else if (s[i + 1] == '{') {
			const char *end = strchr(s + i + 2, '}');
			struct slice name;
			bool found = false;

			if (!end) {
				*why = "unterminated ${";
				return -1;
			}
			name = slice_make(s + i + 2, (size_t)(end - s) - i - 2);
			for (size_t v = 0; v < sizeof(vars) / sizeof(vars[0]);
			     v++) {
				if (slice_eq_cstr(name, vars[v].name)) {
					EMIT(((struct tmpl_part){
						.var = vars[v].var }));
					found = true;
				}
			}
			if (!found && name.len > 7 &&
			    memcmp(name.p, "header.", 7) == 0 &&
			    header_name_ok(slice_sub(name, 7, name.len))) {
				EMIT(((struct tmpl_part){
					.var = TV_HEADER,
					.text = slice_sub(name, 7,
							  name.len) }));
				found = true;
			}
			if (!found) {
				*why = "unknown variable (see docs/policy.md)";
				return -1;
			}
			i = (size_t)(end - s) + 1;
		} else {
			*why = "a lone $ (write $$ for a dollar sign)";
			return -1;
		}
		lit = i;
	}
	FLUSH();
	return n;
#undef EMIT
#undef FLUSH
}

int tmpl_compile(struct tmpl **out, const char *s, const char **why)
{
	unsigned maxcap = 0;
	long n = parse(s, NULL, &maxcap, why);
	size_t len = strlen(s);
	struct tmpl *t;

	if (n < 0)
		return EBADMSG;
	t = duet_malloc(sizeof(*t) + (size_t)n * sizeof(struct tmpl_part) +
			len + 1);
	if (!t)
		return ENOMEM;
	t->parts = (struct tmpl_part *)(t + 1);
	t->src = (char *)(t->parts + n);
	memcpy(t->src, s, len + 1);
	t->count = (size_t)n;
	t->max_capture = 0;
	parse(t->src, t->parts, &t->max_capture, why);
	t->has_vars = false;
	for (size_t i = 0; i < t->count; i++)
		if (t->parts[i].var != TV_LITERAL)
			t->has_vars = true;
	*out = t;
	return 0;
}

void tmpl_free(struct tmpl *t)
{
	duet_free(t);
}

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_add(struct sbuf *b, struct slice s)
{
	if (b->err)
		return;
	if (b->len + s.len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + s.len + 1)
			cap *= 2;
		p = duet_realloc(b->p, cap);
		if (!p) {
			b->err = ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (s.len)
		memcpy(b->p + b->len, s.p, s.len);
	b->len += s.len;
	b->p[b->len] = '\0';
}

static struct slice var_value(const struct tmpl_part *pt,
			      const struct tmpl_ctx *x, char *buf, size_t cap)
{
	const struct sip_msg *m = x->req;
	const struct sip_hdr *h;

	if (x->placeholder)
		return slice_cstr(pt->var == TV_RURI_PORT ||
						  pt->var == TV_SRC_PORT
					  ? "5060"
				  : pt->var == TV_SRC_IP ? "192.0.2.1"
							 : x->placeholder);
	switch (pt->var) {
	case TV_LITERAL:
		return pt->text;
	case TV_CAPTURE:
		if (!x->caps || pt->capture >= x->ncaps ||
		    x->caps[pt->capture].rm_so < 0)
			return SLICE_NULL;
		return slice_make(x->subject + x->caps[pt->capture].rm_so,
				  (size_t)(x->caps[pt->capture].rm_eo -
					   x->caps[pt->capture].rm_so));
	case TV_RURI:
		return m->ruri.raw;
	case TV_RURI_USER:
		return m->ruri.user;
	case TV_RURI_HOST:
		return m->ruri.host;
	case TV_RURI_PORT:
		if (!m->ruri.port)
			return SLICE_NULL;
		snprintf(buf, cap, "%u", (unsigned)m->ruri.port);
		return slice_cstr(buf);
	case TV_FROM_URI:
		return m->from.uri.raw;
	case TV_FROM_USER:
		return sip_addr_uri_user(&m->from);
	case TV_FROM_HOST:
		return sip_addr_uri_host(&m->from);
	case TV_FROM_DISPLAY:
		return m->from.display;
	case TV_TO_URI:
		return m->to.uri.raw;
	case TV_TO_USER:
		return sip_addr_uri_user(&m->to);
	case TV_TO_HOST:
		return sip_addr_uri_host(&m->to);
	case TV_TO_DISPLAY:
		return m->to.display;
	case TV_SRC_IP:
		if (!x->src)
			return SLICE_NULL;
		return slice_cstr(tp_addr_host(&x->src->remote, buf, cap));
	case TV_SRC_PORT:
		if (!x->src)
			return SLICE_NULL;
		snprintf(buf, cap, "%u",
			 (unsigned)tp_addr_port(&x->src->remote));
		return slice_cstr(buf);
	case TV_SRC_TRANSPORT:
		if (!x->src)
			return SLICE_NULL;
		return x->src->proto == SIP_PROTO_TCP	? SLICE_LIT("tcp")
		       : x->src->proto == SIP_PROTO_TLS ? SLICE_LIT("tls")
							: SLICE_LIT("udp");
	case TV_CALL_ID:
		return m->call_id;
	case TV_METHOD:
		return m->method_text;
	case TV_HEADER:
		h = sip_msg_hdr_by_name(m, pt->text);
		return h ? h->value : SLICE_NULL;
	}
	return SLICE_NULL;
}

int tmpl_expand(const struct tmpl *t, const struct tmpl_ctx *ctx, char **out)
{
	struct sbuf b = { 0 };
	char tmp[64];

	sb_add(&b, SLICE_NULL); /* an empty template gives "" */
	for (size_t i = 0; i < t->count && !b.err; i++) {
		const struct tmpl_part *pt = &t->parts[i];

		sb_add(&b, pt->var == TV_LITERAL
				   ? pt->text
				   : var_value(pt, ctx, tmp, sizeof(tmp)));
	}
	if (!b.err && (memchr(b.p, '\r', b.len) || memchr(b.p, '\n', b.len) ||
		       strlen(b.p) != b.len))
		b.err = EBADMSG;
	if (b.err) {
		duet_free(b.p);
		return b.err;
	}
	*out = b.p;
	return 0;
}
