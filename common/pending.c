/*
 * pending.c: objects out of the registry's sight, not yet deleted.
 *
 * rg-rm moves a tag, a manifest's revision, a layer link or a blob into
 * .rg-trash/pending, looks at the storage again, then puts it back or
 * removes it.  Where each object was is appended to the run's journal,
 * pending/<pid>.notes, before it moves (one write, O_APPEND); a run killed
 * at any moment leaves the journal, and the next run puts every object it
 * names back where it was (when nothing has taken its place): what a
 * killed run had not yet decided is kept, never deleted early.  A run that
 * finishes removes its journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define PENDING		"pending"
#define JOURNAL		".notes"

static int journal = -1;		/* this run's, opened at the first move */
static char journal_name[32];
static pthread_mutex_t journal_lock = PTHREAD_MUTEX_INITIALIZER;

/* .rg-trash/pending, created; -1 (errno) on failure */
int
rg_pend_open(int trashfd)
{
	return rg_subdir_open(trashfd, PENDING, 1);
}

/* the journal's line for name: "<name>\t<path>\n" */
static int
note(int pendfd, const char *name, const char *path)
{
	char line[RG_TRASH_NAME + RG_SWEEP_PATH + 2];
	int n;

	pthread_mutex_lock(&journal_lock);	/* (the jobs share it) */
	if (journal == -1 && rg_path(journal_name, sizeof(journal_name), "%ld%s",
	    (long)getpid(), JOURNAL) == 0)
		journal = openat(pendfd, journal_name, O_WRONLY | O_CREAT |
		    O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	pthread_mutex_unlock(&journal_lock);
	if (journal == -1)
		return -1;
	if ((n = rg_path(line, sizeof(line), "%s\t%s\n", name, path)) != 0)
		return -1;
	n = (int)strlen(line);
	if (write(journal, line, (size_t)n) != n) {	/* (O_APPEND: one line whole) */
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * Move path (below v2fd) into pending, its place written in the journal
 * first: 0 moved (its name in name), 1 not there, -1 failed (errno set).
 */
int
rg_pend_move(int v2fd, int pendfd, const char *path, char name[RG_TRASH_NAME])
{
	static unsigned long seq;

	if (rg_path(name, RG_TRASH_NAME, "%ld-p%lu", (long)getpid(),
	    __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED)) != 0)
		return -1;
	if (note(pendfd, name, path) != 0)
		return -1;
	return rg_trash_move_as(v2fd, pendfd, path, name);
}

/* Put name back at path: rg_trash_restore's answers; gone from pending either way but -1. */
int
rg_pend_restore(int v2fd, int pendfd, const char *name, const char *path)
{
	int r;

	if ((r = rg_trash_restore(v2fd, pendfd, name, path)) == 1)
		r = rg_trash_drop(pendfd, name, NULL) == -1 ? -1 : 1;	/* taken: a push's */
	/* (a run killed in that removal puts back what is left: an empty
	 * directory the registry takes for nothing, or a part of what it
	 * has again) */
	return r;
}

/*
 * Take name out of pending for good: into the trash in one rename (a run
 * killed after it empties the trash of it); -1 (errno) on failure, when
 * it is still pending.
 */
int
rg_pend_final(int pendfd, int trashfd, const char *name)
{
	return renameat(pendfd, name, trashfd, name);
}

/* The end of a run that decided all it moved: its journal goes. */
void
rg_pend_close(int pendfd)
{
	if (journal == -1)
		return;
	close(journal);
	journal = -1;
	unlinkat(pendfd, journal_name, 0);
}

static int
is_journal(const char *name)
{
	size_t n = strlen(name);

	return n > strlen(JOURNAL) && strcmp(name + n - strlen(JOURNAL), JOURNAL) == 0;
}

/* Put back what the journal jname names and is still pending; counts in *back. */
static int
replay(int v2fd, int pendfd, const char *jname, unsigned long *back)
{
	char *line = NULL, *tab;
	size_t cap = 0;
	ssize_t len;
	struct stat st;
	FILE *f;
	int fd, r = 0, e = 0;

	if ((fd = openat(pendfd, jname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    (f = fdopen(fd, "r")) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] != '\n')
			break;		/* cut short by the kill: its object never moved */
		line[len - 1] = '\0';
		if ((tab = strchr(line, '\t')) == NULL || tab - line >= RG_TRASH_NAME ||
		    strchr(line, '/') < tab)
			continue;	/* not a line of ours */
		*tab = '\0';
		if (fstatat(pendfd, line, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;	/* never moved, or decided */
		switch (rg_pend_restore(v2fd, pendfd, line, tab + 1)) {
		case 0:
			++*back;
			break;
		case -1:
			r = -1;
			e = errno;
			break;
		}
	}
	free(line);
	fclose(f);
	errno = e;
	return r;
}

/*
 * What a killed run left pending goes back where it was, unless something
 * is there again; counts in *back.  An object no journal names cannot go
 * back, and goes.  -1 (errno) when an object could not be put back: it
 * stays in pending with its journal, and the trash is not emptied of it.
 */
int
rg_pend_recover(int v2fd, int pendfd, unsigned long *back)
{
	struct rg_dir l;
	size_t i;
	int r = 0, e = 0;

	*back = 0;
	if (rg_dir_list(pendfd, ".", &l) == -1)
		return -1;
	for (i = 0; i < l.n; i++)
		if (is_journal(l.v[i].name) &&
		    replay(v2fd, pendfd, l.v[i].name, back) == -1)
			r = -1, e = errno;
	for (i = 0; i < l.n && r == 0; i++) {
		const char *name = l.v[i].name;

		if (is_journal(name))
			unlinkat(pendfd, name, 0);
		else if (rg_trash_drop(pendfd, name, NULL) == -1 && errno != ENOENT)
			r = -1, e = errno;	/* (ENOENT: it went back) */
	}
	rg_dir_free(&l);
	errno = e;
	return r;
}
