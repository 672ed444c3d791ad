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

#include "select.h"

static struct rg_select sel;
static int only, status;

static struct rg_held *run;		/* the current repository's candidates */
static size_t nrun, caprun;
static char *run_repo;
static struct rg_strset seen;		/* repositories whose run is over */

static const struct option *const longopts = rg_select_longopts;

static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: rg-select [-eou] [-a date] [-b date] [-G regex] "
	    "[-K regex] [-k n]\n"
	    "                 [-L label] [-O duration] [-p policy] [-r regex] "
	    "[-S order]\n"
	    "                 [-T time] [-t regex] [-w expr] [repo[:tag] ...]\n");
	exit(code);
}

/* "--repo" for 'r' */
static const char *
optname(int opt)
{
	static char buf[32];
	const struct option *o;

	for (o = longopts; o->name != NULL; o++)
		if (o->val == opt) {
			rg_msg(buf, sizeof(buf), "--%s", o->name);
			return buf;
		}
	return "?";
}

/* One option, from the command line or a policy file. */
static int
set_option(int opt, const char *arg)
{
	switch (opt) {
	case 'p':
		return rg_policy_apply(arg, longopts, RG_SELECT_NOT_IN_POLICY,
		    set_option);
	case 'o':
		only = 1;
		return 0;
	}
	return rg_select_option(&sel, opt, optname(opt), arg);
}

static int
emit(json_t *rec, const char *line, size_t len, int mark, int marked)
{
	int r;

	if (only && !mark && !marked)
		return 0;
	if (mark && !marked) {
		if (json_object_get(rec, RG_F_DELETE) == NULL && line != NULL &&
		    (r = rg_write_with(line, len, "\"delete\":true")) <= 0)
			return r;	/* the line as it came, marked */
		json_object_set_new(rec, RG_F_DELETE, json_true());
		return rg_emit(stdout, rec);
	}
	return rg_write_line(line, len);
}

/* Rank the run's candidates, mark, and write the run in input order. */
static int
close_run(void)
{
	size_t i;
	int r = 0;

	if (run_repo == NULL)
		return 0;
	if (sel.keep_n > 0) {
		rg_select_keep(&sel, run, nrun);
		if (rg_strset_add(&seen, run_repo) == -1)
			rg_nomem();
	}
	for (i = 0; i < nrun; i++) {
		if (r == 0)
			r = emit(run[i].rec, run[i].line, run[i].len,
			    run[i].candidate && rg_select_chosen(&sel, run[i].rec), run[i].marked);
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
	const char *type = rg_str(rec, RG_F_TYPE), *repo = rg_str(rec, RG_F_REPO);
	struct rg_held *h;

	(void)arg;
	if (type == NULL || strcmp(type, rg_select_type(&sel)) != 0) {
		if (close_run() == -1)
			return -1;
		return emit(rec, line, len, 0,
		    json_is_true(json_object_get(rec, RG_F_DELETE)));
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
		if (sel.keep_n > 0 && rg_strset_has(&seen, repo)) {
			warnx("%s: the %s records of %s are not together: --keep "
			    "ranks each repository's at once, as rg-scan writes them",
			    where, type, repo);
			return -1;
		}
		if ((run_repo = strdup(repo)) == NULL)
			rg_nomem();
	}
	if (nrun == caprun) {
		caprun = caprun ? 2 * caprun : 64;
		if ((run = realloc(run, caprun * sizeof(*run))) == NULL)
			rg_nomem();
	}
	h = &run[nrun++];
	h->rec = json_incref(rec);
	if ((h->line = strndup(line, len)) == NULL)
		rg_nomem();
	h->len = len;
	h->group = NULL;
	h->marked = json_is_true(json_object_get(rec, RG_F_DELETE));
	h->candidate = !h->marked && rg_select_candidate(&sel, rec);
	return sel.keep_n > 0 ? 0 : close_run();
}

/*
 * Records that cannot be candidates pass on unparsed: most of a scan, and
 * for --untagged without --keep the manifests that have tags.
 */
static int
on_line(char *line, size_t len, const struct rg_at *at, void *arg)
{
	struct rg_jscan j;

	if (rg_jscan(line, len, &j) == 0 && j.f[RG_JS_TYPE].s != NULL &&
	    (!rg_jscan_is(&j, RG_JS_TYPE, rg_select_type(&sel)) ||
	    (sel.untagged && sel.keep_n == 0 && !j.escaped &&
	    rg_jlist_empty(&j, RG_JS_TAGS) == 0))) {
		if (close_run() == -1)
			return -1;
		return emit(NULL, line, len, 0, j.delete);
	}
	return rg_parse_line(line, len, at->where, on_record, arg);
}

int
main(int argc, char *argv[])
{
	int c, r;

	rg_select_init(&sel, time(NULL));
	while ((c = getopt_long(argc, argv, "a:b:eG:hK:k:L:O:op:r:S:T:t:uVw:",
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
		if (rg_select_name(&sel, argv[optind]) != 0)
			return RG_EXIT_FATAL;
	if (rg_select_check(&sel) != 0)
		usage(stderr, RG_EXIT_FATAL);

	r = rg_lines(STDIN_FILENO, "<stdin>", on_line, NULL);
	if (r == 0)
		r = close_run();
	if (r != 0)
		_exit(RG_EXIT_FATAL);	/* reported; a failed stdout must not be again */
	if (rg_stdout_close() != 0)
		return RG_EXIT_FATAL;
	return status;
}
