/* SPDX-License-Identifier: MIT */
/*
 * Locating SIP servers (RFC 3263 §4): turn a SIP or SIPS URI into an
 * ordered list of (address, transport) targets to try in turn, through
 * NAPTR (RFC 3403), SRV (RFC 2782) and A/AAAA lookups, with a small
 * asynchronous DNS client of duet's own (RFC 1035 §4, UDP only) and a
 * TTL-honouring cache.
 *
 * One resolver per event loop, singly owned (resolve_new / resolve_free).
 * Sockets and the result delivery run on the loop's event_base; query
 * timeouts and cache lifetimes read the loop's timing wheel and its clock,
 * so tests drive them with a manual clock.
 *
 * Rules applied by resolve_uri() (RFC 3263 §4.1, §4.2):
 *  - maddr, when present, replaces the host;
 *  - numeric host: no DNS; transport from the transport parameter, else
 *    UDP for sip and TLS for sips; port from the URI, else 5060 (5061 TLS);
 *  - name with a port: A and AAAA of the name at that port;
 *  - name with a transport parameter and no port: SRV of that transport
 *    (_sip._udp, _sip._tcp, _sips._tcp), else A/AAAA at the default port;
 *  - name with neither: NAPTR of the name (SIP+D2U, SIP+D2T for sip,
 *    SIPS+D2T for sips; "s" flag only), ordered by order then preference;
 *    without usable NAPTR records, SRV _sip._udp and _sip._tcp (sip) or
 *    _sips._tcp (sips); without any SRV record, A/AAAA of the name at
 *    5060 over UDP (sip) or 5061 over TLS (sips).
 * SRV records are ordered by priority, then by RFC 2782's weighted random
 * selection within a priority; a target of "." is skipped (and, being an
 * answer, suppresses the A/AAAA fallback). Each SRV target gives its IPv4
 * addresses, then its IPv6 ones. Address records in an SRV answer's
 * additional section are used when present for a target and are then
 * taken as its complete address set (no A/AAAA query for it).
 *
 * Lookups are best effort: one that times out or fails counts as empty and
 * the rest goes on; the result is whatever targets remain. With none, the
 * error is that of the first failed lookup (ETIMEDOUT, EBADMSG), else
 * ENOENT (names do not exist or have no records). A dead nameserver thus
 * costs up to three rounds of timeouts (NAPTR, SRV, A/AAAA).
 */
#ifndef DUET_RESOLVE_H
#define DUET_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/sip_uri.h"
#include "duet/slice.h"
#include "duet/transport.h"
#include "duet/wheel.h"

struct event_base;

#define RESOLVE_MAX_TARGETS 16 /* targets in one result */
#define RESOLVE_MAX_SERVERS 3  /* nameservers in a configuration */

/** One place to send to. */
struct resolve_target {
	struct tp_addr addr;
	enum sip_proto proto;
};

/** An ordered list of targets: try t[0] first, fail over in order. */
struct resolve_result {
	unsigned n;
	struct resolve_target t[RESOLVE_MAX_TARGETS];
};

/** A uniform 32-bit random number (SRV weighted selection). */
typedef uint32_t resolve_random_fn(void *arg);

struct resolve_config {
	/* nameservers tried in turn on retries; n_servers 0: read
	 * resolv_conf (NULL: /etc/resolv.conf), else 127.0.0.1:53 */
	struct tp_addr servers[RESOLVE_MAX_SERVERS];
	unsigned n_servers;
	const char *resolv_conf;
	uint32_t timeout_ms; /* per try; default 2000 */
	unsigned retries;    /* tries after the first; default 2 */
	unsigned cache_size; /* (name, type) entries; 0 disables the cache;
				default 512 */
	uint32_t neg_ttl_s;  /* lifetime of a negative answer without an
				SOA (RFC 2308 §5); default 30 */
	resolve_random_fn *random; /* NULL: libevent's secure RNG */
	void *random_arg;
};

/** Fill cfg with the defaults named above. */
void resolve_config_default(struct resolve_config *cfg);

/**
 * Parse resolv.conf text: every "nameserver <IPv4|IPv6>" line gives a
 * server at port 53, up to cap of them (the rest are ignored, as are
 * addresses with a zone index, other keywords and comments). Sets *n.
 * Returns 0.
 */
int resolve_conf_parse(struct slice text, struct tp_addr *out, unsigned cap,
		       unsigned *n);

struct resolver;      /* opaque; singly owned: resolve_new() / resolve_free() */
struct resolve_query; /* a pending resolve_uri(); owned by the resolver */

/**
 * The result of a resolve_uri(): err 0 with res->n >= 1 targets, or err
 * ENOENT (no such name or no usable record), ETIMEDOUT (no answer after
 * the retries), EBADMSG (malformed or truncated answers, server failure),
 * ENOMEM, or a socket error; res is then empty. res is borrowed: valid
 * during the call only. The query handle is freed after the call
 * returns: the callback must not cancel its own query. It may start new
 * queries and cancel other ones; it must not call resolve_free().
 */
typedef void resolve_done_fn(int err, const struct resolve_result *res,
			     void *arg);

/**
 * Create the resolver of one event loop. base and wheel are borrowed and
 * must outlive it; cfg (may be NULL: defaults) is copied (random_arg is
 * borrowed). Returns 0, EINVAL (no base or wheel) or ENOMEM.
 */
int resolve_new(struct resolver **out, struct event_base *base,
		struct wheel *wheel, const struct resolve_config *cfg);

/**
 * Free the resolver, its cache, sockets and pending queries. No callback
 * is called; outstanding query handles become invalid. NULL is fine.
 */
void resolve_free(struct resolver *r);

/**
 * Resolve a sip/sips URI (RFC 3263 §4). On 0, done(err, res, arg) will be
 * called exactly once, always later from the event loop (never from
 * inside resolve_uri(), even when the cache or a numeric host answers at
 * once), unless the query is cancelled first. *q (may be NULL) gets a
 * handle, valid until done is called or resolve_cancel(). uri is borrowed
 * for this call only. Returns EINVAL (not sip/sips, no host, a name over
 * 253 characters, sips with transport=udp), EPROTONOSUPPORT (an unknown
 * transport parameter) or ENOMEM, and then calls nothing.
 */
int resolve_uri(struct resolver *r, const struct sip_uri *uri,
		resolve_done_fn *done, void *arg, struct resolve_query **q);

/**
 * Cancel a pending query: done is not called and q is freed. Lookups
 * shared with other queries go on. NULL is fine.
 */
void resolve_cancel(struct resolve_query *q);

struct resolve_stats {
	uint64_t queries_sent; /* DNS datagrams sent, retries included */
	uint64_t retransmits;  /* of which retries after a silent try */
	uint64_t timeouts;     /* lookups that got no answer at all */
	uint64_t errors;       /* lookups that failed otherwise */
	uint64_t cache_hits, cache_misses;
	uint64_t cache_entries; /* now */
	uint64_t pending;	/* queries not yet delivered, now */
};

void resolve_stats(const struct resolver *r, struct resolve_stats *out);

/*
 * The DNS wire format (RFC 1035 §4.1, RFC 2782, RFC 3403), used by the
 * resolver and exposed for tests and fuzzing. Decoded names are lower
 * case, without the trailing dot; the root is "".
 */
#define RESOLVE_DNS_NAME_MAX 253 /* text characters of a name */
#define RESOLVE_DNS_QUERY_MAX (12 + 255 + 4)
#define RESOLVE_DNS_MAX_RR 32 /* records kept by the decoder */

enum resolve_dns_type {
	RESOLVE_DNS_A = 1,
	RESOLVE_DNS_CNAME = 5,
	RESOLVE_DNS_SOA = 6,
	RESOLVE_DNS_AAAA = 28,
	RESOLVE_DNS_SRV = 33,
	RESOLVE_DNS_NAPTR = 35,
};

enum resolve_dns_section {
	RESOLVE_DNS_ANSWER = 0,
	RESOLVE_DNS_AUTHORITY,
	RESOLVE_DNS_ADDITIONAL,
};

/** One decoded resource record. rdata of other types is skipped. */
struct resolve_dns_rr {
	char name[RESOLVE_DNS_NAME_MAX + 1];
	uint16_t type, rclass;
	uint32_t ttl; /* RFC 2181 §8: values with the top bit set read as 0 */
	enum resolve_dns_section section;
	union {
		uint8_t addr[16]; /* A: 4 bytes, AAAA: 16 */
		char cname[RESOLVE_DNS_NAME_MAX + 1];
		struct {
			uint16_t priority, weight, port;
			char target[RESOLVE_DNS_NAME_MAX + 1];
		} srv;
		struct {
			uint16_t order, preference;
			char flags[16];	  /* "" when longer */
			char service[32]; /* "" when longer */
			char replacement[RESOLVE_DNS_NAME_MAX + 1];
		} naptr;
		struct {
			uint32_t minimum;
		} soa;
	} u;
};

/** A decoded message: header, the question, up to RESOLVE_DNS_MAX_RR
 * records in wire order (the others are checked, then dropped). */
struct resolve_dns_msg {
	uint16_t id, flags; /* flags: the header's second 16 bits */
	unsigned rcode;	    /* flags & 0xf */
	bool qr, tc;
	unsigned qdcount; /* 0 or 1 */
	char qname[RESOLVE_DNS_NAME_MAX + 1];
	uint16_t qtype, qclass;
	unsigned n_rr, n_dropped;
	struct resolve_dns_rr rr[RESOLVE_DNS_MAX_RR];
};

/**
 * Encode a recursive (RD) query for name (text, an optional trailing dot)
 * and type, class IN, into buf. Sets *len. Returns 0, EINVAL (empty label,
 * label over 63, name over 253, a byte that is not printable ASCII) or
 * EMSGSIZE (cap too small; RESOLVE_DNS_QUERY_MAX always suffices).
 */
int resolve_dns_encode_query(uint8_t *buf, size_t cap, uint16_t id,
			     const char *name, uint16_t type, size_t *len);

/**
 * Decode a DNS message of len bytes (untrusted). Never reads outside
 * [pkt, pkt + len). Returns 0, or EBADMSG for anything malformed: short
 * header or record, more than one question, compression pointers that do
 * not point strictly backwards (loops) or past the end, names over 255
 * bytes, labels with dots or non-printable bytes, rdata of A, AAAA,
 * CNAME, SRV, NAPTR or SOA whose length does not match its contents.
 * On failure *m holds no question and no records (n_rr 0).
 */
int resolve_dns_decode(struct resolve_dns_msg *m, const uint8_t *pkt,
		       size_t len);

#endif /* DUET_RESOLVE_H */
