/* SPDX-License-Identifier: MIT */
/* Hosts: hostname, IPv4address, IPv6reference (RFC 3261 §25, RFC 5118). */
#include "sip_internal.h"

#include "duet/err.h"

/* clang-format off */
const unsigned char sip_ctype[256] = {
#define T SIP_C_TOKEN
#define W SIP_C_WORD
#define H SIP_C_HOST
#define D SIP_C_DIGIT
#define N SIP_C_LDH
#define U SIP_C_UUSER
#define P SIP_C_UPARAM
	['\t'] = SIP_C_WS, ['\n'] = SIP_C_WS, ['\r'] = SIP_C_WS, [' '] = SIP_C_WS,
	['!'] = T | W | U | P, ['%'] = T | W, ['*'] = T | W | U | P,
	['_'] = T | W | U | P, ['+'] = T | W | U | P, ['`'] = T | W,
	['\''] = T | W | U | P, ['~'] = T | W | U | P,
	['-'] = T | W | H | N | U | P, ['.'] = T | W | H | U | P,
	['('] = W | U | P, [')'] = W | U | P, ['<'] = W, ['>'] = W,
	['\\'] = W, ['"'] = W, ['/'] = W | U | P, ['?'] = W | U, ['{'] = W,
	['}'] = W, [':'] = W | H | P, ['['] = W | H | P, [']'] = W | H | P,
	['&'] = U | P, ['$'] = U | P, ['='] = U, [','] = U, [';'] = U,
	['0'] = T | W | H | D | N | U | P, ['1'] = T | W | H | D | N | U | P,
	['2'] = T | W | H | D | N | U | P, ['3'] = T | W | H | D | N | U | P,
	['4'] = T | W | H | D | N | U | P, ['5'] = T | W | H | D | N | U | P,
	['6'] = T | W | H | D | N | U | P, ['7'] = T | W | H | D | N | U | P,
	['8'] = T | W | H | D | N | U | P, ['9'] = T | W | H | D | N | U | P,
#define L(c) [c] = T | W | H | N | U | P
	L('a'), L('b'), L('c'), L('d'), L('e'), L('f'), L('g'), L('h'), L('i'),
	L('j'), L('k'), L('l'), L('m'), L('n'), L('o'), L('p'), L('q'), L('r'),
	L('s'), L('t'), L('u'), L('v'), L('w'), L('x'), L('y'), L('z'),
	L('A'), L('B'), L('C'), L('D'), L('E'), L('F'), L('G'), L('H'), L('I'),
	L('J'), L('K'), L('L'), L('M'), L('N'), L('O'), L('P'), L('Q'), L('R'),
	L('S'), L('T'), L('U'), L('V'), L('W'), L('X'), L('Y'), L('Z'),
#undef L
#undef T
#undef W
#undef H
#undef D
#undef N
#undef U
#undef P
};
/* clang-format on */

/* IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each
 * octet 0..255. */
static bool ipv4_valid(struct slice s)
{
	const char *p = s.p, *end = s.p + s.len;

	for (int o = 0; o < 4; o++) {
		const char *d;
		unsigned v = 0;

		if (o > 0 && (p == end || *p++ != '.'))
			return false;
		for (d = p; p < end && p - d < 3 && (unsigned)(*p - '0') < 10;
		     p++)
			v = v * 10 + (unsigned)(*p - '0');
		if (p == d || v > 255)
			return false;
	}
	return p == end;
}

/* IPv6address (RFC 3261 §25 / RFC 4291 §2.2): hex groups of 1-4 digits,
 * at most one "::", an optional trailing IPv4 in place of two groups. */
static bool ipv6_valid(struct slice s)
{
	unsigned groups = 0;
	bool gap = false;
	size_t i = 0;

	if (s.len >= 2 && s.p[0] == ':' && s.p[1] == ':') {
		gap = true;
		i = 2;
		if (s.len == 2)
			return true;
	} else if (s.len && s.p[0] == ':') {
		return false;
	}
	while (i < s.len) {
		size_t start = i, hex = 0;

		while (i < s.len && hex < 5 &&
		       ((s.p[i] >= '0' && s.p[i] <= '9') ||
			((s.p[i] | 0x20) >= 'a' && (s.p[i] | 0x20) <= 'f'))) {
			i++;
			hex++;
		}
		if (i < s.len && s.p[i] == '.') {
			/* embedded IPv4 ends the address */
			if (groups > 6 ||
			    !ipv4_valid(slice_sub(s, start, s.len)))
				return false;
			groups += 2;
			break;
		}
		if (hex == 0 || hex > 4)
			return false;
		groups++;
		if (i == s.len)
			break;
		if (s.p[i] != ':')
			return false;
		i++;
		if (i < s.len && s.p[i] == ':') {
			if (gap)
				return false;
			gap = true;
			i++;
			if (i == s.len)
				break;
		} else if (i == s.len) {
			return false; /* trailing single ':' */
		}
	}
	return gap ? groups <= 7 : groups == 8;
}

static bool hostname_valid(struct slice s)
{
	/* hostname = *( domainlabel "." ) toplabel [ "." ]; labels are
	 * alphanum with inner '-'. The top label starting with a letter is
	 * not enforced: all-digit labels are common in the field. */
	size_t label = 0;

	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (c == '.') {
			if (label == 0 || s.p[i - 1] == '-')
				return false;
			label = 0;
		} else if (c == '-') {
			if (label == 0)
				return false;
			label++;
		} else if (sip_is((unsigned char)c, SIP_C_HOST) && c != ':' &&
			   c != '[' && c != ']') {
			label++;
		} else {
			return false;
		}
	}
	return s.len > 0 && (label > 0 || s.p[s.len - 1] == '.') &&
	       s.p[s.len - 1] != '-';
}

int sip_host_parse(struct slice host, bool brackets, enum sip_host_kind *kind)
{
	bool all_digits_dots = true;

	if (host.len == 0)
		return EBADMSG;
	if (host.p[0] == '[') {
		if (host.len < 3 || host.p[host.len - 1] != ']' ||
		    !ipv6_valid(slice_sub(host, 1, host.len - 2)))
			return EBADMSG;
		*kind = SIP_HOST_IPV6;
		return 0;
	}
	/* (all digits and dots: no ':', so no bare IPv6 either) */
	for (size_t i = 0; i < host.len; i++) {
		if (!(sip_is((unsigned char)host.p[i], SIP_C_DIGIT) ||
		      host.p[i] == '.')) {
			all_digits_dots = false;
			break;
		}
	}
	if (all_digits_dots) {
		if (!ipv4_valid(host))
			return EBADMSG;
		*kind = SIP_HOST_IPV4;
		return 0;
	}
	if (!brackets && memchr(host.p, ':', host.len)) {
		if (!ipv6_valid(host))
			return EBADMSG;
		*kind = SIP_HOST_IPV6;
		return 0;
	}
	if (!hostname_valid(host))
		return EBADMSG;
	*kind = SIP_HOST_NAME;
	return 0;
}

/* The scalar sip_host_fast(): label by label. */
const char *sip_host_fast_scalar(const char *p, const char *end,
				 enum sip_host_kind *kind)
{
	const char *q = p;
	unsigned all = SIP_C_DIGIT;

	for (;;) {
		const char *l = q;
		unsigned t;

		while (q < end &&
		       ((t = sip_ctype[(unsigned char)*q]) & SIP_C_LDH)) {
			all &= t;
			q++;
		}
		if (q == l || *l == '-' || q[-1] == '-')
			return NULL;
		if (q == end || *q != '.')
			break;
		q++;
	}
	if (!all) {
		*kind = SIP_HOST_NAME;
		return q;
	}
	if (!ipv4_valid(slice_make(p, (size_t)(q - p))))
		return NULL;
	*kind = SIP_HOST_IPV4;
	return q;
}
