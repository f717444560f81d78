/* SPDX-License-Identifier: MIT */
/*
 * The daemon's configuration file (conf/duet.json): listeners, parser
 * limits, timers, the default route, log level. Every error is reported with its JSON path, and the
 * line and column when the file is not valid JSON; a file with any error
 * is refused whole.
 */
#ifndef DUET_APP_CONFIG_H
#define DUET_APP_CONFIG_H

#include <stdio.h>

#include "duet/log.h"
#include "duet/sip_msg.h"
#include "duet/transport.h"

#define CONFIG_MAX_LISTEN 16

struct config_listen {
	enum sip_proto proto;
	struct tp_addr addr;
};

struct duet_config {
	struct config_listen listen[CONFIG_MAX_LISTEN];
	unsigned listen_count;
	struct sip_limits limits;
	unsigned max_calls;      /* limits.max_calls; 0 = no limit */
	unsigned max_transactions; /* limits.max_transactions; 0: default */
	enum duet_log_level log_level;
	/* timers, ms */
	uint32_t t1, t2, t4, trying, ring_timeout, drain;
	/* the default route until the policy module lands */
	char route_name[64];
	char target[256];        /* "" when no route is configured */
};

/**
 * Load and check a configuration file. Every error is printed to errs as
 * "FILE: PATH: message" (one per line). Returns 0, or EINVAL when the file
 * has errors, or an errno when it cannot be read.
 */
int config_load(struct duet_config *cfg, const char *path, FILE *errs);

#endif
