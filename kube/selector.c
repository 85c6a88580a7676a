// SPDX-License-Identifier: Apache-2.0
/*
 * Label selectors written by tenants (kube/selector.h): a cursor over the
 * text, one requirement at a time, as apimachinery's labels.Parse lexes
 * and parses them; keys and values checked by the label rules.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "kube/kube.h"
#include "kube/selector.h"
#include "lib/banned.h"

enum sel_op { SEL_EQ, SEL_NE, SEL_EXISTS, SEL_NOT_EXISTS, SEL_IN, SEL_NOTIN };

struct sel_req {
	char *key;
	enum sel_op op;
	char **values;      /* sorted; one for = and != */
	size_t nvalues;
};

struct kube_selector {
	struct sel_req reqs[KUBE_SELECTOR_MAX_REQS];
	size_t n;
	char *text;         /* kube_selector_string */
};

/* ---- label syntax ------------------------------------------------------------- */

/* [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most max. */
static bool label_name_ok(const char *s, size_t n, size_t max)
{
	if (!n || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (alnum)
			continue;
		if ((c == '-' || c == '_' || c == '.') && i > 0 && i + 1 < n)
			continue;
		return false;
	}
	return true;
}

bool kube_label_key_valid(const char *k)
{
	const char *slash = k ? strchr(k, '/') : NULL;
	char prefix[254];
	size_t plen;

	if (!k)
		return false;
	if (!slash)
		return label_name_ok(k, strlen(k), 63);
	plen = (size_t)(slash - k);
	if (plen >= sizeof(prefix))
		return false;
	memcpy(prefix, k, plen);
	prefix[plen] = '\0';
	return kube_name_valid(prefix) && label_name_ok(slash + 1, strlen(slash + 1), 63);
}

bool kube_label_value_valid(const char *v)
{
	return v && (!*v || label_name_ok(v, strlen(v), 63));
}

/* ---- the parse ------------------------------------------------------------------ */

struct cursor {
	const char *s;
	size_t pos;
	char **err;
};

static int fail(struct cursor *c, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct cursor *c, size_t at, const char *fmt, ...)
{
	struct buf b = BUF_INIT(512);
	va_list ap;

	if (!c->err)
		return -EINVAL;
	free(*c->err);
	va_start(ap, fmt);
	if (buf_printf(&b, "label selector: at position %zu: ", at + 1) < 0 || buf_vprintf(&b, fmt, ap) < 0)
		buf_release(&b);
	va_end(ap);
	*c->err = b.len ? buf_detach(&b, NULL) : NULL;
	return -EINVAL;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Kubernetes' special symbols: they end an identifier. */
static bool is_special(char ch)
{
	return ch == '!' || ch == '=' || ch == '(' || ch == ')' || ch == ',' || ch == '<' || ch == '>';
}

static void skip_space(struct cursor *c)
{
	while (is_space(c->s[c->pos]))
		c->pos++;
}

/* The identifier at the cursor (maybe empty), advanced past. */
static char *ident(struct cursor *c, size_t *ret_at)
{
	size_t a;

	skip_space(c);
	a = c->pos;
	while (c->s[c->pos] && !is_space(c->s[c->pos]) && !is_special(c->s[c->pos]))
		c->pos++;
	*ret_at = a;
	return strndup(c->s + a, c->pos - a);
}

/* What a message quotes of tenant text: printable, cut at 64. */
static char *quoted(const char *s)
{
	struct buf b = BUF_INIT(512);

	if (buf_addc(&b, '"') < 0 || buf_add_quoted_name(&b, s, 64) < 0 || buf_addc(&b, '"') < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static int check_key(struct cursor *c, const char *key, size_t at)
{
	_cleanup_free_ char *q = NULL;

	if (!*key)
		return fail(c, at, "expected a label key");
	if (kube_label_key_valid(key))
		return 0;
	q = quoted(key);
	return fail(c, at, "invalid label key %s: a qualified name ([DNS subdomain \"/\"] name of at "
			   "most 63 characters: alphanumerics, '-', '_', '.', beginning and ending "
			   "alphanumeric)", q ? q : "");
}

static int check_value(struct cursor *c, const char *v, size_t at)
{
	_cleanup_free_ char *q = NULL;

	if (kube_label_value_valid(v))
		return 0;
	q = quoted(v);
	return fail(c, at, "invalid label value %s: at most 63 characters: alphanumerics, '-', '_', "
			   "'.', beginning and ending alphanumeric", q ? q : "");
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_value(struct cursor *c, struct sel_req *q, char *v, size_t at)
{
	char **vs;

	if (!v)
		return -ENOMEM;
	if (q->nvalues >= KUBE_SELECTOR_MAX_VALUES) {
		free(v);
		fail(c, at, "more than %d values in one set", KUBE_SELECTOR_MAX_VALUES);
		return -TG_ELIMIT;
	}
	vs = reallocarray(q->values, q->nvalues + 1, sizeof(*vs));
	if (!vs) {
		free(v);
		return -ENOMEM;
	}
	q->values = vs;
	q->values[q->nvalues++] = v;
	return check_value(c, v, at);
}

/* "(" values ")" after in/notin; values may be empty strings, the set not. */
static int parse_set(struct cursor *c, struct sel_req *q)
{
	size_t at;
	int r;

	skip_space(c);
	if (c->s[c->pos] != '(')
		return fail(c, c->pos, "expected '(' after \"%s\"", q->op == SEL_IN ? "in" : "notin");
	c->pos++;
	for (;;) {
		char *v = ident(c, &at);

		if (v && !*v && !q->nvalues && (skip_space(c), c->s[c->pos] == ')')) {
			free(v);
			return fail(c, c->pos, "the set of \"%s\" is empty", q->op == SEL_IN ? "in" : "notin");
		}
		r = add_value(c, q, v, at);
		if (r < 0)
			return r;
		skip_space(c);
		if (c->s[c->pos] == ',') {
			c->pos++;
			continue;
		}
		if (c->s[c->pos] == ')') {
			c->pos++;
			break;
		}
		return fail(c, c->pos, "expected ',' or ')' in the set of \"%s\"",
			    q->op == SEL_IN ? "in" : "notin");
	}
	qsort(q->values, q->nvalues, sizeof(char *), str_cmp);
	return 0;
}

/* The operator after a key and what it takes. */
static int parse_op(struct cursor *c, struct sel_req *q)
{
	const char *p;
	size_t at;

	skip_space(c);
	p = c->s + c->pos;
	if (!*p || *p == ',') {
		q->op = SEL_EXISTS;
		return 0;
	}
	if (p[0] == '!' && p[1] == '=') {
		q->op = SEL_NE;
		c->pos += 2;
	} else if (p[0] == '=') {
		q->op = SEL_EQ;
		c->pos += p[1] == '=' ? 2 : 1;
	} else if (p[0] == '<' || p[0] == '>') {
		return fail(c, c->pos, "the operator '%c' is not supported (use =, ==, !=, in, notin, or a "
				       "key alone or after '!')", p[0]);
	} else if (!strncmp(p, "in", 2) && (is_space(p[2]) || p[2] == '(')) {
		q->op = SEL_IN;
		c->pos += 2;
		return parse_set(c, q);
	} else if (!strncmp(p, "notin", 5) && (is_space(p[5]) || p[5] == '(')) {
		q->op = SEL_NOTIN;
		c->pos += 5;
		return parse_set(c, q);
	} else {
		return fail(c, c->pos, "expected one of =, ==, !=, in, notin, ',' or the end after the "
				       "key");
	}
	{
		char *v = ident(c, &at);

		return add_value(c, q, v, at);
	}
}

static int parse_req(struct cursor *c, struct sel_req *q)
{
	size_t at;
	int r;

	skip_space(c);
	if (c->s[c->pos] == '!') {
		c->pos++;
		q->key = ident(c, &at);
		if (!q->key)
			return -ENOMEM;
		q->op = SEL_NOT_EXISTS;
		return check_key(c, q->key, at);
	}
	q->key = ident(c, &at);
	if (!q->key)
		return -ENOMEM;
	r = check_key(c, q->key, at);
	return r < 0 ? r : parse_op(c, q);
}

/* by key, then operator, then first value: the same selector, one text */
static int req_cmp(const void *a, const void *b)
{
	const struct sel_req *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r || x->op != y->op)
		return r ? r : (int)x->op - (int)y->op;
	return x->nvalues && y->nvalues ? strcmp(x->values[0], y->values[0]) : 0;
}

static int write_string(struct kube_selector *sel)
{
	struct buf b = BUF_INIT(KUBE_SELECTOR_MAX_BYTES * 2);
	int r = 0;

	for (size_t i = 0; i < sel->n && r >= 0; i++) {
		const struct sel_req *q = &sel->reqs[i];

		if (i)
			r = buf_addc(&b, ',');
		if (r < 0)
			break;
		switch (q->op) {
		case SEL_EXISTS:
			r = buf_adds(&b, q->key);
			break;
		case SEL_NOT_EXISTS:
			r = buf_printf(&b, "!%s", q->key);
			break;
		case SEL_EQ:
		case SEL_NE:
			r = buf_printf(&b, "%s%s%s", q->key, q->op == SEL_EQ ? "=" : "!=", q->values[0]);
			break;
		case SEL_IN:
		case SEL_NOTIN:
			r = buf_printf(&b, "%s %s (", q->key, q->op == SEL_IN ? "in" : "notin");
			for (size_t k = 0; k < q->nvalues && r >= 0; k++)
				r = buf_printf(&b, "%s%s", k ? "," : "", q->values[k]);
			if (r >= 0)
				r = buf_addc(&b, ')');
			break;
		}
	}
	if (r < 0) {
		buf_release(&b);
		return r == -E2BIG ? -TG_ELIMIT : r;
	}
	sel->text = buf_detach(&b, NULL);
	return sel->text ? 0 : -ENOMEM;
}

int kube_selector_parse(const char *s, struct kube_selector **ret, char **ret_err)
{
	_cleanup_(kube_selector_freep) struct kube_selector *sel = NULL;
	struct cursor c = { .s = s, .err = ret_err };
	int r;

	if (!s || !ret)
		return -EINVAL;
	if (strlen(s) > KUBE_SELECTOR_MAX_BYTES) {
		fail(&c, KUBE_SELECTOR_MAX_BYTES, "longer than %d bytes", KUBE_SELECTOR_MAX_BYTES);
		return -TG_ELIMIT;
	}
	skip_space(&c);
	if (!s[c.pos])
		return fail(&c, c.pos, "empty: a selector with no requirement would select every pod");
	sel = calloc(1, sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	for (;;) {
		if (sel->n >= KUBE_SELECTOR_MAX_REQS) {
			fail(&c, c.pos, "more than %d requirements", KUBE_SELECTOR_MAX_REQS);
			return -TG_ELIMIT;
		}
		r = parse_req(&c, &sel->reqs[sel->n++]);
		if (r < 0)
			return r;
		skip_space(&c);
		if (!s[c.pos])
			break;
		if (s[c.pos] != ',')
			return fail(&c, c.pos, "expected ',' or the end after a requirement");
		c.pos++;
	}
	qsort(sel->reqs, sel->n, sizeof(sel->reqs[0]), req_cmp);
	r = write_string(sel);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(sel);
	return 0;
}

struct kube_selector *kube_selector_free(struct kube_selector *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		free(s->reqs[i].key);
		for (size_t k = 0; k < s->reqs[i].nvalues; k++)
			free(s->reqs[i].values[k]);
		free(s->reqs[i].values);
	}
	free(s->text);
	free(s);
	return NULL;
}

const char *kube_selector_string(const struct kube_selector *s)
{
	return s ? s->text : NULL;
}

static bool in_set(const struct sel_req *q, const char *v)
{
	for (size_t i = 0; i < q->nvalues; i++)
		if (!strcmp(q->values[i], v))
			return true;
	return false;
}

bool kube_selector_matches(const struct kube_selector *s, json_t *labels)
{
	if (!s || (labels && !json_is_object(labels)))
		return false;
	for (size_t i = 0; i < s->n; i++) {
		const struct sel_req *q = &s->reqs[i];
		json_t *lv = json_object_get(labels, q->key);
		const char *v = json_string_value(lv);
		bool ok;

		if (lv && !v)
			return false;   /* a label that is not a string: not a pod to trust */
		switch (q->op) {
		case SEL_EXISTS:
			ok = v != NULL;
			break;
		case SEL_NOT_EXISTS:
			ok = v == NULL;
			break;
		case SEL_EQ:
		case SEL_IN:
			ok = v && in_set(q, v);
			break;
		case SEL_NE:
		case SEL_NOTIN:
			ok = !v || !in_set(q, v);
			break;
		default:
			ok = false;
		}
		if (!ok)
			return false;
	}
	return true;
}
