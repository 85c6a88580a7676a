// SPDX-License-Identifier: Apache-2.0
/*
 * The ProbeList (wire/probe-list.h): the gateway's one encoder and the
 * plugin's one decoder.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "wire/fields.h"
#include "wire/probe-list.h"
#include "wire/probes.h"
#include "lib/banned.h"

#define KIND "ProbeList"
#define API_VERSION "tracegate.dev/v1alpha1"

static void item_release(struct wire_probe_item *it)
{
	wire_strvn_free(it->fields, it->nfields);
	free(it->name);
}

void wire_probe_list_release(struct wire_probe_list *l)
{
	if (!l)
		return;
	free(l->namespace);
	free(l->target);
	free(l->node);
	free(l->pattern);
	for (size_t i = 0; i < l->nitems; i++)
		item_release(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Room for one more of n elements of size sz: the arrays grow by
 * doubling, so a size that is 0 or a power of two is full. */
static int grow(void **v, size_t n, size_t sz)
{
	void *p;

	if (n && (n & (n - 1)))
		return 0;
	p = realloc(*v, (n ? 2 * n : 1) * sz);
	if (!p)
		return -ENOMEM;
	*v = p;
	return 0;
}

int wire_probe_list_add_item(struct wire_probe_list *l, const char *name, size_t len)
{
	char *copy;

	if (!wire_probes_name_ok(name, len))
		return -EINVAL;
	if (l->nitems >= WIRE_PROBE_LIST_MAX_ITEMS)
		return -E2BIG;
	if (grow((void **)&l->items, l->nitems, sizeof(*l->items)) < 0 || !(copy = strndup(name, len)))
		return -ENOMEM;
	l->items[l->nitems++] = (struct wire_probe_item){ .name = copy };
	return 0;
}

int wire_probe_list_add_field(struct wire_probe_list *l, const char *decl, size_t len)
{
	struct wire_probe_item *it;
	char *copy;

	if (!l->nitems || !wire_probes_field_ok(decl, len))
		return -EINVAL;
	if (l->nfields >= WIRE_PROBE_LIST_MAX_FIELDS)
		return -E2BIG;
	it = &l->items[l->nitems - 1];
	if (grow((void **)&it->fields, it->nfields, sizeof(*it->fields)) < 0 || !(copy = strndup(decl, len)))
		return -ENOMEM;
	it->fields[it->nfields++] = copy;
	l->nfields++;
	return 0;
}

/* ---- decoding ------------------------------------------------------------- */

static int decode_item(json_t *o, size_t i, struct wire_probe_list *l, char **ret_err)
{
	json_t *name = json_object_get(o, "name"), *fields = json_object_get(o, "fields"), *f;
	size_t k;
	int r;

	if (!json_is_object(o))
		return tg_fail(ret_err, -EINVAL, "\"items\"[%zu]: not an object", i);
	if (!json_is_string(name) || (r = wire_probe_list_add_item(l, json_string_value(name),
								   json_string_length(name))) == -EINVAL)
		return tg_fail(ret_err, -EINVAL, "\"items\"[%zu].\"name\": not a probe name", i);
	if (r < 0)
		return r;
	if (!fields || json_is_null(fields))
		return 0;
	if (!json_is_array(fields))
		return tg_fail(ret_err, -EINVAL, "\"items\"[%zu].\"fields\": not an array", i);
	if (!l->verbose && json_array_size(fields))
		return tg_fail(ret_err, -EINVAL, "\"items\"[%zu].\"fields\": in a list that is not verbose", i);
	json_array_foreach(fields, k, f) {
		r = json_is_string(f) ? wire_probe_list_add_field(l, json_string_value(f), json_string_length(f))
				      : -EINVAL;
		if (r == -EINVAL)
			return tg_fail(ret_err, -EINVAL, "\"items\"[%zu].\"fields\"[%zu]: not a field declaration", i, k);
		if (r == -E2BIG)
			return tg_fail(ret_err, -EINVAL, "\"items\": more than %u fields", WIRE_PROBE_LIST_MAX_FIELDS);
		if (r < 0)
			return r;
	}
	return 0;
}

static int decode_bool(json_t *o, const char *key, bool *ret, char **ret_err)
{
	json_t *v = json_object_get(o, key);

	if (v && !json_is_null(v) && !json_is_boolean(v))
		return tg_fail(ret_err, -EINVAL, "\"%s\": not a boolean", key);
	*ret = json_is_true(v);
	return 0;
}

static int decode_head(json_t *o, struct wire_probe_list *l, char **ret_err)
{
	const char *kind = json_string_value(json_object_get(o, "kind"));
	json_t *md = json_object_get(o, "metadata");
	int r;

	if (!kind || strcmp(kind, KIND))
		return tg_fail(ret_err, -EINVAL, "\"kind\": not \"" KIND "\"");
	if (md && !json_is_null(md) && !json_is_object(md))
		return tg_fail(ret_err, -EINVAL, "\"metadata\": not an object");
	if ((md && (r = wire_str_field(md, "namespace", "metadata.", false, WIRE_PROBE_LIST_MAX_NAME, true,
				       &l->namespace, ret_err)) < 0) ||
	    (r = wire_str_field(o, "target", "", false, WIRE_PROBE_LIST_MAX_TARGET, false, &l->target, ret_err)) < 0 ||
	    (r = wire_str_field(o, "node", "", false, WIRE_PROBE_LIST_MAX_NAME, true, &l->node, ret_err)) < 0 ||
	    (r = wire_str_field(o, "pattern", "", false, WIRE_PROBE_LIST_MAX_PATTERN, false, &l->pattern,
				ret_err)) < 0 ||
	    (r = decode_bool(o, "verbose", &l->verbose, ret_err)) < 0 ||
	    (r = decode_bool(o, "truncated", &l->truncated, ret_err)) < 0)
		return r;
	if (l->target && !wire_printable_text(l->target, strlen(l->target)))
		return tg_fail(ret_err, -EINVAL, "\"target\": a control character");
	if (l->pattern && *l->pattern && !wire_probes_name_ok(l->pattern, strlen(l->pattern)))
		return tg_fail(ret_err, -EINVAL, "\"pattern\": not a probe pattern");
	return 0;
}

int wire_probe_list_from_gateway(json_t *o, struct wire_probe_list *ret, char **ret_err)
{
	_cleanup_(wire_probe_list_release) struct wire_probe_list l = { 0 };
	json_t *items = json_object_get(o, "items"), *it;
	size_t i;
	int r;

	if (!json_is_object(o))
		return tg_fail(ret_err, -EINVAL, "ProbeList: not a JSON object");
	if ((r = decode_head(o, &l, ret_err)) < 0)
		return r;
	if (!json_is_array(items) || json_array_size(items) > WIRE_PROBE_LIST_MAX_ITEMS)
		return tg_fail(ret_err, -EINVAL, "\"items\": not an array of at most %u probes",
			       WIRE_PROBE_LIST_MAX_ITEMS);
	json_array_foreach(items, i, it)
		if ((r = decode_item(it, i, &l, ret_err)) < 0)
			return r;
	*ret = l;
	memset(&l, 0, sizeof(l));
	return 0;
}

/* ---- encoding ------------------------------------------------------------- */

static bool list_ok(const struct wire_probe_list *l)
{
	size_t nf = 0;

	if ((l->namespace && (strlen(l->namespace) > WIRE_PROBE_LIST_MAX_NAME ||
			      !wire_name_text(l->namespace, strlen(l->namespace)))) ||
	    (l->node && (strlen(l->node) > WIRE_PROBE_LIST_MAX_NAME || !wire_name_text(l->node, strlen(l->node)))) ||
	    (l->target && (strlen(l->target) > WIRE_PROBE_LIST_MAX_TARGET ||
			   !wire_printable_text(l->target, strlen(l->target)))) ||
	    (l->pattern && (strlen(l->pattern) > WIRE_PROBE_LIST_MAX_PATTERN ||
			    (*l->pattern && !wire_probes_name_ok(l->pattern, strlen(l->pattern))))) ||
	    l->nitems > WIRE_PROBE_LIST_MAX_ITEMS)
		return false;
	for (size_t i = 0; i < l->nitems; i++) {
		const struct wire_probe_item *it = &l->items[i];

		if (!it->name || !wire_probes_name_ok(it->name, strlen(it->name)) || (it->nfields && !l->verbose))
			return false;
		for (size_t k = 0; k < it->nfields; k++)
			if (!it->fields[k] || !wire_probes_field_ok(it->fields[k], strlen(it->fields[k])))
				return false;
		nf += it->nfields;
	}
	return nf <= WIRE_PROBE_LIST_MAX_FIELDS;
}

static json_t *items_json(const struct wire_probe_list *l)
{
	_cleanup_(json_decrefp) json_t *a = json_array();

	for (size_t i = 0; a && i < l->nitems; i++) {
		const struct wire_probe_item *it = &l->items[i];
		json_t *o = l->verbose ? json_pack("{s:s, s:o}", "name", it->name, "fields",
						   wire_strv_json(it->fields, it->nfields))
				       : json_pack("{s:s}", "name", it->name);

		if (!o || json_array_append_new(a, o) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}

int wire_probe_list_to_json(const struct wire_probe_list *l, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	json_t *md;

	if (!list_ok(l))
		return -EINVAL;
	o = json_pack("{s:s, s:s, s:{}}", "kind", KIND, "apiVersion", API_VERSION, "metadata");
	md = json_object_get(o, "metadata");
	if (!o || wire_set_str(md, "namespace", l->namespace) < 0 || wire_set_str(o, "target", l->target) < 0 ||
	    wire_set_str(o, "node", l->node) < 0 || wire_set_str(o, "pattern", l->pattern) < 0 ||
	    json_object_set_new(o, "verbose", json_boolean(l->verbose)) < 0 ||
	    json_object_set_new(o, "items", items_json(l)) < 0 ||
	    json_object_set_new(o, "truncated", json_boolean(l->truncated)) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

bool wire_probe_list_equal(const struct wire_probe_list *a, const struct wire_probe_list *b)
{
	if (!wire_str_eq(a->namespace, b->namespace) || !wire_str_eq(a->target, b->target) ||
	    !wire_str_eq(a->node, b->node) || !wire_str_eq(a->pattern, b->pattern) || a->verbose != b->verbose ||
	    a->truncated != b->truncated || a->nitems != b->nitems || a->nfields != b->nfields)
		return false;
	for (size_t i = 0; i < a->nitems; i++)
		if (!wire_str_eq(a->items[i].name, b->items[i].name) ||
		    !wire_strv_eq(a->items[i].fields, a->items[i].nfields, b->items[i].fields, b->items[i].nfields))
			return false;
	return true;
}
