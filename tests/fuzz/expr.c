/*
 * expr: rg-select --where.  The input's first line is an expression, the
 * rest a record to evaluate it on: parsed or refused (never deeper than
 * RG_EXPR_DEPTH), evaluated without a crash; "!(e)" is the negation of e.
 */
#include "records.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = fuzz_str(data, size), *nl, *neg;
	struct rg_expr_env env = { 1700000000, "created" };
	struct rg_expr *e, *n;
	json_t *rec = NULL;
	size_t len;

	if ((nl = strchr(src, '\n')) != NULL) {
		*nl = '\0';
		rec = json_loads(nl + 1, 0, NULL);
	}
	if (rec == NULL)
		rec = json_pack("{s:s, s:s, s:i, s:s, s:{s:s}}", "type", "tag",
		    "tag", "1.0", "size", 1000, "created", "2023-01-01T00:00:00Z",
		    "platform", "os", "linux");
	if ((e = rg_expr_parse("--where", src)) != NULL) {
		len = strlen(src) + 4;
		if ((neg = malloc(len)) == NULL)
			abort();
		snprintf(neg, len, "!(%s)", src);
		if ((n = rg_expr_parse("--where", neg)) != NULL) {
			check(rg_expr_eval(n, rec, &env) == !rg_expr_eval(e, rec, &env));
			rg_expr_free(n);
		}
		free(neg);
		rg_expr_free(e);
	}
	json_decref(rec);
	free(src);
	return 0;
}
