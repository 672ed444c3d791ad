/*
 * jscan.c: a line checked as one JSON object, without building it.
 *
 * It reads the line's top-level "type" and "delete" on the way.  Filters
 * use it to pass on the records they do not look at for a fraction of the
 * cost of a parse; jansson reads the rest, and words any error.  What it
 * accepts, jansson accepts as rg_parse_line asks (no duplicate keys,
 * UTF-8, no \u0000, paired surrogates, integers in range, reals that do
 * not overflow), with the same values: tests/fuzz/records checks it.  What
 * it cannot tell cheaply (escaped keys, objects of many keys, deep
 * nesting) it leaves to jansson (-1).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

#define DEPTH_MAX	256
#define KEYS_MAX	32	/* keys of an object checked for duplicates here */

struct cur {
	const char *p, *end;
	int esc;		/* a string since it was cleared had escapes */
};

static void
ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
	    *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* the code of the 4 hex digits at p (at least 4 bytes), or -1 */
static long
hex4(const char *p)
{
	long v = 0;
	int i, d;

	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			d = p[i] - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * The \u escape at c->p (on the u): a code point jansson takes, a
 * surrogate pair in two; c->p on its last digit.  -1 when not one.
 */
static int
uescape(struct cur *c)
{
	long u, lo;

	if (c->end - c->p < 5 || (u = hex4(c->p + 1)) <= 0)
		return -1;	/* (\u0000: jansson refuses it) */
	c->p += 4;
	if (u >= 0xDC00 && u <= 0xDFFF)
		return -1;	/* a low surrogate alone */
	if (u < 0xD800 || u > 0xDBFF)
		return 0;
	if (c->end - c->p < 7 || c->p[1] != '\\' || c->p[2] != 'u' ||
	    (lo = hex4(c->p + 3)) < 0xDC00 || lo > 0xDFFF)
		return -1;	/* a high one without its low one */
	c->p += 6;
	return 0;
}

/* The UTF-8 sequence at c->p (a byte >= 0x80), as jansson checks it. */
static int
utf8(struct cur *c)
{
	const unsigned char *p = (const unsigned char *)c->p;
	unsigned char b = *p;
	long v, min;
	int n, i;

	if (b >= 0xC2 && b <= 0xDF)
		n = 2, v = b & 0x1F, min = 0x80;
	else if (b >= 0xE0 && b <= 0xEF)
		n = 3, v = b & 0x0F, min = 0x800;
	else if (b >= 0xF0 && b <= 0xF4)
		n = 4, v = b & 0x07, min = 0x10000;
	else
		return -1;
	if (c->end - c->p < n)
		return -1;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return -1;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return -1;
	c->p += n - 1;
	return 0;
}

/* A string; its contents (between the quotes) in *s, *n; *esc if escaped. */
static int
string(struct cur *c, const char **s, size_t *n, int *esc)
{
	if (c->p >= c->end || *c->p != '"')
		return -1;
	*s = ++c->p;
	*esc = 0;
	while (c->p < c->end && *c->p != '"') {
		if ((unsigned char)*c->p < 0x20)
			return -1;
		if ((unsigned char)*c->p >= 0x80 && utf8(c) != 0)
			return -1;
		if (*c->p == '\\') {
			*esc = c->esc = 1;
			if (++c->p >= c->end)
				return -1;
			if (*c->p == 'u') {
				if (uescape(c) != 0)
					return -1;
			} else if (*c->p == '\0' ||
			    strchr("\"\\/bfnrt", *c->p) == NULL)
				return -1;	/* (strchr finds the NUL) */
		}
		c->p++;
	}
	if (c->p >= c->end)
		return -1;
	*n = (size_t)(c->p++ - *s);
	return 0;
}

static int
digits(struct cur *c)
{
	const char *start = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > start ? 0 : -1;
}

/*
 * A number, into *i when it is an integer (else 0, as jansson's
 * json_integer_value of a real): -1 when not one, or out of the range
 * jansson reads (a long long; a double that does not overflow).
 */
static int
number(struct cur *c, long long *i)
{
	const char *start = c->p;
	char buf[64], *text = buf, *end;
	int real = 0, r = 0;
	size_t n;
	double d;

	if (*c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0')
		c->p++;
	else if (digits(c) != 0)
		return -1;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		real = 1;
		if (digits(c) != 0)
			return -1;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		real = 1;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (digits(c) != 0)
			return -1;
	}
	/* its value from a terminated copy: the line may end with it */
	n = (size_t)(c->p - start);
	if (n >= sizeof(buf) && (text = malloc(n + 1)) == NULL)
		rg_nomem();
	memcpy(text, start, n);
	text[n] = '\0';
	errno = 0;
	*i = 0;
	if (!real) {
		*i = strtoll(text, &end, 10);
		r = errno == ERANGE ? -1 : 0;
	} else {
		d = strtod(text, &end);
		r = errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL) ? -1 : 0;
	}
	if (text != buf)
		free(text);
	return r;
}

static int
word(struct cur *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
		return -1;
	c->p += n;
	return 0;
}

static int value(struct cur *c, int depth, struct rg_jscan *top);

/*
 * The top-level fields read on the way: strings (their contents), lists
 * (the raw array, whose strings must be free of escapes), or only whether
 * they are there.
 */
enum { STRING, LIST, PRESENT };

#define F(name)	name, sizeof(name) - 1
static const struct {
	const char *name;
	size_t len;
	int kind;
} fields[RG_JSCAN_FIELDS] = {
	[RG_JS_TYPE] = { F(RG_F_TYPE), STRING },
	[RG_JS_REPO] = { F(RG_F_REPO), STRING },
	[RG_JS_DIGEST] = { F(RG_F_DIGEST), STRING },
	[RG_JS_TAG] = { F(RG_F_TAG), STRING },
	[RG_JS_SUBJECT] = { F(RG_F_SUBJECT), STRING },
	[RG_JS_BLOBS] = { F(RG_F_BLOBS), LIST },
	[RG_JS_MANIFESTS] = { F(RG_F_MANIFESTS), LIST },
	[RG_JS_FOREIGN] = { F(RG_F_FOREIGN), LIST },
	[RG_JS_ERROR] = { F(RG_F_ERROR), PRESENT },
	[RG_JS_REPO_FILTER] = { F(RG_F_REPO_FILTER), PRESENT },
	[RG_JS_TAGS] = { F(RG_F_TAGS), LIST },
};

static int
field(struct cur *c, int depth, struct rg_jscan *top, const char *key, size_t klen)
{
	const char *val = c->p;
	size_t i, vlen;
	int esc;

	for (i = 0; i < RG_JSCAN_FIELDS; i++)
		if (fields[i].len == klen && memcmp(fields[i].name, key, klen) == 0)
			break;
	if (i == RG_JSCAN_FIELDS)
		return value(c, depth + 1, NULL);
	if (fields[i].kind == STRING && c->p < c->end && *c->p == '"') {
		if (string(c, &val, &vlen, &esc) != 0)
			return -1;
		if (esc)
			top->escaped = 1;
		else {
			top->f[i].s = val;
			top->f[i].len = vlen;
		}
		return 0;
	}
	c->esc = 0;
	if (value(c, depth + 1, NULL) != 0)
		return -1;
	if (fields[i].kind == STRING)
		return 0;
	if (fields[i].kind == LIST && c->esc)
		top->escaped = 1;
	top->f[i].s = val;
	top->f[i].len = (size_t)(c->p - val);
	return 0;
}

/*
 * Is the key new in its object?  Keys are compared as written: an escaped
 * one, or one past KEYS_MAX, leaves the object to jansson (-1).
 */
static int
new_key(const char **keys, size_t *lens, size_t *nkeys, const char *key,
    size_t klen, int kesc)
{
	size_t i;

	if (kesc || *nkeys == KEYS_MAX)
		return -1;
	for (i = 0; i < *nkeys; i++)
		if (lens[i] == klen && memcmp(keys[i], key, klen) == 0)
			return -1;	/* a duplicate: jansson refuses the line */
	keys[*nkeys] = key;
	lens[(*nkeys)++] = klen;
	return 0;
}

static int
members(struct cur *c, int depth, struct rg_jscan *top)
{
	const char *key, *val, *keys[KEYS_MAX];
	size_t klen, lens[KEYS_MAX], nkeys = 0;
	int kesc;

	c->p++;			/* { */
	ws(c);
	if (c->p < c->end && *c->p == '}') {
		c->p++;
		return 0;
	}
	for (;;) {
		ws(c);
		if (string(c, &key, &klen, &kesc) != 0 ||
		    new_key(keys, lens, &nkeys, key, klen, kesc) != 0)
			return -1;
		ws(c);
		if (c->p >= c->end || *c->p++ != ':')
			return -1;
		ws(c);
		if (top == NULL) {
			if (value(c, depth + 1, NULL) != 0)
				return -1;
		} else if (klen == 4 && memcmp(key, RG_F_SIZE, 4) == 0 && c->p < c->end &&
		    (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))) {
			if (number(c, &top->size) != 0)
				return -1;
			top->has_size = 1;
		} else if ((klen == 6 && memcmp(key, RG_F_REASON, 6) == 0) ||
		    (klen == 4 && memcmp(key, RG_F_KEPT, 4) == 0)) {
			top->marks = top->noted = 1;
			if (value(c, depth + 1, NULL) != 0)
				return -1;
		} else if (klen == 9 && memcmp(key, RG_F_PROTECTED, 9) == 0) {
			val = c->p;
			if (value(c, depth + 1, NULL) != 0)
				return -1;
			top->protect = c->p - val == 4 && memcmp(val, "true", 4) == 0;
		} else if (klen == 6 && memcmp(key, RG_F_DELETE, 6) == 0) {
			top->marks = 1;
			val = c->p;
			if (value(c, depth + 1, NULL) != 0)
				return -1;
			top->delete = c->p - val == 4 && memcmp(val, "true", 4) == 0;
		} else if (field(c, depth, top, key, klen) != 0)
			return -1;
		ws(c);
		if (c->p >= c->end)
			return -1;
		if (*c->p == '}') {
			c->p++;
			return 0;
		}
		if (*c->p++ != ',')
			return -1;
	}
}

static int
elements(struct cur *c, int depth)
{
	c->p++;			/* [ */
	ws(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
		return 0;
	}
	for (;;) {
		if (value(c, depth + 1, NULL) != 0)
			return -1;
		ws(c);
		if (c->p >= c->end)
			return -1;
		if (*c->p == ']') {
			c->p++;
			return 0;
		}
		if (*c->p++ != ',')
			return -1;
	}
}

static int
value(struct cur *c, int depth, struct rg_jscan *top)
{
	const char *s;
	long long i;
	size_t n;
	int esc;

	ws(c);
	if (c->p >= c->end || depth > DEPTH_MAX)
		return -1;
	switch (*c->p) {
	case '{': return members(c, depth, top);
	case '[': return elements(c, depth);
	case '"': return string(c, &s, &n, &esc);
	case 't': return word(c, "true");
	case 'f': return word(c, "false");
	case 'n': return word(c, "null");
	}
	if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
		return number(c, &i);
	return -1;
}

/*
 * Is line one JSON object?  Then 0, with its top-level "type", "repo",
 * "digest" and "tag" (when strings without escapes; escaped is set when one
 * had escapes), "size", whether "delete" is true, and whether any of
 * "delete", "reason" and "kept" is there at all, in *out.  -1
 * when it is not: parse it with jansson to say why.
 */
int
rg_jscan(const char *line, size_t len, struct rg_jscan *out)
{
	struct cur c = { line, line + len, 0 };

	memset(out, 0, sizeof(*out));
	ws(&c);
	if (c.p >= c.end || *c.p != '{' || members(&c, 0, out) != 0)
		return -1;
	ws(&c);
	return c.p == c.end ? 0 : -1;
}

/* Is the scanned field f equal to s? */
int
rg_jscan_is(const struct rg_jscan *j, int f, const char *s)
{
	return j->f[f].s != NULL && j->f[f].len == strlen(s) &&
	    memcmp(j->f[f].s, s, j->f[f].len) == 0;
}

/* Copy field f into buf; -1 when it is absent or longer than size - 1. */
int
rg_jscan_copy(const struct rg_jscan *j, int f, char *buf, size_t size)
{
	if (j->f[f].s == NULL || j->f[f].len >= size)
		return -1;
	memcpy(buf, j->f[f].s, j->f[f].len);
	buf[j->f[f].len] = '\0';
	return 0;
}

/* A list of strings: a parsed array, or the raw one of a scanned field. */
void
rg_jlist_json(struct rg_jlist *l, const json_t *array)
{
	memset(l, 0, sizeof(*l));
	l->json = array;
}

void
rg_jlist_field(struct rg_jlist *l, const struct rg_jscan *j, int f)
{
	memset(l, 0, sizeof(*l));
	if ((l->p = j->f[f].s) != NULL && *l->p == '[')
		l->end = l->p + j->f[f].len;
	else
		l->p = l->end = NULL;
}

/* Is list field f an empty array?  -1 when it is not an array. */
int
rg_jlist_empty(const struct rg_jscan *j, int f)
{
	struct cur c = { j->f[f].s, NULL, 0 };

	if (c.p == NULL || *c.p != '[')
		return -1;
	c.end = c.p + j->f[f].len;
	c.p++;
	ws(&c);
	return c.p < c.end && *c.p == ']';
}

/*
 * The next string of the list, in buf; NULL at the end.  Elements that
 * are not strings, or do not fit in size, are skipped.  A scanned list
 * is known to be valid JSON without escapes (rg_jscan).
 */
const char *
rg_jlist_next(struct rg_jlist *l, char *buf, size_t size)
{
	struct cur c;
	const char *s;
	size_t n;
	int esc;
	json_t *v;

	while (l->json != NULL && l->i < json_array_size(l->json)) {
		v = json_array_get(l->json, l->i++);
		if (json_is_string(v) && json_string_length(v) < size) {
			memcpy(buf, json_string_value(v), json_string_length(v) + 1);
			return buf;
		}
	}
	c.p = l->p;
	c.end = l->end;
	while (c.p != NULL && c.p < c.end) {
		c.p++;		/* [ or , */
		ws(&c);
		if (c.p >= c.end || *c.p == ']')
			break;
		if (*c.p == '"') {
			if (string(&c, &s, &n, &esc) != 0)
				break;
			if (n >= size || esc) {
				ws(&c);
				continue;
			}
			memcpy(buf, s, n);
			buf[n] = '\0';
			ws(&c);
			l->p = c.p;
			return buf;
		}
		if (value(&c, 1, NULL) != 0)
			break;
		ws(&c);
	}
	l->p = l->end = NULL;
	return NULL;
}
