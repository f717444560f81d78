/* SPDX-License-Identifier: MIT */
/* Unit tests of the SIP message parser: every eager header, framing,
 * limits, lookups (RFC 3261 §7, §18.3, §20, §25). */
#include "test_util.h"

#include "duet/err.h"
#include "duet/sip_msg.h"

static char text[70000];

/* Parse a test message written with "\n" line ends. */
static int parse(struct sip_msg **m, const char *msg, enum sip_framing fr,
		 const char **why)
{
	size_t n = test_crlf(msg, text, sizeof(text));

	return sip_msg_parse(m, text, n, fr, NULL, why);
}

static struct sip_msg *parse_ok(const char *msg)
{
	struct sip_msg *m = NULL;
	const char *why = NULL;
	int err = parse(&m, msg, SIP_FRAMING_DGRAM, &why);

	if (err)
		fprintf(stderr, "unexpected %s: %s\n", duet_errname(err), why);
	assert_int_equal(err, 0);
	return m;
}

static void expect_bad(const char *msg, const char *why_expected)
{
	struct sip_msg *m = NULL;
	const char *why = NULL;

	assert_int_equal(parse(&m, msg, SIP_FRAMING_DGRAM, &why), EBADMSG);
	assert_null(m);
	assert_non_null(why);
	if (why_expected)
		assert_string_equal(why, why_expected);
}

#define HDRS                                                                   \
	"Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776\n"                \
	"From: Alice <sip:alice@example.com>;tag=1928301774\n"                 \
	"To: Bob <sip:bob@example.org>\n"                                      \
	"Call-ID: a84b4c76e66710@pc33.example.com\n"

static void test_request_basic(void **state)
{
	(void)state;
	struct sip_msg *m = parse_ok("INVITE sip:bob@example.org SIP/2.0\n" HDRS
				     "CSeq: 314159 INVITE\n"
				     "Max-Forwards: 70\n"
				     "Content-Type: application/sdp\n"
				     "Content-Length: 4\n\nv=0\n");

	assert_true(m->is_request);
	assert_int_equal(m->method, SIP_METHOD_INVITE);
	assert_slice(m->method_text, "INVITE");
	assert_slice(m->ruri.user, "bob");
	assert_slice(m->ruri.host, "example.org");
	assert_slice(m->version, "SIP/2.0");
	assert_int_equal(m->via_count, 1);
	assert_slice(m->vias[0].transport, "UDP");
	assert_slice(m->vias[0].host, "pc33.example.com");
	assert_int_equal(m->vias[0].port, 0);
	assert_slice(m->vias[0].branch, "z9hG4bK776");
	assert_slice(m->from.display, "Alice");
	assert_false(m->from.display_quoted);
	assert_slice(m->from.tag, "1928301774");
	assert_slice(m->from.uri.user, "alice");
	assert_null(m->to.tag.p);
	assert_slice(m->call_id, "a84b4c76e66710@pc33.example.com");
	assert_int_equal(m->cseq, 314159);
	assert_int_equal(m->cseq_method, SIP_METHOD_INVITE);
	assert_int_equal(m->max_forwards, 70);
	assert_slice(m->content_type, "application/sdp");
	assert_true(m->has_content_length);
	assert_int_equal(m->content_length, 4);
	assert_slice(m->body, "v=0\r");
	assert_int_equal(m->hdr_count, 8);
	sip_msg_unref(m);
}

static void test_response_basic(void **state)
{
	(void)state;
	struct sip_msg *m = parse_ok("SIP/2.0 180 Ringing\n" HDRS
				     "CSeq: 1 INVITE\nContent-Length: 0\n\n");

	assert_false(m->is_request);
	assert_int_equal(m->status, 180);
	assert_slice(m->reason, "Ringing");
	assert_int_equal(m->body.len, 0);
	sip_msg_unref(m);

	/* an empty reason phrase, with or without its SP (§7.2) */
	m = parse_ok("SIP/2.0 200 \n" HDRS "CSeq: 1 INVITE\n\n");
	assert_int_equal(m->status, 200);
	assert_int_equal(m->reason.len, 0);
	sip_msg_unref(m);
	m = parse_ok("SIP/2.0 486\n" HDRS "CSeq: 1 INVITE\n\n");
	assert_int_equal(m->status, 486);
	sip_msg_unref(m);
	/* a response's CSeq method is not checked against anything */
	m = parse_ok("SIP/2.0 200 OK\n" HDRS "CSeq: 2 BYE\n\n");
	assert_int_equal(m->cseq_method, SIP_METHOD_BYE);
	sip_msg_unref(m);
}

static void test_start_line_errors(void **state)
{
	(void)state;
	expect_bad("INVITE  sip:b@x SIP/2.0\n" HDRS "CSeq: 1 INVITE\n\n",
		   "bad request line");
	expect_bad(" INVITE sip:b@x SIP/2.0\n" HDRS "CSeq: 1 INVITE\n\n", NULL);
	expect_bad("INVITE sip:b@x SIP/2.0 \n" HDRS "CSeq: 1 INVITE\n\n",
		   "bad request line");
	expect_bad("INVITE <sip:b@x> SIP/2.0\n" HDRS "CSeq: 1 INVITE\n\n",
		   "bad Request-URI");
	expect_bad("INVITE sip:b@x HTTP/1.1\n" HDRS "CSeq: 1 INVITE\n\n",
		   "bad SIP version");
	expect_bad("SIP/2.0 099 Low\n" HDRS "CSeq: 1 INVITE\n\n",
		   "bad status code");
	expect_bad("SIP/2.0 700 High\n" HDRS "CSeq: 1 INVITE\n\n",
		   "bad status code");
	expect_bad("SIP/2.0 2000 OK\n" HDRS "CSeq: 1 INVITE\n\n",
		   "bad status code");
	expect_bad("SIP/2.0 20 OK\n" HDRS "CSeq: 1 INVITE\n\n",
		   "bad status code");
}

static void test_unusual_valid_start(void **state)
{
	(void)state;
	struct sip_msg *m;

	/* an extension method and an unknown version are for the TU */
	m = parse_ok("NEWMETHOD sip:b@x SIP/7.0\n" HDRS
		     "CSeq: 9 NEWMETHOD\n\n");
	assert_int_equal(m->method, SIP_METHOD_OTHER);
	assert_slice(m->method_text, "NEWMETHOD");
	assert_slice(m->version, "SIP/7.0");
	sip_msg_unref(m);
	/* methods are case-sensitive: "invite" is an extension method */
	m = parse_ok("invite sip:b@x SIP/2.0\n" HDRS "CSeq: 9 invite\n\n");
	assert_int_equal(m->method, SIP_METHOD_OTHER);
	sip_msg_unref(m);
	/* an unknown scheme is parsed as an absoluteURI (TU answers 416) */
	m = parse_ok("OPTIONS urn:service:sos SIP/2.0\n" HDRS
		     "CSeq: 9 OPTIONS\n\n");
	assert_int_equal(m->ruri.scheme, SIP_URI_OTHER);
	sip_msg_unref(m);
	/* leading CRLFs before the start line are ignored (§7.5) */
	m = parse_ok("\n\nBYE sip:b@x SIP/2.0\n" HDRS "CSeq: 9 BYE\n\n");
	assert_int_equal(m->method, SIP_METHOD_BYE);
	assert_slice(slice_sub(m->start_line, 0, 3), "BYE");
	sip_msg_unref(m);
}

static void test_via_fields(void **state)
{
	(void)state;
	struct sip_msg *m = parse_ok(
		"OPTIONS sip:b@x SIP/2.0\n"
		"Via: SIP / 2.0 / TCP [2001:db8::9]:5070 ;branch=z9hG4bKa "
		";received=2001:db8::1;rport=5071;maddr=239.1.1.1;ttl=16\n"
		"v: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKb;rport, SIP/2.0/TLS "
		"h.example.com:5061;branch=z9hG4bKc;received=[2001:db8::2]\n"
		"From: <sip:a@x>;tag=1\nTo: <sip:b@x>\nCall-ID: c\n"
		"CSeq: 1 OPTIONS\n\n");

	assert_int_equal(m->via_count, 3);
	assert_slice(m->vias[0].transport, "TCP");
	assert_slice(m->vias[0].host, "[2001:db8::9]");
	assert_int_equal(m->vias[0].host_kind, SIP_HOST_IPV6);
	assert_int_equal(m->vias[0].port, 5070);
	assert_slice(m->vias[0].branch, "z9hG4bKa");
	assert_slice(m->vias[0].received, "2001:db8::1");
	assert_true(m->vias[0].has_rport);
	assert_int_equal(m->vias[0].rport, 5071);
	assert_slice(m->vias[0].maddr, "239.1.1.1");
	assert_slice(m->vias[0].ttl, "16");
	assert_int_equal(m->vias[1].host_kind, SIP_HOST_IPV4);
	assert_true(m->vias[1].has_rport);
	assert_int_equal(m->vias[1].rport, 0);
	assert_slice(m->vias[1].params, ";branch=z9hG4bKb;rport");
	assert_slice(m->vias[2].transport, "TLS");
	assert_int_equal(m->vias[2].port, 5061);
	assert_slice(m->vias[2].received, "[2001:db8::2]");
	sip_msg_unref(m);
}

static void test_via_errors(void **state)
{
	(void)state;
	static const char *const bad_vias[] = {
		"SIP/2.0/UDP",			    /* no sent-by */
		"SIP/3.0/UDP h",		    /* version */
		"HTTP/2.0/UDP h",		    /* protocol */
		"SIP/2.0/UDP h:0",		    /* port 0 */
		"SIP/2.0/UDP h:65536",		    /* port range */
		"SIP/2.0/UDP 2001:db8::1",	    /* IPv6 without [] */
		"SIP/2.0/UDP h;branch",		    /* branch without value */
		"SIP/2.0/UDP h;received=host.name", /* received not an IP */
		"SIP/2.0/UDP h;rport=abc",	    /* rport */
		"SIP/2.0/UDP h;ttl=256",	    /* ttl range */
		"SIP/2.0/UDP h;=x",		    /* empty param name */
		"SIP/2.0/UDP h junk",		    /* trailing text */
		"SIP/2.0/UDP 300.1.1.1",	    /* bad IPv4 */
	};
	char msg[512];

	for (size_t i = 0; i < sizeof(bad_vias) / sizeof(bad_vias[0]); i++) {
		snprintf(msg, sizeof(msg),
			 "BYE sip:b@x SIP/2.0\nVia: %s\nFrom: <sip:a@x>;tag=1\n"
			 "To: <sip:b@x>\nCall-ID: c\nCSeq: 1 BYE\n\n",
			 bad_vias[i]);
		expect_bad(msg, NULL);
	}
}

static void test_from_to_forms(void **state)
{
	(void)state;
	struct sip_msg *m = parse_ok(
		"MESSAGE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"f: \"Alice \\\"A\\\", Liddell\" <sip:alice@x;transport=tcp>"
		" ; tag = 88 ;x=\"q;v\"\n"
		"t: sip:bob@y;tag=99;user=phone\n"
		"i: c1\nCSeq: 1 MESSAGE\n\n");

	struct sip_uri tmp;
	const struct sip_uri *u;

	assert_true(m->from.display_quoted);
	assert_slice(m->from.display, "Alice \\\"A\\\", Liddell");
	assert_true(m->from.bracketed);
	/* a To tag: the URI in <> is pending, parsed on demand */
	assert_true(m->from.uri_pending);
	assert_slice(m->from.uri.raw, "sip:alice@x;transport=tcp");
	u = sip_addr_uri(&m->from, &tmp);
	assert_non_null(u);
	assert_slice(u->transport, "tcp");
	assert_slice(sip_addr_uri_user(&m->from), "alice");
	assert_slice(sip_addr_uri_host(&m->from), "x");
	assert_slice(m->from.tag, "88");
	/* addr-spec: the parameters belong to the header (§20.10) */
	assert_false(m->to.bracketed);
	assert_slice(m->to.uri.raw, "sip:bob@y");
	assert_slice(m->to.tag, "99");
	assert_slice(m->to.params, ";tag=99;user=phone");
	assert_null(m->to.uri.user_param.p);
	sip_msg_unref(m);

	/* unquoted multi-token display name, tel URI */
	m = parse_ok("BYE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\n"
		     "From: Alice  In Wonderland <tel:+1-555-0100>;tag=a\n"
		     "To: <sip:b@x>\nCall-ID: c\nCSeq: 1 BYE\n\n");
	assert_slice(m->from.display, "Alice  In Wonderland");
	assert_false(m->from.uri_pending); /* no To tag: parsed */
	assert_int_equal(m->from.uri.scheme, SIP_URI_TEL);
	assert_ptr_equal(sip_addr_uri(&m->from, &tmp), &m->from.uri);
	sip_msg_unref(m);
}

/*
 * From and To URIs are checked where they are used: in a request without
 * a To tag (routing reads them) a bad one is refused; in a response, or a
 * request in a dialog, only the tags matter (§12.2.2), and the URIs stay
 * pending until asked for.
 */
static void test_from_to_pending(void **state)
{
	(void)state;
	struct sip_uri tmp;
	struct sip_msg *m;

	expect_bad("INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\n"
		   "From: <sip:a@x:99999>;tag=1\nTo: <sip:b@x>\n"
		   "Call-ID: c\nCSeq: 1 INVITE\n\n",
		   NULL);
	expect_bad("OPTIONS sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\n"
		   "From: <sip:a@x>;tag=1\nTo: \"B\" <sip:b@x:0>\n"
		   "Call-ID: c\nCSeq: 1 OPTIONS\n\n",
		   NULL);
	m = parse_ok("INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\n"
		     "From: <sip:a@x:5070>;tag=1\nTo: \"B\" <sip:b@y>\n"
		     "Call-ID: c\nCSeq: 1 INVITE\n\n");
	assert_false(m->from.uri_pending);
	assert_false(m->to.uri_pending);
	assert_int_equal(m->from.uri.port, 5070);
	assert_slice(m->to.uri.host, "y");
	sip_msg_unref(m);

	m = parse_ok("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h\n"
		     "From: <sip:a@x:99999>;tag=1\nTo: <sip:b@y>;tag=2\n"
		     "Call-ID: c\nCSeq: 1 INVITE\n\n");
	assert_true(m->from.uri_pending);
	assert_true(m->to.uri_pending);
	/* text only: never mistaken for a sip: URI with no host */
	assert_int_equal(m->from.uri.scheme, SIP_URI_OTHER);
	assert_null(sip_addr_uri(&m->from, &tmp));
	assert_null(sip_addr_uri_host(&m->from).p);
	assert_slice(sip_addr_uri_host(&m->to), "y");
	sip_msg_unref(m);

	m = parse_ok("BYE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\n"
		     "From: \"A\" <sip:a@x>;tag=1\nTo: <sip:b@y>;tag=2\n"
		     "Call-ID: c\nCSeq: 2 BYE\n\n");
	assert_true(m->from.uri_pending);
	assert_slice(m->from.uri.raw, "sip:a@x");
	assert_slice(sip_addr_uri_user(&m->from), "a");
	sip_msg_unref(m);
}

static void test_addr_errors(void **state)
{
	(void)state;
	static const char *const bad_froms[] = {
		"\"Alice <sip:a@x>",  /* unbalanced quote */
		"<sip:a@x",	      /* missing > */
		"Al@ice <sip:a@x>",   /* special in unquoted name */
		"\"Alice\" sip:a@x",  /* quoted name without <> */
		"<sip:a@x>;tag",      /* tag without value */
		"<sip:a@x> trailing", /* junk after */
		"sip:a@x <sip:b@x>",  /* addr-spec then junk */
		"",		      /* empty */
	};
	char msg[512];

	for (size_t i = 0; i < sizeof(bad_froms) / sizeof(bad_froms[0]); i++) {
		snprintf(msg, sizeof(msg),
			 "BYE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\nFrom: %s\n"
			 "To: <sip:b@x>\nCall-ID: c\nCSeq: 1 BYE\n\n",
			 bad_froms[i]);
		expect_bad(msg, NULL);
	}
}

static void test_contact_forms(void **state)
{
	(void)state;
	struct sip_msg *m = parse_ok(
		"REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"From: <sip:a@x>;tag=1\nTo: <sip:a@x>\nCall-ID: c\n"
		"CSeq: 2 REGISTER\n"
		"Contact: \"Desk, 1\" <sip:a@192.0.2.1;ob>;q=0.7;expires=3600,"
		" <sip:a@[2001:db8::1]:5070>;q=1.0\n"
		"m: sip:a@h2;expires=0\n"
		"Expires: 7200\n\n");

	assert_int_equal(m->contact_count, 3);
	assert_slice(m->contacts[0].display, "Desk, 1");
	assert_true(m->contacts[0].has_q);
	assert_int_equal(m->contacts[0].q, 700);
	assert_true(m->contacts[0].has_expires);
	assert_int_equal(m->contacts[0].expires, 3600);
	assert_int_equal(m->contacts[1].uri.port, 5070);
	assert_int_equal(m->contacts[1].q, 1000);
	assert_false(m->contacts[1].has_expires);
	assert_int_equal(m->contacts[2].expires, 0);
	assert_true(m->has_expires);
	assert_int_equal(m->expires, 7200);
	sip_msg_unref(m);

	m = parse_ok("REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP h\n"
		     "From: <sip:a@x>;tag=1\nTo: <sip:a@x>\nCall-ID: c\n"
		     "CSeq: 2 REGISTER\nContact: *\nExpires: 0\n\n");
	assert_int_equal(m->contact_count, 1);
	assert_true(m->contacts[0].star);
	sip_msg_unref(m);
}

/* A Contact without <> (an addr-spec): its URI ends at the first ';',
 * ',', '?' or LWS, and what follows are header parameters (§20.10). The
 * same URI in <> must parse to the same parts. */
static void test_contact_addr_spec(void **state)
{
	(void)state;
	struct sip_msg *m = parse_ok(
		"INVITE sip:x SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"From: <sip:a@x>;tag=1\nTo: <sip:a@x>\nCall-ID: c\n"
		"CSeq: 2 INVITE\n"
		"Contact: sip:sipp@127.0.0.1:5061 , <sip:sipp@127.0.0.1:5061>,"
		"sip:b@h;x=1;y, sip:c@h;expires=5,sip:d@[2001:db8::1]:7\n\n");

	assert_int_equal(m->contact_count, 5);
	assert_false(m->contacts[0].bracketed);
	assert_true(m->contacts[1].bracketed);
	assert_slice(m->contacts[0].raw, "sip:sipp@127.0.0.1:5061");
	assert_slice(m->contacts[0].uri.raw, "sip:sipp@127.0.0.1:5061");
	assert_slice(m->contacts[0].uri.user, "sipp");
	assert_slice(m->contacts[0].uri.host, "127.0.0.1");
	assert_int_equal(m->contacts[0].uri.port, 5061);
	assert_int_equal(m->contacts[0].uri.port, m->contacts[1].uri.port);
	assert_int_equal(m->contacts[0].params.len, 0);
	assert_null(m->contacts[0].display.p);
	/* the parameters are the header's, not the URI's */
	assert_slice(m->contacts[2].params, ";x=1;y");
	assert_slice(m->contacts[2].uri.raw, "sip:b@h");
	assert_int_equal(m->contacts[2].uri.params.len, 0);
	assert_true(m->contacts[3].has_expires);
	assert_int_equal(m->contacts[3].expires, 5);
	assert_slice(m->contacts[4].uri.host, "[2001:db8::1]");
	assert_int_equal(m->contacts[4].uri.port, 7);
	sip_msg_unref(m);

	/* a '?' (headers) needs <>; text after the URI is not a parameter */
	expect_bad("INVITE sip:x SIP/2.0\nVia: SIP/2.0/UDP h\n"
		   "From: <sip:a@x>;tag=1\nTo: <sip:a@x>\nCall-ID: c\n"
		   "CSeq: 2 INVITE\nContact: sip:a@h?Subject=x\n\n",
		   NULL);
	expect_bad("INVITE sip:x SIP/2.0\nVia: SIP/2.0/UDP h\n"
		   "From: <sip:a@x>;tag=1\nTo: <sip:a@x>\nCall-ID: c\n"
		   "CSeq: 2 INVITE\nContact: sip:a@h junk\n\n",
		   NULL);
	/* Route needs <> (§20.34) */
	expect_bad("INVITE sip:x SIP/2.0\nVia: SIP/2.0/UDP h\n"
		   "From: <sip:a@x>;tag=1\nTo: <sip:a@x>\nCall-ID: c\n"
		   "CSeq: 2 INVITE\nRoute: sip:p@h;lr\n\n",
		   NULL);
}

static void test_contact_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"Contact: *, <sip:a@x>\n",
		"Contact: *\nContact: <sip:a@x>\n",
		"Contact: <sip:a@x>\nContact: *\n",
		"Contact: <sip:a@x>;q=1.5\n",
		"Contact: <sip:a@x>;q=0.1234\n",
		"Contact: <sip:a@x>;q=2\n",
		"Contact: <sip:a@x>;expires=4294967296\n",
		"Contact: <sip:a@x>;expires=-1\n",
	};
	char msg[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg),
			 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP h\n"
			 "From: <sip:a@x>;tag=1\nTo: <sip:a@x>\nCall-ID: c\n"
			 "CSeq: 2 REGISTER\n%s\n",
			 bad[i]);
		expect_bad(msg, NULL);
	}
}

static void test_routes(void **state)
{
	(void)state;
	struct sip_msg *m = parse_ok(
		"BYE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\n"
		"Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\n"
		"Route: <sip:[2001:db8::5]:5080;transport=tcp;lr>\n"
		"Record-Route: <sip:rr1;lr>;foo=bar\n"
		"From: <sip:a@x>;tag=1\nTo: <sip:b@x>;tag=2\nCall-ID: c\n"
		"CSeq: 3 BYE\n\n");

	assert_int_equal(m->route_count, 3);
	assert_slice(m->routes[0].uri.host, "p1.example.com");
	assert_true(m->routes[0].uri.lr);
	assert_slice(m->routes[2].uri.transport, "tcp");
	assert_int_equal(m->routes[2].uri.port, 5080);
	assert_int_equal(m->record_route_count, 1);
	assert_slice(m->record_routes[0].params, ";foo=bar");
	sip_msg_unref(m);
	/* Route entries are name-addr only (§20.34) */
	expect_bad("BYE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\n"
		   "Route: sip:p1.example.com;lr\n"
		   "From: <sip:a@x>;tag=1\nTo: <sip:b@x>\nCall-ID: c\n"
		   "CSeq: 3 BYE\n\n",
		   "route without <URI>");
}

static void test_scalars(void **state)
{
	(void)state;
	static const struct {
		const char *hdr;
		const char *why;
	} bad[] = {
		{ "CSeq: 2147483648 BYE\n", "bad CSeq" },
		{ "CSeq: 1\n", "bad CSeq" },
		{ "CSeq: x BYE\n", "bad CSeq" },
		{ "CSeq: 1 BYE extra\n", "bad CSeq" },
		{ "CSeq: 1 INVITE\n", "CSeq method does not match" },
		{ "CSeq: 1 BYE\nMax-Forwards: 256\n", "bad Max-Forwards" },
		{ "CSeq: 1 BYE\nMax-Forwards: -1\n", "bad Max-Forwards" },
		{ "CSeq: 1 BYE\nExpires: 4294967296\n", "bad Expires" },
		{ "CSeq: 1 BYE\nContent-Type: text\n", "bad Content-Type" },
		{ "CSeq: 1 BYE\nContent-Type: a/b;c\n", "bad Content-Type" },
		{ "CSeq: 1 BYE\nContent-Length: 1x\n", "bad Content-Length" },
		{ "CSeq: 1 BYE\nCSeq: 2 BYE\n", "header must not repeat" },
		{ "CSeq: 1 BYE\nMax-Forwards: 1\nMax-Forwards: 2\n",
		  "header must not repeat" },
	};
	char msg[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg),
			 "BYE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\n"
			 "From: <sip:a@x>;tag=1\nTo: <sip:b@x>\n"
			 "Call-ID: c\n%s\n",
			 bad[i].hdr);
		expect_bad(msg, bad[i].why);
	}
	/* Call-ID word ["@" word] (§25) */
	expect_bad("BYE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\nFrom: <sip:a@x>\n"
		   "To: <sip:b@x>\nCall-ID: has space\nCSeq: 1 BYE\n\n",
		   "bad Call-ID");
	expect_bad("BYE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\nFrom: <sip:a@x>\n"
		   "To: <sip:b@x>\nCall-ID: a@b@c\nCSeq: 1 BYE\n\n",
		   "bad Call-ID");
}

static void test_missing_mandatory(void **state)
{
	(void)state;
	expect_bad("BYE sip:b@x SIP/2.0\nFrom: <sip:a@x>\nTo: <sip:b@x>\n"
		   "Call-ID: c\nCSeq: 1 BYE\n\n",
		   "missing Via");
	expect_bad("BYE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\nTo: <sip:b@x>\n"
		   "Call-ID: c\nCSeq: 1 BYE\n\n",
		   "missing From");
	expect_bad("BYE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\n"
		   "From: <sip:a@x>\nCall-ID: c\nCSeq: 1 BYE\n\n",
		   "missing To");
	expect_bad("BYE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\nFrom: <sip:a@x>\n"
		   "To: <sip:b@x>\nCSeq: 1 BYE\n\n",
		   "missing Call-ID");
	expect_bad("BYE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\nFrom: <sip:a@x>\n"
		   "To: <sip:b@x>\nCall-ID: c\n\n",
		   "missing CSeq");
}

static void test_folding_and_lists(void **state)
{
	(void)state;
	struct sip_msg *m = parse_ok(
		"INFO sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"From: <sip:a@x>;tag=1\nTo: <sip:b@x>\nCall-ID: c\n"
		"Subject: I know you're there,\n"
		"   pick up the phone\n\t and talk to me!\n"
		"CSeq:\n  7\n  INFO\n"
		"X-Custom  :  one , \"two, three\" , <sip:x,y@z>\n"
		"Allow: INVITE, ACK\nAllow: BYE\n\n");
	const struct sip_hdr *h;
	struct slice v;
	size_t pos = 0;

	h = sip_msg_hdr(m, SIP_HDR_SUBJECT);
	assert_non_null(h);
	assert_slice(h->value, "I know you're there,\r\n   pick up the phone"
			       "\r\n\t and talk to me!");
	assert_int_equal(m->cseq, 7);
	assert_int_equal(m->cseq_method, SIP_METHOD_INFO);
	h = sip_msg_hdr_by_name(m, SLICE_LIT("x-custom"));
	assert_non_null(h);
	assert_slice(h->name, "X-Custom");
	assert_true(sip_hdr_next_value(h->value, &pos, &v, NULL));
	assert_slice(v, "one");
	assert_true(sip_hdr_next_value(h->value, &pos, &v, NULL));
	assert_slice(v, "\"two, three\"");
	assert_true(sip_hdr_next_value(h->value, &pos, &v, NULL));
	assert_slice(v, "<sip:x,y@z>");
	assert_false(sip_hdr_next_value(h->value, &pos, &v, NULL));
	/* the same header on several lines: a chain in order */
	h = sip_msg_hdr(m, SIP_HDR_ALLOW);
	assert_slice(h->value, "INVITE, ACK");
	h = sip_msg_hdr_next(m, h);
	assert_slice(h->value, "BYE");
	assert_null(sip_msg_hdr_next(m, h));
	sip_msg_unref(m);
}

static void test_compact_forms(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		enum sip_hdr_id id;
	} forms[] = {
		{ "i", SIP_HDR_CALL_ID },
		{ "m", SIP_HDR_CONTACT },
		{ "f", SIP_HDR_FROM },
		{ "t", SIP_HDR_TO },
		{ "v", SIP_HDR_VIA },
		{ "l", SIP_HDR_CONTENT_LENGTH },
		{ "c", SIP_HDR_CONTENT_TYPE },
		{ "k", SIP_HDR_SUPPORTED },
		{ "s", SIP_HDR_SUBJECT },
		{ "e", SIP_HDR_CONTENT_ENCODING },
		{ "o", SIP_HDR_EVENT },
		{ "u", SIP_HDR_ALLOW_EVENTS },
		{ "r", SIP_HDR_REFER_TO },
		{ "x", SIP_HDR_SESSION_EXPIRES },
		{ "y", SIP_HDR_IDENTITY },
		{ "b", SIP_HDR_REFERRED_BY },
		{ "a", SIP_HDR_ACCEPT_CONTACT },
		{ "j", SIP_HDR_REJECT_CONTACT },
		{ "d", SIP_HDR_REQUEST_DISPOSITION },
		{ "n", SIP_HDR_IDENTITY_INFO },
		{ "I", SIP_HDR_CALL_ID },
		{ "CALL-id", SIP_HDR_CALL_ID },
		{ "cseq", SIP_HDR_CSEQ },
		{ "www-AUTHENTICATE", SIP_HDR_WWW_AUTHENTICATE },
		{ "X-Unknown", SIP_HDR_OTHER },
		{ "z", SIP_HDR_OTHER },
		{ "Vias", SIP_HDR_OTHER },
		{ "Vi", SIP_HDR_OTHER },
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		assert_int_equal(sip_hdr_lookup(slice_cstr(forms[i].name)),
				 forms[i].id);
	/* every canonical name finds its own id */
	for (unsigned id = 1; id < SIP_HDR_COUNT; id++)
		assert_int_equal(sip_hdr_lookup(sip_hdr_name(id)), id);
}

static void test_framing_dgram(void **state)
{
	(void)state;
	struct sip_msg *m;
	const char *why;

	/* bytes beyond Content-Length are ignored (§18.3) */
	m = parse_ok("BYE sip:b@x SIP/2.0\n" HDRS
		     "CSeq: 1 BYE\nContent-Length: 2\n\nabcdef");
	assert_slice(m->body, "ab");
	assert_int_equal(m->len, strlen(text) - 4);
	sip_msg_unref(m);
	/* no Content-Length: the rest of the datagram */
	m = parse_ok("BYE sip:b@x SIP/2.0\n" HDRS "CSeq: 1 BYE\n\nabcdef");
	assert_slice(m->body, "abcdef");
	assert_false(m->has_content_length);
	sip_msg_unref(m);
	/* a body shorter than Content-Length is an error */
	expect_bad("BYE sip:b@x SIP/2.0\n" HDRS
		   "CSeq: 1 BYE\nContent-Length: 20\n\nabc",
		   "body shorter than Content-Length");
	/* no blank line at all */
	expect_bad("BYE sip:b@x SIP/2.0\n" HDRS "CSeq: 1 BYE\n",
		   "no end of header");
	assert_int_equal(parse(&m,
			       "BYE sip:b@x SIP/2.0\n" HDRS
			       "CSeq: 1 BYE\nl: 99999999999\n\n",
			       SIP_FRAMING_DGRAM, &why),
			 EBADMSG);
}

static void test_framing_stream(void **state)
{
	(void)state;
	struct sip_msg *m = NULL;
	const char *why = NULL;
	size_t n, skip, len;

	n = test_crlf("\n\nBYE sip:b@x SIP/2.0\n" HDRS
		      "CSeq: 1 BYE\nContent-Length: 3\n\nabcOPTIONS",
		      text, sizeof(text));
	assert_int_equal(sip_stream_frame(text, n, NULL, &skip, &len, &why), 0);
	assert_int_equal(skip, 4);
	assert_int_equal(len, n - 4 - 7);
	assert_int_equal(
		sip_msg_parse(&m, text, n, SIP_FRAMING_STREAM, NULL, &why), 0);
	assert_slice(m->body, "abc");
	assert_int_equal(m->len, len);
	sip_msg_unref(m);
	/* every proper prefix is incomplete */
	for (size_t cut = 0; cut < skip + len; cut++) {
		assert_int_equal(sip_msg_parse(&m, text, cut,
					       SIP_FRAMING_STREAM, NULL, &why),
				 ENODATA);
		assert_int_equal(
			sip_stream_frame(text, cut, NULL, &skip, &len, &why),
			ENODATA);
	}
	/* a stream message needs Content-Length */
	n = test_crlf("BYE sip:b@x SIP/2.0\n" HDRS "CSeq: 1 BYE\n\n", text,
		      sizeof(text));
	assert_int_equal(sip_stream_frame(text, n, NULL, &skip, &len, &why),
			 EBADMSG);
	assert_string_equal(why, "Content-Length required on a stream");
	assert_int_equal(
		sip_msg_parse(&m, text, n, SIP_FRAMING_STREAM, NULL, &why),
		EBADMSG);
}

static void test_limits(void **state)
{
	(void)state;
	struct sip_limits lim = { .max_msg_size = 300,
				  .max_headers = 8,
				  .max_header_len = 60 };
	struct sip_msg *m = NULL;
	const char *why = NULL;
	size_t n, skip, len;

	n = test_crlf("BYE sip:b@x SIP/2.0\n" HDRS "CSeq: 1 BYE\n\n", text,
		      sizeof(text));
	assert_int_equal(sip_msg_parse(&m, text, n, 0, &lim, &why), 0);
	m = sip_msg_unref(m);
	lim.max_headers = 4;
	assert_int_equal(sip_msg_parse(&m, text, n, 0, &lim, &why), EMSGSIZE);
	assert_string_equal(why, "too many headers");
	lim.max_headers = 8;
	lim.max_header_len = 40;
	assert_int_equal(sip_msg_parse(&m, text, n, 0, &lim, &why), EMSGSIZE);
	assert_string_equal(why, "header too long");
	lim.max_header_len = 60;
	lim.max_msg_size = 100;
	assert_int_equal(sip_msg_parse(&m, text, n, 0, &lim, &why), EMSGSIZE);
	/* a stream that never ends its header is refused at the limit */
	memset(text, 'a', 200);
	assert_int_equal(sip_stream_frame(text, 200, &lim, &skip, &len, &why),
			 EMSGSIZE);
	assert_null(m);
}

static void test_bad_bytes(void **state)
{
	(void)state;
	struct sip_msg *m = NULL;
	const char *why = NULL;
	size_t n = test_crlf("BYE sip:b@x SIP/2.0\n" HDRS
			     "CSeq: 1 BYE\nX-A: a\n\n",
			     text, sizeof(text));
	char *x = strstr(text, "X-A: a") + 5;

	*x = '\0';
	assert_int_equal(sip_msg_parse(&m, text, n, 0, NULL, &why), EBADMSG);
	assert_string_equal(why, "NUL in header");
	*x = '\r';
	assert_int_equal(sip_msg_parse(&m, text, n, 0, NULL, &why), EBADMSG);
	assert_string_equal(why, "bare CR in header");
	expect_bad("BYE sip:b@x SIP/2.0\n" HDRS "CSeq: 1 BYE\nNoColonHere\n\n",
		   "header without colon");
	expect_bad("BYE sip:b@x SIP/2.0\n  folded-first: x\n" HDRS
		   "CSeq: 1 BYE\n\n",
		   "continuation without header");
	expect_bad("BYE sip:b@x SIP/2.0\n" HDRS "CSeq: 1 BYE\nBad Name: x\n\n",
		   "header without colon");
}

static void test_lf_only(void **state)
{
	(void)state;
	struct sip_msg *m = NULL;
	const char *why = NULL;
	const char *msg = "BYE sip:b@x SIP/2.0\n" HDRS
			  "CSeq: 1 BYE\nContent-Length: 2\n\nhi";

	assert_int_equal(sip_msg_parse(&m, msg, strlen(msg), 0, NULL, &why), 0);
	assert_slice(m->body, "hi");
	assert_slice(m->call_id, "a84b4c76e66710@pc33.example.com");
	sip_msg_unref(m);
}

static void test_many_headers(void **state)
{
	(void)state;
	/* more fields than the parser's stack index takes a second pass */
	char big[20000];
	size_t n = (size_t)snprintf(big, sizeof(big),
				    "BYE sip:b@x SIP/2.0\n" HDRS);
	struct sip_msg *m;

	for (int i = 0; i < 150; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X-H%d: %d\n",
				      i, i);
	snprintf(big + n, sizeof(big) - n,
		 "CSeq: 5 BYE\nl: 0\nRoute: <sip:r;lr>\n\n");
	m = parse_ok(big);
	assert_int_equal(m->hdr_count, 4 + 150 + 3);
	assert_int_equal(m->cseq, 5);
	assert_int_equal(m->route_count, 1);
	assert_slice(sip_msg_hdr_by_name(m, SLICE_LIT("x-h149"))->value, "149");
	assert_true(m->has_content_length);
	sip_msg_unref(m);

	/* Content-Length beyond the stack index is found by a rescan; an
	 * empty value there is an error, not a negative length (fuzzer) */
	n = (size_t)snprintf(big, sizeof(big), "BYE sip:b@x SIP/2.0\n" HDRS);
	for (int i = 0; i < 70; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X-H%d: %d\n",
				      i, i);
	snprintf(big + n, sizeof(big) - n, "CSeq: 5 BYE\nl:\n\n");
	expect_bad(big, "bad Content-Length");
	snprintf(big + n, sizeof(big) - n, "CSeq: 5 BYE\nl: 2\n\nhi");
	m = parse_ok(big);
	assert_slice(m->body, "hi");
	sip_msg_unref(m);
}

static void test_refcount_and_oom(void **state)
{
	(void)state;
	struct sip_msg *m = NULL;
	const char *why = NULL;
	struct duet_alloc_stats before = duet_alloc_stats(), after;
	size_t n = test_crlf("INVITE sip:b@x SIP/2.0\n" HDRS
			     "CSeq: 1 INVITE\nContact: <sip:a@h>\n\n",
			     text, sizeof(text));

	assert_int_equal(sip_msg_parse(&m, text, n, 0, NULL, &why), 0);
	after = duet_alloc_stats();
	/* at most two allocations per parsed message */
	assert_true(after.allocs - before.allocs <= 2);
	assert_ptr_equal(sip_msg_ref(m), m);
	assert_null(sip_msg_unref(m));
	assert_int_equal(m->refs, 1);
	assert_null(sip_msg_unref(m));
	for (uint64_t nth = 1; nth <= 2; nth++) {
		duet_alloc_fail_nth(nth);
		m = NULL;
		assert_int_equal(sip_msg_parse(&m, text, n, 0, NULL, &why),
				 ENOMEM);
		assert_null(m);
	}
	duet_alloc_fail_nth(0);
}

static void test_methods(void **state)
{
	(void)state;
	for (unsigned i = 1; i < SIP_METHOD_COUNT; i++)
		assert_int_equal(sip_method_from(sip_method_name(i)), i);
	assert_int_equal(sip_method_from(SLICE_LIT("Invite")),
			 SIP_METHOD_OTHER);
	assert_int_equal(sip_method_from(SLICE_LIT("IN")), SIP_METHOD_OTHER);
	assert_int_equal(sip_method_from(SLICE_LIT("INVITES")),
			 SIP_METHOD_OTHER);
}

static void test_on_demand(void **state)
{
	(void)state;
	struct sip_addr a;
	struct sip_via v;
	const char *why = NULL;

	assert_int_equal(sip_addr_parse(&a,
					SLICE_LIT("\"Carol\" <sip:c@x>;"
						  "cause=302"),
					&why),
			 0);
	assert_slice(a.display, "Carol");
	assert_slice(a.params, ";cause=302");
	assert_int_equal(sip_addr_parse(&a, SLICE_LIT("<sip:c@x"), &why),
			 EBADMSG);
	assert_int_equal(sip_via_parse(&v,
				       SLICE_LIT("SIP/2.0/WS x.invalid;"
						 "branch=z9hG4bKq"),
				       &why),
			 0);
	assert_slice(v.transport, "WS");
	assert_slice(v.branch, "z9hG4bKq");
}

/* RFC 3262 §7: RSeq and RAck values; option tags in Require/Supported */
static void test_rseq_rack(void **state)
{
	struct sip_rack r;
	struct sip_msg *m;
	uint32_t n = 0;

	(void)state;
	assert_int_equal(sip_rseq_parse(SLICE_LIT(" 988789 "), &n), 0);
	assert_int_equal(n, 988789);
	assert_int_equal(sip_rseq_parse(SLICE_LIT("2147483647"), &n), 0);
	assert_int_equal(n, 2147483647u);
	assert_int_equal(sip_rseq_parse(SLICE_LIT("0"), &n), EBADMSG);
	/* later RSeqs count up past 2**31 - 1, to 2**32 - 1 (RFC 3262 §3) */
	assert_int_equal(sip_rseq_parse(SLICE_LIT("2147483648"), &n), 0);
	assert_int_equal(sip_rseq_parse(SLICE_LIT("4294967295"), &n), 0);
	assert_int_equal(n, 4294967295u);
	assert_int_equal(sip_rseq_parse(SLICE_LIT("4294967296"), &n), EBADMSG);
	assert_int_equal(sip_rseq_parse(SLICE_LIT(""), &n), EBADMSG);
	assert_int_equal(sip_rseq_parse(SLICE_LIT("12a"), &n), EBADMSG);

	assert_int_equal(sip_rack_parse(SLICE_LIT("776656 1 INVITE"), &r), 0);
	assert_int_equal(r.rseq, 776656);
	assert_int_equal(r.cseq, 1);
	assert_slice(r.method, "INVITE");
	assert_int_equal(sip_rack_parse(SLICE_LIT(" 5\t 314159  INVITE "), &r),
			 0);
	assert_int_equal(r.rseq, 5);
	assert_int_equal(r.cseq, 314159);
	assert_slice(r.method, "INVITE");
	assert_int_equal(sip_rack_parse(SLICE_LIT("5 1"), &r), EBADMSG);
	assert_int_equal(sip_rack_parse(SLICE_LIT("0 1 INVITE"), &r), EBADMSG);
	assert_int_equal(sip_rack_parse(SLICE_LIT("5 x INVITE"), &r), EBADMSG);
	assert_int_equal(sip_rack_parse(SLICE_LIT("5 1 INVITE extra"), &r),
			 EBADMSG);
	assert_int_equal(sip_rack_parse(SLICE_LIT(""), &r), EBADMSG);
	/* CSeq's grammar after the RSeq: the Method is a token, the CSeq
	 * number below 2**31, and LWS may fold (§7.3.1) */
	assert_int_equal(sip_rack_parse(SLICE_LIT("5 1 IN@VITE"), &r), EBADMSG);
	assert_int_equal(sip_rack_parse(SLICE_LIT("5 2147483648 INVITE"), &r),
			 EBADMSG);
	assert_int_equal(sip_rack_parse(SLICE_LIT("5 1INVITE"), &r), EBADMSG);
	assert_int_equal(sip_rack_parse(SLICE_LIT("4294967295 2147483647 "
						  "INVITE"),
					&r),
			 0);
	assert_int_equal(r.rseq, 4294967295u);
	assert_int_equal(r.cseq, 2147483647u);
	assert_int_equal(sip_rack_parse(SLICE_LIT("5\r\n 1\r\n\tINVITE"), &r),
			 0);
	assert_int_equal(r.cseq, 1);
	assert_slice(r.method, "INVITE");

	assert_true(
		sip_option_in(SLICE_LIT("timer, 100rel"), SLICE_LIT("100rel")));
	assert_true(sip_option_in(SLICE_LIT(" 100REL "), SLICE_LIT("100rel")));
	assert_false(sip_option_in(SLICE_LIT("100relx, x100rel"),
				   SLICE_LIT("100rel")));
	assert_false(sip_option_in(SLICE_LIT(""), SLICE_LIT("100rel")));
	assert_false(sip_option_in(SLICE_LIT(",,"), SLICE_LIT("100rel")));

	m = parse_ok("SIP/2.0 183 Session Progress\n"
		     "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		     "From: <sip:a@h>;tag=1\nTo: <sip:b@h>;tag=2\n"
		     "Call-ID: c\nCSeq: 1 INVITE\n"
		     "Supported: timer\nk: path, 100rel\n"
		     "Require: precondition\nRSeq: 7\n"
		     "Content-Length: 0\n\n");
	assert_true(sip_msg_has_option(m, SIP_HDR_SUPPORTED, "100rel"));
	assert_true(sip_msg_has_option(m, SIP_HDR_SUPPORTED, "timer"));
	assert_false(sip_msg_has_option(m, SIP_HDR_REQUIRE, "100rel"));
	assert_false(sip_msg_has_option(m, SIP_HDR_UNSUPPORTED, "100rel"));
	assert_int_equal(
		sip_rseq_parse(sip_msg_hdr(m, SIP_HDR_RSEQ)->value, &n), 0);
	assert_int_equal(n, 7);
	sip_msg_unref(m);
}

/* RFC 4028 §4, §5: Session-Expires and Min-SE values; option tags. */
static void test_session_timer_values(void **state)
{
	(void)state;
	enum sip_refresher r = SIP_REFRESHER_UAS;
	uint32_t n = 0;

	assert_int_equal(sip_session_expires_parse(SLICE_LIT("1800"), &n, &r),
			 0);
	assert_int_equal(n, 1800);
	assert_int_equal(r, SIP_REFRESHER_NONE);
	assert_int_equal(sip_session_expires_parse(
				 SLICE_LIT(" 90 ; Refresher = UAC"), &n, &r),
			 0);
	assert_int_equal(n, 90);
	assert_int_equal(r, SIP_REFRESHER_UAC);
	assert_int_equal(sip_session_expires_parse(
				 SLICE_LIT("4000;x=1;refresher=uas;y"), &n, &r),
			 0);
	assert_int_equal(n, 4000);
	assert_int_equal(r, SIP_REFRESHER_UAS);
	/* garbage is refused, *secs untouched */
	n = 7;
	assert_int_equal(sip_session_expires_parse(SLICE_LIT(""), &n, &r),
			 EBADMSG);
	assert_int_equal(sip_session_expires_parse(SLICE_LIT("abc"), &n, &r),
			 EBADMSG);
	assert_int_equal(sip_session_expires_parse(SLICE_LIT("-5"), &n, &r),
			 EBADMSG);
	assert_int_equal(sip_session_expires_parse(
				 SLICE_LIT("90;refresher=b2b"), &n, &r),
			 EBADMSG);
	assert_int_equal(sip_session_expires_parse(SLICE_LIT("90;;a"), &n, &r),
			 EBADMSG);
	assert_int_equal(
		sip_session_expires_parse(SLICE_LIT("99999999999"), &n, &r),
		EBADMSG);
	assert_int_equal(n, 7);
	assert_int_equal(sip_min_se_parse(SLICE_LIT("90"), &n), 0);
	assert_int_equal(n, 90);
	assert_int_equal(sip_min_se_parse(SLICE_LIT(" 120;lr "), &n), 0);
	assert_int_equal(n, 120);
	assert_int_equal(sip_min_se_parse(SLICE_LIT(";1"), &n), EBADMSG);
	assert_int_equal(sip_min_se_parse(SLICE_LIT("1x"), &n), EBADMSG);
}

static void test_option_tags(void **state)
{
	(void)state;
	struct sip_msg *m = parse_ok("INVITE sip:bob@example.org SIP/2.0\n" HDRS
				     "CSeq: 1 INVITE\n"
				     "Supported: 100rel , Timer\n"
				     "k: path\n"
				     "Require: timerx\n"
				     "x: 90;refresher=uac\n"
				     "Content-Length: 0\n\n");
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_SESSION_EXPIRES);

	assert_true(sip_msg_has_option(m, SIP_HDR_SUPPORTED, "timer"));
	assert_true(sip_msg_has_option(m, SIP_HDR_SUPPORTED, "path"));
	assert_false(sip_msg_has_option(m, SIP_HDR_REQUIRE, "timer"));
	assert_false(sip_msg_has_option(m, SIP_HDR_SUPPORTED, "time"));
	assert_non_null(h); /* the compact form "x" */
	sip_msg_unref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_request_basic),
		LEAK_TEST(test_response_basic),
		LEAK_TEST(test_start_line_errors),
		LEAK_TEST(test_unusual_valid_start),
		LEAK_TEST(test_via_fields),
		LEAK_TEST(test_via_errors),
		LEAK_TEST(test_from_to_forms),
		LEAK_TEST(test_from_to_pending),
		LEAK_TEST(test_addr_errors),
		LEAK_TEST(test_contact_forms),
		LEAK_TEST(test_contact_addr_spec),
		LEAK_TEST(test_contact_errors),
		LEAK_TEST(test_routes),
		LEAK_TEST(test_scalars),
		LEAK_TEST(test_missing_mandatory),
		LEAK_TEST(test_folding_and_lists),
		LEAK_TEST(test_compact_forms),
		LEAK_TEST(test_framing_dgram),
		LEAK_TEST(test_framing_stream),
		LEAK_TEST(test_limits),
		LEAK_TEST(test_bad_bytes),
		LEAK_TEST(test_lf_only),
		LEAK_TEST(test_many_headers),
		LEAK_TEST(test_refcount_and_oom),
		LEAK_TEST(test_methods),
		LEAK_TEST(test_on_demand),
		LEAK_TEST(test_rseq_rack),
		LEAK_TEST(test_session_timer_values),
		LEAK_TEST(test_option_tags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
