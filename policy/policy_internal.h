/* SPDX-License-Identifier: MIT */
/*
 * The compiled policy's structures, shared by the files of policy/ only.
 * Everything here is built by the compiler (compile*.c) and read-only
 * afterwards, except the per-route round-robin counters in `state`.
 */
#ifndef DUET_POLICY_INTERNAL_H
#define DUET_POLICY_INTERNAL_H

#include <jansson.h>
#include <regex.h>
#include <stdarg.h>

#include "duet/policy.h"

/* ---- JSON positions (json_pos.c) ---------------------------------------- */

/* line:col (1-based) of every value of a JSON text, by path
 * ("routes[2].targets[0].uri"); members also have their key's position. */
struct json_pos_entry {
	size_t path;	      /* offset into the index's path pool */
	unsigned line, col;   /* the value */
	unsigned kline, kcol; /* the member's key; 0 for array elements */
};

struct json_pos {
	struct json_pos_entry *e;
	size_t count, cap;
	char *pool;
	size_t pool_len, pool_cap;
};

/* Index a (valid) JSON text. 0 or ENOMEM (or EBADMSG on text that is not
 * JSON, which the compiler never passes). */
int json_pos_index(struct json_pos *ix, const char *text, size_t len);
void json_pos_free(struct json_pos *ix);
/* The entry of path, or of its nearest indexed ancestor; NULL if none. */
const struct json_pos_entry *json_pos_find(const struct json_pos *ix,
					   const char *path);
/* Append a member name or array index to a path, the way the index writes
 * paths: ".key", "[\"odd key\"]", "[3]". Truncates at cap. */
void json_path_key(char *path, size_t cap, const char *key);
void json_path_index(char *path, size_t cap, size_t i);

/* ---- templates (template.c) --------------------------------------------- */

enum tmpl_var {
	TV_LITERAL = 0,
	TV_CAPTURE, /* $N */
	TV_RURI,
	TV_RURI_USER,
	TV_RURI_HOST,
	TV_RURI_PORT,
	TV_FROM_URI,
	TV_FROM_USER,
	TV_FROM_HOST,
	TV_FROM_DISPLAY,
	TV_TO_URI,
	TV_TO_USER,
	TV_TO_HOST,
	TV_TO_DISPLAY,
	TV_SRC_IP,
	TV_SRC_PORT,
	TV_SRC_TRANSPORT,
	TV_CALL_ID,
	TV_METHOD,
	TV_HEADER, /* text: the header name */
};

struct tmpl_part {
	enum tmpl_var var;
	struct slice text; /* literal text or header name (into the block) */
	unsigned capture;  /* TV_CAPTURE */
};

/* One allocation: the struct, its parts and a copy of the source. */
struct tmpl {
	size_t count;
	unsigned max_capture; /* highest $N used, 0 if none */
	bool has_vars;	      /* any part but literals */
	struct tmpl_part *parts;
	char *src;
};

/* What a template is expanded over. caps may be NULL (then $N is ""). */
struct tmpl_ctx {
	const struct sip_msg *req;
	const struct policy_source *src;
	const char *subject; /* the text the captures index */
	const regmatch_t *caps;
	size_t ncaps;
	const char *placeholder; /* compile-time check: every variable */
};

/* Compile; 0, ENOMEM, or EBADMSG with *why (static text). */
int tmpl_compile(struct tmpl **out, const char *s, const char **why);
/* Expand into a new NUL-terminated string (*out, duet_malloc'd).
 * 0, ENOMEM, EBADMSG (a result with CR, LF or NUL). */
int tmpl_expand(const struct tmpl *t, const struct tmpl_ctx *ctx, char **out);
void tmpl_free(struct tmpl *t);

/* ---- the compiled policy ------------------------------------------------ */

enum match_field {
	MF_RURI_USER = 0,
	MF_RURI_HOST,
	MF_RURI_PORT,
	MF_FROM_USER,
	MF_FROM_HOST,
	MF_TO_USER,
	MF_TO_HOST,
	MF_COUNT
};

struct cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned bits;
};

/* A header name from the config, with its id when duet knows the header
 * (then compact forms and any case match it, RFC 3261 §7.3.1, §7.3.3). */
struct hdr_name {
	char *text;
	enum sip_hdr_id id;
};

struct hdr_match {
	struct hdr_name name;
	int kind; /* 1 present, 0 absent, 2 a value matches re */
	regex_t re;
};

struct route_match {
	bool any;	     /* no condition at all: a catch-all */
	uint32_t methods;    /* bit per enum sip_method; 0: any */
	char **method_other; /* extension methods, NULL-ended */
	regex_t re[MF_COUNT];
	bool has_re[MF_COUNT];
	struct cidr *src;
	size_t src_count;
	uint32_t transports; /* bit per enum sip_proto; 0: any */
	struct hdr_match *hdrs;
	size_t hdr_count;
};

enum target_strategy {
	TS_FAILOVER = 0,
	TS_ROUND_ROBIN,
	TS_WEIGHTED,
	TS_HASH,
};

struct target {
	struct tmpl *uri;
	uint16_t weight;
};

enum rw_field {
	RW_RURI_USER = 0,
	RW_RURI_HOST,
	RW_FROM_USER,
	RW_FROM_HOST,
	RW_FROM_DISPLAY,
	RW_TO_USER,
	RW_TO_HOST,
	RW_TO_DISPLAY,
	RW_COUNT
};

struct rewrite {
	struct tmpl *t; /* NULL: field not rewritten */
	bool has_re;	/* regex form: t is the replacement of re's match */
	regex_t re;
};

struct hdr_add {
	char *name;
	struct tmpl *value;
};

/* adds/removes for the requests or responses sent on one leg */
struct hdr_edit {
	struct hdr_name *remove;
	size_t remove_count;
	struct hdr_add *add;
	size_t add_count;
};

struct reply_rule {
	uint16_t lo, hi, code;
	char *reason; /* NULL: keep; "": hide */
};

/* The method map's rows. */
enum method_row {
	MR_INVITE = 0,
	MR_REINVITE,
	MR_ACK,
	MR_BYE,
	MR_CANCEL,
	MR_UPDATE,
	MR_INFO,
	MR_PRACK,
	MR_OPTIONS,
	MR_MESSAGE,
	MR_REFER,
	MR_NOTIFY,
	MR_COUNT
};

struct method_cell {
	bool set; /* configured; else the default */
	struct policy_method_rule rule;
};

struct route_state {
	uint64_t rr; /* decisions taken (round robin, weighted) */
};

struct policy_route {
	char *name;
	size_t index;
	struct route_match match;
	enum policy_action action;
	/* relay */
	struct target *targets;
	size_t target_count;
	enum target_strategy strategy;
	bool hash_from_user; /* hash by From user, else Call-ID */
	uint16_t *wseq;	     /* smooth weighted sequence of target indexes */
	size_t wseq_len;
	uint64_t failover_codes[11]; /* bit per code 0..703 */
	uint64_t stop_codes[11];
	bool failover_timeout;
	/* reject / redirect */
	uint16_t status;
	char *reason;
	uint32_t retry_after;
	/* transforms */
	struct rewrite rw[RW_COUNT];
	bool hdr_deny;		/* cross: deny-list, else allow-list */
	bool hdr_default;	/* no cross rule: the built-in allow-list */
	struct hdr_name *cross; /* the list */
	size_t cross_count;
	struct hdr_edit edit[POLICY_LEG_COUNT][2]; /* [leg][response] */
	struct reply_rule *replies;
	size_t reply_count;
	bool hide_reasons;
	struct method_cell methods[POLICY_LEG_COUNT][MR_COUNT];
	struct policy_route_limits limits;
	struct route_state *state; /* mutable */
};

struct policy {
	unsigned refs;
	char *file;
	struct policy_settings settings;
	struct policy_route *routes;
	size_t route_count;
	struct route_state *state; /* one per route, mutable */
};

/* ---- the compiler's working state (compile*.c) ------------------------- */

struct compiler {
	const char *file;
	FILE *errs;
	struct json_pos pos;
	unsigned errors, warnings;
	bool oom;
	char path[256]; /* the value being compiled */
};

/* Report at c->path (+ suffix key when not NULL). */
void cerror(struct compiler *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cwarn(struct compiler *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Report at the key of member `key` of the object at c->path. */
void cwarn_key(struct compiler *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Note an allocation failure (compilation then returns ENOMEM). */
void coom(struct compiler *c);

/* Descend into a member / element and come back: save = cpush_*(). */
size_t cpush_key(struct compiler *c, const char *key);
size_t cpush_index(struct compiler *c, size_t i);
void cpop(struct compiler *c, size_t save);

/* Warn about members of obj not in known (NULL-ended). */
void cunknown(struct compiler *c, json_t *obj, const char *const *known);
/* Compile a regex at c->path; false on error (reported). */
bool cregex(struct compiler *c, json_t *v, regex_t *re);
/* A string copy; NULL and coom() on failure. */
char *cstrdup(struct compiler *c, const char *s);
/* An integer in [lo, hi] or an error; false on error. */
bool cint(struct compiler *c, json_t *v, long long lo, long long hi,
	  long long *out);
/* A template at c->path; max_capture: highest $N allowed. */
struct tmpl *ctmpl(struct compiler *c, json_t *v, unsigned max_capture,
		   bool want_uri);

/* compile_route.c */
void compile_route(struct compiler *c, json_t *jr, struct policy_route *r);
/* compile_action.c: methods, reply_map, headers, limits, failover_on */
void compile_methods(struct compiler *c, json_t *v, struct policy_route *r);
void compile_reply_map(struct compiler *c, json_t *v, struct policy_route *r);
void compile_headers(struct compiler *c, json_t *v, struct policy_route *r);
void compile_failover(struct compiler *c, json_t *v, struct policy_route *r);
void compile_route_limits(struct compiler *c, json_t *v,
			  struct policy_route *r);
void compile_rewrite(struct compiler *c, json_t *v, struct policy_route *r);
void route_free(struct policy_route *r);
/* Via, From, To, Call-ID, CSeq, Contact...: duet builds them per leg */
bool policy_header_managed(enum sip_hdr_id id);
/* The config's name for a header; its text is cstrdup'd. */
struct hdr_name hdr_name_make(struct compiler *c, const char *text);
/* Is the header with this id and name (a message's) the one n names? */
bool hdr_name_is(const struct hdr_name *n, enum sip_hdr_id id,
		 struct slice name);

/* match.c */
bool match_route(const struct policy_route *r, const struct sip_msg *req,
		 const struct policy_source *src, char *subject, size_t cap,
		 regmatch_t *caps, size_t ncaps);
/* The text a match field reads from a request ("" when absent). */
struct slice match_field_text(const struct sip_msg *req, enum match_field f,
			      char *buf, size_t cap);
/* regexec on a slice (copied to NUL-terminate it) */
bool re_match_slice(const regex_t *re, struct slice s, regmatch_t *caps,
		    size_t ncaps, char *subject, size_t cap);
/* The method map's row of a method; MR_COUNT for others. */
enum method_row method_row_of(enum sip_method m, bool in_dialog);

#define POLICY_MAX_CAPS 10

#endif /* DUET_POLICY_INTERNAL_H */
