/*
 * manifest.c: what a manifest references, in every format.
 *
 * Docker schema 1 and 2, manifest lists, OCI manifests and indexes, and
 * OCI 1.1 artifacts (artifactType, subject).
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

#define REFS_LINEAR	16	/* up to this many, a duplicate is looked for in turn */

/* the slot of d in r's table: where it is, or the empty one it would take */
static size_t
refs_slot(const struct rg_refs *r, const struct rg_digest *d)
{
	size_t i = (size_t)rg_digest_hash(d) & (r->nslot - 1);

	while (r->slot[i] != 0 &&
	    memcmp(&r->v[r->slot[i] - 1].digest, d, sizeof(*d)) != 0)
		i = (i + 1) & (r->nslot - 1);
	return i;
}

/* a table of twice cap slots for r's entries; -1 out of memory */
static int
refs_index(struct rg_refs *r)
{
	size_t i;

	free(r->slot);
	r->nslot = 2 * r->cap;
	if ((r->slot = calloc(r->nslot, sizeof(*r->slot))) == NULL)
		return -1;
	for (i = 0; i < r->n; i++)
		r->slot[refs_slot(r, &r->v[i].digest)] = (uint32_t)i + 1;
	return 0;
}

/*
 * Add d to r unless it is there: in constant time on average (a manifest
 * may list tens of thousands of layers); -1 when out of memory.
 */
int
rg_refs_add(struct rg_refs *r, const struct rg_digest *d, int64_t size)
{
	struct rg_ref *v;
	size_t i, s = 0;

	if (r->slot == NULL) {
		for (i = 0; i < r->n; i++)
			if (memcmp(&r->v[i].digest, d, sizeof(*d)) == 0)
				return 0;
	} else if (r->slot[s = refs_slot(r, d)] != 0)
		return 0;
	if (r->n == r->cap) {
		if (r->cap > UINT32_MAX / 4)
			return -1;
		r->cap = r->cap ? 2 * r->cap : 8;
		if ((v = realloc(r->v, r->cap * sizeof(*v))) == NULL)
			return -1;
		r->v = v;
	}
	r->v[r->n].digest = *d;
	r->v[r->n].size = size;
	r->n++;
	if (r->n > REFS_LINEAR && r->nslot < 2 * r->cap)
		return refs_index(r);	/* (the new entry with the rest) */
	if (r->slot != NULL)
		r->slot[s] = (uint32_t)r->n;
	return 0;
}

void
rg_refs_free(struct rg_refs *r)
{
	free(r->v);
	free(r->slot);
	memset(r, 0, sizeof(*r));
}

static int
fail(char *err, size_t errsize, const char *msg)
{
	rg_msg(err, errsize, "%s", msg);
	return -1;
}

/* Add a descriptor {digest, size} to r; -1 when it is not a sha256 one. */
static int
add_descriptor(struct rg_refs *r, json_t *desc, struct rg_digest *out)
{
	const char *s = rg_str(desc, "digest");
	json_t *size = json_object_get(desc, "size");
	struct rg_digest d;

	if (s == NULL || rg_digest_parse(s, strlen(s), &d) != 0)
		return -1;
	if (out != NULL)
		*out = d;
	return rg_refs_add(r, &d, json_is_integer(size) ?
	    (int64_t)json_integer_value(size) : -1);
}

static int
add_descriptors(struct rg_refs *r, struct rg_refs *foreign, json_t *list)
{
	size_t i;
	json_t *desc;

	if (list == NULL)
		return 0;
	if (!json_is_array(list))
		return -1;
	json_array_foreach(list, i, desc) {
		if (!json_is_object(desc) || add_descriptor(r, desc, NULL) != 0)
			return -1;
		if (foreign != NULL && json_array_size(json_object_get(desc, "urls")) > 0 &&
		    add_descriptor(foreign, desc, NULL) != 0)
			return -1;
	}
	return 0;
}

static int
prefixed(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * What an image manifest without artifactType holds, when it is not an
 * image: its config's media type when that is not an image config nor
 * empty (Helm's), else its first layer's when that is not an image layer
 * (cosign's signatures, attestations and SBOMs, buildx's attestations, in
 * an image config); NULL for an image.
 */
static const char *
artifact_type(const struct rg_manifest *m)
{
	const char *t = m->config_type;

	if (t != NULL && strcmp(t, RG_MT_DOCKER_CONFIG) != 0 &&
	    strcmp(t, RG_MT_OCI_CONFIG) != 0 && strcmp(t, RG_MT_EMPTY) != 0)
		return t;
	if (!m->has_config)
		return NULL;
	t = rg_str(json_array_get(json_object_get(m->root, "layers"), 0),
	    "mediaType");
	return t == NULL || prefixed(t, "application/vnd.oci.image.layer.") ||
	    prefixed(t, "application/vnd.docker.image.rootfs.") ? NULL : t;
}

static int
parse_schema1(struct rg_manifest *m, char *err, size_t errsize)
{
	json_t *layers = json_object_get(m->root, "fsLayers"), *l, *hist, *v1;
	const char *s;
	struct rg_digest d;
	size_t i;

	m->media_type = json_object_get(m->root, "signatures") ?
	    RG_MT_SCHEMA1_SIGNED : RG_MT_SCHEMA1;
	if (!json_is_array(layers))
		return fail(err, errsize, "schema 1 manifest without fsLayers");
	json_array_foreach(layers, i, l) {
		s = rg_str(l, "blobSum");
		if (s == NULL || rg_digest_parse(s, strlen(s), &d) != 0)
			return fail(err, errsize, "fsLayers: blobSum is not a sha256 digest");
		if (rg_refs_add(&m->blobs, &d, -1) != 0)
			return fail(err, errsize, "out of memory");
	}
	/* history[0] describes the top layer: the image's own creation */
	hist = json_array_get(json_object_get(m->root, "history"), 0);
	s = rg_str(hist, "v1Compatibility");
	if (s != NULL && (v1 = json_loads(s, 0, NULL)) != NULL) {
		rg_config_parse_json(v1, &m->created, &m->has_created, &m->platform,
		    &m->labels);
		json_decref(v1);
	}
	return 0;
}

int
rg_manifest_parse(const char *buf, size_t len, struct rg_manifest *m,
    char *err, size_t errsize)
{
	json_t *v, *config, *subject;
	const char *s;
	struct rg_digest d;

	memset(m, 0, sizeof(*m));
	if ((m->root = json_loadb(buf, len, 0, NULL)) == NULL ||
	    !json_is_object(m->root))
		return fail(err, errsize, "not a JSON object");
	v = json_object_get(m->root, "schemaVersion");
	if (json_integer_value(v) == 1 && json_is_integer(v))
		return parse_schema1(m, err, errsize);
	if (!json_is_integer(v) || json_integer_value(v) != 2)
		return fail(err, errsize, "unknown schemaVersion");

	m->media_type = rg_str(m->root, "mediaType");
	if (m->media_type == NULL)
		m->media_type = json_object_get(m->root, "manifests") ?
		    RG_MT_OCI_INDEX : RG_MT_OCI;
	m->artifact_type = rg_str(m->root, "artifactType");

	if ((config = json_object_get(m->root, "config")) != NULL) {
		if (!json_is_object(config) ||
		    add_descriptor(&m->blobs, config, &m->config) != 0)
			return fail(err, errsize, "config: not a sha256 descriptor");
		m->has_config = 1;
		m->config_type = rg_str(config, "mediaType");
	}
	if (add_descriptors(&m->blobs, &m->foreign,
	    json_object_get(m->root, "layers")) != 0 ||
	    add_descriptors(&m->blobs, &m->foreign,	/* OCI artifact manifest draft */
	    json_object_get(m->root, "blobs")) != 0)
		return fail(err, errsize, "layers: not a list of sha256 descriptors");
	if (m->artifact_type == NULL)
		m->artifact_type = artifact_type(m);
	if (add_descriptors(&m->children, NULL,
	    json_object_get(m->root, "manifests")) != 0)
		return fail(err, errsize, "manifests: not a list of sha256 descriptors");
	if ((subject = json_object_get(m->root, "subject")) != NULL) {
		s = rg_str(subject, "digest");
		if (s == NULL || rg_digest_parse(s, strlen(s), &d) != 0)
			return fail(err, errsize, "subject: not a sha256 descriptor");
		m->subject = s;
	}
	return 0;
}

void
rg_manifest_free(struct rg_manifest *m)
{
	rg_refs_free(&m->blobs);
	rg_refs_free(&m->foreign);
	rg_refs_free(&m->children);
	json_decref(m->platform);
	json_decref(m->labels);
	json_decref(m->root);
	memset(m, 0, sizeof(*m));
}

/*
 * From an image config (or a schema 1 v1Compatibility object): created and
 * the platform.  *platform is a new object, or NULL when nothing is known.
 */
void
rg_config_parse_json(json_t *c, time_t *created, int *has_created,
    json_t **platform, json_t **labels)
{
	static const char *keys[] = { "os", "architecture", "variant", "os.version" };
	const char *s;
	json_t *p = NULL;
	size_t i;

	*has_created = 0;
	s = rg_str(c, "created");
	if (s != NULL && rg_time_parse(s, created) == 0)
		*has_created = 1;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		s = rg_str(c, keys[i]);
		if (s == NULL || *s == '\0')
			continue;
		if (p == NULL && (p = json_object()) == NULL)
			break;
		json_object_set_new(p, keys[i], json_string(s));
	}
	*platform = p;
	/* Docker's and OCI's configs alike: config.Labels, an object */
	p = json_object_get(json_object_get(c, "config"), "Labels");
	*labels = json_is_object(p) && json_object_size(p) > 0 ?
	    json_incref(p) : NULL;
}

/* A cache entry emptied of what it holds. */
void
rg_config_clear(struct rg_config *c)
{
	json_decref(c->platform);
	json_decref(c->labels);
	memset(c, 0, sizeof(*c));
}

int
rg_config_parse(const char *buf, size_t len, time_t *created,
    int *has_created, json_t **platform, json_t **labels)
{
	json_t *c = json_loadb(buf, len, 0, NULL);

	if (!json_is_object(c)) {
		json_decref(c);
		return -1;
	}
	rg_config_parse_json(c, created, has_created, platform, labels);
	json_decref(c);
	return 0;
}
