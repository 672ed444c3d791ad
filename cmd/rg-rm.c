/*
 * rg-rm: delete from registry storage what the stream marks "delete": true.
 * Reads the whole stream first (rg-records(5)): the storage root and time
 * of its scan, and the "refs" record rg-refs ends it with, whose plan
 * digest must match the marks; only then does it act, in an order that
 * keeps the registry consistent at every step: tags, then manifests
 * (indexes before their children; tag index entries, then the revision
 * link), layer links, blobs, uploads, and with --prune the repositories
 * left empty.  Each object is renamed into a trash directory in one step
 * and removed there (common/beneath.c), every path built from validated
 * names and opened below the root without following symbolic links.
 * Before deleting it checks the storage again: what was pushed or linked
 * since the scan is kept.  Writes a record per object to stdout, a
 * summary to stderr.  Memory: the marked records (a digest, a name and a
 * few numbers each), the repositories, and the digests linked since the
 * scan.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rg.h"

enum kind { K_TAG, K_MANIFEST, K_LAYER, K_BLOB, K_UPLOAD, K_REPO, NKINDS };

static const char *kind_name[NKINDS] = { "tag", "manifest", "layer", "blob",
    "upload", "repository" };

struct item {
	struct rg_digest d;
	char *key;		/* tag or upload uuid */
	const char *bad;	/* why the record is not valid, or NULL */
	int64_t size;
	uint32_t repo;		/* index in repos */
	unsigned char kind, has_digest, index, valid;
	unsigned long line;
};

struct repo {
	struct rg_digest key;	/* sha256 of the name */
	char *name;
	uint32_t tags, mans, tags_done, mans_done;	/* in the stream; deleted */
	int changed;		/* links written since the scan, or a tag kept */
	struct rg_digest *current;	/* what its tags point at now */
	size_t ncurrent;
	int read_current;
};

static struct rg_strset tags_done;	/* "repo:tag" of the tags deleted */
static const char *hold_blobs;		/* why no blob may go, or NULL */
static struct item *items;
static size_t nitems, capitems;
static struct rg_dtab repos, fresh;	/* fresh: digests linked since the scan */
static int dry_run, prune, verbose, status, approved, fresh_manifests;
static long long max_age = 3600, min_age = 3600;
static char *root_opt, *root_stream, *plan_stream;
static time_t scan_time = -1, now;
static unsigned long refs_line, last_line, nmarked;
static struct rg_plan plan;
static int v2fd = -1, trashfd = -1;
static unsigned long done[NKINDS], kept[NKINDS];
static long long bytes;

#define REPO(i)	((struct repo *)RG_DTAB_AT(&repos, i))

static uint32_t
repo_id(const char *name)
{
	static uint32_t last = UINT32_MAX;
	struct rg_digest k;
	long i;

	if (last != UINT32_MAX && strcmp(REPO(last)->name, name) == 0)
		return last;
	rg_digest_of(name, strlen(name), &k);
	if ((i = rg_dtab_index(&repos, &k, 1)) == -1)
		err(RG_EXIT_FATAL, NULL);
	if (REPO(i)->name == NULL && (REPO(i)->name = strdup(name)) == NULL)
		err(RG_EXIT_FATAL, NULL);
	return last = (uint32_t)i;
}

static int
kind_of(const char *type)
{
	int k;

	for (k = 0; type != NULL && k < K_REPO; k++)
		if (strcmp(type, kind_name[k]) == 0)
			return k;
	return -1;
}

/* A marked record, checked field by field: nothing unchecked makes a path. */
static void
take_marked(const json_t *rec, int kind, const char *where)
{
	const char *repo = rg_str(rec, "repo"), *digest = rg_str(rec, "digest");
	const char *key = kind == K_TAG ? rg_str(rec, "tag") :
	    kind == K_UPLOAD ? rg_str(rec, "uuid") : NULL;
	struct item *it;

	rg_plan_add_fields(&plan, kind_name[kind], repo, key != NULL ? key : digest);
	nmarked++;
	if (nitems == capitems) {
		capitems = capitems ? 2 * capitems : 1024;
		if ((items = realloc(items, capitems * sizeof(*items))) == NULL)
			err(RG_EXIT_FATAL, NULL);
	}
	it = &items[nitems++];
	memset(it, 0, sizeof(*it));
	it->kind = (unsigned char)kind;
	it->line = last_line;
	it->size = json_integer_value(json_object_get(rec, "size"));
	it->index = json_array_size(json_object_get(rec, "manifests")) > 0;
	it->has_digest = digest != NULL &&
	    rg_digest_parse(digest, strlen(digest), &it->d) == 0;
	if (kind != K_BLOB && (repo == NULL || !rg_repo_valid(repo)))
		it->bad = "invalid repository name";
	else if (kind == K_TAG && (key == NULL || !rg_tag_valid(key)))
		it->bad = "invalid tag";
	else if (kind == K_UPLOAD && (key == NULL || !rg_upload_valid(key)))
		it->bad = "invalid upload id";
	else if (kind != K_TAG && kind != K_UPLOAD && !it->has_digest)
		it->bad = "invalid digest";
	if (it->bad != NULL) {
		warnx("%s: %s record with an %s: nothing deleted for it",
		    where, kind_name[kind], it->bad);
		status = RG_EXIT_PARTIAL;
		return;
	}
	it->valid = 1;
	it->repo = kind == K_BLOB ? UINT32_MAX : repo_id(repo);
	if (key != NULL && (it->key = strdup(key)) == NULL)
		err(RG_EXIT_FATAL, NULL);
}

static int
on_record(json_t *rec, const char *line, size_t len, const char *where, void *arg)
{
	const char *type = rg_str(rec, "type"), *s;
	int kind = kind_of(type);
	uint32_t r;

	(void)line;
	(void)len;
	(void)arg;
	if (refs_line != 0) {
		warnx("%s: a record after rg-refs' \"refs\" record: the stream "
		    "was changed after rg-refs", where);
		exit(RG_EXIT_FATAL);
	}
	if (type != NULL && strcmp(type, "scan") == 0) {
		if (root_stream != NULL)
			errx(RG_EXIT_FATAL, "%s: a second scan record: one stream, "
			    "one scan", where);
		if ((s = rg_str(rec, "root")) == NULL || (root_stream = strdup(s)) == NULL)
			errx(RG_EXIT_FATAL, "%s: scan record without a root", where);
		if (rg_record_time(rec, "time", &scan_time) != 0)
			errx(RG_EXIT_FATAL, "%s: scan record without a time", where);
		if ((s = rg_str(rec, "source")) != NULL && strcmp(s, "storage") != 0)
			errx(RG_EXIT_FATAL, "%s: a scan of %s, not of storage: "
			    "rg-rm deletes from storage", where, s);
		return 0;
	}
	if (type != NULL && strcmp(type, "refs") == 0) {
		refs_line = last_line;
		if ((s = rg_str(rec, "plan")) == NULL || (plan_stream = strdup(s)) == NULL)
			errx(RG_EXIT_FATAL, "%s: refs record without a plan", where);
		return 0;
	}
	if ((kind == K_TAG || kind == K_MANIFEST) && (s = rg_str(rec, "repo")) != NULL &&
	    rg_repo_valid(s)) {
		r = repo_id(s);		/* apart: it may move the table */
		if (kind == K_TAG)
			REPO(r)->tags++;
		else
			REPO(r)->mans++;
	} else if (type != NULL && strcmp(type, "repo") == 0 &&
	    (s = rg_str(rec, "repo")) != NULL && rg_repo_valid(s))
		repo_id(s);
	if (kind >= 0 && json_is_true(json_object_get(rec, "delete")))
		take_marked(rec, kind, where);
	return 0;
}

/* Most records need no parse: unmarked blobs and layer links. */
static int
on_line(char *line, size_t len, const char *where, void *arg)
{
	struct rg_jscan j;

	last_line++;
	if (rg_jscan(line, len, &j) == 0 && !j.escaped && !j.delete &&
	    refs_line == 0 && (rg_jscan_is(&j, RG_JS_TYPE, "blob") ||
	    rg_jscan_is(&j, RG_JS_TYPE, "layer")))
		return 0;
	return rg_parse_line(line, len, where, on_record, arg);
}

/* the audit record of one object */
static void
report(const struct item *it, const char *result, const char *why)
{
	char ds[RG_DIGEST_STRLEN + 1];
	json_t *rec;

	rec = rg_record_new("rm", it->valid && it->repo != UINT32_MAX ?
	    REPO(it->repo)->name : NULL);
	json_object_set_new(rec, "object", json_string(kind_name[it->kind]));
	if (it->kind == K_TAG)
		json_object_set_new(rec, "tag", json_string(it->key));
	if (it->kind == K_UPLOAD)
		json_object_set_new(rec, "uuid", json_string(it->key));
	if (it->has_digest) {
		rg_digest_format(&it->d, ds);
		json_object_set_new(rec, "digest", json_string(ds));
	}
	if (it->kind == K_BLOB || it->kind == K_UPLOAD)
		json_object_set_new(rec, "size", json_integer(it->size));
	json_object_set_new(rec, "result", json_string(result));
	if (why != NULL)
		json_object_set_new(rec, "why", json_string(why));
	if (rg_emit(stdout, rec) != 0)
		_exit(RG_EXIT_FATAL);
	json_decref(rec);
}

/*
 * Remove path, or say it would; the audit record either way.  0 when it
 * is gone (or would be), -1 when it failed.
 */
static int
apply(const struct item *it, const char *path)
{
	int r = dry_run ? 0 : rg_trash_remove(v2fd, trashfd, path);

	if (r == -1) {
		warn("%s/%s", root_stream, path);
		status = RG_EXIT_PARTIAL;
		report(it, "failed", strerror(errno));
		return -1;
	}
	if (r == 1) {
		report(it, "gone", "already deleted");
		return 0;
	}
	done[it->kind]++;
	if (it->kind == K_BLOB || it->kind == K_UPLOAD)
		bytes += it->size;
	report(it, dry_run ? "would-delete" : "deleted", NULL);
	return 0;
}

static void
keep(const struct item *it, const char *why)
{
	kept[it->kind]++;
	if (verbose)
		warnx("%s:%lu: %s kept: %s", "<stdin>", it->line, kind_name[it->kind], why);
	report(it, "kept", why);
}

static int
since_scan(const struct timespec *t)
{
	return scan_time >= 0 && t->tv_sec >= scan_time;
}

#define PATH_BUF	(RG_REPO_MAX + RG_TAG_MAX + 2 * RG_HEX_LEN + 96)

static void
rm_tag(const struct item *it)
{
	char dir[PATH_BUF], link[PATH_BUF + 16], name[PATH_BUF];
	struct repo *r = REPO(it->repo);
	struct timespec mtime;
	struct rg_digest d;
	int st, was = r->changed;

	snprintf(dir, sizeof(dir), "repositories/%s/_manifests/tags/%s", r->name,
	    it->key);
	snprintf(link, sizeof(link), "%s/current/link", dir);
	snprintf(name, sizeof(name), "%s:%s", r->name, it->key);
	r->changed = 1;		/* unless it goes, its manifests stay */
	if ((st = rg_beneath_link(v2fd, link, &d, &mtime)) == RG_LINK_IOERR) {
		warn("%s/%s", root_stream, link);
		status = RG_EXIT_PARTIAL;
		return report(it, "failed", strerror(errno));
	}
	if (st == RG_LINK_OK && ((it->has_digest && memcmp(&d, &it->d,
	    sizeof(d)) != 0) || since_scan(&mtime)))
		return keep(it, "tag pushed since the scan");
	if (apply(it, dir) == -1)
		return;
	r->changed = was;
	r->tags_done++;
	if (rg_strset_add(&tags_done, name) == -1)
		err(RG_EXIT_FATAL, NULL);
}

/* List the directory at path below the root: its fd, or -1 (errno). */
static int
list_dir(const char *path, struct rg_dir *l)
{
	int fd, dfd, e;

	if ((fd = rg_beneath_open(v2fd, path, O_RDONLY | O_DIRECTORY)) == -1)
		return -1;
	dfd = rg_dir_list(fd, ".", l);
	e = errno;
	close(fd);
	errno = e;
	return dfd;
}

/* Do the tags of repository r point at d now?  Read once per repository. */
static int
tagged(struct repo *r, const struct rg_digest *d)
{
	char path[PATH_BUF];
	struct rg_digest cur;
	struct rg_dir l;
	size_t i;
	int fd;

	if (!r->read_current) {
		r->read_current = 1;
		snprintf(path, sizeof(path), "repositories/%s/_manifests/tags", r->name);
		if ((fd = list_dir(path, &l)) != -1) {
			for (i = 0; i < l.n; i++) {
				snprintf(path, sizeof(path), "%s:%s", r->name, l.v[i].name);
				if (rg_strset_has(&tags_done, path))
					continue;	/* a dry run's: as if gone */
				snprintf(path, sizeof(path), "repositories/%s/_manifests/"
				    "tags/%s/current/link", r->name, l.v[i].name);
				if (!rg_tag_valid(l.v[i].name) ||
				    rg_beneath_link(v2fd, path, &cur, NULL) != RG_LINK_OK)
					continue;
				if ((r->current = realloc(r->current, (r->ncurrent + 1) *
				    sizeof(*r->current))) == NULL)
					err(RG_EXIT_FATAL, NULL);
				r->current[r->ncurrent++] = cur;
			}
			close(fd);
			rg_dir_free(&l);
		}
	}
	for (i = 0; i < r->ncurrent; i++)
		if (memcmp(&r->current[i], d, sizeof(*d)) == 0)
			return 1;
	return 0;
}

static void
rm_manifest(const struct item *it)
{
	char path[PATH_BUF], hex[RG_HEX_LEN + 1];
	struct repo *r = REPO(it->repo);
	const char *why;
	struct rg_dir l;
	size_t i;
	int fd;

	/* what it references stays with it: its layer links, and every blob */
	if ((why = r->changed ? "repository changed since the scan" :
	    tagged(r, &it->d) ? "a tag points at it" : NULL) != NULL) {
		r->changed = 1;
		hold_blobs = "a manifest of the plan was kept";
		return keep(it, why);
	}
	rg_digest_hex(&it->d, hex);
	/* the tags' history first, the manifest last: a rerun finds it again */
	snprintf(path, sizeof(path), "repositories/%s/_manifests/tags", r->name);
	if (!dry_run && (fd = list_dir(path, &l)) != -1) {
		for (i = 0; i < l.n; i++) {
			if (!rg_tag_valid(l.v[i].name))
				continue;
			snprintf(path, sizeof(path), "repositories/%s/_manifests/"
			    "tags/%s/index/sha256/%s", r->name, l.v[i].name, hex);
			if (rg_trash_remove(v2fd, trashfd, path) == -1) {
				warn("%s/%s", root_stream, path);
				status = RG_EXIT_PARTIAL;
			}
		}
		close(fd);
		rg_dir_free(&l);
	}
	snprintf(path, sizeof(path), "repositories/%s/_manifests/revisions/sha256/%s",
	    r->name, hex);
	if (apply(it, path) == 0)
		r->mans_done++;
	else {
		r->changed = 1;
		hold_blobs = "a manifest of the plan was kept";
	}
}

static void
rm_layer(const struct item *it)
{
	char path[PATH_BUF], hex[RG_HEX_LEN + 1];
	struct repo *r = REPO(it->repo);

	if (r->changed)
		return keep(it, "repository changed since the scan");
	rg_digest_hex(&it->d, hex);
	snprintf(path, sizeof(path), "repositories/%s/_layers/sha256/%s", r->name, hex);
	apply(it, path);
}

static void
rm_blob(const struct item *it)
{
	char path[PATH_BUF], hex[RG_HEX_LEN + 1];
	struct stat st;

	if (fresh_manifests)
		return keep(it, "manifests pushed since the scan");
	if (hold_blobs != NULL)
		return keep(it, hold_blobs);
	if (rg_dtab_index(&fresh, &it->d, 0) != -1)
		return keep(it, "linked since the scan");
	rg_digest_hex(&it->d, hex);
	snprintf(path, sizeof(path), "blobs/sha256/%.2s/%s/data", hex, hex);
	if (rg_beneath_stat(v2fd, path, &st) == 0 && st.st_mtime > now - min_age)
		return keep(it, "younger than --min-age");
	snprintf(path, sizeof(path), "blobs/sha256/%.2s/%s", hex, hex);
	apply(it, path);
}

/* Is anything in the directory at path written at or after t? */
static int
written_since(const char *path, time_t t)
{
	struct rg_dir l;
	struct stat st;
	size_t i;
	int fd, r = 0;

	if ((fd = list_dir(path, &l)) == -1)
		return 0;
	for (i = 0; i < l.n && !r; i++)
		r = fstatat(fd, l.v[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_mtime >= t;
	close(fd);
	rg_dir_free(&l);
	return r;
}

static void
rm_upload(const struct item *it)
{
	char path[PATH_BUF];

	snprintf(path, sizeof(path), "repositories/%s/_uploads/%s",
	    REPO(it->repo)->name, it->key);
	if (written_since(path, scan_time >= 0 && scan_time < now - min_age ?
	    scan_time : now - min_age))
		return keep(it, "written since the scan, or younger than --min-age");
	apply(it, path);
}

/*
 * Links written since the scan: the digests they name are kept, and the
 * repositories they are in are left alone.  Walks repositories/ below the
 * root, never through a symbolic link.
 */
static void
fresh_repo(const char *repo)
{
	struct rg_digest k;
	long r;

	rg_digest_of(repo, strlen(repo), &k);
	if ((r = rg_dtab_index(&repos, &k, 0)) != -1)
		REPO(r)->changed = 1;
}

/* the entries of dir (below repos/repo) whose <entry>/suffix is new */
static void
fresh_links(const char *repo, const char *dir, const char *suffix, int manifests)
{
	char path[PATH_BUF];
	struct rg_digest d;
	struct rg_dir l;
	struct stat st;
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "repositories/%s/%s", repo, dir);
	if ((fd = list_dir(path, &l)) == -1)
		return;
	for (i = 0; i < l.n; i++) {
		snprintf(path, sizeof(path), "%s/%s", l.v[i].name, suffix);
		if (fstatat(fd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    st.st_mtime < scan_time)
			continue;
		if (rg_hex_parse(l.v[i].name, strlen(l.v[i].name), &d) == 0 &&
		    rg_dtab_index(&fresh, &d, 1) == -1)
			err(RG_EXIT_FATAL, NULL);
		fresh_manifests |= manifests;
		fresh_repo(repo);
	}
	close(fd);
	rg_dir_free(&l);
}

static void
fresh_walk(const char *name)
{
	char path[PATH_BUF], sub[RG_REPO_MAX + 2];
	struct rg_dir l;
	size_t i;
	int fd, repo = 0;

	snprintf(path, sizeof(path), "repositories%s%s", *name ? "/" : "", name);
	if ((fd = list_dir(path, &l)) == -1)
		return;
	for (i = 0; i < l.n; i++) {
		const char *e = l.v[i].name;

		if (!rg_entry_is_dir(fd, &l.v[i]))
			continue;
		if (e[0] == '_') {
			repo = 1;
			continue;
		}
		if (!rg_component_valid(e, strlen(e)) || snprintf(sub, sizeof(sub),
		    "%s%s%s", name, *name ? "/" : "", e) >= (int)sizeof(sub))
			continue;
		fresh_walk(sub);
	}
	close(fd);
	rg_dir_free(&l);
	if (!repo || !*name)
		return;
	fresh_links(name, "_layers/sha256", "link", 0);
	fresh_links(name, "_manifests/revisions/sha256", "link", 1);
	fresh_links(name, "_manifests/tags", "current/link", 1);
	snprintf(path, sizeof(path), "repositories/%s/_uploads", name);
	if (written_since(path, scan_time))
		fresh_repo(name);
}

/*
 * --prune: a repository whose tags and manifests are all gone loses its
 * _manifests, _layers and _uploads, and so leaves the catalog; then its
 * directory and the namespaces above it go while they are empty.  A
 * directory that holds other repositories stays.
 */
static void
prune_repo(struct repo *r)
{
	static const char *parts[] = { "_manifests", "_layers", "_uploads" };
	char path[PATH_BUF], *slash;
	struct rg_dir l;
	size_t i, n;
	int fd, res;
	struct item it;

	memset(&it, 0, sizeof(it));
	it.kind = K_REPO;
	it.valid = 1;
	it.repo = (uint32_t)(r - REPO(0));
	if (r->changed || r->tags != r->tags_done || r->mans != r->mans_done)
		return;
	if (!dry_run) {
		/* what is on disk decides: nothing tagged, no revision left */
		snprintf(path, sizeof(path), "repositories/%s/_manifests/tags", r->name);
		if ((fd = list_dir(path, &l)) != -1) {
			n = l.n;
			close(fd);
			rg_dir_free(&l);
			if (n > 0)
				return keep(&it, "it has tags");
		}
		snprintf(path, sizeof(path), "repositories/%s/_manifests/revisions/sha256",
		    r->name);
		if ((fd = list_dir(path, &l)) != -1) {
			for (i = 0, n = 0; i < l.n; i++) {
				struct stat st;

				snprintf(path, sizeof(path), "%s/link", l.v[i].name);
				n += fstatat(fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
			}
			close(fd);
			rg_dir_free(&l);
			if (n > 0)
				return keep(&it, "it has manifests");
		}
		for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
			snprintf(path, sizeof(path), "repositories/%s/%s", r->name, parts[i]);
			if ((res = rg_trash_remove(v2fd, trashfd, path)) == -1) {
				warn("%s/%s", root_stream, path);
				status = RG_EXIT_PARTIAL;
				return report(&it, "failed", strerror(errno));
			}
		}
		snprintf(path, sizeof(path), "repositories/%s", r->name);
		/* the namespaces above it, while empty; never repositories/ */
		while (rg_beneath_rmdir(v2fd, path) == 0 &&
		    (slash = strrchr(path, '/')) != NULL &&
		    slash > path + strlen("repositories"))
			*slash = '\0';
	}
	done[K_REPO]++;
	report(&it, dry_run ? "would-delete" : "deleted", NULL);
}

static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: rg-rm [-nv] [--prune] [-r root] [--max-age duration] "
	    "[--min-age duration]\n");
	exit(code);
}

/* Is the storage at v2path the one of fd?  Same device and inode. */
static int
same_dir(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void
open_storage(void)
{
	char *v2path = NULL;

	if (root_opt == NULL && root_stream == NULL)
		errx(RG_EXIT_FATAL, "no storage root: the stream has no scan record; "
		    "give --root");
	if ((v2fd = rg_open_root(root_opt ? root_opt : root_stream, &v2path)) == -1)
		exit(RG_EXIT_FATAL);
	if (root_opt != NULL && root_stream != NULL && !same_dir(v2fd, root_stream))
		errx(RG_EXIT_FATAL, "--root %s is not the storage the stream was "
		    "scanned from (%s)", root_opt, root_stream);
	if (root_stream == NULL)
		root_stream = v2path;
	else
		free(v2path);
	if (dry_run)
		return;
	if ((trashfd = rg_trash_open(v2fd, 1)) == -1)
		err(RG_EXIT_FATAL, "%s/.rg-trash", root_stream);
	if (rg_trash_empty(trashfd) == -1)
		err(RG_EXIT_FATAL, "%s/.rg-trash: cannot empty the trash of an "
		    "earlier run", root_stream);
}

/* Marks other than tags need rg-refs' pass and a fresh scan. */
static void
check_approval(void)
{
	char mine[RG_DIGEST_STRLEN + 1];
	size_t i;
	unsigned long refused = 0;

	rg_plan_final(&plan, mine);
	if (refs_line != 0 && strcmp(mine, plan_stream) != 0)
		errx(RG_EXIT_FATAL, "<stdin>:%lu: the marks do not match rg-refs' "
		    "plan: the stream was changed after rg-refs; nothing deleted",
		    refs_line);
	if (scan_time >= 0 && now - scan_time > max_age)
		errx(RG_EXIT_FATAL, "the scan is %lld seconds old (--max-age %lld): "
		    "pushes since may have made its garbage live again; scan again",
		    (long long)(now - scan_time), max_age);
	approved = refs_line != 0 && scan_time >= 0;
	for (i = 0; i < nitems; i++)
		if (items[i].bad != NULL)
			report(&items[i], "invalid", items[i].bad);
		else if (items[i].kind != K_TAG && !approved) {
			report(&items[i], "refused", refs_line == 0 ?
			    "the stream has not passed rg-refs" : "no scan record");
			items[i].valid = 0;
			refused++;
		}
	if (refused > 0) {
		warnx("%lu manifests, layer links, blobs or uploads not deleted: %s "
		    "(only tags can be deleted without it)", refused, refs_line == 0 ?
		    "the stream has not passed rg-refs" : "the stream has no scan record");
		status = RG_EXIT_PARTIAL;
	}
}

static void
run(void)
{
	size_t i, pass;
	int others = 0;

	for (i = 0; i < nitems; i++)
		if (items[i].valid && items[i].kind == K_TAG)
			rm_tag(&items[i]);
		else if (items[i].valid)
			others = 1;
	if (others || prune)
		fresh_walk("");
	for (pass = 0; pass < 2; pass++)	/* indexes before their children */
		for (i = 0; i < nitems; i++)
			if (items[i].valid && items[i].kind == K_MANIFEST &&
			    items[i].index == !pass)
				rm_manifest(&items[i]);
	for (i = 0; i < nitems; i++)
		if (items[i].valid && items[i].kind == K_LAYER)
			rm_layer(&items[i]);
	for (i = 0; i < nitems; i++)
		if (items[i].valid && items[i].kind == K_BLOB)
			rm_blob(&items[i]);
	for (i = 0; i < nitems; i++)
		if (items[i].valid && items[i].kind == K_UPLOAD)
			rm_upload(&items[i]);
	for (i = 0; prune && i < repos.n; i++)
		prune_repo(REPO(i));
}

static void
summary(void)
{
	unsigned long k = 0;
	json_t *rec;
	int i;

	for (i = 0; i < NKINDS; i++)
		k += kept[i];
	rec = rg_record_new("rm-total", NULL);
	json_object_set_new(rec, "root", json_string(root_stream));
	json_object_set_new(rec, "dry_run", json_boolean(dry_run));
	rg_set_time(rec, "time", now);
	for (i = 0; i < NKINDS; i++)
		json_object_set_new(rec, i == K_LAYER ? "layers" : i == K_REPO ?
		    "repositories" : i == K_TAG ? "tags" : i == K_MANIFEST ?
		    "manifests" : i == K_BLOB ? "blobs" : "uploads",
		    json_integer((json_int_t)done[i]));
	json_object_set_new(rec, "bytes", json_integer(bytes));
	json_object_set_new(rec, "kept", json_integer((json_int_t)k));
	if (rg_emit(stdout, rec) != 0)
		_exit(RG_EXIT_FATAL);
	json_decref(rec);
	fprintf(stderr, "rg-rm: %s: %lu tags, %lu manifests, %lu layer links, "
	    "%lu blobs, %lu uploads (%lld bytes), %lu repositories%s\n",
	    dry_run ? "would delete" : "deleted", done[K_TAG], done[K_MANIFEST],
	    done[K_LAYER], done[K_BLOB], done[K_UPLOAD], bytes, done[K_REPO],
	    dry_run ? " (dry run: nothing changed)" : "");
	if (k > 0)
		fprintf(stderr, "rg-rm: kept %lu marked objects the storage shows are "
		    "in use or new since the scan (see \"why\"); run the pipeline "
		    "again later\n", k);
	if (!dry_run && done[K_BLOB] > 0)
		fprintf(stderr, "rg-rm: blobs were deleted: restart the registry if "
		    "it caches blob descriptors (storage.cache.blobdescriptor)\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "root", required_argument, NULL, 'r' },
		{ "max-age", required_argument, NULL, 'M' },
		{ "min-age", required_argument, NULL, 'm' },
		{ "prune", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	now = time(NULL);
	while ((c = getopt_long(argc, argv, "hnr:vV", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry_run = 1;
			break;
		case 'r':
			root_opt = optarg;
			break;
		case 'M':
			if (rg_duration_arg("--max-age", optarg, &max_age) != 0)
				return RG_EXIT_FATAL;
			break;
		case 'm':
			if (rg_duration_arg("--min-age", optarg, &min_age) != 0)
				return RG_EXIT_FATAL;
			break;
		case 'p':
			prune = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout, RG_EXIT_OK);
			break;
		case 'V':
			printf("rg-rm %s\n", RG_VERSION);
			return rg_stdout_close() == 0 ? RG_EXIT_OK : RG_EXIT_FATAL;
		default:
			usage(stderr, RG_EXIT_FATAL);
		}
	}
	if (optind != argc)
		usage(stderr, RG_EXIT_FATAL);
	if (rg_dtab_init(&repos, sizeof(struct repo), sizeof(struct rg_digest)) != 0 ||
	    rg_dtab_init(&fresh, sizeof(struct rg_digest), sizeof(struct rg_digest)) != 0 ||
	    rg_plan_init(&plan) != 0)
		err(RG_EXIT_FATAL, NULL);

	if (rg_lines(STDIN_FILENO, "<stdin>", on_line, NULL) != 0)
		_exit(RG_EXIT_FATAL);
	check_approval();
	if (nitems > 0 || prune) {	/* else there is nothing to look at */
		open_storage();
		run();
	}
	summary();
	if (rg_stdout_close() != 0)
		return RG_EXIT_FATAL;
	return status;
}
