/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A trace's target resolved as one asynchronous call that its caller
 * drives: no I/O here (as kube/informer.h), each step hands out the
 * request to send and takes its answer.
 *
 * - pod/NAME: GET the pod (or the caller's cache, when it has it on a node);
 * - node/NAME: GET the node (it exists; no pods);
 * - -l SELECTOR: LIST the pods it matches, of ns or (ns NULL) every one;
 * - a workload (deployment/NAME, replicaset/, statefulset/, daemonset/,
 *   job/, cronjob/): a Deployment: GET it, LIST its ReplicaSets, LIST the
 *   pods they control; a CronJob: GET it, LIST the namespace's Jobs, LIST
 *   the pods they control; the others: GET, LIST the pods they control
 *   themselves.
 *
 * The pods of a LIST may come from the caller's cache instead
 * (struct kube_resolve_cache).  kube_resolve_member then tells whether a
 * pod seen later (a watch event) is one of the target's, by the same test.
 */
#ifndef TG_KUBE_RESOLVE_H
#define TG_KUBE_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "kube/kube.h"
#include "kube/selector.h"
#include "kube/workload.h"

enum kube_resolve_target {
	KUBE_TARGET_POD,          /* ns/name */
	KUBE_TARGET_NODE,         /* name */
	KUBE_TARGET_SELECTOR,     /* selector, in ns (every namespace when NULL) */
	KUBE_TARGET_WORKLOAD,     /* kind ns/name */
};

enum kube_resolve_phase {
	KUBE_RESOLVE_POD,         /* GET the pod */
	KUBE_RESOLVE_NODE,        /* GET the node */
	KUBE_RESOLVE_WORKLOAD,    /* GET the workload */
	KUBE_RESOLVE_OWNED,       /* LIST what it owns (ReplicaSets, Jobs) */
	KUBE_RESOLVE_PODS,        /* LIST the pods (a workload's, a selector's) */
};

/* Where a resolution failed (with r->phase). */
enum kube_resolve_fail {
	KUBE_RESOLVE_FAIL_BUILD,  /* the phase's request could not be built */
	KUBE_RESOLVE_FAIL_ANSWER, /* its answer: not found, odd, over max_pods */
	KUBE_RESOLVE_FAIL_MEMORY, /* no memory between two phases */
};

/* The caller's cache; any of them may be NULL (the API server is asked). */
struct kube_resolve_cache {
	/* The pod ns/name: 0 and *ret, else ask. */
	int (*pod)(void *ud, const char *ns, const char *name, struct kube_pod *ret);
	/* A PodList body (the caller frees it) of ns's pods whose controller
	 * is one of owners, or NULL. */
	char *(*owned)(void *ud, const char *ns, const char *const *owners, size_t *ret_len);
	/* A PodList body of the pods of ns (every namespace when NULL) that
	 * sel matches, or NULL. */
	char *(*selected)(void *ud, const char *ns, const struct kube_selector *sel, size_t *ret_len);
};

struct kube_resolve {
	/* set by the caller; ns, name, selector and cache are borrowed */
	enum kube_resolve_target target;
	enum kube_workload_kind kind;         /* KUBE_TARGET_WORKLOAD */
	const struct kube_selector *selector; /* KUBE_TARGET_SELECTOR */
	const char *ns, *name;
	size_t max_pods;
	const struct kube_resolve_cache *cache;   /* or NULL */
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
 * where; -TG_ENOTFOUND no such pod, node or workload, -TG_ELIMIT more
 * Running pods than max_pods, their count in *ret_count). */
#define KUBE_RESOLVE_SEND 1   /* send *ret_req, hand its answer to kube_resolve_answer */
#define KUBE_RESOLVE_DONE 0   /* *ret_pods, *ret_count (0: none Running; a node: none) */

/* The first request, or (from the cache) already the pods: the start
 * takes the same out-parameters as an answer. */
int kube_resolve_start(struct kube_resolve *r, struct kube_request *ret_req, struct kube_pod **ret_pods,
		       size_t *ret_count, char **ret_err);
/* The answer of the last request: the next one, or the pods (sorted by
 * name, a selector's by namespace and name; the caller frees them with
 * kube_pods_free).  A pod target's one pod may be on no node yet. */
int kube_resolve_answer(struct kube_resolve *r, long http_status, const char *body, size_t len,
			struct kube_request *ret_req, struct kube_pod **ret_pods, size_t *ret_count,
			char **ret_err);
/* Whether pods may join the target once done (a selector's, a workload's:
 * kube_resolve_member); a pod's and a node's never do. */
bool kube_resolve_followed(const struct kube_resolve *r);
/* Once done: a Pod object (a watch event's) as one of the target's
 * Running pods: 0 and *ret; 1 when it is not one (another owner, not
 * matched, not Running, being deleted, malformed; a pod or node target
 * never has members joining); -ENOMEM. */
int kube_resolve_member(const struct kube_resolve *r, json_t *obj, struct kube_pod *ret);
void kube_resolve_release(struct kube_resolve *r);

#endif
