/* SPDX-License-Identifier: MIT */
/*
 * The call's state machine: one call is an A leg (duet is the UAS facing
 * the caller) and a B leg (duet is the UAC facing the callee). This header
 * holds the machine as a table, (state, event) -> (actions, next state),
 * with an RFC-shaped vocabulary; legs/call.c applies it, writing the state
 * in one function that logs every change.
 *
 * Actions that depend on what already happened (A already answered, a
 * CANCEL that must wait for a provisional, RFC 3261 §9.1) are guarded where
 * they are carried out; the table says what the event calls for.
 */
#ifndef DUET_CALL_FSM_H
#define DUET_CALL_FSM_H

#include <stdbool.h>
#include <stdint.h>

enum call_state {
	CALL_CALLING = 0, /* B-leg INVITE sent, nothing back yet */
	CALL_PROCEEDING,  /* a provisional without a dialog (100, 18x no tag) */
	CALL_EARLY,	  /* an early dialog on the B leg (1xx with To tag) */
	CALL_ANSWER_HELD, /* the callee answered, but its 2xx waits for the
			     caller's PRACK (RFC 3262 §3): the B leg is
			     confirmed, the A leg still early */
	CALL_READY,	  /* answered: 2xx relayed to the A leg */
	CALL_TERMINATING, /* CANCEL or BYE sent, waiting for the legs to end */
	CALL_TERMINATED,
	CALL_STATE_COUNT
};

enum call_event {
	CEV_B_100 = 0,	  /* 100 Trying from the callee (hop by hop) */
	CEV_B_1XX,	  /* 101-199 without a To tag */
	CEV_B_1XX_DIALOG, /* 101-199 with a To tag: early dialog */
	CEV_B_2XX,	  /* a 2xx on the B leg (first, retransmitted,
			     or from another fork) */
	CEV_B_FAILURE,	  /* 300-699 on the B leg */
	CEV_B_TIMEOUT,	  /* no final answer: Timer B or a transport
			     error on the B-leg INVITE */
	CEV_A_CANCEL,	  /* the caller cancelled (§9.2) */
	CEV_A_ACK,	  /* the caller's ACK for the 2xx */
	CEV_A_BYE,	  /* BYE from the caller */
	CEV_B_BYE,	  /* BYE from the callee */
	CEV_BYES_DONE,	  /* every BYE/CANCEL duet sent has ended */
	CEV_RING_TIMEOUT, /* no answer within the ring time */
	CEV_ACK_TIMEOUT,  /* the caller never ACKed the 2xx (64*T1) */
	CEV_SHUTDOWN,	  /* drain time over, or the call's maximum
			     duration reached */
	CEV_A_REQUEST,	  /* a mid-call request from the caller (re-INVITE,
			     UPDATE, INFO, OPTIONS, MESSAGE, NOTIFY,
			     REFER, PRACK...: not ACK, BYE or CANCEL) */
	CEV_B_REQUEST,	  /* the same from the callee */
	CEV_DIALOG_GONE,  /* a 408 or 481 (or no answer) to a mid-call
			     request: that dialog is gone (RFC 5057) */
	CEV_B_2XX_HELD,	  /* the callee's first 2xx while the caller owes
			     the PRACK of a reliable provisional with a
			     session description (RFC 3262 §3): held */
	CEV_A_PRACKED,	  /* that PRACK came: the held 2xx goes on */
	CEV_PRACK_FAILED, /* the caller's INVITE ended by RFC 3262 (no
			     PRACK in 64*T1: 504; a failed offer: 488),
			     already answered: the callee's side ends */
	CALL_EVENT_COUNT
};

/* What an event calls for (flags). */
enum call_action {
	CA_NONE = 0,
	CA_RELAY_1XX = 1 << 0,	  /* the provisional to the A leg */
	CA_RELAY_2XX = 1 << 1,	  /* the 2xx to the A leg; wait for ACK */
	CA_RELAY_FINAL = 1 << 2,  /* the B leg's failure to the A leg (if
				     the A leg is not answered yet) */
	CA_ANSWER_408 = 1 << 3,	  /* A leg: 408 Request Timeout */
	CA_ANSWER_480 = 1 << 4,	  /* A leg: 480 (ring timeout) */
	CA_ANSWER_487 = 1 << 5,	  /* A leg: 487 Request Terminated */
	CA_ANSWER_503 = 1 << 6,	  /* A leg: 503 (shutting down) */
	CA_CANCEL_B = 1 << 7,	  /* CANCEL the B-leg INVITE (sent once a
				     provisional has arrived, §9.1) */
	CA_ACK_B = 1 << 8,	  /* ACK the B leg's 2xx (again for each
				     retransmission, RFC 6026) */
	CA_ACK_BYE_B = 1 << 9,	  /* a 2xx nobody wants: ACK it, then BYE */
	CA_BYE_A = 1 << 10,	  /* BYE on the A leg */
	CA_BYE_B = 1 << 11,	  /* BYE on the B leg */
	CA_INVALID = 1 << 12,	  /* cannot happen here: ignored, counted */
	CA_RELAY_REQ = 1 << 13,	  /* relay a mid-call request to the other
				     leg, or answer it by that leg's rules
				     (glare 491, overlap 500, REFER
				     policy, no dialog there: 481) */
	CA_REJECT_481 = 1 << 14,  /* answer the request 481: the dialog is
				     ending (a BYE went or came) */
	CA_END_PENDING = 1 << 15, /* every request pending on either leg
				     gets its final answer (487, §15.1.2),
				     every unACKed 2xx its ACK (§13.2.2.4),
				     2xx retransmissions stop */
	CA_HOLD_2XX = 1 << 16,	  /* keep the callee's 2xx until the
				     caller's PRACK (RFC 3262 §3) */
	CA_ANSWER_GONE = 1 << 17, /* A leg: 480, a dialog of the call is
				     gone before the caller has its
				     answer (RFC 5057 §5.1) */
};

struct call_rule {
	uint32_t action; /* enum call_action flags */
	uint8_t next;	 /* enum call_state */
};

/**
 * The row for (state, event). Every pair has one: pairs the machine does
 * not name are CA_INVALID rows that keep the state; Terminated ignores
 * everything.
 */
struct call_rule call_fsm_rule(enum call_state state, enum call_event event);

const char *call_state_name(enum call_state s);
const char *call_event_name(enum call_event e);

#endif /* DUET_CALL_FSM_H */
