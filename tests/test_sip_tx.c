/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the SIP transaction layer (RFC 3261 §17, §8.2.2.2, §9.2;
 * RFC 6026 §7-8). The four tables are walked pair by pair against an
 * expectation written here from the RFC figures (not from
 * sip_tx_tables.c); then the scenarios of figures 5-8 run against a fake
 * transport that records every send and a manual clock, so Timer B's
 * 32 seconds take microseconds.
 */
#include "test_util.h"

#include <stdlib.h>

#include "duet/clock.h"
#include "duet/err.h"
#include "duet/sip_build.h"
#include "duet/sip_msg.h"
#include "duet/sip_tx.h"
#include "duet/transport.h"
#include "duet/wheel.h"

#define T1 500u	       /* §17.1.1.1: RTT estimate */
#define T2 4000u       /* §17.1.2.2: max non-INVITE retransmit interval */
#define T4 5000u       /* §17.1.2.2: max message lifetime */
#define T64 (64u * T1) /* Timers B, F, H, J (§17), L, M (RFC 6026 §8) */
#define TIMER_D 32000u /* §17.1.1.2: at least 32 s on UDP */
#define START 1000u    /* the manual clock's origin, ms */

#define ARG(n) ((void *)(uintptr_t)(n))

/* ------------------------------------------------------------------ */
/* 1. The tables, against the RFC figures                              */
/* ------------------------------------------------------------------ */

/*
 * Every transition the RFC names, one row each, with where it is written.
 * A pair of a used state that is not here must be TXA_INVALID and keep
 * the state; every event in Terminated is TXA_NONE and stays there.
 * ABSORB marks a received retransmission that is not passed to the TU.
 */
struct exp_row {
	enum sip_tx_kind kind;
	enum sip_tx_state state;
	enum sip_tx_event event;
	uint16_t action;
	enum sip_tx_state next;
	const char *why;
};

#define ROW(k, s, e, a, n, w)                                                  \
	{                                                                      \
		SIP_TX_##k, TXS_##s, TXE_##e, (uint16_t)(a), TXS_##n, w        \
	}

static const struct exp_row expected_rows[] = {
	/* INVITE client: RFC 3261 §17.1.1.2 figure 5, RFC 6026 §7.2, §8.4 */
	ROW(ICT, CALLING, TIMER_A, TXA_RETX_REQ, CALLING,
	    "3261 fig.5: Timer A fires / reset A, INVITE sent"),
	ROW(ICT, CALLING, TIMER_B, TXA_TIMEOUT, TERMINATED,
	    "3261 fig.5: Timer B fires / inform TU"),
	ROW(ICT, CALLING, TP_ERROR, TXA_TP_ERROR, TERMINATED,
	    "3261 fig.5, §17.1.4: Transport Err. / inform TU"),
	ROW(ICT, CALLING, RESP_1XX, TXA_PASS, PROCEEDING,
	    "3261 fig.5: 1xx / 1xx to TU"),
	ROW(ICT, CALLING, RESP_2XX, TXA_PASS, ACCEPTED,
	    "6026 §8.4: 2xx / 2xx to TU, enter Accepted"),
	ROW(ICT, CALLING, RESP_FINAL, TXA_PASS | TXA_SEND_ACK, COMPLETED,
	    "3261 fig.5: 300-699 / ACK sent, resp. to TU"),
	ROW(ICT, PROCEEDING, RESP_1XX, TXA_PASS, PROCEEDING,
	    "3261 fig.5: 1xx / 1xx to TU"),
	ROW(ICT, PROCEEDING, RESP_2XX, TXA_PASS, ACCEPTED,
	    "6026 §8.4: 2xx / 2xx to TU, enter Accepted"),
	ROW(ICT, PROCEEDING, RESP_FINAL, TXA_PASS | TXA_SEND_ACK, COMPLETED,
	    "3261 fig.5: 300-699 / ACK sent, resp. to TU"),
	ROW(ICT, COMPLETED, RESP_FINAL, TXA_SEND_ACK | TXA_ABSORB, COMPLETED,
	    "3261 §17.1.1.2: retransmitted final: ACK again, not to TU"),
	ROW(ICT, COMPLETED, TIMER_D, TXA_NONE, TERMINATED,
	    "3261 fig.5: Timer D fires / -"),
	ROW(ICT, COMPLETED, TP_ERROR, TXA_TP_ERROR, TERMINATED,
	    "3261 fig.5: Transport Err. / inform TU"),
	ROW(ICT, ACCEPTED, RESP_2XX, TXA_PASS, ACCEPTED,
	    "6026 §8.4: 2xx / 2xx to TU"),
	ROW(ICT, ACCEPTED, TIMER_M, TXA_NONE, TERMINATED,
	    "6026 §8.4: Timer M fires / -"),
	/* Not in the figures; duet's deliberate choices (commented in
	 * sip_tx_tables.c): late retransmissions are absorbed, not counted
	 * as invalid; a 2xx after a non-2xx final (a forking proxy's late
	 * answer) goes to the TU as a stray so it can ACK and BYE it. */
	ROW(ICT, COMPLETED, RESP_1XX, TXA_ABSORB, COMPLETED,
	    "duet: late 1xx absorbed"),
	ROW(ICT, COMPLETED, RESP_2XX, TXA_STRAY, COMPLETED,
	    "duet: late 2xx to the TU as a stray (3261 §13.2.2.4)"),
	ROW(ICT, ACCEPTED, RESP_1XX, TXA_ABSORB, ACCEPTED,
	    "duet: late 1xx absorbed"),
	ROW(ICT, ACCEPTED, RESP_FINAL, TXA_ABSORB, ACCEPTED,
	    "duet: non-2xx after a 2xx absorbed"),

	/* non-INVITE client: RFC 3261 §17.1.2.2 figure 6 ("200-699" is
	 * either event: the header's RESP_FINAL, or RESP_2XX) */
	ROW(NICT, TRYING, TIMER_E, TXA_RETX_REQ, TRYING,
	    "3261 fig.6: Timer E fires / send request"),
	ROW(NICT, TRYING, TIMER_F, TXA_TIMEOUT, TERMINATED,
	    "3261 fig.6: Timer F fires / inform TU"),
	ROW(NICT, TRYING, TP_ERROR, TXA_TP_ERROR, TERMINATED,
	    "3261 fig.6: Transport Err. / inform TU"),
	ROW(NICT, TRYING, RESP_1XX, TXA_PASS, PROCEEDING,
	    "3261 fig.6: 1xx / resp. to TU"),
	ROW(NICT, TRYING, RESP_2XX, TXA_PASS, COMPLETED,
	    "3261 fig.6: 200-699 / resp. to TU"),
	ROW(NICT, TRYING, RESP_FINAL, TXA_PASS, COMPLETED,
	    "3261 fig.6: 200-699 / resp. to TU"),
	ROW(NICT, PROCEEDING, TIMER_E, TXA_RETX_REQ, PROCEEDING,
	    "3261 fig.6: Timer E fires / send request"),
	ROW(NICT, PROCEEDING, TIMER_F, TXA_TIMEOUT, TERMINATED,
	    "3261 fig.6: Timer F fires / inform TU"),
	ROW(NICT, PROCEEDING, TP_ERROR, TXA_TP_ERROR, TERMINATED,
	    "3261 fig.6: Transport Err. / inform TU"),
	ROW(NICT, PROCEEDING, RESP_1XX, TXA_PASS, PROCEEDING,
	    "3261 fig.6: 1xx / resp. to TU"),
	ROW(NICT, PROCEEDING, RESP_2XX, TXA_PASS, COMPLETED,
	    "3261 fig.6: 200-699 / resp. to TU"),
	ROW(NICT, PROCEEDING, RESP_FINAL, TXA_PASS, COMPLETED,
	    "3261 fig.6: 200-699 / resp. to TU"),
	ROW(NICT, COMPLETED, RESP_1XX, TXA_ABSORB, COMPLETED,
	    "3261 §17.1.2.2: Completed buffers response retransmissions"),
	ROW(NICT, COMPLETED, RESP_2XX, TXA_ABSORB, COMPLETED,
	    "3261 §17.1.2.2: Completed buffers response retransmissions"),
	ROW(NICT, COMPLETED, RESP_FINAL, TXA_ABSORB, COMPLETED,
	    "3261 §17.1.2.2: Completed buffers response retransmissions"),
	ROW(NICT, COMPLETED, TIMER_K, TXA_NONE, TERMINATED,
	    "3261 fig.6: Timer K / -"),

	/* INVITE server: RFC 3261 §17.2.1 figure 7, RFC 6026 §7.1, §8.5-8.8
	 * (§8.8: on a transport error the server transaction informs the TU
	 * and MUST remain in its current state) */
	ROW(IST, PROCEEDING, REQ_RETX, TXA_RETX_RESP | TXA_ABSORB, PROCEEDING,
	    "3261 fig.7: INVITE / send response (last provisional)"),
	ROW(IST, PROCEEDING, TU_1XX, TXA_SEND, PROCEEDING,
	    "3261 fig.7: 101-199 from TU / send response"),
	ROW(IST, PROCEEDING, TU_2XX, TXA_SEND, ACCEPTED,
	    "6026 §8.5: 2xx from TU / send response, enter Accepted"),
	ROW(IST, PROCEEDING, TU_FINAL, TXA_SEND, COMPLETED,
	    "3261 fig.7: 300-699 from TU / send response"),
	ROW(IST, PROCEEDING, TIMER_TRYING, TXA_SEND_100, PROCEEDING,
	    "3261 fig.7: send 100 if TU won't in 200ms"),
	ROW(IST, PROCEEDING, TP_ERROR, TXA_TP_ERROR, PROCEEDING,
	    "6026 §7.1 fig., §8.8: Transport Err. / Inform TU, stay"),
	ROW(IST, COMPLETED, REQ_RETX, TXA_RETX_RESP | TXA_ABSORB, COMPLETED,
	    "3261 fig.7: INVITE / send response"),
	ROW(IST, COMPLETED, TIMER_G, TXA_RETX_RESP, COMPLETED,
	    "3261 fig.7: Timer G fires / send response"),
	ROW(IST, COMPLETED, TIMER_H, TXA_TIMEOUT, TERMINATED,
	    "3261 §17.2.1: Timer H: indicate a failure to the TU"),
	ROW(IST, COMPLETED, ACK, TXA_NONE, CONFIRMED,
	    "3261 fig.7: ACK / - (not a retransmission)"),
	ROW(IST, COMPLETED, TP_ERROR, TXA_TP_ERROR, COMPLETED,
	    "6026 §7.1 fig., §8.8: Transport Err. / Inform TU, stay"),
	ROW(IST, CONFIRMED, ACK, TXA_ABSORB, CONFIRMED,
	    "3261 §17.2.1: Confirmed absorbs additional ACKs"),
	ROW(IST, CONFIRMED, REQ_RETX, TXA_ABSORB, CONFIRMED,
	    "duet: late INVITE retransmission absorbed"),
	ROW(IST, CONFIRMED, TIMER_I, TXA_NONE, TERMINATED,
	    "3261 fig.7: Timer I fires / -"),
	ROW(IST, ACCEPTED, REQ_RETX, TXA_ABSORB, ACCEPTED,
	    "6026 §7.1, §8.7: INVITE / - (absorbed, not to TU)"),
	ROW(IST, ACCEPTED, TU_2XX, TXA_SEND, ACCEPTED,
	    "6026 §8.7: 2xx from TU / send response"),
	ROW(IST, ACCEPTED, ACK, TXA_PASS, ACCEPTED, "6026 §8.7: ACK / to TU"),
	ROW(IST, ACCEPTED, TIMER_L, TXA_NONE, TERMINATED,
	    "6026 §8.7: Timer L fires / -"),
	ROW(IST, ACCEPTED, TP_ERROR, TXA_TP_ERROR, ACCEPTED,
	    "6026 §7.1 fig., §8.8: Transport Err. / Inform TU, stay"),

	/* non-INVITE server: RFC 3261 §17.2.2 figure 8, RFC 6026 §8.8 */
	ROW(NIST, TRYING, REQ_RETX, TXA_ABSORB, TRYING,
	    "3261 §17.2.2: retransmissions in Trying are discarded"),
	ROW(NIST, TRYING, TU_1XX, TXA_SEND, PROCEEDING,
	    "3261 fig.8: 1xx from TU / send response"),
	ROW(NIST, TRYING, TU_2XX, TXA_SEND, COMPLETED,
	    "3261 fig.8: 200-699 from TU / send response"),
	ROW(NIST, TRYING, TU_FINAL, TXA_SEND, COMPLETED,
	    "3261 fig.8: 200-699 from TU / send response"),
	ROW(NIST, PROCEEDING, REQ_RETX, TXA_RETX_RESP | TXA_ABSORB, PROCEEDING,
	    "3261 fig.8: request / send response"),
	ROW(NIST, PROCEEDING, TU_1XX, TXA_SEND, PROCEEDING,
	    "3261 fig.8: 1xx from TU / send response"),
	ROW(NIST, PROCEEDING, TU_2XX, TXA_SEND, COMPLETED,
	    "3261 fig.8: 200-699 from TU / send response"),
	ROW(NIST, PROCEEDING, TU_FINAL, TXA_SEND, COMPLETED,
	    "3261 fig.8: 200-699 from TU / send response"),
	ROW(NIST, PROCEEDING, TP_ERROR, TXA_TP_ERROR, PROCEEDING,
	    "6026 §8.8 (replaces 3261 §17.2.4): inform TU, stay"),
	ROW(NIST, COMPLETED, REQ_RETX, TXA_RETX_RESP | TXA_ABSORB, COMPLETED,
	    "3261 fig.8: request / send response"),
	ROW(NIST, COMPLETED, TIMER_J, TXA_NONE, TERMINATED,
	    "3261 fig.8: Timer J fires / -"),
	ROW(NIST, COMPLETED, TP_ERROR, TXA_TP_ERROR, COMPLETED,
	    "6026 §8.8 (replaces 3261 §17.2.4): inform TU, stay"),
};

/* The states of each figure (RFC 6026 adds Accepted to both INVITE ones). */
static bool expect_used(enum sip_tx_kind k, enum sip_tx_state s)
{
	switch (k) {
	case SIP_TX_ICT:
		return s == TXS_CALLING || s == TXS_PROCEEDING ||
		       s == TXS_COMPLETED || s == TXS_ACCEPTED ||
		       s == TXS_TERMINATED;
	case SIP_TX_IST:
		return s == TXS_PROCEEDING || s == TXS_COMPLETED ||
		       s == TXS_CONFIRMED || s == TXS_ACCEPTED ||
		       s == TXS_TERMINATED;
	case SIP_TX_NICT:
	case SIP_TX_NIST:
		return s == TXS_TRYING || s == TXS_PROCEEDING ||
		       s == TXS_COMPLETED || s == TXS_TERMINATED;
	default:
		return false;
	}
}

static struct sip_tx_rule expect_rule(enum sip_tx_kind k, enum sip_tx_state s,
				      enum sip_tx_event e, const char **why)
{
	size_t n = sizeof(expected_rows) / sizeof(expected_rows[0]);

	if (s == TXS_TERMINATED) {
		*why = "3261 §17: a Terminated transaction ignores everything";
		return (struct sip_tx_rule){ TXA_NONE, TXS_TERMINATED };
	}
	for (size_t i = 0; i < n; i++) {
		const struct exp_row *r = &expected_rows[i];

		if (r->kind == k && r->state == s && r->event == e) {
			*why = r->why;
			return (struct sip_tx_rule){ r->action,
						     (uint8_t)r->next };
		}
	}
	*why = "no transition in the RFC figures: invalid, state kept";
	return (struct sip_tx_rule){ TXA_INVALID, (uint8_t)s };
}

static const char *action_str(uint16_t a, char *buf, size_t cap)
{
	static const char *const names[] = {
		"PASS",	    "SEND",    "RETX_REQ", "RETX_RESP", "SEND_ACK",
		"SEND_100", "TIMEOUT", "TP_ERROR", "ABSORB",	"INVALID",
	};
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (a & (1u << i))
			n += (size_t)snprintf(buf + n, cap - n, "%s%s",
					      n ? "|" : "", names[i]);
		if (n >= cap)
			break;
	}
	if (!a)
		snprintf(buf, cap, "NONE");
	return buf;
}

/* The expectation itself: one row per triple, every row in a used state. */
static void test_tables_expectation_sane(void **state)
{
	size_t n = sizeof(expected_rows) / sizeof(expected_rows[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const struct exp_row *a = &expected_rows[i];

		assert_true(expect_used(a->kind, a->state));
		assert_true(expect_used(a->kind, a->next));
		for (size_t j = i + 1; j < n; j++) {
			const struct exp_row *b = &expected_rows[j];

			assert_false(a->kind == b->kind &&
				     a->state == b->state &&
				     a->event == b->event);
		}
	}
}

/* Compare one used state's row for every event; returns mismatches. */
static unsigned walk_state(enum sip_tx_kind k, enum sip_tx_state s)
{
	unsigned bad = 0;

	for (int e = 0; e < TXE_COUNT; e++) {
		const char *why;
		struct sip_tx_rule want =
			expect_rule(k, s, (enum sip_tx_event)e, &why);
		struct sip_tx_rule got =
			sip_tx_rule(k, s, (enum sip_tx_event)e);
		char ga[96], wa[96];

		if (got.action == want.action && got.next == want.next)
			continue;
		bad++;
		fprintf(stderr,
			"  %-4s %-10s %-18s table: %s -> %s; RFC: %s -> %s "
			"(%s)\n",
			sip_tx_kind_name(k), sip_tx_state_name(s),
			sip_tx_event_name((enum sip_tx_event)e),
			action_str(got.action, ga, sizeof(ga)),
			sip_tx_state_name((enum sip_tx_state)got.next),
			action_str(want.action, wa, sizeof(wa)),
			sip_tx_state_name((enum sip_tx_state)want.next), why);
	}
	return bad;
}

static void test_tables_walk(void **state)
{
	unsigned bad = 0;

	(void)state;
	for (int k = 0; k < SIP_TX_KIND_COUNT; k++) {
		for (int s = 0; s < TXS_COUNT; s++) {
			bool used = expect_used((enum sip_tx_kind)k,
						(enum sip_tx_state)s);

			if (sip_tx_state_used((enum sip_tx_kind)k,
					      (enum sip_tx_state)s) != used) {
				fprintf(stderr,
					"  %s uses %s: table %d, RFC %d\n",
					sip_tx_kind_name((enum sip_tx_kind)k),
					sip_tx_state_name((enum sip_tx_state)s),
					!used, used);
				bad++;
			}
			if (used)
				bad += walk_state((enum sip_tx_kind)k,
						  (enum sip_tx_state)s);
		}
	}
	if (bad)
		fprintf(stderr,
			"%u (kind, state, event) rows differ from "
			"the RFC figures\n",
			bad);
	assert_int_equal(bad, 0);
}

static void test_tables_names(void **state)
{
	(void)state;
	for (int s = 0; s < TXS_COUNT; s++) {
		const char *n = sip_tx_state_name((enum sip_tx_state)s);

		assert_non_null(n);
		assert_string_not_equal(n, "?");
		for (int t = 0; t < s; t++)
			assert_string_not_equal(
				n, sip_tx_state_name((enum sip_tx_state)t));
	}
	for (int e = 0; e < TXE_COUNT; e++) {
		const char *n = sip_tx_event_name((enum sip_tx_event)e);

		assert_non_null(n);
		assert_string_not_equal(n, "?");
		for (int f = 0; f < e; f++)
			assert_string_not_equal(
				n, sip_tx_event_name((enum sip_tx_event)f));
	}
	for (int k = 0; k < SIP_TX_KIND_COUNT; k++) {
		const char *n = sip_tx_kind_name((enum sip_tx_kind)k);

		assert_non_null(n);
		assert_string_not_equal(n, "?");
	}
	assert_string_equal(sip_tx_state_name(TXS_COUNT), "?");
	assert_string_equal(sip_tx_event_name(TXE_COUNT), "?");
	assert_string_equal(sip_tx_kind_name(SIP_TX_KIND_COUNT), "?");
	assert_false(sip_tx_state_used(SIP_TX_KIND_COUNT, TXS_PROCEEDING));
	assert_false(sip_tx_state_used(SIP_TX_ICT, TXS_COUNT));
}

/* ------------------------------------------------------------------ */
/* 2. Scenarios: a fake transport, a manual clock, a recording TU      */
/* ------------------------------------------------------------------ */

#define MAX_SENT 64
#define MAX_TX 3000 /* test_table_growth feeds this many */

struct sent {
	char *buf; /* duet_malloc'd copy */
	size_t len;
	uint64_t at; /* ms since START */
	enum sip_proto proto;
};

struct ended_rec {
	int err;
	void *arg;
	uint64_t at;
	enum sip_tx_kind kind;
	enum sip_tx_state state;
};

struct fx {
	struct manual_clock mc;
	struct wheel *w;
	struct txl *l;
	struct tp_source src; /* where fed messages come from */
	struct tp_dest dest;  /* where client transactions send */

	struct sent sent[MAX_SENT];
	size_t nsent;
	bool failing; /* the fake transport refuses every send */
	unsigned nfailed;

	uint16_t answer; /* the TU replies with this from `request` */
	bool no_arg;	 /* the TU gives new server ones no arg (lets go) */
	unsigned nreq;
	struct sip_tx *req_st[MAX_TX]; /* valid until their `ended` */
	enum sip_method req_method;
	enum sip_tx_kind req_kind;
	struct sip_tx *cancel_target;

	unsigned nresp;
	uint16_t resp_code[MAX_TX];
	void *resp_arg;

	unsigned nack;
	char ack_branch[64];

	unsigned nstray;
	uint16_t stray_code;

	unsigned ntperr; /* `transport_error` calls */
	int tperr;
	void *tperr_arg;
	enum sip_tx_state tperr_state;

	unsigned nended;
	struct ended_rec ended[MAX_TX];
};

static uint64_t now(const struct fx *f)
{
	return f->mc.now - START;
}

static void advance(struct fx *f, uint64_t ms)
{
	wheel_advance(f->w, &f->mc, ms);
}

static int fake_send(const struct tp_dest *dest, const char *buf, size_t len,
		     void *arg)
{
	struct fx *f = arg;
	struct sent *s;

	if (f->failing) {
		f->nfailed++;
		return ECONNREFUSED;
	}
	assert_true(f->nsent < MAX_SENT);
	s = &f->sent[f->nsent++];
	s->buf = duet_malloc(len + 1);
	assert_non_null(s->buf);
	memcpy(s->buf, buf, len);
	s->buf[len] = '\0';
	s->len = len;
	s->at = now(f);
	s->proto = dest->proto;
	return 0;
}

static struct sip_msg *parse(const char *buf, size_t len)
{
	struct sip_msg *m = NULL;
	const char *why = NULL;
	int err = sip_msg_parse(&m, buf, len, SIP_FRAMING_DGRAM, NULL, &why);

	if (err)
		fprintf(stderr, "parse: %s\n%.*s\n", why ? why : "?", (int)len,
			buf);
	assert_int_equal(err, 0);
	return m;
}

/* The TU answers st with code (To tag to_tag, none for a 100). */
static int tu_reply(struct sip_tx *st, uint16_t code, const char *to_tag)
{
	static const char late[] = "SIP/2.0 500 late\r\n\r\n";
	struct sip_writer w;
	int err;

	/* a lingering transaction let its request go: whatever the TU
	 * sends now must be refused without being read */
	if (!sip_tx_request(st))
		return sip_tx_reply(st, code, late, sizeof(late) - 1);
	sip_writer_init(&w, 0);
	sip_build_response_head_stamped(&w, sip_tx_request(st), code,
					SLICE_NULL, slice_cstr(to_tag),
					sip_tx_via_stamp(st));
	assert_int_equal(sip_build_finish(&w, SLICE_NULL, SLICE_NULL), 0);
	err = sip_tx_reply(st, code, w.buf, w.len);
	sip_writer_free(&w);
	return err;
}

static void on_request(struct txl *l, struct sip_tx *st, struct sip_msg *req,
		       const struct tp_source *src, void *arg)
{
	struct fx *f = arg;

	assert_ptr_equal(l, f->l);
	assert_ptr_equal(sip_tx_request(st), req);
	assert_non_null(src);
	assert_true(f->nreq < MAX_TX);
	/* one left without an arg is not the TU's once this returns */
	f->req_st[f->nreq++] = f->no_arg ? NULL : st;
	if (!f->no_arg)
		sip_tx_set_arg(st, ARG(f->nreq)); /* 1, 2, ...: which one */
	f->req_method = req->method;
	f->req_kind = sip_tx_kind(st);
	f->cancel_target = req->method == SIP_METHOD_CANCEL
				   ? sip_tx_cancel_target(st)
				   : NULL;
	if (f->answer)
		assert_int_equal(tu_reply(st, f->answer, "callee"), 0);
}

static void on_ack(struct txl *l, struct sip_msg *ack,
		   const struct tp_source *src, void *arg)
{
	struct fx *f = arg;

	assert_ptr_equal(l, f->l);
	assert_non_null(src);
	assert_int_equal(ack->method, SIP_METHOD_ACK);
	f->nack++;
	slice_to_cstr(ack->vias[0].branch, f->ack_branch,
		      sizeof(f->ack_branch));
}

static void on_response(struct sip_tx *ct, struct sip_msg *resp, void *tx_arg)
{
	struct fx *f = tx_arg; /* every client tx here gets the fixture */

	(void)ct;
	assert_false(resp->is_request);
	assert_true(f->nresp < MAX_TX);
	f->resp_code[f->nresp++] = resp->status;
	f->resp_arg = tx_arg;
}

static void on_stray(struct txl *l, struct sip_msg *resp,
		     const struct tp_source *src, void *arg)
{
	struct fx *f = arg;

	assert_ptr_equal(l, f->l);
	assert_non_null(src);
	f->nstray++;
	f->stray_code = resp->status;
}

/*
 * `ended` and `transport_error` have no layer or layer-arg parameter, only
 * the tx's own arg, which is NULL for a transaction the TU never saw (the
 * 482 to a merged request): so the running fixture is reached through this
 * pointer (tests run one at a time).
 */
static struct fx *ended_fx;

static void on_ended(struct sip_tx *tx, int err, void *tx_arg)
{
	struct fx *f = ended_fx;
	struct ended_rec *r;

	assert_non_null(f);
	assert_true(f->nended < MAX_TX);
	r = &f->ended[f->nended++];
	r->err = err;
	r->arg = tx_arg;
	r->at = now(f);
	r->kind = sip_tx_kind(tx);
	r->state = sip_tx_state(tx);
}

static void on_transport_error(struct sip_tx *st, int err, void *tx_arg)
{
	struct fx *f = ended_fx;

	assert_non_null(f);
	f->ntperr++;
	f->tperr = err;
	f->tperr_arg = tx_arg;
	f->tperr_state = sip_tx_state(st);
}

static const struct txl_ops test_ops = {
	.request = on_request,
	.ack = on_ack,
	.response = on_response,
	.stray_response = on_stray,
	.transport_error = on_transport_error,
	.ended = on_ended,
};

/* cfg as given (NULL: the defaults) */
static void fx_init_raw(struct fx *f, enum sip_proto proto,
			const struct txl_config *cfg)
{
	memset(f, 0, sizeof(*f));
	manual_clock_init(&f->mc, START);
	assert_int_equal(wheel_new(&f->w, NULL, &f->mc.clock), 0);
	assert_int_equal(txl_new(&f->l, f->w, cfg, fake_send, f, &test_ops, f),
			 0);
	f->src.proto = proto;
	assert_int_equal(
		tp_addr_set(&f->src.remote, SLICE_LIT("192.0.2.10"), 5060), 0);
	assert_int_equal(
		tp_addr_set(&f->src.local, SLICE_LIT("192.0.2.1"), 5060), 0);
	f->dest.proto = proto;
	assert_int_equal(
		tp_addr_set(&f->dest.remote, SLICE_LIT("192.0.2.20"), 5060), 0);
	ended_fx = f;
}

/* Timers exactly as the RFC names them: the linger grain off (one test,
 * test_linger_grain, checks the grain itself) */
static void fx_init(struct fx *f, enum sip_proto proto,
		    const struct txl_config *cfg)
{
	struct txl_config c;

	if (cfg)
		c = *cfg;
	else
		txl_config_default(&c);
	c.linger_grain_ms = 0;
	fx_init_raw(f, proto, &c);
}

/* all_ended: every transaction has ended, so nothing may be left. */
static void fx_done(struct fx *f, bool all_ended)
{
	struct txl_stats st;

	txl_stats(f->l, &st);
	if (all_ended) {
		assert_int_equal(st.live, 0);
		assert_int_equal(wheel_count(f->w), 0);
	}
	txl_free(f->l);
	wheel_free(f->w);
	for (size_t i = 0; i < f->nsent; i++)
		duet_free(f->sent[i].buf);
	ended_fx = NULL;
}

static struct txl_stats stats(const struct fx *f)
{
	struct txl_stats st;

	txl_stats(f->l, &st);
	return st;
}

/* A request, by parts; NULL fields take the defaults shown. */
struct req_spec {
	const char *method;   /* "INVITE" */
	const char *branch;   /* NULL: no branch parameter at all */
	const char *sent_by;  /* "192.0.2.10:5060" */
	const char *proto;    /* "UDP" */
	const char *from_tag; /* "ft1" */
	const char *to_tag;   /* NULL: none */
	const char *call_id;  /* "c1@192.0.2.10" */
	uint32_t cseq;	      /* 0: 1 */
	const char *extra;    /* more header lines, "\n"-terminated */
};

static struct sip_msg *make_req(const struct req_spec *s)
{
	char raw[1536], text[1700], branch[96] = "", to_tag[96] = "";
	const char *m = s->method ? s->method : "INVITE";
	int n;

	if (s->branch)
		snprintf(branch, sizeof(branch), ";branch=%s", s->branch);
	if (s->to_tag)
		snprintf(to_tag, sizeof(to_tag), ";tag=%s", s->to_tag);
	n = snprintf(raw, sizeof(raw),
		     "%s sip:bob@192.0.2.20 SIP/2.0\n"
		     "Via: SIP/2.0/%s %s%s\n"
		     "Max-Forwards: 70\n"
		     "From: <sip:alice@192.0.2.10>;tag=%s\n"
		     "To: <sip:bob@192.0.2.20>%s\n"
		     "Call-ID: %s\n"
		     "CSeq: %u %s\n"
		     "Contact: <sip:alice@192.0.2.10>\n"
		     "%s"
		     "Content-Length: 0\n\n",
		     m, s->proto ? s->proto : "UDP",
		     s->sent_by ? s->sent_by : "192.0.2.10:5060", branch,
		     s->from_tag ? s->from_tag : "ft1", to_tag,
		     s->call_id ? s->call_id : "c1@192.0.2.10",
		     (unsigned)(s->cseq ? s->cseq : 1), m,
		     s->extra ? s->extra : "");
	assert_true(n > 0 && (size_t)n < sizeof(raw));
	return parse(text, test_crlf(raw, text, sizeof(text)));
}

/* The peer's response to a request we sent (built as a UAS would). */
static struct sip_msg *make_resp(const struct sip_msg *req, uint16_t code,
				 const char *to_tag)
{
	struct sip_writer w;
	struct sip_msg *m;

	sip_writer_init(&w, 0);
	sip_build_response_head(&w, req, code, SLICE_NULL, slice_cstr(to_tag));
	assert_int_equal(sip_build_finish(&w, SLICE_NULL, SLICE_NULL), 0);
	m = parse(w.buf, w.len);
	sip_writer_free(&w);
	return m;
}

static void feed(struct fx *f, struct sip_msg *m)
{
	txl_receive(f->l, m, &f->src);
	sip_msg_unref(m);
}

static void feed_req(struct fx *f, const struct req_spec *s)
{
	feed(f, make_req(s));
}

static void feed_resp(struct fx *f, const struct sip_msg *req, uint16_t code,
		      const char *to_tag)
{
	feed(f, make_resp(req, code, to_tag));
}

static struct sip_msg *sent_msg(const struct fx *f, size_t i)
{
	assert_true(i < f->nsent);
	return parse(f->sent[i].buf, f->sent[i].len);
}

static uint16_t sent_status(const struct fx *f, size_t i)
{
	struct sip_msg *m = sent_msg(f, i);
	uint16_t code = m->is_request ? 0 : m->status;

	sip_msg_unref(m);
	return code;
}

static void assert_same_bytes(const struct fx *f, size_t i, const char *buf,
			      size_t len)
{
	assert_true(i < f->nsent);
	assert_int_equal(f->sent[i].len, len);
	assert_memory_equal(f->sent[i].buf, buf, len);
}

/* sent[from..] were sent at exactly these times, all equal to sent[ref]. */
static void assert_sends_at(const struct fx *f, size_t from, size_t ref,
			    const uint64_t *at, size_t n)
{
	if (f->nsent != from + n) {
		fprintf(stderr,
			"sent %zu messages, expected %zu; times:", f->nsent,
			from + n);
		for (size_t i = 0; i < f->nsent; i++)
			fprintf(stderr, " %llu",
				(unsigned long long)f->sent[i].at);
		fprintf(stderr, "\n");
	}
	assert_int_equal(f->nsent, from + n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(f->sent[from + i].at, at[i]);
		assert_same_bytes(f, from + i, f->sent[ref].buf,
				  f->sent[ref].len);
	}
}

static struct sip_tx *client_new(struct fx *f, const struct req_spec *s,
				 struct sip_msg **req_out)
{
	struct sip_msg *req = make_req(s);
	struct sip_tx *ct = NULL;

	assert_int_equal(sip_tx_client_new(&ct, f->l, req, &f->dest, f), 0);
	assert_non_null(ct);
	*req_out = req; /* the caller's reference; the tx holds its own */
	return ct;
}

/* --- Figure 5: INVITE client transaction ---------------------------- */

static void test_ict_udp_timer_b(void **state)
{
	static const uint64_t want[] = {
		0, 500, 1500, 3500, 7500, 15500, 31500
	};
	struct fx f;
	struct sip_msg *inv;
	struct sip_tx *ct;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	ct = client_new(&f,
			&(struct req_spec){ .branch = "z9hG4bKictb",
					    .sent_by = "192.0.2.1:5060" },
			&inv);
	assert_int_equal(sip_tx_kind(ct), SIP_TX_ICT);
	assert_int_equal(sip_tx_state(ct), TXS_CALLING);
	assert_ptr_equal(sip_tx_request(ct), inv);
	assert_int_equal(f.nsent, 1);
	assert_same_bytes(&f, 0, inv->buf, inv->len);
	assert_int_equal(f.sent[0].proto, SIP_PROTO_UDP);

	advance(&f, T64 - 1); /* A: T1, 2T1, 4T1... (§17.1.1.2) */
	assert_int_equal(f.nended, 0);
	advance(&f, 1); /* B = 64*T1 */
	assert_sends_at(&f, 0, 0, want, sizeof(want) / sizeof(want[0]));
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, ETIMEDOUT);
	assert_int_equal(f.ended[0].at, T64);
	assert_ptr_equal(f.ended[0].arg, &f);
	assert_int_equal(f.ended[0].kind, SIP_TX_ICT);
	assert_int_equal(f.ended[0].state, TXS_TERMINATED);
	assert_int_equal(f.nresp, 0);
	assert_int_equal(stats(&f).timed_out, 1);
	assert_int_equal(stats(&f).completed, 0);
	assert_int_equal(stats(&f).retransmissions_sent, 6);
	assert_int_equal(stats(&f).created[SIP_TX_ICT], 1);
	advance(&f, 100000); /* nothing left to fire */
	assert_int_equal(f.nsent, 7);
	assert_int_equal(f.nended, 1);
	sip_msg_unref(inv);
	fx_done(&f, true);
}

/* §17.1.1.3: the ACK of a non-2xx final. */
static void assert_ack(const struct fx *f, size_t i, const struct sip_msg *inv,
		       const char *to_tag)
{
	struct sip_msg *ack = sent_msg(f, i);

	assert_true(ack->is_request);
	assert_int_equal(ack->method, SIP_METHOD_ACK);
	assert_true(slice_eq(ack->ruri.raw, inv->ruri.raw));
	assert_int_equal(ack->via_count, 1); /* a single Via: the top one */
	assert_true(slice_eq(ack->vias[0].raw, inv->vias[0].raw));
	assert_true(slice_eq(ack->vias[0].branch, inv->vias[0].branch));
	assert_true(slice_eq(ack->from.raw, inv->from.raw));
	assert_slice(ack->to.tag, to_tag);
	assert_true(slice_eq(ack->to.uri.raw, inv->to.uri.raw));
	assert_true(slice_eq(ack->call_id, inv->call_id));
	assert_int_equal(ack->cseq, inv->cseq);
	assert_int_equal(ack->cseq_method, SIP_METHOD_ACK);
	assert_true(ack->has_content_length);
	assert_int_equal(ack->content_length, 0);
	assert_int_equal(ack->route_count, inv->route_count);
	for (uint16_t r = 0; r < ack->route_count; r++)
		assert_true(slice_eq(ack->routes[r].raw, inv->routes[r].raw));
	sip_msg_unref(ack);
}

static void test_ict_udp_1xx_486_timer_d(void **state)
{
	struct fx f;
	struct sip_msg *inv;
	struct sip_tx *ct;
	uint64_t t486;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	ct = client_new(
		&f,
		&(struct req_spec){
			.branch = "z9hG4bKict486",
			.sent_by = "192.0.2.1:5060",
			.extra = "Route: <sip:proxy.example.com;lr>\n" },
		&inv);
	advance(&f, 600); /* INVITE at 0 and 500 */
	assert_int_equal(f.nsent, 2);
	feed_resp(&f, inv, 100, NULL);
	assert_int_equal(f.nresp, 1);
	assert_int_equal(f.resp_code[0], 100);
	assert_int_equal(sip_tx_state(ct), TXS_PROCEEDING);
	/* Proceeding: no more retransmissions (§17.1.1.2), and B only
	 * applies in Calling */
	advance(&f, 40000);
	assert_int_equal(f.nsent, 2);
	assert_int_equal(f.nended, 0);
	feed_resp(&f, inv, 180, "callee1");
	assert_int_equal(f.nresp, 2);

	t486 = now(&f);
	feed_resp(&f, inv, 486, "callee1");
	assert_int_equal(f.nresp, 3);
	assert_int_equal(f.resp_code[2], 486);
	assert_int_equal(sip_tx_state(ct), TXS_COMPLETED);
	assert_int_equal(sip_tx_final_status(ct), 486);
	assert_int_equal(f.nsent, 3);
	assert_ack(&f, 2, inv, "callee1");

	/* a retransmitted 486: ACKed again, not passed to the TU */
	advance(&f, 1000);
	feed_resp(&f, inv, 486, "callee1");
	assert_int_equal(f.nresp, 3);
	assert_int_equal(f.nsent, 4);
	assert_same_bytes(&f, 3, f.sent[2].buf, f.sent[2].len);
	assert_int_equal(stats(&f).retransmissions_absorbed, 1);

	advance(&f, t486 + TIMER_D - 1 - now(&f));
	assert_int_equal(f.nended, 0);
	advance(&f, 1); /* D: 32 s on UDP */
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, 0);
	assert_int_equal(f.ended[0].at, t486 + TIMER_D);
	assert_int_equal(stats(&f).completed, 1);
	assert_int_equal(stats(&f).timed_out, 0);
	assert_int_equal(f.nsent, 4);
	sip_msg_unref(inv);
	fx_done(&f, true);
}

static void test_ict_tcp(void **state)
{
	struct fx f;
	struct sip_msg *inv1, *inv2;
	struct sip_tx *ct2;
	uint64_t t486;

	(void)state;
	fx_init(&f, SIP_PROTO_TCP, NULL);
	client_new(&f,
		   &(struct req_spec){ .branch = "z9hG4bKtcp1",
				       .proto = "TCP",
				       .sent_by = "192.0.2.1:5060" },
		   &inv1);
	advance(&f, T64 - 1); /* no Timer A on a reliable transport */
	assert_int_equal(f.nsent, 1);
	assert_int_equal(f.sent[0].proto, SIP_PROTO_TCP);
	assert_int_equal(f.nended, 0);
	advance(&f, 1); /* Timer B still applies */
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, ETIMEDOUT);
	assert_int_equal(stats(&f).retransmissions_sent, 0);

	ct2 = client_new(&f,
			 &(struct req_spec){ .branch = "z9hG4bKtcp2",
					     .proto = "TCP",
					     .call_id = "c2@192.0.2.10",
					     .sent_by = "192.0.2.1:5060" },
			 &inv2);
	advance(&f, 10);
	t486 = now(&f);
	feed_resp(&f, inv2, 486, "callee2");
	assert_int_equal(f.nsent, 3); /* INVITE, INVITE, ACK */
	assert_ack(&f, 2, inv2, "callee2");
	assert_true(f.nended == 2 || sip_tx_state(ct2) == TXS_COMPLETED);
	advance(&f, 1); /* D = 0 on a reliable transport */
	assert_int_equal(f.nended, 2);
	assert_int_equal(f.ended[1].err, 0);
	assert_true(f.ended[1].at - t486 <= 1);
	sip_msg_unref(inv1);
	sip_msg_unref(inv2);
	fx_done(&f, true);
}

/* RFC 3261 §17.1.4: a failed retransmission ends the transaction. */
static void test_ict_transport_error(void **state)
{
	struct fx f;
	struct sip_msg *inv;
	struct sip_tx *ct = NULL;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	/* the first send fails: no transaction */
	inv = make_req(&(struct req_spec){ .branch = "z9hG4bKtpe0" });
	f.failing = true;
	assert_int_equal(sip_tx_client_new(&ct, f.l, inv, &f.dest, &f),
			 ECONNREFUSED);
	assert_null(ct);
	assert_int_equal(stats(&f).live, 0);
	assert_int_equal(stats(&f).created[SIP_TX_ICT], 0);
	sip_msg_unref(inv);
	f.failing = false;

	/* a retransmission fails: inform the TU, Terminated */
	client_new(&f, &(struct req_spec){ .branch = "z9hG4bKtpe1" }, &inv);
	f.failing = true;
	advance(&f, T1);
	assert_int_equal(f.nfailed, 2);
	assert_int_equal(f.nended, 1);
	assert_true(f.ended[0].err != 0 && f.ended[0].err != ETIMEDOUT);
	assert_int_equal(f.ended[0].at, T1);
	assert_true(stats(&f).transport_errors >= 1);
	sip_msg_unref(inv);
	fx_done(&f, true);
}

/* Figure 5: a transport error in Completed (sending the ACK) ends the
 * transaction and informs the TU (§17.1.4). */
static void test_ict_ack_transport_error(void **state)
{
	struct fx f;
	struct sip_msg *inv;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	client_new(&f, &(struct req_spec){ .branch = "z9hG4bKackfail" }, &inv);
	f.failing = true;
	feed_resp(&f, inv, 486, "callee");
	assert_int_equal(f.nresp, 1);
	assert_int_equal(f.nfailed, 1);
	assert_int_equal(f.nended, 1);
	assert_true(f.ended[0].err != 0 && f.ended[0].err != ETIMEDOUT);
	assert_int_equal(f.ended[0].at, 0);
	sip_msg_unref(inv);
	fx_done(&f, true);
}

/* A 2xx on the branch of an INVITE that already got a non-2xx final
 * (a forking proxy's late answer) reaches the TU as a stray, so the TU can
 * ACK and BYE it instead of letting the callee retransmit it for 64*T1. */
static void test_ict_2xx_after_final(void **state)
{
	struct fx f;
	struct sip_msg *inv;
	struct sip_tx *ct;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	ct = client_new(&f, &(struct req_spec){ .branch = "z9hG4bKlate" },
			&inv);
	feed_resp(&f, inv, 486, "busy");
	assert_int_equal(sip_tx_state(ct), TXS_COMPLETED);
	assert_int_equal(f.nresp, 1);
	feed_resp(&f, inv, 200, "late");
	assert_int_equal(f.nresp, 1); /* not as the transaction's answer */
	assert_int_equal(f.nstray, 1);
	assert_int_equal(f.stray_code, 200);
	assert_int_equal(sip_tx_state(ct), TXS_COMPLETED);
	assert_int_equal(sip_tx_final_status(ct), 486);
	advance(&f, 32000); /* Timer D */
	assert_int_equal(f.nended, 1);
	sip_msg_unref(inv);
	fx_done(&f, true);
}

/* RFC 6026 §7.2, §8.4: the Accepted state of the INVITE client. */
static void test_ict_2xx_accepted(void **state)
{
	struct fx f;
	struct sip_msg *inv, *inv2;
	struct sip_tx *ct, *ct2;
	uint64_t t200;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	ct = client_new(&f,
			&(struct req_spec){ .branch = "z9hG4bK6026a",
					    .sent_by = "192.0.2.1:5060" },
			&inv);
	advance(&f, 100);
	t200 = now(&f);
	feed_resp(&f, inv, 200, "b1");
	assert_int_equal(f.nresp, 1);
	assert_int_equal(f.resp_code[0], 200);
	assert_ptr_equal(f.resp_arg, &f);
	assert_int_equal(sip_tx_state(ct), TXS_ACCEPTED);
	assert_int_equal(f.nsent, 1); /* the TU ACKs a 2xx, not the layer */

	advance(&f, 2000); /* no INVITE retransmissions in Accepted */
	assert_int_equal(f.nsent, 1);
	feed_resp(&f, inv, 200, "b1"); /* a retransmission: to the TU */
	assert_int_equal(f.nresp, 2);
	feed_resp(&f, inv, 200, "b2"); /* another fork's 2xx: to the TU */
	assert_int_equal(f.nresp, 3);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(f.nstray, 0);

	advance(&f, t200 + T64 - 1 - now(&f));
	assert_int_equal(f.nended, 0);
	advance(&f, 1); /* Timer M */
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, 0);
	assert_int_equal(f.ended[0].at, t200 + T64);
	assert_int_equal(stats(&f).completed, 1);

	/* after the tx: a 2xx retransmission is the TU's (§13.2.2.4) */
	feed_resp(&f, inv, 200, "b1");
	assert_int_equal(f.nresp, 3);
	assert_int_equal(f.nstray, 1);
	assert_int_equal(f.stray_code, 200);
	assert_int_equal(stats(&f).stray_responses, 1);

	/* Proceeding -> Accepted too */
	ct2 = client_new(&f,
			 &(struct req_spec){ .branch = "z9hG4bK6026b",
					     .call_id = "c2@192.0.2.10",
					     .sent_by = "192.0.2.1:5060" },
			 &inv2);
	feed_resp(&f, inv2, 180, "b3");
	assert_int_equal(sip_tx_state(ct2), TXS_PROCEEDING);
	feed_resp(&f, inv2, 200, "b3");
	assert_int_equal(sip_tx_state(ct2), TXS_ACCEPTED);
	assert_int_equal(f.nresp, 5);
	advance(&f, T64);
	assert_int_equal(f.nended, 2);
	assert_int_equal(f.ended[1].err, 0);
	sip_msg_unref(inv);
	sip_msg_unref(inv2);
	fx_done(&f, true);
}

/* --- Figure 6: non-INVITE client transaction ------------------------ */

static void test_nict_udp_timer_f(void **state)
{
	static const uint64_t want[] = { 0,	500,   1500,  3500,
					 7500,	11500, 15500, 19500,
					 23500, 27500, 31500 };
	struct fx f;
	struct sip_msg *bye;
	struct sip_tx *ct;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	ct = client_new(&f,
			&(struct req_spec){ .method = "BYE",
					    .branch = "z9hG4bKnictf",
					    .to_tag = "tt",
					    .sent_by = "192.0.2.1:5060" },
			&bye);
	assert_int_equal(sip_tx_kind(ct), SIP_TX_NICT);
	assert_int_equal(sip_tx_state(ct), TXS_TRYING);
	advance(&f, T64 - 1); /* E: T1, 2T1, 4T1, then T2 (§17.1.2.2) */
	assert_int_equal(f.nended, 0);
	advance(&f, 1); /* F = 64*T1 */
	assert_sends_at(&f, 0, 0, want, sizeof(want) / sizeof(want[0]));
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, ETIMEDOUT);
	assert_int_equal(f.ended[0].at, T64);
	assert_int_equal(stats(&f).timed_out, 1);
	assert_int_equal(stats(&f).retransmissions_sent, 10);
	sip_msg_unref(bye);
	fx_done(&f, true);
}

static void test_nict_1xx_t2(void **state)
{
	/* the E armed at 500 fires at 1500 in Proceeding, then every T2 */
	static const uint64_t want[] = { 0,	500,   1500,  5500,  9500,
					 13500, 17500, 21500, 25500, 29500 };
	struct fx f;
	struct sip_msg *bye;
	struct sip_tx *ct;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	ct = client_new(&f,
			&(struct req_spec){ .method = "BYE",
					    .branch = "z9hG4bKnict1xx",
					    .to_tag = "tt",
					    .sent_by = "192.0.2.1:5060" },
			&bye);
	advance(&f, 600);
	feed_resp(&f, bye, 100, NULL);
	assert_int_equal(f.nresp, 1);
	assert_int_equal(sip_tx_state(ct), TXS_PROCEEDING);
	advance(&f, T64 - 600);
	assert_sends_at(&f, 0, 0, want, sizeof(want) / sizeof(want[0]));
	assert_int_equal(f.nended, 1); /* F still runs in Proceeding */
	assert_int_equal(f.ended[0].err, ETIMEDOUT);
	assert_int_equal(f.ended[0].at, T64);
	sip_msg_unref(bye);
	fx_done(&f, true);
}

static void test_nict_200_timer_k(void **state)
{
	struct fx f;
	struct sip_msg *bye;
	struct sip_tx *ct;
	uint64_t t200;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	ct = client_new(&f,
			&(struct req_spec){ .method = "BYE",
					    .branch = "z9hG4bKnictk",
					    .to_tag = "tt",
					    .sent_by = "192.0.2.1:5060" },
			&bye);
	advance(&f, 100);
	t200 = now(&f);
	feed_resp(&f, bye, 200, NULL);
	assert_int_equal(f.nresp, 1);
	assert_int_equal(f.resp_code[0], 200);
	assert_int_equal(sip_tx_state(ct), TXS_COMPLETED);
	assert_int_equal(sip_tx_final_status(ct), 200);
	advance(&f, 1000);
	feed_resp(&f, bye, 200, NULL); /* absorbed */
	assert_int_equal(f.nresp, 1);
	assert_int_equal(stats(&f).retransmissions_absorbed, 1);
	advance(&f, t200 + T4 - 1 - now(&f));
	assert_int_equal(f.nended, 0);
	assert_int_equal(f.nsent, 1); /* E stopped by the 200 */
	advance(&f, 1);		      /* K = T4 */
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, 0);
	assert_int_equal(f.ended[0].at, t200 + T4);
	assert_int_equal(stats(&f).completed, 1);
	sip_msg_unref(bye);
	fx_done(&f, true);

	/* TCP: no E, K = 0 */
	fx_init(&f, SIP_PROTO_TCP, NULL);
	client_new(&f,
		   &(struct req_spec){ .method = "BYE",
				       .branch = "z9hG4bKnicttcp",
				       .proto = "TCP",
				       .to_tag = "tt",
				       .sent_by = "192.0.2.1:5060" },
		   &bye);
	advance(&f, 5000);
	assert_int_equal(f.nsent, 1);
	t200 = now(&f);
	feed_resp(&f, bye, 200, NULL);
	advance(&f, 1);
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, 0);
	assert_true(f.ended[0].at - t200 <= 1);
	sip_msg_unref(bye);
	fx_done(&f, true);
}

/* What sip_tx_client_send() is given for a request: its bytes and the
 * fields the parser finds in them. */
static struct sip_tx_built built_of(const struct sip_msg *m)
{
	return (struct sip_tx_built){ .buf = m->buf,
				      .len = m->len,
				      .method = m->method,
				      .method_text = m->cseq_method_text,
				      .branch = m->vias[0].branch,
				      .via_host = m->vias[0].host,
				      .via_port = m->vias[0].port,
				      .call_id = m->call_id,
				      .from_tag = m->from.tag,
				      .cseq = m->cseq };
}

/*
 * A non-INVITE client transaction given its request as bytes (what duet
 * does for the BYE it builds): the same Figure 6 as a parsed one. It
 * sends those bytes, retransmits them (E), matches responses by branch
 * and CSeq method (§17.1.3), absorbs a retransmitted final while
 * Completed and ends at K; let go, it lingers slim the same way. Only
 * the request is missing: sip_tx_request() is NULL.
 */
static void test_nict_built(void **state)
{
	static const uint64_t want[] = { 0, 500 };
	struct fx f;
	struct sip_msg *bye, *opt;
	struct sip_tx *ct = NULL;
	struct sip_tx_built b;
	uint64_t t200;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	bye = make_req(&(struct req_spec){ .method = "BYE",
					   .branch = "z9hG4bKbuilt1",
					   .to_tag = "tt",
					   .sent_by = "192.0.2.1:5060" });
	b = built_of(bye);
	assert_int_equal(sip_tx_client_send(&ct, f.l, &b, &f.dest, &f), 0);
	assert_non_null(ct);
	assert_int_equal(sip_tx_kind(ct), SIP_TX_NICT);
	assert_int_equal(sip_tx_state(ct), TXS_TRYING);
	assert_null(sip_tx_request(ct));
	assert_int_equal(f.nsent, 1);
	assert_same_bytes(&f, 0, bye->buf, bye->len);
	advance(&f, 600); /* E at T1 */
	/* the right branch with another CSeq method is not its response */
	opt = make_req(&(struct req_spec){ .method = "OPTIONS",
					   .branch = "z9hG4bKbuilt1",
					   .to_tag = "tt",
					   .sent_by = "192.0.2.1:5060" });
	feed_resp(&f, opt, 200, NULL);
	assert_int_equal(f.nresp, 0);
	assert_int_equal(f.nstray, 1);
	t200 = now(&f);
	feed_resp(&f, bye, 200, NULL);
	assert_int_equal(f.nresp, 1);
	assert_int_equal(f.resp_code[0], 200);
	assert_int_equal(sip_tx_state(ct), TXS_COMPLETED);
	advance(&f, 1000);
	feed_resp(&f, bye, 200, NULL); /* absorbed */
	assert_int_equal(f.nresp, 1);
	assert_int_equal(stats(&f).retransmissions_absorbed, 1);
	advance(&f, t200 + T4 - now(&f)); /* K = T4 */
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, 0);
	assert_int_equal(f.ended[0].at, t200 + T4);
	assert_sends_at(&f, 0, 0, want, 2);
	sip_msg_unref(bye);

	/* let go at once: slim while it lingers, still absorbing */
	bye = make_req(&(struct req_spec){ .method = "BYE",
					   .branch = "z9hG4bKbuilt2",
					   .to_tag = "tt",
					   .sent_by = "192.0.2.1:5060" });
	b = built_of(bye);
	assert_int_equal(sip_tx_client_send(NULL, f.l, &b, &f.dest, &f), 0);
	t200 = now(&f);
	feed_resp(&f, bye, 481, NULL);
	assert_int_equal(f.nresp, 2);
	assert_int_equal(f.resp_code[1], 481);
	assert_int_equal(stats(&f).slimmed, 1);
	feed_resp(&f, bye, 481, NULL);
	assert_int_equal(f.nresp, 2);
	assert_int_equal(stats(&f).retransmissions_absorbed, 2);
	advance(&f, t200 + T4 - now(&f));
	assert_int_equal(f.nended, 2);
	assert_int_equal(stats(&f).live, 0);
	sip_msg_unref(bye);

	/* never an INVITE (its ACK and CANCEL need it parsed), an ACK, or
	 * a branch without the cookie */
	b = built_of(opt);
	b.method = SIP_METHOD_INVITE;
	assert_int_equal(sip_tx_client_send(&ct, f.l, &b, &f.dest, &f), EINVAL);
	b.method = SIP_METHOD_ACK;
	assert_int_equal(sip_tx_client_send(&ct, f.l, &b, &f.dest, &f), EINVAL);
	b = built_of(opt);
	b.branch = SLICE_LIT("nocookie");
	assert_int_equal(sip_tx_client_send(&ct, f.l, &b, &f.dest, &f), EINVAL);
	sip_msg_unref(opt);
	fx_done(&f, true);
}

/* --- Figure 7: INVITE server transaction ---------------------------- */

#define INVITE_IN(br) (&(struct req_spec){ .branch = (br) })

#define ACK_IN(br, tag)                                                        \
	(&(struct req_spec){ .method = "ACK", .branch = (br), .to_tag = (tag) })

#define BYE_IN(br, pr)                                                         \
	(&(struct req_spec){ .method = "BYE",                                  \
			     .branch = (br),                                   \
			     .proto = (pr),                                    \
			     .to_tag = "callee" })

static void test_ist_trying_timer(void **state)
{
	struct fx f;
	struct txl_config cfg;
	struct sip_msg *t;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, INVITE_IN("z9hG4bKist100"));
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.req_kind, SIP_TX_IST);
	assert_int_equal(sip_tx_state(f.req_st[0]), TXS_PROCEEDING);
	assert_int_equal(stats(&f).created[SIP_TX_IST], 1);
	advance(&f, 199);
	assert_int_equal(f.nsent, 0);
	advance(&f, 1); /* the TU did not answer in 200 ms */
	assert_int_equal(f.nsent, 1);
	assert_int_equal(f.sent[0].at, 200);
	t = sent_msg(&f, 0);
	assert_int_equal(t->status, 100);
	assert_slice(t->vias[0].branch, "z9hG4bKist100");
	assert_false(slice_present(t->to.tag));
	assert_int_equal(t->cseq_method, SIP_METHOD_INVITE);
	sip_msg_unref(t);
	advance(&f, 10000); /* once */
	assert_int_equal(f.nsent, 1);
	fx_done(&f, false);

	/* timers.trying == 0: at once */
	txl_config_default(&cfg);
	cfg.timers.trying = 0;
	fx_init(&f, SIP_PROTO_UDP, &cfg);
	feed_req(&f, INVITE_IN("z9hG4bKist100b"));
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(sent_status(&f, 0), 100);
	assert_int_equal(f.sent[0].at, 0);
	advance(&f, 1000);
	assert_int_equal(f.nsent, 1);
	fx_done(&f, false);

	/* the TU answers first: no 100 */
	fx_init(&f, SIP_PROTO_UDP, NULL);
	f.answer = 180;
	feed_req(&f, INVITE_IN("z9hG4bKist100c"));
	advance(&f, 1000);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(sent_status(&f, 0), 180);
	fx_done(&f, false);
}

static void test_ist_retx_provisional(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, INVITE_IN("z9hG4bKistp"));
	advance(&f, 50);
	feed_req(&f, INVITE_IN("z9hG4bKistp")); /* nothing sent yet */
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.nsent, 0);
	advance(&f, 150); /* 100 at 200 */
	assert_int_equal(f.nsent, 1);
	feed_req(&f, INVITE_IN("z9hG4bKistp"));
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.nsent, 2);
	assert_same_bytes(&f, 1, f.sent[0].buf, f.sent[0].len);
	assert_int_equal(tu_reply(f.req_st[0], 180, "callee"), 0);
	assert_int_equal(f.nsent, 3);
	assert_int_equal(sent_status(&f, 2), 180);
	feed_req(&f, INVITE_IN("z9hG4bKistp")); /* the last provisional */
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.nsent, 4);
	assert_same_bytes(&f, 3, f.sent[2].buf, f.sent[2].len);
	assert_int_equal(stats(&f).retransmissions_absorbed, 3);
	assert_int_equal(sip_tx_state(f.req_st[0]), TXS_PROCEEDING);
	fx_done(&f, false);
}

static void test_ist_486_timer_h(void **state)
{
	static const uint64_t want[] = { 0,	500,   1500,  3500,
					 7500,	11500, 15500, 19500,
					 23500, 27500, 31500 };
	struct fx f;
	struct sip_tx *st;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, INVITE_IN("z9hG4bKisth"));
	st = f.req_st[0];
	assert_int_equal(tu_reply(st, 486, "callee"), 0);
	assert_int_equal(sip_tx_state(st), TXS_COMPLETED);
	assert_int_equal(sip_tx_final_status(st), 486);
	assert_int_equal(sent_status(&f, 0), 486);
	/* lingering: the request is let go, matching copies stay */
	assert_null(sip_tx_request(st));
	assert_int_equal(tu_reply(st, 500, "callee"), EINVAL); /* only once */
	advance(&f, T64 - 1); /* G: T1, 2T1, ... capped at T2 */
	assert_int_equal(f.nended, 0);
	advance(&f, 1); /* H = 64*T1 */
	assert_sends_at(&f, 0, 0, want, sizeof(want) / sizeof(want[0]));
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, ETIMEDOUT);
	assert_int_equal(f.ended[0].at, T64);
	assert_ptr_equal(f.ended[0].arg, ARG(1));
	assert_int_equal(f.ended[0].kind, SIP_TX_IST);
	assert_int_equal(stats(&f).timed_out, 1);
	fx_done(&f, true);
}

static void test_ist_486_ack(void **state)
{
	struct fx f;
	struct sip_tx *st;
	uint64_t tack;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, INVITE_IN("z9hG4bKista"));
	st = f.req_st[0];
	assert_int_equal(tu_reply(st, 486, "callee"), 0);
	advance(&f, 600); /* G at 500 */
	assert_int_equal(f.nsent, 2);
	feed_req(&f, INVITE_IN("z9hG4bKista")); /* the 486 again */
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.nsent, 3);
	assert_same_bytes(&f, 2, f.sent[0].buf, f.sent[0].len);

	tack = now(&f);
	feed_req(&f, ACK_IN("z9hG4bKista", "callee"));
	assert_int_equal(f.nack, 0); /* part of the transaction */
	assert_int_equal(sip_tx_state(st), TXS_CONFIRMED);
	advance(&f, 1000);
	feed_req(&f, ACK_IN("z9hG4bKista", "callee"));
	assert_int_equal(f.nack, 0);
	advance(&f, tack + T4 - 1 - now(&f));
	assert_int_equal(f.nsent, 3); /* G stopped */
	assert_int_equal(f.nended, 0);
	advance(&f, 1); /* I = T4 */
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, 0);
	assert_int_equal(f.ended[0].at, tack + T4);
	assert_int_equal(stats(&f).completed, 1);
	fx_done(&f, true);
}

/* RFC 6026 §7.1, §8.5-8.7; the ACK of a 2xx is its own transaction. */
static void test_ist_2xx_accepted(void **state)
{
	struct fx f;
	struct sip_tx *st;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, INVITE_IN("z9hG4bKist2xx"));
	st = f.req_st[0];
	assert_int_equal(tu_reply(st, 200, "callee"), 0);
	assert_int_equal(sip_tx_state(st), TXS_ACCEPTED);
	assert_int_equal(sip_tx_final_status(st), 200);
	advance(&f, 2000); /* the TU, not the layer, retransmits a 2xx */
	assert_int_equal(f.nsent, 1);
	feed_req(&f, INVITE_IN("z9hG4bKist2xx")); /* absorbed */
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(stats(&f).retransmissions_absorbed, 1);
	assert_int_equal(tu_reply(st, 200, "callee"), 0); /* §13.3.1.4 */
	assert_int_equal(f.nsent, 2);

	/* the ACK of a 2xx has its own branch: to the TU */
	feed_req(&f, ACK_IN("z9hG4bKack2xx", "callee"));
	assert_int_equal(f.nack, 1);
	assert_string_equal(f.ack_branch, "z9hG4bKack2xx");
	assert_int_equal(f.nreq, 1);
	/* one with the INVITE's branch (RFC 6026 §8.7): to the TU too */
	feed_req(&f, ACK_IN("z9hG4bKist2xx", "callee"));
	assert_int_equal(f.nack, 2);
	assert_int_equal(sip_tx_state(st), TXS_ACCEPTED);

	advance(&f, T64 - 1 - now(&f));
	assert_int_equal(f.nended, 0);
	advance(&f, 1); /* L = 64*T1 */
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, 0);
	assert_int_equal(f.ended[0].at, T64);
	fx_done(&f, true);
}

/*
 * A lingering transaction the TU let go of moves into a compact block
 * (txl_stats.slimmed) and behaves as before: a non-INVITE server one
 * answers its request's retransmissions with the same bytes until Timer
 * J (§17.2.2), and still detects merged requests (§8.2.2.2).
 */
static void test_let_go_nist(void **state)
{
	struct fx f;
	const struct req_spec opt = { .method = "OPTIONS",
				      .branch = "z9hG4bKslim1" };

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	f.no_arg = true;
	f.answer = 200;
	feed_req(&f, &opt);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(sent_status(&f, 0), 200);
	assert_int_equal(stats(&f).slimmed, 1); /* no arg: let go at once */
	advance(&f, 1000);
	feed_req(&f, &opt); /* a retransmission: the stored 200 again */
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.nsent, 2);
	assert_same_bytes(&f, 1, f.sent[0].buf, f.sent[0].len);
	assert_int_equal(stats(&f).retransmissions_absorbed, 1);
	/* same Call-ID, From tag and CSeq, another branch: merged */
	feed_req(&f, &(struct req_spec){ .method = "OPTIONS",
					 .branch = "z9hG4bKslim2" });
	assert_int_equal(f.nreq, 1);
	assert_int_equal(stats(&f).merged_482, 1);
	assert_int_equal(sent_status(&f, 2), 482);
	advance(&f, T64 - 1 - now(&f));
	assert_int_equal(f.nended, 0);
	advance(&f, 1); /* J = 64*T1 */
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, 0);
	assert_null(f.ended[0].arg);
	assert_int_equal(f.ended[0].kind, SIP_TX_NIST);
	assert_int_equal(f.ended[0].at, T64);
	advance(&f, 1000); /* the 482's own J */
	assert_int_equal(f.nended, 2);
	fx_done(&f, true);
}

/* An INVITE server one in Accepted, let go: it absorbs the INVITE and
 * still passes an ACK with the INVITE's branch on (RFC 6026 §8.7), with
 * that ACK's source. */
static void test_let_go_ist_accepted(void **state)
{
	struct fx f;
	struct sip_tx *st;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, INVITE_IN("z9hG4bKslimist"));
	st = f.req_st[0];
	assert_int_equal(tu_reply(st, 200, "callee"), 0);
	/* the TU retransmits its 2xx: it goes out as given, not kept */
	assert_int_equal(sip_tx_reply(st, 200, f.sent[0].buf, f.sent[0].len),
			 0);
	assert_int_equal(f.nsent, 2);
	assert_same_bytes(&f, 1, f.sent[0].buf, f.sent[0].len);
	assert_int_equal(stats(&f).slimmed, 0); /* the TU holds it */
	sip_tx_let_go(st, NULL);
	assert_int_equal(stats(&f).slimmed, 1);
	feed_req(&f, INVITE_IN("z9hG4bKslimist"));
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.nsent, 2);
	assert_int_equal(stats(&f).retransmissions_absorbed, 1);
	feed_req(&f, ACK_IN("z9hG4bKslimist", "callee"));
	assert_int_equal(f.nack, 1); /* on_ack checks the source is given */
	assert_string_equal(f.ack_branch, "z9hG4bKslimist");
	advance(&f, T64);
	assert_int_equal(f.nended, 1);
	assert_null(f.ended[0].arg);
	assert_int_equal(f.ended[0].kind, SIP_TX_IST);
	fx_done(&f, true);
}

/* INVITE client ones: in Completed, let go, a retransmitted final gets
 * the same ACK (§17.1.1.2); in Accepted, a retransmitted 2xx still
 * reaches the arg given when letting go (RFC 6026 §8.4). One created
 * without `out` is let go from the start. */
static void test_let_go_ict(void **state)
{
	struct fx f;
	struct sip_msg *inv, *inv2, *inv3;
	struct sip_tx *ct, *ct2;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	ct = client_new(&f,
			&(struct req_spec){ .branch = "z9hG4bKslimict1",
					    .sent_by = "192.0.2.1:5060" },
			&inv);
	feed_resp(&f, inv, 486, "busy");
	assert_int_equal(f.nsent, 2); /* the INVITE, its ACK */
	sip_tx_let_go(ct, NULL);
	assert_int_equal(stats(&f).slimmed, 1);
	feed_resp(&f, inv, 486, "busy");
	assert_int_equal(f.nresp, 1);
	assert_int_equal(f.nsent, 3);
	assert_same_bytes(&f, 2, f.sent[1].buf, f.sent[1].len);

	ct2 = client_new(&f,
			 &(struct req_spec){ .branch = "z9hG4bKslimict2",
					     .sent_by = "192.0.2.1:5060",
					     .call_id = "c2@192.0.2.10" },
			 &inv2);
	feed_resp(&f, inv2, 200, "b1");
	assert_int_equal(f.nresp, 2);
	sip_tx_let_go(ct2, &f);
	assert_int_equal(stats(&f).slimmed, 2);
	feed_resp(&f, inv2, 200, "b1");
	assert_int_equal(f.nresp, 3);
	assert_int_equal(f.resp_code[2], 200);
	assert_ptr_equal(f.resp_arg, &f);

	inv3 = make_req(&(struct req_spec){ .branch = "z9hG4bKslimict3",
					    .sent_by = "192.0.2.1:5060",
					    .call_id = "c3@192.0.2.10" });
	assert_int_equal(sip_tx_client_new(NULL, f.l, inv3, &f.dest, &f), 0);
	feed_resp(&f, inv3, 200, "b3");
	assert_int_equal(stats(&f).slimmed, 3);
	feed_resp(&f, inv3, 200, "b3");
	assert_int_equal(f.nresp, 5);

	advance(&f, T64);
	assert_int_equal(f.nended, 3);
	assert_int_equal(stats(&f).live, 0);
	sip_msg_unref(inv);
	sip_msg_unref(inv2);
	sip_msg_unref(inv3);
	fx_done(&f, true);
}

/* RFC 6026 §8.8: a failed send leaves the server transaction in place
 * (the TU is told), so the INVITE's retransmissions are still absorbed. */
static void test_ist_2xx_send_failure(void **state)
{
	struct fx f;
	struct sip_tx *st;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, INVITE_IN("z9hG4bKistfail"));
	st = f.req_st[0];
	f.failing = true;
	assert_true(tu_reply(st, 200, "callee") != 0);
	f.failing = false;
	assert_int_equal(f.ntperr, 1);
	assert_true(f.tperr != 0);
	assert_ptr_equal(f.tperr_arg, ARG(1));
	assert_int_equal(f.tperr_state, TXS_ACCEPTED);
	assert_int_equal(f.nended, 0);
	assert_int_equal(sip_tx_state(st), TXS_ACCEPTED);
	assert_true(stats(&f).transport_errors >= 1);
	feed_req(&f, INVITE_IN("z9hG4bKistfail"));
	assert_int_equal(f.nreq, 1); /* not a new request */
	assert_int_equal(stats(&f).created[SIP_TX_IST], 1);
	assert_int_equal(tu_reply(st, 200, "callee"), 0); /* TU retries */
	assert_int_equal(f.nsent, 1);
	advance(&f, T64);
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, 0);
	fx_done(&f, true);
}

/* RFC 6026 §8.8 for a retransmission (Timer G) that cannot be sent. */
static void test_ist_retx_send_failure(void **state)
{
	struct fx f;
	struct sip_tx *st;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, INVITE_IN("z9hG4bKistgfail"));
	st = f.req_st[0];
	assert_int_equal(tu_reply(st, 486, "callee"), 0);
	f.failing = true;
	advance(&f, T1); /* G fires, the send fails */
	assert_int_equal(f.nfailed, 1);
	assert_int_equal(f.nended, 0);
	assert_int_equal(sip_tx_state(st), TXS_COMPLETED);
	assert_int_equal(f.ntperr, 1);
	fx_done(&f, false);
}

/* The layer's own 100 Trying (timers.trying == 0: sent before the TU
 * sees the request) fails: the TU is told then, and its own later
 * responses, which do get sent, are not reported as failed. */
static void test_ist_trying_send_failure(void **state)
{
	struct fx f;
	struct txl_config cfg;

	(void)state;
	txl_config_default(&cfg);
	cfg.timers.trying = 0;
	fx_init(&f, SIP_PROTO_UDP, &cfg);
	f.failing = true;
	feed_req(&f, INVITE_IN("z9hG4bKtryfail"));
	f.failing = false;
	assert_int_equal(f.nfailed, 1);
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.ntperr, 1);
	assert_int_equal(tu_reply(f.req_st[0], 180, "callee"), 0);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(f.ntperr, 1);
	fx_done(&f, false);
}

/* The same for a non-INVITE server transaction's final response. */
static void test_nist_send_failure(void **state)
{
	struct fx f;
	struct sip_tx *st;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, BYE_IN("z9hG4bKnistfail", "UDP"));
	st = f.req_st[0];
	f.failing = true;
	assert_true(tu_reply(st, 200, "callee") != 0);
	f.failing = false;
	assert_int_equal(f.ntperr, 1);
	assert_int_equal(f.tperr_state, TXS_COMPLETED);
	assert_int_equal(f.nended, 0);
	assert_int_equal(sip_tx_state(st), TXS_COMPLETED);
	feed_req(&f, BYE_IN("z9hG4bKnistfail", "UDP")); /* gets the 200 */
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(sent_status(&f, 0), 200);
	advance(&f, T64);
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, 0);
	fx_done(&f, true);
}

/* §18.2.1, RFC 3581 §4: responses carry received and rport. */
static void test_via_stamp(void **state)
{
	struct fx f;
	struct txl_config cfg;
	struct sip_msg *t;
	const struct sip_via_stamp *vs;

	(void)state;
	txl_config_default(&cfg);
	cfg.timers.trying = 0;
	fx_init(&f, SIP_PROTO_UDP, &cfg);
	assert_int_equal(
		tp_addr_set(&f.src.remote, SLICE_LIT("192.0.2.10"), 5070), 0);
	feed_req(&f, &(struct req_spec){ .branch = "z9hG4bKstamp;rport",
					 .sent_by = "pc.example.com" });
	vs = sip_tx_via_stamp(f.req_st[0]);
	assert_slice(vs->received, "192.0.2.10");
	assert_int_equal(vs->rport, 5070);
	t = sent_msg(&f, 0); /* the layer's own 100 is stamped too */
	assert_int_equal(t->status, 100);
	assert_slice(t->vias[0].received, "192.0.2.10");
	assert_true(t->vias[0].has_rport);
	assert_int_equal(t->vias[0].rport, 5070);
	sip_msg_unref(t);
	assert_int_equal(tu_reply(f.req_st[0], 486, "callee"), 0);
	t = sent_msg(&f, 1);
	assert_slice(t->vias[0].received, "192.0.2.10");
	assert_int_equal(t->vias[0].rport, 5070);
	sip_msg_unref(t);
	fx_done(&f, false);
}

/* Reliable transport: no G, H still runs, I = 0 (§17.2.1). */
static void test_ist_tcp(void **state)
{
	struct fx f;
	uint64_t tack;

	(void)state;
	fx_init(&f, SIP_PROTO_TCP, NULL);
	feed_req(&f, &(struct req_spec){ .branch = "z9hG4bKisttcp1",
					 .proto = "TCP" });
	assert_int_equal(tu_reply(f.req_st[0], 486, "callee"), 0);
	assert_int_equal(f.sent[0].proto, SIP_PROTO_TCP);
	advance(&f, T64 - 1);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(f.nended, 0);
	advance(&f, 1);
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, ETIMEDOUT);

	feed_req(&f, &(struct req_spec){ .branch = "z9hG4bKisttcp2",
					 .proto = "TCP",
					 .call_id = "c2@192.0.2.10" });
	assert_int_equal(tu_reply(f.req_st[1], 486, "callee"), 0);
	advance(&f, 10);
	tack = now(&f);
	feed_req(&f, &(struct req_spec){ .method = "ACK",
					 .branch = "z9hG4bKisttcp2",
					 .proto = "TCP",
					 .call_id = "c2@192.0.2.10",
					 .to_tag = "callee" });
	assert_int_equal(f.nack, 0);
	advance(&f, 1);
	assert_int_equal(f.nended, 2);
	assert_int_equal(f.ended[1].err, 0);
	assert_true(f.ended[1].at - tack <= 1);
	fx_done(&f, true);
}

/* An ACK no transaction knows (a 2xx's, after L) goes to the TU. */
static void test_ack_stray_to_tu(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, ACK_IN("z9hG4bKlone", "callee"));
	assert_int_equal(f.nack, 1);
	assert_int_equal(f.nreq, 0);
	assert_int_equal(f.nsent, 0);
	assert_int_equal(stats(&f).live, 0);
	fx_done(&f, true);
}

/* --- Figure 8: non-INVITE server transaction ------------------------ */

static void test_nist(void **state)
{
	struct fx f;
	struct sip_tx *st;
	uint64_t t200;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, BYE_IN("z9hG4bKnist", "UDP"));
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.req_kind, SIP_TX_NIST);
	st = f.req_st[0];
	assert_int_equal(sip_tx_state(st), TXS_TRYING);
	feed_req(&f, BYE_IN("z9hG4bKnist", "UDP")); /* silently absorbed */
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.nsent, 0);
	assert_int_equal(stats(&f).retransmissions_absorbed, 1);
	assert_int_equal(tu_reply(st, 100, NULL), 0);
	assert_int_equal(sip_tx_state(st), TXS_PROCEEDING);
	feed_req(&f, BYE_IN("z9hG4bKnist", "UDP")); /* the 100 again */
	assert_int_equal(f.nsent, 2);
	assert_same_bytes(&f, 1, f.sent[0].buf, f.sent[0].len);

	advance(&f, 100);
	t200 = now(&f);
	assert_int_equal(tu_reply(st, 200, "callee"), 0);
	assert_int_equal(sip_tx_state(st), TXS_COMPLETED);
	assert_int_equal(f.nsent, 3);
	assert_int_equal(sent_status(&f, 2), 200);
	feed_req(&f, BYE_IN("z9hG4bKnist", "UDP")); /* the 200 again */
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.nsent, 4);
	assert_same_bytes(&f, 3, f.sent[2].buf, f.sent[2].len);
	assert_int_equal(tu_reply(st, 200, "callee"), EINVAL);
	advance(&f, t200 + T64 - 1 - now(&f));
	assert_int_equal(f.nended, 0);
	assert_int_equal(f.nsent, 4); /* no retransmission timer in NIST */
	advance(&f, 1);		      /* J = 64*T1 on UDP */
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, 0);
	assert_int_equal(f.ended[0].at, t200 + T64);
	assert_ptr_equal(f.ended[0].arg, ARG(1));
	fx_done(&f, true);

	/* TCP: J = 0 */
	fx_init(&f, SIP_PROTO_TCP, NULL);
	feed_req(&f, BYE_IN("z9hG4bKnisttcp", "TCP"));
	advance(&f, 10);
	t200 = now(&f);
	assert_int_equal(tu_reply(f.req_st[0], 200, "callee"), 0);
	assert_int_equal(f.sent[0].proto, SIP_PROTO_TCP);
	advance(&f, 1);
	assert_int_equal(f.nended, 1);
	assert_int_equal(f.ended[0].err, 0);
	assert_true(f.ended[0].at - t200 <= 1);
	fx_done(&f, true);
}

/* --- Matching: §9.2 CANCEL, §8.2.2.2 merged requests, RFC 2543 ------- */

static void test_cancel_target(void **state)
{
	struct fx f;
	struct sip_tx *ist;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, &(struct req_spec){ .branch = "z9hG4bKcx", .cseq = 7 });
	ist = f.req_st[0];
	feed_req(&f, &(struct req_spec){ .method = "CANCEL",
					 .branch = "z9hG4bKcx",
					 .cseq = 7 });
	assert_int_equal(f.nreq, 2); /* a new transaction, not a retransmit */
	assert_int_equal(f.req_method, SIP_METHOD_CANCEL);
	assert_int_equal(f.req_kind, SIP_TX_NIST);
	assert_ptr_equal(f.cancel_target, ist);

	/* (other Call-IDs: the same From tag, Call-ID and CSeq with another
	 * branch would be a merged CANCEL, §8.2.2.2) */
	feed_req(&f, &(struct req_spec){ .method = "CANCEL",
					 .branch = "z9hG4bKunknown",
					 .call_id = "cy@192.0.2.10",
					 .cseq = 7 });
	assert_int_equal(f.nreq, 3);
	assert_null(f.cancel_target);

	/* §17.2.3: the sent-by must match as well */
	feed_req(&f, &(struct req_spec){ .method = "CANCEL",
					 .branch = "z9hG4bKcx",
					 .sent_by = "192.0.2.99:5060",
					 .call_id = "cz@192.0.2.10",
					 .cseq = 7 });
	assert_int_equal(f.nreq, 4);
	assert_null(f.cancel_target);
	assert_int_equal(stats(&f).merged_482, 0);

	assert_int_equal(tu_reply(f.req_st[1], 200, NULL), 0);
	assert_int_equal(tu_reply(ist, 487, "callee"), 0);
	assert_int_equal(stats(&f).live, 4);
	fx_done(&f, false); /* txl_free frees live transactions */
}

static void test_merged_482(void **state)
{
	struct fx f;
	struct sip_msg *r;
	char tag[64];

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, &(struct req_spec){ .branch = "z9hG4bKfork1" });
	assert_int_equal(f.nreq, 1);
	/* the same request forked upstream, arriving by another path */
	feed_req(&f, &(struct req_spec){ .branch = "z9hG4bKfork2",
					 .sent_by = "192.0.2.11:5060" });
	assert_int_equal(f.nreq, 1);
	assert_int_equal(stats(&f).merged_482, 1);
	assert_int_equal(f.nsent, 1);
	r = sent_msg(&f, 0);
	assert_int_equal(r->status, 482);
	assert_slice(r->vias[0].branch, "z9hG4bKfork2");
	assert_true(slice_present(r->to.tag));
	slice_to_cstr(r->to.tag, tag, sizeof(tag));
	sip_msg_unref(r);

	/* the merged request's retransmission: 482 again, still not the TU's */
	feed_req(&f, &(struct req_spec){ .branch = "z9hG4bKfork2",
					 .sent_by = "192.0.2.11:5060" });
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.nsent, 2);
	assert_int_equal(sent_status(&f, 1), 482);
	assert_int_equal(stats(&f).merged_482, 1);
	feed_req(&f, &(struct req_spec){ .method = "ACK",
					 .branch = "z9hG4bKfork2",
					 .sent_by = "192.0.2.11:5060",
					 .to_tag = tag });
	assert_int_equal(f.nack, 0);
	advance(&f, T4);
	assert_int_equal(f.nended, 1); /* the 482's transaction, after I */
	assert_int_equal(f.ended[0].err, 0);
	assert_null(f.ended[0].arg);
	assert_int_equal(stats(&f).live, 1);

	/* the original is unaffected */
	feed_req(&f, &(struct req_spec){ .branch = "z9hG4bKfork1" });
	assert_int_equal(f.nreq, 1);
	assert_int_equal(stats(&f).merged_482, 1);
	fx_done(&f, false);
}

static void test_rfc2543_retx(void **state)
{
	struct fx f;
	struct sip_tx *ist;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	feed_req(&f, &(struct req_spec){ .branch = "1a2b3c" });
	assert_int_equal(f.nreq, 1);
	ist = f.req_st[0];
	feed_req(&f, &(struct req_spec){ .branch = "1a2b3c" });
	assert_int_equal(f.nreq, 1);
	assert_int_equal(stats(&f).retransmissions_absorbed, 1);

	/* no branch parameter at all */
	feed_req(&f, &(struct req_spec){ .method = "OPTIONS",
					 .call_id = "c2543@192.0.2.10" });
	assert_int_equal(f.nreq, 2);
	assert_int_equal(f.req_kind, SIP_TX_NIST);
	feed_req(&f, &(struct req_spec){ .method = "OPTIONS",
					 .call_id = "c2543@192.0.2.10" });
	assert_int_equal(f.nreq, 2);
	assert_int_equal(stats(&f).retransmissions_absorbed, 2);
	/* a new CSeq is a new request */
	feed_req(&f, &(struct req_spec){ .method = "OPTIONS",
					 .call_id = "c2543@192.0.2.10",
					 .cseq = 2 });
	assert_int_equal(f.nreq, 3);

	/* so does a CANCEL (§9.2): same Request-URI, tags, Call-ID, CSeq
	 * number and top Via as the INVITE */
	feed_req(&f,
		 &(struct req_spec){ .method = "CANCEL", .branch = "1a2b3c" });
	assert_int_equal(f.nreq, 4);
	assert_ptr_equal(f.cancel_target, ist);

	/* the ACK of a non-2xx matches by the same rules (§17.2.3) */
	assert_int_equal(tu_reply(ist, 486, "callee"), 0);
	feed_req(&f, ACK_IN("1a2b3c", "callee"));
	assert_int_equal(f.nack, 0);
	assert_int_equal(sip_tx_state(ist), TXS_CONFIRMED);
	fx_done(&f, false);
}

/* Argument checks: EINVAL, nothing created. */
static void test_api_errors(void **state)
{
	struct fx f;
	struct txl *l = NULL;
	struct txl_config cfg;
	struct sip_msg *m;
	struct sip_tx *ct = NULL;

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	assert_int_equal(txl_new(&l, NULL, NULL, fake_send, &f, &test_ops, &f),
			 EINVAL);
	assert_int_equal(txl_new(&l, f.w, NULL, NULL, &f, &test_ops, &f),
			 EINVAL);
	assert_int_equal(txl_new(&l, f.w, NULL, fake_send, &f, NULL, &f),
			 EINVAL);
	txl_config_default(&cfg);
	cfg.timers.t1 = 0;
	assert_int_equal(txl_new(&l, f.w, &cfg, fake_send, &f, &test_ops, &f),
			 EINVAL);
	assert_null(l);

	/* client: never an ACK, a z9hG4bK branch required (§8.1.1.7) */
	m = make_req(&(struct req_spec){
		.method = "ACK", .branch = "z9hG4bKack", .to_tag = "t" });
	assert_int_equal(sip_tx_client_new(&ct, f.l, m, &f.dest, &f), EINVAL);
	sip_msg_unref(m);
	m = make_req(&(struct req_spec){ .branch = "nocookie" });
	assert_int_equal(sip_tx_client_new(&ct, f.l, m, &f.dest, &f), EINVAL);
	sip_msg_unref(m);
	m = make_req(&(struct req_spec){ .method = "OPTIONS" });
	assert_int_equal(sip_tx_client_new(&ct, f.l, m, &f.dest, &f), EINVAL);
	sip_msg_unref(m);
	assert_null(ct);
	assert_int_equal(f.nsent, 0);

	/* sip_tx_reply: server transactions, codes 100-699 */
	feed_req(&f, INVITE_IN("z9hG4bKapi"));
	assert_int_equal(sip_tx_reply(f.req_st[0], 99, "x", 1), EINVAL);
	assert_int_equal(sip_tx_reply(f.req_st[0], 700, "x", 1), EINVAL);
	assert_int_equal(f.nsent, 0);
	ct = client_new(&f,
			&(struct req_spec){ .branch = "z9hG4bKapic",
					    .call_id = "capi@192.0.2.10" },
			&m);
	assert_int_equal(sip_tx_reply(ct, 200, "x", 1), EINVAL);
	sip_msg_unref(m);
	assert_int_equal(stats(&f).live, 2);
	fx_done(&f, false);
}

/* The default linger grain: two BYE transactions answered 50 ms apart
 * end on the same 128 ms boundary, the first one T4 after its 200 at the
 * earliest (RFC 3261 §17.1.2.2: Timer K is a minimum). */
static void test_linger_grain(void **state)
{
	struct fx f;
	static const char *const branch[2] = { "z9hG4bKgrain1",
					       "z9hG4bKgrain2" };
	struct sip_msg *bye[2];
	uint64_t t1, end;

	(void)state;
	fx_init_raw(&f, SIP_PROTO_UDP, NULL);
	for (int i = 0; i < 2; i++)
		client_new(&f,
			   &(struct req_spec){ .method = "BYE",
					       .branch = branch[i],
					       .to_tag = "tt",
					       .sent_by = "192.0.2.1:5060" },
			   &bye[i]);
	/* the first 200 just after a boundary, the second 50 ms later: both
	 * Timer Ks (T4 each) end at the boundary after the first's, which
	 * is 127 ms after it, so never before the second's */
	advance(&f, 128 - (wheel_now(f.w) + T4) % 128 + 1);
	t1 = wheel_now(f.w);
	feed_resp(&f, bye[0], 200, NULL);
	advance(&f, 50);
	feed_resp(&f, bye[1], 200, NULL);
	end = (t1 + T4 + 127) / 128 * 128;
	advance(&f, end - 1 - wheel_now(f.w));
	assert_int_equal(f.nended, 0);
	advance(&f, 1);
	assert_int_equal(f.nended, 2);
	sip_msg_unref(bye[0]);
	sip_msg_unref(bye[1]);
	fx_done(&f, true);
}

/* txl_config.max_transactions: new server ones get 503, clients EMSGSIZE */
static void test_max_transactions(void **state)
{
	struct fx f;
	struct txl_config cfg;
	struct sip_msg *req;
	struct sip_tx *ct = NULL;

	(void)state;
	txl_config_default(&cfg);
	assert_int_equal(cfg.max_transactions, 500000);
	assert_int_equal(cfg.timers.t1, T1);
	assert_int_equal(cfg.timers.t2, T2);
	assert_int_equal(cfg.timers.t4, T4);
	assert_int_equal(cfg.timers.trying, 200);
	assert_int_equal(cfg.linger_grain_ms, 128);
	cfg.max_transactions = 1;
	fx_init(&f, SIP_PROTO_UDP, &cfg);
	feed_req(&f, INVITE_IN("z9hG4bKmax1"));
	assert_int_equal(f.nreq, 1);
	feed_req(&f, &(struct req_spec){ .method = "OPTIONS",
					 .branch = "z9hG4bKmax2",
					 .call_id = "cmax@192.0.2.10" });
	assert_int_equal(f.nreq, 1);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(sent_status(&f, 0), 503);
	req = make_req(&(struct req_spec){ .method = "OPTIONS",
					   .branch = "z9hG4bKmax3" });
	assert_int_equal(sip_tx_client_new(&ct, f.l, req, &f.dest, &f),
			 EMSGSIZE);
	assert_null(ct);
	sip_msg_unref(req);
	assert_int_equal(stats(&f).live, 1);
	fx_done(&f, false);
}

/* The match tables start at 1024 buckets and double as transactions
 * arrive; every transaction is still found (retransmissions absorbed,
 * ACKs matched) after several doublings. */
static void test_table_growth(void **state)
{
	struct fx f;
	char br[MAX_TX][32], cid[MAX_TX][32];

	(void)state;
	fx_init(&f, SIP_PROTO_UDP, NULL);
	for (unsigned i = 0; i < MAX_TX; i++) {
		snprintf(br[i], sizeof(br[i]), "z9hG4bKgrow%u", i);
		snprintf(cid[i], sizeof(cid[i]), "grow%u@192.0.2.10", i);
		feed_req(&f, &(struct req_spec){ .branch = br[i],
						 .call_id = cid[i] });
	}
	assert_int_equal(f.nreq, MAX_TX);
	assert_int_equal(stats(&f).live, MAX_TX);
	for (unsigned i = 0; i < MAX_TX; i++) /* all retransmissions */
		feed_req(&f, &(struct req_spec){ .branch = br[i],
						 .call_id = cid[i] });
	assert_int_equal(f.nreq, MAX_TX);
	assert_int_equal(stats(&f).live, MAX_TX);
	fx_done(&f, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_tables_expectation_sane),
		LEAK_TEST(test_table_growth),
		LEAK_TEST(test_tables_walk),
		LEAK_TEST(test_tables_names),
		LEAK_TEST(test_ict_udp_timer_b),
		LEAK_TEST(test_ict_udp_1xx_486_timer_d),
		LEAK_TEST(test_ict_tcp),
		LEAK_TEST(test_ict_transport_error),
		LEAK_TEST(test_ict_ack_transport_error),
		LEAK_TEST(test_ict_2xx_after_final),
		LEAK_TEST(test_ict_2xx_accepted),
		LEAK_TEST(test_nict_udp_timer_f),
		LEAK_TEST(test_nict_1xx_t2),
		LEAK_TEST(test_nict_200_timer_k),
		LEAK_TEST(test_nict_built),
		LEAK_TEST(test_ist_trying_timer),
		LEAK_TEST(test_ist_retx_provisional),
		LEAK_TEST(test_ist_486_timer_h),
		LEAK_TEST(test_ist_486_ack),
		LEAK_TEST(test_ist_2xx_accepted),
		LEAK_TEST(test_let_go_nist),
		LEAK_TEST(test_let_go_ist_accepted),
		LEAK_TEST(test_let_go_ict),
		LEAK_TEST(test_ist_2xx_send_failure),
		LEAK_TEST(test_ist_retx_send_failure),
		LEAK_TEST(test_ist_trying_send_failure),
		LEAK_TEST(test_nist_send_failure),
		LEAK_TEST(test_via_stamp),
		LEAK_TEST(test_ist_tcp),
		LEAK_TEST(test_ack_stray_to_tu),
		LEAK_TEST(test_nist),
		LEAK_TEST(test_cancel_target),
		LEAK_TEST(test_merged_482),
		LEAK_TEST(test_rfc2543_retx),
		LEAK_TEST(test_api_errors),
		LEAK_TEST(test_max_transactions),
		LEAK_TEST(test_linger_grain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
