/* SPDX-License-Identifier: MIT */
/*
 * SIP header names: ids, compact forms (RFC 3261 §7.3.3 and the extensions
 * that define one), and splitting a header value into its comma-separated
 * values (RFC 3261 §7.3.1) around quoted strings and <...>.
 *
 * Adding a header is one row in SIP_HDR_TABLE.
 */
#ifndef DUET_SIP_HDR_H
#define DUET_SIP_HDR_H

#include <stdbool.h>
#include <stdint.h>

#include "duet/slice.h"

/* Flags of a header row. */
#define SIP_HDRF_SINGLE 0x1 /* at most once in a message */
#define SIP_HDRF_LIST 0x2   /* value is a comma-separated list (§7.3.1) */

/* X(ID, canonical name, compact form or 0, flags) */
#define SIP_HDR_TABLE(X)                                                       \
	X(ACCEPT, "Accept", 0, SIP_HDRF_LIST)                                  \
	X(ACCEPT_CONTACT, "Accept-Contact", 'a', SIP_HDRF_LIST)                \
	X(ACCEPT_ENCODING, "Accept-Encoding", 0, SIP_HDRF_LIST)                \
	X(ACCEPT_LANGUAGE, "Accept-Language", 0, SIP_HDRF_LIST)                \
	X(ALERT_INFO, "Alert-Info", 0, SIP_HDRF_LIST)                          \
	X(ALLOW, "Allow", 0, SIP_HDRF_LIST)                                    \
	X(ALLOW_EVENTS, "Allow-Events", 'u', SIP_HDRF_LIST)                    \
	X(AUTHENTICATION_INFO, "Authentication-Info", 0, 0)                    \
	X(AUTHORIZATION, "Authorization", 0, 0)                                \
	X(CALL_ID, "Call-ID", 'i', SIP_HDRF_SINGLE)                            \
	X(CALL_INFO, "Call-Info", 0, SIP_HDRF_LIST)                            \
	X(CONTACT, "Contact", 'm', SIP_HDRF_LIST)                              \
	X(CONTENT_DISPOSITION, "Content-Disposition", 0, 0)                    \
	X(CONTENT_ENCODING, "Content-Encoding", 'e', SIP_HDRF_LIST)            \
	X(CONTENT_LANGUAGE, "Content-Language", 0, SIP_HDRF_LIST)              \
	X(CONTENT_LENGTH, "Content-Length", 'l', SIP_HDRF_SINGLE)              \
	X(CONTENT_TYPE, "Content-Type", 'c', SIP_HDRF_SINGLE)                  \
	X(CSEQ, "CSeq", 0, SIP_HDRF_SINGLE)                                    \
	X(DATE, "Date", 0, SIP_HDRF_SINGLE)                                    \
	X(ERROR_INFO, "Error-Info", 0, SIP_HDRF_LIST)                          \
	X(EVENT, "Event", 'o', 0)                                              \
	X(EXPIRES, "Expires", 0, SIP_HDRF_SINGLE)                              \
	X(FROM, "From", 'f', SIP_HDRF_SINGLE)                                  \
	X(IDENTITY, "Identity", 'y', 0)                                        \
	X(IDENTITY_INFO, "Identity-Info", 'n', 0)                              \
	X(IN_REPLY_TO, "In-Reply-To", 0, SIP_HDRF_LIST)                        \
	X(INFO_PACKAGE, "Info-Package", 0, 0)                                  \
	X(MAX_FORWARDS, "Max-Forwards", 0, SIP_HDRF_SINGLE)                    \
	X(MIME_VERSION, "MIME-Version", 0, 0)                                  \
	X(MIN_EXPIRES, "Min-Expires", 0, 0)                                    \
	X(MIN_SE, "Min-SE", 0, 0)                                              \
	X(ORGANIZATION, "Organization", 0, 0)                                  \
	X(P_ASSERTED_IDENTITY, "P-Asserted-Identity", 0, SIP_HDRF_LIST)        \
	X(P_PREFERRED_IDENTITY, "P-Preferred-Identity", 0, SIP_HDRF_LIST)      \
	X(PATH, "Path", 0, SIP_HDRF_LIST)                                      \
	X(PRIORITY, "Priority", 0, 0)                                          \
	X(PRIVACY, "Privacy", 0, 0)                                            \
	X(PROXY_AUTHENTICATE, "Proxy-Authenticate", 0, 0)                      \
	X(PROXY_AUTHORIZATION, "Proxy-Authorization", 0, 0)                    \
	X(PROXY_REQUIRE, "Proxy-Require", 0, SIP_HDRF_LIST)                    \
	X(RACK, "RAck", 0, 0)                                                  \
	X(REASON, "Reason", 0, SIP_HDRF_LIST)                                  \
	X(RECORD_ROUTE, "Record-Route", 0, SIP_HDRF_LIST)                      \
	X(RECV_INFO, "Recv-Info", 0, SIP_HDRF_LIST)                            \
	X(REFER_TO, "Refer-To", 'r', 0)                                        \
	X(REFERRED_BY, "Referred-By", 'b', 0)                                  \
	X(REJECT_CONTACT, "Reject-Contact", 'j', SIP_HDRF_LIST)                \
	X(REPLACES, "Replaces", 0, 0)                                          \
	X(REPLY_TO, "Reply-To", 0, 0)                                          \
	X(REQUEST_DISPOSITION, "Request-Disposition", 'd', SIP_HDRF_LIST)      \
	X(REQUIRE, "Require", 0, SIP_HDRF_LIST)                                \
	X(RETRY_AFTER, "Retry-After", 0, 0)                                    \
	X(ROUTE, "Route", 0, SIP_HDRF_LIST)                                    \
	X(RSEQ, "RSeq", 0, 0)                                                  \
	X(SERVER, "Server", 0, 0)                                              \
	X(SERVICE_ROUTE, "Service-Route", 0, SIP_HDRF_LIST)                    \
	X(SESSION_EXPIRES, "Session-Expires", 'x', 0)                          \
	X(SUBJECT, "Subject", 's', 0)                                          \
	X(SUBSCRIPTION_STATE, "Subscription-State", 0, 0)                      \
	X(SUPPORTED, "Supported", 'k', SIP_HDRF_LIST)                          \
	X(TARGET_DIALOG, "Target-Dialog", 0, 0)                                \
	X(TIMESTAMP, "Timestamp", 0, 0)                                        \
	X(TO, "To", 't', SIP_HDRF_SINGLE)                                      \
	X(UNSUPPORTED, "Unsupported", 0, SIP_HDRF_LIST)                        \
	X(USER_AGENT, "User-Agent", 0, 0)                                      \
	X(VIA, "Via", 'v', SIP_HDRF_LIST)                                      \
	X(WARNING, "Warning", 0, SIP_HDRF_LIST)                                \
	X(WWW_AUTHENTICATE, "WWW-Authenticate", 0, 0)

enum sip_hdr_id {
	SIP_HDR_OTHER = 0, /* a header duet has no id for; kept as text */
#define SIP_HDR_ENUM(id, name, compact, flags) SIP_HDR_##id,
	SIP_HDR_TABLE(SIP_HDR_ENUM)
#undef SIP_HDR_ENUM
		SIP_HDR_COUNT
};

/** The canonical (long) name of a header id; "" for SIP_HDR_OTHER. */
struct slice sip_hdr_name(enum sip_hdr_id id);

/** SIP_HDRF_* flags of a header id. */
unsigned sip_hdr_flags(enum sip_hdr_id id);

/**
 * The id of a header name, long or compact, compared case-insensitively
 * (RFC 3261 §7.3.1, §7.3.3). SIP_HDR_OTHER when unknown.
 */
enum sip_hdr_id sip_hdr_lookup(struct slice name);

/**
 * Iterate over the comma-separated values of a header value (§7.3.1):
 * commas inside quoted strings and <...> do not split. Start with
 * *pos = 0; each call sets *out to the next value with surrounding LWS
 * trimmed and returns true, or returns false at the end. Returns false and
 * sets *bad when the quoting is unbalanced (bad may be NULL).
 */
bool sip_hdr_next_value(struct slice value, size_t *pos, struct slice *out,
			bool *bad);

#endif /* DUET_SIP_HDR_H */
