// SPDX-License-Identifier: Apache-2.0
/*
 * Targets of many pods (a workload: deployment/NAME, replicaset/NAME,
 * statefulset/NAME, daemonset/NAME, job/NAME, cronjob/NAME; a label
 * selector: -l, -A) as steps of the trace request flow: the
 * SubjectAccessReviews they need (get on the workload itself, get or
 * list pods), a selector's policy in every namespace (-A), and the pods
 * that join and leave a running trace (the watch, tested as
 * kube_resolve_member).  Resolving the target is trace-target.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include "gateway/config.h"
#include "gateway/gateway.h"
#include "gateway/status.h"
#include "gateway/trace-container.h"
#include "gateway/trace-int.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "kube/kube.h"
#include "kube/resolve.h"
#include "kube/workload.h"
#include "gateway/runners.h"
#include "gateway/policies.h"
#include "policy/policy.h"
#include "lib/banned.h"

void trace_step_sar_workload(struct trace_req *t)
{
	struct kube_resource_attrs a = { .namespace = t->route.ns, .verb = "get",
					 .group = kube_workload_group(t->tb.kind),
					 .version = "v1",
					 .resource = kube_workload_resource(t->tb.kind),
					 .name = t->tb.name };

	trace_step_sar(t, STEP_SAR_WORKLOAD, &a);
}

/* Any pod of the namespace: which ones the workload has is known only
 * later.  A selector lists pods, as kubectl get pods -l does: list, and
 * with -A at the cluster scope. */
void trace_step_sar_pods(struct trace_req *t)
{
	struct kube_resource_attrs a = { .namespace = t->route.ns, .verb = "get", .group = "",
					 .version = "v1", .resource = "pods" };

	if (t->tb.selector) {
		a.verb = "list";
		a.namespace = t->tb.all_namespaces ? NULL : t->route.ns;
	}
	trace_step_sar(t, STEP_SAR_PODS, &a);
}

/* Whether the policy that allowed t (decided for its first namespace)
 * allows it in ns too: 1 yes, 0 no (*ret_why), < 0 an error. */
static int policy_allows_in(struct trace_req *t, const char *ns, char **ret_why)
{
	struct tg_requester who = { .user = t->user.username,
				    .groups = (const char *const *)t->user.groups, .namespace = ns };
	struct tg_decision d = { 0 };
	int r;

	r = tg_policy_evaluate(gw_policies_current(t->gw->policies), &who, t->prog, "pod", &d);
	if (r < 0)
		return r;
	if (!d.allowed) {
		_cleanup_free_ char *oneline = NULL;

		if (tg_decision_explain(&d, &oneline, NULL) < 0)
			oneline = NULL;
		r = asprintf(ret_why, "namespace \"%s\": %s", ns, oneline ? oneline : "denied by policy");
	} else if (strcmp(d.policy, t->policy)) {
		/* another policy, other limits: one trace has one set */
		r = asprintf(ret_why, "namespace \"%s\" is allowed by policy \"%s\", not by \"%s\" as "
				      "namespace \"%s\" is: trace them separately", ns, d.policy, t->policy,
			     t->pods[0].namespace);
	} else {
		r = 1;
	}
	tg_decision_release(&d);
	if (r == 1)
		return 1;
	if (r < 0)
		*ret_why = NULL;
	return r < 0 ? -ENOMEM : 0;
}

int trace_selector_policy_check(struct trace_req *t)
{
	for (size_t i = 1; i < t->npods; i++) {
		_cleanup_free_ char *why = NULL;
		int r;

		if (!strcmp(t->pods[i].namespace, t->pods[i - 1].namespace))
			continue;   /* sorted by namespace: each once */
		r = policy_allows_in(t, t->pods[i].namespace, &why);
		if (r == 1)
			continue;
		if (r < 0)
			trace_refusef(t, 500, NULL, "policy evaluation failed: %s", tg_strerror(r));
		else
			trace_refusef(t, 403, status_details("traces", "tracegate.dev", NULL),
				      "the program is denied by policy for pods of label selector \"%s\" in %s; "
				      "nothing was started", kube_selector_string(t->tb.selector), why);
		return -1;
	}
	return 0;
}

/* ---- pods joining and leaving a running trace ------------------------------------- */

/* Still streaming from its runners, a workload's (a selector's) pods followed. */
static bool follows_pods(const struct trace_req *t)
{
	return t->step == STEP_STREAM && kube_resolve_followed(&t->res) &&
	       !t->route.dry_run && t->conn && !t->finishing && !t->stop_requested &&
	       t->fan.legs_done < t->fan.nlegs;
}

static void pod_left(struct trace_req *t, size_t i)
{
	char key[400];
	struct leg *l;

	if (!t->pod_left && !(t->pod_left = calloc(t->npods, sizeof(*t->pod_left))))
		return;
	t->pod_left[i] = true;
	snprintf(key, sizeof(key), "%s/%s", t->pods[i].namespace, t->pods[i].name);
	log_info("trace %s: pod \"%s\" left", t->trace_id, key);
	trace_emit_pod_status(t, "pod-left", key, t->pods[i].node, NULL);
	/* a session of that pod alone ends gracefully: its maps still count */
	l = trace_leg_of_joined(t, key);
	if (l && l->x && !l->done && l->status == 200 && !l->stop_sent)
		trace_leg_answered(l);
}

/* A joined pod's session, started from the loop: the watch that saw the
 * pod calls from inside a transfer's callback, where curl takes no new
 * transfer. */
struct join_later {
	struct gateway *gw;
	char trace_id[37];
	char pod[400];
	char node[254];
};

static void join_now(evutil_socket_t fd, short what, void *ud)
{
	struct join_later *j = ud;
	struct trace_req *t;

	(void)fd;
	(void)what;
	for (t = j->gw->reqs; t && strcmp(t->trace_id, j->trace_id); t = t->next)
		;
	if (t && follows_pods(t)) {
		const struct gw_runner *runner = gw_runner_get(t->gw, j->node);

		if (runner)
			(void)trace_leg_join(t, runner, j->pod);
		else
			trace_emit_pod_status(t, "pod-not-joined", j->pod, j->node,
					"not traced: its node's runner went away");
	}
	free(j);
}

/* pod (taken over) joins t: a session of its own on its node.  quiet:
 * it was one of the workload's Running pods already (refused then), so a
 * refusal is not said again at each of its changes. */
static void pod_join(struct trace_req *t, struct kube_pod *pod, bool quiet)
{
	unsigned max = t->gw->cfg->limits.max_pods_per_trace;
	const struct gw_runner *runner = NULL;
	struct kube_pod *pods;
	struct join_later *j;
	char key[400], msg[160];
	bool *left;

	snprintf(key, sizeof(key), "%s/%s", pod->namespace, pod->name);
	if (t->npods >= max) {
		snprintf(msg, sizeof(msg), "not traced: the trace has %zu pods, the limit "
					   "\"maxPodsPerTrace\" (%u)", t->npods, max);
		if (!quiet)
			trace_emit_pod_status(t, "pod-not-joined", key, pod->node, msg);
		kube_pod_release(pod);
		return;
	}
	if (t->tb.all_namespaces) {
		/* a namespace the trace did not start in: its policy too */
		_cleanup_free_ char *why = NULL;
		int r = policy_allows_in(t, pod->namespace, &why);

		if (r != 1) {
			if (!quiet)
				trace_emit_pod_status(t, "pod-not-joined", key, pod->node,
						why ? why : "not traced: the policy cannot be evaluated");
			kube_pod_release(pod);
			return;
		}
	}
	if (t->tb.container) {
		_cleanup_free_ char *err = NULL;
		const struct kube_container *c;
		int code, r = trace_pod_container(pod, t->tb.container, &c, &code, &err);

		if (r != 0) {
			/* not yet: a later change of the pod (its container
			 * started) joins it */
			if (!quiet)
				trace_emit_pod_status(t, "pod-not-joined", key, pod->node,
						err ? err : "not traced: out of memory");
			kube_pod_release(pod);
			return;
		}
	}
	j = calloc(1, sizeof(*j));
	runner = j ? gw_runner_get(t->gw, pod->node) : NULL;
	if (!runner) {
		free(j);
		trace_no_runner_message(pod->node, msg, sizeof(msg));
		if (!quiet)
			trace_emit_pod_status(t, "pod-not-joined", key, pod->node, msg);
		kube_pod_release(pod);
		return;
	}
	pods = reallocarray(t->pods, t->npods + 1, sizeof(*pods));
	if (pods)
		t->pods = pods;
	left = pods && t->pod_left ? reallocarray(t->pod_left, t->npods + 1, sizeof(*left)) : NULL;
	if (left)
		t->pod_left = left;
	gw_runner_put(runner);   /* known now; taken again when the session starts */
	if (!pods || (t->pod_left && !left)) {
		free(j);
		kube_pod_release(pod);
		return;
	}
	if (t->pod_left)
		t->pod_left[t->npods] = false;
	t->pods[t->npods++] = *pod;
	log_info("trace %s: pod \"%s\" joined on node \"%s\"", t->trace_id, key, pod->node);
	trace_emit_pod_status(t, "pod-joined", key, pod->node, NULL);
	*j = (struct join_later){ .gw = t->gw };
	snprintf(j->trace_id, sizeof(j->trace_id), "%s", t->trace_id);
	snprintf(j->pod, sizeof(j->pod), "%s", key);
	snprintf(j->node, sizeof(j->node), "%s", pod->node);
	if (event_base_once(t->gw->base, -1, EV_TIMEOUT, join_now, j, &(struct timeval){ 0 }) < 0) {
		free(j);
		log_error("trace %s: pod \"%s\": its session cannot be scheduled", t->trace_id, key);
	}
}

static void pod_changed(struct trace_req *t, const char *type, json_t *obj, json_t *old)
{
	const char *uid = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
	struct kube_pod pod = { 0 };
	size_t i;
	int r;

	if (!uid)
		return;
	for (i = 0; i < t->npods; i++)
		if (t->pods[i].uid && !strcmp(t->pods[i].uid, uid))
			break;
	r = strcmp(type, "DELETED") ? kube_resolve_member(&t->res, obj, &pod) : 1;
	if (r < 0)
		return;
	if (i < t->npods) {
		/* one of the trace's: still Running, or gone */
		if (r == 0)
			kube_pod_release(&pod);
		else if (!t->pod_left || !t->pod_left[i])
			pod_left(t, i);
		return;
	}
	if (r == 0) {
		struct kube_pod was = { 0 };
		bool quiet = old && kube_resolve_member(&t->res, old, &was) == 0;

		if (quiet)
			kube_pod_release(&was);
		pod_join(t, &pod, quiet);
	}
}

void trace_workload_pod_changed(void *ud, const char *type, json_t *obj, json_t *old)
{
	struct gateway *gw = ud;
	const char *ns = json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
	struct trace_req *t, *next;

	if (!ns || !type)
		return;
	for (t = gw->reqs; t; t = next) {
		next = t->next;
		if (follows_pods(t) && (!t->res.ns || !strcmp(t->res.ns, ns)))
			pod_changed(t, type, obj, old);
	}
}
