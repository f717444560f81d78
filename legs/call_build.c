/* SPDX-License-Identifier: MIT */
/*
 * The messages of a call: the B-leg INVITE as a new dialog (RFC 3261 §8.1,
 * RFC 7332 Max-Forwards), responses to the caller (§8.2.6), the ACK of a
 * 2xx (§13.2.2.4), CANCEL (§9.1) and BYE (§15.1.1).
 */
#include "call_internal.h"

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

/* "SIP/2.0/UDP host:port;branch=...;rport" and our Contact for dest. */
static int local_parts(struct calls *c, const struct tp_dest *dest, char *via,
		       size_t via_cap, char *contact, size_t contact_cap)
{
	struct tp_addr local;
	char addr[64], branch[LEG_IDENT_MAX];
	const char *proto = sip_proto_name(dest->proto);
	int err = 0;

	if (c->dry) /* a dry run sends nothing: the configured address */
		local = c->dry_local;
	else
		err = transport_local(c->env.tp, dest->proto, &dest->remote,
				      &local);

	if (err)
		return err;
	tp_addr_str(&local, addr, sizeof(addr));
	leg_ident_branch(c->env.ident, branch);
	snprintf(via, via_cap, "SIP/2.0/%s %s;branch=%s;rport", proto, addr,
		 branch);
	if (contact)
		snprintf(contact, contact_cap, "<sip:duet@%s%s>", addr,
			 dest->proto == SIP_PROTO_TCP ? ";transport=tcp" : "");
	return 0;
}

/* Does a header value contain the text t (case-insensitively)? */
static bool has_token(struct slice v, const char *t)
{
	size_t n = strlen(t);

	for (size_t i = 0; i + n <= v.len; i++)
		if (slice_caseeq(slice_make(v.p + i, n), slice_make(t, n)))
			return true;
	return false;
}

/*
 * The headers of m that cross to the other leg, in their order: the
 * route's allow- or deny-list (the built-in allow-list without a route),
 * less what the route removes from what duet sends on leg (requests or
 * responses). 100rel, RSeq and RAck do not cross until PRACK lands.
 * Returns whether a Server header crossed.
 */
static bool copy_crossing(struct sip_writer *w, const struct sip_msg *m,
			  const struct policy_route *r, enum policy_leg leg,
			  bool response)
{
	bool server = false;

	for (uint16_t i = 0; i < m->hdr_count; i++) {
		const struct sip_hdr *h = &m->hdrs[i];

		if (h->id == SIP_HDR_RSEQ || h->id == SIP_HDR_RACK ||
		    !policy_header_crosses(r, h->name) ||
		    policy_header_removed(r, leg, response, h->name))
			continue;
		if ((h->id == SIP_HDR_SUPPORTED || h->id == SIP_HDR_REQUIRE) &&
		    has_token(h->value, "100rel"))
			continue;
		if (memchr(h->value.p, '\n', h->value.len))
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

/* The headers the route adds to what duet sends on leg. 0 or the error
 * (logged) that left them out. */
static int add_route_headers(struct sip_writer *w, const struct call *call,
			     enum policy_leg leg, bool response)
{
	const struct policy_route *r = call_rule(call);
	struct policy_source src = call_policy_source(call);
	struct policy_headers hs;
	int err;

	if (!r || !call->a_invite)
		return 0;
	err = policy_header_adds(r, leg, response, call->a_invite, &src, &hs);
	if (err) {
		LOG_WARN("call %llu [%s]: headers not added: %s",
			 (unsigned long long)call->id, call->route,
			 duet_strerror(err));
		return err;
	}
	for (size_t i = 0; i < hs.count; i++)
		sip_build_header(w, slice_cstr(hs.h[i].name),
				 slice_cstr(hs.h[i].value));
	policy_headers_clear(&hs);
	return 0;
}

static int finish_parse(struct sip_writer *w, const struct sip_msg *body_from,
			struct sip_msg **out)
{
	const char *why = NULL;
	struct slice ct = SLICE_NULL, body = SLICE_NULL;
	int err;

	if (body_from && body_from->body.len) {
		const struct sip_hdr *h =
			sip_msg_hdr(body_from, SIP_HDR_CONTENT_TYPE);

		ct = h ? h->value : SLICE_LIT("application/sdp");
		body = body_from->body;
	}
	err = sip_build_finish(w, ct, body);
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
	sip_writer_cstr(w, "From: ");
	write_display(w, from, rw->from_display);
	sip_writer_put(w, "<", 1);
	write_uri(w, &from->uri, rw->from_user, rw->from_host);
	sip_writer_cstr(w, ">;tag=");
	sip_writer_slice(w, tag);
	sip_writer_put(w, "\r\n", 2);
}

/* To of the B leg: as the caller wrote it, or rewritten. */
static void write_b_to(struct sip_writer *w, const struct sip_addr *to,
		       const struct policy_rewrite *rw)
{
	if (!rw->to_user && !rw->to_host && !rw->to_display) {
		sip_build_header_id(w, SIP_HDR_TO, to->raw);
		return;
	}
	sip_writer_cstr(w, "To: ");
	write_display(w, to, rw->to_display);
	sip_writer_put(w, "<", 1);
	write_uri(w, &to->uri, rw->to_user, rw->to_host);
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
	char via[160], contact[96], tag[LEG_IDENT_MAX], host[64];
	char cid[LEG_IDENT_MAX + 64], mf[16], cseq[24];
	struct tp_addr local;
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
	 * Call-ID is what any UAC would send there.
	 */
	if (c->dry)
		local = c->dry_local;
	else
		transport_local(c->env.tp, dest->proto, &dest->remote, &local);
	leg_ident_call_id(c->env.ident,
			  slice_cstr(tp_addr_host(&local, host, sizeof(host))),
			  cid);
	leg_ident_tag(c->env.ident, tag);
	snprintf(cseq, sizeof(cseq), "%u INVITE",
		 prev ? (unsigned)prev->cseq + 1 : 1u);
	/* RFC 7332: Max-Forwards crosses, decremented */
	snprintf(mf, sizeof(mf), "%d",
		 a->max_forwards < 0 ? 69 : a->max_forwards - 1);
	sip_writer_init(&w, 1024 + a->body.len);
	sip_writer_cstr(&w, "INVITE ");
	write_uri(&w, &uri, rw->ruri_user, rw->ruri_host);
	sip_writer_cstr(&w, " SIP/2.0\r\n");
	sip_build_header_id(&w, SIP_HDR_VIA, slice_cstr(via));
	sip_build_header_id(&w, SIP_HDR_MAX_FORWARDS, slice_cstr(mf));
	write_b_from(&w, &a->from, rw, slice_cstr(tag));
	write_b_to(&w, &a->to, rw);
	sip_build_header_id(&w, SIP_HDR_CALL_ID, slice_cstr(cid));
	sip_build_header_id(&w, SIP_HDR_CSEQ, slice_cstr(cseq));
	sip_build_header_id(&w, SIP_HDR_CONTACT, slice_cstr(contact));
	copy_crossing(&w, a, call_rule(call), POLICY_LEG_B, false);
	/* the route's additions are part of the request: without them
	 * (out of memory) there is no request */
	err = add_route_headers(&w, call, POLICY_LEG_B, false);
	if (err) {
		sip_writer_free(&w);
		return err;
	}
	return finish_parse(&w, a, out);
}

int call_reply(struct calls *c, struct sip_tx *st, const struct sip_msg *req,
	       uint16_t code, struct slice to_tag)
{
	char tag[LEG_IDENT_MAX];
	struct sip_writer w;
	int err;

	if (!to_tag.len && code > 100) {
		leg_ident_tag(c->env.ident, tag);
		to_tag = slice_cstr(tag);
	}
	sip_writer_init(&w, 512);
	sip_build_response_head_stamped(&w, req, code, SLICE_NULL, to_tag,
					sip_tx_via_stamp(st));
	if (code == 503)
		sip_build_header_id(&w, SIP_HDR_RETRY_AFTER, SLICE_LIT("5"));
	sip_build_header_id(&w, SIP_HDR_SERVER, SLICE_LIT("duet"));
	err = sip_build_finish(&w, SLICE_NULL, SLICE_NULL);
	if (!err)
		err = sip_tx_reply(st, code, w.buf, w.len);
	sip_writer_free(&w);
	return err;
}

/* The caller's dialog: early on a 1xx with a tag, confirmed on a 2xx. */
static void a_dialog(struct call *call, uint16_t code)
{
	if (!call->a_dlg)
		dialog_new_uas(&call->a_dlg, call->a_invite,
			       slice_cstr(call->a_tag), code < 200);
	else if (code >= 200 && call->a_dlg->state == DIALOG_EARLY)
		dialog_confirm(call->a_dlg, NULL);
}

int call_answer_a(struct call *call, uint16_t code, struct slice reason,
		  const struct sip_msg *from_b)
{
	struct sip_tx *st = call->ref[TXP_A_INVITE].tx;
	struct tp_dest dest = { .proto = call->a_src.proto };
	char via[160], contact[96];
	struct sip_writer w;
	const struct policy_route *r = call_rule(call);
	bool dialog = code > 100 && code < 300, server = false;
	int err;

	if (!st || call->a_final)
		return EINVAL;
	/* the route's reply map; never for 487, which §9.2 requires for a
	 * cancelled INVITE */
	if (r && code >= 300 && code != 487) {
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
	if (dialog && !local_parts(call->owner, &dest, via, sizeof(via),
				   contact, sizeof(contact)))
		sip_build_header_id(&w, SIP_HDR_CONTACT, slice_cstr(contact));
	if (from_b) {
		/* the A leg's response rules: crossing, removed, added */
		server = copy_crossing(&w, from_b, r, POLICY_LEG_A, true);
		/* a redirect is relayed as is: its Contacts cross (§8.1.3.4
		 * is the caller's business) */
		if (code >= 300 && code < 400)
			for (const struct sip_hdr *h =
				     sip_msg_hdr(from_b, SIP_HDR_CONTACT);
			     h; h = sip_msg_hdr_next(from_b, h))
				sip_build_header_id(&w, SIP_HDR_CONTACT,
						    h->value);
	}
	(void)add_route_headers(&w, call, POLICY_LEG_A, true); /* logged */
	if (code == 503 && !from_b) {			       /* §21.5.4 */
		char ra[16];

		snprintf(ra, sizeof(ra), "%u",
			 call->hunt.retry_after
				 ? (unsigned)call->hunt.retry_after
				 : 5u);
		sip_build_header_id(&w, SIP_HDR_RETRY_AFTER, slice_cstr(ra));
	}
	if (!server &&
	    !policy_header_removed(r, POLICY_LEG_A, true, SLICE_LIT("Server")))
		sip_build_header_id(&w, SIP_HDR_SERVER, SLICE_LIT("duet"));
	if (from_b && from_b->body.len) {
		const struct sip_hdr *h =
			sip_msg_hdr(from_b, SIP_HDR_CONTENT_TYPE);

		err = sip_build_finish(&w, h ? h->value : SLICE_NULL,
				       from_b->body);
	} else {
		err = sip_build_finish(&w, SLICE_NULL, SLICE_NULL);
	}
	if (!err && dialog)
		a_dialog(call, code);
	if (!err && code >= 200)
		call->a_final = code;
	if (!err)
		err = sip_tx_reply(st, code, w.buf, w.len);
	if (!err && code >= 200 && code < 300) {
		call->a_2xx = sip_writer_steal(&w, &call->a_2xx_len);
		call_2xx_sent(call);
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
	char via[160], contact[96];
	struct sip_writer w;
	struct sip_msg *m = NULL;
	struct tp_dest dest;
	const struct sip_hdr *h;
	int err = dialog_dest(d, dflt, &dest);

	if (!err)
		err = local_parts(c, &dest, via, sizeof(via), contact,
				  sizeof(contact));
	if (err)
		return err;
	sip_writer_init(&w, 512);
	dialog_build_request(d, &w,
			     &(struct dialog_req){ .method = slice_cstr(method),
						   .via = slice_cstr(via),
						   .cseq = cseq },
			     NULL);
	/* RFC 3326: the reason a leg ended crosses with the BYE; a BYE
	 * duet starts itself (maximum duration) says why */
	if (reason_from && (h = sip_msg_hdr(reason_from, SIP_HDR_REASON)))
		sip_build_header_id(&w, SIP_HDR_REASON, h->value);
	else if (!reason_from && call->hunt.bye_reason && !keep &&
		 strcmp(method, "BYE") == 0)
		sip_build_header_id(&w, SIP_HDR_REASON,
				    slice_cstr(call->hunt.bye_reason));
	if (keep) { /* the ACK: no transaction */
		struct slice ct = SLICE_NULL, body = SLICE_NULL;

		if (body_from && body_from->body.len) {
			h = sip_msg_hdr(body_from, SIP_HDR_CONTENT_TYPE);
			ct = h ? h->value : SLICE_LIT("application/sdp");
			body = body_from->body;
		}
		err = sip_build_finish(&w, ct, body);
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
	err = finish_parse(&w, NULL, &m);
	if (!err)
		err = sip_tx_client_new(p < TXP_COUNT ? &call->ref[p].tx : NULL,
					c->env.txl, m, &dest,
					p < TXP_COUNT ? &call->ref[p] : NULL);
	sip_msg_unref(m);
	return err;
}

int call_send_b_ack(struct call *call, const struct sip_msg *a_ack)
{
	if (!call->b_dlg)
		return EINVAL;
	return dialog_send(call, call->b_dlg, "ACK", call->b_inv_cseq, a_ack,
			   NULL, call->b_dest.proto, TXP_COUNT, &call->b_ack,
			   &call->b_ack_len, &call->b_ack_dest);
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
	if (call->b_dlg && call->b_dlg->state == DIALOG_CONFIRMED &&
	    call->b_dlg->remote_tag &&
	    slice_eq_cstr(resp->to.tag, call->b_dlg->remote_tag) &&
	    call->state == CALL_READY) {
		if (call->b_ack)
			transport_send(call->owner->env.tp, &call->b_ack_dest,
				       call->b_ack, call->b_ack_len);
		else /* let go by call_slim: build it again */
			call_send_b_ack(call, NULL);
		return 0;
	}
	if (!call->b_invite) /* 64*T1 after the INVITE: no fork answers */
		return 0;
	/* another fork's answer, or the callee answering our CANCEL late
	 * (RFC 5407 §3.1.2): ACK it and end that dialog at once */
	err = dialog_new_uac(&tmp, call->b_invite, resp);
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
	struct dialog *d = to_a ? call->a_dlg : call->b_dlg;
	enum sip_proto dflt = to_a ? call->a_src.proto : call->b_dest.proto;

	if (!d)
		return EINVAL;
	if (reason_from && reason_from->is_request &&
	    reason_from->method != SIP_METHOD_BYE)
		reason_from = NULL;
	return dialog_send(call, d, "BYE", 0, NULL, reason_from, dflt,
			   to_a ? TXP_BYE_A : TXP_BYE_B, NULL, NULL, NULL);
}

int call_send_cancel_b(struct call *call)
{
	return call_send_cancel_of(call, call->b_invite, &call->b_dest, true);
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
	char num[24];
	int err;

	sip_writer_init(&w, 512);
	sip_build_request_line(&w, SLICE_LIT("CANCEL"), r->ruri.raw);
	sip_build_header_id(&w, SIP_HDR_VIA, r->vias[0].raw);
	sip_build_header_id(&w, SIP_HDR_MAX_FORWARDS, SLICE_LIT("70"));
	sip_build_header_id(&w, SIP_HDR_FROM, r->from.raw);
	sip_build_header_id(&w, SIP_HDR_TO, r->to.raw);
	sip_build_header_id(&w, SIP_HDR_CALL_ID, r->call_id);
	snprintf(num, sizeof(num), "%u CANCEL", (unsigned)r->cseq);
	sip_build_header_id(&w, SIP_HDR_CSEQ, slice_cstr(num));
	for (const struct sip_hdr *h = sip_msg_hdr(r, SIP_HDR_ROUTE); h;
	     h = sip_msg_hdr_next(r, h))
		sip_build_header_id(&w, SIP_HDR_ROUTE, h->value);
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
