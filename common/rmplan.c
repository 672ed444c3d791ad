/*
 * rmplan.c: rg-rm's plan, read from an rg-refs stream.
 *
 * The scan record (where, when, through what), the marked records, each
 * checked field by field so that nothing unchecked makes a path, the
 * repositories of the stream with their counts of tags and manifests,
 * scan-end, and rg-refs' closing "refs" record with its plan digest.
 * Memory: the marked records (a digest, a name and a few numbers each) and
 * the repositories; the unmarked records are looked at without a parse.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "remove.h"

const char *const rg_obj_name[RG_NOBJ] = { "tag", "manifest", "layer", "blob",
    "upload", "repository" };
const char *const rg_obj_names[RG_NOBJ] = { "tags", "manifests", "layers",
    "blobs", "uploads", "repositories" };

struct reader {
	struct rg_rmplan *p;
	unsigned long line;		/* of the record at hand */
	uint32_t last;			/* the repository named last */
};

int
rg_rmplan_init(struct rg_rmplan *p)
{
	memset(p, 0, sizeof(*p));
	p->scan_time = -1;
	return rg_dtab_init(&p->repos, sizeof(struct rg_rmrepo),
	    sizeof(struct rg_digest)) != 0 || rg_plan_init(&p->marks) != 0 ? -1 : 0;
}

/* What a plan holds, let go (rg-rm exits instead; the fuzzer's plan target frees). */
void
rg_rmplan_free(struct rg_rmplan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i].key);
	for (i = 0; i < p->repos.n; i++)
		free(RG_RMREPO(p, i)->name);
	free(p->v);
	rg_dtab_free(&p->repos);
	rg_strset_free(&p->notes);
	rg_plan_free(&p->marks);
	free(p->root);
	free(p->plan);
	memset(p, 0, sizeof(*p));
}

static uint32_t
repo_id(struct reader *r, const char *name)
{
	struct rg_rmplan *p = r->p;
	struct rg_digest k;
	long i;

	if (r->last != UINT32_MAX && strcmp(RG_RMREPO(p, r->last)->name, name) == 0)
		return r->last;
	rg_digest_of(name, strlen(name), &k);
	if ((i = rg_dtab_index(&p->repos, &k, 1)) == -1)
		rg_nomem();
	if (RG_RMREPO(p, i)->name == NULL &&
	    (RG_RMREPO(p, i)->name = strdup(name)) == NULL)
		rg_nomem();
	return r->last = (uint32_t)i;
}

static int
kind_of(const char *type)
{
	int k;

	for (k = 0; type != NULL && k < RG_OBJ_REPO; k++)
		if (strcmp(type, rg_obj_name[k]) == 0)
			return k;
	return -1;
}

/* A record's "reason" or "marked_by", for its audit record: held once. */
static const char *
note(struct rg_rmplan *p, const json_t *rec, const char *key)
{
	const char *s = rg_str(rec, key);

	if (s == NULL || strlen(s) > RG_NOTE_MAX)
		return NULL;
	if (rg_strset_add(&p->notes, s) == -1)
		rg_nomem();
	return rg_strset_get(&p->notes, s);
}

/* A marked record, checked field by field: nothing unchecked makes a path. */
static void
take_marked(struct reader *r, const json_t *rec, int kind, const char *where)
{
	struct rg_rmplan *p = r->p;
	const char *repo = rg_str(rec, RG_F_REPO), *digest = rg_str(rec, RG_F_DIGEST);
	const char *key = kind == RG_OBJ_TAG ? rg_str(rec, RG_F_TAG) :
	    kind == RG_OBJ_UPLOAD ? rg_str(rec, "uuid") : NULL;
	struct rg_rmitem *it;

	rg_plan_add_fields(&p->marks, rg_obj_name[kind], repo,
	    key != NULL ? key : digest);
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 1024;
		if ((p->v = realloc(p->v, p->cap * sizeof(*p->v))) == NULL)
			rg_nomem();
	}
	it = &p->v[p->n++];
	memset(it, 0, sizeof(*it));
	it->kind = (unsigned char)kind;
	it->line = r->line;
	it->reason = note(p, rec, RG_F_REASON);
	it->marked_by = note(p, rec, RG_F_MARKED_BY);
	it->size = json_integer_value(json_object_get(rec, RG_F_SIZE));
	it->index = json_array_size(json_object_get(rec, RG_F_MANIFESTS)) > 0;
	it->has_digest = digest != NULL &&
	    rg_digest_parse(digest, strlen(digest), &it->d) == 0;
	if (kind != RG_OBJ_BLOB && (repo == NULL || !rg_repo_valid(repo)))
		it->bad = "invalid repository name";
	else if (kind == RG_OBJ_TAG && (key == NULL || !rg_tag_valid(key)))
		it->bad = "invalid tag";
	else if (kind == RG_OBJ_UPLOAD && (key == NULL || !rg_upload_valid(key)))
		it->bad = "invalid upload id";
	else if (kind != RG_OBJ_TAG && kind != RG_OBJ_UPLOAD && !it->has_digest)
		it->bad = "invalid digest";
	if (it->bad == NULL && json_is_true(json_object_get(rec, RG_F_PROTECTED))) {
		/* rg-refs keeps what rg-select --protect named: not its plan */
		warnx("%s: %s record marked but protected (an image in use): "
		    "nothing deleted for it", where, rg_obj_name[kind]);
		it->bad = "protected";
		p->invalid = 1;
		return;
	}
	if (it->bad != NULL) {
		warnx("%s: %s record with an %s: nothing deleted for it",
		    where, rg_obj_name[kind], it->bad);
		p->invalid = 1;
		return;
	}
	it->valid = 1;
	it->repo = kind == RG_OBJ_BLOB ? UINT32_MAX : repo_id(r, repo);
	if (key != NULL && (it->key = strdup(key)) == NULL)
		rg_nomem();
}

/* (tag, digest) added to a sum of such pairs: equal sums, equal sets */
void
rg_tagset_add(struct rg_digest *sum, uint32_t *n, const char *tag,
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
repo_seen(struct reader *r, const char *type, const char *repo, const char *tag,
    const char *digest, int marked)
{
	int kind = kind_of(type);
	struct rg_rmrepo *rp;
	struct rg_digest d;
	uint32_t i;

	if (type == NULL || repo == NULL || !rg_repo_valid(repo) ||
	    (kind != RG_OBJ_TAG && kind != RG_OBJ_MANIFEST &&
	    strcmp(type, RG_T_REPO) != 0))
		return;
	i = repo_id(r, repo);		/* apart: it may move the table */
	rp = RG_RMREPO(r->p, i);
	if (kind == RG_OBJ_TAG)
		rp->tags++;
	else if (kind == RG_OBJ_MANIFEST)
		rp->mans++;
	if (r->p->api && kind == RG_OBJ_TAG && !marked && tag != NULL &&
	    rg_tag_valid(tag) && digest != NULL &&
	    rg_digest_parse(digest, strlen(digest), &d) == 0)
		rg_tagset_add(&rp->keep, &rp->nkeep, tag, &d);
}

/* a fatal problem of the stream: reported, and the reading stops */
static int
bad_stream(const char *where, const char *what)
{
	warnx("%s: %s", where, what);
	return -1;
}

static int
on_record(json_t *rec, const char *line, size_t len, const char *where, void *arg)
{
	struct reader *r = arg;
	struct rg_rmplan *p = r->p;
	const char *type = rg_str(rec, RG_F_TYPE), *s;
	int kind = kind_of(type);

	(void)line;
	(void)len;
	if (p->refs_line != 0)
		return bad_stream(where, "a record after rg-refs' \"refs\" record: "
		    "the stream was changed after rg-refs");
	if (type != NULL && strcmp(type, RG_T_SCAN) == 0) {
		if (p->root != NULL)
			return bad_stream(where, "a second scan record: one stream, "
			    "one scan");
		if ((s = rg_str(rec, RG_F_ROOT)) == NULL || (p->root = strdup(s)) == NULL)
			return bad_stream(where, "scan record without a root");
		if (rg_record_time(rec, RG_F_TIME, &p->scan_time) != 0)
			return bad_stream(where, "scan record without a time");
		if ((s = rg_str(rec, RG_F_SOURCE)) != NULL && strcmp(s, "api") == 0)
			p->api = 1;
		else if (s != NULL && strcmp(s, "storage") != 0 &&
		    strcmp(s, "s3") != 0) {
			warnx("%s: a scan of %s: rg-rm deletes from storage or "
			    "through the registry's API", where, s);
			return -1;
		}
		return 0;
	}
	if (type != NULL && strcmp(type, RG_T_SCAN_END) == 0) {
		p->saw_end = 1;
		p->complete = json_is_true(json_object_get(rec, "complete"));
		return 0;
	}
	if (type != NULL && strcmp(type, RG_T_REFS) == 0) {
		p->refs_line = r->line;
		if ((s = rg_str(rec, "plan")) == NULL || (p->plan = strdup(s)) == NULL)
			return bad_stream(where, "refs record without a plan");
		return 0;
	}
	repo_seen(r, type, rg_str(rec, RG_F_REPO), rg_str(rec, RG_F_TAG),
	    rg_str(rec, RG_F_DIGEST), json_is_true(json_object_get(rec, RG_F_DELETE)));
	if (kind >= 0 && json_is_true(json_object_get(rec, RG_F_DELETE)))
		take_marked(r, rec, kind, where);
	return 0;
}

/* Most records need no parse: the unmarked blobs, layer links, tags, manifests and repositories. */
static int
on_line(char *line, size_t len, const struct rg_at *at, void *arg)
{
	struct reader *r = arg;
	struct rg_recbuf b;
	struct rg_rec f;
	int k;

	r->line = at->line;
	if (r->p->refs_line == 0 && rg_rec_scan(line, len, &f, &b, NULL, NULL) == 0 &&
	    !f.marked && ((k = kind_of(f.type)) == RG_OBJ_BLOB ||
	    k == RG_OBJ_LAYER || k == RG_OBJ_TAG || k == RG_OBJ_MANIFEST ||
	    strcmp(f.type, RG_T_REPO) == 0)) {
		repo_seen(r, f.type, f.repo, f.tag, f.digest, 0);
		return 0;
	}
	return rg_parse_line(line, len, at->where, on_record, arg);
}

/*
 * Read the whole stream from fd (name, for messages) into p.  0; -1
 * (reported) when it cannot be read or is not one rg-rm may act on.  A
 * marked record that is not valid is reported and sets p->invalid.
 */
int
rg_rmplan_read(struct rg_rmplan *p, int fd, const char *name)
{
	struct reader r = { p, 0, UINT32_MAX };

	return rg_lines(fd, name, on_line, &r) != 0 ? -1 : 0;
}

/* The run's closing record (rg-records(5): "rm-total"). */
json_t *
rg_rmtotal_record(const char *root, int dry_run, time_t t,
    const unsigned long done[RG_NOBJ], long long bytes, unsigned long kept)
{
	json_t *rec = rg_record_new(RG_T_RM_TOTAL, NULL);
	int i;

	json_object_set_new(rec, RG_F_ROOT, json_string(root));
	json_object_set_new(rec, "dry_run", json_boolean(dry_run));
	rg_set_time(rec, RG_F_TIME, t);
	for (i = 0; i < RG_NOBJ; i++)
		json_object_set_new(rec, rg_obj_names[i], json_integer((json_int_t)done[i]));
	json_object_set_new(rec, "bytes", json_integer(bytes));
	json_object_set_new(rec, RG_F_KEPT, json_integer((json_int_t)kept));
	return rec;
}

/* Does the plan still hold an object of kind or kind2? */
int
rg_rmplan_has(const struct rg_rmplan *p, int kind, int kind2)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].valid && (p->v[i].kind == kind || p->v[i].kind == kind2))
			return 1;
	return 0;
}

/* An object's fields in a record: its kind, tag or upload, digest (d: or NULL). */
void
rg_object_fields(json_t *rec, int kind, const char *key,
    const struct rg_digest *d)
{
	char ds[RG_DIGEST_STRLEN + 1];

	json_object_set_new(rec, "object", json_string(rg_obj_name[kind]));
	if (kind == RG_OBJ_TAG)
		json_object_set_new(rec, RG_F_TAG, json_string(key));
	if (kind == RG_OBJ_UPLOAD)
		json_object_set_new(rec, "uuid", json_string(key));
	if (d != NULL) {
		rg_digest_format(d, ds);
		json_object_set_new(rec, RG_F_DIGEST, json_string(ds));
	}
}

/* The audit record of what became of it (rg-records(5): "rm"). */
json_t *
rg_rmitem_record(const struct rg_rmplan *p, const struct rg_rmitem *it,
    const char *result, const char *why)
{
	json_t *rec;

	rec = rg_record_new(RG_T_RM, it->valid && it->repo != UINT32_MAX ?
	    RG_RMREPO(p, it->repo)->name : NULL);
	if (rec == NULL)
		rg_nomem();
	rg_object_fields(rec, it->kind, it->key, it->has_digest ? &it->d : NULL);
	if (it->kind == RG_OBJ_BLOB || it->kind == RG_OBJ_UPLOAD)
		json_object_set_new(rec, RG_F_SIZE, json_integer(it->size));
	json_object_set_new(rec, "result", json_string(result));
	if (why != NULL)
		json_object_set_new(rec, "why", json_string(why));
	if (it->reason != NULL)
		json_object_set_new(rec, RG_F_REASON, json_string(it->reason));
	if (it->marked_by != NULL)
		json_object_set_new(rec, RG_F_MARKED_BY, json_string(it->marked_by));
	return rec;
}

/*
 * Options for the other kind of source are usage errors: the storage's
 * (--root, --config, --stop, --prune, --min-age) with a scan through the
 * API, the API's (--user, --cert, --key) with any other, --insecure and
 * --cacert with a storage scan but S3's, --endpoint and --jobs with any
 * but S3's.  NULL when o suits p's stream, else why not, in msg.
 */
const char *
rg_rmplan_options(const struct rg_rmplan *p, const struct rg_rmopts *o,
    char *msg, size_t size)
{
	int s3 = p->root != NULL && strncmp(p->root, "s3://", 5) == 0;
	const char *at = p->root ? " at " : "", *root = p->root ? p->root : "";

	if (p->api && o->root != NULL)
		rg_msg(msg, size, "--root %s: the stream is a scan of %s through "
		    "its API", o->root, p->root);
	else if (p->api && (o->config != NULL || o->stop != NULL))
		rg_msg(msg, size, "%s: the stream is a scan of %s through its API: "
		    "the registry itself deletes, and keeps its cache", o->config ?
		    "--config" : "--stop", p->root);
	else if (p->api && o->prune)
		rg_msg(msg, size, "--prune: the stream is a scan of %s through its "
		    "API, which cannot delete a repository; a sweep of the storage "
		    "can", p->root);
	else if (p->api && o->min_age)
		rg_msg(msg, size, "--min-age: the stream is a scan of %s through "
		    "its API: the registry itself deletes, and checks what a push "
		    "is writing", p->root);
	else if (o->endpoint != NULL && !s3)
		rg_msg(msg, size, "--endpoint: applies to a stream scanned from S3 "
		    "(s3://bucket)%s%s", p->root ? "; this one is a scan of " : "",
		    root);
	else if (o->jobs > 0 && p->api)
		rg_msg(msg, size, "--jobs: applies to a stream scanned from storage "
		    "(a directory or s3://bucket); this one is a scan of %s through "
		    "its API", p->root);
	else if (!p->api && o->http != NULL)
		rg_msg(msg, size, "%s: applies to a stream scanned through a "
		    "registry's URL; this one is a scan of its storage%s%s", o->http,
		    at, root);
	else if (!p->api && o->tls != NULL && !s3)
		rg_msg(msg, size, "%s: applies to a stream scanned through a "
		    "registry's URL or from S3; this one is a scan of its storage%s%s",
		    o->tls, at, root);
	else
		return NULL;
	return msg;
}

/*
 * The plan judged whole before anything goes: its marks must be rg-refs'
 * (the plan digest), its scan no older than max_age seconds and read to
 * its end; without rg-refs' pass or a scan record only tags may go, and
 * without a complete scan no blob.  Each object left out is told to fn
 * ("invalid" or "refused", and why), *refused counts them, and msg then
 * says why in one line.  0; -1 with msg when nothing may go.
 */
int
rg_rmplan_approve(struct rg_rmplan *p, time_t now, long long max_age,
    rg_verdict_fn *fn, void *arg, unsigned long *refused, char *msg,
    size_t size)
{
	char mine[RG_DIGEST_STRLEN + 1];
	const char *why;
	size_t i;
	int approved;

	*refused = 0;
	rg_plan_final(&p->marks, mine);
	if (p->refs_line != 0 && strcmp(mine, p->plan) != 0) {
		rg_msg(msg, size, "<stdin>:%lu: the marks do not match rg-refs' "
		    "plan: the stream was changed after rg-refs; nothing deleted",
		    p->refs_line);
		return -1;
	}
	if (p->scan_time >= 0 && now - p->scan_time > max_age) {
		rg_msg(msg, size, "the scan is %lld seconds old (--max-age %lld): "
		    "pushes since may have made its garbage live again; scan "
		    "again", (long long)(now - p->scan_time), max_age);
		return -1;
	}
	if (p->root != NULL && !p->saw_end) {
		rg_msg(msg, size, "the stream ends before rg-scan's scan-end "
		    "record: it was cut short; nothing deleted");
		return -1;
	}
	approved = p->refs_line != 0 && p->scan_time >= 0;
	why = p->refs_line == 0 ? "the stream has not passed rg-refs" :
	    p->scan_time < 0 ? "the stream has no scan record" : NULL;
	for (i = 0; i < p->n; i++)
		if (p->v[i].bad != NULL)
			fn(arg, &p->v[i], "invalid", p->v[i].bad);
		else if ((p->v[i].kind != RG_OBJ_TAG && !approved) ||
		    (p->v[i].kind == RG_OBJ_BLOB && !p->complete)) {
			fn(arg, &p->v[i], "refused", why ? why :
			    "the scan was incomplete");
			p->v[i].valid = 0;
			(*refused)++;
		}
	rg_msg(msg, size, "%lu manifests, layer links, blobs or uploads not "
	    "deleted: %s", *refused, why ? why :
	    "the scan could not read all of the storage");
	return 0;
}
