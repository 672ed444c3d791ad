/*
 * s3driver.h: what the S3 driver's files share, and nobody else needs.
 *
 * store_s3.c is its face (opened, closed, its operations), read_s3.c reads
 * a bucket as the registry's layout, rm_s3.c sets objects aside and
 * removes them for rg-rm, recover_s3.c begins a removal run (the lease,
 * and what a killed run left); conn_s3.c, below them all, holds each
 * thread's connection and the keys listed through it.
 */
#ifndef RG_S3DRIVER_H
#define RG_S3DRIVER_H

#include <pthread.h>

#include "s3.h"
#include "store.h"

#define MAX_THREADS	(2 * RG_STORE_JOBS_MAX + 2)
#define RG_S3_BATCH	64	/* objects set aside whose originals go in one request */
#define DIRCACHE_MAX	10000	/* keys of a directory listed for rg-rm's stats, at most */
#define PENDING		".rg-trash/pending"
#define JOURNAL_MAX	(RG_S3_BATCH * (RG_STORE_PATH + 1))	/* a journal's bytes */

/* keys with their stats, as listed (sorted as S3 lists them), or as added */
struct keys {
	char **v;
	struct rg_stat *st;	/* each key's, as listed */
	size_t n, cap;
};

/*
 * For rg-rm, every key below a prefix, listed once and kept until the
 * thread's next flush: the stats of a repository's links, or its tags
 * (read_s3.c).
 */
struct listcache {
	char *prefix;		/* what was listed, or NULL */
	struct keys keys;
	int big;		/* past DIRCACHE_MAX: not kept, each listed alone */
};

/* a batch of links set aside without copies: the journal naming them */
struct journal {
	unsigned long seq;	/* its name's, .rg-trash/pending/<run>-<seq>.links */
	int failed;		/* its deletion failed: left for the next run */
	struct journal *next;
};

/* an object rg-rm set aside: its keys, deleted at final (nothing moves on S3) */
struct s3pend {
	char name[RG_TRASH_NAME];
	char *path;		/* where it was */
	struct keys k;
	int link;		/* a link only, put back from its name: no copy */
	int flushed;		/* its originals' deletion was asked */
	int failed;		/* and failed: it may be there or not */
	int kept;		/* written again since its check: not deleted */
	struct journal *j;	/* a link's journal */
};

struct s3store {
	struct rg_s3_conf conf;
	struct s3pend **pend;	/* set aside as "<run>-<seq>": [seq - 1], or NULL */
	struct rg_s3_lease lease;	/* rg-rm's, from rm_open to rm_close */
	char run[33];		/* this run's id, random: hosts and containers
				 * (all pid 1) never share one */
	char lease_why[512];
	unsigned long seq;	/* the last name's */
	struct journal *journals;	/* written, not yet deleted */
	int quarantined;	/* --quarantine: this run's meta written */
	unsigned long qseq;	/* its last finals list's */
	time_t qexpires;
	struct rg_strset qheld, qclosed;	/* rm_open: what recovery leaves */
	int removing;		/* rm_open was called: stats to the millisecond */
	int dircache;		/* and took back what was pending: links' stats
				 * and tags from a listing of their directory */
	pthread_mutex_t lock;	/* conn, pend, seq */
	struct slot {
		pthread_t thread;
		struct rg_s3 *s3;
		char *listed;		/* rg-rm: the object whose keys, */
		struct keys keys;	/* listed by its last stat, pend may take */
		struct s3pend *batch[RG_S3_BATCH];	/* set aside, originals */
		size_t nbatch;				/* not yet deleted */
		int batch_failed;	/* a flush since the last flush() failed */
		struct listcache links;	/* rg-rm: a links directory, to the flush */
		struct listcache tags;	/* rg-rm: a repository's tags directory */
		struct keys predel;	/* tag index entries to go before the batch */
	} conn[MAX_THREADS];
	size_t nconn;
};

#define S3(st)	((struct s3store *)(st)->drv)

/* conn_s3.c: keys, each thread's connection, links put back */
void	rg_s3d_key_add(struct keys *k, const char *key, const struct rg_stat *st);
int	rg_s3d_on_key(void *arg, const struct rg_s3_entry *e);
int	rg_s3d_on_capped(void *arg, const struct rg_s3_entry *e);
void	rg_s3d_keys_free(struct keys *k);
int	rg_s3d_keys_below(struct rg_store *st, struct rg_s3 *s, const char *path,
	    struct keys *k);
void	rg_s3d_stat_of(const struct rg_s3_entry *e, struct rg_stat *sst);
void	rg_s3d_warn(struct rg_store *st, struct rg_s3 *s);
struct slot *rg_s3d_slot(struct rg_store *st);
struct rg_s3 *rg_s3d_conn(struct rg_store *st);
int	rg_s3d_dir_prefix(const char *dir, char *out, size_t size);
int	rg_s3d_link_object(const char *path, struct rg_digest *d);
int	rg_s3d_put_link(struct rg_s3 *s, const char *path);

/* read_s3.c: the reading operations, and rg-rm's listing caches */
int	rg_s3d_list(struct rg_store *st, const char *dir, struct rg_dir *l);
int	rg_s3d_each(struct rg_store *st, const char *dir, const char *suffix,
	    rg_each_fn *fn, void *arg);
int	rg_s3d_links(struct rg_store *st, const char *dir, rg_linked_fn *fn,
	    void *arg);
int	rg_s3d_stat(struct rg_store *st, const char *path, struct rg_stat *sst);
int	rg_s3d_read(struct rg_store *st, const char *path, size_t max,
	    char **buf, size_t *len);
int	rg_s3d_link(struct rg_store *st, const char *path, struct rg_digest *d,
	    struct rg_stat *sst);
void	rg_s3d_forget(struct slot *t);
int	rg_s3d_upload_data(const char *path);
int	rg_s3d_tags_dir(const char *dir, size_t *len);

/* rm_s3.c: setting aside, deciding, putting back */
void	rg_s3d_pend_free(struct s3pend *p);
int	rg_s3d_pend(struct rg_store *st, const char *path, char name[RG_TRASH_NAME]);
int	rg_s3d_pend_stat(struct rg_store *st, const char *name, const char *sub,
	    struct rg_stat *sst);
int	rg_s3d_flush(struct rg_store *st);
unsigned long rg_s3d_batch(struct rg_store *st, const char *name);
int	rg_s3d_batch_done(struct rg_store *st, const unsigned long *seqs, size_t n);
int	rg_s3d_restore(struct rg_store *st, const char *name, const char *path);
int	rg_s3d_final(struct rg_store *st, const char *name);
int	rg_s3d_finals(struct rg_store *st, const char *const *names, size_t n,
	    int *res);
int	rg_s3d_trash(struct rg_store *st, const char *path, char name[RG_TRASH_NAME]);
int	rg_s3d_drop(struct rg_store *st, const char *name, const char *leaf);
int	rg_s3d_remove(struct rg_store *st, const char *path, const char *leaf);
int	rg_s3d_rmdir(struct rg_store *st, const char *path);
int	rg_s3d_unread(struct rg_store *st, const char *path, const struct rg_stat *sst);
void	rg_s3d_rm_close(struct rg_store *st);

/* quarantine_s3.c: what rg-rm deletes, held for a while */
int	rg_s3q_purge(struct rg_store *st, long long older_than);
int	rg_s3q_held_names(struct rg_store *st, struct rg_s3 *s,
	    struct rg_strset *held, struct rg_strset *closed);
int	rg_s3q_is_held(const struct rg_strset *held, const struct rg_strset *closed,
	    const char *name);
int	rg_s3q_open(struct rg_store *st, struct rg_s3 *s);
int	rg_s3q_final(struct rg_store *st, struct rg_s3 *s, const struct rg_buf *lines);
void	rg_s3q_close(struct rg_store *st, struct rg_s3 *s);
int	rg_s3d_held_open(struct rg_store *st, const char *run, struct rg_qindex *x);
int	rg_s3d_put_back(struct rg_store *st, const char *name, const char *path,
	    int dry_run);
void	rg_s3d_held_close(struct rg_store *st);
int	rg_s3d_held_where(struct rg_store *st, const char *name, const char *path,
	    char *out, size_t size);
int	rg_s3d_held_each(struct rg_store *st, rg_qrun_fn *fn, void *arg);

/* recover_s3.c: a removal run's beginning */
int	rg_s3d_rm_open(struct rg_store *st, unsigned long *recovered, const char **why);

#endif
