/* SPDX-License-Identifier: MIT */
/* Helpers shared by core's SIP parser files; not a public interface. */
#ifndef DUET_CORE_SIP_INTERNAL_H
#define DUET_CORE_SIP_INTERNAL_H

#include <stdatomic.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "duet/err.h"
#include "duet/sip_hdr.h"
#include "duet/sip_uri.h"

/* The case-folded hash of a header name (n >= 1): its length and its first
 * and last bytes, so finding a name's end costs no per-byte hashing. The
 * factors spread the known names over the slots with few collisions. */
static inline uint32_t sip_hdr_hash(const char *p, size_t n)
{
	return ((unsigned char)p[0] | 0x20u) * 6 +
	       ((unsigned char)p[n - 1] | 0x20u) * 3 + (uint32_t)n * 17;
}

/*
 * Case-insensitive equality for token text against a lower- or mixed-case
 * literal: `|0x20` folds letters and maps no other token character
 * (RFC 3261 §25) onto a letter or '-', so it is exact for tokens. Eight
 * bytes at a time.
 */
static inline bool sip_token_caseeq(const char *a, const char *b, size_t n)
{
	const uint64_t fold8 = 0x2020202020202020ull;
	const uint32_t fold4 = 0x20202020u;
	uint64_t x, y;
	uint32_t u, v;

	if (n >= 8) {
		/* whole words, then one last word overlapping the previous */
		for (size_t i = 0; i + 8 <= n; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if ((x | fold8) != (y | fold8))
				return false;
		}
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return (x | fold8) == (y | fold8);
	}
	if (n >= 4) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		if ((u | fold4) != (v | fold4))
			return false;
		memcpy(&u, a + n - 4, 4);
		memcpy(&v, b + n - 4, 4);
		return (u | fold4) == (v | fold4);
	}
	for (size_t i = 0; i < n; i++) {
		if ((a[i] | 0x20) != (b[i] | 0x20))
			return false;
	}
	return true;
}

/* Is token slice s the literal lit (case-insensitively)? */
#define SIP_TOKEN_IS(s, lit)                                                   \
	((s).len == sizeof(lit) - 1 &&                                         \
	 sip_token_caseeq((s).p, lit, sizeof(lit) - 1))

/*
 * The first CR, LF or NUL in [p, end), or end: 16 bytes at a step where
 * SSE2 is available (the start line, and the ends of lines the header
 * indexing does not take 16 or 32 bytes at a time).
 */
const char *sip_scan_line_end(const char *p, const char *end);

/* The header table (core/sip_hdr.c): one row per id, and the name lookup
 * tables built from it once. */
struct sip_hdr_row {
	struct slice name;
	char compact;
	unsigned flags;
};

extern const struct sip_hdr_row sip_hdr_rows[SIP_HDR_COUNT];
#define SIP_HDR_SLOTS 256
extern uint8_t sip_hdr_slots[SIP_HDR_SLOTS]; /* ids by name hash, 0 free */
extern uint8_t sip_hdr_compact[26];	     /* ids by compact form */
extern atomic_bool sip_hdr_ready;	     /* the two above are built */
void sip_hdr_tables_build(void);
#if defined(__SSE2__)
/* Each long name of at most 16 bytes, OR 0x20 (letters lower-cased, '-'
 * kept), zero-padded to 16 bytes: compared against a line in one step. */
extern _Alignas(16) uint8_t sip_hdr_folded[SIP_HDR_COUNT][16];
/* The ids of the long names of 2 to 15 bytes by first letter (OR 0x20,
 * low five bits) and length, up to four each, 0 after the last. */
#define SIP_HDR_SHORT_WAYS 4
extern uint8_t sip_hdr_short[32][16][SIP_HDR_SHORT_WAYS];
#endif

static inline unsigned sip_hdr_slot(uint32_t h)
{
	return h & (SIP_HDR_SLOTS - 1);
}

/* Build the lookup tables if no one has yet (one acquire load after). */
static inline void sip_hdr_tables_ready(void)
{
	if (!atomic_load_explicit(&sip_hdr_ready, memory_order_acquire))
		sip_hdr_tables_build();
}

/*
 * The id of token name p[0..n) (n >= 1) with hash sip_hdr_hash(p, n):
 * compact forms by letter, long names by open addressing.
 */
static inline enum sip_hdr_id sip_hdr_find(const char *p, size_t n,
					   uint32_t hash)
{
	sip_hdr_tables_ready();
	if (n == 1) {
		unsigned c = (unsigned char)p[0] | 0x20u;

		if (c >= 'a' && c <= 'z')
			return (enum sip_hdr_id)sip_hdr_compact[c - 'a'];
		return SIP_HDR_OTHER;
	}
	for (unsigned s = sip_hdr_slot(hash);;
	     s = (s + 1) & (SIP_HDR_SLOTS - 1)) {
		unsigned id = sip_hdr_slots[s];

		if (id == 0)
			return SIP_HDR_OTHER;
		if (sip_hdr_rows[id].name.len == n &&
		    sip_token_caseeq(sip_hdr_rows[id].name.p, p, n))
			return (enum sip_hdr_id)id;
	}
}

#if defined(__SSE2__)
/*
 * sip_hdr_find() for a name of n (2..15) bytes at p, held in v (p's first
 * 16 bytes), followed by ':' and with no CR before it, once
 * sip_hdr_tables_ready() was called. The candidate's
 * folded name is compared with v OR 0x20 in one step: OR 0x20 maps only a
 * letter's two cases onto a lower-case letter, and only '-' and CR onto
 * '-', so the match is exact.
 */
static inline enum sip_hdr_id sip_hdr_find_block(__m128i v, const char *p,
						 unsigned n)
{
	const __m128i lv = _mm_or_si128(v, _mm_set1_epi8(0x20));
	const unsigned want = (1u << n) - 1;
	const uint8_t *ids;

	/* the candidates of this first letter and length */
	ids = sip_hdr_short[((unsigned char)p[0] | 0x20u) & 31][n];
	for (unsigned k = 0; k < SIP_HDR_SHORT_WAYS && ids[k]; k++) {
		__m128i c = _mm_load_si128(
			(const __m128i *)(const void *)sip_hdr_folded[ids[k]]);

		if (((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(lv, c)) &
		     want) == want)
			return (enum sip_hdr_id)ids[k];
	}
	return SIP_HDR_OTHER;
}
#endif

/* Character classes of RFC 3261 §25 used by the message parsers. */
enum {
	SIP_C_TOKEN = 0x01, /* token: alphanum -.!%*_+`'~ */
	SIP_C_WS = 0x02,    /* SP HTAB CR LF: LWS once a field is unfolded */
	SIP_C_DIGIT = 0x04,
	SIP_C_HOST = 0x08, /* hostname, IPv4 and IPv6 text: alnum - . : [ ] */
	SIP_C_WORD = 0x10, /* word (Call-ID): token + ()<>:\"/[]?{} */
	SIP_C_LDH = 0x20,  /* alphanum and '-': hostname labels */
	/* URI user: unreserved / user-unreserved (no escapes) */
	SIP_C_UUSER = 0x40,
	/* URI paramchar: unreserved / param-unreserved (no escapes) */
	SIP_C_UPARAM = 0x80,
};

extern const unsigned char sip_ctype[256];

static inline bool sip_is(unsigned char c, unsigned cls)
{
	return (sip_ctype[c] & cls) != 0;
}

/*
 * Validate a whole host (RFC 3261 §25 host = hostname / IPv4address /
 * IPv6reference). `brackets` says whether an IPv6 address must be in
 * brackets (URI, Via sent-by) or may stand bare or bracketed (Via received,
 * RFC 5118 §4.5). Returns 0 and sets *kind, or EBADMSG.
 */
int sip_host_parse(struct slice host, bool brackets, enum sip_host_kind *kind);

/* sip_host_fast() byte by byte. */
const char *sip_host_fast_scalar(const char *p, const char *end,
				 enum sip_host_kind *kind);

#if defined(__SSE2__)
/*
 * An IPv4address among the n (< 16) digits and dots at p whose dots are
 * d (a mask, no two adjacent, none first or last): three dots, octets of
 * at most three digits, the three-digit ones at most 255.
 */
static inline bool sip_ipv4_mask(const char *p, unsigned n, unsigned d)
{
	unsigned digits = ((1u << n) - 1) & ~d, d2 = d & (d - 1), three;

	d2 &= d2 - 1;
	if (!d2 || (d2 & (d2 - 1)))
		return false; /* not three dots */
	three = digits & (digits >> 1) & (digits >> 2);
	if (three & (digits >> 3))
		return false; /* an octet of four digits or more */
	for (; three; three &= three - 1) {
		const char *o = p + __builtin_ctz(three);

		if ((o[0] - '0') * 100 + (o[1] - '0') * 10 + (o[2] - '0') > 255)
			return false;
	}
	return true;
}
#endif

/*
 * The common hosts only, in one pass: a hostname whose labels are not empty
 * and neither start nor end with '-', without a trailing dot, or a valid
 * IPv4address. Scans the run of alphanum, '-' and '.' from p (not beyond
 * end) and returns its end with *kind set, or NULL when the run is empty or
 * unusual: the full validators then decide. Bytes up to rend (>= end) may
 * be read: with SSE2, 16 bytes are classified at a time, the label rules
 * checked on bit masks (a dot or hyphen right after a dot or the start, a
 * dot right after a hyphen).
 */
static inline __attribute__((always_inline)) const char *
sip_host_fast(const char *p, const char *end, const char *rend,
	      enum sip_host_kind *kind)
{
#if defined(__SSE2__)
	const __m128i x20 = _mm_set1_epi8(0x20);
	const char *q = p;
	unsigned after_dot = 1, after_hyphen = 0, letters = 0;

	while (rend - q >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
		__m128i lc = _mm_or_si128(v, x20);
		__m128i al = _mm_and_si128(
			_mm_cmpgt_epi8(lc, _mm_set1_epi8('a' - 1)),
			_mm_cmplt_epi8(lc, _mm_set1_epi8('z' + 1)));
		__m128i dg = _mm_and_si128(
			_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
			_mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
		__m128i dm = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
		__m128i hm = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
		unsigned ok = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(al, dg), _mm_or_si128(dm, hm)));
		unsigned n = (unsigned)__builtin_ctz(~ok), keep, d, h;

		if (end - q < (ptrdiff_t)n)
			n = (unsigned)(end - q);
		keep = (1u << n) - 1;
		d = (unsigned)_mm_movemask_epi8(dm) & keep;
		h = (unsigned)_mm_movemask_epi8(hm) & keep;
		if (((d | h) & (d << 1 | after_dot)) |
		    (d & (h << 1 | after_hyphen)))
			return NULL;
		letters |= ((unsigned)_mm_movemask_epi8(al) | h) & keep;
		if (n < 16) {
			q += n;
			if (q == p || q[-1] == '-' || q[-1] == '.')
				return NULL;
			if (letters) {
				*kind = SIP_HOST_NAME;
				return q;
			}
			/* digits and dots: an IPv4address, within one block */
			if (q - p >= 16 || !sip_ipv4_mask(p, n, d))
				return NULL;
			*kind = SIP_HOST_IPV4;
			return q;
		}
		after_dot = d >> 15;
		after_hyphen = h >> 15;
		q += 16;
	}
#else
	(void)rend;
#endif
	return sip_host_fast_scalar(p, end, kind);
}

/*
 * The run of class cls (SIP_C_TOKEN, alone or with SIP_C_HOST) from p, not
 * beyond end. Alphanumerics, '-' and '.', which both classes hold, are
 * skipped 16 at a time with SSE2 when bytes up to rend (>= end) may be
 * read; the bytes between them are looked up one by one.
 */
static inline const char *sip_span_token(const char *p, const char *end,
					 const char *rend, unsigned cls)
{
#if defined(__SSE2__)
	while (rend - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i lc = _mm_or_si128(v, _mm_set1_epi8(0x20));
		__m128i ok = _mm_or_si128(
			_mm_and_si128(
				_mm_cmpgt_epi8(lc, _mm_set1_epi8('a' - 1)),
				_mm_cmplt_epi8(lc, _mm_set1_epi8('z' + 1))),
			_mm_and_si128(
				_mm_cmpgt_epi8(v, _mm_set1_epi8('-' - 1)),
				_mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1))));
		/* '-' to '9' holds '/' too: take it out */
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(
			_mm_cmpeq_epi8(v, _mm_set1_epi8('/')), ok));

		p += __builtin_ctz(~m);
		if (p >= end)
			return end;
		if (m != 0xffffu) {
			if (!sip_is((unsigned char)*p, cls))
				return p;
			p++;
		}
	}
#else
	(void)rend;
#endif
	while (p < end && sip_is((unsigned char)*p, cls))
		p++;
	return p;
}

/* slice_trim() inlined: drop leading and trailing SP, HTAB, CR and LF. */
static inline struct slice sip_trim(const char *p, const char *end)
{
	while (p < end && sip_is((unsigned char)*p, SIP_C_WS))
		p++;
	while (end > p && sip_is((unsigned char)end[-1], SIP_C_WS))
		end--;
	return slice_make(p, (size_t)(end - p));
}

/*
 * slice_to_u32() inlined for the parser: s must be 1*DIGIT with a value at
 * most max (max >= 9). Returns 0 and sets *out, or EBADMSG.
 */
static inline int sip_dec_u32(struct slice s, uint32_t max, uint32_t *out)
{
	/* values only grow digit by digit, so within 19 digits (no uint64
	 * overflow) the value at the end alone is checked against max */
	size_t i = 0, head = s.len < 19 ? s.len : 19;
	uint64_t v = 0;

	if (s.len == 0)
		return EBADMSG;
	for (; i < head; i++) {
		unsigned d = (unsigned)(unsigned char)s.p[i] - '0';

		if (d > 9)
			return EBADMSG;
		v = v * 10 + d;
	}
	if (v > max)
		return EBADMSG;
	for (; i < s.len; i++) { /* then max <= 2**32 keeps v from wrapping */
		unsigned d = (unsigned)(unsigned char)s.p[i] - '0';

		if (d > 9)
			return EBADMSG;
		v = v * 10 + d;
		if (v > max)
			return EBADMSG;
	}
	*out = (uint32_t)v;
	return 0;
}

/*
 * port = 1*DIGIT as the parsers' fast paths take it: one to five digits at
 * *pe (not beyond end) with a value of 1 to 65535, *pe moved past them.
 * Returns the value, or 0 for anything else (no digits, 0, too big, or a
 * sixth digit, which the caller's next check refuses).
 */
static inline uint32_t sip_port_fast(const char **pe, const char *end)
{
	const char *e = *pe, *d;
	uint32_t v = 0;

	/* four digits and then no digit: "5060" and most other ports */
	if (end - e >= 5 && (unsigned)(e[0] - '0') < 10 &&
	    (unsigned)(e[1] - '0') < 10 && (unsigned)(e[2] - '0') < 10 &&
	    (unsigned)(e[3] - '0') < 10 && (unsigned)(e[4] - '0') >= 10) {
		*pe = e + 4;
		return (uint32_t)((e[0] - '0') * 1000 + (e[1] - '0') * 100 +
				  (e[2] - '0') * 10 + (e[3] - '0'));
	}
	/* five digits and then no digit: the ephemeral ports of clients
	 * (rport, NAT bindings) */
	if (end - e >= 5 && (unsigned)(e[0] - '0') < 10 &&
	    (unsigned)(e[1] - '0') < 10 && (unsigned)(e[2] - '0') < 10 &&
	    (unsigned)(e[3] - '0') < 10 && (unsigned)(e[4] - '0') < 10 &&
	    (end - e == 5 || (unsigned)(e[5] - '0') >= 10)) {
		*pe = e + 5;
		v = (uint32_t)((e[0] - '0') * 10000 + (e[1] - '0') * 1000 +
			       (e[2] - '0') * 100 + (e[3] - '0') * 10 +
			       (e[4] - '0'));
		return v <= 65535 ? v : 0;
	}
	for (d = e; e < end && e - d < 5 && (unsigned)(*e - '0') < 10; e++)
		v = v * 10 + (uint32_t)(*e - '0');
	*pe = e;
	return v <= 65535 ? v : 0;
}

/* The commas in [p, end); bytes up to rend (>= end) may be read. */
static inline unsigned sip_commas(const char *p, const char *end,
				  const char *rend)
{
	unsigned n = 0;

#if defined(__SSE2__)
	if (rend - end >= 16) { /* every load from below end fits */
		for (; p < end; p += 16) {
			__m128i v = _mm_loadu_si128(
				(const __m128i *)(const void *)p);
			unsigned m = (unsigned)_mm_movemask_epi8(
				_mm_cmpeq_epi8(v, _mm_set1_epi8(',')));

			if (!m)
				continue;
			if (end - p < 16)
				m &= (1u << (end - p)) - 1;
			for (; m; m &= m - 1)
				n++;
		}
		return n;
	}
#else
	(void)rend;
#endif
	for (; p < end; p++)
		n += *p == ',';
	return n;
}

/*
 * The first c in [p, end), or NULL. Bytes up to rend (>= end) may be read:
 * with SSE2 and 16 readable bytes, 16 are compared at a time.
 */
static inline const char *sip_find_byte(const char *p, const char *end,
					const char *rend, char c)
{
#if defined(__SSE2__)
	const __m128i k = _mm_set1_epi8(c);

	while (p < end && rend - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, k));

		if (m) {
			p += __builtin_ctz(m);
			return p < end ? p : NULL;
		}
		p += 16;
	}
#else
	(void)rend;
#endif
	return p < end ? memchr(p, c, (size_t)(end - p)) : NULL;
}

/* A well-known URI parameter other than lr and transport (core/sip_uri.c,
 * set_known_param): 0, or EBADMSG. */
int sip_uri_known_param(struct sip_uri *u, struct slice name, struct slice val);

/* The full URI parser (core/sip_uri.c): *uri is set only on success. */
int sip_uri_parse_full(struct sip_uri *uri, struct slice text,
		       const char **why);

/*
 * The common SIP-URI in one pass, a subset of RFC 3261 §25:
 *   ( "sip:" / "sips:" ) [ user "@" ] host [ ":" port ] *( ";" param )
 * with no escapes, password, IPv6 reference or headers, and only valid
 * well-known parameters. Fills *u and returns true, or returns false for
 * anything else (the full parser then decides; *u is partly written). The
 * first '@' ends the userinfo as in the full parser; '@' fits no later
 * part. Bytes up to rend (>= s + n) may be read.
 */
static inline __attribute__((always_inline)) bool
sip_uri_fast(struct sip_uri *u, const char *s, size_t n, const char *rend)
{
	static const char sip_colon[4] = { 's', 'i', 'p', ':' };
	static const char fold3[4] = { 0x20, 0x20, 0x20, 0 };
	const char *end = s + n, *q, *at, *e;
	uint32_t port = 0, w, k, f;

	if (n < 5)
		return false;
	/* "sip:" with the name case-insensitive, as one word */
	memcpy(&w, s, 4);
	memcpy(&k, sip_colon, 4);
	memcpy(&f, fold3, 4);
	if ((w | f) == k) {
		u->scheme = SIP_URI_SIP;
		q = s + 4;
	} else if ((s[0] | 0x20) == 's' && (s[1] | 0x20) == 'i' &&
		   (s[2] | 0x20) == 'p' && (s[3] | 0x20) == 's' &&
		   s[4] == ':') {
		u->scheme = SIP_URI_SIPS;
		q = s + 5;
	} else {
		return false;
	}
	u->scheme_text = slice_make(s, (size_t)(q - s - 1));
	u->user = SLICE_NULL;
	if ((at = sip_find_byte(q, end, rend, '@')) != NULL) {
		/* user = 1*( unreserved / user-unreserved ) here */
		for (e = q; e < at && sip_is((unsigned char)*e, SIP_C_UUSER);
		     e++)
			;
		if (e != at || e == q)
			return false;
		u->user = slice_make(q, (size_t)(at - q));
		q = at + 1;
	}
	e = sip_host_fast(q, end, rend, &u->host_kind);
	if (!e)
		return false;
	u->host = slice_make(q, (size_t)(e - q));
	if (e < end && *e == ':') { /* port = 1*5DIGIT, 1..65535 */
		e++;
		if (!(port = sip_port_fast(&e, end)))
			return false;
	}
	u->port = (uint16_t)port;
	u->transport = u->maddr = u->user_param = u->method = u->ttl =
		SLICE_NULL;
	u->lr = false;
	u->params = SLICE_NULL;
	if (e < end && *e == ';') { /* pname [ "=" pvalue ], unescaped */
		q = e;
		do {
			const char *nm = ++e, *v;
			struct slice name, val = SLICE_NULL;

			while (e < end &&
			       sip_is((unsigned char)*e, SIP_C_UPARAM))
				e++;
			if (e == nm)
				return false;
			name = slice_make(nm, (size_t)(e - nm));
			if (e < end && *e == '=') {
				v = ++e;
				while (e < end &&
				       sip_is((unsigned char)*e, SIP_C_UPARAM))
					e++;
				if (e == v)
					return false;
				val = slice_make(v, (size_t)(e - v));
			}
			if (name.len == 2 && (nm[0] | 0x20) == 'l' &&
			    (nm[1] | 0x20) == 'r') { /* lr, the common one */
				if (u->lr)
					return false;
				u->lr = true;
			} else if (name.len == 9 &&
				   sip_token_caseeq(nm, "transport", 9)) {
				/* transport-param: once, a token value */
				const char *t = val.p;

				if (!t || u->transport.p)
					return false;
				while (t < val.p + val.len &&
				       sip_is((unsigned char)*t, SIP_C_TOKEN))
					t++;
				if (t != val.p + val.len)
					return false;
				u->transport = val;
			} else if (sip_uri_known_param(u, name, val)) {
				return false;
			}
		} while (e < end && *e == ';');
		u->params = slice_make(q, (size_t)(e - q));
	}
	if (e != end)
		return false;
	u->raw = slice_make(s, n);
	u->password = SLICE_NULL;
	u->headers = SLICE_NULL;
	return true;
}

/*
 * sip_uri_parse() for the message parser: writes *uri in place (garbage on
 * error, which the caller discards) and may read up to rend (>= the text's
 * end) to scan faster.
 */
int sip_uri_parse_in(struct sip_uri *uri, struct slice text, const char *rend,
		     const char **why);

#endif
