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

static const struct option longopts[] = {
	{ "repo", required_argument, NULL, 'r' },
	{ "tag", required_argument, NULL, 't' },
	{ "keep-tag", required_argument, NULL, 'K' },
	{ "keep", required_argument, NULL, 'k' },
	{ "older-than", required_argument, NULL, 'O' },
	{ "before", required_argument, NULL, 'b' },
	{ "after", required_argument, NULL, 'a' },
	{ "time", required_argument, NULL, 'T' },
	{ "order", required_argument, NULL, 'S' },
	{ "untagged", no_argument, NULL, 'u' },
	{ "where", required_argument, NULL, 'w' },
	{ NULL, 0, NULL, 0 }
};

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
	if (rg_policy_apply("p", longopts, "", set) == 0)
		(void)rg_select_check(&sel);
	rg_select_free(&sel);
	return 0;
}
