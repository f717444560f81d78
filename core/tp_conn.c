/* SPDX-License-Identifier: MIT */
/* Stream connections: accept, connect, reuse, framing, keep-alive pong,
 * idle close and limits (RFC 3261 §18.1.1, §18.2.2, §18.3; RFC 5626
 * §3.5.1). */
#include "tp_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "duet/alloc.h"
#include "duet/err.h"

/* ---- the connection table ---------------------------------------------*/

static unsigned bucket_of(const struct tp_addr *a)
{
	return tp_addr_ip_hash(a) % TP_BUCKETS;
}

static void list_push(struct tp_conn **head, struct tp_conn *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

static void list_del(struct tp_conn **head, struct tp_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

/* An open connection to exactly this remote (either direction: §18). */
static struct tp_conn *conn_find(struct transport *t,
				 const struct tp_addr *remote)
{
	for (struct tp_conn *c = t->buckets[bucket_of(remote)]; c; c = c->next)
		if (tp_addr_equal(&c->remote, remote))
			return c;
	return NULL;
}

/* Connections a source opened to us, any port. */
static unsigned source_count(struct transport *t, const struct tp_addr *remote)
{
	unsigned n = 0;

	for (struct tp_conn *c = t->buckets[bucket_of(remote)]; c; c = c->next)
		n += c->incoming && tp_addr_same_ip(&c->remote, remote);
	return n;
}

/* ---- life cycle ---------------------------------------------------------*/

struct tp_conn *tp_conn_ref(struct tp_conn *c)
{
	if (c)
		c->refs++;
	return c;
}

/* Drop the socket; the memory stays while references remain. */
static void conn_drop_socket(struct tp_conn *c)
{
	wheel_timer_cancel(&c->timer);
	if (c->bev)
		bufferevent_free(c->bev); /* BEV_OPT_CLOSE_ON_FREE */
	c->bev = NULL;
}

struct tp_conn *tp_conn_unref(struct tp_conn *c)
{
	if (!c || --c->refs > 0)
		return NULL;
	/* the table's reference goes last, so c is closed here */
	conn_drop_socket(c);
	duet_free(c);
	return NULL;
}

bool tp_conn_is_open(const struct tp_conn *c)
{
	return c && c->t && !c->closed;
}

static void conn_local(struct tp_conn *c);
static void conn_timer_cb(struct wheel_timer *w, void *arg);
static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

/* A connection around fd (the bufferevent owns it from here on), holding
 * what will be the table's reference; not in the table yet. */
static int conn_new(struct transport *t, int fd, const struct tp_addr *remote,
		    bool incoming, struct tp_conn **out)
{
	struct tp_conn *c = duet_calloc(1, sizeof(*c));

	if (!c)
		return ENOMEM;
	c->bev = bufferevent_socket_new(t->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		duet_free(c);
		return ENOMEM;
	}
	c->refs = 1;
	c->t = t;
	c->proto = SIP_PROTO_TCP;
	c->remote = *remote;
	c->incoming = incoming;
	wheel_timer_init(&c->timer, conn_timer_cb, c);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
			  c);
	/* the input never holds more than one message's limit (§18.3):
	 * at limit + 1 bytes framing either finds a message or refuses */
	bufferevent_setwatermark(c->bev, EV_READ, 0,
				 t->cfg.limits.max_msg_size + 1);
	*out = c;
	return 0;
}

/* Into the table: open from here on, until conn_close. */
static void conn_link(struct tp_conn *c)
{
	struct transport *t = c->t;

	list_push(&t->buckets[bucket_of(&c->remote)], c);
	t->stats.conns_opened++;
	t->stats.conns_open++;
	conn_local(c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void conn_local(struct tp_conn *c)
{
	int fd = (int)bufferevent_getfd(c->bev);

	c->local.len = sizeof(c->local.ss);
	if (fd < 0 ||
	    getsockname(fd, (struct sockaddr *)&c->local.ss, &c->local.len))
		memset(&c->local, 0, sizeof(c->local));
}

/* Traffic: restart the idle timer (O(1): the wheel moves the handle). */
static void conn_touch(struct tp_conn *c)
{
	struct transport *t = c->t;

	if (t->wheel && t->cfg.tcp_idle_ms && !c->connecting)
		wheel_timer_start(t->wheel, &c->timer, t->cfg.tcp_idle_ms);
}

/*
 * Close: out of the table, no more sends or receives, conn_closed once.
 * With linger, bytes already queued (a 400 written from the bad callback)
 * are flushed first, bounded by tcp_connect_ms (so only with a wheel).
 */
static void conn_close(struct tp_conn *c, int err, bool linger)
{
	struct transport *t = c->t;

	if (c->closed)
		return;
	c->closed = true;
	c->connecting = false;
	list_del(&t->buckets[bucket_of(&c->remote)], c);
	t->stats.conns_open--;
	t->stats.conns_closed++;
	wheel_timer_cancel(&c->timer);
	if (linger && c->bev && t->wheel &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
		c->lingering = true;
		list_push(&t->lingering, c);
		bufferevent_disable(c->bev, EV_READ);
		wheel_timer_start(t->wheel, &c->timer, t->cfg.tcp_connect_ms);
	} else {
		conn_drop_socket(c);
	}
	if (t->ops.conn_closed)
		t->ops.conn_closed(c, err, t->arg);
	if (!c->lingering)
		tp_conn_unref(c); /* the table's reference */
}

/* A lingering connection flushed its output (or gave up). */
static void conn_linger_done(struct tp_conn *c)
{
	list_del(&c->t->lingering, c);
	c->lingering = false;
	conn_drop_socket(c);
	tp_conn_unref(c);
}

void tp_conn_free_all(struct transport *t)
{
	for (unsigned i = 0; i <= TP_BUCKETS; i++) {
		struct tp_conn **head =
			i < TP_BUCKETS ? &t->buckets[i] : &t->lingering;

		while (*head) {
			struct tp_conn *c = *head;

			list_del(head, c);
			c->closed = true;
			c->lingering = false;
			c->t = NULL;
			conn_drop_socket(c);
			tp_conn_unref(c);
		}
	}
}

static void conn_timer_cb(struct wheel_timer *w, void *arg)
{
	struct tp_conn *c = arg;

	(void)w;
	if (c->lingering) {
		conn_linger_done(c);
	} else if (c->connecting) {
		conn_close(c, ETIMEDOUT, false);
	} else {
		c->t->stats.conns_idle_closed++;
		conn_close(c, 0, false);
	}
}

/* ---- accept and connect -------------------------------------------------*/

void tp_conn_accept(struct tp_listener *l, int fd, const struct sockaddr *sa,
		    int salen)
{
	struct transport *t = l->t;
	struct tp_addr remote = { .len = (socklen_t)salen };
	struct tp_conn *c;

	if (salen <= 0 || (size_t)salen > sizeof(remote.ss)) {
		close(fd);
		t->stats.conns_refused++;
		return;
	}
	memcpy(&remote.ss, sa, (size_t)salen);
	if (t->stats.conns_open >= t->cfg.max_conns ||
	    source_count(t, &remote) >= t->cfg.max_conns_per_source ||
	    conn_new(t, fd, &remote, true, &c)) {
		close(fd); /* conn_new failed before the bufferevent owned fd */
		t->stats.conns_refused++;
		return;
	}
	conn_link(c);
	conn_touch(c);
}

/* A new outgoing connection; the bytes written meanwhile are queued
 * until it connects. */
static int conn_connect(struct transport *t, const struct tp_addr *remote,
			struct tp_conn **out)
{
	struct tp_conn *c;
	int fd, err;

	if (t->stats.conns_open >= t->cfg.max_conns)
		return EMSGSIZE;
	fd = socket(remote->ss.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	err = conn_new(t, fd, remote, false, &c);
	if (err) {
		close(fd);
		return err;
	}
	c->connecting = true;
	if (bufferevent_socket_connect(c->bev,
				       (const struct sockaddr *)&remote->ss,
				       (int)remote->len)) {
		/* never opened, so no conn_closed: the caller sees err */
		err = errno ? errno : ECONNREFUSED;
		c->closed = true;
		tp_conn_unref(c);
		return err;
	}
	conn_link(c);
	if (t->wheel && t->cfg.tcp_connect_ms)
		wheel_timer_start(t->wheel, &c->timer, t->cfg.tcp_connect_ms);
	*out = c;
	return 0;
}

/* ---- sending ------------------------------------------------------------*/

int tp_conn_send(struct transport *t, const struct tp_dest *dest,
		 const char *buf, size_t len)
{
	struct tp_conn *c = NULL;
	int err;

	if (dest->conn && dest->conn->t != t)
		return dest->conn->t ? EINVAL : ENOTCONN;
	if (tp_conn_is_open(dest->conn))
		c = dest->conn;
	else if (tp_addr_is_set(&dest->remote))
		c = conn_find(t, &dest->remote);
	if (!c) {
		/* a closed connection with no address to fall back to */
		if (!tp_addr_is_set(&dest->remote))
			return dest->conn ? ENOTCONN : EINVAL;
		err = conn_connect(t, &dest->remote, &c);
		if (err)
			return err;
	}
	if (bufferevent_write(c->bev, buf, len))
		return ENOMEM;
	conn_touch(c);
	return 0;
}

/* ---- receiving ----------------------------------------------------------*/

static struct tp_source conn_source(struct tp_conn *c)
{
	return (struct tp_source){ .proto = c->proto,
				   .remote = c->remote,
				   .local = c->local,
				   .conn = c };
}

/* RFC 5626 §3.5.1: a double CRLF between messages is a ping, answered
 * at once with a single CRLF (the pong). A lone CRLF (a pong) is
 * skipped. The match survives reads that split the ping. */
static void conn_keepalive_byte(struct tp_conn *c, char ch)
{
	static const char ping[] = "\r\n\r\n";

	if (ch == ping[c->ka]) {
		if (++c->ka == 4) {
			c->ka = 0;
			/* a peer that pings but never reads gets no more
			 * pongs than one message's worth of bytes */
			if (evbuffer_get_length(bufferevent_get_output(
				    c->bev)) < c->t->cfg.limits.max_msg_size &&
			    bufferevent_write(c->bev, "\r\n", 2) == 0)
				c->t->stats.tx_bytes += 2;
		}
	} else {
		c->ka = ch == '\r' ? 1 : 0;
	}
}

static void conn_skip_keepalives(struct tp_conn *c, struct evbuffer *in)
{
	for (;;) {
		size_t avail = evbuffer_get_contiguous_space(in), i = 0;
		const char *p;

		if (!avail)
			return;
		p = (const char *)evbuffer_pullup(in, (ev_ssize_t)avail);
		while (i < avail && (p[i] == '\r' || p[i] == '\n'))
			conn_keepalive_byte(c, p[i++]);
		evbuffer_drain(in, i);
		if (i < avail)
			return;
	}
}

/* Bytes that cannot be a message: report them, then close (after
 * flushing what the bad callback may have queued, a 400 say). */
static int conn_bad(struct tp_conn *c, const char *p, size_t len, int err,
		    const char *why)
{
	struct transport *t = c->t;
	struct tp_source src = conn_source(c);

	t->stats.rx_bad++;
	if (t->ops.bad)
		t->ops.bad(p, len, err, why ? why : "bad message", &src,
			   t->arg);
	conn_close(c, err, true);
	return err;
}

/* Parse one framed message, drain it, then deliver it (the callback may
 * close c, so the input buffer is not touched after it). */
static int conn_deliver(struct tp_conn *c, struct evbuffer *in, const char *p,
			size_t skip, size_t len)
{
	struct transport *t = c->t;
	struct sip_msg *msg = NULL;
	struct tp_source src;
	const char *why = NULL;
	int err;

	err = sip_msg_parse(&msg, p + skip, len, SIP_FRAMING_STREAM,
			    &t->cfg.limits, &why);
	if (err == EBADMSG || err == EMSGSIZE)
		return conn_bad(c, p + skip, len, err, why);
	if (err) {
		conn_close(c, err, false); /* ENOMEM: the stream is lost */
		return err;
	}
	evbuffer_drain(in, skip + len);
	c->ka = 0;
	t->stats.rx_msgs++;
	src = conn_source(c);
	if (t->ops.recv)
		t->ops.recv(msg, &src, t->arg);
	sip_msg_unref(msg);
	return 0;
}

/*
 * Find, parse and deliver the next message of the input (§18.3). The
 * first chunk is framed in place; the buffer is made contiguous
 * (evbuffer_pullup copies) only when a message spans chunks. Returns 0
 * when a message was delivered, else why to stop.
 */
static int conn_next(struct tp_conn *c, struct evbuffer *in)
{
	const struct sip_limits *lim = &c->t->cfg.limits;
	size_t have, avail, skip = 0, len = 0;
	const char *p, *why = NULL;
	int err;

	conn_skip_keepalives(c, in);
	have = evbuffer_get_length(in);
	if (!have)
		return ENODATA;
	avail = evbuffer_get_contiguous_space(in);
	p = (const char *)evbuffer_pullup(in, (ev_ssize_t)avail);
	err = sip_stream_frame(p, avail, lim, &skip, &len, &why);
	if (err == ENODATA && avail < have) {
		avail = have;
		p = (const char *)evbuffer_pullup(in, (ev_ssize_t)avail);
		if (!p) {
			conn_close(c, ENOMEM, false);
			return ENOMEM;
		}
		err = sip_stream_frame(p, avail, lim, &skip, &len, &why);
	}
	if (err == ENODATA)
		return err;
	if (err)
		return conn_bad(c, p, avail, err, why);
	return conn_deliver(c, in, p, skip, len);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct tp_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);

	if (c->closed) {
		evbuffer_drain(in, len);
		return;
	}
	c->t->stats.rx_bytes += len - c->in_seen;
	conn_touch(c);
	tp_conn_ref(c); /* callbacks may drop every other reference */
	while (!c->closed && conn_next(c, in) == 0)
		;
	if (!c->closed)
		c->in_seen = evbuffer_get_length(in);
	tp_conn_unref(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct tp_conn *c = arg;

	/* called when the output has drained */
	if (c->lingering &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_linger_done(c);
}

/* The socket's error: SO_ERROR, else errno as libevent left it. */
static int conn_socket_error(struct tp_conn *c)
{
	int err = 0, fd = (int)bufferevent_getfd(c->bev);
	socklen_t n = sizeof(err);

	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &n) == 0 &&
	    err)
		return err;
	err = EVUTIL_SOCKET_ERROR();
	if (err == 0 || err == EAGAIN || err == EINPROGRESS)
		/* libevent reports a connect refused at once without errno */
		err = c->connecting ? ECONNREFUSED : EIO;
	return err;
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tp_conn *c = arg;

	(void)bev;
	if (c->lingering) { /* the peer went away before the flush ended */
		conn_linger_done(c);
		return;
	}
	if (c->closed)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		c->connecting = false;
		conn_local(c);
		conn_touch(c); /* the connect timer becomes the idle timer */
		return;
	}
	/* after EOF (a half-close maybe) replies already queued still go */
	if (what & BEV_EVENT_ERROR)
		conn_close(c, conn_socket_error(c), false);
	else if (what & BEV_EVENT_EOF)
		conn_close(c, 0, true);
}
