/* strset.c: a set of strings (repository names), open addressing. */
#include <stdlib.h>
#include <string.h>

#include "base.h"

/* FNV-1a of s, going on from h (RG_HASH_INIT to begin) */
uint64_t
rg_str_hash(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static uint64_t
hash(const char *s)
{
	return rg_str_hash(RG_HASH_INIT, s);
}

static size_t
slot(const struct rg_strset *set, const char *s)
{
	size_t i = hash(s) & (set->cap - 1);

	while (set->v[i] != NULL && strcmp(set->v[i], s) != 0)
		i = (i + 1) & (set->cap - 1);
	return i;
}

int
rg_strset_has(const struct rg_strset *set, const char *s)
{
	return set->cap > 0 && set->v[slot(set, s)] != NULL;
}

/* The set's own copy of s, or NULL. */
const char *
rg_strset_get(const struct rg_strset *set, const char *s)
{
	return set->cap > 0 ? set->v[slot(set, s)] : NULL;
}

int
rg_strset_add(struct rg_strset *set, const char *s)
{
	struct rg_strset bigger;
	size_t i;

	if (2 * (set->n + 1) > set->cap) {	/* at most half full */
		bigger.cap = set->cap ? 2 * set->cap : 64;
		bigger.n = set->n;
		if ((bigger.v = calloc(bigger.cap, sizeof(*bigger.v))) == NULL)
			return -1;
		for (i = 0; i < set->cap; i++)
			if (set->v[i] != NULL)
				bigger.v[slot(&bigger, set->v[i])] = set->v[i];
		free(set->v);
		*set = bigger;
	}
	i = slot(set, s);
	if (set->v[i] != NULL)
		return 0;
	if ((set->v[i] = strdup(s)) == NULL)
		return -1;
	set->n++;
	return 0;
}

void
rg_strset_free(struct rg_strset *set)
{
	size_t i;

	for (i = 0; i < set->cap; i++)
		free(set->v[i]);
	free(set->v);
	memset(set, 0, sizeof(*set));
}
