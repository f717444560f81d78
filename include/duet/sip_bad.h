/* SPDX-License-Identifier: MIT */
/*
 * The 400 (Bad Request) answer to a request duet's parser refused: built
 * from the raw bytes when they still show what a response copies from
 * its request (RFC 3261 §8.2.6.2), so the sender learns why instead of
 * retransmitting into silence (RFC 4475 §3.1.2 expects these answers).
 */
#ifndef DUET_SIP_BAD_H
#define DUET_SIP_BAD_H

#include <stddef.h>

#include "duet/sip_build.h"
#include "duet/slice.h"

/**
 * Write into w (initialised by the caller) a 400 for the refused request
 * in buf: its Via header fields in order, From, To (with to_tag when it
 * has no tag), Call-ID and CSeq as they were, a Warning 399 with why, and
 * no body. Returns 0, or ENOENT when there is nothing to answer: not a
 * request (a response, or no "METHOD SP" start), an ACK (§17.1.1.3: never
 * answered), one of those headers missing, repeated where it must not
 * be, folded, or holding a control character. Then the message is only
 * dropped and counted. Or the writer's error (sip_build_finish: ENOMEM,
 * or EINVAL for a value it refuses); w then holds no answer to send.
 */
int sip_bad_request_reply(const char *buf, size_t len, const char *why,
			  struct slice to_tag, struct sip_writer *w);

#endif /* DUET_SIP_BAD_H */
