/*
 * rg.h: the code the rg tools share.  Everything here reports problems with
 * warn(3)/warnx(3) and returns an error; only the tools in cmd/ decide to
 * exit, but for rg_nomem (nomem.c), the one exit in common/, when memory
 * runs out.
 */
#ifndef RG_H
#define RG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <sys/stat.h>

#include <jansson.h>

#define RG_VERSION	"0.1.0"
#define RG_FORMAT	1	/* version of the record stream, in the scan record */

/* Exit status, the same in every tool. */
enum {
	RG_EXIT_OK = 0,		/* success */
	RG_EXIT_PARTIAL = 1,	/* some items failed, each reported, the rest done */
	RG_EXIT_FATAL = 2	/* usage error or fatal error */
};

/* nomem.c: the one exit in common/, for a failed allocation */
void	rg_nomem(void) __attribute__((noreturn));

/* path.c: building a path, checked: truncation is an error (ENAMETOOLONG) */
int	rg_path(char *buf, size_t size, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	rg_vpath(char *buf, size_t size, const char *fmt, va_list ap)
	    __attribute__((format(printf, 3, 0)));
/* path.c, continued: a message, cut with "..." when it does not fit */
void	rg_msg(char *buf, size_t size, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* digest.c */
#define RG_DIGEST_LEN		32	/* raw sha256 bytes */
#define RG_HEX_LEN		64
#define RG_DIGEST_STRLEN	71	/* "sha256:" + 64 hex */

struct rg_digest {
	unsigned char b[RG_DIGEST_LEN];
};

int	rg_hex_parse(const char *hex, size_t len, struct rg_digest *d);
int	rg_digest_parse(const char *s, size_t len, struct rg_digest *d);
void	rg_digest_format(const struct rg_digest *d, char out[RG_DIGEST_STRLEN + 1]);
void	rg_digest_hex(const struct rg_digest *d, char out[RG_HEX_LEN + 1]);
int	rg_digest_cmp(const void *a, const void *b);
uint64_t rg_digest_hash(const struct rg_digest *d);
/* sha256.c: the digest of a buffer */
void	rg_digest_of(const void *buf, size_t len, struct rg_digest *d);

/* names.c: the distribution grammar for repository and tag names */
#define RG_REPO_MAX	255
#define RG_TAG_MAX	128

int	rg_repo_valid(const char *name);
int	rg_component_valid(const char *comp, size_t len);
int	rg_tag_valid(const char *tag);
int	rg_name_parse(const char *arg, char **repo, char **tag);

/* time.c: RFC 3339 times, always written in UTC with whole seconds */
#define RG_TIME_STRLEN	20	/* 2006-01-02T15:04:05Z */

int	rg_time_parse(const char *s, time_t *t);
void	rg_time_format(time_t t, char out[RG_TIME_STRLEN + 1]);
int	rg_duration_parse(const char *s, long long *secs);
int	rg_date_arg(const char *opt, const char *arg, time_t *t);
int	rg_duration_arg(const char *opt, const char *arg, long long *secs);

/* time.c, continued: an exclusive time window, from option arguments */
struct rg_window {
	int has_before, has_after;
	time_t before, after;
};

int	rg_window_set(struct rg_window *w, int which, const char *opt,
	    const char *arg, time_t now);
int	rg_window_set_any(const struct rg_window *w);
int	rg_window_holds(const struct rg_window *w, time_t t);

/* version.c: tags ordered as versions (1.9 < 1.10 < v2.0-rc1 < 2.0) */
int	rg_version_cmp(const char *a, const char *b);

/* stream.c: reading and writing the record stream */
typedef int rg_record_fn(json_t *rec, const char *line, size_t len,
	    const char *where, void *arg);

typedef int rg_line_fn(char *line, size_t len, const char *where, void *arg);

int	rg_lines(int fd, const char *name, rg_line_fn *fn, void *arg);
int	rg_parse_line(char *line, size_t len, const char *where,
	    rg_record_fn *fn, void *arg);
int	rg_emit(FILE *out, const json_t *rec);
int	rg_write_line(const char *line, size_t len);
int	rg_write_with(const char *line, size_t len, const char *members);
int	rg_stdout_close(void);
const char *rg_str(const json_t *rec, const char *key);
int	rg_record_time(const json_t *rec, const char *key, time_t *t);

/* stream.c, continued: building records */
json_t *rg_record_new(const char *type, const char *repo);
void	rg_set_time(json_t *rec, const char *key, time_t t);
json_t *rg_scan_record(const char *source, const char *root,
	    const char *repo_filter);
json_t *rg_scan_end_record(int complete);

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
int	rg_buf_printf(struct rg_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	rg_buf_free(struct rg_buf *b);

/* strset.c: a set of strings */
struct rg_strset {
	char **v;
	size_t n, cap;		/* cap: 0 or a power of two */
};

int	rg_strset_has(const struct rg_strset *set, const char *s);
int	rg_strset_add(struct rg_strset *set, const char *s);
void	rg_strset_free(struct rg_strset *set);

/* plan.c: a digest of the marks, checked by rg-rm */
struct rg_plan {
	void *ctx;	/* EVP_MD_CTX */
};

int	rg_plan_init(struct rg_plan *p);
void	rg_plan_add(struct rg_plan *p, const json_t *rec);
void	rg_plan_add_fields(struct rg_plan *p, const char *type, const char *repo,
	    const char *key);
void	rg_plan_final(struct rg_plan *p, char out[RG_DIGEST_STRLEN + 1]);

/* dtab.c: entries keyed by raw digests, open addressing */
struct rg_dtab {
	unsigned char *ent;	/* n entries of esize bytes, key first */
	size_t esize, klen, n, cap;
	uint32_t *slot;		/* entry index + 1; 0 empty */
	size_t nslot;		/* a power of two */
};

#define RG_DTAB_AT(t, i)	((void *)((t)->ent + (size_t)(i) * (t)->esize))

int	rg_dtab_init(struct rg_dtab *t, size_t esize, size_t klen);
long	rg_dtab_index(struct rg_dtab *t, const void *key, int create);
void	rg_dtab_free(struct rg_dtab *t);

/* dir.c: sorted directory listings */
struct rg_entry {
	char *name;
	unsigned char type;	/* d_type */
};

struct rg_dir {
	struct rg_entry *v;
	size_t n, cap;
};

int	rg_dir_read(int fd, struct rg_dir *l);
int	rg_dir_list(int dirfd, const char *path, struct rg_dir *l);
void	rg_dir_free(struct rg_dir *l);

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

/* graph.c: the whole registry, for rg-refs; one per process */
typedef void rg_usage_fn(void *arg, const char *repo, const char *tag,
	    int64_t alone, int64_t total);

/* the fields of a record rg-refs reads (strings NUL-terminated) */
struct rg_rec {
	const char *type, *repo, *digest, *tag, *subject;
	long long size;
	int marked, error, repo_filter;		/* error, repo_filter: there */
	int complete;			/* scan-end: "complete" is true */
	struct rg_jlist blobs, manifests, foreign;
};

int	rg_graph_init(int with_tags);
/* the strings of an rg_rec read from a line without a parse */
struct rg_recbuf {
	char type[16], repo[RG_REPO_MAX + 1], digest[RG_DIGEST_STRLEN + 1],
	    tag[RG_TAG_MAX + 1], subject[RG_DIGEST_STRLEN + 1];
};

void	rg_rec_fields(const json_t *rec, struct rg_rec *f);
int	rg_rec_scan(const char *line, size_t len, struct rg_rec *f,
	    struct rg_recbuf *b, int *marks, int *noted);
/* which entry of the graph a record is, to judge it again by index */
enum { RG_TK_NONE, RG_TK_BLOB, RG_TK_MANIFEST, RG_TK_LAYER };

struct rg_ticket {
	uint32_t kind, idx;
};

void	rg_graph_add_fields(const struct rg_rec *f, const char *where,
	    struct rg_ticket *t);
int	rg_graph_judge_ticket(const struct rg_ticket *t, const char **why);
const char *rg_graph_ticket_key(const struct rg_ticket *t,
	    char digest[RG_DIGEST_STRLEN + 1], int64_t *size);
void	rg_graph_usage(int with_tags, rg_usage_fn *fn, void *arg);
void	rg_graph_add(const json_t *rec, const char *where);
void	rg_graph_solve(void);
int	rg_graph_judge(const struct rg_rec *f, const json_t *rec,
	    const char **why, long long uploads_older, time_t now);
int	rg_graph_status(void);

/* expr.c: --where conditions over record fields */
struct rg_expr;

struct rg_expr_env {
	time_t now;
	const char *time_key;	/* what "age" counts from: created or pushed */
};

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
int	rg_link_read(int dirfd, const char *path, struct rg_digest *d,
	    struct timespec *mtime);
int	rg_read_fd(int fd, size_t max, char **buf, size_t *len);
int	rg_blob_path(const struct rg_digest *d, char *buf, size_t size);
int	rg_read_file(int dirfd, const char *path, size_t max, char **buf,
	    size_t *len);
int	rg_open_root(const char *root, char **v2path);

int	rg_upload_valid(const char *s);

/* beneath.c: file operations confined below a directory, for rg-rm */
int	rg_beneath_parent(int dirfd, const char *path, const char **last);
int	rg_beneath_open(int dirfd, const char *path, int flags);
int	rg_beneath_stat(int dirfd, const char *path, struct stat *st);
int	rg_beneath_link(int dirfd, const char *path, struct rg_digest *d,
	    struct timespec *mtime);
int	rg_beneath_rmdir(int dirfd, const char *path);
int	rg_trash_open(int v2fd, int create);
#define RG_TRASH_NAME	64
int	rg_trash_move(int v2fd, int trashfd, const char *path,
	    char name[RG_TRASH_NAME]);
int	rg_trash_move_as(int v2fd, int trashfd, const char *path,
	    const char *name);
int	rg_trash_drop(int trashfd, const char *name, const char *leaf);
int	rg_trash_restore(int v2fd, int trashfd, const char *name,
	    const char *path);
int	rg_trash_remove(int v2fd, int trashfd, const char *path,
	    const char *leaf);
int	rg_trash_empty(int trashfd);

/* pending.c: moved away, deleted or put back once the storage is seen again */
int	rg_pend_open(int trashfd);
int	rg_pend_move(int v2fd, int pendfd, const char *path,
	    char name[RG_TRASH_NAME]);
int	rg_pend_restore(int v2fd, int pendfd, const char *name, const char *path);
int	rg_pend_final(int pendfd, int trashfd, const char *name);
void	rg_pend_close(int pendfd);
int	rg_pend_recover(int v2fd, int pendfd, unsigned long *back);

/* sweep.c: deleting registry objects from storage, one at a time, for rg-rm */
#define RG_SWEEP_PATH	(RG_REPO_MAX + RG_TAG_MAX + 2 * RG_HEX_LEN + 96)
/* what became of an object, from the storage's sweep and the API's alike */
enum { RG_RM_DONE, RG_RM_GONE, RG_RM_KEPT, RG_RM_FAILED, RG_RM_PENDING };
#define RG_SETTLE	1	/* seconds pending objects wait for pushes in flight */

struct rg_tagindex {
	struct rg_digest d;		/* tags/<tagdir.v[tag]>/index/sha256/<d> */
	size_t tag;
};

struct rg_redis;
struct rg_store;
struct rg_swpend;

#define RG_RELATIME	86400	/* relatime updates atime at least this often */

struct rg_sweep {
	struct rg_store *st;		/* the storage, the caller's */
	int dry_run;
	int atime_works;		/* the filesystem records reads (not noatime) */
	struct rg_swpend *pend;		/* moved into pending, not yet decided */
	size_t npend, cappend;
	unsigned long recovered;	/* put back from a killed run's pending */
	struct rg_redis *redis;		/* the registry's redis cache, or NULL */
	const char *root;		/* the store's, for messages */
	time_t scan_time, now;		/* scan_time -1: unknown */
	long long min_age;
	int fresh_manifests;		/* a revision or tag written since the scan */
	struct rg_dtab fresh;		/* digests linked since the scan */
	struct rg_dtab revdirs;		/* revisions/sha256 as rg-rm left them */
	struct rg_strset gone_tags;	/* "repo:tag", deleted (or would be) */
	char *current_repo;		/* what its tags point at now: */
	struct rg_digest *current;
	size_t ncurrent;
	struct rg_tagindex *index;	/* and every digest in their history */
	size_t nindex;
	struct rg_dir tagdir;		/* the names index[].tag points into */
	const char *why;		/* why the last object was kept or failed */
	char err[RG_SWEEP_PATH + 160];
	char drop[RG_TRASH_NAME];	/* gone for good, its record not yet written */
};

typedef void rg_changed_fn(void *arg, const char *repo);

int	rg_sweep_open(struct rg_sweep *s, struct rg_store *st, int dry_run);
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

/* storage.c, continued: image configs, cached by digest, so an image pushed
 * to many repositories is read once; fixed size, so memory stays bounded */
#define RG_CONFIG_CACHE	4096	/* entries; a power of two */

struct rg_config {
	struct rg_digest digest;
	int used, has_created;
	time_t created;
	json_t *platform;
};

struct rg_configs {
	struct rg_config v[RG_CONFIG_CACHE];
};


/* http.c: requests to a registry's HTTP API (libcurl), auth, retries */
struct rg_http_opts {
	const char *user, *password;	/* Basic, and for the token realm */
	const char *cacert, *cert, *key;
	int insecure;
};

struct rg_http {
	void *curl;			/* CURL *, kept alive */
	char *base;			/* https://host:port */
	const struct rg_http_opts *opts;
	struct token *tokens;		/* Bearer tokens by scope */
	size_t ntokens, last;		/* last: the one used last, plus one */
	int basic;			/* the registry asked for Basic */
};

struct rg_http_resp {
	char digest[128], link[1024], challenge[1024], retry_after[32];
	char content_type[256], location[2048], error[256];
};

int	rg_http_global_init(void);
int	rg_http_init(struct rg_http *h, const char *base,
	    const struct rg_http_opts *o);
long	rg_http_get(struct rg_http *h, const char *path, const char *accept,
	    struct rg_buf *body, struct rg_http_resp *r);
long	rg_http_req(struct rg_http *h, const char *method, const char *path,
	    const char *accept, const char *content_type, const void *data,
	    size_t len, struct rg_buf *body, struct rg_http_resp *r);
const char *rg_http_next(char *link);
const char *rg_http_error_code(const struct rg_buf *body, char *out, size_t size);
void	rg_http_free(struct rg_http *h);

/* apiscan.c: rg-scan through the HTTP API */
struct rg_regex;
typedef void rg_write_fn(void *arg, struct rg_buf *records);

struct rg_api_opts {
	const char *url;
	struct rg_http_opts http;
	int jobs, page, progress;
	struct rg_regex *filter;	/* repositories, or NULL */
	rg_write_fn *write;		/* whole records, a repository at a time */
	void *arg;
};

int	rg_api_scan(struct rg_api_opts *o, const char *repo_pattern);
/* http.c, continued: a repository's tags, page by page */
long	rg_api_tags(struct rg_http *h, const char *repo, int page, char ***tags,
	    size_t *ntags, size_t *bad, size_t *pages, struct rg_buf *body,
	    struct rg_http_resp *r, char *failed, size_t size);

/* apirm.c: deletions through the HTTP API, for rg-rm (results: RG_RM_*) */
struct rg_apirm {
	struct rg_http h;
	struct rg_buf body;
	const char *url;
	int dry_run;
	int tag_delete;			/* DELETE by tag: -1 not known yet, 0 no, 1 yes */
	const char *why;		/* why the last object was kept or failed */
	char whybuf[1024];
};

typedef void rg_apirm_tag_fn(void *arg, const char *tag, const struct rg_digest *d);

int	rg_apirm_open(struct rg_apirm *a, const char *url,
	    const struct rg_http_opts *o, int dry_run);
int	rg_apirm_tags(struct rg_apirm *a, const char *repo, rg_apirm_tag_fn *fn,
	    void *arg);
int	rg_apirm_may_delete(struct rg_apirm *a, const char *repo);
int	rg_apirm_manifest(struct rg_apirm *a, const char *repo,
	    const struct rg_digest *d);
int	rg_apirm_tag(struct rg_apirm *a, const char *repo, const char *tag,
	    const struct rg_digest *d);
void	rg_apirm_close(struct rg_apirm *a);

/* auth.c: credentials and certificates for a registry URL, as Docker finds them */
int	rg_api_credentials(const char *url, struct rg_http_opts *o);

/* regex.c: PCRE2 patterns given to options */
struct rg_regex;

struct rg_regex *rg_regex_new(const char *opt, const char *pattern);
int	rg_regex_match(struct rg_regex *re, const char *s);
void	rg_regex_free(struct rg_regex *re);

/* manifest.c: what a manifest references */
struct rg_ref {
	struct rg_digest digest;
	int64_t size;		/* from the descriptor; -1 when unknown */
};

struct rg_refs {
	struct rg_ref *v;
	size_t n, cap;
};

struct rg_manifest {
	json_t *root;			/* the parsed manifest; owns the strings below */
	const char *media_type;
	const char *artifact_type;	/* OCI 1.1, or NULL */
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
};

#define RG_MT_SCHEMA1		"application/vnd.docker.distribution.manifest.v1+json"
#define RG_MT_SCHEMA1_SIGNED	"application/vnd.docker.distribution.manifest.v1+prettyjws"
#define RG_MT_DOCKER		"application/vnd.docker.distribution.manifest.v2+json"
#define RG_MT_DOCKER_LIST	"application/vnd.docker.distribution.manifest.list.v2+json"
#define RG_MT_OCI		"application/vnd.oci.image.manifest.v1+json"
#define RG_MT_OCI_INDEX		"application/vnd.oci.image.index.v1+json"
#define RG_MT_DOCKER_CONFIG	"application/vnd.docker.container.image.v1+json"
#define RG_MT_OCI_CONFIG	"application/vnd.oci.image.config.v1+json"

int	rg_manifest_parse(const char *buf, size_t len, struct rg_manifest *m,
	    char *err, size_t errsize);
void	rg_manifest_free(struct rg_manifest *m);
int	rg_config_parse(const char *buf, size_t len, time_t *created,
	    int *has_created, json_t **platform);
void	rg_config_parse_json(json_t *c, time_t *created, int *has_created,
	    json_t **platform);
int	rg_refs_add(struct rg_refs *r, const struct rg_digest *d, int64_t size);

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
	json_t *tags;			/* names of the tags pointing here */
	int visiting;
};

struct rg_images {
	struct rg_image *v;
	size_t n, cap;
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
