/* SPDX-License-Identifier: MIT */
/*
 * The duet daemon: one event loop, the configured listeners, the
 * transaction layer, and the requests the layers built so far can answer
 * (RFC 3261 §8.2, §11). Until the two-leg call lands, OPTIONS gets 200
 * with duet's capabilities and any other method 501 Not Implemented, each
 * through a server transaction (retransmissions absorbed, 100 Trying).
 */
#include "daemon.h"

#include <signal.h>
#include <string.h>

#include <event2/event.h>

#include "duet/err.h"
#include "duet/leg_ident.h"
#include "duet/log.h"
#include "duet/sip_build.h"
#include "duet/sip_tx.h"

#define DUET_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS"

struct daemon {
	struct event_base *base;
	struct wheel *wheel;
	struct transport *tp;
	struct txl *txl;
	struct leg_ident ident;
	uint64_t answered, absorbed, bad;
};

static void reply(struct daemon *d, struct sip_tx *st,
		  const struct sip_msg *req, uint16_t code)
{
	char tag[LEG_IDENT_MAX];
	struct sip_writer w;
	int err;

	leg_ident_tag(&d->ident, tag);
	sip_writer_init(&w, 512);
	sip_build_response_head_stamped(&w, req, code, SLICE_NULL,
					slice_cstr(tag), sip_tx_via_stamp(st));
	if (code == 200 || code == 501) {
		sip_build_header_id(&w, SIP_HDR_ALLOW, SLICE_LIT(DUET_ALLOW));
		sip_build_header_id(&w, SIP_HDR_ACCEPT,
				    SLICE_LIT("application/sdp"));
	}
	sip_build_header_id(&w, SIP_HDR_SERVER, SLICE_LIT("duet"));
	err = sip_build_finish(&w, SLICE_NULL, SLICE_NULL);
	if (!err)
		err = sip_tx_reply(st, code, w.buf, w.len);
	if (err) {
		char cid[128];

		LOG_WARN("no %u sent for Call-ID %s: %s", code,
			 slice_to_cstr(req->call_id, cid, sizeof(cid)),
			 duet_strerror(err));
	} else {
		d->answered++;
	}
	sip_writer_free(&w);
}

static void on_request(struct txl *l, struct sip_tx *st, struct sip_msg *req,
		       const struct tp_source *src, void *arg)
{
	struct daemon *d = arg;
	char m[32], cid[128];

	(void)l;
	LOG_DEBUG("%s from %s Call-ID %s",
		  slice_to_cstr(req->method_text, m, sizeof(m)),
		  sip_proto_name(src->proto),
		  slice_to_cstr(req->call_id, cid, sizeof(cid)));
	if (!slice_eq_cstr(req->version, "SIP/2.0"))
		reply(d, st, req, 505);
	else if (req->method == SIP_METHOD_OPTIONS)
		reply(d, st, req, 200);
	else if (req->method == SIP_METHOD_CANCEL)
		/* §9.2: 200 when it matched an INVITE, else 481 */
		reply(d, st, req, sip_tx_cancel_target(st) ? 200 : 481);
	else
		reply(d, st, req, 501);
}

static void on_ack(struct txl *l, struct sip_msg *ack,
		   const struct tp_source *src, void *arg)
{
	struct daemon *d = arg;

	(void)l;
	(void)ack;
	(void)src;
	d->absorbed++; /* no dialogs yet: nothing to acknowledge */
}

static void on_recv(struct sip_msg *msg, const struct tp_source *src,
		    void *arg)
{
	struct daemon *d = arg;

	txl_receive(d->txl, msg, src);
}

static int on_send(const struct tp_dest *dest, const char *buf, size_t len,
		   void *arg)
{
	struct daemon *d = arg;

	return transport_send(d->tp, dest, buf, len);
}

static void on_bad(const char *buf, size_t len, int err, const char *why,
		   const struct tp_source *src, void *arg)
{
	struct daemon *d = arg;
	char from[64];

	(void)buf;
	d->bad++;
	LOG_WARN("dropped %zu bytes from %s over %s: %s (%s)", len,
		 tp_addr_str(&src->remote, from, sizeof(from)),
		 sip_proto_name(src->proto), why ? why : "", duet_errname(err));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	LOG_INFO("signal %d: stopping", (int)sig);
	event_base_loopexit(d->base, NULL);
}

static int listen_all(struct daemon *d, const struct duet_config *cfg)
{
	for (unsigned i = 0; i < cfg->listen_count; i++) {
		const struct config_listen *l = &cfg->listen[i];
		struct tp_addr bound;
		char a[64];
		int err = transport_listen(d->tp, l->proto, &l->addr, &bound);

		if (err) {
			LOG_ERROR("cannot listen on %s %s: %s",
				  sip_proto_name(l->proto),
				  tp_addr_str(&l->addr, a, sizeof(a)),
				  strerror(err));
			return err;
		}
		LOG_INFO("listening on %s %s", sip_proto_name(l->proto),
			 tp_addr_str(&bound, a, sizeof(a)));
	}
	return 0;
}

int daemon_run(const struct duet_config *cfg)
{
	static const struct transport_ops ops = { .recv = on_recv,
						  .bad = on_bad };
	static const struct txl_ops tops = { .request = on_request,
					     .ack = on_ack };
	struct transport_config tcfg;
	struct daemon d = { 0 };
	struct event *sigs[2] = { NULL, NULL };
	int status = 1;

	duet_log_set_level(cfg->log_level);
	transport_config_default(&tcfg);
	tcfg.limits = cfg->limits;
	signal(SIGPIPE, SIG_IGN);
	d.base = event_base_new();
	if (!d.base || leg_ident_init(&d.ident, 0, 0) ||
	    wheel_new(&d.wheel, d.base, duet_clock_monotonic()) ||
	    transport_new(&d.tp, d.base, d.wheel, &tcfg, &ops, &d) ||
	    txl_new(&d.txl, d.wheel, NULL, on_send, &d, &tops, &d)) {
		LOG_ERROR("cannot start the event loop");
		goto out;
	}
	if (listen_all(&d, cfg))
		goto out;
	sigs[0] = evsignal_new(d.base, SIGTERM, on_signal, &d);
	sigs[1] = evsignal_new(d.base, SIGINT, on_signal, &d);
	if (!sigs[0] || !sigs[1] || evsignal_add(sigs[0], NULL) ||
	    evsignal_add(sigs[1], NULL))
		goto out;
	LOG_INFO("duet running (OPTIONS answered, calls not yet: 501)");
	event_base_dispatch(d.base);
	LOG_INFO("stopped: %llu answered, %llu ACKs absorbed, %llu bad "
		 "messages",
		 (unsigned long long)d.answered,
		 (unsigned long long)d.absorbed, (unsigned long long)d.bad);
	status = 0;
out:
	for (int i = 0; i < 2; i++)
		if (sigs[i])
			event_free(sigs[i]);
	txl_free(d.txl);
	transport_free(d.tp);
	wheel_free(d.wheel);
	if (d.base)
		event_base_free(d.base);
	return status;
}
