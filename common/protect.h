/*
 * protect.h: the images in use, below rg-select's criteria.
 *
 * protect.c reads them; select.h's --protect and --registry name what to
 * read.
 */
#ifndef RG_PROTECT_H
#define RG_PROTECT_H

#include "records.h"

#define RG_SEL_MAX	32	/* of each kind: patterns, conditions, names */

/* protect.c: --protect, the images in use */
#define RG_PROTECT_MAX		(1 << 30)	/* bytes of a list read */
#define RG_PROTECT_DEPTH	64		/* JSON nesting walked */
#define RG_PROTECT_REF_MAX	1024		/* a reference's length */

struct rg_imageref {
	char host[256], repo[RG_REPO_MAX + 1], tag[RG_TAG_MAX + 1];
	char digest[RG_DIGEST_STRLEN + 1];
};

struct rg_protect {
	struct rg_strset refs;		/* "repo:tag", "repo@digest" */
	unsigned long nrefs;
	char *hosts[RG_SEL_MAX];	/* --registry: this registry's names */
	size_t nhosts;
	char *paths[RG_SEL_MAX];	/* --protect, read by rg_select_load */
	size_t npaths;
};

int	rg_ref_parse(const char *ref, struct rg_imageref *out);
int	rg_protect_ref(struct rg_protect *p, const char *ref);
int	rg_protect_load(struct rg_protect *p, const char *path,
	    unsigned long *bad);
int	rg_protect_has(const struct rg_protect *p, const json_t *rec);
void	rg_protect_free(struct rg_protect *p);

#endif
