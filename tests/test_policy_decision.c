/* SPDX-License-Identifier: MIT */
/* Unit tests of the policy decision value. */
#include "test_util.h"

#include "duet/err.h"
#include "duet/policy_decision.h"

static void test_targets_and_route(void **state)
{
	(void)state;
	struct policy_decision d;
	char uri[32];

	policy_decision_init(&d);
	assert_int_equal(d.action, POLICY_RELAY);
	assert_int_equal(policy_decision_set_route(&d, SLICE_LIT("pbx")), 0);
	assert_int_equal(policy_decision_set_route(&d, SLICE_LIT("trunk-a")),
			 0);
	assert_string_equal(d.route, "trunk-a");
	for (int i = 0; i < POLICY_MAX_TARGETS; i++) {
		snprintf(uri, sizeof(uri), "sip:t%d@192.0.2.1", i);
		assert_int_equal(policy_decision_add_target(&d, slice_cstr(uri),
							    (uint16_t)i),
				 0);
	}
	assert_int_equal(policy_decision_add_target(&d, SLICE_LIT("sip:x"), 1),
			 EMSGSIZE);
	assert_string_equal(d.targets[3].uri, "sip:t3@192.0.2.1");
	assert_int_equal(d.targets[3].weight, 3);
	policy_decision_clear(&d);
	assert_int_equal(d.target_count, 0);
	assert_null(d.route);
}

static void test_oom(void **state)
{
	(void)state;
	struct policy_decision d;

	policy_decision_init(&d);
	duet_alloc_fail_nth(1);
	assert_int_equal(policy_decision_add_target(&d, SLICE_LIT("sip:a"), 0),
			 ENOMEM);
	assert_int_equal(d.target_count, 0);
	duet_alloc_fail_nth(1);
	assert_int_equal(policy_decision_set_route(&d, SLICE_LIT("r")), ENOMEM);
	assert_null(d.route);
	policy_decision_clear(&d);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(policy_action_name(POLICY_RELAY), "relay");
	assert_string_equal(policy_action_name(POLICY_REJECT), "reject");
	assert_string_equal(policy_action_name(POLICY_REDIRECT), "redirect");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_targets_and_route),
		LEAK_TEST(test_oom),
		LEAK_TEST(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
