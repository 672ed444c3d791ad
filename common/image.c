/*
 * image.c: the manifests of one repository as a graph.
 *
 * For what needs the children of an index: when the index was created (its
 * newest child) and how many bytes the whole image holds.
 */
#include <stdlib.h>
#include <string.h>

#include "records.h"

#define NEST_MAX	64	/* index depth followed (each manifest walked once) */

struct rg_image *
rg_images_add(struct rg_images *s, const struct rg_digest *d)
{
	struct rg_image *v;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		if ((v = realloc(s->v, s->cap * sizeof(*v))) == NULL)
			return NULL;
		s->v = v;
	}
	v = &s->v[s->n];
	memset(v, 0, sizeof(*v));
	v->digest = *d;
	if ((v->tags = json_array()) == NULL)
		return NULL;
	s->n++;
	return v;
}

/*
 * The manifest of m parsed: a schema 1 manifest carries its created and
 * platform itself, an image has them in its config.  1 when the config
 * must be read for them (then rg_image_config).  An artifact's config is
 * not read, even in an image config's clothes (cosign's, created in year
 * 1): what it holds is the artifact's own business, and never fails the
 * scan.
 */
int
rg_image_parsed(struct rg_image *m)
{
	m->ok = 1;
	if (m->m.has_created) {
		m->created = m->m.created;
		m->has_created = 1;
		m->platform = json_incref(m->m.platform);
		m->labels = json_incref(m->m.labels);
		return 0;
	}
	return m->m.has_config && m->m.config_type != NULL &&
	    m->m.artifact_type == NULL &&
	    (strcmp(m->m.config_type, RG_MT_DOCKER_CONFIG) == 0 ||
	    strcmp(m->m.config_type, RG_MT_OCI_CONFIG) == 0);
}

void
rg_image_config(struct rg_image *m, const struct rg_config *c)
{
	m->created = c->created;
	m->has_created = c->has_created;
	m->platform = json_incref(c->platform);
	m->labels = json_incref(c->labels);
}

/* ,"labels":{...},"annotations":{...}: the config's and the manifest's */
static int
write_labels(struct rg_buf *b, const struct rg_image *m)
{
	json_t *a = json_object_get(m->m.root, "annotations");

	return rg_buf_json(b, RG_F_LABELS, m->labels) |
	    rg_buf_json(b, RG_F_ANNOTATIONS, json_is_object(a) &&
	    json_object_size(a) > 0 ? a : NULL);
}

void
rg_images_sort(struct rg_images *s)
{
	if (s->n > 0)
		qsort(s->v, s->n, sizeof(*s->v), rg_digest_cmp);
}

struct rg_image *
rg_images_find(struct rg_images *s, const struct rg_digest *d)
{
	if (s->n == 0)
		return NULL;
	return bsearch(d, s->v, s->n, sizeof(*s->v), rg_digest_cmp);
}

static void
index_created(struct rg_images *s, struct rg_image *m, int depth)
{
	struct rg_image *c;
	size_t i;

	if (!m->ok || m->m.children.n == 0 || m->visiting || m->dated ||
	    depth > NEST_MAX)
		return;
	m->visiting = 1;
	for (i = 0; i < m->m.children.n; i++) {
		if ((c = rg_images_find(s, &m->m.children.v[i].digest)) == NULL)
			continue;
		index_created(s, c, depth + 1);
		if (c->has_created && (!m->has_created || c->created > m->created)) {
			m->created = c->created;
			m->has_created = 1;
		}
	}
	m->visiting = 0;
	m->dated = 1;	/* once: an index listed by many is not walked again */
}

/* An index was created when its newest child was. */
void
rg_images_created(struct rg_images *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		index_created(s, &s->v[i], 0);
}

static void
collect(struct rg_images *s, struct rg_image *m, struct rg_refs *all, int depth)
{
	struct rg_image *c;
	size_t i;

	if (depth > NEST_MAX || (m->stamp == s->stamp && m->depth <= depth))
		return;		/* walked already, as deep or deeper */
	m->stamp = s->stamp;
	m->depth = depth;
	rg_refs_add(all, &m->digest, m->ok ? m->size : -1);
	if (!m->ok)
		return;
	for (i = 0; i < m->m.blobs.n; i++)
		rg_refs_add(all, &m->m.blobs.v[i].digest, m->m.blobs.v[i].size);
	for (i = 0; i < m->m.children.n; i++) {
		if ((c = rg_images_find(s, &m->m.children.v[i].digest)) != NULL)
			collect(s, c, all, depth + 1);
		else
			rg_refs_add(all, &m->m.children.v[i].digest,
			    m->m.children.v[i].size);
	}
}

/*
 * The bytes of an image: its manifest, config and layers, and for an index
 * those of every child, each blob counted once.  Sizes come from the
 * descriptors; foreign layers count too.
 */
int64_t
rg_image_size(struct rg_images *s, struct rg_image *m)
{
	struct rg_refs all = { 0 };
	int64_t sum = 0;
	size_t i;

	s->stamp++;
	collect(s, m, &all, 0);
	for (i = 0; i < all.n; i++)
		if (all.v[i].size > 0)
			sum = rg_size_add(sum, all.v[i].size);
	rg_refs_free(&all);
	return sum;
}

/* The manifest record (rg-records(5)), as a line into b; -1 when out of memory. */
int
rg_image_write(struct rg_buf *b, struct rg_images *s, struct rg_image *m,
    const char *repo)
{
	char ds[RG_DIGEST_STRLEN + 1], ts[RG_TIME_STRLEN + 1];
	size_t i;
	int r = 0;

	rg_digest_format(&m->digest, ds);
	r |= rg_buf_jopen(b, RG_T_MANIFEST, repo);
	r |= rg_buf_jstr(b, RG_F_DIGEST, ds);
	if (m->ok) {
		r |= rg_buf_jint(b, RG_F_SIZE, m->size);
		r |= rg_buf_jstr(b, "media_type", m->m.media_type);
		r |= rg_buf_jstr(b, "artifact_type", m->m.artifact_type);
	}
	if (m->pushed != 0) {
		rg_time_format(m->pushed, ts);
		r |= rg_buf_jstr(b, RG_F_PUSHED, ts);
	}
	if (m->tags != NULL) {
		r |= rg_buf_printf(b, ",\"tags\":[");
		for (i = 0; i < json_array_size(m->tags); i++)
			r |= rg_buf_printf(b, "%s", i ? "," : "") |
			    rg_buf_json(b, NULL, json_array_get(m->tags, i));
		r |= rg_buf_add(b, "]", 1);
	}
	if (!m->ok) {
		r |= rg_buf_jstr(b, "error", m->error ? m->error : "unreadable");
		return (r |= rg_buf_jclose(b)) != 0 ? -1 : 0;
	}
	r |= rg_buf_jdigests(b, RG_F_BLOBS, &m->m.blobs);
	r |= rg_buf_jdigests(b, RG_F_MANIFESTS, &m->m.children);
	if (m->m.foreign.n > 0)
		r |= rg_buf_jdigests(b, "foreign", &m->m.foreign);
	r |= rg_buf_jstr(b, RG_F_SUBJECT, m->m.subject);
	if (m->has_created) {
		rg_time_format(m->created, ts);
		r |= rg_buf_jstr(b, RG_F_CREATED, ts);
	}
	r |= rg_buf_json(b, "platform", m->platform);
	r |= write_labels(b, m);
	r |= rg_buf_jint(b, "image_size", rg_image_size(s, m));
	r |= rg_buf_jclose(b);
	return r != 0 ? -1 : 0;
}

/*
 * The tag record of repo:tag, pointing at d (pushed: its link's mtime, 0
 * when not known), with what m, its manifest if it could be read, says.
 */
int
rg_tag_write(struct rg_buf *b, struct rg_images *s, const char *repo,
    const char *tag, const struct rg_digest *d, time_t pushed,
    struct rg_image *m)
{
	char ds[RG_DIGEST_STRLEN + 1], ts[RG_TIME_STRLEN + 1];
	int r = 0;

	r |= rg_buf_jopen(b, RG_T_TAG, repo);
	r |= rg_buf_jstr(b, RG_F_TAG, tag);
	rg_digest_format(d, ds);
	r |= rg_buf_jstr(b, RG_F_DIGEST, ds);
	if (pushed != 0) {
		rg_time_format(pushed, ts);
		r |= rg_buf_jstr(b, RG_F_PUSHED, ts);
	}
	if (m != NULL && m->ok) {
		r |= rg_buf_jstr(b, "media_type", m->m.media_type);
		r |= rg_buf_jstr(b, "artifact_type", m->m.artifact_type);
		if (m->has_created) {
			rg_time_format(m->created, ts);
			r |= rg_buf_jstr(b, RG_F_CREATED, ts);
		}
		r |= rg_buf_jint(b, RG_F_SIZE, rg_image_size(s, m));
		r |= write_labels(b, m);
	}
	r |= rg_buf_jclose(b);
	return r != 0 ? -1 : 0;
}

void
rg_images_free(struct rg_images *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		rg_manifest_free(&s->v[i].m);
		json_decref(s->v[i].tags);
		json_decref(s->v[i].platform);
		json_decref(s->v[i].labels);
		free(s->v[i].error);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}
