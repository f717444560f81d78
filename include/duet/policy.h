/* SPDX-License-Identifier: MIT */
/*
 * The compiled policy (docs/policy.md): the JSON configuration turned into
 * immutable C structures once, then asked "what happens to this request".
 * It sends nothing and owns no sockets: given a parsed request and where it
 * came from, it returns a decision value (include/duet/policy_decision.h),
 * rewritten values, header rules, method and reply maps.
 *
 * Ref-counted: policy_compile()/policy_load_file() return one reference;
 * policy_ref()/policy_unref(). A call keeps the snapshot it started with;
 * a reload compiles a new policy and swaps one pointer. The only state that
 * changes after compiling is each route's round-robin counter.
 *
 * A route (struct policy_route) lives as long as its policy.
 */
#ifndef DUET_POLICY_H
#define DUET_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "duet/log.h"
#include "duet/policy_decision.h"
#include "duet/sip_msg.h"
#include "duet/transport.h"

struct policy;
struct policy_route;

#define POLICY_MAX_LISTEN 16

struct policy_listen {
	enum sip_proto proto;
	struct tp_addr addr;
};

/** The process-wide settings: listen, timers, limits, log_level. */
struct policy_settings {
	struct policy_listen listen[POLICY_MAX_LISTEN];
	unsigned listen_count;
	struct sip_limits limits;  /* max_message_size, max_headers,
				      max_header_length */
	unsigned max_calls;	   /* 0: no limit */
	unsigned max_transactions; /* 0: the transaction layer's default */
	unsigned calls_per_second; /* new calls per second, 0: no limit */
	enum duet_log_level log_level;
	/* timers, ms */
	uint32_t t1, t2, t4, trying, ring_timeout, drain;
	uint32_t reinvite_timeout; /* ms: a relayed re-INVITE's Timer C */
	/* session timers (RFC 4028), seconds */
	uint32_t session_expires;    /* duet's interval; 0: none of its own */
	uint32_t min_se;	     /* the shortest interval duet accepts */
	uint32_t udp_read_window_us; /* transport_config.udp_window_us */
};

/** Where a request came from. */
struct policy_source {
	enum sip_proto proto;
	struct tp_addr remote;
};

/** The leg a request arrived on (A: from the caller, B: from the callee),
 * or the leg a message is sent on, as each function says. */
enum policy_leg { POLICY_LEG_A = 0, POLICY_LEG_B, POLICY_LEG_COUNT };

/**
 * Compile a policy from JSON text (text[0..len), need not be
 * NUL-terminated). Every error and warning is printed to errs (may be
 * NULL) as "FILE: PATH: line L col C: message" ("warning: " before the
 * message for warnings). *warnings (may be NULL) gets the warning count.
 * Returns 0 and sets *out (one reference); EINVAL when the text has any
 * error (nothing is returned); ENOMEM.
 */
int policy_compile(struct policy **out, const char *text, size_t len,
		   const char *file, FILE *errs, unsigned *warnings);

/** policy_compile() on a file's contents; an errno when it cannot be
 * read (reported on errs too). */
int policy_load_file(struct policy **out, const char *path, FILE *errs,
		     unsigned *warnings);

/** Take a reference. Returns p. */
struct policy *policy_ref(struct policy *p);

/** Drop a reference, freeing the policy at zero. Returns NULL. */
struct policy *policy_unref(struct policy *p);

const struct policy_settings *policy_settings(const struct policy *p);

/** The file name given to policy_compile(). */
const char *policy_file(const struct policy *p);

/** Routes in order; NULL past the end. */
size_t policy_route_count(const struct policy *p);
const struct policy_route *policy_route_at(const struct policy *p, size_t i);
const char *policy_route_name(const struct policy_route *r);
size_t policy_route_index(const struct policy_route *r);

/**
 * Decide what happens to a request (normally an out-of-dialog INVITE):
 * the first route whose match holds. Fills *out (initialised by the caller
 * with policy_decision_init()): action, status/reason, the route's name,
 * the ordered targets (relay: the hunt order of the route's strategy;
 * redirect: the Contacts), retry_after, and out->policy (a reference) and
 * out->rule. No matching route: reject 404, route "none", rule NULL.
 * Returns 0 or ENOMEM (*out then holds what was set; clear it).
 * Advances the route's round-robin counter.
 */
int policy_decide(struct policy *p, const struct sip_msg *req,
		  const struct policy_source *src, struct policy_decision *out);

/** Does route r's match hold for this request? */
bool policy_route_matches(const struct policy_route *r,
			  const struct sip_msg *req,
			  const struct policy_source *src);

/* ---- rewrites ---------------------------------------------------------- */

/** Rewritten values for the B-leg INVITE; NULL: keep the A leg's. */
struct policy_rewrite {
	char *ruri_user, *ruri_host;
	char *from_user, *from_host, *from_display;
	char *to_user, *to_host, *to_display;
};

/**
 * The route's rewrites applied to the A-leg request: each configured field
 * is a template over the request (its $N: the route's match.ruri.user
 * captures) or a regex replacement of the field's current value. Fills
 * *out (owned strings; free with policy_rewrite_clear()). Returns 0,
 * ENOMEM, or EBADMSG when a result holds CR, LF or NUL (nothing is set).
 */
int policy_rewrite(const struct policy_route *r, const struct sip_msg *req,
		   const struct policy_source *src, struct policy_rewrite *out);

void policy_rewrite_clear(struct policy_rewrite *rw);

/* ---- headers ----------------------------------------------------------- */

/*
 * The header queries take a message header's id (sip_hdr.h; compact forms
 * and any case of a known name share it) and its name, which only
 * matters when the id is SIP_HDR_OTHER.
 */

/**
 * Does this header cross from one leg to the other (A-leg requests to
 * the B leg, B-leg responses to the A leg)? The route's allow- or
 * deny-list; r NULL: the built-in allow-list (Allow, Supported, Require,
 * Accept). Headers duet generates per leg (Via, From, To, Call-ID, CSeq,
 * Contact, Route, Record-Route, Max-Forwards, Content-Length,
 * Content-Type, Session-Expires, Min-SE) never cross.
 */
bool policy_header_crosses(const struct policy_route *r, enum sip_hdr_id id,
			   struct slice name);

/** Does the route's deny-list name this header? (false for an allow-list
 * or the built-in one) */
bool policy_header_denied(const struct policy_route *r, enum sip_hdr_id id,
			  struct slice name);

/** Is this header removed from the requests (response false) or responses
 * duet sends on leg? */
bool policy_header_removed(const struct policy_route *r, enum policy_leg leg,
			   bool response, enum sip_hdr_id id,
			   struct slice name);

struct policy_header {
	char *name, *value; /* owned */
};

struct policy_headers {
	struct policy_header *h;
	size_t count;
};

/**
 * The headers to add to requests (response false) or responses duet sends
 * on leg, their values expanded over the A-leg request req and src.
 * Fills *out (policy_headers_clear() frees it). 0, ENOMEM or EBADMSG.
 */
int policy_header_adds(const struct policy_route *r, enum policy_leg leg,
		       bool response, const struct sip_msg *req,
		       const struct policy_source *src,
		       struct policy_headers *out);

void policy_headers_clear(struct policy_headers *h);

struct sip_writer;
/** policy_header_adds() written into w as header fields (what duet adds
 * to a message it builds). 0, ENOMEM or EBADMSG (nothing written). */
int policy_header_write_adds(struct sip_writer *w, const struct policy_route *r,
			     enum policy_leg leg, bool response,
			     const struct sip_msg *req,
			     const struct policy_source *src);

/** duet's own "Server: duet" into a response duet sends on leg, unless
 * route r (may be NULL) removes Server from its responses there. */
void policy_header_write_server(struct sip_writer *w,
				const struct policy_route *r,
				enum policy_leg leg);

/* ---- methods, replies, failover, limits -------------------------------- */

enum policy_method_mode {
	POLICY_METHOD_RELAY = 0, /* to the other leg */
	POLICY_METHOD_ANSWER,	 /* duet answers code (2xx) itself */
	POLICY_METHOD_REJECT,	 /* duet answers code (3xx-6xx) itself */
	POLICY_METHOD_IMMEDIATE, /* ACK: duet ACKs the callee's 2xx at once */
	POLICY_METHOD_PER_LEG,	 /* PRACK: each leg's PRACKs answered there */
};

struct policy_method_rule {
	enum policy_method_mode mode;
	uint16_t code;	    /* ANSWER, REJECT */
	const char *reason; /* NULL: the standard phrase */
};

/**
 * What happens to a request of method m arriving on leg (in_dialog: within
 * a call's dialog; an INVITE there is a re-INVITE). r NULL: the defaults
 * (docs/policy.md). p is reserved for policy-wide maps.
 */
struct policy_method_rule
policy_method_action(const struct policy *p, const struct policy_route *r,
		     enum policy_leg leg, enum sip_method m, bool in_dialog);

/** "relay", "answer", "reject", "immediate", "per_leg". */
const char *policy_method_mode_name(enum policy_method_mode m);

/**
 * The final code the caller gets for a callee's final code (reply_map).
 * *reason gets NULL (keep the callee's phrase), "" (hide it: use the
 * standard phrase) or the configured phrase. r NULL: code unchanged.
 */
uint16_t policy_reply_map(const struct policy_route *r, uint16_t code,
			  const char **reason);

/** Does this final code from a target move the hunt to the next target? */
bool policy_failover_on_code(const struct policy_route *r, uint16_t code);

/** Does a target's timeout (no final answer) move the hunt on? */
bool policy_failover_on_timeout(const struct policy_route *r);

struct policy_route_limits {
	uint32_t max_duration;	   /* seconds, 0: none */
	unsigned max_calls;	   /* concurrent calls on the route, 0: none */
	unsigned calls_per_second; /* 0: none */
	uint32_t retry_after;	   /* seconds, in the 503 for the excess */
};

const struct policy_route_limits *
policy_route_limits(const struct policy_route *r);

/* ---- a token bucket for calls per second --------------------------------- */

/** Singly owned, embedded by the caller; time is passed in. */
struct policy_bucket {
	uint64_t milli_tokens; /* thousandths of a token */
	uint64_t last_ms;
	uint32_t rate;	/* tokens per second; 0: unlimited */
	uint32_t burst; /* bucket size in tokens (at least 1) */
};

/** A full bucket of burst tokens (0: burst = rate) refilled at rate per
 * second, starting at now_ms. */
void policy_bucket_init(struct policy_bucket *b, uint32_t rate, uint32_t burst,
			uint64_t now_ms);

/** Take one token at now_ms: true when there was one (or rate is 0). */
bool policy_bucket_take(struct policy_bucket *b, uint64_t now_ms);

/** Seconds (at least 1) until the next token, for Retry-After. */
uint32_t policy_bucket_wait_s(const struct policy_bucket *b, uint64_t now_ms);

/* ---- for tests and the schema check ------------------------------------ */

/** The keys the compiler knows at the top level / in a route, NULL-ended. */
const char *const *policy_top_keys(void);
const char *const *policy_route_keys(void);

#endif /* DUET_POLICY_H */
