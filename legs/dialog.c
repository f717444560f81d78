/* SPDX-License-Identifier: MIT */
/* SIP dialogs (RFC 3261 §12): creation (§12.1), in-dialog requests checked
 * (§12.2.2) and built with loose or strict routing (§12.2.1.1). */
#include "duet/dialog.h"

#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"

#define CSEQ_MAX 0x7fffffffu	/* CSeq numbers stay below 2**31 (§8.1.1.5) */
#define MAX_FORWARDS_DEFAULT 70 /* §8.1.1.6 */

/*
 * Append s without its CR and LF. A folded value (LWS = [*WSP CRLF] 1*WSP,
 * §7.3.1) keeps its WSP and becomes one line, so what a dialog stores can
 * be written back as a header field value.
 */
static void put_unfolded(struct sip_writer *w, struct slice s)
{
	size_t i = 0, start;

	while (i < s.len) {
		start = i;
		while (i < s.len && s.p[i] != '\r' && s.p[i] != '\n')
			i++;
		sip_writer_put(w, s.p + start, i - start);
		while (i < s.len && (s.p[i] == '\r' || s.p[i] == '\n'))
			i++;
	}
}

/* The end of the generic-param starting at params[i] (a ';'): the next ';'
 * outside a quoted-string (§25), or the end. */
static size_t param_end(struct slice params, size_t i)
{
	bool quoted = false;

	for (i++; i < params.len; i++) {
		char c = params.p[i];

		if (quoted && c == '\\')
			i++;
		else if (c == '"')
			quoted = !quoted;
		else if (c == ';' && !quoted)
			break;
	}
	return i < params.len ? i : params.len;
}

/* Is the generic-param params[from, to) (starting at its ';') "tag"? Names
 * compare case-insensitively (§7.3.1). */
static bool param_is_tag(struct slice params, size_t from, size_t to)
{
	struct slice p = slice_sub(params, from + 1, to - from - 1);
	size_t n = 0;

	p = slice_trim(p);
	while (n < p.len && p.p[n] != '=' && p.p[n] != ' ' && p.p[n] != '\t' &&
	       p.p[n] != '\r' && p.p[n] != '\n')
		n++;
	return slice_caseeq_cstr(slice_sub(p, 0, n), "tag");
}

/*
 * A From/To value as a dialog keeps it (§12.1.1, §12.1.2): the display
 * name, <URI> (a bare addr-spec gets its brackets) and the header
 * parameters except the tag, which dialog_build_request() adds from the
 * dialog ID. Returns a pooled string (duet_pool_free_str) or NULL.
 */
/* The writer's text as a pooled string; the writer is freed. Dialogs
 * last as long as calls, so their strings live in the pool (alloc.h). */
static char *pool_take(struct sip_writer *w)
{
	char *s = w->err ? NULL : duet_pool_strndup(w->buf, w->len);

	sip_writer_free(w);
	return s;
}

static char *addr_dup(const struct sip_addr *a)
{
	struct sip_writer w;
	size_t i = 0, end;

	sip_writer_init(&w,
			a->display.len + a->uri.raw.len + a->params.len + 8);
	if (slice_present(a->display)) {
		if (a->display_quoted)
			sip_writer_put(&w, "\"", 1);
		put_unfolded(&w, a->display); /* escapes were kept */
		sip_writer_cstr(&w, a->display_quoted ? "\" " : " ");
	}
	sip_writer_put(&w, "<", 1);
	sip_writer_slice(&w, a->uri.raw);
	sip_writer_put(&w, ">", 1);
	while (i < a->params.len) {
		end = param_end(a->params, i);
		if (!param_is_tag(a->params, i, end))
			put_unfolded(&w, slice_sub(a->params, i, end - i));
		i = end;
	}
	return pool_take(&w);
}

static char *slice_dup(struct slice s)
{
	return duet_pool_strndup(s.p ? s.p : "", s.len);
}

/* The Contact URI of a dialog-creating message (§12.1.1, §12.1.2 require
 * one; "*" is only for REGISTER, §10.2.2). */
static int contact_target(const struct sip_msg *m, struct slice *target)
{
	if (m->contact_count == 0 || m->contacts[0].star ||
	    m->contacts[0].uri.raw.len == 0)
		return EBADMSG;
	*target = m->contacts[0].uri.raw;
	return 0;
}

static void routes_free(char **route, size_t n)
{
	for (size_t i = 0; i < n; i++)
		duet_pool_free_str(route[i]);
	duet_pool_free(route, n * sizeof(*route));
}

/*
 * The route set from the Record-Route entries of m (already split per
 * value, §7.3.1), each kept as its name-addr with all its parameters: in
 * order for a UAS (§12.1.1), reversed for a UAC (§12.1.2). Sets *out (a
 * pooled array, NULL for an empty set) and *n only on success.
 */
static int routes_from(char ***out, size_t *n, const struct sip_msg *m,
		       bool reverse)
{
	size_t count = m->record_route_count;
	struct sip_writer w;
	char **route = NULL;

	if (count > DIALOG_MAX_ROUTES)
		return EMSGSIZE;
	if (count && !(route = duet_pool_alloc(count * sizeof(*route))))
		return ENOMEM;
	for (size_t i = 0; i < count; i++) {
		const struct sip_addr *rr =
			&m->record_routes[reverse ? count - 1 - i : i];

		sip_writer_init(&w, rr->raw.len + 1);
		put_unfolded(&w, rr->raw);
		route[i] = pool_take(&w);
		if (!route[i]) {
			routes_free(route, count); /* the rest are NULL */
			return ENOMEM;
		}
	}
	*out = route;
	*n = count;
	return 0;
}

/* What both constructors have gathered before copying. */
struct dialog_init {
	enum dialog_role role;
	bool early;
	bool secure;
	struct slice call_id, local_tag, remote_tag, target;
	const struct sip_addr *local, *remote;
	const struct sip_msg *rr_msg; /* holds the Record-Route */
	uint32_t local_cseq, remote_cseq;
};

static int dialog_make(struct dialog **out, const struct dialog_init *in)
{
	struct dialog *d;
	int err;

	if (in->rr_msg->record_route_count > DIALOG_MAX_ROUTES)
		return EMSGSIZE;
	d = duet_pool_alloc(sizeof(*d));
	if (!d)
		return ENOMEM;
	d->role = in->role;
	d->state = in->early ? DIALOG_EARLY : DIALOG_CONFIRMED;
	d->secure = in->secure;
	d->local_cseq = in->local_cseq;
	d->remote_cseq = in->remote_cseq;
	d->call_id = slice_dup(in->call_id);
	d->local_tag = slice_dup(in->local_tag);
	d->remote_tag = slice_dup(in->remote_tag);
	d->local_uri = addr_dup(in->local);
	d->remote_uri = addr_dup(in->remote);
	d->remote_target = slice_dup(in->target);
	err = routes_from(&d->route, &d->route_count, in->rr_msg,
			  in->role == DIALOG_UAC);
	if (!err && (!d->call_id || !d->local_tag || !d->remote_tag ||
		     !d->local_uri || !d->remote_uri || !d->remote_target))
		err = ENOMEM;
	if (err) {
		dialog_free(d);
		return err;
	}
	*out = d;
	return 0;
}

/* §12.1.1. secure follows the Request-URI's scheme only: the caller must
 * clear it when the request did not arrive over TLS. */
int dialog_new_uas(struct dialog **out, const struct sip_msg *req,
		   struct slice local_tag, bool early)
{
	struct dialog_init in = {
		.role = DIALOG_UAS,
		.early = early,
		.local_tag = local_tag,
		.local_cseq = 0, /* empty until duet sends a request */
	};
	int err;

	if (!out || !req || !req->is_request || local_tag.len == 0)
		return EINVAL;
	/* an RFC 2543 peer without a From tag has no dialog ID duet could
	 * match on: refused */
	if (req->from.tag.len == 0 || req->call_id.len == 0)
		return EBADMSG;
	err = contact_target(req, &in.target);
	if (err)
		return err;
	in.secure = req->ruri.scheme == SIP_URI_SIPS;
	in.call_id = req->call_id;
	in.remote_tag = req->from.tag;
	in.local = &req->to;
	in.remote = &req->from;
	in.rr_msg = req;
	in.remote_cseq = req->cseq;
	return dialog_make(out, &in);
}

/* §12.1.2. Only 101-199 and 2xx with a To tag create a dialog (§12.1). */
int dialog_new_uac(struct dialog **out, const struct sip_msg *req,
		   const struct sip_msg *resp)
{
	struct dialog_init in = { .role = DIALOG_UAC, .remote_cseq = 0 };
	int err;

	if (!out || !req || !resp || !req->is_request || resp->is_request ||
	    resp->status <= 100 || resp->status >= 300)
		return EINVAL;
	if (req->from.tag.len == 0 || resp->to.tag.len == 0 ||
	    req->call_id.len == 0)
		return EBADMSG;
	err = contact_target(resp, &in.target);
	if (err)
		return err;
	in.early = resp->status < 200;
	/* "sips" in the request duet sent; TLS on the first hop is the
	 * caller's to check (§12.1.2) */
	in.secure = req->ruri.scheme == SIP_URI_SIPS;
	in.call_id = req->call_id;
	in.local_tag = req->from.tag;
	in.remote_tag = resp->to.tag;
	in.local = &req->from;
	in.remote = &req->to;
	in.rr_msg = resp;
	in.local_cseq = req->cseq;
	return dialog_make(out, &in);
}

int dialog_new_uac_from_2xx(struct dialog **out, const struct sip_msg *resp)
{
	struct dialog_init in = { .role = DIALOG_UAC };
	int err;

	if (!out || !resp || resp->is_request || resp->status / 100 != 2)
		return EINVAL;
	if (resp->from.tag.len == 0 || resp->to.tag.len == 0 ||
	    resp->call_id.len == 0)
		return EBADMSG;
	err = contact_target(resp, &in.target);
	if (err)
		return err;
	in.call_id = resp->call_id;
	in.local_tag = resp->from.tag;
	in.remote_tag = resp->to.tag;
	in.local = &resp->from;
	in.remote = &resp->to;
	in.rr_msg = resp;
	in.local_cseq = resp->cseq;
	return dialog_make(out, &in);
}

void dialog_free(struct dialog *d)
{
	if (!d)
		return;
	duet_pool_free_str(d->call_id);
	duet_pool_free_str(d->local_tag);
	duet_pool_free_str(d->remote_tag);
	duet_pool_free_str(d->local_uri);
	duet_pool_free_str(d->remote_uri);
	duet_pool_free_str(d->remote_target);
	routes_free(d->route, d->route_count);
	duet_pool_free(d, sizeof(*d));
}

/* Replace the remote target with t (nothing changes on ENOMEM). */
static int target_set(struct dialog *d, struct slice t)
{
	char *copy = slice_dup(t);

	if (!copy)
		return ENOMEM;
	duet_pool_free_str(d->remote_target);
	d->remote_target = copy;
	return 0;
}

/*
 * The 2xx that confirms an early UAC dialog carries the route set and the
 * target that hold for the rest of the dialog (§12.1.2, §13.2.2.4): both
 * are recomputed from it. A 2xx with another To tag is another dialog
 * (forking, §13.2.2.4) and is refused with EINVAL. On error nothing
 * changes.
 */
int dialog_confirm(struct dialog *d, const struct sip_msg *resp)
{
	char **route = NULL;
	size_t n = 0;
	struct slice target;
	char *copy;
	int err;

	if (!d || d->state != DIALOG_EARLY)
		return EINVAL;
	if (d->role == DIALOG_UAS) {
		d->state =
			DIALOG_CONFIRMED; /* the route set is the request's */
		return 0;
	}
	if (!resp || resp->is_request || resp->status / 100 != 2 ||
	    !slice_eq(resp->to.tag, slice_cstr(d->remote_tag)))
		return EINVAL;
	err = contact_target(resp, &target);
	if (!err)
		err = routes_from(&route, &n, resp, true);
	if (err)
		return err;
	copy = slice_dup(target);
	if (!copy) {
		routes_free(route, n);
		return ENOMEM;
	}
	routes_free(d->route, d->route_count);
	d->route = route;
	d->route_count = n;
	duet_pool_free_str(d->remote_target);
	d->remote_target = copy;
	d->state = DIALOG_CONFIRMED;
	return 0;
}

/*
 * The dialog ID is Call-ID, local tag and remote tag (§12). A request from
 * the peer carries our tag in To and its own in From; a response to our
 * request the other way round. For an early UAC dialog the remote tag is
 * that early dialog's: a response with another To tag belongs to another
 * early dialog of the same request (forking, §12.1.2, §13.2.2.4).
 */
bool dialog_matches(const struct dialog *d, const struct sip_msg *msg)
{
	struct slice ours, theirs;

	if (!d || !msg)
		return false;
	ours = msg->is_request ? msg->to.tag : msg->from.tag;
	theirs = msg->is_request ? msg->from.tag : msg->to.tag;
	/* Call-ID and tags compare byte for byte (§19.3, §20.8) */
	return slice_eq(msg->call_id, slice_cstr(d->call_id)) &&
	       slice_eq(ours, slice_cstr(d->local_tag)) &&
	       slice_eq(theirs, slice_cstr(d->remote_tag));
}

/* Requests that refresh the remote target: re-INVITE (§12.2) and UPDATE
 * (RFC 3311 §5.2). Subscription usages (RFC 6665) are not duet's. */
static bool is_target_refresh(enum sip_method m)
{
	return m == SIP_METHOD_INVITE || m == SIP_METHOD_UPDATE;
}

/* A usable Contact URI in m, if any. */
static bool has_contact(const struct sip_msg *m)
{
	return m->contact_count > 0 && !m->contacts[0].star &&
	       m->contacts[0].uri.raw.len > 0;
}

/*
 * §12.2.2. ACK and CANCEL carry the CSeq of the request they acknowledge
 * or cancel (§13.2.2.4, §9.1): they are never out of order and do not
 * move the remote CSeq. An ACK could not be answered with a 500 anyway,
 * and rejecting a late ACK (a later request overtook it) would make the
 * UAS retransmit its 2xx until the call is torn down (§13.3.1.4).
 */
int dialog_on_request(struct dialog *d, const struct sip_msg *req,
		      uint16_t *reject)
{
	bool seq_exempt;
	int err;

	if (!d || !req || !reject || !req->is_request)
		return EINVAL;
	seq_exempt = req->method == SIP_METHOD_ACK ||
		     req->method == SIP_METHOD_CANCEL;
	/* remote_cseq 0: empty (a UAC dialog before the peer's first
	 * request), any number is accepted and becomes the remote CSeq */
	if (!seq_exempt && d->remote_cseq != 0 && req->cseq <= d->remote_cseq) {
		*reject = 500; /* out of order or a replay (§12.2.2) */
		return 0;
	}
	if (is_target_refresh(req->method) && has_contact(req)) {
		err = target_set(d, req->contacts[0].uri.raw);
		if (err)
			return err;
	}
	if (!seq_exempt)
		d->remote_cseq = req->cseq;
	*reject = 0;
	return 0;
}

/* §12.2.1.2: only a 2xx to a target refresh request with a Contact
 * changes anything. */
int dialog_on_refresh_response(struct dialog *d, const struct sip_msg *resp)
{
	if (!d || !resp || resp->is_request)
		return EINVAL;
	if (resp->status / 100 != 2 || !is_target_refresh(resp->cseq_method) ||
	    !has_contact(resp))
		return 0;
	return target_set(d, resp->contacts[0].uri.raw);
}

/* u's text without its "?headers", which a Request-URI must not carry
 * (§19.1.1 Table 1). */
static struct slice uri_without_headers(const struct sip_uri *u)
{
	if (u->headers.len == 0)
		return u->raw;
	/* headers is the text after the '?' and runs to the end */
	return slice_make(u->raw.p, (size_t)(u->headers.p - 1 - u->raw.p));
}

/* Where an in-dialog request goes (§12.2.1.1). */
struct route_plan {
	struct slice ruri;
	struct slice next_hop; /* the URI RFC 3263 resolves (§8.1.2) */
	size_t first_route;    /* route[first_route..] go into Route */
	bool target_last;      /* strict: <remote target> is the last Route */
};

/*
 * §12.2.1.1. Empty route set: the remote target is the Request-URI, no
 * Route. First route with ;lr: the remote target is the Request-URI and
 * every route goes into Route, in order. Else the first route is a strict
 * router: its URI becomes the Request-URI, the other routes and then the
 * remote target go into Route. "Stripped of any parameters that are not
 * allowed in a Request-URI": duet strips only the URI headers; every URI
 * parameter of Table 1 (§19.1.1) but method may appear in a Request-URI,
 * and method in a Record-Route would be a peer's bug. The Request-URI
 * never carries URI headers, whichever its source.
 */
static int route_plan_make(const struct dialog *d, struct route_plan *p)
{
	struct sip_addr first;
	struct sip_uri target;

	*p = (struct route_plan){ 0 };
	if (d->route_count > 0) {
		if (sip_addr_parse(&first, slice_cstr(d->route[0]), NULL))
			return EINVAL; /* not a route a dialog could store */
		if (!first.uri.lr) {
			p->ruri = uri_without_headers(&first.uri);
			p->next_hop = p->ruri; /* §8.1.2: the Request-URI */
			p->first_route = 1;
			p->target_last = true;
			return 0;
		}
		p->next_hop = first.uri.raw;
	}
	p->ruri = slice_cstr(d->remote_target);
	if (sip_uri_parse(&target, p->ruri, NULL) == 0)
		p->ruri = uri_without_headers(&target);
	if (d->route_count == 0)
		p->next_hop = p->ruri;
	return 0;
}

/* "Name: part0 part1 ... CRLF", refusing CR or LF in a part (a value that
 * could end the field early would inject others). */
static void put_field(struct sip_writer *w, enum sip_hdr_id id,
		      const struct slice *part, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!sip_build_value_ok(part[i])) {
			if (!w->err)
				w->err = EINVAL;
			return;
		}
	}
	sip_writer_slice(w, sip_hdr_name(id));
	sip_writer_put(w, ": ", 2);
	for (size_t i = 0; i < n; i++)
		sip_writer_slice(w, part[i]);
	sip_writer_put(w, "\r\n", 2);
}

/* Route fields: route[first..], then <remote target> when strict. */
static void put_routes(struct sip_writer *w, const struct dialog *d,
		       const struct route_plan *p)
{
	for (size_t i = p->first_route; i < d->route_count; i++)
		put_field(w, SIP_HDR_ROUTE,
			  (struct slice[]){ slice_cstr(d->route[i]) }, 1);
	if (p->target_last)
		put_field(w, SIP_HDR_ROUTE,
			  (struct slice[]){ SLICE_LIT("<"),
					    slice_cstr(d->remote_target),
					    SLICE_LIT(">") },
			  3);
}

/*
 * §12.2.1.1. CSeq: r->cseq when given (ACK, CANCEL), which leaves
 * local_cseq alone; else local_cseq + 1, stored once the request is
 * written. A UAC dialog starts from the INVITE's CSeq; a UAS dialog has
 * no local CSeq (§12.1.1) and duet's first request there gets 1.
 */
int dialog_build_request(struct dialog *d, struct sip_writer *w,
			 const struct dialog_req *r, struct slice *next_hop)
{
	struct route_plan plan;
	uint32_t cseq;
	int mf;

	if (!w)
		return EINVAL;
	if (w->err)
		return w->err;
	if (!d || !r || r->method.len == 0 || r->via.len == 0 ||
	    r->max_forwards < DIALOG_MF_ZERO || r->max_forwards > 255 ||
	    (r->cseq == 0 && d->local_cseq >= CSEQ_MAX) || r->cseq > CSEQ_MAX ||
	    route_plan_make(d, &plan))
		return w->err = EINVAL;
	cseq = r->cseq ? r->cseq : d->local_cseq + 1;
	mf = r->max_forwards == DIALOG_MF_ZERO ? 0
	     : r->max_forwards		       ? r->max_forwards
					       : MAX_FORWARDS_DEFAULT;

	sip_build_request_line(w, r->method, plan.ruri);
	sip_build_header_id(w, SIP_HDR_VIA, r->via);
	sip_build_header_u32(w, SIP_HDR_MAX_FORWARDS, (uint32_t)mf, SLICE_NULL);
	put_routes(w, d, &plan);
	put_field(w, SIP_HDR_FROM,
		  (struct slice[]){ slice_cstr(d->local_uri),
				    SLICE_LIT(";tag="),
				    slice_cstr(d->local_tag) },
		  3);
	put_field(w, SIP_HDR_TO,
		  (struct slice[]){ slice_cstr(d->remote_uri),
				    SLICE_LIT(";tag="),
				    slice_cstr(d->remote_tag) },
		  3);
	sip_build_header_id(w, SIP_HDR_CALL_ID, slice_cstr(d->call_id));
	/* the CSeq method is the request's (§8.1.1.5) */
	if (!sip_build_value_ok(r->method)) {
		w->err = EINVAL;
		return w->err;
	}
	sip_writer_slice(w, sip_hdr_name(SIP_HDR_CSEQ));
	sip_writer_put(w, ": ", 2);
	sip_writer_u32(w, cseq);
	sip_writer_put(w, " ", 1);
	sip_writer_slice(w, r->method);
	sip_writer_put(w, "\r\n", 2);
	if (r->contact.len)
		sip_build_header_id(w, SIP_HDR_CONTACT, r->contact);
	if (w->err)
		return w->err;
	if (!r->cseq)
		d->local_cseq = cseq;
	if (next_hop)
		*next_hop = plan.next_hop;
	return 0;
}
