/*
 * records.h: the record stream, and what is read into and written from it.
 *
 * The record stream is rg-records(5); here: reading lines, the
 * allocation-free field scanner and the jansson path, building and writing
 * records, the plan digest, --where expressions and named policies,
 * manifests, configs and images.
 */
#ifndef RG_RECORDS_H
#define RG_RECORDS_H

#include <stdio.h>

#include <jansson.h>

#include "base.h"

/*
 * The record types and the fields every stage reads (rg-records(5)): a
 * field added to the format is named here and described there.
 */
#define RG_T_SCAN	"scan"
#define RG_T_SCAN_END	"scan-end"
#define RG_T_REPO	"repo"
#define RG_T_TAG	"tag"
#define RG_T_MANIFEST	"manifest"
#define RG_T_LAYER	"layer"
#define RG_T_BLOB	"blob"
#define RG_T_UPLOAD	"upload"
#define RG_T_REFS	"refs"
#define RG_T_USAGE	"usage"
#define RG_T_RM		"rm"
#define RG_T_RM_TOTAL	"rm-total"
#define RG_T_QUARANTINE	"quarantine"	/* a run rg-rm --quarantine holds */
#define RG_T_RESTORE	"restore"

#define RG_F_TYPE	"type"
#define RG_F_REPO	"repo"
#define RG_F_TAG	"tag"
#define RG_F_DIGEST	"digest"
#define RG_F_SIZE	"size"
#define RG_F_PUSHED	"pushed"
#define RG_F_CREATED	"created"
#define RG_F_LABELS	"labels"
#define RG_F_ANNOTATIONS	"annotations"
#define RG_F_BLOBS	"blobs"
#define RG_F_MANIFESTS	"manifests"
#define RG_F_SUBJECT	"subject"
#define RG_F_TAGS	"tags"
#define RG_F_DELETE	"delete"
#define RG_F_PROTECTED	"protected"
#define RG_F_MARKED_BY	"marked_by"
#define RG_F_PULLS_SINCE	"pulls_since"	/* scan: rg-pulls' history starts */
#define RG_F_REASON	"reason"
#define RG_F_KEPT	"kept"
#define RG_F_ROOT	"root"
#define RG_F_TIME	"time"
#define RG_F_SOURCE	"source"
#define RG_F_FOREIGN	"foreign"
#define RG_F_ERROR	"error"
#define RG_F_REPO_FILTER "repo_filter"

/* stream.c: reading and writing the record stream */
typedef int rg_record_fn(json_t *rec, const char *line, size_t len,
	    const char *where, void *arg);

/* where a line is: "<stdin>:12" for messages, and its number */
struct rg_at {
	const char *where;
	unsigned long line;
};

typedef int rg_line_fn(char *line, size_t len, const struct rg_at *at,
	    void *arg);

int	rg_lines(int fd, const char *name, rg_line_fn *fn, void *arg);
int	rg_parse_line(char *line, size_t len, const char *where,
	    rg_record_fn *fn, void *arg);
int	rg_emit(FILE *out, const json_t *rec);
int	rg_write_line(const char *line, size_t len);
int	rg_write_with(const char *line, size_t len, const char *members);
int	rg_stdout_close(void);
int	rg_version_print(const char *tool);
const char *rg_str(const json_t *rec, const char *key);
const char *rg_strz(const json_t *rec, const char *key);
int	rg_record_time(const json_t *rec, const char *key, time_t *t);

/* stream.c, continued: building records */
json_t *rg_record_new(const char *type, const char *repo);
void	rg_set_time(json_t *rec, const char *key, time_t t);
json_t *rg_scan_record(const char *source, const char *root,
	    const char *repo_filter);
json_t *rg_scan_end_record(int complete);

/*
 * stream.c, continued: a repository's run of records, held until the
 * next repository's comes (rg-select ranks them, rg-pulls counts a
 * manifest's pulls for its tags), then written in input order
 */
struct rg_held {
	json_t *rec;		/* or NULL: the line alone is written */
	char *line;
	size_t len;
	int marked, candidate;	/* rg-select's: */
	char *group;		/* --group: its captures, while --keep ranks */
	size_t rank;		/* --keep: 1 for the newest candidate (of its group) */
};

struct rg_run {
	char *repo;		/* whose records are held, or NULL: none */
	struct rg_held *v;
	size_t n, cap;
};

int	rg_run_holds(const struct rg_run *r, const char *repo);
void	rg_run_start(struct rg_run *r, const char *repo);
struct rg_held *rg_run_add(struct rg_run *r, json_t *rec, const char *line,
	    size_t len);
void	rg_run_clear(struct rg_run *r);

/* buf.c: whole records gathered in memory, written a buffer at a time */
struct rg_buf {
	char *p;
	size_t len, cap;
};

int	rg_buf_add(struct rg_buf *b, const void *p, size_t n);
int	rg_buf_record(struct rg_buf *b, json_t *rec);
int	rg_buf_jopen(struct rg_buf *b, const char *type, const char *repo);
int	rg_buf_jstr(struct rg_buf *b, const char *key, const char *v);
int	rg_buf_jint(struct rg_buf *b, const char *key, long long v);
int	rg_buf_json(struct rg_buf *b, const char *key, const json_t *v);
struct rg_refs;
int	rg_buf_jdigests(struct rg_buf *b, const char *key, const struct rg_refs *r);
int	rg_buf_jclose(struct rg_buf *b);
int	rg_buf_write(struct rg_buf *b, FILE *out);
/* whole records handed to a writer (the scans) */
typedef void rg_write_fn(void *arg, struct rg_buf *records);
int	rg_buf_printf(struct rg_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	rg_buf_free(struct rg_buf *b);

/* plan.c: a digest of the marks, checked by rg-rm */
struct rg_plan {
	void *ctx;	/* EVP_MD_CTX */
};

int	rg_plan_init(struct rg_plan *p);
void	rg_plan_add(struct rg_plan *p, const json_t *rec);
void	rg_plan_add_fields(struct rg_plan *p, const char *type, const char *repo,
	    const char *key);
void	rg_plan_final(struct rg_plan *p, char out[RG_DIGEST_STRLEN + 1]);
void	rg_plan_free(struct rg_plan *p);

/* jscan.c: checking a line is a JSON object without building it */
enum { RG_JS_TYPE, RG_JS_REPO, RG_JS_DIGEST, RG_JS_TAG, RG_JS_SUBJECT,
    RG_JS_BLOBS, RG_JS_MANIFESTS, RG_JS_FOREIGN, RG_JS_ERROR,
    RG_JS_REPO_FILTER, RG_JS_TAGS, RG_JSCAN_FIELDS };

struct rg_jfield {
	const char *s;		/* into the line; not NUL-terminated */
	size_t len;
};

struct rg_jscan {
	struct rg_jfield f[RG_JSCAN_FIELDS];	/* top-level fields, or NULL */
	int escaped;		/* one of them had escapes: parse the line */
	int delete;		/* top-level "delete" is true */
	int protect;		/* top-level "protected" is true */
	int marks;		/* "delete", "reason" or "kept" is there */
	int noted;		/* "reason" or "kept" is there */
	long long size;
	int has_size;
};

int	rg_jscan(const char *line, size_t len, struct rg_jscan *out);
int	rg_jscan_is(const struct rg_jscan *j, int f, const char *s);
int	rg_jscan_copy(const struct rg_jscan *j, int f, char *buf, size_t size);

struct rg_jlist {
	const json_t *json;
	size_t i;
	const char *p, *end;
};

void	rg_jlist_json(struct rg_jlist *l, const json_t *array);
void	rg_jlist_field(struct rg_jlist *l, const struct rg_jscan *j, int f);
const char *rg_jlist_next(struct rg_jlist *l, char *buf, size_t size);
int	rg_jlist_empty(const struct rg_jscan *j, int f);

/* expr.c: --where conditions over record fields */
struct rg_expr;

struct rg_expr_env {
	time_t now;
	const char *time_key;	/* what "age" counts from: created or pushed */
};

#define RG_EXPR_DEPTH	256	/* "!", "(", "&&" and "||" nested */
#define RG_EXPR_DEPTH_S	"256"
struct rg_expr *rg_expr_parse(const char *opt, const char *src);
int	rg_expr_eval(const struct rg_expr *e, const json_t *rec,
	    const struct rg_expr_env *env);
void	rg_expr_free(struct rg_expr *e);

/* policy.c: named policies in a hand-edited file */
typedef int rg_policy_fn(const char *key, const char *value, const char *where,
	    void *arg);

typedef int rg_option_fn(int opt, const char *arg);
struct option;

const char *rg_policy_path(char *buf, size_t size);
int	rg_policy_apply(const char *name, const struct option *longopts,
	    const char *skip, rg_option_fn *set);
int	rg_policy_load(const char *path, const char *name, rg_policy_fn *fn,
	    void *arg);

/* storage.c, continued: image configs, cached by digest, so an image pushed
 * to many repositories is read once; fixed size, so memory stays bounded */
#define RG_CONFIG_CACHE	4096	/* entries; a power of two */

struct rg_config {
	struct rg_digest digest;
	int used, has_created;
	time_t created;
	json_t *platform;
	json_t *labels;		/* config.Labels, when not empty */
};

struct rg_configs {
	struct rg_config v[RG_CONFIG_CACHE];
};


/* manifest.c: what a manifest references */
struct rg_ref {
	struct rg_digest digest;
	int64_t size;		/* from the descriptor; -1 when unknown */
};

struct rg_refs {
	struct rg_ref *v;
	size_t n, cap;
	uint32_t *slot;		/* index + 1 by digest hash, once n > 16; 0 empty */
	size_t nslot;		/* 0 or a power of two */
};

struct rg_manifest {
	json_t *root;			/* the parsed manifest; owns the strings below */
	const char *media_type;
	const char *artifact_type;	/* OCI 1.1's, or what it holds when it
					 * is no image (manifest.c); or NULL */
	const char *config_type;	/* config descriptor's mediaType, or NULL */
	int has_config;
	struct rg_digest config;
	struct rg_refs blobs;		/* config then layers, without duplicates */
	struct rg_refs foreign;		/* layers with urls: may be absent locally */
	struct rg_refs children;	/* child manifests of a list or index */
	const char *subject;		/* digest string, validated, or NULL */
	time_t created;			/* schema 1 only (config for the others) */
	int has_created;
	json_t *platform;		/* schema 1 only; owned */
	json_t *labels;			/* schema 1 only; owned */
};

#define RG_MT_SCHEMA1		"application/vnd.docker.distribution.manifest.v1+json"
#define RG_MT_SCHEMA1_SIGNED	"application/vnd.docker.distribution.manifest.v1+prettyjws"
#define RG_MT_DOCKER		"application/vnd.docker.distribution.manifest.v2+json"
#define RG_MT_DOCKER_LIST	"application/vnd.docker.distribution.manifest.list.v2+json"
#define RG_MT_OCI		"application/vnd.oci.image.manifest.v1+json"
#define RG_MT_OCI_INDEX		"application/vnd.oci.image.index.v1+json"
#define RG_MT_DOCKER_CONFIG	"application/vnd.docker.container.image.v1+json"
#define RG_MT_OCI_CONFIG	"application/vnd.oci.image.config.v1+json"
#define RG_MT_EMPTY		"application/vnd.oci.empty.v1+json"

int	rg_manifest_parse(const char *buf, size_t len, struct rg_manifest *m,
	    char *err, size_t errsize);
void	rg_manifest_free(struct rg_manifest *m);
int	rg_config_parse(const char *buf, size_t len, time_t *created,
	    int *has_created, json_t **platform, json_t **labels);
void	rg_config_parse_json(json_t *c, time_t *created, int *has_created,
	    json_t **platform, json_t **labels);
void	rg_config_clear(struct rg_config *c);
int	rg_refs_add(struct rg_refs *r, const struct rg_digest *d, int64_t size);
void	rg_refs_free(struct rg_refs *r);

/* image.c: the manifests of one repository, as a graph */
struct rg_image {
	struct rg_digest digest;	/* first: the key for sorting */
	int64_t size;			/* bytes of the manifest itself */
	int ok;				/* read and parsed */
	char *error;			/* why not */
	struct rg_manifest m;
	time_t created;
	int has_created;
	time_t pushed;			/* revision link mtime; 0 when unknown */
	json_t *platform;
	json_t *labels;			/* the config's, or NULL */
	json_t *tags;			/* names of the tags pointing here */
	int visiting, dated;		/* rg_images_created's walk */
	unsigned stamp;			/* rg_image_size's walk: reached in it, */
	int depth;			/* this deep at least */
};

struct rg_images {
	struct rg_image *v;
	size_t n, cap;
	unsigned stamp;			/* rg_image_size's walks */
};

struct rg_image *rg_images_add(struct rg_images *s, const struct rg_digest *d);
int	rg_image_parsed(struct rg_image *m);
void	rg_image_config(struct rg_image *m, const struct rg_config *c);
void	rg_images_sort(struct rg_images *s);
struct rg_image *rg_images_find(struct rg_images *s, const struct rg_digest *d);
void	rg_images_created(struct rg_images *s);
int64_t	rg_image_size(struct rg_images *s, struct rg_image *m);
int	rg_image_write(struct rg_buf *b, struct rg_images *s, struct rg_image *m,
	    const char *repo);
int	rg_tag_write(struct rg_buf *b, struct rg_images *s, const char *repo,
	    const char *tag, const struct rg_digest *d, time_t pushed,
	    struct rg_image *m);
void	rg_images_free(struct rg_images *s);

#endif
