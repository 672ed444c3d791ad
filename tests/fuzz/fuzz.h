/*
 * fuzz.h: shared by the libFuzzer targets of tests/fuzz.  Each target is
 * one file defining LLVMFuzzerTestOneInput over one parser of common/;
 * a property the parser must keep is checked with check(), which aborts
 * (a crash the fuzzer saves with its input).
 */
#ifndef RG_FUZZ_H
#define RG_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define check(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property broken: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* the input as a NUL-terminated string (cut at its first NUL) */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * the input in a file of its own, for parsers that read a path: a memfd,
 * so that no disk is written (a write to /tmp stalled over the 1 s a
 * target may take, on a loaded machine)
 */
static inline const char *
fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd == -1) {
		if ((fd = memfd_create("rg-fuzz", 0)) == -1)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	return path;
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
