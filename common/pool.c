/*
 * pool.c: threads that do a run's parallel parts in turn.
 *
 * A few threads that live as long as a run: each part, every thread calls
 * fn(arg, its number) once, and rg_pool_run returns when all have.
 * Threads that stay the same keep what is theirs (a store's connection)
 * from one part to the next.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "base.h"

/*
 * A thread that takes none of the signals that end a run: INT, TERM, HUP
 * and QUIT go to the main thread alone, which can hold them off (rg-rm
 * between --stop and --start) without a worker taking one and ending the
 * process.  (SIGPIPE stays: a write to a reader that went ends the
 * writer, any thread, as in one.)  pthread_create's error number, or 0.
 */
int
rg_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int e;

	sigemptyset(&all);
	sigaddset(&all, SIGINT);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGHUP);
	sigaddset(&all, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}

struct rg_pool {
	pthread_mutex_t lock;
	pthread_cond_t go, done;
	unsigned long part;		/* which part the threads are to do */
	int n, running, quit;
	rg_pool_fn *fn;
	void *arg;
	pthread_t t[];
};

struct worker {
	struct rg_pool *p;
	int i;
};

static void *
worker(void *a)
{
	struct worker w = *(struct worker *)a;
	struct rg_pool *p = w.p;
	unsigned long seen = 0;

	free(a);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->quit && p->part == seen)
			pthread_cond_wait(&p->go, &p->lock);
		if (p->quit)
			break;
		seen = p->part;
		pthread_mutex_unlock(&p->lock);
		p->fn(p->arg, w.i);
		pthread_mutex_lock(&p->lock);
		if (--p->running == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* n threads (at least 1); NULL (errno) when they cannot be made */
struct rg_pool *
rg_pool_new(int n)
{
	struct rg_pool *p;
	struct worker *w;
	int i;

	if (n < 1)
		n = 1;
	if ((p = calloc(1, sizeof(*p) + (size_t)n * sizeof(p->t[0]))) == NULL)
		rg_nomem();
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	for (i = 0; i < n; i++) {
		if ((w = malloc(sizeof(*w))) == NULL)
			rg_nomem();
		w->p = p;
		w->i = i;
		if (rg_thread_start(&p->t[i], worker, w) != 0) {
			free(w);
			p->n = i;
			rg_pool_free(p);
			return NULL;
		}
		p->n = i + 1;
	}
	return p;
}

int
rg_pool_size(const struct rg_pool *p)
{
	return p->n;
}

void
rg_pool_run(struct rg_pool *p, rg_pool_fn *fn, void *arg)
{
	pthread_mutex_lock(&p->lock);
	p->fn = fn;
	p->arg = arg;
	p->running = p->n;
	p->part++;
	pthread_cond_broadcast(&p->go);
	while (p->running > 0)
		pthread_cond_wait(&p->done, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void
rg_pool_free(struct rg_pool *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->quit = 1;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->n; i++)
		pthread_join(p->t[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	free(p);
}
