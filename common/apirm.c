/*
 * apirm.c: deletions through a registry's HTTP API, for rg-rm.
 *
 * What a repository holds now (its tags and the digest each points at),
 * whether the registry lets us delete there, a manifest's DELETE by
 * digest, and the deletion of one tag that leaves alone every other tag on
 * the same manifest: DELETE by tag where the registry has it (distribution
 * v3, most hosted registries), else the tag is pointed at a small manifest
 * made for the purpose, unique, and that manifest's digest is deleted (a
 * DELETE by digest takes every tag pointing at it: distribution #2317).
 * Should that last DELETE fail, the tag is put back.  Results as
 * common/sweep.c's: RG_RM_DONE, GONE, KEPT or FAILED with a->why.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "http.h"

#define ACCEPT	RG_MT_OCI_INDEX ", " RG_MT_OCI ", " RG_MT_DOCKER_LIST ", " \
		RG_MT_DOCKER ", " RG_MT_SCHEMA1_SIGNED ", " RG_MT_SCHEMA1
/* the OCI empty descriptor's blob, "{}": the placeholder's config */
#define EMPTY_DIGEST	"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define EMPTY_TYPE	"application/vnd.oci.empty.v1+json"

static int
failed(struct rg_apirm *a, const char *what, long code,
    const struct rg_http_resp *r)
{
	char c[64];

	if (code < 0)
		rg_msg(a->whybuf, sizeof(a->whybuf), "%s: %s", what, r->error);
	else if (*rg_http_error_code(&a->body, c, sizeof(c)))
		rg_msg(a->whybuf, sizeof(a->whybuf), "%s: HTTP %ld %s%s", what,
		    code, c, strcmp(c, "UNSUPPORTED") == 0 && code == 405 ?
		    " (the registry has deletes turned off: storage.delete.enabled)" :
		    "");
	else
		rg_msg(a->whybuf, sizeof(a->whybuf), "%s: HTTP %ld", what, code);
	a->why = a->whybuf;
	return RG_RM_FAILED;
}

/* A request's path, checked: RG_RM_FAILED (a->why says) when it does not fit. */
static int
api_path(struct rg_apirm *a, char *buf, size_t size, const char *repo,
    const char *what, const char *ref)
{
	if (rg_path(buf, size, "/v2/%s/%s%s", repo, what, ref) == 0)
		return 0;
	a->why = "the request's path is too long";
	return RG_RM_FAILED;
}

int
rg_apirm_open(struct rg_apirm *a, const char *url, const struct rg_http_opts *o,
    int dry_run)
{
	memset(a, 0, sizeof(*a));
	a->dry_run = dry_run;
	a->tag_delete = -1;
	a->url = url;
	if (rg_url_userinfo(url)) {
		warnx("the stream's root: %s", RG_URL_USERINFO);
		return -1;
	}
	if (rg_http_global_init() != 0)
		return -1;
	return rg_http_init(&a->h, url, o);
}

void
rg_apirm_close(struct rg_apirm *a)
{
	rg_http_free(&a->h);
	rg_buf_free(&a->body);
}

/* The digest repo:ref points at now: 0, 1 when there is no such tag, -1 (a->why). */
static int
head(struct rg_apirm *a, const char *repo, const char *ref, struct rg_digest *d)
{
	char path[RG_REPO_MAX + RG_TAG_MAX + 32];
	struct rg_http_resp r;
	long code;

	if (api_path(a, path, sizeof(path), repo, "manifests/", ref) != 0)
		return -1;
	code = rg_http_req(&a->h, "HEAD", path, ACCEPT, NULL, NULL, 0, &a->body, &r);
	if (code == 404)
		return 1;
	if (code != 200) {
		failed(a, path, code, &r);
		return -1;
	}
	if (rg_digest_parse(r.digest, strlen(r.digest), d) != 0) {
		rg_msg(a->whybuf, sizeof(a->whybuf), "%s: no Docker-Content-Digest "
		    "in the answer", path);
		a->why = a->whybuf;
		return -1;
	}
	return 0;
}

/*
 * The tags of repo now and what each points at: fn(arg, tag, digest) for
 * each.  0, or -1 with a->why.  One HEAD a tag: the tags list alone does
 * not say where they point.
 */
int
rg_apirm_tags(struct rg_apirm *a, const char *repo, rg_apirm_tag_fn *fn, void *arg)
{
	char failed_path[RG_REPO_MAX + 1200];
	struct rg_http_resp r;
	struct rg_digest d;
	char **tags = NULL;
	size_t n = 0, bad = 0, pages, i;
	long code;
	int rc = 0;

	code = rg_api_tags(&a->h, repo, 1000, &tags, &n, &bad, &pages, &a->body,
	    &r, failed_path, sizeof(failed_path));
	if (code == 404)	/* NAME_UNKNOWN: the repository has no tags left */
		code = 200;
	if (code != 200) {
		failed(a, failed_path, code, &r);
		rc = -1;
	}
	for (i = 0; i < n; i++) {
		if (rc == 0) {
			switch (head(a, repo, tags[i], &d)) {
			case 0:
				fn(arg, tags[i], &d);
				break;
			case -1:
				rc = -1;
				break;
			}	/* 1: deleted since the list was read */
		}
		free(tags[i]);
	}
	free(tags);
	if (rc == 0 && bad > 0) {
		rg_msg(a->whybuf, sizeof(a->whybuf), "%.700s: %zu tags whose names "
		    "are not valid", failed_path, bad);
		a->why = a->whybuf;
		return -1;	/* where they point is unknown */
	}
	return rc;
}

/*
 * May we delete in repo?  A DELETE of a digest no manifest has: 404 says
 * yes, 405 UNSUPPORTED that the registry has deletes turned off, 401/403
 * that our credentials may not.  Sent on a dry run too (it changes
 * nothing), so that the dry run fails where the real one would.
 */
int
rg_apirm_may_delete(struct rg_apirm *a, const char *repo)
{
	char path[RG_REPO_MAX + 128];
	struct rg_http_resp r;
	long code;

	if (api_path(a, path, sizeof(path), repo, "manifests/", "sha256:"
	    "0000000000000000000000000000000000000000000000000000000000000000") != 0)
		return -1;
	code = rg_http_req(&a->h, "DELETE", path, NULL, NULL, NULL, 0, &a->body, &r);
	if (code == 404 || code == 202)
		return 0;
	failed(a, "a trial DELETE", code, &r);
	return -1;
}

/* DELETE repo's manifest d: it takes every tag that points at it. */
int
rg_apirm_manifest(struct rg_apirm *a, const char *repo, const struct rg_digest *d)
{
	char path[RG_REPO_MAX + 128], ds[RG_DIGEST_STRLEN + 1];
	struct rg_http_resp r;
	long code;

	if (a->dry_run)
		return RG_RM_DONE;
	rg_digest_format(d, ds);
	if (api_path(a, path, sizeof(path), repo, "manifests/", ds) != 0)
		return RG_RM_FAILED;
	code = rg_http_req(&a->h, "DELETE", path, NULL, NULL, NULL, 0, &a->body, &r);
	if (code == 202 || code == 200 || code == 204)
		return RG_RM_DONE;
	if (code == 404) {
		a->why = "no such manifest now";
		return RG_RM_GONE;
	}
	return failed(a, path, code, &r);
}

/* The empty config blob in repo: there already, or uploaded. */
static int
empty_blob(struct rg_apirm *a, const char *repo)
{
	char path[RG_REPO_MAX + 128], put[sizeof(((struct rg_http_resp *)0)->location) + 100];
	struct rg_http_resp r;
	long code;

	if (api_path(a, path, sizeof(path), repo, "blobs/", EMPTY_DIGEST) != 0)
		return RG_RM_FAILED;
	if ((code = rg_http_req(&a->h, "HEAD", path, NULL, NULL, NULL, 0,
	    &a->body, &r)) == 200)
		return 0;
	if (api_path(a, path, sizeof(path), repo, "blobs/uploads/", "") != 0)
		return RG_RM_FAILED;
	if ((code = rg_http_req(&a->h, "POST", path, NULL, NULL, NULL, 0, &a->body,
	    &r)) != 202 || r.location[0] == '\0')
		return failed(a, "the placeholder's config: upload", code, &r);
	if (rg_path(put, sizeof(put), "%s%sdigest=%s", r.location,
	    strchr(r.location, '?') ? "&" : "?", EMPTY_DIGEST) != 0) {
		a->why = "the placeholder's config: the upload's location is too long";
		return RG_RM_FAILED;
	}
	if ((code = rg_http_req(&a->h, "PUT", put, NULL, "application/octet-stream",
	    "{}", 2, &a->body, &r)) != 201)
		return failed(a, "the placeholder's config: upload", code, &r);
	return 0;
}

/*
 * Put back repo:tag as the manifest body it had, of media type mt;
 * adds to a->why what became of the tag.
 */
static void
restore(struct rg_apirm *a, const char *repo, const char *tag,
    const struct rg_buf *was, const char *mt, const char *placeholder)
{
	char path[RG_REPO_MAX + RG_TAG_MAX + 32], why[sizeof(a->whybuf)];
	struct rg_http_resp r;
	long code;

	rg_msg(why, sizeof(why), "%s", a->why);
	code = api_path(a, path, sizeof(path), repo, "manifests/", tag) != 0 ? -1 :
	    rg_http_req(&a->h, "PUT", path, NULL, mt, was->p, was->len, &a->body, &r);
	if (code == 201)
		rg_msg(a->whybuf, sizeof(a->whybuf), "%.700s; the tag was put back",
		    why);
	else
		rg_msg(a->whybuf, sizeof(a->whybuf), "%.700s; the tag points at the "
		    "placeholder %s and could not be put back (HTTP %ld): its image "
		    "is still there by digest", why, placeholder, code);
	a->why = a->whybuf;
}

/*
 * A small OCI manifest made for the purpose, unique: its config the empty
 * blob, no layers, random bytes in its annotations.  Into man (size
 * bytes); its length, and its digest in *d.
 */
static int
placeholder(struct rg_apirm *a, const char *what, char *man, size_t size,
    struct rg_digest *d)
{
	unsigned char raw[16];
	char rnd[33];
	int len, i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		a->why = "no random bytes for a placeholder manifest";
		return -1;
	}
	for (i = 0; i < 16; i++)
		sprintf(rnd + 2 * i, "%02x", raw[i]);
	len = snprintf(man, size, "{\"schemaVersion\":2,\"mediaType\":\"%s\","
	    "\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":2},"
	    "\"layers\":[],\"annotations\":{\"org.opencontainers.image.description\":"
	    "\"rg-rm placeholder: %s\",\"rg.placeholder\":\"%s\"}}",
	    RG_MT_OCI, EMPTY_TYPE, EMPTY_DIGEST, what, rnd);
	if (len < 0 || (size_t)len >= size) {
		a->why = "a placeholder manifest too long";
		return -1;
	}
	rg_digest_of(man, (size_t)len, d);
	return len;
}

/* PUT the manifest man (len bytes, digest d) as repo:tag; *stored: it was */
static int
put_manifest(struct rg_apirm *a, const char *repo, const char *tag,
    const char *man, size_t len, const struct rg_digest *d, int *stored)
{
	char path[RG_REPO_MAX + RG_TAG_MAX + 32], ds[RG_DIGEST_STRLEN + 1];
	struct rg_http_resp r;
	long code;

	if (api_path(a, path, sizeof(path), repo, "manifests/", tag) != 0)
		return RG_RM_FAILED;
	code = rg_http_req(&a->h, "PUT", path, NULL, RG_MT_OCI, man, len,
	    &a->body, &r);
	if (code != 201)
		return failed(a, "a placeholder manifest", code, &r);
	*stored = 1;
	rg_digest_format(d, ds);
	if (r.digest[0] != '\0' && strcmp(r.digest, ds) != 0) {
		rg_msg(a->whybuf, sizeof(a->whybuf), "a placeholder manifest: the "
		    "registry stored it as %.80s, not %s", r.digest, ds);
		a->why = a->whybuf;
		return RG_RM_FAILED;
	}
	return 0;
}

/*
 * Does a DELETE by tag take that tag alone?  Once per run, on a manifest
 * of our own: pushed as two tags, one deleted by tag, the other must
 * stay, and the manifest too; then the manifest is deleted by digest.  A
 * registry that answers 202 but takes the manifest (and with it every
 * tag) is never asked for a real tag.
 */
static void
probe_tag_delete(struct rg_apirm *a, const char *repo)
{
	char man[2048], path[RG_REPO_MAX + 128], tags[2][RG_TAG_MAX + 1];
	char ds[RG_DIGEST_STRLEN + 1];
	struct rg_http_resp r;
	struct rg_digest d, now;
	long code;
	int len, i, stored = 0;

	a->tag_delete = 0;
	if (empty_blob(a, repo) != 0 || (len = placeholder(a, "a trial of the "
	    "registry's DELETE by tag", man, sizeof(man), &d)) < 0)
		return;
	rg_digest_hex(&d, ds);
	for (i = 0; i < 2; i++) {
		rg_path(tags[i], sizeof(tags[i]), "rg-trial-%.20s-%c", ds, 'a' + i);
		if (put_manifest(a, repo, tags[i], man, (size_t)len, &d, &stored) != 0)
			goto out;
	}
	if (api_path(a, path, sizeof(path), repo, "manifests/", tags[0]) != 0)
		goto out;
	code = rg_http_req(&a->h, "DELETE", path, NULL, NULL, NULL, 0, &a->body, &r);
	rg_digest_format(&d, ds);
	if ((code == 202 || code == 200 || code == 204) &&
	    head(a, repo, tags[0], &now) == 1 &&
	    head(a, repo, tags[1], &now) == 0 && rg_digest_cmp(&now, &d) == 0 &&
	    head(a, repo, ds, &now) == 0)
		a->tag_delete = 1;
out:
	if (stored && rg_apirm_manifest(a, repo, &d) == RG_RM_FAILED)
		warnx("%s/v2/%s: the trial manifest %s stays: %s", a->url, repo,
		    ds, a->why);
}

/*
 * Delete the tag repo:tag, which the scan saw pointing at d, and no other
 * tag.  Kept when it points elsewhere now.
 */
int
rg_apirm_tag(struct rg_apirm *a, const char *repo, const char *tag,
    const struct rg_digest *d)
{
	char path[RG_REPO_MAX + RG_TAG_MAX + 128], ds[RG_DIGEST_STRLEN + 1];
	char man[2048], mt[256], pds[RG_DIGEST_STRLEN + 1], what[RG_TAG_MAX + 64];
	struct rg_http_resp r;
	struct rg_buf was = { 0 };
	struct rg_digest now, pd;
	int len, res, stored = 0;
	long code;

	switch (head(a, repo, tag, &now)) {
	case 1:
		a->why = "no such tag now";
		return RG_RM_GONE;
	case -1:
		return RG_RM_FAILED;
	}
	if (rg_digest_cmp(&now, d) != 0) {
		a->why = "pushed since the scan: it points at another manifest now";
		return RG_RM_KEPT;
	}
	if (a->dry_run)
		return RG_RM_DONE;
	if (a->tag_delete == -1)
		probe_tag_delete(a, repo);
	if (api_path(a, path, sizeof(path), repo, "manifests/", tag) != 0)
		return RG_RM_FAILED;
	if (a->tag_delete == 1) {
		code = rg_http_req(&a->h, "DELETE", path, NULL, NULL, NULL, 0,
		    &a->body, &r);
		if (code == 202 || code == 200 || code == 204)
			return RG_RM_DONE;
		return failed(a, path, code, &r);
	}

	/* the manifest the tag has, to put it back if need be */
	rg_digest_format(d, ds);
	if (api_path(a, path, sizeof(path), repo, "manifests/", ds) != 0)
		return RG_RM_FAILED;
	if ((code = rg_http_req(&a->h, "GET", path, ACCEPT, NULL, NULL, 0, &was,
	    &r)) != 200) {
		rg_buf_free(&was);
		return failed(a, path, code, &r);
	}
	if (rg_path(mt, sizeof(mt), "%s", r.content_type) != 0) {
		rg_buf_free(&was);
		a->why = "its manifest's media type is too long to put it back";
		return RG_RM_FAILED;
	}
	rg_msg(what, sizeof(what), "the tag %s is being deleted", tag);
	if (empty_blob(a, repo) != 0 ||
	    (len = placeholder(a, what, man, sizeof(man), &pd)) < 0) {
		rg_buf_free(&was);
		return RG_RM_FAILED;
	}
	rg_digest_format(&pd, pds);

	/* pushed since the HEAD above? then it is not ours to replace */
	switch (head(a, repo, tag, &now)) {
	case 1:
		rg_buf_free(&was);
		a->why = "no such tag now";
		return RG_RM_GONE;
	case -1:
		rg_buf_free(&was);
		return RG_RM_FAILED;
	}
	if (rg_digest_cmp(&now, d) != 0) {
		rg_buf_free(&was);
		a->why = "pushed since the scan: it points at another manifest now";
		return RG_RM_KEPT;
	}
	if ((res = put_manifest(a, repo, tag, man, (size_t)len, &pd, &stored)) == 0 &&
	    (res = rg_apirm_manifest(a, repo, &pd)) == RG_RM_GONE)
		failed(a, "the placeholder's DELETE", 404, &r);
	if (res != RG_RM_DONE) {
		if (stored)	/* the tag points at the placeholder */
			restore(a, repo, tag, &was, mt, pds);
		res = RG_RM_FAILED;
	}
	rg_buf_free(&was);
	return res;
}
