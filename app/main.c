/* SPDX-License-Identifier: MIT */
/* duet: a SIP back-to-back user agent. Dispatches the sub-commands. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "duet/alloc.h"
#include "duet/log.h"
#include "parse_cmd.h"
#include "route_cmd.h"

#ifndef DUET_VERSION
#define DUET_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: duet -c FILE\n"
		"       duet --check FILE\n"
		"       duet parse [-q] [--stream] FILE...\n"
		"       duet route FILE --request MSG.sip [--source IP:PORT]\n"
		"                  [--transport udp|tcp] [--seed N]\n"
		"       duet --version\n"
		"\n"
		"  -c      run the daemon on a configuration file\n"
		"  --check check a configuration file, print every error and\n"
		"          warning (exit 1 on errors)\n"
		"  parse   print each captured SIP message as JSON, or why it\n"
		"          is invalid (exit 1); -q prints nothing\n"
		"  route   dry run: the route a request takes, the method map\n"
		"          and the B-leg INVITE duet would send (no network;\n"
		"          identifiers from --seed, default 1)\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "parse") == 0)
		return parse_cmd_main(argc - 1, argv + 1, stdout, stderr);
	if (argc >= 2 && strcmp(argv[1], "route") == 0)
		return route_cmd_main(argc - 1, argv + 1, stdout, stderr);
	if (argc == 3 &&
	    (strcmp(argv[1], "-c") == 0 || strcmp(argv[1], "--check") == 0)) {
		struct duet_config cfg;
		int status;

		if (config_load(&cfg, argv[2], stderr))
			return 1;
		if (strcmp(argv[1], "--check") == 0) {
			printf("%s: ok, %zu route%s, %u warning%s\n", argv[2],
			       policy_route_count(cfg.policy),
			       policy_route_count(cfg.policy) == 1 ? "" : "s",
			       cfg.warnings, cfg.warnings == 1 ? "" : "s");
			config_clear(&cfg);
			return 0;
		}
		status = daemon_run(&cfg);
		config_clear(&cfg);
		/* everything duet allocated is owned by something freed by
		 * now: what is left was lost (the e2e tests read this line) */
		LOG_INFO("exit: %lld allocations left",
			 (long long)duet_alloc_stats().live);
		return status;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("duet %s\n", DUET_VERSION);
		return 0;
	}
	if (argc >= 2 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
