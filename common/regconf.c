/*
 * regconf.c: the few facts rg takes from a registry's config.yml.
 *
 * Read with libyaml's event parser (no document tree is built): the
 * storage driver and its root (filesystem, or s3 with what reaches the
 * bucket), storage.delete.enabled, the blob descriptor cache
 * (storage.cache.blobdescriptor, or its old name layerinfo) and the redis
 * section.  Keys are matched as the registry's configuration package
 * matches them; every other key is skipped.  Nesting is bounded (MAXDEPTH)
 * and so is the file (RG_REGCONF_MAX).  The registry also takes
 * REGISTRY_STORAGE_* environment variables over the file: those in rg's
 * own environment are taken the same way (run rg with the registry's
 * environment file to see what it sees).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "regconf.h"
#include "store.h"

#define MAXDEPTH	32
#define KEYMAX		64

struct frame {
	int map;		/* a mapping (else a sequence) */
	int want_key;		/* a mapping, waiting for its next key */
	char key[KEYMAX];	/* the key whose value is being read */
};

static char *
dupstr(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		rg_nomem();
	return d;
}

static int
yaml_bool(const char *s)
{
	return strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "on") == 0 || strcmp(s, "y") == 0 || strcmp(s, "Y") == 0;
}

/* storage.<key>: is key a driver, or one of the storage section's parameters? */
static int
storage_param(const char *k)
{
	static const char *params[] = { "cache", "delete", "maintenance",
	    "redirect", "tag" };
	size_t i;

	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		if (strcmp(k, params[i]) == 0)
			return 1;
	return 0;
}

/* storage.s3.<k>: the parameters rg needs to reach the bucket */
static void
s3_value(struct rg_regconf *c, const char *k, const char *v)
{
	char **to = strcmp(k, "bucket") == 0 ? &c->s3.bucket :
	    strcmp(k, "region") == 0 ? &c->s3.region :
	    strcmp(k, "regionendpoint") == 0 ? &c->s3.regionendpoint :
	    strcmp(k, "accesskey") == 0 ? &c->s3.accesskey :
	    strcmp(k, "secretkey") == 0 ? &c->s3.secretkey :
	    strcmp(k, "keyid") == 0 ? &c->s3.keyid :
	    strcmp(k, "objectacl") == 0 ? &c->s3.objectacl :
	    strcmp(k, "storageclass") == 0 ? &c->s3.storageclass : NULL;

	if (to != NULL) {
		free(*to);
		*to = dupstr(v);
	} else if (strcmp(k, "secure") == 0)
		c->s3.secure = yaml_bool(v);
	else if (strcmp(k, "encrypt") == 0)
		c->s3.encrypt = yaml_bool(v);
}

/* Is a Go duration ("60s", "1m30s") more than zero?  (0, "0s", "" are not) */
static int
go_duration_set(const char *v)
{
	for (; *v != '\0'; v++)
		if (*v >= '1' && *v <= '9')
			return 1;
	return 0;
}

/*
 * The registry's environment overrides (REGISTRY_STORAGE_S3_BUCKET, ...),
 * where rg runs with them: the driver named by REGISTRY_STORAGE, then
 * its parameters.
 */
static void
overrides(struct rg_regconf *c)
{
	static const char *s3keys[] = { "bucket", "region", "regionendpoint",
	    "accesskey", "secretkey", "secure", "rootdirectory", "encrypt",
	    "keyid", "objectacl", "storageclass" };
	char name[96], up[32];
	const char *v;
	size_t i, k;

	if ((v = getenv("REGISTRY_HTTP_DRAINTIMEOUT")) != NULL)
		c->drains = go_duration_set(v);
	if ((v = getenv("REGISTRY_STORAGE")) != NULL && *v != '\0' &&
	    strcmp(v, c->driver ? c->driver : "") != 0) {
		free(c->driver);
		c->driver = dupstr(v);
		free(c->rootdirectory);
		c->rootdirectory = NULL;
	}
	if (c->driver == NULL)
		return;
	if (strcmp(c->driver, "filesystem") == 0 &&
	    (v = getenv("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY")) != NULL) {
		free(c->rootdirectory);
		c->rootdirectory = dupstr(v);
	}
	if (strcmp(c->driver, "s3") != 0)
		return;
	for (i = 0; i < sizeof(s3keys) / sizeof(s3keys[0]); i++) {
		for (k = 0; s3keys[i][k] != '\0' && k < sizeof(up) - 1; k++)
			up[k] = (char)(s3keys[i][k] - 'a' + 'A');
		up[k] = '\0';
		if (rg_path(name, sizeof(name), "REGISTRY_STORAGE_S3_%s", up) != 0 ||
		    (v = getenv(name)) == NULL)
			continue;
		if (strcmp(s3keys[i], "rootdirectory") == 0) {
			free(c->rootdirectory);
			c->rootdirectory = dupstr(v);
		} else
			s3_value(c, s3keys[i], v);
	}
}

/* a value (scalar, or NULL for a mapping or sequence) at the path st[0..depth) */
static void
value(struct rg_regconf *c, const struct frame *st, int depth, const char *v,
    char **blobdescriptor, char **layerinfo)
{
	const char *k0 = depth > 0 && st[0].map ? st[0].key : "";
	const char *k1 = depth > 1 && st[1].map ? st[1].key : "";
	const char *k2 = depth > 2 && st[2].map ? st[2].key : "";

	if (depth == 2 && strcmp(k0, "storage") == 0 && !storage_param(k1) &&
	    c->driver == NULL)
		c->driver = dupstr(k1);
	if (v == NULL || depth != 3) {
		if (v != NULL && depth == 2 && strcmp(k0, "http") == 0 &&
		    strcmp(k1, "draintimeout") == 0)
			c->drains = go_duration_set(v);
		if (v != NULL && depth == 2 && strcmp(k0, "redis") == 0) {
			if (strcmp(k1, "addr") == 0)
				free(c->redis_addr), c->redis_addr = dupstr(v);
			else if (strcmp(k1, "password") == 0)
				free(c->redis_password), c->redis_password = dupstr(v);
			else if (strcmp(k1, "db") == 0)
				c->redis_db = atoi(v);
		}
		return;
	}
	if (strcmp(k0, "storage") != 0)
		return;
	if ((strcmp(k1, "filesystem") == 0 || strcmp(k1, "s3") == 0) &&
	    strcmp(k2, "rootdirectory") == 0 && strcmp(k1, c->driver ? c->driver :
	    "") == 0)
		free(c->rootdirectory), c->rootdirectory = dupstr(v);
	else if (strcmp(k1, "s3") == 0)
		s3_value(c, k2, v);
	else if (strcmp(k1, "delete") == 0 && strcmp(k2, "enabled") == 0)
		c->delete_enabled = yaml_bool(v);
	else if (strcmp(k1, "cache") == 0 && strcmp(k2, "blobdescriptor") == 0)
		free(*blobdescriptor), *blobdescriptor = dupstr(v);
	else if (strcmp(k1, "cache") == 0 && strcmp(k2, "layerinfo") == 0)
		free(*layerinfo), *layerinfo = dupstr(v);
}

static int
parse(yaml_parser_t *p, struct rg_regconf *c, char *err, size_t errsize)
{
	struct frame st[MAXDEPTH];
	char *bd = NULL, *li = NULL;
	yaml_event_t ev;
	int depth = 0, done = 0, r = 0;
	const char *s;

	while (!done) {
		if (!yaml_parser_parse(p, &ev)) {
			rg_msg(err, errsize, "line %lu: %s", (unsigned long)
			    p->problem_mark.line + 1, p->problem ? p->problem :
			    "not YAML");
			r = -1;
			break;
		}
		switch (ev.type) {
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
			s = ev.type == YAML_SCALAR_EVENT ?
			    (const char *)ev.data.scalar.value : NULL;
			if (depth > 0 && st[depth - 1].map && st[depth - 1].want_key) {
				/* a key too long is "": it matches none */
				rg_path(st[depth - 1].key, KEYMAX, "%s", s ? s : "");
				st[depth - 1].want_key = 0;
				break;
			}
			if (s != NULL)
				value(c, st, depth, s, &bd, &li);
			if (depth > 0 && st[depth - 1].map)
				st[depth - 1].want_key = 1;
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == MAXDEPTH) {
				rg_msg(err, errsize, "line %lu: nested deeper than "
				    "%d levels", (unsigned long)ev.start_mark.line + 1,
				    MAXDEPTH);
				r = -1;
				done = 1;
				break;
			}
			value(c, st, depth, NULL, &bd, &li);
			st[depth].map = ev.type == YAML_MAPPING_START_EVENT;
			st[depth].want_key = 1;
			st[depth].key[0] = '\0';
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (depth > 0)
				depth--;
			if (depth > 0 && st[depth - 1].map)
				st[depth - 1].want_key = 1;
			break;
		case YAML_DOCUMENT_END_EVENT:	/* the first document only */
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	s = bd != NULL ? bd : li;
	if (r == 0 && s != NULL && *s != '\0') {
		c->cache_name = dupstr(s);
		/* what the registry does with any other value: no cache */
		c->cache = strcmp(s, "inmemory") == 0 ? RG_CACHE_INMEMORY :
		    strcmp(s, "redis") == 0 ? RG_CACHE_REDIS : RG_CACHE_NONE;
	}
	free(bd);
	free(li);
	return r;
}

int
rg_regconf_load(const char *path, struct rg_regconf *c, char *err, size_t errsize)
{
	yaml_parser_t p;
	char *buf;
	size_t len;
	int r;

	memset(c, 0, sizeof(*c));
	c->s3.secure = 1;
	c->path = dupstr(path);
	if (rg_read_file(AT_FDCWD, path, RG_REGCONF_MAX, &buf, &len) == -1) {
		if (errno == EFBIG)
			rg_msg(err, errsize, "larger than %d bytes: not a "
			    "registry configuration", RG_REGCONF_MAX);
		else
			rg_msg(err, errsize, "%s", strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&p))
		rg_nomem();
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	r = parse(&p, c, err, errsize);
	yaml_parser_delete(&p);
	free(buf);
	if (r == 0)
		overrides(c);
	if (r == 0 && c->cache == RG_CACHE_REDIS && c->redis_addr == NULL) {
		rg_msg(err, errsize, "storage.cache.blobdescriptor is redis, "
		    "but there is no redis.addr");
		r = -1;
	}
	return r;
}

/*
 * The configuration of the registry whose storage is st: the file given, or Debian's when it names that
 * storage.  0 found; 1 none applies (Debian's absent or of another
 * storage); 2 Debian's could not be read (err says why, to be warned of);
 * -1 the file given is unreadable or of another storage (err says why).
 */
int
rg_regconf_of(const char *given, struct rg_store *st, struct rg_regconf *c,
    char *err, size_t errsize)
{
	const char *path = given ? given : RG_REGCONF_DEFAULT;
	char e[512], v2[4096];
	struct rg_remote r = { 0 };
	const char *url;

	memset(c, 0, sizeof(*c));
	if (given == NULL && access(path, F_OK) != 0)
		return 1;
	if (rg_regconf_load(path, c, e, sizeof(e)) != 0) {
		rg_msg(err, errsize, given ? "%s: %s" : "%s: %s: not read", path, e);
		rg_regconf_free(c);
		return given ? -1 : 2;
	}
	if (c->driver != NULL && strcmp(c->driver, "filesystem") == 0 &&
	    c->rootdirectory != NULL && rg_path(v2, sizeof(v2), "%s/%s",
	    c->rootdirectory, RG_V2) == 0 && st->ops->same(st, v2))
		return 0;
	if (c->driver != NULL && strcmp(c->driver, "s3") == 0 &&
	    (url = rg_regconf_s3(c, &r, e, sizeof(e))) != NULL &&
	    strcmp(url, st->root) == 0)
		return 0;
	if (given != NULL)
		rg_msg(err, errsize, "--config %s: the registry's storage is "
		    "%s%s%s, not the one the stream was scanned from (%s)", path,
		    c->driver ? c->driver : "not named", c->rootdirectory ? " " : "",
		    c->rootdirectory ? c->rootdirectory : "", st->root);
	rg_regconf_free(c);
	return given ? -1 : 1;
}

/*
 * The headers the registry's s3 driver sends with each write (ACL,
 * StorageClass unless NONE, ServerSideEncryption and SSEKMSKeyId), into
 * c->s3.writes: an object rg writes or puts back is stored as the
 * registry would store it.  -1 (err) when they do not fit or hold a line
 * break.
 */
static int
write_headers(struct rg_regconf *c, char *err, size_t errsize)
{
	const char *acl = c->s3.objectacl ? c->s3.objectacl : "private";
	const char *class = c->s3.storageclass ? c->s3.storageclass : "STANDARD";
	const char *key = c->s3.keyid;
	char *w = c->s3.writes;
	size_t size = sizeof(c->s3.writes);
	int bad = 0;

	bad |= strpbrk(acl, "\r\n") != NULL || strpbrk(class, "\r\n") != NULL ||
	    (key != NULL && strpbrk(key, "\r\n") != NULL);
	bad |= rg_path(w, size, "x-amz-acl: %s", acl);
	if (strcasecmp(class, "NONE") != 0)
		bad |= rg_path(w + strlen(w), size - strlen(w),
		    "\nx-amz-storage-class: %s", class);
	if (c->s3.encrypt && key != NULL)
		bad |= rg_path(w + strlen(w), size - strlen(w),
		    "\nx-amz-server-side-encryption: aws:kms"
		    "\nx-amz-server-side-encryption-aws-kms-key-id: %s", key);
	else if (c->s3.encrypt)
		bad |= rg_path(w + strlen(w), size - strlen(w),
		    "\nx-amz-server-side-encryption: AES256");
	if (bad) {
		rg_msg(err, errsize, "storage.s3: objectacl, storageclass or keyid "
		    "too long, or on several lines");
		return -1;
	}
	return 0;
}

/*
 * The bucket of an s3 configuration as s3://bucket[/rootdir] and how to
 * reach it, into r: its regionendpoint (a scheme from secure when it has
 * none) unless r has one, region and keys.  NULL with err set when it
 * names none.  (Both live as long as c.)
 */
const char *
rg_regconf_s3(struct rg_regconf *c, struct rg_remote *r, char *err,
    size_t errsize)
{
	char *url = c->s3.url, *endpoint = c->s3.endpoint;
	size_t urlsize = sizeof(c->s3.url), epsize = sizeof(c->s3.endpoint);
	const char *root = c->rootdirectory ? c->rootdirectory : "", *ep;

	while (*root == '/')
		root++;
	if (c->s3.bucket == NULL) {
		rg_msg(err, errsize, "no storage.s3.bucket");
		return NULL;
	}
	if (rg_path(url, urlsize, "s3://%s%s%s", c->s3.bucket, *root ? "/" : "",
	    root) != 0) {
		rg_msg(err, errsize, "storage.s3: bucket and rootdirectory too long");
		return NULL;
	}
	if ((ep = c->s3.regionendpoint) != NULL && *ep != '\0') {
		if (rg_path(endpoint, epsize, "%s%s", strstr(ep, "://") ? "" :
		    c->s3.secure ? "https://" : "http://", ep) != 0) {
			rg_msg(err, errsize, "storage.s3.regionendpoint too long");
			return NULL;
		}
		if (r->endpoint == NULL)
			r->endpoint = endpoint;
	}
	r->region = c->s3.region;
	r->access_key = c->s3.accesskey;
	r->secret_key = c->s3.secretkey;
	if (write_headers(c, err, errsize) != 0)
		return NULL;
	r->writes = c->s3.writes;
	err[0] = '\0';
	return url;
}

/*
 * The store at root (rg-rm's: the stream's); a bucket (s3://) reached as
 * the configuration file given says, over r's endpoint only where r has
 * none.  NULL: err says why, or (err empty) the store reported it.
 */
struct rg_store *
rg_regconf_store(const char *config, const char *root, struct rg_remote *r,
    char *err, size_t errsize)
{
	struct rg_regconf c = { 0 };
	struct rg_store *st;
	char e[512];

	err[0] = '\0';
	if (strncmp(root, "s3://", 5) == 0 && config != NULL &&
	    (rg_regconf_load(config, &c, e, sizeof(e)) != 0 ||
	    rg_regconf_s3(&c, r, e, sizeof(e)) == NULL)) {
		rg_msg(err, errsize, "%s: %s", config, e);
		rg_regconf_free(&c);
		return NULL;
	}
	st = rg_store_open(root, r);	/* (it keeps copies of what it uses) */
	rg_regconf_free(&c);
	r->region = r->access_key = r->secret_key = r->writes = NULL;
	return st;
}

void
rg_regconf_free(struct rg_regconf *c)
{
	free(c->path);
	free(c->driver);
	free(c->rootdirectory);
	free(c->cache_name);
	free(c->redis_addr);
	free(c->redis_password);
	free(c->s3.bucket);
	free(c->s3.region);
	free(c->s3.regionendpoint);
	free(c->s3.accesskey);
	free(c->s3.secretkey);
	free(c->s3.keyid);
	free(c->s3.objectacl);
	free(c->s3.storageclass);
	memset(c, 0, sizeof(*c));
}

const char *
rg_cache_name(enum rg_cache c)
{
	return c == RG_CACHE_INMEMORY ? "inmemory" : c == RG_CACHE_REDIS ?
	    "redis" : "none";
}
