/* digest.c: sha256 digests, held as 32 raw bytes. */
#include <string.h>

#include "rg.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;	/* upper case is not canonical: the registry writes lower */
}

int
rg_hex_parse(const char *hex, size_t len, struct rg_digest *d)
{
	size_t i;
	int hi, lo;

	if (len != RG_HEX_LEN)
		return -1;
	for (i = 0; i < RG_DIGEST_LEN; i++) {
		if ((hi = hexval((unsigned char)hex[2 * i])) < 0 ||
		    (lo = hexval((unsigned char)hex[2 * i + 1])) < 0)
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
