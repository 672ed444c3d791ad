/*
 * nomem.c: the one exit in common/.
 *
 * Out of memory, a tool can neither report records nor keep its promises
 * about them, so it stops at once with the fatal status; _exit, so no
 * half-written buffer is flushed.
 */
#include <stdio.h>
#include <unistd.h>

#include "base.h"

void
rg_nomem(void)
{
	static const char msg[] = "rg: out of memory\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(RG_EXIT_FATAL);
}
