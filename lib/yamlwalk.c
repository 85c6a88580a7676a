// SPDX-License-Identifier: Apache-2.0
/* Walking libyaml documents with limits and placed errors (lib/yamlwalk.h). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "lib/yamlwalk.h"
#include "lib/banned.h"

int yw_load(yaml_parser_t *parser, const char *file, yaml_document_t *doc, char **ret_err)
{
	if (!yaml_parser_load(parser, doc)) {
		if (asprintf(ret_err, "%s:%zu:%zu: YAML %s%s%s", file, parser->problem_mark.line + 1,
			     parser->problem_mark.column + 1, parser->problem ? parser->problem : "error",
			     parser->context ? " " : "", parser->context ? parser->context : "") < 0)
			*ret_err = NULL;
		return -TG_ECONFIG;
	}
	if (!yaml_document_get_root_node(doc)) {
		yaml_document_delete(doc);
		return 0;
	}
	return 1;
}

int yw_fail(struct yaml_walk *w, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
	va_list ap;
	char msg[768];

	if (w->err)
		return -TG_ECONFIG;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(&w->err, "%s:%zu:%zu: %s%s%s", w->file, n ? n->start_mark.line + 1 : 1,
		     n ? n->start_mark.column + 1 : 1, path && *path ? path : "", path && *path ? ": " : "",
		     msg) < 0)
		w->err = NULL;
	return -TG_ECONFIG;
}

yaml_node_t *yw_node(struct yaml_walk *w, int id)
{
	yaml_node_t *n = yaml_document_get_node(w->doc, id);

	if (!n) {
		yw_fail(w, NULL, NULL, "a node of the document is missing");
		return NULL;
	}
	if (w->max_nodes && ++w->nodes > w->max_nodes) {
		yw_fail(w, n, NULL, "the document has more than %zu nodes", w->max_nodes);
		return NULL;
	}
	return n;
}

const char *yw_kind(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? "a scalar" : n->type == YAML_SEQUENCE_NODE ? "a list" : "a mapping";
}

bool yw_is_null(const yaml_node_t *n)
{
	const char *v;

	if (!n)
		return true;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

int yw_scalar(struct yaml_walk *w, const yaml_node_t *n, const char *path, const char **ret)
{
	if (n->type != YAML_SCALAR_NODE)
		return yw_fail(w, n, path, "expected a string, found %s", yw_kind(n));
	if (w->max_string && n->data.scalar.length > w->max_string)
		return yw_fail(w, n, path, "string is longer than %zu bytes", w->max_string);
	if (memchr(n->data.scalar.value, '\0', n->data.scalar.length))
		return yw_fail(w, n, path, "string contains a NUL byte");
	*ret = (const char *)n->data.scalar.value;
	return 0;
}

int yw_bool(struct yaml_walk *w, const yaml_node_t *n, const char *path, bool yaml11, bool *ret)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };
	size_t nwords = yaml11 ? ARRAY_SIZE(yes) : 3;
	const char *s = NULL;
	int r = yw_scalar(w, n, path, &s);

	if (r < 0)
		return r;
	for (size_t i = 0; i < nwords; i++) {
		if (!strcmp(s, yes[i])) {
			*ret = true;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*ret = false;
			return 0;
		}
	}
	return yw_fail(w, n, path, "expected true or false, found \"%s\"", s);
}

int yw_mapping(struct yaml_walk *w, const yaml_node_t *n, const char *path, yw_pair_fn fn, void *ud)
{
	if (n->type != YAML_MAPPING_NODE)
		return yw_fail(w, n, path, "expected a mapping, found %s", yw_kind(n));
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yw_node(w, pr->key), *v = k ? yw_node(w, pr->value) : NULL;
		char sub[YW_MAX_PATH];
		const char *key;
		int r;

		if (!k || !v)
			return -TG_ECONFIG;
		if (k->type != YAML_SCALAR_NODE)
			return yw_fail(w, k, path, "a key is %s, not a string", yw_kind(k));
		r = yw_scalar(w, k, path, &key);
		if (r < 0)
			return r;
		snprintf(sub, sizeof(sub), "%s%s%s", path ? path : "", path && *path ? "." : "", key);
		r = fn(w, key, k, v, sub, ud);
		if (r < 0)
			return r;
	}
	return 0;
}

int yw_sequence(struct yaml_walk *w, const yaml_node_t *n, const char *path, const char *what, size_t max,
		yw_item_fn fn, void *ud)
{
	size_t count, i = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return yw_fail(w, n, path, "expected %s, found %s", what, yw_kind(n));
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (max && count > max)
		return yw_fail(w, n, path, "list has %zu entries, more than %zu", count, max);
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, i++) {
		yaml_node_t *e = yw_node(w, *it);
		char sub[YW_MAX_PATH];
		int r;

		if (!e)
			return -TG_ECONFIG;
		snprintf(sub, sizeof(sub), "%s[%zu]", path ? path : "", i);
		r = fn(w, i, e, sub, ud);
		if (r < 0)
			return r;
	}
	return 0;
}

struct strings_walk {
	char **v;
	yw_string_fn item;
	void *ud;
};

static int strings_item(struct yaml_walk *w, size_t i, const yaml_node_t *e, const char *path, void *ud)
{
	struct strings_walk *sw = ud;
	const char *s;
	int r = yw_scalar(w, e, path, &s);

	if (r < 0)
		return r;
	sw->v[i] = strdup(s);
	if (!sw->v[i])
		return -ENOMEM;
	return sw->item ? sw->item(w, e, path, &sw->v[i], sw->ud) : 0;
}

int yw_strings(struct yaml_walk *w, const yaml_node_t *n, const char *path, size_t max, yw_string_fn item,
	       void *ud, char ***ret)
{
	_cleanup_(strv_freep) char **v = NULL;
	struct strings_walk sw = { .item = item, .ud = ud };
	size_t count = 0;
	int r;

	if (!max || max > INT_MAX)
		max = INT_MAX;
	if (n->type == YAML_SEQUENCE_NODE) {
		count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
		/* past max, yw_sequence refuses the list before any item */
		if (count <= max && !(v = calloc(count + 1, sizeof(*v))))
			return -ENOMEM;
	}
	sw.v = v;
	r = yw_sequence(w, n, path, "a list of strings", max, strings_item, &sw);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	return (int)count;
}
