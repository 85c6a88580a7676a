/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Workload targets: Deployment, ReplicaSet, StatefulSet, DaemonSet (apps/v1),
 * Job and CronJob (batch/v1) -> their pods.
 *
 * The same two halves as kube/kube.h: request builders and response
 * parsers, pure, so the gateway drives them on its own loop.
 *
 *   GET the workload        kube_workload_get_request / kube_workload_parse
 *   (Deployment, CronJob)
 *   LIST what it owns       kube_owned_list_request / kube_owned_list_owned
 *   (ReplicaSets, Jobs)
 *   LIST its pods           kube_pod_list_request / kube_pod_list_owned
 *
 * Lists are asked for with the workload's spec.selector (matchLabels and
 * matchExpressions) as a labelSelector, then filtered by ownership, as the
 * controllers themselves decide what is theirs: a Deployment owns the
 * ReplicaSets whose controller ownerReference (controller=true) carries
 * its uid, and a ReplicaSet the pods whose controller reference carries
 * its uid; a CronJob owns Jobs and a Job pods the same way; a StatefulSet
 * and a DaemonSet own their pods directly.  A CronJob has no selector: its
 * Jobs and their pods are listed for the whole namespace and kept by
 * ownership alone.  A pod that merely matches the labels (another workload's, or a
 * bare pod) is not the workload's.  Only pods in phase Running count.
 * Any error or odd answer (wrong kind, a continue token, a malformed
 * ownerReference, two controllers, a pod of another namespace) is an
 * error, never an empty or partial list.
 */
#ifndef TG_KUBE_WORKLOAD_H
#define TG_KUBE_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "kube/kube.h"
#include "kube/selector.h"

/* Limits on what a workload answer can make us hold or ask for. */
#define KUBE_DEFAULT_MAX_PODS       64      /* running pods one trace may target */
#define KUBE_MAX_LIST_ITEMS         10000   /* items of one list answer */
#define KUBE_MAX_OWNER_REFS         64      /* ownerReferences of one object */
#define KUBE_MAX_SELECTOR_REQS      32      /* matchLabels + matchExpressions */
#define KUBE_MAX_SELECTOR_VALUES    64      /* values of one matchExpression */
#define KUBE_MAX_SELECTOR_BYTES     4096    /* the selector as a query value */
#define KUBE_MAX_OWNED              1024    /* ReplicaSets (Jobs) one Deployment (CronJob) owns */

enum kube_workload_kind {
	KUBE_WORKLOAD_DEPLOYMENT = 1,
	KUBE_WORKLOAD_REPLICASET,
	KUBE_WORKLOAD_STATEFULSET,
	KUBE_WORKLOAD_DAEMONSET,
	KUBE_WORKLOAD_JOB,
	KUBE_WORKLOAD_CRONJOB,
};

/* "deployment", "replicaset", ... (what targets and messages say). */
const char *kube_workload_kind_name(enum kube_workload_kind kind);
/* "deployments", "replicasets", ... (the API resource). */
const char *kube_workload_resource(enum kube_workload_kind kind);
/* "apps" or "batch": the resource's API group. */
const char *kube_workload_group(enum kube_workload_kind kind);
/* The kind of the objects between the workload and its pods
 * (KUBE_WORKLOAD_REPLICASET for a Deployment, KUBE_WORKLOAD_JOB for a
 * CronJob), 0 for a kind that owns its pods itself. */
enum kube_workload_kind kube_workload_owns(enum kube_workload_kind kind);
/* The kind a target's prefix names, with kubectl's spellings: deployment,
 * deployments, deploy; replicaset, replicasets, rs; statefulset(s), sts;
 * daemonset(s), ds; job(s); cronjob(s), cj.  -EINVAL otherwise. */
int kube_workload_kind_from_name(const char *s, size_t len, enum kube_workload_kind *ret);

struct kube_workload {
	enum kube_workload_kind kind;
	char *namespace;
	char *name;
	char *uid;
	char *selector;           /* spec.selector as a labelSelector ("app=web,x in (a,b)");
				     NULL for a CronJob */
};
void kube_workload_release(struct kube_workload *w);

/* GET /apis/{apps,batch}/v1/namespaces/NS/RESOURCE/NAME.
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

/* LIST what w owns (kube_workload_owns: a Deployment's ReplicaSets, a
 * CronJob's Jobs) in w's namespace, with w's selector if it has one;
 * -EINVAL for a kind that owns its pods itself. */
int kube_owned_list_request(const struct kube_workload *w, struct kube_request *ret);
/* The uids of the objects w controls (NULL-terminated, maybe empty);
 * -TG_EUPSTREAM on any odd answer. */
int kube_owned_list_owned(const struct kube_workload *w, long http_status, const char *body,
			  size_t len, char ***ret_uids, char **ret_err);

/* LIST pods of w's namespace with w's selector (a CronJob: all of them). */
int kube_pod_list_request(const struct kube_workload *w, struct kube_request *ret);
/* The Running pods whose controller is one of owner_uids (of the kind that
 * holds w's pods: w itself, or its ReplicaSets or Jobs)
 * (sorted by name).  More than max_pods: -TG_ELIMIT with *ret_err and
 * *ret_count set to how many there are.  -TG_EUPSTREAM on any odd answer. */
int kube_pod_list_owned(const struct kube_workload *w, long http_status, const char *body,
			size_t len, const char *const *owner_uids, size_t max_pods,
			struct kube_pod **ret_pods, size_t *ret_count, char **ret_err);
/* LIST pods with a tenant's label selector: of namespace ns, or of every
 * namespace when ns is NULL (/api/v1/pods). */
int kube_selector_pod_list_request(const char *ns, const struct kube_selector *sel,
				   struct kube_request *ret);
/* The Running pods of the answer that sel matches (checked here again,
 * not taken from the API server's word), of namespace ns (any when NULL;
 * a pod of another is an odd answer), sorted by namespace and name; the
 * limit and errors as kube_pod_list_owned. */
int kube_pod_list_selected(const char *ns, const struct kube_selector *sel, long http_status,
			   const char *body, size_t len, size_t max_pods, struct kube_pod **ret_pods,
			   size_t *ret_count, char **ret_err);
/* Frees n pods and the array. */
void kube_pods_free(struct kube_pod *pods, size_t n);

#endif
