// SPDX-License-Identifier: Apache-2.0
/*
 * kubesim's objects: every change (create, update, status update, delete)
 * takes the next resourceVersion, as etcd's revision does for the API
 * server, and becomes an event in a bounded history that watches resume
 * from (watch.c).  Messages and reasons are kube-apiserver's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/util.h"
#include "tests/kubesim/kubesim.h"
#include "lib/banned.h"

#define KS_MAX_NAME 253

static const char *const pod_fields[] = { "metadata.name", "metadata.namespace", "spec.nodeName",
					  "spec.restartPolicy", "spec.schedulerName",
					  "spec.serviceAccountName", "status.phase", "status.podIP",
					  "status.nominatedNodeName", NULL };
static const char *const meta_fields[] = { "metadata.name", "metadata.namespace", NULL };
static const char *const ns_fields[] = { "metadata.name", "status.phase", NULL };

const struct ks_kind ks_kinds[] = {
	{ "", "v1", "pods", "Pod", true, pod_fields },
	{ "", "v1", "namespaces", "Namespace", false, ns_fields },
	{ "", "v1", "nodes", "Node", false, meta_fields },
	{ "apps", "v1", "replicasets", "ReplicaSet", true, meta_fields },
	{ "apps", "v1", "deployments", "Deployment", true, meta_fields },
	{ "apps", "v1", "statefulsets", "StatefulSet", true, meta_fields },
	{ "apps", "v1", "daemonsets", "DaemonSet", true, meta_fields },
	{ "batch", "v1", "jobs", "Job", true, meta_fields },
	{ "batch", "v1", "cronjobs", "CronJob", true, meta_fields },
	{ "", "v1", "configmaps", "ConfigMap", true, meta_fields },
};
const size_t ks_nkinds = sizeof(ks_kinds) / sizeof(ks_kinds[0]);

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static void api_version(const struct ks_kind *k, char out[64])
{
	if (*k->group)
		snprintf(out, 64, "%s/%s", k->group, k->version);
	else
		snprintf(out, 64, "%s", k->version);
}

bool ks_object_is(json_t *o, const struct ks_kind *k)
{
	char want[64];

	api_version(k, want);
	return !strcmp(jstr(o, "kind"), k->kind) && !strcmp(jstr(o, "apiVersion"), want);
}

json_t *ks_status(int code, const char *reason, json_t *details, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	json_t *j;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	j = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1", "metadata",
		      "status", "Failure", "message", msg ? msg : "", "reason", reason, "code", code);
	if (j && details)
		json_object_set(j, "details", details);
	return j;
}

static json_t *name_details(const struct ks_kind *k, const char *name)
{
	json_t *d = json_pack("{s:s, s:s}", "name", name, "kind", k->resource);

	if (d && *k->group)
		json_object_set_new(d, "group", json_string(k->group));
	return d;
}

/* pods "x" (with the group for apps: deployments.apps "x") */
static void qualified(const struct ks_kind *k, char out[64])
{
	snprintf(out, 64, "%s%s%s", k->resource, *k->group ? "." : "", k->group);
}

static void set_rv(json_t *o, uint64_t rv)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)rv);
	json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_string(s));
}

/* Appends an event to the history (dropping the oldest beyond the bound,
 * which moves the compaction point) and tells the watches. */
static void record(struct ks_store *st, const char *type, json_t *obj, json_t *old)
{
	_cleanup_(json_decrefp) json_t *ev = json_pack("{s:s, s:I, s:O, s:O*}", "type", type, "rv",
						       (json_int_t)st->rv, "object", obj, "old", old);

	if (!ev)
		return;
	json_array_append(st->history, ev);
	while (json_array_size(st->history) > st->max_history) {
		st->compacted = (uint64_t)json_integer_value(json_object_get(json_array_get(st->history, 0), "rv"));
		json_array_remove(st->history, 0);
	}
	ks_watch_notify(st, ev);
}

int ks_store_init(struct ks_store *st, json_t *objects, size_t max_history)
{
	json_t *o;
	size_t i;

	*st = (struct ks_store){ .objects = json_incref(objects), .max_history = max_history ? max_history : 1,
				 .history = json_array() };
	if (!st->history)
		return -ENOMEM;
	json_array_foreach(objects, i, o)
		set_rv(o, ++st->rv);
	/* what was loaded is not in the history: older watches start over */
	st->compacted = st->rv;
	return 0;
}

void ks_store_release(struct ks_store *st)
{
	ks_watch_close_all(st);
	json_decref(st->objects);
	json_decref(st->history);
	st->objects = st->history = NULL;
}

/* The index of the object, or -1. */
static ssize_t find(struct ks_store *st, const struct ks_kind *k, const char *ns, const char *name)
{
	json_t *o;
	size_t i;

	json_array_foreach(st->objects, i, o) {
		json_t *m = json_object_get(o, "metadata");

		if (ks_object_is(o, k) && !strcmp(jstr(m, "name"), name) &&
		    (!k->namespaced || !strcmp(jstr(m, "namespace"), ns ? ns : "")))
			return (ssize_t)i;
	}
	return -1;
}

/* RFC 1123 subdomain, as metadata.name of these kinds must be. */
static bool name_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > KS_MAX_NAME || s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return false;
	return true;
}

static void new_uid(char out[37])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		memset(b, 0x5a, sizeof(b)); /* tests only: a fixed one still works */
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* The body's type, name and namespace against the URL's; 0 or an answer. */
static int check_body(const struct ks_kind *k, const char *ns, const char *name, json_t *body, json_t **ret)
{
	char av[64], q[64];
	json_t *m = json_object_get(body, "metadata");

	api_version(k, av);
	qualified(k, q);
	if (!json_is_object(body)) {
		*ret = ks_status(400, "BadRequest", NULL, "the body is not a %s object", k->kind);
		return 400;
	}
	if (strcmp(jstr(body, "kind"), k->kind) || strcmp(jstr(body, "apiVersion"), av)) {
		*ret = ks_status(400, "BadRequest", NULL, "the object provided is unrecognized (must be of type %s, "
				 "apiVersion %s)", k->kind, av);
		return 400;
	}
	if (m && !json_is_object(m)) {
		*ret = ks_status(400, "BadRequest", NULL, "metadata: must be an object");
		return 400;
	}
	if (!name_valid(jstr(m, "name"))) {
		*ret = ks_status(422, "Invalid", NULL, "%s \"%s\" is invalid: metadata.name: Invalid value: \"%s\": "
				 "a lowercase RFC 1123 subdomain is required", k->kind, jstr(m, "name"),
				 jstr(m, "name"));
		return 422;
	}
	if (name && strcmp(jstr(m, "name"), name)) {
		*ret = ks_status(400, "BadRequest", NULL, "the name of the object (%s) does not match the name on "
				 "the URL (%s)", jstr(m, "name"), name);
		return 400;
	}
	if (k->namespaced && *jstr(m, "namespace") && strcmp(jstr(m, "namespace"), ns)) {
		*ret = ks_status(400, "BadRequest", NULL, "the namespace of the provided object does not match "
				 "the namespace sent on the request");
		return 400;
	}
	if (!k->namespaced && *jstr(m, "namespace")) {
		*ret = ks_status(400, "BadRequest", NULL, "%s \"%s\": metadata.namespace is not allowed", q,
				 jstr(m, "name"));
		return 400;
	}
	return 0;
}

int ks_store_create(struct ks_store *st, const struct ks_kind *k, const char *ns, json_t *body, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	json_t *m;
	char uid[37], ts[32], q[64];
	int code;

	code = check_body(k, ns, NULL, body, ret);
	if (code)
		return code;
	if (k->namespaced && !ns) {
		*ret = ks_status(405, "MethodNotAllowed", NULL, "the server does not allow this method on the "
				 "requested resource");
		return 405;
	}
	m = json_object_get(body, "metadata");
	qualified(k, q);
	if (find(st, k, ns, jstr(m, "name")) >= 0) {
		_cleanup_(json_decrefp) json_t *d = name_details(k, jstr(m, "name"));

		*ret = ks_status(409, "AlreadyExists", d, "%s \"%s\" already exists", q, jstr(m, "name"));
		return 409;
	}
	o = json_deep_copy(body);
	if (!o) {
		*ret = ks_status(500, "InternalError", NULL, "out of memory");
		return 500;
	}
	if (!json_object_get(o, "metadata"))
		json_object_set_new(o, "metadata", json_object());
	m = json_object_get(o, "metadata");
	new_uid(uid);
	format_rfc3339_us(now_real_ns(), ts);
	ts[19] = 'Z'; /* seconds, as metav1.Time */
	ts[20] = '\0';
	json_object_set_new(m, "uid", json_string(uid));
	json_object_set_new(m, "creationTimestamp", json_string(ts));
	json_object_del(m, "deletionTimestamp");
	if (k->namespaced)
		json_object_set_new(m, "namespace", json_string(ns));
	/* a new pod starts Pending: the kubelet reports the rest (status) */
	if (!strcmp(k->kind, "Pod"))
		json_object_set_new(o, "status", json_pack("{s:s}", "phase", "Pending"));
	set_rv(o, ++st->rv);
	json_array_append(st->objects, o);
	record(st, "ADDED", o, NULL);
	*ret = TAKE_PTR(o);
	return 201;
}

static int not_found(const struct ks_kind *k, const char *name, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *d = name_details(k, name);
	char q[64];

	qualified(k, q);
	*ret = ks_status(404, "NotFound", d, "%s \"%s\" not found", q, name);
	return 404;
}

int ks_store_update(struct ks_store *st, const struct ks_kind *k, const char *ns, const char *name,
		    bool status, json_t *body, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	json_t *old, *m;
	const char *want;
	ssize_t i;
	char q[64];
	int code;

	code = check_body(k, ns, name, body, ret);
	if (code)
		return code;
	i = find(st, k, ns, name);
	if (i < 0)
		return not_found(k, name, ret);
	old = json_array_get(st->objects, (size_t)i);
	want = jstr(json_object_get(body, "metadata"), "resourceVersion");
	if (*want && strcmp(want, jstr(json_object_get(old, "metadata"), "resourceVersion"))) {
		_cleanup_(json_decrefp) json_t *d = name_details(k, name);

		qualified(k, q);
		*ret = ks_status(409, "Conflict", d, "Operation cannot be fulfilled on %s \"%s\": the object has been "
				 "modified; please apply your changes to the latest version and try again", q, name);
		return 409;
	}
	/* the status subresource changes status only; the object everything but */
	o = json_deep_copy(status ? old : body);
	if (!o) {
		*ret = ks_status(500, "InternalError", NULL, "out of memory");
		return 500;
	}
	if (status) {
		json_t *s = json_object_get(body, "status");

		json_object_set(o, "status", s ? s : json_object());
	} else {
		json_t *om = json_object_get(old, "metadata");

		if (json_object_get(old, "status"))
			json_object_set(o, "status", json_object_get(old, "status"));
		if (!json_object_get(o, "metadata"))
			json_object_set_new(o, "metadata", json_object());
		m = json_object_get(o, "metadata");
		json_object_set(m, "uid", json_object_get(om, "uid"));
		json_object_set(m, "creationTimestamp", json_object_get(om, "creationTimestamp"));
		if (k->namespaced)
			json_object_set_new(m, "namespace", json_string(ns));
	}
	set_rv(o, ++st->rv);
	json_incref(old);
	json_array_set(st->objects, (size_t)i, o);
	record(st, "MODIFIED", o, old);
	json_decref(old);
	*ret = TAKE_PTR(o);
	return 200;
}

int ks_store_delete(struct ks_store *st, const struct ks_kind *k, const char *ns, const char *name, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	ssize_t i = find(st, k, ns, name);

	if (i < 0)
		return not_found(k, name, ret);
	o = json_deep_copy(json_array_get(st->objects, (size_t)i));
	if (!o) {
		*ret = ks_status(500, "InternalError", NULL, "out of memory");
		return 500;
	}
	json_array_remove(st->objects, (size_t)i);
	/* the DELETED event carries the revision of the deletion */
	set_rv(o, ++st->rv);
	record(st, "DELETED", o, NULL);
	*ret = TAKE_PTR(o);
	return 200;
}
