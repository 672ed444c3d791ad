/* regex.c: PCRE2 patterns for options, compiled once, reported by name. */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "base.h"

struct rg_regex {
	pcre2_code *code;
	pcre2_match_data *md;
};

/* Compile pattern, given to option opt; NULL (reported) when it is bad. */
struct rg_regex *
rg_regex_new(const char *opt, const char *pattern)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	struct rg_regex *re;
	int code;

	if ((re = calloc(1, sizeof(*re))) == NULL) {
		warn(NULL);
		return NULL;
	}
	re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0,
	    &code, &off, NULL);
	if (re->code == NULL) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		warnx("%s: %s: at offset %zu: %s", opt, pattern, (size_t)off,
		    (char *)msg);
		free(re);
		return NULL;
	}
	if ((re->md = pcre2_match_data_create_from_pattern(re->code, NULL)) == NULL) {
		warn(NULL);
		pcre2_code_free(re->code);
		free(re);
		return NULL;
	}
	return re;
}

/* Does s match (anywhere, as grep does)? */
int
rg_regex_match(struct rg_regex *re, const char *s)
{
	return pcre2_match(re->code, (PCRE2_SPTR)s, strlen(s), 0, 0, re->md,
	    NULL) >= 0;
}

/* How many capture groups the pattern has. */
int
rg_regex_groups(const struct rg_regex *re)
{
	uint32_t n = 0;

	pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &n);
	return (int)n;
}

/*
 * Does s match?  Then its captures, joined by a unit separator (0x1f; a
 * group that took no part is empty), in buf: 0.  -1 when s does not match
 * or they do not fit in size.
 */
int
rg_regex_captures(struct rg_regex *re, const char *s, char *buf, size_t size)
{
	PCRE2_SIZE *ov;
	size_t len = 0, n;
	int rc, i;

	if ((rc = pcre2_match(re->code, (PCRE2_SPTR)s, strlen(s), 0, 0, re->md,
	    NULL)) < 0 || size == 0)
		return -1;
	ov = pcre2_get_ovector_pointer(re->md);
	for (i = 1; i <= rg_regex_groups(re); i++) {
		n = i < rc && ov[2 * i] != PCRE2_UNSET ? ov[2 * i + 1] - ov[2 * i] : 0;
		if (len + n + 1 > size)
			return -1;
		if (i > 1)
			buf[len - 1] = 0x1f;
		memcpy(buf + len, s + (n ? ov[2 * i] : 0), n);
		len += n + 1;
		buf[len - 1] = '\0';
	}
	if (len == 0)
		buf[0] = '\0';
	return 0;
}

void
rg_regex_free(struct rg_regex *re)
{
	if (re == NULL)
		return;
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re);
}
