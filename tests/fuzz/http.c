/*
 * http: what a registry answers rg-scan and rg-rm through its API, beyond
 * what jansson parses: the next page of a Link header (a path below
 * /v2/ or nothing), and an error body's code (cut to its buffer, never
 * past it).
 */
#include "http.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *link = fuzz_str(data, size), code[32];
	struct rg_buf body = { (char *)data, size, size };
	const char *next;

	if ((next = rg_http_next(link)) != NULL)
		check(next > link && next <= link + size && strchr(next, '>') == NULL);
	rg_http_error_code(&body, code, sizeof(code));
	check(strlen(code) < sizeof(code));
	free(link);
	return 0;
}
