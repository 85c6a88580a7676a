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
 *   -> a runner for every node (all checked before any starts) -> policy
 *   -> audit (allow) -> one runner session per node -> stream (outputs
 *   relayed as they come, maps merged) -> audit (ResponseComplete)
 *
 * Each step either calls the next or refuses.  A refusal writes exactly one
 * audit record (decision forbid) and answers a Status; nothing after it
 * runs.  The only path to trace_start_stream() goes through every check
 * and a durable audit record.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include "gateway/audit.h"
#include "gateway/event.h"
#include "gateway/frontproxy.h"
#include "gateway/gateway.h"
#include "gateway/httpc.h"
#include "gateway/ndjson.h"
#include "gateway/policies.h"
#include "gateway/runner-end.h"
#include "gateway/runners.h"
#include "gateway/status.h"
#include "gateway/trace-body.h"
#include "gateway/trace-container.h"
#include "gateway/trace-int.h"
#include "gateway/watch.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-curl.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lang/ast.h"
#include "output/output.h"
#include "policy/policy.h"
#include "kube/cache.h"
#include "kube/kube.h"
#include "kube/workload.h"
#include "policy/tpfields.h"
#include "wire/end.h"
#include "wire/record.h"
#include "wire/session.h"
#include "lib/banned.h"

/* (the request's state, struct trace_req, is in gateway/trace-int.h) */
#define TRACE_MAX_RUNNER_ERROR_BODY (64u << 10)
#define TRACE_MAX_MAP_BYTES         (16u << 20)   /* map records held for merging */
#define TRACE_RUNNER_CONNECT_MS     10000L
/* beyond the duration: longer than the runner's own bounds on a session
 * whose client is slow (runner/cmd-serve.c, SERVE_SESSION_GRACE_S), so the
 * runner's end comes first */
#define TRACE_RUNNER_GRACE_S        120
#define TRACE_RUNNER_SILENT_S       30u  /* a runner that keeps its session alive, silent this long: lost */

/* ---- bookkeeping ---------------------------------------------------------- */

static void leg_release(struct leg *l)
{
	if (l->x)
		httpc_xfer_cancel(l->x);
	l->x = NULL;
	gw_end_fetch_cancel(l->fetch);
	l->fetch = NULL;
	ndjson_release(&l->split);
	buf_release(&l->relay);
	buf_release(&l->errbody);
	free(l->end_reason);
	free(l->error);
	free(l->refusal);
	json_decref(l->compiled);
	if (l->joined)
		gw_runner_put(l->runner);
	free(l->joined);
}

void trace_free(struct trace_req *t)
{
	struct gateway *gw = t->gw;

	if (t->prev)
		t->prev->next = t->next;
	else if (gw->reqs == t)
		gw->reqs = t->next;
	if (t->next)
		t->next->prev = t->prev;
	gw->nreqs--;
	/* a trace of ours ended, or a DELETE stopped one (a detached trace):
	 * the runners' sessions asked before may still hold it, so the next
	 * count asks again (trace-detached.c) */
	if (t->session_counted || t->route.kind == ROUTE_TRACE_STOP)
		gw->sessions_snap_ns = 0;
	if (t->session_counted) {
		gw->nsessions--;
		audit_log_set_reserve(gw->audit, (uint64_t)gw->nsessions * AUDIT_COMPLETE_RESERVE);
	}
	if (t->kx)
		httpc_xfer_cancel(t->kx);
	kube_request_release(&t->kreq);
	if (t->stop_timer)
		event_free(t->stop_timer);
	if (t->alive_timer)
		event_free(t->alive_timer);
	trace_reauth_free(t);
	free(t->end_message);
	trace_print_free(t);
	for (size_t i = 0; i < t->nlegs; i++)
		leg_release(&t->legs[i]);
	free(t->legs);
	json_decref(t->maps);
	json_decref(t->answer);
	free(t->answer_extra);
	free(t->dry_msg);
	json_decref(t->denials);
	free(t->policy);
	if (t->have_decision)
		tg_decision_release(&t->decision);
	kube_pods_free(t->pods, t->npods);
	kube_pods_free(t->left_out, t->nleft_out);
	free(t->pod_left);
	for (size_t i = 0; t->runners && i < t->nnodes; i++)
		gw_runner_put(t->runners[i]);
	free(t->runners);
	strv_free(t->nodes);
	strv_free(t->rs_uids);
	if (t->have_wl)
		kube_workload_release(&t->wl);
	tg_program_free(t->prog);
	free(t->canonical);
	trace_body_release(&t->tb);
	if (t->have_user)
		kube_user_release(&t->user);
	if (t->impersonating)
		kube_user_release(&t->real_user);
	free(t->imp_user);
	strv_free(t->imp_groups);
	if (t->token) {
		explicit_bzero(t->token, strlen(t->token));
		free(t->token);
	}
	free(t->method);
	free(t->uri);
	free(t->user_agent);
	free(t->content_type);
	free(t->claimed_target);
	free(t->body);
	trace_detached_free(t);
	free(t);
}

const char *trace_verb(const struct trace_req *t)
{
	switch (t->route.kind) {
	case ROUTE_TRACE_STOP:
		return "delete";
	case ROUTE_TRACE_LIST:
	case ROUTE_PROBE_LIST:
		return "list";
	case ROUTE_TRACE_GET:
	case ROUTE_TRACE_LOG:
		return "get";
	default:
		return "create";
	}
}

static const char *trace_username(const struct trace_req *t)
{
	return t->have_user && t->user.username ? t->user.username : "-";
}

/* What the runners reported in their end records, summed over nodes. */
struct trace_counts {
	uint64_t events, drops, map_drops, cpu_ns;
};

static void trace_counts_sum(const struct trace_req *t, struct trace_counts *c)
{
	*c = (struct trace_counts){ 0 };
	for (size_t i = 0; i < t->nlegs; i++) {
		/* A node whose end never came (its runner killed or hung, its
		 * kept end not found) still delivered what the client got:
		 * never report fewer events than were relayed. */
		c->events += MAX(t->legs[i].events, t->legs[i].relayed);
		c->drops += t->legs[i].drops;
		c->map_drops += t->legs[i].map_drops;
		c->cpu_ns += t->legs[i].cpu_ns;
	}
}

/* ["team-a/web-a", ...]: the target's pods. */
static json_t *trace_pods_json(const struct trace_req *t)
{
	json_t *a = json_array();
	char pod[400];

	for (size_t i = 0; a && i < t->npods; i++) {
		snprintf(pod, sizeof(pod), "%s/%s", t->pods[i].namespace, t->pods[i].name);
		json_array_append_new(a, json_string(pod));
	}
	return a;
}

static json_t *trace_nodes_json(const struct trace_req *t)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < t->nnodes; i++)
		json_array_append_new(a, json_string(t->nodes[i]));
	return a;
}

/* How one node's part ended: its error, its runner's reason, or not yet. */
static const char *leg_reason(const struct leg *l)
{
	if (l->error)
		return l->fail_reason ? l->fail_reason : "error";
	return l->end_reason ? l->end_reason : l->done ? "error" : "stop";
}

static json_t *trace_failed_nodes(const struct trace_req *t)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < t->nlegs; i++)
		if (t->legs[i].error)
			json_array_append_new(a, json_string(t->legs[i].runner->node));
	return a;
}

/* Every node's session sent its end record: nothing of t runs anywhere. */
static bool trace_all_ended(const struct trace_req *t)
{
	for (size_t i = 0; i < t->nlegs; i++)
		if (!t->legs[i].has_end)
			return false;
	return t->nlegs > 0;
}

/* The program's exit code, when every node reported one: the first that
 * is not 0 (an exit(1) anywhere is the trace's), else 0. */
static bool trace_exit_code(const struct trace_req *t, int64_t *ret)
{
	*ret = 0;
	if (!t->nlegs)
		return false;
	for (size_t i = 0; i < t->nlegs; i++)
		if (!t->legs[i].has_exit_code)
			return false;
	for (size_t i = 0; i < t->nlegs; i++) {
		if (t->legs[i].exit_code) {
			*ret = t->legs[i].exit_code;
			break;
		}
	}
	return true;
}

/* The allowing policy's limits as they are enforced: the field names of
 * spec.limits (docs/policy.md), durations in seconds. */
static json_t *trace_limits_json(const struct trace_req *t)
{
	const struct tg_policy_limits *l = &t->decision.limits;

	return json_pack("{s:I, s:I, s:I, s:I, s:{s:I, s:I}, s:f, s:I}", "maxDuration",
			 (json_int_t)l->max_duration_s, "maxMapEntries", (json_int_t)l->max_map_entries,
			 "maxMapBytes", (json_int_t)l->max_map_bytes, "eventsPerSecond",
			 (json_int_t)l->events_per_second, "maxConcurrentTraces", "perUser",
			 (json_int_t)l->max_traces_per_user, "perNamespace",
			 (json_int_t)l->max_traces_per_namespace, "cpuBudget", l->cpu_budget,
			 "maxOutputBytes", (json_int_t)l->max_output_bytes);
}

/* "program:L:C" for a denial about one construct, "program" otherwise. */
static void denial_field(json_t *x, char *out, size_t n)
{
	json_t *line = json_object_get(x, "line"), *col = json_object_get(x, "column");

	if (json_is_integer(line) && json_is_integer(col))
		snprintf(out, n, "program:%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT,
			 json_integer_value(line), json_integer_value(col));
	else
		snprintf(out, n, "program");
}

/* One denial as text: what, where, which rule of which policy. */
static char *denial_text(json_t *x, bool with_field)
{
	const char *msg = json_string_value(json_object_get(x, "message"));
	const char *pol = json_string_value(json_object_get(x, "policy"));
	const char *rule = json_string_value(json_object_get(x, "rule"));
	char field[64];
	int r;
	char *s;

	denial_field(x, field, sizeof(field));
	if (pol)
		r = asprintf(&s, "%s%s%s [policy \"%s\", rule %s]", with_field ? field : "",
			     with_field ? ": " : "", msg ? msg : "denied", pol, rule ? rule : "-");
	else
		r = asprintf(&s, "%s%s%s", with_field ? field : "", with_field ? ": " : "",
			     msg ? msg : "denied");
	return r < 0 ? NULL : s;
}

/* ---- audit ------------------------------------------------------------------ */

static json_t *trace_tg_fields(struct trace_req *t, bool complete, const char *end_reason)
{
	json_t *tg = json_object();

	if (!tg)
		return NULL;
	json_object_set_new(tg, "trace", json_string(t->route.kind == ROUTE_TRACE_CREATE ? t->trace_id
										  : t->route.name));
	if (t->stopped_by[0])
		json_object_set_new(tg, "stoppedBy", json_string(t->stopped_by));
	/* who vouched for the user: the front proxy's headers, or a token */
	if (t->have_user)
		json_object_set_new(tg, "authentication",
				    json_string(t->via_front_proxy ? "front-proxy" : "token"));
	if (t->route.kind == ROUTE_PROBE_LIST) {
		/* kubectl trace list: what was asked, on which node */
		json_object_set_new(tg, "target", json_sprintf("pod/%s", t->route.pod));
		json_object_set_new(tg, "pattern", json_string(t->route.pattern));
		json_object_set_new(tg, "verbose", json_boolean(t->route.verbose));
		if (t->nnodes)
			json_object_set_new(tg, "nodes", trace_nodes_json(t));
		return tg;
	}
	if (t->route.kind != ROUTE_TRACE_CREATE)
		return tg;   /* a stop, a read: the trace it names has the rest */
	if (t->route.dry_run)
		json_object_set_new(tg, "dryRun", json_true());
	json_object_set_new(tg, "target", json_string(t->tb.target ? t->tb.target
					       : t->claimed_target ? t->claimed_target : ""));
	/* node/NAME: the whole node, no pod scope (trace-node.c) */
	if (t->tb.node)
		json_object_set_new(tg, "scope", json_string("node"));
	if (t->tb.container)
		json_object_set_new(tg, "container", json_string(t->tb.container));
	/* -l: the selector as decided on; its pods are "pods" below */
	if (t->tb.selector)
		json_object_set_new(tg, "selector", json_string(kube_selector_string(t->tb.selector)));
	if (t->tb.all_namespaces)
		json_object_set_new(tg, "allNamespaces", json_true());
	if (t->tb.program) {
		json_object_set_new(tg, "programSHA256", json_string(t->program_sha));
		json_object_set_new(tg, "program", json_stringn(t->tb.program, t->tb.program_len));
		/* the form the policy decided on and the runner must run */
		if (t->canonical)
			json_object_set_new(tg, "canonicalSHA256", json_string(t->canonical_sha));
	} else {
		/* Refused before the body was read: what it claimed, hashed
		 * (the text itself is kept only for authenticated users). */
		json_object_set_new(tg, "programSHA256", json_string(t->claimed_sha));
	}
	if (t->tb.params)
		json_object_set(tg, "params", t->tb.params);
	if (t->npods || (t->tb.node && t->nnodes)) {
		json_object_set_new(tg, "pods", trace_pods_json(t));
		json_object_set_new(tg, "nodes", trace_nodes_json(t));
	}
	if (t->nleft_out)
		json_object_set_new(tg, "podsLeftOut", trace_left_out_json(t));
	if (t->policy) {
		json_object_set_new(tg, "policy", json_string(t->policy));
		json_object_set_new(tg, "limits", trace_limits_json(t));
	}
	if (t->have_decision && t->decision.tried)
		json_object_set(tg, "policiesTried", t->decision.tried);
	if (t->denials) {
		json_t *reasons = json_array();
		size_t i;
		json_t *x;

		json_object_set(tg, "denials", t->denials);
		json_array_foreach(t->denials, i, x) {
			_cleanup_free_ char *text = denial_text(x, true);

			json_array_append_new(reasons, json_string(text ? text : "denied"));
		}
		json_object_set_new(tg, "reasons", reasons);
	}
	if (t->step == STEP_STREAM || complete)
		json_object_set_new(tg, "duration", json_integer(t->duration));
	if (complete) {
		struct trace_counts c;
		int64_t exit_code;

		trace_counts_sum(t, &c);
		/* Both shapes: "counts" as first written, and the flat fields
		 * docs/audit.md names (`tracegate audit query` reads "events"). */
		json_object_set_new(tg, "counts",
				    json_pack("{s:I, s:I, s:I, s:I, s:I}", "events", (json_int_t)c.events,
					      "drops", (json_int_t)c.drops, "mapDrops",
					      (json_int_t)c.map_drops, "bytes", (json_int_t)t->bytes,
					      "cpuNs", (json_int_t)c.cpu_ns));
		json_object_set_new(tg, "events", json_integer((json_int_t)c.events));
		json_object_set_new(tg, "drops", json_integer((json_int_t)c.drops));
		json_object_set_new(tg, "mapDrops", json_integer((json_int_t)c.map_drops));
		json_object_set_new(tg, "bytes", json_integer((json_int_t)t->bytes));
		json_object_set_new(tg, "cpuNs", json_integer((json_int_t)c.cpu_ns));
		if (trace_exit_code(t, &exit_code))
			json_object_set_new(tg, "exitCode", json_integer(exit_code));
		json_object_set_new(tg, "endReason", json_string(end_reason ? end_reason : "error"));
		/* why the gateway ended it itself (revoked, target-gone) */
		if (t->end_message)
			json_object_set_new(tg, "endMessage", json_string(t->end_message));
		if (t->nlegs) {
			json_t *per = json_object();

			for (size_t i = 0; i < t->nlegs && per; i++)
				json_object_set_new(per, t->legs[i].runner->node,
						    json_string(leg_reason(&t->legs[i])));
			json_object_set_new(tg, "nodeEndReasons", per);
			json_object_set_new(tg, "failedNodes", trace_failed_nodes(t));
		}
	}
	return tg;
}

static void trace_durable(void *ud, int result, const char *err)
{
	struct trace_req *t = ud;
	trace_after_fn after = t->after;

	t->after = NULL;
	if (result < 0)
		log_error("audit %s: record not made durable: %s", t->audit_id, err ? err : tg_strerror(result));
	after(t, result, err);
}

static int trace_audit_record(struct trace_req *t, const char *stage, int code, const char *message,
			      const char *decision, const char *reason, const char *end_reason,
			      bool wait, trace_after_fn after, char **ret_err);

/* A record nobody waits for: a failed sync is still logged. */
static void trace_unwaited(void *ud, int result, const char *err)
{
	char *audit_id = ud;

	if (result < 0)
		log_error("audit %s: record not made durable: %s", audit_id, err ? err : tg_strerror(result));
	free(audit_id);
}

int trace_audit(struct trace_req *t, const char *stage, int code, const char *message,
		const char *decision, const char *reason, const char *end_reason, char **ret_err)
{
	int r = trace_audit_record(t, stage, code, message, decision, reason, end_reason, true, NULL,
				   ret_err);

	return r < 0 ? r : 0;
}

int trace_audit_then(struct trace_req *t, const char *stage, int code, const char *message,
		     const char *decision, const char *reason, const char *end_reason,
		     trace_after_fn after, char **ret_err)
{
	return trace_audit_record(t, stage, code, message, decision, reason, end_reason, false, after,
				  ret_err);
}

static int trace_audit_record(struct trace_req *t, const char *stage, int code, const char *message,
			      const char *decision, const char *reason, const char *end_reason,
			      bool wait, trace_after_fn after, char **ret_err)
{
	_cleanup_(json_decrefp) json_t *tg = trace_tg_fields(t, !strcmp(stage, "ResponseComplete"),
							      end_reason);
	_cleanup_buf_ struct buf ev = BUF_INIT(0);
	_cleanup_free_ char *err = NULL;
	struct gw_event e = {
		.audit_id = t->audit_id,
		.stage = stage,
		.request_uri = t->uri,
		.verb = trace_verb(t),
		.user = t->impersonating ? &t->real_user : t->have_user ? &t->user : NULL,
		.impersonated = t->impersonating ? &t->user : NULL,
		.source_ip = t->peer,
		.user_agent = t->user_agent,
		.ns = t->route.node ? NULL : t->route.ns,     /* nodetraces are cluster-scoped */
		.name = t->route.kind == ROUTE_PROBE_LIST ? t->route.pod
			: t->route.kind != ROUTE_TRACE_CREATE ? t->route.name
			: t->tb.target ? t->tb.target : t->claimed_target ? t->claimed_target : "",
		.resource = t->route.kind == ROUTE_PROBE_LIST ? "probes" : t->route.node ? "nodetraces" : NULL,
		.subresource = t->route.kind == ROUTE_TRACE_LOG ? "log" : NULL,
		.code = code,
		.message = message,
		.received_ns = t->received_ns,
		.stage_ns = now_real_ns(),
		.decision = decision,
		.reason = reason,
		.tracegate = tg,
	};
	uint64_t reserve = UINT64_MAX;   /* the amount set by audit_log_set_reserve */
	int r;

	if (!tg)
		return -ENOMEM;
	/* Before authentication, records are bounded (audit.refusals): this
	 * one may only be counted, for a summary record. */
	if (!t->have_user && !gw_refusals_admit(t->gw->refusals, t->peer, code, now_mono_ns(),
						e.stage_ns))
		return 1;
	r = gw_event_format(&e, &ev);
	if (r < 0)
		return r;
	/* Room is kept in the file for the ResponseComplete of every trace
	 * running: an allow record reserves it for its own trace too, the end
	 * of a trace may use its share, every other record leaves it all.  A
	 * filesystem that fills up refuses new requests, never the end of a
	 * trace that runs. */
	if (!strcmp(stage, "ResponseStarted") && !strcmp(decision, "allow"))
		reserve = (uint64_t)(t->gw->nsessions + 1) * AUDIT_COMPLETE_RESERVE;
	else if (!strcmp(stage, "ResponseComplete") && t->session_counted && t->gw->nsessions)
		reserve = (uint64_t)(t->gw->nsessions - 1) * AUDIT_COMPLETE_RESERVE;
	if (wait) {
		r = audit_log_append_text(t->gw->audit, ev.s, ev.len, reserve, &err);
	} else if (after) {
		r = audit_log_write_text(t->gw->audit, ev.s, ev.len, reserve, trace_durable, t, &err);
		if (r >= 0)
			t->after = after;
	} else {
		char *id = strdup(t->audit_id);

		r = id ? audit_log_write_text(t->gw->audit, ev.s, ev.len, reserve, trace_unwaited, id, &err)
		       : -ENOMEM;
		if (r < 0)
			free(id);
	}
	if (r < 0) {
		log_error("audit %s: cannot write record: %s", t->audit_id, err ? err : tg_strerror(r));
		if (ret_err)
			*ret_err = TAKE_PTR(err);
	}
	return r;
}

/* ---- answers ----------------------------------------------------------------- */

void trace_log(struct trace_req *t, int code, const char *extra)
{
	/* the container is a DNS-1123 label (trace_body_parse): nothing to escape */
	log_info("%s %s user=\"%s\" code=%d audit=%s%s%s%s%s%s", t->method, t->uri, trace_username(t), code,
		 t->audit_id, t->tb.container ? " container=\"" : "", t->tb.container ? t->tb.container : "",
		 t->tb.container ? "\"" : "", extra ? " " : "", extra ? extra : "");
}

/* Answers obj with code (500 when obj is NULL or cannot be serialized)
 * and forgets the connection; the code sent. */
static int trace_respond_json(struct trace_req *t, int code, json_t *obj)
{
	_cleanup_free_ char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	const char *hdrs[] = { "Audit-ID", t->audit_id, NULL };
	static const char oom[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
				  "\"status\":\"Failure\",\"message\":\"out of memory\","
				  "\"reason\":\"InternalError\",\"code\":500}";

	if (!text)
		code = 500;
	if (t->conn)
		(void)http_conn_respond(t->conn, code, "application/json", hdrs, text ? text : oom,
					strlen(text ? text : oom));
	t->conn = NULL;
	return code;
}

void trace_send_status(struct trace_req *t, json_t *status)
{
	(void)trace_respond_json(t, status ? (int)json_integer_value(json_object_get(status, "code")) : 500,
				 status);
}

/*
 * Refuses the request: one audit record (forbid, with the reason), then
 * the Status.  details is stolen.  t is freed.
 */
/*
 * Sends t->answer (t->answer_code) once its record's sync has returned,
 * then frees t.  A success whose record did not reach the disk becomes
 * a 503: nothing is answered as done that the log may not hold.  A
 * refusal is sent either way (the record failing denies nothing more).
 */
static void trace_answer_after(struct trace_req *t, int result, const char *err)
{
	int code = t->answer_code;

	if (result < 0 && code < 400) {
		_cleanup_free_ char *msg = NULL;

		if (asprintf(&msg, "audit log unwritable: %s", err ? err : tg_strerror(result)) < 0)
			msg = NULL;
		json_decref(t->answer);
		t->answer = status_new(503, msg ? msg : "audit log unwritable", NULL);
		code = 503;
	}
	code = trace_respond_json(t, code, t->answer);
	trace_log(t, code, t->answer_extra);
	trace_free(t);
}

/* Records the stage's audit record, then answers (code, answer: stolen,
 * extra for the log line) once the record is durable; t is freed. */
static void trace_answer(struct trace_req *t, const char *stage, int code, const char *message,
			 const char *decision, const char *reason, const char *end_reason,
			 json_t *answer, const char *extra)
{
	int r;

	t->answer = answer;
	t->answer_code = code;
	t->answer_extra = extra ? strdup(extra) : NULL;
	r = trace_audit_then(t, stage, code, message, decision, reason, end_reason, trace_answer_after,
			     NULL);
	if (r == 0)
		return;
	if (r < 0)
		log_error("audit %s: %s of %s %s not recorded", t->audit_id,
			  code >= 400 ? "refusal" : "answer", t->method, t->uri);
	trace_answer_after(t, r < 0 ? r : 0, NULL);
}

void trace_refuse(struct trace_req *t, int code, const char *message, json_t *details)
{
	trace_answer(t, "ResponseStarted", code, message, "forbid", message, NULL,
		     status_new(code, message, details), NULL);
}

void trace_refusef(struct trace_req *t, int code, json_t *details, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	trace_refuse(t, code, msg ? msg : "out of memory", details);
}

/* ---- API server calls ------------------------------------------------------- */

static void trace_step_done(struct trace_req *t, int result, long status, const char *body,
			    size_t len, const char *err);
static void pod_found(struct trace_req *t, struct kube_pod pod);

static void trace_kube_done(int result, long status, const char *body, size_t len, const char *err,
			    void *ud)
{
	struct trace_req *t = ud;

	t->kx = NULL;
	kube_request_release(&t->kreq);
	trace_step_done(t, result, status, body, len, err);
}

/* Starts the API server call in t->kreq; its answer goes to trace_step_done. */
int trace_kube_start(struct trace_req *t)
{
	return gw_kube_fetch(t->gw, &t->kreq, trace_kube_done, t, &t->kx);
}

void trace_upstream_failed(struct trace_req *t, const char *what, int r)
{
	trace_refusef(t, 503, NULL, "API server unavailable: cannot start %s: %s", what, tg_strerror(r));
}

/* ---- steps -------------------------------------------------------------------- */

static void step_sar_create(struct trace_req *t);
static int trace_node_target_check(struct trace_req *t);
static void step_sar_pod(struct trace_req *t);
static void step_pod(struct trace_req *t);

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
		trace_refusef(t, 503, NULL, "API server unavailable: tokenreview: %s",
			      err ? err : tg_strerror(r));
		return;
	}
	t->have_user = true;
	authn_accepted(t);
}

static void authn_accepted(struct trace_req *t)
{
	/* The token has done its job: do not keep it around. */
	explicit_bzero(t->token, strlen(t->token));
	if (t->imp_user) {
		trace_impersonate_step(t);
		return;
	}
	trace_authenticated(t);
}

void trace_authenticated(struct trace_req *t)
{
	_cleanup_free_ char *field = NULL, *berr = NULL;
	struct tg_diag diag = { 0 };
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
	r = trace_body_parse(t->body, t->body_len, &t->tb, &field, &berr);
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
		struct tg_parse_opts po = { .sz = sizeof(po), .params = pv, .nparams = np };

		for (size_t i = 0; i < np && i < TG_MAX_PARAMS; i++)
			pv[i] = json_string_value(json_array_get(t->tb.params, i));
		r = np > TG_MAX_PARAMS ? -TG_ELIMIT
				       : tg_program_parse_opts(t->tb.program, t->tb.program_len, &po,
							       &t->prog, &diag);
	}
	if (r == 0)
		r = tg_program_canonical(t->prog, &t->canonical, t->canonical_sha);
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

static void sar_decided(struct trace_req *t, bool allowed);

void trace_step_sar(struct trace_req *t, enum trace_step step, const struct kube_resource_attrs *a)
{
	_cleanup_free_ char *reason = NULL;
	bool allowed = false;
	int r;

	t->step = step;
	t->attrs = *a;
	/* asked again while the stream runs (trace-reauth.c) */
	if (step != STEP_SAR_DETACHED && trace_reauth_note(t, a, step == STEP_SAR_IMPERSONATE) < 0) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	if (t->gw->sar_cache &&
	    kube_sar_cache_lookup(t->gw->sar_cache, &t->user, &t->attrs, &allowed, &reason) == 1) {
		sar_decided(t, allowed);
		return;
	}
	r = kube_sar_request(&t->user, &t->attrs, &t->kreq);
	if (r < 0) {
		trace_refusef(t, 500, NULL, "subjectaccessreview cannot be built: %s", tg_strerror(r));
		return;
	}
	r = trace_kube_start(t);
	if (r < 0)
		trace_upstream_failed(t, "subjectaccessreview", r);
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

static void sar_done(struct trace_req *t, long status, const char *body, size_t len)
{
	_cleanup_free_ char *reason = NULL, *err = NULL;
	bool allowed = false;
	int r;

	if (t->gw->sar_cache)
		r = kube_sar_cache_parse_store(t->gw->sar_cache, &t->user, &t->attrs, status, body,
					       len, &allowed, &reason, &err);
	else
		r = kube_sar_parse(status, body, len, &allowed, &reason, &err);
	if (r < 0) {
		trace_refusef(t, 503, NULL, "API server unavailable: subjectaccessreview: %s",
			      err ? err : tg_strerror(r));
		return;
	}
	sar_decided(t, allowed);
}

static void sar_decided(struct trace_req *t, bool allowed)
{
	_cleanup_free_ char *msg = NULL;

	if (t->step == STEP_SAR_DETACHED) {
		/* a denial is not a refusal here: the owner sees their own */
		trace_detached_decided(t, allowed);
		return;
	}
	if (!allowed) {
		msg = status_forbidden_message(t->user.username, t->attrs.verb, t->attrs.group,
					       t->attrs.resource, t->attrs.namespace, t->attrs.name,
					       NULL);
		trace_refuse(t, 403, msg ? msg : "forbidden",
			     status_details(t->attrs.resource, t->attrs.group, t->attrs.name));
		return;
	}
	switch (t->step) {
	case STEP_SAR_IMPERSONATE:
		t->imp_next++;
		trace_impersonate_step(t);
		break;
	case STEP_SAR_CREATE:
		if (t->tb.node)
			trace_step_node(t);
		else if (t->tb.selector)
			trace_step_sar_pods(t);
		else if (t->tb.kind)
			trace_step_sar_workload(t);
		else
			step_sar_pod(t);
		break;
	case STEP_SAR_POD:
		step_pod(t);
		break;
	case STEP_SAR_WORKLOAD:
		trace_step_sar_pods(t);
		break;
	case STEP_SAR_PODS:
		if (t->tb.selector)
			trace_step_selector(t);
		else
			trace_step_workload(t);
		break;
	default:
		trace_refuse(t, 500, "internal error: unexpected authorization step", NULL);
		break;
	}
}

static void step_pod(struct trace_req *t)
{
	_cleanup_free_ char *err = NULL;
	struct kube_pod pod = { 0 };
	int r;

	t->step = STEP_POD;
	/* From the watch-fed cache when it has the pod on a node; a pod it
	 * does not have (just created, cache not synced) is asked for. */
	if (kube_namespace_valid(t->route.ns) && kube_name_valid(t->tb.name) &&
	    gw_pod_cached(t->gw, t->route.ns, t->tb.name, &pod, &err) == 0) {
		if (pod.node && *pod.node) {
			pod_found(t, pod);
			return;
		}
		kube_pod_release(&pod);
	}
	r = kube_pod_get_request(t->route.ns, t->tb.name, &t->kreq);
	if (r < 0) {
		trace_refusef(t, 400, NULL, "pod \"%s\" in namespace \"%s\" cannot be looked up: %s",
			      t->tb.name, t->route.ns, tg_strerror(r));
		return;
	}
	r = trace_kube_start(t);
	if (r < 0)
		trace_upstream_failed(t, "pod get", r);
}

static void pod_done(struct trace_req *t, long status, const char *body, size_t len)
{
	_cleanup_free_ char *err = NULL;
	struct kube_pod pod = { 0 };
	int r;

	r = kube_pod_parse(status, body, len, &pod, &err);
	if (r == -TG_ENOTFOUND) {
		trace_refusef(t, 404, status_details("pods", "", t->tb.name),
			      "pods \"%s\" not found in namespace \"%s\"", t->tb.name, t->route.ns);
		return;
	}
	if (r < 0) {
		trace_refusef(t, 503, NULL, "API server unavailable: pod get: %s",
			      err ? err : tg_strerror(r));
		return;
	}
	pod_found(t, pod);
}

/* The target pod (taken over), from the cache or the API server. */
static void pod_found(struct trace_req *t, struct kube_pod pod)
{
	t->pods = calloc(1, sizeof(*t->pods));
	if (!t->pods) {
		kube_pod_release(&pod);
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	t->pods[0] = pod;
	t->npods = 1;
	if (!pod.node || !*pod.node) {
		trace_refusef(t, 409, status_details("pods", "", t->tb.name),
			      "pod \"%s\" in namespace \"%s\" is not scheduled to a node", t->tb.name,
			      t->route.ns);
		return;
	}
	trace_resolved(t);
}

static void trace_step_done(struct trace_req *t, int result, long status, const char *body,
			    size_t len, const char *err)
{
	static const char *const names[] = {
		[STEP_AUTHN] = "tokenreview",
		[STEP_SAR_IMPERSONATE] = "subjectaccessreview",
		[STEP_SAR_CREATE] = "subjectaccessreview",
		[STEP_SAR_POD] = "subjectaccessreview",
		[STEP_POD] = "pod get",
		[STEP_NODE] = "node get",
		[STEP_SAR_WORKLOAD] = "subjectaccessreview",
		[STEP_SAR_PODS] = "subjectaccessreview",
		[STEP_WORKLOAD] = "workload get",
		[STEP_RS_LIST] = "replicaset or job list",
		[STEP_POD_LIST] = "pod list",
		[STEP_SAR_DETACHED] = "subjectaccessreview",
	};

	if (result < 0) {
		/* Unreachable, timed out, TLS failure, oversized answer: deny. */
		trace_refusef(t, 503, NULL, "API server unavailable: %s: %s", names[t->step],
			      err ? err : tg_strerror(result));
		return;
	}
	switch (t->step) {
	case STEP_AUTHN:
		authn_done(t, status, body, len);
		break;
	case STEP_SAR_IMPERSONATE:
	case STEP_SAR_CREATE:
	case STEP_SAR_POD:
	case STEP_SAR_WORKLOAD:
	case STEP_SAR_PODS:
	case STEP_SAR_DETACHED:
		sar_done(t, status, body, len);
		break;
	case STEP_POD:
		pod_done(t, status, body, len);
		break;
	case STEP_NODE:
		trace_node_done(t, status, body, len);
		break;
	case STEP_WORKLOAD:
		trace_workload_done(t, status, body, len);
		break;
	case STEP_RS_LIST:
		trace_rs_list_done(t, status, body, len);
		break;
	case STEP_POD_LIST:
		trace_pod_list_done(t, status, body, len);
		break;
	default:
		trace_refuse(t, 500, "internal error: unexpected API server answer", NULL);
		break;
	}
}

/* ---- decision ------------------------------------------------------------------ */

static void trace_start_stream(struct trace_req *t);

static json_t *policy_details(struct trace_req *t, json_t *denials)
{
	json_t *d = status_details("traces", "tracegate.dev", t->tb.name);
	size_t i;
	json_t *x;

	if (!d)
		return NULL;
	json_array_foreach(denials, i, x) {
		_cleanup_free_ char *text = denial_text(x, false);
		char field[64];

		denial_field(x, field, sizeof(field));
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

static void trace_start_stream(struct trace_req *t);
static void trace_finish_unstarted(struct trace_req *t, const char *reason);

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

/* ---- streaming -------------------------------------------------------------------- */

static void trace_stream_begin(struct trace_req *t);

int trace_emit(struct trace_req *t, json_t *obj)
{
	_cleanup_free_ char *text = NULL;
	size_t n;
	int r;

	if (!t->conn)
		return 0;
	text = json_dumps(obj, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	n = strlen(text);
	text[n] = '\n';   /* json_dumps leaves room only for the NUL: replace it */
	r = http_conn_stream_write(t->conn, text, n + 1);
	if (r >= 0)
		t->bytes += n + 1;
	return r;
}

/* code: the runner's HTTP status when it refused the session (the client
 * tells a refusal, 403, from a program error, 400, from a failure), else 0. */
static void trace_emit_error(struct trace_req *t, const char *node, const char *msg, long code)
{
	_cleanup_(json_decrefp) json_t *e = json_pack("{s:s, s:s}", "type", "error", "message", msg);

	if (e && node)
		json_object_set_new(e, "node", json_string(node));
	if (e && code)
		json_object_set_new(e, "code", json_integer(code));
	if (e)
		(void)trace_emit(t, e);
}

void trace_leg_fail(struct leg *l, const char *fmt, ...)
{
	va_list ap;

	if (l->error)
		return;
	if (!l->fail_reason)
		l->fail_reason = "error";
	va_start(ap, fmt);
	if (vasprintf(&l->error, fmt, ap) < 0)
		l->error = NULL;
	va_end(ap);
}

static int leg_map(struct leg *l, json_t *rec, size_t len)
{
	struct trace_req *t = l->t;
	const char *name = json_string_value(json_object_get(rec, "name"));
	size_t i;
	json_t *m;

	if (!name) {
		trace_leg_fail(l, "runner \"%s\" sent a map record without a name", l->runner->node);
		return -EINVAL;
	}
	t->map_bytes += len;
	if (t->map_bytes > TRACE_MAX_MAP_BYTES) {
		trace_leg_fail(l, "map records from runners exceed %u bytes", TRACE_MAX_MAP_BYTES);
		return -TG_ELIMIT;
	}
	json_array_foreach(t->maps, i, m) {
		if (strcmp(json_string_value(json_object_get(m, "name")), name))
			continue;
		if (tg_map_merge(m, rec) < 0) {
			trace_leg_fail(l, "map \"%s\" from runner \"%s\" does not merge with the others",
				 name, l->runner->node);
			return -EINVAL;
		}
		return 0;
	}
	return json_array_append_new(t->maps, json_deep_copy(rec));
}

static void leg_end(struct leg *l, json_t *rec)
{
	_cleanup_(wire_end_release) struct wire_end e = { 0 };
	_cleanup_free_ char *err = NULL;

	l->has_end = true;
	free(l->end_reason);
	if (wire_end_from_json(rec, &e, &err) < 0) {
		l->end_reason = strdup("error");
		trace_leg_fail(l, "runner \"%s\" sent an end record that is not one: %s", l->runner->node,
			       err ? err : "out of memory");
		return;
	}
	l->end_reason = TAKE_PTR(e.reason);
	/* the runner's "stop" is the graceful stop its client asked for
	 * (trace-stop.c), or the gateway's own (trace-reauth.c: revoked,
	 * target-gone), not the gateway's shutdown or an operator's */
	if (l->t->stop_requested && l->end_reason && !strcmp(l->end_reason, "stop")) {
		free(l->end_reason);
		l->end_reason = strdup(l->t->end_why ? l->t->end_why : "client-stop");
	}
	if (e.events)
		l->events = e.events;
	if (e.drops)
		l->drops = e.drops;
	if (e.map_drops)
		l->map_drops = e.map_drops;
	if (e.cpu_ns)
		l->cpu_ns = e.cpu_ns;
	if (e.has & WIRE_END_EXIT_CODE) {
		l->exit_code = e.exit_code;
		l->has_exit_code = true;
	}
	/* The session's process saw its runner go (it died, or was stopped):
	 * the counts are real, the node's part was cut short. */
	if (!strcmp(l->end_reason ? l->end_reason : "", "runner-lost") && !l->t->client_left) {
		l->fail_reason = "runner-lost";
		trace_leg_fail(l, "node \"%s\": the runner was lost in the middle of the session", l->runner->node);
	}
}

static int trace_leg_alive(struct leg *l);
static int trace_alive_arm(struct trace_req *t);

/* One record of a runner, in its order: relay, merge or record. */
int trace_leg_record(struct leg *l, json_t *rec, size_t len)
{
	struct trace_req *t = l->t;
	const char *type = json_string_value(json_object_get(rec, "type"));

	if (!type)
		return -EINVAL;
	if (!strcmp(type, "status") && json_is_string(json_object_get(rec, "phase")) &&
	    !strcmp(json_string_value(json_object_get(rec, "phase")), "alive"))
		return trace_leg_alive(l);
	if (t->route.dry_run) {
		/* a check streams its "compiled" status and its end, no more */
		if (!strcmp(type, "status") && json_is_string(json_object_get(rec, "phase")) &&
		    !strcmp(json_string_value(json_object_get(rec, "phase")), "compiled")) {
			json_decref(l->compiled);
			l->compiled = json_deep_copy(rec);
		} else if (!strcmp(type, "end")) {
			leg_end(l, rec);
		} else if (!strcmp(type, "error")) {
			const char *m = json_string_value(json_object_get(rec, "message"));

			trace_leg_fail(l, "node \"%s\": %s", l->runner->node, m ? m : "error");
		}
		return 0;
	}
	if (!strcmp(type, "map") && json_is_true(json_object_get(rec, "print")))
		return trace_print_map(l, rec, len);
	if (!strcmp(type, "map"))
		return leg_map(l, rec, len);
	if (!strcmp(type, "end")) {
		leg_end(l, rec);
		trace_print_pump(t);   /* prints no longer waiting for this node */
		return 0;
	}
	/* The node is the one this session went to, whatever the runner says. */
	json_object_set_new(rec, "node", json_string(l->runner->node));
	if (!strcmp(type, "output") && json_integer_value(json_object_get(rec, "lines")) > 0)
		l->relayed += (uint64_t)json_integer_value(json_object_get(rec, "lines"));
	if (!strcmp(type, "output") && !json_is_string(json_object_get(rec, "pod"))) {
		char pod[400] = "";

		/* A runner that did not say: only a session of one pod knows. */
		if (l->joined)
			snprintf(pod, sizeof(pod), "%s", l->joined);
		for (size_t i = 0; i < t->npods && l->npods == 1 && !l->joined; i++)
			if (!strcmp(t->pods[i].node, l->runner->node))
				snprintf(pod, sizeof(pod), "%s/%s", t->pods[i].namespace,
					 t->pods[i].name);
		json_object_set_new(rec, "pod", json_string(pod));
	}
	return trace_emit(t, rec);
}

/*
 * An output record in the runner's own shape (ndjson_output_shape) goes
 * to the client without a parse and an encoding: its node replaced by
 * this leg's, pod, lines and text copied as they are.  That is most of a
 * trace's bytes, and it was most of the gateway's work per printed line.
 * 1: relayed; 0: not that shape or not now (the caller parses it).
 */
static int leg_output_relay(struct leg *l, const char *line, size_t len)
{
	struct trace_req *t = l->t;
	struct ndjson_output o;
	struct buf *b = &l->relay;
	int r;

	/* a check relays nothing; records behind a waiting print are held */
	if (t->route.dry_run || l->blocked_on || l->end_seen || !ndjson_output_shape(line, len, &o))
		return 0;
	if (!t->conn)
		return 1;
	buf_clear(b);
	if ((r = buf_adds(b, "{\"type\":\"output\",\"node\":\"")) < 0 ||
	    (r = buf_add_json_escaped(b, l->runner->node, strlen(l->runner->node))) < 0 ||
	    (r = buf_adds(b, "\",\"pod\":")) < 0 || (r = buf_add(b, o.pod, o.pod_len)) < 0 ||
	    (r = buf_adds(b, ",\"lines\":")) < 0 || (r = buf_add(b, o.lines, o.lines_len)) < 0 ||
	    (r = buf_adds(b, ",\"text\":")) < 0 || (r = buf_add(b, o.text, o.text_len)) < 0 ||
	    (r = buf_adds(b, "}\n")) < 0)
		return r;
	r = http_conn_stream_write(t->conn, b->s, b->len);
	if (r >= 0) {
		t->bytes += b->len;
		l->relayed += strtoull(o.lines, NULL, 10);   /* digits, then ',' */
	}
	return r < 0 ? r : 1;
}

/* One line from a runner: in order, or behind its print that waits. */
static int leg_line(const char *line, size_t len, void *ctx)
{
	struct leg *l = ctx;
	_cleanup_(json_decrefp) json_t *rec = NULL;
	_cleanup_free_ char *err = NULL;
	const char *type;
	int r = leg_output_relay(l, line, len);

	if (r != 0)
		return r < 0 ? r : 0;
	rec = json_loadb(line, len, 0, NULL);
	type = json_string_value(json_object_get(rec, "type"));
	if (!json_is_object(rec) || !type) {
		trace_leg_fail(l, "runner \"%s\" sent a line that is not a typed JSON object", l->runner->node);
		return -EINVAL;
	}
	if (l->end_seen) {
		trace_leg_fail(l, "runner \"%s\" sent records after its end", l->runner->node);
		return -EINVAL;
	}
	if (wire_runner_record_decode(&rec, &err) < 0) {
		trace_leg_fail(l, "runner \"%s\" sent a %s record that is not one: %s", l->runner->node, type,
			       err ? err : "out of memory");
		return -EINVAL;
	}
	type = json_string_value(json_object_get(rec, "type"));   /* rec may be a new one */
	if (!strcmp(type, "end"))
		l->end_seen = true;
	if (trace_print_hold(l, rec, len))
		return 0;
	return trace_leg_record(l, rec, len);
}

static int leg_data(struct httpc_xfer *x, const char *data, size_t len, void *ud)
{
	struct leg *l = ud;
	struct trace_req *t = l->t;
	int r;

	l->heard_ns = now_mono_ns();
	if (!l->status)
		l->status = httpc_xfer_status(x);
	if (l->status == 200 && !l->stop_sent && t->stop_requested)
		trace_leg_answered(l);
	if (l->status != 200) {
		/* A refusal (Status object): keep the beginning for the message. */
		if (l->errbody.len < TRACE_MAX_RUNNER_ERROR_BODY)
			(void)buf_add(&l->errbody, data,
				      MIN(len, TRACE_MAX_RUNNER_ERROR_BODY - l->errbody.len));
		return 0;
	}
	/* The first runner that answers 200 starts the client's stream (a
	 * check answers once every node has: trace_finish_checked). */
	if (!t->stream_started && !t->route.dry_run)
		trace_stream_begin(t);
	/* Backpressure: the client is behind; hold the runner until it drains. */
	if (t->conn && http_conn_congested(t->conn))
		return HTTPC_PAUSE;
	r = ndjson_feed(&l->split, data, len, leg_line, l);
	if (r == -TG_ELIMIT)
		trace_leg_fail(l, "runner \"%s\" sent a line longer than the limit \"maxLineBytes\" (%zu)",
			 l->runner->node, t->gw->cfg->limits.max_line_bytes);
	else if (r < 0)
		trace_leg_fail(l, "runner \"%s\": stream cannot be relayed: %s", l->runner->node, tg_strerror(r));
	return r < 0 ? r : 0;
}

/* The end of a leg's transfer, once its records are all in order. */
static bool leg_done_eval(struct leg *l, int result, const char *err)
{
	struct trace_req *t = l->t;
	bool refused = false;

	l->done = true;
	l->done_deferred = false;
	t->legs_done++;
	if (l->error) {
		/* already explained (bad line, limit) */
	} else if (result < 0 && l->status == 200) {
		l->fail_reason = "runner-lost";
		trace_leg_fail(l, "node \"%s\": runner lost in the middle of the session: %s", l->runner->node,
			 err ? err : tg_strerror(result));
	} else if (result < 0) {
		l->fail_reason = "node-failed";
		trace_leg_fail(l, "node \"%s\": runner unreachable or failed: %s", l->runner->node,
			 err ? err : tg_strerror(result));
	} else if (l->status != 200) {
		_cleanup_(json_decrefp) json_t *st = json_loadb(l->errbody.s, l->errbody.len, 0, NULL);
		const char *m = json_string_value(json_object_get(st, "message"));

		l->fail_reason = l->status == 403 ? "policy" : l->status == 400 || l->status == 422 ? "program-error"
											   : "node-failed";
		trace_leg_fail(l, "runner \"%s\" refused the session (HTTP %ld): %s", l->runner->node,
			 l->status, m ? m : "no message");
		free(l->refusal);
		l->refusal = m ? strdup(m) : NULL;
		refused = true;
	} else if (ndjson_pending(&l->split)) {
		l->fail_reason = "runner-lost";
		trace_leg_fail(l, "node \"%s\": runner stream ended in the middle of a line", l->runner->node);
	} else if (!l->has_end) {
		l->fail_reason = "runner-lost";
		trace_leg_fail(l, "node \"%s\": runner stream ended without an end record", l->runner->node);
	}
	if (l->error && t->stream_started)
		trace_emit_error(t, l->runner->node, l->error, refused ? l->status : 0);
	trace_print_pump(t);   /* prints no longer waiting for this node */
	if (t->legs_done == t->nlegs) {
		trace_finish(t, NULL);
		return true;
	}
	return false;
}

bool trace_leg_done_finish(struct leg *l)
{
	_cleanup_free_ char *err = TAKE_PTR(l->done_err);

	return leg_done_eval(l, l->done_result, err);
}

/* true: the trace ended (it is freed) */
static bool leg_done_maybe(struct leg *l, int result, const char *err)
{
	/* records held behind a print that waits: the end comes after them */
	if (l->blocked_on || json_array_size(l->held)) {
		l->done_deferred = true;
		l->done_result = result;
		free(l->done_err);
		l->done_err = err ? strdup(err) : NULL;
		return false;
	}
	return leg_done_eval(l, result, err);
}

static void leg_done(struct httpc_xfer *x, int result, long status, const char *err, void *ud)
{
	struct leg *l = ud;

	(void)x;
	l->x = NULL;
	if (!l->status)
		l->status = status;
	(void)leg_done_maybe(l, result, err);
}

/*
 * A hung runner (stopped, its node frozen, the network to it gone) sends
 * nothing, and neither does a trace with nothing to print: a runner that
 * keeps its session alive says so every few seconds when it has nothing
 * else to send (runner/session.c, SESS_ALIVE_NS), and a leg that said so
 * once and then stays silent for TRACE_RUNNER_SILENT_S is lost
 * (runner-lost), not waited for until the trace's duration and
 * TRACE_RUNNER_GRACE_S.  A leg paused because the client is behind is
 * not expected to hear anything, nor one whose end has come (its session
 * may take a while to close: a wildcard's perf events).  Once a graceful
 * stop is asked for, its own grace (TRACE_STOP_GRACE_S) bounds the legs
 * and names them (node-failed, "did not end within ... of the stop").
 * Before its first byte a leg has limits.runnerAnswerSeconds from when it
 * was asked for: a runner hung while compiling or loading is node-failed
 * then (503 when no node started), not at the transfer's hard stop.
 */
static void trace_alive_check(evutil_socket_t fd, short what, void *ud)
{
	struct trace_req *t = ud;
	uint64_t now = now_mono_ns();
	unsigned answer_s = t->gw->cfg->limits.runner_answer_s;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < t->nlegs; i++) {
		struct leg *l = &t->legs[i];
		char msg[160];

		if (l->x && !l->status && now - l->asked_ns >= answer_s * 1000000000ull) {
			httpc_xfer_cancel(l->x);
			l->x = NULL;
			snprintf(msg, sizeof(msg), "no answer within %u s (limits.runnerAnswerSeconds; hung, or overloaded)",
				 answer_s);
			if (leg_done_maybe(l, -ETIMEDOUT, msg))
				return;   /* the trace ended: t is gone */
			continue;
		}
		if (!l->alive || !l->x || l->has_end || l->end_seen || httpc_xfer_paused(l->x) ||
		    t->stop_requested) {
			l->heard_ns = now;
			continue;
		}
		if (now - l->heard_ns < TRACE_RUNNER_SILENT_S * 1000000000ull)
			continue;
		httpc_xfer_cancel(l->x);
		l->x = NULL;
		snprintf(msg, sizeof(msg), "it sent nothing for %u s (hung, or unreachable)",
			 TRACE_RUNNER_SILENT_S);
		if (leg_done_maybe(l, -ETIMEDOUT, msg))
			return;   /* the trace ended: t is gone */
	}
}

static int trace_alive_arm(struct trace_req *t)
{
	const struct timeval tick = { 1, 0 };

	if (t->alive_timer)
		return 0;
	t->alive_timer = event_new(t->gw->base, -1, EV_PERSIST, trace_alive_check, t);
	if (!t->alive_timer || evtimer_add(t->alive_timer, &tick) < 0)
		return -ENOMEM;
	return 0;
}

static int trace_leg_alive(struct leg *l)
{
	l->alive = true;
	return trace_alive_arm(l->t);
}

void trace_stop_grace_over(struct trace_req *t, unsigned grace_s)
{
	for (size_t i = 0; i < t->nlegs; i++) {
		struct leg *l = &t->legs[i];

		if (l->done || l->has_end || l->done_deferred)
			continue;
		l->fail_reason = "node-failed";
		trace_leg_fail(l, "node \"%s\": did not end within %u s of the stop asked for; cut",
			 l->runner->node, grace_s);
		if (l->error && t->stream_started)
			trace_emit_error(t, l->runner->node, l->error, 0);
	}
	trace_finish(t, NULL);
}

static const struct httpc_xfer_ops leg_ops = {
	.on_data = leg_data,
	.on_done = leg_done,
};

static int session_request(struct trace_req *t, const char *node, const char *only, int64_t duration,
			   struct session_request *ret);

/* The text of one leg's session: a joined pod gets what is left of the
 * trace's duration */
static char *leg_session_text(struct trace_req *t, const struct leg *leg)
{
	_cleanup_(session_request_release) struct session_request req = { 0 };
	int64_t left = t->duration;
	char *text = NULL;

	if (leg->joined)
		left -= (int64_t)((now_mono_ns() - t->stream_mono_ns) / 1000000000u);
	if (session_request(t, leg->runner->node, leg->joined, left > 1 ? left : 1, &req) < 0 ||
	    session_request_encode(&req, &text) < 0)
		return NULL;
	return text;
}

/* The session of one node: the program and that node's pods. */
int trace_session_request(struct trace_req *t, const char *node, struct session_request *ret)
{
	return session_request(t, node, NULL, t->duration, ret);
}

static char *dup_or(const char *s, const char *dflt)
{
	return strdup(s ? s : dflt);
}

/* -c NAME: the container the runner scopes pod p to (trace_resolved and
 * a join checked it), its name and ID */
static int session_pod(const struct trace_req *t, const struct kube_pod *p, struct session_pod *sp)
{
	const struct kube_container *c;
	int code;

	/* the runner wants a uid; "" is refused there, as it always was */
	if (!(sp->ns = strdup(p->namespace)) || !(sp->name = strdup(p->name)) || !(sp->uid = dup_or(p->uid, "")) ||
	    !(sp->qos = dup_or(p->qos, "")))
		return -ENOMEM;
	if (!t->tb.container)
		return 0;
	if (trace_pod_container(p, t->tb.container, &c, &code, NULL) != 0)
		return -EINVAL;
	if (!(sp->container = strdup(c->name)) || !(sp->container_id = strdup(c->id)))
		return -ENOMEM;
	return 0;
}

static int session_pods(struct trace_req *t, const char *node, const char *only, struct session_request *req)
{
	char key[400];

	req->pods = calloc(t->npods ? t->npods : 1, sizeof(*req->pods));
	if (!req->pods)
		return -ENOMEM;
	for (size_t i = 0; i < t->npods; i++) {
		const struct kube_pod *p = &t->pods[i];
		int r;

		snprintf(key, sizeof(key), "%s/%s", p->namespace, p->name);
		if (strcmp(p->node, node) || (only && strcmp(key, only)) ||
		    (!only && t->pod_left && t->pod_left[i]))
			continue;
		r = session_pod(t, p, &req->pods[req->npods++]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int session_params(const json_t *params, struct session_request *req)
{
	size_t n = json_array_size(params);

	req->params = calloc(n + 1, sizeof(*req->params));
	if (!req->params)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(params, i));

		if (!s || !(req->params[i] = strdup(s)))
			return -ENOMEM;
		req->nparams++;
	}
	return 0;
}

/* whose trace it is: the runners list their sessions' owners for the
 * gateways' maxConcurrentTraces (GET /v1/sessions); a node-wide trace's
 * owner has no namespace ("") */
static int session_owner(struct trace_req *t, struct session_request *req)
{
	if (t->route.dry_run)
		return 0;
	req->owner = calloc(1, sizeof(*req->owner));
	if (!req->owner || !(req->owner->ns = strdup(t->tb.node ? "" : t->route.ns)) ||
	    !(req->owner->user = strdup(t->user.username)))
		return -ENOMEM;
	return 0;
}

/* the decision's tracepoint field rules: the runner re-checks them
 * against the node's real formats (policy/tpfields.h) */
static int session_tp_fields(struct trace_req *t, struct session_request *req)
{
	int r;

	if (!t->decision.tracepoint_fields)
		return 0;
	req->tp_fields = calloc(1, sizeof(*req->tp_fields));
	if (!req->tp_fields)
		return -ENOMEM;
	r = tg_tpf_rules_from_json(t->decision.tracepoint_fields, req->tp_fields, NULL);
	if (r < 0) {
		free(req->tp_fields);
		req->tp_fields = NULL;
	}
	return r;
}

/* only: "NS/NAME", that pod alone (wire/session.h writes the body) */
static int session_request(struct trace_req *t, const char *node, const char *only, int64_t duration,
			   struct session_request *ret)
{
	const struct tg_policy_limits *l = &t->decision.limits;
	_cleanup_(session_request_release) struct session_request req = {
		.duration_s = (uint64_t)duration,
		.limits = {
			.max_map_entries = l->max_map_entries,
			.max_map_bytes = l->max_map_bytes,
			.events_per_second = l->events_per_second,
			.max_duration_s = MIN(l->max_duration_s, (uint64_t)t->gw->cfg->limits.max_duration_s),
			.cpu_budget = l->cpu_budget,
			.max_output_bytes = l->max_output_bytes,
		},
		/* node-wide: an explicit scope and the node, never pods */
		.node_scope = t->tb.node,
		/* -o bpftrace-json: each output event's kind and place in its record */
		.output_events = t->tb.output_events,
		/* a check: the runner stops before the load */
		.dry_run = t->route.dry_run,
	};
	int r;

	/* the program as the client sent it, whatever bytes it holds */
	if (!(req.trace = strdup(t->trace_id)) || !(req.program = malloc(t->tb.program_len + 1)) ||
	    !(req.canonical = strdup(t->canonical)))
		return -ENOMEM;
	memcpy(req.program, t->tb.program, t->tb.program_len);
	req.program[t->tb.program_len] = '\0';
	req.program_len = t->tb.program_len;
	if ((r = session_params(t->tb.params, &req)) < 0 ||
	    (r = t->tb.node ? (req.node = strdup(node)) ? 0 : -ENOMEM : session_pods(t, node, only, &req)) < 0 ||
	    (r = session_owner(t, &req)) < 0 || (r = session_tp_fields(t, &req)) < 0)
		return r;
	*ret = req;
	memset(&req, 0, sizeof(req));
	return 0;
}

static int leg_start(struct trace_req *t, struct leg *l)
{
	const struct gw_config *cfg = t->gw->cfg;
	_cleanup_free_ char *text = leg_session_text(t, l);
	struct curl_slist *h = NULL, *n;
	CURL *e;

	if (!text)
		return -ENOMEM;
	e = gw_runner_easy(t->gw, l->runner, "/v1/sessions");
	if (!e)
		return -ENOMEM;
	if (!(n = curl_slist_append(h, "Content-Type: application/json")) || !(h = n) ||
	    !(n = curl_slist_append(h, "Accept: application/x-ndjson")) || !(h = n) ||
	    !(n = curl_slist_append(h, "Expect:")) || !(h = n)) {
		curl_slist_free_all(h);
		curl_easy_cleanup(e);
		return -ENOMEM;
	}
	curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, text);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, TRACE_RUNNER_CONNECT_MS);
	/* A hard stop in case a runner never ends its session. */
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)(t->duration + TRACE_RUNNER_GRACE_S));
	ndjson_init(&l->split, cfg->limits.max_line_bytes);
	buf_init(&l->relay, cfg->limits.max_line_bytes + 4096);
	buf_init(&l->errbody, TRACE_MAX_RUNNER_ERROR_BODY);
	l->asked_ns = now_mono_ns();
	if (trace_alive_arm(t) < 0) {
		curl_slist_free_all(h);
		curl_easy_cleanup(e);
		return -ENOMEM;
	}
	return httpc_start_gated(t->gw->httpc, gw_runner_gate(t->gw, l->runner), e, h, &leg_ops, l,
				 &l->x);
}

/*
 * The client's stream starts when the first runner answers 200 (its
 * session compiled and resolved its pods): a trace that cannot start on
 * any node is answered with an error status instead (trace_finish).  The
 * failures of nodes that came before are then the first lines.
 */
static void trace_stream_begin(struct trace_req *t)
{
	const char *hdrs[] = { "Audit-ID", t->audit_id, NULL };
	_cleanup_(json_decrefp) json_t *acc = NULL;
	int r;

	if (t->stream_started || !t->conn)
		return;
	t->stream_started = true;
	r = http_conn_stream_start(t->conn, 200, "application/x-ndjson", hdrs);
	trace_log(t, r < 0 ? 500 : 200, NULL);
	acc = json_pack("{s:s, s:s, s:s, s:o, s:o}", "type", "status", "phase", "accepted",
			"trace", t->trace_id, "pods", trace_pods_json(t), "nodes", trace_nodes_json(t));
	if (acc)
		(void)trace_emit(t, acc);
	trace_emit_left_out(t);
	for (size_t i = 0; i < t->nlegs; i++)
		if (t->legs[i].error)
			trace_emit_error(t, t->legs[i].runner->node, t->legs[i].error,
					 t->legs[i].status && t->legs[i].status != 200 ? t->legs[i].status : 0);
}

static void trace_start_stream(struct trace_req *t)
{
	int r;

	if (t->tb.detach && !t->route.dry_run) {
		trace_detached_start(t);
		return;
	}
	t->step = STEP_STREAM;
	t->maps = json_array();
	/* One session per node, each with that node's pods (trace_resolved
	 * found a runner for every node). */
	t->nlegs = t->nnodes;
	/* a workload's pods that join while it runs get legs of their own */
	t->legs_cap = t->nlegs + (t->have_wl || t->tb.selector ? t->gw->cfg->limits.max_pods_per_trace : 0);
	t->legs = calloc(t->legs_cap ? t->legs_cap : 1, sizeof(*t->legs));
	t->stream_mono_ns = now_mono_ns();
	if (!t->maps || !t->legs) {
		t->nlegs = 0;
		trace_finish(t, "error");
		return;
	}
	for (size_t i = 0; i < t->nlegs; i++) {
		t->legs[i].t = t;
		t->legs[i].runner = t->runners[i];
		for (size_t k = 0; k < t->npods; k++)
			t->legs[i].npods += !strcmp(t->pods[k].node, t->nodes[i]);
	}
	for (size_t i = 0; i < t->nlegs; i++) {
		struct leg *l = &t->legs[i];

		r = leg_start(t, l);
		if (r < 0) {
			l->done = true;
			t->legs_done++;
			l->fail_reason = "node-failed";
			trace_leg_fail(l, "runner \"%s\": session cannot be started: %s", l->runner->node,
				 tg_strerror(r));
		}
	}
	if (t->legs_done == t->nlegs) {
		trace_finish(t, NULL);
		return;
	}
	if (!t->route.dry_run && trace_reauth_start(t) < 0) {
		log_error("trace %s: re-authorization cannot be scheduled: the trace ends", t->trace_id);
		trace_finish(t, "error");
	}
}

int trace_leg_join(struct trace_req *t, const struct gw_runner *runner, const char *pod)
{
	struct leg *l;
	int r;

	if (t->nlegs >= t->legs_cap) {
		gw_runner_put(runner);
		return -TG_ELIMIT;
	}
	l = &t->legs[t->nlegs];
	*l = (struct leg){ .t = t, .runner = runner, .npods = 1, .joined = strdup(pod) };
	if (!l->joined) {
		gw_runner_put(runner);
		return -ENOMEM;
	}
	t->nlegs++;
	r = leg_start(t, l);
	if (r < 0) {
		l->done = true;
		t->legs_done++;
		l->fail_reason = "node-failed";
		trace_leg_fail(l, "runner \"%s\": session for pod \"%s\" cannot be started: %s",
			       l->runner->node, pod, tg_strerror(r));
		if (l->error && t->stream_started)
			trace_emit_error(t, l->runner->node, l->error, 0);
	}
	return r;
}

struct leg *trace_leg_of_joined(struct trace_req *t, const char *pod)
{
	for (size_t i = 0; i < t->nlegs; i++)
		if (t->legs[i].joined && !strcmp(t->legs[i].joined, pod))
			return &t->legs[i];
	return NULL;
}

/* Resume runner transfers held for a slow client. */
static void trace_on_drain(void *ud)
{
	struct trace_req *t = ud;

	if (t->step == STEP_DETACHED) {
		trace_detached_drain(t);
		return;
	}
	for (size_t i = 0; i < t->nlegs && t->conn; i++)
		if (t->legs[i].x && httpc_xfer_paused(t->legs[i].x))
			(void)httpc_xfer_resume(t->legs[i].x);
}

static const char *trace_end_reason(struct trace_req *t)
{
	const char *reason = NULL;

	for (size_t i = 0; i < t->nlegs; i++) {
		if (t->legs[i].error)
			return leg_reason(&t->legs[i]);
		if (!reason && t->legs[i].end_reason)
			reason = t->legs[i].end_reason;
	}
	return reason ? reason : "error";
}

/*
 * When some nodes failed, the end line says which and what the others
 * did: "failedNodes" and, for a trace of several nodes, a "message".
 */
static void trace_end_failures(struct trace_req *t, struct wire_end *end)
{
	_cleanup_buf_ struct buf b = BUF_INIT(16 * 1024);
	size_t failed = 0;
	const char *other = NULL;

	for (size_t i = 0; i < t->nlegs; i++) {
		if (t->legs[i].error)
			failed++;
		else if (!other && t->legs[i].end_reason)
			other = t->legs[i].end_reason;
	}
	if (!failed)
		return;
	end->failed_nodes = calloc(failed, sizeof(*end->failed_nodes));
	for (size_t i = 0; end->failed_nodes && i < t->nlegs; i++)
		if (t->legs[i].error && (end->failed_nodes[end->nfailed_nodes] = strdup(t->legs[i].runner->node)))
			end->nfailed_nodes++;
	if (t->nlegs < 2)
		return;
	(void)buf_printf(&b, "%zu of %zu nodes failed:", failed, t->nlegs);
	for (size_t i = 0; i < t->nlegs; i++)
		if (t->legs[i].error)
			(void)buf_printf(&b, " node \"%s\": %s;", t->legs[i].runner->node,
					 t->legs[i].error);
	if (failed < t->nlegs)
		(void)buf_printf(&b, " the other nodes ran to the end (\"%s\")",
				 other ? other : "stop");
	else if (b.len)
		b.s[--b.len] = '\0';   /* the last ';' */
	if (b.len)
		end->message = strdup(b.s);
}

/*
 * No runner answered 200: nothing started anywhere, and the client gets
 * an error status instead of a stream.  Every node's refusal with the
 * same 4xx (a runner's policy re-check, a program its kernel refuses, a
 * pod gone from the node) keeps that code; anything else is a 503.
 */
/* "program:L:C: message" in a runner's refusal: the cause a client
 * prints in bpftrace's form (field "program:L:C", the first line). */
static json_t *refusal_cause(const char *msg, long code)
{
	const char *p = msg ? strstr(msg, "program:") : NULL, *q;
	char field[64];
	size_t n;

	for (; p; p = strstr(p + 1, "program:")) {
		q = p + 8;
		if (*q < '0' || *q > '9')
			continue;
		q += strspn(q, "0123456789");
		if (*q++ != ':' || *q < '0' || *q > '9')
			continue;
		q += strspn(q, "0123456789");
		if (q[0] != ':' || q[1] != ' ' || (size_t)(q - p) >= sizeof(field))
			continue;
		snprintf(field, sizeof(field), "%.*s", (int)(q - p), p);
		n = strcspn(q + 2, "\n");
		return json_pack("{s:s, s:s, s:s%}", "reason",
				 code == 403 ? "FieldValueForbidden" : "FieldValueInvalid", "field", field,
				 "message", q + 2, n);
	}
	return NULL;
}

static void trace_finish_unstarted(struct trace_req *t, const char *reason)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64 * 1024);
	_cleanup_(json_decrefp) json_t *st = NULL;
	json_t *details = status_details("traces", "tracegate.dev", t->tb.target), *causes = json_array();
	const struct leg *only = NULL;
	size_t nfailed = 0;
	long code = 0, c;
	char extra[192];

	for (size_t i = 0; i < t->nlegs; i++) {
		const struct leg *l = &t->legs[i];
		json_t *cause;

		if (!l->error)
			continue;
		nfailed++;
		only = l;
		c = l->status >= 400 && l->status < 500 && l->status != 429 ? l->status : 503;
		if (!code)
			code = c;
		else if (code != c)
			code = 503;
		(void)buf_printf(&b, "%s%s", b.len ? "; " : "", l->error);
		/* one cause per node: NodeFailed when the node (not the program
		 * or the policy) is why; a runner's refusal located in the
		 * program as the gateway's own are */
		cause = c != 503 ? refusal_cause(l->refusal, c) : NULL;
		json_array_append_new(causes, cause ? cause
						     : json_pack("{s:s, s:s, s:s}", "reason",
								 c == 503 ? "NodeFailed" : status_reason((int)c),
								 "field", l->runner->node, "message", l->error));
	}
	if (!code)
		code = 503;
	/* one node that refused: its own words, as the runner said them */
	if (nfailed == 1 && code != 503 && only->refusal) {
		buf_clear(&b);
		(void)buf_adds(&b, only->refusal);
	}
	if (!b.len)
		(void)buf_printf(&b, "the trace was not started: %s",
				 !strcmp(reason, "stop") ? "the gateway is shutting down" : reason);
	if (details && causes)
		json_object_set_new(details, "causes", causes);
	else
		json_decref(causes);
	st = status_new((int)code, b.s, details);
	snprintf(extra, sizeof(extra), "end=%s events=0 drops=0 mapDrops=0 bytes=0", reason);
	trace_answer(t, "ResponseComplete", (int)code, b.s, "allow", t->policy, reason, TAKE_PTR(st),
		     extra);
}

/*
 * A dry run whose runners all answered: every node checked the program
 * (the end reason "checked") is a 200 with a Trace object and the
 * decision at the top (message, policy, pods, nodes, limits: what
 * `kubectl trace check` prints, the same words as `tracegate policy
 * check`) and what each node compiled; a node that refused or failed is
 * the refusal a run would have had (trace_finish_unstarted).  t is freed.
 */
static void trace_finish_checked(struct trace_req *t, const char *reason)
{
	_cleanup_(json_decrefp) json_t *obj = NULL, *compiled = json_array();

	for (size_t i = 0; i < t->nlegs; i++) {
		struct leg *l = &t->legs[i];
		json_t *probes = json_object_get(l->compiled, "probes");
		json_t *object = json_object_get(l->compiled, "object");

		if (!l->error && (!l->end_reason || strcmp(l->end_reason, "checked") || !l->compiled)) {
			l->fail_reason = "node-failed";
			trace_leg_fail(l, "node \"%s\": the runner did not check the program (end \"%s\")",
				       l->runner->node, l->end_reason ? l->end_reason : "none");
		}
		if (l->error) {
			trace_finish_unstarted(t, reason);
			return;
		}
		json_array_append_new(compiled, json_pack("{s:s, s:O, s:O}", "node", l->runner->node, "probes",
							  probes ? probes : json_null(), "object",
							  object ? object : json_null()));
	}
	obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:I}, s:{s:s, s:o, s:o, s:s},"
			" s:s, s:s, s:o, s:o, s:o, s:O}",
			"apiVersion", "tracegate.dev/v1alpha1", "kind", "Trace", "metadata",
			"namespace", t->route.ns, "name", t->trace_id, "spec", "target",
			t->tb.target, "duration", (json_int_t)t->duration, "status", "phase",
			"Checked", "pods", trace_pods_json(t), "nodes", trace_nodes_json(t),
			"policy", t->policy, "message", t->dry_msg ? t->dry_msg : "allowed", "policy",
			t->policy, "pods", trace_pods_json(t), "nodes", trace_nodes_json(t),
			"limits", trace_limits_json(t), "compiled", compiled ? compiled : json_null());
	if (obj && t->nleft_out)
		json_object_set_new(obj, "podsLeftOut", trace_left_out_json(t));
	trace_answer(t, "ResponseComplete", 200, NULL, "allow", "dry run: checked, not run", "dryRun",
		     obj ? TAKE_PTR(obj) : json_object(), "dryRun");
}

/*
 * Ends a stream: merged maps, the end line, ResponseComplete.  why is
 * NULL when every runner ended on its own, else the reason ("stop").
 * t is freed.
 */
void trace_finish(struct trace_req *t, const char *why)
{
	_cleanup_(json_decrefp) json_t *end = NULL;
	_cleanup_(wire_end_release) struct wire_end we = { 0 };
	const char *reason;
	struct trace_counts c;
	int64_t exit_code;
	size_t i;
	json_t *m;
	char extra[192];

	if (t->finishing)
		return;
	t->finishing = true;
	for (i = 0; i < t->nlegs; i++) {
		if (t->legs[i].x) {
			httpc_xfer_cancel(t->legs[i].x);
			t->legs[i].x = NULL;
		}
		gw_end_fetch_cancel(t->legs[i].fetch);
		t->legs[i].fetch = NULL;
	}
	/* prints still waiting go out, records held behind them follow; a
	 * transfer end held behind them is counted now */
	trace_print_flush(t);
	for (i = 0; i < t->nlegs; i++)
		if (t->legs[i].done_deferred) {
			_cleanup_free_ char *err = TAKE_PTR(t->legs[i].done_err);

			(void)leg_done_eval(&t->legs[i], t->legs[i].done_result, err);
		}
	trace_counts_sum(t, &c);
	reason = why ? why : trace_end_reason(t);
	if (t->route.dry_run && t->conn) {
		trace_finish_checked(t, reason);
		return;
	}
	if (!t->stream_started && t->conn) {
		trace_finish_unstarted(t, reason);
		return;
	}
	json_array_foreach(t->maps, i, m)
		(void)trace_emit(t, m);
	/* bytes: the stream so far, this line excluded. */
	we = (struct wire_end){
		.reason = strdup(reason),
		.has = WIRE_END_EVENTS | WIRE_END_DROPS | WIRE_END_MAP_DROPS | WIRE_END_BYTES | WIRE_END_CPU_NS,
		.events = c.events, .drops = c.drops, .map_drops = c.map_drops, .bytes = t->bytes, .cpu_ns = c.cpu_ns,
	};
	if (trace_exit_code(t, &exit_code)) {
		we.exit_code = (int)exit_code;
		we.has |= WIRE_END_EXIT_CODE;
	}
	trace_end_failures(t, &we);
	if (!we.message && t->end_message)
		we.message = strdup(t->end_message);
	if (wire_end_to_json(&we, &end) == 0)
		(void)trace_emit(t, end);
	if (t->conn) {
		(void)http_conn_stream_end(t->conn);
		t->conn = NULL;
	}
	/* the stream has ended already: nothing waits for this record's sync */
	if (trace_audit_then(t, "ResponseComplete", 200, NULL, "allow", t->policy, reason, NULL, NULL) < 0)
		log_error("audit %s: end of trace not recorded", t->audit_id);
	snprintf(extra, sizeof(extra),
		 "end=%s events=%" PRIu64 " drops=%" PRIu64 " mapDrops=%" PRIu64 " bytes=%" PRIu64, reason,
		 c.events, c.drops, c.map_drops, t->bytes);
	trace_log(t, 200, extra);
	if (trace_all_ended(t))
		trace_detached_ended(t);
	trace_free(t);
}

/* A runner's kept end of a session whose client left: its real counts. */
static void leg_kept_end(int result, json_t *end, const char *err, void *ud)
{
	struct leg *l = ud;
	struct trace_req *t = l->t;

	l->fetch = NULL;
	if (result == 0)
		leg_end(l, end);
	else
		log_warn("audit %s: trace %s: node \"%s\": counts unknown: %s", t->audit_id, t->trace_id,
			 l->runner->node, err ? err : tg_strerror(result));
	if (--t->fetching == 0)
		trace_finish(t, "client");
}

/*
 * The client went away (a second Ctrl-C, killed, a reader stalled past
 * stallTimeoutSeconds).  Each runner transfer is cancelled at once, so
 * its session detaches now; then each runner is asked for the end record
 * it kept, and the trace ends with reason "client" and the real counts.
 */
static void trace_client_left(struct trace_req *t)
{
	t->client_left = true;
	for (size_t i = 0; i < t->nlegs; i++) {
		struct leg *l = &t->legs[i];

		if (l->x) {
			httpc_xfer_cancel(l->x);
			l->x = NULL;
		}
		if (l->done || l->has_end)
			continue;
		if (gw_end_fetch_start(t->gw, l->runner, t->trace_id, GW_END_CLIENT_WAIT_MS, leg_kept_end, l,
				       &l->fetch) == 0)
			t->fetching++;
	}
	if (!t->fetching)
		trace_finish(t, "client");
}

/* The client went away. */
static void trace_on_close(void *ud)
{
	struct trace_req *t = ud;

	t->conn = NULL;
	if (t->after)
		return;   /* its record is being synced: the answer goes nowhere */
	if (t->step == STEP_STREAM) {
		if (!t->finishing && !t->client_left)
			trace_client_left(t);
		return;
	}
	if (t->step == STEP_DETACHED) {
		trace_detached_client_left(t);
		return;
	}
	if (t->kx) {
		httpc_xfer_cancel(t->kx);
		t->kx = NULL;
	}
	/* Nothing ran and nobody is left to answer: still, one record. */
	if (trace_audit_then(t, "ResponseStarted", 0, NULL, "forbid",
			     "client closed the connection before the decision", NULL, NULL, NULL) < 0)
		log_error("audit %s: abandoned request not recorded", t->audit_id);
	trace_log(t, 0, "client-gone");
	trace_free(t);
}

static const struct http_conn_ops trace_conn_ops = {
	.on_drain = trace_on_drain,
	.on_close = trace_on_close,
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
	if (t->imp_user)
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
