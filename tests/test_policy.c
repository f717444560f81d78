/* SPDX-License-Identifier: MIT */
/* Unit tests of the policy compiler and policy_decide(): errors with their
 * path and line:col, every matcher, route order, strategies, actions. */
#include "policy_test_util.h"

/* ---- compile errors ------------------------------------------------------ */

/* Each class of mistake: the whole text, and one line it must report. */
static const struct {
	const char *json;
	const char *expect;
} bad[] = {
	{ "{\n \"listen\": []\n}",
	  "t.json: listen: line 2 col 12: expected an array of 1..16" },
	{ "{ \"listen\": [ { \"transport\": \"sctp\", \"address\": "
	  "\"127.0.0.1\", \"port\": 5060 } ] }",
	  "listen[0].transport: line 1 col 30: expected \"udp\" or \"tcp\"" },
	{ "{ \"listen\": [ { \"transport\": \"udp\", \"address\": "
	  "\"localhost\", \"port\": 70000 } ] }",
	  "listen[0].port: line 1 col 69: expected an integer 0..65535" },
	{ "{ \"listen\": [ { \"transport\": \"udp\", \"address\": "
	  "\"localhost\", \"port\": 5060 } ] }",
	  "listen[0].address: line 1 col 48: expected a numeric IPv4" },
	{ "{ " LISTEN ",\n \"timers\": { \"t1\": 500, \"t2\": 100 } }",
	  "timers.t2: line 2 col 31: must not be below t1" },
	{ "{ " LISTEN ",\n \"limits\": { \"max_headers\": 1 } }",
	  "limits.max_headers: line 2 col 29: expected an integer 16..4096" },
	{ "{ " LISTEN ",\n \"limits\": { \"calls_per_second\": -1 } }",
	  "limits.calls_per_second: line 2 col 34: expected an integer" },
	{ "{ " LISTEN ",\n \"log_level\": \"loud\" }",
	  "log_level: line 2 col 15: expected \"error\"" },
	{ "{ " LISTEN ",\n \"routes\": {} }",
	  "routes: line 2 col 12: expected an array of routes" },
	{ "{ " LISTEN
	  ",\n \"routes\": [\n  { \"name\": \"a\", \"targets\": [ { "
	  "\"uri\": \"sip:\" } ] } ] }",
	  "routes[0].targets[0].uri: line 3 col 40: not a SIP URI: \"sip:\"" },
	{ "{ " LISTEN
	  ", \"routes\": [ { \"targets\": [ \"tel:+4930123\" ] } ] }",
	  "routes[0].targets[0]: line 1 col 106: not a SIP URI" },
	{ "{ " LISTEN ", \"routes\": [ { \"targets\": [] } ] }",
	  "routes[0].targets: line 1 col 104: expected an array of 1..16" },
	{ "{ " LISTEN ", \"routes\": [ { \"name\": \"x\" } ] }",
	  "routes[0]: line 1 col 91: a route needs exactly one of" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"targets\": "
	  "[\"sip:a@b\"] } ] }",
	  "a route needs exactly one of" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": { \"code\": 200 } } ] }",
	  "routes[0].reject.code: line 1 col 113: expected an integer "
	  "400..699" },
	{ "{ " LISTEN
	  ", \"routes\": [ { \"reject\": { \"reason\": \"x\" } } ] }",
	  "routes[0].reject.code: line 1 col 103: missing" },
	{ "{ " LISTEN ", \"routes\": [ { \"redirect\": { \"code\": 303, "
	  "\"contacts\": [\"sip:a@b\"] } } ] }",
	  "routes[0].redirect.code: line 1 col 115: expected an integer "
	  "300..302" },
	{ "{ " LISTEN
	  ", \"routes\": [ { \"redirect\": { \"contacts\": [] } } ] }",
	  "routes[0].redirect.contacts: line 1 col 119: expected an array" },
	{ "{ " LISTEN ", \"routes\": [ { \"match\": { \"ruri\": { \"user\": "
	  "\"(9\" } }, \"reject\": 404 } ] }",
	  "routes[0].match.ruri.user: line 1 col 122: bad regular expression" },
	{ "{ " LISTEN ", \"routes\": [ { \"match\": { \"from\": { \"port\": "
	  "\"1\" } }, \"reject\": 404 } ] }",
	  "routes[0].match.from.port: line 1 col 122: only match.ruri has a "
	  "port" },
	{ "{ " LISTEN ", \"routes\": [ { \"match\": { \"source\": "
	  "[\"10.0.0.0/33\"] }, \"reject\": 404 } ] }",
	  "routes[0].match.source[0]: line 1 col 115: expected an IPv4 or "
	  "IPv6 address or CIDR" },
	{ "{ " LISTEN ", \"routes\": [ { \"match\": { \"transport\": \"sctp\" "
	  "}, \"reject\": 404 } ] }",
	  "routes[0].match.transport: line 1 col 117: expected \"udp\"" },
	{ "{ " LISTEN ", \"routes\": [ { \"match\": { \"method\": [] }, "
	  "\"reject\": 404 } ] }",
	  "routes[0].match.method: line 1 col 114: expected a method" },
	{ "{ " LISTEN
	  ", \"routes\": [ { \"match\": { \"headers\": { \"X-A\": 1 "
	  "} }, \"reject\": 404 } ] }",
	  "routes[0].match.headers.X-A: line 1 col 124: expected a regular "
	  "expression" },
	{ "{ " LISTEN ", \"routes\": [ { \"targets\": [\"sip:a@b\"], "
	  "\"strategy\": \"random\" } ] }",
	  "routes[0].strategy: line 1 col 129: expected \"failover\"" },
	{ "{ " LISTEN
	  ", \"routes\": [ { \"targets\": [ { \"uri\": \"sip:a@b\", "
	  "\"weight\": 0 } ], \"strategy\": \"weighted\" } ] }",
	  "routes[0].targets: line 1 col 104: the \"weighted\" strategy "
	  "needs" },
	{ "{ " LISTEN ", \"routes\": [ { \"targets\": [\"sip:$1@b\"] } ] }",
	  "routes[0].targets[0]: line 1 col 105: $1: the route's "
	  "match.ruri.user has 0 captures" },
	{ "{ " LISTEN ", \"routes\": [ { \"targets\": [\"sip:${ruri.usr}@b\"] "
	  "} ] }",
	  "routes[0].targets[0]: line 1 col 105: unknown variable" },
	{ "{ " LISTEN ", \"routes\": [ { \"targets\": [\"sip:a$@b\"] } ] }",
	  "a lone $" },
	{ "{ " LISTEN ", \"routes\": [ { \"targets\": [\"sip:${ruri.user@b\"] "
	  "} ] }",
	  "unterminated ${" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"failover_on\": "
	  "{ \"codes\": [\"7xx\"] } } ] }",
	  "routes[0].failover_on.codes[0]: line 1 col 135: expected a final "
	  "code" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"rewrite\": "
	  "{ \"ruri\": { \"user\": { \"match\": \"^0\" } } } } ] }",
	  "routes[0].rewrite.ruri.user.replace: line 1 col 139: missing" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"rewrite\": "
	  "{ \"to\": { \"user\": { \"match\": \"^0\", \"replace\": \"$2\" } } "
	  "} "
	  "} ] }",
	  "routes[0].rewrite.to.user.replace: line 1 col 165: $2" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"headers\": "
	  "{ \"allow\": [\"A\"], \"deny\": [\"B\"] } } ] }",
	  "routes[0].headers: line 1 col 119: \"allow\" and \"deny\" exclude" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"headers\": "
	  "{ \"b\": { \"requests\": { \"add\": { \"Via\": \"x\" } } } } } ] }",
	  "routes[0].headers.b.requests.add.Via: line 1 col 158: duet builds "
	  "Via itself" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"headers\": "
	  "{ \"a\": { \"responses\": { \"remove\": [\"X Y\"] } } } } ] }",
	  "routes[0].headers.a.responses.remove[0]: line 1 col 154: expected "
	  "a header name" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"reply_map\": "
	  "{ \"603\": 200 } } ] }",
	  "routes[0].reply_map[\"603\"]: line 1 col 130: expected an integer "
	  "300..699" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"methods\": "
	  "{ \"ACK\": \"reject\" } } ] }",
	  "routes[0].methods.ACK: line 1 col 128: ACK: expected \"relay\", "
	  "\"immediate\"" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"methods\": "
	  "{ \"PRACK\": \"answer\" } } ] }",
	  "routes[0].methods.PRACK: line 1 col 130: PRACK: expected \"relay\", "
	  "\"reject\", \"per_leg\"" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"methods\": "
	  "{ \"INFO\": { \"action\": \"answer\", \"code\": 404 } } } ] }",
	  "routes[0].methods.INFO.code: line 1 col 159: expected an integer "
	  "200..299" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"methods\": "
	  "{ \"BYE\": { \"c\": \"relay\" } } } ] }",
	  "routes[0].methods.BYE: line 1 col 128: expected \"action\", or" },
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"limits\": "
	  "{ \"max_calls\": -5 } } ] }",
	  "routes[0].limits.max_calls: line 1 col 133: expected an integer" },
	{ "{ " LISTEN ", \"routes\": [ { \"name\": \"a\", \"reject\": 404 }, "
	  "{ \"name\": \"a\", \"match\": { \"method\": \"BYE\" }, "
	  "\"reject\": 404 } ] }",
	  "routes[1].name: line 1 col 133: the name \"a\" is taken by "
	  "routes[0]" },
	{ "[1, 2]", "t.json: $: line 1 col 1: expected an object" },
	/* RFC 4028: an interval below the minimum duet accepts */
	{ "{ " LISTEN ", \"timers\": { \"session_expires\": 60, "
	  "\"min_se\": 90 } }",
	  "timers.session_expires: line 1 col" },
	{ "{ " LISTEN ", \"timers\": { \"min_se\": 1 } }",
	  "timers.min_se: line 1 col" },
	{ "{ " LISTEN ", \"timers\": { \"udp_read_window_us\": 100001 } }",
	  "timers.udp_read_window_us: line 1 col" },
	/* "answer" is for a re-INVITE, not for the INVITE of a new call */
	{ "{ " LISTEN ", \"routes\": [ { \"reject\": 404, \"methods\": "
	  "{ \"INVITE\": \"answer\" } } ] }",
	  "INVITE: expected \"relay\", \"reject\"" },
};

static void test_compile_errors(void **state)
{
	(void)state;
	unsigned failed = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct policy *p = NULL;
		char *errs = NULL;
		int err = compile_text(&p, bad[i].json, &errs, NULL);

		if (err != EINVAL || p || !strstr(errs, bad[i].expect)) {
			fprintf(stderr, "case %zu: want \"%s\", got:\n%s", i,
				bad[i].expect, errs);
			failed++;
		}
		free(errs);
		policy_unref(p);
	}
	assert_int_equal(failed, 0);
}

/* Every error at once, in one run. */
static void test_all_errors_at_once(void **state)
{
	(void)state;
	const char *json = "{\n"
			   "  \"listen\": [],\n"
			   "  \"timers\": { \"t1\": 1 },\n"
			   "  \"routes\": [\n"
			   "    { \"targets\": [ \"sip:\" ] },\n"
			   "    { \"reject\": 99 }\n"
			   "  ]\n"
			   "}\n";
	struct policy *p = NULL;
	char *errs = NULL;
	size_t lines = 0;

	assert_int_equal(compile_text(&p, json, &errs, NULL), EINVAL);
	for (const char *s = errs; *s; s++)
		lines += *s == '\n';
	assert_non_null(strstr(errs, "listen: line 2 col 13"));
	assert_non_null(strstr(errs, "timers.t1: line 3 col 21"));
	assert_non_null(strstr(errs, "routes[0].targets[0]: line 5 col 20"));
	assert_non_null(strstr(errs, "routes[1].reject: line 6 col 17"));
	assert_int_equal(lines, 5); /* and the unreachable route warning */
	free(errs);
}

static void test_syntax_error(void **state)
{
	(void)state;
	struct policy *p = NULL;
	char *errs = NULL;

	assert_int_equal(
		compile_text(&p, "{\n  \"listen\": [1,\n", &errs, NULL),
		EINVAL);
	assert_non_null(strstr(errs, "t.json: line 3 col"));
	free(errs);
	assert_int_equal(
		compile_text(&p, "{ \"a\": 1, \"a\": 2 }", &errs, NULL),
		EINVAL);
	assert_non_null(strstr(errs, "duplicate"));
	free(errs);
}

static void test_warnings(void **state)
{
	(void)state;
	const char *json =
		"{ " LISTEN ", \"colour\": \"red\",\n"
		"  \"routes\": [\n"
		"    { \"name\": \"all\", \"targets\": [\"sip:a@192.0.2.1\"],\n"
		"      \"flavour\": 1 },\n"
		"    { \"name\": \"never\", \"match\": { \"method\": \"BYE\" "
		"},\n"
		"      \"reject\": 404, \"strategy\": \"hash\" }\n"
		"  ] }";
	struct policy *p = NULL;
	unsigned warnings = 0;
	char *errs = NULL;

	assert_int_equal(compile_text(&p, json, &errs, &warnings), 0);
	assert_int_equal(warnings, 4);
	assert_non_null(
		strstr(errs, "colour: line 1 col 79: warning: unknown key"));
	assert_non_null(strstr(errs, "routes[0].flavour: line 4 col 7: "
				     "warning: unknown key"));
	assert_non_null(strstr(errs, "routes[1]: line 5 col 5: warning: "
				     "unreachable: routes[0] (\"all\")"));
	assert_non_null(strstr(errs, "routes[1].strategy: line 6 col 22: "
				     "warning: ignored"));
	free(errs);
	assert_int_equal(policy_route_count(p), 2);
	assert_string_equal(policy_route_name(policy_route_at(p, 1)), "never");
	assert_null(policy_route_at(p, 2));
	policy_unref(p);
}

static void test_settings(void **state)
{
	(void)state;
	const char *json =
		"{ \"listen\": [ { \"transport\": \"tcp\", \"address\": "
		"\"::1\", "
		"\"port\": 5070 }, { \"transport\": \"udp\", \"address\": "
		"\"127.0.0.2\", \"port\": 0 } ],"
		" \"timers\": { \"t1\": 100, \"t2\": 200, \"t4\": 300, "
		"\"trying\": 0, \"ring_timeout\": 7000, \"drain\": 9, "
		"\"reinvite_timeout\": 1000, \"session_expires\": 0, "
		"\"min_se\": 2, \"udp_read_window_us\": 0 },"
		" \"limits\": { \"max_message_size\": 4096, \"max_headers\": "
		"20, \"max_header_length\": 300, \"max_calls\": 5, "
		"\"max_transactions\": 2000, \"calls_per_second\": 7 },"
		" \"log_level\": \"debug\" }";
	struct policy *p = NULL;
	const struct policy_settings *s;
	char a[64];

	assert_int_equal(compile_text(&p, json, NULL, NULL), 0);
	s = policy_settings(p);
	assert_int_equal(s->listen_count, 2);
	assert_int_equal(s->listen[0].proto, SIP_PROTO_TCP);
	assert_string_equal(tp_addr_str(&s->listen[0].addr, a, sizeof(a)),
			    "[::1]:5070");
	assert_int_equal(s->listen[1].proto, SIP_PROTO_UDP);
	assert_int_equal(s->t1, 100);
	assert_int_equal(s->t2, 200);
	assert_int_equal(s->t4, 300);
	assert_int_equal(s->trying, 0);
	assert_int_equal(s->ring_timeout, 7000);
	assert_int_equal(s->drain, 9);
	assert_int_equal(s->reinvite_timeout, 1000);
	assert_int_equal(s->session_expires, 0);
	assert_int_equal(s->min_se, 2);
	assert_int_equal(s->udp_read_window_us, 0);
	assert_int_equal(s->limits.max_msg_size, 4096);
	assert_int_equal(s->limits.max_headers, 20);
	assert_int_equal(s->limits.max_header_len, 300);
	assert_int_equal(s->max_calls, 5);
	assert_int_equal(s->max_transactions, 2000);
	assert_int_equal(s->calls_per_second, 7);
	assert_int_equal(s->log_level, DUET_LOG_DEBUG);
	assert_string_equal(policy_file(p), "t.json");
	assert_int_equal(policy_route_count(p), 0);
	/* a reference keeps it alive */
	assert_ptr_equal(policy_ref(p), p);
	assert_null(policy_unref(p));
	assert_int_equal(s->t1, 100);
	assert_null(policy_unref(p));
	/* what a file that says nothing gets */
	assert_int_equal(compile_text(&p, "{ " LISTEN " }", NULL, NULL), 0);
	s = policy_settings(p);
	assert_int_equal(s->t1, 500);
	assert_int_equal(s->session_expires, 1800);
	assert_int_equal(s->min_se, 90);
	assert_int_equal(s->udp_read_window_us, 10000);
	assert_null(policy_unref(p));
}

/* ---- matching --------------------------------------------------------------
 */

static const char *const match_routes =
	"{ \"name\": \"bye\", \"match\": { \"method\": [\"BYE\", \"FOO\"] },"
	"  \"reject\": 405 },"
	"{ \"name\": \"ruri-user\", \"match\": { \"ruri\": { \"user\": "
	"\"^1[0-9]{3}$\" } }, \"targets\": [\"sip:a@192.0.2.1\"] },"
	"{ \"name\": \"ruri-host\", \"match\": { \"ruri\": { \"host\": "
	"\"^pbx\\\\.example\\\\.com$\" } }, \"targets\": [\"sip:a@192.0.2.2\"] "
	"},"
	"{ \"name\": \"ruri-port\", \"match\": { \"ruri\": { \"port\": 5070 } "
	"},"
	"  \"targets\": [\"sip:a@192.0.2.3\"] },"
	"{ \"name\": \"from\", \"match\": { \"from\": { \"user\": \"^alice$\", "
	"\"host\": \"example\\\\.org$\" } }, \"reject\": 403 },"
	"{ \"name\": \"to\", \"match\": { \"to\": { \"user\": \"^bob$\", "
	"\"host\": \"^b\\\\.\" } }, \"reject\": 480 },"
	"{ \"name\": \"v6-net\", \"match\": { \"source\": [\"2001:db8::/32\"] "
	"},"
	"  \"reject\": 401 },"
	"{ \"name\": \"v4-net\", \"match\": { \"source\": [\"10.1.0.0/16\", "
	"\"192.0.2.77\"] }, \"reject\": 402 },"
	"{ \"name\": \"tcp\", \"match\": { \"transport\": \"tcp\" },"
	"  \"reject\": 406 },"
	"{ \"name\": \"hdr-present\", \"match\": { \"headers\": "
	"{ \"X-Present\": true } }, \"reject\": 407 },"
	"{ \"name\": \"hdr-re\", \"match\": { \"headers\": "
	"{ \"User-Agent\": \"^Evil\", \"X-Absent\": false } },"
	"  \"reject\": 409 },"
	"{ \"name\": \"two-conds\", \"match\": { \"ruri\": { \"user\": \"^7\" "
	"},"
	"  \"transport\": [\"udp\"] }, \"reject\": 410 },"
	"{ \"name\": \"fallback\", \"targets\": [\"sip:default@192.0.2.9\"] }";

static void test_match_table(void **state)
{
	(void)state;
	static const struct {
		const char *ruri, *from, *to, *extra, *src;
		enum sip_proto proto;
		const char *route;
	} t[] = {
		{ "sip:1234@h", "<sip:x@y>", "<sip:z@w>", NULL, "192.0.2.1",
		  SIP_PROTO_UDP, "ruri-user" },
		{ "sip:12345@h", "<sip:x@y>", "<sip:z@w>", NULL, "192.0.2.1",
		  SIP_PROTO_UDP, "fallback" },
		{ "sip:u@pbx.example.com", "<sip:x@y>", "<sip:z@w>", NULL,
		  "192.0.2.1", SIP_PROTO_UDP, "ruri-host" },
		{ "sip:u@pbxXexample.com", "<sip:x@y>", "<sip:z@w>", NULL,
		  "192.0.2.1", SIP_PROTO_UDP, "fallback" },
		{ "sip:u@h:5070", "<sip:x@y>", "<sip:z@w>", NULL, "192.0.2.1",
		  SIP_PROTO_UDP, "ruri-port" },
		{ "sip:u@h", "\"Al\" <sip:alice@mail.example.org>", "<sip:z@w>",
		  NULL, "192.0.2.1", SIP_PROTO_UDP, "from" },
		{ "sip:u@h", "<sip:alice@example.net>", "<sip:z@w>", NULL,
		  "192.0.2.1", SIP_PROTO_UDP, "fallback" },
		{ "sip:u@h", "<sip:x@y>", "<sip:bob@b.example>", NULL,
		  "192.0.2.1", SIP_PROTO_UDP, "to" },
		{ "sip:u@h", "<sip:x@y>", "sip:bob@c.example", NULL,
		  "192.0.2.1", SIP_PROTO_UDP, "fallback" },
		{ "sip:u@h", "<sip:x@y>", "<sip:z@w>", NULL, "2001:db8:1::5",
		  SIP_PROTO_UDP, "v6-net" },
		{ "sip:u@h", "<sip:x@y>", "<sip:z@w>", NULL, "2001:db9::5",
		  SIP_PROTO_UDP, "fallback" },
		{ "sip:u@h", "<sip:x@y>", "<sip:z@w>", NULL, "10.1.255.3",
		  SIP_PROTO_UDP, "v4-net" },
		{ "sip:u@h", "<sip:x@y>", "<sip:z@w>", NULL, "::ffff:10.1.0.1",
		  SIP_PROTO_UDP, "v4-net" },
		{ "sip:u@h", "<sip:x@y>", "<sip:z@w>", NULL, "192.0.2.77",
		  SIP_PROTO_UDP, "v4-net" },
		{ "sip:u@h", "<sip:x@y>", "<sip:z@w>", NULL, "192.0.2.78",
		  SIP_PROTO_UDP, "fallback" },
		{ "sip:u@h", "<sip:x@y>", "<sip:z@w>", NULL, "192.0.2.1",
		  SIP_PROTO_TCP, "tcp" },
		{ "sip:u@h", "<sip:x@y>", "<sip:z@w>", "x-present: 1\n",
		  "192.0.2.1", SIP_PROTO_UDP, "hdr-present" },
		{ "sip:u@h", "<sip:x@y>", "<sip:z@w>",
		  "User-Agent: Good\nUser-Agent: Evil/1.0\n", "192.0.2.1",
		  SIP_PROTO_UDP, "hdr-re" },
		{ "sip:u@h", "<sip:x@y>", "<sip:z@w>",
		  "User-Agent: Evil/1.0\nX-Absent: here\n", "192.0.2.1",
		  SIP_PROTO_UDP, "fallback" },
		{ "sip:777@h", "<sip:x@y>", "<sip:z@w>", NULL, "192.0.2.1",
		  SIP_PROTO_UDP, "two-conds" },
		/* the earlier route wins: 1xxx over a TCP source */
		{ "sip:1000@h", "<sip:x@y>", "<sip:z@w>", NULL, "192.0.2.1",
		  SIP_PROTO_TCP, "ruri-user" },
		{ "tel:+4930123", "<sip:x@y>", "<sip:z@w>", NULL, "192.0.2.1",
		  SIP_PROTO_UDP, "fallback" },
	};
	struct policy *p = policy_of(match_routes);

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sip_msg *m =
			invite(t[i].ruri, t[i].from, t[i].to, t[i].extra);
		struct policy_source src = source(t[i].src, t[i].proto);
		struct policy_decision d;

		policy_decision_init(&d);
		assert_int_equal(policy_decide(p, m, &src, &d), 0);
		if (strcmp(d.route, t[i].route) != 0)
			fprintf(stderr, "case %zu: %s\n", i, d.route);
		assert_string_equal(d.route, t[i].route);
		assert_ptr_equal(d.policy, p);
		assert_string_equal(policy_route_name(d.rule), t[i].route);
		assert_true(policy_route_matches(d.rule, m, &src));
		policy_decision_clear(&d);
		sip_msg_unref(m);
	}
	policy_unref(p);
}

static void test_match_method(void **state)
{
	(void)state;
	static const char bye[] = "BYE sip:u@h SIP/2.0\n"
				  "Via: SIP/2.0/UDP h;branch=z9hG4bK2\n"
				  "From: <sip:a@b>;tag=1\nTo: <sip:c@d>;tag=2\n"
				  "Call-ID: x\nCSeq: 2 BYE\n\n";
	static const char foo[] = "FOO sip:u@h SIP/2.0\n"
				  "Via: SIP/2.0/UDP h;branch=z9hG4bK2\n"
				  "From: <sip:a@b>;tag=1\nTo: <sip:c@d>\n"
				  "Call-ID: x\nCSeq: 2 FOO\n\n";
	const char *msgs[] = { bye, foo };
	struct policy *p = policy_of(match_routes);
	struct policy_source src = source("192.0.2.1", SIP_PROTO_UDP);

	for (size_t i = 0; i < 2; i++) {
		char buf[512];
		size_t n = test_crlf(msgs[i], buf, sizeof(buf));
		struct sip_msg *m = NULL;
		struct policy_decision d;

		assert_int_equal(sip_msg_parse(&m, buf, n, SIP_FRAMING_DGRAM,
					       NULL, NULL),
				 0);
		policy_decision_init(&d);
		assert_int_equal(policy_decide(p, m, &src, &d), 0);
		assert_string_equal(d.route, "bye");
		assert_int_equal(d.action, POLICY_REJECT);
		assert_int_equal(d.status, 405);
		policy_decision_clear(&d);
		sip_msg_unref(m);
	}
	policy_unref(p);
}

/* No route matches: 404 from the route "none"; no routes at all too. */
static void test_no_route(void **state)
{
	(void)state;
	struct policy *p = policy_of("{ \"match\": { \"method\": \"BYE\" }, "
				     "\"reject\": 405 }");
	struct sip_msg *m = invite("sip:u@h", "<sip:a@b>", "<sip:c@d>", NULL);
	struct policy_source src = source("192.0.2.1", SIP_PROTO_UDP);
	struct policy_decision d;

	policy_decision_init(&d);
	assert_int_equal(policy_decide(p, m, &src, &d), 0);
	assert_int_equal(d.action, POLICY_REJECT);
	assert_int_equal(d.status, 404);
	assert_string_equal(d.route, "none");
	assert_null(d.rule);
	policy_decision_clear(&d);
	policy_unref(p);
	/* the default name of a route is its place */
	p = policy_of("{ \"match\": { \"method\": \"BYE\" }, \"reject\": 405 },"
		      "{ \"targets\": [\"sip:x@192.0.2.1\"] }");
	policy_decision_init(&d);
	assert_int_equal(policy_decide(p, m, &src, &d), 0);
	assert_string_equal(d.route, "routes[1]");
	assert_int_equal(d.action, POLICY_RELAY);
	assert_int_equal(d.target_count, 1);
	assert_string_equal(d.targets[0].uri, "sip:x@192.0.2.1");
	policy_decision_clear(&d);
	policy_unref(p);
	sip_msg_unref(m);
}

/* ---- actions ---------------------------------------------------------------
 */

static void decide_targets(struct policy *p, const char *ruri, const char *from,
			   const char *callid_hdr, char out[][64], size_t *n)
{
	struct sip_msg *m = invite(ruri, from, "<sip:c@d>", callid_hdr);
	struct policy_source src = source("192.0.2.1", SIP_PROTO_UDP);
	struct policy_decision d;

	policy_decision_init(&d);
	assert_int_equal(policy_decide(p, m, &src, &d), 0);
	assert_int_equal(d.action, POLICY_RELAY);
	*n = d.target_count;
	for (size_t i = 0; i < d.target_count; i++)
		snprintf(out[i], 64, "%s", d.targets[i].uri);
	policy_decision_clear(&d);
	sip_msg_unref(m);
}

static void test_strategies(void **state)
{
	(void)state;
	char t[16][64];
	size_t n, count[3] = { 0 };
	struct policy *p;

	p = policy_of(
		"{ \"targets\": [\"sip:a@192.0.2.1\", \"sip:b@192.0.2.2\","
		" \"sip:c@192.0.2.3\"] }");
	decide_targets(p, "sip:u@h", "<sip:a@b>", NULL, t, &n);
	assert_int_equal(n, 3);
	assert_string_equal(t[0], "sip:a@192.0.2.1");
	assert_string_equal(t[2], "sip:c@192.0.2.3");
	policy_unref(p);

	p = policy_of(
		"{ \"targets\": [\"sip:a@192.0.2.1\", \"sip:b@192.0.2.2\","
		" \"sip:c@192.0.2.3\"], \"strategy\": \"round_robin\" }");
	for (int k = 0; k < 4; k++) {
		decide_targets(p, "sip:u@h", "<sip:a@b>", NULL, t, &n);
		assert_int_equal(n, 3);
		assert_int_equal(t[0][4], "abca"[k]);
		assert_int_equal(t[1][4], "bcab"[k]);
		assert_int_equal(t[2][4], "cabc"[k]);
	}
	policy_unref(p);

	/* weighted 3:1 (and a weight 0 target last): exact over a cycle */
	p = policy_of("{ \"targets\": [ { \"uri\": \"sip:a@192.0.2.1\", "
		      "\"weight\": 3 }, { \"uri\": \"sip:b@192.0.2.2\" }, "
		      "{ \"uri\": \"sip:c@192.0.2.3\", \"weight\": 0 } ], "
		      "\"strategy\": \"weighted\" }");
	for (int k = 0; k < 40; k++) {
		decide_targets(p, "sip:u@h", "<sip:a@b>", NULL, t, &n);
		assert_int_equal(n, 3);
		assert_int_equal(t[2][4], 'c');
		assert_int_not_equal(t[0][4], t[1][4]);
		count[t[0][4] - 'a']++;
	}
	assert_int_equal(count[0], 30);
	assert_int_equal(count[1], 10);
	assert_int_equal(count[2], 0);
	policy_unref(p);

	/* hash: the same key, the same order; keys spread */
	p = policy_of(
		"{ \"targets\": [\"sip:a@192.0.2.1\", \"sip:b@192.0.2.2\","
		" \"sip:c@192.0.2.3\"], \"strategy\": \"hash\", "
		"\"hash_by\": \"from.user\" }");
	memset(count, 0, sizeof(count));
	for (int k = 0; k < 60; k++) {
		char from[64], first[64];

		snprintf(from, sizeof(from), "<sip:user%d@b>", k);
		decide_targets(p, "sip:u@h", from, NULL, t, &n);
		assert_int_equal(n, 3);
		snprintf(first, sizeof(first), "%s", t[0]);
		decide_targets(p, "sip:u@h", from, NULL, t, &n);
		assert_string_equal(first, t[0]);
		count[t[0][4] - 'a']++;
	}
	assert_true(count[0] > 5 && count[1] > 5 && count[2] > 5);
	policy_unref(p);
}

static void test_targets_templates(void **state)
{
	(void)state;
	char t[16][64];
	size_t n;
	struct policy *p = policy_of(
		"{ \"match\": { \"ruri\": { \"user\": \"^9(0*)([1-9][0-9]*)$\" "
		"} },"
		"  \"targets\": [ \"sip:+49$2@192.0.2.1\","
		"    \"sip:${from.user}-${ruri.user}@${src.ip}:${src.port};"
		"transport=${src.transport}\","
		"    \"sip:${header.X-Account}@192.0.2.2\","
		"    \"sip:${to.user}@192.0.2.3\" ] }");

	decide_targets(p, "sip:90030123@h", "<sip:alice@b>",
		       "X-Account: acc7\n", t, &n);
	assert_int_equal(n, 4);
	assert_string_equal(t[0], "sip:+4930123@192.0.2.1");
	assert_string_equal(t[1],
			    "sip:alice-90030123@192.0.2.1:5060;transport=udp");
	assert_string_equal(t[2], "sip:acc7@192.0.2.2");
	assert_string_equal(t[3], "sip:c@192.0.2.3");
	/* a template that gives no SIP URI for this request is skipped */
	decide_targets(p, "sip:930123@h", "<sip:alice@b>", NULL, t, &n);
	assert_int_equal(n, 3);
	assert_string_equal(t[2], "sip:c@192.0.2.3");
	policy_unref(p);
}

static void test_reject_redirect(void **state)
{
	(void)state;
	struct policy *p = policy_of(
		"{ \"name\": \"busy\", \"match\": { \"ruri\": { \"user\": "
		"\"^4\" } },"
		"  \"reject\": { \"code\": 486, \"reason\": \"Busy Here Now\" "
		"} },"
		"{ \"name\": \"later\", \"match\": { \"ruri\": { \"user\": "
		"\"^5\" } },"
		"  \"reject\": { \"code\": 503, \"retry_after\": 30 } },"
		"{ \"name\": \"moved\", \"match\": { \"ruri\": { \"user\": "
		"\"^3(.*)$\" } },"
		"  \"redirect\": { \"contacts\": [\"sip:$1@192.0.2.5\", "
		"\"sips:$1@example.com\"] } },"
		"{ \"name\": \"choice\", \"redirect\": { \"code\": 300, "
		"\"contacts\": [\"sip:x@192.0.2.6\"] } }");
	static const struct {
		const char *ruri;
		enum policy_action action;
		uint16_t status;
		const char *reason, *target;
		uint32_t retry;
	} t[] = {
		{ "sip:4@h", POLICY_REJECT, 486, "Busy Here Now", NULL, 0 },
		{ "sip:5@h", POLICY_REJECT, 503, NULL, NULL, 30 },
		{ "sip:3777@h", POLICY_REDIRECT, 302, NULL, "sip:777@192.0.2.5",
		  0 },
		{ "sip:6@h", POLICY_REDIRECT, 300, NULL, "sip:x@192.0.2.6", 0 },
	};
	struct policy_source src = source("192.0.2.1", SIP_PROTO_UDP);

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sip_msg *m =
			invite(t[i].ruri, "<sip:a@b>", "<sip:c@d>", NULL);
		struct policy_decision d;

		policy_decision_init(&d);
		assert_int_equal(policy_decide(p, m, &src, &d), 0);
		assert_int_equal(d.action, t[i].action);
		assert_int_equal(d.status, t[i].status);
		assert_int_equal(d.retry_after, t[i].retry);
		if (t[i].reason)
			assert_string_equal(d.reason, t[i].reason);
		else
			assert_null(d.reason);
		if (t[i].target)
			assert_string_equal(d.targets[0].uri, t[i].target);
		else
			assert_int_equal(d.target_count, 0);
		if (i == 2) {
			assert_int_equal(d.target_count, 2);
			assert_string_equal(d.targets[1].uri,
					    "sips:777@example.com");
		}
		policy_decision_clear(&d);
		sip_msg_unref(m);
	}
	policy_unref(p);
}

/* A decision keeps its policy alive after the caller lets go. */
static void test_snapshot(void **state)
{
	(void)state;
	struct policy *p = policy_of("{ \"name\": \"only\", \"targets\": "
				     "[\"sip:x@192.0.2.1\"] }");
	struct sip_msg *m = invite("sip:u@h", "<sip:a@b>", "<sip:c@d>", NULL);
	struct policy_source src = source("192.0.2.1", SIP_PROTO_UDP);
	struct policy_decision d;

	policy_decision_init(&d);
	assert_int_equal(policy_decide(p, m, &src, &d), 0);
	assert_null(policy_unref(p));
	assert_string_equal(policy_route_name(d.rule), "only");
	policy_decision_clear(&d);
	assert_null(d.policy);
	sip_msg_unref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_compile_errors),
		LEAK_TEST(test_all_errors_at_once),
		LEAK_TEST(test_syntax_error),
		LEAK_TEST(test_warnings),
		LEAK_TEST(test_settings),
		LEAK_TEST(test_match_table),
		LEAK_TEST(test_match_method),
		LEAK_TEST(test_no_route),
		LEAK_TEST(test_strategies),
		LEAK_TEST(test_targets_templates),
		LEAK_TEST(test_reject_redirect),
		LEAK_TEST(test_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
