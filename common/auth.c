/*
 * auth.c: credentials and certificates for a registry URL.
 *
 * They are found the way Docker finds them.  Credentials: --user
 * user[:password] (the password from $RG_PASSWORD when not given), else
 * $RG_USER and $RG_PASSWORD, else the docker config
 * ($DOCKER_CONFIG/config.json or ~/.docker/config.json): "credHelpers" or
 * "credsStore" through the docker-credential-* helper protocol (the server
 * on its stdin, never in its arguments), or "auths" with a base64 "auth".
 * Certificates: /etc/docker/certs.d/<host:port>/ ca.crt, client.cert,
 * client.key ($RG_CERTS_DIR for another directory), unless given.  Nothing
 * here prints a secret.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "http.h"

extern char **environ;

/* host[:port] of a URL, into buf; -1 when it does not fit */
static int
host_of(const char *url, char *buf, size_t size)
{
	const char *p = strstr(url, "://"), *end;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "/");
	return rg_path(buf, size, "%.*s", (int)(end - p), p);
}

static int
split(const char *userpass, struct rg_http_opts *o)
{
	char *u = strdup(userpass), *colon;

	if (u == NULL)
		return -1;
	if ((colon = strchr(u, ':')) != NULL) {
		*colon = '\0';
		o->password = colon + 1;
	}
	o->user = u;
	return 0;
}

/* Ask docker-credential-<helper> for server's credentials. */
static int
helper(const char *name, const char *server, struct rg_http_opts *o)
{
	char prog[128], out[8192];
	char *argv[] = { prog, "get", NULL };
	posix_spawn_file_actions_t fa;
	int in[2], outp[2], st;
	size_t n = 0;
	ssize_t k;
	json_t *j;
	pid_t pid;

	if (rg_path(prog, sizeof(prog), "docker-credential-%s", name) != 0) {
		warnx("credential helper %.64s...: name too long", name);
		return -1;
	}
	if (strchr(name, '/') != NULL || *name == '\0') {	/* a path, not a PATH name */
		warnx("credential helper \"%.64s\": not a helper's name", name);
		return -1;
	}
	if (pipe(in) == -1 || pipe(outp) == -1)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_addclose(&fa, in[1]);
	posix_spawn_file_actions_addclose(&fa, outp[0]);
	st = posix_spawnp(&pid, prog, &fa, NULL, argv, rg_env_safe());
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(outp[1]);
	if (st != 0) {
		close(in[1]);
		close(outp[0]);
		warnx("%s: %s", prog, strerror(st));
		return -1;
	}
	if (write(in[1], server, strlen(server)) == -1)
		warn("%s", prog);
	close(in[1]);
	while (n < sizeof(out) - 1 && (k = read(outp[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)k;
	close(outp[0]);
	waitpid(pid, &st, 0);
	out[n] = '\0';
	j = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? json_loads(out, 0, NULL) : NULL;
	explicit_bzero(out, sizeof(out));
	if (j == NULL) {
		warnx("%s: no credentials for %s", prog, server);
		return -1;
	}
	if (rg_str(j, "Username") != NULL && rg_str(j, "Secret") != NULL) {
		o->user = strdup(rg_str(j, "Username"));
		o->password = strdup(rg_str(j, "Secret"));
	}
	json_decref(j);
	return 0;
}

/* "auths": {"host": {"auth": base64(user:password)}} */
static int
auths(json_t *cfg, const char *host, const char *url, struct rg_http_opts *o)
{
	unsigned char dec[1024];
	const char *key, *b64;
	char want[600];
	json_t *v;
	int n;

	json_object_foreach(json_object_get(cfg, "auths"), key, v) {
		if ((host_of(key, want, sizeof(want)) != 0 || strcmp(want, host) != 0) &&
		    strcmp(key, url) != 0)
			continue;
		if ((b64 = rg_str(v, "auth")) == NULL || strlen(b64) > 4 * (sizeof(dec) / 3) - 4)
			continue;
		if ((n = EVP_DecodeBlock(dec, (const unsigned char *)b64,
		    (int)strlen(b64))) <= 0)
			continue;
		while (n > 0 && dec[n - 1] == '\0')	/* the padding */
			n--;
		dec[n] = '\0';
		n = split((char *)dec, o);
		explicit_bzero(dec, sizeof(dec));
		return n;
	}
	return 1;
}

static void
certs(const char *host, struct rg_http_opts *o)
{
	const char *dir = getenv("RG_CERTS_DIR");
	static char ca[1024], cert[1024], key[1024];
	struct stat st;

	if (dir == NULL)
		dir = "/etc/docker/certs.d";
	if (rg_path(ca, sizeof(ca), "%s/%s/ca.crt", dir, host) != 0 ||
	    rg_path(cert, sizeof(cert), "%s/%s/client.cert", dir, host) != 0 ||
	    rg_path(key, sizeof(key), "%s/%s/client.key", dir, host) != 0) {
		warnx("%s/%s: path too long: its certificates not looked for", dir,
		    host);
		return;
	}
	if (o->cacert == NULL && stat(ca, &st) == 0)
		o->cacert = ca;
	if (o->cert == NULL && o->key == NULL && stat(cert, &st) == 0 &&
	    stat(key, &st) == 0) {
		o->cert = cert;
		o->key = key;
	}
}

/* Fill in o's credentials and certificates for url; -1 (reported) on failure. */
int
rg_api_credentials(const char *url, struct rg_http_opts *o)
{
	char host[512], path[1024], *buf;
	const char *home, *dir, *name;
	size_t len;
	json_t *cfg;
	int r = 1;

	if (host_of(url, host, sizeof(host)) != 0) {
		warnx("%.100s...: host name too long", url);
		return -1;
	}
	certs(host, o);
	if (o->user != NULL) {
		if (split(o->user, o) != 0)
			return -1;
		if (o->password == NULL)
			o->password = getenv("RG_PASSWORD");
		return 0;
	}
	if (getenv("RG_USER") != NULL) {
		o->user = getenv("RG_USER");
		if (o->password == NULL)
			o->password = getenv("RG_PASSWORD");
		return 0;
	}
	if ((dir = getenv("DOCKER_CONFIG")) != NULL)
		r = rg_path(path, sizeof(path), "%s/config.json", dir);
	else if ((home = getenv("HOME")) != NULL)
		r = rg_path(path, sizeof(path), "%s/.docker/config.json", home);
	else
		return 0;
	if (r != 0) {
		warnx("DOCKER_CONFIG or HOME: path too long: credentials not read");
		return 0;
	}
	r = 1;
	if (rg_read_file(AT_FDCWD, path, 1 << 20, &buf, &len) == -1)
		return 0;	/* none: anonymous */
	cfg = json_loadb(buf, len, 0, NULL);
	explicit_bzero(buf, len);	/* its auths: base64, not hidden */
	free(buf);
	if (cfg == NULL) {
		warnx("%s: not JSON: credentials not read from it", path);
		return 0;
	}
	if ((name = rg_str(json_object_get(cfg, "credHelpers"), host)) != NULL ||
	    (name = rg_str(cfg, "credsStore")) != NULL)
		r = helper(name, host, o);
	if (r != 0)
		r = auths(cfg, host, url, o);
	json_decref(cfg);
	return r < 0 ? -1 : 0;
}
