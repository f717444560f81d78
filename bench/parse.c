/* SPDX-License-Identifier: MIT */
/* Parser benchmark: duet sip_msg_parse (RFC 3261 §7, §25) vs libosip2. */
/*
 * bench_parse time [N [INVITE_FILE]]
 *     Parses each benchmark message N times (default 200000) with duet and
 *     with libosip2 and prints ns/msg, their ratio, and allocations per
 *     parsed message.
 * bench_parse one duet|osip FILE N
 *     Parses FILE N times with one parser only, for callgrind. N = 0 does the
 *     setup (read the file, init the parser) and no parse, so that
 *     (cost(N) - cost(0)) / N is the cost of one parse.
 *
 * Every parse is checked (exit 1 on failure) and a checksum of the parsed
 * fields is printed so the compiler cannot drop the work.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duet/alloc.h"
#include "duet/sip_msg.h"

#ifndef DUET_BENCH_OSIP
#define DUET_BENCH_OSIP 0
#endif
#if DUET_BENCH_OSIP
#include <osipparser2/osip_parser.h>
#endif

#ifndef DUET_SHARED_DATA
#define DUET_SHARED_DATA "../shared/data"
#endif
#ifndef DUET_BENCH_DATA
#define DUET_BENCH_DATA "bench/data"
#endif

#define DEFAULT_N 200000UL

struct bench_msg {
	const char *name;
	const char *path;
	char *buf;
	size_t len;
};

enum parser { PARSER_DUET, PARSER_OSIP };

/* Reads a whole file into a malloc'd buffer (not counted by duet_alloc). */
static int read_file(const char *path, char **out, size_t *out_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int err = 0;

	if (!f) {
		fprintf(stderr, "bench_parse: %s: %s\n", path, strerror(errno));
		return errno ? errno : ENOENT;
	}
	do {
		if (len == cap) {
			char *nb = realloc(buf, cap ? cap * 2 : 4096);

			if (!nb) {
				err = ENOMEM;
				goto out;
			}
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f) || len == 0) {
		fprintf(stderr, "bench_parse: %s: read error or empty\n", path);
		err = EIO;
	}
out:
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One duet parse; adds parsed fields to *sum. 0, or the parser's error. */
static int parse_duet(const struct bench_msg *m, uint64_t *sum)
{
	struct sip_msg *msg = NULL;
	const char *why = NULL;
	int err;

	err = sip_msg_parse(&msg, m->buf, m->len, SIP_FRAMING_DGRAM, NULL,
			    &why);
	if (err) {
		fprintf(stderr, "bench_parse: duet: %s: error %d (%s)\n",
			m->name, err, why ? why : "?");
		return err;
	}
	*sum += msg->hdr_count + msg->via_count + msg->cseq + msg->body.len +
		msg->from.tag.len;
	sip_msg_unref(msg);
	return 0;
}

#if DUET_BENCH_OSIP
/* One libosip2 parse (init + parse + free); adds fields to *sum. */
static int parse_osip(const struct bench_msg *m, uint64_t *sum)
{
	osip_message_t *sip = NULL;
	int rc;

	if (osip_message_init(&sip) != 0) {
		fprintf(stderr, "bench_parse: osip: out of memory\n");
		return ENOMEM;
	}
	rc = osip_message_parse(sip, m->buf, m->len);
	if (rc != 0) {
		fprintf(stderr, "bench_parse: osip: %s: error %d\n", m->name,
			rc);
		osip_message_free(sip);
		return EBADMSG;
	}
	*sum += (uint64_t)osip_list_size(&sip->headers) +
		(uint64_t)osip_list_size(&sip->vias) +
		(uint64_t)sip->status_code;
	osip_message_free(sip);
	return 0;
}

/*
 * osip's allocator hooks take no context argument, so its allocation
 * counter has to be file-scope; only count_osip_allocs() touches it.
 */
static unsigned long osip_alloc_count;

static void *counting_malloc(size_t size)
{
	osip_alloc_count++;
	return malloc(size);
}

static void *counting_realloc(void *p, size_t size)
{
	if (!p)
		osip_alloc_count++;
	return realloc(p, size);
}

/* Allocations of one osip init + parse + free, or -1 on a parse error. */
static long count_osip_allocs(const struct bench_msg *m, uint64_t *sum)
{
	long n;

	osip_alloc_count = 0;
	osip_set_allocators(counting_malloc, counting_realloc, free);
	n = parse_osip(m, sum) ? -1 : (long)osip_alloc_count;
	osip_set_allocators(NULL, NULL, NULL);
	return n;
}
#endif

static int parse_with(enum parser p, const struct bench_msg *m, uint64_t *sum)
{
#if DUET_BENCH_OSIP
	if (p == PARSER_OSIP)
		return parse_osip(m, sum);
#endif
	(void)p;
	return parse_duet(m, sum);
}

/* Parses m n times; *ns_per_msg gets the mean. 0 or the first error. */
static int time_loop(enum parser p, const struct bench_msg *m, unsigned long n,
		     uint64_t *sum, double *ns_per_msg)
{
	unsigned long i;
	uint64_t t0, t1;
	int err;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		err = parse_with(p, m, sum);
		if (err)
			return err;
	}
	t1 = now_ns();
	*ns_per_msg = n ? (double)(t1 - t0) / (double)n : 0.0;
	return 0;
}

struct row {
	double duet_ns, osip_ns;
	double duet_allocs;
	long osip_allocs; /* -1: not measured */
};

/* Warms up, then times both parsers on one message. 0 or an error. */
static int bench_one_msg(const struct bench_msg *m, unsigned long n,
			 uint64_t *sum, struct row *r)
{
	unsigned long warm = n / 10 < 10000 ? n / 10 : 10000;
	struct duet_alloc_stats a0, a1;
	double ignore;
	int err;

	r->osip_ns = -1.0;
	r->osip_allocs = -1;
	err = time_loop(PARSER_DUET, m, warm, sum, &ignore);
	if (err)
		return err;
	a0 = duet_alloc_stats();
	err = time_loop(PARSER_DUET, m, n, sum, &r->duet_ns);
	if (err)
		return err;
	a1 = duet_alloc_stats();
	r->duet_allocs = n ? (double)(a1.allocs - a0.allocs) / (double)n : 0.0;
	if (a1.live != a0.live) {
		fprintf(stderr,
			"bench_parse: duet: %s: %lld allocations leaked\n",
			m->name, (long long)(a1.live - a0.live));
		return ENOMEM;
	}
#if DUET_BENCH_OSIP
	err = time_loop(PARSER_OSIP, m, warm, sum, &ignore);
	if (!err)
		err = time_loop(PARSER_OSIP, m, n, sum, &r->osip_ns);
	if (err)
		return err;
	r->osip_allocs = count_osip_allocs(m, sum);
	if (r->osip_allocs < 0)
		return EBADMSG;
#endif
	return 0;
}

static void print_row(const struct bench_msg *m, const struct row *r)
{
	char osip_ns[32] = "-", ratio[32] = "-", osip_allocs[32] = "-";

	if (r->osip_ns >= 0) {
		snprintf(osip_ns, sizeof(osip_ns), "%.0f", r->osip_ns);
		snprintf(ratio, sizeof(ratio), "%.2fx",
			 r->duet_ns > 0 ? r->osip_ns / r->duet_ns : 0.0);
	}
	if (r->osip_allocs >= 0)
		snprintf(osip_allocs, sizeof(osip_allocs), "%ld",
			 r->osip_allocs);
	printf("%-12s %6zu %12.0f %12s %10s %12.2f %12s\n", m->name, m->len,
	       r->duet_ns, osip_ns, ratio, r->duet_allocs, osip_allocs);
}

static int cmd_time(unsigned long n, const char *invite_path)
{
	struct bench_msg msgs[] = {
		{ "INVITE", invite_path, NULL, 0 },
		{ "200-INVITE", DUET_BENCH_DATA "/bench-200-invite.sip", NULL,
		  0 },
		{ "ACK", DUET_BENCH_DATA "/bench-ack.sip", NULL, 0 },
		{ "BYE", DUET_BENCH_DATA "/bench-bye.sip", NULL, 0 },
	};
	const size_t count = sizeof(msgs) / sizeof(msgs[0]);
	struct row rows[sizeof(msgs) / sizeof(msgs[0])];
	uint64_t sum = 0;
	size_t i;
	int err = 0;

#if DUET_BENCH_OSIP
	parser_init();
#endif
	for (i = 0; i < count && !err; i++)
		err = read_file(msgs[i].path, &msgs[i].buf, &msgs[i].len);
	for (i = 0; i < count && !err; i++)
		err = bench_one_msg(&msgs[i], n, &sum, &rows[i]);
	if (!err) {
		printf("parse timing, %lu parses per message and parser "
		       "(CLOCK_MONOTONIC)%s\n",
		       n, DUET_BENCH_OSIP ? "" : "; libosip2 not built in");
		printf("%-12s %6s %12s %12s %10s %12s %12s\n", "message",
		       "bytes", "duet ns/msg", "osip ns/msg", "osip/duet",
		       "duet allocs", "osip allocs");
		for (i = 0; i < count; i++)
			print_row(&msgs[i], &rows[i]);
		printf("(allocs = allocations per parsed message; "
		       "checksum %llu)\n",
		       (unsigned long long)sum);
	}
	for (i = 0; i < count; i++)
		free(msgs[i].buf);
	return err ? 1 : 0;
}

static int cmd_one(const char *which, const char *path, unsigned long n)
{
	struct bench_msg m = { "one", path, NULL, 0 };
	enum parser p;
	uint64_t sum = 0;
	unsigned long i;
	int err;

	if (strcmp(which, "duet") == 0) {
		p = PARSER_DUET;
	} else if (strcmp(which, "osip") == 0 && DUET_BENCH_OSIP) {
		p = PARSER_OSIP;
	} else {
		fprintf(stderr,
			"bench_parse: unknown or unavailable parser "
			"'%s'\n",
			which);
		return 2;
	}
	m.name = path;
	if (read_file(path, &m.buf, &m.len))
		return 1;
#if DUET_BENCH_OSIP
	if (p == PARSER_OSIP)
		parser_init();
#endif
	for (i = 0, err = 0; i < n && !err; i++)
		err = parse_with(p, &m, &sum);
	free(m.buf);
	if (err)
		return 1;
	printf("%s: %lu parses, checksum %llu\n", which, n,
	       (unsigned long long)sum);
	return 0;
}

/* A count from argv; 0 on success, EINVAL for anything but digits. */
static int parse_count(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end)
		return EINVAL;
	*out = v;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_parse time [N [INVITE_FILE]]\n"
		"       bench_parse one duet|osip FILE N\n"
		"  N defaults to %lu; INVITE_FILE to %s/bench-invite.sip\n",
		DEFAULT_N, DUET_SHARED_DATA);
}

int main(int argc, char **argv)
{
	unsigned long n = DEFAULT_N;

	if (argc >= 2 && strcmp(argv[1], "time") == 0 && argc <= 4) {
		if (argc >= 3 && parse_count(argv[2], &n)) {
			usage();
			return 2;
		}
		return cmd_time(n, argc == 4 ? argv[3]
					     : DUET_SHARED_DATA
					   "/bench-invite.sip");
	}
	if (argc == 5 && strcmp(argv[1], "one") == 0 &&
	    parse_count(argv[4], &n) == 0)
		return cmd_one(argv[2], argv[3], n);
	usage();
	return 2;
}
