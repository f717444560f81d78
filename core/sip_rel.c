/* SPDX-License-Identifier: MIT */
/*
 * The values of reliable provisional responses (RFC 3262 §7: RSeq, RAck)
 * and option tags in Require/Supported/Unsupported (RFC 3261 §20.32,
 * §20.37, §19.2).
 */
#include "duet/sip_msg.h"

#include <errno.h>
#include <string.h>

/* RFC 3262 §3: the first RSeq is at most 2**31 - 1, later ones count up
 * by one to at most 2**32 - 1 */
#define RSEQ_MAX 4294967295u
/* RFC 3261 §8.1.1.5: a CSeq number is less than 2**31 */
#define CSEQ_MAX 2147483647u

static bool is_lws(char c)
{
	return c == ' ' || c == '\t';
}

/* The next run of non-blanks in *v (blanks before it skipped); *v moves
 * past it. */
static struct slice next_word(struct slice *v)
{
	struct slice in = *v;
	size_t i = 0, j;

	while (i < in.len && is_lws(in.p[i]))
		i++;
	j = i;
	while (j < in.len && !is_lws(in.p[j]))
		j++;
	*v = slice_sub(in, j, in.len - j);
	return slice_sub(in, i, j - i);
}

int sip_rseq_parse(struct slice v, uint32_t *out)
{
	uint32_t n;

	if (slice_to_u32(slice_trim(v), RSEQ_MAX, &n) || n == 0)
		return EBADMSG;
	*out = n;
	return 0;
}

/* RFC 3262 §7.2: RAck = "RAck" HCOLON response-num LWS CSeq-num LWS
 * Method */
int sip_rack_parse(struct slice v, struct sip_rack *out)
{
	struct slice rest = slice_trim(v);
	struct slice a = next_word(&rest), b = next_word(&rest),
		     m = next_word(&rest);
	struct sip_rack r;

	if (!a.len || !b.len || !m.len || slice_trim(rest).len ||
	    sip_rseq_parse(a, &r.rseq) || slice_to_u32(b, CSEQ_MAX, &r.cseq))
		return EBADMSG;
	r.method = m;
	*out = r;
	return 0;
}

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
