/*
 * time: dates, durations and sizes as options and records give them.  A
 * date read is written in RFC 3339 and read back to the same second; a
 * duration read is between 0 and RG_DURATION_MAX (so now minus it cannot
 * wrap); a time written is always 20 characters that read back.
 */
#include "records.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), out[RG_TIME_STRLEN + 1];
	long long secs;
	time_t t, u;

	if (rg_time_parse(s, &t) == 0) {
		rg_time_format(t, out);
		check(strlen(out) == RG_TIME_STRLEN);
		check(rg_time_parse(out, &u) == 0);
		check(t < -62167219200LL || t > 253402300799LL || u == t);
	}
	if (rg_duration_parse(s, &secs) == 0)
		check(secs >= 0 && secs <= RG_DURATION_MAX);
	if (size >= sizeof(t)) {
		memcpy(&t, data, sizeof(t));	/* any time at all */
		rg_time_format(t, out);
		check(strlen(out) == RG_TIME_STRLEN);
		check(rg_time_parse(out, &u) == 0);
	}
	free(s);
	return 0;
}
