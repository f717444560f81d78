/* SPDX-License-Identifier: MIT */
/*
 * SIP transports (RFC 3261 §18, RFC 3581): UDP and TCP listeners on IPv4
 * and IPv6, stream framing by Content-Length, connection reuse, idle
 * close, per-source connection limits, and response routing (§18.2.2).
 *
 * The transport knows nothing of transactions: it hands every parsed
 * message upward through one callback with where it came from, reports
 * messages it could not parse through another (so the layer above can
 * answer 400), and reports a connection's end through a third.
 */
#ifndef DUET_TRANSPORT_H
#define DUET_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "duet/clock.h"
#include "duet/sip_msg.h"
#include "duet/wheel.h"

struct event_base;

enum sip_proto {
	SIP_PROTO_UDP = 0,
	SIP_PROTO_TCP,
	SIP_PROTO_TLS, /* reserved: TLS comes with its own issue */
	SIP_PROTO_COUNT
};

/** "UDP", "TCP", "TLS" (as in a Via). */
const char *sip_proto_name(enum sip_proto p);
/** Parse a transport token case-insensitively ("udp", "TCP"). 0/ENOENT. */
int sip_proto_from(struct slice token, enum sip_proto *out);

/** A socket address. */
struct tp_addr {
	/* IPv4 or IPv6 only: 28 bytes, not sockaddr_storage's 128 (calls
	 * and transactions hold several). ss_family overlays the family
	 * both sockaddr types start with. */
	union {
		sa_family_t ss_family;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} ss;
	socklen_t len;
};

/** A numeric IPv4 or IPv6 host (brackets allowed) and a port. 0/EINVAL. */
int tp_addr_set(struct tp_addr *a, struct slice host, uint16_t port);
/** "192.0.2.1:5060" or "[2001:db8::1]:5060" into buf. Returns buf. */
const char *tp_addr_str(const struct tp_addr *a, char *buf, size_t cap);
/** The host alone, IPv6 without brackets ("2001:db8::1"). Returns buf. */
const char *tp_addr_host(const struct tp_addr *a, char *buf, size_t cap);
uint16_t tp_addr_port(const struct tp_addr *a);
bool tp_addr_equal(const struct tp_addr *a, const struct tp_addr *b);

struct tp_conn; /* a stream connection; ref-counted */
struct tp_conn *tp_conn_ref(struct tp_conn *c);
/** Returns NULL. */
struct tp_conn *tp_conn_unref(struct tp_conn *c);

/** Where a received message came from. */
struct tp_source {
	enum sip_proto proto;
	struct tp_addr remote;
	struct tp_addr local;
	struct tp_conn *conn; /* streams: borrowed for the callback; ref to
				 keep it */
};

/** Where to send. */
struct tp_dest {
	enum sip_proto proto;
	struct tp_addr remote;
	struct tp_conn *conn; /* optional: this connection (e.g. the one a
				 request arrived on) */
};

struct transport_ops {
	/** A parsed message. msg is borrowed: take a ref to keep it. */
	void (*recv)(struct sip_msg *msg, const struct tp_source *src,
		     void *arg);
	/** Bytes that did not parse (err EBADMSG or EMSGSIZE, why says
	 * what). On a stream the connection is closed after this call. */
	void (*bad)(const char *buf, size_t len, int err, const char *why,
		    const struct tp_source *src, void *arg);
	/** A connection ended, once per connection: err 0 when the peer
	 * closed it or it was idle, EBADMSG/EMSGSIZE when duet closed it for
	 * bad framing, ETIMEDOUT for a connect timeout, else the socket
	 * error. May be NULL. Callbacks must not call transport_free(). */
	void (*conn_closed)(struct tp_conn *conn, int err, void *arg);
};

struct transport_config {
	struct sip_limits limits;
	uint32_t tcp_idle_ms;	 /* close idle connections; default 60 s */
	uint32_t tcp_connect_ms; /* connect timeout; default 5 s */
	unsigned max_conns_per_source; /* default 32 */
	unsigned max_conns;	       /* default 4096 */
	size_t mtu;		       /* default 1500 (§18.1.1) */
	/* UDP read window, µs; 0 (the default) reads at every wakeup. Once
	 * TP_WINDOW_ENGAGE datagrams reach a listener within one window, its
	 * socket is read once per window instead of at each arrival, until a
	 * window finds fewer than TP_WINDOW_LEAVE: fewer wakeups and larger
	 * batches under load, for up to this much added delay per message. */
	uint32_t udp_window_us;
};

/* The read window's thresholds (see udp_window_us), in datagrams per
 * window: it starts at two full recvmmsg batches, when wakeups cost a
 * process a real share of its CPU (the daemon's 10 ms window: 3200
 * datagrams a second), and ends below a quarter of that. Lighter traffic
 * never waits. */
#define TP_WINDOW_ENGAGE 32
#define TP_WINDOW_LEAVE 8

/** The defaults named above. */
void transport_config_default(struct transport_config *cfg);

struct transport;

/**
 * Create the transport of one event loop. cfg may be NULL for defaults.
 * The wheel is borrowed (idle and connect timers). Sets SIGPIPE to ignored
 * if it is still at its default (a peer's reset must not kill the
 * process). Returns 0/ENOMEM.
 */
int transport_new(struct transport **out, struct event_base *base,
		  struct wheel *wheel, const struct transport_config *cfg,
		  const struct transport_ops *ops, void *arg);

/** Close every socket and free. Calls no callbacks. */
void transport_free(struct transport *t);

/**
 * Listen on addr (port 0: any free port). *bound (may be NULL) gets the
 * address actually bound. Returns 0 or an errno (EADDRINUSE...).
 */
int transport_listen(struct transport *t, enum sip_proto proto,
		     const struct tp_addr *addr, struct tp_addr *bound);

/**
 * A local address to put in Via/Contact for sending to `remote` over
 * proto: the first listener of that protocol and address family; for a
 * wildcard listener (0.0.0.0, ::) the source routing picks for remote,
 * remembered per remote IP for 10 s when the transport has a wheel.
 * Returns 0 or ENOENT.
 */
int transport_local(struct transport *t, enum sip_proto proto,
		    const struct tp_addr *remote, struct tp_addr *out);

/**
 * Send one message. UDP: a datagram from the matching listener socket.
 * TCP: on dest->conn if set and open, else on an open connection to
 * dest->remote, else a new connection (the bytes are queued until it
 * connects). Returns 0 or an errno for an immediate failure (ENOTCONN:
 * dest->conn closed and no remote; EMSGSIZE: max_conns reached;
 * EPROTONOSUPPORT: TLS; a connect() error); later failures arrive through
 * conn_closed.
 */
int transport_send(struct transport *t, const struct tp_dest *dest,
		   const char *buf, size_t len);

/**
 * §18.1.1: a request this large must go over a congestion-controlled
 * transport when the target allows it (size > mtu - 200).
 */
bool transport_too_big_for_udp(const struct transport *t, size_t size);

/**
 * Where a response goes (§18.2.2, RFC 3581 §4): reliable transport: the
 * request's connection (src->conn) if still open, else sent-by; UDP:
 * maddr if present, else the received address (src->remote) with the rport
 * value when the request asked for rport, else received with the sent-by
 * port (default 5060). via is the response's top Via; src the request's
 * source. Returns 0, or ENOENT when only a sent-by host name is left
 * (the caller must resolve it, RFC 3263 §5).
 */
int tp_response_dest(const struct sip_via *via, const struct tp_source *src,
		     struct tp_dest *out);

struct transport_stats {
	uint64_t rx_msgs, tx_msgs;
	uint64_t rx_bytes, tx_bytes;
	uint64_t rx_bad;      /* messages that failed to parse */
	uint64_t tx_errors;   /* sends that failed */
	uint64_t tx_batches;  /* sendmmsg calls (several datagrams each) */
	uint64_t udp_wakeups; /* UDP sockets found readable by the loop */
	uint64_t udp_windows; /* UDP reads at the end of a read window */
	uint64_t udp_window_resizes; /* read windows shortened or lengthened
					to fit the socket's buffer */
	uint64_t source_lookups;     /* routing asked for a wildcard's source */
	uint64_t conns_opened, conns_closed, conns_refused, conns_idle_closed;
	unsigned conns_open;
};

void transport_stats(const struct transport *t, struct transport_stats *out);

#endif /* DUET_TRANSPORT_H */
