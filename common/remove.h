/*
 * remove.h: what rg-rm carries out.
 *
 * The plan (rmplan.c) is read from an rg-refs stream: its marked objects,
 * checked field by field, and the repositories they are in.  A remover
 * then carries it out, the storage's (rmstore.c, through sweep.c and a
 * store) or the registry API's (rmapi.c, through apirm.c); both tell each
 * object's result and reason to the caller's function, which counts it and
 * writes the audit record.
 */
#ifndef RG_REMOVE_H
#define RG_REMOVE_H

#include "http.h"
#include "redis.h"
#include "regconf.h"
#include "store.h"

/* the kinds of object, in the order they are deleted */
enum { RG_OBJ_TAG, RG_OBJ_MANIFEST, RG_OBJ_LAYER, RG_OBJ_BLOB, RG_OBJ_UPLOAD,
    RG_OBJ_REPO, RG_NOBJ };

extern const char *const rg_obj_name[RG_NOBJ];	/* "tag", as in records */
extern const char *const rg_obj_names[RG_NOBJ];	/* "tags", as in rm-total */

/* a marked record */
#define RG_NOTE_MAX	4096	/* a longer reason or marked_by is not kept */

struct rg_rmitem {
	struct rg_digest d;
	char *key;		/* tag or upload uuid */
	const char *bad;	/* why the record is not valid, or NULL */
	int64_t size;
	uint32_t repo;		/* index in the plan's repos; UINT32_MAX for a blob */
	unsigned char kind, has_digest, index, valid;
	unsigned long line;	/* of stdin */
	const char *reason, *marked_by;	/* the record's, in the plan's notes */
};

/* a repository of the stream */
struct rg_rmrepo {
	struct rg_digest key;	/* sha256 of the name */
	char *name;
	uint32_t tags, mans, tags_done, mans_done;	/* in the stream; deleted */
	int changed;		/* written since the scan, or an object kept */
	struct rg_digest keep;	/* API scans: the unmarked (tag, digest) pairs, */
	uint32_t nkeep;		/* as a sum that does not depend on their order */
};

struct rg_rmplan {
	struct rg_rmitem *v;
	size_t n, cap;
	struct rg_dtab repos;
	struct rg_plan marks;		/* the digest of the marks, as rg-refs' */
	struct rg_strset notes;		/* the reasons and marked_by, once each */
	int api;			/* the stream is a scan through the API */
	char *root, *plan;		/* the scan record's root; rg-refs' plan */
	time_t scan_time;		/* -1: no scan record */
	unsigned long refs_line;	/* of rg-refs' record; 0 none */
	int saw_end, complete;		/* the scan-end record, and what it says */
	int invalid;			/* some marked record was not valid */
};

#define RG_RMREPO(p, i)	((struct rg_rmrepo *)RG_DTAB_AT(&(p)->repos, i))

int	rg_rmplan_init(struct rg_rmplan *p);
void	rg_rmplan_free(struct rg_rmplan *p);
int	rg_rmplan_read(struct rg_rmplan *p, int fd, const char *name);
int	rg_rmplan_has(const struct rg_rmplan *p, int kind, int kind2);
void	rg_object_fields(json_t *rec, int kind, const char *key,
	    const struct rg_digest *d);
json_t *rg_rmitem_record(const struct rg_rmplan *p, const struct rg_rmitem *it,
	    const char *result, const char *why);
json_t *rg_rmtotal_record(const char *root, int dry_run, time_t t,
	    const unsigned long done[RG_NOBJ], long long bytes, unsigned long kept);
void	rg_tagset_add(struct rg_digest *sum, uint32_t *n, const char *tag,
	    const struct rg_digest *d);

/* rmplan.c: the options given that depend on the stream's source */
struct rg_rmopts {
	const char *root, *config, *stop, *endpoint;
	const char *http;	/* the first of --user, --cert, --key */
	const char *tls;	/* the first of --insecure, --cacert */
	int prune, min_age, jobs;
};

typedef void rg_verdict_fn(void *arg, const struct rg_rmitem *it,
	    const char *result, const char *why);
int	rg_rmplan_approve(struct rg_rmplan *p, time_t now, long long max_age,
	    rg_verdict_fn *fn, void *arg, unsigned long *refused, char *msg,
	    size_t size);
const char *rg_rmplan_options(const struct rg_rmplan *p,
	    const struct rg_rmopts *o, char *msg, size_t size);

/* what became of an object (RG_RM_*, base.h); why says why, but for RG_RM_DONE */
typedef void rg_outcome_fn(void *arg, const struct rg_rmitem *it, int result,
	    const char *why);

/* rmstore.c: the plan carried out on storage, in the safe order */
struct rg_rmstore {
	int prune, dry_run;
	const char *stop_cmd, *start_cmd;	/* the window, or NULL */
	const char *hold_cached;	/* why no layer link or blob may go, or NULL */
	unsigned long ncached;		/* out: layer links and blobs it kept */
	int failed;			/* out: --stop or --start failed */
};

void	rg_rmstore_run(struct rg_rmplan *p, struct rg_sweep *sw,
	    struct rg_rmstore *o, rg_outcome_fn *fn, void *arg);

/* rmconf.c: what the registry's config.yml lets a storage run delete */
struct rg_rmconf {
	struct rg_regconf conf;
	int have;		/* conf read */
	struct rg_redis redis;	/* its redis cache, when it has one */
};

extern const char rg_hold_inmemory[];	/* rmstore's hold_cached, in-memory */

int	rg_rmconf_load(struct rg_rmconf *c, struct rg_rmopts *opts,
	    const struct rg_rmplan *p, struct rg_sweep *sw, struct rg_rmstore *o,
	    int verbose, char *msg, size_t size);

/* rmapi.c: the plan carried out through the registry's API */
void	rg_rmapi_run(struct rg_rmplan *p, struct rg_apirm *ar, rg_outcome_fn *fn,
	    void *arg);

/* restore.c, for rg-restore: an object to put back, and its place */
struct rg_restobj {
	char *run, *repo, *key;	/* key: the tag or upload's uuid */
	struct rg_digest d;
	int kind, has_digest;
	int listed;		/* from the run's index (--run), not a record */
	int done;		/* put back, or said why not */
	char path[RG_STORE_PATH];	/* below the v2 directory */
};

int	rg_restobj_place(struct rg_restobj *o);
int	rg_restobj_parse(struct rg_restobj *o, const char *path);
void	rg_restobj_clear(struct rg_restobj *o);

/*
 * Is what a link put back would name whole in
 * the storage now?  1 yes, 0 no (why says what is gone), -1 cannot tell
 * (errno).  A manifest: its data, each blob it names linked in repo with
 * its data, each child whole and linked (and, linked, its own revision
 * link); a layer link: its blob's data.
 */
struct rg_whole {
	struct rg_store *st;
	int dry_run;		/* what it would put back counts as there */
	struct rg_strset ok;	/* "repo@hex" found whole */
	struct rg_strset would;	/* a dry run: the paths it would put back */
	char why[RG_STORE_PATH + 128];
};

int	rg_whole_manifest(struct rg_whole *w, const char *repo,
	    const struct rg_digest *d, int linked);
int	rg_whole_layer(struct rg_whole *w, const struct rg_digest *d);
void	rg_whole_would(struct rg_whole *w, const char *path);
void	rg_whole_free(struct rg_whole *w);

#endif
