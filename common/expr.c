/*
 * expr.c: conditions over a record's fields, for rg-select --where.
 *
 * In the spirit of an SQL WHERE clause:
 *
 *	expr    = and { "||" and }
 *	and     = unary { "&&" unary }
 *	unary   = "!" unary | "(" expr ")" | operand [ op operand ]
 *	op      = "==" | "!=" | "<" | "<=" | ">" | ">=" | "=~" | "!~"
 *	operand = field | "string" | 'string' | number | size | duration
 *	        | date | true | false | null
 *
 * A field is a record key, dotted for nested objects (platform.os), a
 * key with dots in it quoted (labels."org.opencontainers.image.version");
 * "age" is the seconds since the record's time.  Sizes (500MB, 1GiB) and
 * durations (90d, 12h) are numbers of bytes and seconds; dates
 * (2024-01-01, 2024-01-01T12:00:00Z) compare with time fields.  A
 * comparison with a missing field is false, whatever the operator: a
 * condition that cannot be checked never selects anything.
 *
 * An expression is at most RG_EXPR_DEPTH deep, counting each "!", "(",
 * "&&" and "||" on the way down from the whole: parsing, evaluating and
 * freeing recurse that deep and no deeper.
 */
#include <ctype.h>
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "records.h"

enum { V_NULL, V_BOOL, V_NUM, V_STR, V_TIME };
enum { N_OR, N_AND, N_NOT, N_CMP, N_TRUTH };
enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_MATCH, OP_NMATCH };
enum { O_FIELD, O_AGE, O_LIT };

struct val {
	int type;
	double num;
	const char *str;
	time_t time;
};

struct operand {
	int kind;
	char *field;		/* dotted path, for O_FIELD */
	struct val lit;
	char *storage;		/* a string literal's text */
};

struct rg_expr {
	int kind, op;
	int height;		/* the depth of the tree below it, 1 for a leaf */
	struct rg_expr *l, *r;
	struct operand a, b;
	struct rg_regex *re;
};

struct parser {
	const char *src, *p;
	const char *err;
	size_t erroff;
	int depth;		/* "!" and "(" open around the parse */
};

static const char *opnames[] = { "==", "!=", "<=", ">=", "<", ">", "=~", "!~" };
static const int opcodes[] = { OP_EQ, OP_NE, OP_LE, OP_GE, OP_LT, OP_GT,
    OP_MATCH, OP_NMATCH };

static struct rg_expr *parse_or(struct parser *);

static void
skip_space(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static void *
fail(struct parser *ps, const char *msg)
{
	if (ps->err == NULL) {
		ps->err = msg;
		ps->erroff = (size_t)(ps->p - ps->src);
	}
	return NULL;
}

static int
accept(struct parser *ps, const char *tok)
{
	skip_space(ps);
	if (strncmp(ps->p, tok, strlen(tok)) != 0)
		return 0;
	ps->p += strlen(tok);
	return 1;
}

static struct rg_expr *
node(int kind)
{
	struct rg_expr *e = calloc(1, sizeof(*e));

	if (e == NULL)
		rg_nomem();
	e->kind = kind;
	e->height = 1;
	return e;
}

/* e over l and r (r may be NULL); a failure when that is too deep */
static struct rg_expr *
over(struct parser *ps, struct rg_expr *e, struct rg_expr *l, struct rg_expr *r)
{
	e->l = l;
	e->r = r;
	e->height = 1 + (r != NULL && r->height > l->height ? r->height : l->height);
	if (e->height > RG_EXPR_DEPTH)
		fail(ps, "nested deeper than " RG_EXPR_DEPTH_S " levels");
	return e;
}

/* A size suffix: bytes per unit, or 0. */
static double
size_unit(const char *u)
{
	static const struct { const char *name; double mult; } units[] = {
		{ "B", 1 }, { "KB", 1e3 }, { "MB", 1e6 }, { "GB", 1e9 },
		{ "TB", 1e12 }, { "KiB", 1024.0 }, { "MiB", 1048576.0 },
		{ "GiB", 1073741824.0 }, { "TiB", 1099511627776.0 }
	};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(u, units[i].name) == 0)
			return units[i].mult;
	return 0;
}

/* A bare word starting with a digit: date, size, duration or number. */
static int
parse_number(struct parser *ps, struct val *v)
{
	char word[64], *end;
	size_t n = strspn(ps->p, "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.:+-");
	long long secs;
	double mult;

	if (n >= sizeof(word))
		return -1;
	memcpy(word, ps->p, n);
	word[n] = '\0';
	if (rg_time_parse(word, &v->time) == 0) {
		v->type = V_TIME;
	} else if (rg_duration_parse(word, &secs) == 0) {
		v->type = V_NUM;
		v->num = (double)secs;
	} else {
		v->num = strtod(word, &end);
		if (end == word)
			return -1;
		if (*end != '\0') {
			if ((mult = size_unit(end)) == 0)
				return -1;
			v->num *= mult;
		}
		v->type = V_NUM;
	}
	ps->p += n;
	return 0;
}

static int
parse_string(struct parser *ps, struct operand *o)
{
	char q = *ps->p++, *out;
	const char *s = ps->p;

	if ((out = o->storage = malloc(strlen(s) + 1)) == NULL)
		rg_nomem();
	for (; *s != q; s++) {
		if (*s == '\0')
			return -1;
		if (*s == '\\' && (s[1] == q || s[1] == '\\'))
			s++;
		*out++ = *s;
	}
	*out = '\0';
	ps->p = s + 1;
	o->kind = O_LIT;
	o->lit.type = V_STR;
	o->lit.str = o->storage;
	return 0;
}

#define NAME	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
#define SEP	'\x1f'	/* between a field's keys, in o->field */

/*
 * A field: keys separated by dots, each a name or a quoted string (a key
 * with dots or other characters in it); into o->field, SEP between keys.
 */
static int
parse_field(struct parser *ps, struct operand *o)
{
	char *out, q;
	size_t n;

	if ((out = o->field = malloc(strlen(ps->p) + 1)) == NULL)
		rg_nomem();
	for (;;) {
		if (*ps->p == '"' || *ps->p == '\'') {
			for (q = *ps->p++; *ps->p != q; ps->p++) {
				if (*ps->p == '\0' || *ps->p == SEP)
					return fail(ps, "unterminated key"), -1;
				if (*ps->p == '\\' && (ps->p[1] == q || ps->p[1] == '\\'))
					ps->p++;
				*out++ = *ps->p;
			}
			ps->p++;
		} else {
			if ((n = strspn(ps->p, NAME)) == 0)
				return fail(ps, "expected a key after the dot"), -1;
			memcpy(out, ps->p, n);
			out += n;
			ps->p += n;
		}
		if (*ps->p != '.')
			break;
		ps->p++;
		*out++ = SEP;
	}
	*out = '\0';
	return 0;
}

static int
parse_operand(struct parser *ps, struct operand *o)
{
	size_t n;

	skip_space(ps);
	if (*ps->p == '"' || *ps->p == '\'') {
		if (parse_string(ps, o) == -1)
			return fail(ps, "unterminated string"), -1;
		return 0;
	}
	if (isdigit((unsigned char)*ps->p)) {
		o->kind = O_LIT;
		if (parse_number(ps, &o->lit) == -1)
			return fail(ps, "not a number, size, duration or date"), -1;
		return 0;
	}
	n = strspn(ps->p, NAME);
	if (n == 0 || isdigit((unsigned char)*ps->p))
		return fail(ps, "expected a field, string or number"), -1;
	if (parse_field(ps, o) == -1)
		return -1;
	o->kind = O_FIELD;
	if (strcmp(o->field, "true") == 0 || strcmp(o->field, "false") == 0) {
		o->kind = O_LIT;
		o->lit.type = V_BOOL;
		o->lit.num = o->field[0] == 't';
	} else if (strcmp(o->field, "null") == 0) {
		o->kind = O_LIT;
		o->lit.type = V_NULL;
	} else if (strcmp(o->field, "age") == 0)
		o->kind = O_AGE;
	return 0;
}

static struct rg_expr *
parse_cmp(struct parser *ps)
{
	struct rg_expr *e = node(N_TRUTH);
	const char *at;
	size_t i;

	if (parse_operand(ps, &e->a) == -1)
		return e;
	skip_space(ps);
	for (i = 0; i < sizeof(opnames) / sizeof(opnames[0]); i++)
		if (strncmp(ps->p, opnames[i], strlen(opnames[i])) == 0)
			break;
	if (i == sizeof(opnames) / sizeof(opnames[0]))
		return e;
	ps->p += strlen(opnames[i]);
	e->kind = N_CMP;
	e->op = opcodes[i];
	skip_space(ps);
	at = ps->p;
	if (parse_operand(ps, &e->b) == -1)
		return e;
	if (e->op == OP_MATCH || e->op == OP_NMATCH) {
		if (e->b.kind != O_LIT || e->b.lit.type != V_STR) {
			ps->p = at;
			fail(ps, "=~ and !~ take a string: the pattern");
			return e;
		}
		if ((e->re = rg_regex_new("--where", e->b.lit.str)) == NULL) {
			ps->p = at;
			fail(ps, "bad pattern");
		}
	}
	return e;
}

static struct rg_expr *
parse_unary(struct parser *ps)
{
	struct rg_expr *e;

	if (ps->depth >= RG_EXPR_DEPTH) {
		fail(ps, "nested deeper than " RG_EXPR_DEPTH_S " levels");
		return node(N_TRUTH);	/* (not looked at: the parse failed) */
	}
	if (accept(ps, "!") && *ps->p != '=' && *ps->p != '~') {
		ps->depth++;
		e = over(ps, node(N_NOT), parse_unary(ps), NULL);
		ps->depth--;
		return e;
	}
	if (accept(ps, "(")) {
		ps->depth++;
		e = parse_or(ps);
		ps->depth--;
		if (!accept(ps, ")"))
			fail(ps, "expected )");
		return e;
	}
	return parse_cmp(ps);
}

static struct rg_expr *
parse_and(struct parser *ps)
{
	struct rg_expr *e = parse_unary(ps), *n;

	while (ps->err == NULL && accept(ps, "&&")) {
		n = node(N_AND);
		e = over(ps, n, e, parse_unary(ps));
	}
	return e;
}

static struct rg_expr *
parse_or(struct parser *ps)
{
	struct rg_expr *e = parse_and(ps), *n;

	while (ps->err == NULL && accept(ps, "||")) {
		n = node(N_OR);
		e = over(ps, n, e, parse_and(ps));
	}
	return e;
}

/* Parse src; NULL (reported, naming opt and the offset) when malformed. */
struct rg_expr *
rg_expr_parse(const char *opt, const char *src)
{
	struct parser ps = { src, src, NULL, 0, 0 };
	struct rg_expr *e = parse_or(&ps);

	skip_space(&ps);
	if (ps.err == NULL && *ps.p != '\0')
		fail(&ps, "unexpected text");
	if (ps.err != NULL) {
		warnx("%s: %s: at offset %zu: %s", opt, src, ps.erroff, ps.err);
		rg_expr_free(e);
		return NULL;
	}
	return e;
}

void
rg_expr_free(struct rg_expr *e)
{
	if (e == NULL)
		return;
	rg_expr_free(e->l);
	rg_expr_free(e->r);
	free(e->a.field);
	free(e->a.storage);
	free(e->b.field);
	free(e->b.storage);
	rg_regex_free(e->re);
	free(e);
}

/* evaluation */

static json_t *
field(const json_t *rec, const char *path)
{
	char key[256];
	const char *dot;
	size_t n;

	for (;;) {
		dot = strchr(path, SEP);
		n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		rec = json_object_get(rec, key);
		if (dot == NULL || rec == NULL)
			return (json_t *)rec;
		path = dot + 1;
	}
}

static struct val
value(const struct operand *o, const json_t *rec, const struct rg_expr_env *env)
{
	struct val v = { V_NULL, 0, NULL, 0 };
	json_t *j;
	time_t t;

	switch (o->kind) {
	case O_LIT:
		return o->lit;
	case O_AGE:
		if (rg_record_time(rec, env->time_key, &t) == 0) {
			v.type = V_NUM;
			v.num = difftime(env->now, t);
		}
		return v;
	}
	j = field(rec, o->field);
	if (json_is_string(j)) {
		v.type = V_STR;
		v.str = json_string_value(j);
	} else if (json_is_number(j)) {
		v.type = V_NUM;
		v.num = json_number_value(j);
	} else if (json_is_boolean(j)) {
		v.type = V_BOOL;
		v.num = json_is_true(j);
	}
	return v;
}

static int
order(int op, int c)
{
	switch (op) {
	case OP_EQ: return c == 0;
	case OP_NE: return c != 0;
	case OP_LT: return c < 0;
	case OP_LE: return c <= 0;
	case OP_GT: return c > 0;
	case OP_GE: return c >= 0;
	}
	return 0;
}

static int
compare(const struct rg_expr *e, struct val a, struct val b)
{
	int c;

	if (a.type == V_NULL || b.type == V_NULL)
		return 0;
	if (e->op == OP_MATCH || e->op == OP_NMATCH) {
		if (a.type != V_STR)
			return 0;
		return rg_regex_match(e->re, a.str) == (e->op == OP_MATCH);
	}
	if (a.type == V_TIME || b.type == V_TIME) {
		if (a.type == V_STR && rg_time_parse(a.str, &a.time) == 0)
			a.type = V_TIME;
		if (b.type == V_STR && rg_time_parse(b.str, &b.time) == 0)
			b.type = V_TIME;
		if (a.type != V_TIME || b.type != V_TIME)
			return 0;
		return order(e->op, (a.time > b.time) - (a.time < b.time));
	}
	if (a.type != b.type)
		return 0;
	switch (a.type) {
	case V_STR:
		c = strcmp(a.str, b.str);
		return order(e->op, (c > 0) - (c < 0));
	case V_BOOL:
		if (e->op != OP_EQ && e->op != OP_NE)
			return 0;
		/* FALLTHROUGH */
	default:
		return order(e->op, (a.num > b.num) - (a.num < b.num));
	}
}

static int
truthy(struct val v)
{
	switch (v.type) {
	case V_STR: return v.str[0] != '\0';
	case V_NUM: case V_BOOL: return v.num != 0;
	case V_TIME: return 1;
	}
	return 0;
}

int
rg_expr_eval(const struct rg_expr *e, const json_t *rec,
    const struct rg_expr_env *env)
{
	switch (e->kind) {
	case N_OR:
		return rg_expr_eval(e->l, rec, env) || rg_expr_eval(e->r, rec, env);
	case N_AND:
		return rg_expr_eval(e->l, rec, env) && rg_expr_eval(e->r, rec, env);
	case N_NOT:
		return !rg_expr_eval(e->l, rec, env);
	case N_TRUTH:
		return truthy(value(&e->a, rec, env));
	}
	return compare(e, value(&e->a, rec, env), value(&e->b, rec, env));
}
