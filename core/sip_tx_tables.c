/* SPDX-License-Identifier: MIT */
/*
 * The four transaction state machines of RFC 3261 §17 with RFC 6026's
 * Accepted state, as (state, event) -> (action, next) tables. Rows not
 * written here take their state's default (below), so every pair has a
 * defined row; test_sip_tx walks them all.
 */
#include "duet/sip_tx.h"

struct row {
	uint16_t action;
	uint8_t next;
	uint8_t set;
};

#define R(a, n)                                                                \
	{                                                                      \
		(uint16_t)(a), (uint8_t)(n), 1                                 \
	}

#define PASS TXA_PASS
#define SEND TXA_SEND
#define RETX_REQ TXA_RETX_REQ
#define RETX_RESP TXA_RETX_RESP
#define SEND_ACK TXA_SEND_ACK
#define SEND_100 TXA_SEND_100
#define TIMEOUT TXA_TIMEOUT
#define TP_ERR TXA_TP_ERROR
#define ABSORB TXA_ABSORB
#define STRAY TXA_STRAY

static const struct row rules[SIP_TX_KIND_COUNT][TXS_COUNT][TXE_COUNT] = {
	/* INVITE client, §17.1.1 (figure 5) and RFC 6026 §7.2 */
	[SIP_TX_ICT] = {
		[TXS_CALLING] = {
			[TXE_RESP_1XX] = R(PASS, TXS_PROCEEDING),
			[TXE_RESP_2XX] = R(PASS, TXS_ACCEPTED),
			[TXE_RESP_FINAL] = R(PASS | SEND_ACK, TXS_COMPLETED),
			[TXE_TIMER_A] = R(RETX_REQ, TXS_CALLING),
			[TXE_TIMER_B] = R(TIMEOUT, TXS_TERMINATED),
			[TXE_TP_ERROR] = R(TP_ERR, TXS_TERMINATED),
		},
		[TXS_PROCEEDING] = {
			[TXE_RESP_1XX] = R(PASS, TXS_PROCEEDING),
			[TXE_RESP_2XX] = R(PASS, TXS_ACCEPTED),
			[TXE_RESP_FINAL] = R(PASS | SEND_ACK, TXS_COMPLETED),
		},
		[TXS_COMPLETED] = {
			/* a retransmitted final: ACK it again, §17.1.1.2 */
			[TXE_RESP_FINAL] = R(SEND_ACK | ABSORB, TXS_COMPLETED),
			/* a late 1xx is absorbed rather than counted as
			 * invalid; a 2xx after a non-2xx final (a forking
			 * proxy's late answer) is a stray the TU must ACK
			 * and BYE (§13.2.2.4), not something to drop */
			[TXE_RESP_1XX] = R(ABSORB, TXS_COMPLETED),
			[TXE_RESP_2XX] = R(STRAY, TXS_COMPLETED),
			[TXE_TIMER_D] = R(TXA_NONE, TXS_TERMINATED),
			[TXE_TP_ERROR] = R(TP_ERR, TXS_TERMINATED),
		},
		[TXS_ACCEPTED] = {
			/* every 2xx goes to the TU, which ACKs it (RFC 6026);
			 * late 1xx and non-2xx finals are absorbed */
			[TXE_RESP_2XX] = R(PASS, TXS_ACCEPTED),
			[TXE_RESP_1XX] = R(ABSORB, TXS_ACCEPTED),
			[TXE_RESP_FINAL] = R(ABSORB, TXS_ACCEPTED),
			[TXE_TIMER_M] = R(TXA_NONE, TXS_TERMINATED),
		},
	},
	/* non-INVITE client, §17.1.2 (figure 6) */
	[SIP_TX_NICT] = {
		[TXS_TRYING] = {
			[TXE_RESP_1XX] = R(PASS, TXS_PROCEEDING),
			[TXE_RESP_2XX] = R(PASS, TXS_COMPLETED),
			[TXE_RESP_FINAL] = R(PASS, TXS_COMPLETED),
			[TXE_TIMER_E] = R(RETX_REQ, TXS_TRYING),
			[TXE_TIMER_F] = R(TIMEOUT, TXS_TERMINATED),
			[TXE_TP_ERROR] = R(TP_ERR, TXS_TERMINATED),
		},
		[TXS_PROCEEDING] = {
			[TXE_RESP_1XX] = R(PASS, TXS_PROCEEDING),
			[TXE_RESP_2XX] = R(PASS, TXS_COMPLETED),
			[TXE_RESP_FINAL] = R(PASS, TXS_COMPLETED),
			[TXE_TIMER_E] = R(RETX_REQ, TXS_PROCEEDING),
			[TXE_TIMER_F] = R(TIMEOUT, TXS_TERMINATED),
			[TXE_TP_ERROR] = R(TP_ERR, TXS_TERMINATED),
		},
		[TXS_COMPLETED] = {
			[TXE_RESP_1XX] = R(ABSORB, TXS_COMPLETED),
			[TXE_RESP_2XX] = R(ABSORB, TXS_COMPLETED),
			[TXE_RESP_FINAL] = R(ABSORB, TXS_COMPLETED),
			[TXE_TIMER_K] = R(TXA_NONE, TXS_TERMINATED),
		},
	},
	/* INVITE server, §17.2.1 (figure 7) and RFC 6026 §7.1 */
	[SIP_TX_IST] = {
		[TXS_PROCEEDING] = {
			[TXE_REQ_RETX] = R(RETX_RESP | ABSORB, TXS_PROCEEDING),
			[TXE_TU_1XX] = R(SEND, TXS_PROCEEDING),
			[TXE_TU_2XX] = R(SEND, TXS_ACCEPTED),
			[TXE_TU_FINAL] = R(SEND, TXS_COMPLETED),
			[TXE_TIMER_TRYING] = R(SEND_100, TXS_PROCEEDING),
			/* RFC 6026 §8.8: a server transaction informs the TU
			 * of a transport error and stays */
			[TXE_TP_ERROR] = R(TP_ERR, TXS_PROCEEDING),
		},
		[TXS_COMPLETED] = {
			[TXE_REQ_RETX] = R(RETX_RESP | ABSORB, TXS_COMPLETED),
			[TXE_ACK] = R(TXA_NONE, TXS_CONFIRMED),
			[TXE_TIMER_G] = R(RETX_RESP, TXS_COMPLETED),
			[TXE_TIMER_H] = R(TIMEOUT, TXS_TERMINATED),
			[TXE_TP_ERROR] = R(TP_ERR, TXS_COMPLETED),
		},
		[TXS_CONFIRMED] = {
			/* a late INVITE retransmission: absorbed */
			[TXE_REQ_RETX] = R(ABSORB, TXS_CONFIRMED),
			[TXE_ACK] = R(ABSORB, TXS_CONFIRMED),
			[TXE_TIMER_I] = R(TXA_NONE, TXS_TERMINATED),
		},
		[TXS_ACCEPTED] = {
			/* RFC 6026 §8.7: INVITE retransmissions are absorbed;
			 * the TU retransmits its 2xx itself (§13.3.1.4) */
			[TXE_REQ_RETX] = R(ABSORB, TXS_ACCEPTED),
			[TXE_TU_2XX] = R(SEND, TXS_ACCEPTED),
			[TXE_ACK] = R(PASS, TXS_ACCEPTED),
			[TXE_TIMER_L] = R(TXA_NONE, TXS_TERMINATED),
			/* a failed 2xx send is the TU's to handle */
			[TXE_TP_ERROR] = R(TP_ERR, TXS_ACCEPTED),
		},
	},
	/* non-INVITE server, §17.2.2 (figure 8) */
	[SIP_TX_NIST] = {
		[TXS_TRYING] = {
			[TXE_REQ_RETX] = R(ABSORB, TXS_TRYING),
			[TXE_TU_1XX] = R(SEND, TXS_PROCEEDING),
			[TXE_TU_2XX] = R(SEND, TXS_COMPLETED),
			[TXE_TU_FINAL] = R(SEND, TXS_COMPLETED),
		},
		[TXS_PROCEEDING] = {
			[TXE_REQ_RETX] = R(RETX_RESP | ABSORB, TXS_PROCEEDING),
			[TXE_TU_1XX] = R(SEND, TXS_PROCEEDING),
			[TXE_TU_2XX] = R(SEND, TXS_COMPLETED),
			[TXE_TU_FINAL] = R(SEND, TXS_COMPLETED),
			[TXE_TP_ERROR] = R(TP_ERR, TXS_PROCEEDING),
		},
		[TXS_COMPLETED] = {
			[TXE_REQ_RETX] = R(RETX_RESP | ABSORB, TXS_COMPLETED),
			[TXE_TIMER_J] = R(TXA_NONE, TXS_TERMINATED),
			[TXE_TP_ERROR] = R(TP_ERR, TXS_COMPLETED),
		},
	},
};

/* The states each machine has; an unused state is never entered. */
static const bool used[SIP_TX_KIND_COUNT][TXS_COUNT] = {
	[SIP_TX_ICT] = { [TXS_CALLING] = true,
			 [TXS_PROCEEDING] = true,
			 [TXS_COMPLETED] = true,
			 [TXS_ACCEPTED] = true,
			 [TXS_TERMINATED] = true },
	[SIP_TX_NICT] = { [TXS_TRYING] = true,
			  [TXS_PROCEEDING] = true,
			  [TXS_COMPLETED] = true,
			  [TXS_TERMINATED] = true },
	[SIP_TX_IST] = { [TXS_PROCEEDING] = true,
			 [TXS_COMPLETED] = true,
			 [TXS_CONFIRMED] = true,
			 [TXS_ACCEPTED] = true,
			 [TXS_TERMINATED] = true },
	[SIP_TX_NIST] = { [TXS_TRYING] = true,
			  [TXS_PROCEEDING] = true,
			  [TXS_COMPLETED] = true,
			  [TXS_TERMINATED] = true },
};

/* Every pair not written above: a stale timer (one whose state has been
 * left; the engine cancels timers on every transition, so this is a
 * guard) or an event the peer or TU should not cause here. Both are
 * ignored and counted; the state does not change. In Terminated every
 * event is ignored silently. */
struct sip_tx_rule sip_tx_rule(enum sip_tx_kind kind, enum sip_tx_state state,
			       enum sip_tx_event event)
{
	const struct row *r;

	if ((unsigned)kind >= SIP_TX_KIND_COUNT ||
	    (unsigned)state >= TXS_COUNT || (unsigned)event >= TXE_COUNT ||
	    state == TXS_TERMINATED)
		return (struct sip_tx_rule){ TXA_NONE, TXS_TERMINATED };
	r = &rules[kind][state][event];
	if (r->set)
		return (struct sip_tx_rule){ r->action, r->next };
	return (struct sip_tx_rule){ TXA_INVALID, (uint8_t)state };
}

bool sip_tx_state_used(enum sip_tx_kind kind, enum sip_tx_state state)
{
	return (unsigned)kind < SIP_TX_KIND_COUNT &&
	       (unsigned)state < TXS_COUNT && used[kind][state];
}

const char *sip_tx_state_name(enum sip_tx_state s)
{
	static const char *const names[TXS_COUNT] = {
		"calling",   "trying",	 "proceeding", "completed",
		"confirmed", "accepted", "terminated",
	};
	return (unsigned)s < TXS_COUNT ? names[s] : "?";
}

const char *sip_tx_event_name(enum sip_tx_event e)
{
	static const char *const names[TXE_COUNT] = {
		"1xx",	     "2xx",
		"final",     "request-retransmit",
		"ACK",	     "tu-1xx",
		"tu-2xx",    "tu-final",
		"timer-A",   "timer-B",
		"timer-D",   "timer-E",
		"timer-F",   "timer-G",
		"timer-H",   "timer-I",
		"timer-J",   "timer-K",
		"timer-L",   "timer-M",
		"timer-100", "transport-error",
	};
	return (unsigned)e < TXE_COUNT ? names[e] : "?";
}

const char *sip_tx_kind_name(enum sip_tx_kind k)
{
	static const char *const names[SIP_TX_KIND_COUNT] = { "ICT", "NICT",
							      "IST", "NIST" };
	return (unsigned)k < SIP_TX_KIND_COUNT ? names[k] : "?";
}
