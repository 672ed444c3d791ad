/*
 * version: rg-select --order version sorts tags with rg_version_cmp,
 * which must be an order: the input split at NUL bytes into three tags
 * a, b, c; cmp(a, a) is 0, cmp(a, b) is -cmp(b, a), and a <= b <= c
 * gives a <= c (qsort on anything less is undefined).
 */
#include "base.h"
#include "fuzz.h"

static int
sign(int v)
{
	return (v > 0) - (v < 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 3), *a, *b, *c;
	int ab, bc, ac;

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = buf[size + 2] = '\0';
	a = buf;
	b = a + strlen(a) + 1;
	c = b + (b < buf + size + 1 ? strlen(b) + 1 : 0);
	if (c > buf + size + 2)
		c = buf + size + 2;
	check(rg_version_cmp(a, a) == 0);
	ab = sign(rg_version_cmp(a, b));
	bc = sign(rg_version_cmp(b, c));
	ac = sign(rg_version_cmp(a, c));
	check(ab == -sign(rg_version_cmp(b, a)));
	check(bc == -sign(rg_version_cmp(c, b)));
	if (ab <= 0 && bc <= 0)
		check(ac <= 0);
	if (ab >= 0 && bc >= 0)
		check(ac >= 0);
	if (ab == 0 && bc == 0)
		check(ac == 0);
	free(buf);
	return 0;
}
