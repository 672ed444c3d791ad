/*
 * base.h: what every part of rg shares, with no third-party type.
 *
 * Exit statuses, out of memory, checked paths and messages, digests,
 * names, times, versions, sets and tables, directory listings, patterns.
 * Everything in common/ reports problems with warn(3)/warnx(3) and returns
 * an error; only the tools in cmd/ decide to exit, but for rg_nomem
 * (nomem.c), the one exit in common/, when memory runs out.
 */
#ifndef RG_BASE_H
#define RG_BASE_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RG_VERSION	"0.1.0"
#define RG_FORMAT	1	/* version of the record stream, in the scan record */

/* Exit status, the same in every tool. */
enum {
	RG_EXIT_OK = 0,		/* success */
	RG_EXIT_PARTIAL = 1,	/* some items failed, each reported, the rest done */
	RG_EXIT_FATAL = 2	/* usage error or fatal error */
};

/* what became of an object, from the storage's sweep and the API's alike */
/* what became of an object, from the storage's sweep and the API's alike */
enum { RG_RM_DONE, RG_RM_GONE, RG_RM_KEPT, RG_RM_FAILED, RG_RM_PENDING };

/* a byte total: b added when positive, at most INT64_MAX (records are input) */
static inline int64_t
rg_size_add(int64_t a, int64_t b)
{
	return b <= 0 ? a : b > INT64_MAX - a ? INT64_MAX : a + b;
}

/* readfile.c: a small file read whole */
int	rg_read_fd(int fd, size_t max, char **buf, size_t *len);
int	rg_read_file(int dirfd, const char *path, size_t max, char **buf,
	    size_t *len);

/* runid.c: a run's id, 32 random hex digits: 0, or -1 */
int	rg_run_id(char out[33]);

/* nomem.c: the one exit in common/, for a failed allocation */
void	rg_nomem(void) __attribute__((noreturn));

/* secret.c: what a process holding credentials owes them */
#define RG_SECRET_MAX	4096	/* bytes of a password read */
#define RG_SECRET_MAX_S	"4096"
void	rg_secret_guard(void);
char	*rg_secret_arg(char *arg);
char	**rg_env_safe(void);
char	*rg_secret_read(const char *path);

/* pool.c: threads for a run's parallel parts, each part all of them */
struct rg_pool;
typedef void rg_pool_fn(void *arg, int worker);
struct rg_pool *rg_pool_new(int n);
int	rg_pool_size(const struct rg_pool *p);
int	rg_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);
void	rg_pool_run(struct rg_pool *p, rg_pool_fn *fn, void *arg);
void	rg_pool_free(struct rg_pool *p);

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
int	rg_referrer_tag(const char *tag, struct rg_digest *subject);

/* time.c: RFC 3339 times, always written in UTC with whole seconds; option
 * arguments (dates, durations, counts) */
#define RG_TIME_STRLEN	20	/* 2006-01-02T15:04:05Z */
/* a creation time before Docker's first release (2013-03-20T00:00:00Z) is
 * no time: reproducible builds write 1970, 1980 or 0001 */
#define RG_CREATED_MIN	((time_t)1363737600)

int	rg_time_parse(const char *s, time_t *t);
void	rg_time_format(time_t t, char out[RG_TIME_STRLEN + 1]);
#define RG_DURATION_MAX	(10000LL * 366 * 86400)	/* 10000 years, in seconds */
int	rg_duration_parse(const char *s, long long *secs);
int	rg_date_arg(const char *opt, const char *arg, time_t *t);
int	rg_duration_arg(const char *opt, const char *arg, long long *secs);
int	rg_count_arg(const char *opt, const char *arg, long lo, long hi, long *n);

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

/* strset.c: a set of strings, and the string hash it uses */
#define RG_HASH_INIT	1469598103934665603ULL
uint64_t rg_str_hash(uint64_t h, const char *s);
struct rg_strset {
	char **v;
	size_t n, cap;		/* cap: 0 or a power of two */
};

int	rg_strset_has(const struct rg_strset *set, const char *s);
int	rg_strset_add(struct rg_strset *set, const char *s);
const char *rg_strset_get(const struct rg_strset *set, const char *s);
void	rg_strset_free(struct rg_strset *set);

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
int	rg_dir_add(struct rg_dir *l, const char *name, size_t len,
	    unsigned char type);
int	rg_dir_list(int dirfd, const char *path, struct rg_dir *l);
void	rg_dir_free(struct rg_dir *l);

/* regex.c: PCRE2 patterns given to options */
struct rg_regex;

struct rg_regex *rg_regex_new(const char *opt, const char *pattern);
int	rg_regex_match(struct rg_regex *re, const char *s);
int	rg_regex_groups(const struct rg_regex *re);
int	rg_regex_captures(struct rg_regex *re, const char *s, char *buf,
	    size_t size);
void	rg_regex_free(struct rg_regex *re);

#endif
