/*
 * fresh.c: what the registry wrote since the scan, for the sweep.
 *
 * The links of every repository written since the scan (rg_sweep_fresh),
 * and each repository's revisions/sha256 directory as rg-rm itself left
 * it, so that a manifest pushed meanwhile is told from rg-rm's own change.
 * A push rg-rm cannot stop may land at any moment: sweep.c asks before
 * each object moves, settle.c once more before any goes for good.  Memory:
 * the digests linked since the scan, and the names of the repositories
 * changed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sweeping.h"

#define PATH_BUF	RG_SWEEP_PATH

struct revdir {
	struct rg_digest key;		/* sha256 of the repository's name */
	struct timespec mtim;		/* its revisions/sha256 after our last change */
};

/* the run's tables of what changed: 0, or -1 (no memory) */
int
rg_fresh_open(struct rg_sweep *s)
{
	return rg_dtab_init(&s->fresh, sizeof(struct rg_digest),
	    sizeof(struct rg_digest)) != 0 ||
	    rg_dtab_init(&s->fresh_mans, sizeof(struct rg_digest),
	    sizeof(struct rg_digest)) != 0 ||
	    rg_dtab_init(&s->revdirs, sizeof(struct revdir),
	    sizeof(struct rg_digest)) != 0 ? -1 : 0;
}

void
rg_fresh_close(struct rg_sweep *s)
{
	rg_dtab_free(&s->fresh);
	rg_dtab_free(&s->fresh_mans);
	rg_dtab_free(&s->revdirs);
	rg_strset_free(&s->fresh_repos);
	rg_strset_free(&s->fresh_unknown);
}

/* the repository's revisions/sha256 directory: a new manifest changes it */
int
rg_revisions_stat(struct rg_sweep *s, const char *repo, struct rg_stat *st)
{
	char path[PATH_BUF];

	memset(st, 0, sizeof(*st));
	return rg_path(path, sizeof(path), "repositories/%s/_manifests/revisions/"
	    "sha256", repo) == 0 ? s->st->ops->stat(s->st, path, st) : -1;
}

/*
 * rg_revisions_stat, taken once for the layer links of one repository in a
 * row: compared later with what is there then, an earlier look only puts
 * back more (and a manifest written meanwhile is seen at the settle, as
 * one written since the scan).  again: forget it (a manifest of ours
 * went meanwhile).
 */
int
rg_revisions_seen(struct rg_sweep *s, const char *repo, struct rg_stat *st, int again)
{
	if (again || s->seen_repo == NULL || strcmp(s->seen_repo, repo) != 0) {
		free(s->seen_repo);
		s->seen_repo = NULL;
		if (again)
			return 0;
		if ((s->seen_repo = strdup(repo)) == NULL)
			rg_nomem();
		s->seen_r = rg_revisions_stat(s, repo, &s->seen);
	}
	*st = s->seen;
	return s->seen_r;
}

/* rg-rm's own change to repo's revisions/sha256: remembered, as not a push */
void
rg_revisions_ours(struct rg_sweep *s, const char *repo)
{
	struct rg_digest k;
	struct rg_stat st;
	long i;

	rg_revisions_seen(s, NULL, NULL, 1);
	rg_digest_of(repo, strlen(repo), &k);
	if (rg_revisions_stat(s, repo, &st) != 0)
		st.mtime = (struct timespec){ 0, 0 };
	pthread_mutex_lock(&s->run->lock);
	if ((i = rg_dtab_index(&s->run->revdirs, &k, 1)) == -1)
		rg_nomem();
	((struct revdir *)RG_DTAB_AT(&s->run->revdirs, i))->mtim = st.mtime;
	pthread_mutex_unlock(&s->run->lock);
}

/* Did a manifest come to repo since the scan (or since rg-rm's own change)? */
int
rg_revisions_new(struct rg_sweep *s, const char *repo, const struct rg_stat *st)
{
	struct rg_digest k;
	struct timespec ours;
	long i;

	rg_digest_of(repo, strlen(repo), &k);
	pthread_mutex_lock(&s->run->lock);
	if ((i = rg_dtab_index(&s->run->revdirs, &k, 0)) != -1)
		ours = ((struct revdir *)RG_DTAB_AT(&s->run->revdirs, i))->mtim;
	pthread_mutex_unlock(&s->run->lock);
	return i != -1 ? !rg_same_time(&ours, &st->mtime) :
	    rg_since_scan(s, st->mtime.tv_sec);
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
int
rg_written_since(struct rg_sweep *s, const char *path, time_t t)
{
	struct since w = { t, 0 };

	s->st->ops->each(s->st, path, "", is_since, &w);
	return w.found;
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

	if (err != ENAMETOOLONG && (st == NULL || !rg_since_scan(s, st->mtime.tv_sec)))
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
	    name) != 0 || rg_written_since(s, path, s->scan_time)) {
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

/* the repositories of g, each looked at by the next worker free */
static void
fresh_part(void *arg, int k)
{
	struct freshening *g = arg;
	size_t i;

	(void)k;	/* (the store knows each thread's connection) */
	while ((i = rg_sweep_next(g->s, &g->next)) < g->repos.n)
		fresh_repo(g->s, g->repos.v[i].name, g->fn, g->arg);
}

/*
 * The walk, a level of the repositories' tree at a time (by the workers,
 * when there are): each lists the next directory of the level, its
 * sub-directories go to the next level, and it is a repository when one
 * of them begins with _.
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
	while ((i = rg_sweep_next(g->s, &g->i)) < g->level.n) {
		name = g->level.v[i].name;
		if (rg_path(path, sizeof(path), "repositories%s%s", *name ? "/" : "",
		    name) != 0 || g->s->st->ops->list(g->s->st, path, &l) == -1)
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

/* every repository below repositories/, into repos */
static void
walk(struct rg_sweep *s, struct rg_dir *repos)
{
	struct walking g;

	memset(&g, 0, sizeof(g));
	g.s = s;
	g.repos = repos;
	if (rg_dir_add(&g.level, "", 0, DT_DIR) == -1)
		rg_nomem();
	while (g.level.n > 0) {
		g.i = 0;
		if (s->pool != NULL)
			rg_pool_run(s->pool, walk_part, &g);
		else
			walk_part(&g, 0);
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

	if (s->scan_time < 0)
		return;
	walk(s, &g.repos);
	if (s->pool != NULL)
		rg_pool_run(s->pool, fresh_part, &g);
	else
		fresh_part(&g, 0);
	rg_dir_free(&g.repos);
}

/* Does a revision or tag of repo written since the scan name d (or may it)? */
int
rg_named_since_scan(struct rg_sweep *s, const char *repo, const struct rg_digest *d)
{
	struct rg_digest k;

	return rg_strset_has(&s->fresh_unknown, repo) || man_key(repo, d, &k) != 0 ||
	    rg_dtab_index(&s->fresh_mans, &k, 0) != -1;
}
