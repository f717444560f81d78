/* SPDX-License-Identifier: MIT */
/* The shipped configurations (every .json in conf/) compile without an error or
 * a warning and decide as their comments in docs/policy.md say; the JSON Schema
 * (conf/duet.schema.json) is valid JSON and knows the same keys as the
 * compiler. */
#include "policy_test_util.h"

#include <dirent.h>
#include <jansson.h>

/* A header as a parsed message carries it: its id and its name. */
#define HDR(lit) sip_hdr_lookup(SLICE_LIT(lit)), SLICE_LIT(lit)

#define CONF_DIR DUET_TEST_DATA "/../../conf"

static bool is_config(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".json") == 0 &&
	       !(n > 12 && strcmp(name + n - 12, ".schema.json") == 0);
}

static void test_every_conf_compiles(void **state)
{
	(void)state;
	DIR *dir = opendir(CONF_DIR);
	struct dirent *e;
	unsigned files = 0;

	assert_non_null(dir);
	while ((e = readdir(dir))) {
		char path[1024];
		struct policy *p = NULL;
		unsigned warnings = 99;

		if (!is_config(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", CONF_DIR, e->d_name);
		assert_int_equal(policy_load_file(&p, path, stderr, &warnings),
				 0);
		assert_int_equal(warnings, 0);
		assert_true(policy_route_count(p) > 0);
		policy_unref(p);
		files++;
	}
	closedir(dir);
	assert_true(files >= 4);
}

static struct policy *load(const char *name)
{
	char path[1024];
	struct policy *p = NULL;

	snprintf(path, sizeof(path), "%s/%s", CONF_DIR, name);
	assert_int_equal(policy_load_file(&p, path, stderr, NULL), 0);
	return p;
}

struct want {
	const char *ruri, *from, *src;
	const char *route;
	enum policy_action action;
	uint16_t status;
	const char *target; /* the first one */
};

static void decide_table(const char *file, const struct want *t, size_t n)
{
	struct policy *p = load(file);

	for (size_t i = 0; i < n; i++) {
		struct sip_msg *m =
			invite(t[i].ruri, t[i].from, "<sip:x@y>", NULL);
		struct policy_source src = source(t[i].src, SIP_PROTO_UDP);
		struct policy_decision d;

		policy_decision_init(&d);
		assert_int_equal(policy_decide(p, m, &src, &d), 0);
		if (strcmp(d.route, t[i].route) != 0)
			fprintf(stderr, "%s case %zu: %s\n", file, i, d.route);
		assert_string_equal(d.route, t[i].route);
		assert_int_equal(d.action, t[i].action);
		assert_int_equal(d.status, t[i].status);
		if (t[i].target) {
			assert_true(d.target_count > 0);
			assert_string_equal(d.targets[0].uri, t[i].target);
		}
		policy_decision_clear(&d);
		sip_msg_unref(m);
	}
	policy_unref(p);
}

static void test_duet_json(void **state)
{
	(void)state;
	static const struct want t[] = {
		{ "sip:anyone@127.0.0.1", "<sip:a@b>", "127.0.0.1", "default",
		  POLICY_RELAY, 0, "sip:callee@127.0.0.1:5080" },
	};
	struct policy *p = load("duet.json");
	const struct policy_settings *s = policy_settings(p);
	char a[64];

	/* what the daemon always ran with: 127.0.0.1:5060 over UDP and TCP */
	assert_int_equal(s->listen_count, 2);
	assert_string_equal(tp_addr_str(&s->listen[0].addr, a, sizeof(a)),
			    "127.0.0.1:5060");
	assert_int_equal(s->listen[0].proto, SIP_PROTO_UDP);
	assert_int_equal(s->listen[1].proto, SIP_PROTO_TCP);
	assert_int_equal(s->t1, 500);
	assert_int_equal(s->ring_timeout, 60000);
	policy_unref(p);
	decide_table("duet.json", t, 1);
}

static void test_testing_json(void **state)
{
	(void)state;
	static const struct want t[] = {
		{ "sip:1234@h", "<sip:a@b>", "127.0.0.1", "answer",
		  POLICY_RELAY, 0, "sip:answer@127.0.0.1:5080" },
		{ "sip:486@h", "<sip:a@b>", "127.0.0.1", "busy", POLICY_REJECT,
		  486, NULL },
		{ "sip:6031@h", "<sip:a@b>", "127.0.0.1", "decline",
		  POLICY_REJECT, 603, NULL },
		{ "sip:503@h", "<sip:a@b>", "127.0.0.1", "unavailable",
		  POLICY_REJECT, 503, NULL },
		{ "sip:404@h", "<sip:a@b>", "127.0.0.1", "not-found",
		  POLICY_REJECT, 404, NULL },
		{ "sip:300@h", "<sip:a@b>", "127.0.0.1", "multiple-choices",
		  POLICY_REDIRECT, 300, "sip:1001@127.0.0.1:5060" },
		{ "sip:3555@h", "<sip:a@b>", "127.0.0.1", "redirect",
		  POLICY_REDIRECT, 302, "sip:1555@127.0.0.1:5060" },
		{ "sip:999@h", "<sip:a@b>", "127.0.0.1", "default",
		  POLICY_REJECT, 404, NULL },
	};

	decide_table("testing.json", t, sizeof(t) / sizeof(t[0]));
}

static void test_trunk_json(void **state)
{
	(void)state;
	static const struct want t[] = {
		{ "sip:+4930123456@edge", "<sip:+4940111@carrier>",
		  "198.51.100.7", "from-carriers", POLICY_RELAY, 0,
		  "sip:030123456@127.0.0.1:5080" },
		{ "sip:030123456@edge", "<sip:0401111@pbx>", "127.0.0.1",
		  "national", POLICY_RELAY, 0, NULL },
		{ "sip:0044201234567@edge", "<sip:0401111@pbx>", "::1",
		  "international", POLICY_RELAY, 0, NULL },
		{ "sip:030123456@edge", "<sip:0401111@pbx>", "192.0.2.1",
		  "refuse", POLICY_REJECT, 403, NULL },
	};
	struct policy *p = load("trunk.json");
	const struct policy_route *nat = policy_route_at(p, 1);
	struct sip_msg *m = invite("sip:030123456@edge", "<sip:0401111@pbx>",
				   "<sip:030123456@edge>", NULL);
	struct policy_source src = source("127.0.0.1", SIP_PROTO_UDP);
	struct policy_rewrite rw;
	const char *reason;

	decide_table("trunk.json", t, sizeof(t) / sizeof(t[0]));
	/* number normalisation toward the carriers */
	assert_int_equal(policy_rewrite(nat, m, &src, &rw), 0);
	assert_string_equal(rw.ruri_user, "+4930123456");
	assert_string_equal(rw.from_user, "+49401111");
	assert_string_equal(rw.to_user, "+4930123456");
	policy_rewrite_clear(&rw);
	/* header hygiene and the reply map */
	assert_false(policy_header_crosses(nat, HDR("User-Agent")));
	assert_true(policy_header_crosses(nat, HDR("Supported")));
	assert_int_equal(policy_reply_map(nat, 603, &reason), 486);
	assert_int_equal(policy_route_limits(nat)->calls_per_second, 20);
	assert_int_equal(policy_settings(p)->calls_per_second, 50);
	sip_msg_unref(m);
	policy_unref(p);
}

static void test_pbx_json(void **state)
{
	(void)state;
	struct policy *p = load("pbx.json");
	struct sip_msg *m =
		invite("sip:201@pbx", "<sip:100@pbx>", "<sip:201@pbx>", NULL);
	struct policy_source src = source("127.0.0.1", SIP_PROTO_UDP);
	struct policy_decision d;

	policy_decision_init(&d);
	assert_int_equal(policy_decide(p, m, &src, &d), 0);
	assert_string_equal(d.route, "sales");
	assert_int_equal(d.target_count, 3);
	assert_string_equal(d.targets[0].uri, "sip:201@127.0.0.1:5081");
	assert_string_equal(d.targets[1].uri, "sip:201@127.0.0.1:5082");
	assert_string_equal(d.targets[2].uri, "sip:voicemail@127.0.0.1:5089");
	assert_true(policy_failover_on_code(d.rule, 480));
	assert_false(policy_failover_on_code(d.rule, 486));
	policy_decision_clear(&d);
	sip_msg_unref(m);
	policy_unref(p);
}

static void assert_same_keys(json_t *props, const char *const *keys)
{
	size_t n = 0;

	assert_true(json_is_object(props));
	for (const char *const *k = keys; *k; k++, n++)
		if (!json_object_get(props, *k)) {
			fprintf(stderr, "the schema lacks \"%s\"\n", *k);
			fail();
		}
	assert_int_equal(json_object_size(props), n);
}

static void test_schema(void **state)
{
	(void)state;
	json_error_t jerr;
	json_t *s = json_load_file(CONF_DIR "/duet.schema.json",
				   JSON_REJECT_DUPLICATES, &jerr);

	if (!s)
		fprintf(stderr, "schema: line %d: %s\n", jerr.line, jerr.text);
	assert_non_null(s);
	assert_true(json_is_string(json_object_get(s, "$schema")));
	assert_same_keys(json_object_get(s, "properties"), policy_top_keys());
	assert_same_keys(
		json_object_get(
			json_object_get(json_object_get(s, "$defs"), "route"),
			"properties"),
		policy_route_keys());
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_every_conf_compiles),
		LEAK_TEST(test_duet_json),
		LEAK_TEST(test_testing_json),
		LEAK_TEST(test_trunk_json),
		LEAK_TEST(test_pbx_json),
		LEAK_TEST(test_schema),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
