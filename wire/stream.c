// SPDX-License-Identifier: Apache-2.0
/*
 * The gateway's own status records on the client's stream (wire/stream.h):
 * the gateway's one encoder and the plugin's one decoder (strict on the
 * members it knows, blind to the others).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "wire/fields.h"
#include "wire/stream.h"
#include "lib/banned.h"

bool wire_pod_change_phase(const char *phase)
{
	return phase && (!strcmp(phase, "pod-joined") || !strcmp(phase, "pod-left") ||
			 !strcmp(phase, "pod-not-joined"));
}

void wire_accepted_release(struct wire_accepted *a)
{
	if (!a)
		return;
	free(a->trace);
	wire_strvn_free(a->pods, a->npods);
	wire_strvn_free(a->nodes, a->nnodes);
	memset(a, 0, sizeof(*a));
}

void wire_pod_change_release(struct wire_pod_change *c)
{
	if (!c)
		return;
	free(c->phase);
	free(c->trace);
	free(c->pod);
	free(c->node);
	free(c->message);
	memset(c, 0, sizeof(*c));
}

/* ---- decoding ------------------------------------------------------------- */

/* Checks type and phase: the caller picked the decoder by them.  The
 * plugin's reader: members it does not know are skipped (wire/fields.h,
 * "Version skew"). */
static int decode_status(json_t *rec, char **ret_phase, char **ret_err)
{
	json_t *type = json_object_get(rec, "type");

	if (!json_is_object(rec))
		return tg_fail(ret_err, -EINVAL, "record: not a JSON object");
	if (!json_is_string(type) || strcmp(json_string_value(type), "status"))
		return tg_fail(ret_err, -EINVAL, "\"type\": not \"status\"");
	return wire_str_field(rec, "phase", "", true, 32, true, ret_phase, ret_err);
}

int wire_accepted_from_json(json_t *rec, struct wire_accepted *ret, char **ret_err)
{
	_cleanup_(wire_accepted_release) struct wire_accepted a = { 0 };
	_cleanup_free_ char *phase = NULL;
	int r;

	r = decode_status(rec, &phase, ret_err);
	if (r < 0)
		return r;
	if (strcmp(phase, "accepted"))
		return tg_fail(ret_err, -EINVAL, "\"phase\": not \"accepted\"");
	if ((r = wire_str_field(rec, "trace", "", true, WIRE_STREAM_MAX_TRACE, true, &a.trace, ret_err)) < 0 ||
	    (r = wire_strv_field(rec, "pods", "", true, WIRE_STREAM_MAX_PODS, WIRE_STREAM_MAX_POD, false, &a.pods,
				 &a.npods, ret_err)) < 0 ||
	    (r = wire_strv_field(rec, "nodes", "", true, WIRE_STREAM_MAX_NODES, WIRE_STREAM_MAX_NAME, true, &a.nodes,
				 &a.nnodes, ret_err)) < 0)
		return r;
	*ret = a;
	memset(&a, 0, sizeof(a));
	return 0;
}

int wire_pod_change_from_json(json_t *rec, struct wire_pod_change *ret, char **ret_err)
{
	_cleanup_(wire_pod_change_release) struct wire_pod_change c = { 0 };
	int r;

	r = decode_status(rec, &c.phase, ret_err);
	if (r < 0)
		return r;
	if (!wire_pod_change_phase(c.phase))
		return tg_fail(ret_err, -EINVAL, "\"phase\": not \"pod-joined\", \"pod-left\" or \"pod-not-joined\"");
	if ((r = wire_str_field(rec, "trace", "", true, WIRE_STREAM_MAX_TRACE, true, &c.trace, ret_err)) < 0 ||
	    (r = wire_text_field(rec, "pod", "", 1, WIRE_STREAM_MAX_POD, &c.pod, ret_err)) < 0 ||
	    (r = wire_str_field(rec, "node", "", false, WIRE_STREAM_MAX_NAME, true, &c.node, ret_err)) < 0 ||
	    (r = wire_str_field(rec, "message", "", false, WIRE_STREAM_MAX_MESSAGE, false, &c.message,
				ret_err)) < 0)
		return r;
	*ret = c;
	memset(&c, 0, sizeof(c));
	return 0;
}

/* ---- encoding ------------------------------------------------------------- */

int wire_accepted_to_json(const struct wire_accepted *a, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL;

	if (!a->trace || !*a->trace || strlen(a->trace) > WIRE_STREAM_MAX_TRACE ||
	    !wire_name_text(a->trace, strlen(a->trace)) || a->npods > WIRE_STREAM_MAX_PODS ||
	    !wire_strv_ok(a->pods, a->npods, WIRE_STREAM_MAX_PODS, WIRE_STREAM_MAX_POD, false) ||
	    !wire_strv_ok(a->nodes, a->nnodes, WIRE_STREAM_MAX_NODES, WIRE_STREAM_MAX_NAME, true))
		return -EINVAL;
	o = json_pack("{s:s, s:s, s:s, s:o, s:o}", "type", "status", "phase", "accepted", "trace", a->trace,
		      "pods", wire_strv_json(a->pods, a->npods), "nodes", wire_strv_json(a->nodes, a->nnodes));
	if (!o)
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

int wire_pod_change_to_json(const struct wire_pod_change *c, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL;

	if (!wire_pod_change_phase(c->phase) || !c->trace || !*c->trace ||
	    strlen(c->trace) > WIRE_STREAM_MAX_TRACE || !wire_name_text(c->trace, strlen(c->trace)) ||
	    !c->pod || !wire_strv_ok(&c->pod, 1, 1, WIRE_STREAM_MAX_POD, false) ||
	    (c->node && (strlen(c->node) > WIRE_STREAM_MAX_NAME || !wire_name_text(c->node, strlen(c->node)))) ||
	    (c->message && strlen(c->message) > WIRE_STREAM_MAX_MESSAGE))
		return -EINVAL;
	o = json_pack("{s:s, s:s, s:s, s:s}", "type", "status", "phase", c->phase, "trace", c->trace, "pod",
		      c->pod);
	if (!o || (c->node && json_object_set_new(o, "node", json_string(c->node)) < 0) ||
	    (c->message && json_object_set_new(o, "message", json_string(c->message)) < 0))
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

bool wire_accepted_equal(const struct wire_accepted *a, const struct wire_accepted *b)
{
	return wire_str_eq(a->trace, b->trace) && wire_strv_eq(a->pods, a->npods, b->pods, b->npods) &&
	       wire_strv_eq(a->nodes, a->nnodes, b->nodes, b->nnodes);
}

bool wire_pod_change_equal(const struct wire_pod_change *a, const struct wire_pod_change *b)
{
	return wire_str_eq(a->phase, b->phase) && wire_str_eq(a->trace, b->trace) && wire_str_eq(a->pod, b->pod) &&
	       wire_str_eq(a->node, b->node) && wire_str_eq(a->message, b->message);
}
