/*
 * manifest: a manifest or an image config as storage or a registry gives
 * it (any bytes): parsed or refused, never a crash, a leak or a read out
 * of bounds; what a parsed manifest lists has no duplicate.
 */
#include "records.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rg_manifest m;
	json_t *platform = NULL, *labels = NULL;
	char err[256];
	time_t created;
	int has_created;
	size_t i, k;

	if (rg_manifest_parse((const char *)data, size, &m, err, sizeof(err)) == 0) {
		for (i = 0; i < m.blobs.n && i < 64; i++)
			for (k = i + 1; k < m.blobs.n; k++)
				check(memcmp(&m.blobs.v[i].digest, &m.blobs.v[k].digest,
				    sizeof(m.blobs.v[i].digest)) != 0);
	}
	rg_manifest_free(&m);
	if (rg_config_parse((const char *)data, size, &created, &has_created,
	    &platform, &labels) == 0) {
		json_decref(platform);
		json_decref(labels);
	}
	return 0;
}
