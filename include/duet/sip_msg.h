/* SPDX-License-Identifier: MIT */
/*
 * The SIP message (RFC 3261 §7, §20, §25): a zero-copy parser for requests
 * and responses, stream framing (§18.3), and the parsed form every other
 * layer reads.
 *
 * A struct sip_msg owns one copy of the message bytes; every slice in it
 * points into that copy and lives as long as the message. Messages are
 * ref-counted: sip_msg_ref() / sip_msg_unref(). The parsed fields are
 * read-only for everyone but the parser.
 *
 * A parse costs at most two allocations: the message block (the message
 * and its bytes) and a second one. The header index and the parsed Via/
 * Contact/Route/Record-Route values are split between them: usually the
 * values in the message block and the smaller index apart, the other way
 * round for a message with more header fields than the parser indexes on
 * its stack.
 */
#ifndef DUET_SIP_MSG_H
#define DUET_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/sip_hdr.h"
#include "duet/sip_uri.h"
#include "duet/slice.h"

enum sip_method {
	SIP_METHOD_OTHER = 0, /* an extension method: see method_text */
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_REGISTER,
	SIP_METHOD_PRACK,
	SIP_METHOD_UPDATE,
	SIP_METHOD_INFO,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_REFER,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_PUBLISH,
	SIP_METHOD_COUNT
};

/** The method of a token (case-sensitive, RFC 3261 §7.1). */
enum sip_method sip_method_from(struct slice token);
/** The name of a known method; "" for SIP_METHOD_OTHER. */
struct slice sip_method_name(enum sip_method m);

/** Limits that protect the parser; see SIP_LIMITS_DEFAULT. */
struct sip_limits {
	size_t max_msg_size;   /* whole message, bytes */
	unsigned max_headers;  /* header fields (after unfolding) */
	size_t max_header_len; /* one header field, name + value, bytes */
};

#define SIP_LIMITS_DEFAULT                                                     \
	((struct sip_limits){ .max_msg_size = 65535,                           \
			      .max_headers = 256,                              \
			      .max_header_len = 16384 })

/** How the bytes arrived (RFC 3261 §18.3). */
enum sip_framing {
	SIP_FRAMING_DGRAM = 0, /* one datagram is one message */
	SIP_FRAMING_STREAM,    /* TCP/TLS: Content-Length delimits the body */
};

/** One header field as it appeared. */
struct sip_hdr {
	struct slice name;  /* as written ("v", "VIA", "Via") */
	struct slice value; /* trimmed; folded lines keep their CRLF SP */
	struct slice line;  /* the whole field, without the final CRLF */
	uint16_t id;	    /* enum sip_hdr_id */
	uint16_t next;	    /* index of the next field with this id, or
			       SIP_HDR_NONE */
};

#define SIP_HDR_NONE UINT16_MAX

/** One via-parm (RFC 3261 §20.42). */
struct sip_via {
	struct slice raw;	/* the whole value */
	struct slice transport; /* "UDP", "TCP", "TLS", "SCTP", "WS"... */
	struct slice host;	/* IPv6 with its brackets */
	enum sip_host_kind host_kind;
	uint16_t port;	     /* 0 when absent */
	struct slice params; /* ";branch=...;rport", or empty */
	struct slice branch; /* NULL slice when absent */
	struct slice received;
	struct slice maddr;
	struct slice ttl;
	bool has_rport; /* RFC 3581: "rport" or "rport=N" */
	uint16_t rport; /* N, or 0 for a bare "rport" */
};

/**
 * A name-addr or addr-spec with header parameters: From, To, Contact,
 * Route, Record-Route (RFC 3261 §20.10, §20.20, §20.30, §20.34, §20.39).
 */
struct sip_addr {
	struct slice raw;     /* the whole value */
	struct slice display; /* display name: without its quotes (escapes
				 kept) when quoted; NULL slice when absent */
	bool display_quoted;
	bool bracketed;	  /* written as <uri> */
	bool star;	  /* "Contact: *" */
	bool uri_pending; /* uri holds only raw: see sip_addr_uri() */
	struct sip_uri uri;
	struct slice params; /* header params, ";tag=x;expires=60" or empty */
	struct slice tag;    /* NULL slice when absent */
	bool has_expires;    /* Contact expires param (§20.10) */
	uint32_t expires;
	bool has_q;
	uint16_t q; /* q-value times 1000 (0..1000) */
};

struct sip_msg {
	/* the message bytes (owned by the message) */
	const char *buf;
	size_t len; /* bytes of this message (headers + body) */
	struct slice start_line;

	/* request line (is_request) or status line */
	bool is_request;
	enum sip_method method;
	struct slice method_text;
	struct sip_uri ruri;
	struct slice version; /* "SIP/2.0"; others are parsed, TU says 505 */
	uint16_t status;
	struct slice reason;

	/* every header field, in order; first[id] indexes the first of an id */
	struct sip_hdr *hdrs;
	uint16_t hdr_count;
	uint16_t first[SIP_HDR_COUNT];

	/* eagerly parsed headers. The URIs of From and To are parsed only
	 * in a request without a To tag; elsewhere (a dialog's requests,
	 * responses) they are pending, their raw text only, and
	 * sip_addr_uri() parses them on demand. */
	struct sip_via *vias; /* top first */
	uint16_t via_count;
	struct sip_addr from;
	struct sip_addr to;
	struct slice call_id;
	uint32_t cseq;
	enum sip_method cseq_method;
	struct slice cseq_method_text;
	int max_forwards; /* -1 when absent */
	struct sip_addr *contacts;
	uint16_t contact_count;
	struct sip_addr *routes;
	uint16_t route_count;
	struct sip_addr *record_routes;
	uint16_t record_route_count;
	bool has_content_length;
	uint32_t content_length;
	struct slice content_type; /* "type/subtype", NULL slice when absent */
	struct slice content_type_params; /* ";charset=..." or empty */
	bool has_expires;
	uint32_t expires;
	struct slice body;

	unsigned refs;
	void *values;	   /* the second allocation (header index or values) */
	size_t alloc_size; /* of the first (this struct, index, bytes) */
};

/**
 * Parse one message from buf[0..len). The bytes are copied; buf is only
 * borrowed. DGRAM: one datagram; bytes beyond Content-Length are ignored, a
 * missing Content-Length means the rest. STREAM: Content-Length is required
 * and the message ends with its body; msg->len says how many bytes it used.
 *
 * Returns 0 and sets *out (refs = 1); ENODATA (stream: incomplete),
 * EBADMSG (malformed), EMSGSIZE (a limit in lim), ENOMEM. On error *why,
 * when not NULL, gets a static reason fit for a 400 reason phrase.
 * lim may be NULL for SIP_LIMITS_DEFAULT.
 */
int sip_msg_parse(struct sip_msg **out, const char *buf, size_t len,
		  enum sip_framing framing, const struct sip_limits *lim,
		  const char **why);

/**
 * Find the next message in a stream buffer without parsing it fully
 * (RFC 3261 §18.3). Leading CRLFs (RFC 5626 keep-alives) are counted in
 * *skip. Returns 0 with *skip and *msg_len (the message is
 * buf[*skip .. *skip + *msg_len)); ENODATA when more bytes are needed
 * (*skip is still set); EBADMSG when the header has no valid
 * Content-Length; EMSGSIZE when the message would exceed lim.
 */
int sip_stream_frame(const char *buf, size_t len, const struct sip_limits *lim,
		     size_t *skip, size_t *msg_len, const char **why);

/** Take a reference. Returns msg. */
struct sip_msg *sip_msg_ref(struct sip_msg *msg);

/** Drop a reference, freeing the message at zero. Returns NULL. */
struct sip_msg *sip_msg_unref(struct sip_msg *msg);

/** The first header field with this id, or NULL. */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg,
				  enum sip_hdr_id id);

/** The next field with the same id after h, or NULL. */
const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *msg,
				       const struct sip_hdr *h);

/**
 * The first field whose name matches (case-insensitively; a known name or
 * its compact form finds every spelling), or NULL.
 */
const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *msg,
					  struct slice name);

/**
 * Parse a name-addr/addr-spec value (as used by From, To, Contact, Route,
 * Record-Route, Refer-To, P-Asserted-Identity...) on demand. The result
 * points into `value`. Returns 0 or EBADMSG with *why.
 */
int sip_addr_parse(struct sip_addr *addr, struct slice value, const char **why);

/**
 * The URI of a: a->uri, or when it is pending (uri_pending) that text
 * parsed into *scratch; NULL when it does not parse.
 */
const struct sip_uri *sip_addr_uri(const struct sip_addr *a,
				   struct sip_uri *scratch);

/** The user, or the host, of a's URI (pending or not: sip_addr_uri());
 * a NULL slice when it has none or does not parse. */
struct slice sip_addr_uri_user(const struct sip_addr *a);
struct slice sip_addr_uri_host(const struct sip_addr *a);

/** Parse one via-parm on demand (see struct sip_via). 0 or EBADMSG. */
int sip_via_parse(struct sip_via *via, struct slice value, const char **why);

/* ---- reliable provisional responses (RFC 3262) and option tags ------- */

/** An RAck value (RFC 3262 §7.2): the RSeq and CSeq number acknowledged
 * and the CSeq method (pointing into the parsed value). */
struct sip_rack {
	uint32_t rseq;
	uint32_t cseq;
	struct slice method;
};

/** Parse an RSeq value (RFC 3262 §7.1: 1*DIGIT, 1 .. 2**32 - 1; only the
 * first of a dialog is below 2**31, §3). 0 or EBADMSG. */
int sip_rseq_parse(struct slice value, uint32_t *out);

/** Parse an RAck value (RFC 3262 §7.2: response-num LWS CSeq-num LWS
 * Method, the grammar of CSeq after the RSeq; LWS may fold). 0 or
 * EBADMSG. */
int sip_rack_parse(struct slice value, struct sip_rack *out);

/** Is tag one of the comma-separated option tags of list
 * (case-insensitively)? */
bool sip_option_in(struct slice list, struct slice tag);

/** Does any field with this id (Require, Supported, Proxy-Require...)
 * list the option tag? */
bool sip_msg_has_option(const struct sip_msg *m, enum sip_hdr_id id,
			const char *tag);

/* ---- session timers (RFC 4028) ----------------------------------------- */

/** Who refreshes a session (the refresher parameter, RFC 4028 §4). */
enum sip_refresher {
	SIP_REFRESHER_NONE = 0, /* no refresher parameter */
	SIP_REFRESHER_UAC,
	SIP_REFRESHER_UAS,
};

/**
 * A Session-Expires value, "delta-seconds *(;se-params)" (RFC 4028 §4):
 * *secs gets the interval, *refresher the refresher parameter (NONE when
 * absent; other parameters are ignored). Returns 0, or EBADMSG (no
 * number, a refresher other than uac/uas, an empty parameter).
 */
int sip_session_expires_parse(struct slice v, uint32_t *secs,
			      enum sip_refresher *refresher);

/** A Min-SE value, "delta-seconds *(;generic-param)" (RFC 4028 §5).
 * Returns 0 or EBADMSG. */
int sip_min_se_parse(struct slice v, uint32_t *secs);

#endif /* DUET_SIP_MSG_H */
