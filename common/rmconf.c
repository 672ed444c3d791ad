/*
 * rmconf.c: what the registry's config.yml lets rg-rm delete while it runs.
 *
 * The registry caches blob descriptors (in memory or in redis), and it
 * stops at once on SIGTERM unless http.draintimeout is set: the config
 * says which, and so what a storage run may delete beside it.  In-memory,
 * layer links and blobs are kept unless --stop and --start give a window
 * in which the registry is down; redis is opened, so that what goes is
 * forgotten there as well; no drain timeout means no window at all.  The
 * config is the one given, or Debian's when its storage is the stream's.
 */
#include <err.h>
#include <string.h>

#include "remove.h"

const char rg_hold_inmemory[] = "the registry's in-memory cache could go on "
    "claiming it: --stop and --start delete it while the registry is stopped";
static const char hold_nodrain[] = "--stop would cut the registry's pushes: "
    "its config.yml has no http.draintimeout";

/*
 * The config read into c and its consequences set: o's hold and window,
 * sw's redis.  0; -1 with msg when nothing may be deleted (fatal).
 */
int
rg_rmconf_load(struct rg_rmconf *c, struct rg_rmopts *opts,
    const struct rg_rmplan *p, struct rg_sweep *sw, struct rg_rmstore *o,
    int verbose, char *msg, size_t size)
{
	switch (rg_regconf_of(opts->config, sw->st, &c->conf, msg, size)) {
	case -1:
		return -1;
	case 2:
		warnx("%s", msg);
		return 0;
	case 1:
		return 0;
	}
	c->have = 1;
	if (verbose)
		warnx("%s: the registry of %s; blob descriptor cache: %s",
		    c->conf.path, sw->root, rg_cache_name(c->conf.cache));
	if (!opts->prune && !rg_rmplan_has(p, RG_OBJ_LAYER, RG_OBJ_BLOB))
		return 0;	/* the cache matters for links and blobs */
	if (opts->stop != NULL && !c->conf.drains) {
		/*
		 * Without it, SIGTERM ends the registry at once: a push cut
		 * while the registry writes a manifest (in place) leaves it
		 * truncated, and later pushes of it do not write it again.
		 */
		warnx("%s: no http.draintimeout: stopping the registry would cut "
		    "the pushes it serves, a manifest half written among them; "
		    "layer links and blobs are kept until it is set (http: "
		    "{draintimeout: 60s}) (rg-rm(1))", c->conf.path);
		o->hold_cached = hold_nodrain;
		opts->stop = NULL;	/* no window */
		o->start_cmd = NULL;
		return 0;
	}
	if (c->conf.cache == RG_CACHE_INMEMORY && opts->stop == NULL)
		o->hold_cached = rg_hold_inmemory;
	if (c->conf.cache == RG_CACHE_REDIS) {
		if (rg_redis_open(&c->redis, c->conf.redis_addr,
		    c->conf.redis_password, c->conf.redis_db) != 0) {
			rg_msg(msg, size, "%s: the registry's cache (%s): %s: "
			    "nothing deleted", c->conf.path, c->conf.cache_name,
			    c->redis.err);
			return -1;
		}
		sw->redis = &c->redis;
	}
	return 0;
}
