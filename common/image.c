/*
 * image.c: the manifests of one repository as a graph, for what needs the
 * children of an index: when the index was created (its newest child) and
 * how many bytes the whole image holds.
 */
#include <stdlib.h>
#include <string.h>

#include "rg.h"

#define NEST_MAX	8	/* index depth followed */

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
 * must be read for them (then rg_image_config).
 */
int
rg_image_parsed(struct rg_image *m)
{
	m->ok = 1;
	if (m->m.has_created) {
		m->created = m->m.created;
		m->has_created = 1;
		m->platform = json_incref(m->m.platform);
		return 0;
	}
	return m->m.has_config && m->m.config_type != NULL &&
	    (strcmp(m->m.config_type, RG_MT_DOCKER_CONFIG) == 0 ||
	    strcmp(m->m.config_type, RG_MT_OCI_CONFIG) == 0);
}

void
rg_image_config(struct rg_image *m, const struct rg_config *c)
{
	m->created = c->created;
	m->has_created = c->has_created;
	m->platform = json_incref(c->platform);
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

	if (!m->ok || m->m.children.n == 0 || m->visiting || depth > NEST_MAX)
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

	if (depth > NEST_MAX)
		return;
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

	collect(s, m, &all, 0);
	for (i = 0; i < all.n; i++)
		if (all.v[i].size > 0)
			sum += all.v[i].size;
	free(all.v);
	return sum;
}

/* The manifest record (rg-records(5)). */
json_t *
rg_image_record(struct rg_images *s, struct rg_image *m, const char *repo)
{
	json_t *rec = rg_record_new("manifest", repo);

	if (rec == NULL)
		return NULL;
	rg_set_digest(rec, "digest", &m->digest);
	if (m->ok) {
		json_object_set_new(rec, "size", json_integer(m->size));
		json_object_set_new(rec, "media_type", json_string(m->m.media_type));
		if (m->m.artifact_type != NULL)
			json_object_set_new(rec, "artifact_type",
			    json_string(m->m.artifact_type));
	}
	if (m->pushed != 0)
		rg_set_time(rec, "pushed", m->pushed);
	json_object_set(rec, "tags", m->tags);
	if (!m->ok) {
		json_object_set_new(rec, "error", json_string(m->error ?
		    m->error : "unreadable"));
		return rec;
	}
	json_object_set_new(rec, "blobs", rg_refs_json(&m->m.blobs));
	json_object_set_new(rec, "manifests", rg_refs_json(&m->m.children));
	if (m->m.foreign.n > 0)
		json_object_set_new(rec, "foreign", rg_refs_json(&m->m.foreign));
	if (m->m.subject != NULL)
		json_object_set_new(rec, "subject", json_string(m->m.subject));
	if (m->has_created)
		rg_set_time(rec, "created", m->created);
	if (m->platform != NULL)
		json_object_set(rec, "platform", m->platform);
	json_object_set_new(rec, "image_size", json_integer(rg_image_size(s, m)));
	return rec;
}

void
rg_images_free(struct rg_images *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		rg_manifest_free(&s->v[i].m);
		json_decref(s->v[i].tags);
		json_decref(s->v[i].platform);
		free(s->v[i].error);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}
