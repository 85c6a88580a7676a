// SPDX-License-Identifier: Apache-2.0
/*
 * A trace's target resolved, as steps of the request flow: one
 * asynchronous call of kube/resolve.h (a pod, a node, a label selector's
 * pods, a workload's pods; the watch-fed cache in front where it has
 * them), each request a step (STEP_POD, STEP_NODE, STEP_WORKLOAD,
 * STEP_RS_LIST, STEP_POD_LIST) whose answer comes back to
 * trace_target_answered; a failure refused in the target's words.  Then,
 * for every target, the nodes: each must have a runner before any
 * session starts.  A node target (node/NAME) has no pods: its Node and
 * its runner.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/config.h"
#include "gateway/gateway.h"
#include "gateway/runners.h"
#include "gateway/status.h"
#include "gateway/trace-container.h"
#include "gateway/trace-int.h"
#include "kube/kube.h"
#include "kube/resolve.h"
#include "kube/selector.h"
#include "kube/workload.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/banned.h"

static void trace_resolved(struct trace_req *t);
static void node_found(struct trace_req *t);

/* ---- the watch-fed cache in front of the API server ------------------------------- */

static int cached_pod(void *ud, const char *ns, const char *name, struct kube_pod *ret)
{
	struct trace_req *t = ud;
	_cleanup_free_ char *err = NULL;

	return gw_pod_cached(t->gw, ns, name, ret, &err);
}

static char *cached_owned(void *ud, const char *ns, const char *const *owners, size_t *ret_len)
{
	struct trace_req *t = ud;

	return gw_pods_cached_owned(t->gw, ns, owners, ret_len);
}

static char *cached_selected(void *ud, const char *ns, const struct kube_selector *sel, size_t *ret_len)
{
	struct trace_req *t = ud;

	return gw_pods_cached_selected(t->gw, ns, sel, ret_len);
}

static const struct kube_resolve_cache target_cache = {
	.pod = cached_pod,
	.owned = cached_owned,
	.selected = cached_selected,
};

/* ---- refusals in the target's words ------------------------------------------------ */

/* The request a phase sends, as its 503 and its refusals name it. */
static void phase_what(const struct trace_req *t, char *out, size_t n)
{
	switch (t->res.phase) {
	case KUBE_RESOLVE_POD:
		snprintf(out, n, "pod get");
		return;
	case KUBE_RESOLVE_NODE:
		snprintf(out, n, "node get");
		return;
	case KUBE_RESOLVE_WORKLOAD:
		snprintf(out, n, "%s", kube_workload_kind_name(t->tb.kind));
		return;
	case KUBE_RESOLVE_OWNED:
		snprintf(out, n, "%s list", kube_workload_kind_name(kube_workload_owns(t->tb.kind)));
		return;
	case KUBE_RESOLVE_PODS:
		break;
	}
	snprintf(out, n, "pod list");
}

/* What the selector's pods are called in messages. */
static void selector_where(const struct trace_req *t, char *out, size_t n)
{
	if (t->tb.all_namespaces)
		snprintf(out, n, "in any namespace");
	else
		snprintf(out, n, "in namespace \"%s\"", t->route.ns);
}

/* The phase's request could not be built (a name the API would not
 * take; no memory). */
static void build_failed(struct trace_req *t, int r, const char *what)
{
	switch (t->res.target) {
	case KUBE_TARGET_POD:
		trace_refusef(t, 400, NULL, "pod \"%s\" in namespace \"%s\" cannot be looked up: %s",
			      t->tb.name, t->route.ns, tg_strerror(r));
		return;
	case KUBE_TARGET_NODE:
		trace_refusef(t, 400, NULL, "node \"%s\" cannot be looked up: %s", t->tb.name, tg_strerror(r));
		return;
	case KUBE_TARGET_SELECTOR:
		trace_refusef(t, r == -ENOMEM ? 500 : 400, NULL, "pods of label selector \"%s\" cannot be listed: %s",
			      kube_selector_string(t->tb.selector), tg_strerror(r));
		return;
	case KUBE_TARGET_WORKLOAD:
		break;
	}
	if (t->res.phase == KUBE_RESOLVE_WORKLOAD)
		trace_refusef(t, 400, NULL, "%s \"%s\" in namespace \"%s\" cannot be looked up: %s", what,
			      t->tb.name, t->route.ns, tg_strerror(r));
	else
		trace_refusef(t, r == -ENOMEM ? 500 : 503, NULL,
			      "%s of %s \"%s\" in namespace \"%s\" cannot be built: %s", what,
			      kube_workload_kind_name(t->tb.kind), t->tb.name, t->route.ns, tg_strerror(r));
}

/* More running pods than "maxPodsPerTrace": n of them. */
static void too_many_pods(struct trace_req *t, size_t n)
{
	unsigned max = t->gw->cfg->limits.max_pods_per_trace;
	const char *res = kube_workload_resource(t->tb.kind), *group = kube_workload_group(t->tb.kind);
	_cleanup_free_ char *msg = NULL;
	char where[128];
	json_t *d;

	if (t->res.target == KUBE_TARGET_SELECTOR) {
		selector_where(t, where, sizeof(where));
		trace_refusef(t, 400, NULL, "label selector \"%s\" matches %zu running pods %s, more than the "
					    "limit \"maxPodsPerTrace\" (%u) of pods one trace may target",
			      kube_selector_string(t->tb.selector), n, where, max);
		return;
	}
	d = status_details(res, group, t->tb.name);
	if (asprintf(&msg, "%s \"%s\" in namespace \"%s\" has %zu running pods, more than "
			   "the limit \"maxPodsPerTrace\" (%u) of pods one trace may target",
		     kube_workload_kind_name(t->tb.kind), t->tb.name, t->route.ns, n, max) < 0)
		msg = NULL;
	if (d)
		status_add_cause(d, "FieldValueInvalid", "target", msg ? msg : "too many pods");
	trace_refuse(t, 400, msg ? msg : "too many pods (limit \"maxPodsPerTrace\")", d);
}

/* The answer of the phase's request: not found, too many pods, or the
 * API server's fault. */
static void answer_failed(struct trace_req *t, int r, size_t n, const char *err, const char *what)
{
	const char *res = kube_workload_resource(t->tb.kind), *group = kube_workload_group(t->tb.kind);

	if (r == -TG_ELIMIT && t->res.phase == KUBE_RESOLVE_PODS) {
		too_many_pods(t, n);
		return;
	}
	if (r != -TG_ENOTFOUND || t->res.phase == KUBE_RESOLVE_OWNED || t->res.phase == KUBE_RESOLVE_PODS) {
		trace_refusef(t, r == -ENOMEM ? 500 : 503, NULL, "API server unavailable: %s%s: %s", what,
			      t->res.phase == KUBE_RESOLVE_WORKLOAD ? " get" : "", err ? err : tg_strerror(r));
		return;
	}
	if (t->res.phase == KUBE_RESOLVE_POD)
		trace_refusef(t, 404, status_details("pods", "", t->tb.name),
			      "pods \"%s\" not found in namespace \"%s\"", t->tb.name, t->route.ns);
	else if (t->res.phase == KUBE_RESOLVE_NODE)
		trace_refusef(t, 404, status_details("nodes", "", t->tb.name), "nodes \"%s\" not found",
			      t->tb.name);
	else
		trace_refusef(t, 404, status_details(res, group, t->tb.name),
			      "%s.%s \"%s\" not found in namespace \"%s\"", res, group, t->tb.name, t->route.ns);
}

/* ---- the call ------------------------------------------------------------------------ */

/* The target resolved: n pods in t->pods (a node: none). */
static void target_done(struct trace_req *t, size_t n)
{
	char where[128];

	t->npods = n;
	switch (t->res.target) {
	case KUBE_TARGET_NODE:
		node_found(t);
		return;
	case KUBE_TARGET_POD:
		if (!t->pods[0].node || !*t->pods[0].node) {
			trace_refusef(t, 409, status_details("pods", "", t->tb.name),
				      "pod \"%s\" in namespace \"%s\" is not scheduled to a node", t->tb.name,
				      t->route.ns);
			return;
		}
		break;
	case KUBE_TARGET_SELECTOR:
		if (n)
			break;
		selector_where(t, where, sizeof(where));
		trace_refusef(t, 404, status_details("pods", "", NULL),
			      "no running pods match label selector \"%s\" %s; nothing was started",
			      kube_selector_string(t->tb.selector), where);
		return;
	case KUBE_TARGET_WORKLOAD:
		if (n)
			break;
		trace_refusef(t, 409, status_details(kube_workload_resource(t->tb.kind),
						     kube_workload_group(t->tb.kind), t->tb.name),
			      "%s \"%s\" in namespace \"%s\" has no running pods",
			      kube_workload_kind_name(t->tb.kind), t->tb.name, t->route.ns);
		return;
	}
	trace_resolved(t);
}

/* Where a step of the resolution came to: the next request sent, the
 * target resolved, or the refusal naming the phase. */
static void target_went(struct trace_req *t, int r, size_t n, const char *err)
{
	static const enum trace_step steps[] = {
		[KUBE_RESOLVE_POD] = STEP_POD,
		[KUBE_RESOLVE_NODE] = STEP_NODE,
		[KUBE_RESOLVE_WORKLOAD] = STEP_WORKLOAD,
		[KUBE_RESOLVE_OWNED] = STEP_RS_LIST,
		[KUBE_RESOLVE_PODS] = STEP_POD_LIST,
	};
	char what[32];

	t->step = steps[t->res.phase];
	phase_what(t, what, sizeof(what));
	if (r == KUBE_RESOLVE_SEND) {
		r = trace_kube_start(t);
		if (r < 0)
			trace_upstream_failed(t, what, r);
	} else if (r == KUBE_RESOLVE_DONE) {
		target_done(t, n);
	} else if (t->res.fail == KUBE_RESOLVE_FAIL_MEMORY) {
		trace_refuse(t, 500, "out of memory", NULL);
	} else if (t->res.fail == KUBE_RESOLVE_FAIL_BUILD) {
		build_failed(t, r, what);
	} else {
		answer_failed(t, r, n, err, what);
	}
}

void trace_step_target(struct trace_req *t)
{
	_cleanup_free_ char *err = NULL;
	size_t n = 0;
	int r;

	t->res = (struct kube_resolve){ .target = KUBE_TARGET_POD, .ns = t->route.ns, .name = t->tb.name,
					.max_pods = t->gw->cfg->limits.max_pods_per_trace,
					.cache = &target_cache, .ud = t };
	if (t->tb.node) {
		t->res.target = KUBE_TARGET_NODE;
	} else if (t->tb.selector) {
		t->res.target = KUBE_TARGET_SELECTOR;
		t->res.selector = t->tb.selector;
		t->res.ns = t->tb.all_namespaces ? NULL : t->route.ns;
	} else if (t->tb.kind) {
		t->res.target = KUBE_TARGET_WORKLOAD;
		t->res.kind = t->tb.kind;
	}
	r = kube_resolve_start(&t->res, &t->kreq, &t->pods, &n, &err);
	target_went(t, r, n, err);
}

void trace_target_answered(struct trace_req *t, long status, const char *body, size_t len)
{
	_cleanup_free_ char *err = NULL;
	size_t n = 0;
	int r;

	r = kube_resolve_answer(&t->res, status, body, len, &t->kreq, &t->pods, &n, &err);
	target_went(t, r, n, err);
}

/* ---- the nodes, each with a runner ------------------------------------------------- */

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* -c NAME: every pod has that container running, else the refusal
 * (the first pod's that has not: a workload's pods share a template). */
static int containers_check(struct trace_req *t)
{
	for (size_t i = 0; t->tb.container && i < t->npods; i++) {
		_cleanup_free_ char *err = NULL;
		const struct kube_container *c;
		int code = 500, r;

		r = trace_pod_container(&t->pods[i], t->tb.container, &c, &code, &err);
		if (r == 0)
			continue;
		trace_refusef(t, r < 0 ? 500 : code, status_details("pods", "", t->pods[i].name), "%s%s",
			      err ? err : "out of memory", t->tb.kind ? "; nothing was started" : "");
		return -1;
	}
	return 0;
}

/* The pods on nodes without a runner (runners[i] NULL) out of t->pods
 * into t->left_out, and those nodes out of t->nodes. */
static int leave_out_runnerless(struct trace_req *t, size_t nmissing_pods)
{
	size_t kept = 0, k = 0;

	t->left_out = calloc(nmissing_pods, sizeof(*t->left_out));
	if (!t->left_out)
		return -ENOMEM;
	for (size_t i = 0; i < t->npods; i++) {
		bool has = false;

		for (size_t n = 0; n < t->nnodes && !has; n++)
			has = t->runners[n] && !strcmp(t->nodes[n], t->pods[i].node);
		if (has) {
			t->pods[kept++] = t->pods[i];
			continue;
		}
		log_info("trace %s: pod \"%s/%s\" left out: no runner for node \"%s\"", t->trace_id,
			 t->pods[i].namespace, t->pods[i].name, t->pods[i].node);
		t->left_out[t->nleft_out++] = t->pods[i];
	}
	t->npods = kept;
	for (size_t n = 0; n < t->nnodes; n++) {
		if (!t->runners[n]) {
			free(t->nodes[n]);
			continue;
		}
		t->nodes[k] = t->nodes[n];
		t->runners[k++] = t->runners[n];
	}
	t->nodes[k] = NULL;
	t->runners[k] = NULL;
	t->nnodes = k;
	return 0;
}

/*
 * The pods are known: the nodes they run on, each with a runner.  Every
 * node is checked before anything starts.  A pod or node target on a
 * node without one is refused (503); a workload's or a selector's pods
 * there are left out and named (as a pod joining later there is), unless
 * no pod is left or "allNodes" asks for all or nothing.
 */
static void trace_resolved(struct trace_req *t)
{
	const struct kube_pod *missing = NULL;
	size_t nmissing = 0, nmissing_pods = 0, n = 0;

	if (containers_check(t) < 0)
		return;
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
		if (t->runners[i])
			continue;
		nmissing++;
		for (size_t k = 0; k < t->npods; k++)
			if (!strcmp(t->pods[k].node, t->nodes[i])) {
				if (!missing)
					missing = &t->pods[k];
				nmissing_pods++;
			}
	}
	if (missing && nmissing < n && (t->tb.kind || t->tb.selector) && !t->tb.all_nodes) {
		if (leave_out_runnerless(t, nmissing_pods) < 0)
			trace_refuse(t, 500, "out of memory", NULL);
		else
			trace_goto(t, STEP_DECIDE);
		return;
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
	trace_goto(t, STEP_DECIDE);
}

/*
 * A node target's Node exists (asked of the API server: the gateway keeps
 * no node cache): its runner, then the decision, in scope "node", with no
 * namespace.  The session it opens says "scope": "node" and carries no
 * pods (docs/internals/contracts.md).
 */
static void node_found(struct trace_req *t)
{
	t->nodes = calloc(2, sizeof(char *));
	t->runners = calloc(2, sizeof(*t->runners));
	if (!t->nodes || !t->runners || !(t->nodes[0] = strdup(t->tb.name))) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	t->nnodes = 1;
	t->runners[0] = gw_runner_get(t->gw, t->tb.name);
	if (!t->runners[0]) {
		trace_refusef(t, 503, NULL, "no runner for node \"%s\"; nothing was started", t->tb.name);
		return;
	}
	trace_goto(t, STEP_DECIDE);
}
