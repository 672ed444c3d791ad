/*
 * s3xml.c: S3's XML answers read.
 *
 * A ListObjectsV2 answer (ListBucketResult): its keys with size and
 * LastModified, its common prefixes, whether it is cut short and the token
 * of the next page.  Not a general XML parser: S3 answers are flat, and
 * this reads only the elements it names, from the bytes it is given (never
 * past len), decoding the five entities and numeric references; anything
 * it cannot read is an error, never a guess.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s3xml.h"

/* The text between <name> and </name>, from p up to end; NULL when absent. */
static const char *
element(const char *p, const char *end, const char *name, size_t *len)
{
	size_t n = strlen(name);
	const char *s, *e;

	for (s = p; (s = memchr(s, '<', (size_t)(end - s))) != NULL; s++) {
		if ((size_t)(end - s) < n + 2 || memcmp(s + 1, name, n) != 0 ||
		    s[n + 1] != '>')
			continue;
		s += n + 2;
		for (e = s; (e = memchr(e, '<', (size_t)(end - e))) != NULL; e++)
			if ((size_t)(end - e) >= n + 3 && e[1] == '/' &&
			    memcmp(e + 2, name, n) == 0 && e[n + 2] == '>') {
				*len = (size_t)(e - s);
				return s;
			}
		return NULL;
	}
	return NULL;
}

/* Does the text at p start with s? */
static int
at(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

/* One UTF-8 encoding of code point c into out (room for 4); its length, or 0. */
static size_t
utf8(unsigned long c, char *out)
{
	if (c == 0 || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/*
 * XML text into out (size bytes, NUL-terminated), entities decoded; -1
 * when it does not fit, holds markup or a NUL, or an entity is unknown.
 */
int
rg_s3_text(const char *s, size_t len, char *out, size_t size)
{
	static const struct { const char *name; char c; } ent[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' },
	};
	const char *end = s + len, *semi;
	unsigned long c;
	size_t o = 0, i, k;
	char *num_end, num[16], u[4];

	while (s < end) {
		if (*s == '<' || *s == '\0')
			return -1;
		if (*s != '&') {
			if (o + 1 >= size)
				return -1;
			out[o++] = *s++;
			continue;
		}
		s++;
		if ((semi = memchr(s, ';', (size_t)(end - s))) == NULL)
			return -1;
		if (*s == '#') {
			k = (size_t)(semi - s - 1);
			if (k == 0 || k >= sizeof(num))
				return -1;
			memcpy(num, s + 1, k);
			num[k] = '\0';
			errno = 0;
			c = num[0] == 'x' ? strtoul(num + 1, &num_end, 16) :
			    strtoul(num, &num_end, 10);
			if (errno != 0 || *num_end != '\0' || num_end == num ||
			    (num[0] == 'x' && num_end == num + 1) ||
			    (k = utf8(c, u)) == 0 || o + k >= size)
				return -1;
			memcpy(out + o, u, k);
			o += k;
			s = semi + 1;
			continue;
		}
		for (i = 0; i < sizeof(ent) / sizeof(ent[0]); i++)
			if ((size_t)(semi + 1 - s) == strlen(ent[i].name) &&
			    memcmp(s, ent[i].name, strlen(ent[i].name)) == 0)
				break;
		if (i == sizeof(ent) / sizeof(ent[0]) || o + 1 >= size)
			return -1;
		out[o++] = ent[i].c;
		s = semi + 1;
	}
	out[o] = '\0';
	return 0;
}

/* The fraction of a second of a time such as 2026-12-03T06:00:49.773Z, in ns. */
static long
fraction_ns(const char *t)
{
	const char *dot = strchr(t, '.');
	long ns = 0, scale = 100000000;

	if (dot == NULL)
		return 0;
	for (dot++; *dot >= '0' && *dot <= '9' && scale > 0; dot++, scale /= 10)
		ns += (*dot - '0') * scale;
	return ns;
}

/* A non-negative decimal that fits int64_t. */
static int
size_of(const char *s, size_t len, int64_t *v)
{
	int64_t n = 0;
	size_t i;

	if (len == 0 || len > 19)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || n > (INT64_MAX - (s[i] - '0')) / 10)
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	*v = n;
	return 0;
}

/*
 * Each <Contents> and <CommonPrefixes> of one page, in the order given,
 * to fn (a nonzero return stops the walk and is returned); the page's
 * IsTruncated in *truncated and NextContinuationToken in next (or "").
 * -1 when the answer is not a ListBucketResult it can read.
 */
int
rg_s3_parse_list(const char *xml, size_t len, rg_s3_entry_fn *fn, void *arg,
    int *truncated, char *next, size_t nextsize)
{
	const char *end = xml + len, *p, *v, *blk;
	struct rg_s3_entry e;
	char key[RG_S3_KEY_MAX + 1], t[64];
	size_t bn, vn;
	int r;

	*truncated = 0;
	next[0] = '\0';
	if (memmem(xml, len, "<ListBucketResult", 17) == NULL)
		return -1;
	if ((v = element(xml, end, "IsTruncated", &vn)) != NULL)
		*truncated = vn == 4 && memcmp(v, "true", 4) == 0;
	if ((v = element(xml, end, "NextContinuationToken", &vn)) != NULL &&
	    rg_s3_text(v, vn, next, nextsize) != 0)
		return -1;
	if (*truncated && next[0] == '\0')
		return -1;	/* no way on */
	for (p = xml; (p = memchr(p, '<', (size_t)(end - p))) != NULL; p = blk + bn) {
		memset(&e, 0, sizeof(e));
		e.key = key;
		if (at(p, end, "<Contents>")) {
			if ((blk = element(p, end, "Contents", &bn)) == NULL)
				return -1;	/* cut short */
			if ((v = element(blk, blk + bn, "Key", &vn)) == NULL ||
			    rg_s3_text(v, vn, key, sizeof(key)) != 0)
				return -1;
			if ((v = element(blk, blk + bn, "Size", &vn)) == NULL ||
			    size_of(v, vn, &e.size) != 0)
				return -1;
			if ((v = element(blk, blk + bn, "LastModified", &vn)) == NULL ||
			    rg_s3_text(v, vn, t, sizeof(t)) != 0 ||
			    rg_time_parse(t, &e.mtime) != 0)
				return -1;
			e.mtime_ns = fraction_ns(t);
			if ((v = element(blk, blk + bn, "ETag", &vn)) != NULL &&
			    rg_s3_text(v, vn, e.etag, sizeof(e.etag)) != 0)
				return -1;
		} else if (at(p, end, "<CommonPrefixes>")) {
			if ((blk = element(p, end, "CommonPrefixes", &bn)) == NULL)
				return -1;
			e.is_prefix = 1;
			if ((v = element(blk, blk + bn, "Prefix", &vn)) == NULL ||
			    rg_s3_text(v, vn, key, sizeof(key)) != 0)
				return -1;
		} else {
			blk = p + 1;	/* another element: on */
			bn = 0;
			continue;
		}
		if ((r = fn(arg, &e)) != 0)
			return r;
	}
	return 0;
}

/*
 * Each <name>...</name> element of an answer, its content to fn (a
 * nonzero return stops the walk and is returned); -1 when one is not
 * closed.
 */
int
rg_s3_blocks(const char *xml, size_t len, const char *name,
    int (*fn)(void *arg, const char *b, size_t n), void *arg)
{
	const char *end = xml + len, *p, *b;
	char open[64];
	size_t n;
	int r;

	if (rg_path(open, sizeof(open), "<%s>", name) != 0)
		return -1;
	for (p = xml; (p = memchr(p, '<', (size_t)(end - p))) != NULL; p++) {
		if (!at(p, end, open))
			continue;
		if ((b = element(p, end, name, &n)) == NULL)
			return -1;
		if ((r = fn(arg, b, n)) != 0)
			return r;
		p = b + n;
	}
	return 0;
}

/* The text of the first <name> in b, decoded into out; -1 when absent or bad. */
int
rg_s3_field(const char *b, size_t n, const char *name, char *out, size_t size)
{
	const char *v;
	size_t vn;

	if ((v = element(b, b + n, name, &vn)) == NULL)
		return -1;
	return rg_s3_text(v, vn, out, size);
}
