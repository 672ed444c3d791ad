/*
 * rg-refs: what becomes garbage once the marked records are gone.
 *
 * Reads the whole stream (rg-records(5)), works out what is still
 * reachable, marks with "delete": true (and a "reason") everything that
 * becomes garbage, unmarks what a surviving image still needs (with a
 * "kept" reason), writes the stream on, and ends it with a "refs" record:
 * the counts, the bytes freed and a digest of the plan, the mark rg-rm
 * asks for.
 *
 * Two passes: the first reads the stream, spooling it to a temporary file,
 * and keeps only digests (32 raw bytes, in open-addressing tables) and
 * numbers; the second reads the spool back and writes each record with
 * its verdict (common/graph.c holds the rules).  Lines are read with
 * jscan, not parsed, unless they use escapes; each is spooled with the
 * table entry it is, so that pass 2 judges blobs, manifests and layer
 * links by index; a verdict is added to the line as it came.  Memory: digests and table indices, never the records
 * (make bench measures it per blob or manifest).
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph.h"

static long long uploads_older = -1;
static int verbose, usage_mode, usage_tags;
static time_t now;

static unsigned long unreadable;

/* the types rg-rm deletes, whose marks rg-refs' plan must cover */
static int
deletable(const char *type)
{
	return type != NULL && (strcmp(type, RG_T_TAG) == 0 ||
	    strcmp(type, RG_T_MANIFEST) == 0 || strcmp(type, RG_T_LAYER) == 0 ||
	    strcmp(type, RG_T_BLOB) == 0 || strcmp(type, RG_T_UPLOAD) == 0);
}

static int
is(const char *type, const char *a, const char *b, const char *c)
{
	return strcmp(type, a) == 0 || strcmp(type, b) == 0 || strcmp(type, c) == 0;
}

static int
take(json_t *rec, const char *line, size_t len, const char *where, void *arg)
{
	(void)line;
	(void)len;
	(void)arg;
	rg_graph_add(rec, where);
	return 0;
}

/*
 * The spool: each line after a header that says which entry of the graph
 * it is (a ticket), so that pass 2 judges blobs, manifests and layer links
 * by index, without reading them again.
 */
struct head {
	uint32_t kind, idx, flags, len;
	uint64_t line;
};

enum { F_MARKED = 1, F_MARKS = 2, F_NOTED = 4 };

/* pass 1: spool the stream, and take it in; parse only what jscan cannot read */
static int
gather(char *line, size_t len, const struct rg_at *at, void *arg)
{
	struct rg_ticket tk = { RG_TK_NONE, 0 };
	struct head h;
	struct rg_rec f;
	struct rg_recbuf b;
	int r = 0, marks, noted;

	if (rg_rec_scan(line, len, &f, &b, &marks, &noted) == 0 &&
	    strcmp(f.type, RG_T_SCAN_END) != 0)	/* its "complete" needs a parse */
		rg_graph_add_fields(&f, at->where, &tk);
	else
		r = rg_parse_line(line, len, at->where, take, NULL);
	if (arg == NULL)
		return r;
	memset(&h, 0, sizeof(h));
	h.kind = tk.kind;
	h.idx = tk.idx;
	h.flags = tk.kind == RG_TK_NONE ? 0 : (f.marked ? F_MARKED : 0) |
	    (marks ? F_MARKS : 0) | (noted ? F_NOTED : 0);
	h.len = (uint32_t)len;
	h.line = at->line;
	if (len > UINT32_MAX || fwrite(&h, sizeof(h), 1, arg) != 1 ||
	    fwrite(line, 1, len, arg) != len) {
		warn("spool");
		return -1;
	}
	return r;
}

static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: rg-refs [-v] [-U duration]\n"
	    "       rg-refs -u [-t]\n");
	exit(code);
}

struct tally {
	unsigned long tags, manifests, layers, blobs, uploads, kept;
	long long bytes, upload_bytes;
	struct rg_plan plan;
};

static void
count(struct tally *t, const char *type, long long size)
{
	if (strcmp(type, RG_T_TAG) == 0)
		t->tags++;
	else if (strcmp(type, RG_T_MANIFEST) == 0)
		t->manifests++;
	else if (strcmp(type, RG_T_LAYER) == 0)
		t->layers++;
	else if (strcmp(type, RG_T_BLOB) == 0) {
		t->blobs++;
		t->bytes = rg_size_add(t->bytes, size);
	} else {
		t->uploads++;
		t->upload_bytes = rg_size_add(t->upload_bytes, size);
	}
}

static int
verdict(json_t *rec, const char *line, size_t len, const char *where, void *arg)
{
	struct tally *t = arg;
	const char *type = rg_str(rec, RG_F_TYPE), *why = NULL;
	struct rg_rec f;
	int v, was;

	rg_rec_fields(rec, &f);
	v = type != NULL ? rg_graph_judge(&f, rec, &why, uploads_older, now) : -1;
	was = f.marked;

	if (type != NULL && strcmp(type, RG_T_REFS) == 0)
		return 0;	/* an earlier pass's: this one writes its own */
	if (v == -1 && was && deletable(type)) {
		warnx("%s: marked %s record that names no valid repository, "
		    "digest or tag: unmarked", where, type);
		unreadable++;
		v = 0;
		why = "unreadable";
	}
	if (v == 1) {
		json_object_set_new(rec, RG_F_DELETE, json_true());
		json_object_set_new(rec, RG_F_REASON, json_string(why));
		json_object_del(rec, RG_F_KEPT);
		rg_plan_add(&t->plan, rec);
		count(t, type, f.size);
		return rg_emit(stdout, rec);
	}
	if (v == 0 && was) {
		json_object_set_new(rec, RG_F_DELETE, json_false());
		json_object_set_new(rec, RG_F_KEPT, json_string(why));
		json_object_del(rec, RG_F_REASON);
		t->kept++;
		if (verbose)
			warnx("%s: %s %s@%s: marked, but kept: %s", where, type,
			    rg_strz(rec, RG_F_REPO), rg_strz(rec, strcmp(type,
			    RG_T_TAG) == 0 ? RG_F_TAG : RG_F_DIGEST), why);
		return rg_emit(stdout, rec);
	}
	return rg_write_line(line, len);
}

static void
human(char *buf, size_t size, int64_t n)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	rg_msg(buf, size, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* --usage: a record per repository (and tag), or a table on a terminal */
static void
usage_line(void *arg, const char *repo, const char *tag, int64_t alone,
    int64_t total)
{
	char a[32], s[32], t[32];
	json_t *rec;

	if (*(int *)arg) {
		human(a, sizeof(a), alone);
		human(s, sizeof(s), total - alone);
		human(t, sizeof(t), total);
		printf("%-40s %-20s %12s %12s %12s\n", repo, tag ? tag : "", a, s, t);
		return;
	}
	rec = rg_record_new(RG_T_USAGE, repo);
	if (tag != NULL)
		json_object_set_new(rec, RG_F_TAG, json_string(tag));
	json_object_set_new(rec, "alone", json_integer(alone));
	json_object_set_new(rec, "shared", json_integer(total - alone));
	json_object_set_new(rec, "total", json_integer(total));
	if (rg_emit(stdout, rec) != 0)
		_exit(RG_EXIT_FATAL);
	json_decref(rec);
}

/* what rg-rm --quarantine holds, from rg-scan's quarantine records */
static struct {
	unsigned long runs, objects;
	int64_t bytes;
} held;

static int
take_held(json_t *rec, const char *line, size_t len, const char *where,
    void *arg)
{
	json_int_t n = json_integer_value(json_object_get(rec, "objects"));

	(void)line;
	(void)len;
	(void)where;
	(void)arg;
	held.runs++;
	held.objects += n > 0 ? (unsigned long)n : 0;
	held.bytes = rg_size_add(held.bytes,
	    json_integer_value(json_object_get(rec, "bytes")));
	return 0;
}

static int
usage_gather(char *line, size_t len, const struct rg_at *at, void *arg)
{
	struct rg_jscan j;

	if (rg_jscan(line, len, &j) == 0 && rg_jscan_is(&j, RG_JS_TYPE,
	    RG_T_QUARANTINE))
		return rg_parse_line(line, len, at->where, take_held, NULL);
	return gather(line, len, at, arg);
}

static int
usage_report(void)
{
	char t[32], what[64];
	int table = isatty(STDOUT_FILENO);
	json_t *rec;

	if (rg_lines(STDIN_FILENO, "<stdin>", usage_gather, NULL) != 0)
		_exit(RG_EXIT_FATAL);
	rg_graph_solve();
	if (table)
		printf("%-40s %-20s %12s %12s %12s\n", "REPOSITORY", "TAG",
		    "ALONE", "SHARED", "TOTAL");
	rg_graph_usage(usage_tags, usage_line, &table);
	if (held.runs > 0 && table) {
		human(t, sizeof(t), held.bytes);
		rg_msg(what, sizeof(what), "(quarantine: %lu runs)", held.runs);
		printf("%-40s %-20s %12s %12s %12s\n", what, "", "", "", t);
	} else if (held.runs > 0) {
		rec = rg_record_new(RG_T_USAGE, NULL);
		json_object_set_new(rec, RG_T_QUARANTINE, json_true());
		json_object_set_new(rec, "runs", json_integer((json_int_t)held.runs));
		json_object_set_new(rec, "objects",
		    json_integer((json_int_t)held.objects));
		json_object_set_new(rec, "total", json_integer(held.bytes));
		if (rg_emit(stdout, rec) != 0)
			_exit(RG_EXIT_FATAL);
		json_decref(rec);
	}
	if (rg_stdout_close() != 0)
		return RG_EXIT_FATAL;
	return rg_graph_status();
}

/*
 * Pass 2.  A line's verdict, decided once: from its ticket when pass 1
 * found its entry, else from its fields; a line neither way (a line with
 * escapes, a type the graph does not judge) is parsed and judged whole.
 */
struct judged {
	int v;	/* 1 delete, 0 keep, -1 not the graph's, -2 not read here */
	const char *why;
	const char *type, *repo, *key;	/* the plan's key, for v == 1 */
	char digest[RG_DIGEST_STRLEN + 1];
	int64_t size;
	int marked, marks, noted;
	struct rg_recbuf b;	/* the strings read from the line */
};

static int
judge(const struct head *h, char *line, struct judged *j)
{
	static const char *type[] = { NULL, RG_T_BLOB, RG_T_MANIFEST, RG_T_LAYER };
	struct rg_ticket tk = { h->kind, h->idx };
	struct rg_rec f;

	j->repo = j->key = NULL;
	if (h->kind != RG_TK_NONE && h->kind <= RG_TK_LAYER) {
		j->v = rg_graph_judge_ticket(&tk, &j->why);
		j->size = 0;
		j->type = type[h->kind];
		j->marked = (h->flags & F_MARKED) != 0;
		j->marks = (h->flags & F_MARKS) != 0;
		j->noted = (h->flags & F_NOTED) != 0;
		if (j->v == 1) {
			j->repo = rg_graph_ticket_key(&tk, j->digest, &j->size);
			j->key = j->digest;
		}
		return 0;
	}
	if (rg_rec_scan(line, h->len, &f, &j->b, &j->marks, &j->noted) != 0 ||
	    !(is(f.type, RG_T_BLOB, RG_T_LAYER, RG_T_TAG) ||
	    is(f.type, RG_T_MANIFEST, RG_T_REPO, RG_T_SCAN)))
		return -1;
	j->v = is(f.type, RG_T_REPO, RG_T_SCAN, RG_T_SCAN) ? -1 :
	    rg_graph_judge(&f, NULL, &j->why, uploads_older, now);
	j->type = f.type;
	j->marked = f.marked;
	j->size = f.size;
	j->repo = f.repo;
	j->key = strcmp(f.type, RG_T_TAG) == 0 ? f.tag : f.digest;
	return 0;
}

/*
 * The one writer: a line that needs no change as it came; a verdict to
 * delete spliced into the line as it came; anything else (a mark undone,
 * a reason replaced) through jansson.
 */
static int
write_judged(char *line, size_t len, const struct judged *j,
    unsigned long lineno, struct tally *t)
{
	char add[80], where[32];
	int r;

	if (j->v != -2 && ((j->v == -1 && !(j->marked && deletable(j->type))) ||
	    (j->v == 0 && !j->marked)))
		return rg_write_line(line, len);
	if (j->v == 1 && (!j->marks || (j->marked && !j->noted))) {
		if (rg_path(add, sizeof(add), "%s\"reason\":\"%s\"",
		    j->marks ? "" : "\"delete\":true,", j->why) != 0)
			errx(RG_EXIT_FATAL, "<stdin>:%lu: a reason too long",
			    lineno);
		if ((r = rg_write_with(line, len, add)) <= 0) {
			rg_plan_add_fields(&t->plan, j->type, j->repo, j->key);
			count(t, j->type, j->size);
			return r;
		}
	}
	rg_msg(where, sizeof(where), "<stdin>:%lu", lineno);
	return rg_parse_line(line, len, where, verdict, t);
}

static int
judge_spooled(const struct head *h, char *line, struct tally *t)
{
	struct judged j;

	if (judge(h, line, &j) != 0) {
		j.v = -2;	/* not judged here: parsed, judged whole */
		j.marked = 0;
	}
	return write_judged(line, h->len, &j, (unsigned long)h->line, t);
}

/* Read the spool back, a header and a line at a time. */
static int
replay(FILE *spool, struct tally *t)
{
	char *line = NULL;
	size_t cap = 0;
	struct head h;
	int r = 0;

	while (r == 0 && fread(&h, sizeof(h), 1, spool) == 1) {
		if (h.len + 1 > cap) {
			cap = h.len + 1 > 2 * cap ? h.len + 1 : 2 * cap;
			if ((line = realloc(line, cap)) == NULL)
				err(RG_EXIT_FATAL, NULL);
		}
		if (fread(line, 1, h.len, spool) != h.len) {
			warnx("spool: cut short");
			r = -1;
			break;
		}
		line[h.len] = '\0';
		r = judge_spooled(&h, line, t);
	}
	if (r == 0 && ferror(spool)) {
		warn("spool");
		r = -1;
	}
	free(line);
	return r;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "uploads-older-than", required_argument, NULL, 'U' },
		{ "usage", no_argument, NULL, 'u' },
		{ "tags", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char plan[RG_DIGEST_STRLEN + 1];
	struct tally t;
	json_t *rec;
	FILE *spool;
	int c;

	now = time(NULL);
	while ((c = getopt_long(argc, argv, "htU:uvV", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			usage_mode = 1;
			break;
		case 't':
			usage_tags = 1;
			break;
		case 'U':
			if (rg_duration_arg("--uploads-older-than", optarg,
			    &uploads_older) != 0)
				return RG_EXIT_FATAL;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout, RG_EXIT_OK);
			break;
		case 'V':
			return rg_version_print("rg-refs");
		default:
			usage(stderr, RG_EXIT_FATAL);
		}
	}
	if (optind != argc || (usage_tags && !usage_mode))
		usage(stderr, RG_EXIT_FATAL);
	if (rg_graph_init(usage_tags) != 0)
		err(RG_EXIT_FATAL, NULL);
	if (usage_mode)
		return usage_report();
	if ((spool = tmpfile()) == NULL)
		err(RG_EXIT_FATAL, "spool");

	if (rg_lines(STDIN_FILENO, "<stdin>", gather, spool) != 0 ||
	    fflush(spool) == EOF || ferror(spool))
		_exit(RG_EXIT_FATAL);
	rg_graph_solve();

	memset(&t, 0, sizeof(t));
	if (rg_plan_init(&t.plan) != 0)
		errx(RG_EXIT_FATAL, "sha256: cannot start");
	rewind(spool);
	if (replay(spool, &t) != 0)
		_exit(RG_EXIT_FATAL);
	rg_plan_final(&t.plan, plan);
	rec = rg_record_new(RG_T_REFS, NULL);
	json_object_set_new(rec, RG_F_TAGS, json_integer((json_int_t)t.tags));
	json_object_set_new(rec, RG_F_MANIFESTS, json_integer((json_int_t)t.manifests));
	json_object_set_new(rec, "layers", json_integer((json_int_t)t.layers));
	json_object_set_new(rec, RG_F_BLOBS, json_integer((json_int_t)t.blobs));
	json_object_set_new(rec, "uploads", json_integer((json_int_t)t.uploads));
	json_object_set_new(rec, "bytes", json_integer(t.bytes + t.upload_bytes));
	json_object_set_new(rec, "plan", json_string(plan));
	json_object_set_new(rec, "rg_version", json_string(RG_VERSION));
	if (rg_emit(stdout, rec) != 0)
		_exit(RG_EXIT_FATAL);
	json_decref(rec);
	fprintf(stderr, "rg-refs: to delete: %lu tags, %lu manifests, %lu layer "
	    "links, %lu blobs (%lld bytes), %lu uploads (%lld bytes)\n", t.tags,
	    t.manifests, t.layers, t.blobs, t.bytes, t.uploads, t.upload_bytes);
	if (t.kept > 0)
		fprintf(stderr, "rg-refs: kept %lu marked records that surviving "
		    "images need (see \"kept\"%s)\n", t.kept,
		    verbose ? "" : "; -v names them");
	if (rg_stdout_close() != 0)
		return RG_EXIT_FATAL;
	return unreadable > 0 ? RG_EXIT_PARTIAL : rg_graph_status();
}
