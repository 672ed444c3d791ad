/*
 * store_fs.c: the filesystem driver of store.h.
 *
 * Every path is opened below the v2 directory in one openat2
 * (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) or a component at a time
 * (beneath.c): no symbolic link is followed, nothing outside the root is
 * reached.  Removal moves an object's directory in one rename: into
 * .rg-trash/pending (pending.c), then into .rg-trash, then apart
 * (beneath.c).
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

struct fs {
	int v2fd, trashfd, pendfd;
	struct rg_quarantine q;		/* --quarantine: this run's */
	int heldfd;			/* rg-restore: the run's quarantine */
	char heldrun[33];		/* and its id */
};

#define FS(st)	((struct fs *)(st)->drv)

static void
stat_of(const struct stat *s, struct rg_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->kind = IFTODT(s->st_mode);
	st->size = (int64_t)s->st_size;
	st->mtime = s->st_mtim;
	st->atime = s->st_atim;
	st->ctime = s->st_ctim;
	st->id = (uint64_t)s->st_ino;
}

/* the directory at path, open; -1 (errno) */
static int
open_dir(struct rg_store *st, const char *path)
{
	return rg_beneath_open(FS(st)->v2fd, path, O_RDONLY | O_DIRECTORY);
}

static int
fs_list(struct rg_store *st, const char *dir, struct rg_dir *l)
{
	int fd, r, e;

	memset(l, 0, sizeof(*l));
	if ((fd = open_dir(st, dir)) == -1)
		return -1;
	r = rg_dir_read(fd, l);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

static int
fs_each(struct rg_store *st, const char *dir, const char *suffix,
    rg_each_fn *fn, void *arg)
{
	char path[RG_STORE_PATH];
	struct rg_dir l;
	struct rg_stat sst;
	struct stat s;
	size_t i;
	int fd, e;

	if ((fd = open_dir(st, dir)) == -1)
		return -1;
	if (rg_dir_read(fd, &l) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	for (i = 0; i < l.n; i++) {
		if (rg_path(path, sizeof(path), "%s%s%s", l.v[i].name,
		    *suffix ? "/" : "", suffix) != 0)
			fn(arg, l.v[i].name, NULL, ENAMETOOLONG);
		else if (rg_beneath_stat(fd, path, &s) == -1)	/* (no link on the way) */
			fn(arg, l.v[i].name, NULL, errno);
		else {
			stat_of(&s, &sst);
			fn(arg, l.v[i].name, &sst, 0);
		}
	}
	close(fd);
	rg_dir_free(&l);
	return 0;
}

static int
fs_links(struct rg_store *st, const char *dir, rg_linked_fn *fn, void *arg)
{
	char path[RG_STORE_PATH];
	struct rg_digest d;
	struct rg_stat sst;
	struct rg_dir l;
	struct stat s;
	size_t i;
	int fd, lfd, r, e;

	if ((fd = open_dir(st, dir)) == -1)
		return -1;
	if (rg_dir_read(fd, &l) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	for (i = 0; i < l.n; i++) {
		memset(&sst, 0, sizeof(sst));
		if (rg_path(path, sizeof(path), "%s/link", l.v[i].name) != 0) {
			r = RG_LINK_IOERR;
		} else if ((lfd = rg_link_open(fd, path, 1)) == -1)	/* beneath */
			r = errno == ENOENT ? RG_LINK_MISSING : RG_LINK_IOERR;
		else {
			r = rg_link_fd(lfd, &d, &s);
			e = errno;
			close(lfd);
			errno = e;
			if (r != RG_LINK_IOERR)
				stat_of(&s, &sst);
		}
		fn(arg, l.v[i].name, r, &d, &sst);
	}
	close(fd);
	rg_dir_free(&l);
	return 0;
}

static int
fs_stat(struct rg_store *st, const char *path, struct rg_stat *sst)
{
	struct stat s;

	if (rg_beneath_stat(FS(st)->v2fd, path, &s) == -1)
		return -1;
	stat_of(&s, sst);
	return 0;
}

static int
fs_read(struct rg_store *st, const char *path, size_t max, char **buf,
    size_t *len)
{
	int fd, r, e;

	if ((fd = rg_beneath_open(FS(st)->v2fd, path, O_RDONLY)) == -1)
		return -1;
	r = rg_read_fd(fd, max, buf, len);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

static int
fs_link(struct rg_store *st, const char *path, struct rg_digest *d,
    struct rg_stat *sst)
{
	struct stat s;
	int fd, r, e;

	if (sst != NULL)
		memset(sst, 0, sizeof(*sst));
	if ((fd = rg_link_open(FS(st)->v2fd, path, 1)) == -1)
		return errno == ENOENT ? RG_LINK_MISSING : RG_LINK_IOERR;
	r = rg_link_fd(fd, d, sst != NULL ? &s : NULL);
	e = errno;
	close(fd);
	errno = e;
	if (sst != NULL && r != RG_LINK_IOERR)
		stat_of(&s, sst);
	return r;
}

/* Is the directory at path (a v2 directory) this storage?  Same device and inode. */
static int
fs_same(struct rg_store *st, const char *path)
{
	struct stat a, b;

	return fstat(FS(st)->v2fd, &a) == 0 && stat(path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Does this filesystem record reads in atime?  A probe in the trash. */
static int
atime_works(int trashfd)
{
	static const char probe[] = "atime-probe";
	struct timespec t[2];
	struct stat s;
	char c;
	int fd, r = 0;

	if ((fd = openat(trashfd, probe, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return 0;
	if (write(fd, "x", 1) == 1 && fstat(fd, &s) == 0) {
		t[0] = s.st_mtim;	/* unread: atime a second before mtime */
		t[0].tv_sec--;
		t[1].tv_sec = 0;
		t[1].tv_nsec = UTIME_OMIT;
		if (futimens(fd, t) == 0 && pread(fd, &c, 1, 0) == 1 &&
		    fstat(fd, &s) == 0)
			r = s.st_atim.tv_sec > s.st_mtim.tv_sec ||
			    (s.st_atim.tv_sec == s.st_mtim.tv_sec &&
			    s.st_atim.tv_nsec > s.st_mtim.tv_nsec);
	}
	close(fd);
	unlinkat(trashfd, probe, 0);
	return r;
}

static void
no_purged(void *arg, const struct rg_qrun *r)
{
	(void)arg;
	(void)r;
}

static int
fs_purge(struct rg_store *st, long long older_than)
{
	return rg_quarantine_purge(FS(st)->trashfd, time(NULL), older_than,
	    FS(st)->q.dirfd != -1 ? FS(st)->q.run : NULL, st->purged != NULL ?
	    st->purged : no_purged, st->purged_arg);
}

static int
fs_rm_open(struct rg_store *st, unsigned long *recovered, const char **why)
{
	struct fs *f = FS(st);

	if ((f->trashfd = rg_trash_open(f->v2fd, 1)) == -1) {
		*why = "cannot make the trash directory";
		return -1;
	}
	/* one run at a time: the next one puts back what this one has pending */
	if (flock(f->trashfd, LOCK_EX | LOCK_NB) == -1) {
		*why = errno == EWOULDBLOCK ? "another rg-rm is deleting from this "
		    "storage (it holds the lock); nothing deleted" : "cannot lock";
		return -1;
	}
	st->atime_works = atime_works(f->trashfd);
	if ((f->pendfd = rg_pend_open(f->trashfd)) == -1) {
		*why = "cannot make the pending directory";
		return -1;
	}
	if (rg_pend_recover(f->v2fd, f->pendfd, recovered) == -1) {
		*why = "cannot put back what an earlier run left pending";
		return -1;
	}
	if (rg_trash_empty(f->trashfd) == -1) {
		*why = "cannot empty the trash of an earlier run";
		return -1;
	}
	if (rg_run_id(st->run) != 0) {
		*why = "no random run id to be had";
		return -1;
	}
	/* quarantines that have ended go first, whether this run keeps one or not */
	if (fs_purge(st, -1) == -1) {
		*why = "cannot remove a quarantine that has ended";
		return -1;
	}
	if (st->quarantine > 0 && rg_quarantine_open(&f->q, f->trashfd, st->run,
	    time(NULL), st->quarantine) == -1) {
		*why = "cannot make this run's quarantine directory";
		return -1;
	}
	return 0;
}

/* with a quarantine, where name was: noted before it can go for good */
static int
noted(struct rg_store *st, int r, const char *name, const char *path)
{
	if (r == 0 && rg_quarantine_note(&FS(st)->q, name, path) == -1)
		return -1;	/* (it waits in the trash or pending: kept) */
	return r;
}

static int
fs_pend(struct rg_store *st, const char *path, char name[RG_TRASH_NAME])
{
	return noted(st, rg_pend_move(FS(st)->v2fd, FS(st)->pendfd, path, name),
	    name, path);
}

static int
fs_pend_stat(struct rg_store *st, const char *name, const char *sub,
    struct rg_stat *sst)
{
	char path[RG_TRASH_NAME + RG_STORE_PATH];
	struct stat s;

	if (rg_path(path, sizeof(path), "%s/%s", name, sub) != 0 ||
	    fstatat(FS(st)->pendfd, path, &s, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	stat_of(&s, sst);
	return 0;
}

static int
fs_restore(struct rg_store *st, const char *name, const char *path)
{
	return rg_pend_restore(FS(st)->v2fd, FS(st)->pendfd, name, path);
}

static int
fs_final(struct rg_store *st, const char *name)
{
	return rg_pend_final(FS(st)->pendfd, FS(st)->trashfd, name);
}

static int
fs_trash(struct rg_store *st, const char *path, char name[RG_TRASH_NAME])
{
	return noted(st, rg_trash_move(FS(st)->v2fd, FS(st)->trashfd, path, name),
	    name, path);
}

static int
fs_drop(struct rg_store *st, const char *name, const char *leaf)
{
	if (FS(st)->q.dirfd == -1)
		return rg_trash_drop(FS(st)->trashfd, name, leaf);
	if (rg_quarantine_keep(&FS(st)->q, FS(st)->trashfd, name) == 0)
		return 0;	/* held, not removed */
	warn("%s/.rg-trash/%s: not held in quarantine (the next run removes it)",
	    st->root, name);
	return -1;
}

static int
fs_remove(struct rg_store *st, const char *path, const char *leaf)
{
	return rg_trash_remove(FS(st)->v2fd, FS(st)->trashfd, path, leaf);
}

static int
fs_rmdir(struct rg_store *st, const char *path)
{
	return rg_beneath_rmdir(FS(st)->v2fd, path);
}

/* atime a second before mtime, mtime kept: unread since st was taken */
static int
fs_unread(struct rg_store *st, const char *path, const struct rg_stat *sst)
{
	struct timespec t[2];
	const char *last;
	int fd, r, e;

	if ((fd = rg_beneath_parent(FS(st)->v2fd, path, &last)) == -1)
		return -1;
	t[0] = sst->mtime;
	t[0].tv_sec--;
	t[1].tv_sec = 0;
	t[1].tv_nsec = UTIME_OMIT;
	r = utimensat(fd, last, t, AT_SYMLINK_NOFOLLOW);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

static int
fs_held_open(struct rg_store *st, const char *run, struct rg_qindex *x)
{
	int t = FS(st)->trashfd, r, e;

	if (t == -1 && (t = rg_trash_open(FS(st)->v2fd, 0)) == -1)
		return -1;	/* (a dry run: no lock taken, nothing made) */
	r = rg_quarantine_load(t, run, &FS(st)->heldfd, x);
	if (r == 0)	/* (a run's id: 32 hex digits, checked) */
		(void)rg_path(FS(st)->heldrun, sizeof(FS(st)->heldrun), "%s", run);
	e = errno;
	if (t != FS(st)->trashfd)
		close(t);
	errno = e;
	return r;
}

static int
fs_held_each(struct rg_store *st, rg_qrun_fn *fn, void *arg)
{
	int t, r, e;

	if ((t = rg_trash_open(FS(st)->v2fd, 0)) == -1)
		return errno == ENOENT ? 0 : -1;
	r = rg_quarantine_each(t, fn, arg);
	e = errno;
	close(t);
	errno = e;
	return r;
}

static int
fs_put_back(struct rg_store *st, const char *name, const char *path, int dry_run)
{
	return rg_quarantine_put(FS(st)->heldfd, name, FS(st)->v2fd, path, dry_run);
}

static int
fs_held_where(struct rg_store *st, const char *name, const char *path,
    char *out, size_t size)
{
	(void)path;
	return rg_path(out, size, ".rg-trash/quarantine/%s/%s", FS(st)->heldrun,
	    name);
}

static void
fs_held_close(struct rg_store *st)
{
	if (FS(st)->heldfd != -1)
		close(FS(st)->heldfd);
	FS(st)->heldfd = -1;
}

/* The end of a run: its pending directory goes when empty. */
static void
fs_rm_close(struct rg_store *st)
{
	struct fs *f = FS(st);

	if (f->pendfd != -1) {
		rg_pend_close(f->pendfd);
		close(f->pendfd);
		unlinkat(f->trashfd, "pending", AT_REMOVEDIR);
	}
	rg_quarantine_close(&f->q);
	fs_held_close(st);
	if (f->trashfd != -1)
		close(f->trashfd);
	f->pendfd = f->trashfd = -1;
}

static void
fs_close(struct rg_store *st)
{
	fs_rm_close(st);
	close(FS(st)->v2fd);
	free(st->drv);
	free(st->root);
	free(st);
}

static const struct rg_store_ops fs_ops = {
	.list = fs_list,
	.each = fs_each,
	.links = fs_links,
	.stat = fs_stat,
	.read = fs_read,
	.link = fs_link,
	.same = fs_same,
	.rm_open = fs_rm_open,
	.purge = fs_purge,
	.held_open = fs_held_open,
	.put_back = fs_put_back,
	.held_close = fs_held_close,
	.held_where = fs_held_where,
	.held_each = fs_held_each,
	.pend = fs_pend,
	.pend_stat = fs_pend_stat,
	.restore = fs_restore,
	.final = fs_final,
	.trash = fs_trash,
	.drop = fs_drop,
	.remove = fs_remove,
	.rmdir = fs_rmdir,
	.unread = fs_unread,
	.rm_close = fs_rm_close,
	.close = fs_close
};

/*
 * The storage at root, the registry's rootdirectory or its v2 directory;
 * NULL (reported) when it is not one.
 */
struct rg_store *
rg_store_fs(const char *root)
{
	struct rg_store *st;
	struct fs *f;
	char *v2path;
	int v2fd;

	if ((v2fd = rg_open_root(root, &v2path)) == -1)
		return NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (f = calloc(1, sizeof(*f))) == NULL)
		rg_nomem();
	f->v2fd = v2fd;
	f->trashfd = f->pendfd = -1;
	f->q.dirfd = f->q.indexfd = -1;
	f->heldfd = -1;
	st->ops = &fs_ops;
	st->source = "storage";
	st->root = v2path;
	st->atime_works = 1;	/* until rm_open looks */
	st->drv = f;
	return st;
}
