/* SPDX-License-Identifier: MIT */
/*
 * Building SIP messages as text: a growable writer with a sticky error,
 * responses from requests (RFC 3261 §8.2.6), requests from parts, and the
 * serialization of a parsed message. Content-Length is always computed,
 * never copied (§18.3, §20.14).
 *
 * Usage: sip_writer_init(); a start line (sip_build_request_line or
 * sip_build_response_head); any sip_build_header calls; sip_build_finish()
 * with the body; then w.buf / w.len; sip_writer_free().
 */
#ifndef DUET_SIP_BUILD_H
#define DUET_SIP_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "duet/sip_msg.h"
#include "duet/slice.h"

struct sip_writer {
	char *buf; /* owned (churn cache); NUL-terminated when err == 0 */
	size_t len;
	size_t cap;
	int err; /* the first error (sticky): ENOMEM or EINVAL */
};

/** Start an empty writer with room for cap_hint bytes (0: a default). */
void sip_writer_init(struct sip_writer *w, size_t cap_hint);

/** Free the writer's buffer and reset it. */
void sip_writer_free(struct sip_writer *w);

/** sip_writer_put's path when the bytes do not simply fit. */
void sip_writer_put_slow(struct sip_writer *w, const char *p, size_t n);

/** Append bytes; does nothing once w->err is set. Inline: a message is
 * built from a few hundred short pieces per call. */
static inline void sip_writer_put(struct sip_writer *w, const char *p, size_t n)
{
	if (w->err || !p || w->len + n + 1 > w->cap) {
		sip_writer_put_slow(w, p, n);
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static inline void sip_writer_slice(struct sip_writer *w, struct slice s)
{
	sip_writer_put(w, s.p, s.len);
}

void sip_writer_cstr(struct sip_writer *w, const char *s);
void sip_writer_u32(struct sip_writer *w, uint32_t v);

/**
 * Hand the buffer to the caller (who frees it with duet_free()) and reset
 * the writer. Returns NULL if the writer had an error.
 */
char *sip_writer_steal(struct sip_writer *w, size_t *len);

/** The standard reason phrase of a status code ("" if none is known). */
const char *sip_reason_phrase(uint16_t code);

/** "METHOD SP Request-URI SP SIP/2.0 CRLF" */
void sip_build_request_line(struct sip_writer *w, struct slice method,
			    struct slice ruri);

/** "SIP/2.0 SP code SP reason CRLF"; reason NULL slice: the standard one. */
void sip_build_status_line(struct sip_writer *w, uint16_t code,
			   struct slice reason);

/** Can v go into a header field as it is: no CR or LF (a line end there
 * would let it end the field and inject others), no NUL? One pass. */
bool sip_build_value_ok(struct slice v);

/** "Name: value CRLF". A value containing CR or LF sets EINVAL. */
void sip_build_header(struct sip_writer *w, struct slice name,
		      struct slice value);

/** "Name: <v><tail>\r\n" with the canonical name of id: a number and a
 * constant tail (CSeq's " INVITE", ";refresher=uac", or empty), without
 * formatting through snprintf. */
void sip_build_header_u32(struct sip_writer *w, enum sip_hdr_id id, uint32_t v,
			  struct slice tail);

/** sip_build_header with the canonical name of id. */
void sip_build_header_id(struct sip_writer *w, enum sip_hdr_id id,
			 struct slice value);

/**
 * The status line and the headers a response copies from its request
 * (§8.2.6.2): every Via in order, From, To, Call-ID, CSeq; To gets
 * ";tag=" to_tag unless the code is 100, to_tag is empty, or To already has
 * a tag. A 100 copies Timestamp (§8.2.6.1).
 */
void sip_build_response_head(struct sip_writer *w, const struct sip_msg *req,
			     uint16_t code, struct slice reason,
			     struct slice to_tag);

/**
 * What the server transport adds to the top Via of a response (RFC 3261
 * §18.2.1, RFC 3581 §4): `received` (the source IP of the request, empty
 * for none) and `rport` (its source port, 0 for none; fills a bare
 * "rport" parameter).
 */
struct sip_via_stamp {
	struct slice received;
	uint16_t rport;
};

/** sip_build_response_head with the top Via stamped (stamp may be NULL). */
void sip_build_response_head_stamped(struct sip_writer *w,
				     const struct sip_msg *req, uint16_t code,
				     struct slice reason, struct slice to_tag,
				     const struct sip_via_stamp *stamp);

/**
 * Close the header: Content-Type (when body is not empty and content_type
 * is given), Content-Length computed from body, the blank line, the body.
 * Returns w->err.
 */
int sip_build_finish(struct sip_writer *w, struct slice content_type,
		     struct slice body);

/**
 * Serialize a parsed message: its start line and header fields as they
 * were received (folding and spelling kept) with CRLF line ends, then the
 * body. Byte-for-byte the input for a CRLF message without excess bytes.
 */
void sip_msg_write(struct sip_writer *w, const struct sip_msg *msg);

#endif /* DUET_SIP_BUILD_H */
