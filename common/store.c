/* store.c: a store's driver, chosen once by the form of its name. */
#include <stdlib.h>

#include "store.h"

/*
 * The store at where: a directory (the registry's rootdirectory or its v2
 * directory) for now; NULL (reported) when it is not registry storage.
 */
struct rg_store *
rg_store_open(const char *where)
{
	return rg_store_fs(where);
}

void
rg_store_close(struct rg_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}
