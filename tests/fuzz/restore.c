/*
 * restore: the paths a quarantine's index names (rg_restobj_parse, for
 * rg-restore): the storage holds the index, so its lines are not trusted.
 * An accepted path is the place its own fields give again, field by field
 * valid; anything else is refused, and nothing is read past the input.
 */
#include "remove.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct rg_restobj o, again;

	memset(&o, 0, sizeof(o));
	if (rg_restobj_parse(&o, s) == 0) {
		check(strcmp(o.path, s) == 0);
		check(o.kind == RG_OBJ_BLOB || rg_repo_valid(o.repo));
		check(o.kind != RG_OBJ_TAG || rg_tag_valid(o.key));
		check(o.kind != RG_OBJ_UPLOAD || rg_upload_valid(o.key));
		check(o.kind == RG_OBJ_TAG || o.kind == RG_OBJ_UPLOAD || o.has_digest);
		memset(&again, 0, sizeof(again));
		again.kind = o.kind;
		again.repo = o.repo;
		again.key = o.key;
		again.d = o.d;
		again.has_digest = o.has_digest;
		check(rg_restobj_place(&again) == 0 && strcmp(again.path, s) == 0);
	}
	rg_restobj_clear(&o);
	free(s);
	return 0;
}
