/* SPDX-License-Identifier: MIT */
/* Unit tests of what a call asks its route: rewrites, header rules, the
 * reply and method maps, failover codes, limits, the token bucket, and
 * out-of-memory at every allocation of the compiler and the queries. */
#include "policy_test_util.h"

/* A header as a parsed message carries it: its id and its name. */
#define HDR(lit) sip_hdr_lookup(SLICE_LIT(lit)), SLICE_LIT(lit)
#define HDR_C(s) sip_hdr_lookup(slice_cstr(s)), slice_cstr(s)

static const struct policy_route *first(const struct policy *p)
{
	return policy_route_at(p, 0);
}

static void test_rewrite(void **state)
{
	(void)state;
	struct policy *p = policy_of(
		"{ \"match\": { \"ruri\": { \"user\": \"^0([1-9][0-9]+)$\" } },"
		"  \"targets\": [\"sip:x@192.0.2.1\"],"
		"  \"rewrite\": {"
		"    \"ruri\": { \"user\": \"+49$1\", \"host\": "
		"\"gw.example.com\" },"
		"    \"from\": { \"user\": { \"match\": \"^0([0-9]+)$\", "
		"\"replace\": \"+49$1\" },"
		"      \"host\": \"${src.ip}\", \"display\": \"${from.user} "
		"via "
		"duet\" },"
		"    \"to\": { \"user\": { \"match\": \"^9\", \"replace\": "
		"\"x\" },"
		"      \"host\": \"${ruri.host}\", \"display\": \"\" } } }");
	struct sip_msg *m =
		invite("sip:030123@pbx.local", "\"Al\" <sip:0301@a.example>",
		       "<sip:030123@pbx.local>", NULL);
	struct policy_source src = source("192.0.2.7", SIP_PROTO_UDP);
	struct policy_rewrite rw;

	assert_int_equal(policy_rewrite(first(p), m, &src, &rw), 0);
	assert_string_equal(rw.ruri_user, "+4930123");
	assert_string_equal(rw.ruri_host, "gw.example.com");
	assert_string_equal(rw.from_user, "+49301");
	assert_string_equal(rw.from_host, "192.0.2.7");
	assert_string_equal(rw.from_display, "0301 via duet");
	assert_null(rw.to_user); /* its regex did not match: unchanged */
	assert_string_equal(rw.to_host, "pbx.local");
	assert_string_equal(rw.to_display, "");
	policy_rewrite_clear(&rw);
	assert_null(rw.ruri_user);
	sip_msg_unref(m);

	/* a value that would inject a header is refused */
	m = invite("sip:030123@pbx.local", "<sip:0301@a.example>",
		   "<sip:b@pbx.local>", NULL);
	policy_unref(p);
	p = policy_of("{ \"targets\": [\"sip:x@192.0.2.1\"], \"rewrite\": "
		      "{ \"to\": { \"user\": \"a\\r\\nX-Evil: 1\" } } }");
	assert_int_equal(policy_rewrite(first(p), m, &src, &rw), EBADMSG);
	policy_unref(p);
	/* no rewrite: everything NULL */
	p = policy_of("{ \"targets\": [\"sip:x@192.0.2.1\"] }");
	assert_int_equal(policy_rewrite(first(p), m, &src, &rw), 0);
	assert_null(rw.ruri_user);
	assert_null(rw.from_display);
	policy_rewrite_clear(&rw);
	policy_unref(p);
	sip_msg_unref(m);
}

static void test_templates_all_vars(void **state)
{
	(void)state;
	struct policy *p = policy_of(
		"{ \"targets\": [\"sip:x@192.0.2.1\"], \"headers\": { \"b\": "
		"{ \"requests\": { \"add\": {"
		"  \"X-1\": \"${ruri}|${ruri.user}|${ruri.host}|${ruri.port}\","
		"  \"X-2\": \"${from.uri}|${from.user}|${from.host}|"
		"${from.display}\","
		"  \"X-3\": \"${to.uri}|${to.user}|${to.host}|${to.display}\","
		"  \"X-4\": \"${src.ip}|${src.port}|${src.transport}\","
		"  \"X-5\": \"${call_id}|${method}|${header.x-acc}|"
		"${header.X-None}|$$5\" } } } } }");
	struct sip_msg *m = invite("sip:u1@h1:5070", "\"A B\" <sip:f1@fh>",
				   "T <sip:t1@th>", "X-Acc: 42\n");
	struct policy_source src = source("2001:db8::9", SIP_PROTO_TCP);
	struct policy_headers h;
	static const char *const want[] = { "sip:u1@h1:5070|u1|h1|5070",
					    "sip:f1@fh|f1|fh|A B",
					    "sip:t1@th|t1|th|T",
					    "2001:db8::9|5060|tcp",
					    "call-1@192.0.2.10|INVITE|42||$5" };

	assert_int_equal(
		policy_header_adds(first(p), POLICY_LEG_B, false, m, &src, &h),
		0);
	assert_int_equal(h.count, 5);
	for (size_t i = 0; i < 5; i++) {
		char name[8];

		snprintf(name, sizeof(name), "X-%zu", i + 1);
		assert_string_equal(h.h[i].name, name);
		assert_string_equal(h.h[i].value, want[i]);
	}
	policy_headers_clear(&h);
	/* nothing for the other leg or direction */
	assert_int_equal(
		policy_header_adds(first(p), POLICY_LEG_A, false, m, &src, &h),
		0);
	assert_int_equal(h.count, 0);
	assert_int_equal(
		policy_header_adds(first(p), POLICY_LEG_B, true, m, &src, &h),
		0);
	assert_int_equal(h.count, 0);
	policy_unref(p);
	sip_msg_unref(m);
}

static void test_headers(void **state)
{
	(void)state;
	struct policy *p = policy_of(
		"{ \"name\": \"allow\", \"match\": { \"method\": \"BYE\" }, "
		"\"reject\": 404, \"headers\": { \"allow\": [\"X-Keep\", "
		"\"Allow\", "
		"\"Via\"], \"a\": { \"responses\": { \"remove\": [\"Server\"] "
		"} },"
		"  \"b\": { \"requests\": { \"remove\": [\"User-Agent\", "
		"\"x-secret\"] } } } },"
		"{ \"name\": \"deny\", \"match\": { \"method\": \"BYE\" }, "
		"\"reject\": 404, \"headers\": { \"deny\": [\"User-Agent\", "
		"\"k\"] } },"
		"{ \"name\": \"default\", \"reject\": 404 }");
	const struct policy_route *allow = policy_route_at(p, 0);
	const struct policy_route *deny = policy_route_at(p, 1);
	const struct policy_route *def = policy_route_at(p, 2);
	static const char *const builtin[] = { "Allow", "Supported", "Require",
					       "Accept" };
	/* RFC 4028 timers are per leg: duet builds these itself */
	static const char *const per_leg[] = {
		"Session-Expires", "Min-SE", "x" /* compact Session-Expires */
	};

	/* the default list is legs/call_build.c's */
	for (size_t i = 0; i < 4; i++) {
		assert_true(policy_header_crosses(def, HDR_C(builtin[i])));
		assert_true(policy_header_crosses(NULL, HDR_C(builtin[i])));
	}
	for (size_t i = 0; i < 3; i++) {
		assert_false(policy_header_crosses(def, HDR_C(per_leg[i])));
		assert_false(policy_header_crosses(NULL, HDR_C(per_leg[i])));
	}
	assert_false(policy_header_crosses(def, HDR("User-Agent")));
	assert_false(policy_header_crosses(NULL, HDR("X-Keep")));
	/* allow-list */
	assert_true(policy_header_crosses(allow, HDR("x-keep")));
	assert_true(policy_header_crosses(allow, HDR("ALLOW")));
	assert_false(policy_header_crosses(allow, HDR("Supported")));
	assert_false(policy_header_crosses(allow, HDR("Via")));
	assert_false(policy_header_crosses(allow, HDR("v")));
	/* deny-list: everything else but what duet builds */
	assert_true(policy_header_crosses(deny, HDR("X-Anything")));
	assert_true(policy_header_crosses(deny, HDR("Require")));
	assert_false(policy_header_crosses(deny, HDR("user-agent")));
	assert_false(policy_header_crosses(deny, HDR("Call-ID")));
	assert_false(policy_header_crosses(deny, HDR("i")));
	assert_false(policy_header_crosses(deny, HDR("Contact")));
	assert_false(policy_header_crosses(deny, HDR("Content-Length")));
	/* "k" is Supported's compact form */
	assert_false(policy_header_crosses(deny, HDR("Supported")));
	/* what a deny-list names (mid-call headers that always cross
	 * otherwise, legs/call_build.c); never for allow- or built-in lists */
	assert_true(policy_header_denied(deny, HDR("USER-AGENT")));
	assert_true(policy_header_denied(deny, HDR("Supported")));
	assert_false(policy_header_denied(deny, HDR("Reason")));
	assert_false(policy_header_denied(allow, HDR("Reason")));
	assert_false(policy_header_denied(allow, HDR("X-Keep")));
	assert_false(policy_header_denied(def, HDR("User-Agent")));
	assert_false(policy_header_denied(NULL, HDR("User-Agent")));
	/* removals per leg and direction */
	assert_true(policy_header_removed(allow, POLICY_LEG_A, true,
					  HDR("server")));
	assert_false(policy_header_removed(allow, POLICY_LEG_A, false,
					   HDR("Server")));
	assert_false(policy_header_removed(allow, POLICY_LEG_B, true,
					   HDR("Server")));
	assert_true(policy_header_removed(allow, POLICY_LEG_B, false,
					  HDR("X-Secret")));
	assert_false(policy_header_removed(def, POLICY_LEG_B, false,
					   HDR("X-Secret")));
	assert_false(policy_header_removed(NULL, POLICY_LEG_B, false,
					   HDR("X-Secret")));
	policy_unref(p);
}

static void test_reply_map(void **state)
{
	(void)state;
	struct policy *p = policy_of(
		"{ \"name\": \"m\", \"match\": { \"method\": \"BYE\" }, "
		"\"reject\": 404, \"reply_map\": { \"603\": 486, "
		"\"5xx\": { \"code\": 503, \"reason\": \"Try Later\" }, "
		"\"480-489\": { \"reason\": \"\" }, \"404\": { \"code\": 404, "
		"\"reason\": \"Nobody\" } } },"
		"{ \"name\": \"h\", \"reject\": 404, \"reply_map\": "
		"{ \"hide_reasons\": true, \"408\": 480 } }");
	static const struct {
		size_t route;
		uint16_t in, out;
		const char *reason;
	} t[] = {
		{ 0, 603, 486, "" },	      { 0, 500, 503, "Try Later" },
		{ 0, 503, 503, "Try Later" }, { 0, 486, 486, "" },
		{ 0, 404, 404, "Nobody" },    { 0, 600, 600, NULL },
		{ 0, 302, 302, NULL },	      { 1, 408, 480, "" },
		{ 1, 486, 486, "" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *reason = "unset";
		uint16_t out = policy_reply_map(policy_route_at(p, t[i].route),
						t[i].in, &reason);

		assert_int_equal(out, t[i].out);
		if (t[i].reason)
			assert_string_equal(reason, t[i].reason);
		else
			assert_null(reason);
	}
	{
		const char *reason = "unset";

		assert_int_equal(policy_reply_map(NULL, 603, &reason), 603);
		assert_null(reason);
	}
	policy_unref(p);
}

static void test_method_map(void **state)
{
	(void)state;
	struct policy *p = policy_of(
		"{ \"name\": \"m\", \"targets\": [\"sip:x@192.0.2.1\"], "
		"\"methods\": { \"INFO\": \"relay\", "
		"\"MESSAGE\": { \"action\": \"answer\", \"code\": 202 }, "
		"\"REFER\": { \"action\": \"reject\", \"code\": 603, "
		"\"reason\": \"No Transfers\" }, \"ACK\": \"immediate\", "
		"\"PRACK\": { \"a\": \"relay\", \"b\": \"reject\" }, "
		"\"UPDATE\": { \"a\": \"relay\", \"b\": { \"action\": "
		"\"reject\", "
		"\"code\": 488 } }, \"re-INVITE\": { \"a\": \"answer\", "
		"\"b\": \"relay\" }, "
		"\"OPTIONS\": \"answer\", \"NOTIFY\": \"reject\" } }");
	const struct policy_route *r = first(p);
	const struct {
		const struct policy_route *route; /* NULL: defaults */
		enum policy_leg leg;
		enum sip_method m;
		bool in_dialog;
		enum policy_method_mode mode;
		uint16_t code;
	} t[] = {
		/* the defaults: what duet does today */
		{ NULL, POLICY_LEG_A, SIP_METHOD_INVITE, false,
		  POLICY_METHOD_RELAY, 0 },
		{ NULL, POLICY_LEG_A, SIP_METHOD_INVITE, true,
		  POLICY_METHOD_RELAY, 0 },
		{ NULL, POLICY_LEG_B, SIP_METHOD_INVITE, true,
		  POLICY_METHOD_RELAY, 0 },
		{ NULL, POLICY_LEG_A, SIP_METHOD_ACK, true, POLICY_METHOD_RELAY,
		  0 },
		{ NULL, POLICY_LEG_B, SIP_METHOD_BYE, true, POLICY_METHOD_RELAY,
		  0 },
		{ NULL, POLICY_LEG_A, SIP_METHOD_CANCEL, false,
		  POLICY_METHOD_RELAY, 0 },
		{ NULL, POLICY_LEG_A, SIP_METHOD_UPDATE, true,
		  POLICY_METHOD_RELAY, 0 },
		{ NULL, POLICY_LEG_A, SIP_METHOD_INFO, true,
		  POLICY_METHOD_RELAY, 0 },
		{ NULL, POLICY_LEG_A, SIP_METHOD_PRACK, true,
		  POLICY_METHOD_PER_LEG, 0 },
		{ NULL, POLICY_LEG_B, SIP_METHOD_PRACK, true,
		  POLICY_METHOD_PER_LEG, 0 },
		{ NULL, POLICY_LEG_A, SIP_METHOD_OPTIONS, false,
		  POLICY_METHOD_ANSWER, 200 },
		{ NULL, POLICY_LEG_A, SIP_METHOD_OPTIONS, true,
		  POLICY_METHOD_RELAY, 0 },
		{ NULL, POLICY_LEG_A, SIP_METHOD_MESSAGE, true,
		  POLICY_METHOD_RELAY, 0 },
		{ NULL, POLICY_LEG_A, SIP_METHOD_REFER, true,
		  POLICY_METHOD_REJECT, 403 },
		{ NULL, POLICY_LEG_A, SIP_METHOD_NOTIFY, true,
		  POLICY_METHOD_RELAY, 0 },
		{ NULL, POLICY_LEG_A, SIP_METHOD_SUBSCRIBE, true,
		  POLICY_METHOD_REJECT, 501 },
		/* configured, on the route */
		{ r, POLICY_LEG_A, SIP_METHOD_INFO, true, POLICY_METHOD_RELAY,
		  0 },
		{ r, POLICY_LEG_B, SIP_METHOD_INFO, true, POLICY_METHOD_RELAY,
		  0 },
		{ r, POLICY_LEG_A, SIP_METHOD_MESSAGE, true,
		  POLICY_METHOD_ANSWER, 202 },
		{ r, POLICY_LEG_B, SIP_METHOD_REFER, true, POLICY_METHOD_REJECT,
		  603 },
		{ r, POLICY_LEG_A, SIP_METHOD_ACK, true,
		  POLICY_METHOD_IMMEDIATE, 0 },
		{ r, POLICY_LEG_A, SIP_METHOD_PRACK, true, POLICY_METHOD_RELAY,
		  0 },
		/* a refused PRACK matches nothing: 481 unless a code is set */
		{ r, POLICY_LEG_B, SIP_METHOD_PRACK, true, POLICY_METHOD_REJECT,
		  481 },
		{ r, POLICY_LEG_A, SIP_METHOD_UPDATE, true, POLICY_METHOD_RELAY,
		  0 },
		{ r, POLICY_LEG_B, SIP_METHOD_UPDATE, true,
		  POLICY_METHOD_REJECT, 488 },
		/* re-INVITE "answer" (legs/call_timer.c answers it with the
		 * leg's session), per leg; the INVITE of a new call is not a
		 * re-INVITE */
		{ r, POLICY_LEG_A, SIP_METHOD_INVITE, true,
		  POLICY_METHOD_ANSWER, 200 },
		{ r, POLICY_LEG_B, SIP_METHOD_INVITE, true, POLICY_METHOD_RELAY,
		  0 },
		{ r, POLICY_LEG_A, SIP_METHOD_INVITE, false,
		  POLICY_METHOD_RELAY, 0 },
		{ r, POLICY_LEG_A, SIP_METHOD_OPTIONS, true,
		  POLICY_METHOD_ANSWER, 200 },
		{ r, POLICY_LEG_A, SIP_METHOD_NOTIFY, true,
		  POLICY_METHOD_REJECT, 403 },
		{ r, POLICY_LEG_A, SIP_METHOD_BYE, true, POLICY_METHOD_RELAY,
		  0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct policy_method_rule rule = policy_method_action(
			p, t[i].route, t[i].leg, t[i].m, t[i].in_dialog);

		if (rule.mode != t[i].mode || rule.code != t[i].code)
			fprintf(stderr, "case %zu: %s %u\n", i,
				policy_method_mode_name(rule.mode), rule.code);
		assert_int_equal(rule.mode, t[i].mode);
		assert_int_equal(rule.code, t[i].code);
	}
	assert_string_equal(
		policy_method_action(p, r, POLICY_LEG_A, SIP_METHOD_REFER, true)
			.reason,
		"No Transfers");
	assert_string_equal(policy_method_mode_name(POLICY_METHOD_PER_LEG),
			    "per_leg");
	policy_unref(p);
}

static void test_failover_and_limits(void **state)
{
	(void)state;
	struct policy *p = policy_of(
		"{ \"name\": \"default\", \"match\": { \"method\": \"BYE\" }, "
		"\"targets\": [\"sip:x@192.0.2.1\"] },"
		"{ \"name\": \"custom\", \"targets\": [\"sip:x@192.0.2.1\"], "
		"\"failover_on\": { \"codes\": [404, \"500-502\", \"6xx\"], "
		"\"stop\": [\"600\"], \"timeout\": false }, \"limits\": "
		"{ \"max_duration\": 3600, \"max_calls\": 10, "
		"\"calls_per_second\": 2, \"retry_after\": 5 } }");
	const struct policy_route *d = policy_route_at(p, 0);
	const struct policy_route *c = policy_route_at(p, 1);
	const struct policy_route_limits *l;

	assert_true(policy_failover_on_code(d, 408));
	assert_true(policy_failover_on_code(d, 480));
	assert_true(policy_failover_on_code(d, 503));
	assert_false(policy_failover_on_code(d, 486));
	assert_false(policy_failover_on_code(d, 603));
	assert_false(policy_failover_on_code(d, 404));
	assert_true(policy_failover_on_timeout(d));
	assert_true(policy_failover_on_code(c, 404));
	assert_true(policy_failover_on_code(c, 502));
	assert_false(policy_failover_on_code(c, 503));
	assert_false(policy_failover_on_code(c, 600));
	assert_true(policy_failover_on_code(c, 603));
	assert_false(policy_failover_on_timeout(c));
	assert_false(policy_failover_on_code(NULL, 503));
	l = policy_route_limits(d);
	assert_int_equal(l->max_calls, 0);
	assert_int_equal(l->retry_after, 1);
	l = policy_route_limits(c);
	assert_int_equal(l->max_duration, 3600);
	assert_int_equal(l->max_calls, 10);
	assert_int_equal(l->calls_per_second, 2);
	assert_int_equal(l->retry_after, 5);
	policy_unref(p);
}

static void test_bucket(void **state)
{
	(void)state;
	struct policy_bucket b;

	policy_bucket_init(&b, 0, 0, 1000);
	for (int i = 0; i < 1000; i++)
		assert_true(policy_bucket_take(&b, 1000));
	/* 2 per second, burst 2 */
	policy_bucket_init(&b, 2, 0, 1000);
	assert_true(policy_bucket_take(&b, 1000));
	assert_true(policy_bucket_take(&b, 1000));
	assert_false(policy_bucket_take(&b, 1000));
	assert_int_equal(policy_bucket_wait_s(&b, 1000), 1);
	assert_false(policy_bucket_take(&b, 1499));
	assert_true(policy_bucket_take(&b, 1500));
	assert_false(policy_bucket_take(&b, 1500));
	/* a long pause refills to the burst only */
	assert_true(policy_bucket_take(&b, 100000));
	assert_true(policy_bucket_take(&b, 100000));
	assert_false(policy_bucket_take(&b, 100000));
	/* time going back takes nothing */
	assert_false(policy_bucket_take(&b, 50));
	/* slow rates: Retry-After rounds up to whole seconds */
	policy_bucket_init(&b, 1, 1, 0);
	assert_true(policy_bucket_take(&b, 0));
	assert_int_equal(policy_bucket_wait_s(&b, 0), 1);
	assert_int_equal(policy_bucket_wait_s(&b, 999), 1);
	/* burst larger than the rate */
	policy_bucket_init(&b, 10, 50, 0);
	for (int i = 0; i < 50; i++)
		assert_true(policy_bucket_take(&b, 0));
	assert_false(policy_bucket_take(&b, 0));
	assert_true(policy_bucket_take(&b, 100));
}

/* ---- out of memory ------------------------------------------------------- */

static const char oom_json[] =
	"{ " LISTEN ", \"routes\": ["
	"{ \"name\": \"r1\", \"match\": { \"method\": [\"INVITE\", \"FOO\"], "
	"\"ruri\": { \"user\": \"^0(.*)$\", \"port\": 5060 }, "
	"\"source\": [\"192.0.2.0/24\"], \"headers\": { \"X-A\": \"b\", "
	"\"X-B\": true } },"
	"  \"targets\": [ { \"uri\": \"sip:$1@192.0.2.1\", \"weight\": 2 }, "
	"\"sip:b@192.0.2.2\" ], \"strategy\": \"weighted\","
	"  \"rewrite\": { \"ruri\": { \"user\": \"+$1\" }, \"from\": { "
	"\"user\": "
	"{ \"match\": \"^(.*)$\", \"replace\": \"x$1\" } } },"
	"  \"headers\": { \"deny\": [\"User-Agent\"], \"b\": { \"requests\": "
	"{ \"add\": { \"X-C\": \"${from.user}\" }, \"remove\": [\"X-D\"] } } },"
	"  \"reply_map\": { \"603\": { \"code\": 486, \"reason\": \"Busy\" } },"
	"  \"methods\": { \"REFER\": { \"action\": \"reject\", \"code\": 403, "
	"\"reason\": \"No\" } },"
	"  \"limits\": { \"max_calls\": 3 } },"
	"{ \"name\": \"r2\", \"reject\": { \"code\": 403, \"reason\": \"x\" } }"
	"] }";

static void test_oom_compile(void **state)
{
	(void)state;
	int64_t live = duet_alloc_stats().live;
	struct policy *p = NULL;
	uint64_t n;
	int err;

	for (n = 1;; n++) {
		duet_alloc_fail_nth(n);
		err = policy_compile(&p, oom_json, strlen(oom_json), "t.json",
				     NULL, NULL);
		duet_alloc_fail_nth(0);
		if (err == 0)
			break;
		assert_int_equal(err, ENOMEM);
		assert_null(p);
		assert_int_equal(duet_alloc_stats().live, live);
	}
	assert_true(n > 20);
	policy_unref(p);
}

static void test_oom_queries(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct sip_msg *m = invite("sip:0123@h", "<sip:a@b>", "<sip:c@d>",
				   "X-A: b\nX-B: 1\n");
	struct policy_source src = source("192.0.2.1", SIP_PROTO_UDP);
	int64_t live;
	uint64_t n;
	int err;

	assert_int_equal(policy_compile(&p, oom_json, strlen(oom_json),
					"t.json", NULL, NULL),
			 0);
	live = duet_alloc_stats().live;
	for (n = 1;; n++) {
		struct policy_decision d;

		policy_decision_init(&d);
		duet_alloc_fail_nth(n);
		err = policy_decide(p, m, &src, &d);
		duet_alloc_fail_nth(0);
		if (err == 0) {
			assert_string_equal(d.route, "r1");
			assert_int_equal(d.target_count, 2);
			policy_decision_clear(&d);
			break;
		}
		assert_int_equal(err, ENOMEM);
		policy_decision_clear(&d);
		assert_int_equal(duet_alloc_stats().live, live);
	}
	assert_true(n > 3);
	for (n = 1;; n++) {
		struct policy_rewrite rw;

		duet_alloc_fail_nth(n);
		err = policy_rewrite(first(p), m, &src, &rw);
		duet_alloc_fail_nth(0);
		assert_int_equal(duet_alloc_stats().live,
				 err ? live : live + 2);
		if (err == 0) {
			assert_string_equal(rw.ruri_user, "+123");
			assert_string_equal(rw.from_user, "xa");
			policy_rewrite_clear(&rw);
			break;
		}
		assert_int_equal(err, ENOMEM);
	}
	for (n = 1;; n++) {
		struct policy_headers h;

		duet_alloc_fail_nth(n);
		err = policy_header_adds(first(p), POLICY_LEG_B, false, m, &src,
					 &h);
		duet_alloc_fail_nth(0);
		if (err == 0) {
			assert_int_equal(h.count, 1);
			policy_headers_clear(&h);
			break;
		}
		assert_int_equal(err, ENOMEM);
		assert_int_equal(duet_alloc_stats().live, live);
	}
	assert_int_equal(n, 4);
	policy_unref(p);
	sip_msg_unref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_rewrite),
		LEAK_TEST(test_templates_all_vars),
		LEAK_TEST(test_headers),
		LEAK_TEST(test_reply_map),
		LEAK_TEST(test_method_map),
		LEAK_TEST(test_failover_and_limits),
		LEAK_TEST(test_bucket),
		LEAK_TEST(test_oom_compile),
		LEAK_TEST(test_oom_queries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
