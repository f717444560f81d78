/* SPDX-License-Identifier: MIT */
/* `duet route`: the dry run of a configuration against a request. */
#ifndef DUET_APP_ROUTE_CMD_H
#define DUET_APP_ROUTE_CMD_H

#include <stdio.h>

/** argv[0] is "route". Returns the exit status (0, 1 error, 2 usage). */
int route_cmd_main(int argc, char **argv, FILE *out, FILE *err);

#endif
