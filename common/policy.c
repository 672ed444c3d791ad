/*
 * policy.c: named policies, kept by hand in a small file.
 *
 * The file is INI-style:
 *
 *	# comment
 *	[nightly]
 *	repo = ^nightly/
 *	keep = 5
 *	older-than = 30d
 *	where = size > 100MB && tag != "latest"
 *
 * A key is a long option of the tool, its value what follows '=' with the
 * surrounding blanks removed (no quoting); a flag stands alone.
 */
#include <ctype.h>
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

#define POLICY_PATH	".config/rg/policies"

/* $RG_CONFIG, else ~/.config/rg/policies; NULL when neither can be had. */
const char *
rg_policy_path(char *buf, size_t size)
{
	const char *env = getenv("RG_CONFIG"), *home = getenv("HOME");
	int n;

	if (env != NULL && *env != '\0')
		return env;
	if (home == NULL || *home == '\0')
		return NULL;
	n = snprintf(buf, size, "%s/%s", home, POLICY_PATH);
	return n < 0 || (size_t)n >= size ? NULL : buf;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		;
	*e = '\0';
	return s;
}

/*
 * Call fn for each key of section [name] of the file at path.  -1
 * (reported) when the file cannot be read, has no such section, or fn
 * refused a key.
 */
int
rg_policy_load(const char *path, const char *name, rg_policy_fn *fn, void *arg)
{
	char *line = NULL, *s, *eq, where[1024];
	size_t cap = 0;
	unsigned long lineno = 0;
	int in = 0, found = 0, r = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		warn("%s", path);
		return -1;
	}
	while (r == 0 && getline(&line, &cap, f) != -1) {
		lineno++;
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		rg_msg(where, sizeof(where), "%s:%lu", path, lineno);
		if (*s == '[') {
			if (s[strlen(s) - 1] != ']') {
				warnx("%s: expected [name]", where);
				r = -1;
				break;
			}
			s[strlen(s) - 1] = '\0';
			in = strcmp(trim(s + 1), name) == 0;
			found |= in;
			continue;
		}
		if (!in)
			continue;
		if ((eq = strchr(s, '=')) != NULL)
			*eq = '\0';
		r = fn(trim(s), eq ? trim(eq + 1) : NULL, where, arg);
	}
	if (r == 0 && ferror(f)) {
		warn("%s", path);
		r = -1;
	}
	if (r == 0 && !found) {
		warnx("%s: no policy named '%s'", path, name);
		r = -1;
	}
	free(line);
	fclose(f);
	return r;
}

struct apply {
	const struct option *longopts;
	const char *skip;
	rg_option_fn *set;
};

static int
apply_key(const char *key, const char *value, const char *where, void *arg)
{
	const struct apply *a = arg;
	const struct option *o;

	for (o = a->longopts; o->name != NULL; o++)
		if (strcmp(o->name, key) == 0 && strchr(a->skip, o->val) == NULL)
			break;
	if (o->name == NULL) {
		warnx("%s: unknown option '%s'", where, key);
		return -1;
	}
	if ((o->has_arg == required_argument) != (value != NULL)) {
		warnx("%s: %s %s", where, key, value ? "takes no value" :
		    "needs a value: key = value");
		return -1;
	}
	return a->set(o->val, value);
}

/*
 * Apply policy name: each key is the long option of that name in longopts
 * (but those whose short letter is in skip), given to set as if from the
 * command line.  -1 (reported) on any error.
 */
int
rg_policy_apply(const char *name, const struct option *longopts,
    const char *skip, rg_option_fn *set)
{
	struct apply a = { longopts, skip, set };
	char buf[1024];
	const char *path = rg_policy_path(buf, sizeof(buf));

	if (path == NULL) {
		warnx("--policy: set RG_CONFIG or HOME to find policies");
		return -1;
	}
	return rg_policy_load(path, name, apply_key, &a);
}
