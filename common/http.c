/*
 * http.c: requests to a registry's HTTP API, with libcurl.
 *
 * One connection per rg_http (kept alive).  Answers a 401 challenge: Basic
 * with the credentials given, or the Bearer token flow (realm, service,
 * scope), with tokens kept per scope until they expire.  Retries 429, 5xx
 * and connection errors with exponential backoff, honouring Retry-After.
 * TLS is verified unless insecure is set.  Credentials are never printed.
 */
#include <ctype.h>
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dlfcn.h>
#include <pthread.h>

#include <curl/curl.h>

#undef curl_easy_setopt		/* curl.h's checking macros: the calls are ours */
#undef curl_easy_getinfo

#include "http.h"

/*
 * libcurl is opened when a URL is scanned, not linked: its dependencies
 * would otherwise double rg-scan's memory on every storage scan.
 */
static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} cu;

#define curl_global_init	cu.global_init
#define curl_easy_init		cu.easy_init
#define curl_easy_cleanup	cu.easy_cleanup
#define curl_easy_reset		cu.easy_reset
#define curl_easy_setopt	cu.easy_setopt
#define curl_easy_perform	cu.easy_perform
#define curl_easy_getinfo	cu.easy_getinfo
#define curl_easy_strerror	cu.easy_strerror
#define curl_easy_escape	cu.easy_escape
#define curl_free		cu.free
#define curl_slist_append	cu.slist_append
#define curl_slist_free_all	cu.slist_free_all

#define TRIES		5
#define BODY_MAX	(64L * 1024 * 1024)	/* a manifest or a token, not a layer */
#define TRANSFER_MAX	600L	/* seconds, a whole request at most */
#define SPEED_MIN	64L	/* bytes a second, averaged over SPEED_TIME: a */
#define SPEED_TIME	60L	/* server trickling an answer is given up on */

struct token {
	char *scope, *value;
	time_t expires;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct rg_buf *b = arg;

	if (b->len + size * n > BODY_MAX || rg_buf_add(b, p, size * n) == -1)
		return 0;
	return size * n;
}

/* header: name matched without case; value trimmed, into a fixed buffer */
static void
header_value(const char *line, size_t n, const char *name, char *out, size_t size)
{
	size_t k = strlen(name), v;

	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return;
	line += k + 1;
	n -= k + 1;
	while (n > 0 && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		n--;
	v = n < size - 1 ? n : size - 1;
	memcpy(out, line, v);
	out[v] = '\0';
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct rg_http_resp *r = arg;
	size_t len = size * n;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)	/* a new response */
		r->digest[0] = r->link[0] = r->challenge[0] = r->retry_after[0] =
		    r->content_type[0] = r->location[0] = r->etag[0] =
		    r->date[0] = '\0';
	header_value(p, len, "Docker-Content-Digest", r->digest, sizeof(r->digest));
	header_value(p, len, "Link", r->link, sizeof(r->link));
	header_value(p, len, "WWW-Authenticate", r->challenge, sizeof(r->challenge));
	header_value(p, len, "Retry-After", r->retry_after, sizeof(r->retry_after));
	header_value(p, len, "Content-Type", r->content_type, sizeof(r->content_type));
	header_value(p, len, "Location", r->location, sizeof(r->location));
	header_value(p, len, "ETag", r->etag, sizeof(r->etag));
	header_value(p, len, "Date", r->date, sizeof(r->date));
	return len;
}

int
rg_http_init(struct rg_http *h, const char *base, const struct rg_http_opts *o)
{
	memset(h, 0, sizeof(*h));
	h->opts = o;
	if ((h->base = strdup(base)) == NULL || (h->curl = curl_easy_init()) == NULL)
		return -1;
	while (*h->base && h->base[strlen(h->base) - 1] == '/')
		h->base[strlen(h->base) - 1] = '\0';
	return 0;
}

void
rg_http_free(struct rg_http *h)
{
	struct token *t = h->tokens;
	size_t i;

	for (i = 0; i < h->ntokens; i++) {
		free(t[i].scope);
		free(t[i].value);
	}
	free(h->tokens);
	free(h->base);
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	memset(h, 0, sizeof(*h));
}

/* one parameter of a challenge: key="value" */
static int
param(const char *ch, const char *key, char *out, size_t size)
{
	const char *p = ch, *end;
	size_t k = strlen(key), n;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == ch || p[-1] == ' ' || p[-1] == ',') && p[k] == '=' &&
		    p[k + 1] == '"' && (end = strchr(p + k + 2, '"')) != NULL) {
			n = (size_t)(end - (p + k + 2));
			if (n >= size)
				return -1;
			memcpy(out, p + k + 2, n);
			out[n] = '\0';
			return 0;
		}
		p += k;
	}
	return -1;
}

/*
 * What every request sets: bounded in time, http and https only, TLS as
 * asked; the client certificate only when the request goes to the
 * registry itself (registry: 1), never to a token realm.
 */
static void
set_common(struct rg_http *h, CURL *c, int registry)
{
	const struct rg_http_opts *o = h->opts;

	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, TRANSFER_MAX);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, SPEED_MIN);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, SPEED_TIME);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "rg/" RG_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (o->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
	if (o->cert != NULL && registry)
		curl_easy_setopt(c, CURLOPT_SSLCERT, o->cert);
	if (o->key != NULL && registry)
		curl_easy_setopt(c, CURLOPT_SSLKEY, o->key);
	if (o->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

static int
by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A scope's actions in order ("push,pull" is "pull,push"): the registry
 * names them in no fixed order, and a token is cached by its scope.
 */
static void
scope_canonical(char *scope)
{
	char *acts[8], buf[512], *p, *colon, *end, *next, *save;
	size_t n, i, len, sum;

	for (p = scope; *p; p = next) {
		end = p + strcspn(p, " ");
		next = *end ? end + 1 : end;
		for (colon = end; colon > p && colon[-1] != ':'; colon--)
			;
		if (colon == p || (len = (size_t)(end - colon)) >= sizeof(buf))
			continue;
		memcpy(buf, colon, len);
		buf[len] = '\0';
		for (n = 0, acts[0] = strtok_r(buf, ",", &save); acts[n] != NULL && n < 7; )
			acts[++n] = strtok_r(NULL, ",", &save);
		for (i = 0, sum = n - 1; i < n; i++)
			sum += strlen(acts[i]);
		if (n < 2 || acts[n] != NULL || sum != len)
			continue;	/* nothing to order, or not a plain list */
		qsort(acts, n, sizeof(*acts), by_str);
		for (i = 0; i < n; i++) {
			len = strlen(acts[i]);
			memcpy(colon, acts[i], len);
			colon += len;
			if (i + 1 < n)
				*colon++ = ',';
		}
	}
}

/*
 * May a password go to url?  Over https; over http only to this machine
 * (localhost, 127.0.0.0/8, ::1, as Docker's insecure registries), or
 * when the user said so (--plain-http), as curl and skopeo ask.
 */
static int
cleartext_ok(const struct rg_http *h, const char *url)
{
	const char *host;
	size_t n;

	if (strncmp(url, "https://", 8) == 0 || h->opts->plain_http)
		return 1;
	if (strncmp(url, "http://", 7) != 0)
		return 0;
	host = url + 7;
	n = strcspn(host, "/?#");
	return (n >= 9 && strncmp(host, "localhost", 9) == 0 &&
	    (n == 9 || host[9] == ':')) || strncmp(host, "127.", 4) == 0 ||
	    strncmp(host, "[::1]", 5) == 0;
}

#define CLEARTEXT	"a password is not sent over plain http to another " \
	"host: https, or --plain-http to say so"

/*
 * A token for the challenge's scope: cached, or asked of its realm.  NULL
 * when none can be had (why says so when it is a refusal of ours).
 */
static const char *
token(struct rg_http *h, const char *challenge, char *why, size_t whysize)
{
	char realm[1024], service[256], scope[512], url[2048];
	struct rg_http_resp r;
	struct rg_buf body = { 0 };
	struct token *t;
	json_t *j;
	const char *v;
	char *es, *esc;
	json_int_t exp;
	long code = 0;
	size_t i;
	int n;

	if (param(challenge, "realm", realm, sizeof(realm)) != 0)
		return NULL;
	if (strncmp(h->base, "https://", 8) == 0 &&
	    strncmp(realm, "https://", 8) != 0)
		return NULL;	/* credentials in the clear, to the registry's asking */
	if (param(challenge, "service", service, sizeof(service)) != 0)
		service[0] = '\0';
	if (param(challenge, "scope", scope, sizeof(scope)) != 0)
		scope[0] = '\0';
	scope_canonical(scope);
	for (i = 0; i < h->ntokens; i++)
		if (strcmp(h->tokens[i].scope, scope) == 0 &&
		    h->tokens[i].expires > time(NULL) + 5) {
			h->last = i + 1;
			return h->tokens[i].value;
		}
	es = curl_easy_escape(h->curl, service, 0);
	esc = curl_easy_escape(h->curl, scope, 0);
	n = rg_path(url, sizeof(url), "%s%sservice=%s%s%s", realm,
	    strchr(realm, '?') ? "&" : "?", es ? es : "", *scope ? "&scope=" : "",
	    *scope ? (esc ? esc : "") : "");
	curl_free(es);
	curl_free(esc);
	if (n != 0)
		return NULL;	/* no token: the request fails as unauthorized */
	curl_easy_reset(h->curl);
	set_common(h, h->curl, 0);
	memset(&r, 0, sizeof(r));
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &body);
	if (h->opts->user != NULL && !cleartext_ok(h, url)) {
		rg_msg(why, whysize, "the token realm %.200s: %s", realm, CLEARTEXT);
		return NULL;
	}
	if (h->opts->user != NULL) {
		curl_easy_setopt(h->curl, CURLOPT_USERNAME, h->opts->user);
		curl_easy_setopt(h->curl, CURLOPT_PASSWORD,
		    h->opts->password ? h->opts->password : "");
	}
	if (curl_easy_perform(h->curl) != CURLE_OK ||
	    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
	    code != 200 || (j = json_loadb(body.p, body.len, 0, NULL)) == NULL) {
		rg_buf_free(&body);
		return NULL;
	}
	rg_buf_free(&body);
	if ((v = rg_str(j, "token")) == NULL)
		v = rg_str(j, "access_token");
	if (v == NULL || (t = realloc(h->tokens, (h->ntokens + 1) *
	    sizeof(*t))) == NULL) {
		json_decref(j);
		return NULL;
	}
	h->tokens = t;
	t = &t[h->ntokens];
	t->scope = strdup(scope);
	t->value = strdup(v);
	exp = json_integer_value(json_object_get(j, "expires_in"));
	t->expires = time(NULL) + (exp > 0 && exp < 86400 * 365 ? (time_t)exp : 60);
	json_decref(j);
	if (t->scope == NULL || t->value == NULL)
		return NULL;
	h->last = ++h->ntokens;
	return t->value;
}

/*
 * AWS SigV4, by libcurl: the keys as user and password, and the payload's
 * hash sent as x-amz-content-sha256, which curl then signs (REGISTRY.md
 * 6: without it, S3 answers SignatureDoesNotMatch).
 */
static int
sign(struct rg_http *h, struct curl_slist **headers, const void *data,
    size_t len)
{
	char hdr[2048], hex[RG_HEX_LEN + 1];
	struct rg_digest d;
	struct curl_slist *n;

	curl_easy_setopt(h->curl, CURLOPT_AWS_SIGV4, h->opts->sigv4);
	curl_easy_setopt(h->curl, CURLOPT_USERNAME, h->opts->user);
	curl_easy_setopt(h->curl, CURLOPT_PASSWORD, h->opts->password);
	curl_easy_setopt(h->curl, CURLOPT_FILETIME, 1L);
	if (data != NULL) {
		rg_digest_of(data, len, &d);
		rg_digest_hex(&d, hex);
	}
	if (rg_path(hdr, sizeof(hdr), "x-amz-content-sha256: %s",
	    data != NULL ? hex : "UNSIGNED-PAYLOAD") != 0 ||
	    (n = curl_slist_append(*headers, hdr)) == NULL)
		return -1;
	*headers = n;
	if (h->opts->session_token != NULL) {
		if (rg_path(hdr, sizeof(hdr), "x-amz-security-token: %s",
		    h->opts->session_token) != 0 ||
		    (n = curl_slist_append(*headers, hdr)) == NULL)
			return -1;
		*headers = n;
	}
	return 0;
}

/* what the answer says of the object: its time and length */
static void
times(struct rg_http *h, struct rg_http_resp *r)
{
	curl_off_t t = -1, n = -1;

	r->filetime = r->length = -1;
	if (h->opts->sigv4 == NULL)
		return;
	if (curl_easy_getinfo(h->curl, CURLINFO_FILETIME_T, &t) == CURLE_OK)
		r->filetime = (long long)t;
	if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
	    &n) == CURLE_OK)
		r->length = (long long)n;
}

/* h->extra, a header a line, appended to *headers: 0, or -1 */
static int
extra_headers(const char *extra, struct curl_slist **headers)
{
	struct curl_slist *n;
	char *line;
	size_t len;

	for (; *extra != '\0'; extra += len + (extra[len] == '\n')) {
		if ((len = strcspn(extra, "\n")) == 0)
			continue;
		if ((line = strndup(extra, len)) == NULL)
			return -1;
		n = curl_slist_append(*headers, line);	/* (it copies) */
		free(line);
		if (n == NULL)
			return -1;
		*headers = n;
	}
	return 0;
}

/* seconds to wait before try n (from 1), or what Retry-After asks */
static unsigned
backoff(int n, const char *retry_after)
{
	long s = *retry_after ? strtol(retry_after, NULL, 10) : 0;

	if (s > 0 && s <= 300)
		return (unsigned)s;
	return n >= 5 ? 8 : 1u << (n - 1) > 8 ? 8 : 1u << (n - 1);
}

/*
 * A request to base + path (or to a URL under base: an upload's
 * Location): method GET, HEAD, PUT, POST or DELETE, with an Accept
 * header (or none) and, for PUT and POST, data of content_type.  The
 * answer's body in *body (emptied first), its headers of note in *r.
 * Returns the HTTP status, or -1 with r->error saying why no answer came.
 */
long
rg_http_req(struct rg_http *h, const char *method, const char *path,
    const char *accept, const char *content_type, const void *data, size_t len,
    struct rg_buf *body, struct rg_http_resp *r)
{
	char url[4096], hdr[1200], why[300], *bearer;
	const char *tok = NULL;
	struct curl_slist *headers;
	CURLcode cc;
	long code = -1;
	int try, auth = 0;

	if (!(path[0] == '/' && path[1] != '/') && !(strncmp(path, h->base,
	    strlen(h->base)) == 0 && path[strlen(h->base)] == '/')) {
		/* an absolute path, or a URL of the same scheme, host and port:
		 * never credentials to another host (as "@evil/" or
		 * ".attacker.com/" glued to the base would make) */
		memset(r, 0, sizeof(*r));
		rg_msg(r->error, sizeof(r->error), "the registry sent us to "
		    "another server: %.160s", path);
		return -1;
	}
	if (rg_path(url, sizeof(url), "%s%s", path[0] == '/' ? h->base : "",
	    path) != 0) {
		memset(r, 0, sizeof(*r));
		rg_msg(r->error, sizeof(r->error), "the URL is too long: %.160s...",
		    path);
		return -1;
	}
	/* the token of the last request, at once: the next is most often for the same scope */
	if (h->last > 0 && h->tokens[h->last - 1].expires > time(NULL) + 5)
		tok = h->tokens[h->last - 1].value;
	for (try = 1; try <= TRIES; try++) {
		body->len = 0;
		memset(r, 0, sizeof(*r));
		curl_easy_reset(h->curl);
		set_common(h, h->curl, 1);
		headers = NULL;
		if (accept != NULL && rg_path(hdr, sizeof(hdr), "Accept: %s",
		    accept) == 0)	/* (ours: they fit) */
			headers = curl_slist_append(headers, hdr);
		if (h->extra != NULL && extra_headers(h->extra, &headers) != 0) {
			curl_slist_free_all(headers);
			rg_msg(r->error, sizeof(r->error), "out of memory");
			return -1;
		}
		if (tok != NULL) {	/* a JWT can be long: x5c holds a certificate */
			if ((bearer = malloc(strlen(tok) + 32)) == NULL) {
				curl_slist_free_all(headers);
				rg_msg(r->error, sizeof(r->error), "out of memory");
				return -1;
			}
			sprintf(bearer, "Authorization: Bearer %s", tok);
			headers = curl_slist_append(headers, bearer);
			free(bearer);
		} else if ((auth || h->basic) && h->opts->user != NULL &&
		    cleartext_ok(h, url)) {
			curl_easy_setopt(h->curl, CURLOPT_USERNAME, h->opts->user);
			curl_easy_setopt(h->curl, CURLOPT_PASSWORD,
			    h->opts->password ? h->opts->password : "");
		}
		if (h->opts->sigv4 != NULL && !h->own_sig && sign(h, &headers, data,
		    len) == -1) {
			curl_slist_free_all(headers);
			rg_msg(r->error, sizeof(r->error), "out of memory");
			return -1;
		}
		if (strcmp(method, "HEAD") == 0)
			curl_easy_setopt(h->curl, CURLOPT_NOBODY, 1L);
		else if (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0) {
			if (rg_path(hdr, sizeof(hdr), "Content-Type: %s", content_type ?
			    content_type : "application/octet-stream") == 0)
				headers = curl_slist_append(headers, hdr);
			curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, data ? data : "");
			curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)len);
			curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
		} else if (strcmp(method, "GET") != 0)
			curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(h->curl, CURLOPT_URL, url);
		curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, body);
		curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, r);
		cc = curl_easy_perform(h->curl);
		curl_slist_free_all(headers);
		if (cc != CURLE_OK) {
			rg_msg(r->error, sizeof(r->error), "%s", curl_easy_strerror(cc));
			code = -1;
			if (cc == CURLE_PEER_FAILED_VERIFICATION ||
			    cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CERTPROBLEM ||
			    cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT ||
			    cc == CURLE_WRITE_ERROR || cc == CURLE_OPERATION_TIMEDOUT)
				return -1;	/* trying again will not help (a
						 * server that took a minute to
						 * say nothing would take five) */
		} else {
			curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
			times(h, r);
			/* (a request signed with SigV4 answers to no
			 * challenge: its keys go nowhere but in its signature) */
			if (code == 401 && !auth && h->opts->sigv4 == NULL &&
			    strncasecmp(r->challenge, "Bearer ", 7) == 0) {
				/* a token for another scope, or none yet */
				auth = 1;
				why[0] = '\0';
				if ((tok = token(h, r->challenge, why,
				    sizeof(why))) == NULL) {
					rg_msg(r->error, sizeof(r->error), "%s", *why ?
					    why : "no token from the registry's auth "
					    "server");
					return 401;
				}
				try--;
				continue;
			}
			if (code == 401 && !auth && !h->basic && h->opts->user != NULL &&
			    h->opts->sigv4 == NULL && !cleartext_ok(h, url)) {
				rg_msg(r->error, sizeof(r->error), "%s", CLEARTEXT);
				return 401;
			}
			if (code == 401 && !auth && !h->basic && h->opts->user != NULL &&
			    h->opts->sigv4 == NULL) {
				auth = h->basic = 1;	/* and from now on, at once */
				try--;
				continue;
			}
			if (code != 429 && code < 500)
				return code;
			rg_msg(r->error, sizeof(r->error), "HTTP %ld", code);
		}
		if (try < TRIES)
			sleep(backoff(try, r->retry_after));
	}
	return code;
}

long
rg_http_get(struct rg_http *h, const char *path, const char *accept,
    struct rg_buf *body, struct rg_http_resp *r)
{
	return rg_http_req(h, "GET", path, accept, NULL, NULL, 0, body, r);
}

/* The registry's error code in an answer's body ("UNSUPPORTED", ...), or "". */
const char *
rg_http_error_code(const struct rg_buf *body, char *out, size_t size)
{
	json_t *j = body->len > 0 ? json_loadb(body->p, body->len, 0, NULL) : NULL;
	const char *c = rg_str(json_array_get(json_object_get(j, "errors"), 0), "code");

	if (rg_path(out, size, "%s", c != NULL ? c : "") != 0)
		*out = '\0';	/* longer than any code: not one of those known */
	json_decref(j);
	return out;
}

/*
 * The target of a Link: <...>; rel="next" header, or NULL: a path, or a
 * URL that rg_http_req takes only when it is the registry's own.
 */
const char *
rg_http_next(char *link)
{
	char *a = strchr(link, '<'), *b;

	if (a == NULL || (b = strchr(a, '>')) == NULL || strstr(b, "next") == NULL)
		return NULL;
	*b = '\0';
	return a + 1;
}

/*
 * Does url carry a user name or password ("http://alice:s3cret@host")?
 * Such a URL is refused before it is used or printed anywhere: the scan
 * record, messages and the audit log would show the password.
 */
int
rg_url_userinfo(const char *url)
{
	const char *a = strstr(url, "://");

	a = a != NULL ? a + 3 : url;
	return memchr(a, '@', strcspn(a, "/?#")) != NULL;
}

/*
 * May a listing go on from the page at path to next, after pages pages
 * and n entries?  0, or -1 with r->error saying why not: a registry that
 * names the same page again, or never stops, would be followed for ever.
 */
int
rg_http_next_ok(const char *path, const char *next, size_t pages, size_t n,
    struct rg_http_resp *r)
{
	r->error[0] = '\0';
	if (strcmp(path, next) == 0)
		rg_msg(r->error, sizeof(r->error), "the next page is the same "
		    "page: %.160s", next);
	else if (pages >= RG_HTTP_PAGES_MAX || n >= RG_HTTP_ENTRIES_MAX)
		rg_msg(r->error, sizeof(r->error), "more than %d pages or %d "
		    "entries: the registry does not stop", RG_HTTP_PAGES_MAX,
		    RG_HTTP_ENTRIES_MAX);
	return r->error[0] != '\0' ? -1 : 0;
}

/*
 * The tags of repo, every page (n = page), into *tags (*ntags of them,
 * each malloc'd); names that are not valid tags are left out and counted
 * in *bad.  Returns 200, or the failing request's status (-1: no answer,
 * r->error says why) with its path in failed.  *pages: requests made.
 */
long
rg_api_tags(struct rg_http *h, const char *repo, int page, char ***tags,
    size_t *ntags, size_t *bad, size_t *pages, struct rg_buf *body,
    struct rg_http_resp *r, char *failed, size_t size)
{
	char path[RG_REPO_MAX + 1200];
	const char *next, *t;
	json_t *j, *v;
	size_t i;
	long code;

	*pages = 0;
	if (rg_path(path, sizeof(path), "/v2/%s/tags/list?n=%d", repo, page) != 0) {
		rg_msg(r->error, sizeof(r->error), "the request's path is too long");
		rg_msg(failed, size, "/v2/%s/tags/list", repo);
		return -1;
	}
	for (;;) {
		++*pages;
		if ((code = rg_http_get(h, path, "application/json", body, r)) != 200 ||
		    (j = json_loadb(body->p, body->len, 0, NULL)) == NULL) {
			rg_msg(failed, size, "%s", path);
			return code == 200 ? 502 : code;	/* 200, not JSON */
		}
		json_array_foreach(json_object_get(j, "tags"), i, v) {
			if ((t = json_string_value(v)) == NULL || !rg_tag_valid(t)) {
				++*bad;
				continue;
			}
			if ((*tags = realloc(*tags, (*ntags + 1) * sizeof(**tags))) == NULL ||
			    ((*tags)[(*ntags)++] = strdup(t)) == NULL)
				rg_nomem();
		}
		json_decref(j);
		if ((next = rg_http_next(r->link)) == NULL)
			break;
		if (rg_http_next_ok(path, next, *pages, *ntags, r) != 0 ||
		    rg_path(path, sizeof(path), "%s", next) != 0) {
			if (r->error[0] == '\0')
				rg_msg(r->error, sizeof(r->error), "the next page's "
				    "path is too long");
			rg_msg(failed, size, "%s", path);
			return -1;
		}
	}
	rg_msg(failed, size, "%s", path);
	return 200;
}

static int global_init_result;

static void	global_init(void);

/*
 * libcurl, loaded and started once per process (the first call does it,
 * any thread; the others wait for it): -1 (reported once) when it cannot
 * be had.
 */
int
rg_http_global_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, global_init);
	return global_init_result;
}

static int
global_init_once(void)
{
	static const char *names[] = { "curl_global_init", "curl_easy_init",
	    "curl_easy_cleanup", "curl_easy_reset", "curl_easy_setopt",
	    "curl_easy_perform", "curl_easy_getinfo", "curl_easy_strerror",
	    "curl_easy_escape", "curl_free", "curl_slist_append",
	    "curl_slist_free_all" };
	void **fn[] = { (void **)&cu.global_init, (void **)&cu.easy_init,
	    (void **)&cu.easy_cleanup, (void **)&cu.easy_reset,
	    (void **)&cu.easy_setopt, (void **)&cu.easy_perform,
	    (void **)&cu.easy_getinfo, (void **)&cu.easy_strerror,
	    (void **)&cu.easy_escape, (void **)&cu.free,
	    (void **)&cu.slist_append, (void **)&cu.slist_free_all };
	void *lib;
	size_t i;

	if ((lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL)) == NULL) {
		warnx("%s", dlerror());
		return -1;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((*fn[i] = dlsym(lib, names[i])) == NULL) {	/* POSIX's idiom */
			warnx("libcurl.so.4: %s: %s", names[i], dlerror());
			return -1;
		}
	if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		warnx("libcurl: cannot start");
		return -1;
	}
	return 0;
}

static void
global_init(void)
{
	global_init_result = global_init_once();
}
