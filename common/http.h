/*
 * http.h: a registry's HTTP API.
 *
 * Requests (http.c, libcurl), credentials (auth.c), the API scan
 * (apiscan.c) and deletions (apirm.c).
 */
#ifndef RG_HTTP_H
#define RG_HTTP_H

#include "records.h"

/* http.c: requests to a registry's HTTP API (libcurl), auth, retries */
struct rg_http_opts {
	const char *user, *password;	/* Basic, and for the token realm */
	const char *cacert, *cert, *key;
	int insecure;
	int plain_http;		/* a password may go over http (--plain-http) */
	/* S3: "aws:amz:REGION:s3" to sign with AWS SigV4 (user, password:
	 * the access and secret keys), and a session token, or NULL */
	const char *sigv4, *session_token;
};

struct rg_http {
	void *curl;			/* CURL *, kept alive */
	char *base;			/* https://host:port */
	const struct rg_http_opts *opts;
	struct token *tokens;		/* Bearer tokens by scope */
	size_t ntokens, last;		/* last: the one used last, plus one */
	int basic;			/* the registry asked for Basic */
	const char *extra;		/* more headers, one a line, for the next request */
	int own_sig;			/* extra holds the request's SigV4 signature */
};

struct rg_http_resp {
	char digest[128], link[1024], challenge[1024], retry_after[32];
	char content_type[256], location[2048], error[256];
	char etag[128], date[64];	/* S3's ETag; the server's Date */
	long long filetime;		/* Last-Modified, -1 when not sent */
	long long length;		/* Content-Length, -1 when not sent */
};

int	rg_http_global_init(void);
int	rg_url_userinfo(const char *url);
#define RG_URL_USERINFO	"a user name or password in the URL: give credentials " \
	"with -u, RG_USER and RG_PASSWORD, or " \
	"~/.docker/config.json; the keys of S3 in the environment"

int	rg_http_init(struct rg_http *h, const char *base,
	    const struct rg_http_opts *o);
long	rg_http_get(struct rg_http *h, const char *path, const char *accept,
	    struct rg_buf *body, struct rg_http_resp *r);
long	rg_http_req(struct rg_http *h, const char *method, const char *path,
	    const char *accept, const char *content_type, const void *data,
	    size_t len, struct rg_buf *body, struct rg_http_resp *r);
const char *rg_http_next(char *link);
#define RG_HTTP_PAGES_MAX	100000	/* of one listing (catalog, tags) */
#define RG_HTTP_ENTRIES_MAX	10000000	/* names in one listing */
int	rg_http_next_ok(const char *path, const char *next, size_t pages,
	    size_t n, struct rg_http_resp *r);
const char *rg_http_error_code(const struct rg_buf *body, char *out, size_t size);
void	rg_http_free(struct rg_http *h);

/* apiscan.c: rg-scan through the HTTP API */
struct rg_regex;

struct rg_api_opts {
	const char *url;
	struct rg_http_opts http;
	int jobs, page, progress;
	struct rg_regex *filter;	/* repositories, or NULL */
	rg_write_fn *write;		/* whole records, a repository at a time */
	void *arg;
};

int	rg_api_scan(struct rg_api_opts *o, const char *repo_pattern);
/* http.c, continued: a repository's tags, page by page */
long	rg_api_tags(struct rg_http *h, const char *repo, int page, char ***tags,
	    size_t *ntags, size_t *bad, size_t *pages, struct rg_buf *body,
	    struct rg_http_resp *r, char *failed, size_t size);

/* apirm.c: deletions through the HTTP API, for rg-rm (results: RG_RM_*) */
struct rg_apirm {
	struct rg_http h;
	struct rg_buf body;
	const char *url;
	int dry_run;
	int tag_delete;			/* DELETE by tag: -1 not known yet, 0 no, 1 yes */
	const char *why;		/* why the last object was kept or failed */
	char whybuf[1024];
};

typedef void rg_apirm_tag_fn(void *arg, const char *tag, const struct rg_digest *d);

int	rg_apirm_open(struct rg_apirm *a, const char *url,
	    const struct rg_http_opts *o, int dry_run);
int	rg_apirm_tags(struct rg_apirm *a, const char *repo, rg_apirm_tag_fn *fn,
	    void *arg);
int	rg_apirm_may_delete(struct rg_apirm *a, const char *repo);
int	rg_apirm_manifest(struct rg_apirm *a, const char *repo,
	    const struct rg_digest *d);
int	rg_apirm_tag(struct rg_apirm *a, const char *repo, const char *tag,
	    const struct rg_digest *d);
void	rg_apirm_close(struct rg_apirm *a);

/* auth.c: credentials and certificates for a registry URL, as Docker finds them */
int	rg_api_credentials(const char *url, struct rg_http_opts *o);

#endif
