/*
 * policy: a policy file (rg-select --policy), as a hand edit or an
 * accident leaves it: its section [p] read and each key applied as
 * rg-select applies it (patterns, durations, dates, counts, --where
 * expressions), or the file refused with the line named; never a crash.
 */
#include <getopt.h>
#include <unistd.h>

#include "select.h"
#include "fuzz.h"

static struct rg_select sel;

static int
set(int opt, const char *arg)
{
	return rg_select_option(&sel, opt, "--option", arg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setenv("RG_CONFIG", fuzz_file(data, size), 1);
	rg_select_init(&sel, 1700000000);
	if (rg_policy_apply("p", rg_select_longopts, RG_SELECT_NOT_IN_POLICY,
	    set) == 0)
		(void)rg_select_check(&sel);
	rg_select_free(&sel);
	return 0;
}
