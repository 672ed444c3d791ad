/*
 * regconf.h: what rg needs to know of a registry's config.yml.
 *
 * Where its storage is, whether deletes are on, and which blob descriptor
 * cache it runs with (regconf.c).  No third-party types.
 */
#ifndef RG_REGCONF_H
#define RG_REGCONF_H

#define RG_REGCONF_DEFAULT	"/etc/docker/registry/config.yml"	/* Debian's */
#define RG_REGCONF_MAX		(1024 * 1024)	/* a larger file is refused */

enum rg_cache { RG_CACHE_NONE, RG_CACHE_INMEMORY, RG_CACHE_REDIS };

struct rg_regconf {
	char *path;
	char *driver;		/* the storage driver: "filesystem", "s3", ... */
	char *rootdirectory;	/* storage.filesystem.rootdirectory, or s3's */
	struct {		/* storage.s3 (secrets: never printed) */
		char *bucket, *region, *regionendpoint, *accesskey, *secretkey;
		char *keyid, *objectacl, *storageclass;
		int secure;	/* default true, as the registry */
		int encrypt;	/* default false */
		char url[1100], endpoint[1100];	/* rg_regconf_s3's */
		char writes[1024];	/* the headers of its writes, rg_regconf_s3's */
	} s3;
	int delete_enabled;	/* storage.delete.enabled */
	enum rg_cache cache;	/* storage.cache.blobdescriptor (or layerinfo) */
	char *cache_name;	/* as written, for messages */
	char *redis_addr, *redis_password;	/* redis.addr, redis.password */
	int redis_db;		/* redis.db */
	int drains;		/* http.draintimeout is set, not 0: SIGTERM lets
				 * the requests it serves finish */
};

/* 0, or -1 with a message in err ("line N: what", or a system error);
 * REGISTRY_STORAGE_* in rg's environment override the file, as the
 * registry's own environment does */
int	rg_regconf_load(const char *path, struct rg_regconf *c, char *err,
	    size_t errsize);
struct rg_store;
int	rg_regconf_of(const char *given, struct rg_store *st, struct rg_regconf *c,
	    char *err, size_t errsize);
void	rg_regconf_free(struct rg_regconf *c);
struct rg_remote;
const char *rg_regconf_s3(struct rg_regconf *c, struct rg_remote *r, char *err,
	    size_t errsize);
struct rg_store *rg_regconf_store(const char *config, const char *root,
	    struct rg_remote *r, char *err, size_t errsize);
const char *rg_cache_name(enum rg_cache c);

#endif
