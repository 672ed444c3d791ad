/*
 * beneath.h: file operations that stay below one directory.
 *
 * beneath.c's, under the filesystem driver and its pending objects
 * (store.h), which build on them.
 */
#ifndef RG_BENEATH_H
#define RG_BENEATH_H

#include <sys/stat.h>

#include "base.h"

/* beneath.c: file operations confined below a directory, for rg-rm */
int	rg_beneath_parent(int dirfd, const char *path, const char **last);
int	rg_beneath_mkparent(int dirfd, const char *path, const char **last);
int	rg_beneath_open(int dirfd, const char *path, int flags);
int	rg_beneath_stat(int dirfd, const char *path, struct stat *st);
int	rg_beneath_rmdir(int dirfd, const char *path);
int	rg_trash_open(int v2fd, int create);
int	rg_subdir_open(int dirfd, const char *name, int create);
#define RG_TRASH_NAME	64
int	rg_trash_move(int v2fd, int trashfd, const char *path,
	    char name[RG_TRASH_NAME]);
int	rg_trash_move_as(int v2fd, int trashfd, const char *path,
	    const char *name);
int	rg_trash_drop(int trashfd, const char *name, const char *leaf);
int	rg_trash_restore(int v2fd, int trashfd, const char *name,
	    const char *path);
int	rg_trash_remove(int v2fd, int trashfd, const char *path,
	    const char *leaf);
int	rg_trash_empty(int trashfd);
int	rg_trash_remove_tree(int dirfd, const char *name);

#endif
