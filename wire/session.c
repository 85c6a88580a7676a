// SPDX-License-Identifier: Apache-2.0
/*
 * The session request (wire/session.h): its encoder, for the gateway, and
 * its strict decoder, for the runner.  Each member's rules are written
 * once, here; docs/internals/contracts.md describes them in words.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "kube/container.h"
#include "policy/tpfields.h"
#include "wire/fields.h"
#include "wire/session.h"
#include "lib/banned.h"

/* ---- release -------------------------------------------------------------- */

static void owner_free(struct session_owner *o)
{
	if (!o)
		return;
	free(o->ns);
	free(o->user);
	free(o);
}

static void detached_free(struct session_detached *d)
{
	if (!d)
		return;
	free(d->ns);
	free(d->user);
	wire_strvn_free(d->groups, d->ngroups);
	free(d->target);
	free(d->created);
	free(d->audit_id);
	free(d->requester);
	free(d);
}

void session_request_release(struct session_request *req)
{
	if (!req)
		return;
	free(req->trace);
	free(req->program);
	free(req->canonical);
	wire_strvn_free(req->params, req->nparams);
	for (size_t i = 0; i < req->npods; i++) {
		free(req->pods[i].ns);
		free(req->pods[i].name);
		free(req->pods[i].uid);
		free(req->pods[i].qos);
		free(req->pods[i].container);
		free(req->pods[i].container_id);
	}
	free(req->pods);
	free(req->node);
	tg_tpf_rules_release(req->tp_fields);
	free(req->tp_fields);
	owner_free(req->owner);
	detached_free(req->detached);
	memset(req, 0, sizeof(*req));
}

uint64_t session_request_duration(const struct session_request *req)
{
	uint64_t max = req->limits.max_duration_s;

	/* the policy's maximum caps the asked duration, and bounds an open one */
	if (max && (req->duration_s == 0 || req->duration_s > max))
		return max;
	return req->duration_s;
}

char *session_request_pods(const struct session_request *req)
{
	struct buf b = BUF_INIT(64 * 1024);
	size_t i;

	if (req->node_scope)
		(void)buf_printf(&b, "node/%s", req->node);
	for (i = 0; i < req->npods; i++)
		(void)buf_printf(&b, "%s%s/%s%s%s%s", i ? "," : "", req->pods[i].ns, req->pods[i].name,
				 req->pods[i].container ? "(container " : "",
				 req->pods[i].container ? req->pods[i].container : "", req->pods[i].container ? ")" : "");
	return buf_detach(&b, NULL);
}

/* ---- decoding: fields ------------------------------------------------------ */

static int bool_field(json_t *o, const char *key, bool *ret, char **ret_err)
{
	json_t *v = json_object_get(o, key);

	if (v && !json_is_boolean(v))
		return tg_fail(ret_err, -EINVAL, "\"%s\": not a boolean", key);
	*ret = json_is_true(v);
	return 0;
}

static int member_str(json_t *o, const char *member, const char *key, size_t max, char **ret,
		      char **ret_err)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
	    !wire_printable_text(json_string_value(v), json_string_length(v)))
		return tg_fail(ret_err, -EINVAL, "\"%s.%s\": not a string of 1 to %zu printable characters",
			       member, key, max);
	*ret = strdup(json_string_value(v));
	return *ret ? 0 : -ENOMEM;
}

/* ---- decoding: members ------------------------------------------------------- */

static int decode_limits(json_t *o, struct session_limits *l, char **ret_err)
{
	static const char *const names[] = { "maxMapEntries", "eventsPerSecond", "maxMapBytes", "maxOutputBytes",
					     "maxDuration",   "cpuBudget",       NULL };
	json_t *v;
	int r;

	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return tg_fail(ret_err, -EINVAL, "\"limits\": not an object");
	if ((r = wire_uint_field(o, "maxMapEntries", "limits.", 1u << 24, &l->max_map_entries, ret_err)) < 0 ||
	    (r = wire_uint_field(o, "eventsPerSecond", "limits.", UINT32_MAX, &l->events_per_second, ret_err)) < 0 ||
	    (r = wire_uint_field(o, "maxMapBytes", "limits.", UINT64_C(1) << 40, &l->max_map_bytes, ret_err)) < 0 ||
	    (r = wire_uint_field(o, "maxOutputBytes", "limits.", UINT64_C(1) << 40, &l->max_output_bytes, ret_err)) < 0 ||
	    (r = wire_uint_field(o, "maxDuration", "limits.", SESSION_MAX_DURATION_S, &l->max_duration_s, ret_err)) < 0)
		return r;
	v = json_object_get(o, "cpuBudget");
	if (v && !json_is_null(v)) {
		if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1024)
			return tg_fail(ret_err, -EINVAL, "limits.\"cpuBudget\": not a number between 0 and 1024");
		l->cpu_budget = json_number_value(v);
	}
	return wire_only_members(o, "limits.", names, ret_err);
}

/* "container" and "containerID": both or neither, each as strict as the
 * gateway made it (kube/container.h); the cgroup comes from scope.c */
static int pod_container(json_t *p, const char *where, struct session_pod *sp, char **ret_err)
{
	struct tg_container_id id;
	_cleanup_free_ char *err = NULL;
	int r;

	if ((r = wire_str_field(p, "container", where, false, TG_CONTAINER_NAME_MAX, true, &sp->container, ret_err)) < 0 ||
	    (r = wire_str_field(p, "containerID", where, false, 128, false, &sp->container_id, ret_err)) < 0)
		return r;
	if (!sp->container != !sp->container_id)
		return tg_fail(ret_err, -EINVAL, "%s\"container\" and \"containerID\": one without the other", where);
	if (!sp->container)
		return 0;
	if (tg_container_name_check(sp->container, &err) < 0)
		return tg_fail(ret_err, -EINVAL, "%s%s", where, err ? err : "\"container\": not a valid name");
	if (tg_container_id_parse(sp->container_id, &id) < 0)
		return tg_fail(ret_err, -EINVAL,
			       "%s\"containerID\": not containerd://, cri-o:// or docker:// and 64 lowercase hex digits",
			       where);
	return 0;
}

static int decode_pods(json_t *a, struct session_request *req, char **ret_err)
{
	static const char *const names[] = { "namespace", "name", "uid", "qos", "container", "containerID", NULL };
	size_t i;
	int r;

	if (!json_is_array(a))
		return tg_fail(ret_err, -EINVAL,
			       "\"pods\": missing or not an array (a node-wide session says \"scope\": \"node\")");
	if (json_array_size(a) == 0)
		return tg_fail(ret_err, -EINVAL, "\"pods\": empty (a pod-scoped session needs its pods)");
	if (json_array_size(a) > SESSION_MAX_PODS)
		return tg_fail(ret_err, -EINVAL, "\"pods\": more than %d pods", SESSION_MAX_PODS);
	req->pods = calloc(json_array_size(a), sizeof(*req->pods));
	if (!req->pods)
		return -ENOMEM;
	for (i = 0; i < json_array_size(a); i++) {
		json_t *p = json_array_get(a, i);
		struct session_pod *sp = &req->pods[req->npods];
		char where[32];

		snprintf(where, sizeof(where), "pods[%zu].", i);
		if (!json_is_object(p))
			return tg_fail(ret_err, -EINVAL, "pods[%zu]: not an object", i);
		req->npods++;
		if ((r = wire_str_field(p, "namespace", where, true, SESSION_MAX_NAME, true, &sp->ns, ret_err)) < 0 ||
		    (r = wire_str_field(p, "name", where, true, SESSION_MAX_NAME, true, &sp->name, ret_err)) < 0 ||
		    (r = wire_str_field(p, "uid", where, true, 128, true, &sp->uid, ret_err)) < 0 ||
		    (r = wire_str_field(p, "qos", where, false, 32, true, &sp->qos, ret_err)) < 0 ||
		    (r = pod_container(p, where, sp, ret_err)) < 0 || (r = wire_only_members(p, where, names, ret_err)) < 0)
			return r;
	}
	return 0;
}

/*
 * "scope": absent or "pod": the pods, which must be there; "node": the
 * node's name and no "pods" at all.  Anything else is refused: the scope
 * check is dropped only when the gateway said so in so many words.
 */
static int decode_scope(json_t *root, struct session_request *req, char **ret_err)
{
	json_t *scope = json_object_get(root, "scope");
	const char *s = json_is_string(scope) ? json_string_value(scope) : NULL;

	if (scope && (!s || (strcmp(s, "pod") && strcmp(s, "node"))))
		return tg_fail(ret_err, -EINVAL, "\"scope\": not \"pod\" or \"node\"");
	if (!s || !strcmp(s, "pod")) {
		if (json_object_get(root, "node"))
			return tg_fail(ret_err, -EINVAL,
				       "\"node\": only a node-wide session (\"scope\": \"node\") names its node");
		return decode_pods(json_object_get(root, "pods"), req, ret_err);
	}
	if (json_object_get(root, "pods"))
		return tg_fail(ret_err, -EINVAL,
			       "\"pods\": a node-wide session (\"scope\": \"node\") has no pods; a session is "
			       "scoped to pods or to the node, never both");
	req->node_scope = true;
	return wire_str_field(root, "node", "", true, SESSION_MAX_NAME, true, &req->node, ret_err);
}

static int decode_params(json_t *params, struct session_request *req, char **ret_err)
{
	size_t i;

	if (!params || json_is_null(params))
		return 0;
	if (!json_is_array(params) || json_array_size(params) > SESSION_MAX_PARAMS)
		return tg_fail(ret_err, -EINVAL, "\"params\": not an array of at most %d strings", SESSION_MAX_PARAMS);
	req->params = calloc(json_array_size(params) + 1, sizeof(*req->params));
	if (!req->params)
		return -ENOMEM;
	for (i = 0; i < json_array_size(params); i++) {
		json_t *p = json_array_get(params, i);

		if (!json_is_string(p) || json_string_length(p) > SESSION_MAX_PARAM_LEN ||
		    strlen(json_string_value(p)) != json_string_length(p))
			return tg_fail(ret_err, -EINVAL, "params[%zu]: not a string of at most %d bytes", i,
				       SESSION_MAX_PARAM_LEN);
		req->params[i] = strdup(json_string_value(p));
		if (!req->params[i])
			return -ENOMEM;
		req->nparams++;
	}
	return 0;
}

/* ---- tracepointFields (policy/tpfields.h) ---- */

static int decode_tp_fields(json_t *o, struct session_request *req, char **ret_err)
{
	struct tg_tpf_rules *r;
	int rc;

	if (!o || json_is_null(o))
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	rc = tg_tpf_rules_from_json(o, r, ret_err);
	if (rc < 0) {
		free(r);
		return rc;
	}
	req->tp_fields = r;
	return 0;
}

/* "owner": {"namespace"?, "user"}; a node-wide trace's has no namespace ("") */
static int decode_owner(json_t *o, struct session_request *req, char **ret_err)
{
	static const char *const names[] = { "namespace", "user", NULL };
	struct session_owner *ow;
	int r;

	if (!o)
		return 0;
	if (!json_is_object(o))
		return tg_fail(ret_err, -EINVAL, "\"owner\": not an object");
	ow = req->owner = calloc(1, sizeof(*ow));
	if (!ow || (!json_object_get(o, "namespace") && !(ow->ns = strdup(""))))
		return -ENOMEM;
	if ((!ow->ns && (r = member_str(o, "owner", "namespace", SESSION_MAX_OWNER_NS, &ow->ns, ret_err)) < 0) ||
	    (r = member_str(o, "owner", "user", SESSION_MAX_USER, &ow->user, ret_err)) < 0)
		return r;
	return wire_only_members(o, "owner.", names, ret_err);
}

static int decode_groups(json_t *g, struct session_detached *d, char **ret_err)
{
	size_t i;
	json_t *v;

	if (!g)
		return 0;
	if (!json_is_array(g) || json_array_size(g) > SESSION_MAX_GROUPS)
		return tg_fail(ret_err, -EINVAL, "\"detached.groups\": not an array of at most %d names",
			       SESSION_MAX_GROUPS);
	d->groups = calloc(json_array_size(g) + 1, sizeof(*d->groups));
	if (!d->groups)
		return -ENOMEM;
	json_array_foreach(g, i, v) {
		if (!json_is_string(v) || json_string_length(v) > SESSION_MAX_USER ||
		    !wire_printable_text(json_string_value(v), json_string_length(v)))
			return tg_fail(ret_err, -EINVAL, "\"detached.groups[%zu]\": not a name of at most %d characters",
				       i, SESSION_MAX_USER);
		if (!(d->groups[i] = strdup(json_string_value(v))))
			return -ENOMEM;
		d->ngroups++;
	}
	return 0;
}

/* "detached": {"namespace","user","groups"?,"target","created","auditID"?,"requester"?} */
static int decode_detached(json_t *o, struct session_request *req, char **ret_err)
{
	static const char *const names[] = { "namespace", "user", "groups", "target", "created", "auditID", "requester", NULL };
	struct session_detached *d;
	int r;

	if (!o)
		return 0;
	if (!json_is_object(o))
		return tg_fail(ret_err, -EINVAL, "\"detached\": not an object");
	d = req->detached = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if ((r = member_str(o, "detached", "namespace", SESSION_MAX_OWNER_NS, &d->ns, ret_err)) < 0 ||
	    (r = member_str(o, "detached", "user", SESSION_MAX_USER, &d->user, ret_err)) < 0 ||
	    (r = member_str(o, "detached", "target", SESSION_MAX_TARGET, &d->target, ret_err)) < 0 ||
	    (r = member_str(o, "detached", "created", SESSION_MAX_CREATED, &d->created, ret_err)) < 0 ||
	    (json_object_get(o, "auditID") &&
	     (r = wire_str_field(o, "auditID", "detached.", true, SESSION_MAX_AUDIT_ID, true, &d->audit_id,
				 ret_err)) < 0) ||
	    (json_object_get(o, "requester") &&
	     (r = member_str(o, "detached", "requester", SESSION_MAX_USER, &d->requester, ret_err)) < 0) ||
	    (r = decode_groups(json_object_get(o, "groups"), d, ret_err)) < 0)
		return r;
	if (req->dry_run)
		return tg_fail(ret_err, -EINVAL, "\"detached\": a dry run cannot be detached");
	return wire_only_members(o, "detached.", names, ret_err);
}

static int decode_root(json_t *root, struct session_request *req, char **ret_err)
{
	static const char *const names[] = { "trace",  "program",          "canonical",    "params", "duration",
					     "limits", "scope",            "node",         "pods",   "tracepointFields",
					     "dryRun", "outputEvents",     "owner",        "detached", NULL };
	int r;

	if ((r = wire_str_field(root, "trace", "", true, SESSION_MAX_TRACE_ID, true, &req->trace, ret_err)) < 0 ||
	    (r = wire_str_field(root, "program", "", true, SESSION_MAX_BODY, false, &req->program, ret_err)) < 0)
		return r;
	req->program_len = strlen(req->program);
	/* what the gateway decided on: the program must parse to exactly it */
	if ((r = wire_str_field(root, "canonical", "", true, 2 * SESSION_MAX_BODY, false, &req->canonical, ret_err)) < 0 ||
	    (r = decode_params(json_object_get(root, "params"), req, ret_err)) < 0 ||
	    (r = wire_uint_field(root, "duration", "", SESSION_MAX_DURATION_S, &req->duration_s, ret_err)) < 0 ||
	    (r = decode_limits(json_object_get(root, "limits"), &req->limits, ret_err)) < 0 ||
	    (r = decode_scope(root, req, ret_err)) < 0 ||
	    (r = decode_tp_fields(json_object_get(root, "tracepointFields"), req, ret_err)) < 0 ||
	    (r = bool_field(root, "dryRun", &req->dry_run, ret_err)) < 0 ||
	    (r = bool_field(root, "outputEvents", &req->output_events, ret_err)) < 0 ||
	    (r = decode_detached(json_object_get(root, "detached"), req, ret_err)) < 0 ||
	    (r = decode_owner(json_object_get(root, "owner"), req, ret_err)) < 0)
		return r;
	return wire_only_members(root, "", names, ret_err);
}

int session_request_decode(const char *body, size_t len, struct session_request *ret, char **ret_err)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	struct session_request req = { 0 };
	json_error_t jerr;
	int r;

	if (len > SESSION_MAX_BODY)
		return tg_fail(ret_err, -E2BIG, "body: larger than %u bytes", SESSION_MAX_BODY);
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return tg_fail(ret_err, -EINVAL, "body: not JSON: %s at line %d column %d", jerr.text, jerr.line,
			       jerr.column);
	if (!json_is_object(root))
		return tg_fail(ret_err, -EINVAL, "body: not a JSON object");
	r = decode_root(root, &req, ret_err);
	if (r < 0) {
		session_request_release(&req);
		return r;
	}
	*ret = req;
	return 0;
}

/* ---- encoding ------------------------------------------------------------------ */

/* o[key] = v, taking v; false when either is missing */
static bool set(json_t *o, const char *key, json_t *v)
{
	if (!o) {
		json_decref(v);
		return false;
	}
	return json_object_set_new(o, key, v) == 0;
}

static json_t *encode_pods(const struct session_request *req)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < req->npods; i++) {
		const struct session_pod *p = &req->pods[i];
		json_t *o = json_object();
		bool ok = set(o, "namespace", json_string(p->ns)) && set(o, "name", json_string(p->name)) &&
			  set(o, "uid", json_string(p->uid)) && (!p->qos || set(o, "qos", json_string(p->qos))) &&
			  (!p->container || (set(o, "container", json_string(p->container)) &&
					     set(o, "containerID", json_string(p->container_id))));

		if (!ok || json_array_append_new(a, o) < 0) {
			json_decref(ok ? NULL : o);
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *encode_limits(const struct session_limits *l)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:f, s:I}", "maxMapEntries", (json_int_t)l->max_map_entries,
			 "maxMapBytes", (json_int_t)l->max_map_bytes, "eventsPerSecond", (json_int_t)l->events_per_second,
			 "maxDuration", (json_int_t)l->max_duration_s, "cpuBudget", l->cpu_budget, "maxOutputBytes",
			 (json_int_t)l->max_output_bytes);
}

static json_t *encode_owner(const struct session_owner *o)
{
	json_t *j = json_object();

	/* a node-wide trace's owner has no namespace */
	if ((o->ns && *o->ns && !set(j, "namespace", json_string(o->ns))) || !set(j, "user", json_string(o->user))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *encode_detached(const struct session_detached *d)
{
	json_t *j = json_pack("{s:s, s:s, s:o, s:s, s:s}", "namespace", d->ns, "user", d->user, "groups",
			      wire_strv_json(d->groups, d->ngroups), "target", d->target, "created", d->created);

	if (j && ((d->audit_id && !set(j, "auditID", json_string(d->audit_id))) ||
		  (d->requester && !set(j, "requester", json_string(d->requester))))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *encode_root(const struct session_request *req)
{
	_cleanup_(json_decrefp) json_t *o = json_object();

	if (!set(o, "trace", json_string(req->trace)) ||
	    !set(o, "program", json_stringn(req->program, req->program_len)) ||
	    !set(o, "canonical", json_string(req->canonical)) ||
	    !set(o, "params", wire_strv_json(req->params, req->nparams)) ||
	    !set(o, "duration", json_integer((json_int_t)req->duration_s)))
		return NULL;
	/* node-wide: an explicit scope and the node, never pods */
	if (req->node_scope ? !set(o, "scope", json_string("node")) || !set(o, "node", json_string(req->node))
			    : !set(o, "pods", encode_pods(req)))
		return NULL;
	if (!set(o, "limits", encode_limits(&req->limits)) ||
	    (req->owner && !set(o, "owner", encode_owner(req->owner))) ||
	    (req->tp_fields && !set(o, "tracepointFields", tg_tpf_rules_to_json(req->tp_fields))) ||
	    (req->output_events && !set(o, "outputEvents", json_true())) ||
	    (req->dry_run && !set(o, "dryRun", json_true())) ||
	    (req->detached && !set(o, "detached", encode_detached(req->detached))))
		return NULL;
	return TAKE_PTR(o);
}

int session_request_encode(const struct session_request *req, char **ret_text)
{
	_cleanup_(json_decrefp) json_t *o = encode_root(req);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (!text)
		return -ENOMEM;
	*ret_text = text;
	return 0;
}

/* ---- comparing ------------------------------------------------------------------ */

static bool pod_eq(const struct session_pod *a, const struct session_pod *b)
{
	return wire_str_eq(a->ns, b->ns) && wire_str_eq(a->name, b->name) && wire_str_eq(a->uid, b->uid) && wire_str_eq(a->qos, b->qos) &&
	       wire_str_eq(a->container, b->container) && wire_str_eq(a->container_id, b->container_id);
}

static bool tpf_eq(const struct tg_tpf_rules *a, const struct tg_tpf_rules *b)
{
	if (!a || !b)
		return a == b;
	return a->other_tasks == b->other_tasks && a->kernel_addresses == b->kernel_addresses &&
	       wire_str_eq(a->policy, b->policy) && wire_strv_eq(a->allow, a->nallow, b->allow, b->nallow) &&
	       wire_strv_eq(a->deny, a->ndeny, b->deny, b->ndeny);
}

static bool owner_eq(const struct session_owner *a, const struct session_owner *b)
{
	if (!a || !b)
		return a == b;
	return wire_str_eq(a->ns, b->ns) && wire_str_eq(a->user, b->user);
}

static bool detached_eq(const struct session_detached *a, const struct session_detached *b)
{
	if (!a || !b)
		return a == b;
	return wire_str_eq(a->ns, b->ns) && wire_str_eq(a->user, b->user) && wire_str_eq(a->target, b->target) &&
	       wire_str_eq(a->created, b->created) && wire_strv_eq(a->groups, a->ngroups, b->groups, b->ngroups) &&
	       wire_str_eq(a->audit_id, b->audit_id) && wire_str_eq(a->requester, b->requester);
}

bool session_request_equal(const struct session_request *a, const struct session_request *b)
{
	const struct session_limits *la = &a->limits, *lb = &b->limits;

	if (!wire_str_eq(a->trace, b->trace) || a->program_len != b->program_len ||
	    (a->program_len && memcmp(a->program, b->program, a->program_len)) || !wire_str_eq(a->canonical, b->canonical) ||
	    !wire_strv_eq(a->params, a->nparams, b->params, b->nparams) || a->duration_s != b->duration_s ||
	    a->npods != b->npods || a->node_scope != b->node_scope || !wire_str_eq(a->node, b->node) ||
	    a->dry_run != b->dry_run || a->output_events != b->output_events)
		return false;
	for (size_t i = 0; i < a->npods; i++)
		if (!pod_eq(&a->pods[i], &b->pods[i]))
			return false;
	return la->max_map_entries == lb->max_map_entries && la->max_map_bytes == lb->max_map_bytes &&
	       la->events_per_second == lb->events_per_second && la->max_duration_s == lb->max_duration_s &&
	       la->max_output_bytes == lb->max_output_bytes && la->cpu_budget == lb->cpu_budget &&
	       tpf_eq(a->tp_fields, b->tp_fields) && owner_eq(a->owner, b->owner) &&
	       detached_eq(a->detached, b->detached);
}
