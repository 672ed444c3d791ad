/* names.c: repository and tag names, per the distribution reference grammar. */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

static int
alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
int
rg_component_valid(const char *s, size_t len)
{
	size_t i = 0, j;

	if (len == 0 || !alnum((unsigned char)s[0]))
		return 0;
	while (i < len) {
		while (i < len && alnum((unsigned char)s[i]))
			i++;
		if (i == len)
			return 1;
		j = i;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += (i + 1 < len && s[i + 1] == '_') ? 2 : 1;
		else if (s[i] == '-')
			while (i < len && s[i] == '-')
				i++;
		else
			return 0;
		if (i == j || i == len || !alnum((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

int
rg_repo_valid(const char *name)
{
	const char *p = name, *slash;
	size_t len = strlen(name);

	if (len == 0 || len > RG_REPO_MAX)
		return 0;
	for (;;) {
		slash = strchr(p, '/');
		if (!rg_component_valid(p, slash ? (size_t)(slash - p) : strlen(p)))
			return 0;
		if (!slash)
			return 1;
		p = slash + 1;
	}
}

/* [A-Za-z0-9_][A-Za-z0-9._-]{0,127} */
int
rg_tag_valid(const char *tag)
{
	size_t i;

	for (i = 0; tag[i]; i++) {
		unsigned char c = (unsigned char)tag[i];
		int word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_';

		if (i >= RG_TAG_MAX || !(word || (i > 0 && (c == '.' || c == '-'))))
			return 0;
	}
	return i > 0;
}

/*
 * repo or repo:tag, as given on a command line; *tag NULL for a whole
 * repository.  *repo is allocated (and holds *tag).  -1 (reported) when
 * either is not a valid name.
 */
int
rg_name_parse(const char *arg, char **repo, char **tag)
{
	char *colon;

	if ((*repo = strdup(arg)) == NULL) {
		warn(NULL);
		return -1;
	}
	*tag = NULL;
	if ((colon = strchr(*repo, ':')) != NULL) {
		*colon = '\0';
		*tag = colon + 1;
	}
	if (!rg_repo_valid(*repo) || (*tag != NULL && !rg_tag_valid(*tag))) {
		warnx("%s: not a repository or repository:tag name", arg);
		free(*repo);
		return -1;
	}
	return 0;
}

/*
 * A referrer tag: "sha256-" and 64 lowercase hex digits, alone (the OCI 1.1
 * referrers tag schema's index) or followed by "." and a suffix (cosign's
 * .sig, .att, .sbom, or any other).  1 and *subject, the digest of the
 * manifest it refers to in the same repository, when tag is one; else 0.
 */
int
rg_referrer_tag(const char *tag, struct rg_digest *subject)
{
	size_t n = strlen(tag);

	if (n < 7 + RG_HEX_LEN || strncmp(tag, "sha256-", 7) != 0 ||
	    (n > 7 + RG_HEX_LEN && (tag[7 + RG_HEX_LEN] != '.' ||
	    n == 8 + RG_HEX_LEN)))
		return 0;
	return rg_hex_parse(tag + 7, RG_HEX_LEN, subject) == 0;
}
