/*
 * sweep.c: deleting one registry object at a time from storage, for
 * rg-rm; the order and the policy are rg-rm's.  Each call checks the
 * storage again (what changed since the scan stays), then removes the
 * object's directory through the trash (beneath.c), or with dry_run says
 * it would.  Each returns RG_SW_DONE, RG_SW_GONE (nothing there),
 * RG_SW_KEPT or RG_SW_FAILED, with the reason in s->why; it reports
 * nothing itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rg.h"

#define PATH_BUF	RG_SWEEP_PATH

/* the storage at root; with dry_run nothing is ever changed */
int
rg_sweep_open(struct rg_sweep *s, const char *root, int dry_run)
{
	char *v2path;

	memset(s, 0, sizeof(s[0]));
	s->trashfd = -1;
	s->scan_time = -1;
	s->dry_run = dry_run;
	s->now = time(NULL);
	if ((s->v2fd = rg_open_root(root, &v2path)) == -1)
		return -1;
	s->root = v2path;
	if (rg_dtab_init(&s->fresh, sizeof(struct rg_digest),
	    sizeof(struct rg_digest)) != 0)
		return -1;
	if (dry_run)
		return 0;
	if ((s->trashfd = rg_trash_open(s->v2fd, 1)) == -1) {
		s->why = "cannot make the trash directory";
		return -1;
	}
	if (rg_trash_empty(s->trashfd) == -1) {
		s->why = "cannot empty the trash of an earlier run";
		return -1;
	}
	return 0;
}

static int
since_scan(const struct rg_sweep *s, time_t t)
{
	return s->scan_time >= 0 && t >= s->scan_time;
}

static int
failed(struct rg_sweep *s, const char *path)
{
	snprintf(s->err, sizeof(s->err), "%s: %s", path, strerror(errno));
	s->why = s->err;
	return RG_SW_FAILED;
}

/* Remove path, or with dry_run say it would. */
static int
remove_dir(struct rg_sweep *s, const char *path)
{
	int r = s->dry_run ? 0 : rg_trash_remove(s->v2fd, s->trashfd, path);

	s->why = NULL;
	if (r == -1)
		return failed(s, path);
	if (r == 1) {
		s->why = "already deleted";
		return RG_SW_GONE;
	}
	return RG_SW_DONE;
}

static int
kept(struct rg_sweep *s, const char *why)
{
	s->why = why;
	return RG_SW_KEPT;
}

/* List the directory at path below the root: its fd, or -1 (errno). */
static int
list_dir(struct rg_sweep *s, const char *path, struct rg_dir *l)
{
	int fd, dfd, e;

	if ((fd = rg_beneath_open(s->v2fd, path, O_RDONLY | O_DIRECTORY)) == -1)
		return -1;
	dfd = rg_dir_list(fd, ".", l);
	e = errno;
	close(fd);
	errno = e;
	return dfd;
}

/* A tag: kept when it names another manifest than expect, or is new. */
int
rg_sweep_tag(struct rg_sweep *s, const char *repo, const char *tag,
    const struct rg_digest *expect)
{
	char dir[PATH_BUF], link[PATH_BUF + 16];
	struct timespec mtime;
	struct rg_digest d;
	int st, r;

	snprintf(dir, sizeof(dir), "repositories/%s/_manifests/tags/%s", repo, tag);
	snprintf(link, sizeof(link), "%s/current/link", dir);
	if ((st = rg_beneath_link(s->v2fd, link, &d, &mtime)) == RG_LINK_IOERR)
		return failed(s, link);
	if (st == RG_LINK_OK && ((expect != NULL && memcmp(&d, expect,
	    sizeof(d)) != 0) || since_scan(s, mtime.tv_sec)))
		return kept(s, "tag pushed since the scan");
	if ((r = remove_dir(s, dir)) == RG_SW_DONE) {
		snprintf(link, sizeof(link), "%s:%s", repo, tag);
		if (rg_strset_add(&s->gone_tags, link) == -1)
			return failed(s, dir);
	}
	return r;
}

static int
by_digest(const void *a, const void *b)
{
	return rg_digest_cmp(&((const struct rg_tagindex *)a)->d,
	    &((const struct rg_tagindex *)b)->d);
}

/* tags/<tag>/index/sha256: every digest the tag t of the repository's tagdir held */
static int
read_index(struct rg_sweep *s, const char *repo, size_t t)
{
	char path[PATH_BUF];
	struct rg_tagindex *v;
	struct rg_digest d;
	struct rg_dir l;
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "repositories/%s/_manifests/tags/%s/index/sha256",
	    repo, s->tagdir.v[t].name);
	if ((fd = list_dir(s, path, &l)) == -1)
		return 0;	/* none: left as it is */
	close(fd);
	for (i = 0; i < l.n; i++) {
		if (rg_hex_parse(l.v[i].name, strlen(l.v[i].name), &d) != 0)
			continue;
		if ((v = realloc(s->index, (s->nindex + 1) * sizeof(*v))) == NULL) {
			rg_dir_free(&l);
			return -1;
		}
		s->index = v;
		s->index[s->nindex].d = d;
		s->index[s->nindex++].tag = t;
	}
	rg_dir_free(&l);
	return 0;
}

/*
 * The tags of repo, read once for the last repository asked: what each
 * points at now, and the digests of each one's history, sorted.  What is
 * pushed after this was read is the business of rg_sweep_fresh (checked
 * before any manifest goes).
 */
static int
repo_tags(struct rg_sweep *s, const char *repo)
{
	char path[PATH_BUF];
	struct rg_digest cur;
	size_t i;
	int fd;

	if (s->current_repo != NULL && strcmp(s->current_repo, repo) == 0)
		return 0;
	free(s->current_repo);
	rg_dir_free(&s->tagdir);
	s->ncurrent = s->nindex = 0;
	if ((s->current_repo = strdup(repo)) == NULL)
		return -1;
	snprintf(path, sizeof(path), "repositories/%s/_manifests/tags", repo);
	if ((fd = list_dir(s, path, &s->tagdir)) == -1)
		return 0;
	close(fd);
	for (i = 0; i < s->tagdir.n; i++) {
		if (!rg_tag_valid(s->tagdir.v[i].name))
			continue;
		if (!s->dry_run && read_index(s, repo, i) == -1)
			return -1;
		snprintf(path, sizeof(path), "%s:%s", repo, s->tagdir.v[i].name);
		if (rg_strset_has(&s->gone_tags, path))
			continue;	/* a dry run's: as if gone */
		snprintf(path, sizeof(path), "repositories/%s/_manifests/"
		    "tags/%s/current/link", repo, s->tagdir.v[i].name);
		if (rg_beneath_link(s->v2fd, path, &cur, NULL) != RG_LINK_OK)
			continue;
		if ((s->current = realloc(s->current, (s->ncurrent + 1) *
		    sizeof(*s->current))) == NULL)
			return -1;
		s->current[s->ncurrent++] = cur;
	}
	if (s->nindex > 1)
		qsort(s->index, s->nindex, sizeof(*s->index), by_digest);
	return 0;
}

/* A manifest: the tags' history of it first, its revision link last, so a rerun finds it again. */
int
rg_sweep_manifest(struct rg_sweep *s, const char *repo, const struct rg_digest *d)
{
	char path[PATH_BUF], hex[RG_HEX_LEN + 1];
	struct rg_tagindex key, *e;
	size_t i;

	if (repo_tags(s, repo) == -1) {
		free(s->current_repo);
		s->current_repo = NULL;		/* read again next time */
		return failed(s, repo);
	}
	for (i = 0; i < s->ncurrent; i++)
		if (memcmp(&s->current[i], d, sizeof(*d)) == 0)
			return kept(s, "a tag points at it");
	rg_digest_hex(d, hex);
	key.d = *d;
	e = s->nindex > 0 ? bsearch(&key, s->index, s->nindex, sizeof(*s->index),
	    by_digest) : NULL;
	while (e != NULL && e > s->index && rg_digest_cmp(&e[-1].d, d) == 0)
		e--;			/* the first entry of d */
	for (; e != NULL && e < s->index + s->nindex &&
	    rg_digest_cmp(&e->d, d) == 0; e++) {
		snprintf(path, sizeof(path), "repositories/%s/_manifests/"
		    "tags/%s/index/sha256/%s", repo, s->tagdir.v[e->tag].name, hex);
		if (rg_trash_remove(s->v2fd, s->trashfd, path) == -1)
			return failed(s, path);
	}
	snprintf(path, sizeof(path), "repositories/%s/_manifests/revisions/sha256/%s",
	    repo, hex);
	return remove_dir(s, path);
}

int
rg_sweep_layer(struct rg_sweep *s, const char *repo, const struct rg_digest *d)
{
	char path[PATH_BUF], hex[RG_HEX_LEN + 1];

	rg_digest_hex(d, hex);
	snprintf(path, sizeof(path), "repositories/%s/_layers/sha256/%s", repo, hex);
	return remove_dir(s, path);
}

/* A blob: kept when linked since the scan, or its data is younger than min_age. */
int
rg_sweep_blob(struct rg_sweep *s, const struct rg_digest *d)
{
	char path[PATH_BUF], hex[RG_HEX_LEN + 1];
	struct stat st;

	if (rg_dtab_index(&s->fresh, d, 0) != -1)
		return kept(s, "linked since the scan");
	rg_digest_hex(d, hex);
	snprintf(path, sizeof(path), "blobs/sha256/%.2s/%s/data", hex, hex);
	if (rg_beneath_stat(s->v2fd, path, &st) == 0 &&
	    st.st_mtime > s->now - s->min_age)
		return kept(s, "younger than --min-age");
	snprintf(path, sizeof(path), "blobs/sha256/%.2s/%s", hex, hex);
	return remove_dir(s, path);
}

/* Is anything in the directory at path written at or after t? */
static int
written_since(struct rg_sweep *s, const char *path, time_t t)
{
	struct rg_dir l;
	struct stat st;
	size_t i;
	int fd, r = 0;

	if ((fd = list_dir(s, path, &l)) == -1)
		return 0;
	for (i = 0; i < l.n && !r; i++)
		r = fstatat(fd, l.v[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_mtime >= t;
	close(fd);
	rg_dir_free(&l);
	return r;
}

int
rg_sweep_upload(struct rg_sweep *s, const char *repo, const char *uuid)
{
	char path[PATH_BUF];
	time_t young = s->now - s->min_age;

	snprintf(path, sizeof(path), "repositories/%s/_uploads/%s", repo, uuid);
	if (written_since(s, path, s->scan_time >= 0 && s->scan_time < young ?
	    s->scan_time : young))
		return kept(s, "written since the scan, or younger than --min-age");
	return remove_dir(s, path);
}

/*
 * Links written since the scan: the digests they name go in s->fresh, a
 * new revision or tag sets s->fresh_manifests, and fn hears of each
 * repository with a new link or upload.  Walks repositories/ below the
 * root, never through a symbolic link.
 */
static void
fresh_links(struct rg_sweep *s, const char *repo, const char *dir,
    const char *suffix, int manifests, int *changed)
{
	char path[PATH_BUF];
	struct rg_digest d;
	struct rg_dir l;
	struct stat st;
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "repositories/%s/%s", repo, dir);
	if ((fd = list_dir(s, path, &l)) == -1)
		return;
	for (i = 0; i < l.n; i++) {
		snprintf(path, sizeof(path), "%s/%s", l.v[i].name, suffix);
		if (fstatat(fd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !since_scan(s, st.st_mtime))
			continue;
		if (rg_hex_parse(l.v[i].name, strlen(l.v[i].name), &d) == 0 &&
		    rg_dtab_index(&s->fresh, &d, 1) == -1)
			s->fresh_manifests = 1;	/* out of memory: hold every blob */
		s->fresh_manifests |= manifests;
		*changed = 1;
	}
	close(fd);
	rg_dir_free(&l);
}

static void
fresh_walk(struct rg_sweep *s, const char *name, rg_changed_fn *fn, void *arg)
{
	char path[PATH_BUF], sub[RG_REPO_MAX + 2];
	struct rg_dir l;
	size_t i;
	int fd, repo = 0, changed = 0;

	snprintf(path, sizeof(path), "repositories%s%s", *name ? "/" : "", name);
	if ((fd = list_dir(s, path, &l)) == -1)
		return;
	for (i = 0; i < l.n; i++) {
		const char *e = l.v[i].name;

		if (!rg_entry_is_dir(fd, &l.v[i]))
			continue;
		if (e[0] == '_')
			repo = 1;
		else if (rg_component_valid(e, strlen(e)) && snprintf(sub,
		    sizeof(sub), "%s%s%s", name, *name ? "/" : "", e) < (int)sizeof(sub))
			fresh_walk(s, sub, fn, arg);
	}
	close(fd);
	rg_dir_free(&l);
	if (!repo || !*name)
		return;
	fresh_links(s, name, "_layers/sha256", "link", 0, &changed);
	fresh_links(s, name, "_manifests/revisions/sha256", "link", 1, &changed);
	fresh_links(s, name, "_manifests/tags", "current/link", 1, &changed);
	snprintf(path, sizeof(path), "repositories/%s/_uploads", name);
	if (changed || written_since(s, path, s->scan_time))
		fn(arg, name);
}

void
rg_sweep_fresh(struct rg_sweep *s, rg_changed_fn *fn, void *arg)
{
	if (s->scan_time >= 0)
		fresh_walk(s, "", fn, arg);
}

/* How many entries of the directory at path have suffix below them. */
static size_t
count_with(struct rg_sweep *s, const char *path, const char *suffix)
{
	struct rg_dir l;
	struct stat st;
	size_t i, n = 0;
	char sub[PATH_BUF];
	int fd;

	if ((fd = list_dir(s, path, &l)) == -1)
		return 0;
	for (i = 0; i < l.n; i++) {
		snprintf(sub, sizeof(sub), "%s%s%s", l.v[i].name, *suffix ? "/" : "",
		    suffix);
		n += fstatat(fd, sub, &st, AT_SYMLINK_NOFOLLOW) == 0;
	}
	close(fd);
	rg_dir_free(&l);
	return n;
}

/*
 * A repository with no tag and no manifest left loses _manifests, _layers
 * and _uploads, then its directory and the namespaces above it go while
 * they are empty; never repositories/ itself.
 */
int
rg_sweep_prune(struct rg_sweep *s, const char *repo)
{
	static const char *parts[] = { "_manifests", "_layers", "_uploads" };
	char path[PATH_BUF], *slash;
	size_t i;
	int r, removed = 0;

	if (s->dry_run)
		return RG_SW_DONE;
	snprintf(path, sizeof(path), "repositories/%s/_manifests/tags", repo);
	if (count_with(s, path, "") > 0)
		return kept(s, "it has tags");
	snprintf(path, sizeof(path), "repositories/%s/_manifests/revisions/sha256", repo);
	if (count_with(s, path, "link") > 0)
		return kept(s, "it has manifests");
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		snprintf(path, sizeof(path), "repositories/%s/%s", repo, parts[i]);
		if ((r = rg_trash_remove(s->v2fd, s->trashfd, path)) == -1)
			return failed(s, path);
		removed += r == 0;
	}
	snprintf(path, sizeof(path), "repositories/%s", repo);
	while (rg_beneath_rmdir(s->v2fd, path) == 0 &&
	    (slash = strrchr(path, '/')) != NULL &&
	    slash > path + strlen("repositories"))
		*slash = '\0';
	s->why = removed ? NULL : "already deleted";
	return removed ? RG_SW_DONE : RG_SW_GONE;
}
