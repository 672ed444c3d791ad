/*
 * pulls.h: the registry's pull history, for rg-pulls.
 *
 * The lines of its app log (logrus text or JSON), of its access log
 * (combined format) and of a file of notification envelopes, read plain or
 * gzipped (pulls.c); and a table of pulls by manifest digest and by tag.
 */
#ifndef RG_PULLS_H
#define RG_PULLS_H

#include "records.h"

#define RG_PULL_LINE_MAX	(1 << 20)	/* longer lines are skipped */
#define RG_PULL_FIELD_MAX	1024		/* a log field kept, at most */

/* what a line is */
enum { RG_PL_OTHER, RG_PL_APP, RG_PL_ACCESS, RG_PL_EVENTS };

/* one successful GET of a manifest */
struct rg_pull {
	int kind;			/* the line's: RG_PL_APP, ... */
	char repo[RG_REPO_MAX + 1];
	char ref[RG_TAG_MAX + 1];	/* a tag, or a digest when by_digest */
	int by_digest;
	time_t when;
	char agent[RG_PULL_FIELD_MAX], actor[RG_PULL_FIELD_MAX];
};

typedef void rg_pull_fn(const struct rg_pull *p, void *arg);

/* when a line's request was, or its envelope's earliest event */
struct rg_pull_time {
	int known;
	time_t t;
};

int	rg_pull_line(const char *line, size_t len, rg_pull_fn *fn, void *arg,
	    struct rg_pull_time *when);

/* a file, plain or gzip, a line at a time (NUL-terminated at len) */
typedef int rg_pull_line_fn(const char *line, size_t len, unsigned long lineno,
	    void *arg);
int	rg_pull_read(const char *path, rg_pull_line_fn *fn, void *arg,
	    unsigned long *skipped);

/* pulls counted by "repo@digest" and "repo:tag" */
struct rg_pull_count {
	time_t last;
	unsigned long long n;
};

struct rg_pull_entry {
	char *key;
	struct rg_pull_count c, staged;
};

struct rg_pulls {
	struct rg_pull_entry *v;
	size_t n, cap;
};

void	rg_pulls_add(struct rg_pulls *t, const char *repo, const char *ref,
	    int by_digest, time_t when, int staged);
void	rg_pulls_commit(struct rg_pulls *t, int keep_staged);
const struct rg_pull_count *rg_pulls_get(const struct rg_pulls *t,
	    const char *repo, const char *ref, int by_digest);
void	rg_pull_count_add(struct rg_pull_count *to, const struct rg_pull_count *c);
void	rg_pulls_free(struct rg_pulls *t);

#endif
