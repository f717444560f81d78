/* SPDX-License-Identifier: MIT */
/* `duet parse`: captured SIP messages as JSON (RFC 3261 §7, §20). */
#include "parse_cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"
#include "duet/sip_hdr.h"

/* Read a whole file (at most max bytes) into a duet_malloc'd buffer. */
static int read_file(const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return errno ? errno : EIO;
	buf = duet_malloc(max + 1);
	if (!buf) {
		fclose(f);
		return ENOMEM;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		duet_free(buf);
		fclose(f);
		return EIO;
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static json_t *jslice(struct slice s)
{
	return s.p ? json_stringn(s.p, s.len) : json_null();
}

static const char *scheme_name(enum sip_uri_scheme s)
{
	switch (s) {
	case SIP_URI_SIP:
		return "sip";
	case SIP_URI_SIPS:
		return "sips";
	case SIP_URI_TEL:
		return "tel";
	default:
		return "other";
	}
}

static const char *host_kind_name(enum sip_host_kind k)
{
	switch (k) {
	case SIP_HOST_NAME:
		return "name";
	case SIP_HOST_IPV4:
		return "ipv4";
	case SIP_HOST_IPV6:
		return "ipv6";
	default:
		return "none";
	}
}

static json_t *uri_json(const struct sip_uri *u)
{
	json_t *o = json_object();

	json_object_set_new(o, "uri", jslice(u->raw));
	json_object_set_new(o, "scheme", json_string(scheme_name(u->scheme)));
	if (u->scheme == SIP_URI_OTHER)
		return o;
	json_object_set_new(o, "user", jslice(u->user));
	if (u->password.p)
		json_object_set_new(o, "password", jslice(u->password));
	json_object_set_new(o, "host", jslice(u->host));
	json_object_set_new(o, "host_kind",
			    json_string(host_kind_name(u->host_kind)));
	if (u->port)
		json_object_set_new(o, "port", json_integer(u->port));
	if (u->params.len)
		json_object_set_new(o, "params", jslice(u->params));
	if (u->headers.len)
		json_object_set_new(o, "headers", jslice(u->headers));
	if (u->transport.p)
		json_object_set_new(o, "transport", jslice(u->transport));
	if (u->lr)
		json_object_set_new(o, "lr", json_true());
	return o;
}

static json_t *addr_json(const struct sip_addr *a)
{
	json_t *o = json_object();
	const struct sip_uri *u;
	struct sip_uri tmp;

	if (a->star) {
		json_object_set_new(o, "star", json_true());
		return o;
	}
	if (a->display.p)
		json_object_set_new(o, "display", jslice(a->display));
	/* a pending From/To URI shown parsed (as text when it does not) */
	u = sip_addr_uri(a, &tmp);
	json_object_set_new(o, "uri", uri_json(u ? u : &a->uri));
	if (a->tag.p)
		json_object_set_new(o, "tag", jslice(a->tag));
	if (a->params.len)
		json_object_set_new(o, "params", jslice(a->params));
	if (a->has_expires)
		json_object_set_new(o, "expires", json_integer(a->expires));
	if (a->has_q)
		json_object_set_new(o, "q", json_real(a->q / 1000.0));
	return o;
}

static json_t *via_json(const struct sip_via *v)
{
	json_t *o = json_object();

	json_object_set_new(o, "transport", jslice(v->transport));
	json_object_set_new(o, "host", jslice(v->host));
	if (v->port)
		json_object_set_new(o, "port", json_integer(v->port));
	if (v->branch.p)
		json_object_set_new(o, "branch", jslice(v->branch));
	if (v->received.p)
		json_object_set_new(o, "received", jslice(v->received));
	if (v->has_rport)
		json_object_set_new(o, "rport",
				    v->rport ? json_integer(v->rport)
					     : json_true());
	if (v->maddr.p)
		json_object_set_new(o, "maddr", jslice(v->maddr));
	if (v->ttl.p)
		json_object_set_new(o, "ttl", jslice(v->ttl));
	if (v->params.len)
		json_object_set_new(o, "params", jslice(v->params));
	return o;
}

/* The number of values in one list field, as the parser split it. */
static size_t field_values(const struct sip_hdr *h)
{
	struct slice v;
	size_t pos = 0, n = 0;

	while (sip_hdr_next_value(h->value, &pos, &v, NULL))
		n++;
	return n;
}

/* Cursors into the message's parsed value arrays, consumed in field order
 * (the parser fills them in the same order). */
struct value_cursors {
	size_t via, contact, route, rr;
};

static json_t *addr_list_json(const struct sip_addr *arr, size_t *at, size_t n,
			      size_t max)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n && *at < max; i++)
		json_array_append_new(a, addr_json(&arr[(*at)++]));
	return a;
}

static json_t *parsed_json(const struct sip_msg *m, const struct sip_hdr *h,
			   struct value_cursors *vc)
{
	size_t n;

	switch (h->id) {
	case SIP_HDR_VIA: {
		json_t *a = json_array();

		n = field_values(h);
		for (size_t i = 0; i < n && vc->via < m->via_count; i++)
			json_array_append_new(a, via_json(&m->vias[vc->via++]));
		return a;
	}
	case SIP_HDR_FROM:
		return addr_json(&m->from);
	case SIP_HDR_TO:
		return addr_json(&m->to);
	case SIP_HDR_CONTACT:
		n = m->contact_count && m->contacts[0].star ? 1
							    : field_values(h);
		return addr_list_json(m->contacts, &vc->contact, n,
				      m->contact_count);
	case SIP_HDR_ROUTE:
		return addr_list_json(m->routes, &vc->route, field_values(h),
				      m->route_count);
	case SIP_HDR_RECORD_ROUTE:
		return addr_list_json(m->record_routes, &vc->rr,
				      field_values(h), m->record_route_count);
	case SIP_HDR_CSEQ:
		return json_pack("{s:I, s:o}", "number", (json_int_t)m->cseq,
				 "method", jslice(m->cseq_method_text));
	case SIP_HDR_CALL_ID:
		return jslice(m->call_id);
	case SIP_HDR_MAX_FORWARDS:
		return json_integer(m->max_forwards);
	case SIP_HDR_CONTENT_LENGTH:
		return json_integer(m->content_length);
	case SIP_HDR_EXPIRES:
		return json_integer(m->expires);
	case SIP_HDR_CONTENT_TYPE:
		return json_pack("{s:o, s:o}", "type", jslice(m->content_type),
				 "params", jslice(m->content_type_params));
	default:
		return NULL;
	}
}

json_t *parse_cmd_msg_json(const struct sip_msg *m)
{
	json_t *o = json_object(), *hdrs = json_array();
	struct value_cursors vc = { 0 };

	if (m->is_request) {
		json_object_set_new(o, "type", json_string("request"));
		json_object_set_new(o, "method", jslice(m->method_text));
		json_object_set_new(o, "request_uri", uri_json(&m->ruri));
	} else {
		json_object_set_new(o, "type", json_string("response"));
		json_object_set_new(o, "status", json_integer(m->status));
		json_object_set_new(o, "reason", jslice(m->reason));
	}
	json_object_set_new(o, "version", jslice(m->version));
	for (uint16_t i = 0; i < m->hdr_count; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		json_t *jh = json_object(), *parsed;

		json_object_set_new(jh, "name", jslice(h->name));
		if (h->id != SIP_HDR_OTHER)
			json_object_set_new(jh, "id",
					    jslice(sip_hdr_name(h->id)));
		json_object_set_new(jh, "value", jslice(h->value));
		if ((parsed = parsed_json(m, h, &vc)))
			json_object_set_new(jh, "parsed", parsed);
		json_array_append_new(hdrs, jh);
	}
	json_object_set_new(o, "headers", hdrs);
	json_object_set_new(o, "body_length",
			    json_integer((json_int_t)m->body.len));
	return o;
}

static int parse_one(const char *path, enum sip_framing framing, bool quiet,
		     FILE *out, FILE *err)
{
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	struct sip_msg *msg = NULL;
	const char *why = NULL;
	char *buf = NULL;
	size_t len = 0;
	json_t *o;
	int rc;

	/* read one byte past the limit so an oversize file is reported as
	 * such by the parser */
	rc = read_file(path, lim.max_msg_size + 1, &buf, &len);
	if (rc) {
		fprintf(err, "duet parse: %s: %s\n", path, strerror(rc));
		return 2;
	}
	rc = sip_msg_parse(&msg, buf, len, framing, &lim, &why);
	duet_free(buf);
	if (quiet) {
		sip_msg_unref(msg);
		return rc ? 1 : 0;
	}
	if (rc) {
		o = json_pack("{s:s, s:s, s:s}", "file", path, "error",
			      duet_errname(rc), "reason", why ? why : "");
	} else {
		o = parse_cmd_msg_json(msg);
		json_object_set_new(o, "file", json_string(path));
	}
	json_dumpf(o, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(o);
	sip_msg_unref(msg);
	return rc ? 1 : 0;
}

int parse_cmd_main(int argc, char **argv, FILE *out, FILE *err)
{
	enum sip_framing framing = SIP_FRAMING_DGRAM;
	bool quiet = false;
	int status = 0, files = 0;

	for (int i = 1; i < argc; i++) {
		int rc;

		if (strcmp(argv[i], "-q") == 0) {
			quiet = true;
			continue;
		}
		if (strcmp(argv[i], "--stream") == 0) {
			framing = SIP_FRAMING_STREAM;
			continue;
		}
		files++;
		rc = parse_one(argv[i], framing, quiet, out, err);
		if (rc > status)
			status = rc;
	}
	if (files == 0) {
		fprintf(err, "usage: duet parse [-q] [--stream] FILE...\n");
		return 2;
	}
	return status;
}
