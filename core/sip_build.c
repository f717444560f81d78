/* SPDX-License-Identifier: MIT */
/* Message building and serialization (RFC 3261 §7, §8.2.6, §18.3). */
#include "duet/sip_build.h"

#include "duet/alloc.h"
#include "duet/err.h"

#include "sip_internal.h" /* sip_scan_line_end */

/*
 * A message is built, sent (or parsed) and let go many times per call: its
 * buffer comes from the churn cache (core/alloc.c), in whole 256-byte
 * classes so a buffer grown by realloc still fills the class it returns
 * to. It is a malloc block all the same, so sip_writer_steal's caller
 * frees it with duet_free.
 */
#define WRITER_STEP 256

static size_t writer_round(size_t n)
{
	return (n + WRITER_STEP - 1) / WRITER_STEP * WRITER_STEP;
}

void sip_writer_init(struct sip_writer *w, size_t cap_hint)
{
	*w = (struct sip_writer){ 0 };
	w->cap = writer_round(cap_hint ? cap_hint : 1024);
	w->buf = duet_cache_alloc(w->cap);
	if (!w->buf) {
		w->cap = 0;
		w->err = ENOMEM;
	} else {
		w->buf[0] = '\0';
	}
}

void sip_writer_free(struct sip_writer *w)
{
	duet_cache_free(w->buf, w->cap);
	*w = (struct sip_writer){ 0 };
}

static bool grow(struct sip_writer *w, size_t need)
{
	size_t cap = w->cap ? w->cap : WRITER_STEP;
	char *p;

	while (cap < need)
		cap *= 2;
	p = duet_realloc(w->buf, cap);
	if (!p) {
		w->err = ENOMEM;
		return false;
	}
	w->buf = p;
	w->cap = cap;
	return true;
}

void sip_writer_put_slow(struct sip_writer *w, const char *p, size_t n)
{
	if (w->err)
		return;
	if (!p && n) {
		w->err = EINVAL;
		return;
	}
	if (w->len + n + 1 > w->cap && !grow(w, w->len + n + 1))
		return;
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void sip_writer_cstr(struct sip_writer *w, const char *s)
{
	sip_writer_put(w, s, strlen(s));
}

void sip_writer_u32(struct sip_writer *w, uint32_t v)
{
	char tmp[10];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sip_writer_put(w, tmp + i, sizeof(tmp) - i);
}

char *sip_writer_steal(struct sip_writer *w, size_t *len)
{
	char *p = w->err ? NULL : w->buf;

	if (len)
		*len = p ? w->len : 0;
	if (!p)
		duet_cache_free(w->buf, w->cap);
	*w = (struct sip_writer){ 0 };
	return p;
}

const char *sip_reason_phrase(uint16_t code)
{
	switch (code) {
	/* clang-format off */
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 199: return "Early Dialog Terminated";
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Notification";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Moved Temporarily";
	case 305: return "Use Proxy";
	case 380: return "Alternative Service";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 413: return "Request Entity Too Large";
	case 414: return "Request-URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 421: return "Extension Required";
	case 422: return "Session Interval Too Small";
	case 423: return "Interval Too Brief";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 484: return "Address Incomplete";
	case 485: return "Ambiguous";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 489: return "Bad Event";
	case 491: return "Request Pending";
	case 493: return "Undecipherable";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 580: return "Precondition Failure";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	default: return "";
		/* clang-format on */
	}
}

void sip_build_request_line(struct sip_writer *w, struct slice method,
			    struct slice ruri)
{
	sip_writer_slice(w, method);
	sip_writer_put(w, " ", 1);
	sip_writer_slice(w, ruri);
	sip_writer_put(w, " SIP/2.0\r\n", 10);
}

void sip_build_status_line(struct sip_writer *w, uint16_t code,
			   struct slice reason)
{
	if (code < 100 || code > 699) {
		if (!w->err)
			w->err = EINVAL;
		return;
	}
	sip_writer_put(w, "SIP/2.0 ", 8);
	sip_writer_u32(w, code);
	sip_writer_put(w, " ", 1);
	if (reason.p)
		sip_writer_slice(w, reason);
	else
		sip_writer_cstr(w, sip_reason_phrase(code));
	sip_writer_put(w, "\r\n", 2);
}

bool sip_build_value_ok(struct slice v)
{
	return !v.len || sip_scan_line_end(v.p, v.p + v.len) == v.p + v.len;
}

void sip_build_header(struct sip_writer *w, struct slice name,
		      struct slice value)
{
	/* a value that could end the field early would let one header
	 * inject others: refuse it */
	if (!sip_build_value_ok(value)) {
		if (!w->err)
			w->err = EINVAL;
		return;
	}
	sip_writer_slice(w, name);
	sip_writer_put(w, ": ", 2);
	sip_writer_slice(w, value);
	sip_writer_put(w, "\r\n", 2);
}

void sip_build_header_id(struct sip_writer *w, enum sip_hdr_id id,
			 struct slice value)
{
	sip_build_header(w, sip_hdr_name(id), value);
}

void sip_build_header_u32(struct sip_writer *w, enum sip_hdr_id id, uint32_t v,
			  struct slice tail)
{
	sip_writer_slice(w, sip_hdr_name(id));
	sip_writer_put(w, ": ", 2);
	sip_writer_u32(w, v);
	sip_writer_slice(w, tail);
	sip_writer_put(w, "\r\n", 2);
}

/* Copy every field of an id as received (line and all). */
static void copy_fields(struct sip_writer *w, const struct sip_msg *msg,
			enum sip_hdr_id id)
{
	for (const struct sip_hdr *h = sip_msg_hdr(msg, id); h;
	     h = sip_msg_hdr_next(msg, h)) {
		sip_writer_slice(w, h->line);
		sip_writer_put(w, "\r\n", 2);
	}
}

/* The top via-parm with received/rport set (§18.2.1, RFC 3581 §4): its
 * own received and bare rport parameters are replaced. */
static void write_stamped_via(struct sip_writer *w, const struct sip_via *v,
			      const struct sip_via_stamp *st)
{
	struct slice params = v->params;
	size_t i = 0;

	sip_writer_put(w, v->raw.p, (size_t)(params.p - v->raw.p));
	while (i < params.len) {
		size_t start = i + 1, end = start;
		struct slice p, name;

		while (end < params.len && params.p[end] != ';')
			end++;
		p = slice_trim(slice_make(params.p + start, end - start));
		name = slice_trim(slice_sub(p, 0, slice_find(p, '=')));
		i = end;
		if (st->received.len && slice_caseeq_cstr(name, "received"))
			continue;
		if (st->rport && slice_caseeq_cstr(name, "rport"))
			continue;
		sip_writer_put(w, ";", 1);
		sip_writer_slice(w, p);
	}
	if (st->received.len) {
		sip_writer_put(w, ";received=", 10);
		sip_writer_slice(w, st->received);
	}
	if (st->rport) {
		sip_writer_put(w, ";rport=", 7);
		sip_writer_u32(w, st->rport);
	}
}

/* Copy the Via fields, the first via-parm stamped. */
static void copy_vias(struct sip_writer *w, const struct sip_msg *req,
		      const struct sip_via_stamp *st)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_VIA);
	const struct sip_via *v = &req->vias[0];

	if (!h || !st || (!st->received.len && !st->rport)) {
		copy_fields(w, req, SIP_HDR_VIA);
		return;
	}
	/* the field up to the top via-parm, the stamped via-parm, the rest */
	sip_writer_put(w, h->line.p, (size_t)(v->raw.p - h->line.p));
	write_stamped_via(w, v, st);
	sip_writer_put(
		w, v->raw.p + v->raw.len,
		(size_t)(h->line.p + h->line.len - (v->raw.p + v->raw.len)));
	sip_writer_put(w, "\r\n", 2);
	for (h = sip_msg_hdr_next(req, h); h; h = sip_msg_hdr_next(req, h)) {
		sip_writer_slice(w, h->line);
		sip_writer_put(w, "\r\n", 2);
	}
}

void sip_build_response_head(struct sip_writer *w, const struct sip_msg *req,
			     uint16_t code, struct slice reason,
			     struct slice to_tag)
{
	sip_build_response_head_stamped(w, req, code, reason, to_tag, NULL);
}

void sip_build_response_head_stamped(struct sip_writer *w,
				     const struct sip_msg *req, uint16_t code,
				     struct slice reason, struct slice to_tag,
				     const struct sip_via_stamp *stamp)
{
	const struct sip_hdr *to = sip_msg_hdr(req, SIP_HDR_TO);

	sip_build_status_line(w, code, reason);
	copy_vias(w, req, stamp);
	copy_fields(w, req, SIP_HDR_FROM);
	if (to) {
		sip_writer_slice(w, to->line);
		/* §8.2.6.2: the UAS adds a tag unless one is there; a 100
		 * does not need one (§8.2.6.1) */
		if (code != 100 && to_tag.len && !req->to.tag.p) {
			sip_writer_put(w, ";tag=", 5);
			sip_writer_slice(w, to_tag);
		}
		sip_writer_put(w, "\r\n", 2);
	}
	copy_fields(w, req, SIP_HDR_CALL_ID);
	copy_fields(w, req, SIP_HDR_CSEQ);
	if (code == 100)
		copy_fields(w, req, SIP_HDR_TIMESTAMP);
}

int sip_build_finish(struct sip_writer *w, struct slice content_type,
		     struct slice body)
{
	if (body.len && content_type.len)
		sip_build_header_id(w, SIP_HDR_CONTENT_TYPE, content_type);
	sip_writer_put(w, "Content-Length: ", 16);
	sip_writer_u32(w, (uint32_t)body.len);
	sip_writer_put(w, "\r\n\r\n", 4);
	sip_writer_slice(w, body);
	return w->err;
}

void sip_msg_write(struct sip_writer *w, const struct sip_msg *msg)
{
	sip_writer_slice(w, msg->start_line);
	sip_writer_put(w, "\r\n", 2);
	for (uint16_t i = 0; i < msg->hdr_count; i++) {
		sip_writer_slice(w, msg->hdrs[i].line);
		sip_writer_put(w, "\r\n", 2);
	}
	sip_writer_put(w, "\r\n", 2);
	sip_writer_slice(w, msg->body);
}
