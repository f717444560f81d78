/* SPDX-License-Identifier: MIT */
/* Slice helpers: case-insensitive compare, trimming, checked numbers. */
#include "duet/slice.h"

#include "duet/err.h"

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

bool slice_caseeq(struct slice a, struct slice b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++) {
		if (lower((unsigned char)a.p[i]) !=
		    lower((unsigned char)b.p[i]))
			return false;
	}
	return true;
}

static inline bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct slice slice_trim(struct slice s)
{
	while (s.len && is_ws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && is_ws(s.p[s.len - 1]))
		s.len--;
	return s;
}

int slice_to_u64(struct slice s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s.len == 0)
		return EBADMSG;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';

		if (d > 9)
			return EBADMSG;
		if (v > (max - d) / 10)
			return EBADMSG;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int slice_to_u32(struct slice s, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int err = slice_to_u64(s, max, &v);

	if (err)
		return err;
	*out = (uint32_t)v;
	return 0;
}

char *slice_to_cstr(struct slice s, char *dst, size_t cap)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;

	if (n)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
	return dst;
}
