/* buf.c: whole records gathered in memory, written out a buffer at a time. */
#include <stdlib.h>
#include <string.h>

#include "rg.h"

static int
buf_append(const char *p, size_t size, void *arg)
{
	struct rg_buf *b = arg;
	size_t cap;
	char *np;

	if (b->len + size > b->cap) {
		for (cap = b->cap ? b->cap : 4096; cap < b->len + size; cap *= 2)
			;
		if ((np = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, size);
	b->len += size;
	return 0;
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
