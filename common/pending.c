/*
 * pending.c: objects moved out of the registry's sight whose deletion is
 * not yet final.  rg-rm moves a manifest's revision, a layer link or a
 * blob into .rg-trash/pending, looks at the storage again once pushes in
 * flight have had time to land, then puts it back or removes it.  Each
 * moved object has beside it a file naming where it was, written before
 * the move; a run killed in between leaves both, and the next run puts
 * every such object back (when nothing has taken its place): what a
 * killed run had not yet decided is kept, never deleted early.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rg.h"

#define PENDING		"pending"
#define SIDECAR		".path"

/* .rg-trash/pending, created; -1 (errno) on failure */
int
rg_pend_open(int trashfd)
{
	int fd;

	if ((fd = openat(trashfd, PENDING, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 && errno == ENOENT) {
		if (mkdirat(trashfd, PENDING, 0700) == -1 && errno != EEXIST)
			return -1;
		fd = openat(trashfd, PENDING, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	return fd;
}

static int
sidecar(const char *name, char *buf, size_t size)
{
	return rg_path(buf, size, "%s%s", name, SIDECAR);
}

/*
 * Move path (below v2fd) into pending, its place written beside it first:
 * 0 moved (its name in name), 1 not there, -1 failed (errno set).
 */
int
rg_pend_move(int v2fd, int pendfd, const char *path, char name[RG_TRASH_NAME])
{
	static unsigned long seq;
	char side[RG_TRASH_NAME + sizeof(SIDECAR)];
	size_t len = strlen(path);
	ssize_t w;
	int fd, r, e;

	snprintf(name, RG_TRASH_NAME, "%ld-p%lu", (long)getpid(), ++seq);
	if (sidecar(name, side, sizeof(side)) != 0 ||
	    (fd = openat(pendfd, side, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return -1;
	w = write(fd, path, len);
	e = errno;
	if (close(fd) == -1 || w != (ssize_t)len) {
		unlinkat(pendfd, side, 0);
		errno = w == -1 ? e : EIO;
		return -1;
	}
	if ((r = rg_trash_move_as(v2fd, pendfd, path, name)) != 0) {
		e = errno;
		unlinkat(pendfd, side, 0);
		errno = e;
	}
	return r;
}

/* Put name back at path: rg_trash_restore's answers; gone from pending either way but -1. */
int
rg_pend_restore(int v2fd, int pendfd, const char *name, const char *path)
{
	char side[RG_TRASH_NAME + sizeof(SIDECAR)];
	int r;

	if ((r = rg_trash_restore(v2fd, pendfd, name, path)) == 1)
		r = rg_trash_drop(pendfd, name) == -1 ? -1 : 1;	/* taken: a push's */
	/* (a run killed in that removal puts back what is left: an empty
	 * directory the registry takes for nothing, or a part of what it
	 * has again) */
	if (r != -1 && sidecar(name, side, sizeof(side)) == 0)
		unlinkat(pendfd, side, 0);
	return r;
}

/*
 * Remove name for good: into the trash in one rename (a run killed after
 * it empties the trash of it), the note of its place, then the object;
 * -1 (errno) on failure.
 */
int
rg_pend_drop(int pendfd, int trashfd, const char *name)
{
	char side[RG_TRASH_NAME + sizeof(SIDECAR)];

	if (renameat(pendfd, name, trashfd, name) == -1)
		return -1;
	if (sidecar(name, side, sizeof(side)) == 0)
		unlinkat(pendfd, side, 0);
	return rg_trash_drop(trashfd, name);
}

/*
 * What a killed run left pending goes back where it was, unless something
 * is there again; counts in *back.  -1 (errno) when an object could not
 * be put back: it stays in pending, and the trash is not emptied of it.
 */
int
rg_pend_recover(int v2fd, int pendfd, unsigned long *back)
{
	struct rg_dir l;
	char *path, side[RG_TRASH_NAME + sizeof(SIDECAR)];
	size_t i, n, len;
	int r = 0, e = 0;

	*back = 0;
	if (rg_dir_list(pendfd, ".", &l) == -1)
		return -1;
	for (i = 0; i < l.n; i++) {
		const char *name = l.v[i].name;

		n = strlen(name);
		if (n > strlen(SIDECAR) && strcmp(name + n - strlen(SIDECAR), SIDECAR) == 0)
			continue;	/* a note: read with its object */
		path = NULL;
		if (sidecar(name, side, sizeof(side)) != 0 ||
		    rg_read_file(pendfd, side, RG_SWEEP_PATH, &path, &len) == -1 ||
		    strlen(path) != len) {
			free(path);	/* no note: it cannot go back */
			if (rg_trash_drop(pendfd, name) == -1)
				r = -1, e = errno;
			continue;
		}
		switch (rg_pend_restore(v2fd, pendfd, name, path)) {
		case 0:
			++*back;
			break;
		case -1:
			r = -1;
			e = errno;
			break;
		}
		free(path);
	}
	/* notes whose object never arrived, or was dropped */
	for (i = 0; i < l.n; i++) {
		const char *name = l.v[i].name;
		char obj[RG_TRASH_NAME];
		struct stat st;

		n = strlen(name);
		if (n <= strlen(SIDECAR) || strcmp(name + n - strlen(SIDECAR), SIDECAR) != 0 ||
		    n - strlen(SIDECAR) >= sizeof(obj))
			continue;
		memcpy(obj, name, n - strlen(SIDECAR));
		obj[n - strlen(SIDECAR)] = '\0';
		if (fstatat(pendfd, obj, &st, AT_SYMLINK_NOFOLLOW) == -1 && errno == ENOENT)
			unlinkat(pendfd, name, 0);
	}
	rg_dir_free(&l);
	errno = e;
	return r;
}
