// SPDX-License-Identifier: Apache-2.0
/*
 * Trace and TraceList (wire/traces.h): the gateway's one encoder and the
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
#include "wire/traces.h"
#include "lib/banned.h"

#define API_VERSION "tracegate.dev/v1alpha1"
#define USER_ANNOTATION "tracegate.dev/user"

void wire_left_out_free(struct wire_left_out *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].pod);
		free(p[i].node);
		free(p[i].message);
	}
	free(p);
}

void wire_trace_release(struct wire_trace *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->namespace);
	free(t->created);
	free(t->user);
	free(t->target);
	free(t->program);
	free(t->phase);
	wire_strvn_free(t->nodes, t->nnodes);
	wire_strvn_free(t->pods, t->npods);
	for (size_t i = 0; i < t->nstates; i++) {
		free(t->states[i].node);
		free(t->states[i].state);
	}
	free(t->states);
	free(t->end_reason);
	wire_strvn_free(t->failed_nodes, t->nfailed_nodes);
	free(t->message);
	wire_left_out_free(t->left_out, t->nleft_out);
	memset(t, 0, sizeof(*t));
}

void wire_trace_list_release(struct wire_trace_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nitems; i++)
		wire_trace_release(&l->items[i]);
	free(l->items);
	free(l->incomplete);
	memset(l, 0, sizeof(*l));
}

/* ---- what may be in a member --------------------------------------------- */

enum text_kind {
	T_NAME,         /* wire_name_text: no '/', space, quote */
	T_TEXT,         /* wire_printable_text: no control character */
	T_ANY,          /* any text without NUL (a program, a message: cleaned where printed) */
};

static bool text_ok(const char *s, size_t max, enum text_kind k)
{
	size_t n = strlen(s);

	if (n > max)
		return false;
	return k == T_ANY || (k == T_NAME ? wire_name_text(s, n) : wire_printable_text(s, n));
}

static bool opt_ok(const char *s, size_t max, enum text_kind k)
{
	return !s || text_ok(s, max, k);
}

/* ---- decoding ------------------------------------------------------------- */

/* An optional string member: absent or null is NULL. */
static int text_field(json_t *o, const char *key, const char *where, size_t max, enum text_kind k, char **ret,
		      char **ret_err)
{
	json_t *v = json_object_get(o, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	    !text_ok(json_string_value(v), max, k))
		return tg_fail(ret_err, -EINVAL, "%s\"%s\": not a string of at most %zu %s", where, key, max,
			       k == T_NAME ? "name characters" : k == T_TEXT ? "printable characters" : "bytes");
	*ret = strdup(json_string_value(v));
	return *ret ? 0 : -ENOMEM;
}

/* An optional object member: *ret NULL when absent. */
static int object_field(json_t *o, const char *key, const char *where, json_t **ret, char **ret_err)
{
	json_t *v = json_object_get(o, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return tg_fail(ret_err, -EINVAL, "%s\"%s\": not an object", where, key);
	*ret = v;
	return 0;
}

static int decode_states(json_t *status, struct wire_trace *t, char **ret_err)
{
	json_t *o, *v;
	const char *node;
	int r;

	if ((r = object_field(status, "nodeStates", "status.", &o, ret_err)) < 0 || !o)
		return r;
	if (json_object_size(o) > WIRE_TRACES_MAX_NODES)
		return tg_fail(ret_err, -EINVAL, "status.\"nodeStates\": more than %u nodes", WIRE_TRACES_MAX_NODES);
	t->states = calloc(json_object_size(o) + 1, sizeof(*t->states));
	if (!t->states)
		return -ENOMEM;
	json_object_foreach(o, node, v) {
		struct wire_node_state *s = &t->states[t->nstates];

		if (!*node || !text_ok(node, WIRE_TRACES_MAX_NAME, T_NAME))
			return tg_fail(ret_err, -EINVAL, "status.\"nodeStates\": a key that is not a node name");
		if (!json_is_string(v) || !json_string_length(v) ||
		    strlen(json_string_value(v)) != json_string_length(v) ||
		    !text_ok(json_string_value(v), WIRE_TRACES_MAX_WORD, T_NAME))
			return tg_fail(ret_err, -EINVAL, "status.\"nodeStates\".\"%.64s\": not a state", node);
		if (!(s->node = strdup(node)) || !(s->state = strdup(json_string_value(v)))) {
			free(s->node);
			s->node = NULL;
			return -ENOMEM;
		}
		t->nstates++;
	}
	return 0;
}

/* o.podsLeftOut (where: o's path, "" or "status."); on failure *ret and
 * *ret_n hold what was read (the caller's release frees it). */
static int decode_left_out(json_t *o, const char *where_o, struct wire_left_out **ret, size_t *ret_n,
			   char **ret_err)
{
	json_t *a = json_object_get(o, "podsLeftOut"), *v;
	size_t i;
	int r;

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > WIRE_TRACES_MAX_PODS)
		return tg_fail(ret_err, -EINVAL, "%s\"podsLeftOut\": not an array of at most %u pods", where_o,
			       WIRE_TRACES_MAX_PODS);
	if (!(*ret = calloc(json_array_size(a) + 1, sizeof(**ret))))
		return -ENOMEM;
	json_array_foreach(a, i, v) {
		struct wire_left_out *p = &(*ret)[i];
		char where[48];

		snprintf(where, sizeof(where), "%spodsLeftOut[%zu].", where_o, i);
		if (!json_is_object(v))
			return tg_fail(ret_err, -EINVAL, "%.40s: not an object", where);
		(*ret_n)++;
		if ((r = wire_text_field(v, "pod", where, 1, WIRE_TRACES_MAX_POD, &p->pod, ret_err)) < 0 ||
		    (r = wire_str_field(v, "node", where, true, WIRE_TRACES_MAX_NAME, true, &p->node, ret_err)) < 0 ||
		    (r = text_field(v, "message", where, WIRE_TRACES_MAX_MESSAGE, T_TEXT, &p->message, ret_err)) < 0)
			return r;
	}
	return 0;
}

static int decode_uints(json_t *status, struct wire_trace *t, char **ret_err)
{
	int r;

	if ((r = wire_uint_field(status, "events", "status.", INT64_MAX, &t->events, ret_err)) < 0 ||
	    (r = wire_uint_field(status, "drops", "status.", INT64_MAX, &t->drops, ret_err)) < 0 ||
	    (r = wire_uint_field(status, "outputs", "status.", INT64_MAX, &t->outputs, ret_err)) < 0 ||
	    (r = wire_uint_field(status, "bufferDropped", "status.", INT64_MAX, &t->buffer_dropped, ret_err)) < 0)
		return r;
	return 0;
}

static int decode_status(json_t *o, struct wire_trace *t, char **ret_err)
{
	json_t *st;
	int r;

	if ((r = object_field(o, "status", "", &st, ret_err)) < 0 || !st)
		return r;
	if ((r = text_field(st, "phase", "status.", WIRE_TRACES_MAX_WORD, T_NAME, &t->phase, ret_err)) < 0 ||
	    (r = wire_strv_field(st, "nodes", "status.", false, WIRE_TRACES_MAX_NODES, WIRE_TRACES_MAX_NAME, true,
				 &t->nodes, &t->nnodes, ret_err)) < 0 ||
	    (r = wire_strv_field(st, "pods", "status.", false, WIRE_TRACES_MAX_PODS, WIRE_TRACES_MAX_POD, false,
				 &t->pods, &t->npods, ret_err)) < 0 ||
	    (r = decode_states(st, t, ret_err)) < 0 || (r = decode_uints(st, t, ret_err)) < 0 ||
	    (r = text_field(st, "endReason", "status.", WIRE_TRACES_MAX_WORD, T_NAME, &t->end_reason, ret_err)) < 0 ||
	    (r = wire_strv_field(st, "failedNodes", "status.", false, WIRE_TRACES_MAX_NODES, WIRE_TRACES_MAX_NAME,
				 true, &t->failed_nodes, &t->nfailed_nodes, ret_err)) < 0 ||
	    (r = text_field(st, "message", "status.", WIRE_TRACES_MAX_MESSAGE, T_ANY, &t->message, ret_err)) < 0)
		return r;
	return decode_left_out(st, "status.", &t->left_out, &t->nleft_out, ret_err);
}

static int decode_meta_spec(json_t *o, struct wire_trace *t, char **ret_err)
{
	json_t *md, *ann, *spec;
	_cleanup_free_ char *ann_user = NULL;
	int r;

	if ((r = object_field(o, "metadata", "", &md, ret_err)) < 0)
		return r;
	if (!md)
		return tg_fail(ret_err, -EINVAL, "\"metadata\": missing");
	if ((r = wire_str_field(md, "name", "metadata.", true, WIRE_TRACES_MAX_ID, true, &t->name, ret_err)) < 0 ||
	    (r = text_field(md, "namespace", "metadata.", WIRE_TRACES_MAX_NAME, T_NAME, &t->namespace, ret_err)) < 0 ||
	    (r = text_field(md, "creationTimestamp", "metadata.", WIRE_TRACES_MAX_TIME, T_NAME, &t->created,
			    ret_err)) < 0 ||
	    (r = object_field(md, "annotations", "metadata.", &ann, ret_err)) < 0 ||
	    (ann && (r = text_field(ann, USER_ANNOTATION, "metadata.annotations.", WIRE_TRACES_MAX_USER, T_TEXT,
				    &ann_user, ret_err)) < 0) ||
	    (r = object_field(o, "spec", "", &spec, ret_err)) < 0)
		return r;
	if (spec && ((r = text_field(spec, "target", "spec.", WIRE_TRACES_MAX_TARGET, T_TEXT, &t->target, ret_err)) < 0 ||
		     (r = text_field(spec, "program", "spec.", WIRE_TRACES_MAX_PROGRAM, T_ANY, &t->program, ret_err)) < 0 ||
		     (r = wire_uint_field(spec, "duration", "spec.", INT64_MAX, &t->duration, ret_err)) < 0 ||
		     (r = text_field(spec, "user", "spec.", WIRE_TRACES_MAX_USER, T_TEXT, &t->user, ret_err)) < 0))
		return r;
	/* the same user twice (kubectl's columns read the annotation) */
	if (ann_user && t->user && strcmp(ann_user, t->user))
		return tg_fail(ret_err, -EINVAL, "metadata.annotations.\"" USER_ANNOTATION "\": not spec.user");
	if (!t->user)
		t->user = TAKE_PTR(ann_user);
	return 0;
}

static int kind_is(json_t *o, const char *kind, char **ret_err)
{
	const char *k = json_string_value(json_object_get(o, "kind"));

	if (!json_is_object(o))
		return tg_fail(ret_err, -EINVAL, "%s: not a JSON object", kind);
	if (!k || strcmp(k, kind))
		return tg_fail(ret_err, -EINVAL, "\"kind\": not \"%s\"", kind);
	return 0;
}

static int trace_decode(json_t *o, struct wire_trace *ret, char **ret_err)
{
	_cleanup_(wire_trace_release) struct wire_trace t = { 0 };
	int r;

	if ((r = kind_is(o, "Trace", ret_err)) < 0 || (r = decode_meta_spec(o, &t, ret_err)) < 0 ||
	    (r = decode_status(o, &t, ret_err)) < 0)
		return r;
	*ret = t;
	memset(&t, 0, sizeof(t));
	return 0;
}

int wire_trace_from_gateway(json_t *o, struct wire_trace *ret, char **ret_err)
{
	return trace_decode(o, ret, ret_err);
}

int wire_trace_list_from_gateway(json_t *o, struct wire_trace_list *ret, char **ret_err)
{
	_cleanup_(wire_trace_list_release) struct wire_trace_list l = { 0 };
	json_t *items = json_object_get(o, "items"), *it;
	size_t i;
	int r;

	if ((r = kind_is(o, "TraceList", ret_err)) < 0)
		return r;
	if (!json_is_array(items) || json_array_size(items) > WIRE_TRACES_MAX_ITEMS)
		return tg_fail(ret_err, -EINVAL, "\"items\": not an array of at most %u traces", WIRE_TRACES_MAX_ITEMS);
	if (!(l.items = calloc(json_array_size(items) + 1, sizeof(*l.items))))
		return -ENOMEM;
	json_array_foreach(items, i, it) {
		_cleanup_free_ char *err = NULL;

		if ((r = trace_decode(it, &l.items[i], ret_err ? &err : NULL)) < 0)
			return r == -EINVAL ? tg_fail(ret_err, r, "items[%zu]: %s", i, err) : r;
		l.nitems++;
	}
	if ((r = text_field(o, "incomplete", "", WIRE_TRACES_MAX_MESSAGE, T_ANY, &l.incomplete, ret_err)) < 0)
		return r;
	*ret = l;
	memset(&l, 0, sizeof(l));
	return 0;
}

/* ---- encoding ------------------------------------------------------------- */

static bool left_out_ok(const struct wire_left_out *left_out, size_t n)
{
	if (n > WIRE_TRACES_MAX_PODS)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct wire_left_out *p = &left_out[i];

		if (!p->pod || !*p->pod || !text_ok(p->pod, WIRE_TRACES_MAX_POD, T_TEXT) || !p->node || !*p->node ||
		    !text_ok(p->node, WIRE_TRACES_MAX_NAME, T_NAME) || !opt_ok(p->message, WIRE_TRACES_MAX_MESSAGE, T_TEXT))
			return false;
	}
	return true;
}

static bool trace_ok(const struct wire_trace *t)
{
	if (!t->name || !*t->name || !text_ok(t->name, WIRE_TRACES_MAX_ID, T_NAME) ||
	    !opt_ok(t->namespace, WIRE_TRACES_MAX_NAME, T_NAME) || !opt_ok(t->created, WIRE_TRACES_MAX_TIME, T_NAME) ||
	    !opt_ok(t->user, WIRE_TRACES_MAX_USER, T_TEXT) || !opt_ok(t->target, WIRE_TRACES_MAX_TARGET, T_TEXT) ||
	    !opt_ok(t->program, WIRE_TRACES_MAX_PROGRAM, T_ANY) || !opt_ok(t->phase, WIRE_TRACES_MAX_WORD, T_NAME) ||
	    !opt_ok(t->end_reason, WIRE_TRACES_MAX_WORD, T_NAME) ||
	    !opt_ok(t->message, WIRE_TRACES_MAX_MESSAGE, T_ANY) ||
	    !wire_strv_ok(t->nodes, t->nnodes, WIRE_TRACES_MAX_NODES, WIRE_TRACES_MAX_NAME, true) ||
	    !wire_strv_ok(t->pods, t->npods, WIRE_TRACES_MAX_PODS, WIRE_TRACES_MAX_POD, false) ||
	    !wire_strv_ok(t->failed_nodes, t->nfailed_nodes, WIRE_TRACES_MAX_NODES, WIRE_TRACES_MAX_NAME, true) ||
	    t->nstates > WIRE_TRACES_MAX_NODES || t->nleft_out > WIRE_TRACES_MAX_PODS ||
	    (t->events | t->drops | t->outputs | t->buffer_dropped | t->duration) > INT64_MAX)
		return false;
	for (size_t i = 0; i < t->nstates; i++) {
		const struct wire_node_state *s = &t->states[i];

		if (!s->node || !*s->node || !text_ok(s->node, WIRE_TRACES_MAX_NAME, T_NAME) || !s->state ||
		    !*s->state || !text_ok(s->state, WIRE_TRACES_MAX_WORD, T_NAME))
			return false;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(t->states[k].node, s->node))
				return false;
	}
	return left_out_ok(t->left_out, t->nleft_out);
}

static int set_uint(json_t *o, const char *key, uint64_t v)
{
	return json_object_set_new(o, key, json_integer((json_int_t)v)) == 0 ? 0 : -ENOMEM;
}

static json_t *states_json(const struct wire_trace *t)
{
	_cleanup_(json_decrefp) json_t *o = json_object();

	for (size_t i = 0; o && i < t->nstates; i++)
		if (json_object_set_new(o, t->states[i].node, json_string(t->states[i].state)) < 0)
			return NULL;
	return TAKE_PTR(o);
}

json_t *wire_left_out_to_json(const struct wire_left_out *left_out, size_t n)
{
	_cleanup_(json_decrefp) json_t *a = NULL;

	if (!left_out_ok(left_out, n) || !(a = json_array()))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct wire_left_out *p = &left_out[i];
		json_t *o = json_pack("{s:s, s:s}", "pod", p->pod, "node", p->node);

		if (!o || wire_set_str(o, "message", p->message) < 0 || json_array_append_new(a, o) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}

static int status_json(const struct wire_trace *t, json_t *st)
{
	if (wire_set_str(st, "phase", t->phase) < 0 ||
	    json_object_set_new(st, "nodes", wire_strv_json(t->nodes, t->nnodes)) < 0 ||
	    json_object_set_new(st, "pods", wire_strv_json(t->pods, t->npods)) < 0 ||
	    json_object_set_new(st, "nodeStates", states_json(t)) < 0 || set_uint(st, "events", t->events) < 0 ||
	    set_uint(st, "drops", t->drops) < 0 || set_uint(st, "outputs", t->outputs) < 0 ||
	    set_uint(st, "bufferDropped", t->buffer_dropped) < 0 || wire_set_str(st, "endReason", t->end_reason) < 0 ||
	    (t->nfailed_nodes &&
	     json_object_set_new(st, "failedNodes", wire_strv_json(t->failed_nodes, t->nfailed_nodes)) < 0) ||
	    wire_set_str(st, "message", t->message) < 0 ||
	    (t->nleft_out && json_object_set_new(st, "podsLeftOut", wire_left_out_to_json(t->left_out, t->nleft_out)) < 0))
		return -ENOMEM;
	return 0;
}

int wire_trace_to_json(const struct wire_trace *t, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	json_t *md, *spec, *st;

	if (!trace_ok(t))
		return -EINVAL;
	o = json_pack("{s:s, s:s, s:{s:{}}, s:{}, s:{}}", "apiVersion", API_VERSION, "kind", "Trace", "metadata",
		      "annotations", "spec", "status");
	if (!o)
		return -ENOMEM;
	md = json_object_get(o, "metadata");
	spec = json_object_get(o, "spec");
	st = json_object_get(o, "status");
	if (wire_set_str(md, "name", t->name) < 0 || wire_set_str(md, "namespace", t->namespace) < 0 ||
	    wire_set_str(md, "creationTimestamp", t->created) < 0 ||
	    wire_set_str(json_object_get(md, "annotations"), USER_ANNOTATION, t->user) < 0 ||
	    wire_set_str(spec, "target", t->target) < 0 || wire_set_str(spec, "program", t->program) < 0 ||
	    set_uint(spec, "duration", t->duration) < 0 || wire_set_str(spec, "user", t->user) < 0 ||
	    status_json(t, st) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

int wire_trace_list_to_json(const struct wire_trace_list *l, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL, *items = json_array();
	int r;

	if (!items)
		return -ENOMEM;
	if (l->nitems > WIRE_TRACES_MAX_ITEMS)
		return -EINVAL;
	for (size_t i = 0; i < l->nitems; i++) {
		json_t *t;

		if ((r = wire_trace_to_json(&l->items[i], &t)) < 0)
			return r;
		if (json_array_append_new(items, t) < 0)
			return -ENOMEM;
	}
	if (!opt_ok(l->incomplete, WIRE_TRACES_MAX_MESSAGE, T_ANY))
		return -EINVAL;
	o = json_pack("{s:s, s:s, s:{}, s:O}", "apiVersion", API_VERSION, "kind", "TraceList", "metadata", "items",
		      items);
	if (!o || wire_set_str(o, "incomplete", l->incomplete) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

/* ---- equality ------------------------------------------------------------- */

static bool left_out_eq(const struct wire_left_out *a, const struct wire_left_out *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!wire_str_eq(a[i].pod, b[i].pod) || !wire_str_eq(a[i].node, b[i].node) ||
		    !wire_str_eq(a[i].message, b[i].message))
			return false;
	return true;
}

bool wire_trace_equal(const struct wire_trace *a, const struct wire_trace *b)
{
	if (!wire_str_eq(a->name, b->name) || !wire_str_eq(a->namespace, b->namespace) ||
	    !wire_str_eq(a->created, b->created) || !wire_str_eq(a->user, b->user) ||
	    !wire_str_eq(a->target, b->target) || !wire_str_eq(a->program, b->program) || a->duration != b->duration ||
	    !wire_str_eq(a->phase, b->phase) || !wire_strv_eq(a->nodes, a->nnodes, b->nodes, b->nnodes) ||
	    !wire_strv_eq(a->pods, a->npods, b->pods, b->npods) || a->nstates != b->nstates ||
	    a->events != b->events || a->drops != b->drops || a->outputs != b->outputs ||
	    a->buffer_dropped != b->buffer_dropped || !wire_str_eq(a->end_reason, b->end_reason) ||
	    !wire_strv_eq(a->failed_nodes, a->nfailed_nodes, b->failed_nodes, b->nfailed_nodes) ||
	    !wire_str_eq(a->message, b->message) || a->nleft_out != b->nleft_out)
		return false;
	for (size_t i = 0; i < a->nstates; i++)
		if (!wire_str_eq(a->states[i].node, b->states[i].node) ||
		    !wire_str_eq(a->states[i].state, b->states[i].state))
			return false;
	return left_out_eq(a->left_out, b->left_out, a->nleft_out);
}

bool wire_trace_list_equal(const struct wire_trace_list *a, const struct wire_trace_list *b)
{
	if (a->nitems != b->nitems || !wire_str_eq(a->incomplete, b->incomplete))
		return false;
	for (size_t i = 0; i < a->nitems; i++)
		if (!wire_trace_equal(&a->items[i], &b->items[i]))
			return false;
	return true;
}

/* ---- a dry run's answer: a Trace of phase "Checked" --------------------- */

#define CHECKED_MAX_OBJECT 128   /* an object's digest (hex) */

void wire_checked_release(struct wire_checked *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->namespace);
	free(c->target);
	free(c->message);
	free(c->policy);
	wire_strvn_free(c->pods, c->npods);
	wire_strvn_free(c->nodes, c->nnodes);
	for (size_t i = 0; i < c->ncompiled; i++) {
		free(c->compiled[i].node);
		free(c->compiled[i].object);
	}
	free(c->compiled);
	wire_left_out_free(c->left_out, c->nleft_out);
	memset(c, 0, sizeof(*c));
}

json_t *wire_limits_to_json(const struct wire_limits *l)
{
	if (l->max_duration > INT64_MAX || l->max_map_entries > INT64_MAX || l->max_map_bytes > INT64_MAX ||
	    l->events_per_second > INT64_MAX || l->max_traces_per_user > INT64_MAX ||
	    l->max_traces_per_namespace > INT64_MAX || l->max_output_bytes > INT64_MAX || !(l->cpu_budget >= 0))
		return NULL;
	return json_pack("{s:I, s:I, s:I, s:I, s:{s:I, s:I}, s:f, s:I}", "maxDuration", (json_int_t)l->max_duration,
			 "maxMapEntries", (json_int_t)l->max_map_entries, "maxMapBytes", (json_int_t)l->max_map_bytes,
			 "eventsPerSecond", (json_int_t)l->events_per_second, "maxConcurrentTraces", "perUser",
			 (json_int_t)l->max_traces_per_user, "perNamespace", (json_int_t)l->max_traces_per_namespace,
			 "cpuBudget", l->cpu_budget, "maxOutputBytes", (json_int_t)l->max_output_bytes);
}

static bool compiled_ok(const struct wire_checked *c)
{
	if (c->ncompiled > WIRE_TRACES_MAX_NODES)
		return false;
	for (size_t i = 0; i < c->ncompiled; i++) {
		const struct wire_checked_node *n = &c->compiled[i];

		if (!n->node || !*n->node || !text_ok(n->node, WIRE_TRACES_MAX_NAME, T_NAME) ||
		    !opt_ok(n->object, CHECKED_MAX_OBJECT, T_NAME) ||
		    n->probes > INT64_MAX)
			return false;
	}
	return true;
}

static bool checked_ok(const struct wire_checked *c)
{
	return c->name && *c->name && text_ok(c->name, WIRE_TRACES_MAX_ID, T_NAME) &&
	       opt_ok(c->namespace, WIRE_TRACES_MAX_NAME, T_NAME) && opt_ok(c->target, WIRE_TRACES_MAX_TARGET, T_TEXT) &&
	       opt_ok(c->message, WIRE_TRACES_MAX_MESSAGE, T_ANY) && opt_ok(c->policy, WIRE_TRACES_MAX_NAME, T_TEXT) &&
	       c->duration <= INT64_MAX &&
	       wire_strv_ok(c->pods, c->npods, WIRE_TRACES_MAX_PODS, WIRE_TRACES_MAX_POD, false) &&
	       wire_strv_ok(c->nodes, c->nnodes, WIRE_TRACES_MAX_NODES, WIRE_TRACES_MAX_NAME, true) &&
	       compiled_ok(c) && left_out_ok(c->left_out, c->nleft_out);
}

static json_t *compiled_json(const struct wire_checked *c)
{
	_cleanup_(json_decrefp) json_t *a = json_array();

	for (size_t i = 0; a && i < c->ncompiled; i++) {
		const struct wire_checked_node *n = &c->compiled[i];
		json_t *o = json_pack("{s:s, s:o, s:o, s:b}", "node", n->node, "probes",
				      n->has_probes ? json_integer((json_int_t)n->probes) : json_null(), "object",
				      n->object ? json_string(n->object) : json_null(), "fromCache", n->from_cache);

		if (!o || json_array_append_new(a, o) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}

int wire_checked_to_json(const struct wire_checked *c, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	json_t *md, *spec, *st;

	if (!checked_ok(c))
		return -EINVAL;
	o = json_pack("{s:s, s:s, s:{}, s:{}, s:{s:s}}", "apiVersion", API_VERSION, "kind", "Trace", "metadata",
		      "spec", "status", "phase", "Checked");
	if (!o)
		return -ENOMEM;
	md = json_object_get(o, "metadata");
	spec = json_object_get(o, "spec");
	st = json_object_get(o, "status");
	/* the decision twice: in status, and at the top where check reads it */
	if (wire_set_str(md, "namespace", c->namespace) < 0 || wire_set_str(md, "name", c->name) < 0 ||
	    wire_set_str(spec, "target", c->target) < 0 || set_uint(spec, "duration", c->duration) < 0 ||
	    json_object_set_new(st, "pods", wire_strv_json(c->pods, c->npods)) < 0 ||
	    json_object_set_new(st, "nodes", wire_strv_json(c->nodes, c->nnodes)) < 0 ||
	    wire_set_str(st, "policy", c->policy) < 0 || wire_set_str(o, "message", c->message) < 0 ||
	    wire_set_str(o, "policy", c->policy) < 0 || json_object_set_new(o, "pods", wire_strv_json(c->pods, c->npods)) < 0 ||
	    json_object_set_new(o, "nodes", wire_strv_json(c->nodes, c->nnodes)) < 0 ||
	    json_object_set_new(o, "limits", wire_limits_to_json(&c->limits)) < 0 ||
	    json_object_set_new(o, "compiled", compiled_json(c)) < 0 ||
	    (c->nleft_out && json_object_set_new(o, "podsLeftOut", wire_left_out_to_json(c->left_out, c->nleft_out)) < 0))
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

static int decode_limits(json_t *o, struct wire_limits *l, char **ret_err)
{
	json_t *lim, *conc, *cpu;
	int r;

	if ((r = object_field(o, "limits", "", &lim, ret_err)) < 0 || !lim)
		return r;
	if ((r = wire_uint_field(lim, "maxDuration", "limits.", INT64_MAX, &l->max_duration, ret_err)) < 0 ||
	    (r = wire_uint_field(lim, "maxMapEntries", "limits.", INT64_MAX, &l->max_map_entries, ret_err)) < 0 ||
	    (r = wire_uint_field(lim, "maxMapBytes", "limits.", INT64_MAX, &l->max_map_bytes, ret_err)) < 0 ||
	    (r = wire_uint_field(lim, "eventsPerSecond", "limits.", INT64_MAX, &l->events_per_second, ret_err)) < 0 ||
	    (r = wire_uint_field(lim, "maxOutputBytes", "limits.", INT64_MAX, &l->max_output_bytes, ret_err)) < 0 ||
	    (r = object_field(lim, "maxConcurrentTraces", "limits.", &conc, ret_err)) < 0)
		return r;
	if (conc && ((r = wire_uint_field(conc, "perUser", "limits.maxConcurrentTraces.", INT64_MAX,
					  &l->max_traces_per_user, ret_err)) < 0 ||
		     (r = wire_uint_field(conc, "perNamespace", "limits.maxConcurrentTraces.", INT64_MAX,
					  &l->max_traces_per_namespace, ret_err)) < 0))
		return r;
	cpu = json_object_get(lim, "cpuBudget");
	if (cpu && !json_is_null(cpu)) {
		if (!json_is_number(cpu) || !(json_number_value(cpu) >= 0))
			return tg_fail(ret_err, -EINVAL, "limits.\"cpuBudget\": not a number of at least 0");
		l->cpu_budget = json_number_value(cpu);
	}
	return 0;
}

static int decode_compiled_one(json_t *v, const char *where, struct wire_checked_node *n, char **ret_err)
{
	json_t *p = json_object_get(v, "probes"), *fc = json_object_get(v, "fromCache");
	int r;

	if ((r = wire_str_field(v, "node", where, true, WIRE_TRACES_MAX_NAME, true, &n->node, ret_err)) < 0 ||
	    (r = text_field(v, "object", where, CHECKED_MAX_OBJECT, T_NAME, &n->object, ret_err)) < 0)
		return r;
	if (p && !json_is_null(p)) {
		if ((r = wire_uint_field(v, "probes", where, INT64_MAX, &n->probes, ret_err)) < 0)
			return r;
		n->has_probes = true;
	}
	if (fc && !json_is_null(fc) && !json_is_boolean(fc))
		return tg_fail(ret_err, -EINVAL, "%s\"fromCache\": not a boolean", where);
	n->from_cache = json_is_true(fc);
	return 0;
}

static int decode_compiled(json_t *o, struct wire_checked *c, char **ret_err)
{
	json_t *a = json_object_get(o, "compiled"), *v;
	size_t i;
	int r;

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > WIRE_TRACES_MAX_NODES)
		return tg_fail(ret_err, -EINVAL, "\"compiled\": not an array of at most %u nodes", WIRE_TRACES_MAX_NODES);
	if (!(c->compiled = calloc(json_array_size(a) + 1, sizeof(*c->compiled))))
		return -ENOMEM;
	json_array_foreach(a, i, v) {
		char where[40];

		snprintf(where, sizeof(where), "compiled[%zu].", i);
		if (!json_is_object(v))
			return tg_fail(ret_err, -EINVAL, "%.32s: not an object", where);
		c->ncompiled++;
		if ((r = decode_compiled_one(v, where, &c->compiled[i], ret_err)) < 0)
			return r;
	}
	return 0;
}

int wire_checked_from_gateway(json_t *o, struct wire_checked *ret, char **ret_err)
{
	_cleanup_(wire_checked_release) struct wire_checked c = { 0 };
	json_t *md, *spec;
	int r;

	if ((r = kind_is(o, "Trace", ret_err)) < 0 || (r = object_field(o, "metadata", "", &md, ret_err)) < 0 ||
	    (r = object_field(o, "spec", "", &spec, ret_err)) < 0)
		return r;
	if (!md)
		return tg_fail(ret_err, -EINVAL, "\"metadata\": missing");
	if ((r = wire_str_field(md, "name", "metadata.", true, WIRE_TRACES_MAX_ID, true, &c.name, ret_err)) < 0 ||
	    (r = text_field(md, "namespace", "metadata.", WIRE_TRACES_MAX_NAME, T_NAME, &c.namespace, ret_err)) < 0 ||
	    (spec && (r = text_field(spec, "target", "spec.", WIRE_TRACES_MAX_TARGET, T_TEXT, &c.target, ret_err)) < 0) ||
	    (spec && (r = wire_uint_field(spec, "duration", "spec.", INT64_MAX, &c.duration, ret_err)) < 0) ||
	    (r = text_field(o, "message", "", WIRE_TRACES_MAX_MESSAGE, T_ANY, &c.message, ret_err)) < 0 ||
	    (r = text_field(o, "policy", "", WIRE_TRACES_MAX_NAME, T_TEXT, &c.policy, ret_err)) < 0 ||
	    (r = wire_strv_field(o, "pods", "", false, WIRE_TRACES_MAX_PODS, WIRE_TRACES_MAX_POD, false, &c.pods,
				 &c.npods, ret_err)) < 0 ||
	    (r = wire_strv_field(o, "nodes", "", false, WIRE_TRACES_MAX_NODES, WIRE_TRACES_MAX_NAME, true, &c.nodes,
				 &c.nnodes, ret_err)) < 0 ||
	    (r = decode_limits(o, &c.limits, ret_err)) < 0 || (r = decode_compiled(o, &c, ret_err)) < 0 ||
	    (r = decode_left_out(o, "", &c.left_out, &c.nleft_out, ret_err)) < 0)
		return r;
	*ret = c;
	memset(&c, 0, sizeof(c));
	return 0;
}

bool wire_checked_equal(const struct wire_checked *a, const struct wire_checked *b)
{
	if (!wire_str_eq(a->name, b->name) || !wire_str_eq(a->namespace, b->namespace) ||
	    !wire_str_eq(a->target, b->target) || a->duration != b->duration || !wire_str_eq(a->message, b->message) ||
	    !wire_str_eq(a->policy, b->policy) || !wire_strv_eq(a->pods, a->npods, b->pods, b->npods) ||
	    !wire_strv_eq(a->nodes, a->nnodes, b->nodes, b->nnodes) ||
	    memcmp(&a->limits, &b->limits, sizeof(a->limits)) != 0 || a->ncompiled != b->ncompiled ||
	    a->nleft_out != b->nleft_out)
		return false;
	for (size_t i = 0; i < a->ncompiled; i++) {
		const struct wire_checked_node *x = &a->compiled[i], *y = &b->compiled[i];

		if (!wire_str_eq(x->node, y->node) || x->has_probes != y->has_probes || x->probes != y->probes ||
		    !wire_str_eq(x->object, y->object) || x->from_cache != y->from_cache)
			return false;
	}
	return left_out_eq(a->left_out, b->left_out, a->nleft_out);
}
