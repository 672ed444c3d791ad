/*
 * sweep.c: each object checked against the storage and set aside.
 *
 * For rg-rm, whose are the order and the policy.  Each call checks the
 * storage again (what changed since the scan stays), then moves the object
 * out of the registry's sight into pending, to be decided by
 * rg_sweep_settle (settle.c) once pushes in flight have landed, or removes
 * it through the trash (tags, uploads), or with dry_run says it would.
 * Each returns RG_RM_DONE, RG_RM_PENDING, RG_RM_GONE (nothing there),
 * RG_RM_KEPT or RG_RM_FAILED, with the reason in s->why; it reports
 * nothing itself.  What the registry wrote since the scan is fresh.c's.
 * Memory: a worker holds one repository's tags and their history at a
 * time; the run, every object pending (a path, a digest and a stat each)
 * until the settle.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redis.h"
#include "sweeping.h"

#define PATH_BUF	RG_SWEEP_PATH
#define READ_LATELY	"read by the registry within --min-age (a push may be " \
			"using it): marked, it goes once unread that long"

/*
 * The sweep of the store st; with dry_run nothing is ever changed.  -1
 * when the store cannot be taken for removal (s->why, errno say why).
 */
int
rg_sweep_open(struct rg_sweep *s, struct rg_store *st, int dry_run)
{
	memset(s, 0, sizeof(s[0]));
	s->run = s;
	pthread_mutex_init(&s->lock, NULL);
	s->st = st;
	s->scan_time = -1;
	s->dry_run = dry_run;
	s->now = time(NULL);
	s->root = st->root;
	if (rg_fresh_open(s) != 0)
		return -1;
	s->atime_works = 1;	/* a dry run cannot look; it changes nothing */
	if (dry_run)
		return 0;
	if (st->ops->rm_open(st, &s->recovered, &s->why) == -1)
		return -1;
	s->atime_works = st->atime_works;
	return 0;
}

/* a worker of the run's, for one thread: the run's settings, its own calls */
static void
fork_worker(struct rg_sweep *run, struct rg_sweep *w)
{
	memset(w, 0, sizeof(*w));
	w->run = run;
	w->st = run->st;
	w->dry_run = run->dry_run;
	w->atime_works = run->atime_works;
	w->redis = run->redis;
	w->root = run->root;
	w->scan_time = run->scan_time;
	w->now = run->now;
	w->min_age = run->min_age;
}

/* what a worker (or the run) holds of its last calls, let go */
static void
calls_free(struct rg_sweep *s)
{
	rg_sweep_finish(s);
	free(s->current_repo);
	free(s->current);
	free(s->index);
	free(s->seen_repo);
	free(s->ours_repo);
	rg_dir_free(&s->tagdir);
	s->current_repo = s->seen_repo = s->ours_repo = NULL;
	s->current = NULL;
	s->index = NULL;
	s->ncurrent = s->nindex = 0;
}

void
rg_sweep_join(struct rg_sweep *w)
{
	calls_free(w);
}

/*
 * jobs workers and their threads, when the store takes removals from
 * several threads and no cache is to be told (one connection): how many
 * there are (1: none, the run does all).
 */
int
rg_sweep_jobs(struct rg_sweep *s, int jobs)
{
	int i;

	if (jobs > RG_STORE_JOBS_MAX)
		jobs = RG_STORE_JOBS_MAX;
	if (jobs <= 1 || s->redis != NULL)
		return 1;
	if ((s->pool = rg_pool_new(jobs)) == NULL)
		return 1;	/* (no threads: one at a time) */
	if ((s->w = calloc((size_t)jobs, sizeof(*s->w))) == NULL)
		rg_nomem();
	for (i = 0; i < jobs; i++)
		fork_worker(s, &s->w[i]);
	s->jobs = jobs;
	return jobs;
}

/* written within --min-age of this moment: a push may be under way */
static int
young(const struct rg_sweep *s, time_t t)
{
	return t > time(NULL) - s->min_age;
}

static int
ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec;
}

/*
 * Has the registry read the link at path within --min-age, as a push does
 * when it checks a layer (HEAD), mounts it, or checks a manifest's child?
 * The registry reads links; rg-scan reads them with O_NOATIME.  Linux
 * (relatime) updates atime on the first read after atime <= mtime or
 * ctime, and once a day.  So: atime == mtime, unread since written;
 * atime < mtime, marked by rg-rm at ctime and unread since; atime > mtime,
 * read then, and unread since a day after.  A link not known to be unread
 * for --min-age is marked (atime = mtime - 1 s, ctime now) and kept: a
 * later run deletes it if nothing read it meanwhile.
 */
static int
read_lately(struct rg_sweep *s, const char *path, const struct rg_stat *st)
{
	time_t now = time(NULL);
	int c = ts_cmp(&st->atime, &st->mtime);

	if (s->min_age <= 0 || !s->atime_works)
		return 0;
	if (c == 0 || (c < 0 && st->ctime.tv_sec <= now - s->min_age) ||
	    (c > 0 && st->atime.tv_sec <= now - RG_RELATIME - s->min_age))
		return 0;
	if (c > 0 && !s->dry_run)
		s->st->ops->unread(s->st, path, st);
	return 1;
}

/*
 * The object the last call took out of sight for good, removed from the
 * trash now that the caller has written its record: a run killed before
 * that leaves it in the trash (its record written), which the next run
 * empties.  A removal that fails here is left to that too.
 */
void
rg_sweep_finish(struct rg_sweep *s)
{
	if (s->drop[0] == '\0')
		return;
	s->st->ops->drop(s->st, s->drop, NULL);
	s->drop[0] = '\0';
}

int
rg_sweep_failed(struct rg_sweep *s, const char *path)
{
	rg_msg(s->err, sizeof(s->err), "%s: %s", path, strerror(errno));
	s->why = s->err;
	return RG_RM_FAILED;
}

/* Remove path (into the trash, emptied by finish), or with dry_run say it would. */
static int
remove_dir(struct rg_sweep *s, const char *path)
{
	int r = s->dry_run ? 0 : s->st->ops->trash(s->st, path, s->drop);

	if (r != 0 || s->dry_run)
		s->drop[0] = '\0';

	s->why = NULL;
	if (r == -1)
		return rg_sweep_failed(s, path);
	if (r == 1) {
		s->why = "already deleted";
		return RG_RM_GONE;
	}
	return RG_RM_DONE;
}

/*
 * Move the object at path into pending: RG_RM_PENDING, its fate told by
 * rg_sweep_settle; RG_RM_GONE, RG_RM_FAILED.
 */
static int
pend(struct rg_sweep *s, int kind, const char *repo, const struct rg_digest *d,
    const char *path, const struct rg_stat *before, size_t tag)
{
	struct rg_sweep *run = s->run;
	struct rg_swpend p;
	int r;

	memset(&p, 0, sizeof(p));
	if (kind == P_MANIFEST && s->st->ops->flush != NULL &&
	    s->ours_repo != NULL && strcmp(s->ours_repo, repo) != 0 &&
	    rg_sweep_flush(s) == -1)
		s->flush_failed = 1;	/* (told by the next rg_sweep_flush) */
	r = s->st->ops->pend(s->st, path, p.name);
	if (kind == P_MANIFEST && s->st->ops->flush == NULL)
		rg_revisions_ours(s, repo);
	else if (kind == P_MANIFEST && s->ours_repo == NULL &&
	    (s->ours_repo = strdup(repo)) == NULL)
		rg_nomem();	/* (its rg_revisions_ours after the flush) */
	if (r == -1)
		return rg_sweep_failed(s, path);
	if (r == 1) {
		s->why = "already deleted";
		return RG_RM_GONE;
	}
	if ((p.path = strdup(path)) == NULL ||
	    (repo != NULL && (p.repo = strdup(repo)) == NULL))
		rg_nomem();
	p.kind = kind;
	p.d = *d;
	p.before = *before;
	p.tag = tag;
	pthread_mutex_lock(&run->lock);
	p.order = run->npend;
	if (run->npend == run->cappend) {
		run->cappend = run->cappend ? 2 * run->cappend : 256;
		if ((run->pend = realloc(run->pend, run->cappend *
		    sizeof(*run->pend))) == NULL)
			rg_nomem();
	}
	run->pend[run->npend++] = p;
	pthread_mutex_unlock(&run->lock);
	s->why = NULL;
	return RG_RM_PENDING;
}

/*
 * What s set aside leaves the registry's sight now (a store's batch), and
 * the revisions of a repository whose manifest went are noted as ours:
 * -1 when one of them, since the last call, failed (reported; settled as
 * failed, it may be there or not).
 */
int
rg_sweep_flush(struct rg_sweep *s)
{
	int r = 0;

	if (s->st->ops->flush != NULL && !s->dry_run)
		r = s->st->ops->flush(s->st);
	if (s->ours_repo != NULL) {
		rg_revisions_ours(s, s->ours_repo);
		free(s->ours_repo);
		s->ours_repo = NULL;
	}
	if (s->flush_failed) {
		s->flush_failed = 0;
		r = -1;
	}
	return r;
}

/* the cache could not be told: for the data, as if the deletion failed */
int
rg_sweep_cache_failed(struct rg_sweep *s)
{
	rg_msg(s->err, sizeof(s->err), "the registry's cache: %s", s->redis->err);
	s->why = s->err;
	return RG_RM_FAILED;
}

int
rg_sweep_kept(struct rg_sweep *s, const char *why)
{
	s->why = why;
	return RG_RM_KEPT;
}

/* List the directory at path below the root: 0, or -1 (errno). */
static int
list_dir(struct rg_sweep *s, const char *path, struct rg_dir *l)
{
	return s->st->ops->list(s->st, path, l);
}

/* A tag: kept when it names another manifest than expect, or is new. */
int
rg_sweep_tag(struct rg_sweep *s, const char *repo, const char *tag,
    const struct rg_digest *expect)
{
	char dir[PATH_BUF], link[PATH_BUF + 16], name[RG_TRASH_NAME];
	struct rg_digest d;
	struct rg_stat before, after;
	int st, r;

	rg_sweep_finish(s);
	if (rg_path(dir, sizeof(dir), "repositories/%s/_manifests/tags/%s",
	    repo, tag) != 0 || rg_path(link, sizeof(link), "%s/current/link", dir) != 0)
		return rg_sweep_failed(s, repo);
	if ((st = s->st->ops->link(s->st, link, &d, &before)) == RG_LINK_IOERR)
		return rg_sweep_failed(s, link);
	if (st == RG_LINK_OK && ((expect != NULL && memcmp(&d, expect,
	    sizeof(d)) != 0) || rg_since_scan(s, before.mtime.tv_sec)))
		return rg_sweep_kept(s, "tag pushed since the scan");
	/* the registry rewrites a link in place: truncated, then written */
	if (st == RG_LINK_CORRUPT && (rg_since_scan(s, before.mtime.tv_sec) ||
	    young(s, before.mtime.tv_sec)))
		return rg_sweep_kept(s, "its link is being written");
	if (s->dry_run)
		r = remove_dir(s, dir);
	else if ((r = s->st->ops->pend(s->st, dir, name)) == -1 ||
	    (r == 0 && s->st->ops->flush != NULL && s->st->ops->flush(s->st) != 0)) {
		errno = r == -1 ? errno : EIO;	/* (a flush: reported, left to the next run) */
		return rg_sweep_failed(s, dir);
	} else if (r == 1)
		r = remove_dir(s, dir);		/* gone: says so */
	else {
		/* a push of the tag as it was moved: put back */
		if (before.id != 0 && (s->st->ops->pend_stat(s->st, name,
		    "current/link", &after) != 0 || after.id != before.id ||
		    !rg_same_time(&after.mtime, &before.mtime))) {
			if (s->st->ops->restore(s->st, name, dir) == -1)
				return rg_sweep_failed(s, dir);
			return rg_sweep_kept(s, "pushed as it was deleted");
		}
		if (s->st->ops->final(s->st, name) == -1) {
			r = rg_sweep_failed(s, dir);
			s->st->ops->restore(s->st, name, dir);
			return r;
		}
		memcpy(s->drop, name, sizeof(s->drop));
		s->why = NULL;
		r = RG_RM_DONE;
	}
	if (r == RG_RM_DONE) {
		if (rg_path(link, sizeof(link), "%s:%s", repo, tag) != 0)
			return rg_sweep_failed(s, dir);
		pthread_mutex_lock(&s->run->lock);
		r = rg_strset_add(&s->run->gone_tags, link) == -1 ? -1 : r;
		pthread_mutex_unlock(&s->run->lock);
		if (r == -1)
			return rg_sweep_failed(s, dir);
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

	if (rg_path(path, sizeof(path), "repositories/%s/_manifests/tags/%s/index/"
	    "sha256", repo, s->tagdir.v[t].name) != 0)
		return -1;
	if (list_dir(s, path, &l) == -1)
		return 0;	/* none: left as it is */
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

	if (s->current_repo != NULL && strcmp(s->current_repo, repo) == 0)
		return 0;
	free(s->current_repo);
	rg_dir_free(&s->tagdir);
	s->ncurrent = s->nindex = 0;
	if ((s->current_repo = strdup(repo)) == NULL)
		return -1;
	if (rg_path(path, sizeof(path), "repositories/%s/_manifests/tags", repo) != 0)
		return -1;
	if (list_dir(s, path, &s->tagdir) == -1)
		return 0;
	for (i = 0; i < s->tagdir.n; i++) {
		if (!rg_tag_valid(s->tagdir.v[i].name))
			continue;
		if (!s->dry_run && read_index(s, repo, i) == -1)
			return -1;
		if (rg_path(path, sizeof(path), "%s:%s", repo, s->tagdir.v[i].name) != 0)
			return -1;
		if (rg_strset_has(&s->run->gone_tags, path))
			continue;	/* a dry run's: as if gone */
		if (rg_path(path, sizeof(path), "repositories/%s/_manifests/"
		    "tags/%s/current/link", repo, s->tagdir.v[i].name) != 0)
			return -1;
		if (s->st->ops->link(s->st, path, &cur, NULL) != RG_LINK_OK)
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

/*
 * A manifest: kept when its revision link was written since the scan or
 * within --min-age (a push rewrites it, even of a manifest that exists);
 * else the tags' history of it, then its revision link, so a rerun finds
 * it again.  The revision goes into pending: rg_sweep_settle compares its
 * link once more and puts it back if a push rewrote it in between.
 */
int
rg_sweep_manifest(struct rg_sweep *s, const char *repo, const struct rg_digest *d,
    size_t tag)
{
	char path[PATH_BUF], hex[RG_HEX_LEN + 1];
	char link[PATH_BUF + RG_TRASH_NAME];
	struct rg_tagindex key, *e;
	struct rg_stat before;
	size_t i;

	rg_sweep_finish(s);
	if (repo_tags(s, repo) == -1) {
		free(s->current_repo);
		s->current_repo = NULL;		/* read again next time */
		return rg_sweep_failed(s, repo);
	}
	for (i = 0; i < s->ncurrent; i++)
		if (memcmp(&s->current[i], d, sizeof(*d)) == 0)
			return rg_sweep_kept(s, "a tag points at it");
	rg_digest_hex(d, hex);
	if (rg_path(path, sizeof(path), "repositories/%s/_manifests/revisions/"
	    "sha256/%s", repo, hex) != 0)
		return rg_sweep_failed(s, repo);
	if (rg_path(link, sizeof(link), "%s/link", path) != 0 ||
	    s->st->ops->stat(s->st, link, &before) != 0)
		memset(&before, 0, sizeof(before));	/* no link: nothing to compare */
	else if (rg_since_scan(s, before.mtime.tv_sec))
		return rg_sweep_kept(s, "pushed since the scan");
	else if (young(s, before.mtime.tv_sec))
		return rg_sweep_kept(s, "younger than --min-age");
	else if (read_lately(s, link, &before))
		return rg_sweep_kept(s, READ_LATELY);
	key.d = *d;
	e = s->nindex > 0 ? bsearch(&key, s->index, s->nindex, sizeof(*s->index),
	    by_digest) : NULL;
	while (e != NULL && e > s->index && rg_digest_cmp(&e[-1].d, d) == 0)
		e--;			/* the first entry of d */
	for (; e != NULL && e < s->index + s->nindex &&
	    rg_digest_cmp(&e->d, d) == 0; e++) {
		if (rg_path(link, sizeof(link), "repositories/%s/_manifests/"
		    "tags/%s/index/sha256/%s", repo, s->tagdir.v[e->tag].name, hex) != 0)
			return rg_sweep_failed(s, repo);
		if (s->st->ops->remove(s->st, link, "link") == -1)
			return rg_sweep_failed(s, link);
	}
	if (s->dry_run)
		return remove_dir(s, path);
	return pend(s, P_MANIFEST, repo, d, path, &before, tag);
}


/*
 * A layer link: kept when written within --min-age (an upload whose
 * manifest is still to come), or when a manifest came to the repository
 * since the scan.  It goes into pending, and comes back when a manifest
 * came to the repository as it was there.  With a redis cache, the
 * registry's entry goes before the link and again once it is gone for good
 * (a stat in between may have put it back).
 */
int
rg_sweep_layer(struct rg_sweep *s, const char *repo, const struct rg_digest *d,
    size_t tag)
{
	char path[PATH_BUF], link[PATH_BUF + 8], hex[RG_HEX_LEN + 1];
	struct rg_stat st, before;

	rg_sweep_finish(s);
	memset(&st, 0, sizeof(st));
	rg_digest_hex(d, hex);
	if (rg_path(path, sizeof(path), "repositories/%s/_layers/sha256/%s",
	    repo, hex) != 0 || rg_path(link, sizeof(link), "%s/link", path) != 0)
		return rg_sweep_failed(s, repo);
	if (s->st->ops->stat(s->st, link, &st) == 0 &&
	    (rg_since_scan(s, st.mtime.tv_sec) || young(s, st.mtime.tv_sec)))
		return rg_sweep_kept(s, "linked since the scan, or younger than --min-age");
	if (st.id != 0 && read_lately(s, link, &st))
		return rg_sweep_kept(s, READ_LATELY);
	if (rg_revisions_seen(s, repo, &before, 0) == 0 && rg_revisions_new(s, repo, &before))
		return rg_sweep_kept(s, "a manifest came to the repository since the scan");
	if (s->dry_run)
		return remove_dir(s, path);
	if (s->redis != NULL && rg_redis_forget_link(s->redis, repo, d) != 0)
		return rg_sweep_cache_failed(s);
	return pend(s, P_LAYER, repo, d, path, &before, tag);
}

/*
 * A blob: kept when linked since the scan, or its data is younger than
 * min_age; else into pending (redis: its entry goes before and after).
 */
int
rg_sweep_blob(struct rg_sweep *s, const struct rg_digest *d, size_t tag)
{
	char path[PATH_BUF], hex[RG_HEX_LEN + 1];
	struct rg_stat st;

	rg_sweep_finish(s);
	if (rg_dtab_index(&s->run->fresh, d, 0) != -1)	/* (read only meanwhile) */
		return rg_sweep_kept(s, "linked since the scan");
	rg_digest_hex(d, hex);
	if (rg_path(path, sizeof(path), "blobs/sha256/%.2s/%s/data", hex, hex) != 0)
		return rg_sweep_failed(s, hex);
	if (s->st->ops->stat(s->st, path, &st) == 0 &&
	    st.mtime.tv_sec > s->now - s->min_age)
		return rg_sweep_kept(s, "younger than --min-age");
	if (rg_path(path, sizeof(path), "blobs/sha256/%.2s/%s", hex, hex) != 0)
		return rg_sweep_failed(s, hex);
	if (s->dry_run)
		return remove_dir(s, path);
	if (s->redis != NULL && rg_redis_forget_blob(s->redis, d) != 0)
		return rg_sweep_cache_failed(s);
	memset(&st, 0, sizeof(st));
	return pend(s, P_BLOB, NULL, d, path, &st, tag);
}

/* The end of a run: its pending directory goes when empty. */
void
rg_sweep_close(struct rg_sweep *s)
{
	int i;

	rg_pool_free(s->pool);
	s->pool = NULL;
	for (i = 0; i < s->jobs; i++)
		calls_free(&s->w[i]);
	free(s->w);
	s->w = NULL;
	s->jobs = 0;
	calls_free(s);
	if (!s->dry_run)
		s->st->ops->rm_close(s->st);
	rg_fresh_close(s);
	rg_strset_free(&s->gone_tags);
	free(s->pend);
	s->pend = NULL;
	pthread_mutex_destroy(&s->lock);
}

int
rg_sweep_upload(struct rg_sweep *s, const char *repo, const char *uuid)
{
	char path[PATH_BUF];
	time_t young = s->now - s->min_age;

	rg_sweep_finish(s);
	if (rg_path(path, sizeof(path), "repositories/%s/_uploads/%s", repo, uuid) != 0)
		return rg_sweep_failed(s, repo);
	if (rg_written_since(s, path, s->scan_time >= 0 && s->scan_time < young ?
	    s->scan_time : young))
		return rg_sweep_kept(s, "written since the scan, or younger than --min-age");
	return remove_dir(s, path);
}


static void
count_one(void *arg, const char *name, const struct rg_stat *st, int err)
{
	(void)name;
	*(size_t *)arg += st != NULL || err == ENAMETOOLONG;	/* not known: counted */
}

/* How many entries of the directory at path have suffix below them. */
static size_t
count_with(struct rg_sweep *s, const char *path, const char *suffix)
{
	size_t n = 0;

	s->st->ops->each(s->st, path, suffix, count_one, &n);
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

	rg_sweep_finish(s);
	if (s->dry_run)
		return RG_RM_DONE;
	if (rg_path(path, sizeof(path), "repositories/%s/_manifests/tags", repo) != 0)
		return rg_sweep_failed(s, repo);
	if (count_with(s, path, "") > 0)
		return rg_sweep_kept(s, "it has tags");
	if (rg_path(path, sizeof(path), "repositories/%s/_manifests/revisions/"
	    "sha256", repo) != 0)
		return rg_sweep_failed(s, repo);
	if (count_with(s, path, "link") > 0)
		return rg_sweep_kept(s, "it has manifests");
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (rg_path(path, sizeof(path), "repositories/%s/%s", repo, parts[i]) != 0)
			return rg_sweep_failed(s, repo);
		if ((r = s->st->ops->remove(s->st, path, NULL)) == -1)
			return rg_sweep_failed(s, path);
		removed += r == 0;
	}
	if (rg_path(path, sizeof(path), "repositories/%s", repo) != 0)
		return rg_sweep_failed(s, repo);
	while (s->st->ops->rmdir(s->st, path) == 0 &&
	    (slash = strrchr(path, '/')) != NULL &&
	    slash > path + strlen("repositories"))
		*slash = '\0';
	s->why = removed ? NULL : "already deleted";
	return removed ? RG_RM_DONE : RG_RM_GONE;
}

