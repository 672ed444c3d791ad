/*
 * s3.h: a registry's storage on S3: the client, the lease, the driver.
 *
 * The client (s3.c: ListObjectsV2, GET, HEAD, signed by libcurl through
 * http.c; its answers read by s3xml.c), the lease (s3lease.c), and the
 * store driver's face (store_s3.c).  Keys are the registry's paths below
 * its rootdirectory.
 */
#ifndef RG_S3_H
#define RG_S3_H

#include "http.h"
#include "s3xml.h"

#define RG_S3_JOBS	16	/* requests at once, by default */
#define RG_S3_PAGES_MAX	1000000	/* of one listing: a billion keys */
#define RG_S3_PAGES_MAX_S "1000000"

/* s3.c: where a bucket is and how to reach it */
struct rg_s3_conf {
	char *bucket;
	char *rootdir;		/* the registry's rootdirectory, no leading '/' */
	char *endpoint;		/* scheme://host[:port], or NULL for AWS */
	char *region;
	char *access_key, *secret_key, *session_token;
	const char *cacert;
	int insecure;
	char *writes;		/* headers of every write ("a: b\nc: d"), or NULL */
};

struct rg_s3 {
	const struct rg_s3_conf *conf;
	struct rg_http h;	/* one connection, kept alive */
	struct rg_http_opts ho;
	char sigv4[96];
	struct rg_buf body;
	char error[512];	/* why the last request failed */
};

int	rg_s3_conf_url(struct rg_s3_conf *c, const char *url, const char *endpoint);
void	rg_s3_conf_free(struct rg_s3_conf *c);
int	rg_s3_open(struct rg_s3 *s, const struct rg_s3_conf *c);
void	rg_s3_close(struct rg_s3 *s);
int	rg_s3_list(struct rg_s3 *s, const char *prefix, int delimited,
	    rg_s3_entry_fn *fn, void *arg);
int	rg_s3_get(struct rg_s3 *s, const char *key, size_t max, char **buf,
	    size_t *len, time_t *mtime);
int	rg_s3_upload(struct rg_s3 *s, const char *path, char *id, size_t idsize,
	    int64_t *size, time_t *mtime);
int	rg_s3_delete(struct rg_s3 *s, char *const *paths, size_t n);
int	rg_s3_abort(struct rg_s3 *s, const char *path, const char *id);
#define RG_S3_COPY_LIMIT	5368709120LL	/* bytes one CopyObject copies */
#define RG_S3_PART		1073741824LL	/* bytes of a copied part */
#define RG_S3_PART_MIN		5242880LL	/* S3's smallest part */
#define RG_S3_PARTS_MAX		10000		/* parts of an upload */
int	rg_s3_copy(struct rg_s3 *s, const char *from, const char *to,
	    int64_t size);
int	rg_s3_put(struct rg_s3 *s, const char *path, const void *buf, size_t len);
int	rg_s3_put_if(struct rg_s3 *s, const char *path, const void *buf,
	    size_t len, const char *cond, char *etag, size_t etagsize);

struct rg_s3_meta {
	char etag[128];
	time_t mtime;		/* Last-Modified */
	time_t date;		/* the server's Date of the answer; 0 unknown */
};

int	rg_s3_get_meta(struct rg_s3 *s, const char *path, size_t max, char **buf,
	    size_t *len, struct rg_s3_meta *m);
int	rg_s3_plain(const char *path);

/* s3lease.c: one rg-rm at a time on a bucket */
#define RG_S3_LEASE_TTL	600	/* seconds a lease lasts unless renewed */

struct rg_s3_lease {
	struct rg_s3 s;			/* its own connection */
	char body[1024], etag[128];
	size_t len;
	long ttl;
	pthread_t thread;		/* renews it */
	pthread_mutex_t lock;		/* etag, lost, stop */
	pthread_cond_t wake;
	int held, running, lost, stop;
	int bare;			/* If-Match takes the ETag unquoted */
};

int	rg_s3_lease_take(struct rg_s3_lease *l, const struct rg_s3_conf *c,
	    const char *run, long ttl, int *took_over, char *why, size_t size);
int	rg_s3_lease_lost(struct rg_s3_lease *l);
void	rg_s3_lease_release(struct rg_s3_lease *l);

/* store_s3.c: the S3 driver of store.h */
struct rg_store;
struct rg_remote;
struct rg_store *rg_store_s3(const char *url, const struct rg_remote *r);

#endif
