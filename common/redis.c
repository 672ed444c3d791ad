/*
 * redis.c: just enough of the redis protocol for rg-rm.
 *
 * It removes the registry's cache entries of what rg-rm deletes: commands
 * are sent as arrays of bulk strings (RESP), and a reply is an integer, a
 * status, an error, a bulk string or an array of these (nesting bounded).
 * TCP, as the registry's own redis client dials it; reads and writes time
 * out.
 *
 * The registry (2.8, registry/storage/cache/redis/redis.go) keeps
 *   blobs::<digest>                      hash: digest, size, mediatype
 *   repository::<name>::blobs            set of the digests linked there
 *   repository::<name>::blobs::<digest>  hash: that repository's mediatype
 * and answers "present" for a blob of a repository when the digest is in
 * the repository's set and blobs::<digest> has its fields.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "records.h"
#include "redis.h"

#define TIMEOUT_S	10
#define MAXNEST		4
#define KEYMAX		(RG_REPO_MAX + RG_DIGEST_STRLEN + 32)

static int
fail(struct rg_redis *r, const char *what, int e)
{
	rg_msg(r->err, sizeof(r->err), "redis %s: %s%s%s", r->addr, what,
	    e ? ": " : "", e ? strerror(e) : "");
	return -1;
}

static int
dial(struct rg_redis *r)
{
	char host[256], *port;
	struct addrinfo hints, *res, *ai;
	struct timeval tv = { TIMEOUT_S, 0 };
	int e, fd = -1;

	if (rg_path(host, sizeof(host), "%s", r->addr) != 0)
		return fail(r, "address too long", 0);
	if ((port = strrchr(host, ':')) == NULL)
		return fail(r, "not host:port", 0);
	*port++ = '\0';
	if (host[0] == '[' && port[-2] == ']') {	/* [::1]:6379 */
		port[-2] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(*host ? host : "localhost", port, &hints, &res)) != 0) {
		rg_msg(r->err, sizeof(r->err), "redis %s: %s", r->addr,
		    gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	e = errno;
	freeaddrinfo(res);
	if (fd == -1)
		return fail(r, "cannot connect", e);
	r->fd = fd;
	return 0;
}

static int
send_all(struct rg_redis *r, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(r->fd, p, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return fail(r, "write", errno);
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
getbyte(struct rg_redis *r, char *c)
{
	ssize_t n;

	if (r->inpos == r->inlen) {
		do
			n = recv(r->fd, r->in, sizeof(r->in), 0);
		while (n == -1 && errno == EINTR);
		if (n <= 0)
			return fail(r, n == 0 ? "connection closed" : "read",
			    n == 0 ? 0 : errno);
		r->inlen = (size_t)n;
		r->inpos = 0;
	}
	*c = r->in[r->inpos++];
	return 0;
}

/* one line of a reply, without its CRLF */
static int
getline_(struct rg_redis *r, char *buf, size_t size)
{
	size_t n = 0;
	char c;

	for (;;) {
		if (getbyte(r, &c) != 0)
			return -1;
		if (c == '\n' && n > 0 && buf[n - 1] == '\r') {
			buf[n - 1] = '\0';
			return 0;
		}
		if (n + 1 >= size)
			return fail(r, "reply line too long", 0);
		buf[n++] = c;
	}
}

/* one reply; an integer one in *n; -1 for an error reply or a broken one */
static int
reply(struct rg_redis *r, long long *n, int depth)
{
	char line[512], c, *end;
	long long v, i;

	if (getline_(r, line, sizeof(line)) != 0)
		return -1;
	errno = 0;
	v = strtoll(line + 1, &end, 10);
	switch (line[0]) {
	case '+':
		return 0;
	case '-':
		rg_msg(r->err, sizeof(r->err), "redis %s: %.200s", r->addr,
		    line + 1);
		return -1;
	case ':':
		if (errno != 0 || *end != '\0')
			return fail(r, "bad integer reply", 0);
		if (n != NULL)
			*n = v;
		return 0;
	case '$':
		if (errno != 0 || *end != '\0' || v < -1 || v > (1 << 20))
			return fail(r, "bad bulk reply", 0);
		for (i = 0; i < v + 2 && v >= 0; i++)	/* the string and CRLF */
			if (getbyte(r, &c) != 0)
				return -1;
		return 0;
	case '*':
		if (errno != 0 || *end != '\0' || v < -1 || v > 4096 ||
		    depth >= MAXNEST)
			return fail(r, "bad array reply", 0);
		for (i = 0; i < v; i++)
			if (reply(r, NULL, depth + 1) != 0)
				return -1;
		return 0;
	}
	return fail(r, "not a redis reply", 0);
}

int
rg_redis_cmd(struct rg_redis *r, long long *n, int argc, const char **argv)
{
	struct rg_buf b;
	int i, rc;

	memset(&b, 0, sizeof(b));
	if (rg_buf_printf(&b, "*%d\r\n", argc) != 0)
		rg_nomem();
	for (i = 0; i < argc; i++)
		if (rg_buf_printf(&b, "$%zu\r\n", strlen(argv[i])) != 0 ||
		    rg_buf_add(&b, argv[i], strlen(argv[i])) != 0 ||
		    rg_buf_add(&b, "\r\n", 2) != 0)
			rg_nomem();
	rc = send_all(r, b.p, b.len);
	rg_buf_free(&b);
	return rc != 0 ? -1 : reply(r, n, 0);
}

int
rg_redis_open(struct rg_redis *r, const char *addr, const char *password, int db)
{
	char dbs[32];
	const char *auth[] = { "AUTH", password }, *sel[] = { "SELECT", dbs };

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if ((r->addr = strdup(addr)) == NULL)
		rg_nomem();
	if (dial(r) != 0)
		return -1;
	if (password != NULL && *password != '\0' && rg_redis_cmd(r, NULL, 2, auth) != 0)
		return -1;
	rg_path(dbs, sizeof(dbs), "%d", db);	/* fits: an int */
	return db != 0 ? rg_redis_cmd(r, NULL, 2, sel) : 0;
}

void
rg_redis_close(struct rg_redis *r)
{
	if (r->fd != -1)
		close(r->fd);
	free(r->addr);
	r->fd = -1;
	r->addr = NULL;
}

int
rg_redis_forget_link(struct rg_redis *r, const char *repo, const struct rg_digest *d)
{
	char ds[RG_DIGEST_STRLEN + 1], set[KEYMAX], hash[KEYMAX];
	const char *srem[] = { "SREM", set, ds }, *del[] = { "DEL", hash };

	rg_digest_format(d, ds);
	if (rg_path(set, sizeof(set), "repository::%s::blobs", repo) != 0 ||
	    rg_path(hash, sizeof(hash), "repository::%s::blobs::%s", repo, ds) != 0)
		return fail(r, "repository name too long", 0);
	return rg_redis_cmd(r, NULL, 3, srem) != 0 ||
	    rg_redis_cmd(r, NULL, 2, del) != 0 ? -1 : 0;
}

int
rg_redis_forget_blob(struct rg_redis *r, const struct rg_digest *d)
{
	char ds[RG_DIGEST_STRLEN + 1], key[KEYMAX];
	const char *del[] = { "DEL", key };

	rg_digest_format(d, ds);
	if (rg_path(key, sizeof(key), "blobs::%s", ds) != 0)
		return fail(r, "key too long", 0);
	return rg_redis_cmd(r, NULL, 2, del);
}
