/*
 * conn_s3.c: the S3 driver's connections and the keys listed through them.
 *
 * The ground of the driver: each thread that calls the store has its own
 * connection (a slot, up to MAX_THREADS, made at its first call) and its
 * own state of what rg-rm is doing with it (s3driver.h).  A revision's or
 * layer link's content is the digest its key names, so rg-rm puts one back
 * from its path alone (rg_s3d_put_link).
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s3driver.h"

/* key added to k, with its stat when known */
void
rg_s3d_key_add(struct keys *k, const char *key, const struct rg_stat *st)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 8;
		if ((k->v = realloc(k->v, k->cap * sizeof(*k->v))) == NULL ||
		    (k->st = realloc(k->st, k->cap * sizeof(*k->st))) == NULL)
			rg_nomem();
	}
	if (st != NULL)
		k->st[k->n] = *st;
	else
		memset(&k->st[k->n], 0, sizeof(k->st[k->n]));
	if ((k->v[k->n++] = strdup(key)) == NULL)
		rg_nomem();
}

int
rg_s3d_on_key(void *arg, const struct rg_s3_entry *e)
{
	struct rg_stat st;

	if (e->is_prefix)
		return 0;
	rg_s3d_stat_of(e, &st);
	rg_s3d_key_add(arg, e->key, &st);
	return 0;
}

void
rg_s3d_keys_free(struct keys *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	free(k->st);
	memset(k, 0, sizeof(*k));
}


/* why the last request of s failed, naming the store */
void
rg_s3d_warn(struct rg_store *st, struct rg_s3 *s)
{
	warnx("%s: %s", st->root, s->error);
}

/* This thread's slot (its connection); NULL (errno EAGAIN) past MAX_THREADS. */
struct slot *
rg_s3d_slot(struct rg_store *st)
{
	struct s3store *d = S3(st);
	struct slot *t = NULL;
	struct rg_s3 *s;
	size_t i;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->nconn; i++)
		if (pthread_equal(d->conn[i].thread, pthread_self())) {
			t = &d->conn[i];
			break;
		}
	if (t == NULL && d->nconn < MAX_THREADS) {
		if ((s = malloc(sizeof(*s))) == NULL)
			rg_nomem();
		if (rg_s3_open(s, &d->conf) != 0)	/* (checked at open) */
			free(s);
		else {
			t = &d->conn[d->nconn++];
			memset(t, 0, sizeof(*t));
			t->thread = pthread_self();
			t->s3 = s;
		}
	}
	pthread_mutex_unlock(&d->lock);
	if (t == NULL)
		errno = EAGAIN;
	return t;
}

struct rg_s3 *
rg_s3d_conn(struct rg_store *st)
{
	struct slot *t = rg_s3d_slot(st);

	return t != NULL ? t->s3 : NULL;
}

/* "dir/" for a directory path, "" for the top */
int
rg_s3d_dir_prefix(const char *dir, char *out, size_t size)
{
	return rg_path(out, size, "%s%s", dir, *dir ? "/" : "");
}

/* the stat of a listed key; id: a hash of its ETag */
void
rg_s3d_stat_of(const struct rg_s3_entry *e, struct rg_stat *sst)
{
	memset(sst, 0, sizeof(*sst));
	sst->kind = e->is_prefix ? DT_DIR : DT_REG;
	sst->size = e->size;
	sst->mtime.tv_sec = sst->ctime.tv_sec = e->mtime;
	sst->mtime.tv_nsec = sst->ctime.tv_nsec = e->mtime_ns;
	sst->id = e->etag[0] ? rg_str_hash(RG_HASH_INIT, e->etag) : 0;
}

/* rg_s3d_on_key up to DIRCACHE_MAX keys; past them 1 (the listing stops) */
int
rg_s3d_on_capped(void *arg, const struct rg_s3_entry *e)
{
	struct keys *k = arg;

	if (k->n >= DIRCACHE_MAX)
		return 1;
	return rg_s3d_on_key(k, e);
}

/* every key below path/ (registry paths); -1 (reported) when S3 did not answer */
int
rg_s3d_keys_below(struct rg_store *st, struct rg_s3 *s, const char *path,
    struct keys *k)
{
	char prefix[RG_STORE_PATH + 1];

	memset(k, 0, sizeof(*k));
	if (rg_s3d_dir_prefix(path, prefix, sizeof(prefix)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (rg_s3_list(s, prefix, 0, rg_s3d_on_key, k) != 0 && errno != ENOENT) {
		rg_s3d_warn(st, s);
		rg_s3d_keys_free(k);
		return -1;
	}
	return 0;
}

/*
 * Is path a revision or a layer link's directory of a valid repository
 * (repositories/<name>/_manifests/revisions/sha256/<hex>, .../_layers/
 * sha256/<hex>)?  Its digest into d.
 */
int
rg_s3d_link_object(const char *path, struct rg_digest *d)
{
	static const char *const tails[] = { "/_manifests/revisions/sha256/",
	    "/_layers/sha256/" };
	char name[RG_STORE_PATH + 1];
	size_t n = strlen(path), t, len;
	const char *hex;

	if (n < 13 + RG_HEX_LEN || n > RG_STORE_PATH ||
	    strncmp(path, "repositories/", 13) != 0)
		return 0;
	hex = path + n - RG_HEX_LEN;
	if (rg_hex_parse(hex, RG_HEX_LEN, d) != 0)
		return 0;
	for (t = 0; t < 2; t++) {
		len = strlen(tails[t]);
		if ((size_t)(hex - path) <= 13 + len ||
		    strncmp(hex - len, tails[t], len) != 0)
			continue;
		memcpy(name, path + 13, (size_t)(hex - len - path - 13));
		name[hex - len - path - 13] = '\0';
		return rg_repo_valid(name) && rg_s3_plain(path);
	}
	return 0;
}

/* Write the link at path again, from its name; -1 (errno, s->error). */
int
rg_s3d_put_link(struct rg_s3 *s, const char *path)
{
	char key[RG_STORE_PATH + 8], v[RG_LINK_LEN + 1], hex[RG_HEX_LEN + 1];
	struct rg_digest d;

	if (!rg_s3d_link_object(path, &d) || rg_path(key, sizeof(key), "%s/link",
	    path) != 0) {
		rg_msg(s->error, sizeof(s->error), "%s: not a link's path", path);
		errno = EINVAL;
		return -1;
	}
	rg_digest_hex(&d, hex);
	rg_path(v, sizeof(v), "sha256:%s", hex);
	return rg_s3_put(s, key, v, RG_LINK_LEN);
}
