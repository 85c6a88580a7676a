// SPDX-License-Identifier: Apache-2.0
/*
 * Workloads (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob)
 * -> pods (kube/workload.h).  Everything here is
 * pure: JSON in, requests and pod lists out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "kube/kube-json.h"
#include "kube/kube.h"
#include "kube/selector.h"
#include "kube/workload.h"
#include "lib/banned.h"

#define set_err kube_json_set_err

/* ---- kinds --------------------------------------------------------------------- */

/*
 * What each kind is in the API, and how it holds its pods: directly (its
 * own uid in the pods' controller reference) or through objects it owns
 * (a Deployment's ReplicaSets, a CronJob's Jobs).
 */
static const struct kind_info {
	enum kube_workload_kind kind;
	const char *name;              /* "deployment": targets and messages */
	const char *resource;          /* "deployments" */
	const char *group;             /* "apps" */
	const char *api_version;       /* "apps/v1" */
	const char *type;              /* "Deployment" */
	enum kube_workload_kind owns;  /* 0: owns its pods itself */
} kinds[] = {
	{ KUBE_WORKLOAD_DEPLOYMENT, "deployment", "deployments", "apps", "apps/v1", "Deployment",
	  KUBE_WORKLOAD_REPLICASET },
	{ KUBE_WORKLOAD_REPLICASET, "replicaset", "replicasets", "apps", "apps/v1", "ReplicaSet", 0 },
	{ KUBE_WORKLOAD_STATEFULSET, "statefulset", "statefulsets", "apps", "apps/v1", "StatefulSet",
	  0 },
	{ KUBE_WORKLOAD_DAEMONSET, "daemonset", "daemonsets", "apps", "apps/v1", "DaemonSet", 0 },
	{ KUBE_WORKLOAD_JOB, "job", "jobs", "batch", "batch/v1", "Job", 0 },
	{ KUBE_WORKLOAD_CRONJOB, "cronjob", "cronjobs", "batch", "batch/v1", "CronJob",
	  KUBE_WORKLOAD_JOB },
};

static const struct kind_info *kind_info(enum kube_workload_kind kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (kinds[i].kind == kind)
			return &kinds[i];
	return NULL;
}

const char *kube_workload_kind_name(enum kube_workload_kind kind)
{
	const struct kind_info *k = kind_info(kind);

	return k ? k->name : "?";
}

const char *kube_workload_resource(enum kube_workload_kind kind)
{
	const struct kind_info *k = kind_info(kind);

	return k ? k->resource : "?";
}

const char *kube_workload_group(enum kube_workload_kind kind)
{
	const struct kind_info *k = kind_info(kind);

	return k ? k->group : "?";
}

enum kube_workload_kind kube_workload_owns(enum kube_workload_kind kind)
{
	const struct kind_info *k = kind_info(kind);

	return k ? k->owns : 0;
}

/* The kind whose uids the pods' controller references carry. */
static const struct kind_info *pod_owner(enum kube_workload_kind kind)
{
	const struct kind_info *k = kind_info(kind);

	return k && k->owns ? kind_info(k->owns) : k;
}

int kube_workload_kind_from_name(const char *s, size_t len, enum kube_workload_kind *ret)
{
	static const struct {
		const char *name;
		enum kube_workload_kind kind;
	} names[] = {
		{ "deployment", KUBE_WORKLOAD_DEPLOYMENT }, { "deployments", KUBE_WORKLOAD_DEPLOYMENT },
		{ "deploy", KUBE_WORKLOAD_DEPLOYMENT },	    { "replicaset", KUBE_WORKLOAD_REPLICASET },
		{ "replicasets", KUBE_WORKLOAD_REPLICASET }, { "rs", KUBE_WORKLOAD_REPLICASET },
		{ "statefulset", KUBE_WORKLOAD_STATEFULSET }, { "statefulsets", KUBE_WORKLOAD_STATEFULSET },
		{ "sts", KUBE_WORKLOAD_STATEFULSET },	    { "daemonset", KUBE_WORKLOAD_DAEMONSET },
		{ "daemonsets", KUBE_WORKLOAD_DAEMONSET },   { "ds", KUBE_WORKLOAD_DAEMONSET },
		{ "job", KUBE_WORKLOAD_JOB },		    { "jobs", KUBE_WORKLOAD_JOB },
		{ "cronjob", KUBE_WORKLOAD_CRONJOB },	    { "cronjobs", KUBE_WORKLOAD_CRONJOB },
		{ "cj", KUBE_WORKLOAD_CRONJOB },
	};

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strlen(names[i].name) == len && !memcmp(names[i].name, s, len)) {
			if (ret)
				*ret = names[i].kind;
			return 0;
		}
	}
	return -EINVAL;
}

void kube_workload_release(struct kube_workload *w)
{
	if (!w)
		return;
	free(w->namespace);
	free(w->name);
	free(w->uid);
	free(w->selector);
	memset(w, 0, sizeof(*w));
}

void kube_pods_free(struct kube_pod *pods, size_t n)
{
	for (size_t i = 0; pods && i < n; i++)
		kube_pod_release(&pods[i]);
	free(pods);
}

/* ---- label selectors -------------------------------------------------------------- */

struct req {
	const char *key;
	const char *op;           /* "=", "in", "notin", "exists", "!" */
	const char **values;      /* sorted, for in/notin */
	size_t nvalues;
};

static int req_cmp(const void *a, const void *b)
{
	return strcmp(((const struct req *)a)->key, ((const struct req *)b)->key);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int req_write(struct buf *b, const struct req *q)
{
	int r;

	if (!strcmp(q->op, "exists"))
		return buf_adds(b, q->key);
	if (!strcmp(q->op, "!"))
		return buf_printf(b, "!%s", q->key);
	if (!strcmp(q->op, "="))
		return buf_printf(b, "%s=%s", q->key, q->values[0]);
	r = buf_printf(b, "%s %s (", q->key, q->op);
	for (size_t i = 0; i < q->nvalues && r >= 0; i++)
		r = buf_printf(b, "%s%s", i ? "," : "", q->values[i]);
	return r < 0 ? r : buf_addc(b, ')');
}

static void reqs_free(struct req *q, size_t n)
{
	for (size_t i = 0; q && i < n; i++)
		free(q[i].values);
	free(q);
}

int kube_label_selector(json_t *sel, const char *what, char **ret, char **ret_err)
{
	json_t *ml, *me, *v, *x;
	const char *k;
	struct req *q = NULL;
	size_t nq = 0, cap, i;
	struct buf b = BUF_INIT(KUBE_MAX_SELECTOR_BYTES);
	int r = 0;

	if (!json_is_object(sel))
		return set_err(ret_err, "\"%s\" is %s", what, sel ? "not an object" : "missing"), -EINVAL;
	json_object_foreach(sel, k, v) {
		if (strcmp(k, "matchLabels") && strcmp(k, "matchExpressions"))
			return set_err(ret_err, "\"%s\" has an unknown field \"%s\"", what, k), -EINVAL;
	}
	ml = json_object_get(sel, "matchLabels");
	me = json_object_get(sel, "matchExpressions");
	if ((ml && !json_is_null(ml) && !json_is_object(ml)) ||
	    (me && !json_is_null(me) && !json_is_array(me)))
		return set_err(ret_err, "\"%s\": \"matchLabels\" is not an object or "
				        "\"matchExpressions\" not a list", what), -EINVAL;
	cap = json_object_size(ml) + json_array_size(me);
	if (cap == 0)
		return set_err(ret_err, "\"%s\" is empty: it would select every pod", what), -EINVAL;
	if (cap > KUBE_MAX_SELECTOR_REQS)
		return set_err(ret_err, "\"%s\" has more than %d requirements", what,
			       KUBE_MAX_SELECTOR_REQS), -TG_ELIMIT;
	q = calloc(cap, sizeof(*q));
	if (!q)
		return -ENOMEM;
	json_object_foreach(ml, k, v) {
		if (!kube_label_key_valid(k) || !json_is_string(v) || !kube_label_value_valid(json_string_value(v))) {
			set_err(ret_err, "\"%s.matchLabels\": \"%s\" is not a valid label %s", what, k,
				kube_label_key_valid(k) ? "value" : "key");
			r = -EINVAL;
			goto out;
		}
		q[nq].key = k;
		q[nq].op = "=";
		q[nq].values = malloc(sizeof(char *));
		if (!q[nq].values) {
			r = -ENOMEM;
			goto out;
		}
		q[nq].values[0] = json_string_value(v);
		q[nq++].nvalues = 1;
	}
	json_array_foreach(me, i, x) {
		const char *key = json_string_value(json_object_get(x, "key"));
		const char *op = json_string_value(json_object_get(x, "operator"));
		json_t *vals = json_object_get(x, "values"), *e;
		size_t nv = json_array_size(vals), j;
		bool with_values;

		if (!json_is_object(x) || !key || !kube_label_key_valid(key) || !op ||
		    (vals && !json_is_null(vals) && !json_is_array(vals))) {
			set_err(ret_err, "\"%s.matchExpressions[%zu]\" needs a valid \"key\", an "
					 "\"operator\" and a list of \"values\"", what, i);
			r = -EINVAL;
			goto out;
		}
		if (!strcmp(op, "In"))
			q[nq].op = "in";
		else if (!strcmp(op, "NotIn"))
			q[nq].op = "notin";
		else if (!strcmp(op, "Exists"))
			q[nq].op = "exists";
		else if (!strcmp(op, "DoesNotExist"))
			q[nq].op = "!";
		else {
			set_err(ret_err, "\"%s.matchExpressions[%zu]\": unknown operator \"%s\"", what, i,
				op);
			r = -EINVAL;
			goto out;
		}
		with_values = !strcmp(op, "In") || !strcmp(op, "NotIn");
		if (with_values != (nv > 0)) {
			set_err(ret_err, "\"%s.matchExpressions[%zu]\": operator \"%s\" %s values", what,
				i, op, with_values ? "needs" : "takes no");
			r = -EINVAL;
			goto out;
		}
		if (nv > KUBE_MAX_SELECTOR_VALUES) {
			set_err(ret_err, "\"%s.matchExpressions[%zu]\" has more than %d values", what,
				i, KUBE_MAX_SELECTOR_VALUES);
			r = -TG_ELIMIT;
			goto out;
		}
		q[nq].key = key;
		q[nq].nvalues = nv;
		q[nq].values = calloc(nv + 1, sizeof(char *));
		if (!q[nq].values) {
			r = -ENOMEM;
			goto out;
		}
		nq++;
		json_array_foreach(vals, j, e) {
			if (!json_is_string(e) || !kube_label_value_valid(json_string_value(e))) {
				set_err(ret_err, "\"%s.matchExpressions[%zu].values[%zu]\" is not a "
						 "valid label value", what, i, j);
				r = -EINVAL;
				goto out;
			}
			q[nq - 1].values[j] = json_string_value(e);
		}
		qsort(q[nq - 1].values, nv, sizeof(char *), str_cmp);
	}
	qsort(q, nq, sizeof(*q), req_cmp);
	for (i = 0; i < nq && r >= 0; i++) {
		if (i)
			r = buf_addc(&b, ',');
		if (r >= 0)
			r = req_write(&b, &q[i]);
	}
	if (r == -E2BIG) {
		set_err(ret_err, "\"%s\" is longer than %d bytes as a label selector", what,
			KUBE_MAX_SELECTOR_BYTES);
		r = -TG_ELIMIT;
		goto out;
	}
	if (r < 0)
		goto out;
	*ret = buf_detach(&b, NULL);
	r = *ret ? 0 : -ENOMEM;
out:
	buf_release(&b);
	reqs_free(q, cap);
	return r;
}

/* ---- requests ----------------------------------------------------------------------- */

int kube_workload_get_request(enum kube_workload_kind kind, const char *ns, const char *name,
			      struct kube_request *ret)
{
	const struct kind_info *k = kind_info(kind);
	_cleanup_free_ char *path = NULL;

	if (!ret || !k || !kube_namespace_valid(ns) || !kube_name_valid(name))
		return -EINVAL;
	if (asprintf(&path, "/apis/%s/namespaces/%s/%s/%s", k->api_version, ns, k->resource,
		     name) < 0)
		return -ENOMEM;
	*ret = (struct kube_request){ .method = "GET", .path = TAKE_PTR(path) };
	return 0;
}

int kube_query_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = 0;

	for (; *s && r >= 0; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			r = buf_addc(b, (char)c);
		else
			r = buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return r;
}

static int list_request(const struct kube_workload *w, const char *prefix, const char *resource,
			struct kube_request *ret)
{
	struct buf b = BUF_INIT(KUBE_MAX_SELECTOR_BYTES * 3 + 512);
	int r;

	if (!w || !ret || !kube_namespace_valid(w->namespace) ||
	    (!w->selector && w->kind != KUBE_WORKLOAD_CRONJOB) || (w->selector && !*w->selector))
		return -EINVAL;
	r = buf_printf(&b, "%s/namespaces/%s/%s", prefix, w->namespace, resource);
	if (r >= 0 && w->selector)
		r = buf_adds(&b, "?labelSelector=");
	if (r >= 0 && w->selector)
		r = kube_query_escape(&b, w->selector);
	if (r < 0) {
		buf_release(&b);
		return r == -E2BIG ? -TG_ELIMIT : r;
	}
	*ret = (struct kube_request){ .method = "GET", .path = buf_detach(&b, NULL) };
	return ret->path ? 0 : -ENOMEM;
}

int kube_owned_list_request(const struct kube_workload *w, struct kube_request *ret)
{
	const struct kind_info *o = w ? kind_info(kube_workload_owns(w->kind)) : NULL;
	char prefix[32];

	if (!o)
		return -EINVAL;
	snprintf(prefix, sizeof(prefix), "/apis/%s", o->api_version);
	return list_request(w, prefix, o->resource, ret);
}

int kube_pod_list_request(const struct kube_workload *w, struct kube_request *ret)
{
	return list_request(w, "/api/v1", "pods", ret);
}

int kube_selector_pod_list_request(const char *ns, const struct kube_selector *sel,
				   struct kube_request *ret)
{
	struct buf b = BUF_INIT(KUBE_MAX_SELECTOR_BYTES * 3 + 512);
	int r;

	if (!sel || !ret || (ns && !kube_namespace_valid(ns)))
		return -EINVAL;
	r = ns ? buf_printf(&b, "/api/v1/namespaces/%s/pods?labelSelector=", ns)
	       : buf_adds(&b, "/api/v1/pods?labelSelector=");
	if (r >= 0)
		r = kube_query_escape(&b, kube_selector_string(sel));
	if (r < 0) {
		buf_release(&b);
		return r == -E2BIG ? -TG_ELIMIT : r;
	}
	*ret = (struct kube_request){ .method = "GET", .path = buf_detach(&b, NULL) };
	return ret->path ? 0 : -ENOMEM;
}

/* ---- answers ------------------------------------------------------------------------ */

/* A required string of at most KUBE_MAX_NAME_LEN. */
static const char *req_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s && strlen(s) <= KUBE_MAX_NAME_LEN ? s : NULL;
}

int kube_workload_parse(enum kube_workload_kind kind, long http_status, const char *body,
			size_t len, const char *ns, const char *name, struct kube_workload *ret,
			char **ret_err)
{
	const struct kind_info *k = kind_info(kind);
	const char *kname = kube_workload_kind_name(kind);
	_cleanup_(json_decrefp) json_t *j = NULL;
	_cleanup_free_ char *sel_err = NULL;
	struct kube_workload w = { .kind = kind };
	json_t *meta, *spec;
	const char *s_ns, *s_name, *uid;
	int r;

	if (!ret || !ns || !name || !k)
		return -EINVAL;
	if (http_status == 404)
		return kube_json_status_error(http_status, body, len, kname, TG_ENOTFOUND, ret_err);
	if (http_status < 200 || http_status > 299)
		return kube_json_status_error(http_status, body, len, kname, TG_EUPSTREAM, ret_err);
	j = kube_json_load_object(body, len, kname, ret_err);
	if (!j)
		return -TG_EUPSTREAM;
	r = kube_json_check_type(j, k->api_version, k->type, kname, ret_err);
	if (r < 0)
		return r;
	meta = json_object_get(j, "metadata");
	spec = json_object_get(j, "spec");
	if (!json_is_object(meta) || !json_is_object(spec))
		return set_err(ret_err, "%s: \"metadata\" or \"spec\" is not an object", kname),
		       -TG_EUPSTREAM;
	s_ns = req_str(meta, "namespace");
	s_name = req_str(meta, "name");
	uid = req_str(meta, "uid");
	if (!s_ns || !s_name || strcmp(s_ns, ns) || strcmp(s_name, name))
		return set_err(ret_err, "%s: the answer is not %s \"%s\" in namespace \"%s\"", kname,
			       kname, name, ns), -TG_EUPSTREAM;
	if (!uid || !kube_uid_valid(uid))
		return set_err(ret_err, "%s \"%s/%s\": \"metadata.uid\" is missing or malformed", kname,
			       ns, name), -TG_EUPSTREAM;
	/* A CronJob has no selector: its Jobs are known by ownership alone. */
	r = kind == KUBE_WORKLOAD_CRONJOB ? 0
					  : kube_label_selector(json_object_get(spec, "selector"),
								"spec.selector", &w.selector, &sel_err);
	if (r < 0) {
		set_err(ret_err, "%s \"%s/%s\": %s", kname, ns, name, sel_err ? sel_err : tg_strerror(r));
		return r == -ENOMEM ? r : -TG_EUPSTREAM;
	}
	w.namespace = strdup(ns);
	w.name = strdup(name);
	w.uid = strdup(uid);
	if (!w.namespace || !w.name || !w.uid) {
		kube_workload_release(&w);
		return -ENOMEM;
	}
	*ret = w;
	return 0;
}

/* A list answer: kind, apiVersion, complete, items an array of objects. */
static json_t *list_load(long http_status, const char *body, size_t len, const char *api_version,
			 const char *kind, const char *what, json_t **ret_items, char **ret_err)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	json_t *meta, *items, *cont;

	if (http_status < 200 || http_status > 299) {
		(void)kube_json_status_error(http_status, body, len, what, TG_EUPSTREAM, ret_err);
		return NULL;
	}
	j = kube_json_load_object(body, len, what, ret_err);
	if (!j || kube_json_check_type(j, api_version, kind, what, ret_err) < 0)
		return NULL;
	meta = json_object_get(j, "metadata");
	if (meta && !json_is_object(meta)) {
		set_err(ret_err, "%s: \"metadata\" is not an object", what);
		return NULL;
	}
	/* We never ask for pages: a continue token means a partial list. */
	cont = json_object_get(meta, "continue");
	if (cont && !json_is_null(cont) && (!json_is_string(cont) || json_string_length(cont))) {
		set_err(ret_err, "%s: the answer is only part of the list (\"metadata.continue\")", what);
		return NULL;
	}
	items = json_object_get(j, "items");
	if (items && !json_is_null(items) && !json_is_array(items)) {
		set_err(ret_err, "%s: \"items\" is not a list", what);
		return NULL;
	}
	if (json_array_size(items) > KUBE_MAX_LIST_ITEMS) {
		set_err(ret_err, "%s: more than %d items", what, KUBE_MAX_LIST_ITEMS);
		return NULL;
	}
	*ret_items = items;
	return TAKE_PTR(j);
}

/*
 * The controller ownerReference of obj (metadata.ownerReferences, the one
 * with controller=true), or NULL when it has none.  -TG_EUPSTREAM for a
 * malformed list or two controllers.
 */
static int controller_of(json_t *obj, const char *what, size_t idx, json_t **ret, char **ret_err)
{
	json_t *meta = json_object_get(obj, "metadata"), *refs, *ref, *found = NULL;
	size_t i;

	*ret = NULL;
	if (!json_is_object(obj) || !json_is_object(meta))
		return set_err(ret_err, "%s: item %zu has no \"metadata\" object", what, idx),
		       -TG_EUPSTREAM;
	refs = json_object_get(meta, "ownerReferences");
	if (!refs || json_is_null(refs))
		return 0;
	if (!json_is_array(refs) || json_array_size(refs) > KUBE_MAX_OWNER_REFS)
		return set_err(ret_err, "%s: item %zu: \"metadata.ownerReferences\" is not a list of "
					"at most %d", what, idx, KUBE_MAX_OWNER_REFS), -TG_EUPSTREAM;
	json_array_foreach(refs, i, ref) {
		json_t *c = json_object_get(ref, "controller");

		if (!json_is_object(ref) || !req_str(ref, "apiVersion") || !req_str(ref, "kind") ||
		    !req_str(ref, "name") || !req_str(ref, "uid") ||
		    (c && !json_is_null(c) && !json_is_boolean(c)))
			return set_err(ret_err, "%s: item %zu: \"metadata.ownerReferences[%zu]\" is "
						"malformed", what, idx, i), -TG_EUPSTREAM;
		if (!json_is_true(c))
			continue;
		if (found)
			return set_err(ret_err, "%s: item %zu has more than one controller", what, idx),
			       -TG_EUPSTREAM;
		found = ref;
	}
	*ret = found;
	return 0;
}

static bool controlled_by(json_t *ref, const struct kind_info *k, const char *const *uids)
{
	if (!ref || !k || strcmp(json_string_value(json_object_get(ref, "kind")), k->type) ||
	    strcmp(json_string_value(json_object_get(ref, "apiVersion")), k->api_version))
		return false;
	for (; uids && *uids; uids++)
		if (!strcmp(json_string_value(json_object_get(ref, "uid")), *uids))
			return true;
	return false;
}

/* Every item must be of the workload's namespace. */
static int item_namespace(json_t *item, const char *ns, const char *what, size_t i, char **ret_err)
{
	const char *s = req_str(json_object_get(item, "metadata"), "namespace");

	if (!s || strcmp(s, ns))
		return set_err(ret_err, "%s: item %zu is not of namespace \"%s\"", what, i, ns),
		       -TG_EUPSTREAM;
	return 0;
}

int kube_owned_list_owned(const struct kube_workload *w, long http_status, const char *body,
			  size_t len, char ***ret_uids, char **ret_err)
{
	const struct kind_info *k = w ? kind_info(w->kind) : NULL;
	const struct kind_info *o = w ? kind_info(kube_workload_owns(w->kind)) : NULL;
	const char *const owner[] = { w ? w->uid : NULL, NULL };
	char what[32], list_kind[32];
	_cleanup_(json_decrefp) json_t *j = NULL;
	_cleanup_(strv_freep) char **uids = NULL;
	json_t *items = NULL, *item;
	size_t i, n = 0;
	int r;

	if (!k || !o || !w->uid || !w->namespace || !ret_uids)
		return -EINVAL;
	snprintf(what, sizeof(what), "%s list", o->name);
	snprintf(list_kind, sizeof(list_kind), "%sList", o->type);
	j = list_load(http_status, body, len, o->api_version, list_kind, what, &items, ret_err);
	if (!j)
		return -TG_EUPSTREAM;
	uids = calloc(json_array_size(items) + 1, sizeof(char *));
	if (!uids)
		return -ENOMEM;
	json_array_foreach(items, i, item) {
		json_t *ctl;
		const char *uid;

		r = controller_of(item, what, i, &ctl, ret_err);
		if (r < 0)
			return r;
		r = item_namespace(item, w->namespace, what, i, ret_err);
		if (r < 0)
			return r;
		if (!controlled_by(ctl, k, owner))
			continue;
		uid = req_str(json_object_get(item, "metadata"), "uid");
		if (!uid || !kube_uid_valid(uid))
			return set_err(ret_err, "%s: item %zu: \"metadata.uid\" is missing or malformed",
				       what, i), -TG_EUPSTREAM;
		if (n >= KUBE_MAX_OWNED)
			return set_err(ret_err, "%s: %s \"%s/%s\" owns more than %d %ss", what, k->name,
				       w->namespace, w->name ? w->name : "", KUBE_MAX_OWNED, o->type),
			       -TG_EUPSTREAM;
		uids[n] = strdup(uid);
		if (!uids[n++])
			return -ENOMEM;
	}
	*ret_uids = TAKE_PTR(uids);
	return 0;
}

static int pod_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kube_pod *)a)->name, ((const struct kube_pod *)b)->name);
}

/* across namespaces: by namespace, then name */
static int pod_ns_name_cmp(const void *a, const void *b)
{
	int r = strcmp(((const struct kube_pod *)a)->namespace, ((const struct kube_pod *)b)->namespace);

	return r ? r : pod_name_cmp(a, b);
}

/*
 * item, a pod of the list the caller keeps: when Running, counted in
 * *running and, while there are at most max_pods, parsed into
 * (*pods)[(*n)++] (the array made for nitems on the first).  A Running pod
 * without a node is an odd answer.
 */
static int take_running(json_t *item, size_t nitems, size_t max_pods, struct kube_pod **pods, size_t *n,
			size_t *running, char **ret_err)
{
	json_t *phase = json_object_get(json_object_get(item, "status"), "phase");
	struct kube_pod *p;
	int r;

	if (!json_is_string(phase) || strcmp(json_string_value(phase), "Running"))
		return 0;
	if (++*running > max_pods)
		return 0;   /* counted, for the message */
	if (!*pods && !(*pods = calloc(MIN(nitems, max_pods), sizeof(**pods))))
		return -ENOMEM;
	p = &(*pods)[*n];
	r = kube_pod_from_json(item, p, ret_err);
	if (r < 0)
		return r;
	++*n;
	if (!*p->node) {
		set_err(ret_err, "pod \"%s/%s\" is running but has no \"spec.nodeName\"", p->namespace, p->name);
		return -TG_EUPSTREAM;
	}
	return 0;
}

int kube_pod_list_owned(const struct kube_workload *w, long http_status, const char *body,
			size_t len, const char *const *owner_uids, size_t max_pods,
			struct kube_pod **ret_pods, size_t *ret_count, char **ret_err)
{
	static const char what[] = "pod list";
	_cleanup_(json_decrefp) json_t *j = NULL;
	json_t *items = NULL, *item;
	struct kube_pod *pods = NULL;
	size_t i, n = 0, running = 0;
	int r;

	if (!w || !w->namespace || !ret_pods || !ret_count)
		return -EINVAL;
	*ret_count = 0;
	j = list_load(http_status, body, len, "v1", "PodList", what, &items, ret_err);
	if (!j)
		return -TG_EUPSTREAM;
	json_array_foreach(items, i, item) {
		json_t *ctl;

		r = controller_of(item, what, i, &ctl, ret_err);
		if (r < 0)
			goto fail;
		r = item_namespace(item, w->namespace, what, i, ret_err);
		if (r < 0)
			goto fail;
		if (!controlled_by(ctl, pod_owner(w->kind), owner_uids))
			continue;
		r = take_running(item, json_array_size(items), max_pods, &pods, &n, &running, ret_err);
		if (r < 0)
			goto fail;
	}
	if (running > max_pods) {
		set_err(ret_err, "%s \"%s\" in namespace \"%s\" has %zu running pods, more than %zu",
			kube_workload_kind_name(w->kind), w->name ? w->name : "", w->namespace,
			running, max_pods);
		*ret_count = running;
		r = -TG_ELIMIT;
		goto fail;
	}
	if (n)
		qsort(pods, n, sizeof(*pods), pod_name_cmp);
	*ret_pods = pods;
	*ret_count = n;
	return 0;
fail:
	kube_pods_free(pods, n);
	return r;
}

int kube_pod_list_selected(const char *ns, const struct kube_selector *sel, long http_status,
			   const char *body, size_t len, size_t max_pods, struct kube_pod **ret_pods,
			   size_t *ret_count, char **ret_err)
{
	static const char what[] = "pod list";
	_cleanup_(json_decrefp) json_t *j = NULL;
	json_t *items = NULL, *item;
	struct kube_pod *pods = NULL;
	size_t i, n = 0, running = 0;
	int r;

	if (!sel || !ret_pods || !ret_count)
		return -EINVAL;
	*ret_count = 0;
	j = list_load(http_status, body, len, "v1", "PodList", what, &items, ret_err);
	if (!j)
		return -TG_EUPSTREAM;
	json_array_foreach(items, i, item) {
		json_t *meta = json_object_get(item, "metadata");

		if (ns) {
			r = item_namespace(item, ns, what, i, ret_err);
			if (r < 0)
				goto fail;
		}
		/* the API server filtered already; the gateway decides itself */
		if (!kube_selector_matches(sel, json_object_get(meta, "labels")) ||
		    json_object_get(meta, "deletionTimestamp"))
			continue;
		r = take_running(item, json_array_size(items), max_pods, &pods, &n, &running, ret_err);
		if (r < 0)
			goto fail;
	}
	if (running > max_pods) {
		set_err(ret_err, "label selector \"%s\" matches %zu running pods, more than %zu",
			kube_selector_string(sel), running, max_pods);
		*ret_count = running;
		r = -TG_ELIMIT;
		goto fail;
	}
	if (n)
		qsort(pods, n, sizeof(*pods), pod_ns_name_cmp);
	*ret_pods = pods;
	*ret_count = n;
	return 0;
fail:
	kube_pods_free(pods, n);
	return r;
}
