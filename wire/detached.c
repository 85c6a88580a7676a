// SPDX-License-Identifier: Apache-2.0
/*
 * A runner's detached session (wire/detached.h): one encoder for the
 * runner, one strict decoder for the gateway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "wire/detached.h"
#include "wire/end.h"
#include "wire/fields.h"
#include "wire/session.h"
#include "wire/sessions.h"
#include "lib/banned.h"

void wire_det_session_release(struct wire_det_session *s)
{
	if (!s)
		return;
	free(s->trace);
	free(s->node);
	free(s->ns);
	free(s->user);
	wire_strvn_free(s->groups, s->ngroups);
	free(s->target);
	free(s->program);
	wire_strvn_free(s->pods, s->npods);
	free(s->created);
	free(s->state);
	wire_end_release(s->end);
	free(s->end);
	free(s->audit_id);
	free(s->claimed_by);
	free(s->requester);
	memset(s, 0, sizeof(*s));
}

/* ---- decoding ------------------------------------------------------------- */

static int decode_end(json_t *o, const char *where, struct wire_det_session *s, char **ret_err)
{
	json_t *e = json_object_get(o, "end");
	_cleanup_free_ char *err = NULL;
	int r;

	if (!e)
		return 0;
	if (!(s->end = calloc(1, sizeof(*s->end))))
		return -ENOMEM;
	r = wire_end_from_json(e, s->end, &err);
	if (r < 0)
		return tg_fail(ret_err, r, "%s\"end\": %s", where, err ? err : "out of memory");
	return 0;
}

static int decode_counts(json_t *o, const char *where, struct wire_det_session *s, char **ret_err)
{
	static const char *const counts[] = { "duration", "records", "outputs", "bufferBytes", "bufferDropped" };
	uint64_t *at[] = { &s->duration_s, &s->records, &s->outputs, &s->buffer_bytes, &s->buffer_dropped };
	int r;

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		if (!json_object_get(o, counts[i]))
			return tg_fail(ret_err, -EINVAL, "%s\"%s\": missing", where, counts[i]);
		if ((r = wire_uint_field(o, counts[i], where, i ? (uint64_t)INT64_MAX : SESSION_MAX_DURATION_S, at[i],
					 ret_err)) < 0)
			return r;
	}
	return 0;
}

static int decode_state(json_t *o, const char *where, struct wire_det_session *s, char **ret_err)
{
	int r = wire_str_field(o, "state", where, true, 16, true, &s->state, ret_err);

	if (r < 0)
		return r;
	if (!wire_sessions_state_live(s->state) && strcmp(s->state, "Succeeded") && strcmp(s->state, "Failed"))
		return tg_fail(ret_err, -EINVAL, "%s\"state\": not Pending, Running, Stopping, Succeeded or Failed",
			       where);
	return 0;
}

int wire_det_session_from_json(json_t *o, const char *where, struct wire_det_session *ret, char **ret_err)
{
	static const char *const names[] = { "trace", "node",    "namespace", "user",        "groups",
					     "target", "program", "duration",  "pods",        "created",
					     "state",  "records", "outputs",   "bufferBytes", "bufferDropped",
					     "end",    "auditID", "claimedBy", "requester", NULL };
	_cleanup_(wire_det_session_release) struct wire_det_session s = { 0 };
	int r;

	if (!json_is_object(o))
		return tg_fail(ret_err, -EINVAL, "%sdetached session: not a JSON object", where);
	if ((r = wire_only_members(o, where, names, ret_err)) < 0 ||
	    (r = wire_str_field(o, "trace", where, true, SESSION_MAX_TRACE_ID, true, &s.trace, ret_err)) < 0 ||
	    (r = wire_str_field(o, "node", where, true, SESSION_MAX_NAME, true, &s.node, ret_err)) < 0 ||
	    (r = wire_text_field(o, "namespace", where, 1, SESSION_MAX_OWNER_NS, &s.ns, ret_err)) < 0 ||
	    (r = wire_text_field(o, "user", where, 1, SESSION_MAX_USER, &s.user, ret_err)) < 0 ||
	    (r = wire_strv_field(o, "groups", where, true, SESSION_MAX_GROUPS, SESSION_MAX_USER, false, &s.groups,
				 &s.ngroups, ret_err)) < 0 ||
	    (r = wire_text_field(o, "target", where, 1, SESSION_MAX_TARGET, &s.target, ret_err)) < 0 ||
	    (r = wire_str_field(o, "program", where, true, SESSION_MAX_BODY, false, &s.program, ret_err)) < 0 ||
	    (r = wire_strv_field(o, "pods", where, true, SESSION_MAX_PODS, 2 * SESSION_MAX_NAME + 1, false, &s.pods,
				 &s.npods, ret_err)) < 0 ||
	    (r = wire_text_field(o, "created", where, 1, SESSION_MAX_CREATED, &s.created, ret_err)) < 0 ||
	    (r = decode_state(o, where, &s, ret_err)) < 0 || (r = decode_counts(o, where, &s, ret_err)) < 0 ||
	    (r = decode_end(o, where, &s, ret_err)) < 0 ||
	    (r = wire_str_field(o, "auditID", where, false, SESSION_MAX_AUDIT_ID, true, &s.audit_id, ret_err)) < 0 ||
	    (r = wire_str_field(o, "claimedBy", where, false, WIRE_DET_MAX_CLAIMER, true, &s.claimed_by,
				ret_err)) < 0 ||
	    (json_object_get(o, "requester") &&
	     (r = wire_text_field(o, "requester", where, 1, SESSION_MAX_USER, &s.requester, ret_err)) < 0))
		return r;
	if ((s.audit_id && !*s.audit_id) || (s.claimed_by && !*s.claimed_by))
		return tg_fail(ret_err, -EINVAL, "%s\"%s\": empty", where,
			       s.audit_id && !*s.audit_id ? "auditID" : "claimedBy");
	*ret = s;
	memset(&s, 0, sizeof(s));
	return 0;
}

int wire_det_session_decode(const char *text, size_t len, struct wire_det_session *ret, char **ret_err)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	int r = wire_json_object(text, len, WIRE_DET_MAX_BODY, "detached session", &j, ret_err);

	return r < 0 ? r : wire_det_session_from_json(j, "", ret, ret_err);
}

int wire_det_list_decode(const char *text, size_t len, struct wire_det_session **ret_items, size_t *ret_n,
			 char **ret_err)
{
	static const char *const names[] = { "items", NULL };
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct wire_det_session *items = NULL;
	json_t *a, *o;
	size_t i, n = 0;
	int r = 0;

	if ((r = wire_json_object(text, len, WIRE_DET_MAX_BODY, "detached sessions", &j, ret_err)) < 0)
		return r;
	a = json_object_get(j, "items");
	if ((r = wire_only_members(j, "", names, ret_err)) < 0)
		return r;
	if (!json_is_array(a) || json_array_size(a) > WIRE_DET_MAX_ITEMS)
		return tg_fail(ret_err, -EINVAL, "\"items\": not an array of at most %u sessions", WIRE_DET_MAX_ITEMS);
	if (json_array_size(a) && !(items = calloc(json_array_size(a), sizeof(*items))))
		return -ENOMEM;
	json_array_foreach(a, i, o) {
		char where[32];

		snprintf(where, sizeof(where), "items[%zu].", i);
		if ((r = wire_det_session_from_json(o, where, &items[i], ret_err)) < 0)
			break;
		n++;
	}
	if (r < 0) {
		for (i = 0; i < n; i++)
			wire_det_session_release(&items[i]);
		free(items);
		return r;
	}
	*ret_items = items;
	*ret_n = n;
	return 0;
}

/* ---- encoding ------------------------------------------------------------- */

int wire_det_session_to_json(const struct wire_det_session *s, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL, *end = NULL;
	int r;

	if (!s->trace || !s->node || !s->ns || !s->user || !s->target || !s->program || !s->created || !s->state ||
	    (s->ngroups && !s->groups) || (s->npods && !s->pods))
		return -EINVAL;
	if (s->end && (r = wire_end_to_json(s->end, &end)) < 0)
		return r;
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:o, s:s, s:s, s:I, s:I, s:I, s:I}", "trace",
		      s->trace, "node", s->node, "namespace", s->ns, "user", s->user, "groups",
		      wire_strv_json(s->groups, s->ngroups), "target", s->target, "program", s->program, "duration",
		      (json_int_t)s->duration_s, "pods", wire_strv_json(s->pods, s->npods), "created", s->created,
		      "state", s->state, "records", (json_int_t)s->records, "outputs", (json_int_t)s->outputs,
		      "bufferBytes", (json_int_t)s->buffer_bytes, "bufferDropped", (json_int_t)s->buffer_dropped);
	if (!o || (end && json_object_set(o, "end", end) < 0) ||
	    (s->audit_id && json_object_set_new(o, "auditID", json_string(s->audit_id)) < 0) ||
	    (s->claimed_by && json_object_set_new(o, "claimedBy", json_string(s->claimed_by)) < 0) ||
	    (s->requester && json_object_set_new(o, "requester", json_string(s->requester)) < 0))
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

/* ---- equality ------------------------------------------------------------- */

bool wire_det_session_equal(const struct wire_det_session *a, const struct wire_det_session *b)
{
	return wire_str_eq(a->trace, b->trace) && wire_str_eq(a->node, b->node) && wire_str_eq(a->ns, b->ns) &&
	       wire_str_eq(a->user, b->user) && wire_strv_eq(a->groups, a->ngroups, b->groups, b->ngroups) &&
	       wire_str_eq(a->target, b->target) && wire_str_eq(a->program, b->program) && a->duration_s == b->duration_s &&
	       wire_strv_eq(a->pods, a->npods, b->pods, b->npods) && wire_str_eq(a->created, b->created) &&
	       wire_str_eq(a->state, b->state) && a->records == b->records && a->outputs == b->outputs &&
	       a->buffer_bytes == b->buffer_bytes && a->buffer_dropped == b->buffer_dropped &&
	       !a->end == !b->end && (!a->end || wire_end_equal(a->end, b->end)) &&
	       wire_str_eq(a->audit_id, b->audit_id) && wire_str_eq(a->claimed_by, b->claimed_by) &&
	       wire_str_eq(a->requester, b->requester);
}
