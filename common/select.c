/*
 * select.c: the criteria of rg-select and what they select.
 *
 * Candidates are tag records, or with --untagged manifest records no tag
 * points at.  The name criteria (--repo, --tag, names given as arguments,
 * minus --keep-tag) make the candidates; rg_select_keep spares the --keep
 * newest candidates of a repository (by --order); of the rest, those inside
 * the time window for which every --where holds are chosen.
 */
#include <err.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select.h"

static const char *orders[] = { "created", "pushed", "name", "version" };

/* rg-select's options; a policy file's keys are the long names of those
 * but policy, only, help and version (RG_SELECT_NOT_IN_POLICY) */
const struct option rg_select_longopts[] = {
	{ "repo", required_argument, NULL, 'r' },
	{ "tag", required_argument, NULL, 't' },
	{ "keep-tag", required_argument, NULL, 'K' },
	{ "keep", required_argument, NULL, 'k' },
	{ "group", required_argument, NULL, 'G' },
	{ "expires", no_argument, NULL, 'e' },
	{ "expires-label", required_argument, NULL, 'L' },
	{ "not-pulled-for", required_argument, NULL, 'P' },
	{ "protect", required_argument, NULL, 'I' },
	{ "registry", required_argument, NULL, 'H' },
	{ "older-than", required_argument, NULL, 'O' },
	{ "before", required_argument, NULL, 'b' },
	{ "after", required_argument, NULL, 'a' },
	{ "time", required_argument, NULL, 'T' },
	{ "order", required_argument, NULL, 'S' },
	{ "untagged", no_argument, NULL, 'u' },
	{ "referrers", no_argument, NULL, 'R' },
	{ "where", required_argument, NULL, 'w' },
	{ "policy", required_argument, NULL, 'p' },
	{ "only", no_argument, NULL, 'o' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};


void
rg_select_init(struct rg_select *s, time_t now)
{
	memset(s, 0, sizeof(*s));
	s->order = RG_ORDER_CREATED;
	s->unpulled = -1;
	s->env.now = now;
	s->env.time_key = orders[RG_ORDER_CREATED];
}

/* What the criteria hold, let go (rg-select exits instead; the fuzzer's policy target frees). */
void
rg_select_free(struct rg_select *s)
{
	size_t i;

	for (i = 0; i < s->nrepo_re; i++)
		rg_regex_free(s->repo_re[i]);
	for (i = 0; i < s->ntag_re; i++)
		rg_regex_free(s->tag_re[i]);
	for (i = 0; i < s->nkeep_tag_re; i++)
		rg_regex_free(s->keep_tag_re[i]);
	for (i = 0; i < s->nwheres; i++)
		rg_expr_free(s->wheres[i]);
	rg_regex_free(s->group_re);
	free(s->expires_label);
	for (i = 0; i < s->protect.npaths; i++)
		free(s->protect.paths[i]);
	rg_protect_free(&s->protect);
	for (i = 0; i < s->nnames; i++)
		free(s->names[i].repo);	/* (holds its tag) */
	memset(s, 0, sizeof(*s));
}

/* Is there room for one more of what? */
static int
room(size_t n, const char *what)
{
	if (n < RG_SEL_MAX)
		return 1;
	warnx("%s: more than %d", what, RG_SEL_MAX);
	return 0;
}

static int
add_regex(struct rg_regex **v, size_t *n, const char *opt, const char *arg)
{
	return room(*n, opt) && (v[(*n)++] = rg_regex_new(opt, arg)) != NULL ?
	    0 : -1;
}

/*
 * One criterion, by its short option letter, from the command line or a
 * policy file: 0, or -1 said.
 */
int
rg_select_option(struct rg_select *s, int opt, const char *optname,
    const char *arg)
{
	char *end;

	switch (opt) {
	case 'r':
		return add_regex(s->repo_re, &s->nrepo_re, optname, arg);
	case 't':
		return add_regex(s->tag_re, &s->ntag_re, optname, arg);
	case 'K':
		return add_regex(s->keep_tag_re, &s->nkeep_tag_re, optname, arg);
	case 'k':
		s->keep_n = strtol(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || s->keep_n < 0) {
			warnx("%s: %s: not a count", optname, arg);
			return -1;
		}
		return 0;
	case 'O':
	case 'b':
	case 'a':
		return rg_window_set(&s->window, opt, optname, arg, s->env.now);
	case 'T':
		if (strcmp(arg, orders[RG_ORDER_CREATED]) != 0 &&
		    strcmp(arg, orders[RG_ORDER_PUSHED]) != 0)
			return warnx("%s: %s: not created or pushed", optname,
			    arg), -1;
		s->env.time_key = orders[strcmp(arg, "created") == 0 ?
		    RG_ORDER_CREATED : RG_ORDER_PUSHED];
		return 0;
	case 'S':
		for (s->order = 0; s->order < 4; s->order++)
			if (strcmp(arg, orders[s->order]) == 0)
				return 0;
		warnx("%s: %s: not created, pushed, name or version", optname,
		    arg);
		return -1;
	case 'u':
		s->untagged = 1;
		return 0;
	case 'R':
		s->referrers = 1;
		return 0;
	case 'w':
		return room(s->nwheres, optname) && (s->wheres[s->nwheres++] =
		    rg_expr_parse(optname, arg)) != NULL ? 0 : -1;
	case 'e':
		s->expires = 1;
		return 0;
	case 'P':
		return rg_duration_arg(optname, arg, &s->unpulled);
	case 'I':
		if (strcmp(arg, "-") == 0)
			return warnx("%s: -: standard input carries the records: "
			    "give a file, or <(kubectl get pods -A -o json)",
			    optname), -1;
		if (!room(s->protect.npaths, optname))
			return -1;
		if ((s->protect.paths[s->protect.npaths++] = strdup(arg)) == NULL)
			rg_nomem();
		return 0;
	case 'H':
		if (*arg == '\0' || strpbrk(arg, "/@ \t") != NULL ||
		    strlen(arg) >= sizeof(((struct rg_imageref *)0)->host))
			return warnx("%s: %s: not a registry host[:port]", optname,
			    arg), -1;
		if (!room(s->protect.nhosts, optname))
			return -1;
		if ((s->protect.hosts[s->protect.nhosts++] = strdup(arg)) == NULL)
			rg_nomem();
		return 0;
	case 'L':
		free(s->expires_label);
		s->expires_label = NULL;
		if (*arg == '\0')
			return warnx("%s: an empty label", optname), -1;
		if ((s->expires_label = strdup(arg)) == NULL)
			rg_nomem();
		return 0;
	case 'G':
		if (s->group_re != NULL)
			return warnx("%s: given twice: one pattern names the "
			    "groups", optname), -1;
		if ((s->group_re = rg_regex_new(optname, arg)) == NULL)
			return -1;
		if (rg_regex_groups(s->group_re) == 0)
			return warnx("%s: %s: no capture group: what a pair of "
			    "parentheses captures names a tag's group", optname,
			    arg), -1;
		return 0;
	}
	return -1;
}

/* A repo[:tag] argument. */
int
rg_select_name(struct rg_select *s, const char *arg)
{
	if (!room(s->nnames, "names") || rg_name_parse(arg,
	    &s->names[s->nnames].repo, &s->names[s->nnames].tag) != 0)
		return -1;
	s->nnames++;
	return 0;
}

/* Does anything select?  (--protect alone keeps, and selects nothing.) */
static int
selects(const struct rg_select *s)
{
	return s->untagged || s->nrepo_re + s->ntag_re + s->nkeep_tag_re +
	    s->nwheres + s->nnames > 0 || s->keep_n != 0 ||
	    rg_window_set_any(&s->window) || s->expires || s->unpulled >= 0;
}

/* Do the criteria make sense together?  0, or -1 said. */
int
rg_select_check(const struct rg_select *s)
{
	struct rg_digest d;
	size_t i;

	if (s->group_re != NULL && s->keep_n <= 0) {
		warnx("--group: counts --keep per group: give --keep N too");
		return -1;
	}
	if (s->protect.nhosts > 0 && s->protect.npaths == 0) {
		warnx("--registry: says which references of --protect name this "
		    "registry: give --protect too");
		return -1;
	}
	if (s->expires_label != NULL && !s->expires) {
		warnx("--expires-label: says which label --expires reads: give "
		    "--expires too");
		return -1;
	}
	if (!selects(s) && s->protect.npaths == 0) {
		warnx("no selection criteria: that would mark every tag");
		return -1;
	}
	if (s->untagged && (s->ntag_re > 0 || s->nkeep_tag_re > 0)) {
		warnx("--untagged selects manifests: --tag and --keep-tag do "
		    "not apply");
		return -1;
	}
	if (s->untagged && s->group_re != NULL) {
		warnx("--untagged selects manifests: --group groups tags");
		return -1;
	}
	for (i = 0; !s->referrers && i < s->nnames; i++)
		if (s->names[i].tag != NULL &&
		    rg_referrer_tag(s->names[i].tag, &d)) {
			warnx("%s:%s: a referrer tag (a signature, attestation "
			    "or SBOM) goes with its image: --referrers selects "
			    "those", s->names[i].repo, s->names[i].tag);
			return -1;
		}
	for (i = 0; s->untagged && i < s->nnames; i++)
		if (s->names[i].tag != NULL) {
			warnx("--untagged selects manifests: name a repository, "
			    "not %s:%s", s->names[i].repo, s->names[i].tag);
			return -1;
		}
	return 0;
}

/*
 * Read the --protect lists: 0, or -1 said; *bad counts the images of
 * kubectl JSON that are not references (each said).
 */
int
rg_select_load(struct rg_select *s, unsigned long *bad)
{
	unsigned long b;
	size_t i;

	*bad = 0;
	for (i = 0; i < s->protect.npaths; i++) {
		if (rg_protect_load(&s->protect, s->protect.paths[i], &b) != 0)
			return -1;
		*bad += b;
	}
	return 0;
}

/* Is rec protected, by --protect now or by an earlier stage's? */
int
rg_select_protected(const struct rg_select *s, const json_t *rec)
{
	return json_is_true(json_object_get(rec, RG_F_PROTECTED)) ||
	    rg_protect_has(&s->protect, rec);
}

/* The record type whose records are candidates. */
const char *
rg_select_type(const struct rg_select *s)
{
	return s->untagged ? RG_T_MANIFEST : RG_T_TAG;
}

static int
all_match(struct rg_regex *const *v, size_t n, const char *str)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (str == NULL || !rg_regex_match(v[i], str))
			return 0;
	return 1;
}

static int
named(const struct rg_select *s, const char *repo, const char *tag)
{
	size_t i;

	if (s->nnames == 0)
		return 1;
	for (i = 0; i < s->nnames; i++)
		if (strcmp(s->names[i].repo, repo) == 0 &&
		    (s->names[i].tag == NULL ||
		    (tag != NULL && strcmp(s->names[i].tag, tag) == 0)))
			return 1;
	return 0;
}

/*
 * Is rec a referrer: a tag named sha256-<hex>[.suffix], or a manifest with
 * a subject?  It goes with its image, and is a candidate with --referrers
 * only.
 */
static int
referrer(const json_t *rec, const char *tag)
{
	struct rg_digest d;

	return tag != NULL ? rg_referrer_tag(tag, &d) :
	    json_object_get(rec, RG_F_SUBJECT) != NULL;
}

/* Do the name criteria make rec, of rg_select_type and with a repo, one? */
int
rg_select_candidate(const struct rg_select *s, const json_t *rec)
{
	const char *repo = rg_str(rec, RG_F_REPO), *tag = rg_str(rec, RG_F_TAG);
	const json_t *tags = json_object_get(rec, RG_F_TAGS);
	size_t i;

	if (!selects(s) || referrer(rec, s->untagged ? NULL : tag) != s->referrers)
		return 0;
	if (s->untagged) {
		if (!json_is_array(tags) || json_array_size(tags) != 0)
			return 0;
	} else {
		if (tag == NULL)
			return 0;
		for (i = 0; i < s->nkeep_tag_re; i++)
			if (rg_regex_match(s->keep_tag_re[i], tag))
				return 0;
		if (s->group_re != NULL && !rg_regex_match(s->group_re, tag))
			return 0;	/* in no group: not a candidate */
	}
	return named(s, repo, tag) && all_match(s->repo_re, s->nrepo_re, repo) &&
	    all_match(s->tag_re, s->ntag_re, tag);
}

/*
 * --expires: has the record's expiry label passed?  It holds a date, or a
 * duration after the image's creation (Quay's "2w"); a record without
 * it, or whose label or creation cannot be read, has not expired.
 */
static int
expired(const struct rg_select *s, const json_t *rec)
{
	const char *v = rg_str(json_object_get(rec, RG_F_LABELS),
	    s->expires_label != NULL ? s->expires_label : RG_EXPIRES_LABEL);
	long long d;
	time_t t;

	if (v == NULL)
		return 0;
	if (rg_time_parse(v, &t) == 0)
		return t <= s->env.now;
	return rg_duration_parse(v, &d) == 0 &&
	    rg_record_time(rec, RG_F_CREATED, &t) == 0 && t <= s->env.now - d;
}

/* The stream's scan record: what --not-pulled-for needs of it. */
void
rg_select_scan(struct rg_select *s, const json_t *rec)
{
	s->has_pulls_since = rg_record_time(rec, RG_F_PULLS_SINCE,
	    &s->pulls_since) == 0;
}

/* Must the scan record be read (rg_select_scan)? */
int
rg_select_needs_scan(const struct rg_select *s)
{
	return s->unpulled >= 0;
}

/*
 * --not-pulled-for: was the image last pulled (rg-pulls' "pulled") before
 * the duration, or, never pulled in the history read, pushed before it
 * and before the history starts ("pulls_since")?  A history shorter than
 * the duration cannot tell that an image was not pulled before it: such
 * an image is taken as seen when the history starts, and kept.  Without a
 * time it is kept.  ECR's sinceImagePulled counts from the push for an
 * image never pulled.
 */
/* "pulled", read: 0, or -1 when absent or not a time (rg_record_time
 * would fall back to "pushed") */
static int
pulled(const json_t *rec, time_t *t)
{
	const char *v = rg_str(rec, "pulled");

	return v != NULL && rg_time_parse(v, t) == 0 ? 0 : -1;
}

static int
unpulled(const struct rg_select *s, const json_t *rec)
{
	time_t t;

	if (pulled(rec, &t) != 0) {
		if (rg_record_time(rec, RG_F_PUSHED, &t) != 0 ||
		    !s->has_pulls_since)
			return 0;
		if (s->pulls_since > t)
			t = s->pulls_since;
	}
	return t < s->env.now - s->unpulled;
}

/* Time window and conditions, for a candidate --keep did not spare. */
int
rg_select_chosen(const struct rg_select *s, const json_t *rec)
{
	time_t t;
	size_t i;

	if (s->expires && !expired(s, rec))
		return 0;
	if (s->unpulled >= 0 && !unpulled(s, rec))
		return 0;
	if (rg_window_set_any(&s->window) && (rg_record_time(rec,
	    s->env.time_key, &t) != 0 || !rg_window_holds(&s->window, t)))
		return 0;	/* outside, or unknown time: keep */
	for (i = 0; i < s->nwheres; i++)
		if (!rg_expr_eval(s->wheres[i], rec, &s->env))
			return 0;
	return 1;
}

/* --keep: newest first, by --order, ties broken by push time then name */
static const char *
label(const struct rg_select *s, const json_t *rec)
{
	const char *str = rg_str(rec, s->untagged ? RG_F_DIGEST : RG_F_TAG);

	return str ? str : "";
}

/*
 * Newer first by the time key.  A record without a time (through the API,
 * where no push time stands in for an artifact's or a reproducible
 * build's creation) ranks as the newest: --keep spares it first.
 */
static int
by_time(const json_t *a, const json_t *b, const char *key)
{
	time_t ta = 0, tb = 0;
	int ha = rg_record_time(a, key, &ta) == 0;
	int hb = rg_record_time(b, key, &tb) == 0;

	return ha != hb ? ha - hb : (tb > ta) - (tb < ta);
}

static int
newest_first(const void *pa, const void *pb, void *arg)
{
	const struct rg_select *s = arg;
	const json_t *a = (*(struct rg_held *const *)pa)->rec;
	const json_t *b = (*(struct rg_held *const *)pb)->rec;
	int c;

	if (s->order == RG_ORDER_NAME)
		c = strcmp(label(s, b), label(s, a));
	else if (s->order == RG_ORDER_VERSION)
		c = rg_version_cmp(label(s, b), label(s, a));
	else
		c = by_time(a, b, orders[s->order]);
	if (c == 0)
		c = by_time(a, b, RG_F_PUSHED);
	return c != 0 ? c : strcmp(label(s, b), label(s, a));
}

/*
 * The group of a tag: its captures, joined; when they do not fit, the tag
 * alone (a group of its own, kept).  NULL when out of memory.
 */
static char *
group_of(const struct rg_select *s, const char *tag)
{
	char buf[4 * (RG_TAG_MAX + 1)];

	if (rg_regex_captures(s->group_re, tag, buf, sizeof(buf)) == 0)
		return strdup(buf);
	buf[0] = 0x1e;
	rg_path(buf + 1, sizeof(buf) - 1, "%s", tag);	/* (a tag fits) */
	return strdup(buf);
}

/* with --group: by group, then newest first */
static int
by_group(const void *pa, const void *pb, void *arg)
{
	const struct rg_held *a = *(struct rg_held *const *)pa;
	const struct rg_held *b = *(struct rg_held *const *)pb;
	int c = strcmp(a->group, b->group);

	return c != 0 ? c : newest_first(pa, pb, arg);
}

/*
 * Spare the --keep newest candidates of one repository's run, or with
 * --group of each group of it: the tags whose captures are the same.
 */
void
rg_select_keep(const struct rg_select *s, struct rg_held *run, size_t n)
{
	struct rg_held **c;
	size_t i, nc = 0, k = 0;

	if (s->keep_n <= 0)
		return;
	if ((c = calloc(n ? n : 1, sizeof(*c))) == NULL)
		rg_nomem();
	for (i = 0; i < n; i++) {
		if (!run[i].candidate)
			continue;
		if (s->group_re != NULL && (run[i].group = group_of(s,
		    label(s, run[i].rec))) == NULL)
			rg_nomem();
		c[nc++] = &run[i];
	}
	qsort_r(c, nc, sizeof(*c), s->group_re != NULL ? by_group : newest_first,
	    (void *)s);
	for (i = 0; i < nc; i++) {
		k = i > 0 && s->group_re != NULL &&
		    strcmp(c[i]->group, c[i - 1]->group) != 0 ? 0 : k;
		c[i]->rank = k + 1;
		if (k++ < (size_t)s->keep_n)
			c[i]->candidate = 0;	/* spared */
	}
	for (i = 0; s->group_re != NULL && i < nc; i++) {
		free(c[i]->group);
		c[i]->group = NULL;
	}
	free(c);
}

/* "; " and what follows, cut with "..." when it does not fit */
static void
append(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n > 0 && n + 2 < size) {
		memcpy(buf + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	if (n + 1 < size && (size_t)vsnprintf(buf + n, size - n, fmt, ap) >=
	    size - n && size > 4)
		memcpy(buf + size - 4, "...", 4);
	va_end(ap);
}

/*
 * Why a marked record was chosen, for -v: every criterion given held
 * (they combine with AND), each said with what the record has for it.
 * rank: its place among the candidates --keep ranked (0 without --keep).
 */
void
rg_select_explain(const struct rg_select *s, const json_t *rec, size_t rank,
    char *buf, size_t size)
{
	char t[RG_TIME_STRLEN + 1];
	const char *v;
	time_t when, pushed;

	buf[0] = '\0';
	if (s->untagged)
		append(buf, size, "untagged");
	if (s->referrers)
		append(buf, size, "a referrer (--referrers)");
	if (s->nnames > 0)
		append(buf, size, "named");
	if (s->nrepo_re > 0)
		append(buf, size, "--repo matched");
	if (s->ntag_re > 0)
		append(buf, size, "--tag matched");
	if (s->nkeep_tag_re > 0)
		append(buf, size, "no --keep-tag matched");
	if (s->keep_n > 0)
		append(buf, size, "newest but %zu%s by %s, beyond --keep %ld",
		    rank > 0 ? rank - 1 : 0, s->group_re != NULL ?
		    " of its --group" : "", orders[s->order], s->keep_n);
	if (rg_window_set_any(&s->window) &&
	    rg_record_time(rec, s->env.time_key, &when) == 0) {
		rg_time_format(when, t);
		if (strcmp(s->env.time_key, RG_F_CREATED) == 0 &&
		    rg_record_time(rec, RG_F_PUSHED, &pushed) == 0 &&
		    pushed == when)	/* (the push time stood in) */
			append(buf, size, "created unknown or before 2013-03-20, "
			    "pushed %s inside the time window", t);
		else
			append(buf, size, "%s %s inside the time window",
			    s->env.time_key, t);
	}
	if (s->expires && (v = rg_str(json_object_get(rec, RG_F_LABELS),
	    s->expires_label ? s->expires_label : RG_EXPIRES_LABEL)) != NULL)
		append(buf, size, "expiry label %s=%s passed", s->expires_label ?
		    s->expires_label : RG_EXPIRES_LABEL, v);
	if (s->unpulled >= 0) {
		if (pulled(rec, &when) == 0) {
			rg_time_format(when, t);
			append(buf, size, "last pulled %s, over --not-pulled-for "
			    "ago", t);
		} else if (rg_record_time(rec, RG_F_PUSHED, &when) == 0) {
			rg_time_format(when, t);
			append(buf, size, "pushed %s, not pulled since the pull "
			    "history starts, over --not-pulled-for ago", t);
		}
	}
	if (s->nwheres > 0)
		append(buf, size, "--where held");
}
