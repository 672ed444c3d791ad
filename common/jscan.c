/*
 * jscan.c: check that a line is one JSON object, without building it, and
 * read its top-level "type" and "delete" on the way.  Filters use it to
 * pass on the records they do not look at for a fraction of the cost of a
 * parse; jansson reads the rest, and words any error.
 */
#include <stdlib.h>
#include <string.h>

#include "records.h"

#define DEPTH_MAX	256

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
			*esc = c->esc = 1;
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

static int
members(struct cur *c, int depth, struct rg_jscan *top)
{
	const char *key, *val;
	size_t klen;
	int kesc;

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
		if (top != NULL && kesc)
			top->escaped = 1;	/* it may spell a field read here */
		if (top == NULL || kesc) {
			if (value(c, depth + 1, NULL) != 0)
				return -1;
		} else if (klen == 4 && memcmp(key, RG_F_SIZE, 4) == 0 && c->p < c->end &&
		    (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))) {
			val = c->p;
			if (number(c) != 0)
				return -1;
			top->size = strtoll(val, NULL, 10);
			top->has_size = 1;
		} else if ((klen == 6 && memcmp(key, RG_F_REASON, 6) == 0) ||
		    (klen == 4 && memcmp(key, RG_F_KEPT, 4) == 0)) {
			top->marks = top->noted = 1;
			if (value(c, depth + 1, NULL) != 0)
				return -1;
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
	struct cur c = { j->f[f].s, j->f[f].s + j->f[f].len, 0 };

	if (c.p == NULL || *c.p != '[')
		return -1;
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
