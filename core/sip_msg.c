/* SPDX-License-Identifier: MIT */
/* SIP message framing and parsing (RFC 3261 §7, §18.3, §25). */
#include "duet/sip_msg.h"

#include <stddef.h>
#include <stdint.h>

#include "duet/alloc.h"
#include "duet/err.h"
#include "sip_internal.h"
#include "sip_msg_internal.h"

/* Header fields indexed on the stack before the message block exists; a
 * message with more takes a second indexing pass over its copy. */
#define STACK_FIELDS 64

static const struct slice method_names[SIP_METHOD_COUNT] = {
	[SIP_METHOD_OTHER] = { "", 0 },
	[SIP_METHOD_INVITE] = { "INVITE", 6 },
	[SIP_METHOD_ACK] = { "ACK", 3 },
	[SIP_METHOD_BYE] = { "BYE", 3 },
	[SIP_METHOD_CANCEL] = { "CANCEL", 6 },
	[SIP_METHOD_OPTIONS] = { "OPTIONS", 7 },
	[SIP_METHOD_REGISTER] = { "REGISTER", 8 },
	[SIP_METHOD_PRACK] = { "PRACK", 5 },
	[SIP_METHOD_UPDATE] = { "UPDATE", 6 },
	[SIP_METHOD_INFO] = { "INFO", 4 },
	[SIP_METHOD_SUBSCRIBE] = { "SUBSCRIBE", 9 },
	[SIP_METHOD_NOTIFY] = { "NOTIFY", 6 },
	[SIP_METHOD_REFER] = { "REFER", 5 },
	[SIP_METHOD_MESSAGE] = { "MESSAGE", 7 },
	[SIP_METHOD_PUBLISH] = { "PUBLISH", 7 },
};

/* a[0..n) == b[0..n) for 3 <= n <= 16, as two overlapping words. */
static inline bool bytes_eq(const char *a, const char *b, size_t n)
{
	uint32_t i, j, k, l;
	uint64_t x, y, u, v;

	if (n == 3)
		return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
	if (n < 8) {
		memcpy(&i, a, 4);
		memcpy(&j, b, 4);
		memcpy(&k, a + n - 4, 4);
		memcpy(&l, b + n - 4, 4);
		return i == j && k == l;
	}
	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	memcpy(&u, a + n - 8, 8);
	memcpy(&v, b + n - 8, 8);
	return x == y && u == v;
}

enum sip_method sip_method_from(struct slice token)
{
	/* methods are case-sensitive (§7.1): the length and first letter
	 * pick the only candidate */
	enum sip_method m;

	switch (token.len) {
	case 3:
		m = token.p[0] == 'A' ? SIP_METHOD_ACK : SIP_METHOD_BYE;
		break;
	case 4:
		m = SIP_METHOD_INFO;
		break;
	case 5:
		m = token.p[0] == 'P' ? SIP_METHOD_PRACK : SIP_METHOD_REFER;
		break;
	case 6:
		m = token.p[0] == 'I'	? SIP_METHOD_INVITE
		    : token.p[0] == 'C' ? SIP_METHOD_CANCEL
		    : token.p[0] == 'U' ? SIP_METHOD_UPDATE
					: SIP_METHOD_NOTIFY;
		break;
	case 7:
		m = token.p[0] == 'O'	? SIP_METHOD_OPTIONS
		    : token.p[0] == 'M' ? SIP_METHOD_MESSAGE
					: SIP_METHOD_PUBLISH;
		break;
	case 8:
		m = SIP_METHOD_REGISTER;
		break;
	case 9:
		m = SIP_METHOD_SUBSCRIBE;
		break;
	default:
		return SIP_METHOD_OTHER;
	}
	return bytes_eq(method_names[m].p, token.p, token.len)
		       ? m
		       : SIP_METHOD_OTHER;
}

struct slice sip_method_name(enum sip_method m)
{
	return (unsigned)m < SIP_METHOD_COUNT ? method_names[m]
					      : method_names[0];
}

/* What the field-indexing pass learns about the header section. */
struct field_scan {
	const char *hdr_end; /* first byte after the blank line */
	unsigned count;	     /* header fields */
	int cl_field;	     /* index of Content-Length, or -1 */
	bool repeat;	     /* a header that must not repeat does (§7.3.1) */
	size_t start_nl;     /* offset of the start line's LF */
	bool start_clean;    /* no NUL and no CR in it but before the LF */
	const char *why;
	uint16_t first[SIP_HDR_COUNT]; /* the first field of each id */
	uint16_t last[SIP_HDR_COUNT];  /* the last field of each id so far */
};

static int bad(struct field_scan *fs, const char *why)
{
	fs->why = why;
	return EBADMSG;
}

/* The header field being indexed: kept in locals until it is closed. */
struct open_field {
	const char *line;     /* its first byte */
	const char *name_end; /* the end of its name */
	const char *value;    /* its value (after HCOLON) */
	const char *end;      /* its end, continuation lines included */
	unsigned id;
};

/* Is every byte of [p, end) a token character (§25)? */
static bool all_token(const char *p, const char *end)
{
	while (p < end && sip_is((unsigned char)*p, SIP_C_TOKEN))
		p++;
	return p == end;
}

/*
 * message-header = field-name HCOLON field-value CRLF (§7.3, §25);
 * HCOLON = *( SP / HTAB ) ":" SWS. Opens a field at line p..le. A known
 * `id` (>= 0) comes from line_scan(): its name runs from p to `colon`.
 */
static inline int field_open(struct open_field *f, const char *p,
			     const char *le, const char *colon, int id,
			     struct field_scan *fs)
{
	const char *q;

	if (id < 0 && colon && colon > p) {
		size_t n = (size_t)(colon - p);

		id = (int)sip_hdr_find(p, n, sip_hdr_hash(p, n));
		if (id == SIP_HDR_OTHER && !all_token(p, colon))
			id = -1;
	}
	if (id >= 0) {
		/* a known name is letters and '-', so a token */
		f->name_end = colon;
		q = colon + 1;
	} else {
		q = p;
		while (q < le && sip_is((unsigned char)*q, SIP_C_TOKEN))
			q++;
		if (q == p)
			return bad(fs, "bad header name");
		f->name_end = q;
		while (q < le && (*q == ' ' || *q == '\t'))
			q++;
		if (q == le || *q != ':')
			return bad(fs, "header without colon");
		q++;
		id = (int)sip_hdr_find(
			p, (size_t)(f->name_end - p),
			sip_hdr_hash(p, (size_t)(f->name_end - p)));
	}
	/* SWS: mostly one SP (q <= le, and *le is no SP; q[1] is readable
	 * when *q is one: le is) */
	if (*q == ' ' && (unsigned char)q[1] > ' ')
		q++;
	else
		while (q < le && (*q == ' ' || *q == '\t'))
			q++;
	f->line = p;
	f->value = q;
	f->end = le;
	f->id = (unsigned)id;
	return 0;
}

/*
 * Close field i: trim the LWS around its value, check its length, store
 * it (when i < cap), and chain it after the earlier fields of its id; a
 * second field of a header that must not repeat is noted (reported once
 * the message exists).
 */
static inline int field_close(const struct open_field *f, unsigned i,
			      struct sip_hdr *dst, unsigned cap, size_t max_len,
			      struct field_scan *fs)
{
	const char *v = f->value, *ve = f->end;
	unsigned id = f->id;

	/* a value that starts on a continuation line keeps no leading LWS
	 * (LWS bytes are all below '!': most values need no loop) */
	if (v < ve && (unsigned char)*v <= ' ')
		while (v < ve && sip_is((unsigned char)*v, SIP_C_WS))
			v++;
	if (ve > v && (unsigned char)ve[-1] <= ' ')
		while (ve > v && sip_is((unsigned char)ve[-1], SIP_C_WS))
			ve--;
	if ((size_t)(f->end - f->line) > max_len) {
		fs->why = "header too long";
		return EMSGSIZE;
	}
	if (i < cap) {
		struct sip_hdr *h = &dst[i];

		h->name = slice_make(f->line, (size_t)(f->name_end - f->line));
		h->value = slice_make(v, (size_t)(ve - v));
		h->line = slice_make(f->line, (size_t)(f->end - f->line));
		h->id = (uint16_t)id;
		h->next = SIP_HDR_NONE;
	}
	if (id == SIP_HDR_OTHER)
		return 0;
	if (fs->first[id] == SIP_HDR_NONE) {
		fs->first[id] = (uint16_t)i;
	} else {
		if (sip_hdr_rows[id].flags & SIP_HDRF_SINGLE)
			fs->repeat = true;
		if (fs->last[id] < cap)
			dst[fs->last[id]].next = (uint16_t)i;
	}
	fs->last[id] = (uint16_t)i;
	return 0;
}

#if defined(__SSE2__)
/* The bytes 0x00 to 0x0d among the 16 in v, as a mask: CR, LF and NUL end
 * a line; the other controls there (HTAB...) are told apart one by one. */
static inline unsigned low_bytes(__m128i v)
{
	return (unsigned)_mm_movemask_epi8(
		_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x0d)), v));
}

/* The first CR, LF or NUL at p + a bit of m (low_bytes), or NULL. */
static inline const char *first_stop(const char *p, unsigned m)
{
	for (; m; m &= m - 1) {
		const char *q = p + __builtin_ctz(m);

		if (*q == '\r' || *q == '\n' || *q == '\0')
			return q;
	}
	return NULL;
}
#endif

/*
 * The end of the line at p (its first CR, LF or NUL, or end). When the
 * line's first ':' is among its first 16 bytes, *colon points to it (else
 * NULL), and when the name before it is a known one, *id is its id (else
 * -1): the 16 bytes that find the colon also compare the name. The rest of
 * the line goes 32 bytes at a time.
 */
static inline const char *line_scan(const char *p, const char *end,
				    const char **colon, int *id)
{
	*colon = NULL;
	*id = -1;
#if defined(__SSE2__)
	if (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		const char *le = first_stop(p, low_bytes(v));
		unsigned mc = (unsigned)_mm_movemask_epi8(
			_mm_cmpeq_epi8(v, _mm_set1_epi8(':')));

		/* a colon after the line's end is no colon of this line */
		if (le)
			mc &= (1u << (le - p)) - 1;
		if (mc) {
			unsigned n = (unsigned)__builtin_ctz(mc);
			enum sip_hdr_id k = n >= 2 ? sip_hdr_find_block(v, p, n)
					    : n == 1 ? sip_hdr_find(p, 1, 0)
						     : SIP_HDR_OTHER;

			*colon = p + n;
			if (k != SIP_HDR_OTHER)
				*id = (int)k;
		}
		if (le)
			return le;
		for (p += 16; end - p >= 32; p += 32) {
			unsigned m =
				low_bytes(_mm_loadu_si128(
					(const __m128i *)(const void *)p)) |
				low_bytes(_mm_loadu_si128((
					const __m128i *)(const void *)(p + 16)))
					<< 16;

			if (m && (le = first_stop(p, m)))
				return le;
		}
	}
#endif
	return sip_scan_line_end(p, end);
}

/*
 * Index the header fields in [p, end): unfold continuation lines (§7.3.1),
 * find the blank line, note Content-Length and chain the fields of each
 * id. The first `cap` fields go to dst; all are counted. ENODATA when the
 * blank line is missing. A field is closed (stored, checked) when the next
 * line shows it has no more continuation lines.
 */
static int fields_index(const char *p, const char *end, struct sip_hdr *dst,
			unsigned cap, const struct sip_limits *lim,
			struct field_scan *fs)
{
	const size_t max_len = lim->max_header_len;
	const unsigned max_n = lim->max_headers;
	struct open_field f = { NULL, NULL, NULL, NULL, 0 }; /* none open */
	unsigned n = 0; /* fields before the open one */
	int err;

	fs->repeat = false;
	memset(fs->first, 0xff, sizeof(fs->first)); /* SIP_HDR_NONE */
	sip_hdr_tables_ready();
	for (;;) {
		/* one scan finds the line end and any NUL or bare CR */
		const char *colon, *le, *nl;
		int id;

		le = nl = line_scan(p, end, &colon, &id);
		if (le == end)
			return ENODATA;
		if (*le == '\r') {
			if (le + 1 == end)
				return ENODATA;
			if (le[1] != '\n')
				return bad(fs, "bare CR in header");
			nl = le + 1;
		} else if (*le == '\0') {
			return bad(fs, "NUL in header");
		}
		if (le == p) { /* the blank line */
			fs->hdr_end = nl + 1;
			break;
		}
		if ((unsigned char)*p <= ' ' &&
		    (*p == ' ' || *p == '\t')) { /* folded continuation */
			if (!f.line)
				return bad(fs, "continuation without header");
			f.end = le;
			p = nl + 1;
			continue;
		}
		if (f.line) {
			if ((err = field_close(&f, n, dst, cap, max_len, fs)))
				return err;
			n++;
		}
		if (n >= max_n) {
			fs->why = "too many headers";
			return EMSGSIZE;
		}
		if ((err = field_open(&f, p, le, colon, id, fs)))
			return err;
		p = nl + 1;
	}
	if (f.line) {
		if ((err = field_close(&f, n, dst, cap, max_len, fs)))
			return err;
		n++;
	}
	fs->count = n;
	/* the last Content-Length counts (a second one is refused later) */
	fs->cl_field = fs->first[SIP_HDR_CONTENT_LENGTH] == SIP_HDR_NONE
			       ? -1
			       : fs->last[SIP_HDR_CONTENT_LENGTH];
	return 0;
}

/* Leading CRLFs before a start line are ignored (§7.5; RFC 5626 pings). */
static size_t skip_crlf(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return i;
}

/*
 * Find the end of the start line; ENODATA if there is none yet. The one
 * scan that finds its first CR, LF or NUL tells the common line (LF or
 * CRLF, nothing odd before) apart; *clean says so.
 */
static int start_line_end(const char *p, const char *end, const char **nl,
			  bool *clean)
{
	const char *le = sip_scan_line_end(p, end);

	*clean = true;
	if (le < end && *le == '\n') {
		*nl = le;
		return 0;
	}
	if (end - le >= 2 && le[0] == '\r' && le[1] == '\n') {
		*nl = le + 1;
		return 0;
	}
	*clean = false;
	*nl = memchr(p, '\n', (size_t)(end - p));
	return *nl ? 0 : ENODATA;
}

/*
 * Framing shared by sip_msg_parse and sip_stream_frame: index fields into
 * dst (cap entries), validate Content-Length and decide the message length.
 */
static int frame(const char *p, size_t len, enum sip_framing framing,
		 const struct sip_limits *lim, struct sip_hdr *dst,
		 unsigned cap, struct field_scan *fs, size_t *msg_len,
		 uint32_t *cl, bool *has_cl)
{
	const char *end = p + len, *nl;
	size_t head, avail;
	int err;

	fs->why = NULL;
	if (start_line_end(p, end, &nl, &fs->start_clean))
		goto incomplete;
	fs->start_nl = (size_t)(nl - p);
	err = fields_index(nl + 1, end, dst, cap, lim, fs);
	if (err == ENODATA)
		goto incomplete;
	if (err)
		return err;
	head = (size_t)(fs->hdr_end - p);
	if (!fs->start_clean && memchr(p, '\0', (size_t)(nl - p)))
		return bad(fs, "NUL in start line");
	*has_cl = fs->cl_field >= 0;
	*cl = 0;
	if (*has_cl) {
		struct slice v;

		if (fs->cl_field < (int)cap) {
			v = dst[fs->cl_field].value;
		} else { /* beyond the stack index: find it again */
			struct sip_hdr h;
			const char *why = NULL;

			err = sip_msg_find_cl(nl + 1, fs->hdr_end, &h, &why);
			if (err)
				return bad(fs, why);
			v = h.value;
		}
		if (sip_dec_u32(v, UINT32_MAX, cl))
			return bad(fs, "bad Content-Length");
	} else if (framing == SIP_FRAMING_STREAM) {
		return bad(fs, "Content-Length required on a stream");
	}
	avail = len - head;
	if (framing == SIP_FRAMING_DGRAM && !*has_cl)
		*cl = (uint32_t)(avail > UINT32_MAX ? UINT32_MAX : avail);
	if ((uint64_t)head + *cl > lim->max_msg_size) {
		fs->why = "message too large";
		return EMSGSIZE;
	}
	if (avail < *cl) {
		if (framing == SIP_FRAMING_STREAM)
			return ENODATA;
		return bad(fs, "body shorter than Content-Length");
	}
	*msg_len = head + *cl;
	return 0;

incomplete:
	if (len > lim->max_msg_size) {
		fs->why = "message too large";
		return EMSGSIZE;
	}
	if (framing == SIP_FRAMING_STREAM)
		return ENODATA;
	return bad(fs, fs->why ? fs->why : "no end of header");
}

int sip_stream_frame(const char *buf, size_t len, const struct sip_limits *lim,
		     size_t *skip, size_t *msg_len, const char **why)
{
	struct sip_limits dl = SIP_LIMITS_DEFAULT;
	struct field_scan fs;
	struct sip_hdr stack[STACK_FIELDS];
	size_t s = skip_crlf(buf, len), n = 0;
	uint32_t cl;
	bool has_cl;
	int err;

	if (!lim)
		lim = &dl;
	*skip = s;
	if (s == len)
		return ENODATA;
	err = frame(buf + s, len - s, SIP_FRAMING_STREAM, lim, stack,
		    STACK_FIELDS, &fs, &n, &cl, &has_cl);
	if (err) {
		if (why)
			*why = fs.why;
		return err;
	}
	*msg_len = n;
	return 0;
}

struct sip_msg *sip_msg_ref(struct sip_msg *msg)
{
	if (msg)
		msg->refs++;
	return msg;
}

struct sip_msg *sip_msg_unref(struct sip_msg *msg)
{
	if (!msg || --msg->refs > 0)
		return NULL;
	duet_free(msg->values);
	duet_cache_free(msg, msg->alloc_size);
	return NULL;
}

#if !defined(__SSE2__)
/* Rebase a slice from the caller's buffer into the message's copy. */
static inline struct slice rebase(struct slice s, const char *from,
				  const char *to)
{
	return slice_make(to + (s.p - from), s.len);
}
#endif

/*
 * Copy n indexed fields from the caller's buffer at `from` into the
 * message's copy at `to`. With SSE2 a slice is one 16-byte lane pair
 * {pointer, length}: adding the distance to the pointer lane rebases it.
 */
static void hdrs_rebase(struct sip_hdr *dst, const struct sip_hdr *src,
			unsigned n, const char *from, const char *to)
{
#if defined(__SSE2__)
	_Static_assert(offsetof(struct slice, p) == 0 &&
			       sizeof(struct slice) == 16 &&
			       offsetof(struct sip_hdr, value) == 16 &&
			       offsetof(struct sip_hdr, line) == 32,
		       "struct sip_hdr starts with three {pointer, length} "
		       "slices");
	const __m128i d =
		_mm_set_epi64x(0, (long long)((uintptr_t)to - (uintptr_t)from));

	for (unsigned i = 0; i < n; i++) {
		const __m128i *s = (const __m128i *)(const void *)&src[i];
		__m128i *t = (__m128i *)(void *)&dst[i];

		_mm_storeu_si128(t, _mm_add_epi64(_mm_loadu_si128(s), d));
		_mm_storeu_si128(t + 1,
				 _mm_add_epi64(_mm_loadu_si128(s + 1), d));
		_mm_storeu_si128(t + 2,
				 _mm_add_epi64(_mm_loadu_si128(s + 2), d));
		dst[i].id = src[i].id;
		dst[i].next = src[i].next;
	}
#else
	for (unsigned i = 0; i < n; i++) {
		dst[i].name = rebase(src[i].name, from, to);
		dst[i].value = rebase(src[i].value, from, to);
		dst[i].line = rebase(src[i].line, from, to);
		dst[i].id = src[i].id;
		dst[i].next = src[i].next;
	}
#endif
}

/*
 * Zero what the parse may leave unset: the fields of the other kind of
 * start line, the counters, and the optional scalars. The rest is written
 * by the parse (or the message is freed), and zeroing all of struct
 * sip_msg would cost more than parsing a header. The response path zeroes
 * the Request-URI itself.
 */
static void msg_init(struct sip_msg *msg)
{
	msg->is_request = false;
	msg->method = SIP_METHOD_OTHER;
	msg->method_text = SLICE_NULL;
	msg->status = 0;
	msg->reason = SLICE_NULL;
	msg->vias = NULL;
	msg->contacts = msg->routes = msg->record_routes = NULL;
	msg->via_count = msg->contact_count = 0;
	msg->route_count = msg->record_route_count = 0;
	msg->content_type = msg->content_type_params = SLICE_NULL;
	msg->has_expires = false;
	msg->expires = 0;
	msg->values = NULL;
}

/* Bound the elements of a list as sip_msg_parse_known() would: one per
 * field plus its commas, from the index of the caller's bytes (up to end). */
static inline unsigned list_bound(const struct sip_hdr *hdrs, unsigned i,
				  const char *end)
{
	unsigned n = 0;

	for (; i != SIP_HDR_NONE; i = hdrs[i].next)
		n += 1 + sip_commas(hdrs[i].value.p,
				    hdrs[i].value.p + hdrs[i].value.len, end);
	return n;
}

static void lists_bound(const struct sip_hdr *hdrs, const uint16_t *first,
			const char *end, unsigned *lists)
{
	lists[SIP_LIST_VIA] = list_bound(hdrs, first[SIP_HDR_VIA], end);
	lists[SIP_LIST_CONTACT] = list_bound(hdrs, first[SIP_HDR_CONTACT], end);
	lists[SIP_LIST_ROUTE] = list_bound(hdrs, first[SIP_HDR_ROUTE], end);
	lists[SIP_LIST_RECORD_ROUTE] =
		list_bound(hdrs, first[SIP_HDR_RECORD_ROUTE], end);
}

/*
 * The message block: struct sip_msg, then either the header index
 * (`fields` entries) or `values` bytes of room for the parsed list values,
 * then the bytes and their padding. The other of the two is the second
 * allocation, made later: for a common message, values in the message
 * block and the header index apart, as the index is the smaller one and
 * an allocator serves small blocks from its per-thread cache.
 */
static int msg_alloc(struct sip_msg **out, const char *src, size_t len,
		     unsigned fields, size_t values)
{
	size_t mid = values ? values : (size_t)fields * sizeof(struct sip_hdr);
	size_t size = sizeof(struct sip_msg) + mid + len + SIP_MSG_PAD;
	struct sip_msg *msg;
	char *copy;

	/* messages churn: the cache spares the heap's free-list sorting */
	msg = duet_cache_alloc(size);
	if (!msg)
		return ENOMEM;
	msg_init(msg);
	msg->alloc_size = size;
	msg->hdrs = values ? NULL : (struct sip_hdr *)(msg + 1);
	copy = (char *)(msg + 1) + mid;
	memcpy(copy, src, len);
	/* the padding: a NUL that eases debugging, and room for 16-byte
	 * loads (SIP_MSG_PAD) */
	memset(copy + len, 0, SIP_MSG_PAD);
	msg->buf = copy;
	msg->len = len;
	msg->hdr_count = (uint16_t)fields;
	msg->refs = 1;
	*out = msg;
	return 0;
}

int sip_msg_parse(struct sip_msg **out, const char *buf, size_t len,
		  enum sip_framing framing, const struct sip_limits *lim,
		  const char **why)
{
	struct sip_limits dl = SIP_LIMITS_DEFAULT;
	struct sip_hdr stack[STACK_FIELDS];
	struct field_scan fs;
	struct sip_values_room room;
	size_t vbytes = 0;
	struct sip_msg *msg = NULL;
	const char *p, *reason = NULL;
	size_t s, n = 0;
	uint32_t cl;
	bool has_cl;
	int err;

	if (!lim)
		lim = &dl;
	s = skip_crlf(buf, len);
	p = buf + s;
	err = frame(p, len - s, framing, lim, stack, STACK_FIELDS, &fs, &n, &cl,
		    &has_cl);
	if (err) {
		reason = fs.why;
		goto out;
	}
	if (fs.count > SIP_HDR_NONE - 1) {
		err = EMSGSIZE;
		reason = "too many headers";
		goto out;
	}
	/* a common message (its index on the stack): its values go in the
	 * message block, its index in the second allocation (below); else
	 * the index is in the message block and the values apart */
	room.area = NULL;
	if (fs.count <= STACK_FIELDS) {
		lists_bound(stack, fs.first, p + (len - s), room.lists);
		vbytes = sip_values_bytes(room.lists);
	}
	if ((err = msg_alloc(&msg, p, n, fs.count, vbytes)))
		goto out;
	if (vbytes) {
		room.area = msg + 1;
		memcpy(msg->first, fs.first, sizeof(msg->first));
	} else if (fs.count <= STACK_FIELDS) {
		hdrs_rebase(msg->hdrs, stack, fs.count, p, msg->buf);
		memcpy(msg->first, fs.first, sizeof(msg->first));
	} else {
		struct field_scan again;
		const char *nl = memchr(msg->buf, '\n', n);

		err = fields_index(nl + 1, msg->buf + n, msg->hdrs, fs.count,
				   lim, &again);
		if (err) {
			reason = again.why;
			goto out;
		}
		memcpy(msg->first, again.first, sizeof(msg->first));
		fs.repeat = again.repeat;
	}
	msg->has_content_length = has_cl;
	msg->content_length = has_cl ? cl : 0;
	msg->body = slice_make(msg->buf + (fs.hdr_end - p), cl);
	/* a header that must not repeat did (§7.3.1; found while indexing) */
	if (fs.repeat) {
		err = EBADMSG;
		reason = "header must not repeat";
		goto out;
	}
	if ((err = sip_msg_parse_start(msg, fs.start_nl, fs.start_clean,
				       &reason)))
		goto out;
	if (vbytes) { /* the second allocation: the header index */
		msg->hdrs = duet_malloc(fs.count * sizeof(struct sip_hdr));
		if (!msg->hdrs) {
			err = ENOMEM;
			reason = "out of memory";
			goto out;
		}
		msg->values = msg->hdrs;
		hdrs_rebase(msg->hdrs, stack, fs.count, p, msg->buf);
	}
	if ((err = sip_msg_parse_known(msg, room.area ? &room : NULL, &reason)))
		goto out;
	*out = msg;
	return 0;

out:
	sip_msg_unref(msg);
	if (why)
		*why = reason ? reason : duet_strerror(err);
	return err;
}

const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg, enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_HDR_COUNT || id == SIP_HDR_OTHER ||
	    msg->first[id] == SIP_HDR_NONE)
		return NULL;
	return &msg->hdrs[msg->first[id]];
}

const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *msg,
				       const struct sip_hdr *h)
{
	if (h->id == SIP_HDR_OTHER) {
		for (const struct sip_hdr *q = h + 1;
		     q < msg->hdrs + msg->hdr_count; q++) {
			if (q->id == SIP_HDR_OTHER &&
			    slice_caseeq(q->name, h->name))
				return q;
		}
		return NULL;
	}
	return h->next == SIP_HDR_NONE ? NULL : &msg->hdrs[h->next];
}

const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *msg,
					  struct slice name)
{
	enum sip_hdr_id id = sip_hdr_lookup(name);

	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr(msg, id);
	for (uint16_t i = 0; i < msg->hdr_count; i++) {
		if (msg->hdrs[i].id == SIP_HDR_OTHER &&
		    slice_caseeq(msg->hdrs[i].name, name))
			return &msg->hdrs[i];
	}
	return NULL;
}
