/*
 * version.c: ordering tags as versions.
 *
 * "v1.10" comes after "1.9": runs of digits compare as numbers, other runs
 * as strings, a leading v is ignored; a pre-release or build suffix (after
 * '-' or '+') comes before the plain version ("1.2.0-rc1" < "1.2.0").
 * Names that do not start with a digit (latest, main) are not versions:
 * they come before every version, in byte order among themselves.
 */
#include <ctype.h>
#include <string.h>

#include "base.h"

static const char *
skip_v(const char *s)
{
	return ((*s == 'v' || *s == 'V') && isdigit((unsigned char)s[1])) ? s + 1 : s;
}

/* Compare runs of a and b up to the lengths given. */
static int
runs_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	const char *ae = a + alen, *be = b + blen, *x, *y;
	size_t n, m;
	int da, db, c;

	while (a < ae && b < be) {
		da = !!isdigit((unsigned char)*a);
		db = !!isdigit((unsigned char)*b);
		if (da != db)
			return da ? 1 : -1;	/* a number beats a word */
		for (x = a; x < ae && !!isdigit((unsigned char)*x) == da; x++)
			;
		for (y = b; y < be && !!isdigit((unsigned char)*y) == db; y++)
			;
		if (da) {
			while (a < x - 1 && *a == '0')
				a++;
			while (b < y - 1 && *b == '0')
				b++;
		}
		n = (size_t)(x - a);
		m = (size_t)(y - b);
		if (da && n != m)
			return n < m ? -1 : 1;
		if ((c = memcmp(a, b, n < m ? n : m)) != 0)
			return c < 0 ? -1 : 1;
		if (n != m)
			return n < m ? -1 : 1;
		a = x;
		b = y;
	}
	if (a < ae || b < be)
		return a < ae ? 1 : -1;		/* 1.2.1 after 1.2 */
	return 0;
}

int
rg_version_cmp(const char *a, const char *b)
{
	size_t am, bm;
	int av, bv, c;

	a = skip_v(a);
	b = skip_v(b);
	av = isdigit((unsigned char)*a);
	bv = isdigit((unsigned char)*b);
	if (!av || !bv) {
		if (av != bv)
			return av ? 1 : -1;
		c = strcmp(a, b);
		return c < 0 ? -1 : c > 0;
	}
	am = strcspn(a, "-+");
	bm = strcspn(b, "-+");
	if ((c = runs_cmp(a, am, b, bm)) != 0)
		return c;
	if (a[am] == '\0' || b[bm] == '\0')
		return a[am] == b[bm] ? 0 : a[am] == '\0' ? 1 : -1;
	return runs_cmp(a + am + 1, strlen(a + am + 1), b + bm + 1,
	    strlen(b + bm + 1));
}
