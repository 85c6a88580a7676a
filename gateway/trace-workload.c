// SPDX-License-Identifier: Apache-2.0
/*
 * Workload targets (deployment/NAME, replicaset/NAME, statefulset/NAME,
 * daemonset/NAME, job/NAME, cronjob/NAME) as steps of the trace request
 * flow: the SubjectAccessReviews a workload needs (get on the workload
 * itself, get pods in the namespace), the workload, what it owns (a
 * Deployment's ReplicaSets, a CronJob's Jobs), the Running pods
 * (rbac/workload.h), and then, for every
 * target, the nodes: each must have a runner before any session starts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/config.h"
#include "gateway/status.h"
#include "gateway/trace-int.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "rbac/kube.h"
#include "rbac/workload.h"
#include "gateway/runners.h"
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

/* Any pod of the namespace: which ones the workload has is known only later. */
void trace_step_sar_pods(struct trace_req *t)
{
	struct kube_resource_attrs a = { .namespace = t->route.ns, .verb = "get", .group = "",
					 .version = "v1", .resource = "pods" };

	trace_step_sar(t, STEP_SAR_PODS, &a);
}

void trace_step_workload(struct trace_req *t)
{
	int r;

	t->step = STEP_WORKLOAD;
	r = kube_workload_get_request(t->tb.kind, t->route.ns, t->tb.name, &t->kreq);
	if (r < 0) {
		trace_refusef(t, 400, NULL, "%s \"%s\" in namespace \"%s\" cannot be looked up: %s",
			      kube_workload_kind_name(t->tb.kind), t->tb.name, t->route.ns,
			      tg_strerror(r));
		return;
	}
	r = trace_kube_start(t);
	if (r < 0)
		trace_upstream_failed(t, kube_workload_kind_name(t->tb.kind), r);
}

static void step_list(struct trace_req *t, enum trace_step step)
{
	char what[32];
	int r;

	snprintf(what, sizeof(what), "%s list",
		 step == STEP_RS_LIST ? kube_workload_kind_name(kube_workload_owns(t->tb.kind)) : "pod");
	t->step = step;
	/* The pods from the watch-fed cache when it has some of the
	 * workload's; none there (a cache behind, or unsynced): the LIST. */
	if (step == STEP_POD_LIST) {
		size_t len = 0;
		_cleanup_free_ char *body = gw_pods_cached_owned(t->gw, t->route.ns,
								  (const char *const *)t->rs_uids, &len);

		if (body) {
			trace_pod_list_done(t, 200, body, len);
			return;
		}
	}
	r = step == STEP_RS_LIST ? kube_owned_list_request(&t->wl, &t->kreq)
				 : kube_pod_list_request(&t->wl, &t->kreq);
	if (r < 0) {
		trace_refusef(t, r == -ENOMEM ? 500 : 503, NULL,
			      "%s of %s \"%s\" in namespace \"%s\" cannot be built: %s", what,
			      kube_workload_kind_name(t->tb.kind), t->tb.name, t->route.ns,
			      tg_strerror(r));
		return;
	}
	r = trace_kube_start(t);
	if (r < 0)
		trace_upstream_failed(t, what, r);
}

void trace_workload_done(struct trace_req *t, long status, const char *body, size_t len)
{
	const char *kind = kube_workload_kind_name(t->tb.kind);
	_cleanup_free_ char *err = NULL;
	int r;

	r = kube_workload_parse(t->tb.kind, status, body, len, t->route.ns, t->tb.name, &t->wl, &err);
	if (r == -TG_ENOTFOUND) {
		trace_refusef(t, 404, status_details(kube_workload_resource(t->tb.kind), kube_workload_group(t->tb.kind),
						     t->tb.name),
			      "%s.%s \"%s\" not found in namespace \"%s\"",
			      kube_workload_resource(t->tb.kind), kube_workload_group(t->tb.kind),
			      t->tb.name, t->route.ns);
		return;
	}
	if (r < 0) {
		trace_refusef(t, r == -ENOMEM ? 500 : 503, NULL, "API server unavailable: %s get: %s",
			      kind, err ? err : tg_strerror(r));
		return;
	}
	t->have_wl = true;
	if (kube_workload_owns(t->tb.kind)) {
		step_list(t, STEP_RS_LIST);
		return;
	}
	/* A ReplicaSet, StatefulSet, DaemonSet or Job owns its pods itself. */
	t->rs_uids = calloc(2, sizeof(char *));
	if (!t->rs_uids || !(t->rs_uids[0] = strdup(t->wl.uid))) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	step_list(t, STEP_POD_LIST);
}

void trace_rs_list_done(struct trace_req *t, long status, const char *body, size_t len)
{
	_cleanup_free_ char *err = NULL;
	int r;

	r = kube_owned_list_owned(&t->wl, status, body, len, &t->rs_uids, &err);
	if (r < 0) {
		trace_refusef(t, r == -ENOMEM ? 500 : 503, NULL, "API server unavailable: %s list: %s",
			      kube_workload_kind_name(kube_workload_owns(t->tb.kind)),
			      err ? err : tg_strerror(r));
		return;
	}
	step_list(t, STEP_POD_LIST);
}

void trace_pod_list_done(struct trace_req *t, long status, const char *body, size_t len)
{
	const char *kind = kube_workload_kind_name(t->tb.kind);
	unsigned max = t->gw->cfg->limits.max_pods_per_trace;
	_cleanup_free_ char *err = NULL;
	size_t n = 0;
	int r;

	r = kube_pod_list_owned(&t->wl, status, body, len, (const char *const *)t->rs_uids, max,
				&t->pods, &n, &err);
	if (r == -TG_ELIMIT) {
		_cleanup_free_ char *msg = NULL;
		json_t *d = status_details(kube_workload_resource(t->tb.kind), kube_workload_group(t->tb.kind), t->tb.name);

		if (asprintf(&msg, "%s \"%s\" in namespace \"%s\" has %zu running pods, more than "
				   "the limit \"maxPodsPerTrace\" (%u) of pods one trace may target",
			     kind, t->tb.name, t->route.ns, n, max) < 0)
			msg = NULL;
		if (d)
			status_add_cause(d, "FieldValueInvalid", "target", msg ? msg : "too many pods");
		trace_refuse(t, 400, msg ? msg : "too many pods (limit \"maxPodsPerTrace\")", d);
		return;
	}
	if (r < 0) {
		trace_refusef(t, r == -ENOMEM ? 500 : 503, NULL, "API server unavailable: pod list: %s",
			      err ? err : tg_strerror(r));
		return;
	}
	t->npods = n;
	if (!n) {
		trace_refusef(t, 409, status_details(kube_workload_resource(t->tb.kind), kube_workload_group(t->tb.kind),
						     t->tb.name),
			      "%s \"%s\" in namespace \"%s\" has no running pods", kind, t->tb.name,
			      t->route.ns);
		return;
	}
	trace_resolved(t);
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The pods are known: the nodes they run on, each with a runner.  Every
 * node is checked before anything starts: one without a runner refuses
 * the whole trace (503), so a trace never runs on some nodes only.
 */
void trace_resolved(struct trace_req *t)
{
	const struct kube_pod *missing = NULL;
	size_t nmissing = 0, n = 0;

	t->nodes = calloc(t->npods + 1, sizeof(char *));
	if (!t->nodes) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	for (size_t i = 0; i < t->npods; i++) {
		bool seen = false;

		for (size_t k = 0; k < n && !seen; k++)
			seen = !strcmp(t->nodes[k], t->pods[i].node);
		if (seen)
			continue;
		t->nodes[n] = strdup(t->pods[i].node);
		if (!t->nodes[n]) {
			trace_refuse(t, 500, "out of memory", NULL);
			return;
		}
		n++;
	}
	qsort(t->nodes, n, sizeof(char *), strp_cmp);
	t->nnodes = n;
	/* the runner each node has now is the one its session goes to */
	t->runners = calloc(n + 1, sizeof(*t->runners));
	if (!t->runners) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		t->runners[i] = gw_runner_get(t->gw, t->nodes[i]);
		for (size_t k = 0; k < t->npods && !t->runners[i]; k++)
			if (!strcmp(t->pods[k].node, t->nodes[i])) {
				if (!missing)
					missing = &t->pods[k];
				nmissing++;
				break;
			}
	}
	if (missing) {
		_cleanup_free_ char *more = NULL;

		if (nmissing > 1 && asprintf(&more, " (and %zu more nodes without one)", nmissing - 1) < 0)
			more = NULL;
		trace_refusef(t, 503, NULL, "no runner for node \"%s\" of pod \"%s/%s\"%s%s",
			      missing->node, missing->namespace, missing->name, more ? more : "",
			      t->tb.kind ? "; nothing was started" : "");
		return;
	}
	trace_step_decide(t);
}
