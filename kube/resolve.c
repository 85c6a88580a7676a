// SPDX-License-Identifier: Apache-2.0
/*
 * A workload target resolved to its Running pods, one asynchronous call
 * (kube/resolve.h): the chain of requests kube/workload.h builds and
 * parses, in order, with the caller's cache in front of the last.
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

/* The pods' phase: from the cache when it has some of them, else asked. */
static int resolve_pods(struct kube_resolve *r, struct kube_request *ret_req, struct kube_pod **ret_pods,
			size_t *ret_count, char **ret_err)
{
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	int e;

	r->phase = KUBE_RESOLVE_PODS;
	if (r->pods_cached)
		body = r->pods_cached(r->ud, r->ns, (const char *const *)r->owners, &len);
	if (body)
		return kube_resolve_answer(r, 200, body, len, ret_req, ret_pods, ret_count, ret_err);
	e = kube_pod_list_request(&r->wl, ret_req);
	return e < 0 ? resolve_failed(r, KUBE_RESOLVE_FAIL_BUILD, e) : KUBE_RESOLVE_SEND;
}

int kube_resolve_start(struct kube_resolve *r, struct kube_request *ret_req)
{
	int e;

	r->phase = KUBE_RESOLVE_WORKLOAD;
	e = kube_workload_get_request(r->kind, r->ns, r->name, ret_req);
	return e < 0 ? resolve_failed(r, KUBE_RESOLVE_FAIL_BUILD, e) : KUBE_RESOLVE_SEND;
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
		e = kube_owned_list_request(&r->wl, ret_req);
		return e < 0 ? resolve_failed(r, KUBE_RESOLVE_FAIL_BUILD, e) : KUBE_RESOLVE_SEND;
	}
	/* A ReplicaSet, StatefulSet, DaemonSet or Job owns its pods itself. */
	r->owners = calloc(2, sizeof(char *));
	if (!r->owners || !(r->owners[0] = strdup(r->wl.uid)))
		return resolve_failed(r, KUBE_RESOLVE_FAIL_MEMORY, -ENOMEM);
	return resolve_pods(r, ret_req, ret_pods, ret_count, ret_err);
}

int kube_resolve_answer(struct kube_resolve *r, long http_status, const char *body, size_t len,
			struct kube_request *ret_req, struct kube_pod **ret_pods, size_t *ret_count,
			char **ret_err)
{
	int e;

	switch (r->phase) {
	case KUBE_RESOLVE_WORKLOAD:
		return resolve_workload(r, http_status, body, len, ret_req, ret_pods, ret_count, ret_err);
	case KUBE_RESOLVE_OWNED:
		e = kube_owned_list_owned(&r->wl, http_status, body, len, &r->owners, ret_err);
		if (e < 0)
			return resolve_failed(r, KUBE_RESOLVE_FAIL_ANSWER, e);
		return resolve_pods(r, ret_req, ret_pods, ret_count, ret_err);
	case KUBE_RESOLVE_PODS:
		e = kube_pod_list_owned(&r->wl, http_status, body, len, (const char *const *)r->owners,
					r->max_pods, ret_pods, ret_count, ret_err);
		return e < 0 ? resolve_failed(r, KUBE_RESOLVE_FAIL_ANSWER, e) : KUBE_RESOLVE_DONE;
	}
	return resolve_failed(r, KUBE_RESOLVE_FAIL_ANSWER, -EINVAL);
}

void kube_resolve_release(struct kube_resolve *r)
{
	strv_free(r->owners);
	r->owners = NULL;
	if (r->have_wl)
		kube_workload_release(&r->wl);
	r->have_wl = false;
}
