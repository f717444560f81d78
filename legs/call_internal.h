/* SPDX-License-Identifier: MIT */
/* The call layer's private structures, shared by legs/call*.c. */
#ifndef DUET_LEGS_CALL_INTERNAL_H
#define DUET_LEGS_CALL_INTERNAL_H

#include <stddef.h>

#include "duet/call.h"
#include "duet/call_fsm.h"
#include "duet/dialog.h"
#include "duet/sip_build.h"

#include "call_route.h"

#define CALLS_BUCKETS 16384 /* a power of two */

/* What a transaction of a call is for; its tx_arg is &call->ref[purpose],
 * or a txref inside a struct relay for a mid-call request. */
enum txp {
	TXP_A_INVITE = 0, /* the caller's INVITE (server) */
	TXP_B_INVITE,	  /* our INVITE to the callee (client) */
	TXP_CANCEL_B,
	TXP_BYE_A,
	TXP_BYE_B,
	TXP_FORK_BYE, /* BYE of a 2xx nobody wants (fork, CANCEL race) */
	TXP_COUNT,
	/* not in call->ref: inside a struct relay */
	TXP_RELAY_SRV = TXP_COUNT, /* a mid-call request from a leg's peer */
	TXP_RELAY_CLI,		   /* duet's copy of it on the other leg */
	TXP_RELAY_CANCEL,	   /* a CANCEL of that copy */
	TXP_ORPHAN,		   /* an INVITE client transaction whose call
				      ended: its late 2xx are ACKed and
				      BYEd (calls->orphan, call NULL) */
};

struct call;
struct relay;

struct txref {
	struct call *call;
	struct sip_tx *tx; /* NULL once it ended or was let go */
	enum txp purpose;  /* TXP_RELAY_*: txref_relay() finds its relay */
};

/* The two legs: duet is the UAS on A, the UAC on B. */
enum leg_side { LEG_A = 0, LEG_B = 1 };
#define LEG_OTHER(s) ((enum leg_side)((s) ^ 1))

enum relay_state {
	RELAY_SENT = 0, /* duet's copy is out on the other leg */
	RELAY_RETRY,	/* it got 491: sent again after the §14.1 wait */
	RELAY_WAIT_ACK, /* re-INVITE: 2xx relayed, waiting for the ACK */
	RELAY_DONE,	/* answered (and ACKed); kept while duet's copy's
			   transaction lives, to ACK retransmitted 2xx */
};

/* Who is on each side of a struct relay. */
enum relay_kind {
	RELAY_PEERS = 0, /* a peer's request, duet's copy on the other leg */
	RELAY_LOCAL,	 /* a peer's request duet answered itself (a session
			    refresh, a re-INVITE in "answer" mode): no
			    client side (cli, cancel unused) */
	RELAY_OWN,	 /* duet's own request (its session refresh) on leg
			    LEG_OTHER(from): no server side (srv unused) */
};

/*
 * A mid-call request relayed from one leg to the other (RFC 3261 §12.2):
 * the server transaction on the leg it came from (`from`) maps to a
 * client transaction on the other leg, each with its own leg's CSeq;
 * responses go back by this pairing, the ACK of a re-INVITE's 2xx goes
 * forward by it.
 */
struct relay {
	struct relay *next;
	struct call *call;
	enum relay_state state;
	enum relay_kind kind;
	enum leg_side from;
	enum sip_method method;
	bool offer;	     /* INVITE, or UPDATE with a body: an offer/
				answer exchange (RFC 3264, RFC 3311) */
	bool cli_1xx;	     /* a provisional came back: CANCEL may go */
	bool cancel_pending; /* the peer cancelled before that (§9.1) */
	uint8_t retries;     /* 491s retried (§14.1) */
	uint16_t final;	     /* the final status sent back, or 0 */
	uint32_t srv_cseq;   /* CSeq on the `from` leg */
	uint32_t cli_cseq;   /* CSeq of duet's copy on the other leg */
	struct txref srv, cli, cancel;
	struct wheel_timer retry_timer; /* §14.1 wait; Timer C (§16.6
					   step 11) while READY; 64*T1 after
					   the CANCEL of a teardown */
	char *ack; /* re-INVITE: duet's ACK on the other leg,
		      sent again for each retransmitted 2xx */
	size_t ack_len;
	struct tp_dest ack_dest;
};

/* The relay a TXP_RELAY_* reference is a member of (srv, cli, cancel). */
static inline struct relay *txref_relay(struct txref *ref)
{
	size_t off = ref->purpose == TXP_RELAY_SRV ? offsetof(struct relay, srv)
		     : ref->purpose == TXP_RELAY_CLI
			     ? offsetof(struct relay, cli)
			     : offsetof(struct relay, cancel);

	return (struct relay *)(void *)((char *)ref - off);
}

/*
 * The session timer of one leg (RFC 4028), negotiated on that leg alone
 * (legs/call_timer.c), and the session description duet last sent on it
 * (what a refresh offers again unchanged, RFC 3264 §8).
 */
struct leg_timer {
	uint32_t se;	     /* session interval, s; 0: no timer */
	uint32_t min_se;     /* Min-SE duet sends on B (raised by a 422) */
	bool refresher;	     /* duet refreshes this leg, else its peer */
	bool peer_timer;     /* the peer said Supported: timer */
	bool retried_422;    /* B: the INVITE was sent again once (§7.3) */
	uint8_t fails;	     /* duet's refreshes failed in a row */
	uint64_t expires_at; /* wheel ms: the session ends unrefreshed */
	struct wheel_timer timer; /* duet's refresh, or the expiry */
	char *sdp;		  /* "Content-Type\0body", or NULL */
	size_t sdp_len;		  /* the body's length */
};

/* duet's ACK of the B leg's 2xx, sent again for each retransmitted 2xx
 * while the call's setup lasts (call_build.c) */
struct b_ack {
	char *buf;
	size_t len;
	struct tp_dest dest;
};

/* A 2xx duet retransmits until its ACK (call.c, call_2xx_start). */
struct leg_2xx {
	struct leg *leg;
	char *buf;
	size_t len;
	uint16_t code;
	struct txref *st;    /* the INVITE server transaction */
	struct relay *relay; /* NULL for the initial INVITE */
	struct wheel_timer timer;
	uint32_t interval, waited;
};

/*
 * One leg of a call as duet sees it: its dialog and the state that is
 * decided per leg (pending offer/answer transactions in each direction,
 * duet's 2xx retransmitted until its ACK).
 */
struct leg {
	struct call *call;
	enum leg_side side;
	enum sip_proto proto; /* transport when the dialog's URIs name none */
	struct dialog *dlg;
	struct relay *oa_in;  /* re-INVITE/UPDATE offer from this leg's peer
				 not finished (re-INVITE: until its ACK) */
	struct relay *oa_out; /* duet's re-INVITE/UPDATE offer on this leg
				 not finished (incl. a 491 retry wait) */
	bool ended;	      /* a BYE was sent or received on this leg */
	/* duet's 2xx to an INVITE from this leg's peer, retransmitted until
	 * the ACK (§13.3.1.4): the initial INVITE's on A, a re-INVITE's on
	 * either leg; NULL the rest of the time (a held call keeps none) */
	struct leg_2xx *x2xx;
	struct leg_timer st; /* session timer (call_timer.c) */
};

/*
 * RFC 3262 on each leg while a call is set up (legs/call_prack.c):
 * duet's reliable provisionals to the caller (A leg, duet the UAS) and
 * its PRACKs of the callee's (B leg, duet the UAC). Allocated when the
 * first reliable provisional is sent or received; freed when the setup
 * is over (call_slim) or the call ends.
 */
#define PRACK_QUEUE 4
struct call_prack {
	struct call *call;
	/* A leg */
	uint32_t a_first;   /* the first RSeq duet sent; 0: none yet */
	uint32_t a_rseq;    /* the last RSeq duet sent */
	uint32_t a_unacked; /* RSeq waiting for its PRACK; 0: none */
	uint32_t a_offer;   /* RSeq of the one carrying the callee's
			       offer (its PRACK carries the answer) */
	bool a_unacked_sdp; /* it carried a session description: no 2xx
			       before its PRACK (§3) */
	char *a_rel;	    /* it, retransmitted until its PRACK */
	size_t a_rel_len;
	uint16_t a_rel_code;
	uint32_t a_interval, a_waited;
	struct wheel_timer a_timer;
	/* provisionals waiting for that PRACK (§3: one unacknowledged at
	 * a time), then a 2xx waiting for it */
	struct sip_msg *a_queue[PRACK_QUEUE];
	unsigned a_queued;
	struct sip_msg *a_held;
	char *a_unsupported; /* duet's own 420: the tags it refused */
	/* B leg: the attempt (its INVITE's CSeq) the numbers belong to */
	uint32_t b_cseq;
	uint32_t b_rseq;   /* the last in-order RSeq received (§4) */
	bool b_sdp_seen;   /* a reliable provisional carried SDP */
	bool b_offer_wait; /* it was an offer: duet's PRACK waits for the
			      caller's answer (§5) */
	uint32_t b_offer_rseq;
};

struct call {
	struct calls *owner;
	struct call *next_a, *next_b; /* hash chains */
	uint32_t key_a, key_b;
	uint64_t id;
	enum call_state state;
	unsigned relay_count;
	struct txref ref[TXP_COUNT];
	const char *route;    /* the deciding route's name: call_no_route, or
				 a pool copy (call_set_route) */
	struct leg leg[2];    /* [LEG_A], [LEG_B] */
	struct relay *relays; /* mid-call requests in flight */
	char *end_reason;     /* Reason (RFC 3326) of BYEs duet starts */

	/* A leg: duet is the UAS */
	struct sip_msg *a_invite;
	struct tp_source a_src; /* conn referenced */
	char a_tag[LEG_TAG_MAX];

	/* B leg: duet is the UAC */
	struct sip_msg *b_invite;
	uint32_t b_inv_cseq; /* its CSeq, for ACKs after b_invite is gone */
	bool b_indexed;	     /* linked in calls.by_b */
	uint16_t a_final;    /* final status sent to the caller, or 0 */
	bool a_acked;
	struct tp_dest b_dest;
	bool b_provisional; /* a 1xx arrived: CANCEL may be sent (§9.1) */
	bool b_final;	    /* the INVITE got its final response */
	bool cancel_pending;
	bool cancel_sent;    /* the INVITE ends 64*T1 later at most */
	char *cancel_reason; /* the caller's CANCEL Reason (RFC 3326) */
	bool tcp_fallback;   /* the INVITE was too big for UDP (§18.1.1) */
	struct b_ack *b_ack; /* our ACK for the B leg's 2xx (heap, let go
				by call_slim) */
	bool b_acked;	     /* the 2xx was ACKed (b_ack may be let go) */

	struct wheel_timer ring_timer;
	struct call_prack *prack; /* NULL unless 100rel is in use */

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
	struct txref orphan;		       /* TXP_ORPHAN */
	struct call_route_counts route_counts; /* call_route.c */
	/* dry run (call_route_dry_run): no transport, this local address */
	bool dry;
	struct tp_addr dry_local;
	/* local_parts' last address and its text: a call's messages all
	 * come from one listener, so it is formatted once, not per message */
	struct tp_addr local_seen;
	char local_text[64];
	char local_host[64]; /* its host alone (the B leg's Call-IDs) */
};

/* call.c */
extern const char call_no_route[]; /* "" */
/* Keep a copy of the deciding route's name (logs, per-route counts). */
void call_set_route(struct call *call, const char *name);
void call_event(struct call *call, enum call_event ev, struct sip_msg *msg);
void call_event_tx(struct call *call, enum call_event ev, struct sip_msg *msg,
		   struct sip_tx *st);
void call_release_tx(struct txref *ref);
void call_settle(struct call *call);
bool call_teardown_pending(const struct call *call);
/* Start retransmitting the 2xx just sent on st (a copy of buf is kept). */
void call_2xx_start(struct call *call, enum leg_side side, uint16_t code,
		    char *buf, size_t len, struct txref *st,
		    struct relay *relay);
void call_2xx_stop(struct leg *leg);

/* call_mid.c: mid-call requests (re-INVITE, UPDATE, INFO...) */
void mid_request(struct call *call, enum leg_side from, struct sip_tx *st,
		 struct sip_msg *req);
void mid_response(struct relay *r, struct sip_msg *resp);
void mid_cli_ended(struct relay *r);
void mid_srv_ended(struct relay *r);
bool mid_ack(struct call *call, enum leg_side from, struct sip_msg *ack);
bool mid_cancel(struct relay *r, const struct sip_msg *cancel);
void mid_end_pending(struct call *call);
bool mid_pending(const struct call *call);
void mid_2xx_timeout(struct relay *r);
void mid_free_all(struct call *call);
void call_index_b(struct call *call);
void call_set_state(struct call *call, enum call_state next,
		    enum call_event ev);
void call_settle(struct call *call);

struct relay *mid_relay_new(struct call *call, enum leg_side from,
			    enum sip_method method, bool offer);
void mid_relay_free(struct relay *r);

/* call_timer.c: session timers per leg (RFC 4028), local answers */
void call_timer_init(struct call *call);
void call_timer_free(struct call *call);
/* A new caller's INVITE: 0, or 422 (*min_se: the Min-SE to send). */
uint16_t call_timer_check_invite(const struct calls *c,
				 const struct sip_msg *req, uint32_t *min_se);
/* duet sent m's body (if any) on leg side: remember it. */
void call_timer_sent(struct call *call, enum leg_side side,
		     const struct sip_msg *m);
/* Headers of duet's INVITE on B (Session-Expires, Min-SE). */
void call_timer_b_invite_headers(struct call *call, struct sip_writer *w);
/* Does duet's INVITE on B ask for a session timer ("timer" supported)? */
bool call_timer_b_on(const struct call *call);
/* A 422 to duet's INVITE on B: true if it was sent again (§7.3). */
bool call_timer_b_422(struct call *call, const struct sip_msg *resp);
/* duet (UAS) answers 2xx to req on leg side: negotiate (§9), write the
 * headers, start the leg's timer. */
void call_timer_uas_2xx(struct call *call, enum leg_side side,
			const struct sip_msg *req, struct sip_writer *w);
/* Headers of duet's re-INVITE/UPDATE on leg side (§7.4). */
void call_timer_uac_headers(struct call *call, enum leg_side side,
			    struct sip_writer *w);
/* A 2xx to duet's INVITE/re-INVITE/UPDATE on leg side (§7.2). */
void call_timer_uac_2xx(struct call *call, enum leg_side side,
			const struct sip_msg *resp);
/* A failure of duet's own refresh on leg side. */
void call_timer_own_failed(struct call *call, enum leg_side side);
/* A mid-call request that mid_check let through: true if duet answered
 * it itself (a refresh, "answer" mode, 422). */
bool call_timer_mid_request(struct call *call, enum leg_side from,
			    struct sip_tx *st, struct sip_msg *req);

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
void call_b_ack_free(struct call *call);
int call_send_cancel_b(struct call *call);
int call_send_bye(struct call *call, bool to_a,
		  const struct sip_msg *reason_from);
int call_ack_bye_fork(struct call *call, const struct sip_msg *resp);
int call_reply(struct calls *c, struct sip_tx *st, const struct sip_msg *req,
	       uint16_t code, struct slice to_tag);
/* call_reply with one more header (e.g. Retry-After, Unsupported). */
int call_reply_hdr(struct calls *c, struct sip_tx *st,
		   const struct sip_msg *req, uint16_t code, enum sip_hdr_id id,
		   struct slice value);
void calls_ack_bye_stray(struct calls *c, const struct sip_msg *resp);
/* Hand an INVITE client transaction of an ending call to c->orphan. */
void call_orphan_tx(struct call *call, struct txref *ref);
int call_send_relay(struct call *call, struct relay *r,
		    const struct sip_msg *req);
int call_relay_response(struct call *call, struct relay *r, uint16_t code,
			const struct sip_msg *resp);
int call_send_relay_ack(struct call *call, struct relay *r,
			const struct sip_msg *ack_from);
int call_send_relay_cancel(struct call *call, struct relay *r,
			   const struct sip_msg *cancel);
/* call_build.c's helpers for call_timer.c */
int call_local_parts(struct calls *c, const struct tp_dest *dest, char *via,
		     size_t via_cap, char *contact, size_t contact_cap);
int call_dialog_dest(const struct dialog *d, enum sip_proto dflt,
		     struct tp_dest *out);
int call_finish_parse(struct sip_writer *w, const struct sip_msg *body_from,
		      struct sip_msg **out);

/* The policy's name of a leg (the method map, header rules). */
static inline enum policy_leg policy_leg_of(enum leg_side side)
{
	return side == LEG_A ? POLICY_LEG_A : POLICY_LEG_B;
}

/* call_prack.c: reliable provisionals and PRACK (RFC 3262), per leg or
 * relayed as the route's method map says */
enum policy_method_mode prack_mode(const struct policy *p,
				   const struct policy_route *r);
/* §8.2.2.3: a Require duet cannot satisfy gets 420 with Unsupported;
 * returns 420 when it answered, else 0 */
uint16_t prack_check_require(struct call *call, const struct policy *p,
			     const struct policy_route *r);
/* A Supported/Require field copied to the other leg without timer and,
 * when drop_100rel (per_leg and reject modes), 100rel */
void prack_copy_option_hdr(struct sip_writer *w, const struct sip_hdr *h,
			   bool drop_100rel);
/* Does duet's INVITE on B say it supports 100rel (per_leg)? */
bool prack_b_supported(const struct call *call);
/* a provisional on the B-leg INVITE: true when it goes no further */
bool prack_b_1xx(struct call *call, struct sip_msg *resp);
/* call_answer_a's hooks: true when the response waits (§3); the
 * headers of a reliable provisional (returns its RSeq, or 0) or of a
 * relayed 420; the reliable provisional sent */
bool prack_a_wait(struct call *call, uint16_t code,
		  const struct sip_msg *from_b);
uint32_t prack_a_headers(struct call *call, struct sip_writer *w, uint16_t code,
			 const struct sip_msg *from_b);
void prack_a_sent(struct call *call, uint16_t code, uint32_t rseq,
		  const struct sip_writer *w, const struct sip_msg *from_b);
/* a PRACK from a leg's peer: true when answered here (per_leg) */
bool prack_request(struct call *call, enum leg_side from, struct sip_tx *st,
		   struct sip_msg *req);
/* relay mode: the caller's RAck renumbered to the B leg's INVITE */
void prack_relay_rack(const struct call *call, struct sip_writer *w,
		      const struct sip_msg *req);
/* Would the callee's first 2xx wait for the caller's PRACK now (§3)?
 * Then prack_a_hold() keeps it until the PRACK (CEV_A_PRACKED). */
bool prack_a_holds(const struct call *call);
void prack_a_hold(struct call *call, struct sip_msg *ok);
void prack_free(struct call *call);

#endif
