/*
 * pulls.c: which manifests a registry served, from what it writes.
 *
 * What it writes is described in REGISTRY.md 7.  A pull is a GET of
 * /v2/<name>/manifests/<reference> answered 2xx: the app log's "response
 * completed" line (logrus text, key=value pairs, or the JSON formatter's
 * object), the access log's combined line, or a notification event with
 * action "pull" and method GET whose target is a manifest.  HEAD requests,
 * blobs and failed requests are not pulls.  A line can be anything: each
 * field is copied bounded, names and references are checked against the
 * grammar, and a line that is none of these is RG_PL_OTHER.
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "pulls.h"

/* bounded copy of src[0..n) into dst, or -1 when it does not fit */
static int
copy(char *dst, size_t size, const char *src, size_t n)
{
	if (n >= size)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/*
 * "[/prefix]/v2/<name>/manifests/<reference>[?query]": the repository and
 * the tag or digest, checked (a registry with http.prefix serves below
 * it).  The name may hold a component "manifests": the reference is after
 * the last one.
 */
static int
uri_ref(const char *uri, struct rg_pull *p)
{
	static const char mf[] = "/manifests/";
	const char *end = uri + strcspn(uri, "?#"), *m = NULL, *s;
	struct rg_digest d;

	if (*uri != '/' || (uri = strstr(uri, "/v2/")) == NULL || uri >= end)
		return -1;
	for (s = uri + 4; (s = strstr(s, mf)) != NULL && s < end; s++)
		m = s;
	if (m == NULL || m == uri + 4 ||
	    copy(p->repo, sizeof(p->repo), uri + 4, (size_t)(m - uri - 4)) != 0 ||
	    copy(p->ref, sizeof(p->ref), m + sizeof(mf) - 1,
	    (size_t)(end - m - (sizeof(mf) - 1))) != 0 || !rg_repo_valid(p->repo))
		return -1;
	p->by_digest = strncmp(p->ref, "sha256:", 7) == 0;
	if (p->by_digest)
		return rg_digest_parse(p->ref, strlen(p->ref), &d);
	return rg_tag_valid(p->ref) ? 0 : -1;
}

/* a request line's fields, when it is a pull */
struct req {
	char time[64], msg[64], method[16], uri[RG_PULL_FIELD_MAX], status[8];
	char agent[RG_PULL_FIELD_MAX], actor[RG_PULL_FIELD_MAX];
};

static int
counted(const struct req *q, struct rg_pull *p)
{
	const char *s = q->status;

	if (strcmp(q->method, "GET") != 0 || s[0] != '2' || strlen(s) != 3 ||
	    s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
	    rg_time_parse(q->time, &p->when) != 0 || uri_ref(q->uri, p) != 0)
		return 0;
	memcpy(p->agent, q->agent, sizeof(p->agent));
	memcpy(p->actor, q->actor, sizeof(p->actor));
	return 1;
}

/* the app log fields a pull needs, and where each goes */
static char *
app_field(struct req *q, const char *key, size_t klen, size_t *size)
{
#define F(k, f) if (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0) \
	return *size = sizeof(q->f), q->f
	F("time", time);
	F("msg", msg);
	F("http.request.method", method);
	F("http.request.uri", uri);
	F("http.response.status", status);
	F("http.request.useragent", agent);
	F("auth.user.name", actor);
#undef F
	return NULL;
}

/*
 * logrus' text formatter: key=value pairs, a value quoted ("...", with
 * backslash escapes) when it holds spaces or quotes; anything before them
 * (journald's "Dec 03 ... docker-registry[1]:") has no "=" and is skipped.
 */
static int
app_text(const char *p, const char *end, struct req *q)
{
	const char *key;
	char *dst;
	size_t klen, size, n;
	int bad;

	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		key = p;
		while (p < end && *p != ' ' && *p != '=')
			p++;
		if (p >= end || *p != '=') {
			continue;	/* a word: on to the next */
		}
		klen = (size_t)(p++ - key);
		dst = app_field(q, key, klen, &size);
		n = 0;
		bad = dst == NULL;
		if (p < end && *p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
				if (!bad && n + 1 < size)
					dst[n++] = *p;
				else
					bad = 1;
			}
			if (p >= end)
				return -1;	/* unterminated */
			p++;
		} else {
			for (; p < end && *p != ' '; p++)
				if (!bad && n + 1 < size)
					dst[n++] = *p;
				else
					bad = 1;
		}
		if (dst != NULL)
			dst[bad ? 0 : n] = '\0';	/* too long: as if absent */
	}
	return 0;
}

static void
jcopy(char *dst, size_t size, const json_t *v)
{
	char buf[32];
	const char *s = buf;

	dst[0] = '\0';
	if (json_is_string(v))
		s = json_string_value(v);
	else if (json_is_integer(v))
		rg_msg(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
	else
		return;
	if (copy(dst, size, s, strlen(s)) != 0)
		dst[0] = '\0';
}

static int
app_json(const json_t *o, struct req *q)
{
	const char *k;
	json_t *v;
	char *dst;
	size_t size;

	json_object_foreach((json_t *)o, k, v)
		if ((dst = app_field(q, k, strlen(k), &size)) != NULL)
			jcopy(dst, size, v);
	return 0;
}

static const char *const manifest_types[] = {
	RG_MT_SCHEMA1, RG_MT_SCHEMA1_SIGNED, RG_MT_DOCKER, RG_MT_DOCKER_LIST,
	RG_MT_OCI, RG_MT_OCI_INDEX, NULL
};

/*
 * One notification event: a GET of a manifest, by the target's URL, or
 * without one by its media type.  A pull by tag carries the digest the
 * tag pointed at then, which is what it counts for.
 */
static int
event(const json_t *e, struct rg_pull *p)
{
	const json_t *t = json_object_get(e, "target"),
	    *r = json_object_get(e, "request");
	const char *url = rg_str(t, "url"), *mt = rg_str(t, "mediaType");
	const char *repo = rg_str(t, "repository"), *dg = rg_str(t, "digest"),
	    *tag = rg_str(t, "tag"), *ts = rg_str(e, "timestamp");
	const char *const *m;
	struct rg_digest d;
	struct req q;

	if (!json_is_object(e) || !json_is_object(t) || ts == NULL ||
	    repo == NULL || !rg_repo_valid(repo) ||
	    strcmp(rg_strz(e, "action"), "pull") != 0 ||
	    strcmp(rg_strz(r, "method"), "GET") != 0 ||
	    rg_time_parse(ts, &p->when) != 0)
		return 0;
	if (url != NULL) {
		if (strstr(url, "/manifests/") == NULL)
			return 0;
	} else {
		for (m = manifest_types; *m != NULL && (mt == NULL ||
		    strcmp(*m, mt) != 0); m++)
			;
		if (*m == NULL)
			return 0;
	}
	if (copy(p->repo, sizeof(p->repo), repo, strlen(repo)) != 0)
		return 0;
	if (dg != NULL && rg_digest_parse(dg, strlen(dg), &d) == 0) {
		rg_digest_format(&d, p->ref);
		p->by_digest = 1;
	} else if (tag != NULL && rg_tag_valid(tag)) {
		copy(p->ref, sizeof(p->ref), tag, strlen(tag));
		p->by_digest = 0;
	} else
		return 0;
	jcopy(q.agent, sizeof(q.agent), json_object_get(r, "useragent"));
	jcopy(q.actor, sizeof(q.actor), json_object_get(json_object_get(e,
	    "actor"), "name"));
	memcpy(p->agent, q.agent, sizeof(p->agent));
	memcpy(p->actor, q.actor, sizeof(p->actor));
	return 1;
}

/* "03/Dec/2026:17:59:06 +0000" */
static int
clf_time(const char *s, size_t n, time_t *t)
{
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char buf[40];
	const char *m;

	if (n != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' ||
	    s[20] != ' ' || (s[21] != '+' && s[21] != '-'))
		return -1;
	for (m = mon; *m != '\0' && memcmp(m, s + 3, 3) != 0; m += 3)
		;
	if (*m == '\0')
		return -1;
	rg_msg(buf, sizeof(buf), "%.4s-%02d-%.2sT%.8s%.3s:%.2s", s + 7,
	    (int)((m - mon) / 3 + 1), s, s + 12, s + 21, s + 24);
	return rg_time_parse(buf, t);
}

/* a quoted field of the combined format, its escapes kept as they are */
static const char *
quoted(const char *p, const char *end, char *dst, size_t size)
{
	const char *s;

	if (p >= end || *p != '"')
		return NULL;
	for (s = ++p; p < end && *p != '"'; p++)
		if (*p == '\\' && p + 1 < end)
			p++;
	if (p >= end || copy(dst, size, s, (size_t)(p - s)) != 0)
		return NULL;
	return p + 1;
}

/*
 * The combined format: host ident user [time] "METHOD URI PROTO" status
 * size "referer" "agent", perhaps after journald's prefix.
 */
static int
access_line(const char *line, const char *end, struct req *q)
{
	const char *rb = memmem(line, (size_t)(end - line), "] \"", 3), *lb, *p, *u;
	char request[RG_PULL_FIELD_MAX + 64], *sp, *sp2;
	time_t t;

	/* the time is the bracket before the request (journald's prefix has
	 * brackets of its own: "docker-registry[1234]:") */
	if (rb == NULL || (lb = memrchr(line, '[', (size_t)(rb - line))) == NULL ||
	    clf_time(lb + 1, (size_t)(rb - lb - 1), &t) != 0)
		return -1;
	if ((p = quoted(rb + 2, end, request, sizeof(request))) == NULL ||
	    (sp = strchr(request, ' ')) == NULL ||
	    (sp2 = strchr(sp + 1, ' ')) == NULL)
		return -1;
	*sp = *sp2 = '\0';
	if (copy(q->method, sizeof(q->method), request, strlen(request)) != 0 ||
	    copy(q->uri, sizeof(q->uri), sp + 1, strlen(sp + 1)) != 0)
		return -1;
	if (p >= end || *p++ != ' ' || end - p < 3 ||
	    copy(q->status, sizeof(q->status), p, 3) != 0)
		return -1;
	rg_time_format(t, q->time);
	/* the user: the word before " [" (after "host ident ") */
	if (lb - line >= 2 && lb[-1] == ' ') {
		for (u = lb - 1; u > line && u[-1] != ' '; u--)
			;
		if (!(lb - 1 - u == 1 && *u == '-'))
			copy(q->actor, sizeof(q->actor), u, (size_t)(lb - 1 - u));
	}
	/* status size "referer" "agent" */
	p += 3;
	if (p < end && *p == ' ')
		for (p++; p < end && *p != ' '; p++)
			;
	if (p < end && *p == ' ' && (p = quoted(p + 1, end, request,
	    sizeof(request))) != NULL && p < end && *p == ' ')
		quoted(p + 1, end, q->agent, sizeof(q->agent));
	return 0;
}

/* an event's time, into *when when it is earlier */
static void
event_time(const json_t *ev, struct rg_pull_time *when)
{
	const char *ts = rg_str(ev, "timestamp");
	time_t t;

	if (ts != NULL && rg_time_parse(ts, &t) == 0 &&
	    (!when->known || t < when->t)) {
		when->t = t;
		when->known = 1;
	}
}

/*
 * One line: what it is, and fn for each pull it records; *when (when not
 * NULL) the time of the request or the earliest event, when it can be
 * read.  line is NUL-terminated at len.
 */
int
rg_pull_line(const char *line, size_t len, rg_pull_fn *fn, void *arg,
    struct rg_pull_time *when)
{
	struct rg_pull_time none;
	const char *end = line + len, *s = line;
	struct rg_pull p;
	struct req q;
	json_t *o, *ev;
	size_t i;
	int kind = RG_PL_OTHER;

	memset(&q, 0, sizeof(q));
	memset(&p, 0, sizeof(p));
	if (when == NULL)
		when = &none;
	when->known = 0;
	while (end > s && (end[-1] == '\r' || end[-1] == ' '))
		end--;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s < end && *s == '{') {
		if ((o = json_loadb(s, (size_t)(end - s), JSON_REJECT_DUPLICATES,
		    NULL)) == NULL)
			return RG_PL_OTHER;
		if (json_is_array(json_object_get(o, "events"))) {
			kind = p.kind = RG_PL_EVENTS;
			json_array_foreach(json_object_get(o, "events"), i, ev) {
				event_time(ev, when);
				if (event(ev, &p))
					fn(&p, arg);
			}
		} else if (json_object_get(o, "action") != NULL &&
		    json_object_get(o, "target") != NULL) {
			kind = p.kind = RG_PL_EVENTS;
			event_time(o, when);
			if (event(o, &p))
				fn(&p, arg);
		} else if (strncmp(rg_strz(o, "msg"), "response completed",
		    18) == 0) {
			kind = p.kind = RG_PL_APP;
			app_json(o, &q);
		}
		json_decref(o);
		if (kind != RG_PL_APP)
			return kind;
	} else if (memmem(s, (size_t)(end - s), "msg=\"response completed",
	    23) != NULL) {
		if (app_text(s, end, &q) != 0 ||
		    strncmp(q.msg, "response completed", 18) != 0)
			return RG_PL_OTHER;
		kind = p.kind = RG_PL_APP;
	} else if (memmem(s, (size_t)(end - s), " HTTP/", 6) != NULL &&
	    access_line(s, end, &q) == 0)
		kind = p.kind = RG_PL_ACCESS;
	else
		return RG_PL_OTHER;
	if (rg_time_parse(q.time, &when->t) == 0)
		when->known = 1;
	if (counted(&q, &p))
		fn(&p, arg);
	return kind;
}

/*
 * Read path a line at a time, plain or gzip alike (zlib reads a file
 * that is not gzip as it is), lines over RG_PULL_LINE_MAX skipped and
 * counted in *skipped.  0, or what fn returned, or -1 said.
 */
int
rg_pull_read(const char *path, rg_pull_line_fn *fn, void *arg,
    unsigned long *skipped)
{
	char *buf, *nl;
	size_t used = 0, start, len;
	unsigned long lineno = 0;
	int n, r = 0, toolong = 0, errnum;
	const char *msg;
	gzFile gz;

	*skipped = 0;
	if ((gz = gzopen(path, "rb")) == NULL) {
		warn("%s", path);
		return -1;
	}
	gzbuffer(gz, 128 << 10);
	if ((buf = malloc(RG_PULL_LINE_MAX + 1)) == NULL)
		rg_nomem();
	for (;;) {
		n = gzread(gz, buf + used, (unsigned)(RG_PULL_LINE_MAX - used));
		if (n < 0) {
			msg = gzerror(gz, &errnum);
			warnx("%s: %s", path, errnum == Z_ERRNO ? strerror(errno) :
			    msg);
			r = -1;
			break;
		}
		used += (size_t)n;
		start = 0;
		while ((nl = memchr(buf + start, '\n', used - start)) != NULL ||
		    (n == 0 && start < used)) {
			len = nl != NULL ? (size_t)(nl - buf - start) : used - start;
			lineno++;
			buf[start + len] = '\0';
			if (toolong)
				toolong = 0;	/* the tail of a skipped line */
			else if ((r = fn(buf + start, len, lineno, arg)) != 0)
				goto out;
			start += len + (nl != NULL);
		}
		memmove(buf, buf + start, used - start);
		used -= start;
		if (n == 0)
			break;
		if (used == RG_PULL_LINE_MAX) {	/* a line too long: drop it */
			if (!toolong)
				(*skipped)++;
			toolong = 1;
			used = 0;
		}
	}
out:
	free(buf);
	if (gzclose(gz) != Z_OK && r == 0) {
		warnx("%s: cannot close", path);
		r = -1;
	}
	return r;
}

/* the table */

static size_t
slot(const struct rg_pulls *t, const char *key)
{
	size_t i = rg_str_hash(RG_HASH_INIT, key) & (t->cap - 1);

	while (t->v[i].key != NULL && strcmp(t->v[i].key, key) != 0)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static void
grow(struct rg_pulls *t)
{
	struct rg_pulls b;
	size_t i;

	b.cap = t->cap ? 2 * t->cap : 256;
	b.n = t->n;
	if ((b.v = calloc(b.cap, sizeof(*b.v))) == NULL)
		rg_nomem();
	for (i = 0; i < t->cap; i++)
		if (t->v[i].key != NULL)
			b.v[slot(&b, t->v[i].key)] = t->v[i];
	free(t->v);
	*t = b;
}

/* "repo@digest" or "repo:tag": no repository name holds either */
static void
key_of(char *buf, size_t size, const char *repo, const char *ref, int by_digest)
{
	rg_msg(buf, size, "%s%c%s", repo, by_digest ? '@' : ':', ref);
}

static void
count_add(struct rg_pull_count *c, time_t when, unsigned long long n)
{
	if (n == 0)
		return;
	if (c->n == 0 || when > c->last)
		c->last = when;
	c->n = c->n + n < c->n ? ~0ULL : c->n + n;
}

void
rg_pull_count_add(struct rg_pull_count *to, const struct rg_pull_count *c)
{
	if (c != NULL)
		count_add(to, c->last, c->n);
}

/* One pull; staged ones (an access log's) wait for rg_pulls_commit. */
void
rg_pulls_add(struct rg_pulls *t, const char *repo, const char *ref,
    int by_digest, time_t when, int staged)
{
	char key[RG_REPO_MAX + RG_TAG_MAX + 3];
	struct rg_pull_entry *e;

	key_of(key, sizeof(key), repo, ref, by_digest);
	if (2 * (t->n + 1) > t->cap)
		grow(t);
	e = &t->v[slot(t, key)];
	if (e->key == NULL) {
		if ((e->key = strdup(key)) == NULL)
			rg_nomem();
		t->n++;
	}
	count_add(staged ? &e->staged : &e->c, when, 1);
}

/* The staged pulls count, or are dropped. */
void
rg_pulls_commit(struct rg_pulls *t, int keep_staged)
{
	size_t i;

	for (i = 0; i < t->cap; i++) {
		if (t->v[i].key == NULL)
			continue;
		if (keep_staged)
			rg_pull_count_add(&t->v[i].c, &t->v[i].staged);
		memset(&t->v[i].staged, 0, sizeof(t->v[i].staged));
	}
}

const struct rg_pull_count *
rg_pulls_get(const struct rg_pulls *t, const char *repo, const char *ref,
    int by_digest)
{
	char key[RG_REPO_MAX + RG_TAG_MAX + 3];
	size_t i;

	if (t->cap == 0 || repo == NULL || ref == NULL)
		return NULL;
	key_of(key, sizeof(key), repo, ref, by_digest);
	i = slot(t, key);
	return t->v[i].key != NULL && t->v[i].c.n > 0 ? &t->v[i].c : NULL;
}

void
rg_pulls_free(struct rg_pulls *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		free(t->v[i].key);
	free(t->v);
	memset(t, 0, sizeof(*t));
}
