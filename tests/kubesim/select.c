// SPDX-License-Identifier: Apache-2.0
/*
 * Field and label selectors as the API server parses them
 * (apimachinery/pkg/fields, apimachinery/pkg/labels): requirements joined
 * by commas, all of which must hold.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cleanup.h"
#include "tests/kubesim/kubesim.h"
#include "lib/banned.h"

#define SEL_MAX_REQS 32
#define SEL_MAX_VALUES 64
#define SEL_MAX_LEN 4096

enum sel_op { OP_EQ, OP_NE, OP_EXISTS, OP_NOT_EXISTS, OP_IN, OP_NOTIN };

struct sel_req {
	char *key;
	enum sel_op op;
	char *values[SEL_MAX_VALUES];
	size_t nvalues;
};

struct ks_selector {
	struct sel_req reqs[SEL_MAX_REQS];
	size_t n;
};

static void set_err(char **ret_err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(char **ret_err, const char *fmt, ...)
{
	va_list ap;

	if (!ret_err)
		return;
	free(*ret_err);
	va_start(ap, fmt);
	if (vasprintf(ret_err, fmt, ap) < 0)
		*ret_err = NULL;
	va_end(ap);
}

struct ks_selector *ks_selector_free(struct ks_selector *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		free(s->reqs[i].key);
		for (size_t j = 0; j < s->reqs[i].nvalues; j++)
			free(s->reqs[i].values[j]);
	}
	free(s);
	return NULL;
}

static char *trimdup(const char *a, const char *b)
{
	while (a < b && (*a == ' ' || *a == '\t'))
		a++;
	while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	return strndup(a, (size_t)(b - a));
}

static bool key_ok(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
		      *k == '-' || *k == '_' || *k == '.' || *k == '/'))
			return false;
	return true;
}

/* One requirement in [a, b). */
static int parse_req(const char *a, const char *b, bool labels, struct sel_req *q, char **ret_err)
{
	_cleanup_free_ char *t = trimdup(a, b);
	char *op, *p;

	if (!t)
		return -ENOMEM;
	if (!*t) {
		set_err(ret_err, "selector: empty requirement");
		return -EINVAL;
	}
	if ((op = strstr(t, "!="))) {
		q->op = OP_NE;
		*op = '\0';
		p = op + 2;
	} else if ((op = strstr(t, "=="))) {
		q->op = OP_EQ;
		*op = '\0';
		p = op + 2;
	} else if ((op = strchr(t, '='))) {
		q->op = OP_EQ;
		*op = '\0';
		p = op + 1;
	} else if (labels && (op = strstr(t, " notin ")) ) {
		q->op = OP_NOTIN;
		*op = '\0';
		p = op + 7;
	} else if (labels && (op = strstr(t, " in "))) {
		q->op = OP_IN;
		*op = '\0';
		p = op + 4;
	} else if (labels) {
		q->op = t[0] == '!' ? OP_NOT_EXISTS : OP_EXISTS;
		q->key = trimdup(t + (t[0] == '!'), t + strlen(t));
		if (!q->key)
			return -ENOMEM;
		if (!key_ok(q->key)) {
			set_err(ret_err, "selector: invalid key \"%s\"", q->key);
			return -EINVAL;
		}
		return 0;
	} else {
		set_err(ret_err, "field selector: \"%s\" is not key=value or key!=value", t);
		return -EINVAL;
	}
	q->key = trimdup(t, t + strlen(t));
	if (!q->key)
		return -ENOMEM;
	if (!key_ok(q->key)) {
		set_err(ret_err, "selector: invalid key \"%s\"", q->key);
		return -EINVAL;
	}
	if (q->op == OP_IN || q->op == OP_NOTIN) {
		char *open, *close, *s;

		while (*p == ' ')
			p++;
		open = p;
		close = strrchr(p, ')');
		if (*open != '(' || !close || close[1] != '\0') {
			set_err(ret_err, "label selector: \"%s\": values must be in parentheses", q->key);
			return -EINVAL;
		}
		*close = '\0';
		s = open + 1;
		for (;;) {
			char *comma = strchr(s, ',');
			char *end = comma ? comma : s + strlen(s);

			if (q->nvalues >= SEL_MAX_VALUES) {
				set_err(ret_err, "label selector: more than %d values", SEL_MAX_VALUES);
				return -EINVAL;
			}
			q->values[q->nvalues] = trimdup(s, end);
			if (!q->values[q->nvalues])
				return -ENOMEM;
			q->nvalues++;
			if (!comma)
				break;
			s = comma + 1;
		}
		return 0;
	}
	if (labels && strpbrk(p, "()")) {
		set_err(ret_err, "label selector: \"%s\": bad value", q->key);
		return -EINVAL;
	}
	q->values[0] = trimdup(p, p + strlen(p));
	if (!q->values[0])
		return -ENOMEM;
	q->nvalues = 1;
	return 0;
}

static int parse(const char *s, bool labels, const char *const *allowed, struct ks_selector **ret,
		 char **ret_err)
{
	struct ks_selector *sel;
	const char *a = s, *p;
	int depth = 0, r;

	if (strlen(s) > SEL_MAX_LEN) {
		set_err(ret_err, "selector: longer than %d bytes", SEL_MAX_LEN);
		return -EINVAL;
	}
	sel = calloc(1, sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	if (!*s) {
		*ret = sel;
		return 0;
	}
	for (p = s;; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		if (depth < 0 || depth > 1) {
			set_err(ret_err, "selector: unbalanced parentheses");
			ks_selector_free(sel);
			return -EINVAL;
		}
		if ((*p == ',' && depth == 0) || !*p) {
			if (sel->n >= SEL_MAX_REQS) {
				set_err(ret_err, "selector: more than %d requirements", SEL_MAX_REQS);
				ks_selector_free(sel);
				return -EINVAL;
			}
			r = parse_req(a, p, labels, &sel->reqs[sel->n++], ret_err);
			if (r < 0) {
				ks_selector_free(sel);
				return r;
			}
			if (allowed) {
				bool ok = false;

				for (const char *const *f = allowed; *f && !ok; f++)
					ok = strcmp(*f, sel->reqs[sel->n - 1].key) == 0;
				if (!ok) {
					set_err(ret_err, "field label not supported: %s", sel->reqs[sel->n - 1].key);
					ks_selector_free(sel);
					return -EINVAL;
				}
			}
			if (!*p)
				break;
			a = p + 1;
		}
	}
	if (depth) {
		set_err(ret_err, "selector: unbalanced parentheses");
		ks_selector_free(sel);
		return -EINVAL;
	}
	*ret = sel;
	return 0;
}

int ks_selector_parse_labels(const char *s, struct ks_selector **ret, char **ret_err)
{
	return parse(s, true, NULL, ret, ret_err);
}

int ks_selector_parse_fields(const char *s, const char *const *allowed, struct ks_selector **ret,
			     char **ret_err)
{
	return parse(s, false, allowed, ret, ret_err);
}

static bool req_match(const struct sel_req *q, const char *have)
{
	bool in = false;

	switch (q->op) {
	case OP_EXISTS:
		return have != NULL;
	case OP_NOT_EXISTS:
		return have == NULL;
	case OP_EQ:
		return have && !strcmp(have, q->values[0]);
	case OP_NE:
		return !have || strcmp(have, q->values[0]) != 0;
	case OP_IN:
	case OP_NOTIN:
		for (size_t i = 0; i < q->nvalues && have && !in; i++)
			in = !strcmp(have, q->values[i]);
		return q->op == OP_IN ? in : !in;
	}
	return false;
}

bool ks_selector_match_labels(const struct ks_selector *s, json_t *labels)
{
	for (size_t i = 0; i < s->n; i++)
		if (!req_match(&s->reqs[i], json_string_value(json_object_get(labels, s->reqs[i].key))))
			return false;
	return true;
}

/* A field path like spec.nodeName: absent fields read as "", as the API
 * server's field sets have every supported field. */
static const char *field_get(json_t *obj, const char *path)
{
	char buf[256];
	char *seg, *dot;
	json_t *cur = obj;

	if (strlen(path) >= sizeof(buf))
		return "";
	memcpy(buf, path, strlen(path) + 1);
	for (seg = buf; seg; seg = dot ? dot + 1 : NULL) {
		dot = strchr(seg, '.');
		if (dot)
			*dot = '\0';
		cur = json_object_get(cur, seg);
	}
	return json_is_string(cur) ? json_string_value(cur) : "";
}

bool ks_selector_match_fields(const struct ks_selector *s, json_t *obj)
{
	for (size_t i = 0; i < s->n; i++)
		if (!req_match(&s->reqs[i], field_get(obj, s->reqs[i].key)))
			return false;
	return true;
}

bool ks_labels_match(json_t *want, json_t *labels)
{
	const char *k;
	json_t *v;

	json_object_foreach(want, k, v) {
		const char *have = json_string_value(json_object_get(labels, k));

		if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0)
			return false;
	}
	return true;
}
