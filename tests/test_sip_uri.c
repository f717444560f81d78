/* SPDX-License-Identifier: MIT */
/* Tests for the SIP/SIPS/tel URI parser and RFC 3261 §19.1.4 comparison. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "duet/err.h"
#include "duet/sip_uri.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* want == NULL means "absent" (a NULL slice). */
static void assert_slice(struct slice got, const char *want)
{
	char buf[512];

	if (!want) {
		assert_null(got.p);
		assert_int_equal(got.len, 0);
		return;
	}
	assert_non_null(got.p);
	assert_true(got.len < sizeof(buf));
	assert_string_equal(slice_to_cstr(got, buf, sizeof(buf)), want);
	assert_int_equal(got.len, strlen(want));
}

static struct sip_uri parse_ok(const char *text)
{
	struct sip_uri u;
	const char *why = NULL;
	int err = sip_uri_parse(&u, slice_cstr(text), &why);

	if (err)
		fail_msg("\"%s\": %s (%s)", text, duet_errname(err),
			 why ? why : "?");
	assert_null(why);
	return u;
}

/* ---- a rich URI: every field ---- */

static void test_rich_uri(void **state)
{
	static const char text[] =
		"sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr;"
		"maddr=239.255.255.1;ttl=15;user=phone;method=REGISTER;x=y"
		"?subject=project&priority=urgent";
	struct sip_uri u = parse_ok(text);

	(void)state;
	assert_ptr_equal(u.raw.p, text);
	assert_int_equal(u.raw.len, sizeof(text) - 1);
	assert_int_equal(u.scheme, SIP_URI_SIPS);
	assert_slice(u.scheme_text, "sips");
	assert_slice(u.user, "alice");
	assert_slice(u.password, "secret");
	assert_slice(u.host, "[2001:db8::10]");
	assert_int_equal(u.host_kind, SIP_HOST_IPV6);
	assert_int_equal(u.port, 5061);
	assert_slice(u.params, ";transport=tcp;lr;maddr=239.255.255.1;ttl=15;"
			       "user=phone;method=REGISTER;x=y");
	assert_slice(u.headers, "subject=project&priority=urgent");
	assert_slice(u.transport, "tcp");
	assert_slice(u.maddr, "239.255.255.1");
	assert_slice(u.user_param, "phone");
	assert_slice(u.method, "REGISTER");
	assert_slice(u.ttl, "15");
	assert_true(u.lr);
	/* zero-copy: slices point into the text */
	assert_ptr_equal(u.user.p, text + 5);
	assert_ptr_equal(u.host.p, strchr(text, '['));
	assert_int_equal(sip_uri_port_or_default(&u), 5061);
}

/* ---- valid URIs, table-driven ---- */

struct ok_case {
	const char *text;
	enum sip_uri_scheme scheme;
	const char *user, *password, *host;
	enum sip_host_kind kind;
	uint16_t port;
	const char *params, *headers;
};

static const struct ok_case ok_cases[] = {
	{ "sip:bob@biloxi.example.com;transport=tcp", SIP_URI_SIP, "bob", NULL,
	  "biloxi.example.com", SIP_HOST_NAME, 0, ";transport=tcp", NULL },
	{ "sip:biloxi.com", SIP_URI_SIP, NULL, NULL, "biloxi.com",
	  SIP_HOST_NAME, 0, NULL, NULL },
	{ "sip:alice@192.0.2.4:5070", SIP_URI_SIP, "alice", NULL, "192.0.2.4",
	  SIP_HOST_IPV4, 5070, NULL, NULL },
	{ "sip:0.0.0.0", SIP_URI_SIP, NULL, NULL, "0.0.0.0", SIP_HOST_IPV4, 0,
	  NULL, NULL },
	{ "sip:255.255.255.255:65535", SIP_URI_SIP, NULL, NULL,
	  "255.255.255.255", SIP_HOST_IPV4, 65535, NULL, NULL },
	{ "sip:a@h:1", SIP_URI_SIP, "a", NULL, "h", SIP_HOST_NAME, 1, NULL,
	  NULL },
	{ "sip:a@h:05060", SIP_URI_SIP, "a", NULL, "h", SIP_HOST_NAME, 5060,
	  NULL, NULL },
	{ "sip:a@h:40000;lr", SIP_URI_SIP, "a", NULL, "h", SIP_HOST_NAME, 40000,
	  ";lr", NULL },
	/* hostnames: trailing dot, hyphens, digits inside, upper case */
	{ "sip:carol@Chicago.COM.", SIP_URI_SIP, "carol", NULL, "Chicago.COM.",
	  SIP_HOST_NAME, 0, NULL, NULL },
	{ "sip:x@a-b.3com.example", SIP_URI_SIP, "x", NULL, "a-b.3com.example",
	  SIP_HOST_NAME, 0, NULL, NULL },
	{ "sip:x@192.0.2.4.example", SIP_URI_SIP, "x", NULL,
	  "192.0.2.4.example", SIP_HOST_NAME, 0, NULL, NULL },
	{ "sip:localhost", SIP_URI_SIP, NULL, NULL, "localhost", SIP_HOST_NAME,
	  0, NULL, NULL },
	/* toplabel's leading ALPHA is not enforced (as in core/sip_host.c) */
	{ "sip:host.123", SIP_URI_SIP, NULL, NULL, "host.123", SIP_HOST_NAME, 0,
	  NULL, NULL },
	{ "sip:1a.2b", SIP_URI_SIP, NULL, NULL, "1a.2b", SIP_HOST_NAME, 0, NULL,
	  NULL },
	/* 1*3DIGIT octets: leading zeros are decimal */
	{ "sip:010.000.000.001", SIP_URI_SIP, NULL, NULL, "010.000.000.001",
	  SIP_HOST_IPV4, 0, NULL, NULL },
	/* IPv6 references (RFC 5118) */
	{ "sip:[::1]:5060", SIP_URI_SIP, NULL, NULL, "[::1]", SIP_HOST_IPV6,
	  5060, NULL, NULL },
	{ "sip:[::]", SIP_URI_SIP, NULL, NULL, "[::]", SIP_HOST_IPV6, 0, NULL,
	  NULL },
	{ "sip:u@[::ffff:192.0.2.1];lr", SIP_URI_SIP, "u", NULL,
	  "[::ffff:192.0.2.1]", SIP_HOST_IPV6, 0, ";lr", NULL },
	{ "sip:[2001:DB8:0:0:0:0:0:AbCd]", SIP_URI_SIP, NULL, NULL,
	  "[2001:DB8:0:0:0:0:0:AbCd]", SIP_HOST_IPV6, 0, NULL, NULL },
	{ "sip:[1:2:3:4:5:6:7::]", SIP_URI_SIP, NULL, NULL, "[1:2:3:4:5:6:7::]",
	  SIP_HOST_IPV6, 0, NULL, NULL },
	{ "sip:[1:2:3:4:5:6:192.0.2.1]", SIP_URI_SIP, NULL, NULL,
	  "[1:2:3:4:5:6:192.0.2.1]", SIP_HOST_IPV6, 0, NULL, NULL },
	{ "sip:[fe80::]:1", SIP_URI_SIP, NULL, NULL, "[fe80::]", SIP_HOST_IPV6,
	  1, NULL, NULL },
	/* escapes and user-unreserved characters stay as written */
	{ "sip:%61lice@atlanta.com", SIP_URI_SIP, "%61lice", NULL,
	  "atlanta.com", SIP_HOST_NAME, 0, NULL, NULL },
	{ "sip:alice;day=tuesday@atlanta.com", SIP_URI_SIP, "alice;day=tuesday",
	  NULL, "atlanta.com", SIP_HOST_NAME, 0, NULL, NULL },
	{ "sip:&=+$,;?/-_.!~*'()@h", SIP_URI_SIP, "&=+$,;?/-_.!~*'()", NULL,
	  "h", SIP_HOST_NAME, 0, NULL, NULL },
	{ "sip:u:-_.!~*'()&=+$,%20@h", SIP_URI_SIP, "u", "-_.!~*'()&=+$,%20",
	  "h", SIP_HOST_NAME, 0, NULL, NULL },
	{ "sip:u:@h", SIP_URI_SIP, "u", "", "h", SIP_HOST_NAME, 0, NULL, NULL },
	/* the first '@' ends the userinfo, which may hold '?', '=' and ';' */
	{ "sip:h?a=b@c", SIP_URI_SIP, "h?a=b", NULL, "c", SIP_HOST_NAME, 0,
	  NULL, NULL },
	{ "sip:+1-212-555-1212:1234@gateway.com;user=phone", SIP_URI_SIP,
	  "+1-212-555-1212", "1234", "gateway.com", SIP_HOST_NAME, 0,
	  ";user=phone", NULL },
	/* parameters and headers */
	{ "sip:h;a;b=c;[x]=/:&+$;%41=%42", SIP_URI_SIP, NULL, NULL, "h",
	  SIP_HOST_NAME, 0, ";a;b=c;[x]=/:&+$;%41=%42", NULL },
	{ "sip:biloxi.com;method=REGISTER?to=sip:bob%40biloxi.com", SIP_URI_SIP,
	  NULL, NULL, "biloxi.com", SIP_HOST_NAME, 0, ";method=REGISTER",
	  "to=sip:bob%40biloxi.com" },
	{ "sip:h?a=&b=[]/?:+$", SIP_URI_SIP, NULL, NULL, "h", SIP_HOST_NAME, 0,
	  NULL, "a=&b=[]/?:+$" },
	{ "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
	  SIP_URI_SIP, "alice", NULL, "atlanta.com", SIP_HOST_NAME, 0, NULL,
	  "subject=project%20x&priority=urgent" },
	/* scheme names are case-insensitive (RFC 3261 §19.1.4) */
	{ "SIP:bob@h", SIP_URI_SIP, "bob", NULL, "h", SIP_HOST_NAME, 0, NULL,
	  NULL },
	{ "SiPs:h", SIP_URI_SIPS, NULL, NULL, "h", SIP_HOST_NAME, 0, NULL,
	  NULL },
	/* tel (RFC 3966): the number is in user, parameters in params */
	{ "tel:+1-201-555-0123", SIP_URI_TEL, "+1-201-555-0123", NULL, NULL,
	  SIP_HOST_NONE, 0, NULL, NULL },
	{ "tel:+(1)201.555", SIP_URI_TEL, "+(1)201.555", NULL, NULL,
	  SIP_HOST_NONE, 0, NULL, NULL },
	{ "tel:7042;phone-context=example.com", SIP_URI_TEL, "7042", NULL, NULL,
	  SIP_HOST_NONE, 0, ";phone-context=example.com", NULL },
	{ "tel:863-1234;phone-context=+1-914-555", SIP_URI_TEL, "863-1234",
	  NULL, NULL, SIP_HOST_NONE, 0, ";phone-context=+1-914-555", NULL },
	{ "tel:*67#", SIP_URI_TEL, "*67#", NULL, NULL, SIP_HOST_NONE, 0, NULL,
	  NULL },
	{ "tel:5551234", SIP_URI_TEL, "5551234", NULL, NULL, SIP_HOST_NONE, 0,
	  NULL, NULL },
	{ "TEL:+44-20;ext=1234;isub=abc;x-flag", SIP_URI_TEL, "+44-20", NULL,
	  NULL, SIP_HOST_NONE, 0, ";ext=1234;isub=abc;x-flag", NULL },
	/* other schemes are kept whole */
	{ "http://www.example.com/a/b?c=d&e=%20", SIP_URI_OTHER, NULL, NULL,
	  NULL, SIP_HOST_NONE, 0, NULL, NULL },
	{ "urn:ietf:params:xml:ns:pidf", SIP_URI_OTHER, NULL, NULL, NULL,
	  SIP_HOST_NONE, 0, NULL, NULL },
	{ "im:alice@example.com", SIP_URI_OTHER, NULL, NULL, NULL,
	  SIP_HOST_NONE, 0, NULL, NULL },
	{ "mailto:bob@example.org", SIP_URI_OTHER, NULL, NULL, NULL,
	  SIP_HOST_NONE, 0, NULL, NULL },
	{ "http://[2001:db8::1]:8080/", SIP_URI_OTHER, NULL, NULL, NULL,
	  SIP_HOST_NONE, 0, NULL, NULL },
	{ "x-my.scheme+1:opaque", SIP_URI_OTHER, NULL, NULL, NULL,
	  SIP_HOST_NONE, 0, NULL, NULL },
};

static bool slice_is(struct slice got, const char *want)
{
	if (!want)
		return got.p == NULL && got.len == 0;
	return got.p && slice_eq_cstr(got, want);
}

/* A quick verdict, so a failing row is named before the asserts run. */
static bool ok_case_matches(const struct ok_case *c, const struct sip_uri *u)
{
	return u->scheme == c->scheme && slice_is(u->user, c->user) &&
	       slice_is(u->password, c->password) &&
	       slice_is(u->host, c->host) && u->host_kind == c->kind &&
	       u->port == c->port && slice_is(u->params, c->params) &&
	       slice_is(u->headers, c->headers);
}

static void test_valid_table(void **state)
{
	(void)state;
	for (size_t k = 0; k < ARRAY_LEN(ok_cases); k++) {
		const struct ok_case *c = &ok_cases[k];
		struct sip_uri u = parse_ok(c->text);
		size_t colon = (size_t)(strchr(c->text, ':') - c->text);

		if (!ok_case_matches(c, &u))
			print_message("ok_cases[%zu]: %s\n", k, c->text);
		assert_ptr_equal(u.raw.p, c->text);
		assert_int_equal(u.raw.len, strlen(c->text));
		assert_int_equal(u.scheme, c->scheme);
		assert_ptr_equal(u.scheme_text.p, c->text);
		assert_int_equal(u.scheme_text.len, colon);
		assert_slice(u.user, c->user);
		assert_slice(u.password, c->password);
		assert_slice(u.host, c->host);
		assert_int_equal(u.host_kind, c->kind);
		assert_int_equal(u.port, c->port);
		assert_slice(u.params, c->params);
		assert_slice(u.headers, c->headers);
	}
}

/* ---- well-known parameters ---- */

static void test_known_params(void **state)
{
	struct sip_uri u;

	(void)state;
	u = parse_ok("sip:h;TRANSPORT=UDP;Maddr=[::1];TTL=0;Method=INVITE;LR");
	assert_slice(u.transport, "UDP");
	assert_slice(u.maddr, "[::1]");
	assert_slice(u.ttl, "0");
	assert_slice(u.method, "INVITE");
	assert_slice(u.user_param, NULL);
	assert_true(u.lr);

	u = parse_ok("sip:h;lr=on;maddr=proxy.example.com;ttl=255");
	assert_true(u.lr);
	assert_slice(u.maddr, "proxy.example.com");
	assert_slice(u.ttl, "255");
	assert_slice(u.transport, NULL);
	assert_slice(u.method, NULL);

	/* look-alike names are ordinary parameters */
	u = parse_ok("sip:h;lrx;transports=tcp;usr=ip;xttl=3");
	assert_false(u.lr);
	assert_slice(u.transport, NULL);
	assert_slice(u.user_param, NULL);
	assert_slice(u.ttl, NULL);

	u = parse_ok("sip:h");
	assert_false(u.lr);
	assert_slice(u.transport, NULL);
	assert_slice(u.maddr, NULL);
	assert_slice(u.ttl, NULL);
	assert_slice(u.method, NULL);
	assert_slice(u.user_param, NULL);
}

/* ---- errors, table-driven: every one is EBADMSG with a reason ---- */

struct bad_case {
	const char *text;
	const char *why;
};

static const struct bad_case bad_cases[] = {
	/* scheme */
	{ "", "bad scheme" },
	{ "bob@biloxi.com", "bad scheme" },
	{ ":bob@h", "bad scheme" },
	{ "1sip:h", "bad scheme" },
	{ "si p:h", "whitespace or control character" },
	{ "sip", "bad scheme" },
	/* forbidden bytes anywhere */
	{ "sip:bob@biloxi.com ", "whitespace or control character" },
	{ "sip:bob @biloxi.com", "whitespace or control character" },
	{ "sip:bob@biloxi.com;transport=tcp\r\n",
	  "whitespace or control character" },
	{ "sip:b\tob@h", "whitespace or control character" },
	{ "sip:bob@h\x01", "whitespace or control character" },
	{ "sip:bob@h\x7f", "whitespace or control character" },
	{ "sip:al\xc3\xa9@h", "non-ASCII byte" },
	{ "sip:bob@h\xff", "non-ASCII byte" },
	{ "sip:<bob@h>", "forbidden character" },
	{ "sip:bob@h>", "forbidden character" },
	{ "sip:bob@h;x=\"y\"", "forbidden character" },
	{ "sip:bob@h?subject=<x>", "forbidden character" },
	/* escapes */
	{ "sip:%4@h", "bad escape" },
	{ "sip:%GZ@h", "bad escape" },
	{ "sip:bob%@h", "bad escape" },
	{ "sip:u:p%1@h", "bad escape" },
	{ "sip:h;x=%zz", "bad escape" },
	{ "sip:h;%4", "bad escape" },
	{ "sip:h?a=%", "bad escape" },
	{ "sip:h%41", "bad escape" },
	/* userinfo */
	{ "sip:@h", "empty user" },
	{ "sip::pw@h", "empty user" },
	{ "sip:[bob]@h", "bad user" },
	{ "sip:u:p;q@h", "bad password" },
	{ "sip:u:p:q@h", "bad password" },
	/* host */
	{ "sip:", "missing host" },
	{ "sip:bob@", "missing host" },
	{ "sip:bob@;lr", "missing host" },
	{ "sip:bob@:5060", "missing host" },
	{ "sip:a@b@c", "bad host" },
	{ "sip:-h.com", "bad host" },
	{ "sip:h-.com", "bad host" },
	{ "sip:a..com", "bad host" },
	{ "sip:.a.com", "bad host" },
	{ "sip:a.-b.com", "bad host" },
	{ "sip:a_b.com", "bad host" },
	{ "sip:h/path", "bad host" },
	/* IPv4 */
	{ "sip:256.1.1.1", "bad IPv4 address" },
	{ "sip:1.2.3.256", "bad IPv4 address" },
	{ "sip:999.1.1.1", "bad IPv4 address" },
	{ "sip:1.2.3", "bad IPv4 address" },
	{ "sip:1.2.3.4.5", "bad IPv4 address" },
	{ "sip:1.2.3.4.", "bad IPv4 address" },
	{ "sip:1..2.3", "bad IPv4 address" },
	{ "sip:1234.1.1.1", "bad IPv4 address" },
	{ "sip:12345", "bad IPv4 address" },
	/* IPv6 */
	{ "sip:[:::]", "bad IPv6 reference" },
	{ "sip:[1:::2]", "bad IPv6 reference" },
	{ "sip:[1::2::3]", "bad IPv6 reference" },
	{ "sip:[1:2:3:4:5:6:7:8:9]", "bad IPv6 reference" },
	{ "sip:[1:2:3:4:5:6:7]", "bad IPv6 reference" },
	{ "sip:[1:2:3:4:5:6:7::8]", "bad IPv6 reference" },
	{ "sip:[12345::]", "bad IPv6 reference" },
	{ "sip:[:1::]", "bad IPv6 reference" },
	{ "sip:[1::2:]", "bad IPv6 reference" },
	{ "sip:[g::1]", "bad IPv6 reference" },
	{ "sip:[::1", "bad IPv6 reference" },
	{ "sip:[]", "bad IPv6 reference" },
	{ "sip:[1.2.3.4]", "bad IPv6 reference" },
	{ "sip:[::ffff:1.2.3]", "bad IPv6 reference" },
	{ "sip:[::ffff:1.2.3.256]", "bad IPv6 reference" },
	{ "sip:[1:2:3:4:5:6:7:1.2.3.4]", "bad IPv6 reference" },
	{ "sip:[::1.2.3.4:5]", "bad IPv6 reference" },
	{ "sip:[::1%25eth0]", "bad IPv6 reference" },
	{ "sip:2001:db8::1", "IPv6 address without brackets" },
	{ "sip:bob@fe80::1", "IPv6 address without brackets" },
	{ "sip:::1;lr", "IPv6 address without brackets" },
	/* port */
	{ "sip:h:65536", "bad port" },
	{ "sip:h:99999;lr", "bad port" },
	{ "sip:h:00000", "bad port" },
	{ "sip:h:99999999999999999999", "bad port" },
	{ "sip:h:0", "bad port" },
	{ "sip:h:00", "bad port" },
	{ "sip:h:abc", "bad port" },
	{ "sip:h:", "bad port" },
	{ "sip:h:50a", "bad port" },
	{ "sip:h:5060:", "bad port" },
	{ "sip:[::1]:", "bad port" },
	{ "sip:h: 5060", "whitespace or control character" },
	/* parameters */
	{ "sip:h;", "empty parameter name" },
	{ "sip:h;;lr", "empty parameter name" },
	{ "sip:h;=x", "empty parameter name" },
	{ "sip:h;x=", "empty parameter value" },
	{ "sip:h;x=;y", "empty parameter value" },
	{ "sip:h;x=y=z", "bad parameter" },
	{ "sip:h;a,b", "bad parameter" },
	{ "sip:h;transport", "missing parameter value" },
	{ "sip:h;transport=tcp;Transport=udp", "duplicate parameter" },
	{ "sip:h;lr;lr", "duplicate parameter" },
	{ "sip:h;ttl=256", "bad parameter value" },
	{ "sip:h;ttl=1000", "bad parameter value" },
	{ "sip:h;ttl=x", "bad parameter value" },
	{ "sip:h;maddr=bad..host", "bad parameter value" },
	{ "sip:h;maddr=1.2.3.999", "bad parameter value" },
	{ "sip:h;transport=t[c]p", "bad parameter value" },
	{ "sip:h;method=[x]", "bad parameter value" },
	/* headers */
	{ "sip:h?", "empty header name" },
	{ "sip:h?=x", "empty header name" },
	{ "sip:h?a=b&", "empty header name" },
	{ "sip:h?a", "bad header" },
	{ "sip:h?a=b&c", "bad header" },
	{ "sip:h?a=b=c", "bad header" },
	{ "sip:h?a=b;c", "bad header" },
	/* tel */
	{ "tel:", "bad telephone number" },
	{ "tel:+", "bad telephone number" },
	{ "tel:+-.()", "bad telephone number" },
	{ "tel:-", "bad telephone number" },
	{ "tel:+1 212", "whitespace or control character" },
	{ "tel:+1a", "bad telephone number" },
	{ "tel:+1;", "empty parameter name" },
	{ "tel:+1;a_b=c", "bad telephone number" },
	{ "tel:+1;ext=", "empty parameter value" },
	{ "tel:+1?x=y", "bad telephone number" },
	{ "tel:+1@h", "bad telephone number" },
	/* other schemes */
	{ "http:", "bad URI" },
	{ "http://example.com/a b", "whitespace or control character" },
	{ "http://example.com/<a>", "forbidden character" },
	{ "urn:a\"b", "forbidden character" },
	{ "http://example.com/#frag", "bad URI" },
	{ "im:%zz", "bad escape" },
	{ "im:caf\xc3\xa9", "non-ASCII byte" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t k = 0; k < ARRAY_LEN(bad_cases); k++) {
		const struct bad_case *c = &bad_cases[k];
		struct sip_uri u;
		const char *why = NULL;

		int err;

		memset(&u, 0xa5, sizeof(u));
		err = sip_uri_parse(&u, slice_cstr(c->text), &why);
		if (err != EBADMSG || !why || strcmp(why, c->why) != 0)
			fail_msg("bad_cases[%zu] \"%s\": got %s \"%s\", want "
				 "EBADMSG \"%s\"",
				 k, c->text, duet_errname(err),
				 why ? why : "(null)", c->why);
		/* *uri is untouched on failure */
		for (size_t b = 0; b < sizeof(u); b++)
			assert_int_equal(((unsigned char *)&u)[b], 0xa5);
		/* why may be NULL */
		assert_int_equal(sip_uri_parse(&u, slice_cstr(c->text), NULL),
				 EBADMSG);
	}
}

static void test_bad_arguments(void **state)
{
	struct sip_uri u;
	const char *why = NULL;

	(void)state;
	assert_int_equal(sip_uri_parse(NULL, SLICE_LIT("sip:h"), &why), EINVAL);
	assert_int_equal(sip_uri_parse(&u, slice_make(NULL, 3), &why), EINVAL);
	assert_int_equal(sip_uri_parse(&u, SLICE_NULL, &why), EBADMSG);
	assert_string_equal(why, "bad scheme");
	/* an embedded NUL is a control character, not an end */
	assert_int_equal(sip_uri_parse(&u, slice_make("sip:a\0b@h", 9), &why),
			 EBADMSG);
	assert_string_equal(why, "whitespace or control character");
}

/* The parser reads only inside the slice: parse a prefix of a longer text. */
static void test_slice_bounds(void **state)
{
	static const char text[] = "sip:bob@biloxi.com;lr?a=b";
	struct sip_uri u;
	const char *why = NULL;

	(void)state;
	assert_int_equal(sip_uri_parse(&u, slice_make(text, 18), &why), 0);
	assert_slice(u.host, "biloxi.com");
	assert_slice(u.params, NULL);
	assert_false(u.lr);
	assert_int_equal(sip_uri_parse(&u, slice_make(text, 21), &why), 0);
	assert_slice(u.params, ";lr");
	assert_true(u.lr);
	assert_slice(u.headers, NULL);
	assert_int_equal(sip_uri_parse(&u, slice_make(text, 22), &why),
			 EBADMSG);
	assert_string_equal(why, "empty header name");
}

/*
 * Every prefix and every one-byte corruption of every table entry, each from
 * an exact-size heap copy (no NUL after it, so a sanitizer catches any read
 * past the end): the result is always 0 or EBADMSG with a reason, the input
 * is never written, and a successful parse spans the whole text.
 */
static void check_robust(const char *src, size_t n)
{
	char *buf = malloc(n ? n : 1);
	struct sip_uri u;
	const char *why = NULL;
	int err;

	assert_non_null(buf);
	memcpy(buf, src, n);
	err = sip_uri_parse(&u, slice_make(buf, n), &why);
	assert_memory_equal(buf, src, n);
	if (err) {
		assert_int_equal(err, EBADMSG);
		assert_non_null(why);
	} else {
		assert_ptr_equal(u.raw.p, buf);
		assert_int_equal(u.raw.len, n);
		if (!sip_uri_equal(&u, &u))
			fail_msg("\"%.*s\" is not equal to itself", (int)n,
				 src);
	}
	free(buf);
}

static void test_robust(void **state)
{
	static const char bytes[] = {
		'\0', ' ', '%', '@', ':', ';', '?', '=',
		'&',  '[', ']', '.', '-', 'A', '0', '\x80'
	};
	char tmp[256];

	(void)state;
	for (size_t k = 0; k < ARRAY_LEN(ok_cases) + ARRAY_LEN(bad_cases);
	     k++) {
		const char *t =
			k < ARRAY_LEN(ok_cases)
				? ok_cases[k].text
				: bad_cases[k - ARRAY_LEN(ok_cases)].text;
		size_t n = strlen(t);

		assert_true(n < sizeof(tmp));
		for (size_t len = 0; len <= n; len++)
			check_robust(t, len);
		for (size_t pos = 0; pos < n; pos++) {
			for (size_t b = 0; b < sizeof(bytes); b++) {
				memcpy(tmp, t, n);
				tmp[pos] = bytes[b];
				check_robust(tmp, n);
			}
		}
	}
}

/* ---- sip_uri_param ---- */

static void test_param_lookup(void **state)
{
	struct sip_uri u = parse_ok(
		"sip:h;transport=tcp;lr;X-Flag;foo=Bar;maddr=[::1];e=%41");
	struct slice v = SLICE_LIT("untouched");

	(void)state;
	assert_true(sip_uri_param(&u, SLICE_LIT("transport"), &v));
	assert_slice(v, "tcp");
	assert_true(sip_uri_param(&u, SLICE_LIT("TRANSPORT"), &v));
	assert_slice(v, "tcp");
	assert_true(sip_uri_param(&u, SLICE_LIT("lr"), &v));
	assert_non_null(v.p);
	assert_int_equal(v.len, 0);
	assert_true(sip_uri_param(&u, SLICE_LIT("x-flag"), &v));
	assert_non_null(v.p);
	assert_int_equal(v.len, 0);
	assert_true(sip_uri_param(&u, SLICE_LIT("foo"), &v));
	assert_slice(v, "Bar");
	assert_true(sip_uri_param(&u, SLICE_LIT("maddr"), &v));
	assert_slice(v, "[::1]");
	assert_true(sip_uri_param(&u, SLICE_LIT("e"), &v));
	assert_slice(v, "%41"); /* values stay escaped */
	assert_true(sip_uri_param(&u, SLICE_LIT("foo"), NULL));

	v = SLICE_LIT("untouched");
	assert_false(sip_uri_param(&u, SLICE_LIT("trans"), &v));
	assert_false(sip_uri_param(&u, SLICE_LIT("transport=tcp"), &v));
	assert_false(sip_uri_param(&u, SLICE_LIT("l"), &v));
	assert_false(sip_uri_param(&u, SLICE_LIT("ttl"), &v));
	assert_false(sip_uri_param(&u, SLICE_LIT(""), &v));
	assert_slice(v, "untouched");

	u = parse_ok("sip:h");
	assert_false(sip_uri_param(&u, SLICE_LIT("lr"), &v));
	assert_false(sip_uri_param(NULL, SLICE_LIT("lr"), &v));

	/* the first of repeated parameters wins */
	u = parse_ok("sip:h;x=1;x=2");
	assert_true(sip_uri_param(&u, SLICE_LIT("x"), &v));
	assert_slice(v, "1");

	/* tel parameters */
	u = parse_ok("tel:863-1234;phone-context=+1-914-555;ext=22;isdn");
	assert_true(sip_uri_param(&u, SLICE_LIT("Phone-Context"), &v));
	assert_slice(v, "+1-914-555");
	assert_true(sip_uri_param(&u, SLICE_LIT("ext"), &v));
	assert_slice(v, "22");
	assert_true(sip_uri_param(&u, SLICE_LIT("isdn"), &v));
	assert_int_equal(v.len, 0);
	assert_false(sip_uri_param(&u, SLICE_LIT("isub"), &v));
}

/* ---- sip_uri_equal ---- */

struct eq_case {
	const char *a, *b;
	bool equal;
};

/* RFC 3261 §19.1.4, the example sets. */
static const struct eq_case rfc_eq_cases[] = {
	/* equivalent */
	{ "sip:%61lice@atlanta.com;transport=TCP",
	  "sip:alice@AtLanTa.CoM;Transport=tcp", true },
	{ "sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", true },
	{ "sip:carol@chicago.com", "sip:carol@chicago.com;security=on", true },
	{ "sip:carol@chicago.com;newparam=5",
	  "sip:carol@chicago.com;security=on", true },
	{ "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi."
	  "com",
	  "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi."
	  "com",
	  true },
	{ "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
	  "sip:alice@atlanta.com?priority=urgent&subject=project%20x", true },
	/* not equivalent */
	{ "SIP:ALICE@AtLanTa.CoM;Transport=udp",
	  "sip:alice@AtLanTa.CoM;Transport=UDP", false }, /* user differs */
	{ "sip:bob@biloxi.com", "sip:bob@biloxi.com:5060", false },
	{ "sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp", false },
	{ "sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp",
	  false },
	{ "sip:carol@chicago.com",
	  "sip:carol@chicago.com?Subject=next%20meeting", false },
	{ "sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4", false },
	/* equality is not transitive */
	{ "sip:carol@chicago.com", "sip:carol@chicago.com;security=off", true },
	{ "sip:carol@chicago.com;security=on",
	  "sip:carol@chicago.com;security=off", false },
};

static const struct eq_case more_eq_cases[] = {
	/* scheme */
	{ "sip:alice@atlanta.com", "sips:alice@atlanta.com", false },
	{ "SIPS:alice@atlanta.com", "sips:alice@atlanta.com", true },
	{ "sip:alice@atlanta.com", "tel:+1", false },
	/* userinfo: case-sensitive, escapes of unreserved characters decoded */
	{ "sip:%41lice@h", "sip:Alice@h", true },
	{ "sip:%41lice@h", "sip:alice@h", false },
	{ "sip:alic%65@h", "sip:alic%45@h", false },
	{ "sip:a%2db@h", "sip:a-b@h", true },
	{ "sip:a%3bb@h", "sip:a%3Bb@h", true },
	{ "sip:a%3bb@h", "sip:a;b@h", false }, /* escaped reserved char */
	{ "sip:a%2Fb@h", "sip:a/b@h", false },
	{ "sip:alice@h", "sip:h", false },
	{ "sip:alice@h", "sip:alicex@h", false },
	{ "sip:alice:pw@h", "sip:alice:pw@h", true },
	{ "sip:alice:pw@h", "sip:alice:PW@h", false },
	{ "sip:alice:pw@h", "sip:alice@h", false },
	{ "sip:alice:@h", "sip:alice@h", false },
	{ "sip:alice:%70w@h", "sip:alice:pw@h", true },
	/* host */
	{ "sip:h.example.com", "sip:H.EXAMPLE.COM", true },
	{ "sip:h.example.com", "sip:h.example.com.", false },
	{ "sip:192.0.2.4", "sip:192.0.2.4", true },
	{ "sip:192.0.2.4", "sip:192.0.2.5", false },
	{ "sip:10.0.0.1", "sip:010.000.000.001", true },
	{ "sip:[::1]", "sip:[0:0::1]", true },
	{ "sip:[::1]", "sip:[0:0:0:0:0:0:0:1]", true },
	{ "sip:[2001:DB8::A]", "sip:[2001:db8:0::a]", true },
	{ "sip:[::ffff:192.0.2.1]", "sip:[::FFFF:C000:201]", true },
	{ "sip:[::1]", "sip:[::2]", false },
	{ "sip:[1::]", "sip:[::1]", false },
	{ "sip:[::ffff:192.0.2.1]", "sip:192.0.2.1", false },
	/* port: explicit never equals absent, even the default */
	{ "sip:h:5060", "sip:h:5060", true },
	{ "sip:h:5060", "sip:h:05060", true },
	{ "sip:h:5060", "sip:h:5061", false },
	{ "sips:h", "sips:h:5061", false },
	/* parameters compared whenever one side has them */
	{ "sip:h;user=phone", "sip:h", false },
	{ "sip:h;user=phone", "sip:h;user=ip", false },
	{ "sip:h;user=phone", "sip:h;USER=PHONE", true },
	{ "sip:h;ttl=15", "sip:h", false },
	{ "sip:h;ttl=15", "sip:h;ttl=16", false },
	{ "sip:h;method=INVITE", "sip:h", false },
	{ "sip:h;method=INVITE", "sip:h;method=BYE", false },
	{ "sip:h;maddr=239.255.255.1", "sip:h", false },
	{ "sip:h;maddr=239.255.255.1", "sip:h;MADDR=239.255.255.1", true },
	{ "sip:h;maddr=a.example", "sip:h;maddr=b.example", false },
	{ "sip:h;transport=tcp", "sip:h;transport=tls", false },
	{ "sip:h;transport=%74cp", "sip:h;transport=tcp", true },
	/* other parameters only when both have them */
	{ "sip:h;lr", "sip:h", true },
	{ "sip:h;lr", "sip:h;lr", true },
	{ "sip:h;lr", "sip:h;lr=on", false },
	{ "sip:h;x=1;y=2", "sip:h;y=2;x=1", true },
	{ "sip:h;x=1;y=2", "sip:h;y=3", false },
	{ "sip:h;x=abc", "sip:h;X=ABC", true },
	{ "sip:h;x=%41", "sip:h;x=a", true },
	{ "sip:h;x=a;p=1", "sip:h;y=b;q=2", true },
	/* a repeated parameter: the first occurrence counts */
	{ "sip:h;x=1;x=2", "sip:h;x=1", true },
	{ "sip:h;x=1;x=2", "sip:h;X=2", false },
	/* headers: a set, never ignored */
	{ "sip:h?a=1&b=2", "sip:h?b=2&a=1", true },
	{ "sip:h?a=1&b=2", "sip:h?a=1", false },
	{ "sip:h?a=1", "sip:h?a=2", false },
	{ "sip:h?a=1", "sip:h?A=1", true },
	{ "sip:h?a=x%20y", "sip:h?a=x%20Y", true },
	{ "sip:h?a=1&a=1", "sip:h?a=1", false },
	{ "sip:h?a=1&a=1&b=2", "sip:h?a=1&b=2&b=2", false },
	{ "sip:h?a=1&b=2&a=1", "sip:h?a=1&a=1&b=2", true },
	{ "sip:h?a=", "sip:h", false },
	{ "sip:h?a=", "sip:h?a=", true },
	{ "sip:biloxi.com?to=sip:bob%40biloxi.com",
	  "sip:biloxi.com?TO=sip:bob%40biloxi.com", true },
	{ "sip:h?to=a%40b", "sip:h?to=a%2540b", false },
	/* tel (RFC 3966 §4) */
	{ "tel:+1-201-555-0123", "tel:+12015550123", true },
	{ "tel:+1(201)555.0123", "tel:+1-201-555-0123", true },
	{ "tel:+12015550123", "tel:+12015550124", false },
	{ "tel:+12015550123", "tel:12015550123;phone-context=+1", false },
	{ "tel:12015550123", "tel:+12015550123", false },
	{ "tel:7042;phone-context=example.com",
	  "tel:7042;PHONE-CONTEXT=EXAMPLE.COM", true },
	{ "tel:7042;phone-context=example.com",
	  "tel:7042;phone-context=example.net", false },
	{ "tel:863-1234;phone-context=+1-914-555",
	  "tel:8631234;phone-context=+1914555", true },
	{ "tel:7042;phone-context=a-b.com", "tel:7042;phone-context=ab.com",
	  false },
	{ "tel:+1;ext=1-2", "tel:+1;ext=12", true },
	{ "tel:+1;ext=12", "tel:+1;ext=13", false },
	{ "tel:+1;a=1;b=2", "tel:+1;b=2;a=1", true },
	{ "tel:+1;a=1", "tel:+1", false }, /* every parameter counts */
	{ "tel:+1;a=1", "tel:+1;a=2", false },
	{ "tel:*67#ab", "tel:*67#AB", true },
	/* other schemes: byte-exact apart from the scheme name */
	{ "http://example.com/a", "http://example.com/a", true },
	{ "HTTP://example.com/a", "http://example.com/a", true },
	{ "http://example.com/a", "http://EXAMPLE.com/a", false },
	{ "http://example.com/a", "https://example.com/a", false },
	{ "urn:a:b", "urn:a:b:", false },
	{ "im:alice@example.com", "sip:alice@example.com", false },
};

static void check_eq_table(const struct eq_case *cases, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct sip_uri a = parse_ok(cases[k].a);
		struct sip_uri b = parse_ok(cases[k].b);

		if (sip_uri_equal(&a, &b) != cases[k].equal ||
		    sip_uri_equal(&b, &a) != cases[k].equal)
			fail_msg("\"%s\" %s \"%s\" expected", cases[k].a,
				 cases[k].equal ? "==" : "!=", cases[k].b);
		assert_true(sip_uri_equal(&a, &a));
		assert_true(sip_uri_equal(&b, &b));
	}
}

static void test_equal_rfc3261(void **state)
{
	(void)state;
	check_eq_table(rfc_eq_cases, ARRAY_LEN(rfc_eq_cases));
}

static void test_equal_more(void **state)
{
	(void)state;
	check_eq_table(more_eq_cases, ARRAY_LEN(more_eq_cases));
}

/* Every valid table URI equals itself parsed from another buffer. */
static void test_equal_reflexive(void **state)
{
	char copy[256];

	(void)state;
	for (size_t k = 0; k < ARRAY_LEN(ok_cases); k++) {
		struct sip_uri a = parse_ok(ok_cases[k].text), b;

		strcpy(copy, ok_cases[k].text);
		b = parse_ok(copy);
		assert_true(sip_uri_equal(&a, &b));
	}
	assert_false(sip_uri_equal(NULL, NULL));
}

/* ---- sip_uri_port_or_default ---- */

static void test_port_default(void **state)
{
	static const struct {
		const char *text;
		uint16_t port;
	} cases[] = {
		{ "sip:h", 5060 },	  { "sips:h", 5061 },
		{ "SIPS:h", 5061 },	  { "sip:h:5061", 5061 },
		{ "sips:h:5060", 5060 },  { "sip:[::1]:8080", 8080 },
		{ "sip:h:65535", 65535 }, { "tel:+1", 5060 },
	};

	(void)state;
	for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
		struct sip_uri u = parse_ok(cases[k].text);

		assert_int_equal(sip_uri_port_or_default(&u), cases[k].port);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rich_uri),
		cmocka_unit_test(test_valid_table),
		cmocka_unit_test(test_known_params),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_slice_bounds),
		cmocka_unit_test(test_robust),
		cmocka_unit_test(test_param_lookup),
		cmocka_unit_test(test_equal_rfc3261),
		cmocka_unit_test(test_equal_more),
		cmocka_unit_test(test_equal_reflexive),
		cmocka_unit_test(test_port_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
