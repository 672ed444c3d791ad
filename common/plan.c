/*
 * plan.c: a digest of what a stream marks for deletion.
 *
 * So that rg-rm can check that the marks are the ones rg-refs computed:
 * sha256 over one line "type<TAB>repo<TAB>key" per marked record, in
 * stream order (key: the tag, the upload's uuid, else the digest).
 */
#include <string.h>

#include <openssl/evp.h>

#include "records.h"

int
rg_plan_init(struct rg_plan *p)
{
	p->ctx = EVP_MD_CTX_new();
	return p->ctx != NULL && EVP_DigestInit_ex(p->ctx, EVP_sha256(), NULL) == 1 ?
	    0 : -1;
}

static void
field(struct rg_plan *p, const char *s, char end)
{
	if (s != NULL)
		EVP_DigestUpdate(p->ctx, s, strlen(s));
	EVP_DigestUpdate(p->ctx, &end, 1);
}

void
rg_plan_add_fields(struct rg_plan *p, const char *type, const char *repo,
    const char *key)
{
	field(p, type, '\t');
	field(p, repo, '\t');
	field(p, key, '\n');
}

void
rg_plan_add(struct rg_plan *p, const json_t *rec)
{
	const char *type = rg_str(rec, RG_F_TYPE), *key;

	if (type != NULL && strcmp(type, RG_T_TAG) == 0)
		key = rg_str(rec, RG_F_TAG);
	else if (type != NULL && strcmp(type, RG_T_UPLOAD) == 0)
		key = rg_str(rec, "uuid");
	else
		key = rg_str(rec, RG_F_DIGEST);
	rg_plan_add_fields(p, type, rg_str(rec, RG_F_REPO), key);
}

/* A plan let go of before its end (rg_plan_final lets go of it too). */
void
rg_plan_free(struct rg_plan *p)
{
	EVP_MD_CTX_free(p->ctx);
	p->ctx = NULL;
}

void
rg_plan_final(struct rg_plan *p, char out[RG_DIGEST_STRLEN + 1])
{
	struct rg_digest d;
	unsigned int n = sizeof(d.b);

	EVP_DigestFinal_ex(p->ctx, d.b, &n);
	EVP_MD_CTX_free(p->ctx);
	p->ctx = NULL;
	rg_digest_format(&d, out);
}
