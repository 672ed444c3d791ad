/*
 * store.h: a registry's storage, behind one interface.
 *
 * The scan (storescan.c) and the sweep (sweep.c, settle.c, fresh.c) use
 * only these operations; a store is opened by its name (store_open.c),
 * which picks its driver: store_fs.c for a filesystem, store_s3.c (with
 * read_s3.c, rm_s3.c, recover_s3.c) for S3.  Paths are relative to the
 * registry's docker/registry/v2 directory, '/'-separated, as the registry
 * names its objects ("repositories/<name>/_manifests/tags").
 *
 * The operations follow what S3 can do as well as a filesystem:
 * - there are no directories on S3, only key prefixes: a listing names a
 *   prefix's immediate children (a delimiter listing) with their kind, and
 *   each() asks for every child's <child>/<suffix> at once, as one prefix
 *   listing of 1000 keys a page (sizes and modification times come with
 *   it; S3 has no atime, ctime or inode: id is then a hash of the ETag);
 * - a link's digest is in its key: links() may answer from a listing
 *   without reading each link, where a filesystem reads them;
 * - there is no atomic rename: pend/restore/final move an object's keys
 *   (copy and delete), or note them in a journal and delete later, which a
 *   driver may do in batches (DeleteObjects takes 1000 keys);
 * - an empty directory is nothing: rmdir may succeed with nothing to do.
 * Every operation of one store may be called from several threads at once
 * by the scan (two on a filesystem, jobs on S3); the removal operations
 * from rg-rm's jobs at once (rm_threads by default: 16 on S3, one on a
 * filesystem).
 */
#ifndef RG_STORE_H
#define RG_STORE_H

#include <sys/stat.h>

#include <pthread.h>

#include "beneath.h"
#include "records.h"

/*
 * Underneath the filesystem driver: the registry's layout read with file
 * descriptors (storage.c), operations confined below a directory
 * (beneath.h), pending objects (pending.c); and the sweep, which uses
 * only the store.
 */
/* what the storage says of an object; a field a driver lacks is zero */
struct rg_stat {
	int kind;		/* DT_REG, DT_DIR, DT_LNK..., as in rg_entry */
	int64_t size;
	struct timespec mtime, atime, ctime;
	uint64_t id;		/* the same object: inode (or an ETag's hash) */
};

/* storage.c: the distribution registry's filesystem layout */
#define RG_LINK_LEN	RG_DIGEST_STRLEN	/* a link file is exactly this, no newline */
#define RG_V2		"docker/registry/v2"

enum rg_link_status {
	RG_LINK_OK = 0,
	RG_LINK_MISSING = -1,	/* ENOENT; errno set */
	RG_LINK_IOERR = -2,	/* other open/read error; errno set */
	RG_LINK_CORRUPT = -3	/* not "sha256:" + 64 lowercase hex */
};

int	rg_link_fd(int fd, struct rg_digest *d, struct stat *st);
int	rg_link_open(int dirfd, const char *path, int beneath);
int	rg_blob_path(const struct rg_digest *d, char *buf, size_t size);
int	rg_open_root(const char *root, char **v2path);

int	rg_upload_valid(const char *s);

/* pending.c: moved away, deleted or put back once the storage is seen again */
int	rg_pend_open(int trashfd);
int	rg_pend_move(int v2fd, int pendfd, const char *path,
	    char name[RG_TRASH_NAME]);
int	rg_pend_restore(int v2fd, int pendfd, const char *name, const char *path);
int	rg_pend_final(int pendfd, int trashfd, const char *name);
void	rg_pend_close(int pendfd);
int	rg_pend_recover(int v2fd, int pendfd, unsigned long *back);

/* quarantine.c: what rg-rm deletes from a filesystem, held for a while */
struct rg_quarantine {
	char run[33];		/* .rg-trash/quarantine/<run> */
	time_t time, expires;
	int trashfd;		/* the trash's, not ours */
	int dirfd, indexfd;	/* -1: none open */
	unsigned long kept;
};

/* a run held in quarantine, and what it holds */
struct rg_qrun {
	char run[33];
	time_t time, expires;
	unsigned long objects;
	int64_t bytes;
};

typedef void rg_qrun_fn(void *arg, const struct rg_qrun *r);

int	rg_quarantine_open(struct rg_quarantine *q, int trashfd, const char *run,
	    time_t now, long long duration);
int	rg_quarantine_note(struct rg_quarantine *q, const char *name,
	    const char *path);
int	rg_quarantine_keep(struct rg_quarantine *q, int trashfd, const char *name);
void	rg_quarantine_close(struct rg_quarantine *q);
int	rg_quarantine_each(int trashfd, rg_qrun_fn *fn, void *arg);
int	rg_quarantine_purge(int trashfd, time_t now, long long older_than,
	    const char *keep, rg_qrun_fn *fn, void *arg);

/* a run's index, for rg-restore: where each object held was */
#define RG_QINDEX_MAX	(1LL << 30)	/* bytes of an index read */
struct rg_qindex {
	struct rg_qentry {
		char *name, *path;
	} *v;
	size_t n, cap;
};

int	rg_quarantine_load(int trashfd, const char *run, int *dirfd,
	    struct rg_qindex *x);
void	rg_qindex_free(struct rg_qindex *x);
int	rg_quarantine_put(int qdirfd, const char *name, int v2fd,
	    const char *path, int dry_run);

/* sweep.c, settle.c, fresh.c: deleting registry objects from storage, for rg-rm */
#define RG_SWEEP_PATH	(RG_REPO_MAX + RG_TAG_MAX + 2 * RG_HEX_LEN + 96)
#define RG_SETTLE	1	/* seconds pending objects wait for pushes in flight */

struct rg_tagindex {
	struct rg_digest d;		/* tags/<tagdir.v[tag]>/index/sha256/<d> */
	size_t tag;
};

struct rg_redis;
struct rg_store;
struct rg_swpend;

#define RG_RELATIME	86400	/* relatime updates atime at least this often */

/*
 * A sweep: what the run knows (shared), and what one worker's calls carry
 * (the object last asked about).  rg_sweep_open makes the run's; with a
 * more than one job (--jobs, or the store's rm_threads) and no
 * redis cache, rg_sweep_jobs (once the run's settings are set) makes jobs
 * workers and their threads (pool): worker k is used by thread k only,
 * and they share the run's tables under its lock; rg_sweep_join lets go
 * of what a worker holds of its last calls, at the end of a part.  What a
 * sweep (the run's or a worker's) sets aside may stay in the registry's
 * sight until its rg_sweep_flush (a store's batch): called after each
 * repository's manifests or layer links, and at the end of each part.
 * rg_sweep_fresh, _settle, _close and _prune are the run's, called while
 * no worker runs.
 */
struct rg_sweep {
	struct rg_sweep *run;		/* the run's (itself for the run's) */
	struct rg_store *st;		/* the storage, the caller's */
	int dry_run;
	int atime_works;		/* the filesystem records reads (not noatime) */
	struct rg_redis *redis;		/* the registry's redis cache, or NULL */
	const char *root;		/* the store's, for messages */
	time_t scan_time, now;		/* scan_time -1: unknown */
	long long min_age;
	unsigned long recovered;	/* put back from a killed run's pending */

	/* the run's, shared by its workers: */
	struct rg_pool *pool;		/* the workers' threads, or NULL */
	struct rg_sweep *w;		/* the workers, jobs of them */
	int jobs;
	pthread_mutex_t lock;		/* pend, revdirs, gone_tags */
	struct rg_swpend *pend;		/* moved into pending, not yet decided */
	size_t npend, cappend;
	int fresh_manifests;		/* a revision or tag written since the scan */
	struct rg_dtab fresh;		/* digests linked since the scan */
	struct rg_strset fresh_repos;	/* with a revision or tag since the scan */
	struct rg_dtab fresh_mans;	/* what they name: "repo@hex" hashed */
	struct rg_strset fresh_unknown;	/* with one whose digest is not known */
	struct rg_dtab revdirs;		/* revisions/sha256 as rg-rm left them */
	struct rg_strset gone_tags;	/* "repo:tag", deleted (or would be) */

	/* each worker's: */
	char *current_repo;		/* what its tags point at now: */
	struct rg_digest *current;
	size_t ncurrent;
	struct rg_tagindex *index;	/* and every digest in their history */
	size_t nindex;
	struct rg_dir tagdir;		/* the names index[].tag points into */
	char *ours_repo;		/* a manifest of it set aside, not yet flushed */
	int flush_failed;		/* a flush failed since rg_sweep_flush */
	char *seen_repo;		/* revisions/sha256 of the last repository */
	struct rg_stat seen;		/* a layer link was asked about, */
	int seen_r;			/* and what its stat returned */
	const char *why;		/* why the last object was kept or failed */
	char err[RG_SWEEP_PATH + 160];
	char drop[RG_TRASH_NAME];	/* gone for good, its record not yet written */
};

typedef void rg_changed_fn(void *arg, const char *repo);

int	rg_sweep_open(struct rg_sweep *s, struct rg_store *st, int dry_run);
int	rg_sweep_jobs(struct rg_sweep *s, int jobs);
void	rg_sweep_join(struct rg_sweep *w);
int	rg_sweep_flush(struct rg_sweep *s);
int	rg_sweep_tag(struct rg_sweep *s, const char *repo, const char *tag,
	    const struct rg_digest *expect);
int	rg_sweep_manifest(struct rg_sweep *s, const char *repo,
	    const struct rg_digest *d, size_t tag);
int	rg_sweep_layer(struct rg_sweep *s, const char *repo,
	    const struct rg_digest *d, size_t tag);
int	rg_sweep_blob(struct rg_sweep *s, const struct rg_digest *d, size_t tag);
typedef void rg_settled_fn(void *arg, size_t tag, int result, const char *why);
void	rg_sweep_settle(struct rg_sweep *s, unsigned settle, rg_settled_fn *fn,
	    void *arg);
void	rg_sweep_close(struct rg_sweep *s);
int	rg_sweep_upload(struct rg_sweep *s, const char *repo, const char *uuid);
void	rg_sweep_fresh(struct rg_sweep *s, rg_changed_fn *fn, void *arg);
int	rg_sweep_prune(struct rg_sweep *s, const char *repo);

/* store.h's rg_store_links: every <hex>/link of a directory */
typedef void rg_link_fn(void *arg, const struct rg_digest *d,
	    const struct timespec *mtime);

/* the longest path a store is asked about */
#define RG_STORE_PATH	(RG_REPO_MAX + RG_TAG_MAX + 2 * RG_HEX_LEN + 96)

struct rg_store;

/* each(): an entry name of dir, with the stat of name/suffix, or err (errno) */
typedef void rg_each_fn(void *arg, const char *name, const struct rg_stat *st,
	    int err);
/* links(): an entry name of dir whose <name>/link gave status (RG_LINK_*;
 * RG_LINK_IOERR with errno set), its digest and stat when there */
typedef void rg_linked_fn(void *arg, const char *name, int status,
	    const struct rg_digest *d, const struct rg_stat *st);

struct rg_store_ops {
	/* reading: every call -1 with errno set on failure (ENOENT: not there) */
	int	(*list)(struct rg_store *, const char *dir, struct rg_dir *l);
	int	(*each)(struct rg_store *, const char *dir, const char *suffix,
		    rg_each_fn *fn, void *arg);
	int	(*links)(struct rg_store *, const char *dir, rg_linked_fn *fn,
		    void *arg);
	int	(*stat)(struct rg_store *, const char *path, struct rg_stat *st);
	int	(*read)(struct rg_store *, const char *path, size_t max,
		    char **buf, size_t *len);
	int	(*link)(struct rg_store *, const char *path, struct rg_digest *d,
		    struct rg_stat *st);	/* RG_LINK_*; st when not NULL */
	int	(*same)(struct rg_store *, const char *where);

	/*
	 * Removing, for rg-rm: rm_open takes the store for one run (a lock;
	 * what a killed run left pending goes back, its trash goes); an
	 * object (a directory and what it holds) moves to pending under a
	 * name, then back or on into the trash, then is dropped for good.
	 * 0 done, 1 nothing was there (or, for restore, something is there
	 * again), -1 failed (errno).
	 */
	int	(*rm_open)(struct rg_store *, unsigned long *recovered,
		    const char **why);
	/*
	 * The quarantines held (--quarantine) that have ended (older_than
	 * < 0), or older than older_than seconds, removed, but this run's;
	 * st->purged hears of each.  NULL: the store holds none.
	 */
	int	(*purge)(struct rg_store *, long long older_than);
	/*
	 * rg-restore, after rm_open: the run's quarantine opened and its
	 * index read (held_open; -1, errno ENOENT: not held), an object put
	 * back (put_back: rg_quarantine_put's answers), the run let go.
	 * NULL: the store holds no quarantine.
	 */
	int	(*held_open)(struct rg_store *, const char *run,
		    struct rg_qindex *x);
	int	(*put_back)(struct rg_store *, const char *name, const char *path,
		    int dry_run);
	void	(*held_close)(struct rg_store *);
	/*
	 * Where the run held_open opened keeps name, held from path: a path
	 * below the v2 directory, for link and read.  0, or -1.
	 */
	int	(*held_where)(struct rg_store *, const char *name, const char *path,
		    char *out, size_t size);
	/* every run held in quarantine, told to fn; NULL: none can be */
	int	(*held_each)(struct rg_store *, rg_qrun_fn *fn, void *arg);
	int	(*pend)(struct rg_store *, const char *path,
		    char name[RG_TRASH_NAME]);
	int	(*pend_stat)(struct rg_store *, const char *name, const char *sub,
		    struct rg_stat *st);
	/*
	 * A store that sets objects aside in batches (NULL: each at once):
	 * flush() makes what this thread set aside leave the registry's
	 * sight now (-1: some of it, since the last flush, failed; each is
	 * then failed at restore and final); batch() names the batch a
	 * pending object is decided with (0: none), batch_done() is told
	 * when all of some are decided and carried out, before their records.
	 * final() then says 1 of an object found written again just before
	 * its deletion, and not deleted: it stays.
	 */
	int	(*flush)(struct rg_store *);
	unsigned long (*batch)(struct rg_store *, const char *name);
	int	(*batch_done)(struct rg_store *, const unsigned long *batches,
		    size_t n);
	int	(*restore)(struct rg_store *, const char *name, const char *path);
	int	(*final)(struct rg_store *, const char *name);
	/* final() of n names at once, into res[]; NULL: one at a time */
	int	(*finals)(struct rg_store *, const char *const *names, size_t n,
		    int *res);
	int	(*trash)(struct rg_store *, const char *path,
		    char name[RG_TRASH_NAME]);
	int	(*drop)(struct rg_store *, const char *name, const char *leaf);
	int	(*remove)(struct rg_store *, const char *path, const char *leaf);
	int	(*rmdir)(struct rg_store *, const char *path);
	/* the registry's reads of path (atime): marked as none since st */
	int	(*unread)(struct rg_store *, const char *path,
		    const struct rg_stat *st);
	void	(*rm_close)(struct rg_store *);

	void	(*close)(struct rg_store *);
};

struct rg_store {
	const struct rg_store_ops *ops;
	const char *source;	/* for the scan record: "storage" */
	char *root;		/* where, for messages and the scan record */
	int atime_works;	/* after rm_open: reads are seen in atime */
	int rm_threads;		/* removals from several threads: how many at once by
				 * default (S3: 16); 0 or 1: from one only
				 * (a filesystem, unless --jobs) */
	long lease_ttl;		/* S3: seconds rg-rm's lease lasts; 0: the default */
	long long quarantine;	/* rg-rm --quarantine: seconds what goes is held; 0: not */
	rg_qrun_fn *purged;	/* at rm_open, told of each run whose */
	void *purged_arg;	/* quarantine ended, removed */
	char run[33];		/* after rm_open: this run's id, random */
	void *drv;		/* the driver's */
};

/* store_fs.c: the filesystem driver; NULL (reported) when root is not storage */
struct rg_store *rg_store_fs(const char *root);

/* store_open.c: the store at where, its driver chosen by the name's form; for
 * a remote store (s3://), how to reach it (NULL: from the environment) */
struct rg_remote {
	const char *endpoint;	/* S3: scheme://host[:port], path-style */
	const char *cacert;
	int insecure;
	/* S3, from the registry's config.yml: over the environment's */
	const char *region, *access_key, *secret_key;
	const char *writes;	/* headers of a write, as the registry's */
};

struct rg_store *rg_store_open(const char *where, const struct rg_remote *r);
void	rg_store_close(struct rg_store *st);

/* storage.c: reading the registry's objects through a store */
int	rg_store_links(struct rg_store *st, const char *path, const char *dir,
	    const char *where, rg_link_fn *fn, void *arg);
int	rg_image_read(struct rg_store *st, const char *repo, struct rg_image *m,
	    struct rg_configs *cache);
json_t *rg_upload_record(struct rg_store *st, const char *repo,
	    const char *uuid);

/* storescan.c: rg-scan of a store, apiscan.c's twin; one per process */
#define RG_STORE_JOBS_MAX	64
struct rg_store_opts {
	struct rg_store *store;
	const char *repo_pattern;	/* for the scan record, or NULL */
	struct rg_regex *filter;	/* repositories, or NULL */
	int jobs;			/* repositories scanned at once (remote) */
	rg_write_fn *write;		/* whole records; called from two threads */
	void *arg;
};

int	rg_store_scan(const struct rg_store_opts *o);

#endif
