/*
 * regconf: the registry's config.yml (libyaml), as rg-scan -c and rg-rm
 * read it: loaded or refused with a reason, never a crash or a leak;
 * what it says of S3 turned into an endpoint or refused.
 */
#include <unistd.h>

#include "store.h"
#include "regconf.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rg_regconf c;
	struct rg_remote r;
	char err[512];

	if (rg_regconf_load(fuzz_file(data, size), &c, err, sizeof(err)) == 0) {
		memset(&r, 0, sizeof(r));
		(void)rg_regconf_s3(&c, &r, err, sizeof(err));
	} else
		check(err[0] != '\0');
	rg_regconf_free(&c);
	return 0;
}
