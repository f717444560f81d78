/* SPDX-License-Identifier: MIT */
/* SIP/SIPS/tel URIs: parse, compare (RFC 3261 §19.1, §25; RFC 3966; 5954). */
#include "duet/sip_uri.h"

#include <stddef.h>
#include <string.h>

#include "duet/err.h"
#include "sip_internal.h"

/*
 * Character classes (RFC 3261 §25 unless noted), one bit each, looked up in a
 * 256-entry table so every byte costs one load and one AND. Bytes >= 0x80 are
 * in no class.
 */
enum {
	CC_ALPHA = 1 << 0,
	CC_DIGIT = 1 << 1,
	CC_HEX = 1 << 2,      /* HEXDIG, either case */
	CC_MARK = 1 << 3,     /* mark: - _ . ! ~ * ' ( ) */
	CC_USER = 1 << 4,     /* user-unreserved: & = + $ , ; ? / */
	CC_PASS = 1 << 5,     /* password extras: & = + $ , */
	CC_PARAM = 1 << 6,    /* param-unreserved: [ ] / : & + $ */
	CC_HNV = 1 << 7,      /* hnv-unreserved: [ ] / ? : + $ */
	CC_RESERVED = 1 << 8, /* reserved: ; / ? : @ & = + $ , */
	CC_LDH = 1 << 9,      /* alphanum / "-": hostname labels, tel pname */
	CC_SCHEME = 1 << 10,  /* alphanum / "+" / "-" / "." (RFC 3986 §3.1) */
	CC_TOKEN = 1 << 11,   /* token: alphanum - . ! % * _ + ` ' ~ */
	CC_VISUAL = 1 << 12,  /* RFC 3966 visual-separator: - . ( ) */
	CC_TELHEX = 1 << 13,  /* RFC 3966 local digits: HEXDIG / "*" / "#" */
	CC_BRACKET = 1 << 14, /* [ ]: IPv6 literals in other URIs (RFC 2732) */
};

#define M_UNRESERVED (CC_ALPHA | CC_DIGIT | CC_MARK)
#define M_USER (M_UNRESERVED | CC_USER)
#define M_PASS (M_UNRESERVED | CC_PASS)
#define M_PARAM (M_UNRESERVED | CC_PARAM)
#define M_HNV (M_UNRESERVED | CC_HNV)
#define M_URIC (M_UNRESERVED | CC_RESERVED | CC_BRACKET)

#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_ALNUM(c) (IS_ALPHA(c) || IS_DIGIT(c))
#define IS_HEX(c)                                                              \
	(IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') ||                          \
	 ((c) >= 'A' && (c) <= 'F'))
#define IS_MARK(c)                                                             \
	((c) == '-' || (c) == '_' || (c) == '.' || (c) == '!' || (c) == '~' || \
	 (c) == '*' || (c) == '\'' || (c) == '(' || (c) == ')')
#define IS_PASS(c)                                                             \
	((c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',')
#define IS_USER(c) (IS_PASS(c) || (c) == ';' || (c) == '?' || (c) == '/')
#define IS_BRACKET(c) ((c) == '[' || (c) == ']')
#define IS_PARAM(c)                                                            \
	(IS_BRACKET(c) || (c) == '/' || (c) == ':' || (c) == '&' ||            \
	 (c) == '+' || (c) == '$')
#define IS_HNV(c)                                                              \
	(IS_BRACKET(c) || (c) == '/' || (c) == '?' || (c) == ':' ||            \
	 (c) == '+' || (c) == '$')
#define IS_RESERVED(c) (IS_USER(c) || (c) == ':' || (c) == '@')
#define IS_TOKEN(c)                                                            \
	(IS_ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '!' ||              \
	 (c) == '%' || (c) == '*' || (c) == '_' || (c) == '+' || (c) == '`' || \
	 (c) == '\'' || (c) == '~')
#define IS_VISUAL(c) ((c) == '-' || (c) == '.' || (c) == '(' || (c) == ')')

#define BIT(cond, bit) ((cond) ? (bit) : 0)
#define CLS(c)                                                                 \
	(BIT(IS_ALPHA(c), CC_ALPHA) | BIT(IS_DIGIT(c), CC_DIGIT) |             \
	 BIT(IS_HEX(c), CC_HEX) | BIT(IS_MARK(c), CC_MARK) |                   \
	 BIT(IS_USER(c), CC_USER) | BIT(IS_PASS(c), CC_PASS) |                 \
	 BIT(IS_PARAM(c), CC_PARAM) | BIT(IS_HNV(c), CC_HNV) |                 \
	 BIT(IS_RESERVED(c), CC_RESERVED) |                                    \
	 BIT(IS_ALNUM(c) || (c) == '-', CC_LDH) |                              \
	 BIT(IS_ALNUM(c) || (c) == '+' || (c) == '-' || (c) == '.',            \
	     CC_SCHEME) |                                                      \
	 BIT(IS_TOKEN(c), CC_TOKEN) | BIT(IS_VISUAL(c), CC_VISUAL) |           \
	 BIT(IS_HEX(c) || (c) == '*' || (c) == '#', CC_TELHEX) |               \
	 BIT(IS_BRACKET(c), CC_BRACKET))
#define R4(c) CLS(c), CLS((c) + 1), CLS((c) + 2), CLS((c) + 3)
#define R16(c) R4(c), R4((c) + 4), R4((c) + 8), R4((c) + 12)
#define R64(c) R16(c), R16((c) + 16), R16((c) + 32), R16((c) + 48)

static const uint16_t cc[256] = { R64(0), R64(64) };

/* The classes of a byte; takes char or unsigned char alike. */
static inline unsigned cls(int c)
{
	return cc[(unsigned char)c];
}

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

static inline unsigned hexval(unsigned char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(lower(c) - 'a' + 10);
}

/*
 * Case-insensitive match against a lower-case, letters-only literal: for
 * such a literal, c | 0x20 equals the letter exactly when c is that letter
 * in either case.
 */
static bool name_is(struct slice s, const char *lit, size_t len)
{
	if (s.len != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)(s.p[i] | 0x20) != (unsigned char)lit[i])
			return false;
	}
	return true;
}

#define NAME_IS(s, lit) name_is(s, "" lit, sizeof(lit) - 1)

static int fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return EBADMSG;
}

/* Why parsing stopped at s[i]: the byte itself if it never fits a URI. */
static const char *char_reason(const char *s, size_t i, size_t n,
			       const char *dflt)
{
	unsigned char c;

	if (i >= n)
		return dflt;
	c = (unsigned char)s[i];
	if (c <= ' ' || c == 0x7f)
		return "whitespace or control character";
	if (c >= 0x80)
		return "non-ASCII byte";
	if (c == '<' || c == '>' || c == '"')
		return "forbidden character";
	if (c == '%')
		return "bad escape";
	return dflt;
}

/*
 * Skip bytes in `mask` and escapes (escaped = "%" HEXDIG HEXDIG). A broken
 * escape stops the scan on its '%', which char_reason() reports.
 */
static size_t scan(const char *s, size_t i, size_t n, unsigned mask)
{
	for (;;) {
		while (i < n && (cls(s[i]) & mask))
			i++;
		if (i < n && s[i] == '%' && n - i >= 3 &&
		    (cls(s[i + 1]) & cls(s[i + 2]) & CC_HEX))
			i += 3;
		else
			return i;
	}
}

/* Skip bytes in `mask`; no escapes. */
static size_t span(const char *s, size_t i, size_t n, unsigned mask)
{
	while (i < n && (cls(s[i]) & mask))
		i++;
	return i;
}

/*
 * IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each octet
 * 0-255 (RFC 3261 §25). Leading zeros are decimal, as in core/sip_host.c.
 */
static bool parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
	size_t i = 0;

	for (int o = 0; o < 4; o++) {
		size_t d;
		unsigned v = 0;

		if (o > 0 && (i >= n || s[i++] != '.'))
			return false;
		d = i;
		while (i < n && i - d < 4 && (cls(s[i]) & CC_DIGIT))
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == d || i - d > 3 || v > 255)
			return false;
		out[o] = (uint8_t)v;
	}
	return i == n;
}

/*
 * IPv6address (RFC 4291 §2.2, ABNF in RFC 5954 §4.1): up to eight groups of
 * 1-4 hex digits, at most one "::" standing for one or more zero groups, and
 * an optional trailing IPv4address counting as two groups.
 */
static bool parse_ipv6(const char *s, size_t n, uint8_t out[16])
{
	uint16_t w[8] = { 0 };
	size_t cnt = 0, i = 0, gap = SIZE_MAX;
	uint8_t q[4];

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	}
	while (i < n) {
		size_t g = i;
		unsigned v = 0;

		while (i < n && i - g < 5 && (cls(s[i]) & CC_HEX))
			v = v << 4 | hexval((unsigned char)s[i++]);
		if (i < n && s[i] == '.') {
			if (cnt > 6 || !parse_ipv4(s + g, n - g, q))
				return false;
			w[cnt++] = (uint16_t)(q[0] << 8 | q[1]);
			w[cnt++] = (uint16_t)(q[2] << 8 | q[3]);
			break;
		}
		if (i == g || i - g > 4 || cnt == 8)
			return false;
		w[cnt++] = (uint16_t)v;
		if (i == n)
			break;
		if (s[i++] != ':' || i == n)
			return false;
		if (s[i] == ':') {
			if (gap != SIZE_MAX)
				return false;
			gap = cnt;
			i++;
		}
	}
	if (gap == SIZE_MAX ? cnt != 8 : cnt > 7)
		return false;
	memset(out, 0, 16);
	for (size_t k = 0; k < cnt; k++) {
		size_t slot = (gap == SIZE_MAX || k < gap) ? k : 8 - (cnt - k);

		out[2 * slot] = (uint8_t)(w[k] >> 8);
		out[2 * slot + 1] = (uint8_t)w[k];
	}
	return true;
}

/*
 * hostname    = *( domainlabel "." ) toplabel [ "." ]
 * domainlabel = alphanum / alphanum *( alphanum / "-" ) alphanum
 * Returns the end of the run of labels and dots from i; *ok tells whether
 * every label is well formed. Like core/sip_host.c, toplabel's leading ALPHA
 * is not enforced ("host.123" passes); all-digit hosts must be IPv4.
 */
static size_t scan_hostname(const char *s, size_t i, size_t n, bool *ok,
			    bool *alpha_top)
{
	size_t start = i, l;
	unsigned char top = 0;

	*ok = true;
	for (;;) {
		l = i;
		i = span(s, i, n, CC_LDH);
		if (i > l) {
			*ok = *ok && s[l] != '-' && s[i - 1] != '-';
			top = (unsigned char)s[l];
		} else if (l == start || (i < n && s[i] == '.')) {
			*ok = false; /* leading or doubled dot */
		}
		if (i == n || s[i] != '.')
			break;
		i++;
	}
	*alpha_top = cls(top) & CC_ALPHA;
	return i;
}

/* Only digits and dots: meant as an IPv4address. */
static bool digits_and_dots(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!(cls(s[i]) & CC_DIGIT) && s[i] != '.')
			return false;
	}
	return true;
}

/*
 * host          = hostname / IPv4address / IPv6reference
 * IPv6reference = "[" IPv6address "]"           (RFC 3261 §25, RFC 5118)
 */
static int parse_host(const char *s, size_t *pos, size_t n,
		      enum sip_host_kind *kind, const char **why)
{
	size_t i = *pos, e;
	uint8_t addr[16];
	bool ok, alpha_top;

	if (i < n && s[i] == '[') {
		e = i + 1;
		while (e < n &&
		       ((cls(s[e]) & CC_HEX) || s[e] == ':' || s[e] == '.'))
			e++;
		if (e == n || s[e] != ']' ||
		    !parse_ipv6(s + i + 1, e - i - 1, addr))
			return fail(why, "bad IPv6 reference");
		*kind = SIP_HOST_IPV6;
		*pos = e + 1;
		return 0;
	}
	e = scan_hostname(s, i, n, &ok, &alpha_top);
	if (e == i)
		return fail(why, char_reason(s, i, n, "missing host"));
	/* a name whose last label starts with a letter is no address */
	if (!alpha_top && digits_and_dots(s + i, e - i)) {
		if (!parse_ipv4(s + i, e - i, addr))
			return fail(why, "bad IPv4 address");
		*kind = SIP_HOST_IPV4;
	} else if (ok) {
		*kind = SIP_HOST_NAME;
	} else {
		return fail(why, "bad host");
	}
	*pos = e;
	return 0;
}

/*
 * port = 1*DIGIT, here 1..65535: struct sip_uri keeps 0 for "no port", so
 * an explicit 0 could not be told apart and is refused.
 */
static int parse_port(const char *s, size_t *pos, size_t n, uint16_t *port,
		      const char **why)
{
	size_t i = *pos;
	uint32_t v = 0;

	while (i < n && (cls(s[i]) & CC_DIGIT)) {
		v = v * 10 + (uint32_t)(s[i++] - '0');
		if (v > 65535)
			return fail(why, "bad port");
	}
	if (i == *pos || (i < n && s[i] != ';' && s[i] != '?'))
		return fail(why, char_reason(s, i, n, "bad port"));
	if (v == 0)
		return fail(why, "bad port");
	*port = (uint16_t)v;
	*pos = i;
	return 0;
}

/* An IPv6 address without brackets: hex, dots and two or more colons. */
static bool unbracketed_ipv6(const char *s, size_t i, size_t n)
{
	size_t colons = 0;

	for (; i < n && s[i] != ';' && s[i] != '?'; i++) {
		if (s[i] == ':')
			colons++;
		else if (!(cls(s[i]) & CC_HEX) && s[i] != '.')
			return false;
	}
	return colons >= 2;
}

/* hostport = host [ ":" port ]; what follows must be ';', '?' or the end. */
static int parse_hostport(struct sip_uri *u, const char *s, size_t *pos,
			  size_t n, const char **why)
{
	size_t start = *pos, i = start;
	int err = parse_host(s, &i, n, &u->host_kind, why);

	if (!err) {
		u->host = slice_make(s + start, i - start);
		if (i < n && s[i] == ':') {
			i++;
			err = parse_port(s, &i, n, &u->port, why);
		} else if (i < n && s[i] != ';' && s[i] != '?') {
			err = fail(why, char_reason(s, i, n, "bad host"));
		}
	}
	if (err && start < n && s[start] != '[' &&
	    unbracketed_ipv6(s, start, n))
		return fail(why, "IPv6 address without brackets");
	if (!err)
		*pos = i;
	return err;
}

/*
 * userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
 * user     = 1*( unreserved / escaped / user-unreserved )
 * password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )
 * s[at] is the '@'.
 */
static int parse_userinfo(struct sip_uri *u, const char *s, size_t i, size_t at,
			  const char **why)
{
	size_t e = scan(s, i, at, M_USER);

	if (e == i && (e == at || s[e] == ':'))
		return fail(why, "empty user");
	u->user = slice_make(s + i, e - i);
	if (e < at && s[e] == ':') {
		i = e + 1;
		e = scan(s, i, at, M_PASS);
		u->password = slice_make(s + i, e - i);
		if (e != at)
			return fail(why, char_reason(s, e, at, "bad password"));
	}
	if (e != at)
		return fail(why, char_reason(s, e, at, "bad user"));
	return 0;
}

/*
 * The well-known uri-parameters with a value (RFC 3261 §19.1.1, §25), kept in
 * struct sip_uri. They are also exactly the ones §19.1.4 compares when only
 * one URI carries them.
 */
enum known_check { KNOWN_TOKEN, KNOWN_TTL, KNOWN_HOST };

#define KNOWN(s, f, chk) s, sizeof(s) - 1, offsetof(struct sip_uri, f), chk

static const struct {
	const char *name;
	size_t len;
	size_t field; /* offset of the struct slice in struct sip_uri */
	enum known_check check;
} known_params[] = {
	{ KNOWN("transport", transport, KNOWN_TOKEN) }, /* transport-param */
	{ KNOWN("user", user_param, KNOWN_TOKEN) },	/* user-param */
	{ KNOWN("method", method, KNOWN_TOKEN) },	/* method-param */
	{ KNOWN("ttl", ttl, KNOWN_TTL) },      /* ttl: 1*3DIGIT 0-255 */
	{ KNOWN("maddr", maddr, KNOWN_HOST) }, /* maddr-param = host */
};

#define N_KNOWN (sizeof(known_params) / sizeof(known_params[0]))

/* Index in known_params of a parameter name (case-insensitive), or N_KNOWN.
 * The names differ in length, so the length picks the one candidate. */
static inline size_t known_index(struct slice name)
{
	size_t k;

	switch (name.len) {
	case 9:
		k = 0;
		break;
	case 4:
		k = 1;
		break;
	case 6:
		k = 2;
		break;
	case 3:
		k = 3;
		break;
	case 5:
		k = 4;
		break;
	default:
		return N_KNOWN;
	}
	return name_is(name, known_params[k].name, known_params[k].len)
		       ? k
		       : N_KNOWN;
}

static struct slice *known_slot(struct sip_uri *u, size_t k)
{
	return (struct slice *)((char *)u + known_params[k].field);
}

static struct slice known_value(const struct sip_uri *u, size_t k)
{
	return *(const struct slice *)((const char *)u + known_params[k].field);
}

/* Is val a valid value for a well-known parameter of this kind? */
static bool known_value_ok(enum known_check check, struct slice val)
{
	uint32_t ttl;
	size_t end = 0;
	enum sip_host_kind kind;

	switch (check) {
	case KNOWN_TTL:
		return val.len <= 3 && slice_to_u32(val, 255, &ttl) == 0;
	case KNOWN_HOST:
		return parse_host(val.p, &end, val.len, &kind, NULL) == 0 &&
		       end == val.len;
	default:
		return span(val.p, 0, val.len, CC_TOKEN) == val.len;
	}
}

/*
 * Record a well-known parameter (names are case-insensitive). lr-param is a
 * flag but a value is tolerated ("lr=on" from RFC 2543-era proxies).
 */
static inline int set_known_param(struct sip_uri *u, struct slice name,
				  struct slice val, const char **why)
{
	size_t k;

	if (NAME_IS(name, "lr")) {
		if (u->lr)
			return fail(why, "duplicate parameter");
		u->lr = true;
		return 0;
	}
	k = known_index(name);
	if (k == N_KNOWN)
		return 0;
	if (slice_present(*known_slot(u, k)))
		return fail(why, "duplicate parameter");
	if (!slice_present(val))
		return fail(why, "missing parameter value");
	if (!known_value_ok(known_params[k].check, val))
		return fail(why, "bad parameter value");
	*known_slot(u, k) = val;
	return 0;
}

/*
 * One parameter, s[*pos] being its ';':
 * sip: other-param = pname [ "=" pvalue ]; pname = pvalue = 1*paramchar
 *      (RFC 3261 §25), the well-known ones recorded in the struct
 * tel: parameter = ";" pname [ "=" pvalue ]; pname = 1*( alphanum / "-" ),
 *      pvalue = 1*paramchar (RFC 3966 §3)
 */
static int parse_param(struct sip_uri *u, const char *s, size_t *pos, size_t n,
		       const char **why)
{
	bool sip = u->scheme != SIP_URI_TEL;
	size_t name = *pos + 1, i, val;
	struct slice v = SLICE_NULL, nm;

	i = sip ? scan(s, name, n, M_PARAM) : span(s, name, n, CC_LDH);
	if (i == name)
		return fail(why, char_reason(s, i, n, "empty parameter name"));
	nm = slice_make(s + name, i - name);
	if (i < n && s[i] == '=') {
		val = ++i;
		i = scan(s, i, n, M_PARAM);
		if (i == val)
			return fail(why, char_reason(s, i, n,
						     "empty parameter value"));
		v = slice_make(s + val, i - val);
	}
	*pos = i;
	return sip ? set_known_param(u, nm, v, why) : 0;
}

/* uri-parameters = *( ";" uri-parameter ): up to the first byte past them */
static int parse_params(struct sip_uri *u, const char *s, size_t *pos, size_t n,
			const char **why)
{
	size_t i = *pos;
	int err;

	while (i < n && s[i] == ';') {
		err = parse_param(u, s, &i, n, why);
		if (err)
			return err;
	}
	u->params = slice_make(s + *pos, i - *pos);
	*pos = i;
	return 0;
}

/*
 * headers = "?" header *( "&" header ); header = hname "=" hvalue
 * hname = 1*( hnv-unreserved / unreserved / escaped ); hvalue = *( same )
 * i is just past the '?'; the headers run to the end of the text.
 */
static int parse_headers(struct sip_uri *u, const char *s, size_t i, size_t n,
			 const char **why)
{
	size_t start = i, name;

	for (;;) {
		name = i;
		i = scan(s, i, n, M_HNV);
		if (i == name)
			return fail(why,
				    char_reason(s, i, n, "empty header name"));
		if (i == n || s[i] != '=')
			return fail(why, char_reason(s, i, n, "bad header"));
		i = scan(s, i + 1, n, M_HNV);
		if (i == n)
			break;
		if (s[i] != '&')
			return fail(why, char_reason(s, i, n, "bad header"));
		i++;
	}
	u->headers = slice_make(s + start, n - start);
	return 0;
}

/*
 * SIP-URI  = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
 * SIPS-URI = "sips:" [ userinfo ] hostport uri-parameters [ headers ]
 * No raw '@' may follow the userinfo (it is neither paramchar nor
 * hnv-unreserved), so the first '@' in the text, if any, ends the userinfo.
 */
static int parse_sip(struct sip_uri *u, const char *s, size_t i, size_t n,
		     const char **why)
{
	const char *at = memchr(s + i, '@', n - i);
	int err;

	if (at) {
		size_t e = (size_t)(at - s);

		err = parse_userinfo(u, s, i, e, why);
		if (err)
			return err;
		i = e + 1;
	}
	err = parse_hostport(u, s, &i, n, why);
	if (!err && i < n && s[i] == ';')
		err = parse_params(u, s, &i, n, why);
	if (err || i == n)
		return err;
	if (s[i] != '?')
		return fail(why, char_reason(s, i, n, "bad parameter"));
	return parse_headers(u, s, i + 1, n, why);
}

/*
 * telephone-subscriber = global-number / local-number (RFC 3966 §3)
 * global-number-digits = "+" *phonedigit DIGIT *phonedigit
 * local-number-digits  = *phonedigit-hex ( HEXDIG / "*" / "#" )
 *                        *phonedigit-hex
 * phonedigit(-hex) also admit visual-separator. The phone-context that a
 * local number requires is not enforced: such URIs are common in the wild.
 */
static int parse_tel(struct sip_uri *u, const char *s, size_t i, size_t n,
		     const char **why)
{
	size_t start = i;
	unsigned digit = CC_TELHEX;
	bool seen = false;
	int err;

	if (i < n && s[i] == '+') {
		digit = CC_DIGIT;
		i++;
	}
	for (; i < n; i++) {
		unsigned k = cls(s[i]);

		if (k & digit)
			seen = true;
		else if (!(k & CC_VISUAL))
			break;
	}
	if (!seen)
		return fail(why, char_reason(s, i, n, "bad telephone number"));
	u->user = slice_make(s + start, i - start);
	if (i < n && s[i] == ';') {
		err = parse_params(u, s, &i, n, why);
		if (err)
			return err;
	}
	if (i != n)
		return fail(why, char_reason(s, i, n, "bad telephone number"));
	return 0;
}

/*
 * Any other absoluteURI = scheme ":" 1*uric, kept whole: uric per RFC 2396
 * §2 plus "[" "]" (RFC 2732), escapes checked.
 */
static int parse_other(const char *s, size_t i, size_t n, const char **why)
{
	size_t e = scan(s, i, n, M_URIC);

	if (e == i || e != n)
		return fail(why, char_reason(s, e, n, "bad URI"));
	return 0;
}

static enum sip_uri_scheme scheme_of(struct slice name)
{
	if (NAME_IS(name, "sip"))
		return SIP_URI_SIP;
	if (NAME_IS(name, "sips"))
		return SIP_URI_SIPS;
	if (NAME_IS(name, "tel"))
		return SIP_URI_TEL;
	return SIP_URI_OTHER;
}

int sip_uri_known_param(struct sip_uri *u, struct slice name, struct slice val)
{
	return set_known_param(u, name, val, NULL);
}

/* The full parser: every form of RFC 3261 §25, RFC 3966 and the rest;
 * *uri is written only on success. */
int sip_uri_parse_full(struct sip_uri *uri, struct slice text, const char **why)
{
	struct sip_uri u = { .raw = text };
	const char *s = text.p;
	size_t n = text.len, i = 0;
	int err;

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (n > 0 && (cls(s[0]) & CC_ALPHA))
		i = span(s, 0, n, CC_SCHEME);
	if (i == 0 || i == n || s[i] != ':')
		return fail(why, char_reason(s, i, n, "bad scheme"));
	u.scheme_text = slice_make(s, i);
	u.scheme = scheme_of(u.scheme_text);
	i++;
	switch (u.scheme) {
	case SIP_URI_SIP:
	case SIP_URI_SIPS:
		err = parse_sip(&u, s, i, n, why);
		break;
	case SIP_URI_TEL:
		err = parse_tel(&u, s, i, n, why);
		break;
	default:
		err = parse_other(s, i, n, why);
		break;
	}
	if (!err)
		*uri = u;
	return err;
}

int sip_uri_parse(struct sip_uri *uri, struct slice text, const char **why)
{
	struct sip_uri u;

	if (!uri || (!text.p && text.len))
		return EINVAL;
	if (text.p && sip_uri_fast(&u, text.p, text.len, text.p + text.len)) {
		*uri = u;
		return 0;
	}
	return sip_uri_parse_full(uri, text, why);
}

int sip_uri_parse_in(struct sip_uri *uri, struct slice text, const char *rend,
		     const char **why)
{
	if (sip_uri_fast(uri, text.p, text.len, rend))
		return 0;
	return sip_uri_parse_full(uri, text, why);
}

/*
 * Next ";name[=value]" of a parsed parameter list (which starts with ';').
 * A flag gets an empty, present value. False at the end.
 */
static bool param_next(struct slice *rest, struct slice *name,
		       struct slice *value)
{
	struct slice item;
	size_t eq;

	if (rest->len < 2)
		return false;
	*rest = slice_sub(*rest, 1, SIZE_MAX);
	item = slice_sub(*rest, 0, slice_find(*rest, ';'));
	eq = slice_find(item, '=');
	*name = slice_sub(item, 0, eq);
	*value = slice_sub(item, eq + 1, SIZE_MAX);
	*rest = slice_sub(*rest, item.len, SIZE_MAX);
	return true;
}

bool sip_uri_param(const struct sip_uri *uri, struct slice name,
		   struct slice *value)
{
	struct slice rest, n, v;

	if (!uri)
		return false;
	rest = uri->params;
	while (param_next(&rest, &n, &v)) {
		if (slice_caseeq(n, name)) {
			if (value)
				*value = v;
			return true;
		}
	}
	return false;
}

/*
 * One comparison unit of escaped text: a byte, or the byte a "%HH" stands
 * for. RFC 3261 §19.1.4 makes only characters outside "reserved" equal to
 * their escaped form, so an escaped reserved byte gets a distinct unit
 * (0x100 | byte) that still ignores the case of its hex digits.
 */
static unsigned next_unit(struct slice s, size_t *i, bool icase)
{
	unsigned char c = (unsigned char)s.p[*i];

	if (c == '%' && s.len - *i >= 3 && (cls(s.p[*i + 1]) & CC_HEX) &&
	    (cls(s.p[*i + 2]) & CC_HEX)) {
		c = (unsigned char)(hexval((unsigned char)s.p[*i + 1]) << 4 |
				    hexval((unsigned char)s.p[*i + 2]));
		*i += 3;
		if (cls(c) & CC_RESERVED)
			return 0x100u | c;
	} else {
		*i += 1;
	}
	return icase ? lower(c) : c;
}

static bool esc_eq(struct slice a, struct slice b, bool icase)
{
	size_t i = 0, j = 0;

	while (i < a.len && j < b.len) {
		if (next_unit(a, &i, icase) != next_unit(b, &j, icase))
			return false;
	}
	return i == a.len && j == b.len;
}

/* Both absent, or both present and equal after unescaping. */
static bool opt_eq(struct slice a, struct slice b, bool icase)
{
	if (slice_present(a) != slice_present(b))
		return false;
	return esc_eq(a, b, icase);
}

/* Host names case-insensitively; IP addresses by value (RFC 5954 §4). */
static bool host_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	uint8_t x[16], y[16];
	struct slice ha = a->host, hb = b->host;

	if (a->host_kind != b->host_kind)
		return false;
	if (a->host_kind == SIP_HOST_IPV4 && parse_ipv4(ha.p, ha.len, x) &&
	    parse_ipv4(hb.p, hb.len, y))
		return memcmp(x, y, 4) == 0;
	if (a->host_kind == SIP_HOST_IPV6 && ha.len > 2 && hb.len > 2 &&
	    parse_ipv6(ha.p + 1, ha.len - 2, x) &&
	    parse_ipv6(hb.p + 1, hb.len - 2, y))
		return memcmp(x, y, 16) == 0;
	return slice_caseeq(ha, hb);
}

/* Is v the first value of parameter `name`? Only the first one counts. */
static bool first_param(const struct sip_uri *u, struct slice name,
			struct slice v)
{
	struct slice first;

	return sip_uri_param(u, name, &first) && first.p == v.p;
}

static bool params_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	struct slice rest = a->params, name, va, vb;

	/* user, ttl, method, maddr, transport: compared when in either */
	for (size_t k = 0; k < N_KNOWN; k++) {
		if (!opt_eq(known_value(a, k), known_value(b, k), true))
			return false;
	}
	/* any other parameter counts only when both URIs carry it */
	while (param_next(&rest, &name, &va)) {
		if (known_index(name) < N_KNOWN || !first_param(a, name, va))
			continue;
		if (sip_uri_param(b, name, &vb) && !esc_eq(va, vb, true))
			return false;
	}
	return true;
}

/* Next "hname=hvalue" of a parsed header list. False at the end. */
static bool header_next(struct slice *rest, struct slice *name,
			struct slice *value)
{
	struct slice item;
	size_t eq;

	if (rest->len == 0)
		return false;
	item = slice_sub(*rest, 0, slice_find(*rest, '&'));
	eq = slice_find(item, '=');
	*name = slice_sub(item, 0, eq);
	*value = slice_sub(item, eq + 1, SIZE_MAX);
	*rest = slice_sub(*rest, item.len + 1, SIZE_MAX);
	return true;
}

/* How many headers of list are name=value; all of them if name.p is NULL. */
static size_t header_count(struct slice list, struct slice name,
			   struct slice value)
{
	struct slice n, v;
	size_t count = 0;

	while (header_next(&list, &n, &v)) {
		if (!name.p ||
		    (esc_eq(n, name, true) && esc_eq(v, value, true)))
			count++;
	}
	return count;
}

/*
 * RFC 3261 §19.1.4: headers are never ignored; they match as a multiset
 * (order is free, each one must appear as often in both).
 */
static bool headers_equal(struct slice a, struct slice b)
{
	struct slice rest = a, n, v;

	if (header_count(a, SLICE_NULL, SLICE_NULL) !=
	    header_count(b, SLICE_NULL, SLICE_NULL))
		return false;
	while (header_next(&rest, &n, &v)) {
		if (header_count(a, n, v) != header_count(b, n, v))
			return false;
	}
	return true;
}

static bool sip_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	/* userinfo is case-sensitive; a port is never equal to its absence */
	return opt_eq(a->user, b->user, false) &&
	       opt_eq(a->password, b->password, false) && host_equal(a, b) &&
	       a->port == b->port && params_equal(a, b) &&
	       headers_equal(a->headers, b->headers);
}

/* Phone digits, ignoring visual separators and case (RFC 3966 §4). */
static bool digits_eq(struct slice a, struct slice b)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < a.len && (cls(a.p[i]) & CC_VISUAL))
			i++;
		while (j < b.len && (cls(b.p[j]) & CC_VISUAL))
			j++;
		if (i == a.len || j == b.len)
			return i == a.len && j == b.len;
		if (lower((unsigned char)a.p[i++]) !=
		    lower((unsigned char)b.p[j++]))
			return false;
	}
}

/* ext and a numeric phone-context compare as digits (RFC 3966 §4). */
static bool tel_value_eq(struct slice name, struct slice x, struct slice y)
{
	if (NAME_IS(name, "ext") || (slice_caseeq_cstr(name, "phone-context") &&
				     x.len && x.p[0] == '+'))
		return digits_eq(x, y);
	return esc_eq(x, y, true);
}

/* Every parameter of a is in b with an equal value. */
static bool tel_params_in(const struct sip_uri *a, const struct sip_uri *b)
{
	struct slice rest = a->params, name, va, vb;

	while (param_next(&rest, &name, &va)) {
		if (!first_param(a, name, va))
			continue;
		if (!sip_uri_param(b, name, &vb) || !tel_value_eq(name, va, vb))
			return false;
	}
	return true;
}

bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	struct slice ra, rb;

	if (!a || !b || a->scheme != b->scheme)
		return false;
	switch (a->scheme) {
	case SIP_URI_TEL:
		return digits_eq(a->user, b->user) && tel_params_in(a, b) &&
		       tel_params_in(b, a);
	case SIP_URI_OTHER:
		/* scheme names are case-insensitive (RFC 3986 §3.1) */
		ra = slice_sub(a->raw, a->scheme_text.len, SIZE_MAX);
		rb = slice_sub(b->raw, b->scheme_text.len, SIZE_MAX);
		return slice_caseeq(a->scheme_text, b->scheme_text) &&
		       slice_eq(ra, rb);
	default:
		return sip_equal(a, b);
	}
}

uint16_t sip_uri_port_or_default(const struct sip_uri *uri)
{
	if (uri->port)
		return uri->port;
	return uri->scheme == SIP_URI_SIPS ? 5061 : 5060;
}
