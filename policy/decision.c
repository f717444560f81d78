/* SPDX-License-Identifier: MIT */
/* The policy's decision value (see include/duet/policy_decision.h). */
#include "duet/policy_decision.h"

#include "duet/alloc.h"
#include "duet/err.h"
#include "duet/policy.h"

void policy_decision_init(struct policy_decision *d)
{
	*d = (struct policy_decision){ .action = POLICY_RELAY };
}

void policy_decision_clear(struct policy_decision *d)
{
	for (size_t i = 0; i < d->target_count; i++)
		duet_free(d->targets[i].uri);
	duet_free(d->reason);
	duet_free(d->route);
	policy_unref(d->policy);
	policy_decision_init(d);
}

int policy_decision_set_route(struct policy_decision *d, struct slice name)
{
	char *copy = duet_strndup(name.p, name.len);

	if (!copy)
		return ENOMEM;
	duet_free(d->route);
	d->route = copy;
	return 0;
}

int policy_decision_add_target(struct policy_decision *d, struct slice uri,
			       uint16_t weight)
{
	char *copy;

	if (d->target_count == POLICY_MAX_TARGETS)
		return EMSGSIZE;
	copy = duet_strndup(uri.p, uri.len);
	if (!copy)
		return ENOMEM;
	d->targets[d->target_count++] =
		(struct policy_target){ .uri = copy, .weight = weight };
	return 0;
}

const char *policy_action_name(enum policy_action a)
{
	switch (a) {
	case POLICY_RELAY:
		return "relay";
	case POLICY_REJECT:
		return "reject";
	case POLICY_REDIRECT:
		return "redirect";
	}
	return "?";
}
