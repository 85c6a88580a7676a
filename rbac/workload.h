/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Workload targets: Deployment and ReplicaSet (apps/v1) -> their pods.
 *
 * The same two halves as rbac/kube.h: request builders and response
 * parsers, pure, so the gateway drives them on its own loop.
 *
 *   GET the workload        kube_workload_get_request / kube_workload_parse
 *   (Deployment only)
 *   LIST its ReplicaSets    kube_replicaset_list_request / kube_replicaset_list_owned
 *   LIST its pods           kube_pod_list_request / kube_pod_list_owned
 *
 * Lists are asked for with the workload's spec.selector (matchLabels and
 * matchExpressions) as a labelSelector, then filtered by ownership, as the
 * controllers themselves decide what is theirs: a Deployment owns the
 * ReplicaSets whose controller ownerReference (controller=true) carries
 * its uid, and a ReplicaSet the pods whose controller reference carries
 * its uid.  A pod that merely matches the labels (another workload's, or a
 * bare pod) is not the workload's.  Only pods in phase Running count.
 * Any error or odd answer (wrong kind, a continue token, a malformed
 * ownerReference, two controllers, a pod of another namespace) is an
 * error, never an empty or partial list.
 */
#ifndef TG_RBAC_WORKLOAD_H
#define TG_RBAC_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "rbac/kube.h"

/* Limits on what a workload answer can make us hold or ask for. */
#define KUBE_DEFAULT_MAX_PODS       64      /* running pods one trace may target */
#define KUBE_MAX_LIST_ITEMS         10000   /* items of one list answer */
#define KUBE_MAX_OWNER_REFS         64      /* ownerReferences of one object */
#define KUBE_MAX_SELECTOR_REQS      32      /* matchLabels + matchExpressions */
#define KUBE_MAX_SELECTOR_VALUES    64      /* values of one matchExpression */
#define KUBE_MAX_SELECTOR_BYTES     4096    /* the selector as a query value */
#define KUBE_MAX_REPLICASETS        1024    /* ReplicaSets one Deployment owns */

enum kube_workload_kind {
	KUBE_WORKLOAD_DEPLOYMENT = 1,
	KUBE_WORKLOAD_REPLICASET,
};

/* "deployment", "replicaset" (what targets and messages say). */
const char *kube_workload_kind_name(enum kube_workload_kind kind);
/* "deployments", "replicasets" (the API resource, group "apps"). */
const char *kube_workload_resource(enum kube_workload_kind kind);
/* The kind a target's prefix names, with kubectl's spellings: deployment,
 * deployments, deploy; replicaset, replicasets, rs.  -EINVAL otherwise. */
int kube_workload_kind_from_name(const char *s, size_t len, enum kube_workload_kind *ret);

struct kube_workload {
	enum kube_workload_kind kind;
	char *namespace;
	char *name;
	char *uid;
	char *selector;           /* spec.selector as a labelSelector ("app=web,x in (a,b)") */
};
void kube_workload_release(struct kube_workload *w);

/* GET /apis/apps/v1/namespaces/NS/{deployments,replicasets}/NAME.
 * -EINVAL for a name or namespace Kubernetes would not accept. */
int kube_workload_get_request(enum kube_workload_kind kind, const char *ns, const char *name,
			      struct kube_request *ret);
/* 0 and *ret; -TG_ENOTFOUND on 404; -TG_EUPSTREAM on anything else odd:
 * another kind, namespace or name than asked for, no uid, no selector, an
 * empty selector (it would select every pod), a selector that is not
 * valid.  ns and name are what was asked for. */
int kube_workload_parse(enum kube_workload_kind kind, long http_status, const char *body,
			size_t len, const char *ns, const char *name, struct kube_workload *ret,
			char **ret_err);

/* A LabelSelector object as a labelSelector query value, as Kubernetes'
 * metav1.LabelSelectorAsSelector writes it: requirements sorted by key,
 * In/NotIn values sorted.  NULL, empty or malformed: -EINVAL with
 * *ret_err naming what (at "what", e.g. "spec.selector"); too large:
 * -TG_ELIMIT. */
int kube_label_selector(json_t *sel, const char *what, char **ret, char **ret_err);

/* LIST ReplicaSets of deploy's namespace with deploy's selector. */
int kube_replicaset_list_request(const struct kube_workload *deploy, struct kube_request *ret);
/* The uids of the ReplicaSets deploy controls (NULL-terminated, maybe
 * empty); -TG_EUPSTREAM on any odd answer. */
int kube_replicaset_list_owned(const struct kube_workload *deploy, long http_status,
			       const char *body, size_t len, char ***ret_uids, char **ret_err);

/* LIST pods of w's namespace with w's selector. */
int kube_pod_list_request(const struct kube_workload *w, struct kube_request *ret);
/* The Running pods whose controller is one of the ReplicaSets owner_uids
 * (sorted by name).  More than max_pods: -TG_ELIMIT with *ret_err and
 * *ret_count set to how many there are.  -TG_EUPSTREAM on any odd answer. */
int kube_pod_list_owned(const struct kube_workload *w, long http_status, const char *body,
			size_t len, const char *const *owner_uids, size_t max_pods,
			struct kube_pod **ret_pods, size_t *ret_count, char **ret_err);
/* Frees n pods and the array. */
void kube_pods_free(struct kube_pod *pods, size_t n);

#endif
