// SPDX-License-Identifier: Apache-2.0
/*
 * A runner's status and error records (wire/record.h): one encoder for the
 * runner and the gateway, one strict decoder for the gateway, one for the
 * plugin.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "wire/end.h"
#include "wire/fields.h"
#include "wire/map.h"
#include "wire/output.h"
#include "wire/record.h"
#include "lib/banned.h"

void wire_status_release(struct wire_status *s)
{
	if (!s)
		return;
	free(s->phase);
	free(s->object);
	free(s->node);
	memset(s, 0, sizeof(*s));
}

void wire_error_release(struct wire_error *e)
{
	if (!e)
		return;
	free(e->message);
	free(e->node);
	memset(e, 0, sizeof(*e));
}

/* ---- decoding ------------------------------------------------------------- */

static int required_uint(json_t *rec, const char *key, uint64_t *ret, char **ret_err)
{
	if (!json_object_get(rec, key))
		return tg_fail(ret_err, -EINVAL, "\"%s\": missing", key);
	return wire_uint_field(rec, key, "", INT64_MAX, ret, ret_err);
}

static int status_members(json_t *rec, struct wire_status *s, char **ret_err)
{
	static const char *const compiled[] = { "type", "phase", "node", "probes", "object", "cached", NULL };
	static const char *const attaching[] = { "type", "phase", "node", "probes", "done", NULL };
	static const char *const attached[] = { "type", "phase", "node", "probes", NULL };
	static const char *const alive[] = { "type", "phase", "node", NULL };
	json_t *c;
	int r;

	if (!strcmp(s->phase, "alive"))
		return wire_only_members(rec, "", alive, ret_err);
	if ((r = required_uint(rec, "probes", &s->probes, ret_err)) < 0)
		return r;
	if (!strcmp(s->phase, "attached"))
		return wire_only_members(rec, "", attached, ret_err);
	if (!strcmp(s->phase, "attaching")) {
		if ((r = wire_only_members(rec, "", attaching, ret_err)) < 0 ||
		    (r = required_uint(rec, "done", &s->done, ret_err)) < 0)
			return r;
		if (s->done > s->probes)
			return tg_fail(ret_err, -EINVAL, "\"done\": more than \"probes\"");
		return 0;
	}
	if (strcmp(s->phase, "compiled"))
		return tg_fail(ret_err, -EINVAL, "\"phase\": not compiled, attaching, attached or alive");
	c = json_object_get(rec, "cached");
	if ((r = wire_only_members(rec, "", compiled, ret_err)) < 0 ||
	    (r = wire_str_field(rec, "object", "", true, WIRE_RECORD_MAX_OBJECT, true, &s->object, ret_err)) < 0)
		return r;
	if (!json_is_boolean(c))
		return tg_fail(ret_err, -EINVAL, "\"cached\": not a boolean");
	s->cached = json_is_true(c);
	return 0;
}

int wire_status_from_json(json_t *rec, struct wire_status *ret, char **ret_err)
{
	_cleanup_(wire_status_release) struct wire_status s = { 0 };
	const char *type = json_string_value(json_object_get(rec, "type"));
	int r;

	if (!json_is_object(rec) || !type || strcmp(type, "status"))
		return tg_fail(ret_err, -EINVAL, "status record: not an object of type \"status\"");
	if ((r = wire_str_field(rec, "phase", "", true, 16, true, &s.phase, ret_err)) < 0 ||
	    (r = status_members(rec, &s, ret_err)) < 0 ||
	    (r = wire_str_field(rec, "node", "", false, WIRE_END_MAX_NAME, true, &s.node, ret_err)) < 0)
		return r;
	*ret = s;
	memset(&s, 0, sizeof(s));
	return 0;
}

/* gateway: the plugin's reading, "code" allowed and unknown members skipped */
static int error_from_json(json_t *rec, bool gateway, struct wire_error *ret, char **ret_err)
{
	static const char *const names[] = { "type", "message", "warning", "node", NULL };
	_cleanup_(wire_error_release) struct wire_error e = { 0 };
	const char *type = json_string_value(json_object_get(rec, "type"));
	json_t *w = json_object_get(rec, "warning"), *code = json_object_get(rec, "code");
	int r;

	if (!json_is_object(rec) || !type || strcmp(type, "error"))
		return tg_fail(ret_err, -EINVAL, "error record: not an object of type \"error\"");
	if ((!gateway && (r = wire_only_members(rec, "", names, ret_err)) < 0) ||
	    (r = wire_str_field(rec, "message", "", true, WIRE_RECORD_MAX_MESSAGE, false, &e.message, ret_err)) < 0 ||
	    (r = wire_str_field(rec, "node", "", false, WIRE_END_MAX_NAME, true, &e.node, ret_err)) < 0)
		return r;
	if (w && !json_is_true(w))
		return tg_fail(ret_err, -EINVAL, "\"warning\": not true");
	e.warning = w != NULL;
	if (gateway && (r = wire_uint_field(rec, "dropped", "", INT64_MAX, &e.dropped, ret_err)) < 0)
		return r;
	if (gateway && code) {
		if (!json_is_integer(code) || json_integer_value(code) < WIRE_ERROR_CODE_MIN ||
		    json_integer_value(code) > WIRE_ERROR_CODE_MAX)
			return tg_fail(ret_err, -EINVAL, "\"code\": not an HTTP status (an integer from %d to %d)",
				       WIRE_ERROR_CODE_MIN, WIRE_ERROR_CODE_MAX);
		e.code = (int)json_integer_value(code);
	}
	*ret = e;
	memset(&e, 0, sizeof(e));
	return 0;
}

int wire_error_from_json(json_t *rec, struct wire_error *ret, char **ret_err)
{
	return error_from_json(rec, false, ret, ret_err);
}

int wire_error_from_gateway(json_t *rec, struct wire_error *ret, char **ret_err)
{
	return error_from_json(rec, true, ret, ret_err);
}

int wire_runner_record_decode(json_t **rec, char **ret_err)
{
	const char *type = json_string_value(json_object_get(*rec, "type"));
	json_t *again = NULL;
	int r;

	if (type && !strcmp(type, "status")) {
		_cleanup_(wire_status_release) struct wire_status s = { 0 };

		if ((r = wire_status_from_json(*rec, &s, ret_err)) < 0 || (r = wire_status_to_json(&s, &again)) < 0)
			return r;
	} else if (type && !strcmp(type, "error")) {
		_cleanup_(wire_error_release) struct wire_error e = { 0 };

		if ((r = wire_error_from_json(*rec, &e, ret_err)) < 0 || (r = wire_error_to_json(&e, &again)) < 0)
			return r;
	} else if (type && !strcmp(type, "output")) {
		struct wire_output o;

		/* checked, kept as it came: only its shape's members (the
		 * relay splices most without a parse, wire/output.h) */
		return wire_output_from_json(*rec, &o, ret_err);
	} else if (type && !strcmp(type, "map")) {
		struct wire_map m;

		/* its envelope checked, kept as it came (its entries are
		 * output/output.h's to merge and print) */
		return wire_map_from_json(*rec, &m, ret_err);
	} else {
		return 0;
	}
	json_decref(*rec);
	*rec = again;
	return 0;
}

/* ---- encoding ------------------------------------------------------------- */

static int set_new(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

int wire_status_to_json(const struct wire_status *s, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	bool compiled, attaching, alive;

	if (!s->phase)
		return -EINVAL;
	compiled = !strcmp(s->phase, "compiled");
	attaching = !strcmp(s->phase, "attaching");
	alive = !strcmp(s->phase, "alive");
	if ((!compiled && !attaching && !alive && strcmp(s->phase, "attached")) || (compiled && !s->object) ||
	    (attaching && s->done > s->probes))
		return -EINVAL;
	o = json_pack("{s:s, s:s}", "type", "status", "phase", s->phase);
	if (!o || (attaching && set_new(o, "done", json_integer((json_int_t)s->done)) < 0) ||
	    (!alive && set_new(o, "probes", json_integer((json_int_t)s->probes)) < 0) ||
	    (compiled && (set_new(o, "object", json_string(s->object)) < 0 ||
			  set_new(o, "cached", json_boolean(s->cached)) < 0)) ||
	    (s->node && set_new(o, "node", json_string(s->node)) < 0))
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

int wire_error_to_json(const struct wire_error *e, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL;

	if (!e->message || !*e->message || strlen(e->message) > WIRE_RECORD_MAX_MESSAGE ||
	    (e->node && (strlen(e->node) > WIRE_END_MAX_NAME || !wire_name_text(e->node, strlen(e->node)))) ||
	    (e->code && (e->code < WIRE_ERROR_CODE_MIN || e->code > WIRE_ERROR_CODE_MAX)) || e->dropped > INT64_MAX)
		return -EINVAL;
	o = json_pack("{s:s, s:s}", "type", "error", "message", e->message);
	if (!o || (e->warning && set_new(o, "warning", json_true()) < 0) ||
	    (e->node && set_new(o, "node", json_string(e->node)) < 0) ||
	    (e->code && set_new(o, "code", json_integer(e->code)) < 0) ||
	    (e->dropped && set_new(o, "dropped", json_integer((json_int_t)e->dropped)) < 0))
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

/* ---- a detached session's log ---------------------------------------------- */

int wire_log_stamp(json_t *rec, const char *time)
{
	if (!json_is_object(rec) || !time || !*time || strlen(time) > WIRE_RECORD_MAX_TIME ||
	    !wire_name_text(time, strlen(time)))
		return -EINVAL;
	return set_new(rec, "time", json_string(time));
}

/* A log's error record: as a runner's, and "dropped" */
static int log_error_decode(json_t *rec, json_t **ret, char **ret_err)
{
	_cleanup_(json_decrefp) json_t *copy = json_copy(rec);
	_cleanup_(wire_error_release) struct wire_error e = { 0 };
	uint64_t dropped;
	int r;

	if (!copy)
		return -ENOMEM;
	if ((r = wire_uint_field(copy, "dropped", "", INT64_MAX, &dropped, ret_err)) < 0)
		return r;
	json_object_del(copy, "dropped");
	if ((r = wire_error_from_json(copy, &e, ret_err)) < 0)
		return r;
	e.dropped = dropped;
	return wire_error_to_json(&e, ret);
}

int wire_log_record_decode(json_t **rec, bool keep_time, char **ret_err)
{
	const char *type = json_string_value(json_object_get(*rec, "type"));
	_cleanup_free_ char *time = NULL;
	_cleanup_(json_decrefp) json_t *copy = NULL;
	json_t *again = NULL;
	int r;

	if (!json_is_object(*rec) || !type)
		return tg_fail(ret_err, -EINVAL, "log record: not a JSON object with a \"type\"");
	if ((r = wire_str_field(*rec, "time", "", false, WIRE_RECORD_MAX_TIME, true, &time, ret_err)) < 0)
		return r;
	if (!strcmp(type, "end")) {
		_cleanup_(wire_end_release) struct wire_end e = { 0 };

		/* its "time" is a member of the end record */
		if ((r = wire_end_from_json(*rec, &e, ret_err)) < 0)
			return r;
		if (!keep_time)
			json_object_del(*rec, "time");
		return 0;
	}
	if (!strcmp(type, "output") || !strcmp(type, "map")) {
		struct wire_output o;
		struct wire_map m;

		/* checked without "time", kept as they are */
		if (!(copy = json_copy(*rec)))
			return -ENOMEM;
		json_object_del(copy, "time");
		r = !strcmp(type, "map") ? wire_map_from_json(copy, &m, ret_err)
					 : wire_output_from_json(copy, &o, ret_err);
		if (r < 0)
			return r;
		if (!keep_time)
			json_object_del(*rec, "time");
		return 0;
	}
	if (strcmp(type, "status") && strcmp(type, "error")) {
		if (!keep_time)
			json_object_del(*rec, "time");
		return 0;
	}
	if (!(copy = json_copy(*rec)))
		return -ENOMEM;
	json_object_del(copy, "time");
	if (!strcmp(type, "error")) {
		r = log_error_decode(copy, &again, ret_err);
	} else {
		_cleanup_(wire_status_release) struct wire_status s = { 0 };

		r = wire_status_from_json(copy, &s, ret_err);
		if (r >= 0)
			r = wire_status_to_json(&s, &again);
	}
	if (r < 0)
		return r;
	if (keep_time && time && wire_log_stamp(again, time) < 0) {
		json_decref(again);
		return -ENOMEM;
	}
	json_decref(*rec);
	*rec = again;
	return 0;
}

bool wire_status_equal(const struct wire_status *a, const struct wire_status *b)
{
	return wire_str_eq(a->phase, b->phase) && a->probes == b->probes && a->done == b->done &&
	       wire_str_eq(a->object, b->object) && a->cached == b->cached && wire_str_eq(a->node, b->node);
}

bool wire_error_equal(const struct wire_error *a, const struct wire_error *b)
{
	return wire_str_eq(a->message, b->message) && a->warning == b->warning && wire_str_eq(a->node, b->node) &&
	       a->code == b->code && a->dropped == b->dropped;
}
