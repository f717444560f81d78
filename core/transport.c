/* SPDX-License-Identifier: MIT */
/* The transport object, listeners and UDP (RFC 3261 §18.1.1, §18.2.1,
 * §18.3; RFC 5626 §4.4.1); stream connections live in tp_conn.c. */
#define _GNU_SOURCE /* recvmmsg */
#include "tp_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "duet/alloc.h"
#include "duet/clock.h"
#include "duet/err.h"

/* Datagrams read per readable event before other events get a turn; the
 * event is level-triggered, so what is left is read on the next turn. */
#define UDP_BURST 64 /* datagrams read per readiness event at most */
/* and per read window: a window holds what came in it (10 ms at 3000
 * datagrams a second is 30); more means reading at arrival batches well */
#define UDP_WINDOW_BURST 256
/* receive buffer bytes a datagram may take (window_room) */
#define UDP_DATAGRAM_CHARGE 4096
#define TCP_BACKLOG 128
#define ACCEPT_RETRY_MS 100

/*
 * libevent writes to sockets with writev(), which raises SIGPIPE when the
 * peer has reset the connection; a server must survive any peer, so the
 * default action (terminate) is replaced by "ignore". A handler the
 * application installed is left alone.
 */
static void ignore_sigpipe(void)
{
	struct sigaction old, sa;

	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGPIPE, &sa, NULL);
	}
}

/* recvmmsg's headers over udp_buf, set up once: a read resets only the
 * address lengths of the datagrams it got (udp_read_batches) */
struct tp_rx {
	struct sockaddr_storage from[TP_UDP_BATCH];
	struct iovec iov[TP_UDP_BATCH];
	struct mmsghdr mm[TP_UDP_BATCH];
};

static void rx_init(struct transport *t)
{
	size_t cap = t->cfg.limits.max_msg_size + 1;

	for (int i = 0; i < TP_UDP_BATCH; i++) {
		t->rx->iov[i] = (struct iovec){
			.iov_base = t->udp_buf + (size_t)i * cap, .iov_len = cap
		};
		t->rx->mm[i].msg_hdr = (struct msghdr){
			.msg_name = &t->rx->from[i],
			.msg_namelen = sizeof(t->rx->from[i]),
			.msg_iov = &t->rx->iov[i],
			.msg_iovlen = 1,
		};
	}
}

int transport_new(struct transport **out, struct event_base *base,
		  struct wheel *wheel, const struct transport_config *cfg,
		  const struct transport_ops *ops, void *arg)
{
	struct transport *t;

	if (!out || !base || (cfg && cfg->limits.max_msg_size == 0))
		return EINVAL;
	t = duet_calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->base = base;
	t->wheel = wheel;
	if (cfg)
		t->cfg = *cfg;
	else
		transport_config_default(&t->cfg);
	if (ops)
		t->ops = *ops;
	t->arg = arg;
	/* untouched pages of the buffers cost no resident memory */
	t->udp_buf =
		duet_malloc(TP_UDP_BATCH * (t->cfg.limits.max_msg_size + 1));
	t->out_arena = duet_malloc(TP_SEND_ARENA);
	t->rx = duet_malloc(sizeof(*t->rx));
	if (!t->udp_buf || !t->out_arena || !t->rx) {
		duet_free(t->udp_buf);
		duet_free(t->out_arena);
		duet_free(t->rx);
		duet_free(t);
		return ENOMEM;
	}
	rx_init(t);
	ignore_sigpipe();
	*out = t;
	return 0;
}

static void listener_free(struct tp_listener *l)
{
	wheel_timer_cancel(&l->retry);
	if (l->ev)
		event_free(l->ev);
	if (l->window)
		event_free(l->window);
	if (l->window_fd >= 0)
		close(l->window_fd);
	if (l->lev)
		evconnlistener_free(l->lev); /* closes its socket */
	if (l->fd >= 0)
		close(l->fd);
	duet_free(l);
}

void transport_free(struct transport *t)
{
	if (!t)
		return;
	tp_conn_free_all(t);
	while (t->listeners) {
		struct tp_listener *l = t->listeners;

		t->listeners = l->next;
		listener_free(l);
	}
	duet_free(t->udp_buf);
	duet_free(t->rx);
	duet_free(t->out_arena);
	duet_free(t);
}

/* A nonblocking socket bound to addr; *bound gets the real address.
 * IPv6 sockets are IPv6-only so 0.0.0.0:p and [::]:p can coexist. */
/*
 * A UDP listener takes every datagram of every call on one socket: the
 * default receive buffer (about 200 KB) overflows during a stall of a few
 * milliseconds at a few thousand calls per second, and each datagram lost
 * there comes back as a retransmission 500 ms later. Ask for 4 MiB
 * (beyond net.core.rmem_max when allowed: SO_RCVBUFFORCE needs
 * CAP_NET_ADMIN); what the system grants is enough, so no error.
 */
#define UDP_BUFFER_BYTES (4 * 1024 * 1024)

static void udp_buffers(int fd)
{
	int n = UDP_BUFFER_BYTES;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &n, sizeof(n)))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &n, sizeof(n)))
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n));
}

static int bind_socket(const struct tp_addr *addr, int type, int *fd_out,
		       struct tp_addr *bound)
{
	int one = 1, fd, err;

	fd = socket(addr->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (addr->ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, (const struct sockaddr *)&addr->ss, addr->len))
		goto fail;
	if (type == SOCK_DGRAM)
		udp_buffers(fd);
	memset(bound, 0, sizeof(*bound));
	bound->len = sizeof(bound->ss);
	if (getsockname(fd, (struct sockaddr *)&bound->ss, &bound->len))
		goto fail;
	*fd_out = fd;
	return 0;
fail:
	err = errno;
	close(fd);
	return err;
}

static void udp_read_cb(evutil_socket_t fd, short what, void *arg);
static void udp_window_cb(evutil_socket_t fd, short what, void *arg);
static unsigned window_room(int fd);
static void tcp_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
			  struct sockaddr *sa, int salen, void *arg);
static void tcp_accept_error_cb(struct evconnlistener *lev, void *arg);
static void tcp_accept_retry_cb(struct wheel_timer *w, void *arg);

static int listener_start(struct tp_listener *l)
{
	struct event_base *base = l->t->base;

	if (l->proto == SIP_PROTO_UDP) {
		l->ev = event_new(base, l->fd, EV_READ | EV_PERSIST,
				  udp_read_cb, l);
		if (!l->ev || event_add(l->ev, NULL))
			return ENOMEM;
		if (!l->t->cfg.udp_window_us)
			return 0;
		/* a periodic timerfd: libevent's own timers run on the
		 * coarse clock, a kernel tick (4 ms at HZ=250) */
		l->window_fd = timerfd_create(CLOCK_MONOTONIC,
					      TFD_NONBLOCK | TFD_CLOEXEC);
		if (l->window_fd < 0)
			return errno;
		l->window = event_new(base, l->window_fd, EV_READ | EV_PERSIST,
				      udp_window_cb, l);
		if (!l->window || event_add(l->window, NULL))
			return ENOMEM;
		l->window_us = l->t->cfg.udp_window_us;
		l->window_room = window_room(l->fd);
		return 0;
	}
	if (listen(l->fd, TCP_BACKLOG))
		return errno;
	/* backlog 0: the socket is already listening */
	l->lev = evconnlistener_new(
		base, tcp_accept_cb, l,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, l->fd);
	if (!l->lev)
		return ENOMEM;
	l->fd = -1; /* owned by the evconnlistener now */
	evconnlistener_set_error_cb(l->lev, tcp_accept_error_cb);
	return 0;
}

int transport_listen(struct transport *t, enum sip_proto proto,
		     const struct tp_addr *addr, struct tp_addr *bound)
{
	struct tp_listener *l, **tail;
	int err;

	if (!t || !tp_addr_is_set(addr) || (unsigned)proto >= SIP_PROTO_COUNT)
		return EINVAL;
	if (proto == SIP_PROTO_TLS)
		return EPROTONOSUPPORT; /* TLS comes with its own issue */
	l = duet_calloc(1, sizeof(*l));
	if (!l)
		return ENOMEM;
	l->t = t;
	l->proto = proto;
	l->fd = -1;
	l->window_fd = -1;
	wheel_timer_init(&l->retry, tcp_accept_retry_cb, l);
	err = bind_socket(addr,
			  proto == SIP_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM,
			  &l->fd, &l->addr);
	if (!err)
		err = listener_start(l);
	if (err) {
		listener_free(l);
		return err;
	}
	for (tail = &t->listeners; *tail; tail = &(*tail)->next)
		;
	*tail = l; /* in order: transport_local picks the first */
	if (bound)
		*bound = l->addr;
	return 0;
}

static struct tp_listener *listener_find(const struct transport *t,
					 enum sip_proto proto, int family)
{
	for (struct tp_listener *l = t->listeners; l; l = l->next)
		if (l->proto == proto &&
		    (family == AF_UNSPEC || l->addr.ss.ss_family == family))
			return l;
	return NULL;
}

/* The source address the routing table picks for remote (a connected UDP
 * socket sends nothing); leaves *out alone when it cannot tell. */
static void route_source(const struct tp_addr *remote, struct tp_addr *out)
{
	struct tp_addr a = { .len = sizeof(a.ss) };
	uint16_t port = tp_addr_port(out);
	int fd = socket(remote->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	if (connect(fd, (const struct sockaddr *)&remote->ss, remote->len) ==
		    0 &&
	    getsockname(fd, (struct sockaddr *)&a.ss, &a.len) == 0 &&
	    a.ss.ss_family == out->ss.ss_family) {
		*out = a;
		tp_addr_set_port(out, port);
	}
	close(fd);
}

/* The memo slot of a remote IP. */
static struct tp_source_memo *source_memo(struct transport *t,
					  const struct tp_addr *remote)
{
	return &t->source_memo[tp_addr_ip_hash(remote) % TP_SOURCE_MEMO];
}

/*
 * The source address for remote when the listener is bound to a
 * wildcard. Asking routing takes four system calls (a socket, connect,
 * getsockname, close), and every request and 18x/2xx duet builds needs
 * the answer for its Via or Contact: so it is kept per remote IP for
 * TP_SOURCE_TTL_MS (with a wheel; without one, asked each time).
 */
static void wildcard_source(struct transport *t, const struct tp_addr *remote,
			    struct tp_addr *out)
{
	uint16_t port = tp_addr_port(out);
	struct tp_source_memo *m = t->wheel ? source_memo(t, remote) : NULL;
	uint64_t now = t->wheel ? wheel_now(t->wheel) : 0;

	if (m && m->until > now && tp_addr_same_ip(&m->remote, remote) &&
	    m->src.ss.ss_family == out->ss.ss_family) {
		*out = m->src;
		tp_addr_set_port(out, port);
		return;
	}
	t->stats.source_lookups++;
	route_source(remote, out);
	if (m && !tp_addr_is_any(out)) /* an answer, not the wildcard */
		*m = (struct tp_source_memo){ .remote = *remote,
					      .src = *out,
					      .until = now + TP_SOURCE_TTL_MS };
}

int transport_local(struct transport *t, enum sip_proto proto,
		    const struct tp_addr *remote, struct tp_addr *out)
{
	int family = tp_addr_is_set(remote) ? remote->ss.ss_family : AF_UNSPEC;
	const struct tp_listener *l;

	if (!t || !out)
		return EINVAL;
	l = listener_find(t, proto, family);
	if (!l)
		return ENOENT;
	*out = l->addr;
	/* a wildcard bind is no address to put in a Via (§18.1.1) */
	if (family != AF_UNSPEC && tp_addr_is_any(out))
		wildcard_source(t, remote, out);
	return 0;
}

/*
 * Send the queued datagrams: one sendmmsg per run of the same socket. A
 * datagram the kernel refuses is counted and skipped, as a loss: UDP
 * sends fail only locally (no buffer), and the transaction layer's
 * retransmissions cover losses (§17.1.1.2).
 */
static void tp_flush(struct transport *t)
{
	struct mmsghdr mm[TP_SEND_BATCH];
	struct iovec iov[TP_SEND_BATCH];
	unsigned n = t->out_n, i = 0;

	t->out_n = 0;
	t->out_used = 0;
	for (unsigned k = 0; k < n; k++) {
		iov[k] = (struct iovec){ .iov_base =
						 t->out_arena + t->out[k].off,
					 .iov_len = t->out[k].len };
		mm[k] = (struct mmsghdr){ .msg_hdr = {
						  .msg_name = &t->out[k].to.ss,
						  .msg_namelen =
							  t->out[k].to.len,
						  .msg_iov = &iov[k],
						  .msg_iovlen = 1,
					  } };
	}
	while (i < n) {
		unsigned run = 1;
		int sent;

		while (i + run < n && t->out[i + run].fd == t->out[i].fd)
			run++;
		sent = sendmmsg(t->out[i].fd, &mm[i], run, 0);
		t->stats.tx_batches++;
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent <= 0) { /* the datagram at i failed */
			t->stats.tx_errors++;
			i++;
			continue;
		}
		for (int k = 0; k < sent; k++) {
			t->stats.tx_msgs++;
			t->stats.tx_bytes += t->out[i + (unsigned)k].len;
		}
		i += (unsigned)sent;
	}
}

/* Queue a datagram while corked; 0, or EAGAIN: send it now instead. */
static int tp_queue(struct transport *t, int fd, const struct tp_dest *dest,
		    const char *buf, size_t len)
{
	struct tp_out *o;

	if (len > TP_SEND_ARENA)
		return EAGAIN;
	if (t->out_n == TP_SEND_BATCH || t->out_used + len > TP_SEND_ARENA)
		tp_flush(t);
	o = &t->out[t->out_n++];
	o->fd = fd;
	o->to = dest->remote;
	o->off = t->out_used;
	o->len = len;
	memcpy(t->out_arena + t->out_used, buf, len);
	t->out_used += len;
	return 0;
}

/* 0: sent, or queued (*queued); else the error. */
static int udp_send(struct transport *t, const struct tp_dest *dest,
		    const char *buf, size_t len, bool *queued)
{
	const struct tp_listener *l;
	ssize_t n;

	if (!tp_addr_is_set(&dest->remote))
		return EINVAL;
	l = listener_find(t, SIP_PROTO_UDP, dest->remote.ss.ss_family);
	if (!l)
		return ENOENT;
	if (len > 65535 - 8 - (dest->remote.ss.ss_family == AF_INET6 ? 40 : 20))
		return EMSGSIZE; /* what sendto would say, said now */
	if (t->cork && tp_queue(t, l->fd, dest, buf, len) == 0) {
		*queued = true;
		return 0;
	}
	do {
		n = sendto(l->fd, buf, len, 0,
			   (const struct sockaddr *)&dest->remote.ss,
			   dest->remote.len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	return (size_t)n == len ? 0 : EMSGSIZE;
}

int transport_send(struct transport *t, const struct tp_dest *dest,
		   const char *buf, size_t len)
{
	bool queued = false;
	int err;

	if (!t || !dest || !buf || !len)
		return EINVAL;
	switch (dest->proto) {
	case SIP_PROTO_UDP:
		err = udp_send(t, dest, buf, len, &queued);
		if (queued)
			return 0; /* counted when it goes out (tp_flush) */
		break;
	case SIP_PROTO_TCP:
		err = tp_conn_send(t, dest, buf, len);
		break;
	default:
		err = EPROTONOSUPPORT;
		break;
	}
	if (err) {
		t->stats.tx_errors++;
		return err;
	}
	t->stats.tx_msgs++;
	t->stats.tx_bytes += len;
	return 0;
}

void transport_stats(const struct transport *t, struct transport_stats *out)
{
	*out = t->stats;
}

/* Only CR and LF (or nothing): a keep-alive, not a message (§7.5). */
static bool udp_keepalive(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

/* One datagram is one message (§18.3): parsed, or NULL when it was
 * refused (reported to ops.bad and counted), lost (ENOMEM) or a
 * keep-alive. */
static struct sip_msg *udp_parse(struct transport *t, const char *buf, size_t n,
				 const struct tp_source *src)
{
	const char *why = NULL;
	size_t max = t->cfg.limits.max_msg_size;
	struct sip_msg *msg = NULL;
	int err;

	if (n > max) {
		t->stats.rx_bad++;
		if (t->ops.bad)
			t->ops.bad(buf, max + 1, EMSGSIZE, "message too large",
				   src, t->arg);
		return NULL;
	}
	if (udp_keepalive(buf, n))
		return NULL;
	err = sip_msg_parse(&msg, buf, n, SIP_FRAMING_DGRAM, &t->cfg.limits,
			    &why);
	if (err) {
		t->stats.rx_bad++; /* ENOMEM too: the datagram is lost */
		if (err != ENOMEM && t->ops.bad)
			t->ops.bad(buf, n, err, why ? why : "bad message", src,
				   t->arg);
		return NULL;
	}
	t->stats.rx_msgs++;
	return msg;
}

/* Datagrams read (at most about max); *drained: the socket had no more. */
static int udp_read_batches(struct tp_listener *l, int max, bool *drained);

/* Read what the socket holds, as one corked batch. */
static int udp_read_corked(struct tp_listener *l, int max, bool *drained)
{
	struct transport *t = l->t;
	int n;

	t->cork++;
	n = udp_read_batches(l, max, drained);
	if (--t->cork == 0 && t->out_n)
		tp_flush(t);
	return n;
}

/*
 * How many datagrams a window may let wait in the socket: half of what
 * its receive buffer holds (the kernel charges a datagram of about 1 KB
 * some 2-4 KB of it), at most what one window reads (256: the 4 MiB
 * asked for above would hold about 1000). Where only net.core.rmem_max's
 * usual 208 KB is granted (no CAP_NET_ADMIN), about 50, so a long window
 * at a few thousand calls a second would overflow it into losses.
 */
static unsigned window_room(int fd)
{
	int granted = 0;
	socklen_t len = sizeof(granted);
	unsigned room;

	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &len) ||
	    granted <= 0)
		return TP_WINDOW_ENGAGE;
	room = (unsigned)granted / UDP_DATAGRAM_CHARGE / 2;
	if (room < TP_WINDOW_ENGAGE)
		room = TP_WINDOW_ENGAGE;
	return room > UDP_WINDOW_BURST ? UDP_WINDOW_BURST : room;
}

/* Start (us > 0) or stop the periodic read window. */
static int window_set(struct tp_listener *l, uint32_t us)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = (time_t)(us / 1000000u);
	its.it_value.tv_nsec = (long)(us % 1000000u) * 1000;
	its.it_interval = its.it_value;
	return timerfd_settime(l->window_fd, 0, &its, NULL);
}

/*
 * recvmmsg reads up to TP_UDP_BATCH datagrams per call; a short batch
 * means the socket is drained, so the common case of one waiting
 * datagram costs one call, not a second one failing with EAGAIN. What
 * the handling of a batch sends leaves by one sendmmsg at its end (the
 * transport is corked meanwhile): under load each send is a system call
 * and often a switch to the process it wakes, so a batch of N datagrams
 * in costs one call out, not N.
 *
 * The read window (cfg.udp_window_us): once TP_WINDOW_ENGAGE datagrams
 * have come within one window, they arrive faster than the process can
 * usefully wake for each. The listener then stops waiting for
 * readability and reads once per window instead, for as long as each
 * window finds at least TP_WINDOW_LEAVE: one wakeup serves every datagram
 * of the window, and its answers leave in one sendmmsg. A window that
 * finds fewer, or that cannot drain the socket (full batches need no
 * window), goes back to reading at each arrival. Traffic too light to
 * batch never waits.
 */
static void udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tp_listener *l = arg;
	struct transport *t = l->t;
	bool drained;
	uint64_t now;
	int n;

	(void)fd;
	(void)what;
	t->stats.udp_wakeups++;
	n = udp_read_corked(l, UDP_BURST, &drained);
	if (!l->window || n <= 0)
		return;
	now = duet_clock_monotonic_us();
	if (now - l->rate_start_us >= t->cfg.udp_window_us) {
		l->rate_start_us = now;
		l->rate_count = 0;
	}
	l->rate_count += (unsigned)n;
	if (drained && l->rate_count >= TP_WINDOW_ENGAGE &&
	    window_set(l, l->window_us) == 0 && event_del(l->ev))
		window_set(l, 0);
}

/*
 * Keep a window's datagrams within window_room: a window that gathered
 * more than half of it (or could not drain the socket: the next one
 * starts when reading at each arrival has caught up) is halved, down to
 * 1/16 of the configured length; one that gathered under an eighth is
 * doubled back, up to the configured length. The configured length is
 * the latency an operator accepts; this only ever waits less.
 */
static void window_fit(struct tp_listener *l, unsigned n, bool arm)
{
	const uint32_t full = l->t->cfg.udp_window_us;
	uint32_t us = l->window_us;

	if (n > l->window_room / 2 && us > full / 16)
		us /= 2;
	else if (n < l->window_room / 8 && us < full)
		us = us * 2 > full ? full : us * 2;
	if (us == l->window_us || (arm && window_set(l, us)))
		return;
	l->window_us = us;
	l->t->stats.udp_window_resizes++;
}

static void udp_window_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tp_listener *l = arg;
	uint64_t expiries;
	bool drained;
	int n;

	(void)what;
	/* a periodic timerfd restarts only once its count is read */
	if (read(fd, &expiries, sizeof(expiries)) != sizeof(expiries))
		return; /* EAGAIN: a stale readiness */
	l->t->stats.udp_windows++;
	n = udp_read_corked(l, UDP_WINDOW_BURST, &drained);
	if (n >= TP_WINDOW_LEAVE) {
		/* undrained: n is 256, halved for the next engagement (the
		 * timer is disarmed below, so not set now) */
		window_fit(l, (unsigned)n, drained);
		if (drained)
			return; /* the next window */
	}
	/* ENOMEM adding the event: go on reading by window */
	if (event_add(l->ev, NULL) == 0) {
		window_set(l, 0);
		l->rate_start_us = 0; /* the next wakeup starts a new count */
	}
}

static int udp_read_batches(struct tp_listener *l, int max, bool *drained)
{
	struct transport *t = l->t;
	struct mmsghdr *mm = t->rx->mm;
	struct sip_msg *msgs[TP_UDP_BATCH];
	socklen_t from_len[TP_UDP_BATCH];
	struct tp_source src;
	int done = 0;

	*drained = true;
	/* one listener, one address family: each datagram overwrites the
	 * same bytes of src.remote */
	memset(&src.remote, 0, sizeof(src.remote));
	src.proto = SIP_PROTO_UDP;
	src.local = l->addr;
	src.conn = NULL;
	while (done < max) {
		int n;

		/* MSG_TRUNC: msg_len is the datagram's real size, even if
		 * larger than the buffer (udp_parse refuses it) */
		n = recvmmsg(l->fd, mm, TP_UDP_BATCH, MSG_DONTWAIT | MSG_TRUNC,
			     NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return done; /* EAGAIN; ICMP errors belong to no
					message */
		}
		/* the batch is parsed first, then delivered: the parser's
		 * code stays in the instruction cache for the whole batch
		 * instead of being evicted by the layers above after each
		 * datagram. Parsing depends on nothing delivery changes. */
		for (int i = 0; i < n; i++) {
			msgs[i] = NULL;
			from_len[i] = mm[i].msg_hdr.msg_namelen;
			mm[i].msg_hdr.msg_namelen = sizeof(t->rx->from[i]);
			if (from_len[i] > sizeof(src.remote.ss))
				continue; /* neither IPv4 nor IPv6 */
			src.remote.len = from_len[i];
			memcpy(&src.remote.ss, &t->rx->from[i], from_len[i]);
			t->stats.rx_bytes += mm[i].msg_len;
			msgs[i] = udp_parse(t, t->rx->iov[i].iov_base,
					    mm[i].msg_len, &src);
		}
		for (int i = 0; i < n; i++) {
			if (!msgs[i])
				continue;
			src.remote.len = from_len[i];
			memcpy(&src.remote.ss, &t->rx->from[i], from_len[i]);
			if (t->ops.recv)
				t->ops.recv(msgs[i], &src, t->arg);
			sip_msg_unref(msgs[i]);
		}
		done += n;
		if (n < TP_UDP_BATCH)
			return done; /* drained */
	}
	*drained = false;
	return done;
}

static void tcp_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
			  struct sockaddr *sa, int salen, void *arg)
{
	(void)lev;
	tp_conn_accept(arg, fd, sa, salen);
}

/*
 * accept() failed (EMFILE, ENFILE, ENOBUFS): no connection to report it
 * on, so count it as refused. The listening socket stays readable, so
 * accepting pauses for ACCEPT_RETRY_MS (when there is a wheel) instead
 * of spinning on the same error.
 */
static void tcp_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct tp_listener *l = arg;
	struct transport *t = l->t;

	t->stats.conns_refused++;
	if (t->wheel && !wheel_timer_armed(&l->retry)) {
		evconnlistener_disable(lev);
		wheel_timer_start(t->wheel, &l->retry, ACCEPT_RETRY_MS);
	}
}

static void tcp_accept_retry_cb(struct wheel_timer *w, void *arg)
{
	struct tp_listener *l = arg;

	(void)w;
	evconnlistener_enable(l->lev);
}
