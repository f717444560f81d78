/* SPDX-License-Identifier: MIT */
/*
 * SIP transactions (RFC 3261 §17, §8.2.2.2, §9.2; RFC 6026): the four
 * state machines as explicit (state, event) -> (action, next state) tables,
 * their timers, matching of requests and responses to transactions, and the
 * transaction user interface.
 *
 * A struct txl (transaction layer) belongs to one event loop. It does not
 * own the transport: it sends through a function the caller provides (the
 * real transport, or a fake that records in tests) and is fed received
 * messages with txl_receive(). Time comes from the wheel's clock.
 *
 * Transactions are owned by the layer: the TU gets borrowed pointers in
 * callbacks and may keep one until the transaction's `ended` callback,
 * which every transaction gets exactly once (unless txl_free() comes
 * first), or until it lets go of it (sip_tx_let_go()). A TU keeps a
 * server transaction by giving it an arg (sip_tx_set_arg()) in the
 * request callback; one whose arg is still NULL when that callback
 * returns, and a client one created without `out`, are let go at once.
 * A transaction the TU let go of runs to its end as before, but once it
 * only lingers (absorbing retransmissions) the layer moves it into a
 * compact block, so its old pointer must not be used.
 */
#ifndef DUET_SIP_TX_H
#define DUET_SIP_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/sip_build.h"
#include "duet/sip_msg.h"
#include "duet/transport.h"
#include "duet/wheel.h"

enum sip_tx_kind {
	SIP_TX_ICT = 0, /* INVITE client */
	SIP_TX_NICT,	/* non-INVITE client */
	SIP_TX_IST,	/* INVITE server */
	SIP_TX_NIST,	/* non-INVITE server */
	SIP_TX_KIND_COUNT
};

/* States of all four machines (each uses a subset; see sip_tx_tables.c). */
enum sip_tx_state {
	TXS_CALLING = 0, /* ICT */
	TXS_TRYING,	 /* NICT, NIST */
	TXS_PROCEEDING,	 /* all */
	TXS_COMPLETED,	 /* all */
	TXS_CONFIRMED,	 /* IST */
	TXS_ACCEPTED,	 /* ICT, IST (RFC 6026) */
	TXS_TERMINATED,
	TXS_COUNT
};

/* Events of all four machines. */
enum sip_tx_event {
	TXE_RESP_1XX = 0, /* client: a provisional response arrived */
	TXE_RESP_2XX,	  /* client: a 2xx arrived */
	TXE_RESP_FINAL,	  /* client: a 300-699 (ICT) or 200-699 (NICT) */
	TXE_REQ_RETX,	  /* server: the request arrived again */
	TXE_ACK,	  /* IST: an ACK matched the transaction */
	TXE_TU_1XX,	  /* server: the TU sends a provisional */
	TXE_TU_2XX,	  /* server: the TU sends a 2xx */
	TXE_TU_FINAL,	  /* server: the TU sends a 300-699 (IST) / 200-699 */
	TXE_TIMER_A,	  /* ICT request retransmit (§17.1.1.2) */
	TXE_TIMER_B,	  /* ICT timeout */
	TXE_TIMER_D,	  /* ICT wait for response retransmits */
	TXE_TIMER_E,	  /* NICT request retransmit (§17.1.2.2) */
	TXE_TIMER_F,	  /* NICT timeout */
	TXE_TIMER_G,	  /* IST response retransmit (§17.2.1) */
	TXE_TIMER_H,	  /* IST wait for ACK */
	TXE_TIMER_I,	  /* IST wait for ACK retransmits */
	TXE_TIMER_J,	  /* NIST wait for request retransmits (§17.2.2) */
	TXE_TIMER_K,	  /* NICT wait for response retransmits */
	TXE_TIMER_L, /* ICT/IST Accepted lifetime (RFC 6026 §8.4, §8.7) */
	TXE_TIMER_M, /* ICT Accepted lifetime (RFC 6026 §8.4) */
	TXE_TIMER_TRYING, /* IST: send 100 if the TU has not answered */
	TXE_TP_ERROR,	  /* the transport failed to send */
	TXE_COUNT
};

/* What a table row tells the engine to do (a set of flags). */
enum sip_tx_action {
	TXA_NONE = 0,
	TXA_PASS = 1 << 0,	/* hand the response/ACK to the TU */
	TXA_SEND = 1 << 1,	/* send the TU's response (see sip_tx_reply) */
	TXA_RETX_REQ = 1 << 2,	/* retransmit the request */
	TXA_RETX_RESP = 1 << 3, /* retransmit the last response (if any) */
	TXA_SEND_ACK = 1 << 4,	/* ICT: ACK a non-2xx final (§17.1.1.3) */
	TXA_SEND_100 = 1 << 5,	/* IST: 100 Trying if nothing was sent */
	TXA_TIMEOUT = 1 << 6,	/* tell the TU: ETIMEDOUT */
	TXA_TP_ERROR = 1 << 7,	/* tell the TU: transport error */
	TXA_ABSORB = 1 << 8,	/* count as absorbed (retransmission) */
	TXA_INVALID = 1 << 9,	/* an event that cannot happen in this
				   state: ignored and counted */
	TXA_STRAY = 1 << 10,	/* hand the response to the TU as a stray
				   (a 2xx it must ACK and end itself) */
};

struct sip_tx_rule {
	uint16_t action; /* enum sip_tx_action flags */
	uint8_t next;	 /* enum sip_tx_state */
};

/**
 * The row of a kind's table for (state, event). Every pair has one: pairs
 * the RFC does not name are TXA_INVALID rows that keep the state, and
 * every event in Terminated is ignored.
 */
struct sip_tx_rule sip_tx_rule(enum sip_tx_kind kind, enum sip_tx_state state,
			       enum sip_tx_event event);

/** Does this kind use this state at all? */
bool sip_tx_state_used(enum sip_tx_kind kind, enum sip_tx_state state);

const char *sip_tx_state_name(enum sip_tx_state s);
const char *sip_tx_event_name(enum sip_tx_event e);
const char *sip_tx_kind_name(enum sip_tx_kind k);

/** RFC 3261 timer values, in ms. */
struct sip_tx_timers {
	uint32_t t1;	 /* RTT estimate, default 500 (§17.1.1.1) */
	uint32_t t2;	 /* max non-INVITE retransmit interval, default 4000 */
	uint32_t t4;	 /* max message lifetime, default 5000 */
	uint32_t trying; /* IST: 100 Trying after this long, default 200;
			    0 sends it at once */
};

#define SIP_TX_TIMERS_DEFAULT                                                  \
	((struct sip_tx_timers){                                               \
		.t1 = 500, .t2 = 4000, .t4 = 5000, .trying = 200 })

struct txl;
struct sip_tx;

struct txl_ops {
	/**
	 * A new request (not ACK) created server transaction st. The TU
	 * answers with sip_tx_reply(). For a CANCEL, sip_tx_cancel_target()
	 * gives the INVITE server transaction it matched (§9.2) or NULL.
	 */
	void (*request)(struct txl *l, struct sip_tx *st, struct sip_msg *req,
			const struct tp_source *src, void *arg);
	/** An ACK that no transaction absorbed (ACK for a 2xx, §17.1.1.3). */
	void (*ack)(struct txl *l, struct sip_msg *ack,
		    const struct tp_source *src, void *arg);
	/** A response matched client transaction ct (1xx, 2xx incl. its
	 * retransmissions in Accepted, final). */
	void (*response)(struct sip_tx *ct, struct sip_msg *resp, void *tx_arg);
	/** A response that matched no transaction: a retransmitted 2xx after
	 * the ICT ended, which the TU must ACK again (§13.2.2.4). */
	void (*stray_response)(struct txl *l, struct sip_msg *resp,
			       const struct tp_source *src, void *arg);
	/** A send failed on a server transaction, which stays in its state
	 * (RFC 6026 §8.8); the TU may give up on it. May be NULL. */
	void (*transport_error)(struct sip_tx *st, int err, void *tx_arg);
	/** A transaction ended: err 0 normally, ETIMEDOUT (Timer B/F/H),
	 * or a transport error. tx_arg: the one given at creation (client)
	 * or with sip_tx_set_arg() (server; NULL if never set). The tx is
	 * freed after this returns. */
	void (*ended)(struct sip_tx *tx, int err, void *tx_arg);
};

/** Sends bytes; the real transport or a test double. 0 or an errno. */
typedef int txl_send_fn(const struct tp_dest *dest, const char *buf, size_t len,
			void *arg);

struct txl_config {
	struct sip_tx_timers timers;
	unsigned max_transactions; /* default 500000; new ones get 503 */
	/* Timers D, I, J, K, L, M (a transaction lingering to absorb
	 * retransmissions) fire on the next multiple of this many ms after
	 * their RFC duration, so those ending together share a wakeup;
	 * default 128, 0 or 1: exactly */
	uint32_t linger_grain_ms;
};

void txl_config_default(struct txl_config *cfg);

/** Counters of every transaction outcome. */
struct txl_stats {
	uint64_t created[SIP_TX_KIND_COUNT];
	uint64_t completed; /* ended normally */
	uint64_t timed_out; /* B, F, H */
	uint64_t transport_errors;
	uint64_t retransmissions_sent;
	uint64_t retransmissions_absorbed;
	uint64_t merged_482; /* §8.2.2.2 */
	uint64_t stray_responses;
	uint64_t invalid_events; /* TXA_INVALID rows hit */
	uint64_t slimmed;	 /* lingering ones moved into a compact block */
	unsigned live;		 /* transactions that exist now */
};

/**
 * Create a layer. The wheel is borrowed and must outlive it. cfg NULL:
 * defaults. Returns 0, EINVAL or ENOMEM.
 */
int txl_new(struct txl **out, struct wheel *wheel, const struct txl_config *cfg,
	    txl_send_fn *send, void *send_arg, const struct txl_ops *ops,
	    void *arg);

/** Free the layer and every transaction (no callbacks are called). */
void txl_free(struct txl *l);

/**
 * Feed a received message (from the transport). Requests are matched to
 * server transactions (§17.2.3, RFC 2543 fallback), retransmissions are
 * absorbed, merged requests answered 482 (§8.2.2.2), new ones reported to
 * the TU; responses are matched to client transactions (§17.1.3).
 */
void txl_receive(struct txl *l, struct sip_msg *msg,
		 const struct tp_source *src);

void txl_stats(const struct txl *l, struct txl_stats *out);

/** Unmap the empty chunks of the lingering transactions' arenas (after a
 * burst: steady load reuses them). */
void txl_trim(struct txl *l);

/**
 * Start a client transaction for request `req` (its top Via carries a
 * fresh z9hG4bK branch; ACK is never sent through here) toward dest.
 * Takes a reference on req. tx_arg is passed to the response and ended
 * callbacks. *out (may be NULL) gets a borrowed pointer valid until
 * `ended`. Returns 0, EINVAL (ACK, or no branch), EMSGSIZE (too many
 * transactions), ENOMEM, or the transport's error (the tx is then not
 * created).
 */
int sip_tx_client_new(struct sip_tx **out, struct txl *l, struct sip_msg *req,
		      const struct tp_dest *dest, void *tx_arg);

/* A non-INVITE request the TU built, as its client transaction needs it:
 * the bytes, and what matching its responses (§17.1.3) and the
 * transaction's own identity compare. The slices may point anywhere
 * (they are copied). */
struct sip_tx_built {
	const char *buf; /* the whole request */
	size_t len;
	enum sip_method method;
	struct slice method_text; /* as in its CSeq */
	struct slice branch;	  /* its top Via's (z9hG4bK...) */
	struct slice via_host;	  /* its top Via's sent-by */
	uint16_t via_port;
	struct slice call_id;
	struct slice from_tag;
	uint32_t cseq;
};

/**
 * sip_tx_client_new() for a request the TU built and does not need parsed
 * back: the transaction keeps a copy of the bytes (to retransmit) and
 * the fields above, and sip_tx_request() is NULL for it. Not for INVITE
 * (its ACK and CANCEL are built from the parsed request) nor ACK: EINVAL,
 * as for a branch without the magic cookie. Returns as
 * sip_tx_client_new().
 */
int sip_tx_client_send(struct sip_tx **out, struct txl *l,
		       const struct sip_tx_built *req,
		       const struct tp_dest *dest, void *tx_arg);

/**
 * Send a response on server transaction st. buf/len is the whole
 * response text (see sip_build_response_head); it is copied, except a
 * 2xx on an INVITE server transaction, which only passes through (the TU
 * retransmits it, RFC 6026 §7.1). Provisional
 * responses may be sent any number of times; after a final one the
 * transaction only retransmits. Returns 0, EINVAL (wrong state or code),
 * ENOMEM or a transport error.
 */
int sip_tx_reply(struct sip_tx *st, uint16_t code, const char *buf, size_t len);

/**
 * What responses on server transaction st add to their top Via: the
 * request's source address as `received` when it differs from the sent-by
 * host or the request asked for rport, and the source port as `rport` when
 * it asked (RFC 3261 §18.2.1, RFC 3581 §4). Lives as long as st; pass it to
 * sip_build_response_head_stamped().
 */
const struct sip_via_stamp *sip_tx_via_stamp(const struct sip_tx *st);

/** Attach the TU's pointer to a transaction (for `ended`, `response`). */
void sip_tx_set_arg(struct sip_tx *tx, void *tx_arg);

/**
 * The TU will not use tx again: it keeps running, its `response` and
 * `ended` callbacks get tx_arg (NULL: nothing to tell), and the pointer
 * is not the TU's any more (see the top of this file).
 */
void sip_tx_let_go(struct sip_tx *tx, void *tx_arg);

/** The TU's pointer of a transaction (as set at creation or with
 * sip_tx_set_arg()), or NULL. */
void *sip_tx_arg(const struct sip_tx *tx);

/** The INVITE server transaction a CANCEL transaction matched, or NULL. */
struct sip_tx *sip_tx_cancel_target(const struct sip_tx *cancel_st);

enum sip_tx_kind sip_tx_kind(const struct sip_tx *tx);
enum sip_tx_state sip_tx_state(const struct sip_tx *tx);
/**
 * The request that created the transaction (borrowed), or NULL once the
 * transaction lingers (Completed, Confirmed, Accepted): then it keeps only
 * what matching needs, so a TU that wants the request later holds its
 * own reference.
 */
struct sip_msg *sip_tx_request(const struct sip_tx *tx);
/** Where the request came from (server transactions). */
const struct tp_source *sip_tx_source(const struct sip_tx *tx);
/** The last final status sent (server) or received (client), or 0. */
uint16_t sip_tx_final_status(const struct sip_tx *tx);

#endif /* DUET_SIP_TX_H */
