/*
 * sweep.c: deleting one registry object at a time from storage, for
 * rg-rm; the order and the policy are rg-rm's.  Each call checks the
 * storage again (what changed since the scan stays), then removes the
 * object's directory through the trash (beneath.c), or with dry_run says
 * it would.  Each returns RG_RM_DONE, RG_RM_GONE (nothing there),
 * RG_RM_KEPT or RG_RM_FAILED, with the reason in s->why; it reports
 * nothing itself.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redis.h"
#include "store.h"

#define PATH_BUF	RG_SWEEP_PATH
#define READ_LATELY	"read by the registry within --min-age (a push may be " \
			"using it): marked, it goes once unread that long"

struct revdir {
	struct rg_digest key;		/* sha256 of the repository's name */
	struct timespec mtim;		/* its revisions/sha256 after our last change */
};


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
	if (rg_dtab_init(&s->fresh, sizeof(struct rg_digest),
	    sizeof(struct rg_digest)) != 0 ||
	    rg_dtab_init(&s->fresh_mans, sizeof(struct rg_digest),
	    sizeof(struct rg_digest)) != 0 ||
	    rg_dtab_init(&s->revdirs, sizeof(struct revdir),
	    sizeof(struct rg_digest)) != 0)
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

static void	finish(struct rg_sweep *);

/* what a worker (or the run) holds of its last calls, let go */
static void
calls_free(struct rg_sweep *s)
{
	finish(s);
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
	if (s->st->rm_threads <= 1 || jobs <= 1 || s->redis != NULL)
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

static int
since_scan(const struct rg_sweep *s, time_t t)
{
	return s->scan_time >= 0 && t >= s->scan_time;
}

/* an object moved into pending, to be decided by rg_sweep_settle */
enum { P_MANIFEST, P_LAYER, P_BLOB };

struct rg_swpend {
	char name[RG_TRASH_NAME];	/* in .rg-trash/pending */
	char *path, *repo;		/* where it was; its repository */
	struct rg_digest d;
	struct rg_stat before;		/* its link; for a layer, its revisions/sha256 */
	size_t tag;			/* the caller's */
	size_t order;			/* moved as the order-th */
	unsigned long batch;		/* the store's (decided together), or 0 */
	int kind, back;
	int r, gone;			/* settled: RG_RM_*, and gone for good */
	char *why;
};

static int	revisions_stat(struct rg_sweep *, const char *, struct rg_stat *);
static int	man_key(const char *, const struct rg_digest *, struct rg_digest *);
static void	revisions_ours(struct rg_sweep *, const char *);

static int
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
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
static void
finish(struct rg_sweep *s)
{
	if (s->drop[0] == '\0')
		return;
	s->st->ops->drop(s->st, s->drop, NULL);
	s->drop[0] = '\0';
}

static int
failed(struct rg_sweep *s, const char *path)
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
		return failed(s, path);
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
		revisions_ours(s, repo);
	else if (kind == P_MANIFEST && s->ours_repo == NULL &&
	    (s->ours_repo = strdup(repo)) == NULL)
		rg_nomem();	/* (its revisions_ours after the flush) */
	if (r == -1)
		return failed(s, path);
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
		revisions_ours(s, s->ours_repo);
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
static int
cache_failed(struct rg_sweep *s)
{
	rg_msg(s->err, sizeof(s->err), "the registry's cache: %s", s->redis->err);
	s->why = s->err;
	return RG_RM_FAILED;
}

static int
kept(struct rg_sweep *s, const char *why)
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

	finish(s);
	if (rg_path(dir, sizeof(dir), "repositories/%s/_manifests/tags/%s",
	    repo, tag) != 0 || rg_path(link, sizeof(link), "%s/current/link", dir) != 0)
		return failed(s, repo);
	if ((st = s->st->ops->link(s->st, link, &d, &before)) == RG_LINK_IOERR)
		return failed(s, link);
	if (st == RG_LINK_OK && ((expect != NULL && memcmp(&d, expect,
	    sizeof(d)) != 0) || since_scan(s, before.mtime.tv_sec)))
		return kept(s, "tag pushed since the scan");
	/* the registry rewrites a link in place: truncated, then written */
	if (st == RG_LINK_CORRUPT && (since_scan(s, before.mtime.tv_sec) ||
	    young(s, before.mtime.tv_sec)))
		return kept(s, "its link is being written");
	if (s->dry_run)
		r = remove_dir(s, dir);
	else if ((r = s->st->ops->pend(s->st, dir, name)) == -1 ||
	    (r == 0 && s->st->ops->flush != NULL && s->st->ops->flush(s->st) != 0)) {
		errno = r == -1 ? errno : EIO;	/* (a flush: reported, left to the next run) */
		return failed(s, dir);
	} else if (r == 1)
		r = remove_dir(s, dir);		/* gone: says so */
	else {
		/* a push of the tag as it was moved: put back */
		if (before.id != 0 && (s->st->ops->pend_stat(s->st, name,
		    "current/link", &after) != 0 || after.id != before.id ||
		    !same_time(&after.mtime, &before.mtime))) {
			if (s->st->ops->restore(s->st, name, dir) == -1)
				return failed(s, dir);
			return kept(s, "pushed as it was deleted");
		}
		if (s->st->ops->final(s->st, name) == -1) {
			r = failed(s, dir);
			s->st->ops->restore(s->st, name, dir);
			return r;
		}
		memcpy(s->drop, name, sizeof(s->drop));
		s->why = NULL;
		r = RG_RM_DONE;
	}
	if (r == RG_RM_DONE) {
		if (rg_path(link, sizeof(link), "%s:%s", repo, tag) != 0)
			return failed(s, dir);
		pthread_mutex_lock(&s->run->lock);
		r = rg_strset_add(&s->run->gone_tags, link) == -1 ? -1 : r;
		pthread_mutex_unlock(&s->run->lock);
		if (r == -1)
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

	finish(s);
	if (repo_tags(s, repo) == -1) {
		free(s->current_repo);
		s->current_repo = NULL;		/* read again next time */
		return failed(s, repo);
	}
	for (i = 0; i < s->ncurrent; i++)
		if (memcmp(&s->current[i], d, sizeof(*d)) == 0)
			return kept(s, "a tag points at it");
	rg_digest_hex(d, hex);
	if (rg_path(path, sizeof(path), "repositories/%s/_manifests/revisions/"
	    "sha256/%s", repo, hex) != 0)
		return failed(s, repo);
	if (rg_path(link, sizeof(link), "%s/link", path) != 0 ||
	    s->st->ops->stat(s->st, link, &before) != 0)
		memset(&before, 0, sizeof(before));	/* no link: nothing to compare */
	else if (since_scan(s, before.mtime.tv_sec))
		return kept(s, "pushed since the scan");
	else if (young(s, before.mtime.tv_sec))
		return kept(s, "younger than --min-age");
	else if (read_lately(s, link, &before))
		return kept(s, READ_LATELY);
	key.d = *d;
	e = s->nindex > 0 ? bsearch(&key, s->index, s->nindex, sizeof(*s->index),
	    by_digest) : NULL;
	while (e != NULL && e > s->index && rg_digest_cmp(&e[-1].d, d) == 0)
		e--;			/* the first entry of d */
	for (; e != NULL && e < s->index + s->nindex &&
	    rg_digest_cmp(&e->d, d) == 0; e++) {
		if (rg_path(link, sizeof(link), "repositories/%s/_manifests/"
		    "tags/%s/index/sha256/%s", repo, s->tagdir.v[e->tag].name, hex) != 0)
			return failed(s, repo);
		if (s->st->ops->remove(s->st, link, "link") == -1)
			return failed(s, link);
	}
	if (s->dry_run)
		return remove_dir(s, path);
	return pend(s, P_MANIFEST, repo, d, path, &before, tag);
}

/* the repository's revisions/sha256 directory: a new manifest changes it */
static int
revisions_stat(struct rg_sweep *s, const char *repo, struct rg_stat *st)
{
	char path[PATH_BUF];

	memset(st, 0, sizeof(*st));
	return rg_path(path, sizeof(path), "repositories/%s/_manifests/revisions/"
	    "sha256", repo) == 0 ? s->st->ops->stat(s->st, path, st) : -1;
}

/*
 * revisions_stat, taken once for the layer links of one repository in a
 * row: compared later with what is there then, an earlier look only puts
 * back more (and a manifest written meanwhile is seen at the settle, as
 * one written since the scan).  again: forget it (a manifest of ours
 * went meanwhile).
 */
static int
revisions_seen(struct rg_sweep *s, const char *repo, struct rg_stat *st, int again)
{
	if (again || s->seen_repo == NULL || strcmp(s->seen_repo, repo) != 0) {
		free(s->seen_repo);
		s->seen_repo = NULL;
		if (again)
			return 0;
		if ((s->seen_repo = strdup(repo)) == NULL)
			rg_nomem();
		s->seen_r = revisions_stat(s, repo, &s->seen);
	}
	*st = s->seen;
	return s->seen_r;
}

/* rg-rm's own change to repo's revisions/sha256: remembered, as not a push */
static void
revisions_ours(struct rg_sweep *s, const char *repo)
{
	struct rg_digest k;
	struct rg_stat st;
	long i;

	revisions_seen(s, NULL, NULL, 1);
	rg_digest_of(repo, strlen(repo), &k);
	if (revisions_stat(s, repo, &st) != 0)
		st.mtime = (struct timespec){ 0, 0 };
	pthread_mutex_lock(&s->run->lock);
	if ((i = rg_dtab_index(&s->run->revdirs, &k, 1)) == -1)
		rg_nomem();
	((struct revdir *)RG_DTAB_AT(&s->run->revdirs, i))->mtim = st.mtime;
	pthread_mutex_unlock(&s->run->lock);
}

/* Did a manifest come to repo since the scan (or since rg-rm's own change)? */
static int
revisions_new(struct rg_sweep *s, const char *repo, const struct rg_stat *st)
{
	struct rg_digest k;
	struct timespec ours;
	long i;

	rg_digest_of(repo, strlen(repo), &k);
	pthread_mutex_lock(&s->run->lock);
	if ((i = rg_dtab_index(&s->run->revdirs, &k, 0)) != -1)
		ours = ((struct revdir *)RG_DTAB_AT(&s->run->revdirs, i))->mtim;
	pthread_mutex_unlock(&s->run->lock);
	return i != -1 ? !same_time(&ours, &st->mtime) :
	    since_scan(s, st->mtime.tv_sec);
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

	finish(s);
	memset(&st, 0, sizeof(st));
	rg_digest_hex(d, hex);
	if (rg_path(path, sizeof(path), "repositories/%s/_layers/sha256/%s",
	    repo, hex) != 0 || rg_path(link, sizeof(link), "%s/link", path) != 0)
		return failed(s, repo);
	if (s->st->ops->stat(s->st, link, &st) == 0 &&
	    (since_scan(s, st.mtime.tv_sec) || young(s, st.mtime.tv_sec)))
		return kept(s, "linked since the scan, or younger than --min-age");
	if (st.id != 0 && read_lately(s, link, &st))
		return kept(s, READ_LATELY);
	if (revisions_seen(s, repo, &before, 0) == 0 && revisions_new(s, repo, &before))
		return kept(s, "a manifest came to the repository since the scan");
	if (s->dry_run)
		return remove_dir(s, path);
	if (s->redis != NULL && rg_redis_forget_link(s->redis, repo, d) != 0)
		return cache_failed(s);
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

	finish(s);
	if (rg_dtab_index(&s->run->fresh, d, 0) != -1)	/* (read only meanwhile) */
		return kept(s, "linked since the scan");
	rg_digest_hex(d, hex);
	if (rg_path(path, sizeof(path), "blobs/sha256/%.2s/%s/data", hex, hex) != 0)
		return failed(s, hex);
	if (s->st->ops->stat(s->st, path, &st) == 0 &&
	    st.mtime.tv_sec > s->now - s->min_age)
		return kept(s, "younger than --min-age");
	if (rg_path(path, sizeof(path), "blobs/sha256/%.2s/%s", hex, hex) != 0)
		return failed(s, hex);
	if (s->dry_run)
		return remove_dir(s, path);
	if (s->redis != NULL && rg_redis_forget_blob(s->redis, d) != 0)
		return cache_failed(s);
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
	rg_dtab_free(&s->fresh);
	rg_dtab_free(&s->fresh_mans);
	rg_dtab_free(&s->revdirs);
	rg_strset_free(&s->fresh_repos);
	rg_strset_free(&s->fresh_unknown);
	rg_strset_free(&s->gone_tags);
	free(s->pend);
	s->pend = NULL;
	pthread_mutex_destroy(&s->lock);
}

static void
no_repo(void *arg, const char *repo)
{
	(void)arg;
	(void)repo;
}

static int
same_file(const struct rg_stat *a, const struct rg_stat *b)
{
	return a->id == b->id && same_time(&a->mtime, &b->mtime) &&
	    same_time(&a->ctime, &b->ctime);
}

/*
 * A pending object, back or gone for good, by the worker w: its result in
 * p.  With finalled, what the store's finals() said of it (0 or -1), else
 * it is taken out of pending for good here.
 */
static void
settle_one(struct rg_sweep *w, struct rg_swpend *p, const int *finalled)
{
	const char *why;
	int r;

	p->gone = 0;
	if (p->back) {
		why = p->kind == P_MANIFEST ? "pushed again as it was deleted" :
		    p->kind == P_LAYER ? "a manifest came to the repository "
		    "as it was deleted" : "linked or needed as it was deleted";
		if (w->st->ops->restore(w->st, p->name, p->path) == -1)
			p->r = failed(w, p->path);
		else
			p->r = kept(w, why);
	} else if ((r = finalled != NULL ? *finalled :
	    w->st->ops->final(w->st, p->name)) == -1)
		p->r = failed(w, p->path);
	else if (r == 1)
		p->r = kept(w, "written again as it was deleted");
	else if ((p->gone = 1) && w->redis != NULL && p->kind != P_MANIFEST &&
	    (p->kind == P_LAYER ? rg_redis_forget_link(w->redis, p->repo, &p->d) :
	    rg_redis_forget_blob(w->redis, &p->d)) != 0)
		p->r = cache_failed(w);
	else {
		w->why = NULL;
		p->r = RG_RM_DONE;
	}
	if (w->why != NULL && (p->why = strdup(w->why)) == NULL)
		rg_nomem();
}

/*
 * pend[from, to) settled with the run's workers: each takes the next that
 * comes back and puts it back, or the next few that go (FINALS of them)
 * and takes them out of pending for good in one finals() call.
 */
#define FINALS	16
#define PER_JOB	4	/* pending objects carried out at once, a job */

struct settling {
	struct rg_sweep *s;
	size_t next, to;
};

static void
settle_part(void *arg, int k)
{
	struct settling *g = arg;
	struct rg_sweep *s = g->s;
	const char *names[FINALS];
	struct rg_swpend *p[FINALS];
	size_t i, n;
	int res[FINALS];

	for (;;) {
		pthread_mutex_lock(&s->lock);
		for (n = 0; n < FINALS && g->next < g->to; ) {
			if (n > 0 && s->pend[g->next].back)
				break;		/* (on its own, the next time) */
			p[n++] = &s->pend[g->next++];
			if (p[n - 1]->back)
				break;
		}
		pthread_mutex_unlock(&s->lock);
		if (n == 0)
			return;
		if (p[0]->back) {
			settle_one(&s->w[k], p[0], NULL);
			continue;
		}
		for (i = 0; i < n; i++)
			names[i] = p[i]->name;
		s->st->ops->finals(s->st, names, n, res);
		for (i = 0; i < n; i++)
			settle_one(&s->w[k], p[i], &res[i]);
	}
}

/* pend[from, to): by the workers when there are, else one at a time */
static void
settle_chunk(struct rg_sweep *s, size_t from, size_t to)
{
	struct settling g = { s, from, to };
	size_t i;

	if (s->pool != NULL && s->st->ops->finals != NULL)
		rg_pool_run(s->pool, settle_part, &g);
	else
		for (i = from; i < to; i++)
			settle_one(s, &s->pend[i], NULL);
}

/* a store's batches first, each together, then the rest; else as moved */
static int
by_batch(const void *a, const void *b)
{
	const struct rg_swpend *x = a, *y = b;

	if ((x->batch == 0) != (y->batch == 0))
		return x->batch == 0 ? 1 : -1;
	if (x->batch != y->batch)
		return x->batch < y->batch ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* a repository's revisions/sha256 at the settle, looked at once */
struct seen_now {
	struct rg_digest key;		/* sha256 of the repository's name */
	struct rg_stat st;
	int r;
};

static int
revisions_now(struct rg_sweep *s, struct rg_dtab *t, const char *repo,
    struct rg_stat *st)
{
	struct seen_now *e;
	struct rg_digest k;
	long i;

	rg_digest_of(repo, strlen(repo), &k);
	if ((i = rg_dtab_index(t, &k, 0)) == -1) {
		if ((i = rg_dtab_index(t, &k, 1)) == -1)
			rg_nomem();
		e = RG_DTAB_AT(t, i);
		e->r = revisions_stat(s, repo, &e->st);
	}
	e = RG_DTAB_AT(t, i);
	*st = e->st;
	return e->r;
}

/* revisions_now of every repository of a pending layer link, by the workers */
struct looking {
	struct rg_sweep *s;
	struct rg_dtab *t;
	char **repos;
	long *at;
	size_t n, next;
};

static void
look_part(void *arg, int k)
{
	struct looking *g = arg;
	struct seen_now *e;
	size_t i;

	(void)k;
	for (;;) {
		pthread_mutex_lock(&g->s->lock);
		i = g->next++;
		pthread_mutex_unlock(&g->s->lock);
		if (i >= g->n)
			return;
		e = RG_DTAB_AT(g->t, g->at[i]);
		e->r = revisions_stat(g->s, g->repos[i], &e->st);
	}
}

static void
revisions_all(struct rg_sweep *s, struct rg_dtab *t)
{
	struct looking g = { s, t, NULL, NULL, 0, 0 };
	struct rg_digest k;
	size_t i;

	if (s->pool == NULL)
		return;		/* (one at a time, as asked) */
	if ((g.repos = calloc(s->npend + 1, sizeof(*g.repos))) == NULL ||
	    (g.at = calloc(s->npend + 1, sizeof(*g.at))) == NULL)
		rg_nomem();
	for (i = 0; i < s->npend; i++) {
		if (s->pend[i].kind != P_LAYER ||
		    rg_strset_has(&s->fresh_repos, s->pend[i].repo))
			continue;
		rg_digest_of(s->pend[i].repo, strlen(s->pend[i].repo), &k);
		if (rg_dtab_index(t, &k, 0) != -1)
			continue;
		if (rg_dtab_index(t, &k, 1) == -1)
			rg_nomem();
		g.repos[g.n++] = s->pend[i].repo;
	}
	for (i = 0; i < g.n; i++) {	/* (where each is, once all are in) */
		rg_digest_of(g.repos[i], strlen(g.repos[i]), &k);
		g.at[i] = rg_dtab_index(t, &k, 0);
	}
	rg_pool_run(s->pool, look_part, &g);
	free(g.repos);
	free(g.at);
}

/* Does a revision or tag of repo written since the scan name d (or may it)? */
static int
named_since_scan(struct rg_sweep *s, const char *repo, const struct rg_digest *d)
{
	struct rg_digest k;

	return rg_strset_has(&s->fresh_unknown, repo) || man_key(repo, d, &k) != 0 ||
	    rg_dtab_index(&s->fresh_mans, &k, 0) != -1;
}

/*
 * What is pending, decided: after settle seconds (pushes in flight land),
 * the storage is looked at again.  A manifest comes back when its revision
 * link changed, or a revision or tag written since the scan names it (the
 * registry's write landed where it was, or, on S3, between the copy and
 * the delete that moved it); every layer link of its repository comes back
 * with it.  A layer link comes back when a manifest came to its repository
 * (since the scan: a push that checked the link before it went may have
 * written its manifest before rg-rm looked); a blob, when it was linked
 * since the scan, when its layer link came back, or when any manifest was
 * pushed or came back.  The rest goes for good.  fn hears of each object,
 * in the order they were moved.
 */
void
rg_sweep_settle(struct rg_sweep *s, unsigned settle, rg_settled_fn *fn, void *arg)
{
	struct rg_swpend *p;
	struct rg_strset back_repos;
	struct rg_dtab back_blobs, seen_now;
	struct rg_stat now;
	size_t i, j, n, m, nb, chunk;
	unsigned long b, *batches;
	int fm = s->fresh_manifests, all_blobs;

	finish(s);
	rg_sweep_flush(s);	/* (a failure: each failed at its settle) */
	if (s->npend == 0)
		return;
	if (settle > 0)
		sleep(settle);
	revisions_seen(s, NULL, NULL, 1);	/* looked at anew */
	s->fresh_manifests = 0;
	rg_sweep_fresh(s, no_repo, NULL);
	all_blobs = s->fresh_manifests;
	s->fresh_manifests |= fm;
	memset(&back_repos, 0, sizeof(back_repos));
	if (rg_dtab_init(&back_blobs, sizeof(struct rg_digest), sizeof(struct rg_digest)) != 0 ||
	    rg_dtab_init(&seen_now, sizeof(struct seen_now), sizeof(struct rg_digest)) != 0)
		rg_nomem();
	revisions_all(s, &seen_now);
	for (i = 0; i < s->npend; i++) {	/* decided before anything moves back */
		p = &s->pend[i];
		if (p->kind == P_MANIFEST) {
			p->back = (p->before.id != 0 && (s->st->ops->pend_stat(s->st,
			    p->name, "link", &now) != 0 || !same_file(&p->before,
			    &now))) || named_since_scan(s, p->repo, &p->d);
		} else if (p->kind == P_LAYER)
			p->back = rg_strset_has(&s->fresh_repos, p->repo) ||
			    revisions_now(s, &seen_now, p->repo, &now) != 0 ||
			    !same_time(&p->before.mtime, &now.mtime) ||
			    !same_time(&p->before.ctime, &now.ctime);
		if (p->back && p->kind == P_MANIFEST) {
			all_blobs = 1;
			if (rg_strset_add(&back_repos, p->repo) == -1)
				rg_nomem();
		}
	}
	for (i = 0; i < s->npend; i++) {
		p = &s->pend[i];
		if (p->kind == P_LAYER && !p->back)
			p->back = rg_strset_has(&back_repos, p->repo);
		if (p->kind == P_LAYER && p->back &&
		    rg_dtab_index(&back_blobs, &p->d, 1) == -1)
			rg_nomem();
	}
	for (i = 0; i < s->npend; i++) {
		p = &s->pend[i];
		if (p->kind == P_BLOB)
			p->back = all_blobs || rg_dtab_index(&s->fresh, &p->d, 0) != -1 ||
			    rg_dtab_index(&back_blobs, &p->d, 0) != -1;
	}
	/*
	 * Carried out a few at a time (with workers, PER_JOB for each, all at
	 * once), or a store's batch at a time (batch_done after it), their
	 * records written as each few are done: a run killed meanwhile
	 * leaves at most that many gone without a record.
	 */
	chunk = s->pool != NULL ? (size_t)s->jobs * PER_JOB : 1;
	if (s->st->ops->batch != NULL) {
		for (i = 0; i < s->npend; i++)
			s->pend[i].batch = s->st->ops->batch(s->st, s->pend[i].name);
		qsort(s->pend, s->npend, sizeof(*s->pend), by_batch);
	}
	if ((batches = calloc(chunk + 1, sizeof(*batches))) == NULL)
		rg_nomem();
	for (i = 0; i < s->npend; i += n) {
		nb = 0;
		if (s->pend[i].batch == 0)	/* (the rest: none in a batch) */
			for (n = 1; i + n < s->npend && n < chunk; n++)
				;
		else	/* whole batches, as many as a chunk holds, one at least */
			for (n = 0; i + n < s->npend && s->pend[i + n].batch != 0;
			    n += m) {
				b = s->pend[i + n].batch;
				for (m = 1; i + n + m < s->npend &&
				    s->pend[i + n + m].batch == b; m++)
					;
				if (n > 0 && n + m > chunk)
					break;
				batches[nb++] = b;
			}
		settle_chunk(s, i, i + n);
		if (nb > 0 && s->st->ops->batch_done(s->st, batches, nb) == -1)
			for (j = i; j < i + n; j++) {
				if (!s->pend[j].gone)
					continue;	/* the next run puts it back: */
				s->pend[j].gone = 0;
				s->pend[j].r = RG_RM_FAILED;
				free(s->pend[j].why);
				if ((s->pend[j].why = strdup("its journal in "
				    "pending could not be deleted: the next run "
				    "puts it back")) == NULL)
					rg_nomem();
			}
		for (j = i; j < i + n; j++) {
			p = &s->pend[j];
			fn(arg, p->tag, p->r, p->why);	/* its record, then it goes */
			if (p->gone)
				s->st->ops->drop(s->st, p->name,
				    p->kind == P_BLOB ? "data" : "link");
			free(p->path);
			free(p->repo);
			free(p->why);
		}
	}
	free(batches);
	s->npend = 0;
	rg_strset_free(&back_repos);
	rg_dtab_free(&back_blobs);
	rg_dtab_free(&seen_now);
}

struct since {
	time_t t;
	int found;
};

static void
is_since(void *arg, const char *name, const struct rg_stat *st, int err)
{
	struct since *w = arg;

	(void)name;
	(void)err;
	w->found |= st != NULL && st->mtime.tv_sec >= w->t;
}

/* Is anything in the directory at path written at or after t? */
static int
written_since(struct rg_sweep *s, const char *path, time_t t)
{
	struct since w = { t, 0 };

	s->st->ops->each(s->st, path, "", is_since, &w);
	return w.found;
}

int
rg_sweep_upload(struct rg_sweep *s, const char *repo, const char *uuid)
{
	char path[PATH_BUF];
	time_t young = s->now - s->min_age;

	finish(s);
	if (rg_path(path, sizeof(path), "repositories/%s/_uploads/%s", repo, uuid) != 0)
		return failed(s, repo);
	if (written_since(s, path, s->scan_time >= 0 && s->scan_time < young ?
	    s->scan_time : young))
		return kept(s, "written since the scan, or younger than --min-age");
	return remove_dir(s, path);
}

/*
 * Links written since the scan: the digests they name go in s->fresh, a
 * new revision or tag sets s->fresh_manifests, and fn hears of each
 * repository with a new link or upload.  A repository with a new revision
 * or tag goes in s->fresh_repos, and the manifest each names (a tag's
 * link read once the listing is done) in s->fresh_mans; one whose name
 * or link cannot be read, in s->fresh_unknown.  Walks repositories/ below
 * the root, never through a symbolic link; with workers, the repositories
 * are looked at by them, each a repository at a time (what they find
 * noted under the run's lock).
 */
struct fresh {
	struct rg_sweep *s;
	const char *repo;
	int manifests, tags, *changed;
	struct rg_dir tagged;		/* tags written since the scan */
};

/* the key of repo's manifest d in s->fresh_mans: -1 when it cannot be made */
static int
man_key(const char *repo, const struct rg_digest *d, struct rg_digest *k)
{
	char buf[RG_REPO_MAX + RG_HEX_LEN + 2], hex[RG_HEX_LEN + 1];

	rg_digest_hex(d, hex);
	if (rg_path(buf, sizeof(buf), "%s@%s", repo, hex) != 0)
		return -1;
	rg_digest_of(buf, strlen(buf), k);
	return 0;
}

/* (called with s->lock held) */
static void
fresh_manifest(struct rg_sweep *s, const char *repo, const struct rg_digest *d)
{
	struct rg_digest k;

	if (d == NULL || man_key(repo, d, &k) != 0) {
		if (rg_strset_add(&s->fresh_unknown, repo) == -1)
			rg_nomem();
	} else if (rg_dtab_index(&s->fresh_mans, &k, 1) == -1)
		rg_nomem();
}

static void
fresh_link(void *arg, const char *name, const struct rg_stat *st, int err)
{
	struct fresh *f = arg;
	struct rg_sweep *s = f->s;
	struct rg_digest d;
	int hex;

	if (err != ENAMETOOLONG && (st == NULL || !since_scan(s, st->mtime.tv_sec)))
		return;
	*f->changed = 1;
	hex = rg_hex_parse(name, strlen(name), &d) == 0;
	if (f->tags && err != ENAMETOOLONG &&
	    rg_dir_add(&f->tagged, name, strlen(name), DT_DIR) == -1)
		rg_nomem();
	pthread_mutex_lock(&s->lock);
	if (err == ENAMETOOLONG)
		s->fresh_manifests = 1;	/* not known: as if */
	if (hex && rg_dtab_index(&s->fresh, &d, 1) == -1)
		s->fresh_manifests = 1;	/* out of memory: hold every blob */
	s->fresh_manifests |= f->manifests;
	if (f->manifests && rg_strset_add(&s->fresh_repos, f->repo) == -1)
		rg_nomem();
	if (f->manifests && (!f->tags || err == ENAMETOOLONG))
		fresh_manifest(s, f->repo, hex && err != ENAMETOOLONG ? &d : NULL);
	pthread_mutex_unlock(&s->lock);
}

static void
fresh_links(struct rg_sweep *s, const char *repo, const char *dir,
    const char *suffix, int manifests, int *changed)
{
	char path[PATH_BUF], link[PATH_BUF + 16];
	struct fresh f = { s, repo, manifests, strcmp(suffix, "current/link") == 0,
	    changed, { NULL, 0, 0 } };
	struct rg_digest d;
	size_t i;

	int known;

	if (rg_path(path, sizeof(path), "repositories/%s/%s", repo, dir) != 0) {
		*changed = 1;	/* not known: as if */
		pthread_mutex_lock(&s->lock);
		s->fresh_manifests = 1;
		if (manifests && (rg_strset_add(&s->fresh_repos, repo) == -1 ||
		    rg_strset_add(&s->fresh_unknown, repo) == -1))
			rg_nomem();
		pthread_mutex_unlock(&s->lock);
		return;
	}
	s->st->ops->each(s->st, path, suffix, fresh_link, &f);
	for (i = 0; i < f.tagged.n; i++) {	/* what each new tag names */
		known = rg_path(link, sizeof(link), "%s/%s/%s", path,
		    f.tagged.v[i].name, suffix) == 0 && s->st->ops->link(s->st,
		    link, &d, NULL) == RG_LINK_OK;
		pthread_mutex_lock(&s->lock);
		fresh_manifest(s, repo, known ? &d : NULL);
		pthread_mutex_unlock(&s->lock);
	}
	rg_dir_free(&f.tagged);
}

/* the repositories below repositories/name, into repos */
static void
fresh_walk(struct rg_sweep *s, const char *name, struct rg_dir *repos)
{
	char path[PATH_BUF], sub[RG_REPO_MAX + 2];
	struct rg_dir l;
	size_t i;
	int repo = 0;

	if (rg_path(path, sizeof(path), "repositories%s%s", *name ? "/" : "",
	    name) != 0 || list_dir(s, path, &l) == -1)
		return;
	for (i = 0; i < l.n; i++) {
		const char *e = l.v[i].name;

		if (l.v[i].type != DT_DIR)
			continue;
		if (e[0] == '_')
			repo = 1;
		else if (rg_component_valid(e, strlen(e)) && rg_path(sub,
		    sizeof(sub), "%s%s%s", name, *name ? "/" : "", e) == 0)
			fresh_walk(s, sub, repos);
	}
	rg_dir_free(&l);
	if (repo && *name && rg_dir_add(repos, name, strlen(name), DT_DIR) == -1)
		rg_nomem();
}

/* the links of one repository written since the scan; fn told of it */
static void
fresh_repo(struct rg_sweep *s, const char *name, rg_changed_fn *fn, void *arg)
{
	char path[PATH_BUF];
	int changed = 0;

	fresh_links(s, name, "_layers/sha256", "link", 0, &changed);
	fresh_links(s, name, "_manifests/revisions/sha256", "link", 1, &changed);
	fresh_links(s, name, "_manifests/tags", "current/link", 1, &changed);
	if (changed || rg_path(path, sizeof(path), "repositories/%s/_uploads",
	    name) != 0 || written_since(s, path, s->scan_time)) {
		pthread_mutex_lock(&s->lock);
		fn(arg, name);
		pthread_mutex_unlock(&s->lock);
	}
}

struct freshening {
	struct rg_sweep *s;
	struct rg_dir repos;
	size_t next;
	rg_changed_fn *fn;
	void *arg;
};

static void
fresh_part(void *arg, int k)
{
	struct freshening *g = arg;
	size_t i;

	(void)k;	/* (the store knows each thread's connection) */
	for (;;) {
		pthread_mutex_lock(&g->s->lock);
		i = g->next++;
		pthread_mutex_unlock(&g->s->lock);
		if (i >= g->repos.n)
			return;
		fresh_repo(g->s, g->repos.v[i].name, g->fn, g->arg);
	}
}

/*
 * The walk by the workers, a level of the repositories' tree at a time:
 * each lists the next directory of the level, its sub-directories go to
 * the next level, and it is a repository when one of them begins with _.
 */
struct walking {
	struct rg_sweep *s;
	struct rg_dir level, next, *repos;
	size_t i;
};

static void
walk_part(void *arg, int k)
{
	struct walking *g = arg;
	char path[PATH_BUF], sub[RG_REPO_MAX + 2];
	const char *name, *e;
	struct rg_dir l;
	size_t i, j;
	int repo;

	(void)k;
	for (;;) {
		pthread_mutex_lock(&g->s->lock);
		i = g->i++;
		pthread_mutex_unlock(&g->s->lock);
		if (i >= g->level.n)
			return;
		name = g->level.v[i].name;
		if (rg_path(path, sizeof(path), "repositories%s%s", *name ? "/" : "",
		    name) != 0 || list_dir(g->s, path, &l) == -1)
			continue;
		repo = 0;
		pthread_mutex_lock(&g->s->lock);
		for (j = 0; j < l.n; j++) {
			e = l.v[j].name;
			if (l.v[j].type != DT_DIR)
				continue;
			if (e[0] == '_')
				repo = 1;
			else if (rg_component_valid(e, strlen(e)) && rg_path(sub,
			    sizeof(sub), "%s%s%s", name, *name ? "/" : "", e) == 0 &&
			    rg_dir_add(&g->next, sub, strlen(sub), DT_DIR) == -1)
				rg_nomem();
		}
		if (repo && *name && rg_dir_add(g->repos, name, strlen(name),
		    DT_DIR) == -1)
			rg_nomem();
		pthread_mutex_unlock(&g->s->lock);
		rg_dir_free(&l);
	}
}

static void
walk_parallel(struct rg_sweep *s, struct rg_dir *repos)
{
	struct walking g;

	memset(&g, 0, sizeof(g));
	g.s = s;
	g.repos = repos;
	if (rg_dir_add(&g.level, "", 0, DT_DIR) == -1)
		rg_nomem();
	while (g.level.n > 0) {
		g.i = 0;
		rg_pool_run(s->pool, walk_part, &g);
		rg_dir_free(&g.level);
		g.level = g.next;
		memset(&g.next, 0, sizeof(g.next));
	}
	rg_dir_free(&g.level);
}

void
rg_sweep_fresh(struct rg_sweep *s, rg_changed_fn *fn, void *arg)
{
	struct freshening g = { s, { NULL, 0, 0 }, 0, fn, arg };
	size_t i;

	if (s->scan_time < 0)
		return;
	if (s->pool != NULL)
		walk_parallel(s, &g.repos);
	else
		fresh_walk(s, "", &g.repos);
	if (s->pool != NULL)
		rg_pool_run(s->pool, fresh_part, &g);
	else
		for (i = 0; i < g.repos.n; i++)
			fresh_repo(s, g.repos.v[i].name, fn, arg);
	rg_dir_free(&g.repos);
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

	finish(s);
	if (s->dry_run)
		return RG_RM_DONE;
	if (rg_path(path, sizeof(path), "repositories/%s/_manifests/tags", repo) != 0)
		return failed(s, repo);
	if (count_with(s, path, "") > 0)
		return kept(s, "it has tags");
	if (rg_path(path, sizeof(path), "repositories/%s/_manifests/revisions/"
	    "sha256", repo) != 0)
		return failed(s, repo);
	if (count_with(s, path, "link") > 0)
		return kept(s, "it has manifests");
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (rg_path(path, sizeof(path), "repositories/%s/%s", repo, parts[i]) != 0)
			return failed(s, repo);
		if ((r = s->st->ops->remove(s->st, path, NULL)) == -1)
			return failed(s, path);
		removed += r == 0;
	}
	if (rg_path(path, sizeof(path), "repositories/%s", repo) != 0)
		return failed(s, repo);
	while (s->st->ops->rmdir(s->st, path) == 0 &&
	    (slash = strrchr(path, '/')) != NULL &&
	    slash > path + strlen("repositories"))
		*slash = '\0';
	s->why = removed ? NULL : "already deleted";
	return removed ? RG_RM_DONE : RG_RM_GONE;
}
