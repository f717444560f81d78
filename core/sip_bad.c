/* SPDX-License-Identifier: MIT */
/*
 * A 400 for a request the parser refused (see duet/sip_bad.h). The scan
 * here is deliberately lenient and line-based: it only has to find the
 * five headers a response echoes, in a message already known to be bad
 * somewhere else, and it refuses anything it cannot copy verbatim.
 */
#include "duet/sip_bad.h"

#include <errno.h>
#include <string.h>

#include "duet/sip_hdr.h"
#include "duet/sip_msg.h"

#define BAD_VIAS_MAX 16
#define BAD_VALUE_MAX 1024

struct bad_scan {
	struct slice via[BAD_VIAS_MAX];
	unsigned vias;
	struct slice from, to, call_id, cseq;
};

static bool printable(struct slice v)
{
	if (v.len == 0 || v.len > BAD_VALUE_MAX)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* One header line: keep it when it is one of the five. false: the
 * message cannot be answered. */
static bool take(struct bad_scan *s, struct slice line)
{
	const char *colon = memchr(line.p, ':', line.len);
	struct slice name, value;
	struct slice *one = NULL;

	if (!colon)
		return true; /* not a header: the parser's problem, not ours */
	name = slice_trim(slice_make(line.p, (size_t)(colon - line.p)));
	value = slice_trim(
		slice_make(colon + 1, line.len - (size_t)(colon - line.p) - 1));
	switch (sip_hdr_lookup(name)) {
	case SIP_HDR_VIA:
		if (s->vias == BAD_VIAS_MAX || !printable(value))
			return false;
		s->via[s->vias++] = value;
		return true;
	case SIP_HDR_FROM:
		one = &s->from;
		break;
	case SIP_HDR_TO:
		one = &s->to;
		break;
	case SIP_HDR_CALL_ID:
		one = &s->call_id;
		break;
	case SIP_HDR_CSEQ:
		one = &s->cseq;
		break;
	default:
		return true;
	}
	if (one->p || !printable(value))
		return false; /* twice, or not copyable */
	*one = value;
	return true;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/*
 * Does a To value carry a tag parameter? The parser says when the value
 * parses. Otherwise (the bad part may be the To itself) a scan: past a
 * quoted display name (whose '>' or ';' count for nothing) and a <URI>,
 * a ";" "tag" "=" with LWS allowed around each (§25.1 SEMI, EQUAL).
 */
static bool has_tag(struct slice to)
{
	const char *p = to.p, *end = to.p + to.len;
	struct sip_addr a;

	if (sip_addr_parse(&a, to, NULL) == 0)
		return a.tag.p != NULL;
	p = skip_ws(p, end);
	if (p < end && *p == '"')
		for (p++; p < end && *p != '"'; p++)
			if (*p == '\\' && p + 1 < end)
				p++; /* quoted-pair */
	for (const char *q = p; q < end; q++)
		if (*q == '<') {
			const char *gt = memchr(q, '>', (size_t)(end - q));

			p = gt ? gt : end;
			break;
		}
	for (; p < end; p++) {
		const char *q;

		if (*p != ';')
			continue;
		q = skip_ws(p + 1, end);
		if (end - q < 3 ||
		    !slice_caseeq(slice_make(q, 3), SLICE_LIT("tag")))
			continue;
		q = skip_ws(q + 3, end);
		if (q < end && *q == '=')
			return true;
	}
	return false;
}

int sip_bad_request_reply(const char *buf, size_t len, const char *why,
			  struct slice to_tag, struct sip_writer *w)
{
	struct bad_scan s = { .vias = 0 };
	const char *p = buf, *end = buf + len, *sp;
	char warn[160];
	size_t n = 0;
	bool first = true;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct slice line =
			slice_make(p, (size_t)((nl ? nl : end) - p));

		if (line.len && line.p[line.len - 1] == '\r')
			line.len--;
		p = nl ? nl + 1 : end;
		if (first) {
			first = false;
			/* METHOD SP ...: a request, and not an ACK */
			sp = memchr(line.p, ' ', line.len);
			if (!sp || sp == line.p ||
			    (line.len >= 4 && !memcmp(line.p, "SIP/", 4)))
				return ENOENT;
			if (slice_eq(slice_make(line.p, (size_t)(sp - line.p)),
				     SLICE_LIT("ACK")))
				return ENOENT;
			continue;
		}
		if (line.len == 0)
			break; /* the end of the headers */
		if (line.p[0] == ' ' || line.p[0] == '\t')
			return ENOENT; /* folded: not copied verbatim */
		if (!take(&s, line))
			return ENOENT;
	}
	if (first || !s.vias || !s.from.p || !s.to.p || !s.call_id.p ||
	    !s.cseq.p)
		return ENOENT;

	sip_build_status_line(w, 400, SLICE_NULL);
	for (unsigned i = 0; i < s.vias; i++)
		sip_build_header_id(w, SIP_HDR_VIA, s.via[i]);
	sip_build_header_id(w, SIP_HDR_FROM, s.from);
	if (has_tag(s.to) || !to_tag.len) {
		sip_build_header_id(w, SIP_HDR_TO, s.to);
	} else { /* §8.2.6.2: the UAS adds a tag */
		sip_writer_cstr(w, "To: ");
		sip_writer_slice(w, s.to);
		sip_writer_cstr(w, ";tag=");
		sip_writer_slice(w, to_tag);
		sip_writer_cstr(w, "\r\n");
	}
	sip_build_header_id(w, SIP_HDR_CALL_ID, s.call_id);
	sip_build_header_id(w, SIP_HDR_CSEQ, s.cseq);
	/* RFC 3261 §20.43: 399, our host, the parser's reason as quoted
	 * text (its quotes and backslashes made harmless) */
	memcpy(warn, "399 duet \"", 10);
	n = 10;
	for (const char *c = why ? why : "bad message";
	     *c && n < sizeof(warn) - 2; c++)
		warn[n++] =
			(*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
				? '\''
				: *c;
	warn[n++] = '"';
	sip_build_header_id(w, SIP_HDR_WARNING, slice_make(warn, n));
	return sip_build_finish(w, SLICE_NULL, SLICE_NULL);
}
