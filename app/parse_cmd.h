/* SPDX-License-Identifier: MIT */
/* `duet parse`: print what duet's parser sees in captured messages. */
#ifndef DUET_APP_PARSE_CMD_H
#define DUET_APP_PARSE_CMD_H

#include <stdio.h>

#include <jansson.h>

#include "duet/sip_msg.h"

/**
 * `duet parse [-q] [--stream] FILE...`: each file holds one message; print
 * it as JSON (or its error) to out. Returns the exit status: 0 when every
 * file parsed, 1 when any did not, 2 on a usage or I/O error.
 */
int parse_cmd_main(int argc, char **argv, FILE *out, FILE *err);

/** The JSON form of a parsed message (a new reference). */
json_t *parse_cmd_msg_json(const struct sip_msg *msg);

#endif
