/*
 * s3lease.c: one rg-rm at a time on a registry's bucket.
 *
 * The filesystem has flock; S3 has nothing of the kind, and two runs at
 * once put back what the other set aside (a layer link then named a blob
 * that was gone).  The lease is an object, .rg-trash/lease, holding who
 * took it (a random run id, host, boot, pid namespace, pid and its start)
 * and for how long (ttl seconds).
 *
 * Taken with a conditional write (If-None-Match: *), so that of two runs
 * one wins; read back to be sure (a store that ignored the condition).
 * A lease is alive while its Last-Modified is younger than its ttl, both
 * on the server's clock (the Date of the answer): hosts' clocks do not
 * matter.  The holder renews it (If-Match: its ETag) every ttl/5 from a
 * thread; a renewal refused means another run took it, and the holder
 * stops deleting.  A lease past its ttl, or one whose holder is a process
 * of this very machine that is gone (same host, boot and pid namespace;
 * its pid absent, or started at another time), is taken over
 * (If-Match: its ETag); only then does the new holder put back what the
 * dead one left.
 *
 * Memory: the lease's few hundred bytes and its own connection.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "s3.h"

#define LEASE		".rg-trash/lease"
#define LEASE_MAX	4096	/* bytes of a lease read */
#define TRIES		3	/* rounds of read and write, racing others */

/* what a lease says of its holder */
struct holder {
	char run[64], host[256], boot[64], pidns[64], started[32];
	long pid;
	unsigned long long pid_start;
	long ttl;
};

/* a small file's first line, without its newline: 0, or -1 */
static int
first_line(const char *path, char *out, size_t size)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, out, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

/* a process's start, in clock ticks after boot (/proc/PID/stat, field 22) */
static unsigned long long
pid_start(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	int i;

	rg_path(path, sizeof(path), "/proc/%ld/stat", pid);
	if (first_line(path, buf, sizeof(buf)) != 0 ||
	    (p = strrchr(buf, ')')) == NULL)
		return 0;
	for (i = 2; i < 22 && p != NULL; i++)	/* the fields after comm */
		p = strchr(p + 1, ' ');
	if (p != NULL)
		v = strtoull(p + 1, NULL, 10);
	return v;
}

/* who we are */
static void
self(struct holder *h, const char *run, long ttl)
{
	ssize_t n;

	memset(h, 0, sizeof(*h));
	rg_path(h->run, sizeof(h->run), "%s", run);
	if (gethostname(h->host, sizeof(h->host) - 1) != 0)
		h->host[0] = '\0';
	if (first_line("/proc/sys/kernel/random/boot_id", h->boot,
	    sizeof(h->boot)) != 0)
		h->boot[0] = '\0';
	if ((n = readlink("/proc/self/ns/pid", h->pidns, sizeof(h->pidns) - 1)) > 0)
		h->pidns[n] = '\0';
	h->pid = (long)getpid();
	h->pid_start = pid_start(h->pid);
	rg_time_format(time(NULL), h->started);
	h->ttl = ttl;
}

static int
encode(const struct holder *h, char *buf, size_t size, size_t *len)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:I}",
	    "run", h->run, "host", h->host, "boot", h->boot, "pidns", h->pidns,
	    "pid", (json_int_t)h->pid, "pid_start", (json_int_t)h->pid_start,
	    "started", h->started, "ttl", (json_int_t)h->ttl);
	char *s;

	if (j == NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL)
		rg_nomem();
	json_decref(j);
	*len = strlen(s);
	if (*len >= size) {
		free(s);
		return -1;
	}
	memcpy(buf, s, *len + 1);
	free(s);
	return 0;
}

/* a lease read: 0, or -1 when it is not one (then it is taken as dead) */
static int
decode(const char *buf, size_t len, struct holder *h)
{
	json_t *j = json_loadb(buf, len, 0, NULL);
	json_int_t ttl = json_integer_value(json_object_get(j, "ttl"));

	memset(h, 0, sizeof(*h));
	if (!json_is_object(j) || rg_str(j, "run") == NULL || ttl <= 0) {
		json_decref(j);
		return -1;
	}
	rg_path(h->run, sizeof(h->run), "%s", rg_str(j, "run"));
	rg_path(h->host, sizeof(h->host), "%s", rg_strz(j, "host"));
	rg_path(h->boot, sizeof(h->boot), "%s", rg_strz(j, "boot"));
	rg_path(h->pidns, sizeof(h->pidns), "%s", rg_strz(j, "pidns"));
	rg_path(h->started, sizeof(h->started), "%s", rg_strz(j, "started"));
	h->pid = (long)json_integer_value(json_object_get(j, "pid"));
	h->pid_start = (unsigned long long)json_integer_value(json_object_get(j,
	    "pid_start"));
	h->ttl = ttl > 86400 ? 86400 : (long)ttl;
	json_decref(j);
	return 0;
}

/*
 * Is the holder a process of this machine that is gone?  Only where the
 * host, the boot and the pid namespace are ours can its pid be looked at.
 */
static int
dead_here(const struct holder *h, const struct holder *me)
{
	if (h->pid <= 0 || *h->boot == '\0' || *h->pidns == '\0' ||
	    strcmp(h->host, me->host) != 0 || strcmp(h->boot, me->boot) != 0 ||
	    strcmp(h->pidns, me->pidns) != 0)
		return 0;
	if (kill((pid_t)h->pid, 0) == -1 && errno == ESRCH)
		return 1;
	return h->pid_start != 0 && pid_start(h->pid) != h->pid_start;
}

/* the lease as it is: 0 (read), 1 (none), -1 (failed, l->s.error) */
static int
read_lease(struct rg_s3_lease *l, struct holder *h, struct rg_s3_meta *m,
    int *valid)
{
	char *buf;
	size_t len;

	if (rg_s3_get_meta(&l->s, LEASE, LEASE_MAX, &buf, &len, m) != 0)
		return errno == ENOENT ? 1 : -1;
	*valid = decode(buf, len, h) == 0;
	free(buf);
	return 0;
}

/*
 * Write the lease if the object is still the one of ETag etag: 0 written
 * (out, its new ETag), 1 it is not, -1 failed.  RFC 7232 quotes an ETag,
 * AWS takes it so, Ceph's gateway (16) only bare: a refusal while the
 * object is unchanged is tried once in the other form, which is kept.
 */
static int
put_match(struct rg_s3_lease *l, const char *etag, char *out, size_t size)
{
	char cond[200], *body;
	struct rg_s3_meta m;
	size_t len, n = strlen(etag);
	int r, tries, quoted = n >= 2 && etag[0] == '"' && etag[n - 1] == '"';

	for (tries = 0; tries < 2; tries++) {
		if (quoted && l->bare)
			rg_path(cond, sizeof(cond), "If-Match: %.*s", (int)n - 2,
			    etag + 1);
		else
			rg_path(cond, sizeof(cond), "If-Match: %s", etag);
		if ((r = rg_s3_put_if(&l->s, LEASE, l->body, l->len, cond, out,
		    size)) != 1 || !quoted || tries == 1)
			return r;
		/* refused: another run's now, or a form the store does not take */
		if (rg_s3_get_meta(&l->s, LEASE, LEASE_MAX, &body, &len, &m) != 0)
			return errno == ENOENT ? 1 : -1;
		free(body);
		if (strcmp(m.etag, etag) != 0)
			return 1;
		l->bare ^= 1;
	}
	return 1;
}

static void *renew(void *arg);

/*
 * Take the lease of the bucket c names for run, ttl seconds at a time,
 * and keep it (a thread renews it): 0; 1 another run holds it (why says
 * which and since when); -1 failed (why).  *took_over: from a dead run.
 */
int
rg_s3_lease_take(struct rg_s3_lease *l, const struct rg_s3_conf *c,
    const char *run, long ttl, int *took_over, char *why, size_t size)
{
	struct holder me, h;
	struct rg_s3_meta m;
	long age;
	int try, r, over, valid = 0;

	memset(l, 0, sizeof(*l));
	*took_over = 0;
	if (rg_s3_open(&l->s, c) != 0) {
		rg_msg(why, size, "%s", l->s.error);
		return -1;
	}
	self(&me, run, ttl);
	if (encode(&me, l->body, sizeof(l->body), &l->len) != 0) {
		rg_msg(why, size, "the lease: this host's name is too long");
		return -1;
	}
	for (try = 0; try < TRIES; try++) {
		over = 0;
		if ((r = read_lease(l, &h, &m, &valid)) == -1) {
			rg_msg(why, size, "%s", l->s.error);
			return -1;
		}
		if (r == 1)
			r = rg_s3_put_if(&l->s, LEASE, l->body, l->len,
			    "If-None-Match: *", l->etag, sizeof(l->etag));
		else {
			age = (long)((m.date != 0 ? m.date : time(NULL)) - m.mtime);
			if (valid && age <= h.ttl && !dead_here(&h, &me)) {
				rg_msg(why, size, "another rg-rm holds the lease "
				    "(" LEASE "): run %s on %s, pid %ld, since %s, "
				    "renewed %ld s ago; it lapses in %ld s unless "
				    "renewed; nothing deleted", h.run, h.host, h.pid,
				    h.started, age, h.ttl - age);
				return 1;
			}
			r = put_match(l, m.etag, l->etag, sizeof(l->etag));
			over = 1;
		}
		if (r == -1) {
			rg_msg(why, size, "%s", l->s.error);
			return -1;
		}
		if (r == 1)
			continue;	/* another run was quicker: read again */
		/* read back: a store that ignores the condition lets two win */
		if (read_lease(l, &h, &m, &valid) != 0 || !valid ||
		    strcmp(h.run, run) != 0)
			continue;
		rg_path(l->etag, sizeof(l->etag), "%s", m.etag);
		*took_over = over;	/* a dead run's */
		l->ttl = ttl;
		pthread_mutex_init(&l->lock, NULL);
		pthread_cond_init(&l->wake, NULL);
		if (rg_thread_start(&l->thread, renew, l) != 0) {
			rg_msg(why, size, "the lease: no thread to renew it");
			rg_s3_lease_release(l);
			return -1;
		}
		l->held = l->running = 1;
		return 0;
	}
	rg_msg(why, size, "the lease (" LEASE "): other runs took it as this "
	    "one tried, %d times; nothing deleted", TRIES);
	return 1;
}

/* every ttl/5 seconds: written again, if it is still ours */
static void *
renew(void *arg)
{
	struct rg_s3_lease *l = arg;
	struct timespec at;
	time_t ok = time(NULL);
	char cond[160], etag[128];
	int r;

	pthread_mutex_lock(&l->lock);
	while (!l->stop) {
		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_sec += l->ttl / 5 > 0 ? l->ttl / 5 : 1;
		if (pthread_cond_timedwait(&l->wake, &l->lock, &at) == 0 || l->stop)
			continue;
		rg_path(cond, sizeof(cond), "%s", l->etag);
		pthread_mutex_unlock(&l->lock);
		r = put_match(l, cond, etag, sizeof(etag));
		pthread_mutex_lock(&l->lock);
		if (r == 0) {
			rg_path(l->etag, sizeof(l->etag), "%s", etag);
			ok = time(NULL);
		} else if (r == 1 || time(NULL) - ok > l->ttl) {
			l->lost = 1;	/* taken, or lapsed: stop deleting */
			warnx("the lease (" LEASE ") %s: no more is deleted",
			    r == 1 ? "was taken by another run" : "could not be "
			    "renewed and lapsed");
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* Has the lease gone to another run (or lapsed)? */
int
rg_s3_lease_lost(struct rg_s3_lease *l)
{
	int lost;

	if (!l->held)
		return 0;
	pthread_mutex_lock(&l->lock);
	lost = l->lost;
	pthread_mutex_unlock(&l->lock);
	return lost;
}

/* Let the lease go: deleted, when it is still ours. */
void
rg_s3_lease_release(struct rg_s3_lease *l)
{
	char *path = LEASE;
	struct holder h;
	struct rg_s3_meta m;
	int valid = 0;

	if (l->running) {
		pthread_mutex_lock(&l->lock);
		l->stop = 1;
		pthread_cond_signal(&l->wake);
		pthread_mutex_unlock(&l->lock);
		pthread_join(l->thread, NULL);
		l->running = 0;
	}
	if (l->held && !l->lost && read_lease(l, &h, &m, &valid) == 0 && valid &&
	    strcmp(m.etag, l->etag) == 0 && rg_s3_delete(&l->s, &path, 1) != 0)
		warnx("the lease (" LEASE "): %s; it lapses by itself", l->s.error);
	if (l->held) {
		pthread_mutex_destroy(&l->lock);
		pthread_cond_destroy(&l->wake);
	}
	l->held = 0;
	rg_s3_close(&l->s);
}
