/* storage.c: reading the distribution registry's filesystem layout. */
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

/*
 * Read the open link file fd (sha256:<hex>, 71 bytes, no newline); its
 * stat in st when asked: for a tag's current link, mtime is the push time.
 */
int
rg_link_fd(int fd, struct rg_digest *d, struct stat *st)
{
	char buf[RG_LINK_LEN + 2];
	ssize_t n;

	if (st != NULL && fstat(fd, st) == -1)
		return RG_LINK_IOERR;
	if ((n = read(fd, buf, sizeof(buf))) == -1)
		return RG_LINK_IOERR;
	if (rg_digest_parse(buf, (size_t)n, d) != 0)
		return RG_LINK_CORRUPT;
	return RG_LINK_OK;
}

/* O_NOATIME: a read of rg's is not the registry's (rg-rm(1)); the owner or
 * root may ask it, others read as usual */
int
rg_link_open(int dirfd, const char *path, int beneath)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC, fd;

	fd = beneath ? rg_beneath_open(dirfd, path, flags | O_NOATIME) :
	    openat(dirfd, path, flags | O_NOATIME);
	if (fd == -1 && errno == EPERM)
		fd = beneath ? rg_beneath_open(dirfd, path, flags) :
		    openat(dirfd, path, flags);
	return fd;
}

/* blobs/sha256/<xx>/<hex>/data, relative to the v2 directory. */
int
rg_blob_path(const struct rg_digest *d, char *buf, size_t size)
{
	char hex[RG_HEX_LEN + 1];
	int n;

	rg_digest_hex(d, hex);
	n = snprintf(buf, size, "blobs/sha256/%.2s/%s/data", hex, hex);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int
dir_is_empty(int fd)
{
	struct dirent *de;
	DIR *d;
	int dup_fd, empty = 1;

	if ((dup_fd = dup(fd)) == -1 || (d = fdopendir(dup_fd)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

/*
 * Open the storage given as the registry's rootdirectory or as its
 * docker/registry/v2 directory.  An empty directory is empty storage (a
 * registry that never saw a push).  Returns a directory fd for v2 and its
 * absolute path, or -1 (reported).
 */
int
rg_open_root(const char *root, char **v2path)
{
	char real[PATH_MAX];
	struct stat st;
	size_t n;
	int fd, v2;

	if (realpath(root, real) == NULL ||
	    (fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		warn("%s", root);
		return -1;
	}
	if ((v2 = openat(fd, RG_V2, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1 ||
	    dir_is_empty(fd)) {
		n = strcmp(real, "/") == 0 ? 0 : strlen(real);
		if (snprintf(real + n, sizeof(real) - n, "/%s", RG_V2) >=
		    (int)(sizeof(real) - n)) {
			warnx("%s: path too long", root);
			goto fail;
		}
		if (v2 != -1) {
			close(fd);
			fd = v2;
		}
	} else if (fstatat(fd, "repositories", &st, 0) == -1 &&
	    fstatat(fd, "blobs", &st, 0) == -1) {
		warnx("%s: not registry storage: no %s, repositories or blobs "
		    "directory", root, RG_V2);
		goto fail;
	}
	if ((*v2path = strdup(real)) == NULL) {
		warn(NULL);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

struct links_each {
	const char *where, *dir;
	rg_link_fn *fn;
	void *arg;
	int bad;
};

static void
link_each(void *arg, const char *e, int st, const struct rg_digest *d,
    const struct rg_stat *sst)
{
	struct links_each *l = arg;
	struct rg_digest named;

	if (rg_hex_parse(e, strlen(e), &named) != 0) {
		warnx("%s/%s/%s: not a sha256 digest, ignored", l->where, l->dir, e);
		l->bad++;
	} else if (st == RG_LINK_OK && memcmp(d, &named, sizeof(*d)) != 0) {
		warnx("%s/%s/%s/link: names another digest, ignored", l->where,
		    l->dir, e);
		l->bad++;
	} else if (st == RG_LINK_CORRUPT) {
		warnx("%s/%s/%s/link: corrupt link: not sha256:<64 hex>", l->where,
		    l->dir, e);
		l->bad++;
	} else if (st == RG_LINK_MISSING) {
		return;		/* what the registry's deletes leave: an empty <hex>/ */
	} else if (st != RG_LINK_OK) {
		warn("%s/%s/%s/link", l->where, l->dir, e);
		l->bad++;
	} else
		l->fn(l->arg, d, &sst->mtime);
}

/*
 * Call fn for each <hex>/link below the directory path/dir of the store:
 * revisions, layer links.  A bad entry is reported, naming where/dir/...,
 * and skipped; a <hex>/ without a link is what the registry's API deletes
 * leave, and is skipped silently.  Returns how many were bad; a dir that
 * does not exist has none.
 */
int
rg_store_links(struct rg_store *st, const char *path, const char *dir,
    const char *where, rg_link_fn *fn, void *arg)
{
	struct links_each l = { where, dir, fn, arg, 0 };
	char full[RG_STORE_PATH];

	if (rg_path(full, sizeof(full), "%s/%s", path, dir) != 0 ||
	    st->ops->links(st, full, link_each, &l) == -1) {
		if (errno == ENOENT)
			return 0;
		warn("%s/%s", where, dir);
		return 1;
	}
	return l.bad;
}

#define MANIFEST_MAX	(4 << 20)	/* the registry refuses larger manifests */
#define CONFIG_MAX	(64 << 20)

/* Read an image config through the cache; -1 (reported) when unreadable. */
static struct rg_config *
config_get(struct rg_store *st, const char *repo, const struct rg_digest *d,
    struct rg_configs *cache, int *bad)
{
	struct rg_config *c = &cache->v[rg_digest_hash(d) & (RG_CONFIG_CACHE - 1)];
	char path[RG_HEX_LEN * 2 + 32], ds[RG_DIGEST_STRLEN + 1];
	char *buf;
	size_t len;

	*bad = 0;
	if (c->used && memcmp(&c->digest, d, sizeof(*d)) == 0)
		return c;	/* a bad one was reported the first time */
	rg_config_clear(c);
	c->used = 1;
	c->digest = *d;
	rg_blob_path(d, path, sizeof(path));
	rg_digest_format(d, ds);
	if (st->ops->read(st, path, CONFIG_MAX, &buf, &len) == -1) {
		warn("%s: config %s: %s/%s", repo, ds, st->root, path);
		*bad = 1;
		return c;
	}
	if (rg_config_parse(buf, len, &c->created, &c->has_created,
	    &c->platform, &c->labels) != 0) {
		warnx("%s: config %s: %s/%s: not a JSON object", repo, ds, st->root,
		    path);
		*bad = 1;
	}
	free(buf);
	return c;
}

/*
 * Read and parse the manifest m->digest of repo, and for an image its
 * config's created and platform.  -1 (reported) when something is broken;
 * m->error then says what when the manifest itself could not be had.
 */
int
rg_image_read(struct rg_store *st, const char *repo, struct rg_image *m,
    struct rg_configs *cache)
{
	char path[RG_HEX_LEN * 2 + 32], ds[RG_DIGEST_STRLEN + 1], perr[128];
	struct rg_config *c;
	char *buf;
	size_t len;
	int bad;

	rg_blob_path(&m->digest, path, sizeof(path));
	rg_digest_format(&m->digest, ds);
	if (st->ops->read(st, path, MANIFEST_MAX, &buf, &len) == -1) {
		warn("%s@%s: %s/%s", repo, ds, st->root, path);
		m->error = strdup(errno == ENOENT ? "manifest blob missing" :
		    strerror(errno));
		return -1;
	}
	m->size = (int64_t)len;
	if (rg_manifest_parse(buf, len, &m->m, perr, sizeof(perr)) != 0) {
		warnx("%s@%s: %s/%s: manifest does not parse: %s", repo, ds,
		    st->root, path, perr);
		m->error = strdup(perr);
		free(buf);
		return -1;
	}
	free(buf);
	if (rg_image_parsed(m)) {
		c = config_get(st, repo, &m->m.config, cache, &bad);
		rg_image_config(m, c);
		return bad ? -1 : 0;
	}
	return 0;
}

/* An upload id, as the registry names _uploads entries (a UUID). */
int
rg_upload_valid(const char *s)
{
	return *s != '\0' && strspn(s, "0123456789abcdefABCDEF-") == strlen(s);
}

/* The upload record of repositories/<repo>/_uploads/<uuid>. */
json_t *
rg_upload_record(struct rg_store *st, const char *repo, const char *uuid)
{
	char path[RG_STORE_PATH], *buf;
	json_t *rec = rg_record_new(RG_T_UPLOAD, repo);
	struct rg_stat sst;
	time_t started;
	size_t len;

	if (rec == NULL)
		return NULL;
	json_object_set_new(rec, "uuid", json_string(uuid));
	if (rg_path(path, sizeof(path), "repositories/%s/_uploads/%s/startedat",
	    repo, uuid) == 0 && st->ops->read(st, path, RG_TIME_STRLEN * 4, &buf,
	    &len) == 0) {
		if (rg_time_parse(buf, &started) == 0)
			rg_set_time(rec, "started", started);
		free(buf);
	}
	if (rg_path(path, sizeof(path), "repositories/%s/_uploads/%s/data",
	    repo, uuid) == 0 && st->ops->stat(st, path, &sst) == 0) {
		json_object_set_new(rec, RG_F_SIZE, json_integer(sst.size));
		rg_set_time(rec, "modified", sst.mtime.tv_sec);
	}
	return rec;
}
