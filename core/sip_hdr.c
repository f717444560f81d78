/* SPDX-License-Identifier: MIT */
/* Header names, compact forms (RFC 3261 §7.3.3) and value lists (§7.3.1). */
#include "duet/sip_hdr.h"

#include <pthread.h>
#include <stdatomic.h>

#include "sip_internal.h"

struct hdr_row {
	struct slice name;
	char compact;
	unsigned flags;
};

static const struct hdr_row rows[SIP_HDR_COUNT] = {
	[SIP_HDR_OTHER] = { { "", 0 }, 0, 0 },
#define SIP_HDR_ROW(id, nm, c, f)                                            \
	[SIP_HDR_##id] = { { nm, sizeof(nm) - 1 }, c, f },
	SIP_HDR_TABLE(SIP_HDR_ROW)
#undef SIP_HDR_ROW
};

/* Open-addressed table of long names, filled once from rows[] (so a new
 * header needs only its row). 256 slots for ~70 names keeps probes short. */
#define NAME_SLOTS 256
static uint8_t name_slots[NAME_SLOTS];
static uint8_t compact_ids[26];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static atomic_bool tables_ready;

_Static_assert(SIP_HDR_COUNT < 256, "header ids must fit the uint8_t slots");

static uint32_t name_hash(struct slice name)
{
	return name.len ? sip_hdr_hash(name.p, name.len) : 0;
}

static inline unsigned slot_of(uint32_t h)
{
	return (h ^ (h >> 9)) & (NAME_SLOTS - 1);
}

static void tables_build(void)
{
	for (unsigned id = 1; id < SIP_HDR_COUNT; id++) {
		unsigned s = slot_of(name_hash(rows[id].name));

		while (name_slots[s])
			s = (s + 1) & (NAME_SLOTS - 1);
		name_slots[s] = (uint8_t)id;
		if (rows[id].compact)
			compact_ids[(rows[id].compact | 0x20) - 'a'] =
				(uint8_t)id;
	}
	atomic_store_explicit(&tables_ready, true, memory_order_release);
}

struct slice sip_hdr_name(enum sip_hdr_id id)
{
	return (unsigned)id < SIP_HDR_COUNT ? rows[id].name : rows[0].name;
}

unsigned sip_hdr_flags(enum sip_hdr_id id)
{
	return (unsigned)id < SIP_HDR_COUNT ? rows[id].flags : 0;
}

enum sip_hdr_id sip_hdr_lookup_hashed(struct slice name, uint32_t hash)
{
	/* built once; after that one acquire load instead of pthread_once */
	if (!atomic_load_explicit(&tables_ready, memory_order_acquire))
		pthread_once(&tables_once, tables_build);
	if (name.len == 1) {
		unsigned c = (unsigned char)name.p[0] | 0x20u;

		if (c >= 'a' && c <= 'z')
			return (enum sip_hdr_id)compact_ids[c - 'a'];
		return SIP_HDR_OTHER;
	}
	for (unsigned s = slot_of(hash);; s = (s + 1) & (NAME_SLOTS - 1)) {
		unsigned id = name_slots[s];

		if (id == 0)
			return SIP_HDR_OTHER;
		if (rows[id].name.len == name.len &&
		    sip_token_caseeq(rows[id].name.p, name.p, name.len))
			return (enum sip_hdr_id)id;
	}
}

enum sip_hdr_id sip_hdr_lookup(struct slice name)
{
	/* arbitrary text: only token names can be header names */
	for (size_t i = 0; i < name.len; i++) {
		if (!sip_is((unsigned char)name.p[i], SIP_C_TOKEN))
			return SIP_HDR_OTHER;
	}
	return sip_hdr_lookup_hashed(name, name_hash(name));
}

#if defined(__SSE2__)
#include <emmintrin.h>

const char *sip_scan_line_end(const char *p, const char *end)
{
	const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
	const __m128i nul = _mm_setzero_si128();

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i hit = _mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)),
			_mm_cmpeq_epi8(v, nul));
		unsigned mask = (unsigned)_mm_movemask_epi8(hit);

		if (mask)
			return p + __builtin_ctz(mask);
		p += 16;
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
