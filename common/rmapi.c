/*
 * rmapi.c: an approved plan carried out through the registry's API.
 *
 * Tags and manifests; apirm.c makes the requests.  A repository at a time:
 * its tags now (a HEAD each), against the scan.  A marked tag that points
 * elsewhere now stays; a marked manifest stays when a tag that is not
 * going points at it now, or when any such tag changed since the scan (it
 * may have brought an index that needs the manifest).  A manifest's DELETE
 * takes its tags with it; a tag whose manifest stays goes alone.  Memory:
 * the marked tags and manifests of one repository.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remove.h"

struct tagnow {
	struct rg_digest key;	/* sha256 of the name */
	size_t item;
	struct rg_digest now;	/* where it points now, if present */
	int present;
};

struct mannow {
	struct rg_digest key;	/* the manifest's digest */
	const char *keep;	/* why it stays, or NULL */
	char why[RG_TAG_MAX + 64];
	int res;		/* its outcome, for the tags it takes along */
	char *failed;		/* why its DELETE failed */
};

struct apirepo {
	const struct rg_rmplan *p;
	struct rg_dtab tags, mans;
	struct rg_digest keep;	/* the tags that stay, now: as rg_rmrepo's */
	uint32_t nkeep;
};

static void
tag_now(void *arg, const char *tag, const struct rg_digest *d)
{
	struct apirepo *c = arg;
	struct rg_digest k;
	struct tagnow *t;
	struct mannow *m;
	long i;

	rg_digest_of(tag, strlen(tag), &k);
	if ((i = rg_dtab_index(&c->tags, &k, 0)) != -1) {
		t = RG_DTAB_AT(&c->tags, i);
		t->now = *d;
		t->present = 1;
		if (rg_digest_cmp(d, &c->p->v[t->item].d) == 0)
			return;		/* as it was, and going */
	}
	rg_tagset_add(&c->keep, &c->nkeep, tag, d);
	if ((i = rg_dtab_index(&c->mans, d, 0)) != -1 &&
	    (m = RG_DTAB_AT(&c->mans, i))->keep == NULL) {
		if (rg_path(m->why, sizeof(m->why), "the tag %s points at it now",
		    tag) != 0)
			rg_path(m->why, sizeof(m->why), "a tag points at it now");
		m->keep = m->why;
	}
}

static struct tagnow *
tag_of(struct apirepo *c, const struct rg_rmitem *it)
{
	struct rg_digest key;

	rg_digest_of(it->key, strlen(it->key), &key);
	return RG_DTAB_AT(&c->tags, rg_dtab_index(&c->tags, &key, 0));
}

static struct mannow *
man_of(struct apirepo *c, const struct rg_digest *d)
{
	long i = rg_dtab_index(&c->mans, d, 0);

	return i == -1 ? NULL : RG_DTAB_AT(&c->mans, i);
}

/* the marked tags and manifests v[0..n) of one repository */
static void
api_repo(const struct rg_rmplan *p, struct rg_apirm *ar, const size_t *v,
    size_t n, rg_outcome_fn *fn, void *arg)
{
	struct rg_rmrepo *r = RG_RMREPO(p, p->v[v[0]].repo);
	struct apirepo c;
	struct tagnow *t;
	struct mannow *m;
	const struct rg_rmitem *it;
	const char *fail = NULL, *why;
	char whybuf[1100];
	size_t i, pass;
	long k;
	int res;

	memset(&c, 0, sizeof(c));
	c.p = p;
	if (rg_dtab_init(&c.tags, sizeof(struct tagnow), sizeof(struct rg_digest)) != 0 ||
	    rg_dtab_init(&c.mans, sizeof(struct mannow), sizeof(struct rg_digest)) != 0)
		rg_nomem();
	for (i = 0; i < n; i++) {
		it = &p->v[v[i]];
		if (it->kind == RG_OBJ_TAG) {
			struct rg_digest key;

			rg_digest_of(it->key, strlen(it->key), &key);
			if ((k = rg_dtab_index(&c.tags, &key, 1)) == -1)
				rg_nomem();
			((struct tagnow *)RG_DTAB_AT(&c.tags, k))->item = v[i];
		} else if (rg_dtab_index(&c.mans, &it->d, 1) == -1)
			rg_nomem();
	}
	if (rg_apirm_tags(ar, r->name, tag_now, &c) != 0 ||
	    rg_apirm_may_delete(ar, r->name) != 0)
		fail = ar->why;
	if (fail == NULL && (c.nkeep != r->nkeep ||
	    memcmp(&c.keep, &r->keep, sizeof(c.keep)) != 0))
		for (k = 0; k < (long)c.mans.n; k++)
			if ((m = RG_DTAB_AT(&c.mans, k))->keep == NULL)
				m->keep = "the repository's tags changed since the scan";

	for (i = 0; i < n; i++) {	/* tags whose manifest stays */
		it = &p->v[v[i]];
		if (fail != NULL) {
			fn(arg, it, RG_RM_FAILED, fail);
			continue;
		}
		if (it->kind != RG_OBJ_TAG)
			continue;
		t = tag_of(&c, it);
		m = man_of(&c, &it->d);
		if (!t->present) {
			why = "no such tag now";
			res = RG_RM_GONE;
		} else if (rg_digest_cmp(&t->now, &it->d) != 0) {
			why = "pushed since the scan: it points at another manifest now";
			res = RG_RM_KEPT;
		} else if (m != NULL && m->keep == NULL)
			continue;	/* its manifest's DELETE takes it */
		else {
			res = rg_apirm_tag(ar, r->name, it->key, &it->d);
			why = ar->why;
		}
		fn(arg, it, res, res == RG_RM_DONE ? NULL : why);
		if (res == RG_RM_DONE || res == RG_RM_GONE)
			r->tags_done++;
	}
	for (pass = 0; fail == NULL && pass < 2; pass++)	/* indexes first */
		for (i = 0; i < n; i++) {
			it = &p->v[v[i]];
			if (it->kind != RG_OBJ_MANIFEST || it->index != !pass)
				continue;
			m = man_of(&c, &it->d);
			if (m->keep != NULL) {
				why = m->keep;
				m->res = RG_RM_KEPT;
			} else {
				m->res = rg_apirm_manifest(ar, r->name, &it->d);
				why = ar->why;
			}
			if (m->res == RG_RM_FAILED && (m->failed = strdup(why)) == NULL)
				rg_nomem();
			fn(arg, it, m->res, m->res == RG_RM_DONE ? NULL : why);
		}
	for (i = 0; fail == NULL && i < n; i++) {	/* tags that went with it */
		it = &p->v[v[i]];
		if (it->kind != RG_OBJ_TAG || !(t = tag_of(&c, it))->present ||
		    rg_digest_cmp(&t->now, &it->d) != 0 ||
		    (m = man_of(&c, &it->d)) == NULL || m->keep != NULL)
			continue;
		why = NULL;
		if (m->res == RG_RM_FAILED) {
			if (rg_path(whybuf, sizeof(whybuf), "its manifest's DELETE "
			    "failed: %s", m->failed) != 0)
				rg_path(whybuf, sizeof(whybuf), "its manifest's "
				    "DELETE failed");
			why = whybuf;
		} else if (m->res == RG_RM_GONE)
			why = "its manifest is gone";
		fn(arg, it, m->res, why);
	}
	for (k = 0; k < (long)c.mans.n; k++)
		free(((struct mannow *)RG_DTAB_AT(&c.mans, k))->failed);
	rg_dtab_free(&c.tags);
	rg_dtab_free(&c.mans);
}

static const struct rg_rmplan *sorting;	/* for by_repo */

static int
by_repo(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint32_t rx = sorting->v[x].repo, ry = sorting->v[y].repo;

	if (rx != ry)
		return rx < ry ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The valid tags and manifests of p, a repository at a time. */
void
rg_rmapi_run(struct rg_rmplan *p, struct rg_apirm *ar, rg_outcome_fn *fn,
    void *arg)
{
	size_t *v, n = 0, i, j;

	if ((v = malloc((p->n + 1) * sizeof(*v))) == NULL)
		rg_nomem();
	for (i = 0; i < p->n; i++)
		if (p->v[i].valid && (p->v[i].kind == RG_OBJ_TAG ||
		    p->v[i].kind == RG_OBJ_MANIFEST))
			v[n++] = i;
	sorting = p;
	qsort(v, n, sizeof(*v), by_repo);
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && p->v[v[j]].repo == p->v[v[i]].repo; j++)
			;
		api_repo(p, ar, v + i, j - i, fn, arg);
	}
	free(v);
}
