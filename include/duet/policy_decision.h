/* SPDX-License-Identifier: MIT */
/*
 * The decision value the policy returns for a request: what happens to it
 * (relay to targets, reject with a code, redirect), and the name of the
 * route that decided. legs/ acts on it; policy/ never sends anything.
 * Singly owned: policy_decision_init() / policy_decision_clear().
 */
#ifndef DUET_POLICY_DECISION_H
#define DUET_POLICY_DECISION_H

#include <stddef.h>
#include <stdint.h>

#include "duet/slice.h"

struct policy; /* include/duet/policy.h */
struct policy_route;

enum policy_action {
	POLICY_RELAY = 0, /* create the B leg toward targets[] */
	POLICY_REJECT,	  /* answer status/reason on the A leg */
	POLICY_REDIRECT,  /* answer 3xx with targets[] as Contacts */
};

#define POLICY_MAX_TARGETS 16

struct policy_target {
	char *uri;	 /* owned, NUL-terminated SIP URI */
	uint16_t weight; /* for weighted strategies; 0 = default */
};

struct policy_decision {
	enum policy_action action;
	uint16_t status; /* reject/redirect code */
	char *reason;	 /* owned; NULL for the standard phrase */
	char *route;	 /* owned name of the deciding route */
	struct policy_target targets[POLICY_MAX_TARGETS];
	size_t target_count;
	/* set by policy_decide(): the policy that decided (a reference,
	 * dropped by policy_decision_clear()) and its route (NULL when no
	 * route matched), for the call's later questions (rewrites, headers,
	 * method map, failover, reply map) */
	struct policy *policy;
	const struct policy_route *rule;
	uint32_t retry_after; /* seconds, for a 503 reject; 0: none */
};

/** An empty relay decision with no targets. */
void policy_decision_init(struct policy_decision *d);

/** Free what d owns (and drop its policy reference); make it empty. */
void policy_decision_clear(struct policy_decision *d);

/** Set the deciding route's name (copied). 0 or ENOMEM. */
int policy_decision_set_route(struct policy_decision *d, struct slice name);

/**
 * Append a target (the URI is copied). 0, ENOMEM, or EMSGSIZE when
 * POLICY_MAX_TARGETS are already set.
 */
int policy_decision_add_target(struct policy_decision *d, struct slice uri,
			       uint16_t weight);

/** "relay", "reject" or "redirect". */
const char *policy_action_name(enum policy_action a);

#endif /* DUET_POLICY_DECISION_H */
