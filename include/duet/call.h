/* SPDX-License-Identifier: MIT */
/*
 * The B2BUA call layer: every call is an A leg (duet is the UAS facing the
 * caller) and a B leg (duet is the UAC facing the callee), two separate
 * dialogs. struct calls holds the calls of one event loop and is the
 * transaction user for them: the daemon hands it the requests, ACKs and
 * responses the transaction layer reports, and it drives each call through
 * the table of include/duet/call_fsm.h.
 *
 * Singly owned: calls_new() / calls_free().
 */
#ifndef DUET_CALL_H
#define DUET_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/leg_ident.h"
#include "duet/policy_decision.h"
#include "duet/sip_msg.h"
#include "duet/sip_tx.h"
#include "duet/transport.h"
#include "duet/wheel.h"

struct calls;
struct resolver;

/** Decides where a new call goes (the policy's job; a fixed route until
 * the policy module lands). Fills *d; returns 0 or an errno. */
typedef int calls_route_fn(const struct sip_msg *invite,
			   const struct tp_source *src,
			   struct policy_decision *d, void *arg);

/** What happens to a REFER inside a call (RFC 3515). */
struct calls_config {
	uint32_t t1; /* ms, for 2xx retransmission (§13.3.1.4) */
	uint32_t t2;
	uint32_t ring_timeout_ms;   /* no answer: CANCEL the B leg; 0 = none */
	uint16_t ring_timeout_code; /* what the caller gets: 480 or 408 */
	unsigned max_calls;	    /* more get 503; 0 = no limit */
	uint32_t reinvite_timeout_ms; /* Timer C of a relayed re-INVITE */
	uint32_t session_expires;     /* s, RFC 4028; 0: duet asks none */
	uint32_t min_se;	      /* s, the shortest accepted */
};

void calls_config_default(struct calls_config *cfg);

/** A new configuration for calls started from now on (a reload). */
void calls_set_config(struct calls *c, const struct calls_config *cfg);

/** What the call layer needs from its event loop (all borrowed). */
struct calls_env {
	struct txl *txl;
	struct transport *tp;
	struct wheel *wheel;
	struct leg_ident *ident;
	calls_route_fn *route;
	void *route_arg;
	/* RFC 3263 for host-name targets (optional: without it, only
	 * numeric targets are reached) */
	struct resolver *resolver;
};

struct calls_stats {
	uint64_t created;
	uint64_t answered;
	uint64_t failed; /* ended without an answer */
	uint64_t ended;
	unsigned active;
	unsigned open_legs; /* dialogs held by live calls */
	uint64_t invalid_events;
};

int calls_new(struct calls **out, const struct calls_env *env,
	      const struct calls_config *cfg);

/** Free every call at once (no signalling; see calls_shutdown). */
void calls_free(struct calls *c);

/**
 * A request for the call layer: an out-of-dialog INVITE (a new call), a
 * CANCEL, or any in-dialog request (To tag present). Returns true when the
 * call layer took it (and answers it), false when it is not the call
 * layer's (the caller answers it).
 */
bool calls_on_request(struct calls *c, struct sip_tx *st, struct sip_msg *req,
		      const struct tp_source *src);

/** An ACK for a 2xx (end to end). */
void calls_on_ack(struct calls *c, struct sip_msg *ack,
		  const struct tp_source *src);

/** A 2xx that matched no transaction (a retransmission after the INVITE
 * client transaction ended, or a late fork). */
void calls_on_stray(struct calls *c, struct sip_msg *resp,
		    const struct tp_source *src);

/** txl_ops.response and txl_ops.ended for transactions the call layer
 * created (their tx_arg is the call layer's). */
void calls_tx_response(struct sip_tx *ct, struct sip_msg *resp, void *tx_arg);
void calls_tx_ended(struct sip_tx *tx, int err, void *tx_arg);

/** End every call: CANCEL/503 before the answer, BYE on both legs after. */
void calls_shutdown(struct calls *c);

void calls_stats(const struct calls *c, struct calls_stats *out);

/**
 * The dry run of `duet route`: the B-leg INVITE the call layer would send
 * for invite (from src) under the relay decision d to its target number
 * `target`, with the route's rewrites and header rules, without any
 * network: Via and Contact name local, identifiers (Call-ID, tags,
 * branch) come from a leg_ident seeded with seed (0: 1), so the output
 * is the same on every run. A host-name target is not resolved. cfg:
 * the call layer's settings (session timer...), NULL for the defaults.
 * Sets *out (duet_free() it) and *len. 0, EINVAL (not a relay, no such
 * target), ENOMEM, or the error that would refuse the target.
 */
int calls_dry_run_b_invite(const struct policy_decision *d,
			   const struct calls_config *cfg,
			   struct sip_msg *invite, const struct tp_source *src,
			   const struct tp_addr *local, uint64_t seed,
			   size_t target, char **out, size_t *len);

#endif /* DUET_CALL_H */
