/* SPDX-License-Identifier: MIT */
/*
 * slice: a read-only view of bytes (pointer + length). Slices never own
 * memory and are never NUL-terminated; a slice into a message lives as long
 * as that message.
 */
#ifndef DUET_SLICE_H
#define DUET_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct slice {
	const char *p;
	size_t len;
};

/** A slice of a string literal, without its NUL. */
#define SLICE_LIT(s) ((struct slice){ .p = "" s, .len = sizeof(s) - 1 })
#define SLICE_NULL ((struct slice){ .p = NULL, .len = 0 })

static inline struct slice slice_make(const char *p, size_t len)
{
	return (struct slice){ .p = p, .len = len };
}

/** A slice of a NUL-terminated string (NULL gives the empty slice). */
static inline struct slice slice_cstr(const char *s)
{
	return (struct slice){ .p = s, .len = s ? strlen(s) : 0 };
}

static inline bool slice_empty(struct slice s)
{
	return s.len == 0;
}

/** Was the slice set at all (a present-but-empty value has p != NULL)? */
static inline bool slice_present(struct slice s)
{
	return s.p != NULL;
}

/** Byte-exact comparison (methods, tokens, tags: RFC 3261 §7.1, §19.3). */
static inline bool slice_eq(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline bool slice_eq_cstr(struct slice a, const char *s)
{
	return slice_eq(a, slice_cstr(s));
}

/** ASCII case-insensitive comparison (header names, RFC 3261 §7.3.1). */
bool slice_caseeq(struct slice a, struct slice b);

static inline bool slice_caseeq_cstr(struct slice a, const char *s)
{
	return slice_caseeq(a, slice_cstr(s));
}

/** The bytes [from, from+n) of s, clamped to s. */
static inline struct slice slice_sub(struct slice s, size_t from, size_t n)
{
	if (from > s.len)
		from = s.len;
	if (n > s.len - from)
		n = s.len - from;
	return (struct slice){ .p = s.p + from, .len = n };
}

/** Drop leading and trailing SP, HTAB, CR and LF. */
struct slice slice_trim(struct slice s);

/** Offset of the first c in s, or s.len if none. */
static inline size_t slice_find(struct slice s, char c)
{
	const char *hit = s.len ? memchr(s.p, c, s.len) : NULL;
	return hit ? (size_t)(hit - s.p) : s.len;
}

/**
 * Checked decimal conversion: s must be 1*DIGIT and the value at most max.
 * Returns 0 and sets *out, or EBADMSG (empty, non-digit, or over max).
 */
int slice_to_u64(struct slice s, uint64_t max, uint64_t *out);

/** slice_to_u64 for 32-bit results. */
int slice_to_u32(struct slice s, uint32_t max, uint32_t *out);

/**
 * Copy s into dst (capacity cap, cap > 0) as a NUL-terminated string,
 * truncating if needed. Returns dst. For logs and tests.
 */
char *slice_to_cstr(struct slice s, char *dst, size_t cap);

#endif /* DUET_SLICE_H */
