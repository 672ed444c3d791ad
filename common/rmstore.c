/*
 * rmstore.c: an approved plan carried out on storage, in a safe order.
 *
 * The order keeps the registry consistent at every step: tags, then
 * manifests (indexes before their children; tag index entries, then the
 * revision link), layer links, blobs, uploads, and with prune the
 * repositories left empty.  sweep.c deletes each object, checking the
 * storage again.  What one object keeps, it keeps for what it needs: a
 * kept tag or manifest keeps its repository's manifests and layer links, a
 * kept manifest every blob, a kept layer link its blob.  With stop_cmd,
 * layer links and blobs go while the registry is stopped (the window).
 */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "remove.h"

struct run {
	struct rg_rmplan *p;
	struct rg_sweep *sw;
	struct rg_rmstore *o;
	rg_outcome_fn *fn;
	void *arg;
	const char *hold_blobs;		/* why no blob may go, or NULL */
	struct rg_dtab kept_links;	/* digests of layer links that stay */
	pthread_mutex_t lock;		/* fn, the above, with workers */
	/* a part done by the sweep's workers: the objects of one kind */
	void (*one)(struct run *, struct rg_sweep *, const struct rg_rmitem *);
	size_t *order, norder;		/* their indexes, a repository's together */
	size_t next;			/* the next not taken */
};

#define REPO(r, i)	RG_RMREPO((r)->p, i)

/* told to the caller: -1 it stays (kept, failed), 0 it is gone, 1 pending */
static int
outcome(struct run *r, const struct rg_rmitem *it, int res, const char *why)
{
	if (res != RG_RM_PENDING) {	/* told later, by settled() */
		pthread_mutex_lock(&r->lock);
		r->fn(r->arg, it, res, res == RG_RM_DONE ? NULL : why);
		pthread_mutex_unlock(&r->lock);
	}
	return res == RG_RM_FAILED || res == RG_RM_KEPT ? -1 :
	    res == RG_RM_PENDING ? 1 : 0;
}

/* res of the sweep sw (the run's, or a worker's) */
static int
swept(struct run *r, struct rg_sweep *sw, const struct rg_rmitem *it, int res)
{
	return outcome(r, it, res, sw->why);
}

static int
keep(struct run *r, const struct rg_rmitem *it, const char *why)
{
	return outcome(r, it, RG_RM_KEPT, why);
}

/* (a repository's objects of one kind are done by one worker at a time) */
static void
rm_tag(struct run *r, struct rg_sweep *sw, const struct rg_rmitem *it)
{
	struct rg_rmrepo *rp = REPO(r, it->repo);

	if (swept(r, sw, it, rg_sweep_tag(sw, rp->name, it->key,
	    it->has_digest ? &it->d : NULL)) == 0)
		rp->tags_done++;
	else
		rp->changed = 1;
}

static void
rm_manifest(struct run *r, struct rg_sweep *sw, const struct rg_rmitem *it)
{
	struct rg_rmrepo *rp = REPO(r, it->repo);
	int res;

	res = rp->changed ? keep(r, it, "repository changed since the scan") :
	    swept(r, sw, it, rg_sweep_manifest(sw, rp->name, &it->d,
	    (size_t)(it - r->p->v)));
	if (res == 0)
		rp->mans_done++;
	else if (res == -1) {
		rp->changed = 1;
		pthread_mutex_lock(&r->lock);
		r->hold_blobs = "a manifest of the plan was kept";
		pthread_mutex_unlock(&r->lock);
	}
}

/* A layer link that stays keeps its blob: a push may be using it. */
static void
rm_layer(struct run *r, struct rg_sweep *sw, const struct rg_rmitem *it)
{
	struct rg_rmrepo *rp = REPO(r, it->repo);
	int res;

	if (r->o->hold_cached != NULL)
		res = keep(r, it, r->o->hold_cached);
	else if (rp->changed)
		res = keep(r, it, "repository changed since the scan");
	else
		res = swept(r, sw, it, rg_sweep_layer(sw, rp->name, &it->d,
		    (size_t)(it - r->p->v)));
	pthread_mutex_lock(&r->lock);
	if (r->o->hold_cached != NULL)
		r->o->ncached++;
	if (res == -1 && rg_dtab_index(&r->kept_links, &it->d, 1) == -1)
		rg_nomem();
	pthread_mutex_unlock(&r->lock);
}

/* (no layer link, manifest or fresh walk changes what this reads meanwhile) */
static void
rm_blob(struct run *r, struct rg_sweep *sw, const struct rg_rmitem *it)
{
	if (r->o->hold_cached != NULL) {
		pthread_mutex_lock(&r->lock);
		r->o->ncached++;
		pthread_mutex_unlock(&r->lock);
		keep(r, it, r->o->hold_cached);
	} else if (r->sw->fresh_manifests)
		keep(r, it, "manifests pushed since the scan");
	else if (r->hold_blobs != NULL)
		keep(r, it, r->hold_blobs);
	else if (rg_dtab_index(&r->kept_links, &it->d, 0) != -1)
		keep(r, it, "a layer link to it stays");
	else
		swept(r, sw, it, rg_sweep_blob(sw, &it->d, (size_t)(it - r->p->v)));
}

/* the order of a part: by repository (a blob is its own), then as planned */
static int
by_repo(const void *a, const void *b, void *plan)
{
	const struct rg_rmitem *x = &((struct rg_rmplan *)plan)->v[*(const size_t *)a];
	const struct rg_rmitem *y = &((struct rg_rmplan *)plan)->v[*(const size_t *)b];

	if (x->repo != y->repo)
		return x->repo < y->repo ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 :
	    *(const size_t *)a > *(const size_t *)b;
}

/*
 * What sw set aside leaves the registry's sight (rg_sweep_flush): when
 * that failed, what it set aside of repository repo may still be there,
 * or be put back by the next run; what needs it is kept.
 */
static void
flush(struct run *r, struct rg_sweep *sw, uint32_t repo)
{
	if (rg_sweep_flush(sw) == 0)
		return;
	pthread_mutex_lock(&r->lock);
	if (repo != UINT32_MAX)
		REPO(r, repo)->changed = 1;
	r->hold_blobs = "a deletion failed";
	pthread_mutex_unlock(&r->lock);
}

/*
 * The next repository's objects of the part, by sw, until none is left,
 * each repository's flushed after it (blobs, each its own, at the end).
 */
static void
groups(struct run *r, struct rg_sweep *sw)
{
	size_t i, end;
	uint32_t repo;

	for (;;) {
		pthread_mutex_lock(&r->lock);
		i = r->next;
		for (end = i + 1; i < r->norder && end < r->norder && r->p->v[r->order[end]].repo !=
		    UINT32_MAX && r->p->v[r->order[end]].repo ==
		    r->p->v[r->order[i]].repo; end++)
			;
		if (i < r->norder)
			r->next = end;
		pthread_mutex_unlock(&r->lock);
		if (i >= r->norder)
			break;
		repo = r->p->v[r->order[i]].repo;
		for (; i < end; i++)
			r->one(r, sw, &r->p->v[r->order[i]]);
		if (repo != UINT32_MAX)
			flush(r, sw, repo);
	}
	flush(r, sw, UINT32_MAX);
}

/* worker k: groups() */
static void
part_worker(void *arg, int k)
{
	struct run *r = arg;
	struct rg_sweep *sw = &r->sw->w[k];

	groups(r, sw);
	rg_sweep_join(sw);
}

/*
 * The valid objects of kind (manifests: indexes, or not, as index says),
 * each by one(): in the plan's order by the run; or by repository, when
 * the store sets objects aside in batches (by the run) or there are
 * workers (by the sweep's workers, a repository at a time each).
 */
static void
part(struct run *r, int kind, int index,
    void (*one)(struct run *, struct rg_sweep *, const struct rg_rmitem *))
{
	int grouped = r->sw->pool != NULL || r->sw->st->ops->flush != NULL;
	size_t i;

	r->norder = 0;
	for (i = 0; i < r->p->n; i++)
		if (r->p->v[i].valid && r->p->v[i].kind == kind &&
		    (index == -1 || r->p->v[i].index == index)) {
			if (!grouped)
				one(r, r->sw, &r->p->v[i]);
			else
				r->order[r->norder++] = i;
		}
	if (r->norder == 0)
		return;
	qsort_r(r->order, r->norder, sizeof(*r->order), by_repo, r->p);
	r->one = one;
	r->next = 0;
	if (r->sw->pool != NULL)
		rg_pool_run(r->sw->pool, part_worker, r);
	else
		groups(r, r->sw);
}

/* what was pending, decided by rg_sweep_settle */
static void
settled(void *arg, size_t i, int res, const char *why)
{
	struct run *r = arg;
	const struct rg_rmitem *it = &r->p->v[i];

	if (outcome(r, it, res, why) == 0) {
		if (it->kind == RG_OBJ_MANIFEST)
			REPO(r, it->repo)->mans_done++;
	} else if (it->kind != RG_OBJ_BLOB)
		REPO(r, it->repo)->changed = 1;
}

/* a repository written since the scan */
static void
changed(void *arg, const char *name)
{
	struct run *r = arg;
	struct rg_digest k;
	long i;

	rg_digest_of(name, strlen(name), &k);
	if ((i = rg_dtab_index(&r->p->repos, &k, 0)) != -1)
		REPO(r, i)->changed = 1;
}

/* prune: the repositories whose tags and manifests all went, or had none */
static void
prune_repo(struct run *r, uint32_t i)
{
	struct rg_rmrepo *rp = REPO(r, i);
	struct rg_rmitem it;

	memset(&it, 0, sizeof(it));
	it.kind = RG_OBJ_REPO;
	it.valid = 1;
	it.repo = i;
	if (rp->changed || rp->tags != rp->tags_done || rp->mans != rp->mans_done)
		return;
	if (r->o->hold_cached != NULL)	/* its _layers may hold links */
		keep(r, &it, r->o->hold_cached);
	else
		swept(r, r->sw, &it, rg_sweep_prune(r->sw, rp->name));
}

/* An administrator's command (--stop, --start), through the shell: 0 when it succeeded. */
static int
shell(struct run *r, const char *what, const char *cmd)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	posix_spawnattr_t at;
	sigset_t none, dfl;
	pid_t pid;
	int st, e;

	if (fflush(stdout) == EOF) {	/* the audit log first */
		warn("stdout");
		if (strcmp(what, "stop") == 0) {
			r->o->failed = 1;
			return -1;	/* (a registry stopped is started) */
		}
	}
	/* through sh, as system(3) does, but without the secrets rg holds
	 * in its environment (the S3 keys, RG_PASSWORD), and with no signal
	 * held off: a registry --start starts must stop on SIGTERM later */
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGQUIT);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	e = posix_spawn(&pid, "/bin/sh", NULL, &at, argv, rg_env_safe());
	posix_spawnattr_destroy(&at);
	if (e != 0) {
		errno = e;
		st = -1;
	} else
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
	if (st == 0)
		return 0;
	if (st == -1)
		warn("--%s: %s", what, cmd);
	else if (WIFEXITED(st))
		warnx("--%s: %s: exit %d", what, cmd, WEXITSTATUS(st));
	else
		warnx("--%s: %s: killed by signal %d", what, cmd, WTERMSIG(st));
	r->o->failed = 1;
	return -1;
}

#define EACH(r, i, k)	for ((i) = 0; (i) < (r)->p->n; (i)++) \
	if ((r)->p->v[i].valid && (r)->p->v[i].kind == (k))

void
rg_rmstore_run(struct rg_rmplan *p, struct rg_sweep *sw, struct rg_rmstore *o,
    rg_outcome_fn *fn, void *arg)
{
	struct run r = { .p = p, .sw = sw, .o = o, .fn = fn, .arg = arg };
	size_t i, pass;
	int others = 0, window = 0;
	sigset_t sigs;

	if (rg_dtab_init(&r.kept_links, sizeof(struct rg_digest),
	    sizeof(struct rg_digest)) != 0)
		rg_nomem();
	pthread_mutex_init(&r.lock, NULL);
	if ((sw->pool != NULL || sw->st->ops->flush != NULL) &&
	    (r.order = calloc(p->n ? p->n : 1, sizeof(*r.order))) == NULL)
		rg_nomem();
	part(&r, RG_OBJ_TAG, -1, rm_tag);
	for (i = 0; i < p->n; i++)
		if (p->v[i].valid && p->v[i].kind != RG_OBJ_TAG)
			others = 1;
	if (others || o->prune)
		rg_sweep_fresh(sw, changed, &r);
	for (pass = 0; pass < 2; pass++)	/* indexes before their children */
		part(&r, RG_OBJ_MANIFEST, !pass, rm_manifest);
	if (o->stop_cmd != NULL && !o->dry_run && (others || o->prune)) {
		/*
		 * The window: SIGINT, SIGTERM and SIGHUP wait until the
		 * registry is started again; what it did until it stopped
		 * is looked at again.
		 */
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGINT);
		sigaddset(&sigs, SIGTERM);
		sigaddset(&sigs, SIGHUP);
		sigprocmask(SIG_BLOCK, &sigs, NULL);
		window = 1;
		if (shell(&r, "stop", o->stop_cmd) == 0)
			rg_sweep_fresh(sw, changed, &r);
		else
			o->hold_cached = "the registry could not be stopped (--stop)";
	}
	part(&r, RG_OBJ_LAYER, -1, rm_layer);
	part(&r, RG_OBJ_BLOB, -1, rm_blob);
	EACH(&r, i, RG_OBJ_UPLOAD)
		swept(&r, sw, &p->v[i], rg_sweep_upload(sw,
		    REPO(&r, p->v[i].repo)->name, p->v[i].key));
	rg_sweep_settle(sw, window ? 0 : RG_SETTLE, settled, &r);
	for (i = 0; o->prune && i < p->repos.n; i++)
		prune_repo(&r, (uint32_t)i);
	if (window) {
		shell(&r, "start", o->start_cmd);
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
	}
	rg_dtab_free(&r.kept_links);
	pthread_mutex_destroy(&r.lock);
	free(r.order);
}
