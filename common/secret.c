/*
 * secret.c: what a process holding credentials owes them.
 *
 * No core dump and no ptrace by the same user (PR_SET_DUMPABLE 0); a
 * password given on the command line wiped from argv, where
 * /proc/PID/cmdline shows it to every user; commands rg starts for the
 * administrator (--stop, --start) and credential helpers given an
 * environment without the secrets rg took from its own
 * (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, RG_PASSWORD); a password read
 * from a file or standard input.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base.h"

extern char **environ;

static const char *const secret_vars[] = {
	"AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "RG_PASSWORD=", NULL
};

/* No core dump of this process, nor ptrace by its user: it holds secrets. */
void
rg_secret_guard(void)
{
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/*
 * user[:password] of an option: a copy, and the password wiped from the
 * argument itself (argv), so that ps and /proc no longer show it.
 */
char *
rg_secret_arg(char *arg)
{
	char *copy = strdup(arg), *colon;

	if (copy == NULL)
		rg_nomem();
	if ((colon = strchr(arg, ':')) != NULL)
		memset(colon + 1, 'x', strlen(colon + 1));
	return copy;
}

/*
 * The environment without the secrets: for the commands rg starts.
 * Allocated once; the strings are environ's.
 */
char **
rg_env_safe(void)
{
	static char **env;
	size_t n = 0, i, k;

	if (env != NULL)
		return env;
	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		rg_nomem();
	for (i = 0, n = 0; environ[i] != NULL; i++) {
		for (k = 0; secret_vars[k] != NULL; k++)
			if (strncmp(environ[i], secret_vars[k],
			    strlen(secret_vars[k])) == 0)
				break;
		if (secret_vars[k] == NULL)
			env[n++] = environ[i];
	}
	return env;
}

/*
 * A password, the first line of the file at path ("-": standard input),
 * at most RG_SECRET_MAX bytes: a malloc'd copy, or NULL (reported).
 */
char *
rg_secret_read(const char *path)
{
	char buf[RG_SECRET_MAX + 2], *p;
	size_t n = 0;
	ssize_t k;
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO :
	    open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		warn("%s", path);
		return NULL;
	}
	while (n < sizeof(buf) - 1 && (k = read(fd, buf + n, sizeof(buf) - 1 - n)) != 0) {
		if (k == -1) {
			if (errno == EINTR)
				continue;
			warn("%s", path);
			break;
		}
		n += (size_t)k;
		if (memchr(buf, '\n', n) != NULL)
			break;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strlen(buf) > RG_SECRET_MAX || buf[0] == '\0') {
		warnx("%s: %s", strcmp(path, "-") == 0 ? "standard input" : path,
		    buf[0] == '\0' ? "no password in it" : "a password longer "
		    "than " RG_SECRET_MAX_S " bytes");
		explicit_bzero(buf, sizeof(buf));
		return NULL;
	}
	if ((p = strdup(buf)) == NULL)
		rg_nomem();
	explicit_bzero(buf, sizeof(buf));
	return p;
}
