// SPDX-License-Identifier: Apache-2.0
/*
 * The map record's envelope (wire/map.h): the runner's encoder and
 * split, the gateway's strict reader and the plugin's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "wire/end.h"
#include "wire/fields.h"
#include "wire/map.h"
#include "lib/banned.h"

/* --- the runner's writer ---------------------------------------------------------- */

/* The compact JSON of e, its length (0 without memory). */
static size_t dumped_len(const json_t *e)
{
	_cleanup_free_ char *t = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);

	return t ? strlen(t) : 0;
}

/*
 * A map within the policy's maxMapEntries and maxMapBytes can still make
 * a far longer line (its key text twice, JSON escapes: 4096 entries of a
 * 200-byte key made 1.9 MB), and a line over the gateway's maxLineBytes
 * ended the session as an error with its maps and counts lost.
 */
int wire_map_split(const json_t *rec, size_t max, int (*send)(void *ctx, json_t *part), void *ctx)
{
	json_t *entries = json_object_get(rec, "entries"), *e, *part = NULL, *pe = NULL;
	size_t i, bytes = 0, base = dumped_len(rec);
	int r = 0;

	if (!base)
		return -ENOMEM;
	if (base <= max || !json_is_array(entries) || json_array_size(entries) < 2)
		return send(ctx, json_deep_copy(rec));
	/* the record without its entries (nor their commas) */
	json_array_foreach(entries, i, e) {
		size_t n = dumped_len(e);

		if (!n)
			return -ENOMEM;
		base -= MIN(base, n + 1);
	}
	json_array_foreach(entries, i, e) {
		size_t n = dumped_len(e);

		if (!n) {
			r = -ENOMEM;
			break;
		}
		n++;
		if (part && bytes + n > max) {
			r = send(ctx, TAKE_PTR(part));
			if (r < 0)
				break;
		}
		if (!part) {
			part = json_copy((json_t *)rec);
			pe = json_array();
			if (!part || !pe || json_object_set_new(part, "entries", pe) < 0) {
				if (!part)
					json_decref(pe);
				r = -ENOMEM;
				break;
			}
			bytes = base;
		}
		if (json_array_append(pe, e) < 0) {
			r = -ENOMEM;
			break;
		}
		bytes += n;
	}
	if (r < 0) {
		json_decref(part);
		return r;
	}
	return part ? send(ctx, part) : 0;
}

/* --- the readers ------------------------------------------------------------------ */

static const char *const map_kinds[] = { "int", "str", "count", "sum", "min", "max", "avg",
					 "stats", "hist", "lhist", "text", NULL };

static bool kind_known(const char *k)
{
	for (const char *const *p = map_kinds; *p; p++)
		if (!strcmp(*p, k))
			return true;
	return false;
}

/* "@" then letters, digits and '_' (bpftrace's map names; "@" alone too) */
static bool map_name_ok(const char *s, size_t len)
{
	return len >= 1 && len <= WIRE_MAP_MAX_NAME && s[0] == '@' &&
	       strspn(s + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == len - 1;
}

static int opt_bool(json_t *rec, const char *key, bool *ret, char **ret_err)
{
	json_t *v = json_object_get(rec, key);

	*ret = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return tg_fail(ret_err, -EINVAL, "\"%s\": must be a boolean", key);
	*ret = json_is_true(v);
	return 0;
}

static int opt_text(json_t *rec, const char *key, size_t max, const char **ret, char **ret_err)
{
	json_t *v = json_object_get(rec, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    !wire_printable_text(json_string_value(v), json_string_length(v)))
		return tg_fail(ret_err, -EINVAL, "\"%s\": must be a string of at most %zu printable bytes", key, max);
	*ret = json_string_value(v);
	return 0;
}

static const char *const map_members[] = { "type", "name", "kind", "keyed", "unsigned", "valueType", "entries",
					   "top", "div", "print", "node", NULL };

static int map_decode(json_t *rec, bool strict, struct wire_map *ret, char **ret_err)
{
	json_t *type = json_object_get(rec, "type"), *name = json_object_get(rec, "name"),
	       *kind = json_object_get(rec, "kind"), *entries = json_object_get(rec, "entries"), *e;
	struct wire_map m = { 0 };
	size_t i;
	int r;

	if (!json_is_object(rec))
		return tg_fail(ret_err, -EINVAL, "a map record must be an object");
	if (!json_is_string(type) || strcmp(json_string_value(type), "map"))
		return tg_fail(ret_err, -EINVAL, "\"type\": must be \"map\"");
	if (strict && (r = wire_only_members(rec, "", map_members, ret_err)) < 0)
		return r;
	if (!json_is_string(name) || !map_name_ok(json_string_value(name), json_string_length(name)))
		return tg_fail(ret_err, -EINVAL, "\"name\": must be \"@\" and at most %d letters, digits and _",
			       WIRE_MAP_MAX_NAME - 1);
	m.name = json_string_value(name);
	if (!json_is_string(kind) || (strict && !kind_known(json_string_value(kind))) ||
	    json_string_length(kind) > 16 || strspn(json_string_value(kind), "abcdefghijklmnopqrstuvwxyz") !=
						  json_string_length(kind) || !json_string_length(kind))
		return tg_fail(ret_err, -EINVAL, "\"kind\": must be a map's kind (count, sum, hist, ...)");
	m.kind = json_string_value(kind);
	if (strict && !json_is_boolean(json_object_get(rec, "keyed")))
		return tg_fail(ret_err, -EINVAL, "\"keyed\": must be a boolean");
	if ((r = opt_bool(rec, "keyed", &m.keyed, ret_err)) < 0 ||
	    (r = opt_bool(rec, "unsigned", &m.is_unsigned, ret_err)) < 0 ||
	    (r = opt_bool(rec, "print", &m.print, ret_err)) < 0 ||
	    (r = opt_text(rec, "valueType", WIRE_MAP_MAX_VALUE_TYPE, &m.value_type, ret_err)) < 0 ||
	    (r = wire_uint_field(rec, "top", "", INT64_MAX, &m.top, ret_err)) < 0 ||
	    (r = wire_uint_field(rec, "div", "", INT64_MAX, &m.div, ret_err)) < 0 ||
	    (r = opt_text(rec, "node", WIRE_END_MAX_NAME, &m.node, ret_err)) < 0)
		return r;
	if (!json_is_array(entries))
		return tg_fail(ret_err, -EINVAL, "\"entries\": must be an array");
	json_array_foreach(entries, i, e)
		if (!json_is_object(e))
			return tg_fail(ret_err, -EINVAL, "\"entries[%zu]\": must be an object", i);
	m.entries = entries;
	*ret = m;
	return 0;
}

int wire_map_from_json(json_t *rec, struct wire_map *ret, char **ret_err)
{
	return map_decode(rec, true, ret, ret_err);
}

int wire_map_from_gateway(json_t *rec, struct wire_map *ret, char **ret_err)
{
	return map_decode(rec, false, ret, ret_err);
}

/* --- the runner's encoder --------------------------------------------------------- */

static bool text_ok(const char *s, size_t max)
{
	return !s || (strlen(s) <= max && wire_printable_text(s, strlen(s)));
}

static int set_new(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

/* The members in the order the runner has always written them: the
 * gateway keeps a record as it came, so its bytes reach the plugin. */
int wire_map_to_json(const struct wire_map *m, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	json_t *e;
	size_t i;

	if (!m->name || !map_name_ok(m->name, strlen(m->name)) || !m->kind || !kind_known(m->kind) ||
	    !text_ok(m->value_type, WIRE_MAP_MAX_VALUE_TYPE) || !text_ok(m->node, WIRE_END_MAX_NAME) ||
	    m->top > INT64_MAX || m->div > INT64_MAX || !json_is_array(m->entries))
		return -EINVAL;
	json_array_foreach(m->entries, i, e)
		if (!json_is_object(e))
			return -EINVAL;
	o = json_pack("{s:s, s:s, s:s, s:b}", "type", "map", "name", m->name, "kind", m->kind, "keyed", (int)m->keyed);
	if (!o || (m->is_unsigned && set_new(o, "unsigned", json_true()) < 0) ||
	    wire_set_str(o, "valueType", m->value_type) < 0 || json_object_set(o, "entries", m->entries) < 0 ||
	    (m->top && set_new(o, "top", json_integer((json_int_t)m->top)) < 0) ||
	    (m->div && set_new(o, "div", json_integer((json_int_t)m->div)) < 0) ||
	    (m->print && set_new(o, "print", json_true()) < 0) || wire_set_str(o, "node", m->node) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

bool wire_map_equal(const struct wire_map *a, const struct wire_map *b)
{
	return wire_str_eq(a->name, b->name) && wire_str_eq(a->kind, b->kind) && a->keyed == b->keyed &&
	       a->is_unsigned == b->is_unsigned && wire_str_eq(a->value_type, b->value_type) &&
	       (a->entries == b->entries || json_equal(a->entries, b->entries)) && a->print == b->print &&
	       a->top == b->top && a->div == b->div && wire_str_eq(a->node, b->node);
}
