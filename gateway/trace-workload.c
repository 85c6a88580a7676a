// SPDX-License-Identifier: Apache-2.0
/*
 * Workload targets (deployment/NAME, replicaset/NAME, statefulset/NAME,
 * daemonset/NAME, job/NAME, cronjob/NAME) as steps of the trace request
 * flow: the SubjectAccessReviews a workload needs (get on the workload
 * itself, get pods in the namespace), the workload, what it owns (a
 * Deployment's ReplicaSets, a CronJob's Jobs), the Running pods
 * (kube/workload.h), and then, for every
 * target, the nodes: each must have a runner before any session starts.
 * A node target (node/NAME) has no pods: its Node and its runner.
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

/* ---- a label selector: -l SELECTOR [-A] --------------------------------------------- */

/* What the selector's pods are called in messages. */
static void selector_where(const struct trace_req *t, char *out, size_t n)
{
	if (t->tb.all_namespaces)
		snprintf(out, n, "in any namespace");
	else
		snprintf(out, n, "in namespace \"%s\"", t->route.ns);
}

static void selector_list_done(struct trace_req *t, long status, const char *body, size_t len);

void trace_step_selector(struct trace_req *t)
{
	const char *ns = t->tb.all_namespaces ? NULL : t->route.ns;
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	int r;

	t->step = STEP_POD_LIST;
	/* the watch-fed cache when it has some; none there: the LIST */
	body = gw_pods_cached_selected(t->gw, ns, t->tb.selector, &len);
	if (body) {
		selector_list_done(t, 200, body, len);
		return;
	}
	r = kube_selector_pod_list_request(ns, t->tb.selector, &t->kreq);
	if (r < 0) {
		trace_refusef(t, r == -ENOMEM ? 500 : 400, NULL, "pods of label selector \"%s\" cannot be listed: %s",
			      kube_selector_string(t->tb.selector), tg_strerror(r));
		return;
	}
	r = trace_kube_start(t);
	if (r < 0)
		trace_upstream_failed(t, "pod list", r);
}

static void selector_list_done(struct trace_req *t, long status, const char *body, size_t len)
{
	unsigned max = t->gw->cfg->limits.max_pods_per_trace;
	const char *sel = kube_selector_string(t->tb.selector);
	_cleanup_free_ char *err = NULL;
	char where[128];
	size_t n = 0;
	int r;

	selector_where(t, where, sizeof(where));
	r = kube_pod_list_selected(t->tb.all_namespaces ? NULL : t->route.ns, t->tb.selector, status, body,
				   len, max, &t->pods, &n, &err);
	if (r == -TG_ELIMIT) {
		trace_refusef(t, 400, NULL, "label selector \"%s\" matches %zu running pods %s, more than the "
					    "limit \"maxPodsPerTrace\" (%u) of pods one trace may target",
			      sel, n, where, max);
		return;
	}
	if (r < 0) {
		trace_refusef(t, r == -ENOMEM ? 500 : 503, NULL, "API server unavailable: pod list: %s",
			      err ? err : tg_strerror(r));
		return;
	}
	t->npods = n;
	if (!n) {
		trace_refusef(t, 404, status_details("pods", "", NULL),
			      "no running pods match label selector \"%s\" %s; nothing was started", sel, where);
		return;
	}
	trace_resolved(t);
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

/* ---- a workload: one asynchronous call of kube/resolve.h ---------------------------- */

static char *cached_owned(void *ud, const char *ns, const char *const *owners, size_t *ret_len)
{
	struct trace_req *t = ud;

	/* The pods from the watch-fed cache when it has some of the
	 * workload's; none there (a cache behind, or unsynced): the LIST. */
	return gw_pods_cached_owned(t->gw, ns, owners, ret_len);
}

/* The request a phase sends, as its 503 and its refusals name it. */
static void phase_what(const struct trace_req *t, char *out, size_t n)
{
	if (t->res.phase == KUBE_RESOLVE_WORKLOAD)
		snprintf(out, n, "%s", kube_workload_kind_name(t->tb.kind));
	else
		snprintf(out, n, "%s list",
			 t->res.phase == KUBE_RESOLVE_OWNED ? kube_workload_kind_name(kube_workload_owns(t->tb.kind))
							    : "pod");
}

static void resolve_answer_failed(struct trace_req *t, int r, size_t n, const char *err)
{
	const char *kind = kube_workload_kind_name(t->tb.kind);
	unsigned max = t->gw->cfg->limits.max_pods_per_trace;
	const char *res = kube_workload_resource(t->tb.kind), *group = kube_workload_group(t->tb.kind);

	if (t->res.phase == KUBE_RESOLVE_WORKLOAD && r == -TG_ENOTFOUND) {
		trace_refusef(t, 404, status_details(res, group, t->tb.name),
			      "%s.%s \"%s\" not found in namespace \"%s\"", res, group, t->tb.name, t->route.ns);
	} else if (t->res.phase == KUBE_RESOLVE_WORKLOAD) {
		trace_refusef(t, r == -ENOMEM ? 500 : 503, NULL, "API server unavailable: %s get: %s",
			      kind, err ? err : tg_strerror(r));
	} else if (t->res.phase == KUBE_RESOLVE_OWNED) {
		trace_refusef(t, r == -ENOMEM ? 500 : 503, NULL, "API server unavailable: %s list: %s",
			      kube_workload_kind_name(kube_workload_owns(t->tb.kind)),
			      err ? err : tg_strerror(r));
	} else if (r == -TG_ELIMIT) {
		_cleanup_free_ char *msg = NULL;
		json_t *d = status_details(res, group, t->tb.name);

		if (asprintf(&msg, "%s \"%s\" in namespace \"%s\" has %zu running pods, more than "
				   "the limit \"maxPodsPerTrace\" (%u) of pods one trace may target",
			     kind, t->tb.name, t->route.ns, n, max) < 0)
			msg = NULL;
		if (d)
			status_add_cause(d, "FieldValueInvalid", "target", msg ? msg : "too many pods");
		trace_refuse(t, 400, msg ? msg : "too many pods (limit \"maxPodsPerTrace\")", d);
	} else {
		trace_refusef(t, r == -ENOMEM ? 500 : 503, NULL, "API server unavailable: pod list: %s",
			      err ? err : tg_strerror(r));
	}
}

/* Where a step of the resolution came to: the next request sent, the
 * pods, or the refusal naming the phase. */
static void resolve_went(struct trace_req *t, int r, size_t n, const char *err)
{
	static const enum trace_step steps[] = {
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
		return;
	}
	if (r == KUBE_RESOLVE_DONE) {
		t->npods = n;
		if (!n) {
			trace_refusef(t, 409, status_details(kube_workload_resource(t->tb.kind),
							     kube_workload_group(t->tb.kind), t->tb.name),
				      "%s \"%s\" in namespace \"%s\" has no running pods",
				      kube_workload_kind_name(t->tb.kind), t->tb.name, t->route.ns);
			return;
		}
		trace_resolved(t);
		return;
	}
	if (t->res.fail == KUBE_RESOLVE_FAIL_MEMORY)
		trace_refuse(t, 500, "out of memory", NULL);
	else if (t->res.fail == KUBE_RESOLVE_FAIL_BUILD && t->res.phase == KUBE_RESOLVE_WORKLOAD)
		trace_refusef(t, 400, NULL, "%s \"%s\" in namespace \"%s\" cannot be looked up: %s", what,
			      t->tb.name, t->route.ns, tg_strerror(r));
	else if (t->res.fail == KUBE_RESOLVE_FAIL_BUILD)
		trace_refusef(t, r == -ENOMEM ? 500 : 503, NULL,
			      "%s of %s \"%s\" in namespace \"%s\" cannot be built: %s", what,
			      kube_workload_kind_name(t->tb.kind), t->tb.name, t->route.ns, tg_strerror(r));
	else
		resolve_answer_failed(t, r, n, err);
}

void trace_step_workload(struct trace_req *t)
{
	t->res = (struct kube_resolve){ .kind = t->tb.kind, .ns = t->route.ns, .name = t->tb.name,
					.max_pods = t->gw->cfg->limits.max_pods_per_trace,
					.pods_cached = cached_owned, .ud = t };
	resolve_went(t, kube_resolve_start(&t->res, &t->kreq), 0, NULL);
}

/* The answered entry of the workload's steps (and of a selector's LIST). */
void trace_workload_answered(struct trace_req *t, long status, const char *body, size_t len)
{
	_cleanup_free_ char *err = NULL;
	size_t n = 0;
	int r;

	if (t->tb.selector) {
		selector_list_done(t, status, body, len);
		return;
	}
	r = kube_resolve_answer(&t->res, status, body, len, &t->kreq, &t->pods, &n, &err);
	resolve_went(t, r, n, err);
}

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
void trace_resolved(struct trace_req *t)
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

/* ---- a node target: node/NAME (POST .../nodetraces) ------------------------------- */

/*
 * After the SubjectAccessReview of create nodetraces named NAME
 * (trace.c), the Node must exist (GET from the API server: the gateway
 * keeps no node cache) and have a runner; then the decision, in scope
 * "node", with no namespace.  The session it opens says "scope": "node"
 * and carries no pods (docs/internals/contracts.md).
 */
void trace_step_node(struct trace_req *t)
{
	int r;

	t->step = STEP_NODE;
	r = kube_node_get_request(t->tb.name, &t->kreq);
	if (r < 0) {
		trace_refusef(t, 400, NULL, "node \"%s\" cannot be looked up: %s", t->tb.name, tg_strerror(r));
		return;
	}
	r = trace_kube_start(t);
	if (r < 0)
		trace_upstream_failed(t, "node get", r);
}

/* The node exists: its runner, then the decision. */
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

void trace_node_done(struct trace_req *t, long status, const char *body, size_t len)
{
	_cleanup_free_ char *err = NULL;
	int r;

	r = kube_node_parse(status, body, len, t->tb.name, &err);
	if (r == -TG_ENOTFOUND) {
		trace_refusef(t, 404, status_details("nodes", "", t->tb.name), "nodes \"%s\" not found",
			      t->tb.name);
		return;
	}
	if (r < 0) {
		trace_refusef(t, 503, NULL, "API server unavailable: node get: %s", err ? err : tg_strerror(r));
		return;
	}
	node_found(t);
}

/* ---- pods joining and leaving a running trace ------------------------------------- */

/* Still streaming from its runners, a workload's (a selector's) pods followed. */
static bool follows_pods(const struct trace_req *t)
{
	return t->step == STEP_STREAM && ((t->res.have_wl && t->res.owners) || t->tb.selector) &&
	       !t->route.dry_run && t->conn && !t->finishing && !t->stop_requested &&
	       t->fan.legs_done < t->fan.nlegs;
}

/*
 * obj as one of t's workload's Running pods: 0 and *ret; 1 when it is not
 * one (another owner, not Running, being deleted, malformed).  The same
 * test as the pods the trace started with (kube_pod_list_owned).
 */
static int pod_of_workload(struct trace_req *t, json_t *obj, struct kube_pod *ret)
{
	_cleanup_(json_decrefp) json_t *list = NULL;
	_cleanup_free_ char *text = NULL, *err = NULL;
	struct kube_pod *pods = NULL;
	size_t n = 0;
	int r;

	if (json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp"))
		return 1;
	list = json_pack("{s:s, s:s, s:{}, s:[O]}", "kind", "PodList", "apiVersion", "v1", "metadata",
			 "items", obj);
	text = list ? json_dumps(list, JSON_COMPACT) : NULL;
	if (!text)
		return -ENOMEM;
	r = t->tb.selector ? kube_pod_list_selected(t->tb.all_namespaces ? NULL : t->route.ns,
						    t->tb.selector, 200, text, strlen(text), 1, &pods, &n, &err)
			   : kube_pod_list_owned(&t->res.wl, 200, text, strlen(text),
						 (const char *const *)t->res.owners, 1, &pods, &n, &err);
	if (r < 0 || n != 1) {
		kube_pods_free(pods, n);
		return r == -ENOMEM ? r : 1;
	}
	*ret = pods[0];
	free(pods);
	return 0;
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
	r = strcmp(type, "DELETED") ? pod_of_workload(t, obj, &pod) : 1;
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
		bool quiet = old && pod_of_workload(t, old, &was) == 0;

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
		if (follows_pods(t) && (t->tb.all_namespaces ||
					!strcmp(t->tb.selector ? t->route.ns : t->res.wl.namespace, ns)))
			pod_changed(t, type, obj, old);
	}
}
