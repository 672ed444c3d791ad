/*
 * store_s3.c: the S3 driver of store.h, opened and closed: its face.
 *
 * A registry on its s3 storage driver: a directory is a key prefix, a
 * file a key (read_s3.c reads them); rg-rm sets objects aside by copying
 * their keys into .rg-trash/pending and deleting the originals (rm_s3.c),
 * one run at a time under a lease (recover_s3.c).  Each thread that calls
 * the store has its own connection (conn_s3.c), and its own state of
 * what rg-rm is doing with it.  Memory: per thread, a
 * connection and, for rg-rm, the keys of the objects it set aside and of
 * the directories it keeps listings of (at most DIRCACHE_MAX keys each).
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s3driver.h"

/* Is where this bucket and root (s3://bucket[/rootdir], as given)? */
static int
s3_same(struct rg_store *st, const char *where)
{
	return strcmp(st->root, where) == 0;
}

static void
s3_close(struct rg_store *st)
{
	struct s3store *d = S3(st);
	size_t i;

	for (i = 0; i < d->nconn; i++) {
		rg_s3_close(d->conn[i].s3);
		free(d->conn[i].s3);
		free(d->conn[i].listed);
		rg_s3d_keys_free(&d->conn[i].keys);
		rg_s3d_keys_free(&d->conn[i].predel);
		rg_s3d_forget(&d->conn[i]);
	}
	pthread_mutex_destroy(&d->lock);
	rg_s3_conf_free(&d->conf);
	free(d);
	free(st->root);
	free(st);
}

static const struct rg_store_ops s3_ops = {
	.list = rg_s3d_list,
	.each = rg_s3d_each,
	.links = rg_s3d_links,
	.stat = rg_s3d_stat,
	.read = rg_s3d_read,
	.link = rg_s3d_link,
	.same = s3_same,
	.rm_open = rg_s3d_rm_open,
	.purge = rg_s3q_purge,
	.held_open = rg_s3d_held_open,
	.put_back = rg_s3d_put_back,
	.held_close = rg_s3d_held_close,
	.held_where = rg_s3d_held_where,
	.held_each = rg_s3d_held_each,
	.pend = rg_s3d_pend,
	.pend_stat = rg_s3d_pend_stat,
	.flush = rg_s3d_flush,
	.batch = rg_s3d_batch,
	.batch_done = rg_s3d_batch_done,
	.restore = rg_s3d_restore,
	.final = rg_s3d_final,
	.finals = rg_s3d_finals,
	.trash = rg_s3d_trash,
	.drop = rg_s3d_drop,
	.remove = rg_s3d_remove,
	.rmdir = rg_s3d_rmdir,
	.unread = rg_s3d_unread,
	.rm_close = rg_s3d_rm_close,
	.close = s3_close,
};

/*
 * The registry storage at s3://BUCKET[/ROOTDIR] (rg_s3_conf_url), checked
 * by a first listing of its v2 directory: NULL (reported, naming the
 * bucket and what S3 answered) when it cannot be read.
 */
struct rg_store *
rg_store_s3(const char *url, const struct rg_remote *r)
{
	struct rg_store *st;
	struct s3store *d;
	struct rg_s3_conf c;
	struct rg_s3 *s;
	struct rg_dir l;
	char *root;
	size_t n;

	if (rg_s3_conf_url(&c, url, r->endpoint) != 0) {
		warnx("%s: not s3://BUCKET[/ROOTDIR] with a valid bucket name", url);
		return NULL;
	}
	n = strlen(c.rootdir) + sizeof("/" RG_V2);
	if ((root = malloc(n)) == NULL)
		rg_nomem();
	rg_path(root, n, "%s%s%s", c.rootdir, *c.rootdir ? "/" : "", RG_V2);
	free(c.rootdir);
	c.rootdir = root;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (d = calloc(1, sizeof(*d))) == NULL)
		rg_nomem();
	c.cacert = r->cacert;
	c.insecure = r->insecure;
	if (r->writes != NULL && (c.writes = strdup(r->writes)) == NULL)
		rg_nomem();
	if (r->region != NULL) {
		free(c.region);
		if ((c.region = strdup(r->region)) == NULL)
			rg_nomem();
	}
	if (r->access_key != NULL && r->secret_key != NULL) {
		free(c.access_key);
		free(c.secret_key);
		free(c.session_token);
		c.session_token = NULL;
		if ((c.access_key = strdup(r->access_key)) == NULL ||
		    (c.secret_key = strdup(r->secret_key)) == NULL)
			rg_nomem();
	}
	d->conf = c;
	pthread_mutex_init(&d->lock, NULL);
	st->ops = &s3_ops;
	st->source = "s3";
	st->rm_threads = RG_S3_JOBS;
	st->drv = d;
	if ((st->root = strdup(url)) == NULL)
		rg_nomem();
	if ((s = malloc(sizeof(*s))) == NULL)
		rg_nomem();
	if (rg_s3_open(s, &d->conf) != 0) {
		warnx("%s: %s", url, s->error);
		free(s);
		s3_close(st);
		return NULL;
	}
	d->conn[0].thread = pthread_self();
	d->conn[0].s3 = s;
	d->nconn = 1;
	if (rg_s3d_list(st, "", &l) != 0) {
		if (errno == ENOENT)
			warnx("%s: no registry storage there (no key below %s/)",
			    url, d->conf.rootdir);
		s3_close(st);
		return NULL;
	}
	rg_dir_free(&l);
	return st;
}
