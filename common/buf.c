/* buf.c: whole records gathered in memory, written out a buffer at a time. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

/* Room for at least more bytes after len. */
static int
grow(struct rg_buf *b, size_t more)
{
	size_t cap;
	char *np;

	if (b->p != NULL && b->len + more <= b->cap)
		return 0;	/* (an empty buffer gets its memory: no NULL + 0) */
	for (cap = b->cap ? b->cap : 4096; cap < b->len + more; cap *= 2)
		;
	if ((np = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = np;
	b->cap = cap;
	return 0;
}

static int
buf_append(const char *p, size_t size, void *arg)
{
	struct rg_buf *b = arg;

	if (grow(b, size) == -1)
		return -1;
	memcpy(b->p + b->len, p, size);
	b->len += size;
	return 0;
}

/* Append n bytes; -1 when out of memory. */
int
rg_buf_add(struct rg_buf *b, const void *p, size_t n)
{
	return buf_append(p, n, b);
}

/* Append rec as one line and release it; -1 when out of memory. */
int
rg_buf_record(struct rg_buf *b, json_t *rec)
{
	int r = json_dump_callback(rec, buf_append, b,
	    JSON_COMPACT | JSON_ENSURE_ASCII);

	json_decref(rec);
	return r == 0 ? buf_append("\n", 1, b) : -1;
}

/*
 * Record fields written straight into the buffer, byte for byte as
 * rg_buf_record would write them (jansson, JSON_COMPACT |
 * JSON_ENSURE_ASCII, keys in the order added), without building a tree:
 * rg-scan writes a record per manifest and tag.  Keys are literals.
 */

/* a string value: plain ASCII copied, anything else as jansson writes it */
static int
jstr(struct rg_buf *b, const char *v)
{
	const unsigned char *p;
	json_t *j;
	int r;

	for (p = (const unsigned char *)v; *p >= 0x20 && *p < 0x7f && *p != '"' &&
	    *p != '\\'; p++)
		;
	if (*p == '\0')
		return rg_buf_add(b, "\"", 1) == -1 ||
		    rg_buf_add(b, v, (size_t)((const char *)p - v)) == -1 ||
		    rg_buf_add(b, "\"", 1) == -1 ? -1 : 0;
	if ((j = json_string(v)) == NULL)
		return 1;	/* not UTF-8: jansson would leave the key out */
	r = json_dump_callback(j, buf_append, b, JSON_COMPACT | JSON_ENSURE_ASCII |
	    JSON_ENCODE_ANY);
	json_decref(j);
	return r;
}

/* {"type":type[,"repo":repo] */
int
rg_buf_jopen(struct rg_buf *b, const char *type, const char *repo)
{
	if (rg_buf_printf(b, "{\"type\":") == -1 || jstr(b, type) == -1)
		return -1;
	return repo != NULL ? rg_buf_jstr(b, RG_F_REPO, repo) : 0;
}

/* ,"key":"v"; nothing when v is NULL or not UTF-8 (as json_string would) */
int
rg_buf_jstr(struct rg_buf *b, const char *key, const char *v)
{
	size_t len = b->len;
	int r;

	if (v == NULL)
		return 0;
	if (rg_buf_printf(b, ",\"%s\":", key) == -1 || (r = jstr(b, v)) == -1)
		return -1;
	if (r == 1)
		b->len = len;
	return 0;
}

int
rg_buf_jint(struct rg_buf *b, const char *key, long long v)
{
	return rg_buf_printf(b, ",\"%s\":%lld", key, v);
}

/* ,"key":v for any JSON value (v alone when key is NULL); nothing when v is NULL */
int
rg_buf_json(struct rg_buf *b, const char *key, const json_t *v)
{
	if (v == NULL)
		return 0;
	if (key != NULL && rg_buf_printf(b, ",\"%s\":", key) == -1)
		return -1;
	if (json_is_string(v))
		return jstr(b, json_string_value(v)) == -1 ? -1 : 0;
	return json_dump_callback(v, buf_append, b, JSON_COMPACT |
	    JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
}

/* ,"key":["sha256:...",...]: the digests of refs */
int
rg_buf_jdigests(struct rg_buf *b, const char *key, const struct rg_refs *r)
{
	char ds[RG_DIGEST_STRLEN + 4];
	size_t i;

	if (rg_buf_printf(b, ",\"%s\":[", key) == -1)
		return -1;
	for (i = 0; i < r->n; i++) {
		ds[0] = i ? ',' : '"';
		ds[1] = '"';
		rg_digest_format(&r->v[i].digest, ds + 2);
		ds[RG_DIGEST_STRLEN + 2] = '"';
		if (rg_buf_add(b, i ? ds : ds + 1, i ? RG_DIGEST_STRLEN + 3 :
		    RG_DIGEST_STRLEN + 2) == -1)
			return -1;
	}
	return rg_buf_add(b, "]", 1);
}

/* } and the end of the line */
int
rg_buf_jclose(struct rg_buf *b)
{
	return rg_buf_add(b, "}\n", 2);
}

/* Write out and empty the buffer; -1 when the write fails. */
int
rg_buf_write(struct rg_buf *b, FILE *out)
{
	size_t len = b->len;

	b->len = 0;
	if (len == 0)
		return 0;
	return fwrite(b->p, 1, len, out) == len && fflush(out) != EOF ? 0 : -1;
}

void
rg_buf_free(struct rg_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/*
 * Append formatted text.  For records whose every field is already known to
 * need no JSON escaping (digests, times, numbers, validated names): much
 * cheaper than building them as JSON trees, where there are many of them.
 */
int
rg_buf_printf(struct rg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (grow(b, 1) == -1)
		return -1;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return 0;
		}
		if (grow(b, (size_t)n + 1) == -1)
			return -1;
	}
}
