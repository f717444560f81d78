/* SPDX-License-Identifier: MIT */
/* Shared by core's transport files (RFC 3261 §18); not a public interface. */
#ifndef DUET_CORE_TP_INTERNAL_H
#define DUET_CORE_TP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/transport.h"
#include "duet/wheel.h"

#define TP_UDP_BATCH 16		  /* datagrams per recvmmsg */
#define TP_SEND_BATCH 16	  /* datagrams per sendmmsg at most */
#define TP_SEND_ARENA (64 * 1024) /* their bytes; one datagram fits */
#define TP_SOURCE_MEMO 64	  /* remote IPs (direct-mapped) */
#define TP_SOURCE_TTL_MS 10000	  /* a route change shows within this */

struct bufferevent;
struct tp_rx;
struct evconnlistener;
struct event;

/* Connections hash by remote IP only (not port), so one bucket holds
 * every connection of a source: lookup and per-source counting both walk
 * one short chain. */
#define TP_BUCKETS 256

struct tp_listener {
	struct tp_listener *next;
	struct transport *t;
	enum sip_proto proto;
	struct tp_addr addr;	    /* as bound (port filled in) */
	int fd;			    /* UDP socket; -1 for TCP */
	struct event *ev;	    /* UDP readable */
	struct evconnlistener *lev; /* TCP */
	struct wheel_timer retry;   /* TCP: accept paused after an error */
	/* UDP read window (cfg.udp_window_us): while windows run, ev is
	 * off and `window` (a periodic timerfd's) reads the socket */
	int window_fd; /* -1: none */
	struct event *window;
	/* datagrams read at wakeups since rate_start_us (monotonic): the
	 * window starts when TP_WINDOW_ENGAGE come within one window */
	uint64_t rate_start_us;
	unsigned rate_count;
	uint32_t window_us;   /* the window's length now (window_fit) */
	unsigned window_room; /* datagrams a window may gather */
};

struct tp_conn {
	unsigned refs;
	struct transport *t;	     /* NULL once the transport is freed */
	struct tp_conn *next, *prev; /* hash chain, or the lingering list */
	struct bufferevent *bev;     /* NULL once the socket is closed */
	enum sip_proto proto;
	struct tp_addr remote, local;
	struct wheel_timer timer; /* connect timeout, then idle timeout, then
				     linger timeout */
	size_t in_seen;		  /* input bytes already counted in rx_bytes */
	uint8_t ka;		  /* RFC 5626 ping: "\r\n\r\n" bytes matched */
	bool incoming;
	bool connecting;
	bool closed;	/* no more sends or receives */
	bool lingering; /* closed, flushing its output before the socket goes */
};

/* A datagram queued while the transport is corked: its bytes are at
 * off in the transport's out_arena. */
struct tp_out {
	int fd;
	struct tp_addr to;
	size_t off, len;
};

struct transport {
	struct event_base *base;
	struct wheel *wheel; /* may be NULL: no idle or connect timers */
	struct transport_config cfg;
	struct transport_ops ops;
	void *arg;
	struct tp_listener *listeners;
	struct tp_conn *buckets[TP_BUCKETS];
	struct tp_conn *lingering;
	char *udp_buf;	  /* TP_UDP_BATCH buffers of cfg.limits.max_msg_size + 1
			     bytes, one per datagram of a recvmmsg */
	struct tp_rx *rx; /* recvmmsg's headers over udp_buf (transport.c) */
	/* the source address routing picked for a remote IP, when a
	 * listener is bound to a wildcard (transport_local) */
	struct tp_source_memo {
		struct tp_addr remote, src;
		uint64_t until; /* wheel ms; 0: empty */
	} source_memo[TP_SOURCE_MEMO];
	struct transport_stats stats;
	/* >0 while datagrams read are handled: UDP sends queue here and go
	 * out by sendmmsg when the batch is done (tp_flush) */
	unsigned cork;
	unsigned out_n;
	size_t out_used;
	struct tp_out out[TP_SEND_BATCH];
	char *out_arena; /* TP_SEND_ARENA bytes */
};

/* tp_addr.c */
bool tp_addr_is_set(const struct tp_addr *a);
/* Same family and address, ports ignored. */
bool tp_addr_same_ip(const struct tp_addr *a, const struct tp_addr *b);
/* FNV-1a over an IPv4 or IPv6 address's IP bytes (port ignored), folded:
 * the connection table's buckets and the wildcard source memo. */
uint32_t tp_addr_ip_hash(const struct tp_addr *a);
/* Set an IPv4 or IPv6 address's port. */
void tp_addr_set_port(struct tp_addr *a, uint16_t port);
/* Is a an unspecified address (0.0.0.0 or ::)? */
bool tp_addr_is_any(const struct tp_addr *a);

/* tp_conn.c */
/* Accept callback target: wrap fd (already accepted) in a connection. */
void tp_conn_accept(struct tp_listener *l, int fd, const struct sockaddr *sa,
		    int salen);
/* Queue buf on a TCP connection to dest (see transport_send). */
int tp_conn_send(struct transport *t, const struct tp_dest *dest,
		 const char *buf, size_t len);
/* Is c usable for sending (not closed)? */
bool tp_conn_is_open(const struct tp_conn *c);
/* Close every connection without callbacks (transport_free). */
void tp_conn_free_all(struct transport *t);

#endif /* DUET_CORE_TP_INTERNAL_H */
