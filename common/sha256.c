/* sha256.c: computing digests (kept apart so only tools that hash need libcrypto). */
#include <openssl/sha.h>

#include "base.h"

void
rg_digest_of(const void *buf, size_t len, struct rg_digest *d)
{
	SHA256(buf, len, d->b);
}
