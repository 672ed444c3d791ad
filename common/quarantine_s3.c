/*
 * quarantine_s3.c: what rg-rm deletes from a bucket, held for a while.
 *
 * S3 cannot rename, and rg-rm already copies what it sets aside into
 * .rg-trash/pending/<name>/<key> (and names links in journals,
 * pending/<name>.links): with --quarantine, what goes for good keeps that
 * copy.  Where a run without quarantine deletes the copies (finals) and
 * the journals (batch_done), it writes instead the list of what went to
 * .rg-trash/quarantine/<run>/final-<seq> ("<name>\t<path>\n"; a journal's
 * name and no path): one request for one, no more.  Its meta (time,
 * expiry) is written when it begins, "closed" when it ends.  A later
 * run's recovery puts back what a killed run left pending, but for what
 * a run's finals list, or every name of a closed run; its quarantines
 * that have ended are deleted first.  Memory: the names of the finals of
 * runs that did not close, while the run begins.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3driver.h"

#define QUARANTINE	".rg-trash/quarantine"
#define META_MAX	512
#define FINAL_MAX	(RG_S3_BATCH * 16 * (RG_STORE_PATH + RG_TRASH_NAME + 2))

/* a run of the quarantine: its keys below quarantine/<run>/ */
struct qrun {
	char run[33];
	int meta, closed;
	struct keys finals;
};

struct qruns {
	struct qrun *v;
	size_t n;
};

static int
run_name(const char *s, size_t n)
{
	size_t i;

	if (n != 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* every run below quarantine/, with what it holds there */
static int
runs_list(struct rg_store *st, struct rg_s3 *s, struct qruns *q)
{
	struct keys k;
	const char *rest, *slash;
	size_t i;

	memset(q, 0, sizeof(*q));
	if (rg_s3d_keys_below(st, s, QUARANTINE, &k) != 0)
		return -1;
	for (i = 0; i < k.n; i++) {
		rest = k.v[i] + strlen(QUARANTINE "/");
		if ((slash = strchr(rest, '/')) == NULL ||
		    !run_name(rest, (size_t)(slash - rest)))
			continue;	/* not one of ours: left alone */
		if (q->n == 0 || strncmp(q->v[q->n - 1].run, rest, 32) != 0) {
			if ((q->v = realloc(q->v, (q->n + 1) * sizeof(*q->v))) == NULL)
				rg_nomem();
			memset(&q->v[q->n], 0, sizeof(q->v[q->n]));
			memcpy(q->v[q->n].run, rest, 32);
			q->n++;
		}
		if (strcmp(slash + 1, "meta") == 0)
			q->v[q->n - 1].meta = 1;
		else if (strcmp(slash + 1, "closed") == 0)
			q->v[q->n - 1].closed = 1;
		else if (strncmp(slash + 1, "final-", 6) == 0)
			rg_s3d_key_add(&q->v[q->n - 1].finals, k.v[i], &k.st[i]);
	}
	rg_s3d_keys_free(&k);
	return 0;
}

static void
runs_free(struct qruns *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		rg_s3d_keys_free(&q->v[i].finals);
	free(q->v);
	memset(q, 0, sizeof(*q));
}

/* the time and expiry of run r: 0, or -1 (no meta, or not ours) */
static int
run_meta(struct rg_s3 *s, const struct qrun *r, time_t *t, time_t *x)
{
	char key[128], *buf, *p;
	long long a = -1, b = -1;
	size_t len;

	if (!r->meta || rg_path(key, sizeof(key), QUARANTINE "/%s/meta", r->run) != 0 ||
	    rg_s3_get(s, key, META_MAX, &buf, &len, NULL) != 0)
		return -1;
	if (strncmp(buf, "rg-quarantine 1\n", 16) == 0) {
		if ((p = strstr(buf, "\ntime ")) != NULL)
			a = strtoll(p + 6, NULL, 10);
		if ((p = strstr(buf, "\nexpires ")) != NULL)
			b = strtoll(p + 9, NULL, 10);
	}
	free(buf);
	if (a < 0 || b < 0)
		return -1;
	*t = (time_t)a;
	*x = (time_t)b;
	return 0;
}

/*
 * The lines of run r's finals, each "<name>\t<path>" (path empty for a
 * journal), to fn; -1 when one could not be read.
 */
static int
run_finals(struct rg_s3 *s, const struct qrun *r,
    void (*fn)(void *, const char *name, const char *path), void *arg)
{
	char *buf, *line, *nl, *tab;
	size_t i, len;

	for (i = 0; i < r->finals.n; i++) {
		if (rg_s3_get(s, r->finals.v[i], FINAL_MAX, &buf, &len, NULL) != 0)
			return -1;
		for (line = buf; line < buf + len; line = nl + 1) {
			if ((nl = memchr(line, '\n', (size_t)(buf + len - line))) == NULL)
				break;
			*nl = '\0';
			if ((tab = strchr(line, '\t')) == NULL)
				continue;
			*tab = '\0';
			fn(arg, line, tab + 1);
		}
		free(buf);
	}
	return 0;
}

static void
add_name(void *arg, const char *name, const char *path)
{
	(void)path;
	if (rg_strset_add(arg, name) == -1)
		rg_nomem();
}

/* the keys in pending/ of run's names ("<run>-..."), and their bytes */
static int
run_keys(struct rg_store *st, struct rg_s3 *s, const char *run, struct keys *k,
    unsigned long *objects, int64_t *bytes)
{
	char prefix[64], last[RG_TRASH_NAME] = "";
	const char *name, *end;
	size_t i, n;

	memset(k, 0, sizeof(*k));
	*objects = 0;
	*bytes = 0;
	if (rg_path(prefix, sizeof(prefix), PENDING "/%s-", run) != 0)
		return -1;
	if (rg_s3_list(s, prefix, 0, rg_s3d_on_key, k) != 0 && errno != ENOENT) {
		rg_s3d_warn(st, s);
		rg_s3d_keys_free(k);
		return -1;
	}
	for (i = 0; i < k->n; i++) {
		*bytes = rg_size_add(*bytes, k->st[i].size);
		name = k->v[i] + strlen(PENDING "/");
		end = strchr(name, '/');
		n = end != NULL ? (size_t)(end - name) : strlen(name);
		if (n < sizeof(last) && (strncmp(last, name, n) != 0 || last[n] != '\0')) {
			memcpy(last, name, n);
			last[n] = '\0';
			++*objects;
		}
	}
	return 0;
}

/* run r removed whole: its copies and journals, then its own keys */
static int
run_remove(struct rg_store *st, struct rg_s3 *s, const struct qrun *r,
    struct rg_qrun *told)
{
	char prefix[64];
	struct keys k, q;
	size_t i;
	int ret = 0;

	if (run_keys(st, s, r->run, &k, &told->objects, &told->bytes) != 0)
		return -1;
	for (i = 0; ret == 0 && i < k.n; i += 1000)
		ret = rg_s3_delete(s, k.v + i, k.n - i < 1000 ? k.n - i : 1000);
	rg_s3d_keys_free(&k);
	if (ret == 0 && rg_path(prefix, sizeof(prefix), QUARANTINE "/%s", r->run) == 0 &&
	    rg_s3d_keys_below(st, s, prefix, &q) == 0) {
		for (i = 0; ret == 0 && i < q.n; i += 1000)
			ret = rg_s3_delete(s, q.v + i, q.n - i < 1000 ? q.n - i : 1000);
		rg_s3d_keys_free(&q);
	}
	if (ret != 0)
		rg_s3d_warn(st, s);
	return ret;
}

/*
 * At rm_open, with the lease held: the quarantines that have ended (or
 * older than older_than seconds) removed, told to st->purged; this run's
 * spared.  0, or -1 (reported).
 */
int
rg_s3q_purge(struct rg_store *st, long long older_than)
{
	struct rg_s3 *s = rg_s3d_conn(st);
	struct rg_qrun told;
	struct qruns q;
	time_t now = time(NULL), t, x;
	size_t i;
	int ret = 0;

	if (s == NULL || runs_list(st, s, &q) != 0)
		return -1;
	for (i = 0; i < q.n; i++) {
		if (strcmp(q.v[i].run, S3(st)->run) == 0 ||
		    run_meta(s, &q.v[i], &t, &x) != 0)
			continue;
		if (older_than < 0 ? x > now : t > now - (time_t)older_than)
			continue;
		memset(&told, 0, sizeof(told));
		memcpy(told.run, q.v[i].run, sizeof(told.run));
		told.time = t;
		told.expires = x;
		if (run_remove(st, s, &q.v[i], &told) != 0) {
			ret = -1;
			continue;
		}
		if (st->purged != NULL)
			st->purged(st->purged_arg, &told);
	}
	runs_free(&q);
	return ret;
}

/*
 * What recovery must leave in pending, for it is held: every name of a
 * closed run, and the names a killed run's finals list.  Into held;
 * 0, or -1 (reported: then recovery puts back nothing, to be safe).
 */
int
rg_s3q_held_names(struct rg_store *st, struct rg_s3 *s, struct rg_strset *held,
    struct rg_strset *closed)
{
	struct qruns q;
	size_t i;
	int ret = 0;

	if (runs_list(st, s, &q) != 0)
		return -1;
	for (i = 0; i < q.n && ret == 0; i++)
		if (q.v[i].closed) {
			if (rg_strset_add(closed, q.v[i].run) == -1)
				rg_nomem();
		} else if (run_finals(s, &q.v[i], add_name, held) != 0) {
			rg_s3d_warn(st, s);
			ret = -1;
		}
	runs_free(&q);
	return ret;
}

/* Is the pending name ("<run>-<seq>", or its journal) held in quarantine? */
int
rg_s3q_is_held(const struct rg_strset *held, const struct rg_strset *closed,
    const char *name)
{
	char run[33];

	if (strlen(name) > 33 && name[32] == '-') {
		memcpy(run, name, 32);
		run[32] = '\0';
		if (rg_strset_has(closed, run))
			return 1;
	}
	return rg_strset_has(held, name);
}

/* This run's quarantine begun: its meta.  0, or -1 (reported). */
int
rg_s3q_open(struct rg_store *st, struct rg_s3 *s)
{
	struct s3store *d = S3(st);
	char key[128], meta[META_MAX];
	time_t now = time(NULL);
	int n;

	d->qexpires = st->quarantine > (long long)INT64_MAX - now ? INT64_MAX :
	    now + (time_t)st->quarantine;
	n = snprintf(meta, sizeof(meta), "rg-quarantine 1\nrun %s\ntime %lld\n"
	    "expires %lld\n", d->run, (long long)now, (long long)d->qexpires);
	if (rg_path(key, sizeof(key), QUARANTINE "/%s/meta", d->run) != 0 ||
	    rg_s3_put(s, key, meta, (size_t)n) != 0) {
		rg_s3d_warn(st, s);
		return -1;
	}
	d->quarantined = 1;
	return 0;
}

/* What went for good, listed instead of deleted: one request.  0, or -1 (reported). */
int
rg_s3q_final(struct rg_store *st, struct rg_s3 *s, const struct rg_buf *lines)
{
	struct s3store *d = S3(st);
	char key[128];
	unsigned long seq;

	pthread_mutex_lock(&d->lock);
	seq = ++d->qseq;
	pthread_mutex_unlock(&d->lock);
	if (rg_path(key, sizeof(key), QUARANTINE "/%s/final-%lu", d->run, seq) != 0 ||
	    rg_s3_put(s, key, lines->p, lines->len) != 0) {
		rg_s3d_warn(st, s);
		return -1;
	}
	return 0;
}

/* The run's end: closed when it holds something, else its meta goes. */
void
rg_s3q_close(struct rg_store *st, struct rg_s3 *s)
{
	struct s3store *d = S3(st);
	char key[128], *v[1] = { key };

	if (!d->quarantined || s == NULL)
		return;
	if (d->qseq > 0 && rg_path(key, sizeof(key), QUARANTINE "/%s/closed",
	    d->run) == 0)
		rg_s3_put(s, key, "", 0);
	else if (d->qseq == 0 && rg_path(key, sizeof(key), QUARANTINE "/%s/meta",
	    d->run) == 0)
		rg_s3_delete(s, v, 1);
	d->quarantined = 0;
}

/* rg-restore: the run's index, from its finals and the journals they name */
struct gather {
	struct rg_s3 *s;
	struct rg_qindex *x;
	int failed;
};

static void
qentry(struct rg_qindex *x, const char *name, const char *path)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		if ((x->v = realloc(x->v, x->cap * sizeof(*x->v))) == NULL)
			rg_nomem();
	}
	if ((x->v[x->n].name = strdup(name)) == NULL ||
	    (x->v[x->n].path = strdup(path)) == NULL)
		rg_nomem();
	x->n++;
}

static void
index_line(void *arg, const char *name, const char *path)
{
	struct gather *g = arg;
	char key[RG_STORE_PATH], *buf, *line, *nl;
	size_t len;

	if (*path != '\0') {
		qentry(g->x, name, path);
		return;
	}
	/* a journal: the links it names */
	if (rg_path(key, sizeof(key), PENDING "/%s", name) != 0 ||
	    rg_s3_get(g->s, key, JOURNAL_MAX, &buf, &len, NULL) != 0) {
		g->failed |= errno != ENOENT;
		return;
	}
	for (line = buf; line < buf + len; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(buf + len - line))) == NULL)
			break;
		*nl = '\0';
		qentry(g->x, name, line);
	}
	free(buf);
}

int
rg_s3d_held_open(struct rg_store *st, const char *run, struct rg_qindex *x)
{
	struct rg_s3 *s = rg_s3d_conn(st);
	struct gather g = { s, x, 0 };
	struct qruns q;
	size_t i;

	memset(x, 0, sizeof(*x));
	if (s == NULL || runs_list(st, s, &q) != 0)
		return -1;
	for (i = 0; i < q.n && strcmp(q.v[i].run, run) != 0; i++)
		;
	if (i == q.n) {
		runs_free(&q);
		errno = ENOENT;
		return -1;
	}
	if (run_finals(s, &q.v[i], index_line, &g) != 0 || g.failed) {
		runs_free(&q);
		rg_s3d_warn(st, s);
		errno = EIO;
		return -1;
	}
	runs_free(&q);
	return 0;
}

/* rg_quarantine_put's answers, on S3 */
int
rg_s3d_put_back(struct rg_store *st, const char *name, const char *path,
    int dry_run)
{
	struct rg_s3 *s = rg_s3d_conn(st);
	char prefix[RG_STORE_PATH + RG_TRASH_NAME + 16];
	char to[RG_STORE_PATH + 1];
	struct keys now, held;
	size_t i, n;
	int r = 0;

	if (s == NULL || rg_s3d_keys_below(st, s, path, &now) != 0)
		return -1;
	n = now.n;
	rg_s3d_keys_free(&now);
	if (n > 0)
		return 1;	/* there again */
	if (name == NULL)
		return 2;
	n = strlen(name);
	if (n > 6 && strcmp(name + n - 6, ".links") == 0) {	/* a link: its name */
		if (dry_run)
			return 0;
		if (rg_s3d_put_link(s, path) != 0) {
			rg_s3d_warn(st, s);
			return -1;
		}
		return 0;
	}
	if (rg_path(prefix, sizeof(prefix), PENDING "/%s/%s", name, path) != 0 ||
	    rg_s3d_keys_below(st, s, prefix, &held) != 0)
		return -1;
	if (held.n == 0) {
		rg_s3d_keys_free(&held);
		return 2;
	}
	n = strlen(PENDING "/") + strlen(name) + 1;
	for (i = 0; !dry_run && r == 0 && i < held.n; i++)
		if (rg_path(to, sizeof(to), "%s", held.v[i] + n) != 0 ||
		    rg_s3_copy(s, held.v[i], to, held.st[i].size) != 0)
			r = -1;
	if (r == 0 && !dry_run && rg_s3_delete(s, held.v, held.n) != 0)
		r = -1;		/* (put back; the copies stay, said) */
	if (r != 0)
		rg_s3d_warn(st, s);
	rg_s3d_keys_free(&held);
	return r;
}

/* a held copy: the set-aside one, in pending */
int
rg_s3d_held_where(struct rg_store *st, const char *name, const char *path,
    char *out, size_t size)
{
	(void)st;
	return rg_path(out, size, PENDING "/%s/%s", name, path);
}

void
rg_s3d_held_close(struct rg_store *st)
{
	(void)st;
}

/* rg-scan: each run held, with what it holds */
int
rg_s3d_held_each(struct rg_store *st, rg_qrun_fn *fn, void *arg)
{
	struct rg_s3 *s = rg_s3d_conn(st);
	struct rg_qrun r;
	struct qruns q;
	struct keys k;
	size_t i;

	if (s == NULL || runs_list(st, s, &q) != 0)
		return -1;
	for (i = 0; i < q.n; i++) {
		memset(&r, 0, sizeof(r));
		memcpy(r.run, q.v[i].run, sizeof(r.run));
		if (run_meta(s, &q.v[i], &r.time, &r.expires) != 0 ||
		    run_keys(st, s, q.v[i].run, &k, &r.objects, &r.bytes) != 0)
			continue;
		rg_s3d_keys_free(&k);
		fn(arg, &r);
	}
	runs_free(&q);
	return 0;
}
