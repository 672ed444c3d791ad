/* stream.c: the record stream, one compact JSON object per line. */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "records.h"

#define RG_WHERE_MAX	512
#define RG_READ_CHUNK	(64 << 10)

/* Is there input to read at once?  Then the output can wait. */
static int
readable(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP));
}

/* Room for at least one more byte to read into. */
static int
reserve(char **buf, size_t *cap, size_t used)
{
	char *p;

	if (used + 1 < *cap)
		return 0;
	if ((p = realloc(*buf, *cap ? 2 * *cap : RG_READ_CHUNK)) == NULL)
		return -1;
	*buf = p;
	*cap = *cap ? 2 * *cap : RG_READ_CHUNK;
	return 0;
}

/*
 * Hand each line read from fd to fn, with its position as name:N for
 * messages.  Blank lines are skipped.  Before a read that would wait,
 * stdout is flushed: the next stage sees each record as soon as this one
 * has nothing else to do, without a write per line or per read.  Returns -1 (reported)
 * on a read or flush error, what fn returned when it was not 0, else 0.
 */
/* "name:" is already in where; the number goes after it (no printf per line) */
static void
where_set(char *where, size_t size, size_t plen, unsigned long lineno)
{
	char digits[24];
	size_t n = 0;

	do
		digits[n++] = (char)('0' + lineno % 10);
	while ((lineno /= 10) > 0);
	while (n > 0 && plen + 1 < size)
		where[plen++] = digits[--n];
	where[plen] = '\0';
}

int
rg_lines(int fd, const char *name, rg_line_fn *fn, void *arg)
{
	char *buf = NULL, *line, *nl, where[RG_WHERE_MAX];
	size_t cap = 0, start = 0, used = 0, len, plen;
	unsigned long lineno = 0;
	struct rg_at at = { where, 0 };
	ssize_t n;
	int r = 0, eof = 0;

	rg_msg(where, sizeof(where), "%s:", name);
	plen = strlen(where);

	while (r == 0) {
		nl = used > start ? memchr(buf + start, '\n', used - start) : NULL;
		if (nl == NULL && !eof) {
			if (start > 0) {	/* keep the partial line only */
				memmove(buf, buf + start, used - start);
				used -= start;
				start = 0;
			}
			if (reserve(&buf, &cap, used) == -1) {
				warn(NULL);
				r = -1;
			} else if (!readable(fd) && fflush(stdout) == EOF) {
				warn("stdout");
				r = -1;
			} else if ((n = read(fd, buf + used, cap - used - 1)) == -1) {
				if (errno != EINTR) {
					warn("%s", name);
					r = -1;
				}
			} else {
				eof = n == 0;
				used += (size_t)n;
			}
			continue;
		}
		if (nl == NULL && start == used)
			break;				/* end of input */
		line = buf + start;
		len = nl ? (size_t)(nl - line) : used - start;
		start += len + (nl ? 1 : 0);
		line[len] = '\0';			/* over the newline, or spare room */
		lineno++;
		if (strspn(line, " \t\r") == len)
			continue;
		where_set(where, sizeof(where), plen, lineno);
		at.line = lineno;
		r = fn(line, len, &at, arg);
	}
	free(buf);
	return r;
}

/*
 * Parse one line and hand the record to fn.  A line that is not a JSON
 * object is reported at where and is an error: a stage that cannot read
 * its input must not guess.
 */
int
rg_parse_line(char *line, size_t len, const char *where, rg_record_fn *fn,
    void *arg)
{
	json_error_t jerr;
	json_t *rec;
	int r;

	rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (rec == NULL) {
		warnx("%s: invalid JSON: %s", where, jerr.text);
		return -1;
	}
	if (!json_is_object(rec)) {
		warnx("%s: not a JSON object", where);
		json_decref(rec);
		return -1;
	}
	r = fn(rec, line, len, where, arg);
	json_decref(rec);
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

/* Write a line as it came, and its newline; -1 (reported) on failure. */
int
rg_write_line(const char *line, size_t len)
{
	if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF) {
		warn("stdout");
		return -1;
	}
	return 0;
}

/*
 * Write an object's line with members (such as "delete":true) added at its
 * end, the rest as it came: 1 when line does not end an object (nothing
 * written), -1 (reported) on a write error.
 */
int
rg_write_with(const char *line, size_t len, const char *members)
{
	const char *close = memrchr(line, '}', len), *p;

	if (close == NULL)
		return 1;
	for (p = close; p > line && strchr(" \t\r\n", p[-1]) != NULL; p--)
		;
	if (fwrite(line, 1, (size_t)(p - line), stdout) != (size_t)(p - line) ||
	    printf("%s%s}\n", p > line && p[-1] == '{' ? "" : ",", members) < 0) {
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

/* A string field of a record, or "" (for messages). */
const char *
rg_strz(const json_t *rec, const char *key)
{
	const char *s = rg_str(rec, key);

	return s != NULL ? s : "";
}

/* A new record {"type": type, "repo": repo}; repo may be NULL. */
json_t *
rg_record_new(const char *type, const char *repo)
{
	json_t *rec = json_object();

	if (rec != NULL) {
		json_object_set_new(rec, RG_F_TYPE, json_string(type));
		if (repo != NULL)
			json_object_set_new(rec, RG_F_REPO, json_string(repo));
	}
	return rec;
}

void
rg_set_time(json_t *rec, const char *key, time_t t)
{
	char s[RG_TIME_STRLEN + 1];

	rg_time_format(t, s);
	json_object_set_new(rec, key, json_string(s));
}

/*
 * The time of a record for selection: its field key (created or pushed),
 * else its push time.  -1 when it has neither.  The one rule for creation
 * times: one before RG_CREATED_MIN (a reproducible build's 1970) is none,
 * and the push time stands in; the record keeps the value as stored.
 */
int
rg_record_time(const json_t *rec, const char *key, time_t *t)
{
	const char *s = rg_str(rec, key);

	if (s != NULL && rg_time_parse(s, t) == 0 &&
	    (*t >= RG_CREATED_MIN || strcmp(key, RG_F_CREATED) != 0))
		return 0;
	s = rg_str(rec, RG_F_PUSHED);
	return s != NULL && rg_time_parse(s, t) == 0 ? 0 : -1;
}

/* The first record of a stream: where and when the inventory was taken. */
json_t *
rg_scan_record(const char *source, const char *root, const char *repo_filter)
{
	json_t *rec = rg_record_new(RG_T_SCAN, NULL);

	if (rec == NULL)
		return NULL;
	json_object_set_new(rec, RG_F_SOURCE, json_string(source));
	json_object_set_new(rec, RG_F_ROOT, json_string(root));
	rg_set_time(rec, RG_F_TIME, time(NULL));
	json_object_set_new(rec, "format", json_integer(RG_FORMAT));
	json_object_set_new(rec, "rg_version", json_string(RG_VERSION));
	if (repo_filter != NULL)
		json_object_set_new(rec, "repo_filter", json_string(repo_filter));
	return rec;
}

/* The last record of a scan: a stream without it was cut short. */
json_t *
rg_scan_end_record(int complete)
{
	json_t *rec = rg_record_new(RG_T_SCAN_END, NULL);

	if (rec != NULL)
		json_object_set_new(rec, "complete", json_boolean(complete));
	return rec;
}

/* Does r hold the records of repo (NULL: of none)? */
int
rg_run_holds(const struct rg_run *r, const char *repo)
{
	return r->repo != NULL && repo != NULL && strcmp(r->repo, repo) == 0;
}

/* r, empty, to hold the records of repo */
void
rg_run_start(struct rg_run *r, const char *repo)
{
	rg_run_clear(r);
	if ((r->repo = strdup(repo)) == NULL)
		rg_nomem();
}

/* A record held at the end of r: rec (another reference, or NULL) and its line copied. */
struct rg_held *
rg_run_add(struct rg_run *r, json_t *rec, const char *line, size_t len)
{
	struct rg_held *h;

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		if ((r->v = realloc(r->v, r->cap * sizeof(*r->v))) == NULL)
			rg_nomem();
	}
	h = &r->v[r->n++];
	memset(h, 0, sizeof(*h));
	h->rec = rec != NULL ? json_incref(rec) : NULL;
	if ((h->line = strndup(line, len)) == NULL)
		rg_nomem();
	h->len = len;
	return h;
}

/* What r held let go (its array kept for the next run). */
void
rg_run_clear(struct rg_run *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		json_decref(r->v[i].rec);
		free(r->v[i].line);
	}
	r->n = 0;
	free(r->repo);
	r->repo = NULL;
}

/* -V: "<tool> <version>"; what main returns (RG_EXIT_FATAL: stdout failed) */
int
rg_version_print(const char *tool)
{
	printf("%s %s\n", tool, RG_VERSION);
	return rg_stdout_close() == 0 ? RG_EXIT_OK : RG_EXIT_FATAL;
}
