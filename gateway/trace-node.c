// SPDX-License-Identifier: Apache-2.0
/*
 * A node-wide trace (`kubectl trace run node/NAME`, POST .../nodetraces):
 * after the SubjectAccessReview of create nodetraces named NAME
 * (trace.c), the Node must exist (GET from the API server: the gateway
 * keeps no node cache) and have a runner; then the decision, in scope
 * "node", with no namespace.  The session it opens says "scope": "node"
 * and carries no pods (docs/internals/contracts.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/gateway.h"
#include "gateway/runners.h"
#include "gateway/status.h"
#include "gateway/trace-int.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "rbac/kube.h"
#include "lib/banned.h"

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
	trace_step_decide(t);
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
