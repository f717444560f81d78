/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the RFC 3263 resolver (§4.1 transport, §4.2 port and
 * address; RFC 2782 SRV ordering; RFC 3403 NAPTR) against a DNS server
 * run inside the test on 127.0.0.1 (libevent's evdns server side, or a
 * raw socket for answers evdns cannot send), and of the RFC 1035 wire
 * decoder with malformed packets. Timeouts and TTLs run on a manual clock.
 */
#include "test_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <event2/event.h>

#include "duet/clock.h"
#include "duet/err.h"
#include "duet/resolve.h"
#include "duet/sip_uri.h"
#include "duet/wheel.h"

#define CAP_MS 2000	 /* no wait in these tests lasts longer */
#define TIMEOUT_MS 1000u /* per try, on the manual clock */

/* ---- a DNS server from a table of records ----------------------------- */

struct zrec {
	char qname[128]; /* the question it answers */
	uint16_t qtype;
	int section;
	char owner[128];
	uint16_t type;
	uint32_t ttl;
	uint8_t rdata[160];
	int len;
};

enum raw_mode { RAW_TC = 1, RAW_GARBAGE, RAW_SPOOF, RAW_SERVFAIL };

struct dns_srv {
	struct evdns_server_port *port;
	struct tp_addr addr;
	struct zrec recs[32];
	unsigned n;
	bool silent, servfail;
	unsigned n_req;
	unsigned n_type[64]; /* requests by type (A 1, AAAA 28, SRV 33...) */
	/* raw mode: a plain socket answering by hand */
	enum raw_mode raw;
	int raw_fd;
	struct event *raw_ev;
};

static size_t wire_name(uint8_t *out, const char *name)
{
	size_t o = 0;

	if (strcmp(name, ".") == 0)
		name = ""; /* the root */
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		out[o++] = (uint8_t)n;
		memcpy(out + o, name, n);
		o += n;
		name += n + (dot ? 1 : 0);
	}
	out[o++] = 0;
	return o;
}

static struct zrec *zadd(struct dns_srv *s, const char *qname, uint16_t qtype,
			 int section, const char *owner, uint16_t type,
			 uint32_t ttl)
{
	struct zrec *z;

	assert_true(s->n < 32);
	z = &s->recs[s->n++];
	memset(z, 0, sizeof(*z));
	snprintf(z->qname, sizeof(z->qname), "%s", qname);
	snprintf(z->owner, sizeof(z->owner), "%s", owner);
	z->qtype = qtype;
	z->section = section;
	z->type = type;
	z->ttl = ttl;
	return z;
}

static void z_addr(struct dns_srv *s, const char *name, const char *ip,
		   uint32_t ttl)
{
	bool v6 = strchr(ip, ':') != NULL;
	uint16_t t = v6 ? RESOLVE_DNS_AAAA : RESOLVE_DNS_A;
	struct zrec *z = zadd(s, name, t, EVDNS_ANSWER_SECTION, name, t, ttl);

	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, ip, z->rdata), 1);
	z->len = v6 ? 16 : 4;
}

/* An address in the additional section of the SRV answer for srvname. */
static void z_extra(struct dns_srv *s, const char *srvname, const char *owner,
		    const char *ip)
{
	bool v6 = strchr(ip, ':') != NULL;
	uint16_t t = v6 ? RESOLVE_DNS_AAAA : RESOLVE_DNS_A;
	struct zrec *z = zadd(s, srvname, RESOLVE_DNS_SRV,
			      EVDNS_ADDITIONAL_SECTION, owner, t, 300);

	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, ip, z->rdata), 1);
	z->len = v6 ? 16 : 4;
}

static void z_srv(struct dns_srv *s, const char *name, uint16_t prio,
		  uint16_t weight, uint16_t port, const char *target)
{
	struct zrec *z = zadd(s, name, RESOLVE_DNS_SRV, EVDNS_ANSWER_SECTION,
			      name, RESOLVE_DNS_SRV, 300);
	uint8_t *p = z->rdata;

	p[0] = (uint8_t)(prio >> 8), p[1] = (uint8_t)prio;
	p[2] = (uint8_t)(weight >> 8), p[3] = (uint8_t)weight;
	p[4] = (uint8_t)(port >> 8), p[5] = (uint8_t)port;
	z->len = 6 + (int)wire_name(p + 6, target);
}

static size_t put_string(uint8_t *p, const char *s)
{
	p[0] = (uint8_t)strlen(s);
	memcpy(p + 1, s, p[0]);
	return 1u + p[0];
}

static void z_naptr(struct dns_srv *s, const char *name, uint16_t order,
		    uint16_t pref, const char *flags, const char *service,
		    const char *replacement)
{
	struct zrec *z = zadd(s, name, RESOLVE_DNS_NAPTR, EVDNS_ANSWER_SECTION,
			      name, RESOLVE_DNS_NAPTR, 300);
	uint8_t *p = z->rdata;
	size_t o = 4;

	p[0] = (uint8_t)(order >> 8), p[1] = (uint8_t)order;
	p[2] = (uint8_t)(pref >> 8), p[3] = (uint8_t)pref;
	o += put_string(p + o, flags);
	o += put_string(p + o, service);
	o += put_string(p + o, "");
	o += wire_name(p + o, replacement);
	z->len = (int)o;
}

/* Answer from the table: NXDOMAIN for names it does not know at all. */
static void srv_cb(struct evdns_server_request *req, void *arg)
{
	struct dns_srv *s = arg;
	struct evdns_server_question *qn;
	bool known = false;

	assert_int_equal(req->nquestions, 1);
	qn = req->questions[0];
	s->n_req++;
	if (qn->type >= 0 && qn->type < 64)
		s->n_type[qn->type]++;
	if (s->silent) {
		evdns_server_request_drop(req);
		return;
	}
	for (unsigned i = 0; i < s->n; i++) {
		const struct zrec *z = &s->recs[i];

		if (strcasecmp(z->qname, qn->name) != 0)
			continue;
		known = true;
		if (z->qtype == qn->type)
			assert_int_equal(evdns_server_request_add_reply(
						 req, z->section, z->owner,
						 z->type, EVDNS_CLASS_INET,
						 (int)z->ttl, z->len, 0,
						 (const char *)z->rdata),
					 0);
	}
	evdns_server_request_respond(req, s->servfail ? DNS_ERR_SERVERFAILED
					  : known     ? DNS_ERR_NONE
						      : DNS_ERR_NOTEXIST);
}

/* ---- the raw responder -------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The query with QR set, plus one A answer (pointer to the question)
 * when it asked for A. */
static size_t raw_answer(uint8_t *out, const uint8_t *q, size_t n,
			 uint16_t flags, const char *ip)
{
	memcpy(out, q, n);
	put16(out + 2, flags);
	put16(out + 6, 0);
	if (out[n - 3] != RESOLVE_DNS_A || !ip)
		return n;
	put16(out + 6, 1);
	out[n] = 0xc0, out[n + 1] = 12;
	put16(out + n + 2, RESOLVE_DNS_A);
	put16(out + n + 4, 1);
	memset(out + n + 6, 0, 4);
	out[n + 9] = 60;
	put16(out + n + 10, 4);
	inet_pton(AF_INET, ip, out + n + 12);
	return n + 16;
}

static void raw_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_srv *s = arg;
	uint8_t q[512], out[600];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n =
		recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
	size_t len;

	(void)what;
	if (n < 17)
		return;
	s->n_req++;
	switch (s->raw) {
	case RAW_TC: /* QR RD RA TC */
		len = raw_answer(out, q, (size_t)n, 0x8380, NULL);
		break;
	case RAW_GARBAGE: /* a question name that points at itself */
		len = raw_answer(out, q, (size_t)n, 0x8180, NULL);
		out[12] = 0xc0, out[13] = 12;
		len = 18;
		break;
	case RAW_SERVFAIL:
		len = raw_answer(out, q, (size_t)n, 0x8182, NULL);
		break;
	case RAW_SPOOF: /* a wrong ID, a wrong question, then the answer */
		len = raw_answer(out, q, (size_t)n, 0x8180, "203.0.113.66");
		out[1] ^= 1;
		sendto(fd, out, len, 0, (struct sockaddr *)&from, fl);
		out[1] ^= 1;
		out[14] = 'z'; /* the name's second letter: another name */
		sendto(fd, out, len, 0, (struct sockaddr *)&from, fl);
		len = raw_answer(out, q, (size_t)n, 0x8180, "192.0.2.99");
		break;
	default:
		return;
	}
	sendto(fd, out, len, 0, (struct sockaddr *)&from, fl);
}

/* ---- fixture ---------------------------------------------------------- */

struct fx {
	struct event_base *base;
	struct manual_clock mc;
	struct wheel *wheel;
	struct resolver *r;
	struct resolve_config cfg;
	struct dns_srv dns;
	uint32_t rnd[8];
	unsigned n_rnd, i_rnd;
	unsigned n_done;
	int err;
	struct resolve_result res;
	int fds;
};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static uint32_t fx_rand(void *arg)
{
	struct fx *f = arg;

	assert_true(f->n_rnd > 0);
	return f->rnd[f->i_rnd++ % f->n_rnd];
}

static int bind_udp(struct tp_addr *bound)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	memset(bound, 0, sizeof(*bound));
	bound->len = sizeof(bound->ss);
	assert_int_equal(
		getsockname(fd, (struct sockaddr *)&bound->ss, &bound->len), 0);
	return fd;
}

/* A loop, a manual-clock wheel, a DNS server; the resolver comes with
 * fx_start() once the test has set records and configuration. */
static void fx_init(struct fx *f, enum raw_mode raw)
{
	int fd;

	memset(f, 0, sizeof(*f));
	f->fds = count_fds();
	f->base = event_base_new();
	assert_non_null(f->base);
	manual_clock_init(&f->mc, 1000000);
	assert_int_equal(wheel_new(&f->wheel, NULL, &f->mc.clock), 0);
	fd = bind_udp(&f->dns.addr);
	f->dns.raw = raw;
	f->dns.raw_fd = -1;
	if (raw) {
		f->dns.raw_fd = fd;
		f->dns.raw_ev = event_new(f->base, fd, EV_READ | EV_PERSIST,
					  raw_cb, &f->dns);
		assert_int_equal(event_add(f->dns.raw_ev, NULL), 0);
	} else {
		f->dns.port = evdns_add_server_port_with_base(f->base, fd, 0,
							      srv_cb, &f->dns);
		assert_non_null(f->dns.port);
	}
	resolve_config_default(&f->cfg);
	f->cfg.servers[0] = f->dns.addr;
	f->cfg.n_servers = 1;
	f->cfg.timeout_ms = TIMEOUT_MS;
	f->cfg.random = fx_rand;
	f->cfg.random_arg = f;
}

static void fx_start(struct fx *f)
{
	assert_int_equal(resolve_new(&f->r, f->base, f->wheel, &f->cfg), 0);
}

static void fx_done(struct fx *f)
{
	resolve_free(f->r);
	if (f->dns.port)
		evdns_close_server_port(f->dns.port);
	if (f->dns.raw_ev) {
		event_free(f->dns.raw_ev);
		close(f->dns.raw_fd);
	}
	assert_int_equal(wheel_count(f->wheel), 0);
	wheel_free(f->wheel);
	event_base_free(f->base);
	assert_int_equal(count_fds(), f->fds);
}

/* Run the loop until cond holds, at most CAP_MS. */
struct cap {
	struct event *ev;
	bool expired;
};

static void cap_fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	((struct cap *)arg)->expired = true;
}

static void cap_start(struct event_base *base, struct cap *c)
{
	struct timeval tv = { CAP_MS / 1000, (CAP_MS % 1000) * 1000 };

	c->expired = false;
	c->ev = evtimer_new(base, cap_fire, c);
	assert_non_null(c->ev);
	evtimer_add(c->ev, &tv);
}

#define RUN_UNTIL(f, cond)                                                     \
	do {                                                                   \
		struct cap c__;                                                \
		cap_start((f)->base, &c__);                                    \
		while (!(cond) && !c__.expired)                                \
			event_base_loop((f)->base, EVLOOP_ONCE);               \
		event_free(c__.ev);                                            \
		assert_true(cond);                                             \
	} while (0)

/* Let whatever is in flight on loopback arrive and be handled: run the
 * loop for a bounded 20 ms (the DNS server's event keeps it busy). */
static void settle(struct fx *f)
{
	struct timeval tv = { 0, 20000 };

	assert_int_equal(event_base_loopexit(f->base, &tv), 0);
	assert_int_equal(event_base_dispatch(f->base), 0);
}

static void on_done(int err, const struct resolve_result *res, void *arg)
{
	struct fx *f = arg;

	f->n_done++;
	f->err = err;
	assert_non_null(res);
	f->res = *res;
}

static struct resolve_query *start(struct fx *f, const char *text)
{
	struct resolve_query *q = NULL;
	struct sip_uri uri;

	f->n_done = 0;
	f->err = -1;
	memset(&f->res, 0, sizeof(f->res));
	assert_int_equal(sip_uri_parse(&uri, slice_cstr(text), NULL), 0);
	assert_int_equal(resolve_uri(f->r, &uri, on_done, f, &q), 0);
	assert_non_null(q);
	assert_int_equal(f->n_done, 0); /* never from inside resolve_uri */
	return q;
}

static void resolve(struct fx *f, const char *text)
{
	start(f, text);
	RUN_UNTIL(f, f->n_done == 1);
}

static void expect(const struct fx *f, int err, const char *const *want)
{
	unsigned n = 0;

	assert_int_equal(f->n_done, 1);
	assert_int_equal(f->err, err);
	while (want[n])
		n++;
	for (unsigned i = 0; i < f->res.n && i < n; i++) {
		char a[64], got[80];

		snprintf(got, sizeof(got), "%s %s",
			 sip_proto_name(f->res.t[i].proto),
			 tp_addr_str(&f->res.t[i].addr, a, sizeof(a)));
		assert_string_equal(got, want[i]);
	}
	assert_int_equal(f->res.n, n);
}

#define EXPECT(f, err, ...)                                                    \
	expect((f), (err), (const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT_NONE(f, err) expect((f), (err), (const char *const[]){ NULL })

static struct resolve_stats stats(const struct fx *f)
{
	struct resolve_stats st;

	resolve_stats(f->r, &st);
	return st;
}

/* ---- RFC 3263 rules ---------------------------------------------------- */

static void test_numeric_ipv4(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	fx_start(&f);
	resolve(&f, "sip:192.0.2.1");
	EXPECT(&f, 0, "UDP 192.0.2.1:5060");
	resolve(&f, "sip:alice@192.0.2.1:5070;transport=TCP");
	EXPECT(&f, 0, "TCP 192.0.2.1:5070");
	resolve(&f, "sips:192.0.2.1");
	EXPECT(&f, 0, "TLS 192.0.2.1:5061");
	resolve(&f, "sip:192.0.2.1;transport=tls");
	EXPECT(&f, 0, "TLS 192.0.2.1:5061");
	/* maddr replaces the host */
	resolve(&f, "sip:example.com;maddr=192.0.2.7");
	EXPECT(&f, 0, "UDP 192.0.2.7:5060");
	assert_int_equal(f.dns.n_req, 0);
	assert_int_equal(stats(&f).queries_sent, 0);
	fx_done(&f);
}

static void test_numeric_ipv6(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	fx_start(&f);
	resolve(&f, "sip:[2001:db8::1]");
	EXPECT(&f, 0, "UDP [2001:db8::1]:5060");
	resolve(&f, "sips:bob@[2001:db8::2]:5081;transport=tcp");
	EXPECT(&f, 0, "TLS [2001:db8::2]:5081");
	resolve(&f, "sip:example.com;maddr=[2001:db8::3]");
	EXPECT(&f, 0, "UDP [2001:db8::3]:5060");
	assert_int_equal(f.dns.n_req, 0);
	fx_done(&f);
}

static void test_bad_uris(void **state)
{
	static const struct {
		const char *uri;
		int err;
	} cases[] = {
		{ "tel:+15551234567", EINVAL },
		{ "sips:example.com;transport=udp", EINVAL },
		{ "sips:192.0.2.1;transport=udp", EINVAL },
		{ "sip:example.com;transport=sctp", EPROTONOSUPPORT },
	};
	struct fx f;
	struct resolve_query *q = NULL;

	(void)state;
	fx_init(&f, 0);
	fx_start(&f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_uri uri;

		assert_int_equal(
			sip_uri_parse(&uri, slice_cstr(cases[i].uri), NULL), 0);
		assert_int_equal(resolve_uri(f.r, &uri, on_done, &f, &q),
				 cases[i].err);
	}
	assert_null(q);
	settle(&f);
	assert_int_equal(f.n_done, 0);
	assert_int_equal(stats(&f).pending, 0);
	fx_done(&f);
}

static void test_name_with_port(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	z_addr(&f.dns, "host.example.com", "192.0.2.10", 60);
	z_addr(&f.dns, "host.example.com", "192.0.2.11", 60);
	z_addr(&f.dns, "host.example.com", "2001:db8::10", 60);
	fx_start(&f);
	resolve(&f, "sip:Host.Example.COM.:5070");
	EXPECT(&f, 0, "UDP 192.0.2.10:5070", "UDP 192.0.2.11:5070",
	       "UDP [2001:db8::10]:5070");
	assert_int_equal(f.dns.n_req, 2);
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_A], 1);
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_AAAA], 1);
	resolve(&f, "sips:host.example.com:5071");
	EXPECT(&f, 0, "TLS 192.0.2.10:5071", "TLS 192.0.2.11:5071",
	       "TLS [2001:db8::10]:5071");
	/* maddr naming a host, port from the URI */
	resolve(&f, "sip:192.0.2.1:5080;maddr=host.example.com;transport=tcp");
	EXPECT(&f, 0, "TCP 192.0.2.10:5080", "TCP 192.0.2.11:5080",
	       "TCP [2001:db8::10]:5080");
	assert_int_equal(f.dns.n_req, 2); /* the cache answered */
	fx_done(&f);
}

static void test_transport_param_srv(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	z_srv(&f.dns, "_sip._tcp.example.com", 10, 0, 5080, "a.example.com");
	z_srv(&f.dns, "_sip._udp.example.com", 10, 0, 5090, "b.example.com");
	z_addr(&f.dns, "a.example.com", "192.0.2.20", 60);
	z_addr(&f.dns, "b.example.com", "192.0.2.21", 60);
	z_addr(&f.dns, "noserv.example.com", "192.0.2.22", 60);
	z_srv(&f.dns, "_sips._tcp.example.com", 10, 0, 5091, "a.example.com");
	fx_start(&f);
	resolve(&f, "sip:example.com;transport=tcp");
	EXPECT(&f, 0, "TCP 192.0.2.20:5080");
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_NAPTR], 0);
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_SRV], 1);
	resolve(&f, "sips:example.com;transport=tcp");
	EXPECT(&f, 0, "TLS 192.0.2.20:5091");
	/* no SRV record: A/AAAA at the transport's default port */
	resolve(&f, "sip:noserv.example.com;transport=tcp");
	EXPECT(&f, 0, "TCP 192.0.2.22:5060");
	resolve(&f, "sip:noserv.example.com;transport=tls");
	EXPECT(&f, 0, "TLS 192.0.2.22:5061");
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_NAPTR], 0);
	fx_done(&f);
}

static void test_naptr_srv_a_chain(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	/* order beats preference; unusable services are skipped */
	z_naptr(&f.dns, "example.com", 20, 10, "S", "SIP+D2U",
		"_sip._udp.example.com");
	z_naptr(&f.dns, "example.com", 10, 50, "s", "SIP+D2T",
		"_sip._tcp.example.com");
	z_naptr(&f.dns, "example.com", 5, 10, "s", "SIPS+D2T",
		"_sips._tcp.example.com");
	z_naptr(&f.dns, "example.com", 1, 10, "u", "E2U+sip", "");
	z_naptr(&f.dns, "example.com", 2, 10, "s", "SIP+D2S",
		"_sip._sctp.example.com");
	z_srv(&f.dns, "_sip._tcp.example.com", 1, 0, 5062, "t.example.com");
	z_srv(&f.dns, "_sip._udp.example.com", 1, 0, 5061, "u.example.com");
	z_srv(&f.dns, "_sips._tcp.example.com", 1, 0, 5063, "t.example.com");
	z_addr(&f.dns, "t.example.com", "192.0.2.30", 60);
	z_addr(&f.dns, "u.example.com", "192.0.2.31", 60);
	z_addr(&f.dns, "u.example.com", "2001:db8::31", 60);
	fx_start(&f);
	resolve(&f, "sip:example.com");
	EXPECT(&f, 0, "TCP 192.0.2.30:5062", "UDP 192.0.2.31:5061",
	       "UDP [2001:db8::31]:5061");
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_NAPTR], 1);
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_SRV], 2);
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_A], 2);
	/* sips keeps only SIPS+D2T */
	resolve(&f, "sips:example.com");
	EXPECT(&f, 0, "TLS 192.0.2.30:5063");
	fx_done(&f);
}

static void test_srv_priority_weight(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	z_srv(&f.dns, "_sip._udp.w.example.com", 10, 60, 5001, "a.example.com");
	z_srv(&f.dns, "_sip._udp.w.example.com", 10, 40, 5002, "b.example.com");
	z_srv(&f.dns, "_sip._udp.w.example.com", 20, 0, 5003, "c.example.com");
	z_srv(&f.dns, "_sip._udp.w.example.com", 5, 0, 5004, "d.example.com");
	z_srv(&f.dns, "_sip._udp.w.example.com", 30, 0, 5005, ".");
	z_addr(&f.dns, "a.example.com", "192.0.2.1", 60);
	z_addr(&f.dns, "b.example.com", "192.0.2.2", 60);
	z_addr(&f.dns, "c.example.com", "192.0.2.3", 60);
	z_addr(&f.dns, "d.example.com", "192.0.2.4", 60);
	f.rnd[0] = 70; /* 70 % 101 = 70 > 60: b first */
	f.n_rnd = 1;
	fx_start(&f);
	resolve(&f, "sip:w.example.com;transport=udp");
	EXPECT(&f, 0, "UDP 192.0.2.4:5004", "UDP 192.0.2.2:5002",
	       "UDP 192.0.2.1:5001", "UDP 192.0.2.3:5003");
	assert_int_equal(f.i_rnd, 1); /* one draw: the only group of two */
	/* the order is drawn again for each query, from the cache */
	f.rnd[0] = 101 + 60; /* 60: the running sum of a reaches it */
	resolve(&f, "sip:w.example.com;transport=udp");
	EXPECT(&f, 0, "UDP 192.0.2.4:5004", "UDP 192.0.2.1:5001",
	       "UDP 192.0.2.2:5002", "UDP 192.0.2.3:5003");
	f.rnd[0] = 61;
	resolve(&f, "sip:w.example.com;transport=udp");
	EXPECT(&f, 0, "UDP 192.0.2.4:5004", "UDP 192.0.2.2:5002",
	       "UDP 192.0.2.1:5001", "UDP 192.0.2.3:5003");
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_SRV], 1);
	fx_done(&f);
}

static void test_srv_zero_weights_first(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	z_srv(&f.dns, "_sip._tcp.z.example.com", 1, 10, 5001, "a.example.com");
	z_srv(&f.dns, "_sip._tcp.z.example.com", 1, 0, 5002, "b.example.com");
	z_srv(&f.dns, "_sip._tcp.z.example.com", 1, 10, 5003, "c.example.com");
	z_addr(&f.dns, "a.example.com", "192.0.2.1", 60);
	z_addr(&f.dns, "b.example.com", "192.0.2.2", 60);
	z_addr(&f.dns, "c.example.com", "192.0.2.3", 60);
	/* draws: 0 picks the zero-weight b (run 0 >= 0), then 15 of [0,20]
	 * passes a (10) and picks c (20) */
	f.rnd[0] = 0;
	f.rnd[1] = 15;
	f.n_rnd = 2;
	fx_start(&f);
	resolve(&f, "sip:z.example.com;transport=tcp");
	EXPECT(&f, 0, "TCP 192.0.2.2:5002", "TCP 192.0.2.3:5003",
	       "TCP 192.0.2.1:5001");
	fx_done(&f);
}

static void test_no_naptr_srv_fallback(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	z_srv(&f.dns, "_sip._udp.s.example.com", 1, 0, 5070, "x.example.com");
	z_srv(&f.dns, "_sip._tcp.s.example.com", 1, 0, 5071, "y.example.com");
	z_addr(&f.dns, "x.example.com", "192.0.2.40", 60);
	z_addr(&f.dns, "y.example.com", "192.0.2.41", 60);
	z_addr(&f.dns, "y.example.com", "2001:db8::41", 60);
	z_addr(&f.dns, "s.example.com", "192.0.2.49", 60); /* not used */
	fx_start(&f);
	resolve(&f, "sip:s.example.com");
	EXPECT(&f, 0, "UDP 192.0.2.40:5070", "TCP 192.0.2.41:5071",
	       "TCP [2001:db8::41]:5071");
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_NAPTR], 1);
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_SRV], 2);
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_A], 2);
	fx_done(&f);
}

static void test_no_srv_a_fallback(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	z_addr(&f.dns, "plain.example.com", "192.0.2.50", 60);
	z_addr(&f.dns, "plain.example.com", "2001:db8::50", 60);
	fx_start(&f);
	resolve(&f, "sip:plain.example.com");
	EXPECT(&f, 0, "UDP 192.0.2.50:5060", "UDP [2001:db8::50]:5060");
	/* NAPTR, _sip._udp, _sip._tcp, A, AAAA */
	assert_int_equal(f.dns.n_req, 5);
	resolve(&f, "sips:plain.example.com");
	EXPECT(&f, 0, "TLS 192.0.2.50:5061", "TLS [2001:db8::50]:5061");
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_SRV], 3); /* + _sips._tcp */
	fx_done(&f);
}

static void test_srv_additional_section(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	z_srv(&f.dns, "_sip._udp.add.example.com", 1, 0, 5060, "g.example.com");
	z_srv(&f.dns, "_sip._udp.add.example.com", 2, 0, 5062, "h.example.com");
	z_extra(&f.dns, "_sip._udp.add.example.com", "g.example.com",
		"192.0.2.60");
	z_extra(&f.dns, "_sip._udp.add.example.com", "g.example.com",
		"2001:db8::60");
	z_extra(&f.dns, "_sip._udp.add.example.com", "other.example.com",
		"203.0.113.1"); /* not a target: ignored */
	z_addr(&f.dns, "h.example.com", "192.0.2.61", 60);
	fx_start(&f);
	resolve(&f, "sip:add.example.com;transport=udp");
	EXPECT(&f, 0, "UDP 192.0.2.60:5060", "UDP [2001:db8::60]:5060",
	       "UDP 192.0.2.61:5062");
	/* SRV, then A and AAAA of h only */
	assert_int_equal(f.dns.n_req, 3);
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_A], 1);
	/* from the cache, the additional records come along */
	resolve(&f, "sip:add.example.com;transport=udp");
	EXPECT(&f, 0, "UDP 192.0.2.60:5060", "UDP [2001:db8::60]:5060",
	       "UDP 192.0.2.61:5062");
	assert_int_equal(f.dns.n_req, 3);
	fx_done(&f);
}

static void test_nxdomain(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	fx_start(&f);
	resolve(&f, "sip:nowhere.example.com");
	EXPECT_NONE(&f, ENOENT);
	assert_int_equal(f.dns.n_req, 5);
	resolve(&f, "sip:nowhere.example.com:5060");
	EXPECT_NONE(&f, ENOENT);
	assert_int_equal(f.dns.n_req, 5); /* negative answers are cached */
	assert_int_equal(stats(&f).errors, 0);
	fx_done(&f);
}

static void test_servfail(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	f.dns.servfail = true;
	fx_start(&f);
	resolve(&f, "sip:broken.example.com:5060");
	EXPECT_NONE(&f, EBADMSG);
	assert_int_equal(f.dns.n_req, 2);
	assert_int_equal(stats(&f).errors, 2);
	/* failures are not cached */
	f.dns.servfail = false;
	z_addr(&f.dns, "broken.example.com", "192.0.2.70", 60);
	resolve(&f, "sip:broken.example.com:5060");
	EXPECT(&f, 0, "UDP 192.0.2.70:5060");
	fx_done(&f);
}

/* ---- timeouts, cache, cancel ------------------------------------------- */

static void test_timeout_retries(void **state)
{
	struct fx f;
	struct resolve_stats st;

	(void)state;
	fx_init(&f, 0);
	f.dns.silent = true;
	f.cfg.retries = 1;
	fx_start(&f);
	start(&f, "sip:quiet.example.com:5060");
	RUN_UNTIL(&f, f.dns.n_req == 2); /* A and AAAA */
	wheel_advance(f.wheel, &f.mc, TIMEOUT_MS - 1);
	settle(&f);
	assert_int_equal(f.dns.n_req, 2);
	wheel_advance(f.wheel, &f.mc, 1);
	RUN_UNTIL(&f, f.dns.n_req == 4); /* the retries */
	wheel_advance(f.wheel, &f.mc, TIMEOUT_MS - 1);
	settle(&f);
	assert_int_equal(f.n_done, 0);
	wheel_advance(f.wheel, &f.mc, 1);
	assert_int_equal(f.n_done, 0); /* delivered from the loop */
	RUN_UNTIL(&f, f.n_done == 1);
	EXPECT_NONE(&f, ETIMEDOUT);
	st = stats(&f);
	assert_int_equal(st.queries_sent, 4);
	assert_int_equal(st.retransmits, 2);
	assert_int_equal(st.timeouts, 2);
	assert_int_equal(st.pending, 0);
	fx_done(&f);
}

/* A silent server through the whole NAPTR -> SRV -> A chain: three
 * rounds of timeouts. */
static void test_timeout_chain(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	f.dns.silent = true;
	f.cfg.retries = 0;
	fx_start(&f);
	start(&f, "sip:quiet.example.com");
	RUN_UNTIL(&f, f.dns.n_req == 1);
	wheel_advance(f.wheel, &f.mc, TIMEOUT_MS);
	RUN_UNTIL(&f, f.dns.n_req == 3);
	wheel_advance(f.wheel, &f.mc, TIMEOUT_MS);
	RUN_UNTIL(&f, f.dns.n_req == 5);
	wheel_advance(f.wheel, &f.mc, TIMEOUT_MS);
	RUN_UNTIL(&f, f.n_done == 1);
	EXPECT_NONE(&f, ETIMEDOUT);
	assert_int_equal(stats(&f).timeouts, 5);
	fx_done(&f);
}

/* The same with libevent's own timers and the real clock (50 ms). */
static void test_timeout_real_clock(void **state)
{
	struct fx f;
	struct wheel *w;

	(void)state;
	fx_init(&f, 0);
	assert_int_equal(wheel_new(&w, f.base, duet_clock_monotonic()), 0);
	f.dns.silent = true;
	f.cfg.timeout_ms = 50;
	f.cfg.retries = 1;
	assert_int_equal(resolve_new(&f.r, f.base, w, &f.cfg), 0);
	start(&f, "sip:quiet.example.com:5060");
	RUN_UNTIL(&f, f.n_done == 1);
	EXPECT_NONE(&f, ETIMEDOUT);
	assert_int_equal(f.dns.n_req, 4);
	resolve_free(f.r);
	f.r = NULL;
	assert_int_equal(wheel_count(w), 0);
	wheel_free(w);
	fx_done(&f);
}

static void test_cache_ttl(void **state)
{
	struct fx f;
	struct resolve_stats st;

	(void)state;
	fx_init(&f, 0);
	z_addr(&f.dns, "host.example.com", "192.0.2.10", 60);
	z_addr(&f.dns, "host.example.com", "2001:db8::10", 120);
	fx_start(&f);
	resolve(&f, "sip:host.example.com:5060");
	assert_int_equal(f.dns.n_req, 2);
	wheel_advance(f.wheel, &f.mc, 59999);
	resolve(&f, "sip:host.example.com:5060");
	EXPECT(&f, 0, "UDP 192.0.2.10:5060", "UDP [2001:db8::10]:5060");
	assert_int_equal(f.dns.n_req, 2); /* within the TTL: no packet */
	st = stats(&f);
	assert_int_equal(st.cache_hits, 2);
	assert_int_equal(st.cache_entries, 2);
	assert_int_equal(st.queries_sent, 2);
	wheel_advance(f.wheel, &f.mc, 1); /* A expires, AAAA does not */
	resolve(&f, "sip:host.example.com:5060");
	EXPECT(&f, 0, "UDP 192.0.2.10:5060", "UDP [2001:db8::10]:5060");
	assert_int_equal(f.dns.n_req, 3);
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_A], 2);
	assert_int_equal(stats(&f).cache_hits, 3);
	fx_done(&f);
}

/* TTLs are clamped to [1 s, 1 h]; negative answers live neg_ttl_s. */
static void test_cache_clamp_and_negative(void **state)
{
	struct fx f;
	unsigned a;

	(void)state;
	fx_init(&f, 0);
	z_addr(&f.dns, "zero.example.com", "192.0.2.80", 0);
	z_addr(&f.dns, "long.example.com", "192.0.2.81", 86400);
	f.cfg.neg_ttl_s = 10;
	fx_start(&f);
	resolve(&f, "sip:zero.example.com:5060"); /* A ttl 0, AAAA neg */
	resolve(&f, "sip:long.example.com:5060");
	assert_int_equal(f.dns.n_req, 4);
	wheel_advance(f.wheel, &f.mc, 999);
	resolve(&f, "sip:zero.example.com:5060");
	assert_int_equal(f.dns.n_req, 4);
	wheel_advance(f.wheel, &f.mc, 1);
	resolve(&f, "sip:zero.example.com:5060");
	EXPECT(&f, 0, "UDP 192.0.2.80:5060");
	assert_int_equal(f.dns.n_req, 5); /* A again, AAAA still cached */
	wheel_advance(f.wheel, &f.mc, 9000);
	resolve(&f, "sip:long.example.com:5060");
	assert_int_equal(f.dns.n_req, 6); /* the negative AAAA expired */
	wheel_advance(f.wheel, &f.mc, 3600000 - 10000 - 1);
	a = f.dns.n_type[RESOLVE_DNS_A];
	resolve(&f, "sip:long.example.com:5060");
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_A], a); /* a day: 1 h */
	wheel_advance(f.wheel, &f.mc, 1);
	resolve(&f, "sip:long.example.com:5060");
	EXPECT(&f, 0, "UDP 192.0.2.81:5060");
	assert_int_equal(f.dns.n_type[RESOLVE_DNS_A], a + 1);
	fx_done(&f);
}

/* A small cache evicts the least recently used entry. */
static void test_cache_lru(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	z_addr(&f.dns, "a.example.com", "192.0.2.1", 60);
	z_addr(&f.dns, "b.example.com", "192.0.2.2", 60);
	f.cfg.cache_size = 2;
	fx_start(&f);
	resolve(&f, "sip:a.example.com:5060"); /* a/A, a/AAAA */
	resolve(&f, "sip:b.example.com:5060"); /* evicts both of a */
	assert_int_equal(stats(&f).cache_entries, 2);
	resolve(&f, "sip:b.example.com:5060");
	assert_int_equal(f.dns.n_req, 4);
	resolve(&f, "sip:a.example.com:5060");
	EXPECT(&f, 0, "UDP 192.0.2.1:5060");
	assert_int_equal(f.dns.n_req, 6);
	fx_done(&f);
}

static void test_cancel(void **state)
{
	struct fx f;
	struct resolve_query *q;

	(void)state;
	fx_init(&f, 0);
	z_addr(&f.dns, "host.example.com", "192.0.2.10", 60);
	fx_start(&f);
	/* before the answer */
	q = start(&f, "sip:host.example.com");
	resolve_cancel(q);
	RUN_UNTIL(&f, f.dns.n_req == 1);
	settle(&f);
	assert_int_equal(f.n_done, 0);
	/* answered but not yet delivered */
	q = start(&f, "sip:192.0.2.1");
	resolve_cancel(q);
	settle(&f);
	assert_int_equal(f.n_done, 0);
	/* in the middle of the chain, with a lookup shared by another */
	q = start(&f, "sip:host.example.com:5060");
	start(&f, "sip:host.example.com:5060");
	resolve_cancel(q);
	RUN_UNTIL(&f, f.n_done == 1);
	EXPECT(&f, 0, "UDP 192.0.2.10:5060");
	settle(&f);
	assert_int_equal(f.n_done, 1);
	assert_int_equal(stats(&f).pending, 0);
	/* pending queries at resolve_free: no callback, no leak */
	start(&f, "sip:host.example.com;transport=tcp");
	start(&f, "sip:192.0.2.2");
	fx_done(&f);
	assert_int_equal(f.n_done, 0);
}

/* Concurrent queries share lookups: one packet per (name, type). */
static void test_shared_lookups(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	z_addr(&f.dns, "host.example.com", "192.0.2.10", 60);
	f.cfg.cache_size = 0;
	fx_start(&f);
	start(&f, "sip:host.example.com:5060");
	start(&f, "sip:host.example.com:5070;transport=tcp");
	RUN_UNTIL(&f, f.n_done == 2);
	assert_int_equal(f.dns.n_req, 2);
	assert_int_equal(f.err, 0);
	resolve(&f, "sip:host.example.com:5060"); /* no cache: asks again */
	assert_int_equal(f.dns.n_req, 4);
	fx_done(&f);
}

/* done may start a new query (delivered on a later turn) and cancel
 * another pending one. */
struct chain {
	struct fx *f;
	struct resolve_query *other;
	unsigned calls;
};

static void on_done_chain(int err, const struct resolve_result *res, void *arg)
{
	struct chain *c = arg;
	struct sip_uri uri;

	(void)res;
	assert_int_equal(err, 0);
	c->calls++;
	if (c->calls == 1) {
		resolve_cancel(c->other);
		assert_int_equal(
			sip_uri_parse(&uri, SLICE_LIT("sip:192.0.2.9"), NULL),
			0);
		assert_int_equal(
			resolve_uri(c->f->r, &uri, on_done_chain, c, NULL), 0);
		assert_int_equal(c->calls, 1);
	}
}

static void test_reentry(void **state)
{
	struct fx f;
	struct chain c = { .f = &f };
	struct sip_uri uri;

	(void)state;
	fx_init(&f, 0);
	fx_start(&f);
	assert_int_equal(sip_uri_parse(&uri, SLICE_LIT("sip:192.0.2.8"), NULL),
			 0);
	assert_int_equal(resolve_uri(f.r, &uri, on_done_chain, &c, NULL), 0);
	assert_int_equal(resolve_uri(f.r, &uri, on_done, &f, &c.other), 0);
	RUN_UNTIL(&f, c.calls == 2);
	settle(&f);
	assert_int_equal(f.n_done, 0);
	fx_done(&f);
}

/* ---- answers evdns cannot send ------------------------------------------ */

static void test_truncated_answer(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, RAW_TC);
	fx_start(&f);
	resolve(&f, "sip:raw.example.com:5060");
	EXPECT_NONE(&f, EBADMSG);
	assert_int_equal(stats(&f).errors, 2);
	fx_done(&f);
}

static void test_malformed_answer(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, RAW_GARBAGE);
	fx_start(&f);
	resolve(&f, "sip:raw.example.com:5060");
	EXPECT_NONE(&f, EBADMSG);
	assert_int_equal(stats(&f).errors, 2);
	assert_int_equal(stats(&f).cache_entries, 0);
	fx_done(&f);
}

static void test_spoofed_answers_ignored(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, RAW_SPOOF);
	fx_start(&f);
	resolve(&f, "sip:raw.example.com:5060");
	EXPECT(&f, 0, "UDP 192.0.2.99:5060");
	assert_int_equal(stats(&f).errors, 0);
	fx_done(&f);
}

/* SERVFAIL from the first server: the next one is asked at once. */
static void test_next_server(void **state)
{
	struct fx f;
	struct dns_srv g = { .raw_fd = -1 };

	(void)state;
	fx_init(&f, RAW_SERVFAIL);
	g.port = evdns_add_server_port_with_base(f.base, bind_udp(&g.addr), 0,
						 srv_cb, &g);
	assert_non_null(g.port);
	z_addr(&g, "raw.example.com", "192.0.2.98", 60);
	f.cfg.servers[1] = g.addr;
	f.cfg.n_servers = 2;
	fx_start(&f);
	resolve(&f, "sip:raw.example.com:5060");
	EXPECT(&f, 0, "UDP 192.0.2.98:5060");
	assert_int_equal(f.dns.n_req, 2);
	assert_int_equal(g.n_req, 2);
	assert_int_equal(stats(&f).queries_sent, 4);
	assert_int_equal(stats(&f).retransmits, 0);
	evdns_close_server_port(g.port);
	fx_done(&f);
}

/* Every allocation failing in turn: an error, never a leak or a crash. */
static void test_out_of_memory(void **state)
{
	struct fx f;
	unsigned done_ok = 0;

	(void)state;
	fx_init(&f, 0);
	z_srv(&f.dns, "_sip._udp.example.com", 1, 0, 5060, "a.example.com");
	z_addr(&f.dns, "a.example.com", "192.0.2.1", 60);
	f.cfg.cache_size = 0;
	fx_start(&f);
	for (uint64_t nth = 1; nth < 40; nth++) {
		struct sip_uri uri;
		int err;

		f.n_done = 0;
		assert_int_equal(
			sip_uri_parse(&uri, SLICE_LIT("sip:example.com"), NULL),
			0);
		duet_alloc_fail_nth(nth);
		err = resolve_uri(f.r, &uri, on_done, &f, NULL);
		if (err) {
			assert_int_equal(err, ENOMEM);
			continue;
		}
		RUN_UNTIL(&f, f.n_done == 1);
		duet_alloc_fail_nth(0);
		if (f.err == 0) {
			done_ok++;
			EXPECT(&f, 0, "UDP 192.0.2.1:5060");
		} else {
			assert_true(f.err == ENOMEM || f.err == ENOENT);
		}
	}
	duet_alloc_fail_nth(0);
	assert_true(done_ok > 0);
	fx_done(&f);
	for (uint64_t nth = 1; nth < 8; nth++) {
		struct resolver *r = NULL;

		fx_init(&f, 0);
		duet_alloc_fail_nth(nth);
		if (resolve_new(&r, f.base, f.wheel, &f.cfg) == 0)
			resolve_free(r);
		duet_alloc_fail_nth(0);
		fx_done(&f);
	}
}

/* ---- the wire codec ---------------------------------------------------- */

/* A message builder for decoder tests. */
struct pkt {
	uint8_t b[1024];
	size_t n;
};

static void pk_bytes(struct pkt *p, const void *d, size_t n)
{
	assert_true(p->n + n <= sizeof(p->b));
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

static void pk16(struct pkt *p, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	pk_bytes(p, b, 2);
}

static void pk32(struct pkt *p, uint32_t v)
{
	pk16(p, (uint16_t)(v >> 16));
	pk16(p, (uint16_t)v);
}

static void pk_name(struct pkt *p, const char *name)
{
	p->n += wire_name(p->b + p->n, name);
}

/* Header (QR RD RA) and the question "example.com" A at offset 12. */
static void pk_head(struct pkt *p, uint16_t an, uint16_t ns, uint16_t ar)
{
	p->n = 0;
	pk16(p, 0x1234);
	pk16(p, 0x8180);
	pk16(p, 1);
	pk16(p, an);
	pk16(p, ns);
	pk16(p, ar);
	pk_name(p, "example.com");
	pk16(p, RESOLVE_DNS_SRV);
	pk16(p, 1);
}

/* RR header with a pointer owner (to the question), type, rdlength. */
static void pk_rr(struct pkt *p, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	pk16(p, 0xc00c);
	pk16(p, type);
	pk16(p, 1);
	pk32(p, ttl);
	pk16(p, rdlen);
}

/* A valid response: SRV (target compressed), NAPTR, A, AAAA, CNAME, SOA
 * and an unknown type. */
static void pk_valid(struct pkt *p)
{
	static const uint8_t a4[4] = { 192, 0, 2, 1 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	size_t at;

	pk_head(p, 5, 1, 1);
	pk_rr(p, RESOLVE_DNS_SRV, 300, 6 + 6);
	pk16(p, 10), pk16(p, 20), pk16(p, 5060);
	pk_bytes(p, "\x03sip\xc0\x0c", 6); /* sip.example.com */
	at = p->n;
	pk_rr(p, RESOLVE_DNS_NAPTR, 0x80000001u, 0);
	pk16(p, 100), pk16(p, 50);
	pk_bytes(p, "\x01S\x07SIP+D2T\x00", 11);
	pk_bytes(p, "\x04_sip\x04_tcp\xc0\x0c", 12);
	p->b[at + 10] = 0, p->b[at + 11] = (uint8_t)(p->n - at - 12);
	pk_rr(p, RESOLVE_DNS_A, 60, 4);
	pk_bytes(p, a4, 4);
	pk_rr(p, RESOLVE_DNS_AAAA, 60, 16);
	pk_bytes(p, a6, 16);
	pk_rr(p, RESOLVE_DNS_CNAME, 60, 2);
	pk16(p, 0xc00c);
	pk_rr(p, RESOLVE_DNS_SOA, 60, 4 + 20);
	pk16(p, 0xc00c), pk16(p, 0xc00c);
	pk32(p, 1), pk32(p, 2), pk32(p, 3), pk32(p, 4), pk32(p, 77);
	pk_rr(p, 99, 60, 3); /* unknown type: skipped */
	pk_bytes(p, "xyz", 3);
}

static void test_decode_valid(void **state)
{
	struct resolve_dns_msg *m = test_malloc(sizeof(*m));
	struct pkt p;

	(void)state;
	pk_valid(&p);
	assert_int_equal(resolve_dns_decode(m, p.b, p.n), 0);
	assert_int_equal(m->id, 0x1234);
	assert_true(m->qr);
	assert_false(m->tc);
	assert_int_equal(m->rcode, 0);
	assert_string_equal(m->qname, "example.com");
	assert_int_equal(m->qtype, RESOLVE_DNS_SRV);
	assert_int_equal(m->n_rr, 7);
	assert_int_equal(m->rr[0].u.srv.priority, 10);
	assert_int_equal(m->rr[0].u.srv.weight, 20);
	assert_int_equal(m->rr[0].u.srv.port, 5060);
	assert_string_equal(m->rr[0].u.srv.target, "sip.example.com");
	assert_int_equal(m->rr[1].ttl, 0); /* top bit set: 0 */
	assert_int_equal(m->rr[1].u.naptr.order, 100);
	assert_string_equal(m->rr[1].u.naptr.flags, "s");
	assert_string_equal(m->rr[1].u.naptr.service, "sip+d2t");
	assert_string_equal(m->rr[1].u.naptr.replacement,
			    "_sip._tcp.example.com");
	assert_int_equal(m->rr[2].u.addr[0], 192);
	assert_int_equal(m->rr[3].u.addr[15], 1);
	assert_string_equal(m->rr[4].u.cname, "example.com");
	assert_int_equal(m->rr[5].section, RESOLVE_DNS_AUTHORITY);
	assert_int_equal(m->rr[5].u.soa.minimum, 77);
	assert_int_equal(m->rr[6].section, RESOLVE_DNS_ADDITIONAL);
	assert_int_equal(m->rr[6].type, 99);
	test_free(m);
}

/* Every prefix of a valid message, and random damage to it: an error or
 * a result, never a read out of bounds (ASan watches). */
static void test_decode_truncations_and_noise(void **state)
{
	struct resolve_dns_msg *m = test_malloc(sizeof(*m));
	uint32_t seed = 12345;
	struct pkt p;
	uint8_t *copy;

	(void)state;
	pk_valid(&p);
	for (size_t n = 0; n < p.n; n++) {
		copy = test_malloc(n ? n : 1); /* exact size: ASan bounds */
		memcpy(copy, p.b, n);
		assert_int_equal(resolve_dns_decode(m, copy, n), EBADMSG);
		assert_int_equal(m->n_rr, 0);
		test_free(copy);
	}
	copy = test_malloc(p.n);
	for (int i = 0; i < 20000; i++) {
		memcpy(copy, p.b, p.n);
		for (int k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			copy[12 + (seed >> 8) % (p.n - 12)] =
				(uint8_t)(seed >> 24);
		}
		(void)resolve_dns_decode(m, copy, p.n);
		assert_true(m->n_rr <= RESOLVE_DNS_MAX_RR);
	}
	test_free(copy);
	test_free(m);
}

static int decode_pkt(struct resolve_dns_msg *m, const struct pkt *p)
{
	uint8_t *copy = test_malloc(p->n);
	int err;

	memcpy(copy, p->b, p->n);
	err = resolve_dns_decode(m, copy, p->n);
	test_free(copy);
	return err;
}

static void test_decode_malformed_names(void **state)
{
	struct resolve_dns_msg *m = test_malloc(sizeof(*m));
	struct pkt p;

	(void)state;
	assert_int_equal(resolve_dns_decode(m, (const uint8_t *)"\x12\x34", 2),
			 EBADMSG);
	assert_int_equal(resolve_dns_decode(m, NULL, 0), EBADMSG);

	/* a pointer to itself */
	pk_head(&p, 1, 0, 0);
	pk_bytes(&p, "\xc0\x1d", 2);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	/* the question's name ending in a pointer forward to the answer */
	pk_head(&p, 1, 0, 0);
	p.b[12 + 13 - 1] = 0xc0; /* "example.com" ends: 0 -> pointer */
	p.b[12 + 13] = 29;
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	/* a pointer past the end, a forward pointer */
	pk_head(&p, 1, 0, 0);
	pk_bytes(&p, "\xc3\xff", 2);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	pk_head(&p, 1, 0, 0);
	pk_bytes(&p, "\xc0\x20\x00", 3);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	/* a pointer cut in half */
	pk_head(&p, 1, 0, 0);
	pk_bytes(&p, "\xc0", 1);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	/* a label running past the end */
	pk_head(&p, 1, 0, 0);
	pk_bytes(&p,
		 "\x3f"
		 "abc",
		 4);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	/* extended label type; a dot inside a label; a control byte */
	pk_head(&p, 1, 0, 0);
	pk_bytes(&p, "\x41x\x00", 3);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	pk_head(&p, 0, 0, 0);
	p.b[12 + 1] = '.';
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	pk_head(&p, 0, 0, 0);
	p.b[12 + 1] = 0x07;
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	/* a name over 255 bytes (5 labels of 63) */
	pk_head(&p, 1, 0, 0);
	for (int i = 0; i < 5; i++) {
		uint8_t l[64];

		l[0] = 63;
		memset(l + 1, 'a', 63);
		pk_bytes(&p, l, 64);
	}
	pk_bytes(&p, "\x00", 1);
	pk16(&p, 1), pk16(&p, 1), pk32(&p, 1), pk16(&p, 0);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	test_free(m);
}

static void test_decode_malformed_records(void **state)
{
	struct resolve_dns_msg *m = test_malloc(sizeof(*m));
	struct pkt p;

	(void)state;
	/* two questions */
	pk_head(&p, 0, 0, 0);
	p.b[5] = 2;
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	/* a record announced but missing; fixed fields cut short */
	pk_head(&p, 1, 0, 0);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	pk_head(&p, 1, 0, 0);
	pk16(&p, 0xc00c), pk16(&p, 1), pk16(&p, 1);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	/* rdlength past the end */
	pk_head(&p, 1, 0, 0);
	pk_rr(&p, RESOLVE_DNS_A, 1, 8);
	pk_bytes(&p, "\x01\x02\x03\x04", 4);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	/* A with 5 bytes; AAAA with 4 */
	pk_head(&p, 1, 0, 0);
	pk_rr(&p, RESOLVE_DNS_A, 1, 5);
	pk_bytes(&p, "\x01\x02\x03\x04\x05", 5);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	pk_head(&p, 1, 0, 0);
	pk_rr(&p, RESOLVE_DNS_AAAA, 1, 4);
	pk_bytes(&p, "\x01\x02\x03\x04", 4);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	/* SRV whose target runs past its rdata; SRV too short */
	pk_head(&p, 1, 0, 0);
	pk_rr(&p, RESOLVE_DNS_SRV, 1, 8);
	pk16(&p, 1), pk16(&p, 1), pk16(&p, 1);
	pk_bytes(&p, "\x03sip\x00", 5);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	pk_head(&p, 1, 0, 0);
	pk_rr(&p, RESOLVE_DNS_SRV, 1, 4);
	pk16(&p, 1), pk16(&p, 1);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	/* NAPTR whose string runs past its rdata */
	pk_head(&p, 1, 0, 0);
	pk_rr(&p, RESOLVE_DNS_NAPTR, 1, 7);
	pk16(&p, 1), pk16(&p, 1);
	pk_bytes(&p, "\x09SIP", 4);
	pk_bytes(&p, "\x00\x00\x00\x00\x00\x00\x00\x00\x00", 9);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	/* SOA with a short tail */
	pk_head(&p, 0, 1, 0);
	pk_rr(&p, RESOLVE_DNS_SOA, 1, 4 + 16);
	pk16(&p, 0xc00c), pk16(&p, 0xc00c);
	pk32(&p, 1), pk32(&p, 2), pk32(&p, 3), pk32(&p, 4);
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	test_free(m);
}

/* More records than the decoder keeps: all checked, the rest dropped. */
static void test_decode_many_records(void **state)
{
	struct resolve_dns_msg *m = test_malloc(sizeof(*m));
	struct pkt p;

	(void)state;
	pk_head(&p, 40, 0, 0);
	for (int i = 0; i < 40; i++) {
		pk_rr(&p, RESOLVE_DNS_A, 1, 4);
		pk32(&p, 0xc0000200u + (uint32_t)i);
	}
	assert_int_equal(decode_pkt(m, &p), 0);
	assert_int_equal(m->n_rr, RESOLVE_DNS_MAX_RR);
	assert_int_equal(m->n_dropped, 40 - RESOLVE_DNS_MAX_RR);
	p.b[p.n - 5] = 5; /* the last rdlength: one byte too many */
	assert_int_equal(decode_pkt(m, &p), EBADMSG);
	test_free(m);
}

static void test_encode_query(void **state)
{
	uint8_t b[RESOLVE_DNS_QUERY_MAX];
	char name[300];
	size_t n;

	(void)state;
	assert_int_equal(resolve_dns_encode_query(b, sizeof(b), 0xbeef,
						  "_sip._udp.example.com.",
						  RESOLVE_DNS_SRV, &n),
			 0);
	assert_int_equal(n, 12 + 23 + 4);
	assert_memory_equal(b,
			    "\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
			    "\x04_sip\x04_udp\x07"
			    "example\x03"
			    "com\x00"
			    "\x00\x21\x00\x01",
			    n);
	assert_int_equal(resolve_dns_encode_query(b, 20, 1, "example.com",
						  RESOLVE_DNS_A, &n),
			 EMSGSIZE);
	assert_int_equal(resolve_dns_encode_query(b, sizeof(b), 1, "",
						  RESOLVE_DNS_A, &n),
			 EINVAL);
	assert_int_equal(resolve_dns_encode_query(b, sizeof(b), 1, ".",
						  RESOLVE_DNS_A, &n),
			 EINVAL);
	assert_int_equal(resolve_dns_encode_query(b, sizeof(b), 1, "a..b",
						  RESOLVE_DNS_A, &n),
			 EINVAL);
	assert_int_equal(resolve_dns_encode_query(b, sizeof(b), 1, "a b.com",
						  RESOLVE_DNS_A, &n),
			 EINVAL);
	memset(name, 'a', 64);
	strcpy(name + 64, ".com");
	assert_int_equal(resolve_dns_encode_query(b, sizeof(b), 1, name,
						  RESOLVE_DNS_A, &n),
			 EINVAL);
	/* 253 characters fit, 254 do not */
	for (int i = 0; i < 253; i++)
		name[i] = i % 2 ? '.' : 'a';
	name[253] = '\0';
	assert_int_equal(resolve_dns_encode_query(b, sizeof(b), 1, name,
						  RESOLVE_DNS_A, &n),
			 0);
	name[253] = '.';
	name[254] = 'a';
	name[255] = '\0';
	assert_int_equal(resolve_dns_encode_query(b, sizeof(b), 1, name,
						  RESOLVE_DNS_A, &n),
			 EINVAL);
}

static void test_resolv_conf(void **state)
{
	struct tp_addr a[3];
	char buf[64];
	unsigned n;

	(void)state;
	assert_int_equal(resolve_conf_parse(
				 SLICE_LIT("# comment\n"
					   "; other comment\n"
					   "search example.com\n"
					   "nameserver\t192.0.2.53 # trailing\n"
					   "nameserver fe80::1%eth0\n"
					   "nameserver bogus\n"
					   "  nameserver 2001:db8::53\r\n"
					   "nameserver 192.0.2.54\n"
					   "nameserver 192.0.2.55\n"
					   "options ndots:2"),
				 a, 3, &n),
			 0);
	assert_int_equal(n, 3);
	assert_string_equal(tp_addr_str(&a[0], buf, sizeof(buf)),
			    "192.0.2.53:53");
	assert_string_equal(tp_addr_str(&a[1], buf, sizeof(buf)),
			    "[2001:db8::53]:53");
	assert_string_equal(tp_addr_str(&a[2], buf, sizeof(buf)),
			    "192.0.2.54:53");
	assert_int_equal(resolve_conf_parse(SLICE_LIT(""), a, 3, &n), 0);
	assert_int_equal(n, 0);
}

/* Without servers in the configuration, resolv.conf is read. */
static void test_resolv_conf_file(void **state)
{
	char path[] = "/tmp/duet_resolv_XXXXXX";
	struct fx f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, "nameserver 127.0.0.1\n", 21) == 21);
	close(fd);
	fx_init(&f, 0);
	f.cfg.n_servers = 0;
	f.cfg.resolv_conf = path;
	fx_start(&f);
	resolve(&f, "sip:192.0.2.1"); /* works; no DNS needed */
	EXPECT(&f, 0, "UDP 192.0.2.1:5060");
	fx_done(&f);
	unlink(path);
	fx_init(&f, 0);
	f.cfg.timeout_ms = 0;
	assert_int_equal(resolve_new(&f.r, f.base, f.wheel, &f.cfg), EINVAL);
	assert_int_equal(resolve_new(&f.r, NULL, f.wheel, NULL), EINVAL);
	fx_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_numeric_ipv4),
		LEAK_TEST(test_numeric_ipv6),
		LEAK_TEST(test_bad_uris),
		LEAK_TEST(test_name_with_port),
		LEAK_TEST(test_transport_param_srv),
		LEAK_TEST(test_naptr_srv_a_chain),
		LEAK_TEST(test_srv_priority_weight),
		LEAK_TEST(test_srv_zero_weights_first),
		LEAK_TEST(test_no_naptr_srv_fallback),
		LEAK_TEST(test_no_srv_a_fallback),
		LEAK_TEST(test_srv_additional_section),
		LEAK_TEST(test_nxdomain),
		LEAK_TEST(test_servfail),
		LEAK_TEST(test_timeout_retries),
		LEAK_TEST(test_timeout_chain),
		LEAK_TEST(test_timeout_real_clock),
		LEAK_TEST(test_cache_ttl),
		LEAK_TEST(test_cache_clamp_and_negative),
		LEAK_TEST(test_cache_lru),
		LEAK_TEST(test_cancel),
		LEAK_TEST(test_shared_lookups),
		LEAK_TEST(test_reentry),
		LEAK_TEST(test_truncated_answer),
		LEAK_TEST(test_malformed_answer),
		LEAK_TEST(test_spoofed_answers_ignored),
		LEAK_TEST(test_next_server),
		LEAK_TEST(test_out_of_memory),
		LEAK_TEST(test_decode_valid),
		LEAK_TEST(test_decode_truncations_and_noise),
		LEAK_TEST(test_decode_malformed_names),
		LEAK_TEST(test_decode_malformed_records),
		LEAK_TEST(test_decode_many_records),
		LEAK_TEST(test_encode_query),
		LEAK_TEST(test_resolv_conf),
		LEAK_TEST(test_resolv_conf_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
