// SPDX-License-Identifier: Apache-2.0
/*
 * The end record (wire/end.h): its one encoder and its one strict decoder,
 * for the runner and the gateway alike.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "wire/end.h"
#include "wire/fields.h"
#include "lib/banned.h"

/* The counts in the order they are written, with their member names. */
static const struct {
	const char *name;
	unsigned bit;
	size_t off;
} counts[] = {
	{ "events", WIRE_END_EVENTS, offsetof(struct wire_end, events) },
	{ "drops", WIRE_END_DROPS, offsetof(struct wire_end, drops) },
	{ "mapDrops", WIRE_END_MAP_DROPS, offsetof(struct wire_end, map_drops) },
	{ "bytes", WIRE_END_BYTES, offsetof(struct wire_end, bytes) },
	{ "outputBytes", WIRE_END_OUTPUT_BYTES, offsetof(struct wire_end, output_bytes) },
	{ "cpuNs", WIRE_END_CPU_NS, offsetof(struct wire_end, cpu_ns) },
};

static uint64_t *count_at(struct wire_end *e, size_t i)
{
	return (uint64_t *)((char *)e + counts[i].off);
}

static const uint64_t *count_at_c(const struct wire_end *e, size_t i)
{
	return (const uint64_t *)((const char *)e + counts[i].off);
}

void wire_end_release(struct wire_end *e)
{
	if (!e)
		return;
	free(e->reason);
	free(e->message);
	for (size_t i = 0; i < e->nfailed_nodes; i++)
		free(e->failed_nodes[i]);
	free(e->failed_nodes);
	free(e->trace);
	free(e->node);
	free(e->time);
	memset(e, 0, sizeof(*e));
}

bool wire_end_reason_ok(const char *reason)
{
	return reason && (!strcmp(reason, "exit") || !strcmp(reason, "duration") || !strcmp(reason, "end") ||
			  !strcmp(reason, "client-stop"));
}

int wire_end_init_died(struct wire_end *e)
{
	e->has = WIRE_END_EVENTS | WIRE_END_DROPS | WIRE_END_MAP_DROPS | WIRE_END_CPU_NS;
	e->reason = strdup("node-failed");
	e->message = strdup("the session's process died before its end");
	return e->reason && e->message ? 0 : -ENOMEM;
}

/* ---- decoding ------------------------------------------------------------- */

/* A reason is a short word of lowercase letters and '-': it picks the
 * client's exit status and lands in the audit record. */
static int decode_reason(json_t *rec, struct wire_end *e, char **ret_err)
{
	const char *s;
	int r = wire_str_field(rec, "reason", "", true, WIRE_END_MAX_REASON, true, &e->reason, ret_err);

	if (r < 0)
		return r;
	for (s = e->reason; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '-'))
			return tg_fail(ret_err, -EINVAL, "\"reason\": character %zu is not a lowercase letter or '-'",
				       (size_t)(s - e->reason) + 1);
	return 0;
}

static int decode_counts(json_t *rec, struct wire_end *e, char **ret_err)
{
	json_t *v;
	int r;

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		if (!json_object_get(rec, counts[i].name))
			continue;
		if ((r = wire_uint_field(rec, counts[i].name, "", INT64_MAX, count_at(e, i), ret_err)) < 0)
			return r;
		e->has |= counts[i].bit;
	}
	v = json_object_get(rec, "exitCode");
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < INT_MIN || json_integer_value(v) > INT_MAX)
		return tg_fail(ret_err, -EINVAL, "\"exitCode\": not an integer of 32 bits");
	e->exit_code = (int)json_integer_value(v);
	e->has |= WIRE_END_EXIT_CODE;
	return 0;
}

/* "failedNodes": the names of the nodes that failed, at least one */
static int decode_failed(json_t *rec, struct wire_end *e, char **ret_err)
{
	json_t *a = json_object_get(rec, "failedNodes");

	if (json_is_array(a) && json_array_size(a) == 0)
		return tg_fail(ret_err, -EINVAL, "\"failedNodes\": empty");
	return wire_strv_field(rec, "failedNodes", "", false, WIRE_END_MAX_FAILED, WIRE_END_MAX_NAME, true,
			       &e->failed_nodes, &e->nfailed_nodes, ret_err);
}

/* skip_unknown: the plugin's reading (wire_end_from_gateway) */
static int end_from_json(json_t *rec, bool skip_unknown, struct wire_end *ret, char **ret_err)
{
	static const char *const names[] = { "type",   "reason", "message", "events", "drops",
					     "mapDrops", "bytes", "outputBytes", "cpuNs", "exitCode",
					     "failedNodes", "trace", "node", "time", NULL };
	_cleanup_(wire_end_release) struct wire_end e = { 0 };
	const char *type = json_string_value(json_object_get(rec, "type"));
	int r;

	if (!json_is_object(rec))
		return tg_fail(ret_err, -EINVAL, "end record: not a JSON object");
	if (!type || strcmp(type, "end"))
		return tg_fail(ret_err, -EINVAL, "\"type\": not \"end\"");
	if ((!skip_unknown && (r = wire_only_members(rec, "", names, ret_err)) < 0) ||
	    (r = decode_reason(rec, &e, ret_err)) < 0 ||
	    (r = wire_str_field(rec, "message", "", false, WIRE_END_MAX_MESSAGE, false, &e.message, ret_err)) < 0 ||
	    (r = decode_counts(rec, &e, ret_err)) < 0 ||
	    (r = decode_failed(rec, &e, ret_err)) < 0 ||
	    (r = wire_str_field(rec, "trace", "", false, WIRE_END_MAX_TRACE, true, &e.trace, ret_err)) < 0 ||
	    (r = wire_str_field(rec, "node", "", false, WIRE_END_MAX_NAME, true, &e.node, ret_err)) < 0 ||
	    (r = wire_str_field(rec, "time", "", false, WIRE_END_MAX_TIME, true, &e.time, ret_err)) < 0)
		return r;
	*ret = e;
	memset(&e, 0, sizeof(e));
	return 0;
}

int wire_end_from_json(json_t *rec, struct wire_end *ret, char **ret_err)
{
	return end_from_json(rec, false, ret, ret_err);
}

int wire_end_from_gateway(json_t *rec, struct wire_end *ret, char **ret_err)
{
	return end_from_json(rec, true, ret, ret_err);
}

int wire_end_decode(const char *text, size_t len, struct wire_end *ret, char **ret_err)
{
	_cleanup_(json_decrefp) json_t *rec = NULL;
	int r = wire_json_object(text, len, WIRE_END_MAX_LINE, "end record", &rec, ret_err);

	return r < 0 ? r : wire_end_from_json(rec, ret, ret_err);
}

/* ---- encoding ------------------------------------------------------------- */

int wire_end_to_json(const struct wire_end *e, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = json_pack("{s:s}", "type", "end");
	json_t *a;

	if (!e->reason)
		return -EINVAL;
	if (!o || wire_set_str(o, "reason", e->reason) < 0 || wire_set_str(o, "message", e->message) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if ((e->has & counts[i].bit) &&
		    json_object_set_new(o, counts[i].name, json_integer((json_int_t)*count_at_c(e, i))) < 0)
			return -ENOMEM;
	if ((e->has & WIRE_END_EXIT_CODE) && json_object_set_new(o, "exitCode", json_integer(e->exit_code)) < 0)
		return -ENOMEM;
	if (e->nfailed_nodes) {
		if (!(a = json_array()) || json_object_set_new(o, "failedNodes", a) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < e->nfailed_nodes; i++)
			if (json_array_append_new(a, json_string(e->failed_nodes[i])) < 0)
				return -ENOMEM;
	}
	if (wire_set_str(o, "trace", e->trace) < 0 || wire_set_str(o, "node", e->node) < 0 ||
	    wire_set_str(o, "time", e->time) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

int wire_end_encode(const struct wire_end *e, char **ret_text)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	char *text;
	int r = wire_end_to_json(e, &o);

	if (r < 0)
		return r;
	text = json_dumps(o, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	*ret_text = text;
	return 0;
}

/* ---- equality ------------------------------------------------------------- */

bool wire_end_equal(const struct wire_end *a, const struct wire_end *b)
{
	if (!wire_str_eq(a->reason, b->reason) || !wire_str_eq(a->message, b->message) || a->has != b->has ||
	    !wire_str_eq(a->trace, b->trace) || !wire_str_eq(a->node, b->node) || !wire_str_eq(a->time, b->time) ||
	    a->nfailed_nodes != b->nfailed_nodes)
		return false;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if ((a->has & counts[i].bit) && *count_at_c(a, i) != *count_at_c(b, i))
			return false;
	if ((a->has & WIRE_END_EXIT_CODE) && a->exit_code != b->exit_code)
		return false;
	for (size_t i = 0; i < a->nfailed_nodes; i++)
		if (!wire_str_eq(a->failed_nodes[i], b->failed_nodes[i]))
			return false;
	return true;
}
