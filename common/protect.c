/*
 * protect.c: the images a cluster runs, for rg-select --protect.
 *
 * They are read from a list of references ([registry/]repo[:tag][@digest],
 * one per line) or from the JSON of kubectl get ... -o json (the image of
 * every container, init and ephemeral container, and the imageID of every
 * container status), kept as "repo:tag" and "repo@digest" when they name
 * this registry.  A record they name is protected.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protect.h"

/*
 * A reference as a pod spec or a container status has it:
 * [scheme://][host[:port]/]path[:tag][@digest].  The first component is
 * a host when it has a "." or a ":" or is "localhost", as Docker reads
 * it.  0, or -1 when it is not one.
 */
int
rg_ref_parse(const char *ref, struct rg_imageref *out)
{
	char buf[RG_PROTECT_REF_MAX], *s = buf, *at, *slash, *colon;
	size_t n = strlen(ref);
	struct rg_digest d;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, ref, n + 1);
	if ((at = strstr(s, "://")) != NULL)
		s = at + 3;	/* docker-pullable://, containerd's none */
	if ((at = strrchr(s, '@')) != NULL) {
		*at++ = '\0';
		if (rg_digest_parse(at, strlen(at), &d) != 0)
			return -1;
		rg_digest_format(&d, out->digest);
	}
	slash = strchr(s, '/');
	if (slash != NULL && (memchr(s, '.', (size_t)(slash - s)) != NULL ||
	    memchr(s, ':', (size_t)(slash - s)) != NULL ||
	    (slash - s == 9 && strncmp(s, "localhost", 9) == 0))) {
		*slash = '\0';
		if (strlen(s) >= sizeof(out->host))
			return -1;
		strcpy(out->host, s);
		s = slash + 1;
	}
	colon = strrchr(s, ':');
	if (colon != NULL && strchr(colon, '/') == NULL) {
		*colon++ = '\0';
		if (!rg_tag_valid(colon))
			return -1;
		strcpy(out->tag, colon);	/* (a valid tag fits) */
	}
	if (!rg_repo_valid(s))
		return -1;
	strcpy(out->repo, s);	/* (a valid name fits) */
	return 0;
}

/* Is a reference of this host this registry's? */
static int
ours(const struct rg_protect *p, const char *host)
{
	size_t i;

	if (p->nhosts == 0)
		return 1;	/* no --registry: every host, to be safe */
	for (i = 0; i < p->nhosts; i++)
		if (strcasecmp(p->hosts[i], *host ? host : "docker.io") == 0 ||
		    (*host == '\0' && strcasecmp(p->hosts[i], "index.docker.io") == 0))
			return 1;
	return 0;
}

static void
add(struct rg_protect *p, const char *repo, char sep, const char *ref)
{
	char key[RG_REPO_MAX + RG_DIGEST_STRLEN + RG_TAG_MAX + 16];

	rg_msg(key, sizeof(key), "%s%c%s", repo, sep, ref);
	if (rg_strset_add(&p->refs, key) == -1)
		rg_nomem();
}

/* One reference: 0, or -1 when it is not one. */
int
rg_protect_ref(struct rg_protect *p, const char *ref)
{
	struct rg_imageref r;
	char lib[RG_REPO_MAX + 1];
	int n;

	if (rg_ref_parse(ref, &r) != 0)
		return -1;
	if (!ours(p, r.host))
		return 0;
	/* Docker Hub's official images: nginx is library/nginx */
	for (n = 0; n < 2; n++) {
		if (r.tag[0] != '\0')
			add(p, r.repo, ':', r.tag);
		if (r.digest[0] != '\0')
			add(p, r.repo, '@', r.digest);
		if (r.tag[0] == '\0' && r.digest[0] == '\0')
			add(p, r.repo, ':', "latest");
		p->nrefs++;
		if (n > 0 || r.host[0] != '\0' || strchr(r.repo, '/') != NULL ||
		    rg_path(lib, sizeof(lib), "library/%s", r.repo) != 0 ||
		    !rg_repo_valid(lib))
			break;
		strcpy(r.repo, lib);
	}
	return 0;
}

static const char *const container_keys[] = {
	"containers", "initContainers", "ephemeralContainers",
	"containerStatuses", "initContainerStatuses",
	"ephemeralContainerStatuses", NULL
};

struct walk {
	struct rg_protect *p;
	const char *path;
	unsigned long bad;
};

static void
container(struct walk *w, const json_t *c)
{
	static const char *const fields[] = { "image", "imageID", NULL };
	const char *const *f;
	const char *ref;

	for (f = fields; *f != NULL; f++) {
		if ((ref = rg_str(c, *f)) == NULL || *ref == '\0')
			continue;
		if (rg_protect_ref(w->p, ref) != 0) {
			warnx("%s: %s: not an image reference, protects nothing",
			    w->path, ref);
			w->bad++;
		}
	}
}

/* Every container list anywhere: pods, and the templates of the rest. */
static int
walk(struct walk *w, const json_t *v, int depth)
{
	const char *const *k;
	const char *key;
	const json_t *e;
	json_t *x;
	size_t i;

	if (depth > RG_PROTECT_DEPTH) {
		warnx("%s: nested deeper than %d levels", w->path,
		    RG_PROTECT_DEPTH);
		return -1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (walk(w, x, depth + 1) != 0)
				return -1;
		return 0;
	}
	if (!json_is_object(v))
		return 0;
	json_object_foreach((json_t *)v, key, x) {
		for (k = container_keys; *k != NULL && strcmp(*k, key) != 0; k++)
			;
		if (*k != NULL && json_is_array(x)) {
			json_array_foreach(x, i, e)
				container(w, e);
		} else if (walk(w, x, depth + 1) != 0)
			return -1;
	}
	return 0;
}

static int
read_all(FILE *f, const char *path, char **bufp, size_t *lenp)
{
	char *buf = NULL, *p;
	size_t len = 0, cap = 0, n;

	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= RG_PROTECT_MAX) {
				warnx("%s: larger than %d MiB", path,
				    RG_PROTECT_MAX >> 20);
				free(buf);
				return -1;
			}
			cap = cap ? 2 * cap : 1 << 16;
			if ((p = realloc(buf, cap)) == NULL)
				rg_nomem();
			buf = p;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		warn("%s", path);
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

/*
 * The references of a file: JSON when it begins with "{" or "[", else a
 * reference a line ("#" comments).  0; -1 said when it cannot be read or
 * a line is not a reference (the list is the user's: a mistake in it is
 * not skipped); *bad counts the JSON's images that are not references.
 */
int
rg_protect_load(struct rg_protect *p, const char *path, unsigned long *bad)
{
	struct walk w = { p, path, 0 };
	char *buf, *line, *next, *end;
	unsigned long lineno = 0;
	json_error_t e;
	json_t *root;
	size_t len;
	FILE *f;
	int r = 0;

	*bad = 0;
	if ((f = fopen(path, "r")) == NULL) {
		warn("%s", path);
		return -1;
	}
	r = read_all(f, path, &buf, &len);
	fclose(f);
	if (r != 0)
		return -1;
	line = buf + strspn(buf, " \t\r\n");
	if (*line == '{' || *line == '[') {
		if ((root = json_loadb(buf, len, 0, &e)) == NULL) {
			warnx("%s:%d: %s", path, e.line, e.text);
			r = -1;
		} else {
			r = walk(&w, root, 0);
			json_decref(root);
		}
		*bad = w.bad;
		free(buf);
		return r;
	}
	for (line = buf; r == 0 && line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strlen(line) != (size_t)((next ? next - 1 : buf + len) - line)) {
			warnx("%s:%lu: a NUL byte", path, lineno);
			r = -1;
			break;
		}
		if ((end = strchr(line, '#')) != NULL)
			*end = '\0';
		line += strspn(line, " \t\r");
		end = line + strlen(line);
		while (end > line && strchr(" \t\r", end[-1]) != NULL)
			*--end = '\0';
		if (*line != '\0' && rg_protect_ref(p, line) != 0) {
			warnx("%s:%lu: %s: not an image reference", path, lineno,
			    line);
			r = -1;
		}
	}
	free(buf);
	return r;
}

/* Does the set name this tag or manifest record? */
int
rg_protect_has(const struct rg_protect *p, const json_t *rec)
{
	char key[RG_REPO_MAX + RG_DIGEST_STRLEN + RG_TAG_MAX + 16];
	const char *repo = rg_str(rec, RG_F_REPO), *tag = rg_str(rec, RG_F_TAG),
	    *digest = rg_str(rec, RG_F_DIGEST), *type = rg_str(rec, RG_F_TYPE);
	const json_t *v;
	size_t i;

	if (p->refs.n == 0 || repo == NULL || type == NULL)
		return 0;
	if (strcmp(type, RG_T_TAG) != 0 && strcmp(type, RG_T_MANIFEST) != 0)
		return 0;
	if (digest != NULL) {
		rg_msg(key, sizeof(key), "%s@%s", repo, digest);
		if (rg_strset_has(&p->refs, key))
			return 1;
	}
	if (strcmp(type, RG_T_TAG) == 0) {
		if (tag == NULL)
			return 0;
		rg_msg(key, sizeof(key), "%s:%s", repo, tag);
		return rg_strset_has(&p->refs, key);
	}
	json_array_foreach(json_object_get(rec, RG_F_TAGS), i, v) {
		if (!json_is_string(v))
			continue;
		rg_msg(key, sizeof(key), "%s:%s", repo, json_string_value(v));
		if (rg_strset_has(&p->refs, key))
			return 1;
	}
	return 0;
}

void
rg_protect_free(struct rg_protect *p)
{
	size_t i;

	rg_strset_free(&p->refs);
	for (i = 0; i < p->nhosts; i++)
		free(p->hosts[i]);
	memset(p, 0, sizeof(*p));
}
