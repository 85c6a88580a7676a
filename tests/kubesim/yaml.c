// SPDX-License-Identifier: Apache-2.0
/* YAML fixtures into jansson values, with depth and size limits. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/util.h"
#include "tests/kubesim/kubesim.h"
#include "lib/banned.h"

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

static bool is_int(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static json_t *scalar(yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	/* libyaml's loader tags every untagged scalar !!str, so the tag
	 * cannot tell "true" from true: the style does (quoted = string). */
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, n->data.scalar.length);
	if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	if (is_int(s)) {
		int64_t v;

		if (parse_i64(s, &v) == 0)
			return json_integer(v);
	}
	return json_stringn(s, n->data.scalar.length);
}

struct conv {
	yaml_document_t *doc;
	size_t nodes;
	const char *name;
	char **ret_err;
};

static json_t *convert(struct conv *c, yaml_node_t *n, int depth)
{
	if (!n)
		return NULL;
	if (depth > KS_YAML_MAX_DEPTH) {
		set_err(c->ret_err, "%s: nesting deeper than %d", c->name, KS_YAML_MAX_DEPTH);
		return NULL;
	}
	/* aliases share nodes: count visits, not nodes, so a "billion laughs"
	 * document stops here */
	if (++c->nodes > KS_YAML_MAX_NODES) {
		set_err(c->ret_err, "%s: more than %d nodes", c->name, KS_YAML_MAX_NODES);
		return NULL;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return scalar(n);
	case YAML_SEQUENCE_NODE: {
		_cleanup_(json_decrefp) json_t *a = json_array();

		for (yaml_node_item_t *i = n->data.sequence.items.start; a && i < n->data.sequence.items.top; i++) {
			json_t *v = convert(c, yaml_document_get_node(c->doc, *i), depth + 1);

			if (!v || json_array_append_new(a, v) < 0)
				return NULL;
		}
		return TAKE_PTR(a);
	}
	case YAML_MAPPING_NODE: {
		_cleanup_(json_decrefp) json_t *o = json_object();

		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; o && p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
			json_t *v;

			if (!k || k->type != YAML_SCALAR_NODE) {
				set_err(c->ret_err, "%s: line %zu: mapping key is not a scalar", c->name,
					k ? k->start_mark.line + 1 : 0);
				return NULL;
			}
			if (json_object_get(o, (const char *)k->data.scalar.value)) {
				set_err(c->ret_err, "%s: line %zu: duplicate key \"%s\"", c->name,
					k->start_mark.line + 1, (const char *)k->data.scalar.value);
				return NULL;
			}
			v = convert(c, yaml_document_get_node(c->doc, p->value), depth + 1);
			if (!v || json_object_set_new(o, (const char *)k->data.scalar.value, v) < 0)
				return NULL;
		}
		return TAKE_PTR(o);
	}
	default:
		set_err(c->ret_err, "%s: unexpected YAML node", c->name);
		return NULL;
	}
}

static int add_doc(json_t *docs, json_t *d, const char *name, char **ret_err)
{
	const char *kind = json_string_value(json_object_get(d, "kind"));
	json_t *items, *it;
	size_t i;

	if (json_is_null(d))
		return 0; /* an empty document ("---" at the end) */
	if (json_is_array(d)) { /* a top-level sequence: its entries */
		json_array_foreach(d, i, it) {
			int r = add_doc(docs, it, name, ret_err);

			if (r < 0)
				return r;
		}
		return 0;
	}
	if (!json_is_object(d)) {
		set_err(ret_err, "%s: a document is not a mapping", name);
		return -EINVAL;
	}
	if (kind && strcmp(kind, "List") == 0) {
		items = json_object_get(d, "items");
		if (!json_is_array(items)) {
			set_err(ret_err, "%s: List without items", name);
			return -EINVAL;
		}
		json_array_foreach(items, i, it) {
			int r = add_doc(docs, it, name, ret_err);

			if (r < 0)
				return r;
		}
		return 0;
	}
	return json_array_append(docs, d) < 0 ? -ENOMEM : 0;
}

int ks_yaml_load_string(const char *text, size_t len, const char *name, json_t *docs,
			char **ret_err)
{
	yaml_parser_t parser;
	int r = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (;;) {
		yaml_document_t doc;
		yaml_node_t *root;
		struct conv c = { .doc = &doc, .name = name, .ret_err = ret_err };
		json_t *j;

		if (!yaml_parser_load(&parser, &doc)) {
			set_err(ret_err, "%s: line %zu column %zu: %s", name, parser.problem_mark.line + 1,
				parser.problem_mark.column + 1,
				parser.problem ? parser.problem : "YAML error");
			r = -EINVAL;
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (!root) {
			yaml_document_delete(&doc);
			break; /* end of stream */
		}
		j = convert(&c, root, 0);
		yaml_document_delete(&doc);
		if (!j) {
			if (ret_err && !*ret_err)
				set_err(ret_err, "%s: out of memory", name);
			r = -EINVAL;
			break;
		}
		r = add_doc(docs, j, name, ret_err);
		json_decref(j);
		if (r < 0)
			break;
	}
	yaml_parser_delete(&parser);
	return r;
}

static int load_file(const char *path, json_t *docs, char **ret_err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = read_file(path, KS_YAML_MAX_FILE, &text, &len);
	if (r < 0) {
		set_err(ret_err, "%s: %s", path, strerror(-r));
		return r;
	}
	return ks_yaml_load_string(text, len, path, docs, ret_err);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int yaml_name(const struct dirent *d)
{
	return d->d_name[0] != '.' &&
	       (has_suffix(d->d_name, ".yaml") || has_suffix(d->d_name, ".yml") ||
		has_suffix(d->d_name, ".json"));
}

int ks_yaml_load_path(const char *path, json_t *docs, char **ret_err)
{
	struct dirent **list = NULL;
	struct stat st;
	int n, r = 0;

	if (stat(path, &st) < 0) {
		r = -errno;
		set_err(ret_err, "%s: %s", path, strerror(errno));
		return r;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(path, docs, ret_err);
	n = scandir(path, &list, yaml_name, name_cmp);
	if (n < 0) {
		r = -errno;
		set_err(ret_err, "%s: %s", path, strerror(errno));
		return r;
	}
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *p = NULL;

		if (r == 0) {
			if (asprintf(&p, "%s/%s", path, list[i]->d_name) < 0)
				r = -ENOMEM;
			else if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
				r = load_file(p, docs, ret_err);
		}
		free(list[i]);
	}
	free(list);
	return r;
}
