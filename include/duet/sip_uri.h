/* SPDX-License-Identifier: MIT */
/*
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, §25; RFC 3966; RFC 5118 for IPv6
 * references). Parsing never copies: every field is a slice into the text
 * given to sip_uri_parse() and lives as long as that text.
 */
#ifndef DUET_SIP_URI_H
#define DUET_SIP_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "duet/slice.h"

enum sip_uri_scheme {
	SIP_URI_SIP = 0,
	SIP_URI_SIPS,
	SIP_URI_TEL,
	SIP_URI_OTHER, /* any other absoluteURI: kept as text, not parsed */
};

enum sip_host_kind {
	SIP_HOST_NONE = 0, /* tel and other schemes */
	SIP_HOST_NAME,
	SIP_HOST_IPV4,
	SIP_HOST_IPV6, /* host slice includes the brackets: "[2001:db8::1]" */
};

/**
 * A parsed URI. For sip/sips: user, password (both still escaped),
 * host, port, params (";a=b;c", including the leading ';') and headers
 * (after the '?', which is not included).
 * Well-known parameters are picked out while parsing; others are found with
 * sip_uri_param(). For tel: user holds the number (global or local),
 * params its parameters. For other schemes only `scheme_text` and `raw`.
 */
struct sip_uri {
	struct slice raw; /* the whole URI text */
	enum sip_uri_scheme scheme;
	struct slice scheme_text; /* "sip", "SIPS", "tel", "http"... */
	struct slice user; /* present-but-empty is an error; absent = NULL */
	struct slice password; /* absent = NULL */
	struct slice host;
	enum sip_host_kind host_kind;
	uint16_t port;	      /* 0 when absent */
	struct slice params;  /* ";transport=tcp;lr", or empty */
	struct slice headers; /* "a=b&c=d" (after '?'), or empty */
	/* well-known parameters (RFC 3261 §19.1.1), NULL slice when absent */
	struct slice transport;
	struct slice maddr;
	struct slice user_param;
	struct slice method;
	struct slice ttl;
	bool lr;
};

/**
 * Parse one URI occupying all of `text`. Scheme names are case-insensitive.
 * Returns 0 and fills *uri; EBADMSG with *why (a static string) when the
 * text is not a valid URI of its scheme. *uri is set only on success.
 * `why` may be NULL.
 */
int sip_uri_parse(struct sip_uri *uri, struct slice text, const char **why);

/**
 * Look up a URI parameter by name (case-insensitive). Returns true if present
 * and sets *value to its value (an empty slice for a flag parameter like lr).
 * `value` may be NULL.
 */
bool sip_uri_param(const struct sip_uri *uri, struct slice name,
		   struct slice *value);

/**
 * URI equivalence per RFC 3261 §19.1.4 (sip and sips): scheme, user and
 * password compared case-sensitively after unescaping, host
 * case-insensitively, port present/absent significant, user/ttl/method/maddr/
 * transport parameters must match when present in either, other parameters
 * only when present in both, headers must match as a set. tel URIs compare
 * by number and parameters (RFC 3966 §4); other schemes byte-exact.
 */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/** The port to use: the explicit one, else 5061 for sips, 5060 otherwise. */
uint16_t sip_uri_port_or_default(const struct sip_uri *uri);

#endif /* DUET_SIP_URI_H */
