/*
 * s3.c: the requests rg makes of S3.
 *
 * ListObjectsV2 pages, GET and HEAD of one key.  Signed with AWS SigV4 by
 * libcurl (http.c), on one kept-alive connection per rg_s3; http.c retries
 * 5xx (503 SlowDown among them) and connection errors with backoff.  Keys
 * and prefixes given here are the registry's paths
 * ("docker/registry/v2/..."), below its rootdirectory.  Credentials are
 * never printed.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "s3.h"

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* s percent-encoded as SigV4 wants it ('/' kept when slash); -1 when it does not fit */
static int
enc(const char *s, int slash, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		if (unreserved((unsigned char)*s) || (slash && *s == '/')) {
			if (o + 1 >= size)
				return -1;
			out[o++] = *s;
		} else {
			if (o + 3 >= size)
				return -1;
			out[o++] = '%';
			out[o++] = hex[(unsigned char)*s >> 4];
			out[o++] = hex[(unsigned char)*s & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

/*
 * Is path plainly relative: no empty, "." or ".." component (a prefix may
 * end with '/')?  A key below a registry's root can be anything; one with
 * such a component could name another key once a URL is normalised, so
 * rg never asks for it.
 */
int
rg_s3_plain(const char *path)
{
	const char *p = path, *slash;
	size_t n;

	for (;; p = slash + 1) {
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (slash == NULL && n == 0 && p != path)
			return 1;	/* a prefix's trailing '/' */
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return *path == '\0';	/* (the root itself: "") */
		if (slash == NULL)
			return 1;
	}
}

/* The full key of a registry path: rootdir/path; -1 (EINVAL) for a path not plain. */
static int
full_key(const struct rg_s3 *s, const char *path, char *out, size_t size)
{
	const char *root = s->conf->rootdir;

	if (!rg_s3_plain(path)) {
		errno = EINVAL;
		rg_msg(((struct rg_s3 *)s)->error, sizeof(s->error), "%s: a key "
		    "with an empty, . or .. component: not touched", path);
		return -1;
	}
	return rg_path(out, size, "%s%s%s", root, *root ? "/" : "", path);
}

/*
 * "/" and the registry path's full key, percent-encoded ('/' kept): the
 * URL path of its object.  -1 (EINVAL for a path not plain, else
 * ENAMETOOLONG).
 */
#define OBJECT_PATH	(3 * RG_S3_KEY_MAX + 2)

static int
object_path(const struct rg_s3 *s, const char *path, char out[OBJECT_PATH])
{
	char key[RG_S3_KEY_MAX + 1];

	if (full_key(s, path, key, sizeof(key)) != 0)
		return -1;
	out[0] = '/';
	if (enc(key, 1, out + 1, OBJECT_PATH - 1) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static char *
dup_or_null(const char *s)
{
	char *d;

	if (s == NULL || *s == '\0')
		return NULL;
	if ((d = strdup(s)) == NULL)
		rg_nomem();
	return d;
}

/* s without the blanks around it, in place */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * The keys of a profile (AWS_PROFILE, else "default") in the shared
 * credentials file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials),
 * as the AWS tools read it; nothing when there is none.
 */
static void
shared_credentials(struct rg_s3_conf *c)
{
	const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE");
	const char *profile = getenv("AWS_PROFILE"), *home = getenv("HOME");
	char path[4096], *buf, *line, *next, *eq, *k, *v;
	size_t len;
	int in = 0;

	if (profile == NULL || *profile == '\0')
		profile = "default";
	if (file == NULL || *file == '\0') {
		if (home == NULL || rg_path(path, sizeof(path), "%s/.aws/credentials",
		    home) != 0)
			return;
		file = path;
	}
	if (rg_read_file(AT_FDCWD, file, 1 << 20, &buf, &len) != 0)
		return;
	for (line = buf; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '[') {
			k = trim(line + 1);
			if ((v = strchr(k, ']')) != NULL)
				*v = '\0';
			in = strcmp(trim(k), profile) == 0;
			continue;
		}
		if (!in || *line == '#' || *line == ';' ||
		    (eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		k = trim(line);
		v = trim(eq + 1);
		if (strcmp(k, "aws_access_key_id") == 0 && c->access_key == NULL)
			c->access_key = dup_or_null(v);
		else if (strcmp(k, "aws_secret_access_key") == 0 &&
		    c->secret_key == NULL)
			c->secret_key = dup_or_null(v);
		else if (strcmp(k, "aws_session_token") == 0 &&
		    c->session_token == NULL)
			c->session_token = dup_or_null(v);
	}
	explicit_bzero(buf, len);
	free(buf);
}

/*
 * s3://BUCKET[/ROOTDIR]: the bucket and the registry's rootdirectory; the
 * endpoint given (or AWS_ENDPOINT_URL), the region (AWS_REGION,
 * AWS_DEFAULT_REGION, else us-east-1) and the keys from the environment,
 * else from the shared credentials file.
 * -1 (said in errno: EINVAL) when url is not of that form.
 */
int
rg_s3_conf_url(struct rg_s3_conf *c, const char *url, const char *endpoint)
{
	const char *b = url + 5, *slash, *r;
	size_t n;

	memset(c, 0, sizeof(*c));
	if (strncmp(url, "s3://", 5) != 0) {
		errno = EINVAL;
		return -1;
	}
	slash = strchr(b, '/');
	n = slash ? (size_t)(slash - b) : strlen(b);
	if (n < 3 || n > 63 || strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-")
	    < n) {
		errno = EINVAL;
		return -1;
	}
	if ((c->bucket = strndup(b, n)) == NULL)
		rg_nomem();
	r = slash ? slash + 1 : "";
	if ((c->rootdir = strdup(r)) == NULL)
		rg_nomem();
	n = strlen(c->rootdir);
	while (n > 0 && c->rootdir[n - 1] == '/')
		c->rootdir[--n] = '\0';
	if (endpoint == NULL)
		endpoint = getenv("AWS_ENDPOINT_URL");
	c->endpoint = dup_or_null(endpoint);
	if (c->endpoint != NULL)
		while ((n = strlen(c->endpoint)) > 0 && c->endpoint[n - 1] == '/')
			c->endpoint[n - 1] = '\0';
	if ((r = getenv("AWS_REGION")) == NULL || *r == '\0')
		r = getenv("AWS_DEFAULT_REGION");
	c->region = dup_or_null(r != NULL && *r ? r : "us-east-1");
	c->access_key = dup_or_null(getenv("AWS_ACCESS_KEY_ID"));
	c->secret_key = dup_or_null(getenv("AWS_SECRET_ACCESS_KEY"));
	c->session_token = dup_or_null(getenv("AWS_SESSION_TOKEN"));
	if (c->access_key == NULL || c->secret_key == NULL) {
		free(c->access_key);
		free(c->secret_key);
		free(c->session_token);
		c->access_key = c->secret_key = c->session_token = NULL;
		shared_credentials(c);
	}
	return 0;
}

void
rg_s3_conf_free(struct rg_s3_conf *c)
{
	free(c->bucket);
	free(c->rootdir);
	free(c->endpoint);
	free(c->region);
	free(c->access_key);
	free(c->secret_key);
	free(c->session_token);
	free(c->writes);
	memset(c, 0, sizeof(*c));
}

/* A client of the bucket c names; -1 (s->error) when it cannot be set up. */
int
rg_s3_open(struct rg_s3 *s, const struct rg_s3_conf *c)
{
	char base[1024];

	memset(s, 0, sizeof(*s));
	s->conf = c;
	if (c->access_key == NULL || c->secret_key == NULL) {
		rg_msg(s->error, sizeof(s->error), "no credentials: set "
		    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE "
		    "for ~/.aws/credentials");
		return -1;
	}
	if (c->endpoint != NULL && rg_url_userinfo(c->endpoint)) {
		rg_msg(s->error, sizeof(s->error), "the endpoint: %s",
		    RG_URL_USERINFO);
		return -1;
	}
	if (rg_path(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", c->region) != 0 ||
	    (c->endpoint != NULL ? rg_path(base, sizeof(base), "%s/%s",
	    c->endpoint, c->bucket) : rg_path(base, sizeof(base),
	    "https://%s.s3.%s.amazonaws.com", c->bucket, c->region)) != 0) {
		rg_msg(s->error, sizeof(s->error), "the endpoint or region is "
		    "too long");
		return -1;
	}
	s->ho.user = c->access_key;
	s->ho.password = c->secret_key;
	s->ho.session_token = c->session_token;
	s->ho.sigv4 = s->sigv4;
	s->ho.cacert = c->cacert;
	s->ho.insecure = c->insecure;
	if (rg_http_global_init() != 0) {
		rg_msg(s->error, sizeof(s->error), "libcurl cannot be loaded");
		return -1;
	}
	if (rg_http_init(&s->h, base, &s->ho) != 0)
		rg_nomem();
	return 0;
}

void
rg_s3_close(struct rg_s3 *s)
{
	rg_http_free(&s->h);
	rg_buf_free(&s->body);
}

/* S3's error code from an error answer ("NoSuchBucket", ...), or "". */
static void
s3_error(const struct rg_buf *body, char *out, size_t size)
{
	const char *p, *e;

	out[0] = '\0';
	if (body->len == 0 || (p = memmem(body->p, body->len, "<Code>", 6)) == NULL)
		return;
	p += 6;
	if ((e = memmem(p, body->len - (size_t)(p - body->p), "</Code>", 7)) == NULL ||
	    rg_s3_text(p, (size_t)(e - p), out, size) != 0)
		out[0] = '\0';
}

/* errno and s->error for an answer that is not a success */
static int
failed(struct rg_s3 *s, const char *what, long code,
    const struct rg_http_resp *r)
{
	char c[64];

	s3_error(&s->body, c, sizeof(c));
	if (code == -1) {
		rg_msg(s->error, sizeof(s->error), "%s: %s", what, r->error);
		errno = EIO;
	} else {
		rg_msg(s->error, sizeof(s->error), "%s: HTTP %ld%s%s", what, code,
		    *c ? " " : "", c);
		errno = code == 404 ? ENOENT : code == 403 ? EACCES : EIO;
		if (code == 404 && strcmp(c, "NoSuchBucket") == 0)
			errno = ENXIO;
	}
	return -1;
}

/*
 * The server's clock against ours.  S3 keeps its own times (LastModified)
 * and rg compares them with its own (the scan's, --min-age): a server
 * behind by a minute would make what was pushed in the minute after a
 * scan look older than it.  The difference, from the Date of the first
 * answer (to the second), is measured once a process, so that every
 * thread's times agree; under 2 seconds it is taken as none, else one
 * second less is taken off, so that a time read is never older than the
 * truth (what looks newer is kept).
 */
static pthread_mutex_t skew_lock = PTHREAD_MUTEX_INITIALIZER;
static int skew_known;
static time_t skew;

/* An HTTP date (RFC 7231's IMF-fixdate), or 0 when it is none. */
static time_t
http_date(const char *v)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm) == NULL ||
	    (t = timegm(&tm)) == (time_t)-1)
		return 0;
	return t;
}

static void
skew_measure(const struct rg_http_resp *r)
{
	time_t d, now = time(NULL);

	if (skew_known || (d = http_date(r->date)) == 0)	/* (a racy read; */
		return;						/* the lock decides) */
	pthread_mutex_lock(&skew_lock);
	if (!skew_known) {
		skew = d - now;
		if (skew >= 60 || skew <= -60)
			warnx("the S3 server's clock is %lld s %s this machine's: "
			    "its times are read on this machine's clock",
			    (long long)(skew < 0 ? -skew : skew), skew < 0 ?
			    "behind" : "ahead of");
		skew = skew >= 2 || skew <= -2 ? skew - 1 : 0;
		skew_known = 1;
	}
	pthread_mutex_unlock(&skew_lock);
}

/* A time of the server's, on this machine's clock (0 stays 0). */
static time_t
local_time(time_t server)
{
	time_t k;

	pthread_mutex_lock(&skew_lock);
	k = skew;
	pthread_mutex_unlock(&skew_lock);
	return server != 0 ? server - k : 0;
}

struct strip {
	size_t n;		/* the rootdir's length, with its '/' */
	rg_s3_entry_fn *fn;
	void *arg;
};

/* an entry with the rootdir taken off its key */
static int
strip_root(void *arg, const struct rg_s3_entry *e)
{
	struct strip *st = arg;
	struct rg_s3_entry o = *e;

	if (strlen(e->key) < st->n)
		return 0;	/* (not below the prefix asked for: S3 would not) */
	o.key = e->key + st->n;
	o.mtime = local_time(o.mtime);
	return st->fn(st->arg, &o);
}

/*
 * Every key below prefix (a registry path ending in '/', or ""), a page of
 * 1000 at a time, in S3's order; delimited: only the keys directly below
 * it, and its sub-"directories" as prefixes.  fn's nonzero return stops
 * the walk and is returned; -1 (errno, s->error) when S3 did not answer.
 */
int
rg_s3_list(struct rg_s3 *s, const char *prefix, int delimited,
    rg_s3_entry_fn *fn, void *arg)
{
	char key[RG_S3_KEY_MAX + 1], ekey[3 * RG_S3_KEY_MAX + 1];
	char token[2048], etok[3 * 2048 + 1], path[4 * RG_S3_KEY_MAX + 6200];
	char last[2048];
	struct rg_http_resp r;
	struct strip st = { 0, fn, arg };
	long code, pages = 0;
	int more = 1, rr;

	token[0] = last[0] = '\0';
	if (full_key(s, prefix, key, sizeof(key)) != 0 ||
	    enc(key, 0, ekey, sizeof(ekey)) != 0) {
		if (errno != EINVAL) {
			rg_msg(s->error, sizeof(s->error), "%s: key too long", prefix);
			errno = ENAMETOOLONG;
		}
		return -1;
	}
	st.n = strlen(key) - strlen(prefix);
	while (more) {
		if (enc(token, 0, etok, sizeof(etok)) != 0 ||
		    rg_path(path, sizeof(path), "/?%s%s%s%slist-type=2&"
		    "max-keys=1000&prefix=%s", *token ? "continuation-token=" : "",
		    etok, *token ? "&" : "", delimited ? "delimiter=%2F&" : "",
		    ekey) != 0) {
			rg_msg(s->error, sizeof(s->error), "%s: listing: the "
			    "continuation token is too long", prefix);
			errno = EIO;
			return -1;
		}
		code = rg_http_get(&s->h, path, NULL, &s->body, &r);
		if (code != 200)
			return failed(s, prefix[0] ? prefix : "/", code, &r);
		skew_measure(&r);
		rr = rg_s3_parse_list(s->body.p, s->body.len, strip_root, &st,
		    &more, token, sizeof(token));
		if (rr == -1) {
			rg_msg(s->error, sizeof(s->error), "%s: listing: an answer "
			    "that is not a ListBucketResult", prefix);
			errno = EIO;
			return -1;
		}
		if (rr != 0)
			return rr;
		/* a listing that does not move on would go on for ever */
		if (more && (strcmp(token, last) == 0 || ++pages >= RG_S3_PAGES_MAX)) {
			rg_msg(s->error, sizeof(s->error), "%s: listing: %s", prefix,
			    pages >= RG_S3_PAGES_MAX ? "more than "
			    RG_S3_PAGES_MAX_S " pages" : "the next page is the "
			    "same page (its continuation token again)");
			errno = EIO;
			return -1;
		}
		memcpy(last, token, sizeof(last));
	}
	return 0;
}

/*
 * GET the object at a registry path, max bytes at most, into a new *buf;
 * *r the answer's headers.  0, or -1 (errno, s->error).
 */
static int
get_object(struct rg_s3 *s, const char *path, size_t max, char **buf,
    size_t *len, struct rg_http_resp *r)
{
	char url[OBJECT_PATH];
	long code;

	if (object_path(s, path, url) != 0)
		return -1;
	code = rg_http_get(&s->h, url, NULL, &s->body, r);
	if (code != 200)
		return failed(s, path, code, r);
	if (s->body.len > max) {
		rg_msg(s->error, sizeof(s->error), "%s: larger than %zu bytes",
		    path, max);
		errno = EFBIG;
		return -1;
	}
	if ((*buf = malloc(s->body.len + 1)) == NULL)
		rg_nomem();
	memcpy(*buf, s->body.p, s->body.len);
	(*buf)[s->body.len] = '\0';
	*len = s->body.len;
	return 0;
}

/* The object at a registry path, max bytes at most: rg_s3_list's answers. */
int
rg_s3_get(struct rg_s3 *s, const char *path, size_t max, char **buf,
    size_t *len, time_t *mtime)
{
	struct rg_http_resp r;

	if (get_object(s, path, max, buf, len, &r) != 0)
		return -1;
	skew_measure(&r);
	if (mtime != NULL)
		*mtime = r.filetime > 0 ? local_time((time_t)r.filetime) : 0;
	return 0;
}

/*
 * GET url and hand each <name> element of the answer to fn: 0, or -1
 * (errno, s->error saying what of path could not be read).
 */
static int
get_blocks(struct rg_s3 *s, const char *url, const char *path,
    const char *what, const char *name,
    int (*fn)(void *arg, const char *b, size_t n), void *arg)
{
	struct rg_http_resp r;
	long code;

	if ((code = rg_http_get(&s->h, url, NULL, &s->body, &r)) != 200)
		return failed(s, path, code, &r);
	if (rg_s3_blocks(s->body.p, s->body.len, name, fn, arg) != 0) {
		rg_msg(s->error, sizeof(s->error), "%s: %s: an answer it cannot "
		    "read", path, what);
		errno = EIO;
		return -1;
	}
	return 0;
}

struct upload_find {
	const char *key;
	char *id;
	size_t idsize;
	time_t initiated;
	int found;
};

/* an <Upload> of the listing: the latest one of the key */
static int
on_upload(void *arg, const char *b, size_t n)
{
	struct upload_find *u = arg;
	char key[RG_S3_KEY_MAX + 1], id[1024], t[64];
	time_t when;

	if (rg_s3_field(b, n, "Key", key, sizeof(key)) != 0 ||
	    rg_s3_field(b, n, "UploadId", id, sizeof(id)) != 0 ||
	    rg_s3_field(b, n, "Initiated", t, sizeof(t)) != 0 ||
	    rg_time_parse(t, &when) != 0)
		return -1;
	if (strcmp(key, u->key) != 0 || (u->found && when < u->initiated) ||
	    rg_path(u->id, u->idsize, "%s", id) != 0)
		return 0;
	u->initiated = when;
	u->found = 1;
	return 0;
}

struct parts {
	int64_t size;
	time_t last;
	char part[16];		/* the last part's number, for the next page */
};

static int
on_part(void *arg, const char *b, size_t n)
{
	struct parts *p = arg;
	char v[32], t[64];
	char *end;
	long long sz;
	time_t when;

	if (rg_s3_field(b, n, "Size", v, sizeof(v)) != 0 ||
	    (sz = strtoll(v, &end, 10)) < 0 || *end != '\0' || end == v ||
	    sz > INT64_MAX - p->size ||
	    rg_s3_field(b, n, "PartNumber", p->part, sizeof(p->part)) != 0 ||
	    rg_s3_field(b, n, "LastModified", t, sizeof(t)) != 0 ||
	    rg_time_parse(t, &when) != 0)
		return -1;
	p->size += sz;
	if (when > p->last)
		p->last = when;
	return 0;
}

/*
 * The incomplete multipart upload of the object at a registry path (an
 * interrupted push's _uploads/<uuid>/data): its id, the bytes of its
 * parts and when the last came (or when it began); -1 with errno ENOENT
 * when there is none, EIO (s->error) when S3 did not answer.
 */
int
rg_s3_upload(struct rg_s3 *s, const char *path, char *id, size_t idsize,
    int64_t *size, time_t *mtime)
{
	char key[RG_S3_KEY_MAX + 1], ekey[3 * RG_S3_KEY_MAX + 1];
	char opath[OBJECT_PATH], eid[3 * 1024 + 1];
	char url[OBJECT_PATH + 3 * 1024 + 64], t[16];
	struct upload_find u = { key, id, idsize, 0, 0 };
	struct parts p = { 0, 0, "" };
	int more = 1;

	if (full_key(s, path, key, sizeof(key)) != 0 ||
	    object_path(s, path, opath) != 0)
		return -1;
	if (enc(key, 0, ekey, sizeof(ekey)) != 0 ||
	    rg_path(url, sizeof(url), "/?prefix=%s&uploads=", ekey) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (get_blocks(s, url, path, "uploads", "Upload", on_upload, &u) != 0)
		return -1;
	if (!u.found) {
		errno = ENOENT;
		return -1;
	}
	p.last = u.initiated;
	while (more) {
		rg_path(t, sizeof(t), "%s", p.part);
		if (enc(id, 0, eid, sizeof(eid)) != 0 ||
		    rg_path(url, sizeof(url), "%s?%s%s%suploadId=%s", opath,
		    *t ? "part-number-marker=" : "", t, *t ? "&" : "", eid) != 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (get_blocks(s, url, path, "parts", "Part", on_part, &p) != 0)
			return -1;
		more = memmem(s->body.p, s->body.len, "<IsTruncated>true<", 18) != NULL &&
		    strcmp(p.part, t) != 0;
	}
	*size = p.size;
	*mtime = local_time(p.last);
	return 0;
}

/* s with XML's five special characters escaped, appended to b */
static int
xml_add(struct rg_buf *b, const char *s)
{
	const char *e;

	for (; *s; s++) {
		e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" :
		    *s == '"' ? "&quot;" : *s == '\'' ? "&apos;" : NULL;
		if (rg_buf_add(b, e ? e : s, e ? strlen(e) : 1) == -1)
			return -1;
	}
	return 0;
}

struct del_errors {
	char key[RG_S3_KEY_MAX + 1], code[64];
	int n;
};

static int
on_del_error(void *arg, const char *b, size_t n)
{
	struct del_errors *d = arg;

	if (d->n++ == 0) {
		if (rg_s3_field(b, n, "Key", d->key, sizeof(d->key)) != 0)
			d->key[0] = '\0';
		if (rg_s3_field(b, n, "Code", d->code, sizeof(d->code)) != 0)
			d->code[0] = '\0';
	}
	return 0;
}

/*
 * Delete the objects at n registry paths, 1000 a request (DeleteObjects,
 * quiet: only failures are answered); 0, or -1 (errno EIO, s->error
 * naming the first key S3 would not delete).  A key already gone is no
 * error.
 */
int
rg_s3_delete(struct rg_s3 *s, char *const *paths, size_t n)
{
	static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<Delete><Quiet>true</Quiet>";
	unsigned char md5[16];
	char key[RG_S3_KEY_MAX + 1], hdr[64], b64[32];
	struct rg_buf body = { 0 };
	struct rg_http_resp r;
	struct del_errors de;
	size_t i, k;
	unsigned int mdlen;
	long code;

	for (i = 0; i < n; i += k) {
		body.len = 0;
		if (rg_buf_add(&body, head, strlen(head)) == -1)
			rg_nomem();
		for (k = 0; k < 1000 && i + k < n; k++) {
			if (full_key(s, paths[i + k], key, sizeof(key)) != 0) {
				rg_buf_free(&body);
				if (errno != EINVAL)
					errno = ENAMETOOLONG;
				return -1;
			}
			if (rg_buf_add(&body, "<Object><Key>", 13) == -1 ||
			    xml_add(&body, key) == -1 ||
			    rg_buf_add(&body, "</Key></Object>", 15) == -1)
				rg_nomem();
		}
		if (rg_buf_add(&body, "</Delete>", 9) == -1)
			rg_nomem();
		/* AWS wants the body's MD5 with DeleteObjects */
		if (EVP_Digest(body.p, body.len, md5, &mdlen, EVP_md5(), NULL) != 1)
			rg_nomem();
		EVP_EncodeBlock((unsigned char *)b64, md5, 16);
		rg_path(hdr, sizeof(hdr), "Content-MD5: %s", b64);
		s->h.extra = hdr;
		code = rg_http_req(&s->h, "POST", "/?delete=", NULL,
		    "application/xml", body.p, body.len, &s->body, &r);
		s->h.extra = NULL;
		if (code != 200) {
			rg_buf_free(&body);
			return failed(s, "delete", code, &r);
		}
		memset(&de, 0, sizeof(de));
		if (rg_s3_blocks(s->body.p, s->body.len, "Error", on_del_error,
		    &de) != 0 || de.n > 0) {
			rg_msg(s->error, sizeof(s->error), "%s: not deleted: %s "
			    "(and %d more)", de.key, de.code[0] ? de.code : "an "
			    "answer it cannot read", de.n > 0 ? de.n - 1 : 0);
			rg_buf_free(&body);
			errno = EIO;
			return -1;
		}
	}
	rg_buf_free(&body);
	return 0;
}

/* Abort the multipart upload id of the object at a registry path. */
int
rg_s3_abort(struct rg_s3 *s, const char *path, const char *id)
{
	char opath[OBJECT_PATH], eid[3 * 1024 + 1], url[OBJECT_PATH + 3 * 1024 + 16];
	struct rg_http_resp r;
	long code;

	if (object_path(s, path, opath) != 0)
		return -1;
	if (enc(id, 0, eid, sizeof(eid)) != 0 ||
	    rg_path(url, sizeof(url), "%s?uploadId=%s", opath, eid) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	code = rg_http_req(&s->h, "DELETE", url, NULL, NULL, NULL, 0, &s->body, &r);
	if (code == 204 || code == 200 || code == 404)
		return 0;
	return failed(s, path, code, &r);
}

/* Write len bytes of buf as the object at a registry path (PutObject): 0, or -1 (errno). */
int
rg_s3_put(struct rg_s3 *s, const char *path, const void *buf, size_t len)
{
	char url[OBJECT_PATH];
	struct rg_http_resp r;
	long code;

	if (object_path(s, path, url) != 0)
		return -1;
	s->h.extra = s->conf->writes;
	code = rg_http_req(&s->h, "PUT", url, NULL, "application/octet-stream",
	    buf, len, &s->body, &r);
	s->h.extra = NULL;
	return code == 200 ? 0 : failed(s, path, code, &r);
}

/*
 * Write buf as the object at a registry path on a condition, cond a
 * header ("If-None-Match: *": only when there is none; "If-Match: ETAG":
 * only when it is that one): 0 written (*etag, its new ETag), 1 the
 * condition did not hold (412; 409, a conditional write racing another),
 * -1 (errno, s->error).
 */
int
rg_s3_put_if(struct rg_s3 *s, const char *path, const void *buf, size_t len,
    const char *cond, char *etag, size_t etagsize)
{
	char url[OBJECT_PATH], hdr[1500];
	struct rg_http_resp r;
	long code;

	if (object_path(s, path, url) != 0)
		return -1;
	if (rg_path(hdr, sizeof(hdr), "%s%s%s", cond, s->conf->writes ? "\n" :
	    "", s->conf->writes ? s->conf->writes : "") != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	s->h.extra = hdr;
	code = rg_http_req(&s->h, "PUT", url, NULL, "application/json", buf, len,
	    &s->body, &r);
	s->h.extra = NULL;
	if (code == 412 || code == 409)
		return 1;
	if (code != 200)
		return failed(s, path, code, &r);
	rg_path(etag, etagsize, "%s", r.etag);
	return 0;
}

/*
 * The object at a registry path, max bytes at most, with what S3 says of
 * it: *m its ETag, its Last-Modified and the server's Date (0 when not
 * said), so that an age can be told on the server's clock alone.  0, or
 * -1 (errno; ENOENT: there is none).
 */
int
rg_s3_get_meta(struct rg_s3 *s, const char *path, size_t max, char **buf,
    size_t *len, struct rg_s3_meta *m)
{
	struct rg_http_resp r;

	if (get_object(s, path, max, buf, len, &r) != 0)
		return -1;
	memset(m, 0, sizeof(*m));
	rg_path(m->etag, sizeof(m->etag), "%s", r.etag);
	m->mtime = r.filetime > 0 ? (time_t)r.filetime : 0;
	m->date = http_date(r.date);
	return 0;
}

/* The largest object one CopyObject copies: AWS's 5 GB, or RG_S3_COPY_MAX. */
static int64_t
copy_max(void)
{
	const char *v = getenv("RG_S3_COPY_MAX");
	long long n;
	char *end;

	if (v != NULL && (n = strtoll(v, &end, 10)) >= RG_S3_PART_MIN &&
	    *end == '\0' && n <= RG_S3_COPY_LIMIT)
		return (int64_t)n;
	return RG_S3_COPY_LIMIT;
}

static void
hex_of(const unsigned char *b, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = x[b[i] >> 4];
		out[2 * i + 1] = x[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int n = 32;

	if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg,
	    strlen(msg), out, &n) == NULL)
		rg_nomem();
}

/*
 * The headers of a PUT of path (with its canonical query) carrying the
 * copy source and range, signed with SigV4 by rg itself: Debian 12's
 * libcurl (7.88) sorts the signed headers as "name:value" strings, so
 * x-amz-copy-source-range comes before x-amz-copy-source and S3 answers
 * SignatureDoesNotMatch.  0, or -1 when they do not fit.
 */
static int
sign_copy(struct rg_s3 *s, const char *path, const char *query,
    const char *src, const char *range, char *out, size_t size)
{
	char amzdate[20], day[9], host[512], canon[8192], tosign[512];
	char scope[160], hash[65], sig[65], key[300];
	const char *b = strstr(s->h.base, "://"), *bpath;
	unsigned char d[32], k[32];
	time_t now = time(NULL);
	struct tm tm;

	b = b != NULL ? b + 3 : s->h.base;
	bpath = b + strcspn(b, "/");
	if (rg_path(host, sizeof(host), "%.*s", (int)(bpath - b), b) != 0)
		return -1;
	gmtime_r(&now, &tm);
	strftime(amzdate, sizeof(amzdate), "%Y%m%dT%H%M%SZ", &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	if (rg_path(canon, sizeof(canon), "PUT\n%s%s\n%s\nhost:%s\n"
	    "x-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-copy-source:%s\n"
	    "x-amz-copy-source-range:%s\nx-amz-date:%s\n%s%s%s\n"
	    "host;x-amz-content-sha256;x-amz-copy-source;"
	    "x-amz-copy-source-range;x-amz-date%s\nUNSIGNED-PAYLOAD", bpath, path,
	    query, host, src, range, amzdate, s->ho.session_token ?
	    "x-amz-security-token:" : "", s->ho.session_token ?
	    s->ho.session_token : "", s->ho.session_token ? "\n" : "",
	    s->ho.session_token ? ";x-amz-security-token" : "") != 0)
		return -1;
	EVP_Digest(canon, strlen(canon), d, NULL, EVP_sha256(), NULL);
	hex_of(d, 32, hash);
	if (rg_path(scope, sizeof(scope), "%s/%s/s3/aws4_request", day,
	    s->conf->region) != 0 ||
	    rg_path(tosign, sizeof(tosign), "AWS4-HMAC-SHA256\n%s\n%s\n%s",
	    amzdate, scope, hash) != 0 ||
	    rg_path(key, sizeof(key), "AWS4%s", s->conf->secret_key) != 0)
		return -1;
	hmac(key, strlen(key), day, k);
	explicit_bzero(key, sizeof(key));
	hmac(k, 32, s->conf->region, k);
	hmac(k, 32, "s3", k);
	hmac(k, 32, "aws4_request", k);
	hmac(k, 32, tosign, d);
	explicit_bzero(k, sizeof(k));
	hex_of(d, 32, sig);
	return rg_path(out, size, "x-amz-copy-source: %s\n"
	    "x-amz-copy-source-range: %s\nx-amz-content-sha256: UNSIGNED-PAYLOAD\n"
	    "x-amz-date: %s\n%s%s%sAuthorization: AWS4-HMAC-SHA256 "
	    "Credential=%s/%s, SignedHeaders=host;x-amz-content-sha256;"
	    "x-amz-copy-source;x-amz-copy-source-range;x-amz-date%s, "
	    "Signature=%s", src, range, amzdate, s->ho.session_token ?
	    "x-amz-security-token: " : "", s->ho.session_token ?
	    s->ho.session_token : "", s->ho.session_token ? "\n" : "",
	    s->conf->access_key, scope, s->ho.session_token ?
	    ";x-amz-security-token" : "", sig);
}

/*
 * A copy larger than one CopyObject takes: a multipart upload whose parts
 * are copied (UploadPartCopy, a range each), completed, or aborted when a
 * part fails.  0, or -1 (errno, s->error).
 */
static int
copy_parts(struct rg_s3 *s, const char *from, const char *to, const char *src,
    const char *url, int64_t size)
{
	char id[1024], eid[3 * 1024 + 1], purl[OBJECT_PATH + 3 * 1024 + 64];
	char range[80], etag[200], query[3 * 1024 + 64], csrc[OBJECT_PATH + 300];
	char hdr[OBJECT_PATH + 5000];
	struct rg_buf done = { 0 };
	struct rg_http_resp r;
	int64_t part = RG_S3_PART, off;
	long code, n;

	if (part > copy_max())
		part = copy_max();
	if (size / part >= RG_S3_PARTS_MAX)	/* at most 10000 parts */
		part = size / (RG_S3_PARTS_MAX - 1) + 1;
	if (rg_path(purl, sizeof(purl), "%s?uploads=", url) != 0 ||
	    rg_path(csrc, sizeof(csrc), "/%s%s", s->conf->bucket, src) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	s->h.extra = s->conf->writes;
	code = rg_http_req(&s->h, "POST", purl, NULL, "application/octet-stream",
	    NULL, 0, &s->body, &r);
	s->h.extra = NULL;
	if (code != 200)
		return failed(s, to, code, &r);
	if (rg_s3_field(s->body.p, s->body.len, "UploadId", id, sizeof(id)) != 0 ||
	    enc(id, 0, eid, sizeof(eid)) != 0) {
		rg_msg(s->error, sizeof(s->error), "%s: a multipart upload without "
		    "an id", to);
		errno = EIO;
		return -1;
	}
	if (rg_buf_add(&done, "<CompleteMultipartUpload>", 25) == -1)
		rg_nomem();
	for (off = 0, n = 1; off < size; off += part, n++) {
		rg_path(range, sizeof(range), "bytes=%lld-%lld", (long long)off,
		    (long long)((off + part < size ? off + part : size) - 1));
		code = -2;
		if (rg_path(query, sizeof(query), "partNumber=%ld&uploadId=%s", n,
		    eid) == 0 && rg_path(purl, sizeof(purl), "%s?%s", url,
		    query) == 0 && sign_copy(s, url, query, csrc, range, hdr,
		    sizeof(hdr)) == 0) {
			s->h.extra = hdr;
			s->h.own_sig = 1;
			code = rg_http_req(&s->h, "PUT", purl, NULL,
			    "application/octet-stream", NULL, 0, &s->body, &r);
			s->h.extra = NULL;
			s->h.own_sig = 0;
		}
		if (code != 200 || memmem(s->body.p, s->body.len, "<Error>", 7) !=
		    NULL || rg_s3_field(s->body.p, s->body.len, "ETag", etag,
		    sizeof(etag)) != 0) {
			if (code == -2) {
				rg_msg(s->error, sizeof(s->error), "%s: a part's "
				    "request does not fit", from);
				errno = ENAMETOOLONG;
			} else
				failed(s, from, code == 200 ? 500 : code, &r);
			rg_buf_free(&done);
			rg_s3_abort(s, to, id);
			return -1;
		}
		if (rg_buf_printf(&done, "<Part><PartNumber>%ld</PartNumber><ETag>",
		    n) == -1 || xml_add(&done, etag) == -1 ||
		    rg_buf_add(&done, "</ETag></Part>", 14) == -1)
			rg_nomem();
	}
	if (rg_buf_add(&done, "</CompleteMultipartUpload>", 26) == -1)
		rg_nomem();
	rg_path(purl, sizeof(purl), "%s?uploadId=%s", url, eid);	/* (fitted above) */
	code = rg_http_req(&s->h, "POST", purl, NULL, "application/xml", done.p,
	    done.len, &s->body, &r);
	rg_buf_free(&done);
	if (code != 200 || memmem(s->body.p, s->body.len, "<Error>", 7) != NULL) {
		failed(s, to, code == 200 ? 500 : code, &r);
		rg_s3_abort(s, to, id);
		return -1;
	}
	return 0;
}

/*
 * Copy the object at registry path from, of size bytes, to path to, in
 * the bucket: CopyObject (S3 copies, nothing passes through rg), or past
 * its 5 GB a multipart upload of copied parts.  0, or -1 (errno; ENOENT:
 * from is not there).
 */
int
rg_s3_copy(struct rg_s3 *s, const char *from, const char *to, int64_t size)
{
	char src[OBJECT_PATH], url[OBJECT_PATH], hdr[OBJECT_PATH + 1300];
	struct rg_http_resp r;
	long code;

	if (object_path(s, from, src) != 0 || object_path(s, to, url) != 0)
		return -1;
	if (size > copy_max())
		return copy_parts(s, from, to, src, url, size);
	if (rg_path(hdr, sizeof(hdr), "x-amz-copy-source: /%s%s%s%s",
	    s->conf->bucket, src, s->conf->writes ? "\n" : "",
	    s->conf->writes ? s->conf->writes : "") != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	s->h.extra = hdr;
	code = rg_http_req(&s->h, "PUT", url, NULL, "application/octet-stream",
	    NULL, 0, &s->body, &r);
	s->h.extra = NULL;
	if (code != 200)
		return failed(s, from, code, &r);
	if (memmem(s->body.p, s->body.len, "<Error>", 7) != NULL)
		return failed(s, from, 500, &r);	/* (S3 can fail a copy with 200) */
	return 0;
}
