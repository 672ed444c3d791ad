/*
 * sweeping.h: what the sweep's three files share, and nobody else needs.
 *
 * sweep.c checks and moves each object, settle.c decides what was moved,
 * fresh.c sees what the registry wrote meanwhile; store.h has the sweep's
 * interface (struct rg_sweep, rg_sweep_*).
 */
#ifndef RG_SWEEPING_H
#define RG_SWEEPING_H

#include <pthread.h>

#include "store.h"

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

static inline int
rg_same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* written at or after the scan (unknown scan time: nothing is) */
static inline int
rg_since_scan(const struct rg_sweep *s, time_t t)
{
	return s->scan_time >= 0 && t >= s->scan_time;
}

/*
 * The next of the indexes a part hands its workers (*next, counted up
 * under the run's lock): each worker loops until it passes the end.
 */
static inline size_t
rg_sweep_next(struct rg_sweep *s, size_t *next)
{
	size_t i;

	pthread_mutex_lock(&s->run->lock);
	i = (*next)++;
	pthread_mutex_unlock(&s->run->lock);
	return i;
}

/* sweep.c: an object's result, its reason in s->why */
int	rg_sweep_failed(struct rg_sweep *s, const char *path);
int	rg_sweep_kept(struct rg_sweep *s, const char *why);
int	rg_sweep_cache_failed(struct rg_sweep *s);
void	rg_sweep_finish(struct rg_sweep *s);

/* fresh.c: a repository's revisions/sha256, and what came since the scan */
int	rg_fresh_open(struct rg_sweep *s);
void	rg_fresh_close(struct rg_sweep *s);
int	rg_revisions_stat(struct rg_sweep *s, const char *repo, struct rg_stat *st);
int	rg_revisions_seen(struct rg_sweep *s, const char *repo, struct rg_stat *st,
	    int again);
void	rg_revisions_ours(struct rg_sweep *s, const char *repo);
int	rg_revisions_new(struct rg_sweep *s, const char *repo,
	    const struct rg_stat *st);
int	rg_named_since_scan(struct rg_sweep *s, const char *repo,
	    const struct rg_digest *d);
int	rg_written_since(struct rg_sweep *s, const char *path, time_t t);

#endif
