// SPDX-License-Identifier: Apache-2.0
/*
 * A trace's target resolved, one asynchronous call (kube/resolve.h): the
 * requests kube/kube.h and kube/workload.h build and parse, in order,
 * with the caller's cache in front of the pods.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kube/resolve.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/banned.h"

static int resolve_failed(struct kube_resolve *r, enum kube_resolve_fail fail, int err)
{
	r->fail = fail;
	return err;
}

static int resolve_sent(struct kube_resolve *r, int e)
{
	return e < 0 ? resolve_failed(r, KUBE_RESOLVE_FAIL_BUILD, e) : KUBE_RESOLVE_SEND;
}

/* The pods of the LIST: from the cache when it has some of them, else
 * asked (the cache may be behind). */
static int resolve_pods(struct kube_resolve *r, struct kube_request *ret_req, struct kube_pod **ret_pods,
			size_t *ret_count, char **ret_err)
{
	const struct kube_resolve_cache *c = r->cache;
	_cleanup_free_ char *body = NULL;
	size_t len = 0;

	r->phase = KUBE_RESOLVE_PODS;
	if (r->target == KUBE_TARGET_SELECTOR && c && c->selected)
		body = c->selected(r->ud, r->ns, r->selector, &len);
	else if (r->target == KUBE_TARGET_WORKLOAD && c && c->owned)
		body = c->owned(r->ud, r->ns, (const char *const *)r->owners, &len);
	if (body)
		return kube_resolve_answer(r, 200, body, len, ret_req, ret_pods, ret_count, ret_err);
	if (r->target == KUBE_TARGET_SELECTOR)
		return resolve_sent(r, kube_selector_pod_list_request(r->ns, r->selector, ret_req));
	return resolve_sent(r, kube_pod_list_request(&r->wl, ret_req));
}

/* A pod target's one pod (taken over) as the pods resolved. */
static int resolve_one_pod(struct kube_resolve *r, struct kube_pod pod, struct kube_pod **ret_pods,
			   size_t *ret_count)
{
	struct kube_pod *pods = calloc(1, sizeof(*pods));

	if (!pods) {
		kube_pod_release(&pod);
		return resolve_failed(r, KUBE_RESOLVE_FAIL_MEMORY, -ENOMEM);
	}
	pods[0] = pod;
	*ret_pods = pods;
	*ret_count = 1;
	return KUBE_RESOLVE_DONE;
}

/* A pod: from the cache when it has it on a node; one it does not have
 * (just created, the cache not synced) or not on a node yet is asked
 * for. */
static int resolve_pod_start(struct kube_resolve *r, struct kube_request *ret_req, struct kube_pod **ret_pods,
			     size_t *ret_count)
{
	struct kube_pod pod = { 0 };

	r->phase = KUBE_RESOLVE_POD;
	if (r->cache && r->cache->pod && kube_namespace_valid(r->ns) && kube_name_valid(r->name) &&
	    r->cache->pod(r->ud, r->ns, r->name, &pod) == 0) {
		if (pod.node && *pod.node)
			return resolve_one_pod(r, pod, ret_pods, ret_count);
		kube_pod_release(&pod);
	}
	return resolve_sent(r, kube_pod_get_request(r->ns, r->name, ret_req));
}

int kube_resolve_start(struct kube_resolve *r, struct kube_request *ret_req, struct kube_pod **ret_pods,
		       size_t *ret_count, char **ret_err)
{
	switch (r->target) {
	case KUBE_TARGET_POD:
		return resolve_pod_start(r, ret_req, ret_pods, ret_count);
	case KUBE_TARGET_NODE:
		r->phase = KUBE_RESOLVE_NODE;
		return resolve_sent(r, kube_node_get_request(r->name, ret_req));
	case KUBE_TARGET_SELECTOR:
		return resolve_pods(r, ret_req, ret_pods, ret_count, ret_err);
	case KUBE_TARGET_WORKLOAD:
		break;
	}
	r->phase = KUBE_RESOLVE_WORKLOAD;
	return resolve_sent(r, kube_workload_get_request(r->kind, r->ns, r->name, ret_req));
}

static int resolve_workload(struct kube_resolve *r, long http_status, const char *body, size_t len,
			    struct kube_request *ret_req, struct kube_pod **ret_pods, size_t *ret_count,
			    char **ret_err)
{
	int e;

	e = kube_workload_parse(r->kind, http_status, body, len, r->ns, r->name, &r->wl, ret_err);
	if (e < 0)
		return resolve_failed(r, KUBE_RESOLVE_FAIL_ANSWER, e);
	r->have_wl = true;
	if (kube_workload_owns(r->kind)) {
		r->phase = KUBE_RESOLVE_OWNED;
		return resolve_sent(r, kube_owned_list_request(&r->wl, ret_req));
	}
	/* A ReplicaSet, StatefulSet, DaemonSet or Job owns its pods itself. */
	r->owners = calloc(2, sizeof(char *));
	if (!r->owners || !(r->owners[0] = strdup(r->wl.uid)))
		return resolve_failed(r, KUBE_RESOLVE_FAIL_MEMORY, -ENOMEM);
	return resolve_pods(r, ret_req, ret_pods, ret_count, ret_err);
}

/* The pods of a LIST's answer (body) that are the target's. */
static int resolve_listed(const struct kube_resolve *r, long http_status, const char *body, size_t len,
			  size_t max_pods, struct kube_pod **ret_pods, size_t *ret_count, char **ret_err)
{
	if (r->target == KUBE_TARGET_SELECTOR)
		return kube_pod_list_selected(r->ns, r->selector, http_status, body, len, max_pods, ret_pods,
					      ret_count, ret_err);
	return kube_pod_list_owned(&r->wl, http_status, body, len, (const char *const *)r->owners, max_pods,
				   ret_pods, ret_count, ret_err);
}

int kube_resolve_answer(struct kube_resolve *r, long http_status, const char *body, size_t len,
			struct kube_request *ret_req, struct kube_pod **ret_pods, size_t *ret_count,
			char **ret_err)
{
	struct kube_pod pod = { 0 };
	int e;

	switch (r->phase) {
	case KUBE_RESOLVE_POD:
		e = kube_pod_parse(http_status, body, len, &pod, ret_err);
		if (e < 0)
			return resolve_failed(r, KUBE_RESOLVE_FAIL_ANSWER, e);
		return resolve_one_pod(r, pod, ret_pods, ret_count);
	case KUBE_RESOLVE_NODE:
		e = kube_node_parse(http_status, body, len, r->name, ret_err);
		if (e < 0)
			return resolve_failed(r, KUBE_RESOLVE_FAIL_ANSWER, e);
		*ret_count = 0;
		return KUBE_RESOLVE_DONE;
	case KUBE_RESOLVE_WORKLOAD:
		return resolve_workload(r, http_status, body, len, ret_req, ret_pods, ret_count, ret_err);
	case KUBE_RESOLVE_OWNED:
		e = kube_owned_list_owned(&r->wl, http_status, body, len, &r->owners, ret_err);
		if (e < 0)
			return resolve_failed(r, KUBE_RESOLVE_FAIL_ANSWER, e);
		return resolve_pods(r, ret_req, ret_pods, ret_count, ret_err);
	case KUBE_RESOLVE_PODS:
		e = resolve_listed(r, http_status, body, len, r->max_pods, ret_pods, ret_count, ret_err);
		return e < 0 ? resolve_failed(r, KUBE_RESOLVE_FAIL_ANSWER, e) : KUBE_RESOLVE_DONE;
	}
	return resolve_failed(r, KUBE_RESOLVE_FAIL_ANSWER, -EINVAL);
}

bool kube_resolve_followed(const struct kube_resolve *r)
{
	if (r->target == KUBE_TARGET_SELECTOR)
		return true;
	return r->target == KUBE_TARGET_WORKLOAD && r->have_wl && r->owners;
}

int kube_resolve_member(const struct kube_resolve *r, json_t *obj, struct kube_pod *ret)
{
	_cleanup_(json_decrefp) json_t *list = NULL;
	_cleanup_free_ char *text = NULL, *err = NULL;
	struct kube_pod *pods = NULL;
	size_t n = 0;
	int e;

	if (!kube_resolve_followed(r))
		return 1;
	if (json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp"))
		return 1;
	/* the same test as the pods the target resolved to */
	list = json_pack("{s:s, s:s, s:{}, s:[O]}", "kind", "PodList", "apiVersion", "v1", "metadata",
			 "items", obj);
	text = list ? json_dumps(list, JSON_COMPACT) : NULL;
	if (!text)
		return -ENOMEM;
	e = resolve_listed(r, 200, text, strlen(text), 1, &pods, &n, &err);
	if (e < 0 || n != 1) {
		kube_pods_free(pods, n);
		return e == -ENOMEM ? e : 1;
	}
	*ret = pods[0];
	free(pods);
	return 0;
}

void kube_resolve_release(struct kube_resolve *r)
{
	strv_free(r->owners);
	r->owners = NULL;
	if (r->have_wl)
		kube_workload_release(&r->wl);
	r->have_wl = false;
}
