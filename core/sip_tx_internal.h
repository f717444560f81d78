/* SPDX-License-Identifier: MIT */
/* The transaction layer's private structures, shared by sip_tx*.c. */
#ifndef DUET_CORE_SIP_TX_INTERNAL_H
#define DUET_CORE_SIP_TX_INTERNAL_H

#include "duet/sip_build.h"
#include "duet/sip_tx.h"

#include <string.h>

/* The match tables start with this many buckets (a power of two) and
 * double whenever live transactions outnumber the buckets. */
#define TXL_BUCKETS_MIN 1024

/*
 * What matching needs of a request once its transaction only lingers
 * (Completed, Confirmed, Accepted: up to 64*T1 on UDP): the parsed
 * request (kilobytes) is let go and these copies stay (§17.1.3, §17.2.3,
 * §8.2.2.2). The strings live in the same allocation.
 */
struct tx_match {
	struct slice branch, via_host, via_raw, method, call_id, from_tag,
		to_tag, ruri;
	uint16_t via_port;
	uint32_t cseq;
};

struct sip_tx {
	struct txl *l;
	struct sip_tx *next;	   /* bucket chain */
	struct sip_tx *merge_next; /* §8.2.2.2 index chain */
	uint32_t key;		   /* bucket hash */
	uint32_t merge_key;
	bool in_merge;
	enum sip_tx_kind kind;
	enum sip_tx_state state;
	struct sip_msg *req;	/* the request (ref); NULL once compacted */
	struct tx_match *match; /* set when req is let go (tx_compact) */
	struct tp_source src;	/* server: where it came from (conn ref) */
	struct tp_dest dest;	/* where this transaction sends (conn ref) */
	struct sip_via_stamp stamp; /* server: received/rport for responses */
	char received[48];
	bool reliable;
	struct slice branch; /* top Via branch (points into req) */
	char *resp;	     /* server: the last response sent */
	size_t resp_len;
	uint16_t resp_code;
	uint16_t final_status;
	char *ack; /* ICT: the ACK of a non-2xx final */
	size_t ack_len;
	struct wheel_timer retx, life;
	enum sip_tx_event retx_ev, life_ev;
	uint32_t retx_interval;
	void *arg;
	struct sip_tx *cancel_target; /* during the CANCEL's request callback */
	unsigned hold;		      /* callbacks in progress */
	bool ended;
	bool pending_error;
};

struct txl {
	struct txl_config cfg;
	struct wheel *wheel;
	txl_send_fn *send;
	void *send_arg;
	const struct txl_ops *ops;
	void *arg;
	struct txl_stats stats;
	struct sip_tx **buckets; /* by server or client key */
	struct sip_tx **merge;	 /* §8.2.2.2 merge detection, by merge key */
	uint32_t mask;		 /* bucket count - 1, for both tables */
};

struct sip_tx *tx_alloc(struct txl *l, enum sip_tx_kind kind,
			struct sip_msg *req);
void tx_start(struct sip_tx *tx);
void tx_step(struct sip_tx *tx, enum sip_tx_event ev, struct sip_msg *msg);
void tx_event(struct sip_tx *tx, enum sip_tx_event ev, struct sip_msg *msg);
void tx_hold(struct sip_tx *tx);
void tx_flush_error(struct sip_tx *tx);
void tx_release(struct sip_tx *tx);
void tx_send_ack(struct sip_tx *tx, const struct sip_msg *resp);
void txl_unlink(struct txl *l, struct sip_tx *tx);
/* Replace tx->req by its tx_match (no-op on allocation failure). */
void tx_compact(struct sip_tx *tx);
/* The fields matching compares, from the request or its tx_match. */
void tx_match_view(const struct sip_tx *tx, struct tx_match *out);
/* Free a transaction that was never linked (no callbacks). */
void tx_discard(struct sip_tx *tx);

#endif
