/*
 * select.h: what a retention policy selects, for rg-select.
 *
 * The criteria of rg-select (select.c).  The criteria are read into one
 * struct rg_select; the tool feeds it records and asks which are
 * candidates, which --keep spares and which the time window and conditions
 * then choose.
 */
#ifndef RG_SELECT_H
#define RG_SELECT_H

#include <getopt.h>

#include "protect.h"
#include "records.h"

enum { RG_ORDER_CREATED, RG_ORDER_PUSHED, RG_ORDER_NAME, RG_ORDER_VERSION };

struct rg_select_name {
	char *repo, *tag;	/* tag NULL: every tag of repo */
};

struct rg_select {
	struct rg_regex *repo_re[RG_SEL_MAX], *tag_re[RG_SEL_MAX],
	    *keep_tag_re[RG_SEL_MAX];
	size_t nrepo_re, ntag_re, nkeep_tag_re;
	struct rg_expr *wheres[RG_SEL_MAX];
	size_t nwheres;
	struct rg_select_name names[RG_SEL_MAX];
	size_t nnames;
	long keep_n;
	struct rg_regex *group_re;	/* --group: --keep counts per capture */
	int expires;			/* --expires: by the label below */
	char *expires_label;		/* --expires-label, or NULL: Quay's */
	long long unpulled;		/* --not-pulled-for, seconds; -1 */
	int has_pulls_since;		/* the scan record's "pulls_since": */
	time_t pulls_since;		/* rg-pulls' history starts then */
	struct rg_protect protect;	/* --protect, --registry */
	int untagged, order;
	int referrers;			/* --referrers: candidates are those */
	struct rg_window window;
	struct rg_expr_env env;
};

extern const struct option rg_select_longopts[];
#define RG_SELECT_NOT_IN_POLICY	"pohVv"	/* short letters of those */
#define RG_EXPIRES_LABEL	"quay.expires-after"
#define RG_MARKED_BY_MAX	1024	/* bytes of "marked_by", at most */

void	rg_select_init(struct rg_select *s, time_t now);
void	rg_select_free(struct rg_select *s);
int	rg_select_option(struct rg_select *s, int opt, const char *optname,
	    const char *arg);
int	rg_select_name(struct rg_select *s, const char *arg);
int	rg_select_check(const struct rg_select *s);
int	rg_select_load(struct rg_select *s, unsigned long *bad);
int	rg_select_protected(const struct rg_select *s, const json_t *rec);
void	rg_select_scan(struct rg_select *s, const json_t *rec);
int	rg_select_needs_scan(const struct rg_select *s);
const char *rg_select_type(const struct rg_select *s);
int	rg_select_candidate(const struct rg_select *s, const json_t *rec);
int	rg_select_chosen(const struct rg_select *s, const json_t *rec);

/* a record held while its repository's run comes in */
void	rg_select_keep(const struct rg_select *s, struct rg_held *run, size_t n);
void	rg_select_explain(const struct rg_select *s, const json_t *rec,
	    size_t rank, char *buf, size_t size);

#endif
