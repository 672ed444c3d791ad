/*
 * jscan.c: check that a line is one JSON object, without building it, and
 * read its top-level "type" and "delete" on the way.  Filters use it to
 * pass on the records they do not look at for a fraction of the cost of a
 * parse; jansson reads the rest, and words any error.
 */
#include <stdlib.h>
#include <string.h>

#include "rg.h"

#define DEPTH_MAX	256

struct cur {
	const char *p, *end;
};

static void
ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
	    *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int
hex4(const char *p)
{
	int i;

	for (i = 0; i < 4; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
		    (p[i] >= 'A' && p[i] <= 'F')))
			return 0;
	return 1;
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
		if (*c->p == '\\') {
			*esc = 1;
			if (++c->p >= c->end)
				return -1;
			if (*c->p == 'u') {
				if (c->end - c->p < 5 || !hex4(c->p + 1))
					return -1;
				c->p += 4;
			} else if (strchr("\"\\/bfnrt", *c->p) == NULL)
				return -1;
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

static int
number(struct cur *c)
{
	if (*c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0')
		c->p++;
	else if (digits(c) != 0)
		return -1;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (digits(c) != 0)
			return -1;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (digits(c) != 0)
			return -1;
	}
	return 0;
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

/* The top-level string fields read on the way. */
static struct rg_jfield *
field_slot(struct rg_jscan *top, const char *key, size_t klen)
{
	static const char *names[RG_JSCAN_FIELDS] = { "type", "repo", "digest",
	    "tag" };
	size_t i;

	for (i = 0; i < RG_JSCAN_FIELDS; i++)
		if (strlen(names[i]) == klen && memcmp(names[i], key, klen) == 0)
			return &top->f[i];
	return NULL;
}

static int
members(struct cur *c, int depth, struct rg_jscan *top)
{
	const char *key, *val;
	struct rg_jfield *slot;
	size_t klen, vlen;
	int kesc, vesc;

	c->p++;			/* { */
	ws(c);
	if (c->p < c->end && *c->p == '}') {
		c->p++;
		return 0;
	}
	for (;;) {
		ws(c);
		if (string(c, &key, &klen, &kesc) != 0)
			return -1;
		ws(c);
		if (c->p >= c->end || *c->p++ != ':')
			return -1;
		ws(c);
		if (top != NULL && !kesc && c->p < c->end && *c->p == '"' &&
		    (slot = field_slot(top, key, klen)) != NULL) {
			if (string(c, &val, &vlen, &vesc) != 0)
				return -1;
			if (vesc)
				top->escaped = 1;
			else {
				slot->s = val;
				slot->len = vlen;
			}
		} else if (top != NULL && !kesc && klen == 4 &&
		    memcmp(key, "size", 4) == 0 && c->p < c->end &&
		    (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))) {
			val = c->p;
			if (number(c) != 0)
				return -1;
			top->size = strtoll(val, NULL, 10);
			top->has_size = 1;
		} else if (top != NULL && !kesc && ((klen == 6 &&
		    memcmp(key, "reason", 6) == 0) || (klen == 4 &&
		    memcmp(key, "kept", 4) == 0))) {
			top->marks = 1;
			if (value(c, depth + 1, NULL) != 0)
				return -1;
		} else if (top != NULL && !kesc && klen == 6 &&
		    memcmp(key, "delete", 6) == 0) {
			top->marks = 1;
			val = c->p;
			if (value(c, depth + 1, NULL) != 0)
				return -1;
			top->delete = c->p - val == 4 && memcmp(val, "true", 4) == 0;
		} else if (value(c, depth + 1, NULL) != 0)
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
		return number(c);
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
	struct cur c = { line, line + len };

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
