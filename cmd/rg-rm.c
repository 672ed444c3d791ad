/*
 * rg-rm: delete from registry storage what the stream marks "delete": true.
 * Reads the whole stream first (rg-records(5)): the storage root and time
 * of its scan, and the "refs" record rg-refs ends it with, whose plan
 * digest must match the marks; only then does it act, in an order that
 * keeps the registry consistent at every step: tags, then manifests
 * (indexes before their children; tag index entries, then the revision
 * link), layer links, blobs, uploads, and with --prune the repositories
 * left empty.  common/sweep.c deletes each object: it checks the storage
 * again (what was pushed or linked since the scan stays), and renames the
 * object into a trash directory in one step before removing it there
 * (common/beneath.c), every path built from validated names and opened
 * below the root without following symbolic links.  What one object
 * keeps, it keeps for what it needs: a kept tag or manifest keeps its
 * repository's manifests and layer links, a kept manifest every blob.
 * Writes a record per object to stdout, a summary to stderr.  Memory: the
 * marked records (a digest, a name and a few numbers each), the
 * repositories, and the digests linked since the scan.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "redis.h"
#include "regconf.h"
#include "store.h"

enum kind { K_TAG, K_MANIFEST, K_LAYER, K_BLOB, K_UPLOAD, K_REPO, NKINDS };

static const char *kind_name[NKINDS] = { "tag", "manifest", "layer", "blob",
    "upload", "repository" };

struct item {
	struct rg_digest d;
	char *key;		/* tag or upload uuid */
	const char *bad;	/* why the record is not valid, or NULL */
	int64_t size;
	uint32_t repo;		/* index in repos */
	unsigned char kind, has_digest, index, valid;
	unsigned long line;
};

struct repo {
	struct rg_digest key;	/* sha256 of the name */
	char *name;
	uint32_t tags, mans, tags_done, mans_done;	/* in the stream; deleted */
	int changed;		/* written since the scan, or an object kept */
	struct rg_digest keep;	/* API scans: the unmarked (tag, digest) pairs, */
	uint32_t nkeep;		/* as a sum that does not depend on their order */
};

static struct rg_sweep sw;
static struct rg_store *store;		/* chosen once: the stream's storage */
static struct rg_apirm ar;		/* a scan of a URL: through the API */
static struct rg_http_opts http_opts;
static int api;
static const char *hold_blobs;		/* why no blob may go, or NULL */
static struct item *items;
static size_t nitems, capitems;
static struct rg_dtab repos;
static int dry_run, prune, verbose, status, approved, saw_end, complete;
static long long max_age = 3600, min_age = 3600;
static char *root_opt, *root_stream, *plan_stream;
static time_t scan_time = -1, now;
static unsigned long refs_line, last_line, nmarked;
static struct rg_plan plan;
static unsigned long done[NKINDS], kept[NKINDS];
static long long bytes;
static const char *config_opt, *stop_cmd, *start_cmd;
static const char *http_opt;		/* the first API option given */
static int min_age_opt;
static struct rg_regconf conf;		/* the registry's config.yml, if known */
static int have_conf;
static struct rg_redis redis;
static const char *hold_cached;		/* why no layer link or blob may go now:
					   the registry's cache, or objects put back */
static unsigned long ncached;		/* layer links and blobs kept for it */
static const char hold_inmemory[] = "the registry's in-memory cache could go on "
    "claiming it: --stop and --start delete it while the registry is stopped";
static struct rg_dtab kept_links;	/* digests of layer links that stay */

#define REPO(i)	((struct repo *)RG_DTAB_AT(&repos, i))

static uint32_t
repo_id(const char *name)
{
	static uint32_t last = UINT32_MAX;
	struct rg_digest k;
	long i;

	if (last != UINT32_MAX && strcmp(REPO(last)->name, name) == 0)
		return last;
	rg_digest_of(name, strlen(name), &k);
	if ((i = rg_dtab_index(&repos, &k, 1)) == -1)
		err(RG_EXIT_FATAL, NULL);
	if (REPO(i)->name == NULL && (REPO(i)->name = strdup(name)) == NULL)
		err(RG_EXIT_FATAL, NULL);
	return last = (uint32_t)i;
}

static int
kind_of(const char *type)
{
	int k;

	for (k = 0; type != NULL && k < K_REPO; k++)
		if (strcmp(type, kind_name[k]) == 0)
			return k;
	return -1;
}

/* A marked record, checked field by field: nothing unchecked makes a path. */
static void
take_marked(const json_t *rec, int kind, const char *where)
{
	const char *repo = rg_str(rec, "repo"), *digest = rg_str(rec, "digest");
	const char *key = kind == K_TAG ? rg_str(rec, "tag") :
	    kind == K_UPLOAD ? rg_str(rec, "uuid") : NULL;
	struct item *it;

	rg_plan_add_fields(&plan, kind_name[kind], repo, key != NULL ? key : digest);
	nmarked++;
	if (nitems == capitems) {
		capitems = capitems ? 2 * capitems : 1024;
		if ((items = realloc(items, capitems * sizeof(*items))) == NULL)
			err(RG_EXIT_FATAL, NULL);
	}
	it = &items[nitems++];
	memset(it, 0, sizeof(*it));
	it->kind = (unsigned char)kind;
	it->line = last_line;
	it->size = json_integer_value(json_object_get(rec, "size"));
	it->index = json_array_size(json_object_get(rec, "manifests")) > 0;
	it->has_digest = digest != NULL &&
	    rg_digest_parse(digest, strlen(digest), &it->d) == 0;
	if (kind != K_BLOB && (repo == NULL || !rg_repo_valid(repo)))
		it->bad = "invalid repository name";
	else if (kind == K_TAG && (key == NULL || !rg_tag_valid(key)))
		it->bad = "invalid tag";
	else if (kind == K_UPLOAD && (key == NULL || !rg_upload_valid(key)))
		it->bad = "invalid upload id";
	else if (kind != K_TAG && kind != K_UPLOAD && !it->has_digest)
		it->bad = "invalid digest";
	if (it->bad != NULL) {
		warnx("%s: %s record with an %s: nothing deleted for it",
		    where, kind_name[kind], it->bad);
		status = RG_EXIT_PARTIAL;
		return;
	}
	it->valid = 1;
	it->repo = kind == K_BLOB ? UINT32_MAX : repo_id(repo);
	if (key != NULL && (it->key = strdup(key)) == NULL)
		err(RG_EXIT_FATAL, NULL);
}

/* (tag, digest) added to a sum of such pairs: equal sums, equal sets */
static void
tagset_add(struct rg_digest *sum, uint32_t *n, const char *tag,
    const struct rg_digest *d)
{
	char buf[RG_TAG_MAX + 2 + sizeof(d->b)];
	struct rg_digest h;
	size_t len = strlen(tag), i;

	memcpy(buf, tag, len);
	buf[len] = '\n';
	memcpy(buf + len + 1, d->b, sizeof(d->b));
	rg_digest_of(buf, len + 1 + sizeof(d->b), &h);
	for (i = 0; i < sizeof(h.b); i++)
		sum->b[i] ^= h.b[i];
	++*n;
}

/*
 * The repositories of the stream, and their tags and manifests: for
 * --prune; for an API scan, the tags no mark deletes and where they point.
 */
static void
repo_seen(const char *type, const char *repo, const char *tag,
    const char *digest, int marked)
{
	int kind = kind_of(type);
	struct rg_digest d;
	uint32_t r;

	if (type == NULL || repo == NULL || !rg_repo_valid(repo) || (kind != K_TAG &&
	    kind != K_MANIFEST && strcmp(type, "repo") != 0))
		return;
	r = repo_id(repo);		/* apart: it may move the table */
	if (kind == K_TAG)
		REPO(r)->tags++;
	else if (kind == K_MANIFEST)
		REPO(r)->mans++;
	if (api && kind == K_TAG && !marked && tag != NULL && rg_tag_valid(tag) &&
	    digest != NULL && rg_digest_parse(digest, strlen(digest), &d) == 0)
		tagset_add(&REPO(r)->keep, &REPO(r)->nkeep, tag, &d);
}

static int
on_record(json_t *rec, const char *line, size_t len, const char *where, void *arg)
{
	const char *type = rg_str(rec, "type"), *s;
	int kind = kind_of(type);

	(void)line;
	(void)len;
	(void)arg;
	if (refs_line != 0) {
		warnx("%s: a record after rg-refs' \"refs\" record: the stream "
		    "was changed after rg-refs", where);
		exit(RG_EXIT_FATAL);
	}
	if (type != NULL && strcmp(type, "scan") == 0) {
		if (root_stream != NULL)
			errx(RG_EXIT_FATAL, "%s: a second scan record: one stream, "
			    "one scan", where);
		if ((s = rg_str(rec, "root")) == NULL || (root_stream = strdup(s)) == NULL)
			errx(RG_EXIT_FATAL, "%s: scan record without a root", where);
		if (rg_record_time(rec, "time", &scan_time) != 0)
			errx(RG_EXIT_FATAL, "%s: scan record without a time", where);
		if ((s = rg_str(rec, "source")) != NULL && strcmp(s, "api") == 0)
			api = 1;
		else if (s != NULL && strcmp(s, "storage") != 0)
			errx(RG_EXIT_FATAL, "%s: a scan of %s: rg-rm deletes from "
			    "storage or through the registry's API", where, s);
		return 0;
	}
	if (type != NULL && strcmp(type, "scan-end") == 0) {
		saw_end = 1;
		complete = json_is_true(json_object_get(rec, "complete"));
		return 0;
	}
	if (type != NULL && strcmp(type, "refs") == 0) {
		refs_line = last_line;
		if ((s = rg_str(rec, "plan")) == NULL || (plan_stream = strdup(s)) == NULL)
			errx(RG_EXIT_FATAL, "%s: refs record without a plan", where);
		return 0;
	}
	repo_seen(type, rg_str(rec, "repo"), rg_str(rec, "tag"), rg_str(rec, "digest"),
	    json_is_true(json_object_get(rec, "delete")));
	if (kind >= 0 && json_is_true(json_object_get(rec, "delete")))
		take_marked(rec, kind, where);
	return 0;
}

/* Most records need no parse: the unmarked blobs, layer links, tags, manifests and repositories. */
static int
on_line(char *line, size_t len, const char *where, void *arg)
{
	const char *colon = strrchr(where, ':');
	struct rg_recbuf b;
	struct rg_rec f;

	last_line = colon ? strtoul(colon + 1, NULL, 10) : last_line + 1;
	if (refs_line == 0 && rg_rec_scan(line, len, &f, &b, NULL, NULL) == 0 &&
	    !f.marked && (kind_of(f.type) == K_BLOB || kind_of(f.type) == K_LAYER ||
	    kind_of(f.type) == K_TAG || kind_of(f.type) == K_MANIFEST ||
	    strcmp(f.type, "repo") == 0)) {
		repo_seen(f.type, f.repo, f.tag, f.digest, 0);
		return 0;
	}
	return rg_parse_line(line, len, where, on_record, arg);
}

/* the audit record of one object */
static void
report(const struct item *it, const char *result, const char *why)
{
	char ds[RG_DIGEST_STRLEN + 1];
	json_t *rec;

	rec = rg_record_new("rm", it->valid && it->repo != UINT32_MAX ?
	    REPO(it->repo)->name : NULL);
	json_object_set_new(rec, "object", json_string(kind_name[it->kind]));
	if (it->kind == K_TAG)
		json_object_set_new(rec, "tag", json_string(it->key));
	if (it->kind == K_UPLOAD)
		json_object_set_new(rec, "uuid", json_string(it->key));
	if (it->has_digest) {
		rg_digest_format(&it->d, ds);
		json_object_set_new(rec, "digest", json_string(ds));
	}
	if (it->kind == K_BLOB || it->kind == K_UPLOAD)
		json_object_set_new(rec, "size", json_integer(it->size));
	json_object_set_new(rec, "result", json_string(result));
	if (why != NULL)
		json_object_set_new(rec, "why", json_string(why));
	if (rg_emit(stdout, rec) != 0)
		_exit(RG_EXIT_FATAL);
	json_decref(rec);
}

/* The outcome of one object: counted, and its audit record. */
static int
outcome(const struct item *it, int r)
{
	switch (r) {
	case RG_SW_FAILED:
		if (api)
			warnx("%s: %s %s%s%s: %s", ar.url, kind_name[it->kind],
			    REPO(it->repo)->name, it->key ? ":" : "",
			    it->key ? it->key : "", sw.why);
		else
			warnx("%s/%s", sw.root, sw.why);
		status = RG_EXIT_PARTIAL;
		report(it, "failed", sw.why);
		return -1;
	case RG_SW_KEPT:
		kept[it->kind]++;
		if (verbose)
			warnx("<stdin>:%lu: %s kept: %s", it->line,
			    kind_name[it->kind], sw.why);
		report(it, "kept", sw.why);
		return -1;
	case RG_SW_GONE:
		report(it, "gone", sw.why);
		return 0;
	case RG_SW_PENDING:	/* told later, by settled() */
		return 1;
	}
	done[it->kind]++;
	if (it->kind == K_BLOB || it->kind == K_UPLOAD)
		bytes += it->size;
	report(it, dry_run ? "would-delete" : "deleted", NULL);
	return 0;
}

static int
keep(const struct item *it, const char *why)
{
	sw.why = why;
	return outcome(it, RG_SW_KEPT);
}

/*
 * A tag, a manifest or an upload that stays keeps what it needs: its
 * repository's manifests and layer links, and with a manifest, every blob
 * (what it references is not known here).
 */
static void
rm_tag(const struct item *it)
{
	struct repo *r = REPO(it->repo);

	if (outcome(it, rg_sweep_tag(&sw, r->name, it->key,
	    it->has_digest ? &it->d : NULL)) == 0)
		r->tags_done++;
	else
		r->changed = 1;
}

static void
rm_manifest(const struct item *it)
{
	struct repo *r = REPO(it->repo);
	int res;

	res = r->changed ? keep(it, "repository changed since the scan") :
	    outcome(it, rg_sweep_manifest(&sw, r->name, &it->d,
	    (size_t)(it - items)));
	if (res == 0)
		r->mans_done++;
	else if (res == -1) {
		r->changed = 1;
		hold_blobs = "a manifest of the plan was kept";
	}
}

/* A layer link that stays keeps its blob: a push may be using it. */
static void
rm_layer(const struct item *it)
{
	struct repo *r = REPO(it->repo);
	int res;

	if (hold_cached != NULL) {
		ncached++;
		res = keep(it, hold_cached);
	} else if (r->changed)
		res = keep(it, "repository changed since the scan");
	else
		res = outcome(it, rg_sweep_layer(&sw, r->name, &it->d,
		    (size_t)(it - items)));
	if (res == -1 && rg_dtab_index(&kept_links, &it->d, 1) == -1)
		rg_nomem();
}

static void
rm_blob(const struct item *it)
{
	if (hold_cached != NULL) {
		ncached++;
		keep(it, hold_cached);
	} else if (sw.fresh_manifests)
		keep(it, "manifests pushed since the scan");
	else if (hold_blobs != NULL)
		keep(it, hold_blobs);
	else if (rg_dtab_index(&kept_links, &it->d, 0) != -1)
		keep(it, "a layer link to it stays");
	else
		outcome(it, rg_sweep_blob(&sw, &it->d, (size_t)(it - items)));
}

/* what was pending, decided by rg_sweep_settle */
static void
settled(void *arg, size_t i, int res, const char *why)
{
	struct item *it = &items[i];

	(void)arg;
	sw.why = why;
	if (outcome(it, res) == 0) {
		if (it->kind == K_MANIFEST)
			REPO(it->repo)->mans_done++;
	} else if (it->kind != K_BLOB)
		REPO(it->repo)->changed = 1;
}

static void
changed(void *arg, const char *name)
{
	struct rg_digest k;
	long r;

	(void)arg;
	rg_digest_of(name, strlen(name), &k);
	if ((r = rg_dtab_index(&repos, &k, 0)) != -1)
		REPO(r)->changed = 1;
}

/* --prune: the repositories whose tags and manifests all went, or had none */
static void
prune_repo(uint32_t i)
{
	struct repo *r = REPO(i);
	struct item it;

	memset(&it, 0, sizeof(it));
	it.kind = K_REPO;
	it.valid = 1;
	it.repo = i;
	if (r->changed || r->tags != r->tags_done || r->mans != r->mans_done)
		return;
	if (hold_cached != NULL)	/* its _layers may hold links */
		keep(&it, hold_cached);
	else
		outcome(&it, rg_sweep_prune(&sw, r->name));
}

/*
 * Through the API.  A repository at a time: its tags now (a HEAD each),
 * against the scan.  A marked tag that points elsewhere now stays; a
 * marked manifest stays when a tag that is not going points at it now,
 * or when any such tag changed since the scan (it may have brought an
 * index that needs the manifest).  A manifest's DELETE takes its tags
 * with it; a tag whose manifest stays goes alone (common/apirm.c).
 */
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
	struct rg_dtab tags, mans;
	struct rg_digest keep;	/* the tags that stay, now: as repo->keep */
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
		if (rg_digest_cmp(d, &items[t->item].d) == 0)
			return;		/* as it was, and going */
	}
	tagset_add(&c->keep, &c->nkeep, tag, d);
	if ((i = rg_dtab_index(&c->mans, d, 0)) != -1 &&
	    (m = RG_DTAB_AT(&c->mans, i))->keep == NULL) {
		snprintf(m->why, sizeof(m->why), "the tag %s points at it now", tag);
		m->keep = m->why;
	}
}

static struct tagnow *
tag_of(struct apirepo *c, const struct item *it)
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

static int
api_outcome(const struct item *it, int r)
{
	sw.why = ar.why;
	return outcome(it, r);
}

/* the marked tags and manifests v[0..n) of one repository */
static void
api_repo(const size_t *v, size_t n)
{
	struct repo *r = REPO(items[v[0]].repo);
	struct apirepo c;
	struct tagnow *t;
	struct mannow *m;
	struct item *it;
	const char *fail = NULL;
	size_t i, pass;
	long k;
	int res;

	memset(&c, 0, sizeof(c));
	if (rg_dtab_init(&c.tags, sizeof(struct tagnow), sizeof(struct rg_digest)) != 0 ||
	    rg_dtab_init(&c.mans, sizeof(struct mannow), sizeof(struct rg_digest)) != 0)
		err(RG_EXIT_FATAL, NULL);
	for (i = 0; i < n; i++) {
		it = &items[v[i]];
		if (it->kind == K_TAG) {
			struct rg_digest key;

			rg_digest_of(it->key, strlen(it->key), &key);
			if ((k = rg_dtab_index(&c.tags, &key, 1)) == -1)
				err(RG_EXIT_FATAL, NULL);
			((struct tagnow *)RG_DTAB_AT(&c.tags, k))->item = v[i];
		} else if (rg_dtab_index(&c.mans, &it->d, 1) == -1)
			err(RG_EXIT_FATAL, NULL);
	}
	if (rg_apirm_tags(&ar, r->name, tag_now, &c) != 0 ||
	    rg_apirm_may_delete(&ar, r->name) != 0)
		fail = ar.why;
	if (fail == NULL && (c.nkeep != r->nkeep ||
	    memcmp(&c.keep, &r->keep, sizeof(c.keep)) != 0))
		for (k = 0; k < (long)c.mans.n; k++)
			if ((m = RG_DTAB_AT(&c.mans, k))->keep == NULL)
				m->keep = "the repository's tags changed since the scan";

	for (i = 0; i < n; i++) {	/* tags whose manifest stays */
		it = &items[v[i]];
		if (fail != NULL) {
			ar.why = fail;
			api_outcome(it, RG_SW_FAILED);
			continue;
		}
		if (it->kind != K_TAG)
			continue;
		t = tag_of(&c, it);
		m = man_of(&c, &it->d);
		if (!t->present) {
			ar.why = "no such tag now";
			res = RG_SW_GONE;
		} else if (rg_digest_cmp(&t->now, &it->d) != 0) {
			ar.why = "pushed since the scan: it points at another manifest now";
			res = RG_SW_KEPT;
		} else if (m != NULL && m->keep == NULL)
			continue;	/* its manifest's DELETE takes it */
		else
			res = rg_apirm_tag(&ar, r->name, it->key, &it->d);
		if (api_outcome(it, res) == 0)
			r->tags_done++;
	}
	for (pass = 0; fail == NULL && pass < 2; pass++)	/* indexes first */
		for (i = 0; i < n; i++) {
			it = &items[v[i]];
			if (it->kind != K_MANIFEST || it->index != !pass)
				continue;
			m = man_of(&c, &it->d);
			if (m->keep != NULL) {
				ar.why = m->keep;
				m->res = RG_SW_KEPT;
			} else
				m->res = rg_apirm_manifest(&ar, r->name, &it->d);
			if (m->res == RG_SW_FAILED && (m->failed = strdup(ar.why)) == NULL)
				err(RG_EXIT_FATAL, NULL);
			api_outcome(it, m->res);
		}
	for (i = 0; fail == NULL && i < n; i++) {	/* tags that went with it */
		it = &items[v[i]];
		if (it->kind != K_TAG || !(t = tag_of(&c, it))->present ||
		    rg_digest_cmp(&t->now, &it->d) != 0 ||
		    (m = man_of(&c, &it->d)) == NULL || m->keep != NULL)
			continue;
		if (m->res == RG_SW_FAILED) {
			snprintf(sw.err, sizeof(sw.err), "its manifest's DELETE "
			    "failed: %s", m->failed);
			ar.why = sw.err;
		} else if (m->res == RG_SW_GONE)
			ar.why = "its manifest is gone";
		api_outcome(it, m->res);
	}
	for (k = 0; k < (long)c.mans.n; k++)
		free(((struct mannow *)RG_DTAB_AT(&c.mans, k))->failed);
	rg_dtab_free(&c.tags);
	rg_dtab_free(&c.mans);
}

static int
by_repo(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (items[x].repo != items[y].repo)
		return items[x].repo < items[y].repo ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void
run_api(void)
{
	size_t *v, n = 0, i, j;

	if (rg_http_global_init() != 0 ||
	    rg_api_credentials(root_stream, &http_opts) != 0 ||
	    rg_apirm_open(&ar, root_stream, &http_opts, dry_run) != 0)
		errx(RG_EXIT_FATAL, "%s: cannot talk to the registry", root_stream);
	if ((v = malloc((nitems + 1) * sizeof(*v))) == NULL)
		err(RG_EXIT_FATAL, NULL);
	for (i = 0; i < nitems; i++)
		if (items[i].valid && (items[i].kind == K_TAG ||
		    items[i].kind == K_MANIFEST))
			v[n++] = i;
		else if (items[i].valid) {
			report(&items[i], "refused", "not through the API: a "
			    "sweep of the storage deletes it");
			status = RG_EXIT_PARTIAL;
		}
	qsort(v, n, sizeof(*v), by_repo);
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && items[v[j]].repo == items[v[i]].repo; j++)
			;
		api_repo(v + i, j - i);
	}
	free(v);
	rg_apirm_close(&ar);
}

static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: rg-rm [-nv] [--prune] [-c config.yml] [-r root] "
	    "[--max-age duration]\n"
	    "             [--min-age duration] [--stop command --start command]\n"
	    "       rg-rm [-knv] [-u user[:password]] [--cacert file] [--cert file] "
	    "[--key file]\n"
	    "             [--max-age duration]\n");
	exit(code);
}

/*
 * The registry's config.yml: the one given, or Debian's when its storage
 * is the stream's; what it caches decides what may go while it runs.
 */
static void
load_config(void)
{
	int needs_cache;
	size_t i;
	char e[1024];

	switch (rg_regconf_of(config_opt, sw.st, &conf, e, sizeof(e))) {
	case -1:
		errx(RG_EXIT_FATAL, "%s", e);
	case 2:
		warnx("%s", e);
		return;
	case 1:
		return;
	}
	have_conf = 1;
	if (verbose)
		warnx("%s: the registry of %s; blob descriptor cache: %s", conf.path,
		    sw.root, rg_cache_name(conf.cache));
	for (i = 0, needs_cache = prune; i < nitems && !needs_cache; i++)
		needs_cache = items[i].valid && (items[i].kind == K_LAYER ||
		    items[i].kind == K_BLOB);
	if (!needs_cache)
		return;
	if (conf.cache == RG_CACHE_INMEMORY && stop_cmd == NULL)
		hold_cached = hold_inmemory;
	if (conf.cache == RG_CACHE_REDIS) {
		if (rg_redis_open(&redis, conf.redis_addr, conf.redis_password,
		    conf.redis_db) != 0)
			errx(RG_EXIT_FATAL, "%s: the registry's cache (%s): %s: "
			    "nothing deleted", conf.path, conf.cache_name, redis.err);
		sw.redis = &redis;
	}
}

static void
open_storage(void)
{
	if (root_opt == NULL && root_stream == NULL)
		errx(RG_EXIT_FATAL, "no storage root: the stream has no scan record; "
		    "give --root");
	if ((store = rg_store_open(root_opt ? root_opt : root_stream)) == NULL)
		exit(RG_EXIT_FATAL);	/* reported */
	if (rg_sweep_open(&sw, store, dry_run) != 0) {
		if (sw.why != NULL && errno == EWOULDBLOCK)
			errx(RG_EXIT_FATAL, "%s/.rg-trash: %s", sw.root, sw.why);
		if (sw.why != NULL)
			err(RG_EXIT_FATAL, "%s/.rg-trash: %s", sw.root, sw.why);
		exit(RG_EXIT_FATAL);
	}
	if (root_opt != NULL && root_stream != NULL &&
	    !store->ops->same(store, root_stream))
		errx(RG_EXIT_FATAL, "--root %s is not the storage the stream was "
		    "scanned from (%s)", root_opt, root_stream);
	sw.scan_time = scan_time;
	sw.min_age = min_age;
	sw.now = now;
	if (sw.recovered > 0) {
		warnx("%s: put back %lu objects a killed run had moved away and not "
		    "yet deleted; a later run deletes them if they are still garbage",
		    sw.root, sw.recovered);
		hold_cached = "a killed run's objects were put back, which the scan "
		    "did not see: scan again";
	}
	load_config();
}

/* Marks other than tags need rg-refs' pass and a fresh scan. */
static void
check_approval(void)
{
	char mine[RG_DIGEST_STRLEN + 1];
	const char *why;
	size_t i;
	unsigned long refused = 0;

	rg_plan_final(&plan, mine);
	if (refs_line != 0 && strcmp(mine, plan_stream) != 0)
		errx(RG_EXIT_FATAL, "<stdin>:%lu: the marks do not match rg-refs' "
		    "plan: the stream was changed after rg-refs; nothing deleted",
		    refs_line);
	if (scan_time >= 0 && now - scan_time > max_age)
		errx(RG_EXIT_FATAL, "the scan is %lld seconds old (--max-age %lld): "
		    "pushes since may have made its garbage live again; scan again",
		    (long long)(now - scan_time), max_age);
	if (root_stream != NULL && !saw_end)
		errx(RG_EXIT_FATAL, "the stream ends before rg-scan's scan-end "
		    "record: it was cut short; nothing deleted");
	approved = refs_line != 0 && scan_time >= 0;
	why = refs_line == 0 ? "the stream has not passed rg-refs" :
	    scan_time < 0 ? "the stream has no scan record" : NULL;
	for (i = 0; i < nitems; i++)
		if (items[i].bad != NULL)
			report(&items[i], "invalid", items[i].bad);
		else if ((items[i].kind != K_TAG && !approved) ||
		    (items[i].kind == K_BLOB && !complete)) {
			report(&items[i], "refused", why ? why : "the scan was incomplete");
			items[i].valid = 0;
			refused++;
		}
	if (refused > 0) {
		warnx("%lu manifests, layer links, blobs or uploads not deleted: %s",
		    refused, why ? why : "the scan could not read all of the storage");
		status = RG_EXIT_PARTIAL;
	}
}

/*
 * Options for the other kind of source are usage errors: the storage's
 * (--root, --config, --stop, --prune, --min-age) with a scan through the
 * API, the API's (--user, --insecure, certificates) with a storage scan.
 */
static void
check_options(void)
{
	if (api && root_opt != NULL)
		errx(RG_EXIT_FATAL, "--root %s: the stream is a scan of %s through "
		    "its API", root_opt, root_stream);
	if (api && (config_opt != NULL || stop_cmd != NULL))
		errx(RG_EXIT_FATAL, "%s: the stream is a scan of %s through its API: "
		    "the registry itself deletes, and keeps its cache", config_opt ?
		    "--config" : "--stop", root_stream);
	if (api && prune)
		errx(RG_EXIT_FATAL, "--prune: the stream is a scan of %s through its "
		    "API, which cannot delete a repository; a sweep of the storage "
		    "can", root_stream);
	if (api && min_age_opt)
		errx(RG_EXIT_FATAL, "--min-age: the stream is a scan of %s through "
		    "its API: the registry itself deletes, and checks what a push "
		    "is writing", root_stream);
	if (!api && http_opt != NULL)
		errx(RG_EXIT_FATAL, "%s: applies to a stream scanned through a "
		    "registry's URL; this one is a scan of its storage%s%s", http_opt,
		    root_stream ? " at " : "", root_stream ? root_stream : "");
}

/* An administrator's command (--stop, --start), through the shell: 0 when it succeeded. */
static int
shell(const char *what, const char *cmd)
{
	int st;

	if (fflush(stdout) == EOF)
		_exit(RG_EXIT_FATAL);
	if ((st = system(cmd)) == 0)
		return 0;
	if (st == -1)
		warn("--%s: %s", what, cmd);
	else if (WIFEXITED(st))
		warnx("--%s: %s: exit %d", what, cmd, WEXITSTATUS(st));
	else
		warnx("--%s: %s: killed by signal %d", what, cmd, WTERMSIG(st));
	status = RG_EXIT_PARTIAL;
	return -1;
}

static void
run(void)
{
	size_t i, pass;
	int others = 0, window = 0;
	sigset_t sigs;

	for (i = 0; i < nitems; i++)
		if (items[i].valid && items[i].kind == K_TAG)
			rm_tag(&items[i]);
		else if (items[i].valid)
			others = 1;
	if (others || prune)
		rg_sweep_fresh(&sw, changed, NULL);
	for (pass = 0; pass < 2; pass++)	/* indexes before their children */
		for (i = 0; i < nitems; i++)
			if (items[i].valid && items[i].kind == K_MANIFEST &&
			    items[i].index == !pass)
				rm_manifest(&items[i]);
	if (stop_cmd != NULL && !dry_run && (others || prune)) {
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
		if (shell("stop", stop_cmd) == 0)
			rg_sweep_fresh(&sw, changed, NULL);
		else
			hold_cached = "the registry could not be stopped (--stop)";
	}
	for (i = 0; i < nitems; i++)
		if (items[i].valid && items[i].kind == K_LAYER)
			rm_layer(&items[i]);
	for (i = 0; i < nitems; i++)
		if (items[i].valid && items[i].kind == K_BLOB)
			rm_blob(&items[i]);
	for (i = 0; i < nitems; i++)
		if (items[i].valid && items[i].kind == K_UPLOAD)
			outcome(&items[i], rg_sweep_upload(&sw,
			    REPO(items[i].repo)->name, items[i].key));
	rg_sweep_settle(&sw, window ? 0 : RG_SETTLE, settled, NULL);
	for (i = 0; prune && i < repos.n; i++)
		prune_repo((uint32_t)i);
	if (window) {
		shell("start", start_cmd);
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
	}
}

static void
summary(void)
{
	unsigned long k = 0;
	json_t *rec;
	int i;

	for (i = 0; i < NKINDS; i++)
		k += kept[i];
	rec = rg_record_new("rm-total", NULL);
	json_object_set_new(rec, "root", json_string(sw.root ? sw.root : root_stream));
	json_object_set_new(rec, "dry_run", json_boolean(dry_run));
	rg_set_time(rec, "time", now);
	for (i = 0; i < NKINDS; i++)
		json_object_set_new(rec, i == K_LAYER ? "layers" : i == K_REPO ?
		    "repositories" : i == K_TAG ? "tags" : i == K_MANIFEST ?
		    "manifests" : i == K_BLOB ? "blobs" : "uploads",
		    json_integer((json_int_t)done[i]));
	json_object_set_new(rec, "bytes", json_integer(bytes));
	json_object_set_new(rec, "kept", json_integer((json_int_t)k));
	if (rg_emit(stdout, rec) != 0)
		_exit(RG_EXIT_FATAL);
	json_decref(rec);
	fprintf(stderr, "rg-rm: %s: %lu tags, %lu manifests, %lu layer links, "
	    "%lu blobs, %lu uploads (%lld bytes), %lu repositories%s\n",
	    dry_run ? "would delete" : "deleted", done[K_TAG], done[K_MANIFEST],
	    done[K_LAYER], done[K_BLOB], done[K_UPLOAD], bytes, done[K_REPO],
	    dry_run ? " (dry run: nothing changed)" : "");
	if (k > 0)
		fprintf(stderr, "rg-rm: kept %lu marked objects the storage shows are "
		    "in use or new since the scan (see \"why\"); run the pipeline "
		    "again later\n", k);
	if (api && done[K_MANIFEST] > 0)
		fprintf(stderr, "rg-rm: through the API the registry only unlinks: "
		    "the space of these manifests' blobs comes back when its storage "
		    "is swept (rg-scan | rg-refs | rg-rm on the storage, or the "
		    "registry's garbage-collect)\n");
	if (ncached > 0 && hold_cached == hold_inmemory)
		fprintf(stderr, "rg-rm: kept %lu layer links and blobs: the registry "
		    "(%s) caches blob descriptors in memory, and would go on "
		    "answering that they exist after they were deleted, so the "
		    "next push of an image using one would be broken; give --stop "
		    "and --start to delete them while it is stopped (rg-rm(1))\n",
		    ncached, conf.path);
	if (!dry_run && !have_conf && !api && (done[K_BLOB] > 0 || done[K_LAYER] > 0))
		fprintf(stderr, "rg-rm: layer links or blobs were deleted, and the "
		    "registry's configuration is not known (--config): if it caches "
		    "blob descriptors in memory, restart it now\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "root", required_argument, NULL, 'r' },
		{ "max-age", required_argument, NULL, 'M' },
		{ "min-age", required_argument, NULL, 'm' },
		{ "prune", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "user", required_argument, NULL, 'u' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "cert", required_argument, NULL, 'E' },
		{ "key", required_argument, NULL, 'K' },
		{ "config", required_argument, NULL, 'c' },
		{ "stop", required_argument, NULL, 'S' },
		{ "start", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	now = time(NULL);
	while ((c = getopt_long(argc, argv, "c:hknr:u:vV", longopts, NULL)) != -1) {
		if (strchr("ukCEK", c) != NULL && http_opt == NULL)
			http_opt = c == 'u' ? "--user" : c == 'k' ? "--insecure" :
			    c == 'C' ? "--cacert" : c == 'E' ? "--cert" : "--key";
		switch (c) {
		case 'c':
			config_opt = optarg;
			break;
		case 'S':
			stop_cmd = optarg;
			break;
		case 's':
			start_cmd = optarg;
			break;
		case 'n':
			dry_run = 1;
			break;
		case 'r':
			root_opt = optarg;
			break;
		case 'M':
			if (rg_duration_arg("--max-age", optarg, &max_age) != 0)
				return RG_EXIT_FATAL;
			break;
		case 'm':
			if (rg_duration_arg("--min-age", optarg, &min_age) != 0)
				return RG_EXIT_FATAL;
			min_age_opt = 1;
			break;
		case 'p':
			prune = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'u':
			http_opts.user = optarg;
			break;
		case 'k':
			http_opts.insecure = 1;
			break;
		case 'C':
			http_opts.cacert = optarg;
			break;
		case 'E':
			http_opts.cert = optarg;
			break;
		case 'K':
			http_opts.key = optarg;
			break;
		case 'h':
			usage(stdout, RG_EXIT_OK);
			break;
		case 'V':
			printf("rg-rm %s\n", RG_VERSION);
			return rg_stdout_close() == 0 ? RG_EXIT_OK : RG_EXIT_FATAL;
		default:
			usage(stderr, RG_EXIT_FATAL);
		}
	}
	if (optind != argc)
		usage(stderr, RG_EXIT_FATAL);
	if ((stop_cmd == NULL) != (start_cmd == NULL))
		errx(RG_EXIT_FATAL, "--stop and --start go together: the registry "
		    "stopped is started again");
	if (rg_dtab_init(&repos, sizeof(struct repo), sizeof(struct rg_digest)) != 0 ||
	    rg_dtab_init(&kept_links, sizeof(struct rg_digest), sizeof(struct rg_digest)) != 0 ||
	    rg_plan_init(&plan) != 0)
		err(RG_EXIT_FATAL, NULL);

	/* the audit log: each record out as soon as its object is gone */
	if (!dry_run)
		setvbuf(stdout, NULL, _IOLBF, 0);
	if (rg_lines(STDIN_FILENO, "<stdin>", on_line, NULL) != 0)
		_exit(RG_EXIT_FATAL);
	check_approval();
	check_options();
	if (api && nitems > 0)
		run_api();
	else if (!api && (nitems > 0 || prune || root_stream != NULL)) {
		/* (with nothing marked: what a killed run left is seen to) */
		open_storage();
		run();
		rg_sweep_close(&sw);
	}
	summary();
	rg_store_close(store);		/* (sw.root is the store's) */
	if (sw.redis != NULL)
		rg_redis_close(&redis);
	rg_regconf_free(&conf);
	if (rg_stdout_close() != 0)
		return RG_EXIT_FATAL;
	return status;
}
