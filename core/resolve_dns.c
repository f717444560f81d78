/* SPDX-License-Identifier: MIT */
/*
 * DNS wire format (RFC 1035 §4.1, §4.1.4 compression; RFC 2181 §8 TTLs;
 * RFC 2782 SRV and RFC 3403 §4.1 NAPTR rdata): query encoding and a
 * bounds-checked decoder of untrusted responses.
 */
#include "resolve_internal.h"

#include <string.h>

#include "duet/err.h"

#define HDR_LEN 12
#define NAME_WIRE_MAX 255

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Bytes allowed in a label: printable ASCII, not the dot, not space. */
static bool label_byte_ok(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != '.';
}

/* name (text) as labels at out; returns the wire length or 0 if bad. */
static size_t encode_name(uint8_t *out, const char *name)
{
	size_t n = strlen(name), o = 0, i = 0;

	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > RESOLVE_DNS_NAME_MAX)
		return 0;
	while (i < n) {
		size_t start = i;

		while (i < n && name[i] != '.') {
			if (!label_byte_ok((uint8_t)name[i]))
				return 0;
			i++;
		}
		if (i == start || i - start > 63)
			return 0;
		out[o++] = (uint8_t)(i - start);
		memcpy(out + o, name + start, i - start);
		o += i - start;
		i++; /* the dot */
	}
	if (name[n - 1] == '.')
		return 0; /* "a.." */
	out[o++] = 0;
	return o;
}

int resolve_dns_encode_query(uint8_t *buf, size_t cap, uint16_t id,
			     const char *name, uint16_t type, size_t *len)
{
	uint8_t tmp[RESOLVE_DNS_QUERY_MAX];
	size_t nl;

	if (!name)
		return EINVAL;
	nl = encode_name(tmp + HDR_LEN, name);
	if (nl == 0)
		return EINVAL;
	if (cap < HDR_LEN + nl + 4)
		return EMSGSIZE;
	memset(tmp, 0, HDR_LEN);
	put16(tmp, id);
	put16(tmp + 2, 0x0100); /* RD */
	put16(tmp + 4, 1);	/* QDCOUNT */
	put16(tmp + HDR_LEN + nl, type);
	put16(tmp + HDR_LEN + nl + 2, 1); /* IN */
	memcpy(buf, tmp, HDR_LEN + nl + 4);
	*len = HDR_LEN + nl + 4;
	return 0;
}

/*
 * A possibly compressed name at *pos (RFC 1035 §4.1.4) into out (lower
 * case, dotted, RESOLVE_DNS_NAME_MAX + 1 bytes). Every pointer must point
 * strictly before the start of the run of labels it ends, so each jump
 * goes lower than the last and loops are impossible. *pos moves past the
 * name as it sits in place.
 */
static int get_name(const uint8_t *p, size_t len, size_t *pos, char *out)
{
	size_t at = *pos, wire = 1, o = 0, end = 0;
	size_t low = at;
	bool jumped = false;

	for (;;) {
		uint8_t c;

		if (at >= len)
			return EBADMSG;
		c = p[at];
		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if (at + 1 >= len)
				return EBADMSG;
			to = (size_t)(c & 0x3f) << 8 | p[at + 1];
			if (to >= low)
				return EBADMSG;
			if (!jumped)
				end = at + 2;
			jumped = true;
			at = low = to;
			continue;
		}
		if (c & 0xc0)
			return EBADMSG; /* RFC 6891 extended label types */
		if (c == 0)
			break;
		wire += 1u + c;
		if (wire > NAME_WIRE_MAX || at + 1 + c > len)
			return EBADMSG;
		if (o)
			out[o++] = '.';
		for (size_t i = 1; i <= c; i++) {
			uint8_t b = p[at + i];

			if (!label_byte_ok(b))
				return EBADMSG;
			out[o++] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
		}
		at += 1u + c;
	}
	out[o] = '\0';
	*pos = jumped ? end : at + 1;
	return 0;
}

/* A <character-string> (RFC 1035 §3.3) within [*pos, end) into out (cap
 * bytes; "" when it does not fit). */
static int get_string(const uint8_t *p, size_t end, size_t *pos, char *out,
		      size_t cap)
{
	size_t n;

	if (*pos >= end)
		return EBADMSG;
	n = p[*pos];
	if (*pos + 1 + n > end)
		return EBADMSG;
	if (n < cap) {
		for (size_t i = 0; i < n; i++) {
			uint8_t b = p[*pos + 1 + i];

			out[i] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
		}
		out[n] = '\0';
	} else {
		out[0] = '\0';
	}
	*pos += 1 + n;
	return 0;
}

static int rdata_srv(const uint8_t *p, size_t len, size_t at, size_t end,
		     struct resolve_dns_rr *rr)
{
	if (end - at < 7)
		return EBADMSG;
	rr->u.srv.priority = get16(p + at);
	rr->u.srv.weight = get16(p + at + 2);
	rr->u.srv.port = get16(p + at + 4);
	at += 6;
	if (get_name(p, len, &at, rr->u.srv.target) || at != end)
		return EBADMSG;
	return 0;
}

static int rdata_naptr(const uint8_t *p, size_t len, size_t at, size_t end,
		       struct resolve_dns_rr *rr)
{
	char regexp[2];

	if (end - at < 4)
		return EBADMSG;
	rr->u.naptr.order = get16(p + at);
	rr->u.naptr.preference = get16(p + at + 2);
	at += 4;
	if (get_string(p, end, &at, rr->u.naptr.flags,
		       sizeof(rr->u.naptr.flags)) ||
	    get_string(p, end, &at, rr->u.naptr.service,
		       sizeof(rr->u.naptr.service)) ||
	    get_string(p, end, &at, regexp, sizeof(regexp)) ||
	    get_name(p, len, &at, rr->u.naptr.replacement) || at != end)
		return EBADMSG;
	return 0;
}

static int rdata_soa(const uint8_t *p, size_t len, size_t at, size_t end,
		     struct resolve_dns_rr *rr)
{
	char name[RESOLVE_DNS_NAME_MAX + 1];

	if (get_name(p, len, &at, name) || get_name(p, len, &at, name) ||
	    at > end || end - at != 20)
		return EBADMSG;
	rr->u.soa.minimum = get32(p + at + 16);
	return 0;
}

/* The rdata of the types the resolver reads; others are skipped. */
static int get_rdata(const uint8_t *p, size_t len, size_t at, size_t end,
		     struct resolve_dns_rr *rr)
{
	size_t n = end - at;

	if (rr->rclass != 1)
		return 0;
	switch (rr->type) {
	case RESOLVE_DNS_A:
	case RESOLVE_DNS_AAAA:
		if (n != (rr->type == RESOLVE_DNS_A ? 4u : 16u))
			return EBADMSG;
		memcpy(rr->u.addr, p + at, n);
		return 0;
	case RESOLVE_DNS_CNAME:
		if (get_name(p, len, &at, rr->u.cname) || at != end)
			return EBADMSG;
		return 0;
	case RESOLVE_DNS_SRV:
		return rdata_srv(p, len, at, end, rr);
	case RESOLVE_DNS_NAPTR:
		return rdata_naptr(p, len, at, end, rr);
	case RESOLVE_DNS_SOA:
		return rdata_soa(p, len, at, end, rr);
	default:
		return 0;
	}
}

static int get_rr(const uint8_t *p, size_t len, size_t *pos,
		  struct resolve_dns_rr *rr)
{
	size_t at = *pos, rdlen;
	uint32_t ttl;

	if (get_name(p, len, &at, rr->name) || len - at < 10)
		return EBADMSG;
	rr->type = get16(p + at);
	rr->rclass = get16(p + at + 2);
	ttl = get32(p + at + 4);
	rr->ttl = ttl & 0x80000000u ? 0 : ttl;
	rdlen = get16(p + at + 8);
	at += 10;
	if (rdlen > len - at || get_rdata(p, len, at, at + rdlen, rr))
		return EBADMSG;
	*pos = at + rdlen;
	return 0;
}

static int get_header(struct resolve_dns_msg *m, const uint8_t *p, size_t len,
		      size_t *pos)
{
	if (len < HDR_LEN || get16(p + 4) > 1)
		return EBADMSG;
	m->id = get16(p);
	m->flags = get16(p + 2);
	m->qr = (m->flags & 0x8000) != 0;
	m->tc = (m->flags & 0x0200) != 0;
	m->rcode = m->flags & 0xf;
	m->qdcount = get16(p + 4);
	*pos = HDR_LEN;
	if (m->qdcount) {
		if (get_name(p, len, pos, m->qname) || len - *pos < 4)
			return EBADMSG;
		m->qtype = get16(p + *pos);
		m->qclass = get16(p + *pos + 2);
		*pos += 4;
	}
	return 0;
}

static int decode(struct resolve_dns_msg *m, const uint8_t *p, size_t len)
{
	struct resolve_dns_rr spare;
	unsigned count[3];
	size_t pos;

	if (get_header(m, p, len, &pos))
		return EBADMSG;
	count[0] = get16(p + 6);
	count[1] = get16(p + 8);
	count[2] = get16(p + 10);
	/* each record takes at least 11 bytes: the loops are bounded by len */
	for (unsigned s = 0; s < 3; s++) {
		for (unsigned i = 0; i < count[s]; i++) {
			struct resolve_dns_rr *rr = m->n_rr < RESOLVE_DNS_MAX_RR
							    ? &m->rr[m->n_rr]
							    : &spare;

			if (get_rr(p, len, &pos, rr))
				return EBADMSG;
			rr->section = (enum resolve_dns_section)s;
			if (rr == &spare)
				m->n_dropped++;
			else
				m->n_rr++;
		}
	}
	return 0;
}

int resolve_dns_decode(struct resolve_dns_msg *m, const uint8_t *pkt,
		       size_t len)
{
	int err;

	m->qdcount = 0;
	m->qname[0] = '\0';
	m->qtype = m->qclass = 0;
	m->n_rr = m->n_dropped = 0;
	if (!pkt)
		return EBADMSG;
	err = decode(m, pkt, len);
	if (err) {
		m->qdcount = 0;
		m->qname[0] = '\0';
		m->n_rr = m->n_dropped = 0;
	}
	return err;
}
