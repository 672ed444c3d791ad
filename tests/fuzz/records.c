/*
 * records: the record reader's two paths must agree.  For every line,
 * the allocation-free scan (rg_rec_scan, rg_jscan) and jansson's parse as
 * rg_parse_line makes it (rg_rec_fields) give the same fields, or the
 * scan declines and jansson decides; whatever the scan accepts jansson
 * accepts.
 */
#include <unistd.h>

#include "graph.h"
#include "fuzz.h"

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL &&
	    strcmp(a, b) == 0);
}

static void
same_list(struct rg_jlist a, struct rg_jlist b)
{
	char x[RG_DIGEST_STRLEN + 1], y[RG_DIGEST_STRLEN + 1];
	const char *p, *q;

	do {
		p = rg_jlist_next(&a, x, sizeof(x));
		q = rg_jlist_next(&b, y, sizeof(y));
		check(same_str(p, q));
	} while (p != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct rg_rec f, g;
	struct rg_recbuf b;
	struct rg_jscan j;
	int marks, noted, scanned, tags;
	json_t *rec, *t;

	rec = json_loadb(line, size, JSON_REJECT_DUPLICATES, NULL);
	scanned = rg_jscan(line, size, &j) == 0;
	if (scanned) {
		/* what the fast path of rg-select passes on unparsed */
		check(json_is_object(rec));
		t = json_object_get(rec, RG_F_TYPE);
		check(j.f[RG_JS_TYPE].s == NULL || json_is_string(t));
		if (j.f[RG_JS_TYPE].s != NULL && !j.escaped)
			check(rg_jscan_is(&j, RG_JS_TYPE, json_string_value(t)));
		check(j.delete == json_is_true(json_object_get(rec, RG_F_DELETE)));
		tags = rg_jlist_empty(&j, RG_JS_TAGS);
		t = json_object_get(rec, RG_F_TAGS);
		check(tags == (!json_is_array(t) ? -1 : json_array_size(t) == 0));
	}
	if (rg_rec_scan(line, size, &f, &b, &marks, &noted) == 0) {
		check(scanned && rec != NULL);
		rg_rec_fields(rec, &g);
		check(same_str(f.type, g.type));
		check(same_str(f.repo, g.repo));
		check(same_str(f.digest, g.digest));
		check(same_str(f.tag, g.tag));
		check(same_str(f.subject, g.subject));
		check(f.size == g.size);
		check(f.marked == g.marked);
		check(f.error == g.error);
		check(f.repo_filter == g.repo_filter);
		same_list(f.blobs, g.blobs);
		same_list(f.manifests, g.manifests);
		same_list(f.foreign, g.foreign);
		check(marks == (json_object_get(rec, RG_F_DELETE) != NULL ||
		    json_object_get(rec, RG_F_REASON) != NULL ||
		    json_object_get(rec, RG_F_KEPT) != NULL));
		check(noted == (json_object_get(rec, RG_F_REASON) != NULL ||
		    json_object_get(rec, RG_F_KEPT) != NULL));
	}
	json_decref(rec);
	return 0;
}
