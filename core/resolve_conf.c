/* SPDX-License-Identifier: MIT */
/*
 * The resolver object: configuration, nameservers from resolv.conf
 * (resolv.conf(5) "nameserver" lines, RFC 1035 §4.2.1 port 53), life
 * cycle and counters of the RFC 3263 resolver.
 */
#include "resolve_internal.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "duet/alloc.h"
#include "duet/err.h"

#define RESOLV_CONF "/etc/resolv.conf"

void resolve_config_default(struct resolve_config *cfg)
{
	*cfg = (struct resolve_config){
		.timeout_ms = 2000,
		.retries = 2,
		.cache_size = 512,
		.neg_ttl_s = 30,
	};
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next whitespace-separated word of line (empty at the end). */
static struct slice word(struct slice *line)
{
	size_t i = 0, start;

	while (i < line->len && is_space(line->p[i]))
		i++;
	start = i;
	while (i < line->len && !is_space(line->p[i]))
		i++;
	*line = slice_sub(*line, i, line->len);
	return slice_make(line->p - (i - start), i - start);
}

int resolve_conf_parse(struct slice text, struct tp_addr *out, unsigned cap,
		       unsigned *n)
{
	*n = 0;
	while (text.len) {
		size_t eol = slice_find(text, '\n');
		struct slice line = slice_sub(text, 0, eol), w;

		text = slice_sub(text, eol + 1, text.len);
		w = word(&line);
		if (!slice_eq_cstr(w, "nameserver"))
			continue; /* comments, other keywords */
		w = word(&line);
		if (*n < cap && w.len && tp_addr_set(&out[*n], w, 53) == 0)
			(*n)++;
	}
	return 0;
}

static void read_resolv_conf(struct resolve_config *cfg)
{
	const char *path = cfg->resolv_conf ? cfg->resolv_conf : RESOLV_CONF;
	FILE *f = fopen(path, "r");
	char line[512];

	cfg->n_servers = 0;
	while (f && cfg->n_servers < RESOLVE_MAX_SERVERS &&
	       fgets(line, sizeof(line), f)) {
		unsigned n;

		resolve_conf_parse(slice_cstr(line),
				   &cfg->servers[cfg->n_servers],
				   RESOLVE_MAX_SERVERS - cfg->n_servers, &n);
		cfg->n_servers += n;
	}
	if (f)
		fclose(f);
	if (cfg->n_servers == 0) { /* as the C library does */
		tp_addr_set(&cfg->servers[0], SLICE_LIT("127.0.0.1"), 53);
		cfg->n_servers = 1;
	}
}

static int check_config(const struct resolve_config *cfg)
{
	if (cfg->timeout_ms == 0 || cfg->n_servers > RESOLVE_MAX_SERVERS)
		return EINVAL;
	for (unsigned i = 0; i < cfg->n_servers; i++) {
		sa_family_t f = cfg->servers[i].ss.ss_family;

		if (f != AF_INET && f != AF_INET6)
			return EINVAL;
	}
	return 0;
}

int resolve_new(struct resolver **out, struct event_base *base,
		struct wheel *wheel, const struct resolve_config *cfg)
{
	struct resolver *r;
	int err;

	if (!out || !base || !wheel || (cfg && check_config(cfg)))
		return EINVAL;
	r = duet_calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->base = base;
	r->wheel = wheel;
	if (cfg)
		r->cfg = *cfg;
	else
		resolve_config_default(&r->cfg);
	if (r->cfg.n_servers == 0)
		read_resolv_conf(&r->cfg);
	rlist_init(&r->lookups);
	rlist_init(&r->active);
	rlist_init(&r->ready);
	err = rcache_init(&r->cache, r->cfg.cache_size);
	r->scratch = duet_malloc(sizeof(*r->scratch));
	r->ready_ev = event_new(base, -1, 0, resolve_deliver, r);
	if (err || !r->scratch || !r->ready_ev) {
		resolve_free(r);
		return ENOMEM;
	}
	*out = r;
	return 0;
}

void resolve_free(struct resolver *r)
{
	if (!r)
		return;
	resolve_queries_free(r);
	lookup_free_all(r);
	rcache_fini(&r->cache);
	if (r->ready_ev)
		event_free(r->ready_ev);
	duet_free(r->scratch);
	duet_free(r);
}

void resolve_stats(const struct resolver *r, struct resolve_stats *out)
{
	*out = r->stats;
	out->cache_entries = r->cache.count;
}
