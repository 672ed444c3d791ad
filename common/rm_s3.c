/*
 * rm_s3.c: objects set aside, then put back or removed, on S3.
 *
 * The S3 driver's removal operations, for rg-rm (recover_s3.c begins a
 * run).  S3 has no rename: an object (the keys below a path) is set
 * aside by copying each key to .rg-trash/pending/<name>/<its path>
 * (CopyObject, within S3) and deleting the originals, so that the
 * registry no longer sees it, as a rename does on disk; final deletes the
 * copies, restore copies them back where nothing was written since.  A
 * revision or layer link is not copied: what it holds is the digest its
 * key names, so it is put back from its name; such links are named in a
 * journal, .rg-trash/pending/<run>-<seq>.links, before they are deleted.
 * A thread's objects set aside are deleted RG_S3_BATCH at a time, in one
 * DeleteObjects (flush; until then the registry still sees them), and a
 * journal's links are decided together, the journal deleted after
 * (batch_done).  What a killed run left in pending is put back by the
 * next (rm_open): a copy's key says where it came from, a journal names
 * its links.  Unlike a rename, a key the registry rewrites between its
 * copy and the deletion of the original is deleted all the same
 * (rg_sweep_settle puts back what a push needs).  S3 keeps no atime.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s3driver.h"

/*
 * The keys below path for pend(): as the thread's last stat listed them
 * when that was of a file of path (the check before it), else listed now.
 */
static int
keys_to_pend(struct rg_store *st, struct rg_s3 *s, const char *path,
    struct keys *k)
{
	struct slot *t = rg_s3d_slot(st);
	int mine;

	if (t == NULL)
		return -1;
	mine = t->listed != NULL && strcmp(t->listed, path) == 0;
	if (mine)
		*k = t->keys;
	else
		rg_s3d_keys_free(&t->keys);
	memset(&t->keys, 0, sizeof(t->keys));
	free(t->listed);
	t->listed = NULL;
	return mine ? 0 : rg_s3d_keys_below(st, s, path, k);
}

/* the pending copy of key, set aside under name */
static int
pending_key(const char *name, const char *key, char *out, size_t size)
{
	return rg_path(out, size, PENDING "/%s/%s", name, key);
}

/* the key of the journal seq */
static int
journal_key(const struct s3store *d, unsigned long seq, char *out, size_t size)
{
	return rg_path(out, size, PENDING "/%s-%lu.links", d->run, seq);
}

/* Is the object at path, whose keys are k, a link alone (no copy needed)? */
static int
link_only(const char *path, const struct keys *k)
{
	struct rg_digest d;
	size_t n = strlen(path);

	return k->n == 1 && rg_s3d_link_object(path, &d) &&
	    strncmp(k->v[0], path, n) == 0 && strcmp(k->v[0] + n, "/link") == 0 &&
	    k->st[0].size == RG_LINK_LEN;
}

/* Has another run taken the lease?  Then nothing more is set aside or deleted. */
static int
lease_lost(struct rg_store *st, struct rg_s3 *s)
{
	if (!rg_s3_lease_lost(&S3(st)->lease))
		return 0;
	rg_msg(s->error, sizeof(s->error), ".rg-trash/lease: another run took "
	    "the lease, or it lapsed: nothing more is deleted");
	errno = EBUSY;
	return 1;
}

/* a new number for a name of this run's; its slot in d->pend, NULL */
static unsigned long
new_seq(struct s3store *d)
{
	unsigned long seq;

	pthread_mutex_lock(&d->lock);
	seq = ++d->seq;
	if ((seq & (seq - 1)) == 0) {	/* a power of two: full */
		if ((d->pend = realloc(d->pend, 2 * seq * sizeof(*d->pend))) == NULL)
			rg_nomem();
		memset(d->pend + seq - 1, 0, (seq + 1) * sizeof(*d->pend));
	}
	pthread_mutex_unlock(&d->lock);
	return seq;
}

/* what was set aside as name (one thread asks about one name) */
static struct s3pend *
pend_find(struct rg_store *st, const char *name)
{
	struct s3store *d = S3(st);
	struct s3pend *p = NULL;
	const char *dash = strchr(name, '-');
	unsigned long seq;
	char *end;

	if (dash == NULL)
		return NULL;
	errno = 0;
	seq = strtoul(dash + 1, &end, 10);
	if (*end != '\0' || errno != 0)
		return NULL;
	pthread_mutex_lock(&d->lock);
	if (seq >= 1 && seq <= d->seq && d->pend[seq - 1] != NULL &&
	    strcmp(d->pend[seq - 1]->name, name) == 0)
		p = d->pend[seq - 1];
	pthread_mutex_unlock(&d->lock);
	return p;
}

void
rg_s3d_pend_free(struct s3pend *p)
{
	rg_s3d_keys_free(&p->k);
	free(p->path);
	free(p);
}

static void
pend_forget(struct rg_store *st, struct s3pend *p)
{
	struct s3store *d = S3(st);
	unsigned long seq = strtoul(strchr(p->name, '-') + 1, NULL, 10);

	pthread_mutex_lock(&d->lock);
	d->pend[seq - 1] = NULL;
	pthread_mutex_unlock(&d->lock);
	rg_s3d_pend_free(p);
}

/*
 * Copy the keys of k to their pending names under name; -1 (reported)
 * when one could not be, the copies made deleted again.
 */
static int
copy_keys(struct rg_store *st, struct rg_s3 *s, const char *name,
    struct keys *k)
{
	char to[RG_STORE_PATH + 64];
	size_t i, j;

	for (i = 0; i < k->n; i++)
		if (pending_key(name, k->v[i], to, sizeof(to)) != 0 ||
		    rg_s3_copy(s, k->v[i], to, k->st[i].size) != 0)
			break;
	if (i == k->n)
		return 0;
	if (errno == ENAMETOOLONG)
		rg_msg(s->error, sizeof(s->error), "%s: key too long", k->v[i]);
	rg_s3d_warn(st, s);
	for (j = 0; j < i; j++)
		if (pending_key(name, k->v[j], to, sizeof(to)) == 0)
			rg_s3_delete(s, (char *[]){ to }, 1);
	return -1;
}

/*
 * Copy the pending copies of k under name back where they were, then
 * delete them; -1 (reported) leaves them, for the next run to put back
 * what is missing.
 */
static int
copy_back(struct rg_store *st, struct rg_s3 *s, const char *name,
    struct keys *k)
{
	char from[RG_STORE_PATH + 64];
	char **done;
	size_t i;
	int r = 0;

	if ((done = calloc(k->n ? k->n : 1, sizeof(*done))) == NULL)
		rg_nomem();
	for (i = 0; i < k->n && r == 0; i++) {
		if (pending_key(name, k->v[i], from, sizeof(from)) != 0) {
			rg_msg(s->error, sizeof(s->error), "%s: key too long",
			    k->v[i]);
			r = -1;
		} else if (rg_s3_copy(s, from, k->v[i], k->st[i].size) != 0)
			r = -1;
		else if ((done[i] = strdup(from)) == NULL)
			rg_nomem();
	}
	if (r == 0 && rg_s3_delete(s, done, k->n) != 0)
		r = -1;
	if (r != 0)
		rg_s3d_warn(st, s);
	for (i = 0; i < k->n; i++)
		free(done[i]);
	free(done);
	return r;
}

/* the stat of key in k, sorted as S3 lists, or NULL */
static const struct rg_stat *
key_stat(const struct keys *k, const char *key)
{
	size_t lo = 0, hi = k->n, i;
	int c;

	while (lo < hi) {
		i = lo + (hi - lo) / 2;
		if ((c = strcmp(k->v[i], key)) == 0)
			return &k->st[i];
		if (c < 0)
			lo = i + 1;
		else
			hi = i;
	}
	return NULL;
}

/*
 * The links of the thread's batch looked at again just before their
 * deletion, in one listing of their directory (each alone when it is too
 * large): one written again since its check, a push's, or not seen, is
 * not deleted (kept).
 */
static void
recheck_links(struct rg_store *st, struct slot *t)
{
	char dir[RG_STORE_PATH + 1];
	const struct rg_stat *now;
	struct keys all, one;
	struct s3pend *p, *q;
	size_t i, j, n;
	int r, *done;

	if ((done = calloc(t->nbatch, sizeof(*done))) == NULL)
		rg_nomem();
	for (i = 0; i < t->nbatch; i++) {
		p = t->batch[i];
		if (!p->link || done[i])
			continue;
		n = strlen(p->path) - RG_HEX_LEN;	/* <dir>/, of <dir>/<hex> */
		memcpy(dir, p->path, n);
		dir[n] = '\0';
		memset(&all, 0, sizeof(all));
		r = rg_s3_list(t->s3, dir, 0, rg_s3d_on_capped, &all);
		if (r == -1 && errno != ENOENT)
			rg_s3d_warn(st, t->s3);
		for (j = i; j < t->nbatch; j++) {
			q = t->batch[j];
			if (!q->link || done[j] || strlen(q->path) != n + RG_HEX_LEN ||
			    strncmp(q->path, dir, n) != 0)
				continue;
			done[j] = 1;
			now = NULL;
			memset(&one, 0, sizeof(one));
			if (r == 0 || (r == -1 && errno == ENOENT))
				now = key_stat(&all, q->k.v[0]);
			else if (r == 1 && rg_s3d_keys_below(st, t->s3, q->path, &one) == 0)
				now = key_stat(&one, q->k.v[0]);
			q->kept = now == NULL || now->id != q->k.st[0].id ||
			    now->mtime.tv_sec != q->k.st[0].mtime.tv_sec ||
			    now->mtime.tv_nsec != q->k.st[0].mtime.tv_nsec;
			rg_s3d_keys_free(&one);
		}
		rg_s3d_keys_free(&all);
	}
	free(done);
}

/*
 * The thread's objects set aside, their originals deleted in one request
 * (the links among them named in a journal first): 0, or -1 (reported),
 * when each of them is failed: there or not, a copy or a journal left
 * for the next run to put back what is missing.
 */
static int
flush_slot(struct rg_store *st, struct slot *t)
{
	struct s3store *d = S3(st);
	char key[RG_STORE_PATH + 64];
	struct journal *j = NULL;
	struct rg_buf jb = { 0 };
	struct keys del = { 0 };
	struct s3pend *p;
	size_t i, k, jlinks = 0;
	int r = 0;

	/* a tag's index entries of the batch's manifests first */
	if (t->predel.n > 0) {
		if (rg_s3_delete(t->s3, t->predel.v, t->predel.n) != 0) {
			rg_s3d_warn(st, t->s3);
			t->batch_failed = 1;
			r = -1;
		}
		rg_s3d_keys_free(&t->predel);
	}
	if (t->nbatch == 0)
		return r;
	/* the journal, then the links' last look: one request before the deletion */
	if (r != 0)
		goto done;
	for (i = 0; i < t->nbatch; i++)
		if (t->batch[i]->link && (rg_buf_add(&jb, t->batch[i]->path,
		    strlen(t->batch[i]->path)) == -1 || rg_buf_add(&jb, "\n", 1) == -1))
			rg_nomem();
	if (jb.len > 0) {
		if ((j = calloc(1, sizeof(*j))) == NULL)
			rg_nomem();
		j->seq = new_seq(d);
		if (journal_key(S3(st), j->seq, key, sizeof(key)) != 0 ||
		    rg_s3_put(t->s3, key, jb.p, jb.len) != 0) {
			free(j);	/* (nothing deleted) */
			j = NULL;
			r = -1;
		}
	}
	if (r == 0)
		recheck_links(st, t);
	for (i = 0; r == 0 && i < t->nbatch; i++) {
		p = t->batch[i];
		for (k = 0; !p->kept && k < p->k.n; k++)
			rg_s3d_key_add(&del, p->k.v[k], NULL);
		if (p->link && !p->kept)
			jlinks++;
	}
	if (j != NULL && jlinks == 0) {		/* every link stays: the journal goes */
		rg_s3d_key_add(&del, key, NULL);
		free(j);
		j = NULL;
	}
	if (r == 0 && del.n > 0 && rg_s3_delete(t->s3, del.v, del.n) != 0)
		r = -1;
	if (r != 0) {
		rg_s3d_warn(st, t->s3);
		t->batch_failed = 1;
	}
	if (j != NULL) {
		j->failed = r != 0;
		pthread_mutex_lock(&d->lock);
		j->next = d->journals;
		d->journals = j;
		pthread_mutex_unlock(&d->lock);
	}
done:
	for (i = 0; i < t->nbatch; i++) {
		p = t->batch[i];
		p->flushed = 1;
		p->failed = r != 0 && !p->kept;
		if (p->link && !p->kept)
			p->j = j;
	}
	t->nbatch = 0;
	rg_s3d_keys_free(&del);
	rg_buf_free(&jb);
	return r;
}

int
rg_s3d_pend(struct rg_store *st, const char *path, char name[RG_TRASH_NAME])
{
	struct s3store *d = S3(st);
	struct s3pend *p;
	struct slot *t;
	unsigned long seq;
	struct keys k;

	if ((t = rg_s3d_slot(st)) == NULL || lease_lost(st, t->s3) ||
	    keys_to_pend(st, t->s3, path, &k) == -1)
		return -1;
	if (k.n == 0)
		return 1;
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->path = strdup(path)) == NULL)
		rg_nomem();
	p->k = k;
	p->link = link_only(path, &k);
	seq = new_seq(d);
	rg_path(p->name, RG_TRASH_NAME, "%s-%lu", d->run, seq);
	if (!p->link && copy_keys(st, t->s3, p->name, &p->k) != 0) {
		rg_s3d_pend_free(p);
		return -1;	/* (its slot stays NULL) */
	}
	memcpy(name, p->name, RG_TRASH_NAME);
	pthread_mutex_lock(&d->lock);
	d->pend[seq - 1] = p;
	pthread_mutex_unlock(&d->lock);
	t->batch[t->nbatch++] = p;
	if (t->nbatch == RG_S3_BATCH)
		flush_slot(st, t);	/* (a failure: told by the next flush()) */
	return 0;
}

/* what this thread set aside, out of the registry's sight now */
int
rg_s3d_flush(struct rg_store *st)
{
	struct slot *t = rg_s3d_slot(st);
	int r;

	if (t == NULL || lease_lost(st, t->s3))
		return -1;
	r = flush_slot(st, t);
	rg_s3d_forget(t);
	if (t->batch_failed) {
		t->batch_failed = 0;
		r = -1;
	}
	return r;
}

/* its key path/sub as it was when set aside (a copy's own time is new) */
int
rg_s3d_pend_stat(struct rg_store *st, const char *name, const char *sub,
    struct rg_stat *sst)
{
	struct s3pend *p = pend_find(st, name);
	char key[RG_STORE_PATH + 1];
	size_t i;

	if (p == NULL || p->kept ||	/* (not what was checked: back) */
	    rg_path(key, sizeof(key), "%s/%s", p->path, sub) != 0) {
		errno = ENOENT;
		return -1;
	}
	for (i = 0; i < p->k.n; i++)
		if (strcmp(p->k.v[i], key) == 0) {
			*sst = p->k.st[i];
			return 0;
		}
	errno = ENOENT;
	return -1;
}

/* an object whose originals may or may not be there: nothing can be said */
static int
unsettled(const struct s3pend *p)
{
	if (p->flushed && !p->failed)
		return 0;
	errno = EIO;
	return 1;
}

/*
 * Gone for good, before the records are written: the pending copies
 * deleted (a link has none; its journal goes with batch_done).
 */
int
rg_s3d_finals(struct rg_store *st, const char *const *names, size_t n, int *res)
{
	char key[RG_STORE_PATH + 64];
	struct s3pend *p;
	struct rg_s3 *s;
	struct keys v = { 0 };
	size_t i, j;
	int r = 0;

	struct rg_buf held = { 0 };

	for (i = 0; i < n && r == 0; i++) {
		if ((p = pend_find(st, names[i])) == NULL || p->link || p->kept ||
		    unsettled(p))
			continue;
		if (S3(st)->quarantined) {	/* kept: listed, not deleted */
			if (rg_buf_printf(&held, "%s\t%s\n", names[i], p->path) == -1)
				rg_nomem();
			continue;
		}
		for (j = 0; j < p->k.n && r == 0; j++)
			if (pending_key(names[i], p->k.v[j], key, sizeof(key)) != 0) {
				errno = ENAMETOOLONG;
				r = -1;
			} else
				rg_s3d_key_add(&v, key, NULL);
	}
	if (r == 0 && (v.n > 0 || held.len > 0)) {
		if ((s = rg_s3d_conn(st)) == NULL)
			r = -1;
		else if (held.len > 0)
			r = rg_s3q_final(st, s, &held);
		else if ((r = rg_s3_delete(s, v.v, v.n)) != 0)
			rg_s3d_warn(st, s);
	}
	rg_buf_free(&held);
	rg_s3d_keys_free(&v);
	for (i = 0; i < n; i++) {
		p = pend_find(st, names[i]);
		res[i] = p != NULL && unsettled(p) ? -1 : p != NULL && p->kept ? 1 : r;
	}
	return r;
}

/* gone for good: the pending copies deleted, before the record is written */
int
rg_s3d_final(struct rg_store *st, const char *name)
{
	int r;

	rg_s3d_finals(st, &name, 1, &r);
	return r;
}

/*
 * Put back what was set aside as name, unless something is at its path
 * again (a push's: then the copies go, as the filesystem's pending
 * directory does, and 1): 0 done, -1 failed.
 */
int
rg_s3d_restore(struct rg_store *st, const char *name, const char *path)
{
	struct s3pend *p = pend_find(st, name);
	struct rg_s3 *s;
	struct keys now;
	int r;

	if (p == NULL)
		return 0;
	if (unsettled(p))
		return -1;
	if (p->kept) {
		pend_forget(st, p);
		return 1;	/* (never deleted) */
	}
	if ((s = rg_s3d_conn(st)) == NULL || rg_s3d_keys_below(st, s, path, &now) == -1)
		return -1;
	if (now.n > 0)
		r = p->link || rg_s3d_final(st, name) == 0 ? 1 : -1;
	else if (p->link && (r = rg_s3d_put_link(s, path)) != 0)
		rg_s3d_warn(st, s);
	else if (!p->link)
		r = copy_back(st, s, name, &p->k);
	rg_s3d_keys_free(&now);
	if (r != -1)
		pend_forget(st, p);
	return r;
}

/* the batch name was decided with (its journal's), 0 when none */
unsigned long
rg_s3d_batch(struct rg_store *st, const char *name)
{
	struct s3pend *p = pend_find(st, name);

	return p != NULL && p->j != NULL ? p->j->seq : 0;
}

/*
 * Every link of the n batches decided and put back or not: their journals
 * go, in one request (one whose links' deletion failed stays, for the
 * next run).  -1 (reported) when they could not: the next run puts their
 * links back.
 */
int
rg_s3d_batch_done(struct rg_store *st, const unsigned long *seqs, size_t n)
{
	struct rg_buf held = { 0 };
	struct s3store *d = S3(st);
	struct journal **jp, *j;
	char key[RG_STORE_PATH + 64];
	struct keys del = { 0 };
	struct rg_s3 *s = NULL;
	size_t i;
	int r = 0;

	for (i = 0; i < n; i++) {
		j = NULL;
		pthread_mutex_lock(&d->lock);
		for (jp = &d->journals; *jp != NULL; jp = &(*jp)->next)
			if ((*jp)->seq == seqs[i]) {
				j = *jp;
				*jp = j->next;
				break;
			}
		pthread_mutex_unlock(&d->lock);
		if (j != NULL && !j->failed && journal_key(S3(st), seqs[i], key,
		    sizeof(key)) == 0)
			rg_s3d_key_add(&del, key, NULL);
		free(j);
	}
	/* with a quarantine the journals stay, listed: their links are held */
	for (i = 0; d->quarantined && i < del.n; i++)
		if (rg_buf_printf(&held, "%s\t\n", del.v[i] + strlen(PENDING "/")) == -1)
			rg_nomem();
	if (del.n > 0 && ((s = rg_s3d_conn(st)) == NULL || (d->quarantined ?
	    rg_s3q_final(st, s, &held) : (r = rg_s3_delete(s, del.v, del.n))) != 0)) {
		if (s != NULL && !d->quarantined)
			rg_s3d_warn(st, s);
		r = -1;
	}
	rg_buf_free(&held);
	rg_s3d_keys_free(&del);
	return r;
}

int
rg_s3d_drop(struct rg_store *st, const char *name, const char *leaf)
{
	struct s3pend *p = pend_find(st, name);

	(void)leaf;
	if (p != NULL)
		pend_forget(st, p);
	return 0;
}

/*
 * Delete the keys below path now (an upload's multipart upload aborted
 * first): 0, 1 nothing was there, -1 failed (reported).
 */
int
rg_s3d_remove(struct rg_store *st, const char *path, const char *leaf)
{
	char data[RG_STORE_PATH + 8], id[1024];
	struct slot *t;
	struct rg_s3 *s;
	struct keys k;
	int64_t size;
	time_t mtime;
	size_t len;
	int r, had = 0;

	if ((t = rg_s3d_slot(st)) == NULL)
		return -1;
	s = t->s3;
	/*
	 * For rg-rm, a tag's index entry of a manifest (its link, by its
	 * name, what the registry writes there) goes with the thread's
	 * next flush, before the batch: the manifest's revision link is in
	 * it.
	 */
	if (S3(st)->dircache && leaf != NULL && strcmp(leaf, "link") == 0 &&
	    rg_s3d_tags_dir(path, &len) && strlen(path) >= len + 16 + RG_HEX_LEN &&
	    strncmp(path + strlen(path) - RG_HEX_LEN - 14, "/index/sha256/",
	    14) == 0 && rg_path(data, sizeof(data), "%s/link", path) == 0 &&
	    rg_s3_plain(data)) {
		rg_s3d_key_add(&t->predel, data, NULL);
		return 0;
	}
	if (rg_path(data, sizeof(data), "%s/data", path) == 0 && rg_s3d_upload_data(data)) {
		if (rg_s3_upload(s, data, id, sizeof(id), &size, &mtime) == 0) {
			if (rg_s3_abort(s, data, id) != 0) {
				rg_s3d_warn(st, s);
				return -1;
			}
			had = 1;
		} else if (errno != ENOENT) {
			rg_s3d_warn(st, s);
			return -1;
		}
	}
	if (rg_s3d_keys_below(st, s, path, &k) == -1)
		return -1;
	r = k.n == 0 ? (had ? 0 : 1) : rg_s3_delete(s, k.v, k.n) == 0 ? 0 : -1;
	if (r == -1)
		rg_s3d_warn(st, s);
	rg_s3d_keys_free(&k);
	return r;
}

int
rg_s3d_trash(struct rg_store *st, const char *path, char name[RG_TRASH_NAME])
{
	name[0] = '\0';	/* gone at once: nothing for drop */
	return rg_s3d_remove(st, path, NULL);
}

/* an empty "directory" is nothing */
int
rg_s3d_rmdir(struct rg_store *st, const char *path)
{
	(void)st;
	(void)path;
	return 1;
}

int
rg_s3d_unread(struct rg_store *st, const char *path, const struct rg_stat *sst)
{
	(void)st;
	(void)path;
	(void)sst;
	return 0;
}

void
rg_s3d_rm_close(struct rg_store *st)
{
	struct s3store *d = S3(st);
	struct journal *j;
	unsigned long i;

	for (i = 0; i < d->seq; i++)
		if (d->pend[i] != NULL)
			rg_s3d_pend_free(d->pend[i]);
	free(d->pend);
	d->pend = NULL;
	d->seq = 0;
	while ((j = d->journals) != NULL) {
		d->journals = j->next;
		free(j);
	}
	for (i = 0; i < d->nconn; i++)
		d->conn[i].nbatch = 0;	/* (each flushed before the settle) */
	rg_s3q_close(st, rg_s3d_conn(st));
	rg_strset_free(&d->qheld);
	rg_strset_free(&d->qclosed);
	rg_s3_lease_release(&d->lease);
}
