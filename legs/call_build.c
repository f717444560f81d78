/* SPDX-License-Identifier: MIT */
/*
 * The messages of a call: the B-leg INVITE as a new dialog (RFC 3261 §8.1,
 * RFC 7332 Max-Forwards), responses to the caller (§8.2.6), the ACK of a
 * 2xx (§13.2.2.4), CANCEL (§9.1) and BYE (§15.1.1).
 */
#include "call_internal.h"

#include <stdarg.h>
#include <stdio.h>

#include "duet/alloc.h"
#include "duet/err.h"
#include "duet/log.h"

int call_uri_dest(const struct sip_uri *uri, enum sip_proto dflt,
		  struct tp_dest *out)
{
	enum sip_proto proto = dflt;
	uint16_t port = uri->port;

	if (uri->scheme != SIP_URI_SIP && uri->scheme != SIP_URI_SIPS)
		return EINVAL;
	if (uri->transport.p && sip_proto_from(uri->transport, &proto))
		return EPROTONOSUPPORT;
	if (uri->scheme == SIP_URI_SIPS || proto == SIP_PROTO_TLS)
		return EPROTONOSUPPORT; /* TLS comes with its own issue */
	/* host names need RFC 3263 resolution, not wired in yet */
	if (uri->host_kind != SIP_HOST_IPV4 && uri->host_kind != SIP_HOST_IPV6)
		return ENOENT;
	*out = (struct tp_dest){ .proto = proto };
	return tp_addr_set(&out->remote, uri->host, port ? port : 5060);
}

/* Append the strings (NULL-terminated list) to buf (cut to cap, always
 * NUL-terminated): what snprintf("%s%s...") did, at a tenth of the cost
 * on the path every message takes. */
static void concat(char *buf, size_t cap, ...)
{
	va_list ap;
	size_t n = 0;

	va_start(ap, cap);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL;) {
		size_t k = strlen(s);

		if (k > cap - 1 - n)
			k = cap - 1 - n;
		memcpy(buf + n, s, k);
		n += k;
	}
	va_end(ap);
	buf[n] = '\0';
}

/* Where in local_parts' Via its sent-by and branch are. */
struct via_sent {
	struct slice host; /* IPv6 in its brackets, as a parser finds it */
	uint16_t port;
	struct slice branch;
};

static int local_parts_at(struct calls *c, const struct tp_dest *dest,
			  char *via, size_t via_cap, char *contact,
			  size_t contact_cap, struct via_sent *sent);

/* "SIP/2.0/UDP host:port;branch=...;rport" (via may be NULL: a response
 * has none of its own) and our Contact (contact may be NULL) for dest. */
static int local_parts(struct calls *c, const struct tp_dest *dest, char *via,
		       size_t via_cap, char *contact, size_t contact_cap)
{
	return local_parts_at(c, dest, via, via_cap, contact, contact_cap,
			      NULL);
}

/* local_parts(), and where the Via's parts are (sent, with via). */
static int local_parts_at(struct calls *c, const struct tp_dest *dest,
			  char *via, size_t via_cap, char *contact,
			  size_t contact_cap, struct via_sent *sent)
{
	struct tp_addr local;
	char branch[LEG_IDENT_MAX];
	const char *proto = sip_proto_name(dest->proto), *addr = c->local_text;
	int err = 0;

	if (c->dry) /* a dry run sends nothing: the configured address */
		local = c->dry_local;
	else
		err = transport_local(c->env.tp, dest->proto, &dest->remote,
				      &local);

	if (err)
		return err;
	if (!c->local_text[0] || !tp_addr_equal(&local, &c->local_seen)) {
		tp_addr_str(&local, c->local_text, sizeof(c->local_text));
		tp_addr_host(&local, c->local_host, sizeof(c->local_host));
		c->local_seen = local;
	}
	if (via) {
		size_t head;

		leg_ident_branch(c->env.ident, branch);
		concat(via, via_cap, "SIP/2.0/", proto, " ", addr,
		       ";branch=", (const char *)NULL);
		head = strlen(via);
		concat(via + head, via_cap - head, branch, ";rport",
		       (const char *)NULL);
		if (sent) /* addr is local_host, bracketed when IPv6, ":port" */
			*sent = (struct via_sent){
				.host = slice_make(
					via + strlen("SIP/2.0/ ") +
						strlen(proto),
					strlen(c->local_host) +
						(local.ss.ss_family == AF_INET6
							 ? 2
							 : 0)),
				.port = tp_addr_port(&local),
				.branch =
					slice_make(via + head, strlen(branch)),
			};
	}
	if (contact)
		concat(contact, contact_cap, "<sip:duet@", addr,
		       dest->proto == SIP_PROTO_TCP ? ";transport=tcp>" : ">",
		       (const char *)NULL);
	return 0;
}

/*
 * What crosses with a mid-call request or its response whatever the
 * header lists say (a route's deny-list or removals still take them out):
 * the headers of INFO (RFC 6086), NOTIFY (RFC 6665), REFER (RFC 3515),
 * the body's description, and the ones a failure explains itself with
 * (Retry-After of a 491/500/503, Unsupported of a 420, Warning of a 488).
 * Subject, like the INVITE's, does not cross.
 */
static const enum sip_hdr_id mid_hdrs[] = {
	SIP_HDR_INFO_PACKAGE,
	SIP_HDR_RECV_INFO,
	SIP_HDR_EVENT,
	SIP_HDR_SUBSCRIPTION_STATE,
	SIP_HDR_REFER_TO,
	SIP_HDR_REFERRED_BY,
	SIP_HDR_CONTENT_DISPOSITION,
	SIP_HDR_CONTENT_ENCODING,
	SIP_HDR_CONTENT_LANGUAGE,
	SIP_HDR_REASON,
	SIP_HDR_RETRY_AFTER,
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_WARNING,
	SIP_HDR_EXPIRES,
};

static bool is_mid_hdr(uint16_t id)
{
	for (size_t i = 0; i < sizeof(mid_hdrs) / sizeof(mid_hdrs[0]); i++)
		if (id == (uint16_t)mid_hdrs[i])
			return true;
	return false;
}

/*
 * The headers of m that cross to the other leg, in their order: the
 * route's allow- or deny-list (the built-in allow-list without a route),
 * less what the route removes from what duet sends on leg (requests or
 * responses); mid: a mid-call request or its response, where the
 * mid_hdrs cross too. 100rel and RSeq cross only when the route relays
 * PRACK (RFC 3262; RAck is renumbered by call_prack.c).
 * Returns whether a Server header crossed.
 */
static bool copy_crossing(struct sip_writer *w, const struct sip_msg *m,
			  const struct policy_route *r, enum policy_leg leg,
			  bool response, bool mid)
{
	bool server = false;
	/* RFC 3262: 100rel crosses only when the route relays PRACK */
	bool rel = r && prack_mode(NULL, r) == POLICY_METHOD_RELAY;

	for (uint16_t i = 0; i < m->hdr_count; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		bool crosses =
			mid && is_mid_hdr(h->id)
				? !policy_header_denied(r, h->id, h->name)
				: policy_header_crosses(r, h->id, h->name);
		bool tag = (h->id == SIP_HDR_SUPPORTED ||
			    h->id == SIP_HDR_REQUIRE) &&
			   sip_option_in(h->value, SLICE_LIT("100rel"));

		/* §8.2.2.3: a 420's Unsupported is what it is about */
		if (response && m->status == 420 &&
		    h->id == SIP_HDR_UNSUPPORTED)
			crosses = true;

		/* relayed 100rel is protocol: it crosses whatever the
		 * header rules allow */
		if (h->id == SIP_HDR_RACK || (h->id == SIP_HDR_RSEQ && !rel) ||
		    (!(rel && (tag || h->id == SIP_HDR_RSEQ)) && !crosses) ||
		    policy_header_removed(r, leg, response, h->id, h->name))
			continue;
		/* 100rel (unless relayed) and timer are duet's own on each
		 * leg (call_prack.c, call_timer.c): the other tags cross */
		if ((!rel && tag) ||
		    ((h->id == SIP_HDR_SUPPORTED || h->id == SIP_HDR_REQUIRE) &&
		     sip_option_in(h->value, SLICE_LIT("timer")))) {
			prack_copy_option_hdr(w, h, !rel);
			continue;
		}
		if (!sip_build_value_ok(h->value)) /* folded: not copied */
			continue;
		if (h->id != SIP_HDR_OTHER)
			sip_build_header_id(w, (enum sip_hdr_id)h->id,
					    h->value);
		else
			sip_build_header(w, h->name, h->value);
		server |= h->id == SIP_HDR_SERVER;
	}
	return server;
}

/* The headers the route adds to what duet sends on leg, their templates
 * expanded over req (the caller's INVITE; in a call, the mid-call request
 * crossing). 0 or the error (logged) that left them out. */
static int add_route_headers(struct sip_writer *w, const struct call *call,
			     enum policy_leg leg, bool response,
			     const struct sip_msg *req)
{
	const struct policy_route *r = call_rule(call);
	struct policy_source src = call_policy_source(call);
	int err;

	if (!r || !req)
		return 0;
	err = policy_header_write_adds(w, r, leg, response, req, &src);
	if (err)
		LOG_WARN("call %llu [%s]: headers not added: %s",
			 (unsigned long long)call->id, call->route,
			 duet_strerror(err));
	return err;
}

/* End w with from's body (if any) and its Content-Type, or dflt_ct
 * when it has none. */
static int finish_with_body(struct sip_writer *w, const struct sip_msg *from,
			    struct slice dflt_ct)
{
	const struct sip_hdr *h;

	if (!from || !from->body.len)
		return sip_build_finish(w, SLICE_NULL, SLICE_NULL);
	h = sip_msg_hdr(from, SIP_HDR_CONTENT_TYPE);
	return sip_build_finish(w, h ? h->value : dflt_ct, from->body);
}

static int finish_parse(struct sip_writer *w, const struct sip_msg *body_from,
			struct sip_msg **out)
{
	const char *why = NULL;
	int err = finish_with_body(w, body_from, SLICE_LIT("application/sdp"));

	if (!err)
		err = sip_msg_parse(out, w->buf, w->len, SIP_FRAMING_DGRAM,
				    NULL, &why);
	if (err) /* a message duet built must parse: a bug, say what */
		LOG_ERROR("built a bad message (%s): %.*s", why ? why : "",
			  (int)(w->len > 400 ? 400 : w->len), w->buf);
	sip_writer_free(w);
	return err;
}

/*
 * A sip/sips URI with its user and/or host replaced (NULL: kept; a user
 * "" removes the userinfo). Other schemes, or nothing to replace: as is.
 */
static void write_uri(struct sip_writer *w, const struct sip_uri *u,
		      const char *user, const char *host)
{
	struct slice us = user ? slice_cstr(user) : u->user;

	if ((!user && !host) ||
	    (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS)) {
		sip_writer_slice(w, u->raw);
		return;
	}
	sip_writer_slice(w, u->scheme_text);
	sip_writer_put(w, ":", 1);
	if (us.p && us.len) {
		sip_writer_slice(w, us);
		if (u->password.p) {
			sip_writer_put(w, ":", 1);
			sip_writer_slice(w, u->password);
		}
		sip_writer_put(w, "@", 1);
	}
	if (host)
		sip_writer_cstr(w, host);
	else
		sip_writer_slice(w, u->host);
	if (u->port) {
		sip_writer_put(w, ":", 1);
		sip_writer_u32(w, u->port);
	}
	sip_writer_slice(w, u->params);
	if (u->headers.len) {
		sip_writer_put(w, "?", 1);
		sip_writer_slice(w, u->headers);
	}
}

/* A display name: rewritten (rw; "" removes it) or as received. */
static void write_display(struct sip_writer *w, const struct sip_addr *a,
			  const char *rw)
{
	if (rw) {
		if (!*rw)
			return;
		sip_writer_put(w, "\"", 1);
		for (const char *p = rw; *p; p++) { /* §25.1 quoted-pair */
			if (*p == '"' || *p == '\\')
				sip_writer_put(w, "\\", 1);
			sip_writer_put(w, p, 1);
		}
		sip_writer_put(w, "\" ", 2);
	} else if (a->display.p && a->display_quoted) {
		sip_writer_put(w, "\"", 1);
		sip_writer_slice(w, a->display);
		sip_writer_put(w, "\" ", 2);
	} else if (a->display.p) {
		sip_writer_slice(w, a->display);
		sip_writer_put(w, " ", 1);
	}
}

/* From of the B leg: the caller's identity (rewritten), a tag of the B
 * leg's own (a new dialog). */
static void write_b_from(struct sip_writer *w, const struct sip_addr *from,
			 const struct policy_rewrite *rw, struct slice tag)
{
	struct sip_uri tmp;
	const struct sip_uri *u = sip_addr_uri(from, &tmp);

	sip_writer_cstr(w, "From: ");
	write_display(w, from, rw->from_display);
	sip_writer_put(w, "<", 1);
	write_uri(w, u ? u : &from->uri, rw->from_user, rw->from_host);
	sip_writer_cstr(w, ">;tag=");
	sip_writer_slice(w, tag);
	sip_writer_put(w, "\r\n", 2);
}

/* To of the B leg: as the caller wrote it, or rewritten. */
static void write_b_to(struct sip_writer *w, const struct sip_addr *to,
		       const struct policy_rewrite *rw)
{
	struct sip_uri tmp;
	const struct sip_uri *u;

	if (!rw->to_user && !rw->to_host && !rw->to_display) {
		sip_build_header_id(w, SIP_HDR_TO, to->raw);
		return;
	}
	u = sip_addr_uri(to, &tmp);
	sip_writer_cstr(w, "To: ");
	write_display(w, to, rw->to_display);
	sip_writer_put(w, "<", 1);
	write_uri(w, u ? u : &to->uri, rw->to_user, rw->to_host);
	sip_writer_put(w, ">", 1);
	sip_writer_slice(w, to->params);
	sip_writer_put(w, "\r\n", 2);
}

static int build_b_invite_to(struct call *call, const char *target,
			     const struct tp_dest *dest,
			     const struct policy_rewrite *rw,
			     struct sip_msg **out);

/*
 * The B-leg INVITE to target, sent to dest (numeric, or resolved by
 * RFC 3263): the route's rewrites and header rules applied. §18.1.1: a
 * request within 200 bytes of the path MTU goes over TCP when the target
 * does not name a transport. Sets call->b_dest.
 */
int call_build_b_invite(struct call *call, const char *target,
			const struct tp_dest *dest, struct sip_msg **out)
{
	const struct policy_route *r = call_rule(call);
	struct policy_source src = call_policy_source(call);
	struct policy_rewrite rw = { 0 };
	struct sip_msg *m = NULL;
	struct tp_dest tcp;
	struct sip_uri uri;
	int err = r ? policy_rewrite(r, call->a_invite, &src, &rw) : 0;

	if (err)
		return err;
	call->b_dest = *dest;
	err = build_b_invite_to(call, target, dest, &rw, &m);
	if (err || dest->proto != SIP_PROTO_UDP || call->owner->dry ||
	    !transport_too_big_for_udp(call->owner->env.tp, m->len) ||
	    sip_uri_parse(&uri, slice_cstr(target), NULL) || uri.transport.p) {
		*out = m;
		policy_rewrite_clear(&rw);
		return err;
	}
	sip_msg_unref(m);
	call->tcp_fallback = true;
	tcp = *dest;
	tcp.proto = SIP_PROTO_TCP;
	call->b_dest = tcp;
	err = build_b_invite_to(call, target, &tcp, &rw, out);
	policy_rewrite_clear(&rw);
	return err;
}

static int build_b_invite_to(struct call *call, const char *target,
			     const struct tp_dest *dest,
			     const struct policy_rewrite *rw,
			     struct sip_msg **out)
{
	struct calls *c = call->owner;
	const struct sip_msg *a = call->a_invite;
	const struct sip_msg *prev = call->b_invite;
	char via[160], contact[96], tag[LEG_IDENT_MAX];
	char cid[LEG_IDENT_MAX + 64], mf[16];
	struct sip_writer w;
	struct sip_uri uri;
	int err;

	if (sip_uri_parse(&uri, slice_cstr(target), NULL))
		return EINVAL;
	err = local_parts(c, dest, via, sizeof(via), contact, sizeof(contact));
	if (err)
		return err;
	/*
	 * Each attempt of a hunt is a new transaction (a new branch, from
	 * local_parts) with CSeq + 1 (§8.1.3.5 practice: one call's
	 * requests keep counting up), in a Call-ID and From tag of its own:
	 * the B leg's messages find their call by Call-ID alone, so a late
	 * 2xx or a BYE from a target duet gave up on cannot reach the
	 * attempt under way (they find no call and are answered 481 or
	 * dropped as strays). Another place is a new call attempt; a new
	 * Call-ID is what any UAC would send there. Its host is the
	 * address local_parts just chose.
	 */
	leg_ident_call_id(c->env.ident, slice_cstr(c->local_host), cid);
	leg_ident_tag(c->env.ident, tag);
	/* RFC 7332: Max-Forwards crosses, decremented */
	{ /* 0..254: the parser refuses Max-Forwards over 255 */
		int v = a->max_forwards < 0 ? 69 : a->max_forwards - 1;
		char *p = mf;

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p = '\0';
	}
	sip_writer_init(&w, 1024 + a->body.len);
	sip_writer_cstr(&w, "INVITE ");
	write_uri(&w, &uri, rw->ruri_user, rw->ruri_host);
	sip_writer_cstr(&w, " SIP/2.0\r\n");
	sip_build_header_id(&w, SIP_HDR_VIA, slice_cstr(via));
	sip_build_header_id(&w, SIP_HDR_MAX_FORWARDS, slice_cstr(mf));
	write_b_from(&w, &a->from, rw, slice_cstr(tag));
	write_b_to(&w, &a->to, rw);
	sip_build_header_id(&w, SIP_HDR_CALL_ID, slice_cstr(cid));
	sip_build_header_u32(&w, SIP_HDR_CSEQ, prev ? prev->cseq + 1 : 1u,
			     SLICE_LIT(" INVITE"));
	sip_build_header_id(&w, SIP_HDR_CONTACT, slice_cstr(contact));
	copy_crossing(&w, a, call_rule(call), POLICY_LEG_B, false, false);
	call_timer_b_invite_headers(call, &w);
	/* duet's own option tags on this leg, in one Supported */
	if (prack_b_supported(call) || call_timer_b_on(call))
		sip_build_header_id(&w, SIP_HDR_SUPPORTED,
				    !call_timer_b_on(call) ? SLICE_LIT("100rel")
				    : !prack_b_supported(call)
					    ? SLICE_LIT("timer")
					    : SLICE_LIT("100rel, timer"));
	call_timer_sent(call, LEG_B, a);
	/* the route's additions are part of the request: without them
	 * (out of memory) there is no request */
	err = add_route_headers(&w, call, POLICY_LEG_B, false, call->a_invite);
	if (err) {
		sip_writer_free(&w);
		return err;
	}
	return finish_parse(&w, a, out);
}

/* duet's own answer to req on st: Server, and one more header unless id
 * is SIP_HDR_OTHER */
static int reply_with(struct sip_tx *st, const struct sip_msg *req,
		      uint16_t code, struct slice to_tag, enum sip_hdr_id id,
		      struct slice value)
{
	struct sip_writer w;
	int err;

	sip_writer_init(&w, 512);
	sip_build_response_head_stamped(&w, req, code, SLICE_NULL, to_tag,
					sip_tx_via_stamp(st));
	if (id != SIP_HDR_OTHER)
		sip_build_header_id(&w, id, value);
	sip_build_header_id(&w, SIP_HDR_SERVER, SLICE_LIT("duet"));
	err = sip_build_finish(&w, SLICE_NULL, SLICE_NULL);
	if (!err)
		err = sip_tx_reply(st, code, w.buf, w.len);
	sip_writer_free(&w);
	return err;
}

int call_reply_hdr(struct calls *c, struct sip_tx *st,
		   const struct sip_msg *req, uint16_t code, enum sip_hdr_id id,
		   struct slice value)
{
	char tag[LEG_IDENT_MAX];
	struct slice to_tag = SLICE_NULL;

	/* in-dialog, To already carries the tag; else one of duet's */
	if (!req->to.tag.p && code > 100) {
		leg_ident_tag(c->env.ident, tag);
		to_tag = slice_cstr(tag);
	}
	return reply_with(st, req, code, to_tag, id, value);
}

int call_reply(struct calls *c, struct sip_tx *st, const struct sip_msg *req,
	       uint16_t code, struct slice to_tag)
{
	char tag[LEG_IDENT_MAX];

	if (!to_tag.len && code > 100) {
		leg_ident_tag(c->env.ident, tag);
		to_tag = slice_cstr(tag);
	}
	return reply_with(st, req, code, to_tag,
			  code == 503 ? SIP_HDR_RETRY_AFTER : SIP_HDR_OTHER,
			  SLICE_LIT("5"));
}

/* The caller's dialog: early on a 1xx with a tag, confirmed on a 2xx. */
static void a_dialog(struct call *call, uint16_t code)
{
	if (!call->leg[LEG_A].dlg)
		dialog_new_uas(&call->leg[LEG_A].dlg, call->a_invite,
			       slice_cstr(call->a_tag), code < 200);
	else if (code >= 200 && call->leg[LEG_A].dlg->state == DIALOG_EARLY)
		dialog_confirm(call->leg[LEG_A].dlg, NULL);
}

int call_answer_a(struct call *call, uint16_t code, struct slice reason,
		  const struct sip_msg *from_b)
{
	struct sip_tx *st = call->ref[TXP_A_INVITE].tx;
	struct tp_dest dest = { .proto = call->a_src.proto };
	char contact[96];
	struct sip_writer w;
	const struct policy_route *r = call_rule(call);
	bool dialog = code > 100 && code < 300, server = false;
	uint32_t rseq;
	int err;

	if (!st || call->a_final)
		return EINVAL;
	if (prack_a_wait(call, code, from_b)) /* RFC 3262 §3 */
		return 0;
	/* the route's reply map; never for 487, which §9.2 requires for a
	 * cancelled INVITE, nor for duet's own 420 (§8.2.2.3) */
	if (r && code >= 300 && code != 487 && !(code == 420 && !from_b)) {
		const char *why = NULL;
		uint16_t mapped = policy_reply_map(r, code, &why);

		if (mapped != code)
			LOG_INFO("call %llu [%s]: %u to the caller as %u",
				 (unsigned long long)call->id, call->route,
				 (unsigned)code, (unsigned)mapped);
		code = mapped;
		if (why)
			reason = *why ? slice_cstr(why) : SLICE_NULL;
	}
	dest.remote = call->a_src.remote;
	sip_writer_init(&w, 1024 + (from_b ? from_b->body.len : 0));
	sip_build_response_head_stamped(&w, call->a_invite, code, reason,
					slice_cstr(call->a_tag),
					sip_tx_via_stamp(st));
	if (dialog &&
	    !local_parts(call->owner, &dest, NULL, 0, contact, sizeof(contact)))
		sip_build_header_id(&w, SIP_HDR_CONTACT, slice_cstr(contact));
	if (from_b) {
		/* the A leg's response rules: crossing, removed, added */
		server =
			copy_crossing(&w, from_b, r, POLICY_LEG_A, true, false);
		/* a redirect is relayed as is: its Contacts cross (§8.1.3.4
		 * is the caller's business) */
		if (code >= 300 && code < 400)
			for (const struct sip_hdr *h =
				     sip_msg_hdr(from_b, SIP_HDR_CONTACT);
			     h; h = sip_msg_hdr_next(from_b, h))
				sip_build_header_id(&w, SIP_HDR_CONTACT,
						    h->value);
	}
	rseq = prack_a_headers(call, &w, code, from_b);
	if (code >= 200 && code < 300)
		call_timer_uas_2xx(call, LEG_A, call->a_invite, &w);
	(void)add_route_headers(&w, call, POLICY_LEG_A, true,
				call->a_invite); /* logged */
	if (code == 503 && !from_b) {		 /* §21.5.4 */
		sip_build_header_u32(
			&w, SIP_HDR_RETRY_AFTER,
			call->hunt.retry_after ? call->hunt.retry_after : 5u,
			SLICE_NULL);
	}
	if (!server) /* the callee's crossed */
		policy_header_write_server(&w, r, POLICY_LEG_A);
	err = finish_with_body(&w, from_b, SLICE_NULL);
	if (!err && dialog) {
		a_dialog(call, code);
		call_timer_sent(call, LEG_A, from_b);
	}
	if (!err && code >= 200)
		call->a_final = code;
	if (!err)
		err = sip_tx_reply(st, code, w.buf, w.len);
	if (!err && rseq)
		prack_a_sent(call, code, rseq, &w, from_b);
	if (!err && code >= 200 && code < 300) {
		size_t len = 0;
		char *buf = sip_writer_steal(&w, &len);

		if (buf)
			call_2xx_start(call, LEG_A, code, buf, len,
				       &call->ref[TXP_A_INVITE], NULL);
		call_hunt_answered(call); /* call_route.c */
	}
	sip_writer_free(&w);
	return err;
}

/* Where a dialog's next request goes: its first route, or its target. */
static int dialog_dest(const struct dialog *d, enum sip_proto dflt,
		       struct tp_dest *out)
{
	struct sip_addr a;
	struct sip_uri u;

	if (d->route_count) {
		if (sip_addr_parse(&a, slice_cstr(d->route[0]), NULL))
			return EBADMSG;
		return call_uri_dest(&a.uri, dflt, out);
	}
	if (sip_uri_parse(&u, slice_cstr(d->remote_target), NULL))
		return EBADMSG;
	return call_uri_dest(&u, dflt, out);
}

/* An in-dialog request on d; a BYE or CANCEL goes through a client
 * transaction (ref p), an ACK straight to the transport. */
static int dialog_send(struct call *call, struct dialog *d, const char *method,
		       uint32_t cseq, const struct sip_msg *body_from,
		       const struct sip_msg *reason_from, enum sip_proto dflt,
		       enum txp p, char **keep, size_t *keep_len,
		       struct tp_dest *keep_dest)
{
	struct calls *c = call->owner;
	char via[160];
	struct via_sent sent;
	struct sip_writer w;
	struct tp_dest dest;
	const struct sip_hdr *h;
	bool bye = !strcmp(method, "BYE");
	enum policy_leg leg =
		d == call->leg[LEG_A].dlg ? POLICY_LEG_A : POLICY_LEG_B;
	int err = dialog_dest(d, dflt, &dest);

	if (!err)
		err = local_parts_at(c, &dest, via, sizeof(via), NULL, 0,
				     &sent);
	if (err)
		return err;
	sip_writer_init(&w, 512);
	dialog_build_request(d, &w,
			     &(struct dialog_req){ .method = slice_cstr(method),
						   .via = slice_cstr(via),
						   .cseq = cseq },
			     NULL);
	/* RFC 3326: the reason a leg ended crosses with the BYE, or the
	 * one duet ended it for (dialog gone, drain, no ACK, maximum
	 * duration). A BYE from the other leg crosses with its headers as
	 * any mid-call request (the route's lists; Reason among them). */
	if (bye && reason_from && reason_from->is_request)
		copy_crossing(&w, reason_from, call_rule(call), leg, false,
			      true);
	else if (reason_from && (h = sip_msg_hdr(reason_from, SIP_HDR_REASON)))
		sip_build_header_id(&w, SIP_HDR_REASON, h->value);
	else if (call->end_reason && bye)
		sip_build_header_id(&w, SIP_HDR_REASON,
				    slice_cstr(call->end_reason));
	if (bye)
		(void)add_route_headers(&w, call, leg, false,
					reason_from && reason_from->is_request
						? reason_from
						: call->a_invite); /* logged */
	if (keep) { /* the ACK: no transaction */
		err = finish_with_body(&w, body_from,
				       SLICE_LIT("application/sdp"));
		if (!err)
			err = transport_send(c->env.tp, &dest, w.buf, w.len);
		if (!err) {
			duet_free(*keep);
			*keep = sip_writer_steal(&w, keep_len);
			*keep_dest = dest;
		}
		sip_writer_free(&w);
		return err;
	}
	/* the transaction takes the request as built: its fields are
	 * known here, so it is not parsed back */
	err = sip_build_finish(&w, SLICE_NULL, SLICE_NULL);
	if (!err)
		err = sip_tx_client_send(
			p < TXP_COUNT ? &call->ref[p].tx : NULL, c->env.txl,
			&(struct sip_tx_built){
				.buf = w.buf,
				.len = w.len,
				.method = sip_method_from(slice_cstr(method)),
				.method_text = slice_cstr(method),
				.branch = sent.branch,
				.via_host = sent.host,
				.via_port = sent.port,
				.call_id = slice_cstr(d->call_id),
				.from_tag = slice_cstr(d->local_tag),
				.cseq = cseq ? cseq : d->local_cseq },
			&dest, p < TXP_COUNT ? &call->ref[p] : NULL);
	sip_writer_free(&w);
	return err;
}

void call_b_ack_free(struct call *call)
{
	if (call->b_ack) {
		duet_free(call->b_ack->buf);
		duet_free(call->b_ack);
		call->b_ack = NULL;
	}
}

int call_send_b_ack(struct call *call, const struct sip_msg *a_ack)
{
	struct b_ack *k = call->b_ack;
	int err;

	if (!call->leg[LEG_B].dlg)
		return EINVAL;
	if (!k && !(k = call->b_ack = duet_calloc(1, sizeof(*k))))
		return ENOMEM;
	err = dialog_send(call, call->leg[LEG_B].dlg, "ACK", call->b_inv_cseq,
			  a_ack, NULL, call->b_dest.proto, TXP_COUNT, &k->buf,
			  &k->len, &k->dest);
	if (!k->buf)
		call_b_ack_free(call);
	if (!err)
		call->b_acked = true;
	if (!err && a_ack)
		call_timer_sent(call, LEG_B, a_ack);
	return err;
}

int call_ack_bye_fork(struct call *call, const struct sip_msg *resp)
{
	struct dialog *tmp = NULL;
	char *ack = NULL;
	size_t ack_len = 0;
	struct tp_dest ack_dest;
	int err;

	/* a retransmission of the answer we took: ACK it again once the
	 * caller has ACKed (RFC 6026) */
	if (call->leg[LEG_B].dlg &&
	    call->leg[LEG_B].dlg->state == DIALOG_CONFIRMED &&
	    call->leg[LEG_B].dlg->remote_tag &&
	    slice_eq_cstr(resp->to.tag, call->leg[LEG_B].dlg->remote_tag) &&
	    (call->state == CALL_READY || call->state == CALL_ANSWER_HELD)) {
		if (call->b_ack)
			transport_send(call->owner->env.tp, &call->b_ack->dest,
				       call->b_ack->buf, call->b_ack->len);
		else if (call->b_acked) /* let go by call_slim: again */
			call_send_b_ack(call, NULL);
		/* else the caller's ACK brings ours (it may carry the
		 * answer to an offer in this 2xx, RFC 3264 §5) */
		return 0;
	}
	/* another fork's answer, or the callee answering our CANCEL late
	 * (RFC 5407 §3.1.2): ACK it and end that dialog at once (from the
	 * 2xx alone once call_slim let the INVITE go) */
	err = call->b_invite ? dialog_new_uac(&tmp, call->b_invite, resp)
			     : dialog_new_uac_from_2xx(&tmp, resp);
	if (err)
		return err;
	err = dialog_send(call, tmp, "ACK", call->b_inv_cseq, NULL, NULL,
			  call->b_dest.proto, TXP_COUNT, &ack, &ack_len,
			  &ack_dest);
	duet_free(ack);
	if (!err)
		err = dialog_send(
			call, tmp, "BYE", 0, NULL, NULL, call->b_dest.proto,
			call->ref[TXP_FORK_BYE].tx ? TXP_COUNT : TXP_FORK_BYE,
			NULL, NULL, NULL);
	dialog_free(tmp);
	return err;
}

int call_send_bye(struct call *call, bool to_a,
		  const struct sip_msg *reason_from)
{
	struct dialog *d = to_a ? call->leg[LEG_A].dlg : call->leg[LEG_B].dlg;
	enum sip_proto dflt = to_a ? call->a_src.proto : call->b_dest.proto;

	if (!d)
		return EINVAL;
	call->leg[to_a ? LEG_A : LEG_B].ended = true;
	if (reason_from &&
	    (!reason_from->is_request || reason_from->method != SIP_METHOD_BYE))
		reason_from = NULL;
	return dialog_send(call, d, "BYE", 0, NULL, reason_from, dflt,
			   to_a ? TXP_BYE_A : TXP_BYE_B, NULL, NULL, NULL);
}

int call_send_cancel_b(struct call *call)
{
	return call_send_cancel_of(call, call->b_invite, &call->b_dest, true);
}

/* §9.1: a CANCEL repeats its INVITE's Request-URI, Call-ID, To, From,
 * CSeq number and top Via (same branch) and its Route headers; this
 * starts w with them. */
static void cancel_head(struct sip_writer *w, const struct sip_msg *inv)
{
	sip_writer_init(w, 512);
	sip_build_request_line(w, SLICE_LIT("CANCEL"), inv->ruri.raw);
	sip_build_header_id(w, SIP_HDR_VIA, inv->vias[0].raw);
	sip_build_header_id(w, SIP_HDR_MAX_FORWARDS, SLICE_LIT("70"));
	sip_build_header_id(w, SIP_HDR_FROM, inv->from.raw);
	sip_build_header_id(w, SIP_HDR_TO, inv->to.raw);
	sip_build_header_id(w, SIP_HDR_CALL_ID, inv->call_id);
	sip_build_header_u32(w, SIP_HDR_CSEQ, inv->cseq, SLICE_LIT(" CANCEL"));
	for (const struct sip_hdr *h = sip_msg_hdr(inv, SIP_HDR_ROUTE); h;
	     h = sip_msg_hdr_next(inv, h))
		sip_build_header_id(w, SIP_HDR_ROUTE, h->value);
}

/* §9.1: the CANCEL repeats the INVITE's Request-URI, Call-ID, To, From,
 * CSeq number and top Via (same branch) and its Route headers. track:
 * the call's CANCEL (its transaction is the call's), else the CANCEL of
 * an abandoned hunt attempt, left to run on its own. */
int call_send_cancel_of(struct call *call, const struct sip_msg *r,
			const struct tp_dest *dest, bool track)
{
	struct sip_msg *m = NULL;
	struct sip_writer w;
	int err;

	cancel_head(&w, r);
	if (track && call->cancel_reason &&
	    !strpbrk(call->cancel_reason, "\r\n"))
		sip_build_header_id(&w, SIP_HDR_REASON,
				    slice_cstr(call->cancel_reason));
	err = finish_parse(&w, NULL, &m);
	if (!err)
		err = sip_tx_client_new(
			track ? &call->ref[TXP_CANCEL_B].tx : NULL,
			call->owner->env.txl, m, dest,
			track ? &call->ref[TXP_CANCEL_B] : NULL);
	sip_msg_unref(m);
	return err;
}

/*
 * A mid-call request relayed onto the other leg (RFC 3261 §12.2.1.1):
 * that dialog's own CSeq, route set and remote target, our Contact for a
 * target refresh (and the methods that need one), Max-Forwards
 * decremented (RFC 7332), the allow-listed headers, the method's own and
 * the body crossing unchanged.
 */
int call_send_relay(struct call *call, struct relay *r,
		    const struct sip_msg *req)
{
	struct leg *to = &call->leg[LEG_OTHER(r->from)];
	struct calls *c = call->owner;
	char via[160], contact[96];
	struct sip_writer w;
	struct sip_msg *m = NULL;
	struct tp_dest dest;
	bool want_contact = req->method == SIP_METHOD_INVITE ||
			    req->method == SIP_METHOD_UPDATE ||
			    req->method == SIP_METHOD_NOTIFY ||
			    req->method == SIP_METHOD_REFER ||
			    req->method == SIP_METHOD_SUBSCRIBE;
	int err = to->dlg ? dialog_dest(to->dlg, to->proto, &dest) : EINVAL;

	if (!err)
		err = local_parts(c, &dest, via, sizeof(via), contact,
				  sizeof(contact));
	if (err)
		return err;
	sip_writer_init(&w, 1024 + req->body.len);
	dialog_build_request(
		to->dlg, &w,
		&(struct dialog_req){
			.method = req->method_text,
			.via = slice_cstr(via),
			.contact =
				want_contact ? slice_cstr(contact) : SLICE_NULL,
			/* RFC 7332: one less (mid_check refused 0) */
			.max_forwards = req->max_forwards < 0 ? 70
					: req->max_forwards == 1
						? DIALOG_MF_ZERO
						: req->max_forwards - 1 },
		NULL);
	r->cli_cseq = to->dlg->local_cseq;
	copy_crossing(&w, req, call_rule(call), policy_leg_of(to->side), false,
		      true);
	(void)add_route_headers(&w, call, policy_leg_of(to->side), false,
				req);	     /* logged */
	if (req->method == SIP_METHOD_PRACK) /* relay mode (RFC 3262) */
		prack_relay_rack(call, &w, req);
	if (req->method == SIP_METHOD_INVITE ||
	    req->method == SIP_METHOD_UPDATE)
		call_timer_uac_headers(call, to->side, &w);
	err = finish_parse(&w, req, &m);
	if (!err) {
		r->cli.tx = NULL;
		err = sip_tx_client_new(&r->cli.tx, c->env.txl, m, &dest,
					&r->cli);
	}
	sip_msg_unref(m);
	return err;
}

/*
 * The answer to a relayed request, back on the leg it came from: the
 * code and reason phrase as the other leg's peer gave them (resp NULL:
 * duet's own answer), its allow-listed headers and body, our Contact in
 * a 1xx/2xx to a target refresh (§12.1.1, RFC 3311 §5.2). A 2xx to a
 * re-INVITE is retransmitted until its ACK (§13.3.1.4).
 */
int call_relay_response(struct call *call, struct relay *r, uint16_t code,
			const struct sip_msg *resp)
{
	struct leg *leg = &call->leg[r->from];
	struct sip_tx *st = r->srv.tx;
	const struct sip_msg *req = st ? sip_tx_request(st) : NULL;
	char contact[96];
	struct tp_dest dest;
	struct sip_writer w;
	bool server = false;
	int err;

	if (!req || r->final)
		return EINVAL;
	sip_writer_init(&w, 1024 + (resp ? resp->body.len : 0));
	sip_build_response_head_stamped(&w, req, code,
					resp ? resp->reason : SLICE_NULL,
					SLICE_NULL, sip_tx_via_stamp(st));
	if ((r->method == SIP_METHOD_INVITE ||
	     r->method == SIP_METHOD_UPDATE) &&
	    code > 100 && code < 300 && leg->dlg &&
	    !dialog_dest(leg->dlg, leg->proto, &dest) &&
	    !local_parts(call->owner, &dest, NULL, 0, contact, sizeof(contact)))
		sip_build_header_id(&w, SIP_HDR_CONTACT, slice_cstr(contact));
	if (resp)
		server = copy_crossing(&w, resp, call_rule(call),
				       policy_leg_of(r->from), true, true);
	if ((r->method == SIP_METHOD_INVITE ||
	     r->method == SIP_METHOD_UPDATE) &&
	    code >= 200 && code < 300)
		call_timer_uas_2xx(call, r->from, req, &w);
	(void)add_route_headers(&w, call, policy_leg_of(r->from), true,
				req); /* logged */
	if (!server)		      /* the peer's crossed */
		policy_header_write_server(&w, call_rule(call),
					   policy_leg_of(r->from));
	err = finish_with_body(&w, resp, SLICE_NULL);
	if (!err)
		err = sip_tx_reply(st, code, w.buf, w.len);
	if (!err && code >= 200)
		r->final = code;
	if (!err && code < 300 && resp)
		call_timer_sent(call, r->from, resp);
	if (!err && code >= 200 && code < 300 &&
	    r->method == SIP_METHOD_INVITE) {
		size_t len = 0;
		char *buf = sip_writer_steal(&w, &len);

		if (buf)
			call_2xx_start(call, r->from, code, buf, len, &r->srv,
				       r);
	}
	sip_writer_free(&w);
	return err;
}

/* duet's ACK of the other leg's 2xx to a relayed re-INVITE (§13.2.2.4):
 * that leg's CSeq number, the body of the ACK that came (the answer to an
 * offer in the 2xx), kept for retransmitted 2xx. */
int call_send_relay_ack(struct call *call, struct relay *r,
			const struct sip_msg *ack_from)
{
	struct leg *to = &call->leg[LEG_OTHER(r->from)];
	int err;

	if (r->kind == RELAY_LOCAL) /* duet answered: nothing to ACK */
		return 0;
	if (!to->dlg)
		return EINVAL;
	err = dialog_send(call, to->dlg, "ACK", r->cli_cseq, ack_from, NULL,
			  to->proto, TXP_COUNT, &r->ack, &r->ack_len,
			  &r->ack_dest);
	if (!err && ack_from)
		call_timer_sent(call, to->side, ack_from);
	return err;
}

/* §9.1: the CANCEL of duet's copy of a re-INVITE repeats its
 * Request-URI, Call-ID, From, To, CSeq number, top Via and Route. */
int call_send_relay_cancel(struct call *call, struct relay *r,
			   const struct sip_msg *cancel)
{
	const struct sip_msg *q = r->cli.tx ? sip_tx_request(r->cli.tx) : NULL;
	struct leg *to = &call->leg[LEG_OTHER(r->from)];
	struct sip_msg *m = NULL;
	const struct sip_hdr *h;
	struct tp_dest dest;
	struct sip_writer w;
	int err;

	if (!q || !to->dlg || (err = dialog_dest(to->dlg, to->proto, &dest)))
		return EINVAL;
	cancel_head(&w, q);
	if (cancel && (h = sip_msg_hdr(cancel, SIP_HDR_REASON)) &&
	    !memchr(h->value.p, '\n', h->value.len))
		sip_build_header_id(&w, SIP_HDR_REASON, h->value);
	err = finish_parse(&w, NULL, &m);
	if (!err)
		err = sip_tx_client_new(&r->cancel.tx, call->owner->env.txl, m,
					&dest, &r->cancel);
	sip_msg_unref(m);
	return err;
}

/*
 * A 2xx to duet's INVITE that no live call wants (a retransmission after
 * the call ended): ACK it (§13.2.2.4) and end its dialog with a BYE, built
 * from the response alone. Only for a Call-ID duet minted.
 */
void calls_ack_bye_stray(struct calls *c, const struct sip_msg *resp)
{
	struct dialog *d = NULL;
	char via[160], contact[96];
	struct sip_writer w;
	struct sip_msg *m = NULL;
	struct tp_dest dest;
	uint8_t worker;
	int err;

	if (resp->status / 100 != 2 || resp->cseq_method != SIP_METHOD_INVITE ||
	    !leg_ident_worker(resp->call_id, &worker) ||
	    dialog_new_uac_from_2xx(&d, resp))
		return;
	err = dialog_dest(d, SIP_PROTO_UDP, &dest);
	if (!err)
		err = local_parts(c, &dest, via, sizeof(via), contact,
				  sizeof(contact));
	if (!err) {
		sip_writer_init(&w, 512);
		dialog_build_request(
			d, &w,
			&(struct dialog_req){ .method = SLICE_LIT("ACK"),
					      .via = slice_cstr(via),
					      .cseq = resp->cseq },
			NULL);
		err = sip_build_finish(&w, SLICE_NULL, SLICE_NULL);
		if (!err)
			err = transport_send(c->env.tp, &dest, w.buf, w.len);
		sip_writer_free(&w);
	}
	if (!err)
		err = local_parts(c, &dest, via, sizeof(via), NULL, 0);
	if (!err) {
		sip_writer_init(&w, 512);
		dialog_build_request(
			d, &w,
			&(struct dialog_req){ .method = SLICE_LIT("BYE"),
					      .via = slice_cstr(via) },
			NULL);
		err = finish_parse(&w, NULL, &m);
		if (!err) /* nobody waits for its answer */
			err = sip_tx_client_new(NULL, c->env.txl, m, &dest,
						NULL);
		sip_msg_unref(m);
	}
	LOG_INFO("a 2xx after its call ended: ACK and BYE (%s)",
		 duet_strerror(err));
	dialog_free(d);
}

int call_local_parts(struct calls *c, const struct tp_dest *dest, char *via,
		     size_t via_cap, char *contact, size_t contact_cap)
{
	return local_parts(c, dest, via, via_cap, contact, contact_cap);
}

int call_dialog_dest(const struct dialog *d, enum sip_proto dflt,
		     struct tp_dest *out)
{
	return dialog_dest(d, dflt, out);
}

int call_finish_parse(struct sip_writer *w, const struct sip_msg *body_from,
		      struct sip_msg **out)
{
	return finish_parse(w, body_from, out);
}
