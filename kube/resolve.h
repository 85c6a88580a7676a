/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A workload target (deployment/NAME, replicaset/, statefulset/,
 * daemonset/, job/, cronjob/) resolved to its Running pods as one
 * asynchronous call that its caller drives: no I/O here (as
 * kube/informer.h), each step hands out the request to send and takes
 * its answer.  A Deployment: GET it, LIST its ReplicaSets, LIST the pods
 * they control; a CronJob: GET it, LIST the namespace's Jobs, LIST the
 * pods they control; the others: GET, LIST the pods they control
 * themselves.  The pods may come from the caller's cache instead of the
 * last LIST (pods_cached).
 */
#ifndef TG_KUBE_RESOLVE_H
#define TG_KUBE_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include "kube/kube.h"
#include "kube/workload.h"

enum kube_resolve_phase {
	KUBE_RESOLVE_WORKLOAD,    /* GET the workload */
	KUBE_RESOLVE_OWNED,       /* LIST what it owns (ReplicaSets, Jobs) */
	KUBE_RESOLVE_PODS,        /* LIST the pods */
};

/* Where a resolution failed (with r->phase). */
enum kube_resolve_fail {
	KUBE_RESOLVE_FAIL_BUILD,  /* the phase's request could not be built */
	KUBE_RESOLVE_FAIL_ANSWER, /* its answer: not found, odd, over max_pods */
	KUBE_RESOLVE_FAIL_MEMORY, /* no memory between two phases */
};

/* The caller's cache: a PodList body of ns's pods whose controller is one
 * of owners (the caller frees it), or NULL: the API server is asked. */
typedef char *(*kube_resolve_cached_fn)(void *ud, const char *ns, const char *const *owners,
					size_t *ret_len);

struct kube_resolve {
	/* set by the caller; ns and name are borrowed */
	enum kube_workload_kind kind;
	const char *ns, *name;
	size_t max_pods;
	kube_resolve_cached_fn pods_cached;   /* or NULL */
	void *ud;

	/* the call's own */
	enum kube_resolve_phase phase;
	enum kube_resolve_fail fail;
	struct kube_workload wl;              /* once read (have_wl) */
	bool have_wl;
	char **owners;                        /* the pods' controllers' uids: the workload's,
						 or its ReplicaSets' (Jobs'); NULL-terminated */
};

/* What a step came to (else a negative errno: r->phase and r->fail say
 * where; -TG_ENOTFOUND no such workload, -TG_ELIMIT more Running pods
 * than max_pods, their count in *ret_count). */
#define KUBE_RESOLVE_SEND 1   /* send *ret_req, hand its answer to kube_resolve_answer */
#define KUBE_RESOLVE_DONE 0   /* *ret_pods, *ret_count (0: none Running) */

/* The first request. */
int kube_resolve_start(struct kube_resolve *r, struct kube_request *ret_req);
/* The answer of the last request: the next one, or the pods (sorted by
 * name; the caller frees them with kube_pods_free). */
int kube_resolve_answer(struct kube_resolve *r, long http_status, const char *body, size_t len,
			struct kube_request *ret_req, struct kube_pod **ret_pods, size_t *ret_count,
			char **ret_err);
void kube_resolve_release(struct kube_resolve *r);

#endif
