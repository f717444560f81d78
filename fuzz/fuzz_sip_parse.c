/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the SIP message parser, the stream framer and the
 * URI parser. Beyond "no crash, no sanitizer report" it checks invariants:
 * a message that parses serializes to text that parses again and
 * serializes identically; the framer and the parser agree on a stream
 * message's length; a URI equals itself; the 400 duet builds for a
 * refused request is a message whose head parses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duet/sip_bad.h"
#include "duet/sip_build.h"
#include "duet/sip_msg.h"
#include "duet/sip_uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct sip_msg *m)
{
	struct sip_writer w1, w2;
	struct sip_msg *m2 = NULL;
	const char *why = NULL;

	sip_writer_init(&w1, 0);
	sip_msg_write(&w1, m);
	if (w1.err)
		abort();
	if (sip_msg_parse(&m2, w1.buf, w1.len, SIP_FRAMING_DGRAM, NULL, &why))
		abort(); /* what we wrote must parse */
	sip_writer_init(&w2, 0);
	sip_msg_write(&w2, m2);
	if (w2.len != w1.len || memcmp(w2.buf, w1.buf, w1.len) != 0)
		abort(); /* serialization must be stable */
	sip_msg_unref(m2);
	sip_writer_free(&w1);
	sip_writer_free(&w2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *why = NULL;
	struct sip_msg *m = NULL;
	struct sip_uri uri;
	size_t skip = 0, len = 0;
	int fr;

	if (sip_msg_parse(&m, buf, size, SIP_FRAMING_DGRAM, NULL, &why) == 0) {
		check_round_trip(m);
		m = sip_msg_unref(m);
	} else {
		struct sip_writer w;

		sip_writer_init(&w, 0);
		if (sip_bad_request_reply(buf, size, why, SLICE_LIT("t1"),
					  &w) == 0) {
			/* copied header values are the sender's own and may
			 * be as bad as the rest: only the text must hold
			 * together (one status line, CRLF lines, no NUL) */
			if (w.len < 14 || memcmp(w.buf, "SIP/2.0 400 ", 12) ||
			    memchr(w.buf, '\0', w.len) ||
			    memcmp(w.buf + w.len - 4, "\r\n\r\n", 4))
				abort();
		}
		sip_writer_free(&w);
	}
	fr = sip_stream_frame(buf, size, NULL, &skip, &len, &why);
	if (sip_msg_parse(&m, buf, size, SIP_FRAMING_STREAM, NULL, &why) == 0) {
		if (fr != 0 || len != m->len)
			abort(); /* framer and parser disagree */
		check_round_trip(m);
		m = sip_msg_unref(m);
	}
	if (size < 512 &&
	    sip_uri_parse(&uri, slice_make(buf, size), &why) == 0 &&
	    !sip_uri_equal(&uri, &uri))
		abort();
	return 0;
}
