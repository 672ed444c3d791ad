/*
 * store_s3.c: the S3 driver of store.h, for a registry on its s3 storage
 * driver.  A directory is a key prefix: list() is a delimited listing,
 * each() and links() one listing of everything below the directory (1000
 * keys a page), with sizes and LastModified from it; a revision's or a
 * layer link's digest is its key's, not read (store.h).  Each thread that
 * calls the store has its own connection.  Removal sets objects aside by
 * copying their keys into .rg-trash/pending and deleting the originals
 * (see "Removal" below).
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s3.h"
#include "store.h"

#define MAX_THREADS	(2 * RG_STORE_JOBS_MAX + 2)
#define RG_S3_BATCH	64	/* objects set aside whose originals go in one request */
#define DIRCACHE_MAX	10000	/* keys of a links directory listed for stats, at most */

/* an object rg-rm set aside: its keys, deleted at final (nothing moves on S3) */
struct keys {
	char **v;
	struct rg_stat *st;	/* each key's, as listed */
	size_t n, cap;
};

/* a batch of links set aside without copies: the journal naming them */
struct journal {
	unsigned long seq;	/* its name's, .rg-trash/pending/<run>-<seq>.links */
	int failed;		/* its deletion failed: left for the next run */
	struct journal *next;
};

struct s3pend {
	char name[RG_TRASH_NAME];
	char *path;		/* where it was */
	struct keys k;
	int link;		/* a link only, put back from its name: no copy */
	int flushed;		/* its originals' deletion was asked */
	int failed;		/* and failed: it may be there or not */
	int kept;		/* written again since its check: not deleted */
	struct journal *j;	/* a link's journal */
};

struct s3store {
	struct rg_s3_conf conf;
	struct s3pend **pend;	/* set aside as "<run>-<seq>": [seq - 1], or NULL */
	struct rg_s3_lease lease;	/* rg-rm's, from rm_open to rm_close */
	char run[33];		/* this run's id, random: hosts and containers
				 * (all pid 1) never share one */
	char lease_why[512];
	unsigned long seq;	/* the last name's */
	struct journal *journals;	/* written, not yet deleted */
	int removing;		/* rm_open was called: stats to the millisecond */
	int dircache;		/* and took back what was pending: links' stats
				 * from a listing of their directory */
	pthread_mutex_t lock;	/* conn, pend, seq */
	struct slot {
		pthread_t thread;
		struct rg_s3 *s3;
		char *listed;		/* rg-rm: the object whose keys, */
		struct keys keys;	/* listed by its last stat, pend may take */
		struct s3pend *batch[RG_S3_BATCH];	/* set aside, originals */
		size_t nbatch;				/* not yet deleted */
		int batch_failed;	/* a flush since the last flush() failed */
		char *dirlisted;	/* rg-rm: the links directory whose keys */
		struct keys dirkeys;	/* stats of its links come from, to the flush */
		int dirbig;		/* or too many: each listed alone */
		char *tagslisted;	/* rg-rm: a repository's tags directory, */
		struct keys tagkeys;	/* every key below it, to the flush */
		struct keys predel;	/* tag index entries to go before the batch */
	} conn[MAX_THREADS];
	size_t nconn;
};

#define S3(st)	((struct s3store *)(st)->drv)

static void	stat_of(const struct rg_s3_entry *, struct rg_stat *);
static int	on_dirkey(void *, const struct rg_s3_entry *);

/* key added to k, with its stat when known */
static void
key_add(struct keys *k, const char *key, const struct rg_stat *st)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 8;
		if ((k->v = realloc(k->v, k->cap * sizeof(*k->v))) == NULL ||
		    (k->st = realloc(k->st, k->cap * sizeof(*k->st))) == NULL)
			rg_nomem();
	}
	if (st != NULL)
		k->st[k->n] = *st;
	else
		memset(&k->st[k->n], 0, sizeof(k->st[k->n]));
	if ((k->v[k->n++] = strdup(key)) == NULL)
		rg_nomem();
}

static int
on_key(void *arg, const struct rg_s3_entry *e)
{
	struct rg_stat st;

	if (e->is_prefix)
		return 0;
	stat_of(e, &st);
	key_add(arg, e->key, &st);
	return 0;
}

static void
keys_free(struct keys *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	free(k->st);
	memset(k, 0, sizeof(*k));
}


/* why the last request of s failed, naming the store */
static void
warnx_s3(struct rg_store *st, struct rg_s3 *s)
{
	warnx("%s: %s", st->root, s->error);
}

/* This thread's slot (its connection); NULL (errno EAGAIN) past MAX_THREADS. */
static struct slot *
slot(struct rg_store *st)
{
	struct s3store *d = S3(st);
	struct slot *t = NULL;
	struct rg_s3 *s;
	size_t i;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->nconn; i++)
		if (pthread_equal(d->conn[i].thread, pthread_self())) {
			t = &d->conn[i];
			break;
		}
	if (t == NULL && d->nconn < MAX_THREADS) {
		if ((s = malloc(sizeof(*s))) == NULL)
			rg_nomem();
		if (rg_s3_open(s, &d->conf) != 0)	/* (checked at open) */
			free(s);
		else {
			t = &d->conn[d->nconn++];
			memset(t, 0, sizeof(*t));
			t->thread = pthread_self();
			t->s3 = s;
		}
	}
	pthread_mutex_unlock(&d->lock);
	if (t == NULL)
		errno = EAGAIN;
	return t;
}

static struct rg_s3 *
conn(struct rg_store *st)
{
	struct slot *t = slot(st);

	return t != NULL ? t->s3 : NULL;
}

/* "dir/" for a directory path, "" for the top */
static int
dir_prefix(const char *dir, char *out, size_t size)
{
	return rg_path(out, size, "%s%s", dir, *dir ? "/" : "");
}

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

/*
 * For rg-rm, a repository's tags directory (repositories/<name>/_manifests/
 * tags) is listed whole, every key below it (up to DIRCACHE_MAX), and its
 * listing, and that of each tag's index (<tag>/index/sha256), come from
 * that until the thread's next flush: rg-rm reads a repository's tags and
 * their index once, for its manifests in a row.  -1 when dir is not such
 * a directory, or too large to keep.
 */
static int
tags_dir(const char *dir, size_t *len)
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
	int r;

	if (!S3(st)->dircache || !tags_dir(dir, &len) || len >= sizeof(top) ||
	    strlen(dir) + 1 >= sizeof(prefix))
		return -1;
	memcpy(top, dir, len);
	rg_path(top + len, sizeof(top) - len, "/");
	if (dir[len] == '\0' && (t->tagslisted == NULL ||
	    strcmp(t->tagslisted, top) != 0)) {
		free(t->tagslisted);
		keys_free(&t->tagkeys);
		r = rg_s3_list(t->s3, top, 0, on_dirkey, &t->tagkeys);
		if (r == 1 || (r == -1 && errno != ENOENT)) {
			keys_free(&t->tagkeys);
			t->tagslisted = NULL;
			return -1;	/* (listed alone) */
		}
		if ((t->tagslisted = strdup(top)) == NULL)
			rg_nomem();
	}
	if (t->tagslisted == NULL || strcmp(t->tagslisted, top) != 0)
		return -1;
	rg_path(prefix, sizeof(prefix), "%s/", dir);
	n = strlen(prefix);
	memset(l, 0, sizeof(*l));
	for (i = 0; i < t->tagkeys.n; i++) {
		if (strncmp(t->tagkeys.v[i], prefix, n) != 0)
			continue;
		rest = t->tagkeys.v[i] + n;
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

static int
s3_list(struct rg_store *st, const char *dir, struct rg_dir *l)
{
	char prefix[RG_STORE_PATH + 1];
	struct listing ls = { l, 0 };
	struct slot *t;
	struct rg_s3 *s;
	int r;

	memset(l, 0, sizeof(*l));
	if ((t = slot(st)) == NULL)
		return -1;
	s = t->s3;
	if ((r = tags_listed(st, t, dir, l)) != -1)
		return r == 0 ? 0 : -1;
	if (dir_prefix(dir, prefix, sizeof(prefix)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	ls.n = strlen(prefix);
	if (rg_s3_list(s, prefix, 1, on_list, &ls) != 0) {
		rg_dir_free(l);
		if (errno != ENOENT)
			warnx_s3(st, s);
		return -1;
	}
	if (l->n == 0) {	/* no key below it: no such directory */
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/* the stat of a listed key; id: a hash of its ETag */
static void
stat_of(const struct rg_s3_entry *e, struct rg_stat *sst)
{
	memset(sst, 0, sizeof(*sst));
	sst->kind = e->is_prefix ? DT_DIR : DT_REG;
	sst->size = e->size;
	sst->mtime.tv_sec = sst->ctime.tv_sec = e->mtime;
	sst->mtime.tv_nsec = sst->ctime.tv_nsec = e->mtime_ns;
	sst->id = e->etag[0] ? rg_str_hash(RG_HASH_INIT, e->etag) : 0;
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

	if ((s = conn(st)) == NULL)
		return -1;
	if (dir_prefix(dir, prefix, sizeof(prefix)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	g->n = strlen(prefix);
	g->name[0] = '\0';
	g->found = 0;
	if (rg_s3_list(s, prefix, 0, on_group, g) != 0) {
		if (errno != ENOENT)
			warnx_s3(st, s);
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
	stat_of(e, &sst);
	g->each(g->arg, name, &sst, 0);
}

static int
s3_each(struct rg_store *st, const char *dir, const char *suffix,
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
	stat_of(e, &sst);
	if (rg_hex_parse(name, strlen(name), &d) != 0)
		g->linked(g->arg, name, RG_LINK_CORRUPT, &d, &sst);
	else
		g->linked(g->arg, name, RG_LINK_OK, &d, &sst);
}

static int
s3_links(struct rg_store *st, const char *dir, rg_linked_fn *fn, void *arg)
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
		on_key(w->all, e);
	if (e->is_prefix || strncmp(e->key, w->path, w->len) != 0)
		return 0;
	if (e->key[w->len] == '\0') {
		stat_of(e, &w->file);
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
static int
upload_data(const char *path)
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
on_dirkey(void *arg, const struct rg_s3_entry *e)
{
	struct keys *k = arg;

	if (k->n >= DIRCACHE_MAX)
		return 1;
	return on_key(k, e);
}

static void
dir_forget(struct slot *t)
{
	free(t->dirlisted);
	t->dirlisted = NULL;
	t->dirbig = 0;
	keys_free(&t->dirkeys);
	free(t->tagslisted);
	t->tagslisted = NULL;
	keys_free(&t->tagkeys);
}

static int
dir_looked(struct rg_store *st, struct slot *t, const char *path,
    struct looked *w)
{
	static const char *const dirs[] = { "/_manifests/revisions/sha256/",
	    "/_layers/sha256/" };
	char dir[RG_STORE_PATH + 1], obj[RG_STORE_PATH + 1];
	size_t n = strlen(path), i, lo, hi, len;
	const char *hex;
	int r;

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
	if (t->dirlisted == NULL || strcmp(t->dirlisted, dir) != 0) {
		dir_forget(t);
		r = rg_s3_list(t->s3, dir, 0, on_dirkey, &t->dirkeys);
		if (r == -1 && errno != ENOENT) {
			keys_free(&t->dirkeys);
			return -1;	/* (listed alone: the error told then) */
		}
		if ((t->dirlisted = strdup(dir)) == NULL)
			rg_nomem();
		if ((t->dirbig = r == 1))
			keys_free(&t->dirkeys);
	}
	if (t->dirbig)
		return -1;
	/* the first key at or after <dir>/<hex>/ (S3 lists in byte order) */
	for (lo = 0, hi = t->dirkeys.n; lo < hi; ) {
		i = lo + (hi - lo) / 2;
		if (strcmp(t->dirkeys.v[i], obj) < 0)
			lo = i + 1;
		else
			hi = i;
	}
	keys_free(&t->keys);
	for (i = lo; i < t->dirkeys.n && strncmp(t->dirkeys.v[i], obj,
	    n - 4) == 0; i++) {
		key_add(&t->keys, t->dirkeys.v[i], &t->dirkeys.st[i]);
		if (strcmp(t->dirkeys.v[i], path) == 0) {
			w->file = t->dirkeys.st[i];
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
static int
s3_stat(struct rg_store *st, const char *path, struct rg_stat *sst)
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

	if ((t = slot(st)) == NULL)
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
		keys_free(&t->keys);
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
			warnx_s3(st, s);
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
	if (!upload_data(path)) {
		errno = ENOENT;
		return -1;
	}
	if (rg_s3_upload(s, path, id, sizeof(id), &size, &mtime) != 0) {
		if (errno != ENOENT)
			warnx_s3(st, s);
		return -1;
	}
	sst->kind = DT_REG;	/* an interrupted push's data */
	sst->size = size;
	sst->mtime.tv_sec = sst->ctime.tv_sec = mtime;
	return 0;
}

static int
s3_read(struct rg_store *st, const char *path, size_t max, char **buf,
    size_t *len)
{
	struct rg_s3 *s;

	if ((s = conn(st)) == NULL)
		return -1;
	if (rg_s3_get(s, path, max, buf, len, NULL) != 0) {
		if (errno != ENOENT)
			warnx_s3(st, s);
		return -1;
	}
	return 0;
}

static int
s3_link(struct rg_store *st, const char *path, struct rg_digest *d,
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
	if ((s = conn(st)) == NULL)
		return RG_LINK_IOERR;
	/*
	 * For rg-rm, its stat to the millisecond (a listing), taken before
	 * the content: a push in between reads as a change, never the other
	 * way round; for rg-scan, the GET's own time does.
	 */
	if (sst != NULL && S3(st)->removing && s3_stat(st, path, &looked) != 0)
		return errno == ENOENT ? RG_LINK_MISSING : RG_LINK_IOERR;
	if (rg_s3_get(s, path, RG_LINK_LEN + 1, &buf, &len, &mtime) != 0) {
		if (errno == ENOENT)
			return RG_LINK_MISSING;
		warnx_s3(st, s);
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

/* Is where this bucket and root (s3://bucket[/rootdir], as given)? */
static int
s3_same(struct rg_store *st, const char *where)
{
	return strcmp(st->root, where) == 0;
}

/*
 * Removal.  S3 has no rename: an object (the keys below a path) is set
 * aside by copying each key to .rg-trash/pending/<name>/<its path>
 * (CopyObject, within S3) and deleting the originals, so that the
 * registry no longer sees it, as a rename does on disk; final deletes the
 * copies, restore copies them back where nothing was written since.  A
 * revision or layer link is not copied: what it holds is the digest its
 * key names, so it is put back from its name; such links are named in a
 * journal, .rg-trash/pending/<pid>-<seq>.links, before they are deleted.
 * A thread's objects set aside are deleted RG_S3_BATCH at a time, in one
 * DeleteObjects (flush; until then the registry still sees them), and a
 * journal's links are decided together, the journal deleted after
 * (batch_done).  What a killed run left in pending is put back by the
 * next (rm_open): a copy's key says where it came from, a journal names
 * its links.  Unlike a rename, a key the registry rewrites between its
 * copy and the deletion of the original is deleted all the same
 * (rg_sweep_settle puts back what a push needs).  S3 keeps no atime.
 */
#define PENDING	".rg-trash/pending"
#define JOURNAL_MAX	(RG_S3_BATCH * (RG_STORE_PATH + 1))


/* every key below path/ (registry paths); -1 (reported) when S3 did not answer */
static int
keys_below(struct rg_store *st, struct rg_s3 *s, const char *path,
    struct keys *k)
{
	char prefix[RG_STORE_PATH + 1];

	memset(k, 0, sizeof(*k));
	if (dir_prefix(path, prefix, sizeof(prefix)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (rg_s3_list(s, prefix, 0, on_key, k) != 0 && errno != ENOENT) {
		warnx_s3(st, s);
		keys_free(k);
		return -1;
	}
	return 0;
}

/*
 * The keys below path for pend(): as the thread's last stat listed them
 * when that was of a file of path (the check before it), else listed now.
 */
static int
keys_to_pend(struct rg_store *st, struct rg_s3 *s, const char *path,
    struct keys *k)
{
	struct slot *t = slot(st);
	int mine;

	if (t == NULL)
		return -1;
	mine = t->listed != NULL && strcmp(t->listed, path) == 0;
	if (mine)
		*k = t->keys;
	else
		keys_free(&t->keys);
	memset(&t->keys, 0, sizeof(t->keys));
	free(t->listed);
	t->listed = NULL;
	return mine ? 0 : keys_below(st, s, path, k);
}

/* the pending copy of key, set aside under name */
static int
pending_key(const char *name, const char *key, char *out, size_t size)
{
	return rg_path(out, size, PENDING "/%s/%s", name, key);
}

/* the key of the journal seq */
static int
journal_key(const struct s3store *d, unsigned long seq, char *out, size_t size)
{
	return rg_path(out, size, PENDING "/%s-%lu.links", d->run, seq);
}

/*
 * Is path a revision or a layer link's directory of a valid repository
 * (repositories/<name>/_manifests/revisions/sha256/<hex>, .../_layers/
 * sha256/<hex>)?  Its digest into d.
 */
static int
link_object(const char *path, struct rg_digest *d)
{
	static const char *const tails[] = { "/_manifests/revisions/sha256/",
	    "/_layers/sha256/" };
	char name[RG_STORE_PATH + 1], digest[RG_LINK_LEN + 1];
	size_t n = strlen(path), t, len;
	const char *hex;

	if (n < 13 + RG_HEX_LEN || n > RG_STORE_PATH ||
	    strncmp(path, "repositories/", 13) != 0)
		return 0;
	hex = path + n - RG_HEX_LEN;
	if (rg_path(digest, sizeof(digest), "sha256:%s", hex) != 0 ||
	    rg_digest_parse(digest, strlen(digest), d) != 0)
		return 0;
	for (t = 0; t < 2; t++) {
		len = strlen(tails[t]);
		if ((size_t)(hex - path) <= 13 + len ||
		    strncmp(hex - len, tails[t], len) != 0)
			continue;
		memcpy(name, path + 13, (size_t)(hex - len - path - 13));
		name[hex - len - path - 13] = '\0';
		return rg_repo_valid(name) && rg_s3_plain(path);
	}
	return 0;
}

/* Is the object at path, whose keys are k, a link alone (no copy needed)? */
static int
link_only(const char *path, const struct keys *k)
{
	struct rg_digest d;
	size_t n = strlen(path);

	return k->n == 1 && link_object(path, &d) &&
	    strncmp(k->v[0], path, n) == 0 && strcmp(k->v[0] + n, "/link") == 0 &&
	    k->st[0].size == RG_LINK_LEN;
}

/* Write the link at path again, from its name; -1 (errno, s->error). */
static int
put_link(struct rg_s3 *s, const char *path)
{
	char key[RG_STORE_PATH + 8], v[RG_LINK_LEN + 1], hex[RG_HEX_LEN + 1];
	struct rg_digest d;

	if (!link_object(path, &d) || rg_path(key, sizeof(key), "%s/link",
	    path) != 0) {
		rg_msg(s->error, sizeof(s->error), "%s: not a link's path", path);
		errno = EINVAL;
		return -1;
	}
	rg_digest_hex(&d, hex);
	rg_path(v, sizeof(v), "sha256:%s", hex);
	return rg_s3_put(s, key, v, RG_LINK_LEN);
}

/* Has another run taken the lease?  Then nothing more is set aside or deleted. */
static int
lease_lost(struct rg_store *st, struct rg_s3 *s)
{
	if (!rg_s3_lease_lost(&S3(st)->lease))
		return 0;
	rg_msg(s->error, sizeof(s->error), ".rg-trash/lease: another run took "
	    "the lease, or it lapsed: nothing more is deleted");
	errno = EBUSY;
	return 1;
}

/* a new number for a name of this run's; its slot in d->pend, NULL */
static unsigned long
new_seq(struct s3store *d)
{
	unsigned long seq;

	pthread_mutex_lock(&d->lock);
	seq = ++d->seq;
	if ((seq & (seq - 1)) == 0) {	/* a power of two: full */
		if ((d->pend = realloc(d->pend, 2 * seq * sizeof(*d->pend))) == NULL)
			rg_nomem();
		memset(d->pend + seq - 1, 0, (seq + 1) * sizeof(*d->pend));
	}
	pthread_mutex_unlock(&d->lock);
	return seq;
}

/* what was set aside as name (one thread asks about one name) */
static struct s3pend *
pend_find(struct rg_store *st, const char *name)
{
	struct s3store *d = S3(st);
	struct s3pend *p = NULL;
	const char *dash = strchr(name, '-');
	unsigned long seq;
	char *end;

	if (dash == NULL)
		return NULL;
	errno = 0;
	seq = strtoul(dash + 1, &end, 10);
	if (*end != '\0' || errno != 0)
		return NULL;
	pthread_mutex_lock(&d->lock);
	if (seq >= 1 && seq <= d->seq && d->pend[seq - 1] != NULL &&
	    strcmp(d->pend[seq - 1]->name, name) == 0)
		p = d->pend[seq - 1];
	pthread_mutex_unlock(&d->lock);
	return p;
}

static void
pend_free(struct s3pend *p)
{
	keys_free(&p->k);
	free(p->path);
	free(p);
}

static void
pend_forget(struct rg_store *st, struct s3pend *p)
{
	struct s3store *d = S3(st);
	unsigned long seq = strtoul(strchr(p->name, '-') + 1, NULL, 10);

	pthread_mutex_lock(&d->lock);
	d->pend[seq - 1] = NULL;
	pthread_mutex_unlock(&d->lock);
	pend_free(p);
}

/*
 * Copy the keys of k to their pending names under name; -1 (reported)
 * when one could not be, the copies made deleted again.
 */
static int
copy_keys(struct rg_store *st, struct rg_s3 *s, const char *name,
    struct keys *k)
{
	char to[RG_STORE_PATH + 64];
	size_t i, j;

	for (i = 0; i < k->n; i++)
		if (pending_key(name, k->v[i], to, sizeof(to)) != 0 ||
		    rg_s3_copy(s, k->v[i], to, k->st[i].size) != 0)
			break;
	if (i == k->n)
		return 0;
	if (errno == ENAMETOOLONG)
		rg_msg(s->error, sizeof(s->error), "%s: key too long", k->v[i]);
	warnx_s3(st, s);
	for (j = 0; j < i; j++)
		if (pending_key(name, k->v[j], to, sizeof(to)) == 0)
			rg_s3_delete(s, (char *[]){ to }, 1);
	return -1;
}

/*
 * Copy the pending copies of k under name back where they were, then
 * delete them; -1 (reported) leaves them, for the next run to put back
 * what is missing.
 */
static int
copy_back(struct rg_store *st, struct rg_s3 *s, const char *name,
    struct keys *k)
{
	char from[RG_STORE_PATH + 64];
	char **done;
	size_t i;
	int r = 0;

	if ((done = calloc(k->n ? k->n : 1, sizeof(*done))) == NULL)
		rg_nomem();
	for (i = 0; i < k->n && r == 0; i++) {
		if (pending_key(name, k->v[i], from, sizeof(from)) != 0) {
			rg_msg(s->error, sizeof(s->error), "%s: key too long",
			    k->v[i]);
			r = -1;
		} else if (rg_s3_copy(s, from, k->v[i], k->st[i].size) != 0)
			r = -1;
		else if ((done[i] = strdup(from)) == NULL)
			rg_nomem();
	}
	if (r == 0 && rg_s3_delete(s, done, k->n) != 0)
		r = -1;
	if (r != 0)
		warnx_s3(st, s);
	for (i = 0; i < k->n; i++)
		free(done[i]);
	free(done);
	return r;
}

/* the stat of key in k, sorted as S3 lists, or NULL */
static const struct rg_stat *
key_stat(const struct keys *k, const char *key)
{
	size_t lo = 0, hi = k->n, i;
	int c;

	while (lo < hi) {
		i = lo + (hi - lo) / 2;
		if ((c = strcmp(k->v[i], key)) == 0)
			return &k->st[i];
		if (c < 0)
			lo = i + 1;
		else
			hi = i;
	}
	return NULL;
}

/*
 * The links of the thread's batch looked at again just before their
 * deletion, in one listing of their directory (each alone when it is too
 * large): one written again since its check, a push's, or not seen, is
 * not deleted (kept).
 */
static void
recheck_links(struct rg_store *st, struct slot *t)
{
	char dir[RG_STORE_PATH + 1];
	const struct rg_stat *now;
	struct keys all, one;
	struct s3pend *p, *q;
	size_t i, j, n;
	int r, *done;

	if ((done = calloc(t->nbatch, sizeof(*done))) == NULL)
		rg_nomem();
	for (i = 0; i < t->nbatch; i++) {
		p = t->batch[i];
		if (!p->link || done[i])
			continue;
		n = strlen(p->path) - RG_HEX_LEN;	/* <dir>/, of <dir>/<hex> */
		memcpy(dir, p->path, n);
		dir[n] = '\0';
		memset(&all, 0, sizeof(all));
		r = rg_s3_list(t->s3, dir, 0, on_dirkey, &all);
		if (r == -1 && errno != ENOENT)
			warnx_s3(st, t->s3);
		for (j = i; j < t->nbatch; j++) {
			q = t->batch[j];
			if (!q->link || done[j] || strlen(q->path) != n + RG_HEX_LEN ||
			    strncmp(q->path, dir, n) != 0)
				continue;
			done[j] = 1;
			now = NULL;
			memset(&one, 0, sizeof(one));
			if (r == 0 || (r == -1 && errno == ENOENT))
				now = key_stat(&all, q->k.v[0]);
			else if (r == 1 && keys_below(st, t->s3, q->path, &one) == 0)
				now = key_stat(&one, q->k.v[0]);
			q->kept = now == NULL || now->id != q->k.st[0].id ||
			    now->mtime.tv_sec != q->k.st[0].mtime.tv_sec ||
			    now->mtime.tv_nsec != q->k.st[0].mtime.tv_nsec;
			keys_free(&one);
		}
		keys_free(&all);
	}
	free(done);
}

/*
 * The thread's objects set aside, their originals deleted in one request
 * (the links among them named in a journal first): 0, or -1 (reported),
 * when each of them is failed: there or not, a copy or a journal left
 * for the next run to put back what is missing.
 */
static int
flush_slot(struct rg_store *st, struct slot *t)
{
	struct s3store *d = S3(st);
	char key[RG_STORE_PATH + 64];
	struct journal *j = NULL;
	struct rg_buf jb = { 0 };
	struct keys del = { 0 };
	struct s3pend *p;
	size_t i, k, jlinks = 0;
	int r = 0;

	/* a tag's index entries of the batch's manifests first */
	if (t->predel.n > 0) {
		if (rg_s3_delete(t->s3, t->predel.v, t->predel.n) != 0) {
			warnx_s3(st, t->s3);
			t->batch_failed = 1;
			r = -1;
		}
		keys_free(&t->predel);
	}
	if (t->nbatch == 0)
		return r;
	/* the journal, then the links' last look: one request before the deletion */
	if (r != 0)
		goto done;
	for (i = 0; i < t->nbatch; i++)
		if (t->batch[i]->link && (rg_buf_add(&jb, t->batch[i]->path,
		    strlen(t->batch[i]->path)) == -1 || rg_buf_add(&jb, "\n", 1) == -1))
			rg_nomem();
	if (jb.len > 0) {
		if ((j = calloc(1, sizeof(*j))) == NULL)
			rg_nomem();
		j->seq = new_seq(d);
		if (journal_key(S3(st), j->seq, key, sizeof(key)) != 0 ||
		    rg_s3_put(t->s3, key, jb.p, jb.len) != 0) {
			free(j);	/* (nothing deleted) */
			j = NULL;
			r = -1;
		}
	}
	if (r == 0)
		recheck_links(st, t);
	for (i = 0; r == 0 && i < t->nbatch; i++) {
		p = t->batch[i];
		for (k = 0; !p->kept && k < p->k.n; k++)
			key_add(&del, p->k.v[k], NULL);
		if (p->link && !p->kept)
			jlinks++;
	}
	if (j != NULL && jlinks == 0) {		/* every link stays: the journal goes */
		key_add(&del, key, NULL);
		free(j);
		j = NULL;
	}
	if (r == 0 && del.n > 0 && rg_s3_delete(t->s3, del.v, del.n) != 0)
		r = -1;
	if (r != 0) {
		warnx_s3(st, t->s3);
		t->batch_failed = 1;
	}
	if (j != NULL) {
		j->failed = r != 0;
		pthread_mutex_lock(&d->lock);
		j->next = d->journals;
		d->journals = j;
		pthread_mutex_unlock(&d->lock);
	}
done:
	for (i = 0; i < t->nbatch; i++) {
		p = t->batch[i];
		p->flushed = 1;
		p->failed = r != 0 && !p->kept;
		if (p->link && !p->kept)
			p->j = j;
	}
	t->nbatch = 0;
	keys_free(&del);
	rg_buf_free(&jb);
	return r;
}

static int
s3_pend(struct rg_store *st, const char *path, char name[RG_TRASH_NAME])
{
	struct s3store *d = S3(st);
	struct s3pend *p;
	struct slot *t;
	unsigned long seq;
	struct keys k;

	if ((t = slot(st)) == NULL || lease_lost(st, t->s3) ||
	    keys_to_pend(st, t->s3, path, &k) == -1)
		return -1;
	if (k.n == 0)
		return 1;
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->path = strdup(path)) == NULL)
		rg_nomem();
	p->k = k;
	p->link = link_only(path, &k);
	seq = new_seq(d);
	rg_path(p->name, RG_TRASH_NAME, "%s-%lu", d->run, seq);
	if (!p->link && copy_keys(st, t->s3, p->name, &p->k) != 0) {
		pend_free(p);
		return -1;	/* (its slot stays NULL) */
	}
	memcpy(name, p->name, RG_TRASH_NAME);
	pthread_mutex_lock(&d->lock);
	d->pend[seq - 1] = p;
	pthread_mutex_unlock(&d->lock);
	t->batch[t->nbatch++] = p;
	if (t->nbatch == RG_S3_BATCH)
		flush_slot(st, t);	/* (a failure: told by the next flush()) */
	return 0;
}

/* what this thread set aside, out of the registry's sight now */
static int
s3_flush(struct rg_store *st)
{
	struct slot *t = slot(st);
	int r;

	if (t == NULL || lease_lost(st, t->s3))
		return -1;
	r = flush_slot(st, t);
	dir_forget(t);
	if (t->batch_failed) {
		t->batch_failed = 0;
		r = -1;
	}
	return r;
}

/* its key path/sub as it was when set aside (a copy's own time is new) */
static int
s3_pend_stat(struct rg_store *st, const char *name, const char *sub,
    struct rg_stat *sst)
{
	struct s3pend *p = pend_find(st, name);
	char key[RG_STORE_PATH + 1];
	size_t i;

	if (p == NULL || p->kept ||	/* (not what was checked: back) */
	    rg_path(key, sizeof(key), "%s/%s", p->path, sub) != 0) {
		errno = ENOENT;
		return -1;
	}
	for (i = 0; i < p->k.n; i++)
		if (strcmp(p->k.v[i], key) == 0) {
			*sst = p->k.st[i];
			return 0;
		}
	errno = ENOENT;
	return -1;
}

/* an object whose originals may or may not be there: nothing can be said */
static int
unsettled(const struct s3pend *p)
{
	if (p->flushed && !p->failed)
		return 0;
	errno = EIO;
	return 1;
}

/*
 * Gone for good, before the records are written: the pending copies
 * deleted (a link has none; its journal goes with batch_done).
 */
static int
s3_finals(struct rg_store *st, const char *const *names, size_t n, int *res)
{
	char key[RG_STORE_PATH + 64];
	struct s3pend *p;
	struct rg_s3 *s;
	struct keys v = { 0 };
	size_t i, j;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		if ((p = pend_find(st, names[i])) == NULL || p->link || p->kept ||
		    unsettled(p))
			continue;
		for (j = 0; j < p->k.n && r == 0; j++)
			if (pending_key(names[i], p->k.v[j], key, sizeof(key)) != 0) {
				errno = ENAMETOOLONG;
				r = -1;
			} else
				key_add(&v, key, NULL);
	}
	if (r == 0 && v.n > 0) {
		if ((s = conn(st)) == NULL)
			r = -1;
		else if ((r = rg_s3_delete(s, v.v, v.n)) != 0)
			warnx_s3(st, s);
	}
	keys_free(&v);
	for (i = 0; i < n; i++) {
		p = pend_find(st, names[i]);
		res[i] = p != NULL && unsettled(p) ? -1 : p != NULL && p->kept ? 1 : r;
	}
	return r;
}

/* gone for good: the pending copies deleted, before the record is written */
static int
s3_final(struct rg_store *st, const char *name)
{
	int r;

	s3_finals(st, &name, 1, &r);
	return r;
}

/*
 * Put back what was set aside as name, unless something is at its path
 * again (a push's: then the copies go, as the filesystem's pending
 * directory does, and 1): 0 done, -1 failed.
 */
static int
s3_restore(struct rg_store *st, const char *name, const char *path)
{
	struct s3pend *p = pend_find(st, name);
	struct rg_s3 *s;
	struct keys now;
	int r;

	if (p == NULL)
		return 0;
	if (unsettled(p))
		return -1;
	if (p->kept) {
		pend_forget(st, p);
		return 1;	/* (never deleted) */
	}
	if ((s = conn(st)) == NULL || keys_below(st, s, path, &now) == -1)
		return -1;
	if (now.n > 0)
		r = p->link || s3_final(st, name) == 0 ? 1 : -1;
	else if (p->link && (r = put_link(s, path)) != 0)
		warnx_s3(st, s);
	else if (!p->link)
		r = copy_back(st, s, name, &p->k);
	keys_free(&now);
	if (r != -1)
		pend_forget(st, p);
	return r;
}

/* the batch name was decided with (its journal's), 0 when none */
static unsigned long
s3_batch(struct rg_store *st, const char *name)
{
	struct s3pend *p = pend_find(st, name);

	return p != NULL && p->j != NULL ? p->j->seq : 0;
}

/*
 * Every link of the n batches decided and put back or not: their journals
 * go, in one request (one whose links' deletion failed stays, for the
 * next run).  -1 (reported) when they could not: the next run puts their
 * links back.
 */
static int
s3_batch_done(struct rg_store *st, const unsigned long *seqs, size_t n)
{
	struct s3store *d = S3(st);
	struct journal **jp, *j;
	char key[RG_STORE_PATH + 64];
	struct keys del = { 0 };
	struct rg_s3 *s = NULL;
	size_t i;
	int r = 0;

	for (i = 0; i < n; i++) {
		j = NULL;
		pthread_mutex_lock(&d->lock);
		for (jp = &d->journals; *jp != NULL; jp = &(*jp)->next)
			if ((*jp)->seq == seqs[i]) {
				j = *jp;
				*jp = j->next;
				break;
			}
		pthread_mutex_unlock(&d->lock);
		if (j != NULL && !j->failed && journal_key(S3(st), seqs[i], key,
		    sizeof(key)) == 0)
			key_add(&del, key, NULL);
		free(j);
	}
	if (del.n > 0 && ((s = conn(st)) == NULL ||
	    (r = rg_s3_delete(s, del.v, del.n)) != 0)) {
		if (s != NULL)
			warnx_s3(st, s);
		r = -1;
	}
	keys_free(&del);
	return r;
}

static int
s3_drop(struct rg_store *st, const char *name, const char *leaf)
{
	struct s3pend *p = pend_find(st, name);

	(void)leaf;
	if (p != NULL)
		pend_forget(st, p);
	return 0;
}

/*
 * A killed run's pending key <name>/<path>: put back where nothing is,
 * then deleted; -1 when it could not be.
 */
static int
recover_key(struct rg_store *st, struct rg_s3 *s, const char *key, int64_t size)
{
	const char *rest = key + strlen(PENDING "/"), *slash = strchr(rest, '/');
	char from[RG_STORE_PATH + 64], *v[1] = { from };
	struct rg_stat there;

	if (slash == NULL || rg_path(from, sizeof(from), "%s", key) != 0 ||
	    !rg_s3_plain(key) || (strncmp(slash + 1, "repositories/", 13) != 0 &&
	    strncmp(slash + 1, "blobs/", 6) != 0))
		return 0;	/* not one of ours: left alone */
	if (s3_stat(st, slash + 1, &there) != 0 && (errno != ENOENT ||
	    rg_s3_copy(s, from, slash + 1, size) != 0))
		return -1;
	return rg_s3_delete(s, v, 1);
}

/*
 * A killed run's journal: each link it names written again where it is
 * missing, then the journal deleted; -1 when it could not be.  *n counts
 * the links.
 */
static int
recover_journal(struct rg_store *st, struct rg_s3 *s, const char *key,
    unsigned long *n)
{
	char from[RG_STORE_PATH + 64], link[RG_STORE_PATH + 8], *buf, *line, *nl;
	struct rg_digest d;
	struct rg_stat there;
	size_t len;
	int r = 0;

	if (rg_path(from, sizeof(from), "%s", key) != 0 || !rg_s3_plain(key))
		return 0;	/* not one of ours: left alone */
	if (rg_s3_get(s, key, JOURNAL_MAX, &buf, &len, NULL) != 0)
		return errno == ENOENT ? 0 : -1;
	for (line = buf; r == 0 && line < buf + len; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(buf + len - line))) == NULL)
			break;		/* (a PUT is whole: not written by rg-rm) */
		*nl = '\0';
		if (!link_object(line, &d) ||
		    rg_path(link, sizeof(link), "%s/link", line) != 0)
			continue;	/* not one of ours */
		++*n;
		if (s3_stat(st, link, &there) != 0 && (errno != ENOENT ||
		    put_link(s, line) != 0))
			r = -1;
	}
	free(buf);
	return r == 0 ? rg_s3_delete(s, (char *[]){ from }, 1) : -1;
}

/* A killed run's pending objects go back first: listed whole, then put back. */
static int
s3_rm_open(struct rg_store *st, unsigned long *recovered, const char **why)
{
	char last[RG_TRASH_NAME] = "";
	struct s3store *d = S3(st);
	const char *name, *slash;
	struct rg_s3 *s;
	struct keys k;
	size_t i, n;
	int failed = 0, took_over = 0;

	*recovered = 0;
	st->atime_works = 0;
	S3(st)->removing = 1;
	if ((s = conn(st)) == NULL)
		return -1;
	/* one run at a time: a lease, before what a dead run left is put back */
	if (rg_run_id(d->run) != 0) {
		*why = "no random run id to be had";
		return -1;
	}
	switch (rg_s3_lease_take(&d->lease, &d->conf, d->run, st->lease_ttl > 0 ?
	    st->lease_ttl : RG_S3_LEASE_TTL, &took_over, d->lease_why,
	    sizeof(d->lease_why))) {
	case 0:
		break;
	case 1:
		errno = EBUSY;
		*why = d->lease_why;
		return -1;
	default:
		errno = EIO;
		*why = d->lease_why;
		return -1;
	}
	if (took_over)
		warnx("%s/%s: the lease of a run that ended without letting it "
		    "go was taken over", st->root, ".rg-trash/lease");
	if (keys_below(st, s, PENDING, &k) != 0) {
		*why = s->error;
		return -1;
	}
	for (i = 0; i < k.n; i++) {
		name = k.v[i] + strlen(PENDING "/");
		n = strlen(name);
		if (strchr(name, '/') == NULL && n > 6 &&
		    strcmp(name + n - 6, ".links") == 0) {
			if (recover_journal(st, s, k.v[i], recovered) != 0) {
				warnx_s3(st, s);
				failed = 1;
			}
			continue;
		}
		if ((slash = strchr(name, '/')) != NULL &&
		    (size_t)(slash - name) < sizeof(last) &&
		    (strncmp(name, last, (size_t)(slash - name)) != 0 ||
		    last[slash - name] != '\0')) {
			memcpy(last, name, (size_t)(slash - name));
			last[slash - name] = '\0';
			++*recovered;
		}
		if (recover_key(st, s, k.v[i], k.st[i].size) != 0)
			failed = 1;
	}
	keys_free(&k);
	S3(st)->dircache = 1;
	if (failed) {
		*why = "what a killed run left pending could not all be put back";
		errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * Delete the keys below path now (an upload's multipart upload aborted
 * first): 0, 1 nothing was there, -1 failed (reported).
 */
static int
s3_remove(struct rg_store *st, const char *path, const char *leaf)
{
	char data[RG_STORE_PATH + 8], id[1024];
	struct slot *t;
	struct rg_s3 *s;
	struct keys k;
	int64_t size;
	time_t mtime;
	size_t len;
	int r, had = 0;

	if ((t = slot(st)) == NULL)
		return -1;
	s = t->s3;
	/*
	 * For rg-rm, a tag's index entry of a manifest (its link, by its
	 * name, what the registry writes there) goes with the thread's
	 * next flush, before the batch: the manifest's revision link is in
	 * it.
	 */
	if (S3(st)->dircache && leaf != NULL && strcmp(leaf, "link") == 0 &&
	    tags_dir(path, &len) && strlen(path) >= len + 16 + RG_HEX_LEN &&
	    strncmp(path + strlen(path) - RG_HEX_LEN - 14, "/index/sha256/",
	    14) == 0 && rg_path(data, sizeof(data), "%s/link", path) == 0 &&
	    rg_s3_plain(data)) {
		key_add(&t->predel, data, NULL);
		return 0;
	}
	if (rg_path(data, sizeof(data), "%s/data", path) == 0 && upload_data(data)) {
		if (rg_s3_upload(s, data, id, sizeof(id), &size, &mtime) == 0) {
			if (rg_s3_abort(s, data, id) != 0) {
				warnx_s3(st, s);
				return -1;
			}
			had = 1;
		} else if (errno != ENOENT) {
			warnx_s3(st, s);
			return -1;
		}
	}
	if (keys_below(st, s, path, &k) == -1)
		return -1;
	r = k.n == 0 ? (had ? 0 : 1) : rg_s3_delete(s, k.v, k.n) == 0 ? 0 : -1;
	if (r == -1)
		warnx_s3(st, s);
	keys_free(&k);
	return r;
}

static int
s3_trash(struct rg_store *st, const char *path, char name[RG_TRASH_NAME])
{
	name[0] = '\0';	/* gone at once: nothing for drop */
	return s3_remove(st, path, NULL);
}

/* an empty "directory" is nothing */
static int
s3_rmdir(struct rg_store *st, const char *path)
{
	(void)st;
	(void)path;
	return 1;
}

static int
s3_unread(struct rg_store *st, const char *path, const struct rg_stat *sst)
{
	(void)st;
	(void)path;
	(void)sst;
	return 0;
}

static void
s3_rm_close(struct rg_store *st)
{
	struct s3store *d = S3(st);
	struct journal *j;
	unsigned long i;

	for (i = 0; i < d->seq; i++)
		if (d->pend[i] != NULL)
			pend_free(d->pend[i]);
	free(d->pend);
	d->pend = NULL;
	d->seq = 0;
	while ((j = d->journals) != NULL) {
		d->journals = j->next;
		free(j);
	}
	for (i = 0; i < d->nconn; i++)
		d->conn[i].nbatch = 0;	/* (each flushed before the settle) */
	rg_s3_lease_release(&d->lease);
}

static void
s3_close(struct rg_store *st)
{
	struct s3store *d = S3(st);
	size_t i;

	for (i = 0; i < d->nconn; i++) {
		rg_s3_close(d->conn[i].s3);
		free(d->conn[i].s3);
		free(d->conn[i].listed);
		keys_free(&d->conn[i].keys);
		keys_free(&d->conn[i].predel);
		dir_forget(&d->conn[i]);
	}
	pthread_mutex_destroy(&d->lock);
	rg_s3_conf_free(&d->conf);
	free(d);
	free(st->root);
	free(st);
}

static const struct rg_store_ops s3_ops = {
	.list = s3_list,
	.each = s3_each,
	.links = s3_links,
	.stat = s3_stat,
	.read = s3_read,
	.link = s3_link,
	.same = s3_same,
	.rm_open = s3_rm_open,
	.pend = s3_pend,
	.pend_stat = s3_pend_stat,
	.flush = s3_flush,
	.batch = s3_batch,
	.batch_done = s3_batch_done,
	.restore = s3_restore,
	.final = s3_final,
	.finals = s3_finals,
	.trash = s3_trash,
	.drop = s3_drop,
	.remove = s3_remove,
	.rmdir = s3_rmdir,
	.unread = s3_unread,
	.rm_close = s3_rm_close,
	.close = s3_close,
};

/*
 * The registry storage at s3://BUCKET[/ROOTDIR] (rg_s3_conf_url), checked
 * by a first listing of its v2 directory: NULL (reported, naming the
 * bucket and what S3 answered) when it cannot be read.
 */
struct rg_store *
rg_store_s3(const char *url, const struct rg_remote *r)
{
	struct rg_store *st;
	struct s3store *d;
	struct rg_s3_conf c;
	struct rg_s3 *s;
	struct rg_dir l;
	char *root;
	size_t n;

	if (rg_s3_conf_url(&c, url, r->endpoint) != 0) {
		warnx("%s: not s3://BUCKET[/ROOTDIR] with a valid bucket name", url);
		return NULL;
	}
	n = strlen(c.rootdir) + sizeof("/" RG_V2);
	if ((root = malloc(n)) == NULL)
		rg_nomem();
	rg_path(root, n, "%s%s%s", c.rootdir, *c.rootdir ? "/" : "", RG_V2);
	free(c.rootdir);
	c.rootdir = root;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (d = calloc(1, sizeof(*d))) == NULL)
		rg_nomem();
	c.cacert = r->cacert;
	c.insecure = r->insecure;
	if (r->writes != NULL && (c.writes = strdup(r->writes)) == NULL)
		rg_nomem();
	if (r->region != NULL) {
		free(c.region);
		if ((c.region = strdup(r->region)) == NULL)
			rg_nomem();
	}
	if (r->access_key != NULL && r->secret_key != NULL) {
		free(c.access_key);
		free(c.secret_key);
		free(c.session_token);
		c.session_token = NULL;
		if ((c.access_key = strdup(r->access_key)) == NULL ||
		    (c.secret_key = strdup(r->secret_key)) == NULL)
			rg_nomem();
	}
	d->conf = c;
	pthread_mutex_init(&d->lock, NULL);
	st->ops = &s3_ops;
	st->source = "s3";
	st->rm_threads = RG_S3_JOBS;
	st->drv = d;
	if ((st->root = strdup(url)) == NULL)
		rg_nomem();
	if ((s = malloc(sizeof(*s))) == NULL)
		rg_nomem();
	if (rg_s3_open(s, &d->conf) != 0) {
		warnx("%s: %s", url, s->error);
		free(s);
		s3_close(st);
		return NULL;
	}
	d->conn[0].thread = pthread_self();
	d->conn[0].s3 = s;
	d->nconn = 1;
	if (s3_list(st, "", &l) != 0) {
		if (errno == ENOENT)
			warnx("%s: no registry storage there (no key below %s/)",
			    url, d->conf.rootdir);
		s3_close(st);
		return NULL;
	}
	rg_dir_free(&l);
	return st;
}
