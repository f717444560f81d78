/* SPDX-License-Identifier: MIT */
/* The parts of the message parser split across core/sip_msg*.c. */
#ifndef DUET_CORE_SIP_MSG_INTERNAL_H
#define DUET_CORE_SIP_MSG_INTERNAL_H

#include "duet/sip_msg.h"

/* Parse the start line of msg (request or status line, §7.1, §7.2). */
int sip_msg_parse_start(struct sip_msg *msg, const char **why);

/* Parse the eagerly parsed headers, check the mandatory ones (§8.1.1). */
int sip_msg_parse_known(struct sip_msg *msg, const char **why);

/* Find the Content-Length field among the fields in [p, end). */
int sip_msg_find_cl(const char *p, const char *end, struct sip_hdr *h,
		    const char **why);

#endif
