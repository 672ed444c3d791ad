/*
 * path.c: the one path builder.
 *
 * A path that does not fit is an error (ENAMETOOLONG), never a shorter
 * path: a cut path could name a parent of what was meant, and rg-rm
 * removes what paths name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base.h"

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

/*
 * A message for a person (a reason, an error): what does not fit is cut,
 * and the cut says so ("..." at its end).  Never for a path, a URL, a key
 * or anything else that names something: those go through rg_path.
 */
void
rg_msg(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (size == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		buf[0] = '\0';
	else if ((size_t)n >= size && size > 4)
		memcpy(buf + size - 4, "...", 4);
}
