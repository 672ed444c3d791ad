/*
 * protect: rg-select --protect's readers of image references: a list
 * (a reference a line) or kubectl's JSON, walked for containers, and the
 * reference parser on the input itself.  Whatever they keep is a valid
 * repository with a valid tag or digest; what the parser accepts is too.
 */
#include "select.h"
#include "fuzz.h"

static void
check_key(const char *key)
{
	char repo[RG_REPO_MAX + 1];
	const char *sep = strpbrk(key, ":@");
	struct rg_digest d;

	check(sep != NULL && (size_t)(sep - key) < sizeof(repo));
	memcpy(repo, key, (size_t)(sep - key));
	repo[sep - key] = '\0';
	check(rg_repo_valid(repo));
	check(*sep == ':' ? rg_tag_valid(sep + 1) :
	    rg_digest_parse(sep + 1, strlen(sep + 1), &d) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rg_protect p;
	struct rg_imageref r;
	struct rg_digest d;
	unsigned long bad;
	char *s = fuzz_str(data, size);
	size_t i;

	memset(&p, 0, sizeof(p));
	if (size > 0 && data[0] == ' ') {	/* as if --registry were given */
		p.hosts[0] = strdup("127.0.0.1:5000");
		p.nhosts = 1;
	}
	rg_protect_load(&p, fuzz_file(data, size), &bad);
	for (i = 0; i < p.refs.cap; i++)
		if (p.refs.v[i] != NULL)
			check_key(p.refs.v[i]);
	if (rg_ref_parse(s, &r) == 0) {
		check(rg_repo_valid(r.repo));
		check(r.tag[0] == '\0' || rg_tag_valid(r.tag));
		check(r.digest[0] == '\0' ||
		    rg_digest_parse(r.digest, strlen(r.digest), &d) == 0);
		check(strlen(r.host) < sizeof(r.host));
	}
	rg_protect_free(&p);
	free(s);
	return 0;
}
