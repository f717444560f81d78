/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the B-leg INVITE as the call layer builds it from a
 * route (legs/call_build.c through calls_dry_run_b_invite): rewrites of
 * the Request-URI, From and To, header allow/deny lists and additions,
 * the fixed identifiers of the dry run, host-name targets, errors and
 * out-of-memory. Every test checks it leaves no allocation behind.
 */
#include "test_util.h"

#include "duet/call.h"
#include "duet/err.h"
#include "duet/policy.h"
#include "duet/sip_build.h"

static struct policy *compile(const char *routes)
{
	char text[4096];
	struct policy *p = NULL;

	snprintf(text, sizeof(text),
		 "{ \"listen\": [ { \"transport\": \"udp\", \"address\": "
		 "\"192.0.2.1\", \"port\": 5060 } ], \"routes\": [ %s ] }",
		 routes);
	assert_int_equal(
		policy_compile(&p, text, strlen(text), "t.json", stderr, NULL),
		0);
	return p;
}

static struct sip_msg *request(const char *ruri_user)
{
	char raw[2048], crlf[2200];
	struct sip_msg *m = NULL;

	snprintf(raw, sizeof(raw),
		 "INVITE sip:%s@pbx.example SIP/2.0\n"
		 "Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK-1\n"
		 "Max-Forwards: 10\n"
		 "From: \"Alice\" <sip:0301@10.0.0.5>;tag=a1\n"
		 "To: \"Bob\" <sip:%s@pbx.example>\n"
		 "Call-ID: c1@10.0.0.5\n"
		 "CSeq: 7 INVITE\n"
		 "Contact: <sip:alice@10.0.0.5>\n"
		 "User-Agent: phone\n"
		 "Subject: hello\n"
		 "X-Private: 1\n"
		 "Allow: INVITE, BYE\n"
		 "Content-Length: 0\n\n",
		 ruri_user, ruri_user);
	test_crlf(raw, crlf, sizeof(crlf));
	assert_int_equal(sip_msg_parse(&m, crlf, strlen(crlf),
				       SIP_FRAMING_DGRAM, NULL, NULL),
			 0);
	return m;
}

struct built {
	struct policy *p;
	struct policy_decision d;
	struct sip_msg *req;
	struct sip_msg *out; /* the B-leg INVITE, parsed */
};

static int build(struct built *b, const char *routes, const char *user,
		 uint64_t seed)
{
	struct tp_source src = { .proto = SIP_PROTO_UDP };
	struct policy_source ps = { .proto = SIP_PROTO_UDP };
	struct tp_addr local;
	char *text = NULL;
	size_t len = 0;
	int err;

	memset(b, 0, sizeof(*b));
	b->p = compile(routes);
	b->req = request(user);
	assert_int_equal(tp_addr_set(&src.remote, SLICE_LIT("10.0.0.5"), 5060),
			 0);
	ps.remote = src.remote;
	assert_int_equal(tp_addr_set(&local, SLICE_LIT("192.0.2.1"), 5060), 0);
	policy_decision_init(&b->d);
	assert_int_equal(policy_decide(b->p, b->req, &ps, &b->d), 0);
	err = calls_dry_run_b_invite(&b->d, NULL, b->req, &src, &local, seed, 0,
				     &text, &len);
	if (!err) {
		assert_int_equal(sip_msg_parse(&b->out, text, len,
					       SIP_FRAMING_DGRAM, NULL, NULL),
				 0);
		duet_free(text);
	}
	return err;
}

static void done(struct built *b)
{
	sip_msg_unref(b->out);
	sip_msg_unref(b->req);
	policy_decision_clear(&b->d);
	policy_unref(b->p);
}

static bool has(const struct sip_msg *m, const char *name)
{
	return sip_msg_hdr_by_name(m, slice_cstr(name)) != NULL;
}

static void test_rewrites(void **state)
{
	struct built b;

	(void)state;
	assert_int_equal(
		build(&b,
		      "{ \"name\": \"r\", \"match\": { \"ruri\": { \"user\": "
		      "\"^0([0-9]+)$\" } }, \"targets\": [ "
		      "\"sip:$1@192.0.2.9:5070;transport=tcp\" ], \"rewrite\": "
		      "{ \"ruri\": { \"user\": \"+49$1\", \"host\": "
		      "\"gw.example\" }, \"from\": { \"user\": \"+4930\", "
		      "\"display\": \"A \\\"B\\\" C\" }, \"to\": { \"user\": "
		      "\"+49$1\", \"display\": \"\" } } }",
		      "0301234", 1),
		0);
	/* the Request-URI: rewritten user and host, the target's port and
	 * parameters; the request goes to the target (TCP, 192.0.2.9) */
	assert_slice(b.out->ruri.raw, "sip:+49301234@gw.example:5070;"
				      "transport=tcp");
	assert_slice(b.out->vias[0].transport, "TCP");
	assert_slice(b.out->from.uri.raw, "sip:+4930@10.0.0.5");
	assert_slice(b.out->from.display, "A \\\"B\\\" C"); /* §25.1 escapes */
	assert_true(b.out->from.tag.len > 0);
	assert_slice(b.out->to.uri.raw, "sip:+49301234@pbx.example");
	assert_null(b.out->to.display.p); /* "" removes it */
	assert_null(b.out->to.tag.p);
	assert_int_equal(b.out->cseq, 1);
	assert_int_equal(b.out->max_forwards, 9); /* RFC 7332 */
	done(&b);
}

static void test_header_rules(void **state)
{
	struct built b;

	(void)state;
	/* the default allow-list: Allow crosses, the rest does not */
	assert_int_equal(
		build(&b, "{ \"targets\": [ \"sip:x@192.0.2.9\" ] }", "1", 1),
		0);
	assert_true(has(b.out, "Allow"));
	assert_false(has(b.out, "Subject"));
	assert_false(has(b.out, "User-Agent"));
	done(&b);
	/* a deny-list, a removal and an addition on the B leg */
	assert_int_equal(
		build(&b,
		      "{ \"targets\": [ \"sip:x@192.0.2.9\" ], \"headers\": { "
		      "\"deny\": [ \"User-Agent\" ], \"b\": { \"requests\": { "
		      "\"remove\": [ \"X-Private\" ], \"add\": { \"X-Src\": "
		      "\"${src.ip} ${ruri.user}\" } } } } }",
		      "42", 1),
		0);
	assert_true(has(b.out, "Subject"));
	assert_true(has(b.out, "Allow"));
	assert_false(has(b.out, "User-Agent"));
	assert_false(has(b.out, "X-Private"));
	assert_slice(sip_msg_hdr_by_name(b.out, SLICE_LIT("X-Src"))->value,
		     "10.0.0.5 42");
	/* duet's own per-leg headers never cross: one Via, one Call-ID */
	assert_int_equal(b.out->via_count, 1);
	done(&b);
}

static void test_fixed_identifiers(void **state)
{
	struct built a, b, c;
	const char *routes = "{ \"targets\": [ \"sip:x@192.0.2.9\" ] }";

	(void)state;
	assert_int_equal(build(&a, routes, "1", 7), 0);
	assert_int_equal(build(&b, routes, "1", 7), 0);
	assert_int_equal(build(&c, routes, "1", 8), 0);
	assert_int_equal(a.out->len, b.out->len);
	assert_memory_equal(a.out->buf, b.out->buf, a.out->len);
	assert_false(slice_eq(a.out->call_id, c.out->call_id));
	/* Via and Contact name the configured address */
	assert_slice(a.out->vias[0].host, "192.0.2.1");
	done(&a);
	done(&b);
	done(&c);
}

static void test_host_name_and_errors(void **state)
{
	struct built b;
	struct tp_source src = { .proto = SIP_PROTO_UDP };
	struct tp_addr local;
	char *text = NULL;
	size_t len = 0;

	(void)state;
	/* a host name is not resolved by a dry run: the URI stays */
	assert_int_equal(build(&b,
			       "{ \"targets\": [ "
			       "\"sip:x@gw.example;transport=tcp\" ] }",
			       "1", 1),
			 0);
	assert_slice(b.out->ruri.raw, "sip:x@gw.example;transport=tcp");
	assert_slice(b.out->vias[0].transport, "TCP");
	/* no such target */
	tp_addr_set(&local, SLICE_LIT("192.0.2.1"), 5060);
	assert_int_equal(calls_dry_run_b_invite(&b.d, NULL, b.req, &src, &local,
						1, 1, &text, &len),
			 EINVAL);
	done(&b);
	/* a reject decision has no B leg */
	assert_int_equal(build(&b, "{ \"reject\": 403 }", "1", 1), EINVAL);
	done(&b);
	/* a rewrite that would inject a header is refused */
	assert_int_equal(build(&b,
			       "{ \"targets\": [ \"sip:x@192.0.2.9\" ], "
			       "\"rewrite\": { \"to\": { \"display\": "
			       "\"a\\r\\nX-Evil: 1\" } } }",
			       "1", 1),
			 EBADMSG);
	done(&b);
}

static void test_out_of_memory(void **state)
{
	const char *routes =
		"{ \"targets\": [ \"sip:x@192.0.2.9\" ], \"rewrite\": { "
		"\"ruri\": { \"user\": \"u\" } }, \"headers\": { \"b\": { "
		"\"requests\": { \"add\": { \"X-A\": \"1\" } } } } }";
	struct tp_source src = { .proto = SIP_PROTO_UDP };
	struct tp_addr local;
	bool succeeded = false;
	struct built b;

	(void)state;
	assert_int_equal(build(&b, routes, "1", 1), 0);
	sip_msg_unref(b.out);
	b.out = NULL;
	tp_addr_set(&local, SLICE_LIT("192.0.2.1"), 5060);
	for (unsigned n = 1; n < 200 && !succeeded; n++) {
		char *text = NULL;
		size_t len = 0;
		int err;

		duet_alloc_fail_nth(n);
		err = calls_dry_run_b_invite(&b.d, NULL, b.req, &src, &local, 1,
					     0, &text, &len);
		duet_alloc_fail_nth(0);
		if (!err) {
			struct sip_msg *m = NULL;

			/* the first success is whole: never a request
			 * without the route's additions */
			succeeded = true;
			assert_int_equal(sip_msg_parse(&m, text, len,
						       SIP_FRAMING_DGRAM, NULL,
						       NULL),
					 0);
			assert_true(has(m, "X-A"));
			assert_slice(m->ruri.user, "u");
			sip_msg_unref(m);
			duet_free(text);
		} else {
			assert_int_equal(err, ENOMEM);
		}
	}
	assert_true(succeeded);
	done(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_rewrites),
		LEAK_TEST(test_header_rules),
		LEAK_TEST(test_fixed_identifiers),
		LEAK_TEST(test_host_name_and_errors),
		LEAK_TEST(test_out_of_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
