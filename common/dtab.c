/*
 * dtab.c: a table of fixed-size entries keyed by their first bytes.
 *
 * The key is a raw digest, or a digest and a repository number; open
 * addressing.  Entries live in one array, so an index stays valid as the
 * table grows; a slot costs 4 bytes.  rg-refs holds a whole registry in
 * these.
 */
#include <stdlib.h>
#include <string.h>

#include "base.h"

static uint64_t
key_hash(const unsigned char *k, size_t klen)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL, w;
	size_t i;

	for (i = 0; i + 8 <= klen; i += 8) {
		memcpy(&w, k + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	for (; i < klen; i++)
		h = (h ^ k[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

int
rg_dtab_init(struct rg_dtab *t, size_t esize, size_t klen)
{
	memset(t, 0, sizeof(*t));
	t->esize = esize;
	t->klen = klen;
	t->nslot = 1024;
	return (t->slot = calloc(t->nslot, sizeof(*t->slot))) == NULL ? -1 : 0;
}

static size_t
probe(const struct rg_dtab *t, const void *key)
{
	size_t i = key_hash(key, t->klen) & (t->nslot - 1);

	while (t->slot[i] != 0 &&
	    memcmp(t->ent + (size_t)(t->slot[i] - 1) * t->esize, key, t->klen) != 0)
		i = (i + 1) & (t->nslot - 1);
	return i;
}

static int
grow(struct rg_dtab *t)
{
	uint32_t *old = t->slot;
	size_t i, n = t->nslot;

	t->nslot *= 2;
	if ((t->slot = calloc(t->nslot, sizeof(*t->slot))) == NULL) {
		t->slot = old;
		t->nslot = n;
		return -1;
	}
	for (i = 0; i < n; i++)
		if (old[i] != 0)
			t->slot[probe(t, t->ent + (size_t)(old[i] - 1) * t->esize)] = old[i];
	free(old);
	return 0;
}

/*
 * The index of the entry with key, or -1 when there is none; with create,
 * a new zeroed entry holding key (-1 only when out of memory).
 */
long
rg_dtab_index(struct rg_dtab *t, const void *key, int create)
{
	unsigned char *ent;
	size_t i = probe(t, key), cap;

	if (t->slot[i] != 0)
		return (long)t->slot[i] - 1;
	if (!create)
		return -1;
	if (t->n == t->cap) {
		cap = t->cap ? 2 * t->cap : 1024;
		if ((ent = realloc(t->ent, cap * t->esize)) == NULL)
			return -1;
		t->ent = ent;
		t->cap = cap;
	}
	memset(t->ent + t->n * t->esize, 0, t->esize);
	memcpy(t->ent + t->n * t->esize, key, t->klen);
	t->slot[i] = (uint32_t)++t->n;
	if (2 * t->n > t->nslot && grow(t) == -1)	/* at most half full */
		return -1;
	return (long)t->n - 1;
}

void
rg_dtab_free(struct rg_dtab *t)
{
	free(t->ent);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}
