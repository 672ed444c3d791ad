/*
 * rg-pulls: when each image was last pulled, added to its records.
 *
 * It adds "pulled" (the last pull) and "pulls" (how many) to each tag and
 * manifest record, from the registry's logs or notification events
 * (pulls.c), so that rg-select can keep what is in use.  Both fields are
 * absent when the history read holds no pull of the image; fields an
 * earlier rg-pulls wrote are replaced.
 *
 * A manifest's pulls are those by its digest and by each tag that points
 * at it now (a log names the tag, not the digest; an event names both and
 * counts for the digest it names); an index's are the larger of its own
 * and its children's together, its last pull the latest of all: a client
 * pulling an image by tag fetches the index and one child.  A tag record
 * carries its manifest's figures.
 *
 * Memory: one entry per manifest and tag pulled (never a log line), and
 * the records of one repository, held until its manifest records have
 * come (rg-scan writes a repository's tags before its manifests).
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pulls.h"

#define EXCLUDE_MAX	32

static struct rg_pulls table;
static struct rg_pull_time since;	/* the history's first request or event */
static struct rg_regex *agents[EXCLUDE_MAX], *actors[EXCLUDE_MAX];
static size_t nagents, nactors;
static int verbose;

/* what one file held */
struct file_tally {
	const char *path;
	unsigned long lines, kinds[4];
	unsigned long pulls, left_out;		/* counted, left out by pattern */
	unsigned long staged, left_staged;	/* the same, of access lines */
	time_t first, last;
};

static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: rg-pulls [-v] [-A regex] [-U regex] file ...\n");
	exit(code);
}

static int
excluded(struct rg_regex *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rg_regex_match(v[i], s))
			return 1;
	return 0;
}

static void
on_pull(const struct rg_pull *p, void *arg)
{
	struct file_tally *ft = arg;

	if (excluded(agents, nagents, p->agent) ||
	    excluded(actors, nactors, p->actor)) {
		*(p->kind == RG_PL_ACCESS ? &ft->left_staged : &ft->left_out) += 1;
		return;
	}
	if (ft->pulls + ft->staged == 0 || p->when < ft->first)
		ft->first = p->when;
	if (ft->pulls + ft->staged == 0 || p->when > ft->last)
		ft->last = p->when;
	if (p->kind == RG_PL_ACCESS)
		ft->staged++;
	else
		ft->pulls++;
	/* an access log's pulls wait: its file may be the app log's too */
	rg_pulls_add(&table, p->repo, p->ref, p->by_digest, p->when,
	    p->kind == RG_PL_ACCESS);
}

static int
on_log_line(const char *line, size_t len, unsigned long lineno, void *arg)
{
	struct file_tally *ft = arg;
	struct rg_pull_time when;

	(void)lineno;
	ft->lines++;
	/* a line that names no manifest is no pull: parsed only to learn what
	 * the file holds, and from when, once of each kind (a log is in
	 * order of time) */
	if (memmem(line, len, "manifest", 8) == NULL &&
	    !(ft->kinds[RG_PL_APP] == 0 && memmem(line, len,
	    "response completed", 18) != NULL) &&
	    !(ft->kinds[RG_PL_ACCESS] == 0 && memmem(line, len, " HTTP/", 6)) &&
	    !(ft->kinds[RG_PL_EVENTS] == 0 && memmem(line, len, "\"action\"", 8)))
		return 0;
	ft->kinds[rg_pull_line(line, len, on_pull, ft, &when)]++;
	if (when.known && (!since.known || when.t < since.t))
		since = when;
	return 0;
}

/*
 * Read every file before the stream: a file that cannot be read, or that
 * holds no request and no event, is fatal, as images it would have shown
 * in use could be taken for unused.
 */
static int
read_history(char **paths, int n)
{
	struct file_tally ft;
	char a[RG_TIME_STRLEN + 1], b[RG_TIME_STRLEN + 1];
	unsigned long skipped, logs = 0, events = 0, total = 0;
	int i;

	for (i = 0; i < n; i++) {
		memset(&ft, 0, sizeof(ft));
		ft.path = paths[i];
		if (rg_pull_read(paths[i], on_log_line, &ft, &skipped) != 0)
			return -1;
		if (skipped > 0)
			warnx("%s: %lu lines longer than %d bytes skipped",
			    paths[i], skipped, RG_PULL_LINE_MAX);
		/* the registry writes both logs to one stream: the app log's
		 * lines say each request once, its access lines again */
		rg_pulls_commit(&table, ft.kinds[RG_PL_APP] == 0);
		if (ft.kinds[RG_PL_APP] == 0) {
			ft.pulls += ft.staged;
			ft.left_out += ft.left_staged;
		}
		if (ft.kinds[RG_PL_APP] > 0 && ft.kinds[RG_PL_ACCESS] > 0 &&
		    verbose)
			warnx("%s: app log and access log lines: the access lines "
			    "(the same requests) not counted", paths[i]);
		logs += ft.kinds[RG_PL_APP] + ft.kinds[RG_PL_ACCESS];
		events += ft.kinds[RG_PL_EVENTS];
		total += ft.pulls;
		if (ft.kinds[RG_PL_APP] + ft.kinds[RG_PL_ACCESS] +
		    ft.kinds[RG_PL_EVENTS] == 0 && ft.lines > 0) {
			/* the wrong file, or a log not at level info: every
			 * image would look unused */
			warnx("%s: no request log line or notification event in "
			    "%lu lines (is the log level info?)", paths[i],
			    ft.lines);
			return -1;
		} else if (ft.lines == 0)
			warnx("%s: empty: no pull in it", paths[i]);
		else if (ft.pulls + ft.left_out == 0)
			warnx("%s: request lines or events, but not one GET of a "
			    "manifest in %lu lines", paths[i], ft.lines);
		if (verbose) {
			rg_time_format(ft.first, a);
			rg_time_format(ft.last, b);
			warnx("%s: %lu lines, %lu manifest pulls%s%s%s%s, %lu left "
			    "out", paths[i], ft.lines, ft.pulls,
			    ft.pulls ? " from " : "", ft.pulls ? a : "",
			    ft.pulls ? " to " : "", ft.pulls ? b : "", ft.left_out);
		}
	}
	if (logs > 0 && events > 0)
		warnx("both logs and notification events read: a pull in both is "
		    "counted twice");
	if (verbose) {
		rg_time_format(since.t, a);
		warnx("%lu manifest pulls of %zu manifests and tags; the history "
		    "from %s", total, table.n, since.known ? a : "(no time)");
	}
	return 0;
}

/* the current repository's records, held until its manifests have come
 * (rec: of tag and manifest records only) */
static struct rg_run run;

struct figure {
	const char *digest;
	struct rg_pull_count c;
};

static int
by_digest(const void *a, const void *b)
{
	return strcmp(((const struct figure *)a)->digest,
	    ((const struct figure *)b)->digest);
}

/* A manifest record's figures: by digest, by its tags, its children's. */
static void
manifest_figures(const json_t *rec, const char *repo, struct rg_pull_count *out)
{
	struct rg_pull_count own = { 0, 0 }, kids = { 0, 0 };
	const json_t *v;
	size_t i;

	rg_pull_count_add(&own, rg_pulls_get(&table, repo, rg_str(rec,
	    RG_F_DIGEST), 1));
	json_array_foreach(json_object_get(rec, RG_F_TAGS), i, v)
		rg_pull_count_add(&own, rg_pulls_get(&table, repo,
		    json_string_value(v), 0));
	json_array_foreach(json_object_get(rec, RG_F_MANIFESTS), i, v)
		rg_pull_count_add(&kids, rg_pulls_get(&table, repo,
		    json_string_value(v), 1));
	*out = own;
	if (kids.n > 0) {
		out->n = own.n > kids.n ? own.n : kids.n;
		out->last = own.n == 0 || kids.last > own.last ? kids.last :
		    own.last;
	}
}

static int
write_figures(json_t *rec, const struct rg_pull_count *c)
{
	json_object_del(rec, "pulled");
	json_object_del(rec, "pulls");
	if (c->n > 0) {
		rg_set_time(rec, "pulled", c->last);
		json_object_set_new(rec, "pulls", json_integer(c->n > INT64_MAX ?
		    INT64_MAX : (json_int_t)c->n));
	}
	return rg_emit(stdout, rec);
}

static int
close_run(void)
{
	struct figure *f, key, *hit;
	struct rg_pull_count c;
	const char *type;
	size_t i, nf = 0;
	int r = 0;

	if ((f = calloc(run.n ? run.n : 1, sizeof(*f))) == NULL)
		rg_nomem();
	for (i = 0; i < run.n; i++)
		if (run.v[i].rec != NULL && strcmp(rg_strz(run.v[i].rec, RG_F_TYPE),
		    RG_T_MANIFEST) == 0 && rg_str(run.v[i].rec, RG_F_DIGEST)) {
			f[nf].digest = rg_str(run.v[i].rec, RG_F_DIGEST);
			manifest_figures(run.v[i].rec, run.repo, &f[nf++].c);
		}
	qsort(f, nf, sizeof(*f), by_digest);
	for (i = 0; i < run.n; i++) {
		if (r == 0 && run.v[i].rec == NULL)
			r = rg_write_line(run.v[i].line, run.v[i].len);
		else if (r == 0) {
			type = rg_strz(run.v[i].rec, RG_F_TYPE);
			key.digest = rg_strz(run.v[i].rec, RG_F_DIGEST);
			hit = bsearch(&key, f, nf, sizeof(*f), by_digest);
			memset(&c, 0, sizeof(c));
			if (hit != NULL)
				c = hit->c;
			else if (strcmp(type, RG_T_TAG) == 0) {
				/* its manifest record is not in the stream */
				rg_pull_count_add(&c, rg_pulls_get(&table, run.repo,
				    key.digest, 1));
				rg_pull_count_add(&c, rg_pulls_get(&table, run.repo,
				    rg_str(run.v[i].rec, RG_F_TAG), 0));
			}
			if (c.n == 0 && json_object_get(run.v[i].rec, "pulled") == NULL &&
			    json_object_get(run.v[i].rec, "pulls") == NULL)
				r = rg_write_line(run.v[i].line, run.v[i].len);
			else
				r = write_figures(run.v[i].rec, &c);
		}
	}
	free(f);	/* (its digests are the records') */
	rg_run_clear(&run);
	return r;
}

static int
hold(json_t *rec, const char *line, size_t len, const char *where, void *arg)
{
	const char *type = rg_str(rec, RG_F_TYPE), *repo = rg_str(rec, RG_F_REPO);

	(void)where;
	(void)arg;
	if (!rg_run_holds(&run, repo)) {
		if (close_run() != 0)
			return -1;
		if (repo == NULL)
			return rg_write_line(line, len);
		rg_run_start(&run, repo);
	}
	rg_run_add(&run, type != NULL && (strcmp(type, RG_T_TAG) == 0 ||
	    strcmp(type, RG_T_MANIFEST) == 0) ? rec : NULL, line, len);
	return 0;
}

/* The scan record: from when the history tells of pulls ("pulls_since"). */
static int
scan_record(json_t *rec, const char *line, size_t len, const char *where,
    void *arg)
{
	(void)line;
	(void)len;
	(void)where;
	(void)arg;
	json_object_del(rec, RG_F_PULLS_SINCE);
	if (since.known)
		rg_set_time(rec, RG_F_PULLS_SINCE, since.t);
	return rg_emit(stdout, rec);
}

/* Records of no repository (blobs, most of a scan) pass unparsed. */
static int
on_line(char *line, size_t len, const struct rg_at *at, void *arg)
{
	struct rg_jscan j;
	int scan, norepo;

	scan = rg_jscan(line, len, &j) == 0 && !j.escaped;
	norepo = scan && j.f[RG_JS_REPO].s == NULL;
	if (norepo && close_run() != 0)
		return -1;
	if (scan && rg_jscan_is(&j, RG_JS_TYPE, RG_T_SCAN))
		return rg_parse_line(line, len, at->where, scan_record, arg);
	if (norepo)
		return rg_write_line(line, len);
	return rg_parse_line(line, len, at->where, hold, arg);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "exclude-agent", required_argument, NULL, 'A' },
		{ "exclude-actor", required_argument, NULL, 'U' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "A:hU:Vv", longopts, NULL)) != -1) {
		switch (c) {
		case 'A':
		case 'U':
			if ((c == 'A' ? nagents : nactors) == EXCLUDE_MAX) {
				warnx("--exclude-%s: more than %d",
				    c == 'A' ? "agent" : "actor", EXCLUDE_MAX);
				return RG_EXIT_FATAL;
			}
			if (((c == 'A' ? agents : actors)[c == 'A' ? nagents++ :
			    nactors++] = rg_regex_new(c == 'A' ? "--exclude-agent" :
			    "--exclude-actor", optarg)) == NULL)
				return RG_EXIT_FATAL;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout, RG_EXIT_OK);
			break;
		case 'V':
			return rg_version_print("rg-pulls");
		default:
			usage(stderr, RG_EXIT_FATAL);
		}
	}
	if (optind == argc) {
		warnx("no pull history: name the registry's log files or a file "
		    "of its notification events");
		usage(stderr, RG_EXIT_FATAL);
	}
	if (read_history(argv + optind, argc - optind) != 0)
		return RG_EXIT_FATAL;

	r = rg_lines(STDIN_FILENO, "<stdin>", on_line, NULL);
	if (r == 0)
		r = close_run();
	if (r != 0)
		_exit(RG_EXIT_FATAL);
	if (rg_stdout_close() != 0)
		return RG_EXIT_FATAL;
	return RG_EXIT_OK;
}
