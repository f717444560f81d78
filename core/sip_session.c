/* SPDX-License-Identifier: MIT */
/* Session timer header values (RFC 4028 §4, §5) and option tags (RFC 3261
 * §20.37, §20.32): parsed on demand, never stored. */
#include "duet/sip_msg.h"

#include "duet/err.h"

/* The value before the first ';', trimmed, as delta-seconds (§25.1: at
 * most 2^32-1); *rest gets the parameters after it. */
static int delta_seconds(struct slice v, uint32_t *secs, struct slice *rest)
{
	size_t semi = slice_find(v, ';');
	struct slice num = slice_trim(slice_sub(v, 0, semi));
	uint32_t n;

	if (!num.len || slice_to_u32(num, UINT32_MAX, &n))
		return EBADMSG;
	*rest = semi < v.len ? slice_sub(v, semi + 1, v.len - semi - 1)
			     : SLICE_NULL;
	*secs = n;
	return 0;
}

int sip_session_expires_parse(struct slice v, uint32_t *secs,
			      enum sip_refresher *refresher)
{
	enum sip_refresher r = SIP_REFRESHER_NONE;
	struct slice rest;
	uint32_t n;

	if (delta_seconds(v, &n, &rest))
		return EBADMSG;
	while (rest.len) {
		size_t semi = slice_find(rest, ';');
		struct slice p = slice_trim(slice_sub(rest, 0, semi));
		size_t eq = slice_find(p, '=');

		rest = semi < rest.len
			       ? slice_sub(rest, semi + 1, rest.len - semi - 1)
			       : SLICE_NULL;
		if (!p.len)
			return EBADMSG;
		if (eq < p.len &&
		    slice_caseeq_cstr(slice_trim(slice_sub(p, 0, eq)),
				      "refresher")) {
			struct slice val = slice_trim(
				slice_sub(p, eq + 1, p.len - eq - 1));

			if (slice_caseeq_cstr(val, "uac"))
				r = SIP_REFRESHER_UAC;
			else if (slice_caseeq_cstr(val, "uas"))
				r = SIP_REFRESHER_UAS;
			else
				return EBADMSG;
		}
		/* other se-params (generic-param) are ignored (§4) */
	}
	*secs = n;
	*refresher = r;
	return 0;
}

int sip_min_se_parse(struct slice v, uint32_t *secs)
{
	struct slice rest;

	return delta_seconds(v, secs, &rest);
}
