/* stream.c: the record stream, one compact JSON object per line. */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rg.h"

#define RG_WHERE_MAX	512

/*
 * Hand each line of in to fn, parsed.  Blank lines are skipped.  A line that
 * is not a JSON object is reported as name:N and ends the loop: a stage that
 * cannot read its input must not guess.  Returns -1 then, or what fn
 * returned when it was not 0, else 0.
 */
int
rg_loop(FILE *in, const char *name, rg_record_fn *fn, void *arg)
{
	char *line = NULL, where[RG_WHERE_MAX];
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	json_error_t jerr;
	json_t *rec;
	int r = 0;

	while ((len = getline(&line, &cap, in)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strspn(line, " \t\r") == (size_t)len)
			continue;
		snprintf(where, sizeof(where), "%s:%lu", name, lineno);
		rec = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
		if (rec == NULL) {
			warnx("%s: invalid JSON: %s", where, jerr.text);
			r = -1;
			break;
		}
		if (!json_is_object(rec)) {
			warnx("%s: not a JSON object", where);
			json_decref(rec);
			r = -1;
			break;
		}
		r = fn(rec, line, (size_t)len, where, arg);
		json_decref(rec);
		if (r != 0)
			break;
	}
	if (r == 0 && ferror(in)) {
		warn("%s", name);
		r = -1;
	}
	free(line);
	return r;
}

/* Write one record and its newline; -1 (reported) when the write fails. */
int
rg_emit(FILE *out, const json_t *rec)
{
	if (json_dumpf(rec, out, JSON_COMPACT | JSON_ENSURE_ASCII) != 0 ||
	    putc('\n', out) == EOF || ferror(out)) {
		warn("stdout");
		return -1;
	}
	return 0;
}

/* Flush and close stdout, so a full disk or a closed pipe is seen. */
int
rg_stdout_close(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("stdout");
		fclose(stdout);
		return -1;
	}
	if (fclose(stdout) == EOF) {
		warn("stdout");
		return -1;
	}
	return 0;
}

/* A string field of a record, or NULL. */
const char *
rg_str(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

/* A new record {"type": type, "repo": repo}; repo may be NULL. */
json_t *
rg_record_new(const char *type, const char *repo)
{
	json_t *rec = json_object();

	if (rec != NULL) {
		json_object_set_new(rec, "type", json_string(type));
		if (repo != NULL)
			json_object_set_new(rec, "repo", json_string(repo));
	}
	return rec;
}

void
rg_set_digest(json_t *rec, const char *key, const struct rg_digest *d)
{
	char s[RG_DIGEST_STRLEN + 1];

	rg_digest_format(d, s);
	json_object_set_new(rec, key, json_string(s));
}

void
rg_set_time(json_t *rec, const char *key, time_t t)
{
	char s[RG_TIME_STRLEN + 1];

	rg_time_format(t, s);
	json_object_set_new(rec, key, json_string(s));
}
