/*
 * redis.h: a redis connection, for the registry's cache.
 *
 * The connection is redis.c's; rg-rm removes the cache entries of exactly
 * what it deletes from the registry's blob descriptor cache.  No
 * third-party types.
 */
#ifndef RG_REDIS_H
#define RG_REDIS_H

#include "base.h"

struct rg_redis {
	int fd;
	char *addr;
	char err[256];		/* why the last call failed */
	char in[4096];		/* what was read and not yet taken */
	size_t inlen, inpos;
};

int	rg_redis_open(struct rg_redis *r, const char *addr, const char *password,
	    int db);
int	rg_redis_cmd(struct rg_redis *r, long long *n, int argc, const char **argv);
void	rg_redis_close(struct rg_redis *r);

/* the registry's keys (distribution 2.8, registry/storage/cache/redis) */
int	rg_redis_forget_link(struct rg_redis *r, const char *repo,
	    const struct rg_digest *d);
int	rg_redis_forget_blob(struct rg_redis *r, const struct rg_digest *d);

#endif
