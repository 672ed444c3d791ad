/*
 * pulls: rg-pulls' reader of the registry's logs and notification events
 * (a log line can be anything), through the file reader (plain or gzip):
 * every pull it finds names a valid repository and a valid tag or digest,
 * is found in the table after, and the line's kind is one of the four.
 */
#include "pulls.h"
#include "fuzz.h"

static struct rg_pulls table;
static unsigned long npulls;

static void
on_pull(const struct rg_pull *p, void *arg)
{
	struct rg_digest d;
	const struct rg_pull_count *c;

	(void)arg;
	check(rg_repo_valid(p->repo));
	check(p->by_digest ? rg_digest_parse(p->ref, strlen(p->ref), &d) == 0 :
	    rg_tag_valid(p->ref));
	check(p->kind >= RG_PL_APP && p->kind <= RG_PL_EVENTS);
	check(strlen(p->agent) < sizeof(p->agent) && strlen(p->actor) < sizeof(p->actor));
	rg_pulls_add(&table, p->repo, p->ref, p->by_digest, p->when, 0);
	c = rg_pulls_get(&table, p->repo, p->ref, p->by_digest);
	check(c != NULL && c->n > 0 && c->last >= p->when);
	npulls++;
}

static int
on_line(const char *line, size_t len, unsigned long lineno, void *arg)
{
	struct rg_pull_time when;
	int kind;

	(void)lineno;
	(void)arg;
	check(len <= RG_PULL_LINE_MAX && line[len] == '\0');
	kind = rg_pull_line(line, len, on_pull, NULL, &when);
	check(kind >= RG_PL_OTHER && kind <= RG_PL_EVENTS);
	check(kind != RG_PL_OTHER || !when.known);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long skipped;

	rg_pull_read(fuzz_file(data, size), on_line, NULL, &skipped);
	check(table.n <= npulls);
	rg_pulls_free(&table);
	npulls = 0;
	return 0;
}
