/* SPDX-License-Identifier: MIT */
/*
 * Option tags in Require/Supported/Unsupported (RFC 3261 §20.32, §20.37,
 * §19.2). RSeq and RAck (RFC 3262 §7) are parsed with the other header
 * grammars, in sip_msg_hdrs.c.
 */
#include "duet/sip_msg.h"

#include <errno.h>
#include <string.h>

bool sip_option_in(struct slice list, struct slice tag)
{
	struct slice one;

	for (size_t pos = 0; sip_hdr_next_value(list, &pos, &one, NULL);)
		if (slice_caseeq(one, tag))
			return true;
	return false;
}

bool sip_msg_has_option(const struct sip_msg *m, enum sip_hdr_id id,
			const char *tag)
{
	struct slice t = slice_cstr(tag);

	for (const struct sip_hdr *h = sip_msg_hdr(m, id); h;
	     h = sip_msg_hdr_next(m, h))
		if (sip_option_in(h->value, t))
			return true;
	return false;
}
