/*
 * apiscan.c: rg-scan of a registry through its HTTP API.
 *
 * The API is distribution's (OCI distribution-spec).  The catalog is read
 * page by page, then `jobs` threads, each with its own kept-alive
 * connection, take the repositories one at a time: the tags (following
 * Link pages), every tagged manifest by tag, index children and referrers
 * by digest, and each image config once per digest for created and
 * platform.  A manifest's digest is the registry's Docker-Content-Digest,
 * checked against the body with SHA-256.  The records are those of a
 * storage scan, less what only storage knows: no layer, upload or blob
 * records, no untagged manifests but index children and referrers, no push
 * times.
 */
#include <err.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

#define ACCEPT	RG_MT_OCI_INDEX ", " RG_MT_OCI ", " RG_MT_DOCKER_LIST ", " \
		RG_MT_DOCKER ", " RG_MT_SCHEMA1_SIGNED ", " RG_MT_SCHEMA1
#define REFERRERS_TYPE	"application/vnd.oci.image.index.v1+json"

struct scan {
	const struct rg_api_opts *o;
	char **repos;
	size_t nrepos, next, done, ntags, requests;
	pthread_mutex_t lock;
	int status, no_referrers;
	time_t started, shown;
};

struct worker {
	struct scan *s;
	struct rg_http h;
	struct rg_buf out, body;
	struct rg_configs *configs;
};

static void
fail(struct scan *s, const char *what, const char *path, long code,
    const struct rg_http_resp *r)
{
	pthread_mutex_lock(&s->lock);
	if (code < 0)
		warnx("%s%s: %s: %s", s->o->url, path, what, r->error);
	else
		warnx("%s%s: %s: HTTP %ld%s%s", s->o->url, path, what, code,
		    r->error[0] ? ": " : "", r->error);
	s->status = RG_EXIT_PARTIAL;
	pthread_mutex_unlock(&s->lock);
}

/* A request's path, checked: -1 (reported) when it does not fit. */
static int
req_path(struct scan *s, char *buf, size_t size, const char *fmt, ...)
{
	static const struct rg_http_resp toolong = {
		.error = "the request's path is too long"
	};
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = rg_vpath(buf, size, fmt, ap);
	va_end(ap);
	if (r != 0)
		fail(s, "request", "", -1, &toolong);
	return r;
}

/* GET path, counted; its status */
static long
get(struct worker *w, const char *path, const char *accept, struct rg_http_resp *r)
{
	long code = rg_http_get(&w->h, path, accept, &w->body, r);

	pthread_mutex_lock(&w->s->lock);
	w->s->requests++;
	pthread_mutex_unlock(&w->s->lock);
	return code;
}

/* An image's config, once per digest: created and platform. */
static void
config(struct worker *w, const char *repo, struct rg_image *m)
{
	struct rg_config *c = &w->configs->v[rg_digest_hash(&m->m.config) &
	    (RG_CONFIG_CACHE - 1)];
	char path[RG_REPO_MAX + RG_DIGEST_STRLEN + 32], ds[RG_DIGEST_STRLEN + 1];
	struct rg_http_resp r;
	long code;

	if (!c->used || memcmp(&c->digest, &m->m.config, sizeof(c->digest)) != 0) {
		rg_config_clear(c);
		c->used = 1;
		c->digest = m->m.config;
		rg_digest_format(&m->m.config, ds);
		if (req_path(w->s, path, sizeof(path), "/v2/%s/blobs/%s", repo, ds) != 0)
			;	/* reported */
		else if ((code = get(w, path, NULL, &r)) != 200)
			fail(w->s, "image config", path, code, &r);
		else if (rg_config_parse(w->body.p, w->body.len, &c->created,
		    &c->has_created, &c->platform, &c->labels) != 0)
			fail(w->s, "image config: not a JSON object", path, 200, &r);
	}
	rg_image_config(m, c);
}

/*
 * The manifest ref (a tag or a digest) of repo, into the repository's
 * images; NULL when it could not be had (reported, but with absent_ok a
 * 404: there is none).
 */
static struct rg_image *
manifest(struct worker *w, const char *repo, const char *ref,
    struct rg_images *imgs, int absent_ok)
{
	char path[RG_REPO_MAX + RG_TAG_MAX + RG_DIGEST_STRLEN + 32], perr[128];
	struct rg_digest got, said;
	struct rg_http_resp r;
	struct rg_image *m;
	long code;

	if (req_path(w->s, path, sizeof(path), "/v2/%s/manifests/%s", repo, ref) != 0)
		return NULL;
	if ((code = get(w, path, ACCEPT, &r)) != 200) {
		if (code != 404 || !absent_ok)
			fail(w->s, "manifest", path, code, &r);
		return NULL;
	}
	rg_digest_of(w->body.p, w->body.len, &got);
	if (r.digest[0] != '\0') {
		if (rg_digest_parse(r.digest, strlen(r.digest), &said) != 0) {
			fail(w->s, "manifest: Docker-Content-Digest is not sha256", path, 200, &r);
			return NULL;
		}
		/* a signed schema 1 manifest's digest is of its payload alone */
		if (memcmp(&got, &said, sizeof(got)) != 0 &&
		    strstr(r.content_type, "prettyjws") == NULL) {
			fail(w->s, "manifest: the body does not match "
			    "Docker-Content-Digest", path, 200, &r);
			return NULL;
		}
		got = said;
	}
	if ((m = rg_images_find(imgs, &got)) != NULL)
		return m;
	if ((m = rg_images_add(imgs, &got)) == NULL)
		rg_nomem();
	rg_images_sort(imgs);		/* found by bsearch; a repository's few */
	m = rg_images_find(imgs, &got);
	m->size = (int64_t)w->body.len;
	if (rg_manifest_parse(w->body.p, w->body.len, &m->m, perr, sizeof(perr)) != 0) {
		m->error = strdup(perr);
		fail(w->s, "manifest does not parse", path, 200, &r);
		return m;
	}
	if (rg_image_parsed(m))
		config(w, repo, m);
	return m;
}

/* Children of indexes, and referrers where the registry lists them, by digest. */
static void
by_digest(struct worker *w, const char *repo, struct rg_images *imgs)
{
	char ds[RG_DIGEST_STRLEN + 1], path[RG_REPO_MAX + RG_DIGEST_STRLEN + 32];
	struct rg_digest *todo = NULL, *kids = NULL, d, subj;
	int has_subject;
	size_t ntodo = 0, nkids, i, k;
	struct rg_http_resp r;
	struct rg_image *m;
	json_t *idx, *v;
	long code;

	/* images move as others are added: they are known by digest */
#define PUSH(dg) do { \
	if ((todo = realloc(todo, (ntodo + 1) * sizeof(*todo))) == NULL) \
		rg_nomem(); \
	todo[ntodo++] = (dg); \
} while (0)
	for (i = 0; i < imgs->n; i++)
		PUSH(imgs->v[i].digest);
	for (k = 0; k < ntodo; k++) {
		if ((m = rg_images_find(imgs, &todo[k])) == NULL)
			continue;
		nkids = m->ok ? m->m.children.n : 0;
		has_subject = m->ok && m->m.subject != NULL &&
		    rg_digest_parse(m->m.subject, strlen(m->m.subject), &subj) == 0;
		if ((kids = realloc(kids, (nkids + 1) * sizeof(*kids))) == NULL)
			rg_nomem();
		for (i = 0; i < nkids; i++)
			kids[i] = m->m.children.v[i].digest;
		for (i = 0; i < nkids; i++) {
			if (rg_images_find(imgs, &kids[i]) != NULL)
				continue;
			rg_digest_format(&kids[i], ds);
			if (manifest(w, repo, ds, imgs, 0) != NULL)
				PUSH(kids[i]);
		}
		/* the subject of a referrer, untagged or not: the scan says
		 * whether it is there (rg-refs deletes a referrer whose
		 * subject is gone) */
		if (has_subject && rg_images_find(imgs, &subj) == NULL) {
			rg_digest_format(&subj, ds);
			if (manifest(w, repo, ds, imgs, 1) != NULL)
				PUSH(subj);
		}
		if (w->s->no_referrers)
			continue;
		rg_digest_format(&todo[k], ds);
		if (req_path(w->s, path, sizeof(path), "/v2/%s/referrers/%s", repo,
		    ds) != 0)
			continue;
		code = get(w, path, REFERRERS_TYPE, &r);
		if (code != 200 || (idx = json_loadb(w->body.p, w->body.len, 0,
		    NULL)) == NULL) {
			if (code == 404 || code == 200)
				w->s->no_referrers = 1;	/* distribution 2.8: not there */
			continue;
		}
		json_array_foreach(json_object_get(idx, "manifests"), i, v) {
			const char *s = rg_str(v, "digest");

			if (s != NULL && rg_digest_parse(s, strlen(s), &d) == 0 &&
			    rg_images_find(imgs, &d) == NULL &&
			    manifest(w, repo, s, imgs, 0) != NULL)
				PUSH(d);
		}
		json_decref(idx);
	}
#undef PUSH
	free(todo);
	free(kids);
}

static int scan(const struct rg_api_opts *o);

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One repository: its records, into w->out. */
static void
repository(struct worker *w, const char *repo)
{
	char path[RG_REPO_MAX + 1200];
	struct rg_images imgs = { 0 };
	struct rg_http_resp r;
	char **tags = NULL;
	struct rg_digest *of = NULL, d;	/* what each tag points at */
	char ds[RG_DIGEST_STRLEN + 1];
	struct rg_image *m;
	size_t ntags = 0, i, bad, pages;
	long code;

	bad = 0;
	code = rg_api_tags(&w->h, repo, w->s->o->page, &tags, &ntags, &bad,
	    &pages, &w->body, &r, path, sizeof(path));
	pthread_mutex_lock(&w->s->lock);
	w->s->requests += pages;
	pthread_mutex_unlock(&w->s->lock);
	if (code != 200)
		fail(w->s, "tags", path, code, &r);
	if (bad > 0)
		fail(w->s, "tags not valid as names, ignored", path, 200, &r);
	if (ntags > 1)
		qsort(tags, ntags, sizeof(*tags), by_name);
	if (ntags > 0 && (of = calloc(ntags, sizeof(*of))) == NULL)
		rg_nomem();
	for (i = 0; i < ntags; i++)
		if ((m = manifest(w, repo, tags[i], &imgs, 0)) != NULL) {
			json_array_append_new(m->tags, json_string(tags[i]));
			of[i] = m->digest;
		}
	/* what referrer tags (sha256-<hex>.sig) name, tagged or not */
	for (i = 0; i < ntags; i++)
		if (rg_referrer_tag(tags[i], &d) && rg_images_find(&imgs, &d) ==
		    NULL) {
			rg_digest_format(&d, ds);
			(void)manifest(w, repo, ds, &imgs, 1);
		}
	by_digest(w, repo, &imgs);
	rg_images_created(&imgs);

	if (rg_buf_record(&w->out, rg_record_new(RG_T_REPO, repo)) == -1)
		rg_nomem();
	for (i = 0; i < ntags; i++) {
		if ((m = rg_images_find(&imgs, &of[i])) == NULL)
			continue;	/* could not be read: reported */
		if (rg_tag_write(&w->out, &imgs, repo, tags[i], &m->digest, 0, m) == -1)
			rg_nomem();
	}
	for (i = 0; i < imgs.n; i++)
		if (rg_image_write(&w->out, &imgs, &imgs.v[i], repo) == -1)
			rg_nomem();
	for (i = 0; i < ntags; i++)
		free(tags[i]);
	free(tags);
	free(of);
	rg_images_free(&imgs);
}

/* progress on stderr, at most once a second, when it is a terminal */
static void
progress(struct scan *s, int last)
{
	time_t now = time(NULL);

	if (!s->o->progress || (!last && now == s->shown))
		return;
	s->shown = now;
	fprintf(stderr, "\rrg-scan: %zu/%zu repositories, %zu requests, %.0f/s%s",
	    s->done, s->nrepos, s->requests, (double)s->requests /
	    (double)(now > s->started ? now - s->started : 1), last ? "\n" : "");
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct scan *s = w->s;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		i = s->next < s->nrepos ? s->next++ : SIZE_MAX;
		pthread_mutex_unlock(&s->lock);
		if (i == SIZE_MAX)
			return NULL;
		repository(w, s->repos[i]);
		pthread_mutex_lock(&s->lock);
		s->done++;
		progress(s, 0);
		pthread_mutex_unlock(&s->lock);
		s->o->write(s->o->arg, &w->out);
	}
}

/* The catalog, every page; -1 (reported) when it cannot be read at all. */
static int
catalog(struct scan *s, struct worker *w)
{
	char path[1200];
	struct rg_http_resp r;
	const char *next, *name;
	json_t *j, *v;
	size_t i, pages = 0;
	long code;

	if (req_path(s, path, sizeof(path), "/v2/_catalog?n=%d", s->o->page) != 0)
		return -1;
	for (;;) {
		if ((code = get(w, path, "application/json", &r)) != 200 ||
		    (j = json_loadb(w->body.p, w->body.len, 0, NULL)) == NULL) {
			fail(s, "catalog", path, code, &r);
			return -1;
		}
		json_array_foreach(json_object_get(j, "repositories"), i, v) {
			if ((name = json_string_value(v)) == NULL || !rg_repo_valid(name)) {
				fail(s, "not a valid repository name, ignored", path, 200, &r);
				continue;
			}
			if (s->o->filter != NULL && !rg_regex_match(s->o->filter, name))
				continue;
			if ((s->repos = realloc(s->repos, (s->nrepos + 1) *
			    sizeof(*s->repos))) == NULL ||
			    (s->repos[s->nrepos++] = strdup(name)) == NULL)
				rg_nomem();
		}
		json_decref(j);
		if ((next = rg_http_next(r.link)) == NULL)
			break;
		if (rg_http_next_ok(path, next, ++pages, s->nrepos, &r) != 0) {
			fail(s, "catalog", path, -1, &r);
			return -1;
		}
		if (req_path(s, path, sizeof(path), "%s", next) != 0)
			return -1;
	}
	if (s->nrepos > 1)
		qsort(s->repos, s->nrepos, sizeof(*s->repos), by_name);
	return 0;
}

/*
 * Scan the registry at o->url, with the credentials and certificates found
 * for it (o->http is filled in): the scan record, the records of each
 * repository a repository at a time, and the scan-end record are handed to
 * o->write.  Returns 0, 1 when some of it could not be read (each
 * reported), 2 when nothing could.
 */
int
rg_api_scan(struct rg_api_opts *o, const char *repo_pattern)
{
	struct rg_buf rec = { 0 };
	int st;

	if (rg_url_userinfo(o->url)) {
		warnx("%s", RG_URL_USERINFO);
		return RG_EXIT_FATAL;
	}
	if (rg_http_global_init() != 0 || rg_api_credentials(o->url, &o->http) != 0)
		return RG_EXIT_FATAL;
	if (rg_buf_record(&rec, rg_scan_record("api", o->url, repo_pattern)) == -1)
		rg_nomem();
	o->write(o->arg, &rec);
	st = scan(o);
	if (rg_buf_record(&rec, rg_scan_end_record(st == 0)) == -1)
		rg_nomem();
	o->write(o->arg, &rec);
	rg_buf_free(&rec);
	return st;
}

static int
scan(const struct rg_api_opts *o)
{
	struct scan s;
	struct worker *w;
	pthread_t *t;
	size_t k;
	int i, e, n, jobs = o->jobs > 0 ? o->jobs : 1;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.started = time(NULL);
	pthread_mutex_init(&s.lock, NULL);
	if ((w = calloc((size_t)jobs, sizeof(*w))) == NULL ||
	    (t = calloc((size_t)jobs, sizeof(*t))) == NULL)
		rg_nomem();
	for (n = jobs, i = 0; i < jobs; i++) {
		w[i].s = &s;
		if (rg_http_init(&w[i].h, o->url, &o->http) != 0 ||
		    (w[i].configs = calloc(1, sizeof(*w[i].configs))) == NULL)
			rg_nomem();
	}
	if (catalog(&s, &w[0]) != 0) {
		s.status = RG_EXIT_FATAL;
		jobs = 0;
	}
	for (i = 1; i < jobs; i++)
		if ((e = rg_thread_start(&t[i], work, &w[i])) != 0) {
			warnx("a thread for job %d: %s; the %d started do the work",
			    i + 1, strerror(e), i);
			jobs = i;	/* the workers share one list of repositories */
		}
	if (jobs > 0)
		work(&w[0]);
	for (i = 1; i < jobs; i++)
		pthread_join(t[i], NULL);
	if (jobs > 0)
		progress(&s, 1);
	for (i = 0; i < n; i++) {
		rg_http_free(&w[i].h);
		rg_buf_free(&w[i].out);
		rg_buf_free(&w[i].body);
		for (k = 0; k < RG_CONFIG_CACHE; k++)
			rg_config_clear(&w[i].configs->v[k]);
		free(w[i].configs);
	}
	for (i = 0; (size_t)i < s.nrepos; i++)
		free(s.repos[i]);
	free(s.repos);
	free(w);
	free(t);
	pthread_mutex_destroy(&s.lock);
	return s.status;
}
