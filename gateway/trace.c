// SPDX-License-Identifier: Apache-2.0
/*
 * POST /apis/tracegate.dev/v1alpha1/namespaces/{ns}/traces, as a chain of
 * steps on the event loop (docs/internals/gateway.md):
 *
 *   authn (TokenReview) -> body -> program -> SAR create traces ->
 *     pod/NAME:        SAR get pod -> GET pod
 *     deployment/NAME: SAR get deployment -> SAR get pods -> GET deployment
 *                      -> LIST its ReplicaSets -> LIST their pods
 *     replicaset/NAME: SAR get replicaset -> SAR get pods -> GET replicaset
 *                      -> LIST its pods
 *     -l SELECTOR:     SAR list pods -> LIST the pods it matches
 *     node/NAME:       (SAR create nodetraces) -> GET node
 *     (the GETs and LISTs one call of kube/resolve.h, trace-target.c;
 *     the watch-fed cache answers them where it can)
 *   -> a runner for every node (all checked before any starts) -> policy
 *   -> audit (allow) -> one runner session per node -> stream (outputs
 *   relayed as they come, maps merged) -> audit (ResponseComplete)
 *
 * Each step either calls the next or refuses.  A refusal writes exactly one
 * audit record (decision forbid) and answers a Status; nothing after it
 * runs.  The only path to trace_start_stream() goes through every check
 * and a durable audit record.
 *
 * This file is the coordinator: it owns the step table (trace_flow, at
 * the end) that every request carries.  The files of the steps
 * (trace-target.c, trace-impersonate.c, trace-workload.c, trace-stop.c,
 * trace-probes.c, trace-detached.c) are called from here and go on through the table
 * (trace_goto, an API server answer, a SubjectAccessReview's), never by
 * calling this file; trace-req.c holds what they all use, trace-stream.c
 * the fan-out to the runners.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "gateway/audit.h"
#include "gateway/event.h"
#include "gateway/frontproxy.h"
#include "gateway/gateway.h"
#include "gateway/policies.h"
#include "gateway/status.h"
#include "wire/trace-body.h"
#include "gateway/trace-int.h"
#include "gateway/watch.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lang/ast.h"
#include "policy/policy.h"
#include "kube/cache.h"
#include "kube/kube.h"
#include "lib/banned.h"

/* (the request's state, struct trace_req, is in gateway/trace-int.h) */

/* ---- steps -------------------------------------------------------------------- */

static void step_sar_create(struct trace_req *t);
static int trace_node_target_check(struct trace_req *t);
static void step_sar_pod(struct trace_req *t);

static void authn_accepted(struct trace_req *t);

static void step_authn(struct trace_req *t)
{
	const char *const *aud = (const char *const *)t->gw->cfg->audiences;
	bool authenticated = false;
	int r;

	t->step = STEP_AUTHN;
	if (t->gw->token_cache &&
	    kube_token_cache_lookup(t->gw->token_cache, t->token, aud, &authenticated, &t->user) == 1) {
		if (!authenticated) {
			trace_refuse(t, 401, "Unauthorized: token not authenticated", NULL);
			return;
		}
		t->have_user = true;
		authn_accepted(t);
		return;
	}
	r = kube_tokenreview_request(t->token, aud, &t->kreq);
	if (r < 0) {
		trace_refusef(t, 401, NULL, "bearer token cannot be reviewed: %s", tg_strerror(r));
		return;
	}
	r = trace_kube_start(t);
	if (r < 0)
		trace_upstream_failed(t, "tokenreview", r);
}

static void authn_done(struct trace_req *t, long status, const char *body, size_t len)
{
	const char *const *aud = (const char *const *)t->gw->cfg->audiences;
	_cleanup_free_ char *err = NULL;
	int r;

	/* Answers are cached (both ways) only when clean; errors never. */
	if (t->gw->token_cache)
		r = kube_token_cache_parse_store(t->gw->token_cache, t->token, aud, status, body, len,
						 &t->user, &err);
	else
		r = kube_tokenreview_parse(status, body, len, aud, &t->user, &err);
	if (r == -TG_EAUTHN) {
		trace_refusef(t, 401, NULL, "Unauthorized: %s", err ? err : "token not authenticated");
		return;
	}
	if (r < 0) {
		trace_refusef(t, 503, NULL, "API server unavailable: %s%s",
			      err ? "" : "tokenreview: ", err ? err : tg_strerror(r));
		return;
	}
	t->have_user = true;
	authn_accepted(t);
}

static void authn_accepted(struct trace_req *t)
{
	/* The token has done its job: do not keep it around. */
	explicit_bzero(t->token, strlen(t->token));
	if (trace_impersonation_asked(t)) {
		trace_impersonate_step(t);
		return;
	}
	trace_authenticated(t);
}

void trace_authenticated(struct trace_req *t)
{
	_cleanup_free_ char *field = NULL, *berr = NULL;
	struct lang_diag diag = { 0 };
	int r;

	if (t->route.kind == ROUTE_TRACE_STOP) {
		trace_step_stop(t);
		return;
	}
	if (t->route.kind == ROUTE_PROBE_LIST) {
		/* authorized as a dry run on the pod: the same two SARs */
		t->tb.name = strdup(t->route.pod);
		if (!t->tb.name) {
			trace_refuse(t, 500, "out of memory", NULL);
			return;
		}
		step_sar_create(t);
		return;
	}
	if (t->route.kind != ROUTE_TRACE_CREATE) {
		trace_detached_step(t);
		return;
	}

	/* body, then program: 400 naming the field, or line:column */
	if (t->content_type && strncasecmp(t->content_type, "application/json", 16) != 0) {
		trace_refusef(t, 415, NULL, "Content-Type \"%s\" is not supported (use application/json)",
			      t->content_type);
		return;
	}
	r = trace_body_decode(t->body, t->body_len, &t->tb, &field, &berr);
	if (r < 0) {
		json_t *d = status_details("traces", "tracegate.dev", NULL);

		if (d)
			status_add_cause(d, "FieldValueInvalid", field, berr);
		trace_refuse(t, r == -ENOMEM ? 500 : 400, berr ? berr : "body cannot be read", d);
		return;
	}
	if (trace_node_target_check(t) < 0)
		return;
	sha256_hex(t->tb.program, t->tb.program_len, t->program_sha);
	{
		/* parameters are tokens of the parse, never text pasted into it:
		 * what is decided below is exactly what the runner will run */
		const char *pv[TG_MAX_PARAMS];
		size_t np = json_array_size(t->tb.params);
		struct lang_parse_opts po = { .sz = sizeof(po), .params = pv, .nparams = np };

		for (size_t i = 0; i < np && i < TG_MAX_PARAMS; i++)
			pv[i] = json_string_value(json_array_get(t->tb.params, i));
		r = np > TG_MAX_PARAMS ? -TG_ELIMIT
				       : lang_program_parse_opts(t->tb.program, t->tb.program_len, &po,
							       &t->prog, &diag);
	}
	if (r == 0)
		r = lang_program_canonical(t->prog, &t->canonical, t->canonical_sha);
	if (r < 0) {
		char where[64];
		json_t *d = status_details("traces", "tracegate.dev", t->tb.name);

		snprintf(where, sizeof(where), "program:%u:%u", diag.loc.line, diag.loc.col);
		if (d)
			status_add_cause(d, r == -TG_EUNSUPPORTED ? "FieldValueNotSupported"
								  : "FieldValueInvalid",
					 where, diag.msg);
		trace_refusef(t, r == -ENOMEM ? 500 : 400, d, "%s: %s", where, diag.msg);
		return;
	}
	step_sar_create(t);
}


static void step_sar_create(struct trace_req *t)
{
	/* -l -A: create traces at the cluster scope, as kubectl get pods -A
	 * asks list pods there (docs/kubectl-trace.md) */
	struct kube_resource_attrs a = { .namespace = t->tb.all_namespaces ? NULL : t->route.ns,
					 .verb = "create", .group = "tracegate.dev",
					 .version = "v1alpha1", .resource = "traces" };
	/* a node-wide trace: cluster-scoped, named for the node, never pods */
	struct kube_resource_attrs n = { .verb = "create", .group = "tracegate.dev",
					 .version = "v1alpha1", .resource = "nodetraces",
					 .name = t->tb.name };

	trace_step_sar(t, STEP_SAR_CREATE, t->tb.node ? &n : &a);
}

/* A node/NAME target only at .../nodetraces, and the pod and workload
 * targets only at .../namespaces/NS/traces: the path is what the API
 * server (aggregated) and the audit record name.  400 and t freed. */
static int trace_node_target_check(struct trace_req *t)
{
	const char *why = NULL;

	if (t->tb.node && !t->route.node)
		why = "field \"target\": a node is traced through the cluster-scoped "
		      "/apis/tracegate.dev/v1alpha1/nodetraces, not a namespace's traces";
	else if (!t->tb.node && t->route.node)
		why = "field \"target\": nodetraces take a node/NAME target";
	else if (t->tb.node && t->tb.container)
		why = "field \"container\": a node-wide trace has no container (it sees the whole node)";
	else if (t->tb.node && t->tb.detach)
		why = "field \"detach\": a node-wide trace cannot be detached yet";
	if (!why)
		return 0;
	trace_refuse(t, 400, why, NULL);
	return -EINVAL;
}

static void step_sar_pod(struct trace_req *t)
{
	struct kube_resource_attrs a = { .namespace = t->route.ns, .verb = "get", .group = "",
					 .version = "v1", .resource = "pods", .name = t->tb.name };

	trace_step_sar(t, STEP_SAR_POD, &a);
}

/* ---- decision ------------------------------------------------------------------ */

static json_t *policy_details(struct trace_req *t, json_t *denials)
{
	json_t *d = status_details("traces", "tracegate.dev", t->tb.name);
	size_t i;
	json_t *x;

	if (!d)
		return NULL;
	json_array_foreach(denials, i, x) {
		_cleanup_free_ char *text = trace_denial_text(x, false);
		char field[64];

		trace_denial_field(x, field, sizeof(field));
		status_add_cause(d, "FieldValueForbidden", field, text ? text : "denied");
	}
	return d;
}

/* The explanation `tracegate policy check` prints, on one line:
 * 'allowed by policy "p"; limits: maxDuration 300s, ...' (NULL without
 * memory). */
static char *dry_run_message(const char *explained)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64 * 1024);
	int r = 0;

	for (const char *p = explained ? explained : "allowed"; *p && r == 0; p++) {
		if (*p != '\n')
			r = buf_addc(&b, *p);
		else if (p[1])
			r = buf_adds(&b, "; ");
	}
	return r < 0 ? NULL : buf_detach(&b, NULL);
}

/* A 429 naming the limit that was reached.  t is freed. */
static void trace_refuse_busy(struct trace_req *t, const char *limit, const char *msg)
{
	json_t *d = status_details("traces", "tracegate.dev", t->tb.name);

	if (d)
		status_add_cause(d, "TooManyRequests", limit, msg);
	trace_refuse(t, 429, msg, d);
}

/* The policy's maxConcurrentTraces: 429 (and t freed) when over. */
static int trace_concurrency(struct trace_req *t)
{
	const struct tg_policy_limits *l = &t->decision.limits;
	_cleanup_free_ char *msg = NULL;
	/* what runs on the runners, whichever gateway started it, and what
	 * this gateway admitted that has not reached them yet
	 * (trace-detached.c, trace_detached_count) */
	uint64_t user = t->det_user_running, ns = t->det_ns_running;

	if (user >= l->max_traces_per_user) {
		if (asprintf(&msg,
			     "too many concurrent traces: user \"%s\" already runs %llu, the limit "
			     "maxConcurrentTraces.perUser of policy \"%s\" is %llu",
			     t->user.username, (unsigned long long)user, t->decision.policy,
			     (unsigned long long)l->max_traces_per_user) < 0)
			msg = NULL;
		trace_refuse_busy(t, "spec.limits.maxConcurrentTraces.perUser",
				  msg ? msg : "maxConcurrentTraces.perUser");
		return -TG_ELIMIT;
	}
	/* a node-wide trace belongs to no namespace: perNamespace does not
	 * apply to it, nor does it count in any namespace's */
	if (!t->tb.node && ns >= l->max_traces_per_namespace) {
		if (asprintf(&msg,
			     "too many concurrent traces: namespace \"%s\" already runs %llu, the limit "
			     "maxConcurrentTraces.perNamespace of policy \"%s\" is %llu",
			     t->route.ns, (unsigned long long)ns, t->decision.policy,
			     (unsigned long long)l->max_traces_per_namespace) < 0)
			msg = NULL;
		trace_refuse_busy(t, "spec.limits.maxConcurrentTraces.perNamespace",
				  msg ? msg : "maxConcurrentTraces.perNamespace");
		return -TG_ELIMIT;
	}
	return 0;
}

/* The allow record could not be written or synced: nothing starts. */
static void trace_audit_failed(struct trace_req *t, int r, const char *aerr)
{
	_cleanup_free_ char *msg = NULL;
	json_t *st;

	if (asprintf(&msg, "audit log unwritable, the trace was not started: %s",
		     aerr ? aerr : tg_strerror(r)) < 0)
		msg = NULL;
	st = status_new(503, msg ? msg : "audit log unwritable: the trace was not started", NULL);
	trace_log(t, 503, "audit-failed");
	trace_send_status(t, st);
	json_decref(st);
	trace_free(t);
}

/* The allow record is durable: the trace starts, unless the client left
 * or the gateway is stopping meanwhile (then its end is recorded). */
static void trace_allowed(struct trace_req *t, int result, const char *err)
{
	if (result < 0) {
		trace_audit_failed(t, result, err);
		return;
	}
	t->step = STEP_STREAM;
	if (!t->conn) {
		trace_finish(t, "client");
		return;
	}
	if (t->gw->stopping) {
		/* a run or a dry run alike: not started (503), its end recorded */
		trace_finish_unstarted(t, "stop");
		return;
	}
	trace_start_stream(t);
}

void trace_step_decide(struct trace_req *t)
{
	const struct gw_config *cfg = t->gw->cfg;
	struct tg_requester who = { .user = t->user.username,
				    .groups = (const char *const *)t->user.groups,
				    .namespace = t->tb.node ? NULL : t->route.ns };
	_cleanup_free_ char *oneline = NULL, *explained = NULL;
	int r;

	/* -A: the policy of the pods' namespaces, each (trace-workload.c) */
	if (t->tb.all_namespaces && t->npods)
		who.namespace = t->pods[0].namespace;

	if (t->route.kind == ROUTE_PROBE_LIST) {
		trace_probes_step(t);
		return;
	}
	r = tg_policy_evaluate(gw_policies_current(t->gw->policies), &who, t->prog,
			       t->tb.node ? "node" : "pod", &t->decision);
	t->have_decision = true;
	if (r < 0) {
		trace_refusef(t, 500, NULL, "policy evaluation failed: %s", tg_strerror(r));
		return;
	}
	if (tg_decision_explain(&t->decision, &oneline, &explained) < 0)
		oneline = explained = NULL;
	if (!t->decision.allowed) {
		_cleanup_free_ char *msg = NULL;

		/* Name the policies tried even when none applied. */
		if (oneline && (!t->decision.tried || json_array_size(t->decision.tried) == 0) &&
		    asprintf(&msg, "%s; policies tried: none applies", oneline) < 0)
			msg = NULL;
		t->denials = json_incref(t->decision.denials);
		trace_refuse(t, 403, msg ? msg : oneline ? oneline : "denied by policy",
			     policy_details(t, t->decision.denials));
		return;
	}
	t->policy = strdup(t->decision.policy);
	if (!t->policy) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	if (t->tb.all_namespaces && trace_selector_policy_check(t) < 0)
		return;
	/* The duration asked for, capped by the policy and the gateway. */
	t->duration = t->tb.has_duration && t->tb.duration > 0
			      ? t->tb.duration
			      : (int64_t)t->decision.limits.max_duration_s;
	if ((uint64_t)t->duration > t->decision.limits.max_duration_s)
		t->duration = (int64_t)t->decision.limits.max_duration_s;
	if (t->duration > (int64_t)cfg->limits.max_duration_s)
		t->duration = cfg->limits.max_duration_s;

	/* A dry run (kubectl trace check) goes on as a run does, up to the
	 * load: each node's runner checks the program (trace_finish_checked);
	 * it holds no trace slot of the policy's, the runners' sessions do
	 * count in maxSessions. */
	if (t->route.dry_run) {
		t->dry_msg = dry_run_message(explained);
	} else {
		/* the traces running, attached or detached, are the runners'
		 * to count across gateway replicas (trace-detached.c), then
		 * trace_step_admit */
		trace_detached_count(t);
		return;
	}
	trace_step_admit(t);
}

void trace_step_admit(struct trace_req *t)
{
	const struct gw_config *cfg = t->gw->cfg;
	_cleanup_free_ char *aerr = NULL;
	int r;

	if (!t->route.dry_run) {
		r = trace_concurrency(t);
		if (r < 0)
			return;
	}
	if (t->gw->nsessions >= cfg->limits.max_sessions) {
		trace_refusef(t, 429, NULL, "too many traces running (limit \"maxSessions\" is %u)",
			      cfg->limits.max_sessions);
		return;
	}
	if (t->gw->stopping) {
		trace_refuse(t, 503, "gateway is shutting down", NULL);
		return;
	}
	/* A dry run every node's check of which the cache holds asks no
	 * runner: nothing starts, so its one record is the answer's
	 * ResponseComplete (docs/audit.md). */
	if (t->route.dry_run && trace_dry_all_cached(t)) {
		trace_allowed(t, 0, NULL);
		return;
	}
	/* The record is on disk before anything starts; if it cannot be
	 * written, nothing starts.  The trace holds its slot while its record
	 * waits for the sync (trace_allowed), so that the limits above count
	 * it. */
	r = trace_audit_then(t, "ResponseStarted", 200, NULL, "allow", t->policy, NULL, trace_allowed,
			     &aerr);
	if (r < 0) {
		trace_audit_failed(t, r, aerr);
		return;
	}
	t->session_counted = true;
	t->gw->nsessions++;
	audit_log_set_reserve(t->gw->audit, (uint64_t)t->gw->nsessions * AUDIT_COMPLETE_RESERVE);
}

/* ---- the step table ------------------------------------------------------------- */

/* SubjectAccessReview create traces (or nodetraces) allowed: the target's
 * kind decides what comes next */
static void sar_create_allowed(struct trace_req *t)
{
	if (t->tb.node)
		trace_step_target(t);
	else if (t->tb.selector)
		trace_step_sar_pods(t);
	else if (t->tb.kind)
		trace_step_sar_workload(t);
	else
		step_sar_pod(t);
}

#define SAR_STEP(then) { .call = "subjectaccessreview", .answered = trace_sar_answered, .allowed = (then) }

static const struct trace_flow trace_flow = {
	.steps = {
		[STEP_AUTHN] = { .call = "tokenreview", .answered = authn_done },
		[STEP_SAR_IMPERSONATE] = SAR_STEP(trace_impersonate_allowed),
		[STEP_SAR_CREATE] = SAR_STEP(sar_create_allowed),
		[STEP_SAR_POD] = SAR_STEP(trace_step_target),
		[STEP_POD] = { .call = "pod get", .answered = trace_target_answered },
		[STEP_NODE] = { .call = "node get", .answered = trace_target_answered },
		[STEP_SAR_WORKLOAD] = SAR_STEP(trace_step_sar_pods),
		[STEP_SAR_PODS] = SAR_STEP(trace_step_target),
		[STEP_WORKLOAD] = { .call = "workload get", .answered = trace_target_answered },
		[STEP_RS_LIST] = { .call = "replicaset or job list", .answered = trace_target_answered },
		[STEP_POD_LIST] = { .call = "pod list", .answered = trace_target_answered },
		[STEP_SAR_DETACHED] = { .call = "subjectaccessreview", .answered = trace_sar_answered,
					.decided = trace_detached_decided },
		[STEP_AUTHENTICATED] = { .run = trace_authenticated },
		[STEP_DECIDE] = { .run = trace_step_decide },
		[STEP_ADMIT] = { .run = trace_step_admit },
	},
	.print_free = trace_print_free,
	.detached_free = trace_detached_free,
	.impersonation_free = trace_impersonation_free,
	.leg_record = trace_leg_record,
	.leg_done_finish = trace_leg_done_finish,
	.stop_by_gateway = trace_stop_by_gateway,
};

/* ---- entry points -------------------------------------------------------------- */

/* Best effort, for the audit record of a request refused before its body
 * is checked: the target and the program's hash, as claimed. */
static void trace_claims(struct trace_req *t)
{
	_cleanup_(json_decrefp) json_t *j = t->body ? json_loadb(t->body, t->body_len, 0, NULL) : NULL;
	json_t *v;

	v = json_object_get(j, "target");
	if (json_is_string(v) && json_string_length(v) <= 300)
		t->claimed_target = strndup(json_string_value(v), json_string_length(v));
	v = json_object_get(j, "program");
	if (json_is_string(v))
		sha256_hex(json_string_value(v), json_string_length(v), t->claimed_sha);
}

static char *bearer_token(const char *auth)
{
	const char *p;

	if (!auth || strncasecmp(auth, "Bearer ", 7))
		return NULL;
	p = auth + 7;
	while (*p == ' ')
		p++;
	if (!*p || strchr(p, ' '))
		return NULL;
	return strdup(p);
}

/*
 * Front-proxy authentication (frontproxy.h): 0 when the request carries no
 * identity header (the bearer token decides); else the request went on
 * as the user the front proxy asserts, or was refused.
 */
static int trace_front_proxy(struct trace_req *t, const struct http_request *req)
{
	struct gw_frontproxy *fp = t->gw->frontproxy;
	_cleanup_free_ char *err = NULL;
	int r;

	r = fp_authenticate(gw_frontproxy_current(fp), fp != NULL, gw_frontproxy_error(fp),
			    http_conn_ssl(t->conn), req, &t->user, &err);
	if (r == 0)
		return 0;
	if (r == -EAGAIN)
		trace_refusef(t, 503, NULL, "%s", err ? err : "front-proxy authentication not loaded");
	else if (r < 0)
		trace_refusef(t, r == -ENOMEM ? 500 : 401, NULL, "Unauthorized: %s",
			      err ? err : tg_strerror(r));
	if (r < 0)
		return r;
	t->have_user = true;
	t->via_front_proxy = true;
	if (trace_impersonation_asked(t))
		trace_impersonate_step(t);
	else
		trace_authenticated(t);
	return 1;
}

void trace_handle(struct gateway *gw, struct http_conn *c, struct http_request *req,
		  const struct route *route)
{
	struct trace_req *t = calloc(1, sizeof(*t));
	const char *ua = http_request_header(req, "User-Agent");
	const char *ct = http_request_header(req, "Content-Type");

	if (!t) {
		(void)http_conn_respond(c, 500, "text/plain", NULL, "out of memory\n", 14);
		return;
	}
	t->gw = gw;
	t->flow = &trace_flow;
	t->conn = c;
	t->received_ns = now_real_ns();
	t->route = *route;
	memcpy(t->peer, req->peer, sizeof(t->peer));
	t->next = gw->reqs;
	if (gw->reqs)
		gw->reqs->prev = t;
	gw->reqs = t;
	gw->nreqs++;
	http_conn_set_owner(c, &trace_conn_ops, t);
	if (gw_uuid(t->audit_id) < 0 || gw_uuid(t->trace_id) < 0)
		memcpy(t->audit_id, "00000000-0000-0000-0000-000000000000", 37);
	t->method = strdup(req->method);
	t->uri = strdup(req->target);
	t->user_agent = ua ? strndup(ua, 256) : NULL;
	t->content_type = ct ? strdup(ct) : NULL;
	t->body = TAKE_PTR(req->body);
	t->body_len = req->body_len;
	trace_claims(t);
	if (!t->method || !t->uri || (ua && !t->user_agent) || (ct && !t->content_type)) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	if (gw->stopping) {
		trace_refuse(t, 503, "gateway is shutting down", NULL);
		return;
	}
	if (trace_impersonation_headers(t, req) < 0)
		return;
	if (trace_front_proxy(t, req) != 0)
		return;
	t->token = bearer_token(http_request_header(req, "Authorization"));
	if (!t->token) {
		trace_refuse(t, 401, "Unauthorized: a bearer token is required", NULL);
		return;
	}
	step_authn(t);
}

void trace_stop_all(struct gateway *gw)
{
	struct trace_req *t, *next;

	for (t = gw->reqs; t; t = next) {
		next = t->next;
		if (t->after)
			continue;   /* its record's sync ends it (trace_allowed sees stopping) */
		if (t->step == STEP_STREAM)
			trace_finish(t, t->client_left ? "client" : "stop");
		else if (t->step == STEP_DETACHED)
			trace_detached_client_left(t);
		else
			trace_refuse(t, 503, "gateway is shutting down", NULL);
	}
}

