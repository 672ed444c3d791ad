/* graph.h: the whole registry as a graph, for rg-refs (graph.c). */
#ifndef RG_GRAPH_H
#define RG_GRAPH_H

#include "records.h"

/* graph.c: the whole registry, for rg-refs; one per process */
typedef void rg_usage_fn(void *arg, const char *repo, const char *tag,
	    int64_t alone, int64_t total);

/* the fields of a record rg-refs reads (strings NUL-terminated) */
struct rg_rec {
	const char *type, *repo, *digest, *tag, *subject;
	long long size;
	int marked, error, repo_filter;		/* error, repo_filter: there */
	int protect;			/* "protected" is true: a survivor */
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

#endif
