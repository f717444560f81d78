/* SPDX-License-Identifier: MIT */
/*
 * `duet route FILE --request MSG.sip [--source IP:PORT] [--transport
 * udp|tcp] [--seed N]`: the dry run of a configuration. Compiles FILE,
 * decides the request as the daemon would for a new INVITE from that
 * source, and prints the route, its answer or targets, its limits, the
 * method map in force, and the exact B-leg INVITE duet would send to the
 * first target (rewrites and header rules applied), without any network.
 *
 * Deterministic: identifiers (Call-ID, tags, branch) come from duet's
 * generator seeded with --seed (default 1), Via and Contact name the
 * configuration's first listener of the target's transport, and the
 * decision is that of a freshly compiled policy (round robin starts at
 * its first target). The message is printed with LF line ends.
 */
#include "route_cmd.h"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "duet/alloc.h"
#include "duet/call.h"
#include "duet/err.h"
#include "duet/policy.h"
#include "duet/sip_build.h"

#define MAX_REQUEST 65536

static int read_request(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *raw, *buf;
	size_t n, o = 0;

	if (!f)
		return errno ? errno : EIO;
	raw = malloc(MAX_REQUEST);
	buf = malloc(2 * MAX_REQUEST);
	if (!raw || !buf) {
		fclose(f);
		free(raw);
		free(buf);
		return ENOMEM;
	}
	n = fread(raw, 1, MAX_REQUEST, f);
	fclose(f);
	/* a file written with LF line ends gets CRLF (RFC 3261 §7) */
	for (size_t i = 0; i < n; i++) {
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
			buf[o++] = '\r';
		buf[o++] = raw[i];
	}
	free(raw);
	*out = buf;
	*len = o;
	return 0;
}

/* "IP:PORT" or "[IPv6]:PORT" */
static int parse_source(const char *text, struct tp_addr *out)
{
	const char *colon = strrchr(text, ':');
	char *end;
	unsigned long port;

	if (!colon || colon == text)
		return EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (*end || port > 65535 || end == colon + 1)
		return EINVAL;
	return tp_addr_set(out, slice_make(text, (size_t)(colon - text)),
			   (uint16_t)port);
}

static void print_rule(FILE *out, struct policy_method_rule r)
{
	fprintf(out, "%s", policy_method_mode_name(r.mode));
	if (r.mode == POLICY_METHOD_ANSWER || r.mode == POLICY_METHOD_REJECT)
		fprintf(out, " %u %s", (unsigned)r.code,
			r.reason ? r.reason : sip_reason_phrase(r.code));
}

static void print_methods(FILE *out, const struct policy *p,
			  const struct policy_route *r)
{
	static const struct {
		const char *name;
		enum sip_method m;
		bool in_dialog;
	} rows[] = {
		{ "INVITE", SIP_METHOD_INVITE, false },
		{ "re-INVITE", SIP_METHOD_INVITE, true },
		{ "ACK", SIP_METHOD_ACK, true },
		{ "BYE", SIP_METHOD_BYE, true },
		{ "CANCEL", SIP_METHOD_CANCEL, false },
		{ "UPDATE", SIP_METHOD_UPDATE, true },
		{ "INFO", SIP_METHOD_INFO, true },
		{ "PRACK", SIP_METHOD_PRACK, true },
		{ "OPTIONS", SIP_METHOD_OPTIONS, true },
		{ "MESSAGE", SIP_METHOD_MESSAGE, true },
		{ "NOTIFY", SIP_METHOD_NOTIFY, true },
		{ "REFER", SIP_METHOD_REFER, true },
	};

	fprintf(out, "methods (from the caller: a, from the callee: b):\n");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fprintf(out, "  %-10s a: ", rows[i].name);
		print_rule(out,
			   policy_method_action(p, r, POLICY_LEG_A, rows[i].m,
						rows[i].in_dialog));
		fprintf(out, ", b: ");
		print_rule(out,
			   policy_method_action(p, r, POLICY_LEG_B, rows[i].m,
						rows[i].in_dialog));
		fprintf(out, "\n");
	}
}

/* The address a B-leg request to target would name in Via and Contact:
 * the first listener of its transport (else the first listener). */
static struct tp_addr local_for(const struct policy_settings *s,
				const char *target)
{
	enum sip_proto proto = SIP_PROTO_UDP;
	struct sip_uri u;

	if (sip_uri_parse(&u, slice_cstr(target), NULL) == 0 && u.transport.p)
		sip_proto_from(u.transport, &proto);
	for (unsigned i = 0; i < s->listen_count; i++)
		if (s->listen[i].proto == proto)
			return s->listen[i].addr;
	return s->listen[0].addr;
}

static void print_message(FILE *out, const char *m, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (m[i] != '\r')
			fputc(m[i], out);
}

static int usage(FILE *err)
{
	fprintf(err, "usage: duet route FILE --request MSG.sip [--source "
		     "IP:PORT] [--transport udp|tcp] [--seed N]\n");
	return 2;
}

static int dry_run(FILE *out, FILE *err, struct policy *p, struct sip_msg *req,
		   const struct policy_source *ps, uint64_t seed)
{
	struct policy_decision d;
	const struct policy_route *r;
	const struct policy_route_limits *lim;
	struct tp_source src = { .proto = ps->proto, .remote = ps->remote };
	int rc;

	policy_decision_init(&d);
	rc = policy_decide(p, req, ps, &d);
	if (rc) {
		fprintf(err, "duet route: no decision: %s\n",
			duet_strerror(rc));
		policy_decision_clear(&d);
		return 1;
	}
	r = d.rule;
	fprintf(out, "route: %s\naction: %s\n", d.route ? d.route : "",
		policy_action_name(d.action));
	if (d.action != POLICY_RELAY) {
		fprintf(out, "answer: %u %s\n", (unsigned)d.status,
			d.reason ? d.reason : sip_reason_phrase(d.status));
		for (size_t i = 0; i < d.target_count; i++)
			fprintf(out, "Contact: <%s>\n", d.targets[i].uri);
		if (d.retry_after)
			fprintf(out, "Retry-After: %u\n",
				(unsigned)d.retry_after);
		policy_decision_clear(&d);
		return 0;
	}
	fprintf(out, "targets (hunt order):\n");
	for (size_t i = 0; i < d.target_count; i++)
		fprintf(out, "  %zu. %s\n", i + 1, d.targets[i].uri);
	fprintf(out, "failover on timeout: %s\n",
		policy_failover_on_timeout(r) ? "yes" : "no");
	if (r) {
		lim = policy_route_limits(r);
		fprintf(out,
			"limits: max_calls %u, calls_per_second %u, "
			"max_duration %u s\n",
			lim->max_calls, lim->calls_per_second,
			(unsigned)lim->max_duration);
	}
	print_methods(out, p, r);
	if (d.target_count) {
		struct tp_addr local =
			local_for(policy_settings(p), d.targets[0].uri);
		struct calls_config cc;
		char *msg = NULL;
		size_t len = 0;

		config_calls(&cc, policy_settings(p));
		rc = calls_dry_run_b_invite(&d, &cc, req, &src, &local, seed, 0,
					    &msg, &len);
		if (rc) {
			fprintf(out, "B-leg INVITE to target 1: none: %s\n",
				duet_strerror(rc));
		} else {
			fprintf(out, "B-leg INVITE to target 1:\n");
			print_message(out, msg, len);
			duet_free(msg);
		}
	}
	policy_decision_clear(&d);
	return 0;
}

int route_cmd_main(int argc, char **argv, FILE *out, FILE *err)
{
	const char *file = NULL, *request = NULL, *source = "127.0.0.1:5060";
	struct policy_source ps = { .proto = SIP_PROTO_UDP };
	uint64_t seed = 1;
	struct policy *p = NULL;
	struct sip_msg *req = NULL;
	const char *why = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--request") == 0 && i + 1 < argc) {
			request = argv[++i];
		} else if (strcmp(argv[i], "--source") == 0 && i + 1 < argc) {
			source = argv[++i];
		} else if (strcmp(argv[i], "--transport") == 0 &&
			   i + 1 < argc) {
			if (sip_proto_from(slice_cstr(argv[++i]), &ps.proto))
				return usage(err);
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 10);
		} else if (argv[i][0] != '-' && !file) {
			file = argv[i];
		} else {
			return usage(err);
		}
	}
	if (!file || !request || parse_source(source, &ps.remote))
		return usage(err);
	if (policy_load_file(&p, file, err, NULL))
		return 1;
	rc = read_request(request, &buf, &len);
	if (!rc)
		rc = sip_msg_parse(&req, buf, len, SIP_FRAMING_DGRAM, NULL,
				   &why);
	free(buf);
	if (rc) {
		fprintf(err, "duet route: %s: %s%s%s\n", request,
			duet_strerror(rc), why ? ": " : "", why ? why : "");
		policy_unref(p);
		return 1;
	}
	rc = dry_run(out, err, p, req, &ps, seed);
	sip_msg_unref(req);
	policy_unref(p);
	return rc;
}
