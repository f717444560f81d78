/* SPDX-License-Identifier: MIT */
/* Header names, compact forms (RFC 3261 §7.3.3) and value lists (§7.3.1). */
#include "duet/sip_hdr.h"

#include <pthread.h>

#include "sip_internal.h"

const struct sip_hdr_row sip_hdr_rows[SIP_HDR_COUNT] = {
	[SIP_HDR_OTHER] = { { "", 0 }, 0, 0 },
#define SIP_HDR_ROW(id, nm, c, f)                                              \
	[SIP_HDR_##id] = { { nm, sizeof(nm) - 1 }, c, f },
	SIP_HDR_TABLE(SIP_HDR_ROW)
#undef SIP_HDR_ROW
};

/* Open-addressed table of long names, filled once from the rows (so a new
 * header needs only its row). 256 slots for ~70 names keeps probes short. */
uint8_t sip_hdr_slots[SIP_HDR_SLOTS];
uint8_t sip_hdr_compact[26];
#if defined(__SSE2__)
_Alignas(16) uint8_t sip_hdr_folded[SIP_HDR_COUNT][16];
uint8_t sip_hdr_short[32][16][SIP_HDR_SHORT_WAYS];
#endif
atomic_bool sip_hdr_ready;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

_Static_assert(SIP_HDR_COUNT < 256, "header ids must fit the uint8_t slots");

static uint32_t name_hash(struct slice name)
{
	return name.len ? sip_hdr_hash(name.p, name.len) : 0;
}

#if defined(__SSE2__)
/*
 * File a long name of 2 to 15 bytes under its first letter and length. A
 * name that finds its ways full is still found, by the slots (a line's
 * known name is looked up there when the short table has no match).
 */
static void short_add(unsigned id)
{
	struct slice nm = sip_hdr_rows[id].name;
	uint8_t *ids;
	unsigned k = 0;

	if (nm.len < 2 || nm.len > 15)
		return;
	ids = sip_hdr_short[((unsigned char)nm.p[0] | 0x20u) & 31][nm.len];
	while (k < SIP_HDR_SHORT_WAYS && ids[k])
		k++;
	if (k < SIP_HDR_SHORT_WAYS)
		ids[k] = (uint8_t)id;
}
#endif

static void tables_build(void)
{
	for (unsigned id = 1; id < SIP_HDR_COUNT; id++) {
		unsigned s = sip_hdr_slot(name_hash(sip_hdr_rows[id].name));

		while (sip_hdr_slots[s])
			s = (s + 1) & (SIP_HDR_SLOTS - 1);
		sip_hdr_slots[s] = (uint8_t)id;
#if defined(__SSE2__)
		for (size_t i = 0; i < sip_hdr_rows[id].name.len && i < 16; i++)
			sip_hdr_folded[id][i] =
				(uint8_t)(sip_hdr_rows[id].name.p[i] | 0x20);
		short_add(id);
#endif
		if (sip_hdr_rows[id].compact)
			sip_hdr_compact[(sip_hdr_rows[id].compact | 0x20) -
					'a'] = (uint8_t)id;
	}
	atomic_store_explicit(&sip_hdr_ready, true, memory_order_release);
}

void sip_hdr_tables_build(void)
{
	pthread_once(&tables_once, tables_build);
}

struct slice sip_hdr_name(enum sip_hdr_id id)
{
	return (unsigned)id < SIP_HDR_COUNT ? sip_hdr_rows[id].name
					    : sip_hdr_rows[0].name;
}

unsigned sip_hdr_flags(enum sip_hdr_id id)
{
	return (unsigned)id < SIP_HDR_COUNT ? sip_hdr_rows[id].flags : 0;
}

enum sip_hdr_id sip_hdr_lookup(struct slice name)
{
	/* arbitrary text: only token names can be header names */
	for (size_t i = 0; i < name.len; i++) {
		if (!sip_is((unsigned char)name.p[i], SIP_C_TOKEN))
			return SIP_HDR_OTHER;
	}
	return name.len ? sip_hdr_find(name.p, name.len, name_hash(name))
			: SIP_HDR_OTHER;
}

#if defined(__SSE2__)
#include <emmintrin.h>

const char *sip_scan_line_end(const char *p, const char *end)
{
	/* bytes 0x00 to 0x0d; then which of them is CR, LF or NUL */
	const __m128i lo = _mm_set1_epi8(0x0d);

	for (; end - p >= 16; p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_cmpeq_epi8(_mm_min_epu8(v, lo), v));

		for (; m; m &= m - 1) {
			const char *q = p + __builtin_ctz(m);

			if (*q == '\r' || *q == '\n' || *q == '\0')
				return q;
		}
	}
	while (p < end && *p != '\r' && *p != '\n' && *p != '\0')
		p++;
	return p;
}
#else
const char *sip_scan_line_end(const char *p, const char *end)
{
	while (p < end && *p != '\r' && *p != '\n' && *p != '\0')
		p++;
	return p;
}
#endif

static inline bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool sip_hdr_next_value(struct slice value, size_t *pos, struct slice *out,
			bool *bad)
{
	size_t i = *pos, start;
	bool quoted = false, angle = false;

	if (bad)
		*bad = false;
	while (i < value.len && (is_lws(value.p[i]) || value.p[i] == ','))
		i++;
	if (i >= value.len) {
		*pos = value.len;
		return false;
	}
	start = i;
	for (; i < value.len; i++) {
		char c = value.p[i];

		if (quoted) {
			if (c == '\\' && i + 1 < value.len)
				i++; /* quoted-pair, §25 */
			else if (c == '"')
				quoted = false;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '<') {
			angle = true;
		} else if (c == '>') {
			angle = false;
		} else if (c == ',' && !angle) {
			break;
		}
	}
	if (quoted || angle) {
		if (bad)
			*bad = true;
		*pos = value.len;
		return false;
	}
	*out = slice_trim(slice_make(value.p + start, i - start));
	*pos = i < value.len ? i + 1 : i;
	return true;
}
