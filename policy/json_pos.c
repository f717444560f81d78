/* SPDX-License-Identifier: MIT */
/*
 * A JSON position index (RFC 8259 grammar): one scan of the text records
 * the line and column of every value by its path, because jansson gives
 * positions for syntax errors only. The compiler looks positions up when
 * it reports an error.
 */
#include "policy_internal.h"

#include <ctype.h>
#include <string.h>

#include "duet/alloc.h"
#include "duet/err.h"

#define PATH_CAP 512

struct scan {
	const char *s;
	size_t len, i;
	unsigned line, col;
	struct json_pos *ix;
	char path[PATH_CAP];
	int err;
};

static int peek(const struct scan *sc)
{
	return sc->i < sc->len ? (unsigned char)sc->s[sc->i] : -1;
}

static void advance(struct scan *sc)
{
	unsigned char ch = (unsigned char)sc->s[sc->i++];

	if (ch == '\n') {
		sc->line++;
		sc->col = 1;
	} else if ((ch & 0xC0) != 0x80) { /* count characters, not bytes */
		sc->col++;
	}
}

static void skip_ws(struct scan *sc)
{
	int ch;

	while ((ch = peek(sc)) == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
		advance(sc);
}

static void add_entry(struct scan *sc, unsigned line, unsigned col,
		      unsigned kline, unsigned kcol)
{
	struct json_pos *ix = sc->ix;
	size_t n = strlen(sc->path) + 1;

	if (sc->err)
		return;
	if (ix->count == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 64;
		void *e = duet_realloc(ix->e, cap * sizeof(*ix->e));

		if (!e) {
			sc->err = ENOMEM;
			return;
		}
		ix->e = e;
		ix->cap = cap;
	}
	if (ix->pool_len + n > ix->pool_cap) {
		size_t cap = ix->pool_cap ? ix->pool_cap * 2 : 2048;
		char *p;

		while (cap < ix->pool_len + n)
			cap *= 2;
		p = duet_realloc(ix->pool, cap);
		if (!p) {
			sc->err = ENOMEM;
			return;
		}
		ix->pool = p;
		ix->pool_cap = cap;
	}
	memcpy(ix->pool + ix->pool_len, sc->path, n);
	ix->e[ix->count++] = (struct json_pos_entry){ .path = ix->pool_len,
						      .line = line,
						      .col = col,
						      .kline = kline,
						      .kcol = kcol };
	ix->pool_len += n;
}

static void put_utf8(char *out, size_t cap, size_t *n, unsigned long cp)
{
	char b[4];
	size_t k;

	if (cp < 0x80) {
		b[0] = (char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		k = 3;
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		k = 4;
	}
	for (size_t j = 0; j < k && *n + 1 < cap; j++)
		out[(*n)++] = b[j];
}

static unsigned long hex4(struct scan *sc)
{
	unsigned long v = 0;

	for (int k = 0; k < 4; k++) {
		int ch = peek(sc);

		if (ch < 0 || !isxdigit(ch)) {
			sc->err = EBADMSG;
			return 0;
		}
		v = v * 16 +
		    (unsigned long)(isdigit(ch) ? ch - '0'
						: (tolower(ch) - 'a' + 10));
		advance(sc);
	}
	return v;
}

/* A string at sc->i ('"'); its decoded text (truncated) into out. */
static void string(struct scan *sc, char *out, size_t cap)
{
	size_t n = 0;
	int ch;

	advance(sc); /* the opening quote */
	while (!sc->err && (ch = peek(sc)) != '"') {
		if (ch < 0) {
			sc->err = EBADMSG;
			break;
		}
		advance(sc);
		if (ch == '\\') {
			unsigned long cp;

			ch = peek(sc);
			if (ch < 0) {
				sc->err = EBADMSG;
				break;
			}
			advance(sc);
			switch (ch) {
			case 'b':
				ch = '\b';
				break;
			case 'f':
				ch = '\f';
				break;
			case 'n':
				ch = '\n';
				break;
			case 'r':
				ch = '\r';
				break;
			case 't':
				ch = '\t';
				break;
			case 'u':
				cp = hex4(sc);
				if (cp >= 0xD800 && cp < 0xDC00 &&
				    peek(sc) == '\\') {
					advance(sc);
					advance(sc); /* 'u' */
					cp = 0x10000 + ((cp - 0xD800) << 10) +
					     (hex4(sc) - 0xDC00);
				}
				if (out)
					put_utf8(out, cap, &n, cp);
				continue;
			default:
				break; /* '"', '\\', '/' */
			}
		}
		if (out && n + 1 < cap)
			out[n++] = (char)ch;
	}
	if (!sc->err)
		advance(sc); /* the closing quote */
	if (out)
		out[n] = '\0';
}

static void value(struct scan *sc, unsigned kline, unsigned kcol,
		  unsigned depth);

static void object(struct scan *sc, unsigned depth)
{
	size_t save = strlen(sc->path);
	char key[256];

	advance(sc);
	skip_ws(sc);
	if (peek(sc) == '}') {
		advance(sc);
		return;
	}
	while (!sc->err) {
		unsigned kline, kcol;

		skip_ws(sc);
		if (peek(sc) != '"') {
			sc->err = EBADMSG;
			return;
		}
		kline = sc->line;
		kcol = sc->col;
		string(sc, key, sizeof(key));
		skip_ws(sc);
		if (peek(sc) != ':') {
			sc->err = EBADMSG;
			return;
		}
		advance(sc);
		json_path_key(sc->path, sizeof(sc->path), key);
		value(sc, kline, kcol, depth + 1);
		sc->path[save] = '\0';
		skip_ws(sc);
		if (peek(sc) == ',') {
			advance(sc);
		} else if (peek(sc) == '}') {
			advance(sc);
			return;
		} else {
			sc->err = EBADMSG;
		}
	}
}

static void array(struct scan *sc, unsigned depth)
{
	size_t save = strlen(sc->path);

	advance(sc);
	skip_ws(sc);
	if (peek(sc) == ']') {
		advance(sc);
		return;
	}
	for (size_t i = 0; !sc->err; i++) {
		json_path_index(sc->path, sizeof(sc->path), i);
		value(sc, 0, 0, depth + 1);
		sc->path[save] = '\0';
		skip_ws(sc);
		if (peek(sc) == ',') {
			advance(sc);
		} else if (peek(sc) == ']') {
			advance(sc);
			return;
		} else {
			sc->err = EBADMSG;
		}
	}
}

static void value(struct scan *sc, unsigned kline, unsigned kcol,
		  unsigned depth)
{
	int ch;

	skip_ws(sc);
	if (depth > 2048) {
		sc->err = EBADMSG;
		return;
	}
	add_entry(sc, sc->line, sc->col, kline, kcol);
	ch = peek(sc);
	if (ch == '{') {
		object(sc, depth);
	} else if (ch == '[') {
		array(sc, depth);
	} else if (ch == '"') {
		string(sc, NULL, 0);
	} else if (ch < 0) {
		sc->err = EBADMSG;
	} else {
		/* number, true, false, null */
		while ((ch = peek(sc)) >= 0 && !strchr(",]} \t\r\n", ch))
			advance(sc);
	}
}

int json_pos_index(struct json_pos *ix, const char *text, size_t len)
{
	struct scan sc = {
		.s = text, .len = len, .line = 1, .col = 1, .ix = ix
	};

	*ix = (struct json_pos){ 0 };
	value(&sc, 0, 0, 0);
	if (sc.err)
		json_pos_free(ix);
	return sc.err;
}

void json_pos_free(struct json_pos *ix)
{
	duet_free(ix->e);
	duet_free(ix->pool);
	*ix = (struct json_pos){ 0 };
}

const struct json_pos_entry *json_pos_find(const struct json_pos *ix,
					   const char *path)
{
	char p[PATH_CAP];

	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		char *dot, *br;

		for (size_t i = 0; i < ix->count; i++)
			if (strcmp(ix->pool + ix->e[i].path, p) == 0)
				return &ix->e[i];
		if (!*p)
			return NULL;
		dot = strrchr(p, '.');
		br = strrchr(p, '[');
		if (!dot && !br)
			p[0] = '\0';
		else
			*(dot > br ? dot : br) = '\0';
	}
}

static bool plain_key(const char *k)
{
	if (!*k || isdigit((unsigned char)*k))
		return false;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_' && *k != '-')
			return false;
	return true;
}

void json_path_key(char *path, size_t cap, const char *key)
{
	size_t n = strlen(path);

	if (n + 8 >= cap)
		return;
	if (plain_key(key)) {
		snprintf(path + n, cap - n, "%s%s", n ? "." : "", key);
		return;
	}
	n += (size_t)snprintf(path + n, cap - n, "[\"");
	for (; *key && n + 4 < cap; key++) {
		if (*key == '"' || *key == '\\')
			path[n++] = '\\';
		path[n++] = *key;
	}
	if (n + 3 <= cap)
		snprintf(path + n, cap - n, "\"]");
	else
		path[cap - 1] = '\0';
}

void json_path_index(char *path, size_t cap, size_t i)
{
	size_t n = strlen(path);

	if (n + 1 < cap)
		snprintf(path + n, cap - n, "[%zu]", i);
}
