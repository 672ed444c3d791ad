/* buf.c: whole records gathered in memory, written out a buffer at a time. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rg.h"

/* Room for at least more bytes after len. */
static int
grow(struct rg_buf *b, size_t more)
{
	size_t cap;
	char *np;

	if (b->len + more <= b->cap)
		return 0;
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
