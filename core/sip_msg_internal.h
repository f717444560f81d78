/* SPDX-License-Identifier: MIT */
/* The parts of the message parser split across core/sip_msg*.c. */
#ifndef DUET_CORE_SIP_MSG_INTERNAL_H
#define DUET_CORE_SIP_MSG_INTERNAL_H

#include "duet/sip_msg.h"

/*
 * Zeroed bytes allocated after a message's copy, so that scans within the
 * message may load 16 bytes at a time without reading beyond the block.
 */
#define SIP_MSG_PAD 16

/* The end of the readable bytes after msg's copy. */
static inline const char *sip_msg_rend(const struct sip_msg *msg)
{
	return msg->buf + msg->len + SIP_MSG_PAD;
}

/*
 * Parse the start line of msg (request or status line, §7.1, §7.2): the
 * bytes before its LF at offset nl. `clean` when framing found no CR in
 * it but the one before that LF.
 */
int sip_msg_parse_start(struct sip_msg *msg, size_t nl, bool clean,
			const char **why);

/* The list headers parsed into the values (sip_msg_parse_known). */
enum {
	SIP_LIST_VIA,
	SIP_LIST_CONTACT,
	SIP_LIST_ROUTE,
	SIP_LIST_RECORD_ROUTE,
	SIP_LISTS
};

/* Room the message block already holds for the parsed list values. */
struct sip_values_room {
	void *area;		   /* NULL: none, allocate */
	unsigned lists[SIP_LISTS]; /* elements each list may hold */
};

/* The bytes of parsed values for these element bounds. */
static inline size_t sip_values_bytes(const unsigned *lists)
{
	return lists[SIP_LIST_VIA] * sizeof(struct sip_via) +
	       (lists[SIP_LIST_CONTACT] + lists[SIP_LIST_ROUTE] +
		lists[SIP_LIST_RECORD_ROUTE]) *
		       sizeof(struct sip_addr);
}

/*
 * Parse the eagerly parsed headers, check the mandatory ones (§8.1.1).
 * `room`, when not NULL, is where the parsed list values go; else they
 * get their own allocation.
 */
int sip_msg_parse_known(struct sip_msg *msg, const struct sip_values_room *room,
			const char **why);

/* Find the Content-Length field among the fields in [p, end). */
int sip_msg_find_cl(const char *p, const char *end, struct sip_hdr *h,
		    const char **why);

#endif
