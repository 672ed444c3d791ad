/*
 * gen-tree: write a synthetic registry storage tree for make bench, laid out
 * exactly as the distribution registry's filesystem driver lays it out
 * (REGISTRY.md section 1): content-addressed blobs whose names are the
 * sha256 of their bytes, _layers links, revision links, tag current and index
 * links.  Manifests are real Docker schema 2, OCI, Docker manifest list and
 * OCI index documents, so the registry's own garbage collector can run on
 * the tree.  Output is deterministic for given options.
 *
 * usage: gen-tree [-r repos] [-t tags] [-p pool] dir
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "records.h"

#define PATH_BUF	4096
#define DOC_BUF		8192
#define LAYER_BYTES	512

static char root[PATH_BUF / 2];
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static unsigned long nblobs, nfiles;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
mkdir_p(char *path)
{
	char *slash;

	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return;
	if (errno != ENOENT || (slash = strrchr(path, '/')) == NULL ||
	    slash == path)
		err(1, "%s", path);
	*slash = '\0';
	mkdir_p(path);
	*slash = '/';
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		err(1, "%s", path);
}

static void
fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	int r;

	va_start(ap, f);
	r = rg_vpath(buf, size, f, ap);
	va_end(ap);
	if (r != 0)
		errx(1, "path too long");
}

static void
write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd == -1 || write(fd, buf, len) != (ssize_t)len || close(fd) == -1)
		err(1, "%s", path);
	nfiles++;
}

static void
put_blob(const void *buf, size_t len, struct rg_digest *d)
{
	char path[PATH_BUF], hex[RG_HEX_LEN + 1];
	struct stat st;

	rg_digest_of(buf, len, d);
	rg_digest_hex(d, hex);
	fmt(path, sizeof(path), "%s/blobs/sha256/%.2s/%s", root, hex, hex);
	mkdir_p(path);
	strcat(path, "/data");
	if (stat(path, &st) == 0)
		return;
	write_file(path, buf, len);
	nblobs++;
}

/* DIR/<hex>/link, where DIR is below the repository */
static void
put_link(const char *repo, const char *dir, const struct rg_digest *d,
    int hexdir)
{
	char path[PATH_BUF], link[RG_DIGEST_STRLEN + 1], hex[RG_HEX_LEN + 1];

	rg_digest_hex(d, hex);
	rg_digest_format(d, link);
	fmt(path, sizeof(path), "%s/repositories/%s/%s%s%s", root, repo,
	    dir, hexdir ? "/" : "", hexdir ? hex : "");
	mkdir_p(path);
	strcat(path, "/link");
	write_file(path, link, RG_DIGEST_STRLEN);
}

struct desc {
	struct rg_digest d;
	size_t size;
};

static void
layer(const char *repo, uint64_t seed, struct desc *out)
{
	char buf[LAYER_BYTES];
	uint64_t s = seed;
	size_t i;

	for (i = 0; i < sizeof(buf); i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (char)(s >> 56);
	}
	put_blob(buf, sizeof(buf), &out->d);
	out->size = sizeof(buf);
	put_link(repo, "_layers/sha256", &out->d, 1);
}

static size_t
descriptor(char *p, size_t n, const char *type, const struct desc *d)
{
	char ds[RG_DIGEST_STRLEN + 1];

	rg_digest_format(&d->d, ds);
	return (size_t)snprintf(p, n,
	    "{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\"}", type, d->size, ds);
}

/* An image: config, a shared base layer, one or two of its own. */
static void
image(const char *repo, uint64_t id, uint64_t base, const char *arch,
    long created, int docker, struct desc *out)
{
	char doc[DOC_BUF], when[RG_TIME_STRLEN + 1];
	struct desc cfg, layers[3];
	size_t n = 0, len, i, nl = 2 + (id % 2);

	layer(repo, base, &layers[0]);
	for (i = 1; i < nl; i++)
		layer(repo, id * 4 + i, &layers[i]);
	rg_time_format(created, when);
	len = (size_t)snprintf(doc, sizeof(doc), "{\"architecture\":\"%s\","
	    "\"os\":\"linux\",\"created\":\"%s\",\"config\":{\"Env\":"
	    "[\"IMAGE=%llu\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
	    arch, when, (unsigned long long)id);
	put_blob(doc, len, &cfg.d);
	cfg.size = len;
	put_link(repo, "_layers/sha256", &cfg.d, 1);

	n += (size_t)snprintf(doc + n, sizeof(doc) - n,
	    "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":",
	    docker ? RG_MT_DOCKER : RG_MT_OCI);
	n += descriptor(doc + n, sizeof(doc) - n, docker ? RG_MT_DOCKER_CONFIG :
	    RG_MT_OCI_CONFIG, &cfg);
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, ",\"layers\":[");
	for (i = 0; i < nl; i++) {
		if (i > 0)
			doc[n++] = ',';
		n += descriptor(doc + n, sizeof(doc) - n, docker ?
		    "application/vnd.docker.image.rootfs.diff.tar.gzip" :
		    "application/vnd.oci.image.layer.v1.tar+gzip", &layers[i]);
	}
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, "]}");
	put_blob(doc, n, &out->d);
	out->size = n;
	put_link(repo, "_manifests/revisions/sha256", &out->d, 1);
}

static void
multiarch(const char *repo, uint64_t id, uint64_t base, long created,
    int docker, struct desc *out)
{
	static const char *arch[] = { "amd64", "arm64" };
	char doc[DOC_BUF];
	struct desc kids[2];
	size_t n = 0, i;

	for (i = 0; i < 2; i++)
		image(repo, id * 2 + i, base, arch[i], created, docker, &kids[i]);
	n += (size_t)snprintf(doc + n, sizeof(doc) - n,
	    "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[",
	    docker ? RG_MT_DOCKER_LIST : RG_MT_OCI_INDEX);
	for (i = 0; i < 2; i++) {
		char ds[RG_DIGEST_STRLEN + 1];

		rg_digest_format(&kids[i].d, ds);
		n += (size_t)snprintf(doc + n, sizeof(doc) - n,
		    "%s{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\","
		    "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}}",
		    i ? "," : "", docker ? RG_MT_DOCKER : RG_MT_OCI, kids[i].size,
		    ds, arch[i]);
	}
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, "]}");
	put_blob(doc, n, &out->d);
	out->size = n;
	put_link(repo, "_manifests/revisions/sha256", &out->d, 1);
}

static void
tag(const char *repo, const char *name, const struct desc *m)
{
	char dir[PATH_BUF];

	snprintf(dir, sizeof(dir), "_manifests/tags/%s/index/sha256", name);
	put_link(repo, dir, &m->d, 1);
	snprintf(dir, sizeof(dir), "_manifests/tags/%s/current", name);
	put_link(repo, dir, &m->d, 0);
}

int
main(int argc, char *argv[])
{
	unsigned long repos = 2000, tags = 10, pool = 200, r, t, k;
	uint64_t id = 1;
	char repo[256], name[64];
	struct desc m;
	long when = 1600000000;
	int c;

	while ((c = getopt(argc, argv, "r:t:p:")) != -1) {
		switch (c) {
		case 'r': repos = strtoul(optarg, NULL, 10); break;
		case 't': tags = strtoul(optarg, NULL, 10); break;
		case 'p': pool = strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (argc - optind != 1 || pool == 0)
		goto usage;
	fmt(root, sizeof(root), "%s/docker/registry/v2", argv[optind]);
	mkdir_p(root);

	for (r = 0; r < repos; r++) {
		switch (r % 3) {
		case 0: snprintf(repo, sizeof(repo), "team%lu/app%lu", r % 40, r); break;
		case 1: snprintf(repo, sizeof(repo), "org%lu/group%lu/svc%lu",
		    r % 7, r % 13, r); break;
		default: snprintf(repo, sizeof(repo), "img%lu", r); break;
		}
		for (t = 0; t < tags; t++) {
			uint64_t base = next() % pool;
			int docker = (r + t) % 2;

			/* a third of the tags were pushed over twice before */
			for (k = (next() % 3 == 0) ? 0 : 2; k < 3; k++) {
				when += 60;
				if (t == 0 && r % 5 == 0)
					multiarch(repo, id++, base, when, docker, &m);
				else
					image(repo, id++, base, "amd64", when, docker, &m);
				snprintf(name, sizeof(name), t == 0 ? "latest" :
				    "1.%lu", t);
				tag(repo, name, &m);
			}
		}
	}
	printf("%lu repositories, %lu tags, %lu blobs, %lu files\n", repos,
	    repos * tags, nblobs, nfiles);
	return 0;
usage:
	fprintf(stderr, "usage: gen-tree [-r repos] [-t tags] [-p pool] dir\n");
	return 2;
}
