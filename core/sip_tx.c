/* SPDX-License-Identifier: MIT */
/*
 * The transaction engine (RFC 3261 §17, RFC 6026): one function applies a
 * table row (tx_step) and one writes the state and its timers (tx_enter).
 * Matching lives in sip_tx_match.c.
 */
#include "sip_tx_internal.h"

#include "duet/alloc.h"
#include "duet/err.h"
#include "duet/sip_build.h"

void txl_config_default(struct txl_config *cfg)
{
	cfg->timers = SIP_TX_TIMERS_DEFAULT;
	cfg->max_transactions = 500000;
	cfg->linger_grain_ms = 128;
}

static void on_retx_timer(struct wheel_timer *t, void *arg);
static void on_life_timer(struct wheel_timer *t, void *arg);

int txl_new(struct txl **out, struct wheel *wheel, const struct txl_config *cfg,
	    txl_send_fn *send, void *send_arg, const struct txl_ops *ops,
	    void *arg)
{
	struct txl *l;

	if (!wheel || !send || !ops)
		return EINVAL;
	l = duet_calloc(1, sizeof(*l));
	if (!l)
		return ENOMEM;
	if (cfg)
		l->cfg = *cfg;
	else
		txl_config_default(&l->cfg);
	if (l->cfg.timers.t1 == 0 || l->cfg.timers.t2 < l->cfg.timers.t1) {
		duet_free(l);
		return EINVAL;
	}
	l->mask = TXL_BUCKETS_MIN - 1;
	l->buckets = duet_calloc(TXL_BUCKETS_MIN, sizeof(*l->buckets));
	l->merge = duet_calloc(TXL_BUCKETS_MIN, sizeof(*l->merge));
	if (!l->buckets || !l->merge) {
		duet_free(l->buckets);
		duet_free(l->merge);
		duet_free(l);
		return ENOMEM;
	}
	l->wheel = wheel;
	l->send = send;
	l->send_arg = send_arg;
	l->ops = ops;
	l->arg = arg;
	*out = l;
	return 0;
}

static void tx_free(struct sip_tx *tx)
{
	wheel_timer_cancel(&tx->life);
	tp_conn_unref(tx->dest.conn);
	if (!tx->slim) { /* a slim one holds its kept, resp and ACK inline */
		wheel_timer_cancel(&tx->retx);
		sip_msg_unref(tx->req);
		duet_free(tx->sent);
		duet_free(tx->kept);
		tp_conn_unref(tx->src.conn);
		duet_free(tx->resp);
		duet_free(tx->ack);
		duet_free(tx);
		return;
	}
	duet_fifo_free(tx);
}

void tx_discard(struct sip_tx *tx)
{
	tx_free(tx);
}

void txl_free(struct txl *l)
{
	if (!l)
		return;
	for (uint32_t i = 0; i <= l->mask; i++) {
		while (l->buckets[i]) {
			struct sip_tx *tx = l->buckets[i];

			l->buckets[i] = tx->next;
			tx_free(tx);
		}
	}
	txl_trim(l);
	duet_free(l->buckets);
	duet_free(l->merge);
	duet_free(l);
}

void txl_stats(const struct txl *l, struct txl_stats *out)
{
	*out = l->stats;
}

void txl_trim(struct txl *l)
{
	duet_fifo_release(&l->slim_fifo[0]);
	duet_fifo_release(&l->slim_fifo[1]);
}

/* A slim transaction has no retransmission timer (it lingers). */
static void tx_retx_cancel(struct sip_tx *tx)
{
	if (!tx->slim)
		wheel_timer_cancel(&tx->retx);
}

/* Send through the layer's send function; count failures. */
static int tx_send(struct sip_tx *tx, const char *buf, size_t len)
{
	int err = tx->l->send(&tx->dest, buf, len, tx->l->send_arg);

	if (err)
		tx->l->stats.transport_errors++;
	return err;
}

/* 64*T1: Timers B, F, H, J, L, M (§17, RFC 6026 §8) */
static uint32_t t64(const struct sip_tx *tx)
{
	return 64u * tx->l->cfg.timers.t1;
}

static void start_retx(struct sip_tx *tx, enum sip_tx_event ev, uint32_t ms)
{
	tx->retx_ev = ev;
	tx->retx_interval = ms;
	wheel_timer_start(tx->l->wheel, &tx->retx, ms);
}

static void start_life(struct sip_tx *tx, enum sip_tx_event ev, uint32_t ms)
{
	tx->life_ev = ev;
	wheel_timer_start(tx->l->wheel, &tx->life, ms);
}

/*
 * Timers D, I, J, K, L and M only end a transaction that lingers to absorb
 * retransmissions: the RFC's durations are minimums, so they fire on the
 * next linger_grain_ms boundary after them. Transactions ending within
 * the same 128 ms then cost one wakeup of the process, not one each (at
 * 1000 calls/s that was most of duet's wakeups once calls ended).
 */
static void start_linger(struct sip_tx *tx, enum sip_tx_event ev, uint32_t ms)
{
	tx->life_ev = ev;
	if (ms)
		wheel_timer_start_coarse(tx->l->wheel, &tx->life, ms,
					 tx->l->cfg.linger_grain_ms);
	else
		wheel_timer_start(tx->l->wheel, &tx->life, 0);
}

/*
 * The only function that writes tx->state. Entering a state starts the
 * timers the RFC names for it and stops the ones it leaves behind.
 */
static void tx_enter(struct sip_tx *tx, enum sip_tx_state next)
{
	const struct sip_tx_timers *t = &tx->l->cfg.timers;
	bool udp = !tx->reliable;

	if (next == tx->state)
		return;
	tx->state = next;
	switch (next) {
	case TXS_PROCEEDING:
		if (tx->kind == SIP_TX_ICT) { /* A and B stop (§17.1.1.2) */
			tx_retx_cancel(tx);
			wheel_timer_cancel(&tx->life);
		}
		/* NICT keeps E and F; it moves E to T2 when E next fires */
		break;
	case TXS_COMPLETED:
		tx_retx_cancel(tx);
		if (tx->kind == SIP_TX_ICT) /* D: >= 32 s on UDP (§17.1.1.2) */
			start_linger(tx, TXE_TIMER_D, udp ? 32000 : 0);
		else if (tx->kind == SIP_TX_NICT) /* K: T4 (§17.1.2.2) */
			start_linger(tx, TXE_TIMER_K, udp ? t->t4 : 0);
		else if (tx->kind == SIP_TX_IST) { /* G and H (§17.2.1) */
			if (udp)
				start_retx(tx, TXE_TIMER_G, t->t1);
			start_life(tx, TXE_TIMER_H, t64(tx));
		} else /* J: 64*T1 on UDP (§17.2.2) */
			start_linger(tx, TXE_TIMER_J, udp ? t64(tx) : 0);
		break;
	case TXS_CONFIRMED: /* I: T4 on UDP (§17.2.1) */
		tx_retx_cancel(tx);
		start_linger(tx, TXE_TIMER_I, udp ? t->t4 : 0);
		break;
	case TXS_ACCEPTED: /* L (IST) and M (ICT), RFC 6026 §8.4, §8.7 */
		tx_retx_cancel(tx);
		start_linger(tx,
			     tx->kind == SIP_TX_ICT ? TXE_TIMER_M : TXE_TIMER_L,
			     t64(tx));
		break;
	case TXS_TERMINATED:
		tx_retx_cancel(tx);
		wheel_timer_cancel(&tx->life);
		break;
	default:
		break;
	}
}

/* The next interval of a retransmission timer (§17.1.1.2, §17.1.2.2,
 * §17.2.1): A doubles without a cap (B bounds it); E doubles up to T2,
 * and is T2 once Proceeding; G doubles up to T2. */
static uint32_t next_interval(const struct sip_tx *tx)
{
	uint32_t t2 = tx->l->cfg.timers.t2, n = tx->retx_interval * 2;

	if (tx->retx_ev == TXE_TIMER_A)
		return n;
	if (tx->retx_ev == TXE_TIMER_E && tx->state == TXS_PROCEEDING)
		return t2;
	return n < t2 ? n : t2;
}

static void send_100(struct sip_tx *tx)
{
	struct sip_writer w;

	if (tx->resp_code || !tx->req) /* the TU already answered something */
		return;
	sip_writer_init(&w, 512);
	sip_build_response_head_stamped(&w, tx->req, 100, SLICE_NULL,
					SLICE_NULL, &tx->stamp);
	if (sip_build_finish(&w, SLICE_NULL, SLICE_NULL) == 0) {
		tx->resp = sip_writer_steal(&w, &tx->resp_len);
		tx->resp_code = 100;
		if (tx_send(tx, tx->resp, tx->resp_len))
			tx->pending_error = true;
	} else {
		sip_writer_free(&w);
	}
}

static void tx_end(struct sip_tx *tx, int err)
{
	struct txl *l = tx->l;

	if (tx->ended)
		return;
	tx->ended = true;
	tx_enter(tx, TXS_TERMINATED);
	if (err == ETIMEDOUT)
		l->stats.timed_out++;
	else if (err == 0)
		l->stats.completed++;
	if (l->ops->ended)
		l->ops->ended(tx, err, tx->arg);
	txl_unlink(l, tx);
	if (tx->hold == 0)
		tx_free(tx);
}

/* Keep tx alive across a callback that might end it. */
void tx_hold(struct sip_tx *tx)
{
	tx->hold++;
}

/* The last release frees an ended transaction, and compacts one that
 * lingers once the TU let go of it. */
void tx_release(struct sip_tx *tx)
{
	if (--tx->hold)
		return;
	if (tx->ended)
		tx_free(tx);
	else
		tx_slim(tx);
}

/*
 * Apply the table row for (state, event). msg is the response (client
 * events) or ACK (TXE_ACK) that caused the event, else NULL. out, when not
 * NULL, is what a TXA_SEND sends instead of the kept response: the TU's
 * 2xx, which an INVITE server transaction does not keep (RFC 6026 §7.1).
 */
void tx_step(struct sip_tx *tx, enum sip_tx_event ev, struct sip_msg *msg,
	     const char *out, size_t out_len)
{
	struct txl *l = tx->l;
	struct sip_tx_rule r = sip_tx_rule(tx->kind, tx->state, ev);
	enum sip_tx_state before = tx->state;
	size_t req_len = 0;
	const char *req_bytes;

	if (r.action & TXA_INVALID) {
		l->stats.invalid_events++;
		return;
	}
	tx_hold(tx);
	if (r.action & TXA_ABSORB)
		l->stats.retransmissions_absorbed++;
	if ((r.action & TXA_SEND) &&
	    (out ? tx_send(tx, out, out_len)
		 : tx_send(tx, tx->resp, tx->resp_len)))
		tx->pending_error = true;
	req_bytes = r.action & TXA_RETX_REQ ? tx_req_bytes(tx, &req_len) : NULL;
	if (req_bytes) {
		if (tx_send(tx, req_bytes, req_len) == 0)
			l->stats.retransmissions_sent++;
		else
			tx->pending_error = true; /* §17.1.4 */
	}
	if ((r.action & TXA_RETX_RESP) && tx->resp) {
		if (tx_send(tx, tx->resp, tx->resp_len) == 0)
			l->stats.retransmissions_sent++;
		else
			tx->pending_error = true;
	}
	if (r.action & TXA_SEND_ACK)
		tx_send_ack(tx, msg);
	if (r.action & TXA_SEND_100)
		send_100(tx);
	if (msg && (r.action & TXA_PASS) && !tx->ended) {
		if (msg->is_request) {
			if (l->ops->ack)
				l->ops->ack(l, msg, l->rx_src, l->arg);
		} else if (l->ops->response) {
			l->ops->response(tx, msg, tx->arg);
		}
	}
	if (!tx->ended) {
		tx_enter(tx, (enum sip_tx_state)r.next);
		/* lingering: only matching needs the request now (one the
		 * TU let go of is compacted into its slim block instead, at
		 * the release that ends this step) */
		if ((tx->state == TXS_COMPLETED || tx->state == TXS_CONFIRMED ||
		     tx->state == TXS_ACCEPTED) &&
		    !tx->let_go)
			tx_compact(tx);
		/* a retransmission timer that fired and stays: next interval */
		if (tx->state == before &&
		    (ev == TXE_TIMER_A || ev == TXE_TIMER_E ||
		     ev == TXE_TIMER_G))
			start_retx(tx, ev, next_interval(tx));
		if (r.action & TXA_TIMEOUT)
			tx_end(tx, ETIMEDOUT);
		else if ((r.action & TXA_TP_ERROR) &&
			 tx->state == TXS_TERMINATED)
			tx_end(tx, EPIPE);
		else if (r.action & TXA_TP_ERROR) {
			if (l->ops->transport_error)
				l->ops->transport_error(tx, EPIPE, tx->arg);
		} else if (tx->state == TXS_TERMINATED)
			tx_end(tx, 0);
	}
	tx_release(tx);
}

/* A send failure noticed inside an action becomes its own event. */
void tx_flush_error(struct sip_tx *tx)
{
	if (tx->pending_error && !tx->ended) {
		tx->pending_error = false;
		tx_step(tx, TXE_TP_ERROR, NULL, NULL, 0);
	}
}

void tx_event(struct sip_tx *tx, enum sip_tx_event ev, struct sip_msg *msg)
{
	tx_hold(tx);
	tx_step(tx, ev, msg, NULL, 0);
	tx_flush_error(tx);
	tx_release(tx);
}

static void on_retx_timer(struct wheel_timer *t, void *arg)
{
	struct sip_tx *tx = arg;

	(void)t;
	tx_event(tx, tx->retx_ev, NULL);
}

static void on_life_timer(struct wheel_timer *t, void *arg)
{
	struct sip_tx *tx = arg;

	(void)t;
	tx_event(tx, tx->life_ev, NULL);
}

struct sip_tx *tx_alloc(struct txl *l, enum sip_tx_kind kind,
			struct sip_msg *req)
{
	struct sip_tx *tx;

	if (l->stats.live >= l->cfg.max_transactions)
		return NULL;
	tx = duet_calloc(1, sizeof(*tx));
	if (!tx)
		return NULL;
	tx->l = l;
	tx->kind = kind;
	tx->req = req ? sip_msg_ref(req) : NULL;
	tx->state = kind == SIP_TX_ICT	 ? TXS_CALLING
		    : kind == SIP_TX_IST ? TXS_PROCEEDING
					 : TXS_TRYING;
	wheel_timer_init(&tx->retx, on_retx_timer, tx);
	wheel_timer_init(&tx->life, on_life_timer, tx);
	l->stats.created[kind]++;
	return tx;
}

/* Start the timers of a new transaction's first state. */
void tx_start(struct sip_tx *tx)
{
	const struct sip_tx_timers *t = &tx->l->cfg.timers;

	switch (tx->kind) {
	case SIP_TX_ICT: /* A on UDP, B (§17.1.1.2) */
		if (!tx->reliable)
			start_retx(tx, TXE_TIMER_A, t->t1);
		start_life(tx, TXE_TIMER_B, t64(tx));
		break;
	case SIP_TX_NICT: /* E on UDP, F (§17.1.2.2) */
		if (!tx->reliable)
			start_retx(tx, TXE_TIMER_E, t->t1);
		start_life(tx, TXE_TIMER_F, t64(tx));
		break;
	case SIP_TX_IST: /* 100 Trying when the TU is slow (§17.2.1) */
		if (t->trying)
			start_retx(tx, TXE_TIMER_TRYING, t->trying);
		else
			send_100(tx);
		break;
	default:
		break;
	}
}

int sip_tx_reply(struct sip_tx *st, uint16_t code, const char *buf, size_t len)
{
	enum sip_tx_event ev;
	char *copy = NULL;
	int err = 0;

	if ((st->kind != SIP_TX_IST && st->kind != SIP_TX_NIST) || code < 100 ||
	    code > 699 || st->ended)
		return EINVAL;
	ev = code < 200 ? TXE_TU_1XX : code < 300 ? TXE_TU_2XX : TXE_TU_FINAL;
	if (sip_tx_rule(st->kind, st->state, ev).action & TXA_INVALID)
		return EINVAL;
	/* RFC 6026 §7.1, §8.7: an INVITE server transaction passes a 2xx to the
	 * transport and keeps nothing; the TU retransmits it (§13.3.1.4)
	 * from its own copy. Other responses are kept: the transaction
	 * sends them again itself (§17.2.1, §17.2.2). */
	if (st->kind != SIP_TX_IST || ev != TXE_TU_2XX) {
		copy = duet_malloc(len ? len : 1);
		if (!copy)
			return ENOMEM;
		memcpy(copy, buf, len);
	}
	duet_free(st->resp);
	st->resp = copy;
	st->resp_len = copy ? len : 0;
	st->resp_code = code;
	if (code >= 200)
		st->final_status = code;
	if (st->retx_ev == TXE_TIMER_TRYING)
		wheel_timer_cancel(&st->retx);
	tx_hold(st);
	tx_step(st, ev, NULL, copy ? NULL : buf, copy ? 0 : len);
	if (st->pending_error)
		err = EPIPE;
	tx_flush_error(st);
	tx_release(st);
	return err;
}

void sip_tx_let_go(struct sip_tx *tx, void *tx_arg)
{
	tx->arg = tx_arg;
	tx->let_go = true;
	if (tx->hold == 0)
		tx_slim(tx);
}

const struct sip_via_stamp *sip_tx_via_stamp(const struct sip_tx *st)
{
	return &st->stamp;
}

void *sip_tx_arg(const struct sip_tx *tx)
{
	return tx->arg;
}

void sip_tx_set_arg(struct sip_tx *tx, void *tx_arg)
{
	tx->arg = tx_arg;
}

struct sip_tx *sip_tx_cancel_target(const struct sip_tx *cancel_st)
{
	return cancel_st->cancel_target;
}

enum sip_tx_kind sip_tx_kind(const struct sip_tx *tx)
{
	return tx->kind;
}

enum sip_tx_state sip_tx_state(const struct sip_tx *tx)
{
	return tx->state;
}

struct sip_msg *sip_tx_request(const struct sip_tx *tx)
{
	return tx_req(tx);
}

const struct tp_source *sip_tx_source(const struct sip_tx *tx)
{
	return &tx->src;
}

uint16_t sip_tx_final_status(const struct sip_tx *tx)
{
	return tx->final_status;
}
