/*
 * settle.c: what the sweep moved into pending, decided and carried out.
 *
 * rg_sweep_settle: once pushes in flight have landed, the storage is
 * looked at again, and each object comes back where a push needs it, or
 * goes for good, its record written as it goes.  The decision is made for
 * all before anything moves back, since one object coming back can bring
 * others (a manifest brings its repository's layer links, a layer link its
 * blob).  With workers, repositories are looked at and objects carried out
 * by them, a few at a time, or a store's batch at a time.  Memory: what
 * the run set aside (sweep.c), and a table of the repositories looked at
 * again.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redis.h"
#include "sweeping.h"

static void
no_repo(void *arg, const char *repo)
{
	(void)arg;
	(void)repo;
}

static int
same_file(const struct rg_stat *a, const struct rg_stat *b)
{
	return a->id == b->id && rg_same_time(&a->mtime, &b->mtime) &&
	    rg_same_time(&a->ctime, &b->ctime);
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
			p->r = rg_sweep_failed(w, p->path);
		else
			p->r = rg_sweep_kept(w, why);
	} else if ((r = finalled != NULL ? *finalled :
	    w->st->ops->final(w->st, p->name)) == -1)
		p->r = rg_sweep_failed(w, p->path);
	else if (r == 1)
		p->r = rg_sweep_kept(w, "written again as it was deleted");
	else if ((p->gone = 1) && w->redis != NULL && p->kind != P_MANIFEST &&
	    (p->kind == P_LAYER ? rg_redis_forget_link(w->redis, p->repo, &p->d) :
	    rg_redis_forget_blob(w->redis, &p->d)) != 0)
		p->r = rg_sweep_cache_failed(w);
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
		e->r = rg_revisions_stat(s, repo, &e->st);
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
	while ((i = rg_sweep_next(g->s, &g->next)) < g->n) {
		e = RG_DTAB_AT(g->t, g->at[i]);
		e->r = rg_revisions_stat(g->s, g->repos[i], &e->st);
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


/*
 * Which pending objects come back, decided for all before any moves.  A
 * manifest comes back when its revision link changed, or a revision or
 * tag written since the scan names it (the registry's write landed where
 * it was, or, on S3, between the copy and the delete that moved it);
 * every layer link of its repository comes back with it.  A layer link
 * comes back when a manifest came to its repository (since the scan: a
 * push that checked the link before it went may have written its
 * manifest before rg-rm looked); a blob, when it was linked since the
 * scan, when its layer link came back, or, all_blobs, when any manifest
 * was pushed or came back.
 */
struct deciding {
	struct rg_strset back_repos;	/* with a manifest back */
	struct rg_dtab back_blobs;	/* of the layer links back */
	struct rg_dtab seen_now;	/* revisions/sha256 now, of struct seen_now */
	int all_blobs;
};

static void
decide_manifests(struct rg_sweep *s, struct deciding *c)
{
	struct rg_swpend *p;
	struct rg_stat now;
	size_t i;

	for (i = 0; i < s->npend; i++) {
		p = &s->pend[i];
		if (p->kind == P_MANIFEST) {
			p->back = (p->before.id != 0 && (s->st->ops->pend_stat(s->st,
			    p->name, "link", &now) != 0 || !same_file(&p->before,
			    &now))) || rg_named_since_scan(s, p->repo, &p->d);
		} else if (p->kind == P_LAYER)
			p->back = rg_strset_has(&s->fresh_repos, p->repo) ||
			    revisions_now(s, &c->seen_now, p->repo, &now) != 0 ||
			    !rg_same_time(&p->before.mtime, &now.mtime) ||
			    !rg_same_time(&p->before.ctime, &now.ctime);
		if (p->back && p->kind == P_MANIFEST) {
			c->all_blobs = 1;
			if (rg_strset_add(&c->back_repos, p->repo) == -1)
				rg_nomem();
		}
	}
}

static void
decide_layers(struct rg_sweep *s, struct deciding *c)
{
	struct rg_swpend *p;
	size_t i;

	for (i = 0; i < s->npend; i++) {
		p = &s->pend[i];
		if (p->kind == P_LAYER && !p->back)
			p->back = rg_strset_has(&c->back_repos, p->repo);
		if (p->kind == P_LAYER && p->back &&
		    rg_dtab_index(&c->back_blobs, &p->d, 1) == -1)
			rg_nomem();
	}
}

static void
decide_blobs(struct rg_sweep *s, struct deciding *c)
{
	struct rg_swpend *p;
	size_t i;

	for (i = 0; i < s->npend; i++) {
		p = &s->pend[i];
		if (p->kind == P_BLOB)
			p->back = c->all_blobs || rg_dtab_index(&s->fresh, &p->d,
			    0) != -1 || rg_dtab_index(&c->back_blobs, &p->d, 0) != -1;
	}
}

static void
decide(struct rg_sweep *s, int all_blobs)
{
	struct deciding c;

	memset(&c, 0, sizeof(c));
	c.all_blobs = all_blobs;
	if (rg_dtab_init(&c.back_blobs, sizeof(struct rg_digest),
	    sizeof(struct rg_digest)) != 0 || rg_dtab_init(&c.seen_now,
	    sizeof(struct seen_now), sizeof(struct rg_digest)) != 0)
		rg_nomem();
	revisions_all(s, &c.seen_now);
	decide_manifests(s, &c);
	decide_layers(s, &c);
	decide_blobs(s, &c);
	rg_strset_free(&c.back_repos);
	rg_dtab_free(&c.back_blobs);
	rg_dtab_free(&c.seen_now);
}

/*
 * How many pending objects from i on are carried out together: chunk
 * (the rest, in no batch), or whole batches, as many as a chunk holds,
 * one at least, their numbers into batches[*nb].
 */
static size_t
next_chunk(struct rg_sweep *s, size_t i, size_t chunk, unsigned long *batches,
    size_t *nb)
{
	size_t n, m;
	unsigned long b;

	*nb = 0;
	if (s->pend[i].batch == 0) {
		for (n = 1; i + n < s->npend && n < chunk; n++)
			;
		return n;
	}
	for (n = 0; i + n < s->npend && s->pend[i + n].batch != 0; n += m) {
		b = s->pend[i + n].batch;
		for (m = 1; i + n + m < s->npend && s->pend[i + n + m].batch == b; m++)
			;
		if (n > 0 && n + m > chunk)
			break;
		batches[(*nb)++] = b;
	}
	return n;
}

/* what went of pend[from, to) could not be told done: failed, the next run puts it back */
static void
journal_stays(struct rg_sweep *s, size_t from, size_t to)
{
	size_t j;

	for (j = from; j < to; j++) {
		if (!s->pend[j].gone)
			continue;
		s->pend[j].gone = 0;
		s->pend[j].r = RG_RM_FAILED;
		free(s->pend[j].why);
		if ((s->pend[j].why = strdup("its journal in pending could not "
		    "be deleted: the next run puts it back")) == NULL)
			rg_nomem();
	}
}

/* the records of pend[from, to), each then dropped for good when gone */
static void
told(struct rg_sweep *s, size_t from, size_t to, rg_settled_fn *fn, void *arg)
{
	struct rg_swpend *p;
	size_t j;

	for (j = from; j < to; j++) {
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

/*
 * Carried out a few at a time (with workers, PER_JOB for each, all at
 * once), or a store's batch at a time (batch_done after it), their
 * records written as each few are done: a run killed meanwhile leaves at
 * most that many gone without a record.
 */
static void
carry_out(struct rg_sweep *s, rg_settled_fn *fn, void *arg)
{
	size_t i, n, nb, chunk;
	unsigned long *batches;

	chunk = s->pool != NULL ? (size_t)s->jobs * PER_JOB : 1;
	if (s->st->ops->batch != NULL) {
		for (i = 0; i < s->npend; i++)
			s->pend[i].batch = s->st->ops->batch(s->st, s->pend[i].name);
		qsort(s->pend, s->npend, sizeof(*s->pend), by_batch);
	}
	if ((batches = calloc(chunk + 1, sizeof(*batches))) == NULL)
		rg_nomem();
	for (i = 0; i < s->npend; i += n) {
		n = next_chunk(s, i, chunk, batches, &nb);
		settle_chunk(s, i, i + n);
		if (nb > 0 && s->st->ops->batch_done(s->st, batches, nb) == -1)
			journal_stays(s, i, i + n);
		told(s, i, i + n, fn, arg);
	}
	free(batches);
}

/*
 * What is pending, decided: after settle seconds (pushes in flight land),
 * the storage is looked at again (rg_sweep_fresh, then decide); what
 * comes back is put back, the rest goes for good.  fn hears of each
 * object, in the order they were moved (a store's batches together).
 */
void
rg_sweep_settle(struct rg_sweep *s, unsigned settle, rg_settled_fn *fn, void *arg)
{
	int fm = s->fresh_manifests, all_blobs;

	rg_sweep_finish(s);
	rg_sweep_flush(s);	/* (a failure: each failed at its settle) */
	if (s->npend == 0)
		return;
	if (settle > 0)
		sleep(settle);
	rg_revisions_seen(s, NULL, NULL, 1);	/* looked at anew */
	s->fresh_manifests = 0;
	rg_sweep_fresh(s, no_repo, NULL);
	all_blobs = s->fresh_manifests;
	s->fresh_manifests |= fm;
	decide(s, all_blobs);
	carry_out(s, fn, arg);
	s->npend = 0;
}
