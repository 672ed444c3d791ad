/*
 * rg-select: the records a retention policy selects, marked.
 *
 * It marks them with "delete": true and writes every record on, so later
 * stages still see the whole inventory (rg-records(5)).  Records it does
 * not mark pass through byte for byte.
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
static int only, verbose, status, saw_scan;

static struct rg_run run;		/* the current repository's candidates */
static struct rg_strset seen;		/* repositories whose run is over */

static const struct option *const longopts = rg_select_longopts;

static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: rg-select [-eoRuv] [-a date] [-b date] [-G regex] "
	    "[-H host] [-I file]\n"
	    "                 [-K regex] [-k n] [-L label] [-O duration] "
	    "[-P duration]\n"
	    "                 [-p policy] [-r regex] [-S order] [-T time] "
	    "[-t regex]\n"
	    "                 [-w expr] [repo[:tag] ...]\n");
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
	case 'v':
		verbose = 1;
		return 0;
	}
	return rg_select_option(&sel, opt, optname(opt), arg);
}

/*
 * "marked_by" of the records this stage marks: the invocation, quoted as
 * a shell would need it, so the audit log says which stage and policy
 * marked each; and the member spliced into a line, escaped.
 */
static char *marked_by, *marked_member;

static void
marked_by_set(int argc, char *argv[])
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_./:=@%+,-";
	struct rg_buf b = { NULL, 0, 0 };
	json_t *js;
	char *dump;
	int i;

	if (rg_buf_add(&b, "rg-select", 9) != 0)
		rg_nomem();
	for (i = 1; i < argc && b.len < RG_MARKED_BY_MAX; i++) {
		int q = argv[i][strspn(argv[i], plain)] != '\0' || *argv[i] == '\0';
		const char *p;

		if (rg_buf_add(&b, q ? " '" : " ", q ? 2 : 1) != 0)
			rg_nomem();
		for (p = argv[i]; *p != '\0'; p++)
			if ((*p == '\'' ? rg_buf_add(&b, "'\\''", 4) :
			    rg_buf_add(&b, p, 1)) != 0)
				rg_nomem();
		if (q && rg_buf_add(&b, "'", 1) != 0)
			rg_nomem();
	}
	if (b.len > RG_MARKED_BY_MAX)
		memcpy(b.p + RG_MARKED_BY_MAX - 3, "...", 3), b.len = RG_MARKED_BY_MAX;
	if (rg_buf_add(&b, "", 1) != 0)
		rg_nomem();
	if ((js = json_string(b.p)) == NULL) {	/* not UTF-8: said in ASCII */
		for (i = 0; b.p[i] != '\0'; i++)
			if ((unsigned char)b.p[i] >= 0x80)
				b.p[i] = '?';
		js = json_string(b.p);
	}
	if (js == NULL || (dump = json_dumps(js, JSON_ENCODE_ANY |
	    JSON_COMPACT)) == NULL)
		rg_nomem();
	marked_by = b.p;
	if (asprintf(&marked_member, "\"delete\":true,\"" RG_F_MARKED_BY
	    "\":%s", dump) == -1)
		rg_nomem();
	free(dump);
	json_decref(js);
}

static void
explain(const json_t *rec, size_t rank)
{
	char why[1024];
	const char *tag = rg_str(rec, RG_F_TAG);

	rg_select_explain(&sel, rec, rank, why, sizeof(why));
	warnx("%s %s%s%s marked: %s", rg_strz(rec, RG_F_TYPE),
	    rg_strz(rec, RG_F_REPO), tag ? ":" : "@", tag ? tag :
	    rg_strz(rec, RG_F_DIGEST), why);
}

static int
emit(json_t *rec, const char *line, size_t len, int mark, int marked,
    size_t rank)
{
	int r, prot = rec != NULL && rg_select_protected(&sel, rec);

	if (prot)
		mark = 0;	/* protected: whatever marked it, it is kept */
	if (only && !mark && !marked)
		return 0;
	if (prot && !json_is_true(json_object_get(rec, RG_F_PROTECTED))) {
		json_object_set_new(rec, RG_F_PROTECTED, json_true());
		return rg_emit(stdout, rec);
	}
	if (mark && !marked) {
		if (verbose)
			explain(rec, rank);
		if (json_object_get(rec, RG_F_DELETE) == NULL &&
		    json_object_get(rec, RG_F_MARKED_BY) == NULL && line != NULL &&
		    (r = rg_write_with(line, len, marked_member)) <= 0)
			return r;	/* the line as it came, marked */
		json_object_set_new(rec, RG_F_DELETE, json_true());
		json_object_set_new(rec, RG_F_MARKED_BY, json_string(marked_by));
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

	if (run.repo == NULL)
		return 0;
	if (sel.keep_n > 0) {
		rg_select_keep(&sel, run.v, run.n);
		if (rg_strset_add(&seen, run.repo) == -1)
			rg_nomem();
	}
	for (i = 0; i < run.n; i++) {
		if (r == 0)
			r = emit(run.v[i].rec, run.v[i].line, run.v[i].len,
			    run.v[i].candidate && rg_select_chosen(&sel, run.v[i].rec),
			    run.v[i].marked, run.v[i].rank);
	}
	rg_run_clear(&run);
	return r;
}

static int
on_record(json_t *rec, const char *line, size_t len, const char *where,
    void *arg)
{
	const char *type = rg_str(rec, RG_F_TYPE), *repo = rg_str(rec, RG_F_REPO);
	struct rg_held *h;

	(void)arg;
	if (type != NULL && strcmp(type, RG_T_SCAN) == 0) {
		rg_select_scan(&sel, rec);
		saw_scan = 1;
	}
	if (type != NULL && strcmp(type, rg_select_type(&sel)) == 0 &&
	    rg_select_needs_scan(&sel) && !sel.has_pulls_since) {
		warnx("%s: --not-pulled-for: the stream has no pull history: "
		    "%s", where, saw_scan ? "its scan record has no "
		    "\"pulls_since\" (rg-pulls between rg-scan and rg-select "
		    "adds it)" : "no scan record before its records");
		return -1;
	}
	if (type == NULL || strcmp(type, rg_select_type(&sel)) != 0) {
		if (close_run() == -1)
			return -1;
		return emit(rec, line, len, 0,
		    json_is_true(json_object_get(rec, RG_F_DELETE)), 0);
	}
	if (repo == NULL) {
		warnx("%s: %s record without repo, passed on unmarked", where, type);
		status = RG_EXIT_PARTIAL;
		if (close_run() == -1)
			return -1;
		return emit(rec, line, len, 0, 0, 0);
	}
	if (!rg_run_holds(&run, repo)) {
		if (close_run() == -1)
			return -1;
		if (sel.keep_n > 0 && rg_strset_has(&seen, repo)) {
			warnx("%s: the %s records of %s are not together: --keep "
			    "ranks each repository's at once, as rg-scan writes them",
			    where, type, repo);
			return -1;
		}
		rg_run_start(&run, repo);
	}
	h = rg_run_add(&run, rec, line, len);
	h->marked = json_is_true(json_object_get(rec, RG_F_DELETE));
	h->candidate = !h->marked && !rg_select_protected(&sel, rec) &&
	    rg_select_candidate(&sel, rec);
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
	    !(rg_select_needs_scan(&sel) && rg_jscan_is(&j, RG_JS_TYPE, RG_T_SCAN)) &&
	    !(sel.protect.refs.n > 0 && (rg_jscan_is(&j, RG_JS_TYPE, RG_T_TAG) ||
	    rg_jscan_is(&j, RG_JS_TYPE, RG_T_MANIFEST))) &&
	    (!rg_jscan_is(&j, RG_JS_TYPE, rg_select_type(&sel)) ||
	    (sel.untagged && sel.keep_n == 0 && !j.escaped &&
	    rg_jlist_empty(&j, RG_JS_TAGS) == 0))) {
		if (close_run() == -1)
			return -1;
		return emit(NULL, line, len, 0, j.delete, 0);
	}
	return rg_parse_line(line, len, at->where, on_record, arg);
}

int
main(int argc, char *argv[])
{
	unsigned long bad;
	int c, r;

	rg_select_init(&sel, time(NULL));
	while ((c = getopt_long(argc, argv, "a:b:eG:H:hI:K:k:L:O:oP:p:Rr:S:T:t:uVvw:",
	    longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, RG_EXIT_OK);
			break;
		case 'V':
			return rg_version_print("rg-select");
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
	if (rg_select_load(&sel, &bad) != 0)
		return RG_EXIT_FATAL;
	if (bad > 0)
		status = RG_EXIT_PARTIAL;

	marked_by_set(argc, argv);
	r = rg_lines(STDIN_FILENO, "<stdin>", on_line, NULL);
	if (r == 0)
		r = close_run();
	if (r != 0)
		_exit(RG_EXIT_FATAL);	/* reported; a failed stdout must not be again */
	if (rg_stdout_close() != 0)
		return RG_EXIT_FATAL;
	return status;
}
