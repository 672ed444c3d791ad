/*
 * s3xml: what an S3 server answers (ListObjectsV2 pages, ListParts,
 * error bodies): entries with keys that fit, sizes that are not negative,
 * a continuation token that fits; never a read past the answer.
 */
#include "s3.h"
#include "fuzz.h"

static int
entry(void *arg, const struct rg_s3_entry *e)
{
	(void)arg;
	check(e->key != NULL);
	check(strlen(e->key) <= RG_S3_KEY_MAX);
	check(e->is_prefix || e->size >= 0);
	check(e->mtime_ns >= 0 && e->mtime_ns < 1000000000);
	return 0;
}

static int
block(void *arg, const char *b, size_t n)
{
	char out[64];

	(void)arg;
	(void)rg_s3_field(b, n, "Size", out, sizeof(out));
	(void)rg_s3_field(b, n, "Key", out, sizeof(out));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1), next[1100], text[256];
	int truncated;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);	/* exactly the answer: ASan sees past it */
	if (rg_s3_parse_list(copy, size, entry, NULL, &truncated, next,
	    sizeof(next)) == 0 && truncated)
		check(strlen(next) < sizeof(next));
	(void)rg_s3_blocks(copy, size, "Part", block, NULL);
	(void)rg_s3_text(copy, size, text, sizeof(text));
	free(copy);
	return 0;
}
