/* SPDX-License-Identifier: MIT */
/* SIP message framing and parsing (RFC 3261 §7, §18.3, §25). */
#include "duet/sip_msg.h"

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

enum sip_method sip_method_from(struct slice token)
{
	/* methods are case-sensitive (§7.1): first letter and length pick
	 * the only candidate */
	if (token.len < 3)
		return SIP_METHOD_OTHER;
	for (unsigned m = 1; m < SIP_METHOD_COUNT; m++) {
		if (method_names[m].len == token.len &&
		    method_names[m].p[0] == token.p[0] &&
		    memcmp(method_names[m].p, token.p, token.len) == 0)
			return (enum sip_method)m;
	}
	return SIP_METHOD_OTHER;
}

struct slice sip_method_name(enum sip_method m)
{
	return (unsigned)m < SIP_METHOD_COUNT ? method_names[m]
					       : method_names[0];
}

/* What the field-indexing pass learns about the header section. */
struct field_scan {
	const char *hdr_end; /* first byte after the blank line */
	unsigned count;      /* header fields */
	int cl_field;        /* index of Content-Length, or -1 */
	const char *why;
};

static int bad(struct field_scan *fs, const char *why)
{
	fs->why = why;
	return EBADMSG;
}

/* Close a field: trim trailing LWS of its value, check its length. */
static inline int field_close(struct sip_hdr *h, const struct sip_limits *lim,
		       struct field_scan *fs)
{
	/* a value that starts on a continuation line keeps no leading LWS */
	while (h->value.len && sip_is((unsigned char)h->value.p[0], SIP_C_WS)) {
		h->value.p++;
		h->value.len--;
	}
	while (h->value.len &&
	       sip_is((unsigned char)h->value.p[h->value.len - 1], SIP_C_WS))
		h->value.len--;
	if (h->line.len > lim->max_header_len) {
		fs->why = "header too long";
		return EMSGSIZE;
	}
	return 0;
}

/*
 * message-header = field-name HCOLON field-value CRLF (§7.3, §25);
 * HCOLON = *( SP / HTAB ) ":" SWS. Starts a field at line p..le.
 */
static int field_start(struct sip_hdr *h, const char *p, const char *le,
		       struct field_scan *fs)
{
	const char *q = p;

	while (q < le && sip_is((unsigned char)*q, SIP_C_TOKEN))
		q++;
	if (q == p)
		return bad(fs, "bad header name");
	h->name = slice_make(p, (size_t)(q - p));
	while (q < le && (*q == ' ' || *q == '\t'))
		q++;
	if (q == le || *q != ':')
		return bad(fs, "header without colon");
	q++;
	while (q < le && (*q == ' ' || *q == '\t'))
		q++;
	h->value = slice_make(q, (size_t)(le - q));
	h->line = slice_make(p, (size_t)(le - p));
	h->id = (uint16_t)sip_hdr_lookup_hashed(
		h->name, sip_hdr_hash(h->name.p, h->name.len));
	h->next = SIP_HDR_NONE;
	return 0;
}

/*
 * Index the header fields in [p, end): unfold continuation lines (§7.3.1),
 * find the blank line, and note Content-Length. The first `cap` fields
 * go to dst; all are counted. ENODATA when the blank line is missing.
 */
static int fields_index(const char *p, const char *end, struct sip_hdr *dst,
			unsigned cap, const struct sip_limits *lim,
			struct field_scan *fs)
{
	struct sip_hdr cur = { 0 };
	bool open = false;
	int err;

	fs->count = 0;
	fs->cl_field = -1;
	for (;;) {
		/* one scan finds the line end and any NUL or bare CR */
		const char *le = sip_scan_line_end(p, end), *nl = le;

		if (le == end)
			return ENODATA;
		if (*le == '\0')
			return bad(fs, "NUL in header");
		if (*le == '\r') {
			if (le + 1 == end)
				return ENODATA;
			if (le[1] != '\n')
				return bad(fs, "bare CR in header");
			nl = le + 1;
		}
		if (le == p) { /* the blank line */
			fs->hdr_end = nl + 1;
			break;
		}
		if (*p == ' ' || *p == '\t') { /* folded continuation */
			if (!open)
				return bad(fs, "continuation without header");
			cur.line.len = (size_t)(le - cur.line.p);
			cur.value.len = (size_t)(le - cur.value.p);
			p = nl + 1;
			continue;
		}
		if (open) {
			if ((err = field_close(&cur, lim, fs)))
				return err;
			if (fs->count < cap)
				dst[fs->count] = cur;
			if (cur.id == SIP_HDR_CONTENT_LENGTH)
				fs->cl_field = (int)fs->count;
			fs->count++;
		}
		if (fs->count >= lim->max_headers) {
			fs->why = "too many headers";
			return EMSGSIZE;
		}
		if ((err = field_start(&cur, p, le, fs)))
			return err;
		open = true;
		p = nl + 1;
	}
	if (open) {
		if ((err = field_close(&cur, lim, fs)))
			return err;
		if (fs->count < cap)
			dst[fs->count] = cur;
		if (cur.id == SIP_HDR_CONTENT_LENGTH)
			fs->cl_field = (int)fs->count;
		fs->count++;
	}
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

/* Find the end of the start line; ENODATA if there is none yet. */
static int start_line_end(const char *p, const char *end, const char **nl)
{
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
	if (start_line_end(p, end, &nl))
		goto incomplete;
	err = fields_index(nl + 1, end, dst, cap, lim, fs);
	if (err == ENODATA)
		goto incomplete;
	if (err)
		return err;
	head = (size_t)(fs->hdr_end - p);
	if (memchr(p, '\0', (size_t)(nl - p)))
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
		if (slice_to_u32(v, UINT32_MAX, cl))
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
	duet_free(msg);
	return NULL;
}

/* Link fields of one id into chains and refuse repeats of singular ones. */
static int fields_link(struct sip_msg *msg, const char **why)
{
	uint16_t last[SIP_HDR_COUNT];

	for (unsigned i = 0; i < SIP_HDR_COUNT; i++)
		msg->first[i] = SIP_HDR_NONE;
	for (uint16_t i = 0; i < msg->hdr_count; i++) {
		unsigned id = msg->hdrs[i].id;

		if (id == SIP_HDR_OTHER)
			continue;
		if (msg->first[id] == SIP_HDR_NONE) {
			msg->first[id] = i;
		} else {
			if (sip_hdr_flags(id) & SIP_HDRF_SINGLE) {
				*why = "header must not repeat";
				return EBADMSG;
			}
			msg->hdrs[last[id]].next = i;
		}
		last[id] = i;
	}
	return 0;
}

/* Rebase a slice from the caller's buffer into the message's copy. */
static inline struct slice rebase(struct slice s, const char *from,
				  const char *to)
{
	return slice_make(to + (s.p - from), s.len);
}

static int msg_alloc(struct sip_msg **out, const char *src, size_t len,
		     unsigned fields)
{
	size_t hdr_bytes = (size_t)fields * sizeof(struct sip_hdr);
	struct sip_msg *msg;
	char *copy;

	msg = duet_malloc(sizeof(*msg) + hdr_bytes + len + 1);
	if (!msg)
		return ENOMEM;
	memset(msg, 0, sizeof(*msg));
	msg->hdrs = (struct sip_hdr *)(msg + 1);
	copy = (char *)msg->hdrs + hdr_bytes;
	memcpy(copy, src, len);
	copy[len] = '\0'; /* never read by the parser; eases debugging */
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
	err = frame(p, len - s, framing, lim, stack, STACK_FIELDS, &fs, &n,
		    &cl, &has_cl);
	if (err) {
		reason = fs.why;
		goto out;
	}
	if (fs.count > SIP_HDR_NONE - 1) {
		err = EMSGSIZE;
		reason = "too many headers";
		goto out;
	}
	if ((err = msg_alloc(&msg, p, n, fs.count)))
		goto out;
	if (fs.count <= STACK_FIELDS) {
		for (unsigned i = 0; i < fs.count; i++) {
			struct sip_hdr *h = &msg->hdrs[i];

			*h = stack[i];
			h->name = rebase(h->name, p, msg->buf);
			h->value = rebase(h->value, p, msg->buf);
			h->line = rebase(h->line, p, msg->buf);
		}
	} else {
		struct field_scan again = { 0 };
		const char *nl = memchr(msg->buf, '\n', n);

		err = fields_index(nl + 1, msg->buf + n, msg->hdrs, fs.count,
				   lim, &again);
		if (err) {
			reason = again.why;
			goto out;
		}
	}
	msg->has_content_length = has_cl;
	msg->content_length = has_cl ? cl : 0;
	msg->body = slice_make(msg->buf + (fs.hdr_end - p), cl);
	if ((err = fields_link(msg, &reason)))
		goto out;
	if ((err = sip_msg_parse_start(msg, &reason)))
		goto out;
	if ((err = sip_msg_parse_known(msg, &reason)))
		goto out;
	*out = msg;
	return 0;

out:
	sip_msg_unref(msg);
	if (why)
		*why = reason ? reason : duet_strerror(err);
	return err;
}

const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg,
				  enum sip_hdr_id id)
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
