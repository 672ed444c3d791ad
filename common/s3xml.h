/*
 * s3xml.h: S3's XML answers read, below the client.
 *
 * s3xml.c: a listing page's entries, the blocks and fields of any answer;
 * s3.h builds on it.
 */
#ifndef RG_S3XML_H
#define RG_S3XML_H

#include "base.h"

#define RG_S3_KEY_MAX	1024	/* S3's own limit on a key */

/* s3xml.c: one entry of a listing page */
struct rg_s3_entry {
	const char *key;	/* the whole key, or the common prefix */
	int is_prefix;		/* a common prefix (a "directory"), no stat */
	int64_t size;
	time_t mtime;		/* LastModified */
	long mtime_ns;		/* its fraction of a second */
	char etag[80];
};

typedef int rg_s3_entry_fn(void *arg, const struct rg_s3_entry *e);

int	rg_s3_text(const char *s, size_t len, char *out, size_t size);
int	rg_s3_parse_list(const char *xml, size_t len, rg_s3_entry_fn *fn,
	    void *arg, int *truncated, char *next, size_t nextsize);
int	rg_s3_blocks(const char *xml, size_t len, const char *name,
	    int (*fn)(void *arg, const char *b, size_t n), void *arg);
int	rg_s3_field(const char *b, size_t n, const char *name, char *out,
	    size_t size);

#endif
