/* time.c: RFC 3339 times.  rg writes them in UTC with whole seconds, so that
 * they compare as strings; it reads any offset and fraction. */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

static int
digits(const char **p, int n, int *v)
{
	*v = 0;
	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		*v = *v * 10 + (*(*p)++ - '0');
	}
	return 0;
}

/*
 * YYYY-MM-DD, optionally followed by [T ]HH:MM[:SS[.frac]] and Z or +HH:MM;
 * no zone means UTC.
 */
int
rg_time_parse(const char *s, time_t *t)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh, om, sign;
	long off = 0;

	memset(&tm, 0, sizeof(tm));
	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d))
		return -1;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
			return -1;
		if (*s == ':') {
			s++;
			if (digits(&s, 2, &sec))
				return -1;
			if (*s == '.') {
				s++;
				if (!isdigit((unsigned char)*s))
					return -1;
				while (isdigit((unsigned char)*s))
					s++;
			}
		}
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			sign = *s++ == '-' ? -1 : 1;
			if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om) ||
			    oh > 23 || om > 59)
				return -1;
			off = sign * (oh * 3600L + om * 60L);
		}
	}
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*t = timegm(&tm) - off;
	return 0;
}

/*
 * t in RFC 3339, four digits of year as rg_time_parse reads them: years
 * before 1 (and before 1000, Go's zero time 0001-01-01 among them) as they
 * are, times before year 0 as its first second, after 9999 as its last.
 */
void
rg_time_format(time_t t, char out[RG_TIME_STRLEN + 1])
{
	static const time_t first = -62167219200LL;	/* 0000-01-01T00:00:00Z */
	static const time_t last = 253402300799LL;	/* 9999-12-31T23:59:59Z */
	struct tm tm;

	t = t < first ? first : t > last ? last : t;
	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));	/* (cannot fail in range) */
	snprintf(out, RG_TIME_STRLEN + 1, "%04u-%02u-%02uT%02u:%02u:%02uZ",
	    (unsigned)(tm.tm_year + 1900) % 10000, (unsigned)(tm.tm_mon + 1) % 100,
	    (unsigned)tm.tm_mday % 100, (unsigned)tm.tm_hour % 100,
	    (unsigned)tm.tm_min % 100, (unsigned)tm.tm_sec % 100);
}

/*
 * A duration: one or more <number><unit>, units s, m, h, d, w
 * ("90d", "12h", "1d12h").  Seconds in *secs; -1 when malformed, -2 when
 * longer than RG_DURATION_MAX (now - secs would be before year 0).
 */
int
rg_duration_parse(const char *s, long long *secs)
{
	long long total = 0, n, unit;

	if (*s == '\0')
		return -1;
	if (strspn(s, "0") == strlen(s)) {	/* a bare 0: no unit needed */
		*secs = 0;
		return 0;
	}
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -1;
		for (n = 0; isdigit((unsigned char)*s); s++) {
			if (n > RG_DURATION_MAX)
				return -2;
			n = n * 10 + (*s - '0');
		}
		switch (*s++) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: return -1;
		}
		if (n > RG_DURATION_MAX / unit ||
		    (total += n * unit) > RG_DURATION_MAX)
			return -2;	/* longer than any time rg reads */
	}
	*secs = total;
	return 0;
}

/* A date given to option opt; -1 (reported) when it is not one. */
int
rg_date_arg(const char *opt, const char *arg, time_t *t)
{
	if (rg_time_parse(arg, t) == 0)
		return 0;
	warnx("%s: %s: not a date: RFC 3339 or YYYY-MM-DD[THH:MM:SS]", opt, arg);
	return -1;
}

/* A duration given to option opt; -1 (reported) when it is not one. */
int
rg_duration_arg(const char *opt, const char *arg, long long *secs)
{
	int r = rg_duration_parse(arg, secs);

	if (r == 0)
		return 0;
	if (r == -2)
		warnx("%s: %s: longer than 10000 years", opt, arg);
	else
		warnx("%s: %s: not a duration such as 90d, 12h, 2w", opt, arg);
	return -1;
}

/* A number from lo to hi given to opt; -1 (reported) when arg is not one. */
int
rg_count_arg(const char *opt, const char *arg, long lo, long hi, long *n)
{
	char *end;

	errno = 0;
	*n = strtol(arg, &end, 10);
	if (end != arg && *end == '\0' && errno == 0 && *n >= lo && *n <= hi)
		return 0;
	warnx("%s: %s: not a number from %ld to %ld", opt, arg, lo, hi);
	return -1;
}

/*
 * A time window from --older-than, --before and --after, all bounds
 * exclusive; given twice, the narrower bound holds.  which is 'O', 'b' or
 * 'a'; -1 (reported) when arg is not a duration or date.
 */
int
rg_window_set(struct rg_window *w, int which, const char *opt, const char *arg,
    time_t now)
{
	long long secs;
	time_t t;

	if (which == 'O') {
		if (rg_duration_arg(opt, arg, &secs) != 0)
			return -1;
		t = now - (time_t)secs;
		w->before = w->has_before && w->before < t ? w->before : t;
		w->has_before = 1;
		return 0;
	}
	if (rg_date_arg(opt, arg, &t) != 0)
		return -1;
	if (which == 'b') {
		w->before = w->has_before && w->before < t ? w->before : t;
		w->has_before = 1;
	} else {
		w->after = w->has_after && w->after > t ? w->after : t;
		w->has_after = 1;
	}
	return 0;
}

int
rg_window_set_any(const struct rg_window *w)
{
	return w->has_before || w->has_after;
}

int
rg_window_holds(const struct rg_window *w, time_t t)
{
	return (!w->has_before || t < w->before) && (!w->has_after || t > w->after);
}
