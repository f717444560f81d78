/* SPDX-License-Identifier: MIT */
/* Transport addresses, names, defaults and response routing (RFC 3261
 * §18.1.1, §18.2.2, §19.1.2; RFC 3581 §4; RFC 5118 §4.5). */
#include "tp_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "duet/err.h"

static const char *const proto_names[SIP_PROTO_COUNT] = {
	[SIP_PROTO_UDP] = "UDP",
	[SIP_PROTO_TCP] = "TCP",
	[SIP_PROTO_TLS] = "TLS",
};

const char *sip_proto_name(enum sip_proto p)
{
	if ((unsigned)p >= SIP_PROTO_COUNT)
		return "?";
	return proto_names[p];
}

int sip_proto_from(struct slice token, enum sip_proto *out)
{
	for (unsigned i = 0; i < SIP_PROTO_COUNT; i++) {
		if (slice_caseeq_cstr(token, proto_names[i])) {
			*out = (enum sip_proto)i;
			return 0;
		}
	}
	return ENOENT;
}

void transport_config_default(struct transport_config *cfg)
{
	*cfg = (struct transport_config){
		.limits = SIP_LIMITS_DEFAULT,
		.tcp_idle_ms = 60000,
		.tcp_connect_ms = 5000,
		.max_conns_per_source = 32,
		.max_conns = 4096,
		.mtu = 1500,
	};
}

bool transport_too_big_for_udp(const struct transport *t, size_t size)
{
	size_t mtu = t ? t->cfg.mtu : 1500;

	/* §18.1.1: within 200 bytes of the path MTU */
	return mtu <= 200 || size > mtu - 200;
}

int tp_addr_set(struct tp_addr *a, struct slice host, uint16_t port)
{
	char buf[INET6_ADDRSTRLEN + 1];
	struct tp_addr r;
	bool bracketed = false;

	if (!a || !host.p)
		return EINVAL;
	if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']') {
		host = slice_sub(host, 1, host.len - 2);
		bracketed = true;
	}
	if (host.len == 0 || host.len >= sizeof(buf) ||
	    memchr(host.p, '\0', host.len))
		return EINVAL;
	memcpy(buf, host.p, host.len);
	buf[host.len] = '\0';
	memset(&r, 0, sizeof(r));
	if (!bracketed && !memchr(buf, ':', host.len)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&r.ss;

		if (inet_pton(AF_INET, buf, &in->sin_addr) != 1)
			return EINVAL;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		r.len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&r.ss;

		if (inet_pton(AF_INET6, buf, &in6->sin6_addr) != 1)
			return EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		r.len = sizeof(*in6);
	}
	*a = r;
	return 0;
}

bool tp_addr_is_set(const struct tp_addr *a)
{
	return a && a->len > 0 &&
	       (a->ss.ss_family == AF_INET || a->ss.ss_family == AF_INET6);
}

/* Decimal digits of v at p; returns the end. */
static char *put_uint(char *p, unsigned v)
{
	char tmp[10];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* Every message duet builds names a local address and most stamp a
 * remote one: IPv4 is written by hand (inet_ntop goes through sprintf) */
const char *tp_addr_host(const struct tp_addr *a, char *buf, size_t cap)
{
	const void *src = NULL;

	if (!cap)
		return buf;
	buf[0] = '\0';
	if (!tp_addr_is_set(a))
		return buf;
	if (a->ss.ss_family == AF_INET) {
		const unsigned char *b =
			(const unsigned char *)&(
				(const struct sockaddr_in *)&a->ss)
				->sin_addr;
		char *p = buf;

		if (cap < INET_ADDRSTRLEN)
			return buf;
		for (int i = 0; i < 4; i++) {
			p = put_uint(p, b[i]);
			*p++ = i < 3 ? '.' : '\0';
		}
		return buf;
	}
	src = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
	if (!inet_ntop(a->ss.ss_family, src, buf, (socklen_t)cap))
		buf[0] = '\0';
	return buf;
}

const char *tp_addr_str(const struct tp_addr *a, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 9], *p = text;
	size_t n;

	if (!cap)
		return buf;
	if (!tp_addr_is_set(a)) {
		snprintf(buf, cap, "-");
		return buf;
	}
	tp_addr_host(a, host, sizeof(host));
	n = strlen(host);
	if (a->ss.ss_family == AF_INET6)
		*p++ = '[';
	memcpy(p, host, n);
	p += n;
	if (a->ss.ss_family == AF_INET6)
		*p++ = ']';
	*p++ = ':';
	p = put_uint(p, tp_addr_port(a));
	n = (size_t)(p - text);
	if (n >= cap) /* as snprintf: cut, NUL-terminated */
		n = cap - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return buf;
}

uint16_t tp_addr_port(const struct tp_addr *a)
{
	if (!tp_addr_is_set(a))
		return 0;
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

uint32_t tp_addr_ip_hash(const struct tp_addr *a)
{
	const unsigned char *p;
	size_t n;
	uint32_t h = 2166136261u;

	if (a->ss.ss_family == AF_INET) {
		p = (const void *)&((const struct sockaddr_in *)&a->ss)
			    ->sin_addr;
		n = 4;
	} else {
		p = (const void *)&((const struct sockaddr_in6 *)&a->ss)
			    ->sin6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h ^ (h >> 16);
}

void tp_addr_set_port(struct tp_addr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

bool tp_addr_same_ip(const struct tp_addr *a, const struct tp_addr *b)
{
	if (!tp_addr_is_set(a) || !tp_addr_is_set(b) ||
	    a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->ss;
		const struct sockaddr_in *y = (const void *)&b->ss;

		return x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)&a->ss;
	const struct sockaddr_in6 *y = (const void *)&b->ss;

	return memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) ==
		       0 &&
	       x->sin6_scope_id == y->sin6_scope_id;
}

bool tp_addr_equal(const struct tp_addr *a, const struct tp_addr *b)
{
	return tp_addr_same_ip(a, b) && tp_addr_port(a) == tp_addr_port(b);
}

bool tp_addr_is_any(const struct tp_addr *a)
{
	if (!tp_addr_is_set(a))
		return false;
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr ==
		       htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(
		&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
}

/* §19.1.2: 5060 for UDP and TCP, 5061 for TLS. */
static uint16_t default_port(enum sip_proto p)
{
	return p == SIP_PROTO_TLS ? 5061 : 5060;
}

/*
 * §18.2.2, reliable: the request's connection while it is open; else
 * "the IP address in the received parameter, if present, using the port
 * in the sent-by value"; else a numeric sent-by. out->remote is the
 * fallback transport_send uses should the connection close first.
 */
static int reliable_dest(const struct sip_via *via, const struct tp_source *src,
			 uint16_t port, struct tp_dest *out)
{
	struct tp_conn *conn = src && src->conn && tp_conn_is_open(src->conn)
				       ? src->conn
				       : NULL;
	int err = EINVAL;

	if (slice_present(via->received))
		err = tp_addr_set(&out->remote, via->received, port);
	if (err && via->host_kind != SIP_HOST_NAME)
		err = tp_addr_set(&out->remote, via->host, port);
	if (err && !conn)
		return ENOENT; /* a host name: RFC 3263 §5 */
	if (err)
		memset(&out->remote, 0, sizeof(out->remote));
	out->conn = conn;
	return 0;
}

/*
 * §18.2.2, unreliable unicast: maddr (at the sent-by port) if present;
 * else the address the request came from ("received"), at the rport
 * value when the request asked for rport (RFC 3581 §4), else at the
 * sent-by port.
 */
static int unreliable_dest(const struct sip_via *via,
			   const struct tp_source *src, uint16_t port,
			   struct tp_dest *out)
{
	bool have_src = src && tp_addr_is_set(&src->remote);

	if (slice_present(via->maddr))
		return tp_addr_set(&out->remote, via->maddr, port) ? ENOENT : 0;
	if (have_src) {
		out->remote = src->remote;
	} else if (!slice_present(via->received) ||
		   tp_addr_set(&out->remote, via->received, port)) {
		if (via->host_kind == SIP_HOST_NAME ||
		    tp_addr_set(&out->remote, via->host, port))
			return ENOENT;
	}
	if (via->has_rport)
		port = via->rport ? via->rport
		       : have_src ? tp_addr_port(&src->remote)
				  : port;
	tp_addr_set_port(&out->remote, port);
	return 0;
}

int tp_response_dest(const struct sip_via *via, const struct tp_source *src,
		     struct tp_dest *out)
{
	struct tp_dest d;
	enum sip_proto proto;
	uint16_t port;
	int err;

	if (!via || !out)
		return EINVAL;
	memset(&d, 0, sizeof(d));
	if (src)
		proto = src->proto;
	else if (sip_proto_from(via->transport, &proto))
		return ENOENT;
	d.proto = proto;
	port = via->port ? via->port : default_port(proto);
	if (proto == SIP_PROTO_UDP)
		err = unreliable_dest(via, src, port, &d);
	else
		err = reliable_dest(via, src, port, &d);
	if (err)
		return err;
	*out = d;
	return 0;
}
