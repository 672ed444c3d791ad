/*
 * names: repository and tag names, checked against the distribution
 * grammar itself (../shared/REGISTRY.md) as PCRE2 patterns:
 *	component	[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
 *	repository	component(/component)*, at most 255 characters
 *	tag		[A-Za-z0-9_][A-Za-z0-9._-]{0,127}
 * and referrer tags (rg_referrer_tag), sha256-<64 hex>, alone or with a
 * dot and a suffix, whose digest is the hex.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "base.h"
#include "fuzz.h"

static pcre2_code *
compile(const char *p)
{
	size_t off;
	int e;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED, 0,
	    &e, &off, NULL);

	if (re == NULL)
		abort();
	return re;
}

static int
matches(pcre2_code *re, const char *s)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int r = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL) >= 0;

	pcre2_match_data_free(md);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pcre2_code *repo, *tag, *referrer;
	char *s = fuzz_str(data, size);
	struct rg_digest d;
	char hex[RG_HEX_LEN + 1];
	int r;

	if (repo == NULL) {
		repo = compile("^[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*"
		    "(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*$");
		tag = compile("^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$");
		referrer = compile("^sha256-[0-9a-f]{64}(?:\\..+)?$");
	}
	/* ($ would match before a final newline: none may be there) */
	check(rg_repo_valid(s) == (matches(repo, s) && strlen(s) <= RG_REPO_MAX &&
	    strchr(s, '\n') == NULL));
	check(rg_tag_valid(s) == (matches(tag, s) && strchr(s, '\n') == NULL));
	r = rg_referrer_tag(s, &d);
	if (strchr(s, '\n') == NULL)	/* (a tag never holds one: rg_tag_valid) */
		check(r == matches(referrer, s));
	if (r) {
		rg_digest_hex(&d, hex);
		check(strncmp(s + 7, hex, RG_HEX_LEN) == 0);
	}
	free(s);
	return 0;
}
