/*
 * beneath.c: file operations that stay below one directory, for rg-rm.
 *
 * Paths are relative, walked one component at a time with O_NOFOLLOW, so
 * no symbolic link is followed and no "..", "." or empty component is
 * taken.  What is removed is first renamed into a trash directory (one
 * atomic step: an object is there whole or not at all), then taken apart
 * there, so that a run killed at any moment leaves no half-removed tag,
 * manifest or blob; the next run empties the trash.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "beneath.h"

#define TRASH	".rg-trash"

static int
component_ok(const char *s, size_t n)
{
	return n > 0 && n <= NAME_MAX && !(n == 1 && s[0] == '.') &&
	    !(n == 2 && s[0] == '.' && s[1] == '.');
}

/* The kernel's own confinement, when it has it (Linux 5.6): 1 yes, 0 no, -1 not tried. */
static int have_openat2 = -1;

/*
 * openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: path below dirfd
 * in one step, refused (ELOOP, EXDEV) where a component is a symbolic
 * link or leads out.  -2 when the kernel lacks it.
 */
static int
open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS
	};
	long fd;

	if (have_openat2 == 0)
		return -2;
	fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	/* (EPERM: a seccomp filter that does not know it; O_NOATIME can
	 * also give EPERM, so it decides nothing) */
	if (fd == -1 && (errno == ENOSYS || (errno == EPERM &&
	    !(flags & O_NOATIME))) && have_openat2 == -1) {
		have_openat2 = 0;
		return -2;
	}
	if (fd != -1 || errno != EPERM)
		have_openat2 = 1;
	return (int)fd;
}

/* The component walk, where openat2 is missing: one openat per component. */
static int
walk_parent(int dirfd, const char *path, const char *lastslash)
{
	const char *p = path, *slash;
	char comp[NAME_MAX + 1];
	struct stat st;
	int fd, next, e;
	size_t n;

	if ((fd = dup(dirfd)) == -1)
		return -1;
	for (; p <= lastslash; p = slash + 1) {
		slash = strchr(p, '/');
		n = (size_t)(slash - p);
		memcpy(comp, p, n);
		comp[n] = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next == -1) {
			e = errno;
			if (e == ENOTDIR && fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				e = ELOOP;	/* say what it is: a link not followed */
			close(fd);
			errno = e;
			return -1;
		}
		close(fd);
		fd = next;
	}
	return fd;
}

/*
 * Is path plainly relative: no empty, ".", ".." or over-long component?
 * Its last component in *last, the slash before it in *lastslash (NULL
 * when there is none).  -1 with errno EINVAL when not.
 */
static int
path_check(const char *path, const char **last, const char **lastslash)
{
	const char *p = path, *slash;
	size_t n;

	*lastslash = NULL;
	for (;; p = slash + 1) {
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (!component_ok(p, n)) {
			errno = EINVAL;
			return -1;
		}
		if (slash == NULL)
			break;
		*lastslash = slash;
	}
	*last = p;
	return 0;
}

/*
 * Open the directory holding the last component of path below dirfd; its
 * name in *last.  Every component is checked first (path_check); then the
 * kernel resolves the directories in one openat2, or one component at a
 * time with O_NOFOLLOW.  -1 with errno set (ELOOP for a symbolic link on
 * the way, EINVAL for a path that is not plainly relative).
 */
int
rg_beneath_parent(int dirfd, const char *path, const char **last)
{
	const char *lastslash;
	char dir[PATH_MAX];
	int fd;

	if (path_check(path, last, &lastslash) == -1)
		return -1;
	if (lastslash == NULL)
		return dup(dirfd);
	if ((size_t)(lastslash - path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, (size_t)(lastslash - path));
	dir[lastslash - path] = '\0';
	if ((fd = open_beneath(dirfd, dir, O_RDONLY | O_DIRECTORY)) != -2)
		return fd;
	return walk_parent(dirfd, path, lastslash);
}

/*
 * rg_beneath_parent, the directories on the way made where they are
 * missing (0755, as the registry makes them), one component at a time
 * with O_NOFOLLOW: for rg-restore, whose objects may come back to a
 * repository --prune removed.
 */
int
rg_beneath_mkparent(int dirfd, const char *path, const char **last)
{
	const char *lastslash, *p = path, *slash;
	char comp[NAME_MAX + 1];
	int fd, next, e;
	size_t n;

	if (path_check(path, last, &lastslash) == -1)
		return -1;
	if ((fd = dup(dirfd)) == -1)
		return -1;
	for (; lastslash != NULL && p <= lastslash; p = slash + 1) {
		slash = strchr(p, '/');
		n = (size_t)(slash - p);
		if (n > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (mkdirat(fd, comp, 0755) == -1 && errno != EEXIST) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		e = errno;
		close(fd);
		if (next == -1) {
			errno = e == ENOTDIR ? ELOOP : e;
			return -1;
		}
		fd = next;
	}
	return fd;
}

/*
 * Open path below dirfd with flags, never through a symbolic link: one
 * openat2 where the kernel has it.
 */
int
rg_beneath_open(int dirfd, const char *path, int flags)
{
	const char *last, *lastslash;
	int fd, r, e;

	if (path_check(path, &last, &lastslash) == -1)
		return -1;
	if ((r = open_beneath(dirfd, path, flags)) != -2)
		return r;
	if ((fd = rg_beneath_parent(dirfd, path, &last)) == -1)
		return -1;
	r = openat(fd, last, flags | O_NOFOLLOW | O_CLOEXEC);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

/* stat path below dirfd, never through a symbolic link, nor the last one. */
int
rg_beneath_stat(int dirfd, const char *path, struct stat *st)
{
	const char *last;
	int fd, r, e;

	if ((fd = rg_beneath_parent(dirfd, path, &last)) == -1)
		return -1;
	r = fstatat(fd, last, st, AT_SYMLINK_NOFOLLOW);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

/* Remove name (below dirfd) and all it holds; symbolic links are removed, never followed. */
static int
remove_tree(int dirfd, const char *name)
{
	struct rg_dir l;
	struct stat st;
	size_t i;
	int fd, r = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) == -1 && errno != ENOENT ? -1 : 0;
	if ((fd = rg_dir_list(dirfd, name, &l)) == -1)
		return -1;
	for (i = 0; i < l.n && r == 0; i++)
		r = remove_tree(fd, l.v[i].name);
	close(fd);
	rg_dir_free(&l);
	if (r == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		r = -1;
	return r;
}

/*
 * The trash directory below the storage's v2 directory, created when
 * asked.  The registry never looks there: it reads only blobs/ and
 * repositories/.
 */
int
rg_trash_open(int v2fd, int create)
{
	return rg_subdir_open(v2fd, TRASH, create);
}

/* the directory name below dirfd, made (0700) when asked and missing; -1 (errno) */
int
rg_subdir_open(int dirfd, const char *name, int create)
{
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 && errno == ENOENT && create) {
		if (mkdirat(dirfd, name, 0700) == -1 && errno != EEXIST)
			return -1;
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	return fd;
}

/*
 * Move path (below v2fd) into the trash in one rename; its name there in
 * name.  0 moved, 1 it was not there, -1 failed (errno set).
 */
int
rg_trash_move(int v2fd, int trashfd, const char *path, char name[RG_TRASH_NAME])
{
	static unsigned long seq;	/* (the jobs share it) */

	if (rg_path(name, RG_TRASH_NAME, "%ld-%lu", (long)getpid(),
	    __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED)) != 0)
		return -1;
	return rg_trash_move_as(v2fd, trashfd, path, name);
}

/* rg_trash_move, under the name given */
int
rg_trash_move_as(int v2fd, int trashfd, const char *path, const char *name)
{
	const char *last;
	struct stat st;
	int fd, e;

	if ((fd = rg_beneath_parent(v2fd, path, &last)) == -1)
		return errno == ENOENT ? 1 : -1;
	if (fstatat(fd, last, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return e == ENOENT ? 1 : -1;
	}
	if (!S_ISDIR(st.st_mode)) {	/* every object rg-rm removes is a directory */
		close(fd);
		errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
		return -1;
	}
	if (renameat(fd, last, trashfd, name) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return e == ENOENT ? 1 : -1;
	}
	close(fd);
	return 0;
}

/*
 * Remove what rg_trash_move put in the trash as name; -1 (errno) on
 * failure.  leaf, when not NULL, is the one file such an object holds
 * (link, data): removed without listing the directory, which is listed
 * only when it then holds more.
 */
int
rg_trash_drop(int trashfd, const char *name, const char *leaf)
{
	int fd, e;

	if (leaf == NULL)
		return remove_tree(trashfd, name);
	if ((fd = openat(trashfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return remove_tree(trashfd, name);	/* not a directory */
	e = unlinkat(fd, leaf, 0) == -1 ? errno : 0;
	close(fd);
	if ((e == 0 || e == ENOENT) && unlinkat(trashfd, name, AT_REMOVEDIR) == 0)
		return 0;
	return remove_tree(trashfd, name);
}

/*
 * Put name back from the trash at path: 0 done, 1 something is at path
 * again (name stays in the trash), -1 failed (errno set).
 */
int
rg_trash_restore(int v2fd, int trashfd, const char *name, const char *path)
{
	const char *last;
	int fd, r, e;

	if ((fd = rg_beneath_parent(v2fd, path, &last)) == -1)
		return -1;
	r = renameat2(trashfd, name, fd, last, RENAME_NOREPLACE);
	e = errno;
	if (r == -1 && e == EEXIST) {	/* an empty directory is nothing */
		if (unlinkat(fd, last, AT_REMOVEDIR) == 0)
			r = renameat2(trashfd, name, fd, last, RENAME_NOREPLACE);
		e = errno;
	}
	close(fd);
	if (r == 0)
		return 0;
	errno = e;
	return e == EEXIST || e == ENOTEMPTY ? 1 : -1;
}

/* Move path into the trash, then remove it there (leaf: rg_trash_drop's): rg_trash_move's answers. */
int
rg_trash_remove(int v2fd, int trashfd, const char *path, const char *leaf)
{
	char name[RG_TRASH_NAME];
	int r;

	if ((r = rg_trash_move(v2fd, trashfd, path, name)) != 0)
		return r;
	return rg_trash_drop(trashfd, name, leaf) == -1 ? -1 : 0;
}

/* name below dirfd removed with what it holds: 0, or -1 (errno) */
int
rg_trash_remove_tree(int dirfd, const char *name)
{
	return remove_tree(dirfd, name);
}

/*
 * Empty the trash of a run that was stopped before it had, but for its
 * pending objects (pending.c) and the quarantine (quarantine.c); -1
 * (errno) on failure.
 */
int
rg_trash_empty(int trashfd)
{
	struct rg_dir l;
	size_t i;
	int fd, r = 0;

	if ((fd = rg_dir_list(trashfd, ".", &l)) == -1)
		return -1;
	for (i = 0; i < l.n && r == 0; i++)
		if (strcmp(l.v[i].name, "pending") != 0 &&	/* pending.c's */
		    strcmp(l.v[i].name, "quarantine") != 0)	/* quarantine.c's */
			r = remove_tree(fd, l.v[i].name);
	close(fd);
	rg_dir_free(&l);
	return r;
}

/*
 * Remove the directory path below v2fd if it is empty; 0 removed, 1 not
 * empty or not there, -1 failed.
 */
int
rg_beneath_rmdir(int v2fd, const char *path)
{
	const char *last;
	int fd, r, e;

	if ((fd = rg_beneath_parent(v2fd, path, &last)) == -1)
		return errno == ENOENT ? 1 : -1;
	r = unlinkat(fd, last, AT_REMOVEDIR);
	e = errno;
	close(fd);
	if (r == 0)
		return 0;
	errno = e;
	return e == ENOTEMPTY || e == EEXIST || e == ENOENT ? 1 : -1;
}

