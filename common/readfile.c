/*
 * readfile.c: a small file read whole.
 *
 * Of at most a given size (EFBIG past it), never through a symbolic link:
 * links, the registry's config.yml, credentials, policies.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "base.h"

/*
 * Read the whole open regular file fd, of at most max bytes, into a fresh
 * NUL-terminated buffer.  A larger file fails with EFBIG.
 */
int
rg_read_fd(int fd, size_t max, char **bufp, size_t *lenp)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	ssize_t n;
	int e;

	if (fstat(fd, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		return -1;
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* shrank while we read it */
			e = errno;
			free(buf);
			errno = e;
			return -1;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* rg_read_fd of the file at path below dirfd (not a symbolic link) */
int
rg_read_file(int dirfd, const char *path, size_t max, char **bufp, size_t *lenp)
{
	int fd, r, e;

	if ((fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	r = rg_read_fd(fd, max, bufp, lenp);
	e = errno;
	close(fd);
	errno = e;
	return r;
}
