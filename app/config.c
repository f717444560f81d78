/* SPDX-License-Identifier: MIT */
/* Loading and checking the daemon's JSON configuration. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "duet/err.h"
#include "duet/sip_uri.h"

struct checker {
	const char *file;
	FILE *errs;
	unsigned errors;
};

static void error_at(struct checker *ck, const char *path, const char *msg)
{
	fprintf(ck->errs, "%s: %s: %s\n", ck->file, path, msg);
	ck->errors++;
}

static const char *const top_keys[] = { "listen", "limits", "log_level",
					"timers", "routes", NULL };
static const char *const timer_keys[] = { "t1",	    "t2",	    "t4",
					  "trying", "ring_timeout", "drain",
					  NULL };
static const char *const route_keys[] = { "name", "targets", NULL };
static const char *const listen_keys[] = { "transport", "address", "port",
					   NULL };
static const char *const limit_keys[] = { "max_message_size",  "max_headers",
					  "max_header_length", "max_calls",
					  "max_transactions",  NULL };

static void unknown_keys(struct checker *ck, json_t *obj, const char *path,
			 const char *const *known)
{
	const char *key;
	json_t *v;
	char p[256];

	json_object_foreach(obj, key, v)
	{
		bool ok = false;

		for (const char *const *k = known; *k && !ok; k++)
			ok = strcmp(*k, key) == 0;
		if (!ok) {
			snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "",
				 key);
			error_at(ck, p, "unknown key");
		}
	}
}

static void listen_one(struct checker *ck, struct duet_config *cfg, json_t *l,
		       size_t i)
{
	json_t *tp = json_object_get(l, "transport");
	json_t *addr = json_object_get(l, "address");
	json_t *port = json_object_get(l, "port");
	struct config_listen *out = &cfg->listen[cfg->listen_count];
	char path[64];
	json_int_t pv;

	snprintf(path, sizeof(path), "listen[%zu]", i);
	if (!json_is_object(l)) {
		error_at(ck, path, "expected an object");
		return;
	}
	unknown_keys(ck, l, path, listen_keys);
	snprintf(path, sizeof(path), "listen[%zu].transport", i);
	if (!json_is_string(tp) ||
	    sip_proto_from(slice_cstr(json_string_value(tp)), &out->proto) ||
	    out->proto == SIP_PROTO_TLS)
		error_at(ck, path, "expected \"udp\" or \"tcp\"");
	snprintf(path, sizeof(path), "listen[%zu].port", i);
	pv = json_is_integer(port) ? json_integer_value(port) : -1;
	if (pv < 0 || pv > 65535)
		error_at(ck, path, "expected a port number 0..65535");
	snprintf(path, sizeof(path), "listen[%zu].address", i);
	if (!json_is_string(addr) ||
	    tp_addr_set(&out->addr, slice_cstr(json_string_value(addr)),
			(uint16_t)(pv < 0 ? 0 : pv)))
		error_at(ck, path, "expected a numeric IPv4 or IPv6 address");
	cfg->listen_count++;
}

static void limits(struct checker *ck, struct duet_config *cfg, json_t *lim)
{
	static const struct {
		const char *key;
		json_int_t min, max;
	} k[] = { { "max_message_size", 1024, 1 << 20 },
		  { "max_headers", 16, 4096 },
		  { "max_header_length", 256, 1 << 20 },
		  { "max_calls", 0, 10000000 },
		  { "max_transactions", 1000, 100000000 } };
	char path[64];

	if (!lim)
		return;
	if (!json_is_object(lim)) {
		error_at(ck, "limits", "expected an object");
		return;
	}
	unknown_keys(ck, lim, "limits", limit_keys);
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		json_t *v = json_object_get(lim, k[i].key);
		json_int_t n;

		if (!v)
			continue;
		n = json_is_integer(v) ? json_integer_value(v) : -1;
		snprintf(path, sizeof(path), "limits.%s", k[i].key);
		if (n < k[i].min || n > k[i].max) {
			char msg[96];

			snprintf(msg, sizeof(msg),
				 "expected an integer %lld..%lld",
				 (long long)k[i].min, (long long)k[i].max);
			error_at(ck, path, msg);
		} else if (i == 0) {
			cfg->limits.max_msg_size = (size_t)n;
		} else if (i == 1) {
			cfg->limits.max_headers = (unsigned)n;
		} else if (i == 2) {
			cfg->limits.max_header_len = (size_t)n;
		} else if (i == 3) {
			cfg->max_calls = (unsigned)n;
		} else {
			cfg->max_transactions = (unsigned)n;
		}
	}
}

static void timers(struct checker *ck, struct duet_config *cfg, json_t *t)
{
	static const struct {
		const char *key;
		json_int_t min, max;
	} k[] = { { "t1", 10, 60000 },
		  { "t2", 10, 600000 },
		  { "t4", 10, 600000 },
		  { "trying", 0, 60000 },
		  { "ring_timeout", 0, 86400000 },
		  { "drain", 0, 3600000 } };
	uint32_t *out[] = { &cfg->t1,	  &cfg->t2,	      &cfg->t4,
			    &cfg->trying, &cfg->ring_timeout, &cfg->drain };
	char path[64], msg[96];

	if (!t)
		return;
	if (!json_is_object(t)) {
		error_at(ck, "timers", "expected an object");
		return;
	}
	unknown_keys(ck, t, "timers", timer_keys);
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		json_t *v = json_object_get(t, k[i].key);
		json_int_t n;

		if (!v)
			continue;
		n = json_is_integer(v) ? json_integer_value(v) : -1;
		if (n < k[i].min || n > k[i].max) {
			snprintf(path, sizeof(path), "timers.%s", k[i].key);
			snprintf(msg, sizeof(msg),
				 "expected milliseconds %lld..%lld",
				 (long long)k[i].min, (long long)k[i].max);
			error_at(ck, path, msg);
		} else {
			*out[i] = (uint32_t)n;
		}
	}
	if (cfg->t2 < cfg->t1)
		error_at(ck, "timers.t2", "must not be below t1");
}

/* The first route's first target: the default route until policy/. */
static void routes(struct checker *ck, struct duet_config *cfg, json_t *r)
{
	json_t *first, *name, *targets, *uri;
	struct sip_uri u;

	if (!r)
		return;
	if (!json_is_array(r) || json_array_size(r) == 0) {
		error_at(ck, "routes", "expected a non-empty array");
		return;
	}
	first = json_array_get(r, 0);
	if (!json_is_object(first)) {
		error_at(ck, "routes[0]", "expected an object");
		return;
	}
	unknown_keys(ck, first, "routes[0]", route_keys);
	name = json_object_get(first, "name");
	if (name && !json_is_string(name))
		error_at(ck, "routes[0].name", "expected a string");
	else
		snprintf(cfg->route_name, sizeof(cfg->route_name), "%s",
			 name ? json_string_value(name) : "default");
	targets = json_object_get(first, "targets");
	if (!json_is_array(targets) || json_array_size(targets) == 0) {
		error_at(ck, "routes[0].targets", "expected a non-empty array");
		return;
	}
	uri = json_object_get(json_array_get(targets, 0), "uri");
	if (!json_is_string(uri) ||
	    strlen(json_string_value(uri)) >= sizeof(cfg->target) ||
	    sip_uri_parse(&u, slice_cstr(json_string_value(uri)), NULL) ||
	    (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS)) {
		error_at(ck, "routes[0].targets[0].uri", "expected a SIP URI");
		return;
	}
	snprintf(cfg->target, sizeof(cfg->target), "%s",
		 json_string_value(uri));
}

int config_load(struct duet_config *cfg, const char *path, FILE *errs)
{
	struct checker ck = { .file = path, .errs = errs };
	struct duet_config c = { .limits = SIP_LIMITS_DEFAULT,
				 .log_level = DUET_LOG_INFO,
				 .t1 = 500,
				 .t2 = 4000,
				 .t4 = 5000,
				 .trying = 200,
				 .ring_timeout = 60000,
				 .drain = 5000 };
	json_error_t jerr;
	json_t *root, *listen, *lvl;
	size_t i;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		fprintf(errs, "%s: line %d col %d: %s\n", path, jerr.line,
			jerr.column, jerr.text);
		return EINVAL;
	}
	if (!json_is_object(root)) {
		error_at(&ck, "$", "expected an object");
		goto out;
	}
	unknown_keys(&ck, root, "", top_keys);
	listen = json_object_get(root, "listen");
	if (!json_is_array(listen) || json_array_size(listen) == 0 ||
	    json_array_size(listen) > CONFIG_MAX_LISTEN)
		error_at(&ck, "listen", "expected an array of 1..16 listeners");
	else
		for (i = 0; i < json_array_size(listen); i++)
			listen_one(&ck, &c, json_array_get(listen, i), i);
	limits(&ck, &c, json_object_get(root, "limits"));
	timers(&ck, &c, json_object_get(root, "timers"));
	routes(&ck, &c, json_object_get(root, "routes"));
	lvl = json_object_get(root, "log_level");
	if (lvl && (!json_is_string(lvl) ||
		    duet_log_level_from(json_string_value(lvl), &c.log_level)))
		error_at(&ck, "log_level",
			 "expected \"error\", \"warn\", \"info\" or \"debug\"");
out:
	json_decref(root);
	if (ck.errors)
		return EINVAL;
	*cfg = c;
	return 0;
}
