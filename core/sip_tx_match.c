/* SPDX-License-Identifier: MIT */
/*
 * Matching messages to transactions (RFC 3261 §17.1.3, §17.2.3, §9.2,
 * §8.2.2.2), creating transactions, and the ACK of a non-2xx final
 * (§17.1.1.3).
 */
#include "sip_tx_internal.h"

#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"
#include "duet/sip_build.h"

#define MAGIC_COOKIE "z9hG4bK"

static uint32_t hash_bytes(uint32_t h, struct slice s)
{
	for (size_t i = 0; i < s.len; i++)
		h = (h ^ (unsigned char)s.p[i]) * 16777619u;
	return h;
}

/* Case-folded, for host names. */
static uint32_t hash_fold(uint32_t h, struct slice s)
{
	for (size_t i = 0; i < s.len; i++)
		h = (h ^ ((unsigned char)s.p[i] | 0x20u)) * 16777619u;
	return h;
}

static bool has_cookie(struct slice branch)
{
	return branch.len > 7 && memcmp(branch.p, MAGIC_COOKIE, 7) == 0;
}

/* The method a request matches transactions by: an ACK matches the
 * INVITE it acknowledges (§17.2.3). */
static struct slice match_method(const struct sip_msg *m)
{
	return m->method == SIP_METHOD_ACK ? SLICE_LIT("INVITE")
					   : m->cseq_method_text;
}

static uint32_t server_key(const struct sip_msg *m, struct slice method)
{
	const struct sip_via *v = &m->vias[0];
	uint32_t h = 2166136261u;

	if (has_cookie(v->branch)) {
		h = hash_bytes(h, v->branch);
		h = hash_fold(h, v->host);
		h ^= v->port;
	} else { /* RFC 2543: Call-ID and CSeq number */
		h = hash_bytes(h, m->call_id);
		h ^= m->cseq;
	}
	return hash_bytes(h * 31u, method);
}

static uint32_t client_key(struct slice branch, struct slice method)
{
	return hash_bytes(hash_bytes(2166136261u, branch) * 31u, method);
}

static uint32_t merge_key(const struct sip_msg *m)
{
	uint32_t h = hash_bytes(2166136261u, m->call_id);

	h = hash_bytes(h, m->from.tag);
	h ^= m->cseq;
	return hash_bytes(h, m->cseq_method_text);
}

/* §17.2.3: does request m (with match method `method`) belong to st? */
static bool server_matches(const struct sip_tx *st, const struct sip_msg *m,
			   struct slice method)
{
	const struct sip_via *a = &m->vias[0];
	struct tx_match r;

	if (st->kind != SIP_TX_IST && st->kind != SIP_TX_NIST)
		return false;
	tx_match_view(st, &r);
	if (!slice_eq(method, r.method))
		return false;
	if (has_cookie(a->branch))
		return slice_eq(a->branch, r.branch) &&
		       slice_caseeq(a->host, r.via_host) &&
		       a->port == r.via_port;
	/* RFC 2543 fallback (§17.2.3): Request-URI, tags, Call-ID, CSeq
	 * number and top Via; an ACK's To tag is the one of our response,
	 * so it is not compared */
	return !has_cookie(r.branch) && slice_eq(m->call_id, r.call_id) &&
	       m->cseq == r.cseq && slice_eq(m->from.tag, r.from_tag) &&
	       (m->method == SIP_METHOD_ACK || slice_eq(m->to.tag, r.to_tag)) &&
	       slice_eq(m->ruri.raw, r.ruri) && slice_eq(a->raw, r.via_raw);
}

/* The tx_match slices in tx_kept order. */
static struct slice *match_field(struct tx_match *m, unsigned i)
{
	struct slice *f[TXK_COUNT] = {
		[TXK_BRANCH] = &m->branch,   [TXK_VIA_HOST] = &m->via_host,
		[TXK_VIA_RAW] = &m->via_raw, [TXK_METHOD] = &m->method,
		[TXK_CALL_ID] = &m->call_id, [TXK_FROM_TAG] = &m->from_tag,
		[TXK_TO_TAG] = &m->to_tag,   [TXK_RURI] = &m->ruri,
	};

	return f[i];
}

/* The size of the tx_kept of v, or 0 when a field is too long for it. */
static size_t kept_size(struct tx_match *v)
{
	size_t n = sizeof(struct tx_kept);

	for (unsigned i = 0; i < TXK_COUNT; i++) {
		if (match_field(v, i)->len > UINT16_MAX)
			return 0;
		n += match_field(v, i)->len;
	}
	return n;
}

/* Write v as a tx_kept at k (kept_size(v) bytes). */
static void kept_write(struct tx_kept *k, struct tx_match *v)
{
	char *at = (char *)(k + 1);

	*k = (struct tx_kept){ .via_port = v->via_port, .cseq = v->cseq };
	for (unsigned i = 0; i < TXK_COUNT; i++) {
		struct slice f = *match_field(v, i);

		k->len[i] = (uint16_t)f.len;
		if (!f.p)
			k->absent |= (uint16_t)(1u << i);
		else if (f.len)
			memcpy(at, f.p, f.len);
		at += f.len;
	}
}

static void kept_view(const struct tx_kept *k, struct tx_match *out)
{
	const char *at = (const char *)(k + 1);

	out->via_port = k->via_port;
	out->cseq = k->cseq;
	for (unsigned i = 0; i < TXK_COUNT; i++) {
		/* NULL stays NULL, empty stays empty: has_cookie and the
		 * tags tell them apart */
		*match_field(out, i) = k->absent & (1u << i)
					       ? SLICE_NULL
					       : slice_make(at, k->len[i]);
		at += k->len[i];
	}
}

/* kept_size() of the view k was written from. */
static size_t kept_bytes(const struct tx_kept *k)
{
	size_t n = sizeof(*k);

	for (unsigned i = 0; i < TXK_COUNT; i++)
		n += k->len[i];
	return n;
}

/* The kept branch (the first field) and method, without a whole view. */
static struct slice kept_branch(const struct tx_kept *k)
{
	return slice_make((const char *)(k + 1), k->len[TXK_BRANCH]);
}

static struct slice kept_method(const struct tx_kept *k)
{
	size_t off = 0;

	for (unsigned i = 0; i < TXK_METHOD; i++)
		off += k->len[i];
	return slice_make((const char *)(k + 1) + off, k->len[TXK_METHOD]);
}

void tx_match_view(const struct sip_tx *tx, struct tx_match *out)
{
	const struct sip_msg *r = tx_req(tx);

	if (!r) {
		kept_view(tx->kept, out);
		return;
	}
	*out = (struct tx_match){ .branch = r->vias[0].branch,
				  .via_host = r->vias[0].host,
				  .via_raw = r->vias[0].raw,
				  .method = r->cseq_method_text,
				  .call_id = r->call_id,
				  .from_tag = r->from.tag,
				  .to_tag = r->to.tag,
				  .ruri = r->ruri.raw,
				  .via_port = r->vias[0].port,
				  .cseq = r->cseq };
}

/* What tx (not compacted yet) keeps of its request; its kept_size(). */
static size_t keep_view(const struct sip_tx *tx, struct tx_match *v)
{
	tx_match_view(tx, v);
	/* the RFC 2543 fallback compares more of the request */
	if (has_cookie(v->branch))
		v->via_raw = v->to_tag = v->ruri = SLICE_NULL;
	return kept_size(v);
}

void tx_compact(struct sip_tx *tx)
{
	struct tx_match v;
	struct tx_kept *k;
	size_t n;

	if (!tx_req(tx)) { /* given as bytes: kept from the start */
		if (!tx->slim) {
			duet_free(tx->sent);
			tx->sent = NULL;
		}
		return;
	}
	n = keep_view(tx, &v);
	k = n ? duet_malloc(n) : NULL;
	if (!k)
		return;
	kept_write(k, &v);
	tx->kept = k;
	tx->branch = kept_branch(k);
	sip_msg_unref(tx->req);
	tx->req = NULL;
}

/* Does tx only linger, absorbing retransmissions until a timer ends it? */
static bool lingers(const struct sip_tx *tx)
{
	switch (tx->kind) {
	case SIP_TX_IST: /* I (§17.2.1); L (RFC 6026 §8.7) */
		return tx->state == TXS_CONFIRMED || tx->state == TXS_ACCEPTED;
	case SIP_TX_ICT: /* D (§17.1.1.2); M (RFC 6026 §8.4) */
		return tx->state == TXS_COMPLETED || tx->state == TXS_ACCEPTED;
	default: /* J (§17.2.2), K (§17.1.2.2) */
		return tx->state == TXS_COMPLETED;
	}
}

/* Put s where tx is in a chain linked through the member at `off`. */
static void chain_replace(struct sip_tx **pp, size_t off, struct sip_tx *tx,
			  struct sip_tx *s)
{
	while (*pp && *pp != tx)
		pp = (struct sip_tx **)((char *)*pp + off);
	if (*pp)
		*pp = s;
}

/*
 * A transaction that lingers for up to 64*T1 (32 s on UDP: J, L, M) needs
 * only what matching compares and the bytes it may send again by itself:
 * the final response of a non-INVITE server transaction (§17.2.2) and
 * the ACK of an INVITE client transaction's non-2xx final (§17.1.1.3).
 * An INVITE server transaction in Confirmed or Accepted only absorbs
 * (§17.2.1, RFC 6026 §8.7), an INVITE client one in Accepted passes 2xx
 * retransmissions to its arg. Once the TU let go of it (so nobody holds
 * the old pointer), it moves into one block about a third of its size:
 * at 1000 calls/s that is 32,000 calls' worth of transactions.
 */
void tx_slim(struct sip_tx *tx)
{
	struct txl *l = tx->l;
	size_t kept_len, resp_len, ack_len;
	struct tx_match v;
	struct sip_tx *s;
	bool short_life;
	char *at;

	if (tx->slim || !tx->let_go || tx->hold || tx->ended ||
	    tx->pending_error || !lingers(tx) || wheel_timer_armed(&tx->retx))
		return;
	/* one let go as it started to linger was not compacted (tx_step):
	 * its tx_kept is written straight into the block */
	kept_len = tx->req ? keep_view(tx, &v) : kept_bytes(tx->kept);
	if (!kept_len)
		return;
	resp_len = tx->kind == SIP_TX_NIST && tx->resp ? tx->resp_len : 0;
	ack_len = tx->kind == SIP_TX_ICT && tx->ack ? tx->ack_len : 0;
	/* Timer I or K (T4) or J, L, M (64*T1): the same on UDP or not */
	short_life = (tx->kind == SIP_TX_IST && tx->state == TXS_CONFIRMED) ||
		     tx->kind == SIP_TX_NICT;
	s = duet_fifo_alloc(&l->slim_fifo[short_life],
			    TX_SLIM_SIZE + kept_len + resp_len + ack_len);
	if (!s)
		return;
	memcpy(s, tx, TX_SLIM_SIZE);
	s->slim = true;
	at = (char *)s + TX_SLIM_SIZE; /* aligned: `req` is a pointer */
	s->kept = (struct tx_kept *)(void *)at;
	if (tx->req)
		kept_write(s->kept, &v);
	else
		memcpy(s->kept, tx->kept, kept_len);
	s->branch = kept_branch(s->kept);
	at += kept_len;
	s->resp = resp_len ? memcpy(at, tx->resp, resp_len) : NULL;
	s->resp_len = resp_len;
	s->ack = ack_len ? memcpy(at + resp_len, tx->ack, ack_len) : NULL;
	s->ack_len = ack_len;
	wheel_timer_moved(&s->life, s);
	chain_replace(&l->buckets[tx->key & l->mask],
		      offsetof(struct sip_tx, next), tx, s);
	if (tx->in_merge)
		chain_replace(&l->merge[tx->merge_key & l->mask],
			      offsetof(struct sip_tx, merge_next), tx, s);
	/* s took the dest connection's reference */
	tp_conn_unref(tx->src.conn);
	sip_msg_unref(tx->req);
	duet_free(tx->sent);
	duet_free(tx->kept);
	duet_free(tx->resp);
	duet_free(tx->ack);
	duet_free(tx);
	l->stats.slimmed++;
}

static struct sip_tx *find_server(struct txl *l, const struct sip_msg *m,
				  struct slice method)
{
	uint32_t key = server_key(m, method);

	for (struct sip_tx *tx = l->buckets[key & l->mask]; tx; tx = tx->next) {
		if (tx->key == key && !tx->ended &&
		    server_matches(tx, m, method))
			return tx;
	}
	return NULL;
}

/* §17.1.3: the top Via branch and the CSeq method. */
static struct sip_tx *find_client(struct txl *l, const struct sip_msg *m)
{
	struct slice branch = m->vias[0].branch;
	uint32_t key = client_key(branch, m->cseq_method_text);

	for (struct sip_tx *tx = l->buckets[key & l->mask]; tx; tx = tx->next) {
		if (tx->key == key && !tx->ended &&
		    (tx->kind == SIP_TX_ICT || tx->kind == SIP_TX_NICT) &&
		    slice_eq(tx->branch, branch) &&
		    slice_eq(tx_req(tx) ? tx->req->cseq_method_text
					: kept_method(tx->kept),
			     m->cseq_method_text))
			return tx;
	}
	return NULL;
}

/* Double both tables; on allocation failure keep the old ones (longer
 * chains, still correct). */
static void grow_tables(struct txl *l)
{
	uint32_t n = (l->mask + 1) * 2, mask = n - 1;
	struct sip_tx **b = duet_calloc(n, sizeof(*b));
	struct sip_tx **m = duet_calloc(n, sizeof(*m));

	if (!b || !m) {
		duet_free(b);
		duet_free(m);
		return;
	}
	for (uint32_t i = 0; i <= l->mask; i++) {
		while (l->buckets[i]) {
			struct sip_tx *tx = l->buckets[i];

			l->buckets[i] = tx->next;
			tx->next = b[tx->key & mask];
			b[tx->key & mask] = tx;
		}
		while (l->merge[i]) {
			struct sip_tx *tx = l->merge[i];

			l->merge[i] = tx->merge_next;
			tx->merge_next = m[tx->merge_key & mask];
			m[tx->merge_key & mask] = tx;
		}
	}
	duet_free(l->buckets);
	duet_free(l->merge);
	l->buckets = b;
	l->merge = m;
	l->mask = mask;
}

static void link_tx(struct txl *l, struct sip_tx *tx, uint32_t key)
{
	struct sip_tx **b;

	if (l->stats.live > l->mask && l->mask < (1u << 30))
		grow_tables(l);
	b = &l->buckets[key & l->mask];

	tx->key = key;
	tx->next = *b;
	*b = tx;
	l->stats.live++;
}

void txl_unlink(struct txl *l, struct sip_tx *tx)
{
	struct sip_tx **pp = &l->buckets[tx->key & l->mask];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == tx) {
			*pp = tx->next;
			l->stats.live--;
			break;
		}
	}
	if (tx->in_merge) {
		pp = &l->merge[tx->merge_key & l->mask];
		for (; *pp; pp = &(*pp)->merge_next) {
			if (*pp == tx) {
				*pp = tx->merge_next;
				break;
			}
		}
		tx->in_merge = false;
	}
}

/* §8.2.2.2: a request without To tag whose From tag, Call-ID and CSeq
 * equal those of a transaction it did not match was merged upstream. */
static bool is_merged(struct txl *l, const struct sip_msg *m, uint32_t mk)
{
	for (struct sip_tx *tx = l->merge[mk & l->mask]; tx;
	     tx = tx->merge_next) {
		struct tx_match r;

		if (tx->merge_key != mk)
			continue;
		tx_match_view(tx, &r);
		if (slice_eq(r.call_id, m->call_id) &&
		    slice_eq(r.from_tag, m->from.tag) && r.cseq == m->cseq &&
		    slice_eq(r.method, m->cseq_method_text))
			return true;
	}
	return false;
}

/* A response sent without a transaction (482 to a merged request, 503
 * when no transaction can be created). */
static void reply_stateless(struct txl *l, const struct sip_msg *m,
			    const struct tp_dest *dest, uint16_t code)
{
	struct sip_writer w;

	sip_writer_init(&w, 512);
	sip_build_response_head(&w, m, code, SLICE_NULL, SLICE_LIT("duet"));
	if (code == 503)
		sip_build_header_id(&w, SIP_HDR_RETRY_AFTER, SLICE_LIT("5"));
	if (sip_build_finish(&w, SLICE_NULL, SLICE_NULL) == 0 &&
	    l->send(dest, w.buf, w.len, l->send_arg))
		l->stats.transport_errors++;
	sip_writer_free(&w);
}

static void response_dest(const struct sip_msg *m, const struct tp_source *src,
			  struct tp_dest *dest)
{
	/* a sent-by host name needs DNS (RFC 3263 §5); until then the
	 * source address is the best place to answer */
	if (tp_response_dest(&m->vias[0], src, dest))
		*dest = (struct tp_dest){ .proto = src->proto,
					  .remote = src->remote,
					  .conn = src->conn };
}

/* §18.2.1 and RFC 3581 §4: received when the sent-by host is not the
 * source address (or rport was asked), rport filled when asked bare. */
static void stamp_init(struct sip_tx *tx, const struct sip_msg *m,
		       const struct tp_source *src)
{
	const struct sip_via *v = &m->vias[0];
	struct slice host = v->host;
	bool ask_rport = v->has_rport && v->rport == 0;

	tp_addr_host(&src->remote, tx->received, sizeof(tx->received));
	if (host.len > 2 && host.p[0] == '[')
		host = slice_sub(host, 1, host.len - 2);
	if (ask_rport || !slice_caseeq(host, slice_cstr(tx->received)))
		tx->stamp.received = slice_cstr(tx->received);
	if (ask_rport)
		tx->stamp.rport = tp_addr_port(&src->remote);
}

static void new_server_tx(struct txl *l, struct sip_msg *m,
			  const struct tp_source *src)
{
	enum sip_tx_kind kind =
		m->method == SIP_METHOD_INVITE ? SIP_TX_IST : SIP_TX_NIST;
	bool no_tag = !m->to.tag.p;
	uint32_t mk = no_tag ? merge_key(m) : 0;
	bool merged = no_tag && is_merged(l, m, mk);
	struct sip_tx *tx;
	struct tp_dest dest;

	response_dest(m, src, &dest);
	tx = tx_alloc(l, kind, m);
	if (!tx) {
		reply_stateless(l, m, &dest, 503);
		return;
	}
	tx->src = *src;
	tp_conn_ref(src->conn);
	tx->dest = dest;
	tp_conn_ref(dest.conn);
	tx->reliable = src->proto != SIP_PROTO_UDP;
	tx->branch = m->vias[0].branch;
	stamp_init(tx, m, src);
	link_tx(l, tx, server_key(m, match_method(m)));
	if (no_tag && !merged) {
		struct sip_tx **b = &l->merge[mk & l->mask];

		tx->merge_key = mk;
		tx->merge_next = *b;
		*b = tx;
		tx->in_merge = true;
	}
	tx_hold(tx);
	if (merged) {
		struct sip_writer w;

		l->stats.merged_482++;
		sip_writer_init(&w, 512);
		sip_build_response_head_stamped(&w, m, 482, SLICE_NULL,
						SLICE_LIT("duet"), &tx->stamp);
		if (sip_build_finish(&w, SLICE_NULL, SLICE_NULL) == 0)
			sip_tx_reply(tx, 482, w.buf, w.len);
		sip_writer_free(&w);
	} else {
		tx_start(tx);
		tx_flush_error(tx); /* a 100 Trying that could not be sent */
		if (m->method == SIP_METHOD_CANCEL) /* §9.2 */
			tx->cancel_target =
				find_server(l, m, SLICE_LIT("INVITE"));
		if (l->ops->request && !tx->ended)
			l->ops->request(l, tx, m, src, l->arg);
		tx->cancel_target = NULL;
	}
	/* a TU that keeps a server transaction gives it an arg */
	if (!tx->arg)
		tx->let_go = true;
	tx_release(tx);
}

static void receive_request(struct txl *l, struct sip_msg *m,
			    const struct tp_source *src)
{
	struct sip_tx *tx = find_server(l, m, match_method(m));

	if (m->method == SIP_METHOD_ACK) {
		if (tx && tx->kind == SIP_TX_IST) {
			l->rx_src = src; /* for an ACK it passes on */
			tx_event(tx, TXE_ACK, m);
			l->rx_src = NULL;
		} else if (l->ops->ack) { /* ACK for a 2xx: end to end */
			l->ops->ack(l, m, src, l->arg);
		}
		return;
	}
	if (tx)
		tx_event(tx, TXE_REQ_RETX, NULL);
	else
		new_server_tx(l, m, src);
}

static void receive_response(struct txl *l, struct sip_msg *m,
			     const struct tp_source *src)
{
	struct sip_tx *tx = find_client(l, m);
	enum sip_tx_event ev;

	if (!tx) {
		l->stats.stray_responses++;
		if (l->ops->stray_response)
			l->ops->stray_response(l, m, src, l->arg);
		return;
	}
	ev = m->status < 200   ? TXE_RESP_1XX
	     : m->status < 300 ? TXE_RESP_2XX
			       : TXE_RESP_FINAL;
	if (sip_tx_rule(tx->kind, tx->state, ev).action & TXA_STRAY) {
		l->stats.stray_responses++;
		if (l->ops->stray_response)
			l->ops->stray_response(l, m, src, l->arg);
		return;
	}
	if (m->status >= 200 && !tx->final_status)
		tx->final_status = m->status;
	tx_event(tx, ev, m);
}

void txl_receive(struct txl *l, struct sip_msg *msg,
		 const struct tp_source *src)
{
	if (msg->via_count == 0)
		return;
	if (msg->is_request)
		receive_request(l, msg, src);
	else
		receive_response(l, msg, src);
}

/* Send a new client transaction's request (buf/len) toward dest and start
 * it; discarded on a transport error. */
static int client_start(struct sip_tx **out, struct txl *l, struct sip_tx *tx,
			const struct tp_dest *dest, void *tx_arg,
			struct slice branch, struct slice method,
			const char *buf, size_t len)
{
	int err;

	tx->dest = *dest;
	tp_conn_ref(dest->conn);
	tx->reliable = dest->proto != SIP_PROTO_UDP;
	tx->branch = branch;
	tx->arg = tx_arg;
	tx->let_go = !out; /* nobody can hold it */
	err = l->send(&tx->dest, buf, len, l->send_arg);
	if (err) {
		l->stats.transport_errors++;
		l->stats.created[tx->kind]--;
		tx_discard(tx);
		return err;
	}
	link_tx(l, tx, client_key(branch, method));
	tx_start(tx);
	if (out)
		*out = tx;
	return 0;
}

int sip_tx_client_new(struct sip_tx **out, struct txl *l, struct sip_msg *req,
		      const struct tp_dest *dest, void *tx_arg)
{
	struct sip_tx *tx;

	if (!req->is_request || req->method == SIP_METHOD_ACK ||
	    req->via_count == 0 || !has_cookie(req->vias[0].branch))
		return EINVAL;
	tx = tx_alloc(
		l, req->method == SIP_METHOD_INVITE ? SIP_TX_ICT : SIP_TX_NICT,
		req);
	if (!tx)
		return l->stats.live >= l->cfg.max_transactions ? EMSGSIZE
								: ENOMEM;
	return client_start(out, l, tx, dest, tx_arg, req->vias[0].branch,
			    req->cseq_method_text, req->buf, req->len);
}

int sip_tx_client_send(struct sip_tx **out, struct txl *l,
		       const struct sip_tx_built *req,
		       const struct tp_dest *dest, void *tx_arg)
{
	struct tx_match v = { .branch = req->branch,
			      .via_host = req->via_host,
			      .method = req->method_text,
			      .call_id = req->call_id,
			      .from_tag = req->from_tag,
			      .via_port = req->via_port,
			      .cseq = req->cseq };
	struct sip_tx *tx;
	size_t n;

	if (req->method == SIP_METHOD_INVITE || req->method == SIP_METHOD_ACK ||
	    !req->buf || !req->len || !req->method_text.len ||
	    !has_cookie(req->branch))
		return EINVAL;
	tx = tx_alloc(l, SIP_TX_NICT, NULL);
	if (!tx)
		return l->stats.live >= l->cfg.max_transactions ? EMSGSIZE
								: ENOMEM;
	n = kept_size(&v);
	tx->kept = duet_malloc(n);
	tx->sent = duet_malloc(req->len);
	if (!tx->kept || !tx->sent) {
		l->stats.created[tx->kind]--;
		tx_discard(tx);
		return ENOMEM;
	}
	kept_write(tx->kept, &v);
	memcpy(tx->sent, req->buf, req->len);
	tx->sent_len = req->len;
	return client_start(out, l, tx, dest, tx_arg, kept_branch(tx->kept),
			    req->method_text, tx->sent, tx->sent_len);
}

/* §17.1.1.3: the ACK of a non-2xx final has the Request-URI, Call-ID,
 * From, CSeq number and top Via of the INVITE, the To of the response,
 * and the INVITE's Route headers. Built once, resent for retransmits. */
void tx_send_ack(struct sip_tx *tx, const struct sip_msg *resp)
{
	const struct sip_msg *r = tx_req(tx);
	const struct sip_hdr *h;

	if (!r && !tx->ack)
		return; /* compacted before any final: nothing to ACK */
	struct sip_writer w;

	if (!tx->ack && resp) {
		sip_writer_init(&w, 512);
		sip_build_request_line(&w, SLICE_LIT("ACK"), r->ruri.raw);
		sip_build_header_id(&w, SIP_HDR_VIA, r->vias[0].raw);
		sip_build_header_id(&w, SIP_HDR_MAX_FORWARDS, SLICE_LIT("70"));
		sip_build_header_id(&w, SIP_HDR_FROM, r->from.raw);
		sip_build_header_id(&w, SIP_HDR_TO, resp->to.raw);
		sip_build_header_id(&w, SIP_HDR_CALL_ID, r->call_id);
		sip_build_header_u32(&w, SIP_HDR_CSEQ, r->cseq,
				     SLICE_LIT(" ACK"));
		for (h = sip_msg_hdr(r, SIP_HDR_ROUTE); h;
		     h = sip_msg_hdr_next(r, h))
			sip_build_header_id(&w, SIP_HDR_ROUTE, h->value);
		if (sip_build_finish(&w, SLICE_NULL, SLICE_NULL) == 0)
			tx->ack = sip_writer_steal(&w, &tx->ack_len);
		else
			sip_writer_free(&w);
	}
	if (tx->ack &&
	    tx->l->send(&tx->dest, tx->ack, tx->ack_len, tx->l->send_arg)) {
		tx->l->stats.transport_errors++;
		tx->pending_error = true; /* figure 5: inform TU */
	}
}
