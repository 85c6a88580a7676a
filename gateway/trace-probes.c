// SPDX-License-Identifier: Apache-2.0
/*
 * GET .../namespaces/NS/probes?target=pod/NAME[&pattern=GLOB][&verbose=true]
 * (kubectl trace list): the probes the caller's TracePolicy allows on the
 * node of that pod.  Authorized as a dry run on the pod (create traces,
 * get the pod: trace.c), the node's runner lists its probes as `exec -l`
 * does (GET /v1/probes), every probe name is judged by
 * tg_policy_probe_allowed, and the answer is a ProbeList (one audit
 * record, ResponseComplete; its shape: wire/probe-list.h).  The runner's
 * text is bounded: at most WIRE_PROBE_LIST_MAX_ITEMS names and
 * WIRE_PROBE_LIST_MAX_FIELDS field lines.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "gateway/gateway.h"
#include "gateway/policies.h"
#include "gateway/status.h"
#include "gateway/trace-int.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/status.h"
#include "lib/util.h"
#include "policy/policy.h"
#include "wire/probe-list.h"
#include "wire/probes.h"
#include "wire/runner-path.h"
#include "lib/banned.h"

/* One line of the runner's listing: a probe name, or (indented) a field
 * of the last one.  A name the policy does not allow drops its fields. */
static int listing_line(struct trace_req *t, const struct tg_requester *who, struct wire_probe_list *ls,
			const struct wire_probe_line *pl, bool *keep)
{
	_cleanup_free_ char *name = NULL;
	bool allowed = false;
	int r;

	if (pl->kind == WIRE_PROBE_FIELD) {
		if (!*keep || !t->route.verbose)
			return 0;
		/* as the format file declares it (printable ASCII: wire/probes.h) */
		r = wire_probe_list_add_field(ls, pl->text, pl->len);
		if (r == -E2BIG)
			ls->truncated = true;
		return r == -ENOMEM ? r : 0;
	}
	*keep = false;
	if (pl->kind == WIRE_PROBE_BLANK)
		return 0;
	name = strndup(pl->text, pl->len);
	if (!name)
		return -ENOMEM;
	r = tg_policy_probe_allowed(gw_policies_current(t->gw->policies), who, "pod", name, &allowed);
	if (r < 0)
		return r;
	if (!allowed)
		return 0;
	r = wire_probe_list_add_item(ls, pl->text, pl->len);
	if (r == -E2BIG) {
		ls->truncated = true;
		return 0;
	}
	if (r < 0)
		return r;
	*keep = true;
	return 0;
}

static void probes_refused(struct trace_req *t, int result, long status, const char *body, size_t len,
			   const char *err)
{
	_cleanup_free_ char *m = status_body_message(body, len);
	const char *node = t->nodes[0];

	if (result < 0)
		trace_refusef(t, 503, NULL, "runner of node \"%s\" unreachable: %s", node,
			      err ? err : tg_strerror(result));
	else if (status == 429)
		trace_refusef(t, 429, NULL, "runner of node \"%s\": %s", node, m ? m : "too many probe listings");
	else
		trace_refusef(t, 503, NULL, "runner of node \"%s\" could not list probes: %ld %s", node, status,
			      m ? m : "(no message)");
}

static void probes_answered(struct trace_req *t, int result, long status, const char *body, size_t len,
			    const char *err)
{
	struct tg_requester who = { .user = t->user.username,
				    .groups = (const char *const *)t->user.groups,
				    .namespace = t->route.ns };
	_cleanup_(wire_probe_list_release) struct wire_probe_list ls = { 0 };
	_cleanup_(json_decrefp) json_t *answer = NULL;
	_cleanup_free_ char *reason = NULL;
	const char *node = t->nodes[0];
	bool keep = false;
	int r = 0;

	if (result < 0 || status != 200) {
		probes_refused(t, result, status, body, len, err);
		return;
	}
	for (size_t o = 0; o < len && r == 0;) {
		const char *nl = memchr(body + o, '\n', len - o);
		size_t n = nl ? (size_t)(nl - (body + o)) : len - o;
		_cleanup_free_ char *lerr = NULL;
		struct wire_probe_line pl;

		if (wire_probes_line_decode(body + o, n, &pl, &lerr) < 0) {
			trace_refusef(t, 503, NULL, "runner of node \"%s\" sent a listing that is not one: %s", node,
				      lerr ? lerr : "out of memory");
			return;
		}
		r = listing_line(t, &who, &ls, &pl, &keep);
		o += n + 1;
	}
	if (r < 0) {
		trace_refusef(t, r == -ENOMEM ? 500 : 503, NULL, "probes cannot be judged by policy: %s",
			      tg_strerror(r));
		return;
	}
	ls.verbose = t->route.verbose;
	ls.namespace = strdup(t->route.ns);
	ls.node = strdup(node);
	ls.pattern = strdup(t->route.pattern);
	if (asprintf(&ls.target, "pod/%s", t->route.pod) < 0)
		ls.target = NULL;
	if (asprintf(&reason, "%zu probes listed (allowed by policy)%s", ls.nitems,
		     ls.truncated ? ", truncated" : "") < 0)
		reason = NULL;
	if (!ls.namespace || !ls.node || !ls.pattern || !ls.target || !reason) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	r = wire_probe_list_to_json(&ls, &answer);
	if (r < 0) {
		trace_refusef(t, 500, NULL, "probe list of node \"%s\" cannot be written: %s", node, tg_strerror(r));
		return;
	}
	trace_detached_answer(t, 200, answer, reason);
}

void trace_probes_step(struct trace_req *t)
{
	struct wire_rpath rp = { .kind = WIRE_RPATH_PROBES, .has_pattern = true, .verbose = t->route.verbose };
	int r;

	/* the pattern was checked by the route (probe_pattern_valid): its
	 * characters go into the runner's query as they are */
	snprintf(rp.pattern, sizeof(rp.pattern), "%s", t->route.pattern);
	r = trace_detached_ask(t, t->nodes[0], &rp, probes_answered);
	if (r == -ENOENT)
		trace_refusef(t, 503, NULL, "no runner for node \"%s\" of pod \"%s/%s\"", t->nodes[0], t->route.ns,
			      t->route.pod);
	else if (r < 0)
		trace_refuse(t, 500, "out of memory", NULL);
}
