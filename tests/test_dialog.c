/* SPDX-License-Identifier: MIT */
/* Unit tests of SIP dialogs (RFC 3261 §12): creation, matching, CSeq and
 * target refresh checks, in-dialog requests with loose and strict routes. */
#include "test_util.h"

#include "duet/dialog.h"
#include "duet/err.h"

static char text[8192];

static struct sip_msg *parse_crlf(const char *msg)
{
	struct sip_msg *m = NULL;
	const char *why = NULL;
	size_t n = test_crlf(msg, text, sizeof(text));

	assert_int_equal(sip_msg_parse(&m, text, n, 0, NULL, &why), 0);
	return m;
}

/* A dialog-creating INVITE through two proxies: one Record-Route field
 * with two values, then another field. */
static const char invite[] =
	"INVITE sip:bob@example.org SIP/2.0\n"
	"Via: SIP/2.0/UDP p2.example.net;branch=z9hG4bKp2\n"
	"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKua\n"
	"Max-Forwards: 68\n"
	"Record-Route: <sip:p2.example.net;lr>, \"Proxy one\" "
	"<sip:p1.example.com;lr;transport=tcp>;foo=bar\n"
	"Record-Route: <sip:p0.example.com;lr>\n"
	"From: \"Alice\" <sip:alice@example.com>;tag=a1;x=y\n"
	"To: Bob <sip:bob@example.org>;p=\"q;tag=1\"\n"
	"Call-ID: c1@192.0.2.7\n"
	"CSeq: 10 INVITE\n"
	"Contact: <sip:alice@192.0.2.7:5062;transport=tcp>\n"
	"Content-Length: 0\n\n";

/* What duet sent as a UAC, and the answers of one fork. */
static const char uac_invite[] =
	"INVITE sip:bob@example.org SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKuac\n"
	"Max-Forwards: 70\n"
	"From: <sip:duet@192.0.2.1>;tag=d1\n"
	"To: <sip:bob@example.org>\n"
	"Call-ID: uac-1\n"
	"CSeq: 7 INVITE\n"
	"Contact: <sip:duet@192.0.2.1>\n"
	"Content-Length: 0\n\n";

static const char ringing[] =
	"SIP/2.0 180 Ringing\n"
	"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKuac\n"
	"Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.net;lr>\n"
	"From: <sip:duet@192.0.2.1>;tag=d1\n"
	"To: <sip:bob@example.org>;tag=b7\n"
	"Call-ID: uac-1\n"
	"CSeq: 7 INVITE\n"
	"Contact: <sip:bob@198.51.100.9>\n"
	"Content-Length: 0\n\n";

static const char ok_200[] =
	"SIP/2.0 200 OK\n"
	"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKuac\n"
	"Record-Route: <sip:p1.example.com;lr>\n"
	"Record-Route: <sip:p3.example.org;lr>, <sip:p2.example.net;lr>\n"
	"From: <sip:duet@192.0.2.1>;tag=d1\n"
	"To: <sip:bob@example.org>;tag=b7\n"
	"Call-ID: uac-1\n"
	"CSeq: 7 INVITE\n"
	"Contact: <sip:bob@198.51.100.10:5070>\n"
	"Content-Length: 0\n\n";

static struct dialog *uas_from(const char *msg, bool early)
{
	struct sip_msg *req = parse_crlf(msg);
	struct dialog *d = NULL;

	assert_int_equal(dialog_new_uas(&d, req, SLICE_LIT("b1"), early), 0);
	sip_msg_unref(req);
	return d;
}

static struct dialog *uac_from(const char *req_text, const char *resp_text)
{
	struct sip_msg *req = parse_crlf(req_text);
	struct sip_msg *resp = parse_crlf(resp_text);
	struct dialog *d = NULL;

	assert_int_equal(dialog_new_uac(&d, req, resp), 0);
	sip_msg_unref(resp);
	sip_msg_unref(req);
	return d;
}

/* Build an in-dialog request and parse it back. */
static struct sip_msg *build(struct dialog *d, const char *method,
			     uint32_t cseq, const char *contact,
			     struct slice *hop)
{
	struct dialog_req r = {
		.method = slice_cstr(method),
		.via = SLICE_LIT("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKin"),
		.contact = slice_cstr(contact),
		.cseq = cseq,
	};
	struct sip_writer w;
	struct sip_msg *m = NULL;
	const char *why = NULL;

	sip_writer_init(&w, 0);
	assert_int_equal(dialog_build_request(d, &w, &r, hop), 0);
	assert_int_equal(sip_build_finish(&w, SLICE_NULL, SLICE_NULL), 0);
	assert_int_equal(sip_msg_parse(&m, w.buf, w.len, 0, NULL, &why), 0);
	sip_writer_free(&w);
	return m;
}

static void test_uas_new(void **state)
{
	(void)state;
	struct dialog *d = uas_from(invite, true);

	assert_int_equal(d->role, DIALOG_UAS);
	assert_int_equal(d->state, DIALOG_EARLY);
	assert_string_equal(d->call_id, "c1@192.0.2.7");
	assert_string_equal(d->local_tag, "b1");
	assert_string_equal(d->remote_tag, "a1");
	/* name-addr without the tag, other parameters kept (a quoted
	 * ";tag=" is a value, not a tag) */
	assert_string_equal(d->local_uri,
			    "Bob <sip:bob@example.org>;p=\"q;tag=1\"");
	assert_string_equal(d->remote_uri,
			    "\"Alice\" <sip:alice@example.com>;x=y");
	assert_string_equal(d->remote_target,
			    "sip:alice@192.0.2.7:5062;transport=tcp");
	/* Record-Route in order, each entry with all its parameters */
	assert_int_equal(d->route_count, 3);
	assert_string_equal(d->route[0], "<sip:p2.example.net;lr>");
	assert_string_equal(
		d->route[1],
		"\"Proxy one\" <sip:p1.example.com;lr;transport=tcp>;foo=bar");
	assert_string_equal(d->route[2], "<sip:p0.example.com;lr>");
	assert_int_equal(d->remote_cseq, 10);
	assert_int_equal(d->local_cseq, 0);
	assert_false(d->secure);

	assert_int_equal(dialog_confirm(d, NULL), 0);
	assert_int_equal(d->state, DIALOG_CONFIRMED);
	assert_int_equal(dialog_confirm(d, NULL), EINVAL);
	dialog_free(d);

	d = uas_from(invite, false);
	assert_int_equal(d->state, DIALOG_CONFIRMED);
	dialog_free(d);
	dialog_free(NULL);
}

static void test_uas_addr_forms(void **state)
{
	(void)state;
	/* a bare addr-spec gets <>; tag anywhere among the params, any case;
	 * a folded Record-Route entry is stored on one line */
	struct dialog *d = uas_from(
		"OPTIONS sip:bob@example.org SIP/2.0\n"
		"Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\n"
		"Record-Route: <sip:p1.example.com;lr>\n ;foo=bar\n"
		"From: sip:alice@example.com ;a=1; TAG=a9 ;b=\"x\\\"y\"\n"
		"To: sip:bob@example.org\n"
		"Call-ID: c2\nCSeq: 1 OPTIONS\n"
		"Contact: sip:alice@192.0.2.7\n\n",
		false);
	struct sip_msg *m;

	assert_string_equal(d->remote_tag, "a9");
	assert_string_equal(d->remote_uri,
			    "<sip:alice@example.com>;a=1;b=\"x\\\"y\"");
	assert_string_equal(d->local_uri, "<sip:bob@example.org>");
	assert_string_equal(d->remote_target, "sip:alice@192.0.2.7");
	assert_int_equal(d->route_count, 1);
	assert_string_equal(d->route[0], "<sip:p1.example.com;lr> ;foo=bar");
	m = build(d, "BYE", 0, NULL, NULL);
	assert_int_equal(m->route_count, 1);
	assert_slice(m->routes[0].params, ";foo=bar");
	assert_slice(m->to.tag, "a9");
	assert_slice(m->to.params, ";a=1;b=\"x\\\"y\";tag=a9");
	sip_msg_unref(m);
	dialog_free(d);
}

static void test_uac_new_and_confirm(void **state)
{
	(void)state;
	struct dialog *d = uac_from(uac_invite, ringing);
	struct sip_msg *other;

	assert_int_equal(d->role, DIALOG_UAC);
	assert_int_equal(d->state, DIALOG_EARLY);
	assert_string_equal(d->call_id, "uac-1");
	assert_string_equal(d->local_tag, "d1");
	assert_string_equal(d->remote_tag, "b7");
	assert_string_equal(d->local_uri, "<sip:duet@192.0.2.1>");
	assert_string_equal(d->remote_uri, "<sip:bob@example.org>");
	assert_string_equal(d->remote_target, "sip:bob@198.51.100.9");
	/* Record-Route reversed (§12.1.2) */
	assert_int_equal(d->route_count, 2);
	assert_string_equal(d->route[0], "<sip:p2.example.net;lr>");
	assert_string_equal(d->route[1], "<sip:p1.example.com;lr>");
	assert_int_equal(d->local_cseq, 7);
	assert_int_equal(d->remote_cseq, 0);

	/* a 200 from another fork, or a provisional, does not confirm */
	other = parse_crlf(
		"SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"From: <sip:duet@192.0.2.1>;tag=d1\n"
		"To: <sip:bob@example.org>;tag=b8\n"
		"Call-ID: uac-1\nCSeq: 7 INVITE\n"
		"Contact: <sip:x@h>\n\n");
	assert_int_equal(dialog_confirm(d, other), EINVAL);
	sip_msg_unref(other);
	other = parse_crlf(ringing);
	assert_int_equal(dialog_confirm(d, other), EINVAL);
	assert_int_equal(dialog_confirm(d, NULL), EINVAL);
	sip_msg_unref(other);
	assert_int_equal(d->state, DIALOG_EARLY);

	/* the 200 recomputes the route set and the target */
	other = parse_crlf(ok_200);
	assert_int_equal(dialog_confirm(d, other), 0);
	assert_int_equal(d->state, DIALOG_CONFIRMED);
	assert_int_equal(d->route_count, 3);
	assert_string_equal(d->route[0], "<sip:p2.example.net;lr>");
	assert_string_equal(d->route[1], "<sip:p3.example.org;lr>");
	assert_string_equal(d->route[2], "<sip:p1.example.com;lr>");
	assert_string_equal(d->remote_target, "sip:bob@198.51.100.10:5070");
	assert_int_equal(dialog_confirm(d, other), EINVAL);
	sip_msg_unref(other);
	dialog_free(d);

	/* a 2xx creates a confirmed dialog directly */
	d = uac_from(uac_invite, ok_200);
	assert_int_equal(d->state, DIALOG_CONFIRMED);
	assert_int_equal(d->route_count, 3);
	dialog_free(d);
}

static void test_confirm_errors_keep_dialog(void **state)
{
	(void)state;
	struct dialog *d = uac_from(uac_invite, ringing);
	struct sip_msg *resp = parse_crlf(
		"SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"Record-Route: <sip:p9.example.com;lr>\n"
		"From: <sip:duet@192.0.2.1>;tag=d1\n"
		"To: <sip:bob@example.org>;tag=b7\n"
		"Call-ID: uac-1\nCSeq: 7 INVITE\n\n");

	assert_int_equal(dialog_confirm(d, resp), EBADMSG);
	assert_int_equal(d->state, DIALOG_EARLY);
	assert_int_equal(d->route_count, 2);
	assert_string_equal(d->remote_target, "sip:bob@198.51.100.9");
	sip_msg_unref(resp);
	dialog_free(d);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct sip_msg *req, *resp;
	struct dialog *d = NULL;

	/* no Contact in the request (§12.1.1) */
	req = parse_crlf("INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h;"
			 "branch=z9hG4bK1\nFrom: <sip:a@x>;tag=1\n"
			 "To: <sip:b@x>\nCall-ID: c\nCSeq: 1 INVITE\n\n");
	assert_int_equal(dialog_new_uas(&d, req, SLICE_LIT("t"), false),
			 EBADMSG);
	sip_msg_unref(req);
	/* no From tag (RFC 2543) */
	req = parse_crlf("INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h;"
			 "branch=z9hG4bK1\nFrom: <sip:a@x>\n"
			 "To: <sip:b@x>\nCall-ID: c\nCSeq: 1 INVITE\n"
			 "Contact: <sip:a@h>\n\n");
	assert_int_equal(dialog_new_uas(&d, req, SLICE_LIT("t"), false),
			 EBADMSG);
	assert_int_equal(dialog_new_uas(&d, req, SLICE_NULL, false), EINVAL);
	sip_msg_unref(req);

	/* UAC: no Contact in the response (§12.1.2), no To tag, a 100 */
	req = parse_crlf(uac_invite);
	resp = parse_crlf(
		"SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP h;"
		"branch=z9hG4bKuac\nFrom: <sip:duet@192.0.2.1>;tag=d1\n"
		"To: <sip:bob@example.org>;tag=b7\nCall-ID: uac-1\n"
		"CSeq: 7 INVITE\n\n");
	assert_int_equal(dialog_new_uac(&d, req, resp), EBADMSG);
	sip_msg_unref(resp);
	resp = parse_crlf(
		"SIP/2.0 183 Progress\nVia: SIP/2.0/UDP h;"
		"branch=z9hG4bKuac\nFrom: <sip:duet@192.0.2.1>;tag=d1\n"
		"To: <sip:bob@example.org>\nCall-ID: uac-1\n"
		"CSeq: 7 INVITE\nContact: <sip:b@h>\n\n");
	assert_int_equal(dialog_new_uac(&d, req, resp), EBADMSG);
	sip_msg_unref(resp);
	resp = parse_crlf(
		"SIP/2.0 100 Trying\nVia: SIP/2.0/UDP h;"
		"branch=z9hG4bKuac\nFrom: <sip:duet@192.0.2.1>;tag=d1\n"
		"To: <sip:bob@example.org>;tag=b7\nCall-ID: uac-1\n"
		"CSeq: 7 INVITE\nContact: <sip:b@h>\n\n");
	assert_int_equal(dialog_new_uac(&d, req, resp), EINVAL);
	assert_int_equal(dialog_new_uac(&d, req, req), EINVAL);
	sip_msg_unref(resp);
	sip_msg_unref(req);
	assert_null(d);
}

/* A message with n Record-Route entries spread over fields of three. */
static void with_routes(char *out, size_t cap, bool request, int n)
{
	size_t len;

	len = (size_t)snprintf(out, cap, "%s",
			       request ? "INVITE sip:b@x SIP/2.0\n"
				       : "SIP/2.0 200 OK\n");
	len += (size_t)snprintf(out + len, cap - len,
				"Via: SIP/2.0/UDP h;branch=z9hG4bKuac\n");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, cap - len,
					"%s<sip:p%d.x;lr>%s",
					i % 3 == 0 ? "Record-Route: " : "", i,
					i % 3 == 2 || i == n - 1 ? "\n" : ", ");
	snprintf(out + len, cap - len,
		 "From: <sip:duet@192.0.2.1>;tag=d1\n"
		 "To: <sip:bob@example.org>%s\nCall-ID: uac-1\n"
		 "CSeq: 7 INVITE\nContact: <sip:b@h>\n\n",
		 request ? "" : ";tag=b7");
}

static void test_route_limit(void **state)
{
	(void)state;
	char buf[2048];
	struct sip_msg *req, *resp;
	struct dialog *d = NULL;

	with_routes(buf, sizeof(buf), true, DIALOG_MAX_ROUTES + 1);
	req = parse_crlf(buf);
	assert_int_equal(req->record_route_count, DIALOG_MAX_ROUTES + 1);
	assert_int_equal(dialog_new_uas(&d, req, SLICE_LIT("t"), false),
			 EMSGSIZE);
	sip_msg_unref(req);

	req = parse_crlf(uac_invite);
	with_routes(buf, sizeof(buf), false, DIALOG_MAX_ROUTES + 1);
	resp = parse_crlf(buf);
	assert_int_equal(dialog_new_uac(&d, req, resp), EMSGSIZE);
	sip_msg_unref(resp);
	assert_null(d);

	/* exactly the limit is fine, and the order is reversed */
	with_routes(buf, sizeof(buf), false, DIALOG_MAX_ROUTES);
	resp = parse_crlf(buf);
	assert_int_equal(dialog_new_uac(&d, req, resp), 0);
	assert_int_equal(d->route_count, DIALOG_MAX_ROUTES);
	assert_string_equal(d->route[0], "<sip:p15.x;lr>");
	assert_string_equal(d->route[15], "<sip:p0.x;lr>");
	sip_msg_unref(resp);
	dialog_free(d);
	sip_msg_unref(req);
}

/* Fail each allocation of the constructors in turn. */
static void test_oom_new(void **state)
{
	(void)state;
	struct sip_msg *inv = parse_crlf(invite);
	struct sip_msg *req = parse_crlf(uac_invite);
	struct sip_msg *resp = parse_crlf(ringing);
	struct dialog *d = NULL;
	int64_t live = duet_alloc_stats().live;
	int err;
	uint64_t n;

	for (n = 1;; n++) {
		duet_alloc_fail_nth(n);
		err = dialog_new_uas(&d, inv, SLICE_LIT("b1"), false);
		duet_alloc_fail_nth(0);
		if (err == 0)
			break;
		assert_int_equal(err, ENOMEM);
		assert_null(d);
		assert_int_equal(duet_alloc_stats().live, live);
	}
	assert_true(n > 9); /* dialog, 6 strings, 3 routes */
	assert_int_equal(d->route_count, 3);
	dialog_free(d);
	d = NULL;

	for (n = 1;; n++) {
		duet_alloc_fail_nth(n);
		err = dialog_new_uac(&d, req, resp);
		duet_alloc_fail_nth(0);
		if (err == 0)
			break;
		assert_int_equal(err, ENOMEM);
		assert_null(d);
		assert_int_equal(duet_alloc_stats().live, live);
	}
	assert_true(n > 8);
	dialog_free(d);
	sip_msg_unref(resp);
	sip_msg_unref(req);
	sip_msg_unref(inv);
}

/* Fail each allocation of confirm, refreshes and building in turn: the
 * dialog stays as it was. */
static void test_oom_update(void **state)
{
	(void)state;
	struct sip_msg *ok = parse_crlf(ok_200);
	struct sip_msg *reinv =
		parse_crlf("INVITE sip:bob@198.51.100.9 SIP/2.0\n"
			   "Via: SIP/2.0/UDP p2.example.net;branch=z9hG4bK2\n"
			   "From: <sip:bob@example.org>;tag=b7\n"
			   "To: <sip:duet@192.0.2.1>;tag=d1\n"
			   "Call-ID: uac-1\nCSeq: 3 INVITE\n"
			   "Contact: <sip:bob@203.0.113.5>\n\n");
	struct dialog *d;
	struct sip_writer w;
	struct dialog_req r = { .method = SLICE_LIT("BYE"),
				.via = SLICE_LIT(
					"SIP/2.0/UDP h;branch=z9hG4bK") };
	uint16_t reject = 0;
	int err;
	uint64_t n;

	for (n = 1;; n++) {
		d = uac_from(uac_invite, ringing);
		duet_alloc_fail_nth(n);
		err = dialog_confirm(d, ok);
		duet_alloc_fail_nth(0);
		if (err == 0)
			break;
		assert_int_equal(err, ENOMEM);
		assert_int_equal(d->state, DIALOG_EARLY);
		assert_int_equal(d->route_count, 2);
		assert_string_equal(d->remote_target, "sip:bob@198.51.100.9");
		dialog_free(d);
	}
	assert_true(n > 4); /* 3 routes, the target */

	duet_alloc_fail_nth(1);
	assert_int_equal(dialog_on_request(d, reinv, &reject), ENOMEM);
	assert_int_equal(d->remote_cseq, 0);
	assert_string_equal(d->remote_target, "sip:bob@198.51.100.10:5070");
	duet_alloc_fail_nth(1);
	assert_int_equal(dialog_on_refresh_response(d, ok), ENOMEM);
	duet_alloc_fail_nth(0);

	for (n = 1;; n++) {
		sip_writer_init(&w, 16); /* small: growth can fail too */
		duet_alloc_fail_nth(n);
		err = dialog_build_request(d, &w, &r, NULL);
		duet_alloc_fail_nth(0);
		sip_writer_free(&w);
		if (err == 0)
			break;
		assert_int_equal(err, ENOMEM);
		assert_int_equal(d->local_cseq, 7); /* not consumed */
	}
	assert_int_equal(d->local_cseq, 8);
	dialog_free(d);
	sip_msg_unref(reinv);
	sip_msg_unref(ok);
}

static void test_matches(void **state)
{
	(void)state;
	struct dialog *d = uas_from(invite, false);
	struct sip_msg *m;
	static const char *const no[] = {
		/* other Call-ID */
		"BYE sip:a@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"From: <sip:alice@example.com>;tag=a1\n"
		"To: <sip:bob@example.org>;tag=b1\n"
		"Call-ID: c1@192.0.2.8\nCSeq: 11 BYE\n\n",
		/* tags the wrong way round for a request */
		"BYE sip:a@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"From: <sip:alice@example.com>;tag=b1\n"
		"To: <sip:bob@example.org>;tag=a1\n"
		"Call-ID: c1@192.0.2.7\nCSeq: 11 BYE\n\n",
		/* our tag in another case (tags are case-sensitive) */
		"BYE sip:a@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"From: <sip:alice@example.com>;tag=a1\n"
		"To: <sip:bob@example.org>;tag=B1\n"
		"Call-ID: c1@192.0.2.7\nCSeq: 11 BYE\n\n",
		/* no To tag */
		"BYE sip:a@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"From: <sip:alice@example.com>;tag=a1\n"
		"To: <sip:bob@example.org>\n"
		"Call-ID: c1@192.0.2.7\nCSeq: 11 BYE\n\n",
		/* a response with the request's orientation */
		"SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"From: <sip:alice@example.com>;tag=a1\n"
		"To: <sip:bob@example.org>;tag=b1\n"
		"Call-ID: c1@192.0.2.7\nCSeq: 1 BYE\n\n",
	};

	m = parse_crlf(
		"BYE sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"From: <sip:alice@example.com>;tag=a1\n"
		"To: <sip:bob@example.org>;tag=b1\n"
		"Call-ID: c1@192.0.2.7\nCSeq: 11 BYE\n\n");
	assert_true(dialog_matches(d, m));
	assert_false(dialog_matches(NULL, m));
	assert_false(dialog_matches(d, NULL));
	sip_msg_unref(m);
	/* the response to a request duet sent in this dialog */
	m = parse_crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		       "From: <sip:bob@example.org>;tag=b1\n"
		       "To: <sip:alice@example.com>;tag=a1\n"
		       "Call-ID: c1@192.0.2.7\nCSeq: 1 BYE\n\n");
	assert_true(dialog_matches(d, m));
	sip_msg_unref(m);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		m = parse_crlf(no[i]);
		assert_false(dialog_matches(d, m));
		sip_msg_unref(m);
	}
	dialog_free(d);

	/* UAC early dialog: another fork's 180 is another dialog */
	d = uac_from(uac_invite, ringing);
	m = parse_crlf(ringing);
	assert_true(dialog_matches(d, m));
	sip_msg_unref(m);
	m = parse_crlf(
		"SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP h;branch=z9hG4bKuac\n"
		"From: <sip:duet@192.0.2.1>;tag=d1\n"
		"To: <sip:bob@example.org>;tag=b8\n"
		"Call-ID: uac-1\nCSeq: 7 INVITE\n\n");
	assert_false(dialog_matches(d, m));
	sip_msg_unref(m);
	dialog_free(d);
}

/* An in-dialog request from Alice to the UAS dialog of `invite`. */
static uint16_t on_req(struct dialog *d, const char *method, uint32_t cseq,
		       const char *contact)
{
	char buf[1024];
	struct sip_msg *m;
	uint16_t reject = 999;

	snprintf(buf, sizeof(buf),
		 "%s sip:bob@192.0.2.99 SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK%s%u\n"
		 "From: \"Alice\" <sip:alice@example.com>;tag=a1\n"
		 "To: <sip:bob@example.org>;tag=b1\n"
		 "Call-ID: c1@192.0.2.7\nCSeq: %u %s\n%s%s%s\n",
		 method, method, cseq, cseq, method,
		 contact ? "Contact: <" : "", contact ? contact : "",
		 contact ? ">\n" : "");
	m = parse_crlf(buf);
	assert_int_equal(dialog_on_request(d, m, &reject), 0);
	sip_msg_unref(m);
	return reject;
}

static void test_on_request(void **state)
{
	(void)state;
	struct dialog *d = uas_from(invite, false);
	const char *target = "sip:alice@192.0.2.7:5062;transport=tcp";
	uint16_t reject;

	/* lower, or equal for a request that is not ACK/CANCEL (§12.2.2) */
	assert_int_equal(on_req(d, "INFO", 9, NULL), 500);
	assert_int_equal(on_req(d, "INVITE", 10, "sip:new@h"), 500);
	assert_int_equal(d->remote_cseq, 10);
	assert_string_equal(d->remote_target, target);
	/* the ACK to the 2xx has the INVITE's CSeq; CANCEL too */
	assert_int_equal(on_req(d, "ACK", 10, NULL), 0);
	assert_int_equal(on_req(d, "CANCEL", 10, NULL), 0);
	assert_int_equal(d->remote_cseq, 10);
	/* higher (with a gap) is in order and stored */
	assert_int_equal(on_req(d, "INFO", 12, "sip:info@h"), 0);
	assert_int_equal(d->remote_cseq, 12);
	assert_string_equal(d->remote_target, target); /* not a refresh */
	/* a late ACK (a later request overtook it) is not rejected */
	assert_int_equal(on_req(d, "ACK", 11, NULL), 0);
	assert_int_equal(d->remote_cseq, 12);
	/* target refresh: re-INVITE and UPDATE with a Contact */
	assert_int_equal(on_req(d, "INVITE", 13, "sip:alice@203.0.113.1"), 0);
	assert_string_equal(d->remote_target, "sip:alice@203.0.113.1");
	assert_int_equal(on_req(d, "INVITE", 14, NULL), 0);
	assert_string_equal(d->remote_target, "sip:alice@203.0.113.1");
	assert_int_equal(on_req(d, "UPDATE", 15, "sip:alice@203.0.113.2"), 0);
	assert_string_equal(d->remote_target, "sip:alice@203.0.113.2");
	/* BYE with a Contact does not */
	assert_int_equal(on_req(d, "BYE", 16, "sip:bye@h"), 0);
	assert_string_equal(d->remote_target, "sip:alice@203.0.113.2");
	assert_int_equal(d->remote_cseq, 16);
	assert_int_equal(dialog_on_request(d, NULL, &reject), EINVAL);
	dialog_free(d);

	/* UAC dialog: the remote CSeq is empty, anything is accepted */
	d = uac_from(uac_invite, ok_200);
	assert_int_equal(on_req(d, "BYE", 1, NULL), 0); /* tags ignored here */
	assert_int_equal(d->remote_cseq, 1);
	assert_int_equal(on_req(d, "BYE", 1, NULL), 500);
	dialog_free(d);
}

static void test_on_refresh_response(void **state)
{
	(void)state;
	struct dialog *d = uac_from(uac_invite, ok_200);
	static const char fmt[] =
		"SIP/2.0 %d X\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"From: <sip:duet@192.0.2.1>;tag=d1\n"
		"To: <sip:bob@example.org>;tag=b7\n"
		"Call-ID: uac-1\nCSeq: 8 %s\nContact: <%s>\n\n";
	char buf[512];
	struct sip_msg *m;

	snprintf(buf, sizeof(buf), fmt, 180, "INVITE", "sip:p@h");
	m = parse_crlf(buf);
	assert_int_equal(dialog_on_refresh_response(d, m), 0);
	sip_msg_unref(m);
	snprintf(buf, sizeof(buf), fmt, 200, "INFO", "sip:i@h");
	m = parse_crlf(buf);
	assert_int_equal(dialog_on_refresh_response(d, m), 0);
	sip_msg_unref(m);
	assert_string_equal(d->remote_target, "sip:bob@198.51.100.10:5070");
	snprintf(buf, sizeof(buf), fmt, 200, "INVITE", "sip:bob@203.0.113.7");
	m = parse_crlf(buf);
	assert_int_equal(dialog_on_refresh_response(d, m), 0);
	assert_string_equal(d->remote_target, "sip:bob@203.0.113.7");
	sip_msg_unref(m);
	snprintf(buf, sizeof(buf), fmt, 202, "UPDATE", "sip:bob@203.0.113.8");
	m = parse_crlf(buf);
	assert_int_equal(dialog_on_refresh_response(d, m), 0);
	assert_string_equal(d->remote_target, "sip:bob@203.0.113.8");
	sip_msg_unref(m);
	m = parse_crlf(uac_invite);
	assert_int_equal(dialog_on_refresh_response(d, m), EINVAL);
	sip_msg_unref(m);
	dialog_free(d);
}

/* The header ids of m in order, up to n. */
static void assert_order(const struct sip_msg *m, const uint16_t *ids, size_t n)
{
	assert_true(m->hdr_count >= n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(m->hdrs[i].id, ids[i]);
}

static void test_build_no_routes(void **state)
{
	(void)state;
	struct dialog *d =
		uas_from("INVITE sip:bob@example.org SIP/2.0\n"
			 "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\n"
			 "From: <sip:alice@example.com>;tag=a1\n"
			 "To: <sip:bob@example.org>\n"
			 "Call-ID: c3\nCSeq: 1 INVITE\n"
			 "Contact: <sip:alice@192.0.2.7;transport=udp>\n\n",
			 false);
	struct slice hop = SLICE_NULL;
	struct sip_msg *m = build(d, "BYE", 0, NULL, &hop);
	static const uint16_t order[] = {
		SIP_HDR_VIA,
		SIP_HDR_MAX_FORWARDS,
		SIP_HDR_FROM,
		SIP_HDR_TO,
		SIP_HDR_CALL_ID,
		SIP_HDR_CSEQ,
		SIP_HDR_CONTENT_LENGTH,
	};

	assert_true(m->is_request);
	assert_int_equal(m->method, SIP_METHOD_BYE);
	assert_slice(m->ruri.raw, "sip:alice@192.0.2.7;transport=udp");
	assert_int_equal(m->route_count, 0);
	assert_null(sip_msg_hdr(m, SIP_HDR_ROUTE));
	assert_slice(hop, "sip:alice@192.0.2.7;transport=udp");
	assert_int_equal(m->max_forwards, 70);
	/* UAS side: the local CSeq was empty, duet starts at 1 */
	assert_int_equal(m->cseq, 1);
	assert_int_equal(m->cseq_method, SIP_METHOD_BYE);
	assert_order(m, order, sizeof(order) / sizeof(order[0]));
	assert_int_equal(m->hdr_count, sizeof(order) / sizeof(order[0]));
	sip_msg_unref(m);
	assert_int_equal(d->local_cseq, 1);
	dialog_free(d);
}

static void test_build_loose(void **state)
{
	(void)state;
	struct dialog *d = uas_from(invite, false);
	struct slice hop = SLICE_NULL;
	struct sip_msg *m = build(d, "INFO", 0, "<sip:bob@192.0.2.99>", &hop);
	static const uint16_t order[] = {
		SIP_HDR_VIA,	 SIP_HDR_MAX_FORWARDS, SIP_HDR_ROUTE,
		SIP_HDR_ROUTE,	 SIP_HDR_ROUTE,	       SIP_HDR_FROM,
		SIP_HDR_TO,	 SIP_HDR_CALL_ID,      SIP_HDR_CSEQ,
		SIP_HDR_CONTACT,
	};

	assert_order(m, order, sizeof(order) / sizeof(order[0]));
	assert_slice(m->ruri.raw, "sip:alice@192.0.2.7:5062;transport=tcp");
	assert_int_equal(m->route_count, 3);
	assert_slice(m->routes[0].raw, "<sip:p2.example.net;lr>");
	assert_slice(
		m->routes[1].raw,
		"\"Proxy one\" <sip:p1.example.com;lr;transport=tcp>;foo=bar");
	assert_slice(m->routes[2].raw, "<sip:p0.example.com;lr>");
	assert_slice(hop, "sip:p2.example.net;lr");
	/* From = our side of the dialog, To = the peer's */
	assert_slice(m->from.uri.raw, "sip:bob@example.org");
	assert_slice(m->from.display, "Bob");
	assert_slice(m->from.tag, "b1");
	assert_slice(m->to.uri.raw, "sip:alice@example.com");
	assert_slice(m->to.display, "Alice");
	assert_true(m->to.display_quoted);
	assert_slice(m->to.tag, "a1");
	assert_slice(m->to.params, ";x=y;tag=a1");
	assert_slice(m->call_id, "c1@192.0.2.7");
	assert_int_equal(m->cseq, 1);
	assert_slice(m->cseq_method_text, "INFO");
	assert_int_equal(m->contact_count, 1);
	assert_slice(m->contacts[0].uri.raw, "sip:bob@192.0.2.99");
	assert_slice(m->vias[0].branch, "z9hG4bKin");
	sip_msg_unref(m);
	/* CSeq increments by one per request (§12.2.1.1) */
	m = build(d, "BYE", 0, NULL, NULL);
	assert_int_equal(m->cseq, 2);
	assert_int_equal(m->contact_count, 0);
	sip_msg_unref(m);
	assert_int_equal(d->local_cseq, 2);
	dialog_free(d);
}

static void test_build_uac_ack_and_cseq(void **state)
{
	(void)state;
	struct dialog *d = uac_from(uac_invite, ok_200);
	struct slice hop;
	struct sip_msg *m;

	/* ACK to the 2xx with the INVITE's CSeq (§13.2.2.4) */
	m = build(d, "ACK", 7, NULL, &hop);
	assert_int_equal(m->method, SIP_METHOD_ACK);
	assert_int_equal(m->cseq, 7);
	assert_int_equal(m->cseq_method, SIP_METHOD_ACK);
	assert_slice(m->ruri.raw, "sip:bob@198.51.100.10:5070");
	assert_int_equal(m->route_count, 3);
	assert_slice(m->routes[0].uri.raw, "sip:p2.example.net;lr");
	assert_slice(m->routes[1].uri.raw, "sip:p3.example.org;lr");
	assert_slice(m->routes[2].uri.raw, "sip:p1.example.com;lr");
	assert_slice(hop, "sip:p2.example.net;lr");
	assert_slice(m->from.raw, "<sip:duet@192.0.2.1>;tag=d1");
	assert_slice(m->to.raw, "<sip:bob@example.org>;tag=b7");
	assert_slice(m->call_id, "uac-1");
	sip_msg_unref(m);
	assert_int_equal(d->local_cseq, 7);
	/* the next request is the INVITE's CSeq + 1 */
	m = build(d, "BYE", 0, NULL, NULL);
	assert_int_equal(m->cseq, 8);
	sip_msg_unref(m);
	m = build(d, "BYE", 0, NULL, NULL);
	assert_int_equal(m->cseq, 9);
	sip_msg_unref(m);
	dialog_free(d);
}

/* A 200 whose Record-Route, reversed, starts with a strict router. */
static struct dialog *strict_dialog(const char *strict_rr)
{
	char buf[1024];

	snprintf(
		buf, sizeof(buf),
		"SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKuac\n"
		"Record-Route: <sip:p2.example.net;lr>, %s\n"
		"From: <sip:duet@192.0.2.1>;tag=d1\n"
		"To: <sip:bob@example.org>;tag=b7\n"
		"Call-ID: uac-1\nCSeq: 7 INVITE\n"
		"Contact: <sip:bob@198.51.100.10:5070>\n\n",
		strict_rr);
	return uac_from(uac_invite, buf);
}

static void test_build_strict(void **state)
{
	(void)state;
	struct dialog *d =
		strict_dialog("<sip:strict.example.com;maddr=10.0.0.1>");
	struct slice hop = SLICE_NULL;
	struct sip_msg *m = build(d, "BYE", 0, NULL, &hop);

	/* §12.2.1.1: the strict router is the Request-URI, the other routes
	 * then the remote target are the Route */
	assert_slice(m->ruri.raw, "sip:strict.example.com;maddr=10.0.0.1");
	assert_slice(m->ruri.maddr, "10.0.0.1");
	assert_int_equal(m->route_count, 2);
	assert_slice(m->routes[0].raw, "<sip:p2.example.net;lr>");
	assert_slice(m->routes[1].raw, "<sip:bob@198.51.100.10:5070>");
	assert_slice(hop, "sip:strict.example.com;maddr=10.0.0.1");
	assert_int_equal(m->cseq, 8);
	sip_msg_unref(m);
	dialog_free(d);

	/* a strict route with URI headers: none in the Request-URI */
	d = strict_dialog("<sip:strict.example.com;transport=tcp?X-Foo=bar>");
	assert_string_equal(d->route[0],
			    "<sip:strict.example.com;transport=tcp?X-Foo=bar>");
	m = build(d, "BYE", 0, NULL, &hop);
	assert_slice(m->ruri.raw, "sip:strict.example.com;transport=tcp");
	assert_int_equal(m->ruri.headers.len, 0);
	assert_slice(hop, "sip:strict.example.com;transport=tcp");
	assert_int_equal(m->route_count, 2);
	assert_slice(m->routes[1].uri.raw, "sip:bob@198.51.100.10:5070");
	sip_msg_unref(m);
	dialog_free(d);

	/* only route, strict: Route holds just the target */
	d = uac_from(
		uac_invite,
		"SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKuac\n"
		"Record-Route: <sip:strict.example.com>\n"
		"From: <sip:duet@192.0.2.1>;tag=d1\n"
		"To: <sip:bob@example.org>;tag=b7\n"
		"Call-ID: uac-1\nCSeq: 7 INVITE\n"
		"Contact: <sip:bob@198.51.100.10?Subject=x>\n\n");
	m = build(d, "BYE", 0, NULL, &hop);
	assert_slice(m->ruri.raw, "sip:strict.example.com");
	assert_int_equal(m->route_count, 1);
	assert_slice(m->routes[0].raw, "<sip:bob@198.51.100.10?Subject=x>");
	sip_msg_unref(m);
	dialog_free(d);
}

static void test_build_target_headers(void **state)
{
	(void)state;
	/* a remote target with URI headers: the Request-URI never has them
	 * (§19.1.1 Table 1) */
	struct dialog *d = uac_from(
		uac_invite,
		"SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKuac\n"
		"From: <sip:duet@192.0.2.1>;tag=d1\n"
		"To: <sip:bob@example.org>;tag=b7\n"
		"Call-ID: uac-1\nCSeq: 7 INVITE\n"
		"Contact: <sip:bob@198.51.100.10;ob?Subject=x>\n\n");
	struct slice hop;
	struct sip_msg *m = build(d, "BYE", 0, NULL, &hop);

	assert_slice(m->ruri.raw, "sip:bob@198.51.100.10;ob");
	assert_slice(hop, "sip:bob@198.51.100.10;ob");
	sip_msg_unref(m);
	dialog_free(d);
}

static void test_build_args(void **state)
{
	(void)state;
	struct dialog *d = uas_from(invite, false);
	struct dialog_req r = { .method = SLICE_LIT("BYE"),
				.via = SLICE_LIT(
					"SIP/2.0/UDP h;branch=z9hG4bK1"),
				.max_forwards = 5 };
	struct sip_writer w;
	struct sip_msg *m = NULL;
	const char *why;

	sip_writer_init(&w, 0);
	assert_int_equal(dialog_build_request(d, &w, &r, NULL), 0);
	assert_int_equal(sip_build_finish(&w, SLICE_NULL, SLICE_NULL), 0);
	assert_int_equal(sip_msg_parse(&m, w.buf, w.len, 0, NULL, &why), 0);
	assert_int_equal(m->max_forwards, 5);
	sip_msg_unref(m);
	sip_writer_free(&w);

	/* no Via, a Via that would inject a header, no writer */
	r.via = SLICE_NULL;
	sip_writer_init(&w, 0);
	assert_int_equal(dialog_build_request(d, &w, &r, NULL), EINVAL);
	sip_writer_free(&w);
	r.via = SLICE_LIT("SIP/2.0/UDP h\r\nX-Evil: 1");
	sip_writer_init(&w, 0);
	assert_int_equal(dialog_build_request(d, &w, &r, NULL), EINVAL);
	sip_writer_free(&w);
	assert_int_equal(dialog_build_request(d, NULL, &r, NULL), EINVAL);
	assert_int_equal(d->local_cseq, 1);
	dialog_free(d);
}

static void test_secure(void **state)
{
	(void)state;
	char buf[1024];
	struct dialog *d;
	struct sip_msg *req, *resp;

	/* UAS: the Request-URI is sips (TLS is the caller's to check) */
	snprintf(buf, sizeof(buf), "INVITE sips%s", invite + 10);
	d = uas_from(buf, false);
	assert_true(d->secure);
	dialog_free(d);

	/* UAC: the request duet sent was sips */
	snprintf(buf, sizeof(buf), "INVITE sips%s", uac_invite + 10);
	req = parse_crlf(buf);
	assert_int_equal(req->ruri.scheme, SIP_URI_SIPS);
	resp = parse_crlf(ok_200);
	assert_int_equal(dialog_new_uac(&d, req, resp), 0);
	assert_true(d->secure);
	dialog_free(d);
	sip_msg_unref(resp);
	sip_msg_unref(req);

	d = uac_from(uac_invite, ok_200);
	assert_false(d->secure);
	dialog_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_uas_new),
		LEAK_TEST(test_uas_addr_forms),
		LEAK_TEST(test_uac_new_and_confirm),
		LEAK_TEST(test_confirm_errors_keep_dialog),
		LEAK_TEST(test_bad_input),
		LEAK_TEST(test_route_limit),
		LEAK_TEST(test_oom_new),
		LEAK_TEST(test_oom_update),
		LEAK_TEST(test_matches),
		LEAK_TEST(test_on_request),
		LEAK_TEST(test_on_refresh_response),
		LEAK_TEST(test_build_no_routes),
		LEAK_TEST(test_build_loose),
		LEAK_TEST(test_build_uac_ack_and_cseq),
		LEAK_TEST(test_build_strict),
		LEAK_TEST(test_build_target_headers),
		LEAK_TEST(test_build_args),
		LEAK_TEST(test_secure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
