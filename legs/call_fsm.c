/* SPDX-License-Identifier: MIT */
/*
 * The call's state machine as a table (RFC 3261 §9, §13, §15; RFC 5407 for
 * the CANCEL/2xx race; RFC 6026 for 2xx retransmissions). See
 * include/duet/call_fsm.h for the vocabulary.
 */
#include "duet/call_fsm.h"

struct row {
	uint32_t action;
	uint8_t next;
	uint8_t set;
};

#define R(a, n)                                                                \
	{                                                                      \
		(uint32_t)(a), (uint8_t)(n), 1                                 \
	}

/*
 * Before the answer the three states differ only in where provisionals
 * lead and in how a CANCEL is answered: with nothing from the callee yet,
 * the caller gets its 487 at once and the CANCEL waits for a provisional
 * (§9.1); once the callee has spoken, the callee's own 487 is relayed.
 * Mid-call requests on an early dialog (UPDATE, INFO, RFC 3311) are
 * relayed; every way out ends what is pending on the legs.
 */
#define PRE_ANSWER(self, on_1xx, cancel)                                       \
	[CEV_B_100] =                                                          \
		R(CA_NONE, (self) == CALL_CALLING ? CALL_PROCEEDING : (self)), \
	[CEV_B_1XX] = R(CA_RELAY_1XX, on_1xx),                                 \
	[CEV_B_1XX_DIALOG] = R(CA_RELAY_1XX, CALL_EARLY),                      \
	[CEV_B_2XX] = R(CA_RELAY_2XX, CALL_READY),                             \
	[CEV_B_2XX_HELD] = R(CA_HOLD_2XX, CALL_ANSWER_HELD),                   \
	[CEV_B_FAILURE] = R(CA_END_PENDING | CA_RELAY_FINAL, CALL_TERMINATED), \
	[CEV_B_TIMEOUT] = R(CA_END_PENDING | CA_ANSWER_408, CALL_TERMINATED),  \
	[CEV_A_CANCEL] = R(CA_END_PENDING | (cancel),                          \
			   CALL_TERMINATING), /* the caller may BYE an early   \
						 dialog (§15): as a CANCEL */ \
		[CEV_A_BYE] = R(CA_END_PENDING | CA_CANCEL_B | CA_ANSWER_487,  \
				CALL_TERMINATING),                             \
	[CEV_RING_TIMEOUT] = R(CA_END_PENDING | CA_CANCEL_B | CA_ANSWER_480,   \
			       CALL_TERMINATING),                              \
	[CEV_SHUTDOWN] = R(CA_END_PENDING | CA_CANCEL_B | CA_ANSWER_503,       \
			   CALL_TERMINATING),                                  \
	[CEV_A_REQUEST] = R(CA_RELAY_REQ, self),                               \
	[CEV_B_REQUEST] =                                                      \
		R(CA_RELAY_REQ, self), /* a failed early UPDATE/INFO: relayed; \
					  the INVITE goes on */                \
		[CEV_DIALOG_GONE] = R(CA_NONE, self),                          \
	[CEV_PRACK_FAILED] = R(CA_END_PENDING | CA_CANCEL_B, CALL_TERMINATING)

static const struct row rules[CALL_STATE_COUNT][CALL_EVENT_COUNT] = {
	[CALL_CALLING] = { PRE_ANSWER(CALL_CALLING, CALL_PROCEEDING,
				      CA_CANCEL_B | CA_ANSWER_487) },
	/* (A mid-call request in calling: the caller cannot have a To tag
	 * yet, the callee no dialog; CA_RELAY_REQ answers 481 for want of
	 * the other leg's dialog.) */
	[CALL_PROCEEDING] = { PRE_ANSWER(CALL_PROCEEDING, CALL_PROCEEDING,
					 CA_CANCEL_B) },
	[CALL_EARLY] = { PRE_ANSWER(CALL_EARLY, CALL_EARLY, CA_CANCEL_B) },
	/*
	 * The callee has answered; the caller has only a reliable
	 * provisional and owes its PRACK (RFC 3262 §3). The B leg is a
	 * confirmed dialog: it ends with ACK and BYE, never CANCEL. The A
	 * leg is early: it ends with a final answer to the INVITE, never a
	 * BYE (§15: only the caller may BYE an early dialog).
	 */
	[CALL_ANSWER_HELD] = {
		[CEV_B_100] = R(CA_NONE, CALL_ANSWER_HELD),
		[CEV_B_1XX] = R(CA_NONE, CALL_ANSWER_HELD),
		[CEV_B_1XX_DIALOG] = R(CA_NONE, CALL_ANSWER_HELD),
		/* retransmitted (ACKed again if ACKed at once) or forked */
		[CEV_B_2XX] = R(CA_ACK_B, CALL_ANSWER_HELD),
		[CEV_A_PRACKED] = R(CA_RELAY_2XX, CALL_READY),
		/* §9.2 and §15.1.2: the INVITE gets its 487 */
		[CEV_A_CANCEL] = R(CA_END_PENDING | CA_ANSWER_487 | CA_ACK_B |
					   CA_BYE_B,
				   CALL_TERMINATING),
		[CEV_A_BYE] = R(CA_END_PENDING | CA_ANSWER_487 | CA_ACK_B |
					CA_BYE_B,
				CALL_TERMINATING),
		/* the callee hung up first: the caller's INVITE was
		 * terminated by a BYE (§21.4.26, 487) */
		[CEV_B_BYE] = R(CA_END_PENDING | CA_ANSWER_487,
				CALL_TERMINATING),
		[CEV_SHUTDOWN] = R(CA_END_PENDING | CA_ANSWER_503 | CA_ACK_B |
					   CA_BYE_B,
				   CALL_TERMINATING),
		[CEV_PRACK_FAILED] = R(CA_END_PENDING | CA_ACK_B | CA_BYE_B,
				       CALL_TERMINATING),
		[CEV_RING_TIMEOUT] = R(CA_NONE, CALL_ANSWER_HELD),
		/* UPDATE, INFO on the early dialog cross; an INVITE gets
		 * 500 (§14.1, legs/call_mid.c) */
		[CEV_A_REQUEST] = R(CA_RELAY_REQ, CALL_ANSWER_HELD),
		[CEV_B_REQUEST] = R(CA_RELAY_REQ, CALL_ANSWER_HELD),
		/* RFC 5057 §5.1: a 481 or 408 to a request relayed on the
		 * early dialogs ends the call: the callee's 2xx is ACKed
		 * and BYEd, the caller's INVITE answered 480 */
		[CEV_DIALOG_GONE] = R(CA_END_PENDING | CA_ANSWER_GONE |
					      CA_ACK_B | CA_BYE_B,
				      CALL_TERMINATING),
	},
	[CALL_READY] = {
		/* late provisionals after the answer: dropped */
		[CEV_B_100] = R(CA_NONE, CALL_READY),
		[CEV_B_1XX] = R(CA_NONE, CALL_READY),
		[CEV_B_1XX_DIALOG] = R(CA_NONE, CALL_READY),
		/* a retransmitted 2xx is ACKed again once the caller has
		 * ACKed; another fork's 2xx is ACKed and BYEd */
		[CEV_B_2XX] = R(CA_ACK_B, CALL_READY),
		/* CANCEL after the 2xx: its transaction answered it */
		[CEV_A_CANCEL] = R(CA_NONE, CALL_READY),
		[CEV_A_ACK] = R(CA_ACK_B, CALL_READY),
		/* a BYE ends its leg; what is pending on either leg is
		 * answered 487 (§15.1.2) and a 2xx not yet ACKed gets its
		 * ACK first (§13.2.2.4), then the other leg gets the BYE */
		[CEV_A_BYE] = R(CA_END_PENDING | CA_BYE_B, CALL_TERMINATING),
		[CEV_B_BYE] = R(CA_END_PENDING | CA_BYE_A, CALL_TERMINATING),
		/* ending before the caller's ACK: the callee's 2xx still
		 * gets its ACK before the BYE (§13.2.2.4) */
		[CEV_ACK_TIMEOUT] = R(CA_END_PENDING | CA_ACK_B | CA_BYE_A |
					      CA_BYE_B,
				      CALL_TERMINATING),
		[CEV_SHUTDOWN] = R(CA_END_PENDING | CA_ACK_B | CA_BYE_A |
					   CA_BYE_B,
				   CALL_TERMINATING),
		[CEV_RING_TIMEOUT] = R(CA_NONE, CALL_READY),
		/* re-INVITE, UPDATE, INFO... cross to the other leg */
		[CEV_A_REQUEST] = R(CA_RELAY_REQ, CALL_READY),
		[CEV_B_REQUEST] = R(CA_RELAY_REQ, CALL_READY),
		/* RFC 5057 §5.1: a 481 or 408 to a mid-call request ends
		 * the dialog: BYE on both legs, with a Reason */
		[CEV_DIALOG_GONE] = R(CA_END_PENDING | CA_ACK_B | CA_BYE_A |
					      CA_BYE_B,
				      CALL_TERMINATING),
	},
	[CALL_TERMINATING] = {
		/* a CANCEL waiting for a provisional goes out now (§9.1) */
		[CEV_B_100] = R(CA_CANCEL_B, CALL_TERMINATING),
		[CEV_B_1XX] = R(CA_CANCEL_B, CALL_TERMINATING),
		[CEV_B_1XX_DIALOG] = R(CA_CANCEL_B, CALL_TERMINATING),
		/* RFC 5407 §3.1.2: the callee answered after our CANCEL:
		 * ACK and BYE it; the caller still gets its 487 */
		[CEV_B_2XX] = R(CA_ACK_BYE_B | CA_ANSWER_487, CALL_TERMINATING),
		[CEV_B_FAILURE] = R(CA_RELAY_FINAL, CALL_TERMINATED),
		[CEV_B_TIMEOUT] = R(CA_ANSWER_487, CALL_TERMINATED),
		/* retransmissions and crossing requests: their transactions
		 * answer them; nothing changes */
		[CEV_A_CANCEL] = R(CA_NONE, CALL_TERMINATING),
		[CEV_A_ACK] = R(CA_NONE, CALL_TERMINATING),
		[CEV_A_BYE] = R(CA_NONE, CALL_TERMINATING),
		[CEV_B_BYE] = R(CA_NONE, CALL_TERMINATING),
		[CEV_BYES_DONE] = R(CA_NONE, CALL_TERMINATED),
		[CEV_RING_TIMEOUT] = R(CA_NONE, CALL_TERMINATING),
		[CEV_ACK_TIMEOUT] = R(CA_NONE, CALL_TERMINATING),
		[CEV_SHUTDOWN] = R(CA_NONE, CALL_TERMINATING),
		/* a request crossing our BYE: that dialog is ending */
		[CEV_A_REQUEST] = R(CA_REJECT_481, CALL_TERMINATING),
		[CEV_B_REQUEST] = R(CA_REJECT_481, CALL_TERMINATING),
		[CEV_DIALOG_GONE] = R(CA_NONE, CALL_TERMINATING),
		[CEV_A_PRACKED] = R(CA_NONE, CALL_TERMINATING),
		[CEV_PRACK_FAILED] = R(CA_NONE, CALL_TERMINATING),
	},
};

struct call_rule call_fsm_rule(enum call_state state, enum call_event event)
{
	const struct row *r;

	if ((unsigned)state >= CALL_STATE_COUNT ||
	    (unsigned)event >= CALL_EVENT_COUNT || state == CALL_TERMINATED)
		return (struct call_rule){ CA_NONE, CALL_TERMINATED };
	r = &rules[state][event];
	if (r->set)
		return (struct call_rule){ r->action, r->next };
	return (struct call_rule){ CA_INVALID, (uint8_t)state };
}

const char *call_state_name(enum call_state s)
{
	static const char *const names[CALL_STATE_COUNT] = {
		"calling", "proceeding",  "early",	"answer held",
		"ready",   "terminating", "terminated",
	};
	return (unsigned)s < CALL_STATE_COUNT ? names[s] : "?";
}

const char *call_event_name(enum call_event e)
{
	static const char *const names[CALL_EVENT_COUNT] = {
		"B 100",       "B 1xx",	     "B 1xx+dialog", "B 2xx",
		"B failure",   "B timeout",  "A CANCEL",     "A ACK",
		"A BYE",       "B BYE",	     "BYEs done",    "ring timeout",
		"ACK timeout", "shutdown",   "A request",    "B request",
		"dialog gone", "B 2xx held", "A PRACKed",    "PRACK failed",
	};
	return (unsigned)e < CALL_EVENT_COUNT ? names[e] : "?";
}
