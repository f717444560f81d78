/* SPDX-License-Identifier: MIT */
/*
 * Compiling a route's transforms: failover codes, rewrites (RFC 3261
 * §19.1 URI parts, §20.10 display names), header rules (§7.3, §8.1.1),
 * reply map (§21), method map and limits.
 */
#include "policy_internal.h"

#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"

/* ---- failover_on ------------------------------------------------------ */

/* 486, "486", "500-599", "5xx" */
static bool code_range(json_t *v, unsigned lo_min, unsigned *lo, unsigned *hi)
{
	const char *s;
	unsigned a, b;
	char x, y, z;

	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);

		if (n < lo_min || n > 699)
			return false;
		*lo = *hi = (unsigned)n;
		return true;
	}
	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	if (sscanf(s, "%3u-%3u%c", &a, &b, &x) == 2 && strlen(s) == 7) {
		*lo = a;
		*hi = b;
	} else if (sscanf(s, "%1u%c%c%c", &a, &x, &y, &z) == 3 &&
		   strlen(s) == 3 && x == 'x' && y == 'x') {
		*lo = a * 100;
		*hi = a * 100 + 99;
	} else if (sscanf(s, "%3u%c", &a, &x) == 1 && strlen(s) == 3) {
		*lo = *hi = a;
	} else {
		return false;
	}
	return *lo >= lo_min && *hi <= 699 && *lo <= *hi;
}

static void code_set(struct compiler *c, json_t *v, uint64_t bits[11])
{
	size_t n = json_is_array(v) ? json_array_size(v) : 0;

	if (!json_is_array(v)) {
		cerror(c, "expected a list of codes (486, \"5xx\", "
			  "\"500-599\")");
		return;
	}
	memset(bits, 0, 11 * sizeof(bits[0]));
	for (size_t i = 0; i < n; i++) {
		size_t save = cpush_index(c, i);
		unsigned lo, hi;

		if (!code_range(json_array_get(v, i), 300, &lo, &hi))
			cerror(c, "expected a final code 300..699, \"5xx\" "
				  "or a range \"500-599\"");
		else
			for (unsigned k = lo; k <= hi; k++)
				bits[k / 64] |= 1ull << (k % 64);
		cpop(c, save);
	}
}

void compile_failover(struct compiler *c, json_t *v, struct policy_route *r)
{
	static const char *const keys[] = { "codes", "timeout", "stop", NULL };
	size_t save = cpush_key(c, "failover_on"), s2;
	json_t *e;

	if (!v)
		goto out;
	if (!json_is_object(v)) {
		cerror(c, "expected an object");
		goto out;
	}
	cunknown(c, v, keys);
	if ((e = json_object_get(v, "codes"))) {
		s2 = cpush_key(c, "codes");
		code_set(c, e, r->failover_codes);
		cpop(c, s2);
	}
	if ((e = json_object_get(v, "stop"))) {
		s2 = cpush_key(c, "stop");
		code_set(c, e, r->stop_codes);
		cpop(c, s2);
	}
	if ((e = json_object_get(v, "timeout"))) {
		s2 = cpush_key(c, "timeout");
		if (!json_is_boolean(e))
			cerror(c, "expected true or false");
		else
			r->failover_timeout = json_is_true(e);
		cpop(c, s2);
	}
out:
	cpop(c, save);
}

/* ---- rewrite ----------------------------------------------------------- */

static void rewrite_one(struct compiler *c, json_t *v, struct policy_route *r,
			struct rewrite *rw)
{
	unsigned caps = r->match.has_re[MF_RURI_USER]
				? (unsigned)r->match.re[MF_RURI_USER].re_nsub
				: 0;
	static const char *const keys[] = { "match", "replace", NULL };
	size_t save;

	if (json_is_string(v)) {
		rw->t = ctmpl(c, v, caps, false);
		return;
	}
	if (!json_is_object(v)) {
		cerror(c, "expected a template or {\"match\", \"replace\"}");
		return;
	}
	cunknown(c, v, keys);
	save = cpush_key(c, "match");
	if (!json_object_get(v, "match"))
		cerror(c, "missing (a regular expression)");
	else if (cregex(c, json_object_get(v, "match"), &rw->re))
		rw->has_re = true;
	cpop(c, save);
	save = cpush_key(c, "replace");
	if (!json_object_get(v, "replace"))
		cerror(c, "missing (a template)");
	else if (rw->has_re)
		rw->t = ctmpl(c, json_object_get(v, "replace"),
			      (unsigned)rw->re.re_nsub, false);
	cpop(c, save);
}

void compile_rewrite(struct compiler *c, json_t *v, struct policy_route *r)
{
	static const struct {
		const char *part, *field;
		enum rw_field f;
	} fields[] = { { "ruri", "user", RW_RURI_USER },
		       { "ruri", "host", RW_RURI_HOST },
		       { "from", "user", RW_FROM_USER },
		       { "from", "host", RW_FROM_HOST },
		       { "from", "display", RW_FROM_DISPLAY },
		       { "to", "user", RW_TO_USER },
		       { "to", "host", RW_TO_HOST },
		       { "to", "display", RW_TO_DISPLAY } };
	static const char *const keys[] = { "ruri", "from", "to", NULL };
	static const char *const ruri_keys[] = { "user", "host", NULL };
	static const char *const addr_keys[] = { "user", "host", "display",
						 NULL };
	size_t save = cpush_key(c, "rewrite");

	if (!v)
		goto out;
	if (!json_is_object(v)) {
		cerror(c, "expected an object");
		goto out;
	}
	cunknown(c, v, keys);
	for (size_t i = 0; i < 3; i++) {
		json_t *part = json_object_get(v, keys[i]);
		size_t s2 = cpush_key(c, keys[i]);

		if (part && !json_is_object(part))
			cerror(c, "expected an object");
		else if (part)
			cunknown(c, part, i == 0 ? ruri_keys : addr_keys);
		cpop(c, s2);
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *part = json_object_get(v, fields[i].part);
		json_t *e = json_is_object(part)
				    ? json_object_get(part, fields[i].field)
				    : NULL;
		size_t s2, s3;

		if (!e)
			continue;
		s2 = cpush_key(c, fields[i].part);
		s3 = cpush_key(c, fields[i].field);
		rewrite_one(c, e, r, &r->rw[fields[i].f]);
		cpop(c, s3);
		cpop(c, s2);
	}
out:
	cpop(c, save);
}

/* ---- headers ----------------------------------------------------------- */

/* Built per leg by duet: never crossing, never added or removed (every
 * one has an id, so a name without one is not among them). */
bool policy_header_managed(enum sip_hdr_id id)
{
	switch (id) {
	case SIP_HDR_VIA:
	case SIP_HDR_FROM:
	case SIP_HDR_TO:
	case SIP_HDR_CALL_ID:
	case SIP_HDR_CSEQ:
	case SIP_HDR_CONTACT:
	case SIP_HDR_ROUTE:
	case SIP_HDR_RECORD_ROUTE:
	case SIP_HDR_MAX_FORWARDS:
	case SIP_HDR_CONTENT_LENGTH:
	case SIP_HDR_CONTENT_TYPE:
	case SIP_HDR_SESSION_EXPIRES: /* RFC 4028, per leg (call_timer.c) */
	case SIP_HDR_MIN_SE:
		return true;
	default:
		return false;
	}
}

struct hdr_name hdr_name_make(struct compiler *c, const char *text)
{
	return (struct hdr_name){ .text = cstrdup(c, text),
				  .id = sip_hdr_lookup(slice_cstr(text)) };
}

static bool token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
			    "YZ"
			    "0123456789-.!%*_+`'~",
			    *s))
			return false;
	return true;
}

/* A list of header names; managed ones: warn (lists) or error (edits). */
static struct hdr_name *name_list(struct compiler *c, json_t *v, size_t *count,
				  bool managed_is_error)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 0;
	struct hdr_name *out;

	if (!json_is_array(v)) {
		cerror(c, "expected a list of header names");
		return NULL;
	}
	out = duet_calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		coom(c);
		return NULL;
	}
	*count = n;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(v, i);
		size_t save = cpush_index(c, i);

		if (!json_is_string(e) || !token(json_string_value(e))) {
			cerror(c, "expected a header name");
		} else {
			out[i] = hdr_name_make(c, json_string_value(e));
			if (policy_header_managed(out[i].id)) {
				if (managed_is_error)
					cerror(c, "duet builds %s itself",
					       json_string_value(e));
				else
					cwarn(c,
					      "ignored: duet builds %s "
					      "itself",
					      json_string_value(e));
			}
		}
		cpop(c, save);
	}
	return out;
}

static void edit_one(struct compiler *c, json_t *v, struct policy_route *r,
		     struct hdr_edit *ed)
{
	static const char *const keys[] = { "add", "remove", NULL };
	json_t *e;
	size_t save;

	if (!json_is_object(v)) {
		cerror(c, "expected an object with \"add\" and/or \"remove\"");
		return;
	}
	cunknown(c, v, keys);
	if ((e = json_object_get(v, "remove"))) {
		save = cpush_key(c, "remove");
		ed->remove = name_list(c, e, &ed->remove_count, true);
		cpop(c, save);
	}
	if ((e = json_object_get(v, "add"))) {
		const char *name;
		json_t *val;

		save = cpush_key(c, "add");
		if (!json_is_object(e)) {
			cerror(c, "expected an object of header name: value");
		} else if (json_object_size(e) &&
			   !(ed->add = duet_calloc(json_object_size(e),
						   sizeof(*ed->add)))) {
			coom(c);
		} else {
			json_object_foreach(e, name, val)
			{
				struct hdr_add *a = &ed->add[ed->add_count++];
				size_t s2 = cpush_key(c, name);

				if (!token(name))
					cerror(c, "not a header name");
				else if (policy_header_managed(sip_hdr_lookup(
						 slice_cstr(name))))
					cerror(c, "duet builds %s itself",
					       name);
				a->name = cstrdup(c, name);
				a->value = ctmpl(
					c, val,
					r->match.has_re[MF_RURI_USER]
						? (unsigned)r->match
							  .re[MF_RURI_USER]
							  .re_nsub
						: 0,
					false);
				cpop(c, s2);
			}
		}
		cpop(c, save);
	}
}

void compile_headers(struct compiler *c, json_t *v, struct policy_route *r)
{
	static const char *const keys[] = { "allow", "deny", "a", "b", NULL };
	static const char *const leg_keys[] = { "requests", "responses", NULL };
	size_t save = cpush_key(c, "headers"), s2;
	json_t *e;

	if (!v)
		goto out;
	if (!json_is_object(v)) {
		cerror(c, "expected an object");
		goto out;
	}
	cunknown(c, v, keys);
	if (json_object_get(v, "allow") && json_object_get(v, "deny"))
		cerror(c, "\"allow\" and \"deny\" exclude each other");
	for (size_t k = 0; k < 2; k++) {
		if (!(e = json_object_get(v, keys[k])))
			continue;
		s2 = cpush_key(c, keys[k]);
		r->hdr_default = false;
		r->hdr_deny = k == 1;
		if (!r->cross)
			r->cross = name_list(c, e, &r->cross_count, false);
		cpop(c, s2);
	}
	for (size_t leg = 0; leg < POLICY_LEG_COUNT; leg++) {
		json_t *l = json_object_get(v, keys[2 + leg]);

		if (!l)
			continue;
		s2 = cpush_key(c, keys[2 + leg]);
		if (!json_is_object(l)) {
			cerror(c, "expected an object with \"requests\" "
				  "and/or \"responses\"");
		} else {
			cunknown(c, l, leg_keys);
			for (size_t resp = 0; resp < 2; resp++) {
				size_t s3;

				if (!(e = json_object_get(l, leg_keys[resp])))
					continue;
				s3 = cpush_key(c, leg_keys[resp]);
				edit_one(c, e, r, &r->edit[leg][resp]);
				cpop(c, s3);
			}
		}
		cpop(c, s2);
	}
out:
	cpop(c, save);
}

/* ---- reply_map --------------------------------------------------------- */

static bool reason_ok(json_t *e)
{
	return json_is_string(e) && !strpbrk(json_string_value(e), "\r\n");
}

void compile_reply_map(struct compiler *c, json_t *v, struct policy_route *r)
{
	size_t save = cpush_key(c, "reply_map");
	const char *key;
	json_t *e;

	if (!v)
		goto out;
	if (!json_is_object(v)) {
		cerror(c, "expected an object of code: code");
		goto out;
	}
	r->replies = duet_calloc(json_object_size(v) + 1, sizeof(*r->replies));
	if (!r->replies) {
		coom(c);
		goto out;
	}
	json_object_foreach(v, key, e)
	{
		struct reply_rule *rr = &r->replies[r->reply_count];
		size_t s2 = cpush_key(c, key);
		json_t *ks = json_string(key);
		unsigned lo, hi;
		long long code;

		if (!ks) {
			coom(c);
			cpop(c, s2);
			break;
		}
		if (strcmp(key, "hide_reasons") == 0) {
			if (!json_is_boolean(e))
				cerror(c, "expected true or false");
			r->hide_reasons = json_is_true(e);
		} else if (!code_range(ks, 300, &lo, &hi)) {
			cwarn_key(c, key,
				  "not a final code 300..699, \"6xx\" or a "
				  "range \"600-699\" (ignored)");
		} else if (json_is_integer(e)) {
			if (cint(c, e, 300, 699, &code))
				*rr = (struct reply_rule){
					.lo = (uint16_t)lo,
					.hi = (uint16_t)hi,
					.code = (uint16_t)code
				};
			r->reply_count++;
		} else if (json_is_object(e)) {
			static const char *const keys[] = { "code", "reason",
							    NULL };
			json_t *ec = json_object_get(e, "code");
			json_t *er = json_object_get(e, "reason");
			size_t s3;

			cunknown(c, e, keys);
			*rr = (struct reply_rule){ .lo = (uint16_t)lo,
						   .hi = (uint16_t)hi,
						   .code = 0 };
			s3 = cpush_key(c, "code");
			if (ec && cint(c, ec, 300, 699, &code))
				rr->code = (uint16_t)code;
			cpop(c, s3);
			s3 = cpush_key(c, "reason");
			if (er && !reason_ok(er))
				cerror(c, "expected a reason phrase on one "
					  "line (\"\": the standard phrase)");
			else if (er)
				rr->reason = cstrdup(c, json_string_value(er));
			cpop(c, s3);
			r->reply_count++;
		} else {
			cerror(c, "expected a code or {\"code\", \"reason\"}");
		}
		json_decref(ks);
		cpop(c, s2);
	}
out:
	cpop(c, save);
}

/* ---- methods ------------------------------------------------------------ */

static const char *const row_names[MR_COUNT] = {
	[MR_INVITE] = "INVITE",	  [MR_REINVITE] = "re-INVITE",
	[MR_ACK] = "ACK",	  [MR_BYE] = "BYE",
	[MR_CANCEL] = "CANCEL",	  [MR_UPDATE] = "UPDATE",
	[MR_INFO] = "INFO",	  [MR_PRACK] = "PRACK",
	[MR_OPTIONS] = "OPTIONS", [MR_MESSAGE] = "MESSAGE",
	[MR_REFER] = "REFER",	  [MR_NOTIFY] = "NOTIFY",
};

#define M(x) (1u << POLICY_METHOD_##x)
/* the modes each row allows */
static const unsigned row_modes[MR_COUNT] = {
	[MR_INVITE] = M(RELAY) | M(REJECT),
	[MR_REINVITE] = M(RELAY) | M(ANSWER) | M(REJECT),
	[MR_ACK] = M(RELAY) | M(IMMEDIATE),
	[MR_BYE] = M(RELAY) | M(ANSWER),
	[MR_CANCEL] = M(RELAY) | M(ANSWER),
	[MR_UPDATE] = M(RELAY) | M(ANSWER) | M(REJECT),
	[MR_INFO] = M(RELAY) | M(ANSWER) | M(REJECT),
	[MR_PRACK] = M(RELAY) | M(PER_LEG) | M(REJECT),
	[MR_OPTIONS] = M(RELAY) | M(ANSWER) | M(REJECT),
	[MR_MESSAGE] = M(RELAY) | M(ANSWER) | M(REJECT),
	[MR_REFER] = M(RELAY) | M(ANSWER) | M(REJECT),
	[MR_NOTIFY] = M(RELAY) | M(ANSWER) | M(REJECT),
};
#undef M

static void method_rule(struct compiler *c, json_t *v, enum method_row row,
			struct method_cell *cell)
{
	static const char *const keys[] = { "action", "code", "reason", NULL };
	json_t *a = json_is_object(v) ? json_object_get(v, "action") : v;
	const char *name = json_is_string(a) ? json_string_value(a) : "";
	struct policy_method_rule rule = { 0 };
	long long code;
	size_t save;
	int mode = -1;

	for (int m = POLICY_METHOD_RELAY; m <= POLICY_METHOD_PER_LEG; m++)
		if (strcmp(name, policy_method_mode_name(m)) == 0)
			mode = m;
	if (json_is_object(v))
		cunknown(c, v, keys);
	if (mode < 0 || !(row_modes[row] & (1u << mode))) {
		char allowed[96] = "";

		for (int m = POLICY_METHOD_RELAY; m <= POLICY_METHOD_PER_LEG;
		     m++) {
			if (row_modes[row] & (1u << m)) {
				size_t n = strlen(allowed);

				snprintf(allowed + n, sizeof(allowed) - n,
					 "%s\"%s\"", n ? ", " : "",
					 policy_method_mode_name(m));
			}
		}
		cerror(c, "%s: expected %s (or {\"action\", \"code\"})",
		       row_names[row], allowed);
		return;
	}
	rule.mode = (enum policy_method_mode)mode;
	/* a refused PRACK matches no reliable provisional: 481
	 * (RFC 3262 §3) */
	rule.code = mode == POLICY_METHOD_ANSWER ? 200
		    : mode == POLICY_METHOD_REJECT
			    ? (row == MR_PRACK ? 481 : 403)
			    : 0;
	if (json_is_object(v) && json_object_get(v, "code")) {
		save = cpush_key(c, "code");
		if (mode == POLICY_METHOD_ANSWER &&
		    cint(c, json_object_get(v, "code"), 200, 299, &code))
			rule.code = (uint16_t)code;
		else if (mode == POLICY_METHOD_REJECT &&
			 cint(c, json_object_get(v, "code"), 300, 699, &code))
			rule.code = (uint16_t)code;
		else if (mode != POLICY_METHOD_ANSWER &&
			 mode != POLICY_METHOD_REJECT)
			cwarn(c, "ignored: only answer and reject have a code");
		cpop(c, save);
	}
	if (json_is_object(v) && json_object_get(v, "reason")) {
		save = cpush_key(c, "reason");
		if (!reason_ok(json_object_get(v, "reason")))
			cerror(c, "expected a reason phrase on one line");
		else
			rule.reason =
				cstrdup(c, json_string_value(json_object_get(
						   v, "reason")));
		cpop(c, save);
	}
	cell->set = true;
	cell->rule = rule;
}

void compile_methods(struct compiler *c, json_t *v, struct policy_route *r)
{
	size_t save = cpush_key(c, "methods");
	const char *key;
	json_t *e;

	if (!v)
		goto out;
	if (!json_is_object(v)) {
		cerror(c, "expected an object of method: rule");
		goto out;
	}
	json_object_foreach(v, key, e)
	{
		size_t s2 = cpush_key(c, key);
		int row = -1;

		for (int i = 0; i < MR_COUNT; i++)
			if (strcmp(key, row_names[i]) == 0)
				row = i;
		if (row < 0) {
			cwarn_key(c, key, "not a method of the map (ignored)");
		} else if (json_is_object(e) && !json_object_get(e, "action")) {
			static const char *const legs[] = { "a", "b", NULL };

			cunknown(c, e, legs);
			for (size_t l = 0; l < POLICY_LEG_COUNT; l++) {
				json_t *le = json_object_get(e, legs[l]);
				size_t s3;

				if (!le)
					continue;
				s3 = cpush_key(c, legs[l]);
				method_rule(c, le, (enum method_row)row,
					    &r->methods[l][row]);
				cpop(c, s3);
			}
			if (!json_object_get(e, "a") &&
			    !json_object_get(e, "b"))
				cerror(c, "expected \"action\", or \"a\" "
					  "and/or \"b\"");
		} else {
			method_rule(c, e, (enum method_row)row,
				    &r->methods[POLICY_LEG_A][row]);
			r->methods[POLICY_LEG_B][row] =
				r->methods[POLICY_LEG_A][row];
			if (r->methods[POLICY_LEG_A][row].rule.reason) {
				/* each cell owns its reason */
				r->methods[POLICY_LEG_B][row].rule.reason =
					cstrdup(c, r->methods[POLICY_LEG_A][row]
							   .rule.reason);
			}
		}
		cpop(c, s2);
	}
out:
	cpop(c, save);
}

/* ---- limits ------------------------------------------------------------ */

void compile_route_limits(struct compiler *c, json_t *v, struct policy_route *r)
{
	static const char *const keys[] = { "max_duration", "max_calls",
					    "calls_per_second", "retry_after",
					    NULL };
	static const long long max[] = { 604800, 10000000, 1000000, 86400 };
	size_t save = cpush_key(c, "limits");

	if (!v)
		goto out;
	if (!json_is_object(v)) {
		cerror(c, "expected an object");
		goto out;
	}
	cunknown(c, v, keys);
	for (size_t i = 0; i < 4; i++) {
		json_t *e = json_object_get(v, keys[i]);
		size_t s2 = cpush_key(c, keys[i]);
		long long n;

		if (e && cint(c, e, 0, max[i], &n)) {
			if (i == 0)
				r->limits.max_duration = (uint32_t)n;
			else if (i == 1)
				r->limits.max_calls = (unsigned)n;
			else if (i == 2)
				r->limits.calls_per_second = (unsigned)n;
			else
				r->limits.retry_after = (uint32_t)n;
		}
		cpop(c, s2);
	}
out:
	cpop(c, save);
}
