/* SPDX-License-Identifier: MIT */
/* Unit tests of message building (RFC 3261 §8.2.6, §18.3) and of the
 * serializer's round trip. */
#include "test_util.h"

#include "duet/err.h"
#include "duet/sip_build.h"

static char text[4096];

static struct sip_msg *parse_crlf(const char *msg)
{
	struct sip_msg *m = NULL;
	const char *why = NULL;
	size_t n = test_crlf(msg, text, sizeof(text));

	assert_int_equal(sip_msg_parse(&m, text, n, 0, NULL, &why), 0);
	return m;
}

static const char invite[] =
	"INVITE sip:bob@example.org SIP/2.0\n"
	"Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1, "
	"SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKua;rport=5062\n"
	"v: SIP/2.0/TCP [2001:db8::3];branch=z9hG4bKx\n"
	"Max-Forwards: 69\n"
	"f: \"Alice\" <sip:alice@example.com>;tag=a1\n"
	"To: <sip:bob@example.org>\n"
	"Call-ID: k3l4@192.0.2.7\n"
	"CSeq: 10 INVITE\n"
	"Timestamp: 54.2\n"
	"Contact: <sip:alice@192.0.2.7:5062>\n"
	"Content-Type: application/sdp\n"
	"Content-Length: 5\n\nv=0\n";

static void test_response_head(void **state)
{
	(void)state;
	struct sip_msg *req = parse_crlf(invite), *resp = NULL;
	struct sip_writer w;
	const char *why = NULL;

	sip_writer_init(&w, 0);
	sip_build_response_head(&w, req, 180, SLICE_NULL, SLICE_LIT("b9"));
	sip_build_header(&w, SLICE_LIT("Contact"), SLICE_LIT("<sip:b@h>"));
	assert_int_equal(sip_build_finish(&w, SLICE_NULL, SLICE_NULL), 0);
	assert_int_equal(sip_msg_parse(&resp, w.buf, w.len, 0, NULL, &why), 0);
	assert_int_equal(resp->status, 180);
	assert_slice(resp->reason, "Ringing");
	/* every Via, in order, byte for byte (§8.2.6.2) */
	assert_int_equal(resp->via_count, 3);
	assert_slice(resp->vias[1].received, "");
	assert_slice(resp->vias[1].branch, "z9hG4bKua");
	assert_int_equal(resp->vias[2].host_kind, SIP_HOST_IPV6);
	assert_slice(resp->from.tag, "a1");
	assert_slice(resp->to.tag, "b9");
	assert_slice(resp->call_id, "k3l4@192.0.2.7");
	assert_int_equal(resp->cseq, 10);
	assert_int_equal(resp->cseq_method, SIP_METHOD_INVITE);
	assert_int_equal(resp->content_length, 0);
	assert_null(sip_msg_hdr(resp, SIP_HDR_TIMESTAMP));
	sip_msg_unref(resp);
	sip_writer_free(&w);

	/* 100 Trying: no To tag, Timestamp copied (§8.2.6.1) */
	sip_writer_init(&w, 16);
	sip_build_response_head(&w, req, 100, SLICE_NULL, SLICE_LIT("b9"));
	assert_int_equal(sip_build_finish(&w, SLICE_NULL, SLICE_NULL), 0);
	assert_int_equal(sip_msg_parse(&resp, w.buf, w.len, 0, NULL, &why), 0);
	assert_null(resp->to.tag.p);
	assert_slice(sip_msg_hdr(resp, SIP_HDR_TIMESTAMP)->value, "54.2");
	sip_msg_unref(resp);
	sip_writer_free(&w);
	sip_msg_unref(req);
}

static void test_response_via_stamp(void **state)
{
	(void)state;
	struct sip_msg *req = parse_crlf(invite), *resp = NULL;
	struct sip_via_stamp st = { .received = SLICE_LIT("198.51.100.7"),
				    .rport = 40123 };
	struct sip_writer w;
	const char *why = NULL;

	sip_writer_init(&w, 0);
	sip_build_response_head_stamped(&w, req, 200, SLICE_NULL,
					SLICE_LIT("t"), &st);
	assert_int_equal(sip_build_finish(&w, SLICE_NULL, SLICE_NULL), 0);
	assert_int_equal(sip_msg_parse(&resp, w.buf, w.len, 0, NULL, &why), 0);
	/* only the top via-parm changes; the second value of the same
	 * field and the other fields stay byte for byte */
	assert_int_equal(resp->via_count, 3);
	assert_slice(resp->vias[0].received, "198.51.100.7");
	assert_true(resp->vias[0].has_rport);
	assert_int_equal(resp->vias[0].rport, 40123);
	assert_slice(resp->vias[0].branch, "z9hG4bKp1");
	assert_slice(resp->vias[1].raw,
		     "SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKua;rport=5062");
	assert_slice(resp->vias[2].raw,
		     "SIP/2.0/TCP [2001:db8::3];branch=z9hG4bKx");
	sip_msg_unref(resp);
	sip_writer_free(&w);

	/* a bare rport is filled in, an old received is replaced */
	sip_msg_unref(req);
	req = parse_crlf("OPTIONS sip:x SIP/2.0\n"
			 "Via: SIP/2.0/UDP h:5070;rport;received=10.9.9.9;"
			 "branch=z9hG4bKo\n"
			 "From: <sip:a@x>;tag=1\nTo: <sip:x>\nCall-ID: o\n"
			 "CSeq: 1 OPTIONS\n\n");
	sip_writer_init(&w, 0);
	sip_build_response_head_stamped(&w, req, 200, SLICE_NULL,
					SLICE_LIT("t"), &st);
	assert_int_equal(sip_build_finish(&w, SLICE_NULL, SLICE_NULL), 0);
	assert_int_equal(sip_msg_parse(&resp, w.buf, w.len, 0, NULL, &why), 0);
	assert_slice(resp->vias[0].raw, "SIP/2.0/UDP h:5070;branch=z9hG4bKo;"
					"received=198.51.100.7;rport=40123");
	sip_msg_unref(resp);
	sip_writer_free(&w);
	sip_msg_unref(req);
}

static void test_response_keeps_existing_tag(void **state)
{
	(void)state;
	struct sip_msg *req = parse_crlf(
		"BYE sip:a@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
		"From: <sip:b@x>;tag=b9\nTo: <sip:a@y>;tag=a1\n"
		"Call-ID: q\nCSeq: 11 BYE\n\n");
	struct sip_msg *resp = NULL;
	struct sip_writer w;
	const char *why;

	sip_writer_init(&w, 0);
	sip_build_response_head(&w, req, 200, SLICE_LIT("Fine"),
				SLICE_LIT("other"));
	assert_int_equal(sip_build_finish(&w, SLICE_NULL, SLICE_NULL), 0);
	assert_int_equal(sip_msg_parse(&resp, w.buf, w.len, 0, NULL, &why), 0);
	assert_slice(resp->to.tag, "a1");
	assert_slice(resp->reason, "Fine");
	sip_msg_unref(resp);
	sip_writer_free(&w);
	sip_msg_unref(req);
}

static void test_request_from_parts(void **state)
{
	(void)state;
	struct sip_msg *m = NULL;
	struct sip_writer w;
	const char *why = NULL;
	const char sdp[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n";

	sip_writer_init(&w, 8); /* small: forces growth */
	sip_build_request_line(&w, SLICE_LIT("INVITE"),
			       SLICE_LIT("sip:carol@192.0.2.50:5070"));
	sip_build_header_id(&w, SIP_HDR_VIA,
			    SLICE_LIT("SIP/2.0/UDP 127.0.0.1:5060;"
				      "branch=z9hG4bKdTx;rport"));
	sip_build_header_id(&w, SIP_HDR_MAX_FORWARDS, SLICE_LIT("69"));
	sip_build_header_id(&w, SIP_HDR_FROM, SLICE_LIT("<sip:a@d>;tag=t1"));
	sip_build_header_id(&w, SIP_HDR_TO, SLICE_LIT("<sip:carol@d>"));
	sip_build_header_id(&w, SIP_HDR_CALL_ID, SLICE_LIT("cid-1"));
	sip_build_header_id(&w, SIP_HDR_CSEQ, SLICE_LIT("1 INVITE"));
	assert_int_equal(sip_build_finish(&w, SLICE_LIT("application/sdp"),
					  slice_make(sdp, sizeof(sdp) - 1)),
			 0);
	assert_int_equal(
		sip_msg_parse(&m, w.buf, w.len, SIP_FRAMING_STREAM, NULL, &why),
		0);
	assert_int_equal(m->content_length, sizeof(sdp) - 1);
	assert_memory_equal(m->body.p, sdp, sizeof(sdp) - 1);
	assert_slice(m->content_type, "application/sdp");
	assert_int_equal(m->ruri.port, 5070);
	assert_int_equal(m->len, w.len);
	sip_msg_unref(m);
	sip_writer_free(&w);
}

static void test_injection_and_errors(void **state)
{
	(void)state;
	struct sip_writer w;
	size_t len = 7;

	sip_writer_init(&w, 0);
	sip_build_header(&w, SLICE_LIT("Subject"),
			 SLICE_LIT("hi\r\nVia: SIP/2.0/UDP evil"));
	assert_int_equal(w.err, EINVAL);
	/* sticky: later writes do nothing, finish reports the first error */
	sip_writer_cstr(&w, "more");
	assert_int_equal(sip_build_finish(&w, SLICE_NULL, SLICE_NULL), EINVAL);
	assert_null(sip_writer_steal(&w, &len));
	assert_int_equal(len, 0);

	sip_writer_init(&w, 0);
	sip_build_status_line(&w, 99, SLICE_NULL);
	assert_int_equal(w.err, EINVAL);
	sip_writer_free(&w);

	/* the one-pass check: CR, LF or NUL anywhere, in the 16-byte blocks
	 * and in the tail after them */
	assert_true(sip_build_value_ok(SLICE_NULL));
	assert_true(
		sip_build_value_ok(SLICE_LIT("a plain value, 27 bytes ok")));
	assert_false(sip_build_value_ok(SLICE_LIT("lf\nx")));
	assert_false(sip_build_value_ok(SLICE_LIT("0123456789abcdef01234\r")));
	assert_false(
		sip_build_value_ok(SLICE_LIT("0123456789abcdef0123456789\n")));
	assert_false(sip_build_value_ok(slice_make("nul\0byte", 8)));
	sip_writer_init(&w, 0);
	sip_build_header(&w, SLICE_LIT("X-Long"),
			 SLICE_LIT("0123456789abcdef0123456789abcdef\rVia: x"));
	assert_int_equal(w.err, EINVAL);
	sip_writer_free(&w);

	/* allocation failure while growing is sticky ENOMEM (a writer has
	 * 256 bytes at least) */
	char big[300];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sip_writer_init(&w, 4);
	assert_int_equal(w.cap, 256);
	duet_alloc_fail_nth(1);
	sip_writer_cstr(&w, big);
	assert_int_equal(w.err, ENOMEM);
	sip_writer_free(&w);
}

static void test_steal_and_numbers(void **state)
{
	(void)state;
	struct sip_writer w;
	size_t len = 0;
	char *p;

	sip_writer_init(&w, 0);
	sip_writer_u32(&w, 0);
	sip_writer_put(&w, " ", 1);
	sip_writer_u32(&w, 4294967295u);
	p = sip_writer_steal(&w, &len);
	assert_string_equal(p, "0 4294967295");
	assert_int_equal(len, 12);
	assert_null(w.buf);
	duet_free(p);
	assert_string_equal(sip_reason_phrase(487), "Request Terminated");
	assert_string_equal(sip_reason_phrase(299), "");
}

static void test_round_trip(void **state)
{
	(void)state;
	struct sip_msg *m = NULL, *m2 = NULL;
	struct sip_writer w;
	const char *why = NULL;
	size_t n = test_crlf(invite, text, sizeof(text));

	assert_int_equal(sip_msg_parse(&m, text, n, 0, NULL, &why), 0);
	sip_writer_init(&w, 0);
	sip_msg_write(&w, m);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, n);
	assert_memory_equal(w.buf, text, n);
	assert_int_equal(sip_msg_parse(&m2, w.buf, w.len, 0, NULL, &why), 0);
	assert_int_equal(m2->hdr_count, m->hdr_count);
	sip_msg_unref(m2);
	sip_msg_unref(m);
	sip_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LEAK_TEST(test_response_head),
		LEAK_TEST(test_response_via_stamp),
		LEAK_TEST(test_response_keeps_existing_tag),
		LEAK_TEST(test_request_from_parts),
		LEAK_TEST(test_injection_and_errors),
		LEAK_TEST(test_steal_and_numbers),
		LEAK_TEST(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
