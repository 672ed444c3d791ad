/*
 * runid.c: a run's id, random: 32 hex digits.
 *
 * Hosts and containers (all pid 1) never share one, so two runs' names in
 * a shared storage never meet.
 */
#include <sys/random.h>

#include <stdio.h>

#include "base.h"

/* A run id: 16 random bytes, in hex.  -1 when the kernel has none to give. */
int
rg_run_id(char out[33])
{
	unsigned char b[16];
	size_t i;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	for (i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}
