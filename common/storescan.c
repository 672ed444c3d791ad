/*
 * storescan.c: rg-scan of a registry's storage, through its store.
 *
 * The twin of apiscan.c: the same records (rg-records(5)), handed to the
 * caller's writer a buffer of whole records at a time.
 *
 * Reads the tree under docker/registry/v2: every repository's tags, manifest
 * revisions, layer links and uploads, each manifest once, each image config
 * once (for its creation time and platform), and the size and mtime of every
 * blob.  It never reads layer data.
 *
 * Two threads of a pool (pool.c), one per core: one walks repositories/,
 * the other blobs/.  Each formats whole records into its own buffer and
 * hands the buffer to the writer (which must lock: lines never
 * interleave); the scan record comes first, then repositories and blobs
 * in chunks.  With jobs > 1 (a remote store, where each request waits on
 * the network), the walking thread only finds repositories and hands
 * their names through a bounded queue to jobs threads that scan them,
 * and jobs threads share the blob directories.
 *
 * Memory: the tags, manifests and layer links of one repository at a time
 * (per job), a fixed-size cache of image configs (per job), one blob
 * directory's names (per job), and at most QUEUE names waiting.  Nothing
 * grows with the number of blobs or repositories.  One scan per process at
 * a time.
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define FLUSH_AT	(64 << 10)	/* bytes buffered before a write */
#define PATH_BUF	RG_STORE_PATH

struct tag {
	char *name;
	struct rg_digest digest;
	time_t pushed;
	struct rg_image *man;
};

static const struct rg_store_opts *opts;
static struct rg_store *store;
static const char *root_arg;		/* the v2 directory, for diagnostics */
static int repo_status, blob_status;

#define QUEUE	256	/* repository names found, waiting for a job */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t more, room;
	char *v[QUEUE];
	size_t head, n;
	int done;		/* the walk is over */
	size_t next_prefix;	/* the blob directory the next job takes */
} q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
    PTHREAD_COND_INITIALIZER, { 0 }, 0, 0, 0, 0 };

/* (status: set from any thread, read after they are joined) */
static void
partial(int *status)
{
	__atomic_store_n(status, RG_EXIT_PARTIAL, __ATOMIC_RELAXED);
}

/* Hand a buffer of whole records to the writer, once it is worth a write. */
static void
out_flush(struct rg_buf *o, int force)
{
	if (o->len == 0 || (!force && o->len < FLUSH_AT))
		return;
	opts->write(opts->arg, o);
}

static void
out_record(struct rg_buf *o, json_t *rec)
{
	if (rec == NULL || rg_buf_record(o, rec) == -1)
		rg_nomem();
}

struct repo {
	const char *name;
	char where[PATH_BUF];	/* for diagnostics */
	char path[PATH_BUF];	/* repositories/<name> */
	struct tag *tags;
	size_t ntags;
	struct rg_images mans;
	struct rg_buf *out;
};

/* A problem at path below the repository: what, or errno when what is NULL. */
static void
repo_warn(struct repo *r, const char *path, const char *what)
{
	if (what != NULL)
		warnx("%s/%s: %s", r->where, path, what);
	else
		warn("%s/%s", r->where, path);
	partial(&repo_status);
}

static void
add_revision(void *arg, const struct rg_digest *d, const struct timespec *mtime)
{
	struct repo *r = arg;
	struct rg_image *m;

	if ((m = rg_images_add(&r->mans, d)) == NULL)
		rg_nomem();
	m->pushed = mtime->tv_sec;
}

static void
read_tags(struct repo *r)
{
	const char *dir = "_manifests/tags";
	char path[PATH_BUF];
	struct rg_stat sst;
	struct rg_dir l;
	struct tag *t;
	size_t i;
	int st, e;

	if (rg_path(path, sizeof(path), "%s/%s", r->path, dir) != 0 ||
	    store->ops->list(store, path, &l) == -1) {
		if (errno != ENOENT)
			repo_warn(r, dir, NULL);
		return;
	}
	if ((r->tags = calloc(l.n ? l.n : 1, sizeof(*r->tags))) == NULL)
		rg_nomem();
	for (i = 0; i < l.n; i++) {
		if (!rg_tag_valid(l.v[i].name)) {
			warnx("%s/%s/%s: not a valid tag name, ignored", r->where,
			    dir, l.v[i].name);
			partial(&repo_status);
			continue;
		}
		t = &r->tags[r->ntags];
		if (rg_path(path, sizeof(path), "%s/%s/%s/current/link", r->path,
		    dir, l.v[i].name) != 0)
			st = RG_LINK_IOERR;
		else
			st = store->ops->link(store, path, &t->digest, &sst);
		if (st != RG_LINK_OK) {
			e = errno;
			rg_path(path, sizeof(path), "%s/%s/current/link", dir,
			    l.v[i].name);
			errno = e;
			repo_warn(r, path, st == RG_LINK_CORRUPT ?
			    "corrupt link: not sha256:<64 hex>" : NULL);
			continue;
		}
		t->name = l.v[i].name;
		l.v[i].name = NULL;
		t->pushed = sst.mtime.tv_sec;
		r->ntags++;
	}
	rg_dir_free(&l);
}

static void
emit_tag(struct repo *r, struct tag *t)
{
	if (rg_tag_write(r->out, &r->mans, r->name, t->name, &t->digest, t->pushed,
	    t->man) == -1)
		rg_nomem();
}

static void
add_layer(void *arg, const struct rg_digest *d, const struct timespec *mtime)
{
	struct repo *r = arg;
	char ds[RG_DIGEST_STRLEN + 1];

	(void)mtime;
	rg_digest_format(d, ds);	/* validated names: nothing to escape */
	if (rg_buf_printf(r->out, "{\"type\":\"layer\",\"repo\":\"%s\","
	    "\"digest\":\"%s\"}\n", r->name, ds) == -1)
		rg_nomem();
}

static void
emit_uploads(struct repo *r)
{
	char path[PATH_BUF];
	struct rg_dir l;
	size_t i;

	if (rg_path(path, sizeof(path), "%s/_uploads", r->path) != 0 ||
	    store->ops->list(store, path, &l) == -1) {
		if (errno != ENOENT)
			repo_warn(r, "_uploads", NULL);
		return;
	}
	for (i = 0; i < l.n; i++) {
		if (!rg_upload_valid(l.v[i].name)) {
			warnx("%s/_uploads/%s: not an upload id, ignored", r->where,
			    l.v[i].name);
			partial(&repo_status);
			continue;
		}
		out_record(r->out, rg_upload_record(store, r->name, l.v[i].name));
	}
	rg_dir_free(&l);
}

static void
scan_repo(const char *name, struct rg_buf *out, struct rg_configs *configs)
{
	struct repo r = { .name = name, .out = out };
	char ds[RG_DIGEST_STRLEN + 1];
	size_t i;

	if (rg_path(r.where, sizeof(r.where), "%s/repositories/%s", root_arg,
	    name) != 0 || rg_path(r.path, sizeof(r.path), "repositories/%s",
	    name) != 0) {
		warnx("%s/repositories/%s: path too long", root_arg, name);
		partial(&repo_status);
		return;
	}
	if (rg_store_links(store, r.path, "_manifests/revisions/sha256", r.where,
	    add_revision, &r) != 0)
		partial(&repo_status);
	rg_images_sort(&r.mans);
	read_tags(&r);
	for (i = 0; i < r.mans.n; i++)
		if (rg_image_read(store, name, &r.mans.v[i], configs) != 0)
			partial(&repo_status);
	rg_images_created(&r.mans);
	for (i = 0; i < r.ntags; i++) {
		r.tags[i].man = rg_images_find(&r.mans, &r.tags[i].digest);
		if (r.tags[i].man != NULL)
			json_array_append_new(r.tags[i].man->tags,
			    json_string(r.tags[i].name));
		else {
			rg_digest_format(&r.tags[i].digest, ds);
			warnx("%s:%s: points at %s, which has no revision link "
			    "in the repository", name, r.tags[i].name, ds);
			partial(&repo_status);
		}
	}

	out_record(out, rg_record_new(RG_T_REPO, name));
	for (i = 0; i < r.ntags; i++)
		emit_tag(&r, &r.tags[i]);
	for (i = 0; i < r.mans.n; i++)
		if (rg_image_write(out, &r.mans, &r.mans.v[i], name) == -1)
			rg_nomem();
	if (rg_store_links(store, r.path, "_layers/sha256", r.where, add_layer,
	    &r) != 0)
		partial(&repo_status);
	emit_uploads(&r);
	out_flush(out, 0);

	for (i = 0; i < r.ntags; i++)
		free(r.tags[i].name);
	free(r.tags);
	rg_images_free(&r.mans);
}

static struct rg_configs *
configs_new(void)
{
	struct rg_configs *c = calloc(1, sizeof(*c));

	if (c == NULL)
		rg_nomem();
	return c;
}

static void
configs_free(struct rg_configs *c)
{
	size_t i;

	for (i = 0; c != NULL && i < RG_CONFIG_CACHE; i++)
		rg_config_clear(&c->v[i]);
	free(c);
}

/* A repository found: scanned at once, or queued for a job. */
static void
found_repo(const char *name, struct rg_buf *out, struct rg_configs *configs)
{
	char *s;

	if (opts->jobs <= 1) {
		scan_repo(name, out, configs);
		return;
	}
	if ((s = strdup(name)) == NULL)
		rg_nomem();
	pthread_mutex_lock(&q.lock);
	while (q.n == QUEUE)
		pthread_cond_wait(&q.room, &q.lock);
	q.v[(q.head + q.n++) % QUEUE] = s;
	pthread_cond_signal(&q.more);
	pthread_mutex_unlock(&q.lock);
}

/* A job: scan the repositories the walk queues, until it is over. */
static void *
repo_job(void *arg)
{
	struct rg_buf out = { 0 };
	struct rg_configs *configs = configs_new();
	char *name;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&q.lock);
		while (q.n == 0 && !q.done)
			pthread_cond_wait(&q.more, &q.lock);
		if (q.n == 0) {
			pthread_mutex_unlock(&q.lock);
			break;
		}
		name = q.v[q.head];
		q.head = (q.head + 1) % QUEUE;
		q.n--;
		pthread_cond_signal(&q.room);
		pthread_mutex_unlock(&q.lock);
		scan_repo(name, &out, configs);	/* flushed between repositories */
		free(name);
	}
	out_flush(&out, 1);
	rg_buf_free(&out);
	configs_free(configs);
	return NULL;
}

/*
 * A directory below repositories/: a repository when it holds _manifests,
 * _layers or _uploads, a namespace when it holds other directories; both
 * at once happens (team and team/app).
 */
static void
walk_repos(char *name, size_t len, struct rg_buf *out,
    struct rg_configs *configs)
{
	char path[PATH_BUF];
	struct rg_dir l;
	size_t i, n;
	int is_repo = 0;

	if (rg_path(path, sizeof(path), "repositories%s%s", len ? "/" : "",
	    name) != 0 || store->ops->list(store, path, &l) == -1) {
		if (len == 0 && errno == ENOENT)
			return;		/* no repositories yet */
		warn("%s/repositories%s%s", root_arg, len ? "/" : "", name);
		partial(&repo_status);
		return;
	}
	for (i = 0; i < l.n; i++)
		if (strcmp(l.v[i].name, "_manifests") == 0 ||
		    strcmp(l.v[i].name, "_layers") == 0 ||
		    strcmp(l.v[i].name, "_uploads") == 0)
			is_repo = 1;
	if (is_repo && len > 0 && (opts->filter == NULL ||
	    rg_regex_match(opts->filter, name)))
		found_repo(name, out, configs);
	for (i = 0; i < l.n; i++) {
		const char *e = l.v[i].name;

		if (l.v[i].type == DT_LNK) {
			warnx("%s/repositories/%s%s%s: symbolic link, not followed",
			    root_arg, name, len ? "/" : "", e);
			partial(&repo_status);
			continue;
		}
		if (e[0] == '_' || l.v[i].type != DT_DIR)
			continue;
		n = strlen(e);
		if (!rg_component_valid(e, n) || len + 1 + n > RG_REPO_MAX) {
			warnx("%s/repositories/%s%s%s: not a valid repository "
			    "name, ignored", root_arg, name, len ? "/" : "", e);
			partial(&repo_status);
			continue;
		}
		rg_path(name + len, RG_REPO_MAX + 1 - len, "%s%s", len ? "/" : "", e);
		walk_repos(name, len + (len ? 1 : 0) + n, out, configs);
		name[len] = '\0';
	}
	rg_dir_free(&l);
}

struct blobdir {
	const char *prefix;
	struct rg_buf *out;
};

/* blobs/sha256/<xx>/<hex>/data: size and mtime, never the content */
static void
add_blob(void *arg, const char *h, const struct rg_stat *st, int e)
{
	struct blobdir *b = arg;
	struct rg_digest d;
	char when[RG_TIME_STRLEN + 1];

	if (rg_hex_parse(h, strlen(h), &d) != 0 || strncmp(h, b->prefix, 2) != 0) {
		warnx("%s/blobs/sha256/%s/%s: not a blob directory, ignored",
		    root_arg, b->prefix, h);
		partial(&blob_status);
		return;
	}
	if (st == NULL) {
		errno = e;
		warn("%s/blobs/sha256/%s/%s/data", root_arg, b->prefix, h);
		partial(&blob_status);
		return;
	}
	if (st->kind != DT_REG) {
		warnx("%s/blobs/sha256/%s/%s/data: not a regular file, ignored",
		    root_arg, b->prefix, h);
		partial(&blob_status);
		return;
	}
	rg_time_format(st->mtime.tv_sec, when);
	if (rg_buf_printf(b->out, "{\"type\":\"blob\",\"digest\":\"sha256:%s\","
	    "\"size\":%lld,\"modified\":\"%s\"}\n", h, (long long)st->size,
	    when) == -1)
		rg_nomem();
}

static struct rg_dir prefixes;		/* blobs/sha256/<xx> */

/* A job: the blob directories no other job has taken. */
static void *
blob_job(void *arg)
{
	struct rg_buf out = { 0 };
	struct blobdir b = { .out = &out };
	char path[PATH_BUF];
	size_t i;

	(void)arg;
	while ((i = __atomic_fetch_add(&q.next_prefix, 1, __ATOMIC_RELAXED)) <
	    prefixes.n) {
		b.prefix = prefixes.v[i].name;
		if (rg_path(path, sizeof(path), "blobs/sha256/%s", b.prefix) != 0 ||
		    store->ops->each(store, path, "data", add_blob, &b) == -1) {
			warn("%s/blobs/sha256/%s", root_arg, b.prefix);
			partial(&blob_status);
			continue;
		}
		out_flush(&out, 0);
	}
	out_flush(&out, 1);
	rg_buf_free(&out);
	return NULL;
}

/*
 * The scan's threads, one part of a pool: with jobs of them walking blob
 * directories, jobs (when more than one) scanning the repositories the
 * last one finds as it walks repositories/ (when one, it scans them
 * itself, with configs).
 */
struct scanning {
	size_t jobs;
	struct rg_buf *out;
	struct rg_configs *configs;
};

static void
scan_part(void *arg, int k)
{
	struct scanning *g = arg;
	char name[RG_REPO_MAX + 2] = "";

	if ((size_t)k < g->jobs)
		blob_job(NULL);
	else if (g->jobs > 1 && (size_t)k < 2 * g->jobs)
		repo_job(NULL);
	else {
		walk_repos(name, 0, g->out, g->configs);
		out_flush(g->out, 1);
		pthread_mutex_lock(&q.lock);
		q.done = 1;
		pthread_cond_broadcast(&q.more);
		pthread_mutex_unlock(&q.lock);
	}
}

/* a run rg-rm --quarantine holds: what it holds, and until when */
static void
held_record(void *arg, const struct rg_qrun *r)
{
	json_t *rec = rg_record_new(RG_T_QUARANTINE, NULL);

	json_object_set_new(rec, "run", json_string(r->run));
	rg_set_time(rec, RG_F_TIME, r->time);
	rg_set_time(rec, "expires", r->expires);
	json_object_set_new(rec, "objects", json_integer((json_int_t)r->objects));
	json_object_set_new(rec, "bytes", json_integer(r->bytes));
	out_record(arg, rec);
}

/*
 * The scan of the store o->store: the scan record, repositories and blobs,
 * the scan-end record, all through o->write.  Returns 0, or 1 when some of
 * it could not be read (each reported).
 */
int
rg_store_scan(const struct rg_store_opts *o)
{
	static struct rg_store_opts one;
	struct rg_buf out = { 0 };
	struct scanning g = { o->jobs > 1 ? (size_t)o->jobs : 1, &out, NULL };
	struct rg_pool *pool;
	char name[RG_REPO_MAX + 2] = "";

	if (g.jobs > RG_STORE_JOBS_MAX)
		g.jobs = RG_STORE_JOBS_MAX;
	opts = o;
	store = o->store;
	root_arg = store->root;		/* diagnostics name the v2 directory */
	repo_status = blob_status = 0;

	out_record(&out, rg_scan_record(store->source, store->root,
	    o->repo_pattern));
	out_flush(&out, 1);

	memset(&prefixes, 0, sizeof(prefixes));
	q.next_prefix = 0;
	if (store->ops->list(store, "blobs/sha256", &prefixes) == -1 &&
	    errno != ENOENT) {
		warn("%s/blobs/sha256", root_arg);
		partial(&blob_status);
	}
	q.done = 0;
	pool = rg_pool_new(g.jobs > 1 ? 2 * (int)g.jobs + 1 : 2);
	if (pool == NULL || g.jobs == 1) {	/* the repositories scanned as they come */
		one = *o;
		one.jobs = 1;
		opts = &one;
		g.configs = configs_new();
	}
	if (pool != NULL)
		rg_pool_run(pool, scan_part, &g);
	else {			/* no threads: one after the other */
		walk_repos(name, 0, &out, g.configs);
		out_flush(&out, 1);
		blob_job(NULL);
	}
	rg_pool_free(pool);
	rg_dir_free(&prefixes);
	if (store->ops->held_each != NULL &&
	    store->ops->held_each(store, held_record, &out) == -1) {
		warn("%s/.rg-trash/quarantine", root_arg);
		partial(&blob_status);
	}
	/* the last record: a stream without it was cut short */
	out_record(&out, rg_scan_end_record(!repo_status && !blob_status));
	out_flush(&out, 1);
	rg_buf_free(&out);
	configs_free(g.configs);
	return repo_status ? repo_status : blob_status;
}
