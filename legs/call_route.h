/* SPDX-License-Identifier: MIT */
/*
 * A call's route (legs/call_route.c): the policy decision the call keeps
 * for its whole life (its policy snapshot, a reference, and its route),
 * the hunt along the decision's targets (RFC 3261 §16.7-style choice of
 * the response the caller gets, §8.1.3.5 retries), RFC 3263 resolution of
 * host-name targets, per-route concurrency and the maximum duration.
 */
#ifndef DUET_LEGS_CALL_ROUTE_H
#define DUET_LEGS_CALL_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "duet/call_fsm.h"
#include "duet/policy.h"
#include "duet/resolve.h"
#include "duet/wheel.h"

struct call;
struct calls;

struct call_hunt {
	/* the decision: policy reference, route, targets in hunt order */
	struct policy_decision *dec;	 /* while the call is set up; NULL
					    once call_hunt_slim kept only: */
	const struct policy_route *rule; /* the deciding route */
	struct policy *policy;		 /* its policy (a reference) */
	bool have_dec;
	unsigned next; /* the next target to try */
	int cur;       /* the target being tried, -1: none yet */
	/* RFC 3263: the addresses of a host-name target, tried in turn */
	struct resolve_result *addrs;
	unsigned addr_next;
	struct resolve_query *rq;
	/* the best final failure so far (§16.7): its message, or only
	 * its code for a timeout (408) or ring timeout (480) */
	struct sip_msg *best;
	uint16_t best_code;
	unsigned attempts;
	bool counted;	      /* in the route's concurrent count */
	uint32_t retry_after; /* Retry-After of a 503 duet sends, 0: 5 */
	struct wheel_timer duration;
};

/* Concurrent calls per route name (names survive reloads). */
struct call_route_count {
	char name[64];
	unsigned n;
};

struct call_route_counts {
	struct call_route_count *c;
	unsigned n, cap;
};

/* A fresh hunt (in call_alloc). */
void call_hunt_init(struct call *call);

/* The call takes the decision d (moved: d is left empty): from here on
 * call_rule() and call_policy() answer for it, for the answers duet gives
 * before any attempt (403, 404, 420) as for the hunt. 0 or ENOMEM. */
int call_take_decision(struct call *call, struct policy_decision *d);

/* With the decision taken: checks the route's concurrency limit and
 * starts the first attempt. Returns 0 when an attempt is under way (sent,
 * or resolving), else the final code the caller gets (duet answers it). */
uint16_t call_hunt_begin(struct call *call);

/* Is the call waiting for DNS before its first attempt? */
bool call_hunt_busy(const struct call *call);

/* The current attempt failed: resp, or a timeout (resp NULL; ring true
 * for the ring timeout). Returns CALL_EVENT_COUNT when the hunt moved on
 * to another target (nothing else to do), else the event the call takes
 * with *relay the response the caller gets (the best one, §16.7; NULL
 * with CEV_B_TIMEOUT). */
enum call_event call_hunt_failed(struct call *call, struct sip_msg *resp,
				 bool ring, struct sip_msg **relay);

/* The call was answered: start the route's maximum duration. */
void call_hunt_answered(struct call *call);

/* Free what the hunt holds (in call_free). */
void call_hunt_clear(struct call *call);

/* Free the targets once the call is answered and slim (call_slim). */
void call_hunt_slim(struct call *call);

void call_route_counts_free(struct call_route_counts *rc);

/* The route (NULL: none, the built-in rules) and the A leg's source. */
const struct policy_route *call_rule(const struct call *call);
/* The policy the call started with (its snapshot), or NULL. */
const struct policy *call_policy(const struct call *call);
struct policy_source call_policy_source(const struct call *call);

#endif /* DUET_LEGS_CALL_ROUTE_H */
