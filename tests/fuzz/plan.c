/*
 * plan: rg-rm's reading of its stream (rmplan.c), which decides what may
 * be deleted: every marked record checked field by field (a record with
 * an invalid name, tag, uuid or digest is refused, never made a path);
 * never a crash or a leak, whatever the stream.
 */
#include <fcntl.h>

#include "remove.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rg_rmplan p;
	size_t i;
	int fd;

	if (rg_rmplan_init(&p) != 0)
		abort();
	if ((fd = open(fuzz_file(data, size), O_RDONLY)) == -1)
		abort();
	(void)rg_rmplan_read(&p, fd, "<fuzz>");
	close(fd);
	for (i = 0; i < p.n; i++) {
		if (!p.v[i].valid)
			continue;
		check(p.v[i].kind == RG_OBJ_BLOB || p.v[i].repo < p.repos.n);
		check(p.v[i].kind == RG_OBJ_BLOB ||
		    rg_repo_valid(RG_RMREPO(&p, p.v[i].repo)->name));
		check(p.v[i].kind != RG_OBJ_TAG || rg_tag_valid(p.v[i].key));
		check(p.v[i].kind == RG_OBJ_TAG || p.v[i].kind == RG_OBJ_UPLOAD ||
		    p.v[i].has_digest);
	}
	rg_rmplan_free(&p);
	return 0;
}
