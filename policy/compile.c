/* SPDX-License-Identifier: MIT */
/*
 * The policy compiler's front: JSON text -> struct policy. Settings
 * (listen, timers, limits, log_level) here, routes in compile_route.c.
 * Every error and warning is reported with its JSON path and line:column
 * (json_pos.c); one pass reports them all.
 */
#include "policy_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"

/* timers.udp_read_window_us when the file says nothing: at most 10 ms more
 * per message, only while 32 or more datagrams come within that time
 * (transport.c, docs/policy.md) */
#define UDP_WINDOW_US 10000

static const char *const top_keys[] = { "listen",    "timers", "limits",
					"log_level", "routes", NULL };

const char *const *policy_top_keys(void)
{
	return top_keys;
}

/* ---- reporting ----------------------------------------------------------- */

static void report(struct compiler *c, const char *path, bool key,
		   const char *kind, const char *fmt, va_list ap)
{
	const struct json_pos_entry *e = json_pos_find(&c->pos, path);
	unsigned line = e ? (key && e->kline ? e->kline : e->line) : 0;
	unsigned col = e ? (key && e->kline ? e->kcol : e->col) : 0;

	if (!c->errs)
		return;
	fprintf(c->errs, "%s: %s: line %u col %u: %s", c->file,
		*path ? path : "$", line, col, kind);
	vfprintf(c->errs, fmt, ap);
	fputc('\n', c->errs);
}

void cerror(struct compiler *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, c->path, false, "", fmt, ap);
	va_end(ap);
	c->errors++;
}

void cwarn(struct compiler *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, c->path, false, "warning: ", fmt, ap);
	va_end(ap);
	c->warnings++;
}

void cwarn_key(struct compiler *c, const char *key, const char *fmt, ...)
{
	size_t save = cpush_key(c, key);
	va_list ap;

	va_start(ap, fmt);
	report(c, c->path, true, "warning: ", fmt, ap);
	va_end(ap);
	c->warnings++;
	cpop(c, save);
}

void coom(struct compiler *c)
{
	c->oom = true;
}

size_t cpush_key(struct compiler *c, const char *key)
{
	size_t save = strlen(c->path);

	json_path_key(c->path, sizeof(c->path), key);
	return save;
}

size_t cpush_index(struct compiler *c, size_t i)
{
	size_t save = strlen(c->path);

	json_path_index(c->path, sizeof(c->path), i);
	return save;
}

void cpop(struct compiler *c, size_t save)
{
	c->path[save] = '\0';
}

void cunknown(struct compiler *c, json_t *obj, const char *const *known)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		bool ok = false;

		for (const char *const *k = known; *k && !ok; k++)
			ok = strcmp(*k, key) == 0;
		if (!ok)
			cwarn_key(c, key, "unknown key (ignored)");
	}
}

bool cregex(struct compiler *c, json_t *v, regex_t *re)
{
	int rc;

	if (!json_is_string(v)) {
		cerror(c, "expected a regular expression (a string)");
		return false;
	}
	rc = regcomp(re, json_string_value(v), REG_EXTENDED);
	if (rc == REG_ESPACE) {
		coom(c);
		return false;
	}
	if (rc) {
		char msg[128];

		regerror(rc, re, msg, sizeof(msg));
		cerror(c, "bad regular expression \"%s\": %s",
		       json_string_value(v), msg);
		return false;
	}
	return true;
}

char *cstrdup(struct compiler *c, const char *s)
{
	char *d = duet_strndup(s, strlen(s));

	if (!d)
		coom(c);
	return d;
}

bool cint(struct compiler *c, json_t *v, long long lo, long long hi,
	  long long *out)
{
	long long n;

	if (!json_is_integer(v) || (n = json_integer_value(v)) < lo || n > hi) {
		cerror(c, "expected an integer %lld..%lld", lo, hi);
		return false;
	}
	*out = n;
	return true;
}

struct tmpl *ctmpl(struct compiler *c, json_t *v, unsigned max_capture,
		   bool want_uri)
{
	const char *why = NULL;
	struct tmpl *t = NULL;
	int err;

	if (!json_is_string(v)) {
		cerror(c, "expected a string");
		return NULL;
	}
	err = tmpl_compile(&t, json_string_value(v), &why);
	if (err == ENOMEM) {
		coom(c);
		return NULL;
	}
	if (err) {
		cerror(c, "%s: \"%s\"", why, json_string_value(v));
		return NULL;
	}
	if (t->max_capture > max_capture) {
		cerror(c, "$%u: the route's match.ruri.user has %u capture%s",
		       t->max_capture, max_capture,
		       max_capture == 1 ? "" : "s");
		tmpl_free(t);
		return NULL;
	}
	if (want_uri) {
		struct tmpl_ctx ctx = { .placeholder = "x" };
		struct sip_uri u;
		char *s = NULL;

		err = tmpl_expand(t, &ctx, &s);
		if (err == ENOMEM) {
			coom(c);
		} else if (err || sip_uri_parse(&u, slice_cstr(s), NULL) ||
			   (u.scheme != SIP_URI_SIP &&
			    u.scheme != SIP_URI_SIPS)) {
			cerror(c, "not a SIP URI: \"%s\"",
			       json_string_value(v));
			err = EBADMSG;
		}
		duet_free(s);
		if (err) {
			tmpl_free(t);
			return NULL;
		}
	}
	return t;
}

/* ---- settings -------------------------------------------------------------
 */

static void listen_one(struct compiler *c, struct policy_settings *s, json_t *l)
{
	static const char *const keys[] = { "transport", "address", "port",
					    NULL };
	struct policy_listen *out = &s->listen[s->listen_count++];
	json_t *v;
	long long port = 0;
	size_t save;

	if (!json_is_object(l)) {
		cerror(c, "expected an object");
		return;
	}
	cunknown(c, l, keys);
	save = cpush_key(c, "transport");
	v = json_object_get(l, "transport");
	if (!json_is_string(v) ||
	    sip_proto_from(slice_cstr(json_string_value(v)), &out->proto) ||
	    out->proto == SIP_PROTO_TLS)
		cerror(c, "expected \"udp\" or \"tcp\"");
	cpop(c, save);
	save = cpush_key(c, "port");
	v = json_object_get(l, "port");
	if (!v)
		cerror(c, "missing (a port number 0..65535)");
	else
		cint(c, v, 0, 65535, &port);
	cpop(c, save);
	save = cpush_key(c, "address");
	v = json_object_get(l, "address");
	if (!json_is_string(v) ||
	    tp_addr_set(&out->addr, slice_cstr(json_string_value(v)),
			(uint16_t)port))
		cerror(c, "expected a numeric IPv4 or IPv6 address");
	cpop(c, save);
}

static void listen_all(struct compiler *c, struct policy_settings *s, json_t *l)
{
	size_t save = cpush_key(c, "listen");

	if (!json_is_array(l) || json_array_size(l) == 0 ||
	    json_array_size(l) > POLICY_MAX_LISTEN) {
		cerror(c, "expected an array of 1..%d listeners",
		       POLICY_MAX_LISTEN);
	} else {
		for (size_t i = 0; i < json_array_size(l); i++) {
			size_t s2 = cpush_index(c, i);

			listen_one(c, s, json_array_get(l, i));
			cpop(c, s2);
		}
	}
	cpop(c, save);
}

static void limits(struct compiler *c, struct policy_settings *s, json_t *lim)
{
	static const struct {
		const char *key;
		long long min, max;
	} k[] = { { "max_message_size", 1024, 1 << 20 },
		  { "max_headers", 16, 4096 },
		  { "max_header_length", 256, 1 << 20 },
		  { "max_calls", 0, 10000000 },
		  { "max_transactions", 1000, 100000000 },
		  { "calls_per_second", 0, 1000000 } };
	static const char *const keys[] = { "max_message_size",
					    "max_headers",
					    "max_header_length",
					    "max_calls",
					    "max_transactions",
					    "calls_per_second",
					    NULL };
	size_t save = cpush_key(c, "limits");

	if (lim && !json_is_object(lim)) {
		cerror(c, "expected an object");
	} else if (lim) {
		cunknown(c, lim, keys);
		for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
			json_t *v = json_object_get(lim, k[i].key);
			size_t s2 = cpush_key(c, k[i].key);
			long long n;

			if (v && cint(c, v, k[i].min, k[i].max, &n)) {
				if (i == 0)
					s->limits.max_msg_size = (size_t)n;
				else if (i == 1)
					s->limits.max_headers = (unsigned)n;
				else if (i == 2)
					s->limits.max_header_len = (size_t)n;
				else if (i == 3)
					s->max_calls = (unsigned)n;
				else if (i == 4)
					s->max_transactions = (unsigned)n;
				else
					s->calls_per_second = (unsigned)n;
			}
			cpop(c, s2);
		}
	}
	cpop(c, save);
}

static void timers(struct compiler *c, struct policy_settings *s, json_t *t)
{
	static const struct {
		const char *key;
		long long min, max;
	} k[] = { { "t1", 10, 60000 },
		  { "t2", 10, 600000 },
		  { "t4", 10, 600000 },
		  { "trying", 0, 60000 },
		  { "ring_timeout", 0, 86400000 },
		  { "drain", 0, 3600000 },
		  { "reinvite_timeout", 1000, 3600000 },
		  /* seconds; RFC 4028 §5 says at least 90, below is for
		   * tests (docs/policy.md) */
		  { "session_expires", 0, 86400 },
		  { "min_se", 2, 86400 },
		  /* microseconds (transport.h: udp_window_us) */
		  { "udp_read_window_us", 0, 100000 } };
	static const char *const keys[] = { "t1",
					    "t2",
					    "t4",
					    "trying",
					    "ring_timeout",
					    "drain",
					    "reinvite_timeout",
					    "session_expires",
					    "min_se",
					    "udp_read_window_us",
					    NULL };
	uint32_t *out[] = { &s->t1,
			    &s->t2,
			    &s->t4,
			    &s->trying,
			    &s->ring_timeout,
			    &s->drain,
			    &s->reinvite_timeout,
			    &s->session_expires,
			    &s->min_se,
			    &s->udp_read_window_us };
	size_t save = cpush_key(c, "timers");

	if (t && !json_is_object(t)) {
		cerror(c, "expected an object");
	} else if (t) {
		cunknown(c, t, keys);
		for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
			json_t *v = json_object_get(t, k[i].key);
			size_t s2 = cpush_key(c, k[i].key);
			long long n;

			if (v && cint(c, v, k[i].min, k[i].max, &n))
				*out[i] = (uint32_t)n;
			cpop(c, s2);
		}
		if (s->t2 < s->t1) {
			size_t s2 = cpush_key(c, "t2");

			cerror(c, "must not be below t1");
			cpop(c, s2);
		}
		if (s->session_expires && s->session_expires < s->min_se) {
			size_t s2 = cpush_key(c, "session_expires");

			cerror(c, "must be 0 or not below min_se");
			cpop(c, s2);
		}
	}
	cpop(c, save);
}

static void log_level(struct compiler *c, struct policy_settings *s, json_t *v)
{
	size_t save = cpush_key(c, "log_level");

	if (v && (!json_is_string(v) ||
		  duet_log_level_from(json_string_value(v), &s->log_level)))
		cerror(c,
		       "expected \"error\", \"warn\", \"info\" or \"debug\"");
	cpop(c, save);
}

/* ---- routes ----------------------------------------------------------- */

static void routes(struct compiler *c, struct policy *p, json_t *r)
{
	size_t save = cpush_key(c, "routes"), n;

	if (!r)
		goto out;
	if (!json_is_array(r)) {
		cerror(c, "expected an array of routes");
		goto out;
	}
	n = json_array_size(r);
	if (!n)
		goto out;
	p->routes = duet_calloc(n, sizeof(*p->routes));
	p->state = duet_calloc(n, sizeof(*p->state));
	if (!p->routes || !p->state) {
		coom(c);
		goto out;
	}
	p->route_count = n;
	for (size_t i = 0; i < n && !c->oom; i++) {
		size_t s2 = cpush_index(c, i);

		p->routes[i].index = i;
		p->routes[i].state = &p->state[i];
		compile_route(c, json_array_get(r, i), &p->routes[i]);
		cpop(c, s2);
	}
	/* names are unique; a route after a catch-all is never reached */
	for (size_t i = 0; i < n && !c->oom; i++) {
		size_t s2 = cpush_index(c, i);

		for (size_t j = 0; j < i; j++) {
			if (!p->routes[i].name || !p->routes[j].name)
				continue;
			if (strcmp(p->routes[i].name, p->routes[j].name) == 0) {
				size_t s3 = cpush_key(c, "name");

				cerror(c,
				       "the name \"%s\" is taken by "
				       "routes[%zu]",
				       p->routes[i].name, j);
				cpop(c, s3);
				break;
			}
		}
		for (size_t j = 0; j < i; j++) {
			if (p->routes[j].match.any) {
				cwarn(c,
				      "unreachable: routes[%zu] (\"%s\") "
				      "matches every request first",
				      j,
				      p->routes[j].name ? p->routes[j].name
							: "?");
				break;
			}
		}
		cpop(c, s2);
	}
out:
	cpop(c, save);
}

static void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->route_count; i++)
		route_free(&p->routes[i]);
	duet_free(p->routes);
	duet_free(p->state);
	duet_free(p->file);
	duet_free(p);
}

int policy_compile(struct policy **out, const char *text, size_t len,
		   const char *file, FILE *errs, unsigned *warnings)
{
	struct compiler c = { .file = file ? file : "-", .errs = errs };
	json_error_t jerr;
	json_t *root;
	struct policy *p = NULL;
	int err;

	if (warnings)
		*warnings = 0;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (errs)
			fprintf(errs, "%s: line %d col %d: %s\n", c.file,
				jerr.line, jerr.column, jerr.text);
		return EINVAL;
	}
	err = json_pos_index(&c.pos, text, len);
	if (err)
		goto out;
	p = duet_calloc(1, sizeof(*p));
	if (!p || !(p->file = cstrdup(&c, c.file))) {
		err = ENOMEM;
		goto out;
	}
	p->refs = 1;
	p->settings =
		(struct policy_settings){ .limits = SIP_LIMITS_DEFAULT,
					  .log_level = DUET_LOG_INFO,
					  .t1 = 500,
					  .t2 = 4000,
					  .t4 = 5000,
					  .trying = 200,
					  .ring_timeout = 60000,
					  .drain = 5000,
					  .reinvite_timeout = 180000,
					  .session_expires = 1800,
					  .min_se = 90,
					  .udp_read_window_us = UDP_WINDOW_US };
	if (!json_is_object(root)) {
		cerror(&c, "expected an object");
	} else {
		cunknown(&c, root, top_keys);
		listen_all(&c, &p->settings, json_object_get(root, "listen"));
		limits(&c, &p->settings, json_object_get(root, "limits"));
		timers(&c, &p->settings, json_object_get(root, "timers"));
		log_level(&c, &p->settings, json_object_get(root, "log_level"));
		routes(&c, p, json_object_get(root, "routes"));
	}
	err = c.oom ? ENOMEM : c.errors ? EINVAL : 0;
out:
	json_decref(root);
	json_pos_free(&c.pos);
	if (warnings)
		*warnings = c.warnings;
	if (err) {
		policy_free(p);
		return err;
	}
	*out = p;
	return 0;
}

int policy_load_file(struct policy **out, const char *path, FILE *errs,
		     unsigned *warnings)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err = 0;

	if (warnings)
		*warnings = 0;
	if (!f) {
		err = errno;
		goto out;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *b = duet_realloc(buf, cap ? cap * 2 : 8192);

			if (!b) {
				err = ENOMEM;
				goto out;
			}
			buf = b;
			cap = cap ? cap * 2 : 8192;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				err = EIO;
			break;
		}
	}
	if (!err)
		err = policy_compile(out, buf, len, path, errs, warnings);
	duet_free(buf);
	if (f)
		fclose(f);
	return err;
out:
	if (errs)
		fprintf(errs, "%s: %s\n", path, strerror(err));
	duet_free(buf);
	if (f)
		fclose(f);
	return err;
}

struct policy *policy_ref(struct policy *p)
{
	if (p)
		p->refs++;
	return p;
}

struct policy *policy_unref(struct policy *p)
{
	if (p && --p->refs == 0)
		policy_free(p);
	return NULL;
}

const struct policy_settings *policy_settings(const struct policy *p)
{
	return &p->settings;
}

const char *policy_file(const struct policy *p)
{
	return p->file;
}

size_t policy_route_count(const struct policy *p)
{
	return p->route_count;
}

const struct policy_route *policy_route_at(const struct policy *p, size_t i)
{
	return i < p->route_count ? &p->routes[i] : NULL;
}

const char *policy_route_name(const struct policy_route *r)
{
	return r->name;
}

size_t policy_route_index(const struct policy_route *r)
{
	return r->index;
}
