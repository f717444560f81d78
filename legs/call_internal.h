/* SPDX-License-Identifier: MIT */
/* The call layer's private structures, shared by legs/call*.c. */
#ifndef DUET_LEGS_CALL_INTERNAL_H
#define DUET_LEGS_CALL_INTERNAL_H

#include "duet/call.h"
#include "duet/call_fsm.h"
#include "duet/dialog.h"
#include "duet/sip_build.h"

#include "call_route.h"

#define CALLS_BUCKETS 16384 /* a power of two */

/* What a transaction of a call is for; its tx_arg is &call->ref[purpose]. */
enum txp {
	TXP_A_INVITE = 0, /* the caller's INVITE (server) */
	TXP_B_INVITE,	  /* our INVITE to the callee (client) */
	TXP_CANCEL_B,
	TXP_BYE_A,
	TXP_BYE_B,
	TXP_FORK_BYE, /* BYE of a 2xx nobody wants (fork, CANCEL race) */
	TXP_COUNT
};

struct call;

struct txref {
	struct call *call;
	enum txp purpose;
	struct sip_tx *tx; /* NULL once it ended or was let go */
};

struct call {
	struct calls *owner;
	struct call *next_a, *next_b; /* hash chains */
	uint32_t key_a, key_b;
	uint64_t id;
	enum call_state state;
	struct txref ref[TXP_COUNT];
	char route[64];

	/* A leg: duet is the UAS */
	struct sip_msg *a_invite;
	struct tp_source a_src; /* conn referenced */
	char a_tag[LEG_IDENT_MAX];
	struct dialog *a_dlg;
	uint16_t a_final; /* final status sent to the caller, or 0 */
	bool a_acked;
	char *a_2xx; /* our 2xx, retransmitted until the ACK */
	size_t a_2xx_len;
	struct wheel_timer a_2xx_timer;
	uint32_t a_2xx_interval, a_2xx_waited;

	/* B leg: duet is the UAC */
	struct sip_msg *b_invite;
	uint32_t b_inv_cseq; /* its CSeq, for ACKs after b_invite is gone */
	bool b_indexed;	     /* linked in calls.by_b */
	struct tp_dest b_dest;
	struct dialog *b_dlg;
	bool b_provisional; /* a 1xx arrived: CANCEL may be sent (§9.1) */
	bool b_final;	    /* the INVITE got its final response */
	bool cancel_pending;
	bool cancel_sent;    /* the INVITE ends 64*T1 later at most */
	char *cancel_reason; /* the caller's CANCEL Reason (RFC 3326) */
	bool tcp_fallback;   /* the INVITE was too big for UDP (§18.1.1) */
	char *b_ack;	     /* our ACK for the B leg's 2xx */
	size_t b_ack_len;
	struct tp_dest b_ack_dest;

	struct wheel_timer ring_timer;

	/* the policy's decision and the hunt along its targets
	 * (call_route.c) */
	struct call_hunt hunt;
};

struct calls {
	struct calls_env env;
	struct calls_config cfg;
	struct calls_stats stats;
	uint64_t next_id;
	struct call *by_a[CALLS_BUCKETS];
	struct call *by_b[CALLS_BUCKETS];
	struct call_route_counts route_counts; /* call_route.c */
	/* dry run (call_route_dry_run): no transport, this local address */
	bool dry;
	struct tp_addr dry_local;
};

/* call.c */
void call_event(struct call *call, enum call_event ev, struct sip_msg *msg);
void call_2xx_sent(struct call *call);
void call_index_b(struct call *call);
void call_set_state(struct call *call, enum call_state next,
		    enum call_event ev);
void call_settle(struct call *call);

/* call_build.c: messages of a call */
int call_uri_dest(const struct sip_uri *uri, enum sip_proto dflt,
		  struct tp_dest *out);
int call_build_b_invite(struct call *call, const char *target,
			const struct tp_dest *dest, struct sip_msg **out);
int call_send_cancel_of(struct call *call, const struct sip_msg *inv,
			const struct tp_dest *dest, bool track);
int call_answer_a(struct call *call, uint16_t code, struct slice reason,
		  const struct sip_msg *from_b);
int call_send_b_ack(struct call *call, const struct sip_msg *a_ack);
int call_send_cancel_b(struct call *call);
int call_send_bye(struct call *call, bool to_a,
		  const struct sip_msg *reason_from);
int call_ack_bye_fork(struct call *call, const struct sip_msg *resp);
int call_reply(struct calls *c, struct sip_tx *st, const struct sip_msg *req,
	       uint16_t code, struct slice to_tag);

#endif
