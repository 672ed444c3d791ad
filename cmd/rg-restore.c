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

/* one object to put back */
struct obj {
	char *run, *repo, *key;	/* key: the tag or upload's uuid */
	struct rg_digest d;
	int kind, has_digest;
	int listed;		/* from the run's index (--run), not a record */
	char path[RG_STORE_PATH];
};

static struct obj *objs;
static size_t nobjs, capobjs;
static struct rg_store *store;
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

/* the object's place below the v2 directory: 0, or -1 when its fields are not valid */
static int
place(struct obj *o)
{
	char hex[RG_HEX_LEN + 1];

	if (o->has_digest)
		rg_digest_hex(&o->d, hex);
	switch (o->kind) {
	case RG_OBJ_BLOB:
		return o->has_digest ? rg_path(o->path, sizeof(o->path),
		    "blobs/sha256/%.2s/%s", hex, hex) : -1;
	case RG_OBJ_LAYER:
		return o->has_digest && rg_repo_valid(o->repo) ?
		    rg_path(o->path, sizeof(o->path),
		    "repositories/%s/_layers/sha256/%s", o->repo, hex) : -1;
	case RG_OBJ_MANIFEST:
		return o->has_digest && rg_repo_valid(o->repo) ?
		    rg_path(o->path, sizeof(o->path),
		    "repositories/%s/_manifests/revisions/sha256/%s", o->repo,
		    hex) : -1;
	case RG_OBJ_TAG:
		return rg_repo_valid(o->repo) && rg_tag_valid(o->key) ?
		    rg_path(o->path, sizeof(o->path),
		    "repositories/%s/_manifests/tags/%s", o->repo, o->key) : -1;
	case RG_OBJ_UPLOAD:
		return rg_repo_valid(o->repo) && rg_upload_valid(o->key) ?
		    rg_path(o->path, sizeof(o->path),
		    "repositories/%s/_uploads/%s", o->repo, o->key) : -1;
	}
	return -1;
}

static struct obj *
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
	struct obj *o;
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
	if (k == RG_NOBJ || run == NULL || place(o) != 0) {
		warnx("%s: not a deleted object's record rg-restore can place "
		    "(kind, repository, tag, digest or run): skipped", where);
		status = RG_EXIT_PARTIAL;
		free(o->run);
		free(o->repo);
		free(o->key);
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
	char buf[RG_STORE_PATH], *p;
	struct obj *o;
	size_t n;

	if (rg_strset_has(&seen, path))
		return 0;
	if (rg_strset_add(&seen, path) == -1)
		rg_nomem();
	o = add();
	o->listed = 1;
	o->run = sdup(run);
	if (rg_path(buf, sizeof(buf), "%s", path) != 0)
		goto bad;
	n = strlen(buf);
	if (strncmp(buf, "blobs/sha256/", 13) == 0 && n > RG_HEX_LEN) {
		o->kind = RG_OBJ_BLOB;
		o->has_digest = rg_hex_parse(buf + n - RG_HEX_LEN, RG_HEX_LEN,
		    &o->d) == 0;
	} else if (strncmp(buf, "repositories/", 13) == 0 &&
	    ((p = strstr(buf, "/_layers/sha256/")) != NULL ||
	    (p = strstr(buf, "/_manifests/revisions/sha256/")) != NULL)) {
		o->kind = p[2] == 'l' ? RG_OBJ_LAYER : RG_OBJ_MANIFEST;
		*p = '\0';
		o->repo = sdup(buf + 13);
		o->has_digest = rg_hex_parse(buf + n - RG_HEX_LEN, RG_HEX_LEN,
		    &o->d) == 0 && n >= RG_HEX_LEN;
	} else if (strncmp(buf, "repositories/", 13) == 0 &&
	    (p = strstr(buf, "/_manifests/tags/")) != NULL) {
		o->kind = RG_OBJ_TAG;
		o->key = sdup(p + 17);
		*p = '\0';
		o->repo = sdup(buf + 13);
	} else if (strncmp(buf, "repositories/", 13) == 0 &&
	    (p = strstr(buf, "/_uploads/")) != NULL) {
		o->kind = RG_OBJ_UPLOAD;
		o->key = sdup(p + 10);
		*p = '\0';
		o->repo = sdup(buf + 13);
	} else
		goto bad;
	if (place(o) == 0 && strcmp(o->path, path) == 0)
		return 0;
bad:
	warnx("%s: its index names %s, not an object's place: left alone",
	    run, path);
	status = RG_EXIT_PARTIAL;
	free(o->run);
	free(o->repo);
	free(o->key);
	nobjs--;
	return -1;
}

/* the record of what became of o */
static void
report(const struct obj *o, const char *result, const char *why)
{
	char ds[RG_DIGEST_STRLEN + 1];
	json_t *rec = rg_record_new("restore", o->repo);

	json_object_set_new(rec, "run", json_string(o->run));
	json_object_set_new(rec, "object", json_string(rg_obj_name[o->kind]));
	if (o->kind == RG_OBJ_TAG)
		json_object_set_new(rec, RG_F_TAG, json_string(o->key));
	if (o->kind == RG_OBJ_UPLOAD)
		json_object_set_new(rec, "uuid", json_string(o->key));
	if (o->has_digest) {
		rg_digest_format(&o->d, ds);
		json_object_set_new(rec, RG_F_DIGEST, json_string(ds));
	}
	json_object_set_new(rec, "result", json_string(result));
	if (why != NULL)
		json_object_set_new(rec, "why", json_string(why));
	if (rg_emit(stdout, rec) != 0)
		_exit(RG_EXIT_FATAL);
	json_decref(rec);
}

/* The name the run holds o under: the last index entry of its path still held. */
static const char *
held_name(const struct rg_qindex *x, const struct obj *o)
{
	size_t i;

	for (i = x->n; i > 0; i--)
		if (strcmp(x->v[i - 1].path, o->path) == 0)
			return x->v[i - 1].name;
	return NULL;
}

/* The objects of run, put back kind by kind in the registry's order. */
static void
restore_run(const char *run)
{
	struct rg_qindex x;
	const char *name;
	size_t i, k;
	int r;

	if (store->ops->held_open(store, run, &x) == -1) {
		if (errno != ENOENT)
			err(RG_EXIT_FATAL, "%s/.rg-trash/quarantine/%s", store->root,
			    run);
		memset(&x, 0, sizeof(x));	/* none held: each gone */
	}
	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (i = 0; i < nobjs; i++) {
			if (objs[i].kind != order[k] || strcmp(objs[i].run, run) != 0)
				continue;
			name = held_name(&x, &objs[i]);
			r = store->ops->put_back(store, name, objs[i].path, dry_run);
			switch (r) {
			case 0:
				counts[0]++;
				report(&objs[i], dry_run ? "would-restore" :
				    "restored", NULL);
				break;
			case 1:
				counts[1]++;
				report(&objs[i], "skipped", name == NULL ||
				    objs[i].kind != RG_OBJ_TAG ? "there again: put back "
				    "already, or pushed again; left as it is" :
				    "pushed again since it was deleted: kept as pushed");
				break;
			case 2:
				if (objs[i].listed)
					break;	/* (put back by rg-rm's settle) */
				counts[2]++;
				status = RG_EXIT_PARTIAL;
				report(&objs[i], "gone", "not held: its run's quarantine "
				    "has ended, or it was never quarantined");
				break;
			default:
				counts[3]++;
				status = RG_EXIT_PARTIAL;
				warn("%s/%s", store->root, objs[i].path);
				report(&objs[i], "failed", strerror(errno));
			}
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
	rg_store_close(store);
	if (rg_stdout_close() != 0)
		return RG_EXIT_FATAL;
	return status;
}
