/*
 * rg-select: mark with "delete": true the records a retention policy
 * selects, and write every record on, so later stages still see the whole
 * inventory (rg-records(5)).  Records it does not mark pass through byte for
 * byte.
 *
 * Candidates are tag records, or with --untagged manifest records no tag
 * points at.  In order: the name criteria (--repo, --tag, names given as
 * arguments, minus --keep-tag) make the candidates; --keep N spares the N
 * newest candidates of each repository (by --order); of the rest, those
 * inside the time window (--older-than, --before, --after, on --time) for
 * which every --where holds are marked.  A record marked by an earlier
 * stage stays marked and is not counted by --keep.
 *
 * Memory: the candidate records of one repository, held while they come
 * (rg-scan writes each repository's tags together) so that --keep can rank
 * them, and the names of the repositories seen; never blobs.
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "records.h"

#define MAX_CRITERIA	32	/* of each kind: patterns, conditions, names */

enum { ORDER_CREATED, ORDER_PUSHED, ORDER_NAME, ORDER_VERSION };
static const char *orders[] = { "created", "pushed", "name", "version" };

struct held {
	json_t *rec;
	char *line;
	size_t len;
	int marked, candidate;
};

struct name {
	char *repo, *tag;	/* tag NULL: every tag of repo */
};

static struct rg_regex *repo_re[MAX_CRITERIA], *tag_re[MAX_CRITERIA],
    *keep_tag_re[MAX_CRITERIA];
static size_t nrepo_re, ntag_re, nkeep_tag_re;
static struct rg_expr *wheres[MAX_CRITERIA];
static size_t nwheres;
static struct name names[MAX_CRITERIA];
static size_t nnames;
static long keep_n;
static int untagged, only, order = ORDER_CREATED, status;
static struct rg_window window;
static struct rg_expr_env env = { 0, "created" };

static struct held *run;		/* the current repository's candidates */
static size_t nrun, caprun;
static char *run_repo;
static struct rg_strset seen;		/* repositories whose run is over */

static const struct option longopts[] = {
	{ "repo", required_argument, NULL, 'r' },
	{ "tag", required_argument, NULL, 't' },
	{ "keep-tag", required_argument, NULL, 'K' },
	{ "keep", required_argument, NULL, 'k' },
	{ "older-than", required_argument, NULL, 'O' },
	{ "before", required_argument, NULL, 'b' },
	{ "after", required_argument, NULL, 'a' },
	{ "time", required_argument, NULL, 'T' },
	{ "order", required_argument, NULL, 'S' },
	{ "untagged", no_argument, NULL, 'u' },
	{ "where", required_argument, NULL, 'w' },
	{ "policy", required_argument, NULL, 'p' },
	{ "only", no_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: rg-select [-ou] [-a date] [-b date] [-K regex] "
	    "[-k n] [-O duration]\n"
	    "                 [-p policy] [-r regex] [-S order] [-T time] "
	    "[-t regex] [-w expr]\n"
	    "                 [repo[:tag] ...]\n");
	exit(code);
}

/* Is there room for one more of what? */
static int
room(size_t n, const char *what)
{
	if (n < MAX_CRITERIA)
		return 1;
	warnx("%s: more than %d", what, MAX_CRITERIA);
	return 0;
}

static int
add_regex(struct rg_regex **v, size_t *n, const char *opt, const char *arg)
{
	return room(*n, opt) && (v[(*n)++] = rg_regex_new(opt, arg)) != NULL ? 0 : -1;
}

/* One option, from the command line or a policy file. */
static int
set_option(int opt, const char *arg)
{
	char *end;

	switch (opt) {
	case 'r':
		return add_regex(repo_re, &nrepo_re, "--repo", arg);
	case 't':
		return add_regex(tag_re, &ntag_re, "--tag", arg);
	case 'K':
		return add_regex(keep_tag_re, &nkeep_tag_re, "--keep-tag", arg);
	case 'k':
		keep_n = strtol(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || keep_n < 0) {
			warnx("--keep: %s: not a count", arg);
			return -1;
		}
		return 0;
	case 'O':
		return rg_window_set(&window, opt, "--older-than", arg, env.now);
	case 'b':
		return rg_window_set(&window, opt, "--before", arg, env.now);
	case 'a':
		return rg_window_set(&window, opt, "--after", arg, env.now);
	case 'T':
		if (strcmp(arg, orders[ORDER_CREATED]) != 0 &&
		    strcmp(arg, orders[ORDER_PUSHED]) != 0)
			return warnx("--time: %s: not created or pushed", arg), -1;
		env.time_key = orders[strcmp(arg, "created") == 0 ? ORDER_CREATED :
		    ORDER_PUSHED];
		return 0;
	case 'S':
		for (order = 0; order < 4; order++)
			if (strcmp(arg, orders[order]) == 0)
				return 0;
		warnx("--order: %s: not created, pushed, name or version", arg);
		return -1;
	case 'u':
		untagged = 1;
		return 0;
	case 'w':
		return room(nwheres, "--where") &&
		    (wheres[nwheres++] = rg_expr_parse("--where", arg)) != NULL ? 0 : -1;
	case 'p':
		return rg_policy_apply(arg, longopts, "pohV", set_option);
	case 'o':
		only = 1;
		return 0;
	}
	return -1;
}

static int
add_name(const char *arg)
{
	if (!room(nnames, "names") ||
	    rg_name_parse(arg, &names[nnames].repo, &names[nnames].tag) != 0)
		return -1;
	nnames++;
	return 0;
}

/* name criteria */

static int
all_match(struct rg_regex **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s == NULL || !rg_regex_match(v[i], s))
			return 0;
	return 1;
}

static int
named(const char *repo, const char *tag)
{
	size_t i;

	if (nnames == 0)
		return 1;
	for (i = 0; i < nnames; i++)
		if (strcmp(names[i].repo, repo) == 0 && (names[i].tag == NULL ||
		    (tag != NULL && strcmp(names[i].tag, tag) == 0)))
			return 1;
	return 0;
}

static int
candidate(const json_t *rec)
{
	const char *repo = rg_str(rec, "repo"), *tag = rg_str(rec, "tag");
	size_t i;

	if (untagged) {
		if (json_array_size(json_object_get(rec, "tags")) != 0 ||
		    !json_is_array(json_object_get(rec, "tags")))
			return 0;
	} else {
		if (tag == NULL)
			return 0;
		for (i = 0; i < nkeep_tag_re; i++)
			if (rg_regex_match(keep_tag_re[i], tag))
				return 0;
	}
	return named(repo, tag) && all_match(repo_re, nrepo_re, repo) &&
	    all_match(tag_re, ntag_re, tag);
}

/* Time window and conditions, for a candidate --keep did not spare. */
static int
chosen(const json_t *rec)
{
	time_t t;
	size_t i;

	if (rg_window_set_any(&window) && (rg_record_time(rec, env.time_key,
	    &t) != 0 || !rg_window_holds(&window, t)))
		return 0;	/* outside, or unknown time: keep */
	for (i = 0; i < nwheres; i++)
		if (!rg_expr_eval(wheres[i], rec, &env))
			return 0;
	return 1;
}

/* --keep: newest first, by --order, ties broken by push time then name */
static const char *
label(const json_t *rec)
{
	const char *s = rg_str(rec, untagged ? "digest" : "tag");

	return s ? s : "";
}

/* Newer first by the time key (a record without it is the oldest). */
static int
by_time(const json_t *a, const json_t *b, const char *key)
{
	time_t ta = 0, tb = 0;
	int ha = rg_record_time(a, key, &ta) == 0, hb = rg_record_time(b, key, &tb) == 0;

	return ha != hb ? hb - ha : (tb > ta) - (tb < ta);
}

static int
newest_first(const void *pa, const void *pb)
{
	const json_t *a = (*(struct held *const *)pa)->rec;
	const json_t *b = (*(struct held *const *)pb)->rec;
	int c;

	if (order == ORDER_NAME)
		c = strcmp(label(b), label(a));
	else if (order == ORDER_VERSION)
		c = rg_version_cmp(label(b), label(a));
	else
		c = by_time(a, b, orders[order]);
	if (c == 0)
		c = by_time(a, b, "pushed");
	return c != 0 ? c : strcmp(label(b), label(a));
}

static int
emit(json_t *rec, const char *line, size_t len, int mark, int marked)
{
	int r;

	if (only && !mark && !marked)
		return 0;
	if (mark && !marked) {
		if (json_object_get(rec, "delete") == NULL && line != NULL &&
		    (r = rg_write_with(line, len, "\"delete\":true")) <= 0)
			return r;	/* the line as it came, marked */
		json_object_set_new(rec, "delete", json_true());
		return rg_emit(stdout, rec);
	}
	return rg_write_line(line, len);
}

/* Rank the run's candidates, mark, and write the run in input order. */
static int
close_run(void)
{
	struct held **c;
	size_t i, n = 0;
	int r = 0;

	if (run_repo == NULL)
		return 0;
	if (keep_n > 0) {
		if ((c = calloc(nrun, sizeof(*c))) == NULL)
			err(RG_EXIT_FATAL, NULL);
		for (i = 0; i < nrun; i++)
			if (run[i].candidate)
				c[n++] = &run[i];
		qsort(c, n, sizeof(*c), newest_first);
		for (i = 0; i < n && i < (size_t)keep_n; i++)
			c[i]->candidate = 0;	/* spared */
		free(c);
		if (rg_strset_add(&seen, run_repo) == -1)
			err(RG_EXIT_FATAL, NULL);
	}
	for (i = 0; i < nrun; i++) {
		if (r == 0)
			r = emit(run[i].rec, run[i].line, run[i].len,
			    run[i].candidate && chosen(run[i].rec), run[i].marked);
		json_decref(run[i].rec);
		free(run[i].line);
	}
	nrun = 0;
	free(run_repo);
	run_repo = NULL;
	return r;
}

static int
on_record(json_t *rec, const char *line, size_t len, const char *where,
    void *arg)
{
	const char *type = rg_str(rec, "type"), *repo = rg_str(rec, "repo");
	struct held *h;

	(void)arg;
	if (type == NULL || strcmp(type, untagged ? "manifest" : "tag") != 0) {
		if (close_run() == -1)
			return -1;
		return emit(rec, line, len, 0,
		    json_is_true(json_object_get(rec, "delete")));
	}
	if (repo == NULL) {
		warnx("%s: %s record without repo, passed on unmarked", where, type);
		status = RG_EXIT_PARTIAL;
		if (close_run() == -1)
			return -1;
		return emit(rec, line, len, 0, 0);
	}
	if (run_repo == NULL || strcmp(run_repo, repo) != 0) {
		if (close_run() == -1)
			return -1;
		if (keep_n > 0 && rg_strset_has(&seen, repo)) {
			warnx("%s: the %s records of %s are not together: --keep "
			    "ranks each repository's at once, as rg-scan writes them",
			    where, type, repo);
			return -1;
		}
		if ((run_repo = strdup(repo)) == NULL)
			err(RG_EXIT_FATAL, NULL);
	}
	if (nrun == caprun) {
		caprun = caprun ? 2 * caprun : 64;
		if ((run = realloc(run, caprun * sizeof(*run))) == NULL)
			err(RG_EXIT_FATAL, NULL);
	}
	h = &run[nrun++];
	h->rec = json_incref(rec);
	if ((h->line = strndup(line, len)) == NULL)
		err(RG_EXIT_FATAL, NULL);
	h->len = len;
	h->marked = json_is_true(json_object_get(rec, "delete"));
	h->candidate = !h->marked && candidate(rec);
	return keep_n > 0 ? 0 : close_run();
}

/*
 * Records that cannot be candidates pass on unparsed: most of a scan, and
 * for --untagged without --keep the manifests that have tags.
 */
static int
on_line(char *line, size_t len, const char *where, void *arg)
{
	struct rg_jscan j;

	if (rg_jscan(line, len, &j) == 0 && j.f[RG_JS_TYPE].s != NULL &&
	    (!rg_jscan_is(&j, RG_JS_TYPE, untagged ? "manifest" : "tag") ||
	    (untagged && keep_n == 0 && !j.escaped &&
	    rg_jlist_empty(&j, RG_JS_TAGS) == 0))) {
		if (close_run() == -1)
			return -1;
		return emit(NULL, line, len, 0, j.delete);
	}
	return rg_parse_line(line, len, where, on_record, arg);
}

int
main(int argc, char *argv[])
{
	int c, r;

	env.now = time(NULL);
	while ((c = getopt_long(argc, argv, "a:b:hK:k:O:op:r:S:T:t:uVw:",
	    longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, RG_EXIT_OK);
			break;
		case 'V':
			printf("rg-select %s\n", RG_VERSION);
			return rg_stdout_close() == 0 ? RG_EXIT_OK : RG_EXIT_FATAL;
		case '?':
			usage(stderr, RG_EXIT_FATAL);
			break;
		default:
			if (set_option(c, optarg) != 0)
				return RG_EXIT_FATAL;
		}
	}
	for (; optind < argc; optind++)
		if (add_name(argv[optind]) != 0)
			return RG_EXIT_FATAL;
	if (!untagged && nrepo_re + ntag_re + nkeep_tag_re + nwheres + nnames == 0 &&
	    keep_n == 0 && !rg_window_set_any(&window)) {
		warnx("no selection criteria: that would mark every tag");
		usage(stderr, RG_EXIT_FATAL);
	}
	if (untagged && (ntag_re > 0 || nkeep_tag_re > 0)) {
		warnx("--untagged selects manifests: --tag and --keep-tag do "
		    "not apply");
		usage(stderr, RG_EXIT_FATAL);
	}
	for (c = 0; untagged && (size_t)c < nnames; c++)
		if (names[c].tag != NULL) {
			warnx("--untagged selects manifests: name a repository, "
			    "not %s:%s", names[c].repo, names[c].tag);
			usage(stderr, RG_EXIT_FATAL);
		}

	r = rg_lines(STDIN_FILENO, "<stdin>", on_line, NULL);
	if (r == 0)
		r = close_run();
	if (r != 0)
		_exit(RG_EXIT_FATAL);	/* reported; a failed stdout must not be again */
	if (rg_stdout_close() != 0)
		return RG_EXIT_FATAL;
	return status;
}
