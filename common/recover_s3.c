/*
 * recover_s3.c: a removal run on S3 begun: its lease, a killed run undone.
 *
 * One run at a time under a lease (s3lease.c); what a killed run left in
 * pending is put back before anything else is done.  A copy's key in
 * .rg-trash/pending says where it came from (<name>/<its path>); a journal
 * (<run>-<seq>.links) names links deleted without copies.  What is there
 * again (a push's) is left as it is.
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s3driver.h"


/*
 * A killed run's pending key <name>/<path>: put back where nothing is,
 * then deleted; -1 when it could not be.
 */
static int
recover_key(struct rg_store *st, struct rg_s3 *s, const char *key, int64_t size)
{
	const char *rest = key + strlen(PENDING "/"), *slash = strchr(rest, '/');
	char from[RG_STORE_PATH + 64], *v[1] = { from };
	struct rg_stat there;

	if (slash == NULL || rg_path(from, sizeof(from), "%s", key) != 0 ||
	    !rg_s3_plain(key) || (strncmp(slash + 1, "repositories/", 13) != 0 &&
	    strncmp(slash + 1, "blobs/", 6) != 0))
		return 0;	/* not one of ours: left alone */
	if (rg_s3d_stat(st, slash + 1, &there) != 0 && (errno != ENOENT ||
	    rg_s3_copy(s, from, slash + 1, size) != 0))
		return -1;
	return rg_s3_delete(s, v, 1);
}

/*
 * A killed run's journal: each link it names written again where it is
 * missing, then the journal deleted; -1 when it could not be.  *n counts
 * the links.
 */
static int
recover_journal(struct rg_store *st, struct rg_s3 *s, const char *key,
    unsigned long *n)
{
	char from[RG_STORE_PATH + 64], link[RG_STORE_PATH + 8], *buf, *line, *nl;
	struct rg_digest d;
	struct rg_stat there;
	size_t len;
	int r = 0;

	if (rg_path(from, sizeof(from), "%s", key) != 0 || !rg_s3_plain(key))
		return 0;	/* not one of ours: left alone */
	if (rg_s3_get(s, key, JOURNAL_MAX, &buf, &len, NULL) != 0)
		return errno == ENOENT ? 0 : -1;
	for (line = buf; r == 0 && line < buf + len; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(buf + len - line))) == NULL)
			break;		/* (a PUT is whole: not written by rg-rm) */
		*nl = '\0';
		if (!rg_s3d_link_object(line, &d) ||
		    rg_path(link, sizeof(link), "%s/link", line) != 0)
			continue;	/* not one of ours */
		++*n;
		if (rg_s3d_stat(st, link, &there) != 0 && (errno != ENOENT ||
		    rg_s3d_put_link(s, line) != 0))
			r = -1;
	}
	free(buf);
	return r == 0 ? rg_s3_delete(s, (char *[]){ from }, 1) : -1;
}

/* A killed run's pending objects go back first: listed whole, then put back. */
int
rg_s3d_rm_open(struct rg_store *st, unsigned long *recovered, const char **why)
{
	char last[RG_TRASH_NAME] = "", held_name[RG_TRASH_NAME + 8];
	struct s3store *d = S3(st);
	const char *name, *slash;
	struct rg_s3 *s;
	struct keys k;
	size_t i, n;
	int failed = 0, took_over = 0;

	*recovered = 0;
	st->atime_works = 0;
	S3(st)->removing = 1;
	if ((s = rg_s3d_conn(st)) == NULL)
		return -1;
	/* one run at a time: a lease, before what a dead run left is put back */
	if (rg_run_id(d->run) != 0) {
		*why = "no random run id to be had";
		return -1;
	}
	memcpy(st->run, d->run, sizeof(st->run));
	switch (rg_s3_lease_take(&d->lease, &d->conf, d->run, st->lease_ttl > 0 ?
	    st->lease_ttl : RG_S3_LEASE_TTL, &took_over, d->lease_why,
	    sizeof(d->lease_why))) {
	case 0:
		break;
	case 1:
		errno = EBUSY;
		*why = d->lease_why;
		return -1;
	default:
		errno = EIO;
		*why = d->lease_why;
		return -1;
	}
	if (took_over)
		warnx("%s/%s: the lease of a run that ended without letting it "
		    "go was taken over", st->root, ".rg-trash/lease");
	/* what quarantines hold stays in pending; those that ended go first */
	if (rg_s3q_held_names(st, s, &d->qheld, &d->qclosed) != 0) {
		*why = "what the quarantine holds could not be read: nothing put "
		    "back, nothing deleted";
		errno = EIO;
		return -1;
	}
	if (rg_s3q_purge(st, -1) != 0) {
		*why = "a quarantine that has ended could not be removed";
		errno = EIO;
		return -1;
	}
	if (st->quarantine > 0 && rg_s3q_open(st, s) != 0) {
		*why = "this run's quarantine could not be begun";
		errno = EIO;
		return -1;
	}
	if (rg_s3d_keys_below(st, s, PENDING, &k) != 0) {
		*why = s->error;
		return -1;
	}
	for (i = 0; i < k.n; i++) {
		name = k.v[i] + strlen(PENDING "/");
		n = strlen(name);
		if ((slash = strchr(name, '/')) != NULL &&
		    (size_t)(slash - name) < sizeof(held_name)) {
			memcpy(held_name, name, (size_t)(slash - name));
			held_name[slash - name] = '\0';
		} else if (rg_path(held_name, sizeof(held_name), "%s", name) != 0)
			held_name[0] = '\0';
		if (rg_s3q_is_held(&d->qheld, &d->qclosed, held_name))
			continue;	/* in quarantine: not pending */
		if (strchr(name, '/') == NULL && n > 6 &&
		    strcmp(name + n - 6, ".links") == 0) {
			if (recover_journal(st, s, k.v[i], recovered) != 0) {
				rg_s3d_warn(st, s);
				failed = 1;
			}
			continue;
		}
		if ((slash = strchr(name, '/')) != NULL &&
		    (size_t)(slash - name) < sizeof(last) &&
		    (strncmp(name, last, (size_t)(slash - name)) != 0 ||
		    last[slash - name] != '\0')) {
			memcpy(last, name, (size_t)(slash - name));
			last[slash - name] = '\0';
			++*recovered;
		}
		if (recover_key(st, s, k.v[i], k.st[i].size) != 0)
			failed = 1;
	}
	rg_s3d_keys_free(&k);
	S3(st)->dircache = 1;
	if (failed) {
		*why = "what a killed run left pending could not all be put back";
		errno = EIO;
		return -1;
	}
	return 0;
}
