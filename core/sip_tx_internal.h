/* SPDX-License-Identifier: MIT */
/* The transaction layer's private structures, shared by sip_tx*.c. */
#ifndef DUET_CORE_SIP_TX_INTERNAL_H
#define DUET_CORE_SIP_TX_INTERNAL_H

#include "duet/alloc.h"
#include "duet/sip_build.h"
#include "duet/sip_tx.h"

#include <stddef.h>
#include <string.h>

/* The match tables start with this many buckets (a power of two) and
 * double whenever live transactions outnumber the buckets. */
#define TXL_BUCKETS_MIN 1024

/* The fields of a request matching compares (§17.1.3, §17.2.3,
 * §8.2.2.2): a view of the request, or of its tx_kept. */
struct tx_match {
	struct slice branch, via_host, via_raw, method, call_id, from_tag,
		to_tag, ruri;
	uint16_t via_port;
	uint32_t cseq;
};

/* The tx_match slices, in the order tx_kept stores them. */
enum tx_kept_field {
	TXK_BRANCH = 0,
	TXK_VIA_HOST,
	TXK_VIA_RAW,
	TXK_METHOD,
	TXK_CALL_ID,
	TXK_FROM_TAG,
	TXK_TO_TAG,
	TXK_RURI,
	TXK_COUNT
};

/*
 * What a transaction keeps of its request once it only lingers
 * (Completed, Confirmed, Accepted: up to 64*T1 on UDP): the parsed
 * request (kilobytes) is let go and the tx_match fields stay, their
 * strings right after this header in field order.
 */
struct tx_kept {
	uint16_t len[TXK_COUNT];
	uint16_t absent; /* bit per field: NULL, not empty (tags, branch) */
	uint16_t via_port;
	uint32_t cseq;
};

/*
 * A transaction. The fields before `req` are all a compacted one keeps:
 * once it only lingers and the TU has let go of it (tx_slim), it moves
 * into one block of offsetof(struct sip_tx, req) bytes followed by its
 * tx_kept and the response or ACK it may still resend. Code
 * that can run on a lingering transaction reads the fields after `req`
 * only when !tx->slim (tx_req(), tx_retx_cancel()).
 */
struct sip_tx {
	struct txl *l;
	struct sip_tx *next;	   /* bucket chain */
	struct sip_tx *merge_next; /* §8.2.2.2 index chain */
	uint32_t key;		   /* bucket hash */
	uint32_t merge_key;
	enum sip_tx_kind kind;
	enum sip_tx_state state;
	bool in_merge;
	bool reliable;
	bool ended;
	bool pending_error;
	bool let_go;   /* the TU holds no pointer to it (sip_tx_let_go) */
	bool slim;     /* compacted: the fields after `req` do not exist */
	unsigned hold; /* callbacks in progress */
	struct slice branch;  /* top Via branch (into req or kept) */
	struct tx_kept *kept; /* set when req is let go (tx_compact) */
	struct tp_dest dest;  /* where this transaction sends (conn ref) */
	char *resp;	      /* server: the last response kept */
	size_t resp_len;
	uint16_t resp_code;
	uint16_t final_status;
	char *ack; /* ICT: the ACK of a non-2xx final */
	size_t ack_len;
	struct wheel_timer life;
	enum sip_tx_event life_ev;
	void *arg;
	/* only while not slim */
	struct sip_msg *req; /* the request (ref); NULL once compacted */
	char *sent;	     /* client: the bytes of a request given as such
				(sip_tx_client_send: no req), until it lingers */
	size_t sent_len;
	struct tp_source src;	    /* server: where it came from (conn ref) */
	struct sip_via_stamp stamp; /* server: received/rport for responses */
	char received[48];
	struct wheel_timer retx;
	enum sip_tx_event retx_ev;
	uint32_t retx_interval;
	struct sip_tx *cancel_target; /* during the CANCEL's request callback */
};

#define TX_SLIM_SIZE offsetof(struct sip_tx, req)

/* The bytes of the request, while it may be retransmitted: the parsed
 * request's, or those given (sip_tx_client_send); else NULL. */
static inline const char *tx_req_bytes(const struct sip_tx *tx, size_t *len)
{
	if (tx->slim)
		return NULL;
	if (tx->req) {
		*len = tx->req->len;
		return tx->req->buf;
	}
	*len = tx->sent_len;
	return tx->sent;
}

/* The request, or NULL once compacted (or slim). */
static inline struct sip_msg *tx_req(const struct sip_tx *tx)
{
	return tx->slim ? NULL : tx->req;
}

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
	const struct tp_source *rx_src; /* of the message being matched */
	uint32_t mask;			/* bucket count - 1, for both tables */
	/* slim transactions (tx_slim), by how long they linger: T4 (I, K)
	 * or 64*T1 (J, L, M), so each arena's blocks end in about the order
	 * they were made */
	struct duet_fifo slim_fifo[2];
};

struct sip_tx *tx_alloc(struct txl *l, enum sip_tx_kind kind,
			struct sip_msg *req);
void tx_start(struct sip_tx *tx);
void tx_step(struct sip_tx *tx, enum sip_tx_event ev, struct sip_msg *msg,
	     const char *out, size_t out_len);
void tx_event(struct sip_tx *tx, enum sip_tx_event ev, struct sip_msg *msg);
void tx_hold(struct sip_tx *tx);
void tx_flush_error(struct sip_tx *tx);
void tx_release(struct sip_tx *tx);
void tx_send_ack(struct sip_tx *tx, const struct sip_msg *resp);
void txl_unlink(struct txl *l, struct sip_tx *tx);
/* Replace tx->req by its tx_kept (no-op on allocation failure). */
void tx_compact(struct sip_tx *tx);
/* The fields matching compares, from the request or its tx_kept. */
void tx_match_view(const struct sip_tx *tx, struct tx_match *out);
/* Move a lingering transaction the TU let go of into a compact block
 * (no-op when it is not one, or on allocation failure). */
void tx_slim(struct sip_tx *tx);
/* Free a transaction that was never linked (no callbacks). */
void tx_discard(struct sip_tx *tx);

#endif
