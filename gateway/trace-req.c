// SPDX-License-Identifier: Apache-2.0
/*
 * The services every step of the request flow uses (trace-int.h, "Who
 * owns what"): the request's bookkeeping and its release, its audit
 * records, its answers and refusals, its API server calls and
 * SubjectAccessReviews, the records of its stream.  Nothing here names a
 * step: where the flow goes on, it goes through the coordinator's step
 * table (t->flow, trace.c), so no file of the flow is called back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/event.h>
#include <jansson.h>
#include "gateway/audit.h"
#include "gateway/dry-flight.h"
#include "gateway/event.h"
#include "gateway/gateway.h"
#include "gateway/httpc.h"
#include "lib/ndjson.h"
#include "gateway/runner-end.h"
#include "gateway/runners.h"
#include "gateway/status.h"
#include "wire/fields.h"
#include "wire/record.h"
#include "wire/stream.h"
#include "wire/trace-body.h"
#include "wire/traces.h"
#include "gateway/trace-int.h"
#include "gateway/watch.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/jsondump.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lang/ast.h"
#include "policy/policy.h"
#include "kube/cache.h"
#include "kube/kube.h"
#include "kube/workload.h"
#include "lib/banned.h"

/* (the request's state, struct trace_req, is in gateway/trace-int.h) */


/* ---- bookkeeping ---------------------------------------------------------- */

static void leg_release(struct leg *l)
{
	if (l->flight_owned)
		gw_dry_flight_land(l->flight);    /* its waiters ask their runners */
	else
		gw_dry_flight_leave(l->flight, l);
	l->flight = NULL;
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
	if (t->flow && t->flow->print_free)
		t->flow->print_free(t);
	for (size_t i = 0; i < t->fan.nlegs; i++)
		leg_release(&t->fan.legs[i]);
	free(t->fan.legs);
	json_decref(t->fan.maps);
	json_decref(t->answer);
	free(t->answer_extra);
	free(t->dry_msg);
	for (size_t i = 0; t->dry_hits && i < t->nnodes; i++)
		json_decref(t->dry_hits[i]);
	free(t->dry_hits);
	json_decref(t->denials);
	json_decref(t->det_failed);
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
	kube_resolve_release(&t->res);
	lang_program_free(t->prog);
	free(t->canonical);
	trace_body_release(&t->tb);
	if (t->have_user)
		kube_user_release(&t->user);
	if (t->impersonating)
		kube_user_release(&t->real_user);
	if (t->flow && t->flow->impersonation_free)
		t->flow->impersonation_free(t);
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
	if (t->flow && t->flow->detached_free)
		t->flow->detached_free(t);
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
void trace_counts_sum(const struct trace_req *t, struct trace_counts *c)
{
	*c = (struct trace_counts){ 0 };
	for (size_t i = 0; i < t->fan.nlegs; i++) {
		/* A node whose end never came (its runner killed or hung, its
		 * kept end not found) still delivered what the client got:
		 * never report fewer events than were relayed. */
		c->events += MAX(t->fan.legs[i].events, t->fan.legs[i].relayed);
		c->drops += t->fan.legs[i].drops;
		c->map_drops += t->fan.legs[i].map_drops;
		c->cpu_ns += t->fan.legs[i].cpu_ns;
	}
}

/* ["team-a/web-a", ...]: the target's pods. */
json_t *trace_pods_json(const struct trace_req *t)
{
	json_t *a = json_array();
	char pod[400];

	for (size_t i = 0; a && i < t->npods; i++) {
		snprintf(pod, sizeof(pod), "%s/%s", t->pods[i].namespace, t->pods[i].name);
		json_array_append_new(a, json_string(pod));
	}
	return a;
}

json_t *trace_nodes_json(const struct trace_req *t)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < t->nnodes; i++)
		json_array_append_new(a, json_string(t->nodes[i]));
	return a;
}

/* How one node's part ended: its error, its runner's reason, or not yet. */
const char *trace_leg_reason(const struct leg *l)
{
	if (l->error)
		return l->fail_reason ? l->fail_reason : "error";
	return l->end_reason ? l->end_reason : l->done ? "error" : "stop";
}

/* Every node's session sent its end record: nothing of t runs anywhere. */
bool trace_all_ended(const struct trace_req *t)
{
	for (size_t i = 0; i < t->fan.nlegs; i++)
		if (!t->fan.legs[i].has_end)
			return false;
	return t->fan.nlegs > 0;
}

/* The program's exit code, when every node reported one: the first that
 * is not 0 (an exit(1) anywhere is the trace's), else 0. */
bool trace_exit_code(const struct trace_req *t, int64_t *ret)
{
	*ret = 0;
	if (!t->fan.nlegs)
		return false;
	for (size_t i = 0; i < t->fan.nlegs; i++)
		if (!t->fan.legs[i].has_exit_code)
			return false;
	for (size_t i = 0; i < t->fan.nlegs; i++) {
		if (t->fan.legs[i].exit_code) {
			*ret = t->fan.legs[i].exit_code;
			break;
		}
	}
	return true;
}

/* The allowing policy's limits as they are enforced: the field names of
 * spec.limits (docs/policy.md), durations in seconds. */
void trace_limits(const struct trace_req *t, struct wire_limits *ret)
{
	const struct tg_policy_limits *l = &t->decision.limits;

	*ret = (struct wire_limits){ .max_duration = l->max_duration_s, .max_map_entries = l->max_map_entries,
				     .max_map_bytes = l->max_map_bytes, .events_per_second = l->events_per_second,
				     .max_traces_per_user = l->max_traces_per_user,
				     .max_traces_per_namespace = l->max_traces_per_namespace,
				     .cpu_budget = l->cpu_budget, .max_output_bytes = l->max_output_bytes };
}

json_t *trace_limits_json(const struct trace_req *t)
{
	struct wire_limits l;

	trace_limits(t, &l);
	return wire_limits_to_json(&l);
}

/* "program:L:C" for a denial about one construct, "program" otherwise. */
void trace_denial_field(json_t *x, char *out, size_t n)
{
	json_t *line = json_object_get(x, "line"), *col = json_object_get(x, "column");

	if (json_is_integer(line) && json_is_integer(col))
		snprintf(out, n, "program:%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT,
			 json_integer_value(line), json_integer_value(col));
	else
		snprintf(out, n, "program");
}

/* One denial as text: what, where, which rule of which policy. */
char *trace_denial_text(json_t *x, bool with_field)
{
	const char *msg = json_string_value(json_object_get(x, "message"));
	const char *pol = json_string_value(json_object_get(x, "policy"));
	const char *rule = json_string_value(json_object_get(x, "rule"));
	char field[64];
	int r;
	char *s;

	trace_denial_field(x, field, sizeof(field));
	if (pol)
		r = asprintf(&s, "%s%s%s [policy \"%s\", rule %s]", with_field ? field : "",
			     with_field ? ": " : "", msg ? msg : "denied", pol, rule ? rule : "-");
	else
		r = asprintf(&s, "%s%s%s", with_field ? field : "", with_field ? ": " : "",
			     msg ? msg : "denied");
	return r < 0 ? NULL : s;
}

/* ---- audit ------------------------------------------------------------------ */

/* The end fields of a trace's ResponseComplete (gw_audit_end): a detached
 * start's (nothing ended or counted yet: each node's end is a record of its
 * own, docs/audit.md), or the end of a trace and its counts. */
static int trace_end_fields(struct trace_req *t, const char *end_reason, struct gw_audit_end *e)
{
	bool detached = end_reason && !strcmp(end_reason, "detached");
	struct trace_counts c;
	int64_t exit_code;
	size_t i;
	json_t *v;

	if (!(e->reason = strdup(end_reason ? end_reason : "error")))
		return -ENOMEM;
	if (detached) {
		/* the nodes whose runner has no session: no end to wait for */
		if (json_array_size(t->det_failed))
			e->has |= GW_AUDIT_END_FAILED;
		json_array_foreach(t->det_failed, i, v)
			if (wire_strv_push(&e->failed_nodes, &e->nfailed_nodes, json_string_value(v)) < 0)
				return -ENOMEM;
		return 0;
	}
	trace_counts_sum(t, &c);
	e->has |= GW_AUDIT_END_COUNTS | GW_AUDIT_END_BYTES;
	e->events = c.events;
	e->drops = c.drops;
	e->map_drops = c.map_drops;
	e->bytes = t->bytes;
	e->cpu_ns = c.cpu_ns;
	if (trace_exit_code(t, &exit_code)) {
		e->has |= GW_AUDIT_END_EXIT_CODE;
		e->exit_code = (int)exit_code;
	}
	/* why the gateway ended it itself (revoked, target-gone) */
	if (t->end_message && !(e->message = strdup(t->end_message)))
		return -ENOMEM;
	if (!t->fan.nlegs)
		return 0;
	e->has |= GW_AUDIT_END_NODE_REASONS | GW_AUDIT_END_FAILED;
	for (i = 0; i < t->fan.nlegs; i++) {
		const struct leg *l = &t->fan.legs[i];

		if (gw_audit_node_push(&e->node_reasons, &e->nnode_reasons, l->runner->node,
				       trace_leg_reason(l)) < 0 ||
		    (l->error && wire_strv_push(&e->failed_nodes, &e->nfailed_nodes, l->runner->node) < 0))
			return -ENOMEM;
	}
	return 0;
}

static int trace_end_to_json(struct trace_req *t, const char *end_reason, json_t *tg)
{
	_cleanup_(gw_audit_end_release) struct gw_audit_end e = { 0 };
	int r = trace_end_fields(t, end_reason, &e);

	return r < 0 ? r : gw_audit_end_to_json(&e, tg);
}

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
			_cleanup_free_ char *text = trace_denial_text(x, true);

			json_array_append_new(reasons, json_string(text ? text : "denied"));
		}
		json_object_set_new(tg, "reasons", reasons);
	}
	if (t->step == STEP_STREAM || complete)
		json_object_set_new(tg, "duration", json_integer(t->duration));
	if (complete && trace_end_to_json(t, end_reason, tg) < 0) {
		json_decref(tg);
		return NULL;
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
	/* the container is a DNS-1123 label (trace_body_decode): nothing to escape */
	log_info("%s %s user=\"%s\" code=%d audit=%s%s%s%s%s%s", t->method, t->uri, trace_username(t), code,
		 t->audit_id, t->tb.container ? " container=\"" : "", t->tb.container ? t->tb.container : "",
		 t->tb.container ? "\"" : "", extra ? " " : "", extra ? extra : "");
}

/* Answers obj with code (500 when obj is NULL or cannot be serialized)
 * and forgets the connection; the code sent. */
static int trace_respond_json(struct trace_req *t, int code, json_t *obj)
{
	/* compact, keys sorted (lib/jsondump.h): jansson's json_dumps costs
	 * about a tenth of a cached dry run's CPU (docs/performance.md) */
	_cleanup_buf_ struct buf text = BUF_INIT(0);
	const char *hdrs[] = { "Audit-ID", t->audit_id, NULL };
	static const char oom[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
				  "\"status\":\"Failure\",\"message\":\"out of memory\","
				  "\"reason\":\"InternalError\",\"code\":500}";
	bool ok = obj && json_dump_sorted(&text, obj) == 0;

	if (!ok)
		code = 500;
	if (t->conn)
		(void)http_conn_respond(t->conn, code, "application/json", hdrs, ok ? text.s : oom,
					ok ? text.len : strlen(oom));
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

void trace_answer(struct trace_req *t, const char *stage, int code, const char *message,
		  const char *decision, const char *reason, const char *end_reason, json_t *answer,
		  const char *extra)
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


void trace_sar_answered(struct trace_req *t, long status, const char *body, size_t len)
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
		trace_refusef(t, 503, NULL, "API server unavailable: %s%s",
			      err ? "" : "subjectaccessreview: ", err ? err : tg_strerror(r));
		return;
	}
	sar_decided(t, allowed);
}

static void sar_decided(struct trace_req *t, bool allowed)
{
	const struct trace_step_ops *op = &t->flow->steps[t->step];
	_cleanup_free_ char *msg = NULL;

	if (op->decided) {
		/* a denial is not a refusal there (a detached read: the owner
		 * sees their own) */
		op->decided(t, allowed);
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
	if (!op->allowed) {
		trace_refuse(t, 500, "internal error: unexpected authorization step", NULL);
		return;
	}
	op->allowed(t);
}

/* The answer of the step's API server call, to the step's answered
 * entry of the coordinator's table. */
static void trace_step_done(struct trace_req *t, int result, long status, const char *body,
			    size_t len, const char *err)
{
	const struct trace_step_ops *op = &t->flow->steps[t->step];

	if (result < 0) {
		/* Unreachable, timed out, TLS failure, oversized answer: deny. */
		trace_refusef(t, 503, NULL, "API server unavailable: %s: %s", op->call,
			      err ? err : tg_strerror(result));
		return;
	}
	if (!op->answered) {
		trace_refuse(t, 500, "internal error: unexpected API server answer", NULL);
		return;
	}
	op->answered(t, status, body, len);
}

void trace_goto(struct trace_req *t, enum trace_step step)
{
	t->flow->steps[step].run(t);
}

/* ---- the stream's records ------------------------------------------------------ */

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
void trace_emit_error(struct trace_req *t, const char *node, const char *msg, long code)
{
	_cleanup_(json_decrefp) json_t *e = NULL;
	_cleanup_free_ char *cut = NULL;
	struct wire_error we = { .message = (char *)(msg && *msg ? msg : "error"), .node = (char *)node,
				 .code = code >= WIRE_ERROR_CODE_MIN && code <= WIRE_ERROR_CODE_MAX ? (int)code : 0 };
	size_t n = strlen(we.message);

	if (n > WIRE_RECORD_MAX_MESSAGE) {
		/* the record's bound (a runner's message, quoted): cut at a
		 * character, not inside one */
		n = WIRE_RECORD_MAX_MESSAGE;
		while (n && ((unsigned char)we.message[n] & 0xc0) == 0x80)
			n--;
		cut = strndup(we.message, n);
		if (!cut)
			return;
		we.message = cut;
	}
	if (wire_error_to_json(&we, &e) == -EINVAL && node) {
		/* a runner's name that is not a node name (discovery): the
		 * error all the same, in the log with it */
		log_warn("trace %s: node name \"%s\" left out of its error record", t->trace_id, node);
		we.node = NULL;
		(void)wire_error_to_json(&we, &e);
	}
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

/* What a pod left out at the start, or a late one, is told. */
void trace_no_runner_message(const char *node, char *out, size_t n)
{
	snprintf(out, n, "not traced: no runner for node \"%.64s\"", node);
}

int trace_left_out(const struct trace_req *t, struct wire_left_out **ret)
{
	struct wire_left_out *v = calloc(t->nleft_out + 1, sizeof(*v));
	char msg[160];

	for (size_t i = 0; v && i < t->nleft_out; i++) {
		const struct kube_pod *p = &t->left_out[i];

		trace_no_runner_message(p->node, msg, sizeof(msg));
		if (asprintf(&v[i].pod, "%s/%s", p->namespace, p->name) < 0) {
			v[i].pod = NULL;   /* undefined after a failed asprintf */
			wire_left_out_free(v, i);
			return -ENOMEM;
		}
		if (!(v[i].node = strdup(p->node)) || !(v[i].message = strdup(msg))) {
			wire_left_out_free(v, i + 1);
			return -ENOMEM;
		}
	}
	*ret = v;
	return v ? 0 : -ENOMEM;
}

json_t *trace_left_out_json(const struct trace_req *t)
{
	struct wire_left_out *v;
	json_t *a;

	if (trace_left_out(t, &v) < 0)
		return NULL;
	a = wire_left_out_to_json(v, t->nleft_out);
	wire_left_out_free(v, t->nleft_out);
	return a;
}

void trace_emit_pod_status(struct trace_req *t, const char *phase, const char *pod, const char *node,
			   const char *message)
{
	const struct wire_pod_change c = { .phase = (char *)phase, .trace = t->trace_id, .pod = (char *)pod,
					   .node = (char *)node, .message = (char *)message };
	_cleanup_(json_decrefp) json_t *st = NULL;

	if (wire_pod_change_to_json(&c, &st) == 0)
		(void)trace_emit(t, st);
}

void trace_emit_left_out(struct trace_req *t)
{
	char pod[400], msg[160];

	for (size_t i = 0; i < t->nleft_out; i++) {
		const struct kube_pod *p = &t->left_out[i];

		snprintf(pod, sizeof(pod), "%s/%s", p->namespace, p->name);
		trace_no_runner_message(p->node, msg, sizeof(msg));
		trace_emit_pod_status(t, "pod-not-joined", pod, p->node, msg);
	}
}
