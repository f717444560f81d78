/* SPDX-License-Identifier: MIT */
/*
 * The call's state table: every (state, event) pair, and the call flows of
 * the legs issue as event sequences (what the call does and where it ends).
 */
#include "test_util.h"

#include "duet/call_fsm.h"

struct exp_row {
	enum call_state s;
	enum call_event e;
	uint32_t action;
	enum call_state next;
};

#define EP CA_END_PENDING

/* The rows the machine names; every other pair of a live state must be
 * CA_INVALID and keep the state. */
static const struct exp_row expected[] = {
	/* before the answer (calling, proceeding, early) */
	{ CALL_CALLING, CEV_B_100, CA_NONE, CALL_PROCEEDING },
	{ CALL_PROCEEDING, CEV_B_100, CA_NONE, CALL_PROCEEDING },
	{ CALL_EARLY, CEV_B_100, CA_NONE, CALL_EARLY },
	{ CALL_CALLING, CEV_B_1XX, CA_RELAY_1XX, CALL_PROCEEDING },
	{ CALL_PROCEEDING, CEV_B_1XX, CA_RELAY_1XX, CALL_PROCEEDING },
	{ CALL_EARLY, CEV_B_1XX, CA_RELAY_1XX, CALL_EARLY },
	{ CALL_CALLING, CEV_B_1XX_DIALOG, CA_RELAY_1XX, CALL_EARLY },
	{ CALL_PROCEEDING, CEV_B_1XX_DIALOG, CA_RELAY_1XX, CALL_EARLY },
	{ CALL_EARLY, CEV_B_1XX_DIALOG, CA_RELAY_1XX, CALL_EARLY },
	{ CALL_CALLING, CEV_B_2XX, CA_RELAY_2XX, CALL_READY },
	{ CALL_PROCEEDING, CEV_B_2XX, CA_RELAY_2XX, CALL_READY },
	{ CALL_EARLY, CEV_B_2XX, CA_RELAY_2XX, CALL_READY },
	{ CALL_CALLING, CEV_B_FAILURE, EP | CA_RELAY_FINAL, CALL_TERMINATED },
	{ CALL_PROCEEDING, CEV_B_FAILURE, EP | CA_RELAY_FINAL,
	  CALL_TERMINATED },
	{ CALL_EARLY, CEV_B_FAILURE, EP | CA_RELAY_FINAL, CALL_TERMINATED },
	{ CALL_CALLING, CEV_B_TIMEOUT, EP | CA_ANSWER_408, CALL_TERMINATED },
	{ CALL_PROCEEDING, CEV_B_TIMEOUT, EP | CA_ANSWER_408, CALL_TERMINATED },
	{ CALL_EARLY, CEV_B_TIMEOUT, EP | CA_ANSWER_408, CALL_TERMINATED },
	{ CALL_CALLING, CEV_A_CANCEL, EP | CA_CANCEL_B | CA_ANSWER_487,
	  CALL_TERMINATING },
	{ CALL_PROCEEDING, CEV_A_CANCEL, EP | CA_CANCEL_B, CALL_TERMINATING },
	{ CALL_EARLY, CEV_A_CANCEL, EP | CA_CANCEL_B, CALL_TERMINATING },
	{ CALL_CALLING, CEV_A_BYE, EP | CA_CANCEL_B | CA_ANSWER_487,
	  CALL_TERMINATING },
	{ CALL_PROCEEDING, CEV_A_BYE, EP | CA_CANCEL_B | CA_ANSWER_487,
	  CALL_TERMINATING },
	{ CALL_EARLY, CEV_A_BYE, EP | CA_CANCEL_B | CA_ANSWER_487,
	  CALL_TERMINATING },
	{ CALL_CALLING, CEV_RING_TIMEOUT, EP | CA_CANCEL_B | CA_ANSWER_480,
	  CALL_TERMINATING },
	{ CALL_PROCEEDING, CEV_RING_TIMEOUT, EP | CA_CANCEL_B | CA_ANSWER_480,
	  CALL_TERMINATING },
	{ CALL_EARLY, CEV_RING_TIMEOUT, EP | CA_CANCEL_B | CA_ANSWER_480,
	  CALL_TERMINATING },
	{ CALL_CALLING, CEV_SHUTDOWN, EP | CA_CANCEL_B | CA_ANSWER_503,
	  CALL_TERMINATING },
	{ CALL_PROCEEDING, CEV_SHUTDOWN, EP | CA_CANCEL_B | CA_ANSWER_503,
	  CALL_TERMINATING },
	{ CALL_EARLY, CEV_SHUTDOWN, EP | CA_CANCEL_B | CA_ANSWER_503,
	  CALL_TERMINATING },
	/* mid-call requests on an early dialog (UPDATE, INFO) cross */
	{ CALL_CALLING, CEV_A_REQUEST, CA_RELAY_REQ, CALL_CALLING },
	{ CALL_PROCEEDING, CEV_A_REQUEST, CA_RELAY_REQ, CALL_PROCEEDING },
	{ CALL_EARLY, CEV_A_REQUEST, CA_RELAY_REQ, CALL_EARLY },
	{ CALL_CALLING, CEV_B_REQUEST, CA_RELAY_REQ, CALL_CALLING },
	{ CALL_PROCEEDING, CEV_B_REQUEST, CA_RELAY_REQ, CALL_PROCEEDING },
	{ CALL_EARLY, CEV_B_REQUEST, CA_RELAY_REQ, CALL_EARLY },
	{ CALL_CALLING, CEV_DIALOG_GONE, CA_NONE, CALL_CALLING },
	{ CALL_PROCEEDING, CEV_DIALOG_GONE, CA_NONE, CALL_PROCEEDING },
	{ CALL_EARLY, CEV_DIALOG_GONE, CA_NONE, CALL_EARLY },
	/* the callee's 2xx held for the caller's PRACK (RFC 3262 §3); the
	 * INVITE ended by RFC 3262 (no PRACK, failed offer): the callee's
	 * INVITE is cancelled */
	{ CALL_CALLING, CEV_B_2XX_HELD, CA_HOLD_2XX, CALL_ANSWER_HELD },
	{ CALL_PROCEEDING, CEV_B_2XX_HELD, CA_HOLD_2XX, CALL_ANSWER_HELD },
	{ CALL_EARLY, CEV_B_2XX_HELD, CA_HOLD_2XX, CALL_ANSWER_HELD },
	{ CALL_CALLING, CEV_PRACK_FAILED, EP | CA_CANCEL_B, CALL_TERMINATING },
	{ CALL_PROCEEDING, CEV_PRACK_FAILED, EP | CA_CANCEL_B,
	  CALL_TERMINATING },
	{ CALL_EARLY, CEV_PRACK_FAILED, EP | CA_CANCEL_B, CALL_TERMINATING },
	/* answered by the callee, the caller's PRACK awaited: the B leg
	 * ends with ACK and BYE, the A leg with a final answer (never a
	 * BYE on its early dialog) */
	{ CALL_ANSWER_HELD, CEV_B_100, CA_NONE, CALL_ANSWER_HELD },
	{ CALL_ANSWER_HELD, CEV_B_1XX, CA_NONE, CALL_ANSWER_HELD },
	{ CALL_ANSWER_HELD, CEV_B_1XX_DIALOG, CA_NONE, CALL_ANSWER_HELD },
	{ CALL_ANSWER_HELD, CEV_B_2XX, CA_ACK_B, CALL_ANSWER_HELD },
	{ CALL_ANSWER_HELD, CEV_A_PRACKED, CA_RELAY_2XX, CALL_READY },
	{ CALL_ANSWER_HELD, CEV_A_CANCEL,
	  EP | CA_ANSWER_487 | CA_ACK_B | CA_BYE_B, CALL_TERMINATING },
	{ CALL_ANSWER_HELD, CEV_A_BYE, EP | CA_ANSWER_487 | CA_ACK_B | CA_BYE_B,
	  CALL_TERMINATING },
	{ CALL_ANSWER_HELD, CEV_B_BYE, EP | CA_ANSWER_487, CALL_TERMINATING },
	{ CALL_ANSWER_HELD, CEV_SHUTDOWN,
	  EP | CA_ANSWER_503 | CA_ACK_B | CA_BYE_B, CALL_TERMINATING },
	{ CALL_ANSWER_HELD, CEV_PRACK_FAILED, EP | CA_ACK_B | CA_BYE_B,
	  CALL_TERMINATING },
	{ CALL_ANSWER_HELD, CEV_RING_TIMEOUT, CA_NONE, CALL_ANSWER_HELD },
	{ CALL_ANSWER_HELD, CEV_A_REQUEST, CA_RELAY_REQ, CALL_ANSWER_HELD },
	{ CALL_ANSWER_HELD, CEV_B_REQUEST, CA_RELAY_REQ, CALL_ANSWER_HELD },
	{ CALL_ANSWER_HELD, CEV_DIALOG_GONE,
	  EP | CA_ANSWER_GONE | CA_ACK_B | CA_BYE_B, CALL_TERMINATING },
	/* answered */
	{ CALL_READY, CEV_B_100, CA_NONE, CALL_READY },
	{ CALL_READY, CEV_B_1XX, CA_NONE, CALL_READY },
	{ CALL_READY, CEV_B_1XX_DIALOG, CA_NONE, CALL_READY },
	{ CALL_READY, CEV_B_2XX, CA_ACK_B, CALL_READY },
	{ CALL_READY, CEV_A_CANCEL, CA_NONE, CALL_READY },
	{ CALL_READY, CEV_A_ACK, CA_ACK_B, CALL_READY },
	{ CALL_READY, CEV_A_BYE, EP | CA_BYE_B, CALL_TERMINATING },
	{ CALL_READY, CEV_B_BYE, EP | CA_BYE_A, CALL_TERMINATING },
	{ CALL_READY, CEV_ACK_TIMEOUT, EP | CA_ACK_B | CA_BYE_A | CA_BYE_B,
	  CALL_TERMINATING },
	{ CALL_READY, CEV_SHUTDOWN, EP | CA_ACK_B | CA_BYE_A | CA_BYE_B,
	  CALL_TERMINATING },
	{ CALL_READY, CEV_RING_TIMEOUT, CA_NONE, CALL_READY },
	{ CALL_READY, CEV_A_REQUEST, CA_RELAY_REQ, CALL_READY },
	{ CALL_READY, CEV_B_REQUEST, CA_RELAY_REQ, CALL_READY },
	{ CALL_READY, CEV_DIALOG_GONE, EP | CA_ACK_B | CA_BYE_A | CA_BYE_B,
	  CALL_TERMINATING },
	/* ending */
	{ CALL_TERMINATING, CEV_B_100, CA_CANCEL_B, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_B_1XX, CA_CANCEL_B, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_B_1XX_DIALOG, CA_CANCEL_B, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_B_2XX, CA_ACK_BYE_B | CA_ANSWER_487,
	  CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_B_FAILURE, CA_RELAY_FINAL, CALL_TERMINATED },
	{ CALL_TERMINATING, CEV_B_TIMEOUT, CA_ANSWER_487, CALL_TERMINATED },
	{ CALL_TERMINATING, CEV_A_CANCEL, CA_NONE, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_A_ACK, CA_NONE, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_A_BYE, CA_NONE, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_B_BYE, CA_NONE, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_BYES_DONE, CA_NONE, CALL_TERMINATED },
	{ CALL_TERMINATING, CEV_RING_TIMEOUT, CA_NONE, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_ACK_TIMEOUT, CA_NONE, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_SHUTDOWN, CA_NONE, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_A_REQUEST, CA_REJECT_481, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_B_REQUEST, CA_REJECT_481, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_DIALOG_GONE, CA_NONE, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_A_PRACKED, CA_NONE, CALL_TERMINATING },
	{ CALL_TERMINATING, CEV_PRACK_FAILED, CA_NONE, CALL_TERMINATING },
};

static const struct exp_row *find(enum call_state s, enum call_event e)
{
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		if (expected[i].s == s && expected[i].e == e)
			return &expected[i];
	return NULL;
}

static void test_every_pair(void **state)
{
	(void)state;
	unsigned named = 0;

	for (unsigned s = 0; s < CALL_STATE_COUNT; s++) {
		for (unsigned e = 0; e < CALL_EVENT_COUNT; e++) {
			struct call_rule r = call_fsm_rule(s, e);
			const struct exp_row *x = find(s, e);

			if (s == CALL_TERMINATED) {
				assert_int_equal(r.action, CA_NONE);
				assert_int_equal(r.next, CALL_TERMINATED);
			} else if (x) {
				if (r.action != x->action || r.next != x->next)
					fail_msg("%s + %s: got %#x -> %s",
						 call_state_name(s),
						 call_event_name(e), r.action,
						 call_state_name(r.next));
				named++;
			} else {
				/* not named: invalid, and the state stays */
				if (r.action != CA_INVALID || r.next != s)
					fail_msg("%s + %s should be invalid",
						 call_state_name(s),
						 call_event_name(e));
			}
		}
	}
	assert_int_equal(named, sizeof(expected) / sizeof(expected[0]));
	assert_string_equal(call_state_name(CALL_STATE_COUNT), "?");
	assert_string_equal(call_event_name(CALL_EVENT_COUNT), "?");
	for (unsigned e = 0; e < CALL_EVENT_COUNT; e++)
		assert_non_null(call_event_name(e));
}

/* Run events from calling; check the actions seen and the final state. */
static void flow(const enum call_event *ev, size_t n, uint32_t want_actions,
		 enum call_state want_end)
{
	enum call_state s = CALL_CALLING;
	uint32_t seen = 0;

	for (size_t i = 0; i < n; i++) {
		struct call_rule r = call_fsm_rule(s, ev[i]);

		assert_false(r.action & CA_INVALID);
		seen |= r.action;
		s = (enum call_state)r.next;
	}
	assert_int_equal(s, want_end);
	assert_int_equal(seen, want_actions);
}

#define FLOW(actions, end, ...)                                                \
	do {                                                                   \
		const enum call_event ev__[] = { __VA_ARGS__ };                \
		flow(ev__, sizeof(ev__) / sizeof(ev__[0]), actions, end);      \
	} while (0)

static void test_flows(void **state)
{
	(void)state;
	/* 1. basic call, BYE from the caller, then from the callee */
	FLOW(CA_RELAY_1XX | CA_RELAY_2XX | CA_ACK_B | EP | CA_BYE_B,
	     CALL_TERMINATED, CEV_B_100, CEV_B_1XX_DIALOG, CEV_B_2XX, CEV_A_ACK,
	     CEV_A_BYE, CEV_BYES_DONE);
	FLOW(CA_RELAY_2XX | CA_ACK_B | EP | CA_BYE_A, CALL_TERMINATED,
	     CEV_B_2XX, CEV_A_ACK, CEV_B_BYE, CEV_BYES_DONE);
	/* 2. early media: several provisionals */
	FLOW(CA_RELAY_1XX | CA_RELAY_2XX, CALL_READY, CEV_B_1XX,
	     CEV_B_1XX_DIALOG, CEV_B_1XX_DIALOG, CEV_B_2XX);
	/* 3. failure relayed */
	FLOW(CA_RELAY_1XX | EP | CA_RELAY_FINAL, CALL_TERMINATED, CEV_B_1XX,
	     CEV_B_FAILURE);
	/* 4. CANCEL before answer: the callee's 487 is relayed */
	FLOW(CA_RELAY_1XX | EP | CA_CANCEL_B | CA_RELAY_FINAL, CALL_TERMINATED,
	     CEV_B_1XX_DIALOG, CEV_A_CANCEL, CEV_B_FAILURE);
	/* 4. the RFC 5407 race: 200 after our CANCEL: ACK+BYE, caller 487 */
	FLOW(CA_RELAY_1XX | EP | CA_CANCEL_B | CA_ACK_BYE_B | CA_ANSWER_487,
	     CALL_TERMINATED, CEV_B_1XX_DIALOG, CEV_A_CANCEL, CEV_B_2XX,
	     CEV_BYES_DONE);
	/* 4. CANCEL before anything came back: 487 at once, CANCEL later */
	FLOW(EP | CA_CANCEL_B | CA_ANSWER_487 | CA_RELAY_FINAL, CALL_TERMINATED,
	     CEV_A_CANCEL, CEV_B_1XX, CEV_B_FAILURE);
	/* 5. no answer: ring timeout; a callee that never responds */
	FLOW(CA_RELAY_1XX | EP | CA_CANCEL_B | CA_ANSWER_480 | CA_RELAY_FINAL,
	     CALL_TERMINATED, CEV_B_1XX, CEV_RING_TIMEOUT, CEV_B_FAILURE);
	FLOW(EP | CA_ANSWER_408, CALL_TERMINATED, CEV_B_TIMEOUT);
	/* 7. the caller never ACKs: the callee's 2xx is ACKed, BYE on both
	 * legs */
	FLOW(CA_RELAY_2XX | EP | CA_ACK_B | CA_BYE_A | CA_BYE_B,
	     CALL_TERMINATED, CEV_B_2XX, CEV_ACK_TIMEOUT, CEV_BYES_DONE);
	/* 7. a retransmitted 2xx is ACKed again */
	FLOW(CA_RELAY_2XX | CA_ACK_B, CALL_READY, CEV_B_2XX, CEV_A_ACK,
	     CEV_B_2XX, CEV_B_2XX);
	/* drain on shutdown, answered and not */
	FLOW(CA_RELAY_2XX | CA_ACK_B | EP | CA_BYE_A | CA_BYE_B,
	     CALL_TERMINATED, CEV_B_2XX, CEV_A_ACK, CEV_SHUTDOWN,
	     CEV_BYES_DONE);
	FLOW(CA_RELAY_1XX | EP | CA_CANCEL_B | CA_ANSWER_503 | CA_RELAY_FINAL,
	     CALL_TERMINATED, CEV_B_1XX, CEV_SHUTDOWN, CEV_B_FAILURE);
}

#define ANSWERED CEV_B_1XX_DIALOG, CEV_B_2XX, CEV_A_ACK
#define ANSWERED_ACTS (CA_RELAY_1XX | CA_RELAY_2XX | CA_ACK_B)

/* The mid-call issue's flows and races, each as a named sequence. */
static void test_mid_call(void **state)
{
	(void)state;
	/* re-INVITE / INFO / UPDATE from either side: relayed, the call
	 * stays up (the answer, failure or ACK is the relay's business) */
	FLOW(ANSWERED_ACTS | CA_RELAY_REQ, CALL_READY, ANSWERED, CEV_A_REQUEST,
	     CEV_B_REQUEST, CEV_A_REQUEST);
	/* UPDATE on the early dialog from the callee, then the answer */
	FLOW(ANSWERED_ACTS | CA_RELAY_REQ, CALL_READY, CEV_B_1XX_DIALOG,
	     CEV_B_REQUEST, CEV_B_2XX, CEV_A_ACK);
	/* a re-INVITE answered 481 or 408 (or never): BYE on both legs */
	FLOW(ANSWERED_ACTS | CA_RELAY_REQ | EP | CA_BYE_A | CA_BYE_B,
	     CALL_TERMINATED, ANSWERED, CEV_A_REQUEST, CEV_DIALOG_GONE,
	     CEV_BYES_DONE);
}

/* RFC 3262 §3 per leg: the callee answers while the caller still owes
 * the PRACK of a reliable provisional with SDP. */
static void test_answer_held(void **state)
{
	(void)state;
	/* the PRACK comes: the held 2xx goes on, the call is answered */
	FLOW(CA_RELAY_1XX | CA_HOLD_2XX | CA_ACK_B | CA_RELAY_2XX, CALL_READY,
	     CEV_B_1XX_DIALOG, CEV_B_2XX_HELD, CEV_B_2XX, CEV_A_PRACKED,
	     CEV_A_ACK);
	/* every way out before it: 487/503/504 to the caller, ACK and BYE
	 * to the callee; never a BYE to the caller */
	FLOW(CA_RELAY_1XX | CA_HOLD_2XX | EP | CA_ANSWER_487 | CA_ACK_B |
		     CA_BYE_B,
	     CALL_TERMINATED, CEV_B_1XX_DIALOG, CEV_B_2XX_HELD, CEV_A_CANCEL,
	     CEV_BYES_DONE);
	FLOW(CA_RELAY_1XX | CA_HOLD_2XX | EP | CA_ANSWER_487 | CA_ACK_B |
		     CA_BYE_B,
	     CALL_TERMINATED, CEV_B_1XX_DIALOG, CEV_B_2XX_HELD, CEV_A_BYE,
	     CEV_BYES_DONE);
	FLOW(CA_RELAY_1XX | CA_HOLD_2XX | EP | CA_ANSWER_487, CALL_TERMINATING,
	     CEV_B_1XX_DIALOG, CEV_B_2XX_HELD, CEV_B_BYE);
	FLOW(CA_RELAY_1XX | CA_HOLD_2XX | EP | CA_ANSWER_503 | CA_ACK_B |
		     CA_BYE_B,
	     CALL_TERMINATED, CEV_B_1XX_DIALOG, CEV_B_2XX_HELD, CEV_SHUTDOWN,
	     CEV_BYES_DONE);
	FLOW(CA_RELAY_1XX | CA_HOLD_2XX | EP | CA_ACK_B | CA_BYE_B,
	     CALL_TERMINATED, CEV_B_1XX_DIALOG, CEV_B_2XX_HELD,
	     CEV_PRACK_FAILED, CEV_BYES_DONE);
	/* a request relayed on the early dialogs got 481 or 408 (RFC 5057
	 * §5.1): 480 to the caller, ACK and BYE to the callee */
	FLOW(CA_RELAY_1XX | CA_HOLD_2XX | CA_RELAY_REQ | EP | CA_ANSWER_GONE |
		     CA_ACK_B | CA_BYE_B,
	     CALL_TERMINATED, CEV_B_1XX_DIALOG, CEV_B_2XX_HELD, CEV_A_REQUEST,
	     CEV_DIALOG_GONE, CEV_BYES_DONE);
	/* no PRACK and nothing answered yet: the callee's INVITE is
	 * cancelled */
	FLOW(CA_RELAY_1XX | EP | CA_CANCEL_B | CA_RELAY_FINAL, CALL_TERMINATED,
	     CEV_B_1XX_DIALOG, CEV_PRACK_FAILED, CEV_B_FAILURE);
	for (unsigned s = 0; s < CALL_STATE_COUNT; s++)
		assert_false(call_fsm_rule(s, CEV_B_2XX_HELD).action &
			     (CA_BYE_A | CA_RELAY_2XX));
	for (unsigned e = 0; e < CALL_EVENT_COUNT; e++)
		assert_false(call_fsm_rule(CALL_ANSWER_HELD, e).action &
			     (CA_BYE_A | CA_CANCEL_B));
}

static void test_races(void **state)
{
	(void)state;
	/* BYE crossing BYE: the second is answered 200, nothing else */
	FLOW(ANSWERED_ACTS | EP | CA_BYE_B, CALL_TERMINATED, ANSWERED,
	     CEV_A_BYE, CEV_B_BYE, CEV_BYES_DONE);
	FLOW(ANSWERED_ACTS | EP | CA_BYE_A, CALL_TERMINATED, ANSWERED,
	     CEV_B_BYE, CEV_A_BYE, CEV_BYES_DONE);
	/* BYE while a re-INVITE is pending, on either leg: what is pending
	 * gets 487 (CA_END_PENDING) before the BYE crosses */
	FLOW(ANSWERED_ACTS | CA_RELAY_REQ | EP | CA_BYE_A, CALL_TERMINATED,
	     ANSWERED, CEV_A_REQUEST, CEV_B_BYE, CEV_BYES_DONE);
	FLOW(ANSWERED_ACTS | CA_RELAY_REQ | EP | CA_BYE_B, CALL_TERMINATED,
	     ANSWERED, CEV_B_REQUEST, CEV_A_BYE, CEV_BYES_DONE);
	/* BYE before the caller's ACK: the callee's 2xx is ACKed by
	 * CA_END_PENDING before the BYE */
	FLOW(CA_RELAY_1XX | CA_RELAY_2XX | EP | CA_BYE_B, CALL_TERMINATED,
	     CEV_B_1XX_DIALOG, CEV_B_2XX, CEV_A_BYE, CEV_BYES_DONE);
	/* CANCEL after the 200: no effect */
	FLOW(ANSWERED_ACTS, CALL_READY, CEV_B_1XX_DIALOG, CEV_B_2XX,
	     CEV_A_CANCEL, CEV_A_ACK);
	/* a request crossing our BYE: 481; a late ACK or 2xx: absorbed or
	 * ACKed */
	FLOW(ANSWERED_ACTS | EP | CA_BYE_B | CA_REJECT_481 | CA_ACK_BYE_B |
		     CA_ANSWER_487,
	     CALL_TERMINATED, ANSWERED, CEV_A_BYE, CEV_B_REQUEST, CEV_A_ACK,
	     CEV_B_2XX, CEV_BYES_DONE);
	/* the caller never ACKs a re-INVITE's 2xx: as the initial one */
	FLOW(ANSWERED_ACTS | CA_RELAY_REQ | EP | CA_BYE_A | CA_BYE_B,
	     CALL_TERMINATED, ANSWERED, CEV_A_REQUEST, CEV_ACK_TIMEOUT,
	     CEV_BYES_DONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_every_pair), LEAK_TEST(test_flows),
		LEAK_TEST(test_mid_call),   LEAK_TEST(test_answer_held),
		LEAK_TEST(test_races),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
