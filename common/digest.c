/* digest.c: sha256 digests, held as 32 raw bytes. */
#include <string.h>

#include "base.h"

/* hex digit values; -1 for anything else (upper case is not canonical) */
static const signed char hexval[256] = {
	['0'] = 0 + 1, ['1'] = 1 + 1, ['2'] = 2 + 1, ['3'] = 3 + 1,
	['4'] = 4 + 1, ['5'] = 5 + 1, ['6'] = 6 + 1, ['7'] = 7 + 1,
	['8'] = 8 + 1, ['9'] = 9 + 1, ['a'] = 10 + 1, ['b'] = 11 + 1,
	['c'] = 12 + 1, ['d'] = 13 + 1, ['e'] = 14 + 1, ['f'] = 15 + 1
};	/* stored plus one, so that the zero default means "not hex" */

int
rg_hex_parse(const char *hex, size_t len, struct rg_digest *d)
{
	size_t i;
	int hi, lo;

	if (len != RG_HEX_LEN)
		return -1;
	for (i = 0; i < RG_DIGEST_LEN; i++) {
		hi = hexval[(unsigned char)hex[2 * i]] - 1;
		lo = hexval[(unsigned char)hex[2 * i + 1]] - 1;
		if ((hi | lo) < 0)
			return -1;
		d->b[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int
rg_digest_parse(const char *s, size_t len, struct rg_digest *d)
{
	if (len != RG_DIGEST_STRLEN || memcmp(s, "sha256:", 7) != 0)
		return -1;
	return rg_hex_parse(s + 7, RG_HEX_LEN, d);
}

void
rg_digest_hex(const struct rg_digest *d, char out[RG_HEX_LEN + 1])
{
	static const char xd[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < RG_DIGEST_LEN; i++) {
		out[2 * i] = xd[d->b[i] >> 4];
		out[2 * i + 1] = xd[d->b[i] & 0xf];
	}
	out[RG_HEX_LEN] = '\0';
}

void
rg_digest_format(const struct rg_digest *d, char out[RG_DIGEST_STRLEN + 1])
{
	memcpy(out, "sha256:", 7);
	rg_digest_hex(d, out + 7);
}

int
rg_digest_cmp(const void *a, const void *b)
{
	return memcmp(a, b, RG_DIGEST_LEN);
}

uint64_t
rg_digest_hash(const struct rg_digest *d)
{
	uint64_t h;

	/* the bytes of a sha256 are already uniformly distributed */
	memcpy(&h, d->b, sizeof(h));
	return h;
}
