/* SPDX-License-Identifier: MIT */
/* Tags, Call-IDs and branches (RFC 3261 §8.1.1.4, §8.1.1.7, §19.3). */
#include "duet/leg_ident.h"

#include <string.h>
#include <sys/random.h>

#include "duet/err.h"

/* 62 symbols; the first character after the prefix encodes the worker. */
static const char alphabet[] =
	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

#define DUET_MARK "dT" /* every identifier duet mints starts its body so */

static uint64_t next(struct leg_ident *g)
{
	uint64_t s1 = g->state[0];
	const uint64_t s0 = g->state[1];

	g->state[0] = s0;
	s1 ^= s1 << 23;
	g->state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return g->state[1] + s0;
}

int leg_ident_init(struct leg_ident *g, uint8_t worker, uint64_t seed)
{
	uint64_t s[2] = { seed, seed ^ 0x9e3779b97f4a7c15ull };

	if (worker >= sizeof(alphabet) - 1)
		return EINVAL;
	if (seed == 0 && getrandom(s, sizeof(s), 0) != (ssize_t)sizeof(s))
		s[0] = (uint64_t)(uintptr_t)g ^ 0x5851f42d4c957f2dull;
	if (s[0] == 0 && s[1] == 0)
		s[1] = 1;
	*g = (struct leg_ident){ .state = { s[0], s[1] }, .worker = worker };
	for (int i = 0; i < 8; i++)
		next(g);
	return 0;
}

/*
 * Does s hold "CSeq"? SIPp 3.6 finds a response's CSeq method by the first
 * "CSeq" anywhere in the message (extract_cseq_method: strstr), so a To
 * tag that happens to hold it makes SIPp read the wrong method and abort
 * the call as an unexpected message: about one call in a million with
 * random tags, the rare failed call of the bench. Legal (a tag is a
 * token), but duet's users test with SIPp: such an identifier is drawn
 * again.
 */
static bool has_cseq(const char *s, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i++)
		if (s[i] == 'C' && s[i + 1] == 'S' && s[i + 2] == 'e' &&
		    s[i + 3] == 'q')
			return true;
	return false;
}

/* mark, worker, 11 random base-62 digits, then the counter in base 62:
 * >= 64 bits of randomness and never a repeat within a run. */
static size_t body(struct leg_ident *g, char *out)
{
	size_t n;

	do { /* a draw again takes the next count too: it always ends */
		uint64_t r = next(g), c = ++g->counter;

		memcpy(out, DUET_MARK, 2);
		n = 2;
		out[n++] = alphabet[g->worker];
		for (int i = 0; i < 11; i++) {
			out[n++] = alphabet[r % 62];
			r /= 62;
		}
		do {
			out[n++] = alphabet[c % 62];
			c /= 62;
		} while (c);
	} while (has_cseq(out, n));
	out[n] = '\0';
	return n;
}

size_t leg_ident_tag(struct leg_ident *g, char out[LEG_TAG_MAX])
{
	return body(g, out);
}

size_t leg_ident_branch(struct leg_ident *g, char out[LEG_IDENT_MAX])
{
	memcpy(out, "z9hG4bK", 7);
	return 7 + body(g, out + 7);
}

size_t leg_ident_call_id(struct leg_ident *g, struct slice host,
			 char out[LEG_IDENT_MAX + 64])
{
	size_t n;

	if (host.len > 63 - 1)
		return 0;
	n = body(g, out);
	if (host.len) {
		out[n++] = '@';
		memcpy(out + n, host.p, host.len);
		n += host.len;
		out[n] = '\0';
	}
	return n;
}

bool leg_ident_worker(struct slice id, uint8_t *worker)
{
	const char *hit;

	if (id.len >= 7 && memcmp(id.p, "z9hG4bK", 7) == 0)
		id = slice_sub(id, 7, id.len);
	if (id.len < 3 || memcmp(id.p, DUET_MARK, 2) != 0)
		return false;
	hit = memchr(alphabet, id.p[2], sizeof(alphabet) - 1);
	if (!hit)
		return false;
	*worker = (uint8_t)(hit - alphabet);
	return true;
}
