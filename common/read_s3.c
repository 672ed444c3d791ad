/*
 * read_s3.c: a bucket read as the registry's layout.
 *
 * The S3 driver's reading operations: list() is a delimited listing,
 * each() and links() one listing of everything below the directory (1000
 * keys a page), with sizes and LastModified from it; a revision's or a
 * layer link's digest is its key's, not read (store.h).  For rg-rm, a stat
 * is to the millisecond (a listing, never a HEAD), and a repository's
 * links and tags come from listings kept until the thread's next flush
 * (struct listcache).
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s3driver.h"


struct listing {
	struct rg_dir *l;
	size_t n;		/* the prefix's length */
};

static int
on_list(void *arg, const struct rg_s3_entry *e)
{
	struct listing *ls = arg;
	const char *name = e->key + ls->n;
	size_t len = strlen(name);

	if (e->is_prefix && len > 0 && name[len - 1] == '/')
		len--;
	if (len == 0 || memchr(name, '/', len) != NULL)
		return 0;	/* the prefix itself, or not directly below */
	if (rg_dir_add(ls->l, name, len, e->is_prefix ? DT_DIR : DT_REG) != 0)
		rg_nomem();
	return 0;
}

static void
cache_forget(struct listcache *c)
{
	free(c->prefix);
	c->prefix = NULL;
	c->big = 0;
	rg_s3d_keys_free(&c->keys);
}

/*
 * c with every key below prefix, listed now unless it was: 0, or -1 when
 * they could not be listed (told when each is listed alone), or are too
 * many to keep (then each is listed alone).
 */
static int
cache_fill(struct slot *t, struct listcache *c, const char *prefix)
{
	int r;

	if (c->prefix == NULL || strcmp(c->prefix, prefix) != 0) {
		cache_forget(c);
		r = rg_s3_list(t->s3, prefix, 0, rg_s3d_on_capped, &c->keys);
		if (r == -1 && errno != ENOENT) {
			rg_s3d_keys_free(&c->keys);
			return -1;
		}
		if ((c->prefix = strdup(prefix)) == NULL)
			rg_nomem();
		if ((c->big = r == 1))
			rg_s3d_keys_free(&c->keys);
	}
	return c->big ? -1 : 0;
}

static int
cache_holds(const struct listcache *c, const char *prefix)
{
	return c->prefix != NULL && !c->big && strcmp(c->prefix, prefix) == 0;
}

/* what the thread's listings for rg-rm held, let go: a flush */
void
rg_s3d_forget(struct slot *t)
{
	cache_forget(&t->links);
	cache_forget(&t->tags);
}

/*
 * For rg-rm, a repository's tags directory (repositories/<name>/_manifests/
 * tags) is listed whole, every key below it (up to DIRCACHE_MAX), and its
 * listing, and that of each tag's index (<tag>/index/sha256), come from
 * that until the thread's next flush: rg-rm reads a repository's tags and
 * their index once, for its manifests in a row.  -1 when dir is not such
 * a directory, or too large to keep.
 */
int
rg_s3d_tags_dir(const char *dir, size_t *len)
{
	const char *m = strstr(dir, "/_manifests/tags");

	if (strncmp(dir, "repositories/", 13) != 0 || m == NULL)
		return 0;
	*len = (size_t)(m - dir) + 16;
	return dir[*len] == '\0' || dir[*len] == '/';
}

static int
tags_listed(struct rg_store *st, struct slot *t, const char *dir,
    struct rg_dir *l)
{
	char top[RG_STORE_PATH + 2], prefix[RG_STORE_PATH + 2];
	const char *rest, *slash;
	size_t len, n, i;

	if (!S3(st)->dircache || !rg_s3d_tags_dir(dir, &len) || len >= sizeof(top) ||
	    strlen(dir) + 1 >= sizeof(prefix))
		return -1;
	memcpy(top, dir, len);
	rg_path(top + len, sizeof(top) - len, "/");
	if (dir[len] == '\0' && cache_fill(t, &t->tags, top) == -1)
		return -1;	/* (listed alone) */
	if (!cache_holds(&t->tags, top))
		return -1;
	rg_path(prefix, sizeof(prefix), "%s/", dir);
	n = strlen(prefix);
	memset(l, 0, sizeof(*l));
	for (i = 0; i < t->tags.keys.n; i++) {
		if (strncmp(t->tags.keys.v[i], prefix, n) != 0)
			continue;
		rest = t->tags.keys.v[i] + n;
		slash = strchr(rest, '/');
		len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
		if (len == 0 || (l->n > 0 && strlen(l->v[l->n - 1].name) == len &&
		    strncmp(l->v[l->n - 1].name, rest, len) == 0))
			continue;	/* (a name's keys are listed together) */
		if (rg_dir_add(l, rest, len, slash != NULL ? DT_DIR : DT_REG) != 0)
			rg_nomem();
	}
	if (l->n == 0) {
		errno = ENOENT;
		return 1;
	}
	return 0;
}

int
rg_s3d_list(struct rg_store *st, const char *dir, struct rg_dir *l)
{
	char prefix[RG_STORE_PATH + 1];
	struct listing ls = { l, 0 };
	struct slot *t;
	struct rg_s3 *s;
	int r;

	memset(l, 0, sizeof(*l));
	if ((t = rg_s3d_slot(st)) == NULL)
		return -1;
	s = t->s3;
	if ((r = tags_listed(st, t, dir, l)) != -1)
		return r == 0 ? 0 : -1;
	if (rg_s3d_dir_prefix(dir, prefix, sizeof(prefix)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	ls.n = strlen(prefix);
	if (rg_s3_list(s, prefix, 1, on_list, &ls) != 0) {
		rg_dir_free(l);
		if (errno != ENOENT)
			rg_s3d_warn(st, s);
		return -1;
	}
	if (l->n == 0) {	/* no key below it: no such directory */
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/*
 * Each name directly below a directory, with what one of its keys says:
 * a listing of everything below it, grouped by the name's first
 * component (S3 lists a prefix's keys together, in order).
 */
struct group {
	size_t n;			/* the directory prefix's length */
	const char *suffix;		/* each: <name>/<suffix>; links: "link" */
	char name[RG_S3_KEY_MAX + 1];	/* the name being read, or "" */
	int found;			/* its <name>/<suffix> was listed */
	struct rg_s3_entry newest;	/* suffix "": the entry, or its newest key */
	void (*fn)(struct group *, const char *name, const struct rg_s3_entry *e,
	    int err);
	rg_each_fn *each;
	rg_linked_fn *linked;
	void *arg;
};

static void
group_end(struct group *g)
{
	if (g->name[0] != '\0' && g->found && *g->suffix == '\0')
		g->fn(g, g->name, &g->newest, 0);
	if (g->name[0] != '\0' && !g->found)
		g->fn(g, g->name, NULL, ENOENT);
	g->name[0] = '\0';
	g->found = 0;
}

static int
on_group(void *arg, const struct rg_s3_entry *e)
{
	struct group *g = arg;
	const char *rest = e->key + g->n, *slash = strchr(rest, '/');
	size_t len = slash ? (size_t)(slash - rest) : strlen(rest);

	if (len == 0 || e->is_prefix)
		return 0;
	if (strlen(g->name) != len || memcmp(g->name, rest, len) != 0) {
		group_end(g);
		memcpy(g->name, rest, len);
		g->name[len] = '\0';
	}
	if (*g->suffix == '\0') {	/* the entry itself: a key, or its newest */
		if (slash == NULL || !g->found || e->mtime > g->newest.mtime) {
			g->newest = *e;
			g->newest.is_prefix = slash != NULL;
		}
		g->found = 1;
	} else if (slash == NULL) {	/* a plain key where a directory is wanted */
		g->found = 1;
		g->fn(g, g->name, NULL, ENOTDIR);
	} else if (!g->found && strcmp(slash + 1, g->suffix) == 0) {
		g->found = 1;
		g->fn(g, g->name, e, 0);
	}
	return 0;
}

static int
grouped(struct rg_store *st, const char *dir, struct group *g)
{
	char prefix[RG_STORE_PATH + 1];
	struct rg_s3 *s;

	if ((s = rg_s3d_conn(st)) == NULL)
		return -1;
	if (rg_s3d_dir_prefix(dir, prefix, sizeof(prefix)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	g->n = strlen(prefix);
	g->name[0] = '\0';
	g->found = 0;
	if (rg_s3_list(s, prefix, 0, on_group, g) != 0) {
		if (errno != ENOENT)
			rg_s3d_warn(st, s);
		return -1;
	}
	group_end(g);
	return 0;
}

static void
each_one(struct group *g, const char *name, const struct rg_s3_entry *e, int err)
{
	struct rg_stat sst;

	if (e == NULL) {
		g->each(g->arg, name, NULL, err);
		return;
	}
	rg_s3d_stat_of(e, &sst);
	g->each(g->arg, name, &sst, 0);
}

int
rg_s3d_each(struct rg_store *st, const char *dir, const char *suffix,
    rg_each_fn *fn, void *arg)
{
	struct group g;

	memset(&g, 0, sizeof(g));
	g.suffix = suffix;
	g.fn = each_one;
	g.each = fn;
	g.arg = arg;
	return grouped(st, dir, &g);
}

/* a link named by its key: the digest is the directory's name */
static void
link_one(struct group *g, const char *name, const struct rg_s3_entry *e, int err)
{
	struct rg_digest d;
	struct rg_stat sst;

	memset(&d, 0, sizeof(d));
	memset(&sst, 0, sizeof(sst));
	if (e == NULL) {
		errno = err;
		g->linked(g->arg, name, err == ENOENT ? RG_LINK_MISSING :
		    RG_LINK_IOERR, &d, &sst);
		return;
	}
	rg_s3d_stat_of(e, &sst);
	if (rg_hex_parse(name, strlen(name), &d) != 0)
		g->linked(g->arg, name, RG_LINK_CORRUPT, &d, &sst);
	else
		g->linked(g->arg, name, RG_LINK_OK, &d, &sst);
}

int
rg_s3d_links(struct rg_store *st, const char *dir, rg_linked_fn *fn, void *arg)
{
	struct group g;

	memset(&g, 0, sizeof(g));
	g.suffix = "link";
	g.fn = link_one;
	g.linked = fn;
	g.arg = arg;
	return grouped(st, dir, &g);
}

/*
 * What one listing says of path: the key itself, or as a "directory" the
 * keys below path/ (its mtime the newest key's, to the millisecond S3
 * keeps: a key added or rewritten below it, a manifest pushed to
 * revisions/, changes it as a new entry changes a directory's mtime; its
 * ctime a hash of every key and ETag below it, so that any change, even
 * within the same millisecond, is seen).
 */
struct looked {
	const char *path;
	size_t len;
	int found;
	struct rg_stat file;
	struct timespec t;
	size_t n;
	uint64_t h;
	struct keys *all;	/* every key listed, or NULL */
};

static int
on_look(void *arg, const struct rg_s3_entry *e)
{
	struct looked *w = arg;

	if (w->all != NULL)
		rg_s3d_on_key(w->all, e);
	if (e->is_prefix || strncmp(e->key, w->path, w->len) != 0)
		return 0;
	if (e->key[w->len] == '\0') {
		rg_s3d_stat_of(e, &w->file);
		w->found = 1;
		return 0;
	}
	if (e->key[w->len] != '/')
		return 0;	/* path-other/...: another name */
	if (w->n++ == 0 || e->mtime > w->t.tv_sec ||
	    (e->mtime == w->t.tv_sec && e->mtime_ns > w->t.tv_nsec)) {
		w->t.tv_sec = e->mtime;
		w->t.tv_nsec = e->mtime_ns;
	}
	w->h = rg_str_hash(rg_str_hash(rg_str_hash(w->h, e->key), e->etag), "\n");
	return 0;
}

/* repositories/<name>/_uploads/<uuid>/data: kept as a multipart upload */
int
rg_s3d_upload_data(const char *path)
{
	const char *u = strstr(path, "/_uploads/");
	size_t n = strlen(path);

	return strncmp(path, "repositories/", 13) == 0 && u != NULL && n > 5 &&
	    strcmp(path + n - 5, "/data") == 0 &&
	    memchr(u + 10, '/', (size_t)(path + n - 5 - (u + 10))) == NULL;
}

/* Is path a file of the registry's layout (else a directory)? */
static int
file_path(const char *path)
{
	const char *last = strrchr(path, '/');

	last = last ? last + 1 : path;
	return strcmp(last, "link") == 0 || strcmp(last, "data") == 0 ||
	    strcmp(last, "startedat") == 0 || strstr(path, "/hashstates/") != NULL;
}

/*
 * For rg-rm, a revision's or layer link's stat (path: <dir>/<hex>/link)
 * comes from one listing of <dir>, a repository's revisions or layer
 * links, taken at the first such stat and kept until the thread's next
 * flush (rmstore asks about one repository's links in a row, and flushes
 * after): its keys below <dir>/<hex>/ into t->keys, as a listing of them
 * would.  A push meanwhile is seen by the settle, as one between a stat
 * and the deletion.  0, or -1 when not such a path, or the directory is
 * too large to keep (DIRCACHE_MAX keys): then listed alone.
 */

static int
dir_looked(struct rg_store *st, struct slot *t, const char *path,
    struct looked *w)
{
	static const char *const dirs[] = { "/_manifests/revisions/sha256/",
	    "/_layers/sha256/" };
	char dir[RG_STORE_PATH + 1], obj[RG_STORE_PATH + 1];
	size_t n = strlen(path), i, lo, hi, len;
	const char *hex;

	if (!S3(st)->dircache || n < RG_HEX_LEN + 6 || n > RG_STORE_PATH ||
	    strcmp(path + n - 5, "/link") != 0)
		return -1;
	hex = path + n - 5 - RG_HEX_LEN;
	for (i = 0; i < 2; i++) {
		len = strlen(dirs[i]);
		if ((size_t)(hex - path) > len && strncmp(hex - len, dirs[i], len) == 0)
			break;
	}
	if (i == 2 || hex[-1] != '/')
		return -1;
	memcpy(dir, path, (size_t)(hex - path));
	dir[hex - path] = '\0';		/* <dir>/ */
	memcpy(obj, path, n - 4);
	obj[n - 4] = '\0';			/* <dir>/<hex>/ */
	if (t->links.prefix == NULL || strcmp(t->links.prefix, dir) != 0)
		cache_forget(&t->tags);	/* (read before their links: done) */
	if (cache_fill(t, &t->links, dir) == -1)
		return -1;
	/* the first key at or after <dir>/<hex>/ (S3 lists in byte order) */
	for (lo = 0, hi = t->links.keys.n; lo < hi; ) {
		i = lo + (hi - lo) / 2;
		if (strcmp(t->links.keys.v[i], obj) < 0)
			lo = i + 1;
		else
			hi = i;
	}
	rg_s3d_keys_free(&t->keys);
	for (i = lo; i < t->links.keys.n && strncmp(t->links.keys.v[i], obj,
	    n - 4) == 0; i++) {
		rg_s3d_key_add(&t->keys, t->links.keys.v[i], &t->links.keys.st[i]);
		if (strcmp(t->links.keys.v[i], path) == 0) {
			w->file = t->links.keys.st[i];
			w->found = 1;
		}
	}
	obj[n - 5] = '\0';
	free(t->listed);
	if ((t->listed = strdup(obj)) == NULL)
		rg_nomem();
	return 0;
}

/*
 * The stat of the key at path (from a listing, to the millisecond, its id
 * a hash of its ETag), else of the "directory" path, else of an
 * interrupted push's multipart upload of its data.
 */
int
rg_s3d_stat(struct rg_store *st, const char *path, struct rg_stat *sst)
{
	struct looked w = { path, strlen(path), 0, { 0 }, { 0, 0 }, 0,
	    RG_HASH_INIT, NULL };
	const char *slash = strrchr(path, '/');
	char dir[RG_STORE_PATH + 1];
	struct slot *t;
	struct rg_s3 *s;
	char id[1024];
	int64_t size;
	time_t mtime;
	int r;

	if ((t = rg_s3d_slot(st)) == NULL)
		return -1;
	s = t->s3;
	/*
	 * For rg-rm, a file of an object (its link, its data) is looked for
	 * in a listing of the object's keys, which its pend() may take
	 * rather than list them again.
	 */
	if (dir_looked(st, t, path, &w) == 0)
		r = 0;
	else if (S3(st)->removing && file_path(path) && slash != NULL &&
	    (size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash + 1 - path));
		dir[slash + 1 - path] = '\0';
		free(t->listed);
		t->listed = NULL;
		rg_s3d_keys_free(&t->keys);
		w.all = &t->keys;
		r = rg_s3_list(s, dir, 0, on_look, &w);
		if (r == 0 || errno == ENOENT) {
			dir[slash - path] = '\0';
			if ((t->listed = strdup(dir)) == NULL)
				rg_nomem();
		}
	} else
		r = rg_s3_list(s, path, 0, on_look, &w);
	if (r != 0) {
		if (errno != ENOENT)
			rg_s3d_warn(st, s);
		return -1;
	}
	memset(sst, 0, sizeof(*sst));
	if (w.found) {
		*sst = w.file;
		return 0;
	}
	if (w.n > 0 || !file_path(path)) {
		/* (a directory of the layout with nothing below: S3 has no
		 * empty directory, where the disk keeps one: the same) */
		sst->kind = DT_DIR;
		sst->mtime = w.t;
		sst->ctime.tv_sec = (time_t)(w.h >> 1);
		sst->size = (int64_t)w.n;
		return 0;
	}
	if (!rg_s3d_upload_data(path)) {
		errno = ENOENT;
		return -1;
	}
	if (rg_s3_upload(s, path, id, sizeof(id), &size, &mtime) != 0) {
		if (errno != ENOENT)
			rg_s3d_warn(st, s);
		return -1;
	}
	sst->kind = DT_REG;	/* an interrupted push's data */
	sst->size = size;
	sst->mtime.tv_sec = sst->ctime.tv_sec = mtime;
	return 0;
}

int
rg_s3d_read(struct rg_store *st, const char *path, size_t max, char **buf,
    size_t *len)
{
	struct rg_s3 *s;

	if ((s = rg_s3d_conn(st)) == NULL)
		return -1;
	if (rg_s3_get(s, path, max, buf, len, NULL) != 0) {
		if (errno != ENOENT)
			rg_s3d_warn(st, s);
		return -1;
	}
	return 0;
}

int
rg_s3d_link(struct rg_store *st, const char *path, struct rg_digest *d,
    struct rg_stat *sst)
{
	struct rg_stat looked;
	struct rg_s3 *s;
	char *buf;
	size_t len;
	time_t mtime;
	int r;

	if (sst != NULL)
		memset(sst, 0, sizeof(*sst));
	if ((s = rg_s3d_conn(st)) == NULL)
		return RG_LINK_IOERR;
	/*
	 * For rg-rm, its stat to the millisecond (a listing), taken before
	 * the content: a push in between reads as a change, never the other
	 * way round; for rg-scan, the GET's own time does.
	 */
	if (sst != NULL && S3(st)->removing && rg_s3d_stat(st, path, &looked) != 0)
		return errno == ENOENT ? RG_LINK_MISSING : RG_LINK_IOERR;
	if (rg_s3_get(s, path, RG_LINK_LEN + 1, &buf, &len, &mtime) != 0) {
		if (errno == ENOENT)
			return RG_LINK_MISSING;
		rg_s3d_warn(st, s);
		return errno == EFBIG ? RG_LINK_CORRUPT : RG_LINK_IOERR;
	}
	r = rg_digest_parse(buf, len, d) == 0 ? RG_LINK_OK : RG_LINK_CORRUPT;
	free(buf);
	if (sst != NULL && S3(st)->removing)
		*sst = looked;
	else if (sst != NULL) {
		sst->kind = DT_REG;
		sst->size = (int64_t)len;
		sst->mtime.tv_sec = sst->ctime.tv_sec = mtime;
	}
	return r;
}
