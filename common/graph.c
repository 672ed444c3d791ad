/*
 * graph.c: a whole registry, and what survives once the marks are gone.
 *
 * The registry as rg-refs sees it; the rules are in rg-refs(1).  Digests
 * are held as 32 raw bytes in open-addressing tables, references as 4-byte
 * table indices; never the records.  One graph per process: the state is
 * here.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

#define NO_REF		UINT32_MAX

enum { B_PRESENT = 1, B_REF = 2, B_LIVE = 4, B_FOREIGN = 8 };
enum { M_SEEN = 1, M_MARKED = 2, M_HAD_TAGS = 4, M_BROKEN = 8, M_ALIVE = 16,
    M_VIA_CHILD = 32, M_VIA_SUBJECT = 64, M_REFERRER = 128, M_LIVE_TAG = 256,
    M_PROTECTED = 512, M_LIVE_RTAG = 1024, M_ORPHAN = 2048 };

struct blob {
	struct rg_digest d;
	uint64_t size:56, flags:8;	/* 64 PiB is enough for one blob */
#define BLOB_SIZE_MAX	((1LL << 56) - 1)	/* more is taken as this */
};

struct mkey {
	struct rg_digest d;
	uint32_t repo;
};

struct man {
	struct mkey k;
	uint32_t refs, nblobs, nkids;	/* blob indices in refpool: blobs, then children */
	uint32_t subject, fb_subject;	/* blob index, or NO_REF: its "subject",
					 * what its referrer tags name */
	uint32_t flags;
	uint32_t next_referrer, first_referrer;	/* man index + 1 lists */
};

struct lkey {
	uint32_t repo, blob;
};

struct link {
	struct lkey k;
	uint32_t live;
};

struct repo {
	struct rg_digest name;		/* sha256 of the name: a fixed-size key */
	uint32_t alive_mans, live_links, first_link;	/* link index + 1 */
	uint32_t images;		/* manifests that refer to nothing */
};

static struct rg_dtab blobs, mans, links, repos;
static uint32_t *blob_stamp, *blob_holders, *man_stamp;	/* --usage */
static uint32_t *refpool;
static size_t nrefs, caprefs;
static int status, partial, broken, nblob_records, keep_tags;
static int saw_scan, saw_end, incomplete;

struct tagref {
	uint32_t repo, man;	/* man index */
	char *name;
};

static struct tagref *tags;	/* only for rg_graph_usage with tags */
static size_t ntags, captags;

static const char *repo_name(uint32_t r);
static uint32_t blob_id_raw(const struct rg_digest *d);


static char **repo_names;	/* by repository number, for messages */

/* Records come grouped by repository: the last one is asked for again. */
static uint32_t
repo_id(const char *name)
{
	static char *last;
	static uint32_t last_id;
	struct rg_digest d;
	size_t before = repos.n;
	long i;

	if (last != NULL && strcmp(name, last) == 0)
		return last_id;
	rg_digest_of(name, strlen(name), &d);
	if ((i = rg_dtab_index(&repos, &d, 1)) == -1)
		rg_nomem();
	if (repos.n > before) {
		if ((repo_names = realloc(repo_names, repos.cap *
		    sizeof(*repo_names))) == NULL ||
		    (repo_names[i] = strdup(name)) == NULL)
			rg_nomem();
	}
	last = repo_names[i];
	return last_id = (uint32_t)i;
}

static const char *
repo_name(uint32_t r)
{
	return repo_names[r];
}

static uint32_t
blob_id_raw(const struct rg_digest *d)
{
	long i;

	if ((i = rg_dtab_index(&blobs, d, 1)) == -1)
		rg_nomem();
	return (uint32_t)i;
}

static uint32_t
blob_id(const char *digest)
{
	struct rg_digest d;

	if (digest == NULL || rg_digest_parse(digest, strlen(digest), &d) != 0)
		return NO_REF;
	return blob_id_raw(&d);
}

/* entries by index; never pass a call that may add an entry: the table may move */
#define BLOB(i)	((struct blob *)RG_DTAB_AT(&blobs, i))
#define MAN(i)	((struct man *)RG_DTAB_AT(&mans, i))
#define LINK(i)	((struct link *)RG_DTAB_AT(&links, i))
#define REPO(i)	((struct repo *)RG_DTAB_AT(&repos, i))

static long
man_find(uint32_t repo, uint32_t blob, int create)
{
	struct mkey k;
	size_t before = mans.n;
	long i;

	memset(&k, 0, sizeof(k));
	k.d = BLOB(blob)->d;
	k.repo = repo;
	if ((i = rg_dtab_index(&mans, &k, create)) == -1 && create)
		rg_nomem();
	if (mans.n > before)
		MAN(i)->subject = MAN(i)->fb_subject = NO_REF;
	return i;
}

static void
add_ref(uint32_t b)
{
	if (nrefs == caprefs) {
		caprefs = caprefs ? 2 * caprefs : 4096;
		if ((refpool = realloc(refpool, caprefs * sizeof(*refpool))) == NULL)
			rg_nomem();
	}
	refpool[nrefs++] = b;
}

static uint32_t
add_refs(struct rg_jlist list)
{
	char buf[RG_DIGEST_STRLEN + 1];
	const char *s;
	size_t n = 0;
	uint32_t b;

	while ((s = rg_jlist_next(&list, buf, sizeof(buf))) != NULL) {
		if ((b = blob_id(s)) == NO_REF)
			continue;
		BLOB(b)->flags |= B_REF;
		add_ref(b);
		n++;
	}
	return (uint32_t)n;
}

/* sha256-<hex>, sha256-<hex>.sig, .att, ...: the tag scheme of referrers */
static uint32_t
fallback_subject(const char *tag)
{
	struct rg_digest d;

	return rg_referrer_tag(tag, &d) ? blob_id_raw(&d) : NO_REF;
}


static void
add_tag(uint32_t repo, uint32_t man, const char *name)
{
	if (ntags == captags) {
		captags = captags ? 2 * captags : 1024;
		if ((tags = realloc(tags, captags * sizeof(*tags))) == NULL)
			rg_nomem();
	}
	tags[ntags].repo = repo;
	tags[ntags].man = man;
	if ((tags[ntags++].name = strdup(name ? name : "")) == NULL)
		rg_nomem();
}

/*
 * Take in one record of the stream; *t (when not NULL) says which entry
 * it is, so that it can be judged again without its fields.
 */
void
rg_graph_add_fields(const struct rg_rec *f, const char *where, struct rg_ticket *t)
{
	char buf[RG_DIGEST_STRLEN + 1];
	struct rg_jlist foreign;
	uint32_t r, b, s;
	struct man *m;
	const char *d;
	long i;

	if (t != NULL)
		t->kind = RG_TK_NONE;
	if (f->type == NULL)
		return;
	if (strcmp(f->type, RG_T_BLOB) == 0 && (b = blob_id(f->digest)) != NO_REF) {
		BLOB(b)->flags |= B_PRESENT;
		BLOB(b)->size = f->size <= 0 ? 0 : f->size >= BLOB_SIZE_MAX ?
		    BLOB_SIZE_MAX : (uint64_t)f->size;	/* (not cut to 56 bits) */
		nblob_records++;
		if (t != NULL && f->repo == NULL) {
			t->kind = RG_TK_BLOB;
			t->idx = b;
		}
		return;
	}
	if (strcmp(f->type, RG_T_SCAN) == 0) {
		saw_scan = 1;
		partial |= f->repo_filter;
	}
	if (strcmp(f->type, RG_T_SCAN_END) == 0) {
		saw_end = 1;
		incomplete |= !f->complete;
	}
	if (f->repo == NULL)
		return;
	if ((strcmp(f->type, RG_T_TAG) == 0 || strcmp(f->type, RG_T_MANIFEST) == 0 ||
	    strcmp(f->type, RG_T_LAYER) == 0) && (b = blob_id(f->digest)) == NO_REF) {
		warnx("%s: %s record without a sha256 digest, ignored", where, f->type);
		status = RG_EXIT_PARTIAL;
		return;
	}
	r = repo_id(f->repo);
	if (strcmp(f->type, RG_T_TAG) == 0) {
		i = man_find(r, b, 1);	/* first: it may move the table */
		m = MAN(i);
		m->flags |= M_HAD_TAGS;
		if (f->tag == NULL || !rg_tag_valid(f->tag)) {
			/* a tag of unknown name: its manifest is kept */
			warnx("%s: tag record without a valid tag: its manifest "
			    "is kept", where);
			status = RG_EXIT_PARTIAL;
			m->flags |= M_LIVE_TAG;
			return;
		}
		if (keep_tags)
			add_tag(r, (uint32_t)i, f->tag);
		if ((s = fallback_subject(f->tag)) != NO_REF)
			MAN(i)->fb_subject = s;
		if (!f->marked || f->protect)
			MAN(i)->flags |= s != NO_REF ? M_LIVE_RTAG : M_LIVE_TAG;
	} else if (strcmp(f->type, RG_T_MANIFEST) == 0) {
		i = man_find(r, b, 1);
		m = MAN(i);
		BLOB(b)->flags |= B_REF;
		m->flags |= M_SEEN | (f->marked ? M_MARKED : 0) |
		    (f->protect ? M_PROTECTED : 0);
		if (f->error)
			m->flags |= M_BROKEN;
		if (t != NULL) {
			t->kind = RG_TK_MANIFEST;
			t->idx = (uint32_t)i;
		}
		m->subject = blob_id(f->subject);
		m->refs = (uint32_t)nrefs;
		m->nblobs = add_refs(f->blobs);
		m->nkids = add_refs(f->manifests);
		foreign = f->foreign;
		while ((d = rg_jlist_next(&foreign, buf, sizeof(buf))) != NULL)
			if ((s = blob_id(d)) != NO_REF)
				BLOB(s)->flags |= B_FOREIGN;
	} else if (strcmp(f->type, RG_T_LAYER) == 0) {
		struct lkey k = { r, b };

		if ((i = rg_dtab_index(&links, &k, 1)) == -1)
			rg_nomem();
		if (REPO(r)->first_link == 0)
			REPO(r)->first_link = (uint32_t)i + 1;
		if (t != NULL) {
			t->kind = RG_TK_LAYER;
			t->idx = (uint32_t)i;
		}
	}
}

/* The fields rg-refs reads, from a parsed record. */
void
rg_rec_fields(const json_t *rec, struct rg_rec *f)
{
	f->type = rg_str(rec, RG_F_TYPE);
	f->repo = rg_str(rec, RG_F_REPO);
	f->digest = rg_str(rec, RG_F_DIGEST);
	f->tag = rg_str(rec, RG_F_TAG);
	f->subject = rg_str(rec, RG_F_SUBJECT);
	f->size = json_integer_value(json_object_get(rec, RG_F_SIZE));
	f->marked = json_is_true(json_object_get(rec, RG_F_DELETE));
	f->protect = json_is_true(json_object_get(rec, RG_F_PROTECTED));
	f->error = json_object_get(rec, "error") != NULL;
	f->repo_filter = json_object_get(rec, "repo_filter") != NULL;
	f->complete = json_is_true(json_object_get(rec, "complete"));
	rg_jlist_json(&f->blobs, json_object_get(rec, RG_F_BLOBS));
	rg_jlist_json(&f->manifests, json_object_get(rec, RG_F_MANIFESTS));
	rg_jlist_json(&f->foreign, json_object_get(rec, "foreign"));
}

/*
 * The fields rg-refs reads, from a line scanned (rg_jscan), the strings
 * copied into *b; -1 when it must be parsed (not an object, escapes,
 * values too long to be valid).  *noted: it has "reason" or "kept",
 * *marks: that or "delete".
 */
int
rg_rec_scan(const char *line, size_t len, struct rg_rec *f, struct rg_recbuf *b,
    int *marks, int *noted)
{
	struct rg_jscan j;

	if (rg_jscan(line, len, &j) != 0 || j.escaped ||
	    rg_jscan_copy(&j, RG_JS_TYPE, b->type, sizeof(b->type)) != 0)
		return -1;
	f->type = b->type;
	f->repo = rg_jscan_copy(&j, RG_JS_REPO, b->repo, sizeof(b->repo)) == 0 ?
	    b->repo : NULL;
	f->digest = rg_jscan_copy(&j, RG_JS_DIGEST, b->digest, sizeof(b->digest)) == 0 ?
	    b->digest : NULL;
	f->tag = rg_jscan_copy(&j, RG_JS_TAG, b->tag, sizeof(b->tag)) == 0 ?
	    b->tag : NULL;
	f->subject = rg_jscan_copy(&j, RG_JS_SUBJECT, b->subject,
	    sizeof(b->subject)) == 0 ? b->subject : NULL;
	if ((j.f[RG_JS_REPO].s != NULL && f->repo == NULL) ||
	    (j.f[RG_JS_DIGEST].s != NULL && f->digest == NULL) ||
	    (j.f[RG_JS_TAG].s != NULL && f->tag == NULL) ||
	    (j.f[RG_JS_SUBJECT].s != NULL && f->subject == NULL))
		return -1;	/* too long to be valid: let the parse say */
	f->size = j.size;
	f->marked = j.delete;
	f->protect = j.protect;
	f->error = j.f[RG_JS_ERROR].s != NULL;
	f->repo_filter = j.f[RG_JS_REPO_FILTER].s != NULL;
	rg_jlist_field(&f->blobs, &j, RG_JS_BLOBS);
	rg_jlist_field(&f->manifests, &j, RG_JS_MANIFESTS);
	rg_jlist_field(&f->foreign, &j, RG_JS_FOREIGN);
	if (marks != NULL)
		*marks = j.marks;
	if (noted != NULL)
		*noted = j.noted;
	return 0;
}

void
rg_graph_add(const json_t *rec, const char *where)
{
	struct rg_rec f;

	rg_rec_fields(rec, &f);
	rg_graph_add_fields(&f, where, NULL);
}

/* reachability */

static uint32_t *queue;
static size_t nqueue;

static void
enqueue(long i, uint32_t via)
{
	struct man *m = MAN(i);

	if (m->flags & M_ALIVE)
		return;
	m->flags |= M_ALIVE | via;
	queue[nqueue++] = (uint32_t)i;
}

/* The manifest s of m's repository, when the stream has it: its index;
 * -1 when it has not, -2 when it is m itself. */
static long
present(const struct man *m, uint32_t s)
{
	long si = man_find(m->k.repo, s, 0);

	if (si == -1 || !(MAN(si)->flags & M_SEEN))
		return -1;
	return memcmp(&MAN(si)->k, &m->k, sizeof(m->k)) == 0 ? -2 : si;
}

/*
 * The manifest m refers to: its "subject", else what its referrer tags
 * name (sha256-<hex>...) while one of them stays.  A referrer marked
 * itself refers to nothing (it goes), unless what it refers to is
 * protected.  -1 when there is none; *missing when m names one the stream
 * does not have.
 */
static long
subject_of(const struct man *m, int *missing)
{
	long si;

	*missing = 0;
	if (m->subject != NO_REF) {
		si = present(m, m->subject);
		if (si >= 0 && (!(m->flags & M_MARKED) ||
		    (MAN(si)->flags & M_PROTECTED)))
			return si;
		*missing = si == -1;
	}
	if (m->fb_subject != NO_REF) {
		si = present(m, m->fb_subject);
		if (si >= 0 && ((m->flags & M_LIVE_RTAG) ||
		    (MAN(si)->flags & M_PROTECTED)))
			return *missing = 0, si;
		*missing |= si == -1 && (m->flags & M_LIVE_RTAG);
	}
	return -1;
}

/*
 * A manifest survives when it is not marked and either never had tags or
 * keeps one; the children of a survivor survive, and so do the referrers
 * of a survivor (manifests with a subject, or tagged sha256-<hex>...);
 * a referrer survives only so.  A referrer whose subject the stream does
 * not have goes (an orphan), where the stream is known whole and its
 * repository holds images: a repository of referrers alone is taken for
 * a signature store of another (cosign's COSIGN_REPOSITORY) and kept.
 */
static void
reach(void)
{
	int missing, whole = !incomplete && !(saw_scan && !saw_end);
	struct man *m;
	long si, ci;
	size_t i, j;

	if ((queue = calloc(mans.n + 1, sizeof(*queue))) == NULL)
		rg_nomem();
	for (i = 0; i < mans.n; i++) {
		m = MAN(i);
		if ((m->flags & M_SEEN) && m->subject == NO_REF &&
		    m->fb_subject == NO_REF)
			REPO(m->k.repo)->images++;
	}
	for (i = 0; i < mans.n; i++) {
		m = MAN(i);
		if (!(m->flags & M_SEEN))
			continue;
		if ((si = subject_of(m, &missing)) == -1) {
			if (missing && whole && !(m->flags & M_PROTECTED) &&
			    REPO(m->k.repo)->images > 0)
				m->flags |= M_ORPHAN;
			continue;
		}
		m->flags |= M_REFERRER;
		m->next_referrer = MAN(si)->first_referrer;
		MAN(si)->first_referrer = (uint32_t)i + 1;
	}
	for (i = 0; i < mans.n; i++) {
		m = MAN(i);
		if (((m->flags & (M_SEEN | M_REFERRER | M_MARKED | M_ORPHAN)) ==
		    M_SEEN && (!(m->flags & M_HAD_TAGS) ||
		    (m->flags & (M_LIVE_TAG | M_LIVE_RTAG)))) ||
		    (m->flags & (M_SEEN | M_PROTECTED)) == (M_SEEN | M_PROTECTED))
			enqueue((long)i, 0);
	}
	while (nqueue > 0) {
		m = MAN(queue[--nqueue]);
		for (j = 0; j < m->nkids; j++) {
			ci = man_find(m->k.repo, refpool[m->refs + m->nblobs + j], 0);
			if (ci != -1 && (MAN(ci)->flags & M_SEEN))
				enqueue(ci, M_VIA_CHILD);
		}
		for (ci = (long)m->first_referrer - 1; ci != -1;
		    ci = (long)MAN(ci)->next_referrer - 1)
			enqueue(ci, M_VIA_SUBJECT);
	}
	free(queue);
}

/* Blobs and layer links the survivors need. */
static void
sweep(void)
{
	struct lkey k;
	struct man *m;
	struct repo *r;
	size_t i, j;
	uint32_t b;
	long li;
	char ds[RG_DIGEST_STRLEN + 1], bs[RG_DIGEST_STRLEN + 1];

	for (i = 0; i < mans.n; i++) {
		m = MAN(i);
		if (!(m->flags & M_ALIVE))
			continue;
		REPO(m->k.repo)->alive_mans++;
		if (m->flags & M_BROKEN) {	/* what it references is unknown */
			rg_digest_format(&m->k.d, ds);
			warnx("%s@%s: a surviving manifest that could not be read: "
			    "no blob is marked", repo_name(m->k.repo), ds);
			broken = 1;
			status = RG_EXIT_PARTIAL;
		}
		b = blob_id_raw(&m->k.d);
		BLOB(b)->flags |= B_LIVE;
		for (j = 0; j < m->nblobs; j++) {
			b = refpool[m->refs + j];
			BLOB(b)->flags |= B_LIVE;
			k.repo = m->k.repo;
			k.blob = b;
			if ((li = rg_dtab_index(&links, &k, 0)) != -1 &&
			    !LINK(li)->live) {
				LINK(li)->live = 1;
				REPO(k.repo)->live_links++;
			}
			if (nblob_records > 0 && !(BLOB(b)->flags &
			    (B_PRESENT | B_FOREIGN))) {
				rg_digest_format(&m->k.d, ds);
				rg_digest_format(&BLOB(b)->d, bs);
				warnx("%s@%s: references %s, which the storage does "
				    "not have: the image is already broken",
				    repo_name(m->k.repo), ds, bs);
				status = RG_EXIT_PARTIAL;
			}
		}
	}
	/* registry 2.8 sweeps every blob of a repository without _layers */
	for (i = 0; i < repos.n; i++) {
		r = REPO(i);
		if (r->alive_mans > 0 && r->live_links == 0 && r->first_link != 0)
			LINK(r->first_link - 1)->live = 2;
	}
}

/* pass 2: each record with its verdict */

static int
alive(uint32_t repo, uint32_t blob)
{
	long i = man_find(repo, blob, 0);

	return i != -1 && (MAN(i)->flags & M_ALIVE);
}

static int
seen(uint32_t repo, uint32_t blob)
{
	long i = man_find(repo, blob, 0);

	return i != -1 && (MAN(i)->flags & M_SEEN);
}

static int
judge_blob(uint32_t b, const char **why)
{
	if ((BLOB(b)->flags & B_LIVE) || partial || incomplete || broken)
		return (*why = BLOB(b)->flags & B_LIVE ? "referenced" :
		    partial ? "partial-scan" : incomplete ? "incomplete-scan" :
		    "broken-manifest"), 0;
	*why = BLOB(b)->flags & B_REF ? "unreferenced" : "orphan";
	return 1;
}

static int
judge_manifest(long i, const char **why)
{
	struct man *m = MAN(i);

	if (m->flags & M_ALIVE) {
		*why = m->flags & M_PROTECTED ? "protected" :
		    m->flags & M_VIA_CHILD ? "child-of-surviving-index" :
		    m->flags & M_VIA_SUBJECT ? "referrer-of-surviving" : "needed";
		return 0;
	}
	*why = m->flags & M_MARKED ? "selected" : m->flags & M_REFERRER ?
	    "referrer-of-deleted" : m->flags & M_ORPHAN ? "subject-missing" :
	    "untagged-by-tag-deletion";
	return 1;
}

static int
judge_layer(long i, const char **why)
{
	if (LINK(i)->live)
		return (*why = LINK(i)->live == 2 ? "last-layer-link" : "referenced"), 0;
	return (*why = "unreferenced"), 1;
}

/*
 * The verdict on a record: 1 delete it (*why the reason), 0 keep it (*why
 * the reason, for when it was marked), -1 nothing to say.  Uploads marked,
 * or started more than uploads_older seconds before now (when >= 0), go.
 */
int
rg_graph_judge(const struct rg_rec *f, const json_t *rec, const char **why,
    long long uploads_older, time_t now)
{
	const char *type = f->type, *repo = f->repo;
	uint32_t r, b, s;
	struct lkey k;
	time_t t;
	long i;

	if (strcmp(type, RG_T_BLOB) == 0) {
		if ((b = blob_id(f->digest)) == NO_REF)
			return -1;
		return judge_blob(b, why);
	}
	if (strcmp(type, RG_T_UPLOAD) == 0) {
		if (f->marked)
			return (*why = "selected"), 1;
		if (uploads_older >= 0 && (rg_record_time(rec, "started", &t) == 0 ||
		    rg_record_time(rec, "modified", &t) == 0) &&
		    t < now - uploads_older)
			return (*why = "stale-upload"), 1;
		return -1;
	}
	if (repo == NULL || (b = blob_id(f->digest)) == NO_REF)
		return -1;
	r = repo_id(repo);
	if (strcmp(type, RG_T_TAG) == 0) {
		if (f->tag == NULL || !rg_tag_valid(f->tag))
			return -1;
		if (f->protect)
			return (*why = "protected"), 0;
		if ((s = fallback_subject(f->tag)) != NO_REF && (i = man_find(r, s,
		    0)) != -1 && (MAN(i)->flags & (M_SEEN | M_PROTECTED)) ==
		    (M_SEEN | M_PROTECTED))
			return (*why = "referrer-of-protected"), 0;
		if (f->marked)
			return (*why = "selected"), 1;
		if (s != NO_REF && seen(r, s))
			return alive(r, s) ? (*why = "referrer-of-surviving", 0) :
			    (*why = "referrer-of-deleted", 1);
		if (s != NO_REF && seen(r, b) && (MAN(man_find(r, b, 0))->flags &
		    (M_ORPHAN | M_ALIVE)) == M_ORPHAN)
			return (*why = "subject-missing"), 1;
		if (!seen(r, b))
			return -1;	/* it points at no manifest: broken, left alone */
		return alive(r, b) ? -1 : (*why = "manifest-deleted", 1);
	}
	if (strcmp(type, RG_T_MANIFEST) == 0)
		return (i = man_find(r, b, 0)) == -1 ? -1 : judge_manifest(i, why);
	if (strcmp(type, RG_T_LAYER) == 0) {
		k.repo = r;
		k.blob = b;
		if ((i = rg_dtab_index(&links, &k, 0)) == -1)
			return (*why = "unreferenced"), 1;
		return judge_layer(i, why);
	}
	return -1;
}

/* The verdict on the record of a ticket, as rg_graph_judge. */
int
rg_graph_judge_ticket(const struct rg_ticket *t, const char **why)
{
	switch (t->kind) {
	case RG_TK_BLOB:
		return judge_blob(t->idx, why);
	case RG_TK_MANIFEST:
		return judge_manifest(t->idx, why);
	case RG_TK_LAYER:
		return judge_layer(t->idx, why);
	}
	return -1;
}

/* The plan's key of a ticket's record: its repository (NULL for a blob) and digest. */
const char *
rg_graph_ticket_key(const struct rg_ticket *t, char digest[RG_DIGEST_STRLEN + 1],
    int64_t *size)
{
	*size = 0;
	switch (t->kind) {
	case RG_TK_BLOB:
		rg_digest_format(&BLOB(t->idx)->d, digest);
		*size = (int64_t)BLOB(t->idx)->size;
		return NULL;
	case RG_TK_MANIFEST:
		rg_digest_format(&MAN(t->idx)->k.d, digest);
		return repo_name(MAN(t->idx)->k.repo);
	default:
		rg_digest_format(&BLOB(LINK(t->idx)->k.blob)->d, digest);
		return repo_name(LINK(t->idx)->k.repo);
	}
}


/* Work out what survives; what is broken is reported. */
void
rg_graph_solve(void)
{
	reach();
	sweep();
	if (partial)
		warnx("the scan covers only some repositories (repo_filter): "
		    "no blob is marked");
	if (saw_scan && !saw_end) {
		warnx("the stream ends before rg-scan's scan-end record: it was "
		    "cut short; no blob is marked");
		incomplete = 1;
		status = RG_EXIT_PARTIAL;
	} else if (incomplete)
		warnx("rg-scan could not read all of the storage (scan-end: "
		    "\"complete\": false): no blob is marked");
}

/* 1 when something was reported that makes the run a partial failure. */
int
rg_graph_status(void)
{
	return status;
}

int
rg_graph_init(int with_tags)
{
	keep_tags = with_tags;
	return rg_dtab_init(&blobs, sizeof(struct blob), sizeof(struct rg_digest)) ||
	    rg_dtab_init(&mans, sizeof(struct man), sizeof(struct mkey)) ||
	    rg_dtab_init(&links, sizeof(struct link), sizeof(struct lkey)) ||
	    rg_dtab_init(&repos, sizeof(struct repo), sizeof(struct rg_digest)) ? -1 : 0;
}

/*
 * --usage.  A root holds its manifests and their blobs: a repository holds
 * all of its manifests; a tag its manifest, that manifest's children and
 * referrers, recursively.  With tags, the manifests no tag reaches are
 * roots of their own, so what tags share with images left behind counts as
 * shared.  A blob held by one root alone is freed when that root goes.
 */

typedef void blob_fn(uint32_t b, uint32_t root, void *arg);

/*
 * Call fn once for each blob root holds through manifest i: the manifest's
 * own blob, its config and layers, and with deep its children's and
 * referrers', recursively.  Stamps keep each manifest and blob to once.
 */
static void
each_blob(uint32_t i, uint32_t root, int deep, blob_fn *fn, void *arg)
{
	struct man *m = MAN(i);
	uint32_t bi;
	size_t j;
	long c;

	if (man_stamp[i] == root)
		return;
	man_stamp[i] = root;
	for (j = 0; j <= m->nblobs; j++) {
		bi = j == m->nblobs ? blob_id_raw(&m->k.d) : refpool[m->refs + j];
		if (blob_stamp[bi] == root)
			continue;
		blob_stamp[bi] = root;
		fn(bi, root, arg);
	}
	if (!deep)
		return;
	for (j = 0; j < m->nkids; j++) {
		c = man_find(m->k.repo, refpool[m->refs + m->nblobs + j], 0);
		if (c != -1 && (MAN(c)->flags & M_SEEN))
			each_blob((uint32_t)c, root, deep, fn, arg);
	}
	for (c = (long)m->first_referrer - 1; c != -1; c = (long)MAN(c)->next_referrer - 1)
		each_blob((uint32_t)c, root, deep, fn, arg);
}

static void
hold(uint32_t b, uint32_t root, void *arg)
{
	(void)root;
	(void)arg;
	blob_holders[b]++;
}

struct sums {
	int64_t alone, total;
};

static void
sum(uint32_t b, uint32_t root, void *arg)
{
	struct sums *s = arg;

	(void)root;
	s->total = rg_size_add(s->total, (int64_t)BLOB(b)->size);
	if (blob_holders[b] == 1)
		s->alone = rg_size_add(s->alone, (int64_t)BLOB(b)->size);
}

static int
by_repo_name(const void *a, const void *b)
{
	return strcmp(repo_names[*(const uint32_t *)a], repo_names[*(const uint32_t *)b]);
}

static int
by_repo(const void *a, const void *b)
{
	uint32_t x = MAN(*(const uint32_t *)a)->k.repo, y = MAN(*(const uint32_t *)b)->k.repo;

	return (x > y) - (x < y);
}

static void
clear_stamps(void)
{
	memset(blob_stamp, 0, (blobs.n + 1) * sizeof(*blob_stamp));
	memset(blob_holders, 0, (blobs.n + 1) * sizeof(*blob_holders));
	memset(man_stamp, 0, (mans.n + 1) * sizeof(*man_stamp));
}

/*
 * Call fn for each repository (tag NULL), in name order, and with tags for
 * each of its tags after it: the bytes it alone holds, and all it holds.
 * Each phase numbers its roots apart, so that stamps never collide.
 */
void
rg_graph_usage(int with_tags, rg_usage_fn *fn, void *arg)
{
	uint32_t *order, *byrepo;
	int64_t *alone, *total;
	struct sums s;
	size_t i, j, k, nr = repos.n;

	if ((order = calloc(nr + 1, sizeof(*order))) == NULL ||
	    (byrepo = calloc(mans.n + 1, sizeof(*byrepo))) == NULL ||
	    (alone = calloc(nr + 1, sizeof(*alone))) == NULL ||
	    (total = calloc(nr + 1, sizeof(*total))) == NULL ||
	    (blob_stamp = calloc(blobs.n + 1, sizeof(*blob_stamp))) == NULL ||
	    (blob_holders = calloc(blobs.n + 1, sizeof(*blob_holders))) == NULL ||
	    (man_stamp = calloc(mans.n + 1, sizeof(*man_stamp))) == NULL)
		rg_nomem();
	for (i = 0; i < nr; i++)
		order[i] = (uint32_t)i;
	qsort(order, nr, sizeof(*order), by_repo_name);
	for (i = 0, k = 0; i < mans.n; i++)
		if (MAN(i)->flags & M_SEEN)
			byrepo[k++] = (uint32_t)i;
	qsort(byrepo, k, sizeof(*byrepo), by_repo);

	/* repositories: root r + 1 holds every manifest of repository r */
	clear_stamps();
	for (i = 0; i < k; i++)
		each_blob(byrepo[i], MAN(byrepo[i])->k.repo + 1, 0, hold, NULL);
	for (i = 0; i < k; i++) {
		s.alone = s.total = 0;
		each_blob(byrepo[i], (uint32_t)(nr + 1 + MAN(byrepo[i])->k.repo), 0,
		    sum, &s);
		alone[MAN(byrepo[i])->k.repo] += s.alone;
		total[MAN(byrepo[i])->k.repo] += s.total;
	}

	/* tags: root j + 1; the manifests no tag reaches, one root each */
	if (with_tags) {
		clear_stamps();
		for (j = 0; j < ntags; j++)	/* a referrer's tags go with its subject */
			if (!(MAN(tags[j].man)->flags & M_REFERRER))
				each_blob(tags[j].man, (uint32_t)j + 1, 1, hold, NULL);
		for (i = 0; i < k; i++)
			if (man_stamp[byrepo[i]] == 0)
				each_blob(byrepo[i], (uint32_t)(ntags + 1 + i), 0, hold, NULL);
	}
	for (i = 0; i < nr; i++) {
		fn(arg, repo_names[order[i]], NULL, alone[order[i]], total[order[i]]);
		for (j = 0; with_tags && j < ntags; j++) {
			if (tags[j].repo != order[i])
				continue;
			s.alone = s.total = 0;
			each_blob(tags[j].man, (uint32_t)(ntags + k + 2 + j), 1, sum, &s);
			if (MAN(tags[j].man)->flags & M_REFERRER)
				s.alone = 0;	/* it survives while its subject does */
			fn(arg, repo_names[order[i]], tags[j].name, s.alone, s.total);
		}
	}
	free(order);
	free(byrepo);
	free(alone);
	free(total);
	free(blob_stamp);
	free(blob_holders);
	free(man_stamp);
}
