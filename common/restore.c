/*
 * restore.c: where rg-restore puts an object back, and is what it would
 * link whole in the storage now?
 *
 * An object's place comes from its record's fields, or from the path a
 * run's index names, which must be the place its own fields give: names
 * checked as the registry's grammar has them, nothing else followed.
 * A quarantine holds what one run deleted, not what a later run deleted:
 * a layer a held image shares with others stayed when the run deleted
 * the image, and may have gone since (a later run without quarantine, or
 * one whose quarantine has ended).  Putting back a link to content that
 * is not there would give the registry a broken image, so before a layer
 * link, a revision link or a tag goes back, what it needs is looked at in
 * the storage as it is: a layer link needs its blob's data; a manifest
 * needs its data, each blob it names linked in its repository with its
 * data, and each child manifest whole and linked; a tag, the manifest it
 * names whole and linked.  A dry run counts what it would put back as
 * there, and a manifest it would put back but cannot read yet as whole.
 * Memory: the manifests found whole and, in a dry run, the paths it would
 * put back (a string each).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remove.h"

static char *
sdup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL)
		rg_nomem();
	return p;
}

/* o's place from its fields: 0, or -1 when they are not valid */
int
rg_restobj_place(struct rg_restobj *o)
{
	char hex[RG_HEX_LEN + 1];
	int repo = o->repo != NULL && rg_repo_valid(o->repo);

	if (o->has_digest)
		rg_digest_hex(&o->d, hex);
	switch (o->kind) {
	case RG_OBJ_BLOB:
		return o->has_digest ? rg_path(o->path, sizeof(o->path),
		    "blobs/sha256/%.2s/%s", hex, hex) : -1;
	case RG_OBJ_LAYER:
		return o->has_digest && repo ? rg_path(o->path, sizeof(o->path),
		    "repositories/%s/_layers/sha256/%s", o->repo, hex) : -1;
	case RG_OBJ_MANIFEST:
		return o->has_digest && repo ? rg_path(o->path, sizeof(o->path),
		    "repositories/%s/_manifests/revisions/sha256/%s", o->repo,
		    hex) : -1;
	case RG_OBJ_TAG:
		return repo && o->key != NULL && rg_tag_valid(o->key) ?
		    rg_path(o->path, sizeof(o->path),
		    "repositories/%s/_manifests/tags/%s", o->repo, o->key) : -1;
	case RG_OBJ_UPLOAD:
		return repo && o->key != NULL && rg_upload_valid(o->key) ?
		    rg_path(o->path, sizeof(o->path),
		    "repositories/%s/_uploads/%s", o->repo, o->key) : -1;
	}
	return -1;
}

/*
 * o's kind and fields from path, an index's: 0, or -1 when path is not
 * the place those fields give (o's strings then for rg_restobj_clear).
 */
int
rg_restobj_parse(struct rg_restobj *o, const char *path)
{
	static const struct {
		const char *mark;
		int kind, digest;
	} forms[] = {
		{ "/_layers/sha256/", RG_OBJ_LAYER, 1 },
		{ "/_manifests/revisions/sha256/", RG_OBJ_MANIFEST, 1 },
		{ "/_manifests/tags/", RG_OBJ_TAG, 0 },
		{ "/_uploads/", RG_OBJ_UPLOAD, 0 },
	};
	const char *p, *rest;
	size_t i, n = strlen(path);

	if (n >= RG_STORE_PATH)
		return -1;
	if (strncmp(path, "blobs/sha256/", 13) == 0 && n >= 13 + RG_HEX_LEN) {
		o->kind = RG_OBJ_BLOB;
		o->has_digest = rg_hex_parse(path + n - RG_HEX_LEN, RG_HEX_LEN,
		    &o->d) == 0;
	} else if (strncmp(path, "repositories/", 13) == 0) {
		for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
			if ((p = strstr(path + 13, forms[i].mark)) != NULL)
				break;
		if (i == sizeof(forms) / sizeof(forms[0]))
			return -1;
		rest = p + strlen(forms[i].mark);
		o->kind = forms[i].kind;
		o->repo = sdup(path + 13, (size_t)(p - path - 13));
		if (forms[i].digest)
			o->has_digest = strlen(rest) == RG_HEX_LEN &&
			    rg_hex_parse(rest, RG_HEX_LEN, &o->d) == 0;
		else
			o->key = sdup(rest, strlen(rest));
	} else
		return -1;
	return rg_restobj_place(o) == 0 && strcmp(o->path, path) == 0 ? 0 : -1;
}

void
rg_restobj_clear(struct rg_restobj *o)
{
	free(o->run);
	free(o->repo);
	free(o->key);
	o->run = o->repo = o->key = NULL;
}

#define MANIFEST_MAX	(4 << 20)	/* the registry refuses larger manifests */
#define DEPTH_MAX	8		/* an index of indexes, this deep at most */

/* a dry run: path would be put back */
static int
would(const struct rg_whole *w, const char *path)
{
	return w->dry_run && rg_strset_has(&w->would, path);
}

/* The blob d's data there (or to be put back): 1, 0 not (why said), -1 (errno). */
static int
blob_there(struct rg_whole *w, const struct rg_digest *d)
{
	char path[RG_STORE_PATH], ds[RG_DIGEST_STRLEN + 1];
	struct rg_stat sst;

	if (rg_blob_path(d, path, sizeof(path)) != 0)
		return -1;
	*strrchr(path, '/') = '\0';	/* (the blob's directory) */
	if (would(w, path))
		return 1;
	if (rg_path(path + strlen(path), sizeof(path) - strlen(path), "/data") != 0)
		return -1;
	if (w->st->ops->stat(w->st, path, &sst) == 0)
		return 1;
	if (errno != ENOENT)
		return -1;
	rg_digest_format(d, ds);
	rg_msg(w->why, sizeof(w->why), "the data of blob %s is gone", ds);
	return 0;
}

/*
 * The link of kind ("_layers" or "_manifests/revisions") to d in repo
 * there: 1, 0 not (why said), -1 (errno).
 */
static int
link_there(struct rg_whole *w, const char *repo, const char *kind,
    const struct rg_digest *d)
{
	char path[RG_STORE_PATH], hex[RG_HEX_LEN + 1], ds[RG_DIGEST_STRLEN + 1];
	struct rg_digest got;
	size_t n;
	int r;

	rg_digest_hex(d, hex);
	if (rg_path(path, sizeof(path), "repositories/%s/%s/sha256/%s", repo,
	    kind, hex) != 0)
		return -1;
	if (would(w, path))
		return 1;
	n = strlen(path);
	if (rg_path(path + n, sizeof(path) - n, "/link") != 0)
		return -1;
	r = w->st->ops->link(w->st, path, &got, NULL);
	if (r == RG_LINK_OK && memcmp(&got, d, sizeof(got)) == 0)
		return 1;
	if (r == RG_LINK_IOERR)
		return -1;
	rg_digest_format(d, ds);
	rg_msg(w->why, sizeof(w->why), "%s of %s in %s is gone", kind[1] == 'l' ?
	    "the layer link" : "the revision link", ds, repo);
	return 0;
}

static int
manifest(struct rg_whole *w, const char *repo, const struct rg_digest *d,
    int linked, int depth)
{
	char path[RG_STORE_PATH], key[RG_REPO_MAX + RG_HEX_LEN + 2];
	char hex[RG_HEX_LEN + 1], ds[RG_DIGEST_STRLEN + 1], perr[128];
	struct rg_manifest m;
	char *buf;
	size_t len, i;
	int r;

	rg_digest_hex(d, hex);
	rg_digest_format(d, ds);
	if (rg_path(key, sizeof(key), "%s@%s", repo, hex) != 0)
		return -1;
	if (linked && (r = link_there(w, repo, "_manifests/revisions", d)) != 1)
		return r;
	if (rg_strset_has(&w->ok, key))
		return 1;
	if (depth > DEPTH_MAX) {
		rg_msg(w->why, sizeof(w->why), "%s: indexes nested deeper than %d",
		    ds, DEPTH_MAX);
		return 0;
	}
	if ((r = blob_there(w, d)) != 1)
		return r;
	if (rg_blob_path(d, path, sizeof(path)) != 0)
		return -1;
	if (w->st->ops->read(w->st, path, MANIFEST_MAX, &buf, &len) == -1)
		return errno == ENOENT && w->dry_run ? 1 : -1;	/* (to be put back) */
	r = rg_manifest_parse(buf, len, &m, perr, sizeof(perr));
	free(buf);
	if (r != 0) {
		rg_msg(w->why, sizeof(w->why), "manifest %s does not parse: %s",
		    ds, perr);
		return 0;
	}
	r = 1;
	for (i = 0; r == 1 && i < m.blobs.n; i++)
		if ((r = link_there(w, repo, "_layers", &m.blobs.v[i].digest)) == 1)
			r = blob_there(w, &m.blobs.v[i].digest);
	for (i = 0; r == 1 && i < m.children.n; i++)
		r = manifest(w, repo, &m.children.v[i].digest, 1, depth + 1);
	rg_manifest_free(&m);
	if (r == 1 && rg_strset_add(&w->ok, key) == -1)
		rg_nomem();
	return r;
}

int
rg_whole_manifest(struct rg_whole *w, const char *repo,
    const struct rg_digest *d, int linked)
{
	w->why[0] = '\0';
	return manifest(w, repo, d, linked, 0);
}

int
rg_whole_layer(struct rg_whole *w, const struct rg_digest *d)
{
	w->why[0] = '\0';
	return blob_there(w, d);
}

/* A dry run: path would be put back; later looks count it there. */
void
rg_whole_would(struct rg_whole *w, const char *path)
{
	if (w->dry_run && rg_strset_add(&w->would, path) == -1)
		rg_nomem();
}

void
rg_whole_free(struct rg_whole *w)
{
	rg_strset_free(&w->ok);
	rg_strset_free(&w->would);
}
