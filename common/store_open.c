/*
 * store_open.c: a store opened by its name, its driver chosen once.
 *
 * s3://BUCKET[/ROOTDIR] is on S3 (store_s3.c), anything else a directory
 * (store_fs.c); the drivers are below this file, which is the only one to
 * know both.
 */
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "store.h"

/*
 * The store at where: s3://BUCKET[/ROOTDIR] on S3, else a directory (the
 * registry's rootdirectory or its v2 directory); NULL (reported) when it
 * is not registry storage.
 */
struct rg_store *
rg_store_open(const char *where, const struct rg_remote *r)
{
	static const struct rg_remote none;

	if (strncmp(where, "s3://", 5) == 0)
		return rg_store_s3(where, r != NULL ? r : &none);
	return rg_store_fs(where);
}

void
rg_store_close(struct rg_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}
