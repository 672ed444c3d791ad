/* dir.c: directories listed whole and sorted, so output is reproducible. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rg_entry *)a)->name,
	    ((const struct rg_entry *)b)->name);
}

void
rg_dir_free(struct rg_dir *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Add an entry of len bytes of name and its type (d_type); -1 out of memory. */
int
rg_dir_add(struct rg_dir *l, const char *name, size_t len, unsigned char type)
{
	struct rg_entry *v;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		if ((v = realloc(l->v, l->cap * sizeof(*v))) == NULL)
			return -1;
		l->v = v;
	}
	if ((l->v[l->n].name = strndup(name, len)) == NULL)
		return -1;
	l->v[l->n].type = type;
	l->n++;
	return 0;
}

static int
dir_add(struct rg_dir *l, const struct dirent *de)
{
	return rg_dir_add(l, de->d_name, strlen(de->d_name), de->d_type);
}

/*
 * List the open directory fd (its offset is shared: list a directory once
 * per open), sorted, without . and ..; an entry of unknown kind is looked
 * at.  0, or -1 with errno set.
 */
int
rg_dir_read(int fd, struct rg_dir *l)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	size_t i;
	int dupfd, e;

	memset(l, 0, sizeof(*l));
	if ((dupfd = dup(fd)) == -1)
		return -1;
	if ((d = fdopendir(dupfd)) == NULL) {
		e = errno;
		close(dupfd);
		errno = e;
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		if (dir_add(l, de) == -1)
			break;
	}
	e = errno;
	closedir(d);
	if (e != 0) {
		rg_dir_free(l);
		errno = e;
		return -1;
	}
	for (i = 0; i < l->n; i++)
		if (l->v[i].type == DT_UNKNOWN && fstatat(fd, l->v[i].name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0)
			l->v[i].type = IFTODT(st.st_mode);
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), entry_cmp);
	return 0;
}

/*
 * Open the directory at path below dirfd (never through a symbolic link as
 * its last component) and list it: rg_dir_read.  Returns its fd, or -1
 * with errno set.
 */
int
rg_dir_list(int dirfd, const char *path, struct rg_dir *l)
{
	int fd, e;

	memset(l, 0, sizeof(*l));
	fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (rg_dir_read(fd, l) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
