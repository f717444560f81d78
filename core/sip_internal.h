/* SPDX-License-Identifier: MIT */
/* Helpers shared by core's SIP parser files; not a public interface. */
#ifndef DUET_CORE_SIP_INTERNAL_H
#define DUET_CORE_SIP_INTERNAL_H

#include <string.h>

#include "duet/sip_hdr.h"
#include "duet/sip_uri.h"

/* The case-folded hash of a header name (n >= 1): its length and three of
 * its bytes, so finding a name's end costs no per-byte hashing. */
static inline uint32_t sip_hdr_hash(const char *p, size_t n)
{
	uint32_t h = (uint32_t)n * 0x9e3779b1u;

	h ^= (uint32_t)((unsigned char)p[0] | 0x20u) * 0x85ebca6bu;
	h ^= (uint32_t)((unsigned char)p[n - 1] | 0x20u) * 0xc2b2ae35u;
	h ^= (uint32_t)((unsigned char)p[n / 2] | 0x20u) * 0x27d4eb2fu;
	return h ^ (h >> 15);
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
#define SIP_TOKEN_IS(s, lit)                                                 \
	((s).len == sizeof(lit) - 1 &&                                       \
	 sip_token_caseeq((s).p, lit, sizeof(lit) - 1))

/*
 * The first CR, LF or NUL in [p, end), or end. The header section is
 * scanned once with this, 16 bytes at a step where SSE2 is available.
 */
const char *sip_scan_line_end(const char *p, const char *end);

/* sip_hdr_lookup() for a token name whose hash the caller computed. */
enum sip_hdr_id sip_hdr_lookup_hashed(struct slice name, uint32_t hash);

/* Character classes of RFC 3261 §25 used by the message parsers. */
enum {
	SIP_C_TOKEN = 0x01, /* token: alphanum -.!%*_+`'~ */
	SIP_C_WS = 0x02,    /* SP HTAB CR LF: LWS once a field is unfolded */
	SIP_C_DIGIT = 0x04,
	SIP_C_HOST = 0x08,  /* hostname, IPv4 and IPv6 text: alnum - . : [ ] */
	SIP_C_WORD = 0x10,  /* word (Call-ID): token + ()<>:\"/[]?{} */
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

#endif
