/*
 * rg-restore: what rg-rm --quarantine deleted, put back.
 *
 * Reads rg-rm's audit records (standard input, or the files named) and
 * puts back each object they say was deleted, from the quarantine of the
 * run that deleted it; or, with --run, every object the run holds.  Objects
 * come back in the order the registry writes them: blob data, then layer
 * links, then manifests' revision links, then uploads, tag links last, so
 * that no tag ever points at missing content, even if killed midway (a
 * rerun finishes).  Nothing is overwritten: an object there again (a tag
 * pushed since, a blob pushed again) is left as it is and said skipped;
 * one no longer held (its quarantine ended) is said gone.  One record per
 * object on standard output, a summary on standard error.  Memory: the
 * objects to put back (a path each) and the run's index (a name and a
 * path per object it held).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remove.h"
#include "store.h"

static struct rg_restobj *objs;
static size_t nobjs, capobjs;
static struct rg_store *store;
static struct rg_whole whole;	/* what a link needs, looked at */
static const char *root_arg, *run_arg, *root_seen;
static struct rg_remote remote;		/* S3: --endpoint, --cacert */
static char *root_log;		/* the audit log's rm-total root */
static int dry_run, verbose, status;
static unsigned long counts[4];	/* restored, skipped, gone, failed */

/* the order objects come back in, by kind */
static const int order[] = { RG_OBJ_BLOB, RG_OBJ_LAYER, RG_OBJ_MANIFEST,
    RG_OBJ_UPLOAD, RG_OBJ_TAG };

static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: rg-restore [-knv] [-e endpoint] [-r root] [--cacert file] "
	    "[file ...]\n"
	    "       rg-restore [-knv] [-e endpoint] [--cacert file] --run id -r root\n");
	exit(code);
}

static struct rg_restobj *
add(void)
{
	if (nobjs == capobjs) {
		capobjs = capobjs ? 2 * capobjs : 256;
		if ((objs = realloc(objs, capobjs * sizeof(*objs))) == NULL)
			rg_nomem();
	}
	memset(&objs[nobjs], 0, sizeof(objs[nobjs]));
	return &objs[nobjs++];
}

static char *
sdup(const char *s)
{
	char *p = NULL;

	if (s != NULL && (p = strdup(s)) == NULL)
		rg_nomem();
	return p;
}

/* An audit record: the objects rg-rm says it deleted, held by their run. */
static int
on_record(json_t *rec, const char *line, size_t len, const char *where,
    void *arg)
{
	const char *type = rg_str(rec, RG_F_TYPE), *kind = rg_str(rec, "object");
	const char *ds = rg_str(rec, RG_F_DIGEST), *run = rg_str(rec, "run");
	struct rg_restobj *o;
	int k;

	(void)line;
	(void)len;
	(void)arg;
	if (type != NULL && strcmp(type, RG_T_RM_TOTAL) == 0 &&
	    rg_str(rec, RG_F_ROOT) != NULL && root_log == NULL)
		root_log = sdup(rg_str(rec, RG_F_ROOT));
	if (type == NULL || strcmp(type, RG_T_RM) != 0 ||
	    strcmp(rg_strz(rec, "result"), "deleted") != 0 || kind == NULL)
		return 0;
	for (k = 0; k < RG_NOBJ && strcmp(rg_obj_name[k], kind) != 0; k++)
		;
	if (k == RG_OBJ_REPO)
		return 0;	/* (its directories come back with its objects) */
	o = add();
	o->kind = k;
	o->run = sdup(run);
	o->repo = sdup(rg_str(rec, RG_F_REPO));
	o->key = sdup(k == RG_OBJ_TAG ? rg_str(rec, RG_F_TAG) : rg_str(rec, "uuid"));
	o->has_digest = ds != NULL && rg_digest_parse(ds, strlen(ds), &o->d) == 0;
	if (k == RG_NOBJ || run == NULL || rg_restobj_place(o) != 0) {
		warnx("%s: not a deleted object's record rg-restore can place "
		    "(kind, repository, tag, digest or run): skipped", where);
		status = RG_EXIT_PARTIAL;
		rg_restobj_clear(o);
		nobjs--;
	}
	return 0;
}

static int
on_line(char *line, size_t len, const struct rg_at *at, void *arg)
{
	return rg_parse_line(line, len, at->where, on_record, arg);
}

/* An index path's object, its kind and fields from the path's form. */
static int
from_path(const char *run, const char *path)
{
	static struct rg_strset seen;
	struct rg_restobj *o;

	if (rg_strset_has(&seen, path))
		return 0;
	if (rg_strset_add(&seen, path) == -1)
		rg_nomem();
	o = add();
	o->listed = 1;
	o->run = sdup(run);
	if (rg_restobj_parse(o, path) == 0)
		return 0;
	warnx("%s: its index names %s, not an object's place: left alone",
	    run, path);
	status = RG_EXIT_PARTIAL;
	rg_restobj_clear(o);
	nobjs--;
	return -1;
}

/* the record of what became of o */
static void
report(const struct rg_restobj *o, const char *result, const char *why)
{
	json_t *rec = rg_record_new("restore", o->repo);

	json_object_set_new(rec, "run", json_string(o->run));
	rg_object_fields(rec, o->kind, o->key, o->has_digest ? &o->d : NULL);
	json_object_set_new(rec, "result", json_string(result));
	if (why != NULL)
		json_object_set_new(rec, "why", json_string(why));
	if (rg_emit(stdout, rec) != 0)
		_exit(RG_EXIT_FATAL);
	json_decref(rec);
}

/* The name the run holds o under: the last index entry of its path still held. */
static const char *
held_name(const struct rg_qindex *x, const struct rg_restobj *o)
{
	size_t i;

	for (i = x->n; i > 0; i--)
		if (strcmp(x->v[i - 1].path, o->path) == 0)
			return x->v[i - 1].name;
	return NULL;
}

/*
 * What o needs there before it goes back (rg_whole_*, restore.c): 1 all
 * there, 0 not (whole.why), -1 cannot tell.  A tag: the manifest its
 * held copy names.
 */
static int
needs(struct rg_restobj *o, const char *name)
{
	char where[RG_STORE_PATH + RG_TRASH_NAME + 64];
	struct rg_digest d;
	size_t n;

	switch (o->kind) {
	case RG_OBJ_LAYER:
		return rg_whole_layer(&whole, &o->d);
	case RG_OBJ_MANIFEST:
		return rg_whole_manifest(&whole, o->repo, &o->d, 0);
	case RG_OBJ_TAG:
		if (store->ops->held_where(store, name, o->path, where,
		    sizeof(where)) != 0)
			return -1;
		n = strlen(where);
		if (rg_path(where + n, sizeof(where) - n, "/current/link") != 0 ||
		    store->ops->link(store, where, &d, NULL) != RG_LINK_OK)
			return -1;
		o->d = d;
		o->has_digest = 1;
		return rg_whole_manifest(&whole, o->repo, &d, 1);
	}
	return 1;
}

/*
 * o put back from the run's index x, said: 1, or 0 when what it needs is
 * not there and this is not the last look (a manifest waits for its
 * children).
 */
static int
restore_one(struct rg_restobj *o, const struct rg_qindex *x, int last)
{
	const char *name = held_name(x, o);
	int r = 2, c = 1;

	if (name != NULL && (c = needs(o, name)) == 0 && !last)
		return 0;
	if (c == 1)
		r = store->ops->put_back(store, name, o->path, dry_run);
	else if (store->ops->put_back(store, name, o->path, 1) == 1)
		r = 1;		/* (there again: left, whatever it needs) */
	else if (c == 0) {
		counts[2]++;
		status = RG_EXIT_PARTIAL;
		report(o, "gone", whole.why);
		return 1;
	} else
		r = -1;
	switch (r) {
	case 0:
		counts[0]++;
		rg_whole_would(&whole, o->path);
		report(o, dry_run ? "would-restore" : "restored", NULL);
		break;
	case 1:
		counts[1]++;
		report(o, "skipped", name == NULL || o->kind != RG_OBJ_TAG ?
		    "there again: put back already, or pushed again; left as "
		    "it is" : "pushed again since it was deleted: kept as pushed");
		break;
	case 2:
		if (o->listed)
			break;	/* (put back by rg-rm's settle) */
		counts[2]++;
		status = RG_EXIT_PARTIAL;
		report(o, "gone", "not held: its run's quarantine has ended, or "
		    "it was never quarantined");
		break;
	default:
		counts[3]++;
		status = RG_EXIT_PARTIAL;
		warn("%s/%s", store->root, o->path);
		report(o, "failed", strerror(errno));
	}
	return 1;
}

/*
 * The objects of run, put back kind by kind in the registry's order;
 * manifests in rounds, an index after its children, until a round puts
 * none back.
 */
static void
restore_run(const char *run)
{
	struct rg_qindex x;
	size_t i, k, done, waiting;
	int last;

	if (store->ops->held_open(store, run, &x) == -1) {
		if (errno != ENOENT)
			err(RG_EXIT_FATAL, "%s/.rg-trash/quarantine/%s", store->root,
			    run);
		memset(&x, 0, sizeof(x));	/* none held: each gone */
	}
	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (last = order[k] != RG_OBJ_MANIFEST;;) {
			for (i = done = waiting = 0; i < nobjs; i++) {
				if (objs[i].kind != order[k] || objs[i].done ||
				    strcmp(objs[i].run, run) != 0)
					continue;
				if (restore_one(&objs[i], &x, last)) {
					objs[i].done = 1;
					done++;
				} else
					waiting++;
			}
			if (waiting == 0 || last)
				break;
			last = done == 0;
		}
	store->ops->held_close(store);
	rg_qindex_free(&x);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "root", required_argument, NULL, 'r' },
		{ "run", required_argument, NULL, 'R' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct rg_qindex x;
	unsigned long recovered;
	const char *why = NULL;
	size_t i, j;
	int c, fd;

	while ((c = getopt_long(argc, argv, "e:hknr:vV", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			remote.endpoint = optarg;
			break;
		case 'k':
			remote.insecure = 1;
			break;
		case 'C':
			remote.cacert = optarg;
			break;
		case 'n':
			dry_run = 1;
			break;
		case 'r':
			root_arg = optarg;
			break;
		case 'R':
			run_arg = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout, RG_EXIT_OK);
			break;
		case 'V':
			return rg_version_print("rg-restore");
		default:
			usage(stderr, RG_EXIT_FATAL);
		}
	}
	if (run_arg != NULL && (optind != argc || root_arg == NULL))
		usage(stderr, RG_EXIT_FATAL);
	if (run_arg == NULL && optind == argc &&
	    rg_lines(STDIN_FILENO, "<stdin>", on_line, NULL) != 0)
		return RG_EXIT_FATAL;
	for (; run_arg == NULL && optind < argc; optind++) {
		if ((fd = open(argv[optind], O_RDONLY | O_CLOEXEC)) == -1)
			err(RG_EXIT_FATAL, "%s", argv[optind]);
		if (rg_lines(fd, argv[optind], on_line, NULL) != 0)
			return RG_EXIT_FATAL;
		close(fd);
	}
	root_seen = root_arg != NULL ? root_arg : root_log;
	if (root_seen == NULL)
		errx(RG_EXIT_FATAL, "no storage root: the records have no rm-total "
		    "record naming it; give --root");
	if ((store = rg_store_open(root_seen, &remote)) == NULL)
		return RG_EXIT_FATAL;
	if (store->ops->held_open == NULL)
		errx(RG_EXIT_FATAL, "%s: this storage holds no quarantine", root_seen);
	whole.st = store;
	whole.dry_run = dry_run;
	/* the lock, as rg-rm's: no rg-rm or rg-restore works beside it */
	if (!dry_run && store->ops->rm_open(store, &recovered, &why) == -1)
		errx(RG_EXIT_FATAL, "%s/.rg-trash: %s", store->root, why);
	if (run_arg != NULL) {
		if (store->ops->held_open(store, run_arg, &x) == -1)
			err(RG_EXIT_FATAL, "%s/.rg-trash/quarantine/%s", store->root,
			    run_arg);
		for (i = 0; i < x.n; i++)
			from_path(run_arg, x.v[i].path);
		store->ops->held_close(store);
		rg_qindex_free(&x);
		restore_run(run_arg);
	} else
		for (i = 0; i < nobjs; i++) {
			for (j = 0; j < i && strcmp(objs[j].run, objs[i].run) != 0; j++)
				;
			if (j == i)	/* (each run once) */
				restore_run(objs[i].run);
		}
	if (!dry_run)
		store->ops->rm_close(store);
	fprintf(stderr, "rg-restore: %s %lu objects, skipped %lu (there again), "
	    "%lu gone (no longer held), %lu failed%s\n", dry_run ?
	    "would restore" : "restored", counts[0], counts[1], counts[2],
	    counts[3], dry_run ? " (dry run: nothing changed)" : "");
	rg_whole_free(&whole);
	rg_store_close(store);
	if (rg_stdout_close() != 0)
		return RG_EXIT_FATAL;
	return status;
}
