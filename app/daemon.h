/* SPDX-License-Identifier: MIT */
/* The duet daemon: event loop, listeners, signals. */
#ifndef DUET_APP_DAEMON_H
#define DUET_APP_DAEMON_H

#include "config.h"

/**
 * Run the daemon on a loaded configuration until SIGTERM or SIGINT.
 * Returns the process exit status.
 */
int daemon_run(const struct duet_config *cfg);

#endif
