/* SPDX-License-Identifier: MIT */
/* Unit tests of the 400 for requests the parser refuses (RFC 3261
 * §8.2.6.2, RFC 4475 §3.1.2): what a sender gets back, and what is only
 * dropped. */
#include "test_util.h"

#include <errno.h>

#include "duet/sip_bad.h"
#include "duet/sip_msg.h"

static char in[4096];

/* Build the 400 for msg (LF line ends made CRLF); 0 or the error. The
 * answer is parsed back into *out when built. */
static int answer(const char *msg, const char *why, const char *tag,
		  struct sip_msg **out)
{
	struct sip_writer w;
	size_t n = test_crlf(msg, in, sizeof(in));
	const char *perr = NULL;
	int err;

	sip_writer_init(&w, 0);
	err = sip_bad_request_reply(in, n, why, slice_cstr(tag), &w);
	if (!err)
		assert_int_equal(sip_msg_parse(out, w.buf, w.len,
					       SIP_FRAMING_DGRAM, NULL, &perr),
				 0);
	sip_writer_free(&w);
	return err;
}

static const char *hdr(const struct sip_msg *m, enum sip_hdr_id id, char *buf,
		       size_t cap)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);

	assert_non_null(h);
	return slice_to_cstr(h->value, buf, cap);
}

/* A bad Content-Length (the parser's refusal): everything a response echoes is
 * there, so the sender gets 400 with its Vias in order, a To tag of
 * ours, and why in a Warning. */
static void test_answered(void **state)
{
	struct sip_msg *m = NULL;
	char v[256];

	(void)state;
	assert_int_equal(
		answer("INVITE sip:bob@example.com SIP/2.0\n"
		       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa1\n"
		       "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKa0\n"
		       "From: <sip:alice@example.com>;tag=f1\n"
		       "To: \"Bob\" <sip:bob@example.com>\n"
		       "Call-ID: bad-1@192.0.2.1\n"
		       "CSeq: 1 INVITE\n"
		       "Max-Forwards: 70\n"
		       "Content-Length: x\n\n",
		       "bad \"Content-Length\"", "dT42", &m),
		0);
	assert_false(m->is_request);
	assert_int_equal(m->status, 400);
	assert_int_equal(m->via_count, 2);
	assert_string_equal(hdr(m, SIP_HDR_VIA, v, sizeof(v)),
			    "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa1");
	assert_string_equal(hdr(m, SIP_HDR_TO, v, sizeof(v)),
			    "\"Bob\" <sip:bob@example.com>;tag=dT42");
	assert_string_equal(hdr(m, SIP_HDR_FROM, v, sizeof(v)),
			    "<sip:alice@example.com>;tag=f1");
	assert_string_equal(hdr(m, SIP_HDR_CALL_ID, v, sizeof(v)),
			    "bad-1@192.0.2.1");
	assert_string_equal(hdr(m, SIP_HDR_CSEQ, v, sizeof(v)), "1 INVITE");
	assert_string_equal(hdr(m, SIP_HDR_WARNING, v, sizeof(v)),
			    "399 duet \"bad 'Content-Length'\"");
	assert_int_equal(m->body.len, 0);
	sip_msg_unref(m);
}

/* Compact forms are found; a To that has its tag keeps it alone. */
static void test_compact_and_tag(void **state)
{
	struct sip_msg *m = NULL;
	char v[256];

	(void)state;
	assert_int_equal(answer("BYE sip:bob@192.0.2.2 SIP/2.0\n"
				"v: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKc1\n"
				"f: <sip:alice@example.com>;tag=f1\n"
				"t: <sip:bob@example.com> ; TAG=t9\n"
				"i: compact-1\n"
				"CSeq: 2 BYE\n"
				"Max-Forwards: many\n\n",
				"bad Max-Forwards", "dT42", &m),
			 0);
	assert_int_equal(m->status, 400);
	assert_string_equal(hdr(m, SIP_HDR_TO, v, sizeof(v)),
			    "<sip:bob@example.com> ; TAG=t9");
	assert_string_equal(hdr(m, SIP_HDR_CALL_ID, v, sizeof(v)), "compact-1");
	sip_msg_unref(m);
}

/* The To's tag as the grammar has it: LWS around "=", a display name
 * whose quotes hold '>' and ";tag=" (no tag), and a To that does not
 * parse (its tag still found past the <URI>). */
static void test_to_tag_grammar(void **state)
{
	static const struct {
		const char *to, *want;
	} cases[] = {
		{ "<sip:bob@example.com>;tag = t9",
		  "<sip:bob@example.com>;tag = t9" },
		{ "\"a>b;tag=x\" <sip:bob@example.com>",
		  "\"a>b;tag=x\" <sip:bob@example.com>;tag=dT42" },
		{ "<sip:bob@example.com>;x=\"y\" ; tag =t1",
		  "<sip:bob@example.com>;x=\"y\" ; tag =t1" },
		/* no parse: the To line of the 400 as built */
		{ "<sip:bob@[::1>; tag=t3", "<sip:bob@[::1>; tag=t3" },
		{ "\"x;tag=q\" <sip:bob@[::1>",
		  "\"x;tag=q\" <sip:bob@[::1>;tag=dT42" },
	};
	char msg[512], v[256], out[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_msg *m = NULL;

		snprintf(msg, sizeof(msg),
			 "BYE sip:bob@192.0.2.2 SIP/2.0\n"
			 "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKt%zu\n"
			 "From: <sip:alice@example.com>;tag=f1\n"
			 "To: %s\n"
			 "Call-ID: to-%zu\n"
			 "CSeq: 2 BYE\n"
			 "Max-Forwards: many\n\n",
			 i, cases[i].to, i);
		if (i < 3) {
			assert_int_equal(
				answer(msg, "bad Max-Forwards", "dT42", &m), 0);
			assert_string_equal(hdr(m, SIP_HDR_TO, v, sizeof(v)),
					    cases[i].want);
			sip_msg_unref(m);
		} else {
			struct sip_writer w;
			size_t n = test_crlf(msg, in, sizeof(in));

			snprintf(v, sizeof(v), "\r\nTo: %s\r\n", cases[i].want);
			sip_writer_init(&w, 0);
			assert_int_equal(
				sip_bad_request_reply(in, n, "bad Max-Forwards",
						      SLICE_LIT("dT42"), &w),
				0);
			assert_true(w.len < sizeof(out));
			memcpy(out, w.buf, w.len);
			out[w.len] = '\0';
			assert_non_null(strstr(out, v));
			sip_writer_free(&w);
		}
	}
}

/* Nothing to answer: the message is only dropped. */
static void test_dropped(void **state)
{
	static const char *const msgs[] = {
		/* a response */
		"SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\n"
		"From: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: r\n"
		"CSeq: 1 INVITE\n\n",
		/* an ACK (§17.1.1.3) */
		"ACK sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\n"
		"From: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: r\n"
		"CSeq: 1 ACK\n\n",
		/* no Call-ID */
		"INVITE sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\n"
		"From: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCSeq: 1 INVITE\n\n",
		/* no Via */
		"INVITE sip:b@h SIP/2.0\n"
		"From: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: r\n"
		"CSeq: 1 INVITE\n\n",
		/* two Call-IDs */
		"INVITE sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\n"
		"From: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: r\n"
		"i: s\nCSeq: 1 INVITE\n\n",
		/* a folded To (a value on both lines, so only the folding
		 * refuses it) */
		"INVITE sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\n"
		"From: <sip:a@h>;tag=1\nTo: <sip:b@h>\n ;x=y\nCall-ID: r\n"
		"CSeq: 1 INVITE\n\n",
		/* a control character in From */
		"INVITE sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\n"
		"From: <sip:a@h>\x01;tag=1\nTo: <sip:b@h>\nCall-ID: r\n"
		"CSeq: 1 INVITE\n\n",
		/* no start line to speak of */
		"garbage\n\n",
		"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct sip_msg *m = NULL;

		assert_int_equal(answer(msgs[i], "bad", "dT1", &m), ENOENT);
		assert_null(m);
	}
}

/* Only the headers of the header section count: a Call-ID line in the
 * body is not one. */
static void test_body_ignored(void **state)
{
	struct sip_msg *m = NULL;

	(void)state;
	assert_int_equal(answer("MESSAGE sip:b@h SIP/2.0\n"
				"Via: SIP/2.0/UDP h;branch=z9hG4bKx\n"
				"From: <sip:a@h>;tag=1\nTo: <sip:b@h>\n"
				"CSeq: 1 MESSAGE\nContent-Length: 99\n\n"
				"Call-ID: not-a-header\n",
				"Content-Length beyond the datagram", "dT1",
				&m),
			 ENOENT);
	assert_null(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_answered),	LEAK_TEST(test_compact_and_tag),
		LEAK_TEST(test_to_tag_grammar), LEAK_TEST(test_dropped),
		LEAK_TEST(test_body_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
