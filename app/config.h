/* SPDX-License-Identifier: MIT */
/*
 * The daemon's configuration file (conf/duet.json, docs/policy.md),
 * compiled by the policy compiler (include/duet/policy.h): listeners,
 * timers, limits, log level and routes. Every error is reported with its
 * JSON path and line:column; a file with any error is refused whole.
 */
#ifndef DUET_APP_CONFIG_H
#define DUET_APP_CONFIG_H

#include <stdio.h>

#include "duet/call.h"
#include "duet/policy.h"

struct duet_config {
	struct policy *policy;		 /* owned reference */
	const struct policy_settings *s; /* the policy's settings */
	unsigned warnings;
};

/**
 * Load and check a configuration file. Every error and warning is printed
 * to errs as "FILE: PATH: line L col C: message". Returns 0, or EINVAL
 * when the file has errors, ENOMEM, or an errno when it cannot be read.
 * config_clear() drops what a successful load holds.
 */
int config_load(struct duet_config *cfg, const char *path, FILE *errs);

void config_clear(struct duet_config *cfg);

/** The call layer's settings from the file's (its defaults for the rest):
 * the daemon's, and those of `duet route`'s dry run. */
void config_calls(struct calls_config *cc, const struct policy_settings *s);

#endif
