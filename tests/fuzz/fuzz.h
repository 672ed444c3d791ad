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
 * the input in a file of its own, for parsers that read a path: in
 * /dev/shm, so that no disk is written (a write to /tmp stalled over the
 * 1 s a target may take, on a loaded machine), and a plain file (a memfd's
 * /proc/self/fd path is a symbolic link, which rg's O_NOFOLLOW refuses)
 */
static inline const char *
fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	FILE *f;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/dev/shm/rg-fuzz-%ld", (long)getpid());
	if ((f = fopen(path, "w")) == NULL || fwrite(data, 1, size, f) != size ||
	    fclose(f) != 0)
		abort();
	return path;
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
