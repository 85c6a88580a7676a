// SPDX-License-Identifier: Apache-2.0
/*
 * The session request of one node (wire/session.h encodes it): the
 * program as decided, that node's pods (a joined pod's alone), the
 * parameters, the limits, the owner.  The fan-out (trace-stream.c) and
 * the detached start (trace-detached.c) send it; nothing here calls back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "gateway/trace-container.h"
#include "gateway/dry-cache.h"
#include "gateway/trace-int.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/util.h"
#include "policy/policy.h"
#include "kube/kube.h"
#include "policy/tpfields.h"
#include "wire/session.h"
#include "lib/banned.h"

/* (the request's state, struct trace_req, is in gateway/trace-int.h) */
static int session_request(struct trace_req *t, const char *node, const char *only, int64_t duration,
			   struct session_request *ret);

/* The text of one leg's session: a joined pod gets what is left of the
 * trace's duration */
char *trace_leg_session_text(struct trace_req *t, const struct leg *leg)
{
	_cleanup_(session_request_release) struct session_request req = { 0 };
	int64_t left = t->duration;
	char *text = NULL;

	if (leg->joined)
		left -= (int64_t)((now_mono_ns() - t->fan.stream_mono_ns) / 1000000000u);
	if (session_request(t, leg->runner->node, leg->joined, left > 1 ? left : 1, &req) < 0 ||
	    session_request_encode(&req, &text) < 0)
		return NULL;
	return text;
}

int trace_leg_dry_key(struct trace_req *t, const struct leg *leg, unsigned char key[LRU_MAC_LEN])
{
	_cleanup_(session_request_release) struct session_request req = { 0 };
	int r;

	r = session_request(t, leg->runner->node, leg->joined, t->duration, &req);
	return r < 0 ? r : gw_dry_key(t->gw->dry_cache, t->user.username, leg->runner, &req, key);
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

