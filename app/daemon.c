/* SPDX-License-Identifier: MIT */
/*
 * The duet daemon: one event loop, the configured listeners, the
 * transaction layer and the call layer. The policy decides each new
 * INVITE: relayed calls become two-leg calls, rejects get their code,
 * reason and Retry-After here, redirects their 3xx with Contacts (§21.3),
 * calls over the calls-per-second limits 503 with Retry-After (§21.5.4);
 * OPTIONS to duet gets 200 with its
 * capabilities (§11);
 * other out-of-dialog methods get 501 (REGISTER and SUBSCRIBE have issues
 * of their own). SIGTERM or
 * SIGINT: new calls get 503, calls in progress have the drain time, then
 * are ended on both legs. SIGHUP: the configuration file is compiled
 * again; new calls follow it, calls in progress keep the policy they
 * started with; a file with errors (each logged with its JSON path and
 * line:column) or with other listeners is refused and nothing changes.
 */
#include "daemon.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif
#include <string.h>

#include <event2/event.h>

#include "duet/alloc.h"
#include "duet/call.h"
#include "duet/err.h"
#include "duet/leg_ident.h"
#include "duet/log.h"
#include "duet/policy.h"
#include "duet/resolve.h"
#include "duet/sip_bad.h"
#include "duet/sip_build.h"
#include "duet/sip_tx.h"

/* what duet handles in a dialog too (legs/call_mid.c relays the rest of
 * the list; REFER is understood and refused by default) */
#define DUET_ALLOW                                                             \
	"INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, PRACK, MESSAGE, "    \
	"NOTIFY, REFER"

struct daemon {
	struct event_base *base;
	struct wheel *wheel;
	struct transport *tp;
	struct txl *txl;
	struct calls *calls;
	struct resolver *resolver; /* RFC 3263 for host-name targets */
	struct leg_ident ident;
	const struct duet_config *cfg;
	struct policy *policy; /* a reference; SIGHUP swaps it */
	/* the decision for the INVITE being handed to the call layer */
	struct policy_decision pending;
	bool have_pending;
	struct policy_bucket cps;	 /* limits.calls_per_second */
	struct policy_bucket *route_cps; /* routes[i].limits.calls_per_second */
	bool draining;
	struct wheel_timer drain_timer;
	struct wheel_timer trim_timer;
	unsigned trim_peak; /* most live transactions of this burst */
	unsigned trim_mark; /* trim when they are down to this */
	struct event *stop_check;
	uint64_t answered, absorbed, bad;
};

/* A final answer from duet itself. dec and ps (both may be NULL): the
 * route's decision it answers for (its reason, Retry-After, a 3xx's
 * targets as Contacts, its A-leg response headers) and where the request
 * came from. */
static void reply_dec(struct daemon *d, struct sip_tx *st,
		      const struct sip_msg *req, uint16_t code,
		      const struct policy_decision *dec,
		      const struct policy_source *ps)
{
	char tag[LEG_IDENT_MAX];
	struct sip_writer w;
	int err;

	leg_ident_tag(&d->ident, tag);
	sip_writer_init(&w, 512);
	sip_build_response_head_stamped(&w, req, code,
					slice_cstr(dec ? dec->reason : NULL),
					slice_cstr(tag), sip_tx_via_stamp(st));
	for (size_t i = 0; dec && code < 400 && i < dec->target_count; i++) {
		sip_writer_cstr(&w, "Contact: <");
		sip_writer_cstr(&w, dec->targets[i].uri);
		sip_writer_cstr(&w, ">\r\n");
	}
	if (dec && dec->retry_after) {
		sip_writer_cstr(&w, "Retry-After: ");
		sip_writer_u32(&w, dec->retry_after);
		sip_writer_cstr(&w, "\r\n");
	}
	/* a route's own answers carry its A-leg response headers, as its
	 * calls' answers do (legs/call_build.c) */
	if (dec && dec->rule && ps &&
	    policy_header_write_adds(&w, dec->rule, POLICY_LEG_A, true, req,
				     ps))
		LOG_WARN("route %s: headers not added", dec->route);
	if (code == 200 || code == 501) {
		sip_build_header_id(&w, SIP_HDR_ALLOW, SLICE_LIT(DUET_ALLOW));
		sip_build_header_id(&w, SIP_HDR_ACCEPT,
				    SLICE_LIT("application/sdp"));
		/* RFC 3262 on each leg (legs/call_prack.c) */
		sip_build_header_id(&w, SIP_HDR_SUPPORTED, SLICE_LIT("100rel"));
	}
	policy_header_write_server(&w, dec ? dec->rule : NULL, POLICY_LEG_A);
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

static void reply(struct daemon *d, struct sip_tx *st,
		  const struct sip_msg *req, uint16_t code)
{
	reply_dec(d, st, req, code, NULL, NULL);
}

/*
 * A new INVITE: the policy decides here, so rejects, redirects and the
 * calls-per-second limits are answered before a call exists; a relay goes
 * on to the call layer, which takes the decision through route_policy().
 * Returns true when the INVITE was answered here.
 */
static bool decide_invite(struct daemon *d, struct sip_tx *st,
			  const struct sip_msg *req,
			  const struct tp_source *src)
{
	struct policy_source ps = { .proto = src->proto,
				    .remote = src->remote };
	struct policy_decision *dec = &d->pending;
	uint64_t now = duet_clock_now(duet_clock_monotonic());
	const struct policy_bucket *full = NULL;
	char cid[128];
	int err;

	policy_decision_clear(dec);
	d->have_pending = false;
	err = policy_decide(d->policy, req, &ps, dec);
	if (err) {
		LOG_WARN("no decision for Call-ID %s: %s",
			 slice_to_cstr(req->call_id, cid, sizeof(cid)),
			 duet_strerror(err));
		policy_decision_clear(dec);
		reply(d, st, req, 500);
		return true;
	}
	if (dec->action != POLICY_REJECT) {
		if (!policy_bucket_take(&d->cps, now))
			full = &d->cps;
		else if (dec->rule &&
			 !policy_bucket_take(
				 &d->route_cps[policy_route_index(dec->rule)],
				 now))
			full = &d->route_cps[policy_route_index(dec->rule)];
	}
	if (full) {
		LOG_INFO("Call-ID %s [%s]: over the calls-per-second limit",
			 slice_to_cstr(req->call_id, cid, sizeof(cid)),
			 dec->route);
		/* a route's limit says its Retry-After (docs/policy.md);
		 * the global one, the time to the next token */
		dec->retry_after =
			full != &d->cps && policy_route_limits(dec->rule)
						   ->retry_after
				? policy_route_limits(dec->rule)->retry_after
				: policy_bucket_wait_s(full, now);
		duet_free(dec->reason);
		dec->reason = NULL;
		for (size_t i = 0; i < dec->target_count; i++) /* no Contacts */
			duet_free(dec->targets[i].uri);
		dec->target_count = 0;
		reply_dec(d, st, req, 503, dec, &ps);
		policy_decision_clear(dec);
		return true;
	}
	if (dec->action == POLICY_REDIRECT || dec->action == POLICY_REJECT) {
		LOG_INFO("Call-ID %s [%s]: %s %u",
			 slice_to_cstr(req->call_id, cid, sizeof(cid)),
			 dec->route, policy_action_name(dec->action),
			 (unsigned)dec->status);
		reply_dec(d, st, req, dec->status, dec, &ps);
		policy_decision_clear(dec);
		return true;
	}
	d->have_pending = true;
	return false;
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
	if (!slice_eq_cstr(req->version, "SIP/2.0")) {
		reply(d, st, req, 505);
		return;
	}
	if (d->draining && req->method == SIP_METHOD_INVITE && !req->to.tag.p) {
		reply(d, st, req, 503); /* shutting down: no new calls */
		return;
	}
	if (req->method == SIP_METHOD_INVITE && !req->to.tag.p &&
	    decide_invite(d, st, req, src))
		return;
	if (calls_on_request(d->calls, st, req, src)) {
		if (d->have_pending) /* answered before routing */
			policy_decision_clear(&d->pending);
		d->have_pending = false;
		return;
	}
	if (req->method == SIP_METHOD_OPTIONS)
		reply(d, st, req, 200);
	else
		reply(d, st, req, 501);
}

static void on_ack(struct txl *l, struct sip_msg *ack,
		   const struct tp_source *src, void *arg)
{
	struct daemon *d = arg;

	(void)l;
	d->absorbed++;
	calls_on_ack(d->calls, ack, src);
}

static void on_stray(struct txl *l, struct sip_msg *resp,
		     const struct tp_source *src, void *arg)
{
	struct daemon *d = arg;

	(void)l;
	calls_on_stray(d->calls, resp, src);
}

/* The call layer asks where a new call goes: the decision just taken. */
static int route_policy(const struct sip_msg *invite,
			const struct tp_source *src,
			struct policy_decision *dec, void *arg)
{
	struct daemon *d = arg;
	struct policy_source ps = { .proto = src->proto,
				    .remote = src->remote };

	if (!d->have_pending)
		return policy_decide(d->policy, invite, &ps, dec);
	policy_decision_clear(dec);
	*dec = d->pending;
	policy_decision_init(&d->pending);
	d->have_pending = false;
	return 0;
}

static void on_recv(struct sip_msg *msg, const struct tp_source *src, void *arg)
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
	char from[64], tag[LEG_IDENT_MAX];
	struct sip_writer w;
	bool answered = false;

	d->bad++;
	/* a request that still shows its Via, From, To, Call-ID and CSeq
	 * gets 400 with the reason (RFC 3261 §8.2.6.2, RFC 4475 §3.1.2);
	 * not one too large for duet, whose end is missing */
	if (err == EBADMSG) {
		struct tp_dest dest = { .proto = src->proto,
					.remote = src->remote,
					.conn = src->conn };

		leg_ident_tag(&d->ident, tag);
		sip_writer_init(&w, 512);
		answered = !sip_bad_request_reply(buf, len, why,
						  slice_cstr(tag), &w) &&
			   !transport_send(d->tp, &dest, w.buf, w.len);
		sip_writer_free(&w);
	}
	LOG_WARN("%s %zu bytes from %s over %s: %s (%s)",
		 answered ? "answered 400 to" : "dropped", len,
		 tp_addr_str(&src->remote, from, sizeof(from)),
		 sip_proto_name(src->proto), why ? why : "", duet_errname(err));
}

/* Stop the loop once no call is left (checked each second). */
static void on_stop_check(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct calls_stats st;

	(void)fd;
	(void)what;
	calls_stats(d->calls, &st);
	if (st.active == 0)
		event_base_loopexit(d->base, NULL);
}

/*
 * After a burst, the memory of ended transactions and calls goes back to
 * the allocator, which keeps it: malloc_trim hands whole free pages back
 * to the system, and txl_trim the empty chunks of the lingering
 * transactions' arenas, so a daemon that carried a peak does not stay
 * that big.
 * Twice per burst: when the live transactions are down to an eighth of
 * their peak, and when none is left. A trim walks the heap and gives back
 * each free run of pages with its own madvise (100-200 of them after a
 * 1000 calls/s burst), and the pages come back as page faults when the
 * load does, so trimming all along the fall cost more than it saved.
 */
#define TRIM_EVERY_MS 2000
#define TRIM_MIN_PEAK 2000 /* transactions; smaller peaks are not worth it */
/*
 * Nor is a heap with less than this free: a burst of 1000 calls/s leaves
 * about 7.5 MB (the lingering transactions live in their own arenas), and
 * giving it back costs some 1900 page faults when the load returns (about
 * 12 us each on the bench machine: 2 us per call of the next burst).
 * glibc's own trim threshold grows to 64 MiB for the same reason. After
 * 20,000 held calls end, the heap holds well over 100 MB free.
 */
#define TRIM_MIN_FREE ((size_t)16 << 20)

#ifdef __GLIBC__
/* Is the heap's free memory worth handing back? */
static bool heap_worth_trimming(void)
{
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)
	return mallinfo2().fordblks >= TRIM_MIN_FREE;
#else
	return true;
#endif
}
#endif

static void on_trim(struct wheel_timer *t, void *arg)
{
	struct daemon *d = arg;
	struct txl_stats xs;

	txl_stats(d->txl, &xs);
	if (xs.live > d->trim_peak) {
		d->trim_peak = xs.live;
		d->trim_mark = xs.live / 8;
	}
	if (d->trim_peak >= TRIM_MIN_PEAK && xs.live <= d->trim_mark) {
		d->trim_mark = 0;
		if (xs.live == 0)
			d->trim_peak = 0; /* the burst is over */
		txl_trim(d->txl);
#ifdef __GLIBC__
		if (heap_worth_trimming())
			malloc_trim(0);
#endif
	}
	wheel_timer_start(d->wheel, t, TRIM_EVERY_MS);
}

static void on_drain_over(struct wheel_timer *t, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { 0, 100000 };

	(void)t;
	LOG_INFO("drain time over: ending the calls left");
	calls_shutdown(d->calls);
	/* a bounded wait for the BYEs and CANCELs to finish */
	event_add(d->stop_check, &tv);
	event_base_loopexit(d->base, &(struct timeval){ 5, 0 });
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct calls_stats st;

	(void)what;
	calls_stats(d->calls, &st);
	if (d->draining || st.active == 0) {
		LOG_INFO("signal %d: stopping", (int)sig);
		event_base_loopexit(d->base, NULL);
		return;
	}
	LOG_INFO("signal %d: draining %u calls for %u ms", (int)sig, st.active,
		 (unsigned)policy_settings(d->policy)->drain);
	d->draining = true;
	wheel_timer_start(d->wheel, &d->drain_timer,
			  policy_settings(d->policy)->drain);
	event_add(d->stop_check, &(struct timeval){ 0, 200000 });
}

static bool same_listen(const struct policy_settings *a,
			const struct policy_settings *b)
{
	if (a->listen_count != b->listen_count)
		return false;
	for (unsigned i = 0; i < a->listen_count; i++)
		if (a->listen[i].proto != b->listen[i].proto ||
		    a->listen[i].addr.len != b->listen[i].addr.len ||
		    memcmp(&a->listen[i].addr.ss, &b->listen[i].addr.ss,
			   a->listen[i].addr.len) != 0)
			return false;
	return true;
}

/* Each route's calls-per-second bucket, full. */
static struct policy_bucket *route_buckets(struct policy *p, uint64_t now)
{
	size_t n = policy_route_count(p);
	struct policy_bucket *b = calloc(n ? n : 1, sizeof(*b));

	for (size_t i = 0; b && i < n; i++)
		policy_bucket_init(&b[i],
				   policy_route_limits(policy_route_at(p, i))
					   ->calls_per_second,
				   0, now);
	return b;
}

/* Log the compiler's report, one line per error or warning. */
static void log_report(const char *text, bool errors)
{
	while (text && *text) {
		const char *nl = strchr(text, '\n');
		int n = nl ? (int)(nl - text) : (int)strlen(text);

		if (n && errors)
			LOG_ERROR("reload: %.*s", n, text);
		else if (n)
			LOG_WARN("reload: %.*s", n, text);
		text += n + (nl ? 1 : 0);
	}
}

/*
 * SIGHUP: compile the file again. Errors: every one logged, the running
 * policy stays. Other listeners: refused (listeners are bound once, at
 * start; a restart changes them). Otherwise the new policy decides every
 * new call; calls in progress hold a reference to the policy they
 * started with and keep it. Timers T1/T2/T4 and "trying" belong to the
 * transaction layer and take effect at the next start (logged);
 * ring_timeout, max_calls, calls_per_second and log_level apply at once.
 */
static void reload(struct daemon *d)
{
	const char *path = policy_file(d->policy);
	const struct policy_settings *old = policy_settings(d->policy), *s;
	uint64_t now = duet_clock_now(duet_clock_monotonic());
	struct policy *p = NULL;
	struct policy_bucket *rb;
	struct calls_config cc;
	char *report = NULL;
	size_t report_len = 0;
	unsigned warnings = 0;
	FILE *errs = open_memstream(&report, &report_len);
	int err;

	LOG_INFO("SIGHUP: reloading %s", path);
	err = policy_load_file(&p, path, errs ? errs : stderr, &warnings);
	if (errs)
		fclose(errs);
	log_report(report, err != 0);
	free(report);
	if (err) {
		LOG_ERROR("reload of %s refused (%s): the running policy stays",
			  path, duet_strerror(err));
		return;
	}
	s = policy_settings(p);
	if (!same_listen(old, s)) {
		LOG_ERROR("reload of %s refused: \"listen\" changed, and "
			  "listeners change only with a restart; the running "
			  "policy stays",
			  path);
		policy_unref(p);
		return;
	}
	rb = route_buckets(p, now);
	if (!rb) {
		LOG_ERROR("reload of %s refused: out of memory", path);
		policy_unref(p);
		return;
	}
	if (s->t1 != old->t1 || s->t2 != old->t2 || s->t4 != old->t4 ||
	    s->trying != old->trying ||
	    s->udp_read_window_us != old->udp_read_window_us)
		LOG_WARN("reload: timers t1, t2, t4, trying and "
			 "udp_read_window_us take effect at the next start");
	free(d->route_cps);
	d->route_cps = rb;
	policy_bucket_init(&d->cps, s->calls_per_second, 0, now);
	config_calls(&cc, s);
	cc.t1 = old->t1; /* the transaction layer's */
	cc.t2 = old->t2;
	calls_set_config(d->calls, &cc);
	duet_log_set_level(s->log_level);
	policy_unref(d->policy);
	d->policy = p;
	LOG_INFO("reloaded %s: %zu route%s, %u warning%s; calls in progress "
		 "keep the policy they started with",
		 path, policy_route_count(p),
		 policy_route_count(p) == 1 ? "" : "s", warnings,
		 warnings == 1 ? "" : "s");
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	reload(arg);
}

/*
 * The resolver's nameservers: /etc/resolv.conf, or the one server named by
 * DUET_DNS_SERVER=IP:PORT in the environment (tests run their own DNS
 * server on a loopback port; resolv.conf has no port).
 */
static const struct resolve_config *resolver_config(struct resolve_config *rc)
{
	const char *env = getenv("DUET_DNS_SERVER");
	const char *colon = env ? strrchr(env, ':') : NULL;
	char *end = NULL;
	unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;

	resolve_config_default(rc);
	if (!env || !*env)
		return rc;
	if (!colon || !end || *end || port == 0 || port > 65535 ||
	    tp_addr_set(&rc->servers[0], slice_make(env, (size_t)(colon - env)),
			(uint16_t)port)) {
		LOG_WARN("DUET_DNS_SERVER=%s is not IP:PORT: ignored", env);
		return rc;
	}
	rc->n_servers = 1;
	LOG_INFO("DNS server from DUET_DNS_SERVER: %s", env);
	return rc;
}

static int listen_all(struct daemon *d, const struct duet_config *cfg)
{
	for (unsigned i = 0; i < cfg->s->listen_count; i++) {
		const struct policy_listen *l = &cfg->s->listen[i];
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
					     .ack = on_ack,
					     .stray_response = on_stray,
					     .response = calls_tx_response,
					     .ended = calls_tx_ended };
	struct txl_config xcfg;
	struct resolve_config rcfg;
	struct calls_config ccfg;
	struct calls_env env;
	struct transport_config tcfg;
	struct daemon d = { 0 };
	struct event *sigs[3] = { NULL, NULL, NULL };
	const struct policy_settings *s = cfg->s;
	uint64_t now = duet_clock_now(duet_clock_monotonic());
	size_t nroutes = policy_route_count(cfg->policy);
	int status = 1;

	duet_log_set_level(s->log_level);
	d.cfg = cfg;
	d.policy = policy_ref(cfg->policy);
	policy_decision_init(&d.pending);
	policy_bucket_init(&d.cps, s->calls_per_second, 0, now);
	d.route_cps = route_buckets(d.policy, now);
	if (!d.route_cps)
		goto out;
	transport_config_default(&tcfg);
	tcfg.limits = s->limits;
	tcfg.udp_window_us = s->udp_read_window_us;
	txl_config_default(&xcfg);
	xcfg.timers = (struct sip_tx_timers){
		.t1 = s->t1, .t2 = s->t2, .t4 = s->t4, .trying = s->trying
	};
	if (s->max_transactions)
		xcfg.max_transactions = s->max_transactions;
	config_calls(&ccfg, s);
	wheel_timer_init(&d.drain_timer, on_drain_over, &d);
	wheel_timer_init(&d.trim_timer, on_trim, &d);
	signal(SIGPIPE, SIG_IGN);
	d.base = event_base_new();
	if (!d.base || leg_ident_init(&d.ident, 0, 0) ||
	    wheel_new(&d.wheel, d.base, duet_clock_monotonic()) ||
	    transport_new(&d.tp, d.base, d.wheel, &tcfg, &ops, &d) ||
	    txl_new(&d.txl, d.wheel, &xcfg, on_send, &d, &tops, &d) ||
	    resolve_new(&d.resolver, d.base, d.wheel, resolver_config(&rcfg))) {
		LOG_ERROR("cannot start the event loop");
		goto out;
	}
	env = (struct calls_env){ .txl = d.txl,
				  .tp = d.tp,
				  .wheel = d.wheel,
				  .ident = &d.ident,
				  .route = route_policy,
				  .route_arg = &d,
				  .resolver = d.resolver };
	d.stop_check = event_new(d.base, -1, EV_PERSIST, on_stop_check, &d);
	if (!d.stop_check || calls_new(&d.calls, &env, &ccfg)) {
		LOG_ERROR("cannot start the call layer");
		goto out;
	}
	if (listen_all(&d, cfg))
		goto out;
	sigs[0] = evsignal_new(d.base, SIGTERM, on_signal, &d);
	sigs[1] = evsignal_new(d.base, SIGINT, on_signal, &d);
	sigs[2] = evsignal_new(d.base, SIGHUP, on_hup, &d);
	if (!sigs[0] || !sigs[1] || !sigs[2] || evsignal_add(sigs[0], NULL) ||
	    evsignal_add(sigs[1], NULL) || evsignal_add(sigs[2], NULL))
		goto out;
	LOG_INFO("duet running; %zu route%s from %s", nroutes,
		 nroutes == 1 ? "" : "s", policy_file(cfg->policy));
	wheel_timer_start(d.wheel, &d.trim_timer, TRIM_EVERY_MS);
	event_base_dispatch(d.base);
	{
		struct calls_stats cs;
		struct txl_stats xs;
		struct transport_stats ts;

		calls_stats(d.calls, &cs);
		txl_stats(d.txl, &xs);
		LOG_INFO("stopped: calls %llu created, %llu answered, %llu "
			 "failed, %u active; %llu local answers, %llu bad "
			 "messages; transactions: %u live, %llu timed out, "
			 "%llu retransmissions sent, %llu absorbed",
			 (unsigned long long)cs.created,
			 (unsigned long long)cs.answered,
			 (unsigned long long)cs.failed, cs.active,
			 (unsigned long long)d.answered,
			 (unsigned long long)d.bad, xs.live,
			 (unsigned long long)xs.timed_out,
			 (unsigned long long)xs.retransmissions_sent,
			 (unsigned long long)xs.retransmissions_absorbed);
		transport_stats(d.tp, &ts);
		LOG_INFO("stopped: udp: %llu datagrams in at %llu wakeups and "
			 "%llu read windows (%llu resized), %llu sendmmsg",
			 (unsigned long long)ts.rx_msgs,
			 (unsigned long long)ts.udp_wakeups,
			 (unsigned long long)ts.udp_windows,
			 (unsigned long long)ts.udp_window_resizes,
			 (unsigned long long)ts.tx_batches);
	}
	status = 0;
out:
	for (int i = 0; i < 3; i++)
		if (sigs[i])
			event_free(sigs[i]);
	calls_free(d.calls);
	resolve_free(d.resolver);
	txl_free(d.txl);
	if (d.stop_check)
		event_free(d.stop_check);
	wheel_timer_cancel(&d.drain_timer);
	wheel_timer_cancel(&d.trim_timer);
	transport_free(d.tp);
	wheel_free(d.wheel);
	if (d.base)
		event_base_free(d.base);
	policy_decision_clear(&d.pending);
	free(d.route_cps);
	policy_unref(d.policy);
	return status;
}
