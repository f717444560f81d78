/* SPDX-License-Identifier: MIT */
/* Helpers shared by the policy tests: compile from text, build requests. */
#ifndef DUET_POLICY_TEST_UTIL_H
#define DUET_POLICY_TEST_UTIL_H

#include <stdlib.h>

#include "test_util.h"

#include "duet/err.h"
#include "duet/policy.h"

#define LISTEN                                                                 \
	"\"listen\": [ { \"transport\": \"udp\", \"address\": "                \
	"\"127.0.0.1\", \"port\": 5060 } ]"

/* Compile json; *errs (may be NULL) gets what was reported (free()). */
static inline int compile_text(struct policy **p, const char *json, char **errs,
			       unsigned *warnings)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	assert_non_null(f);
	err = policy_compile(p, json, strlen(json), "t.json", f, warnings);
	fclose(f);
	if (errs)
		*errs = buf;
	else
		free(buf);
	return err;
}

/* A policy from routes (the inside of "routes": [...]); must compile. */
static inline struct policy *policy_of(const char *routes)
{
	char json[8192];
	struct policy *p = NULL;
	char *errs = NULL;
	int err;

	snprintf(json, sizeof(json), "{ " LISTEN ", \"routes\": [ %s ] }",
		 routes);
	err = compile_text(&p, json, &errs, NULL);
	if (err)
		fprintf(stderr, "%s", errs);
	free(errs);
	assert_int_equal(err, 0);
	return p;
}

/* An INVITE; extra: more header lines ("X-A: 1\n"). */
static inline struct sip_msg *invite(const char *ruri, const char *from,
				     const char *to, const char *extra)
{
	char text[4096], crlf[4200];
	struct sip_msg *m = NULL;
	size_t n;

	snprintf(text, sizeof(text),
		 "INVITE %s SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\n"
		 "From: %s;tag=f1\n"
		 "To: %s\n"
		 "Call-ID: call-1@192.0.2.10\n"
		 "CSeq: 1 INVITE\n"
		 "Max-Forwards: 70\n"
		 "%s"
		 "Content-Length: 0\n\n",
		 ruri, from, to, extra ? extra : "");
	n = test_crlf(text, crlf, sizeof(crlf));
	assert_int_equal(
		sip_msg_parse(&m, crlf, n, SIP_FRAMING_DGRAM, NULL, NULL), 0);
	return m;
}

static inline struct policy_source source(const char *ip, enum sip_proto proto)
{
	struct policy_source s = { .proto = proto };

	assert_int_equal(tp_addr_set(&s.remote, slice_cstr(ip), 5060), 0);
	return s;
}

#endif
