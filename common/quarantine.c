/*
 * quarantine.c: what rg-rm deletes from a filesystem, held for a while.
 *
 * With --quarantine, an object that goes for good is renamed, not
 * removed, into .rg-trash/quarantine/<run>/<name>, where the registry
 * never looks; the run's index names each object's place before it moves
 * ("<name>\t<path>\n", appended), and its meta file says when the run
 * was and when its quarantine ends.  A rename is all it costs.  A later
 * run removes the runs whose quarantine has ended (rg_quarantine_purge);
 * rg-restore puts objects back from their run.  Memory: nothing grows
 * with the objects held; a purge or a count walks one run at a time.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

#define QDIR	"quarantine"
#define META	"meta"
#define INDEX	"index"
#define META_MAX	512

/* Is name a run's: 32 lowercase hex digits? */
static int
run_name(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return i == 32;
}

/*
 * The quarantine of this run, below the trash: its directory and meta
 * file made, its index opened.  -1 (errno) when it cannot be.
 */
int
rg_quarantine_open(struct rg_quarantine *q, int trashfd, const char *run,
    time_t now, long long duration)
{
	char meta[META_MAX];
	int qfd, fd = -1, n, e;

	memset(q, 0, sizeof(*q));
	q->dirfd = q->indexfd = -1;
	q->trashfd = trashfd;
	if (!run_name(run)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(q->run, run, sizeof(q->run));
	q->time = now;
	q->expires = duration > (long long)INT64_MAX - now ? INT64_MAX :
	    now + (time_t)duration;
	if ((qfd = rg_subdir_open(trashfd, QDIR, 1)) == -1)
		return -1;
	q->dirfd = rg_subdir_open(qfd, run, 1);
	e = errno;
	close(qfd);
	if (q->dirfd == -1) {
		errno = e;
		return -1;
	}
	n = snprintf(meta, sizeof(meta), "rg-quarantine 1\nrun %s\ntime %lld\n"
	    "expires %lld\n", run, (long long)q->time, (long long)q->expires);
	if ((fd = openat(q->dirfd, META, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1 ||
	    write(fd, meta, (size_t)n) != n || fsync(fd) == -1 ||
	    (q->indexfd = openat(q->dirfd, INDEX, O_WRONLY | O_CREAT | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		e = errno;
		if (fd != -1)
			close(fd);
		rg_quarantine_close(q);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

/* name's place, noted before it moves: 0, or -1 (errno) */
int
rg_quarantine_note(struct rg_quarantine *q, const char *name, const char *path)
{
	char line[RG_TRASH_NAME + RG_STORE_PATH + 2];
	size_t n;

	if (q->indexfd == -1)
		return 0;
	if (rg_path(line, sizeof(line), "%s\t%s\n", name, path) != 0)
		return -1;
	n = strlen(line);
	return write(q->indexfd, line, n) == (ssize_t)n ? 0 : -1;
}

/* name, gone for good from the registry, kept in the quarantine: 0, or -1 (errno) */
int
rg_quarantine_keep(struct rg_quarantine *q, int trashfd, const char *name)
{
	if (q->dirfd == -1) {
		errno = EBADF;
		return -1;
	}
	__atomic_add_fetch(&q->kept, 1, __ATOMIC_RELAXED);	/* (the jobs') */
	return renameat2(trashfd, name, q->dirfd, name, RENAME_NOREPLACE);
}

/* The run's quarantine closed; its directory goes when it holds nothing. */
void
rg_quarantine_close(struct rg_quarantine *q)
{
	int qfd;

	if (q->indexfd != -1)
		close(q->indexfd);
	if (q->dirfd != -1 && q->kept == 0) {
		unlinkat(q->dirfd, INDEX, 0);
		unlinkat(q->dirfd, META, 0);
	}
	if (q->dirfd != -1)
		close(q->dirfd);
	if (q->dirfd != -1 && q->kept == 0 &&
	    (qfd = rg_subdir_open(q->trashfd, QDIR, 0)) != -1) {
		unlinkat(qfd, q->run, AT_REMOVEDIR);
		close(qfd);
	}
	q->dirfd = q->indexfd = -1;
}

/* The meta file of the run at fd into r: 0, or -1 (not a run's). */
static int
read_meta(int fd, struct rg_qrun *r)
{
	char *buf, *p;
	size_t len;
	long long t = -1, x = -1;
	int ok;

	if (rg_read_file(fd, META, META_MAX, &buf, &len) != 0)
		return -1;
	ok = strncmp(buf, "rg-quarantine 1\n", 16) == 0;
	if (ok && (p = strstr(buf, "\ntime ")) != NULL)
		t = strtoll(p + 6, NULL, 10);
	if (ok && (p = strstr(buf, "\nexpires ")) != NULL)
		x = strtoll(p + 9, NULL, 10);
	free(buf);
	if (!ok || t < 0 || x < 0)
		return -1;
	r->time = (time_t)t;
	r->expires = (time_t)x;
	return 0;
}

/* the bytes of the regular files below the directory fd, added to *bytes */
static void
tally(int fd, int64_t *bytes)
{
	struct rg_dir l;
	struct stat st;
	size_t i;
	int sub;

	if (rg_dir_list(fd, ".", &l) == -1)
		return;
	for (i = 0; i < l.n; i++) {
		if (fstatat(fd, l.v[i].name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (S_ISREG(st.st_mode))
			*bytes = rg_size_add(*bytes, st.st_size);
		else if (S_ISDIR(st.st_mode) && (sub = openat(fd, l.v[i].name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
			tally(sub, bytes);
			close(sub);
		}
	}
	rg_dir_free(&l);
}

/* What the run name of the quarantine directory qfd holds into r. */
static int
look(int qfd, const char *name, struct rg_qrun *r)
{
	struct rg_dir l;
	size_t i;
	int fd;

	memset(r, 0, sizeof(*r));
	if (!run_name(name) || (fd = rg_subdir_open(qfd, name, 0)) == -1)
		return -1;
	memcpy(r->run, name, sizeof(r->run));
	if (read_meta(fd, r) != 0 || rg_dir_list(fd, ".", &l) == -1) {
		close(fd);
		return -1;
	}
	for (i = 0; i < l.n; i++)
		if (strcmp(l.v[i].name, META) != 0 && strcmp(l.v[i].name, INDEX) != 0)
			r->objects++;
	rg_dir_free(&l);
	tally(fd, &r->bytes);
	close(fd);
	return 0;
}

/*
 * Every run held in the quarantine below the trash, told to fn with its
 * figures; what is not a run's is left alone.  0, or -1 (errno).
 */
int
rg_quarantine_each(int trashfd, rg_qrun_fn *fn, void *arg)
{
	struct rg_qrun r;
	struct rg_dir l;
	size_t i;
	int qfd;

	if ((qfd = rg_subdir_open(trashfd, QDIR, 0)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (rg_dir_list(qfd, ".", &l) == -1) {
		close(qfd);
		return -1;
	}
	for (i = 0; i < l.n; i++)
		if (look(qfd, l.v[i].name, &r) == 0)
			fn(arg, &r);
	rg_dir_free(&l);
	close(qfd);
	return 0;
}

/*
 * The runs whose quarantine has ended at now (older_than < 0), or that
 * are older than older_than seconds, removed; but the run keep (the
 * current one, or NULL).  fn hears of each, with what it freed.  0, or
 * -1 (errno) when one could not be removed.
 */
int
rg_quarantine_purge(int trashfd, time_t now, long long older_than,
    const char *keep, rg_qrun_fn *fn, void *arg)
{
	struct rg_qrun r;
	struct rg_dir l;
	size_t i;
	int qfd, ret = 0;

	if ((qfd = rg_subdir_open(trashfd, QDIR, 0)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (rg_dir_list(qfd, ".", &l) == -1) {
		close(qfd);
		return -1;
	}
	for (i = 0; i < l.n; i++) {
		if (keep != NULL && strcmp(l.v[i].name, keep) == 0)
			continue;
		if (look(qfd, l.v[i].name, &r) != 0)
			continue;
		if (older_than < 0 ? r.expires > now :
		    r.time > now - (time_t)older_than)
			continue;
		if (rg_trash_remove_tree(qfd, l.v[i].name) != 0) {
			ret = -1;
			continue;
		}
		fn(arg, &r);
	}
	rg_dir_free(&l);
	close(qfd);
	unlinkat(trashfd, QDIR, AT_REMOVEDIR);	/* (when it holds no run now) */
	return ret;
}

/*
 * The run run of the quarantine below trashfd, opened for rg-restore: its
 * directory, and its index read into names (name, path pairs): 0, or -1
 * (errno; ENOENT: no such run held).
 */
int
rg_quarantine_load(int trashfd, const char *run, int *dirfd, struct rg_qindex *x)
{
	char *buf, *line, *nl, *tab;
	size_t len;
	int qfd, e;

	memset(x, 0, sizeof(*x));
	*dirfd = -1;
	if (!run_name(run)) {
		errno = EINVAL;
		return -1;
	}
	if ((qfd = rg_subdir_open(trashfd, QDIR, 0)) == -1)
		return -1;
	*dirfd = rg_subdir_open(qfd, run, 0);
	e = errno;
	close(qfd);
	if (*dirfd == -1) {
		errno = e;
		return -1;
	}
	if (rg_read_file(*dirfd, INDEX, RG_QINDEX_MAX, &buf, &len) != 0) {
		e = errno;
		close(*dirfd);
		*dirfd = -1;
		errno = e;
		return -1;
	}
	for (line = buf; line < buf + len; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(buf + len - line))) == NULL)
			break;		/* (a line cut by a kill: not one) */
		*nl = '\0';
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		if (x->n == x->cap) {
			x->cap = x->cap ? 2 * x->cap : 64;
			if ((x->v = realloc(x->v, x->cap * sizeof(*x->v))) == NULL)
				rg_nomem();
		}
		if ((x->v[x->n].name = strdup(line)) == NULL ||
		    (x->v[x->n].path = strdup(tab + 1)) == NULL)
			rg_nomem();
		x->n++;
	}
	free(buf);
	return 0;
}

void
rg_qindex_free(struct rg_qindex *x)
{
	size_t i;

	for (i = 0; i < x->n; i++) {
		free(x->v[i].name);
		free(x->v[i].path);
	}
	free(x->v);
	memset(x, 0, sizeof(*x));
}

/* Is something at path below v2fd?  1 yes, 0 no, -1 cannot say (errno). */
static int
there(int v2fd, const char *path)
{
	struct stat st;
	const char *last;
	int fd, r;

	if ((fd = rg_beneath_parent(v2fd, path, &last)) == -1)
		return errno == ENOENT ? 0 : -1;
	r = fstatat(fd, last, &st, AT_SYMLINK_NOFOLLOW) == 0 ? 1 :
	    errno == ENOENT ? 0 : -1;
	close(fd);
	return r;
}

/*
 * name of the run's directory qdirfd (NULL: none) put back at path below
 * v2fd, the directories on the way made: 0 done, 1 something is at path
 * (left as it is: pushed again, or put back already), 2 name is not held
 * and nothing is at path (gone), -1 failed (errno).
 */
int
rg_quarantine_put(int qdirfd, const char *name, int v2fd, const char *path,
    int dry_run)
{
	struct stat st;
	const char *last;
	int fd, r, e;

	if (name == NULL || fstatat(qdirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (name != NULL && errno != ENOENT)
			return -1;
		return (r = there(v2fd, path)) == -1 ? -1 : r == 1 ? 1 : 2;
	}
	if (dry_run)
		return there(v2fd, path);
	if ((fd = rg_beneath_mkparent(v2fd, path, &last)) == -1)
		return -1;
	r = renameat2(qdirfd, name, fd, last, RENAME_NOREPLACE);
	e = errno;
	if (r == -1 && e == EEXIST && unlinkat(fd, last, AT_REMOVEDIR) == 0) {
		r = renameat2(qdirfd, name, fd, last, RENAME_NOREPLACE);
		e = errno;	/* (an empty directory is nothing) */
	}
	close(fd);
	if (r == -1 && (e == EEXIST || e == ENOTEMPTY))
		return 1;
	errno = e;
	return r;
}
