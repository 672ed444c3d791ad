/*
 * path.c: the one path builder.  A path that does not fit is an error
 * (ENAMETOOLONG), never a shorter path: a cut path could name a parent
 * of what was meant, and rg-rm removes what paths name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "rg.h"

int
rg_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = rg_vpath(buf, size, fmt, ap);
	va_end(ap);
	return r;
}

int
rg_vpath(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);

	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			buf[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
