// SPDX-License-Identifier: Apache-2.0
/*
 * DELETE /apis/tracegate.dev/v1alpha1/namespaces/{ns}/traces/{name}: the
 * graceful stop of a live trace (kubectl trace's first Ctrl-C).  The name
 * is the trace's id from its `accepted` record; only the user who started
 * the trace may stop it.  Each runner session is then half-closed: the
 * runner sees the end of our side (its hangup watch), stops the programs,
 * runs END, sends its maps and its end (reason stop, which the gateway
 * reports as client-stop), and the stream ends as any other (merged maps,
 * exit 0).  A runner that has not
 * answered yet (still compiling) is half-closed as soon as it answers.
 * Past TRACE_STOP_GRACE_S the sessions still running are cut, as nodes
 * that failed.
 * docs/internals/contracts.md says why a DELETE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include <jansson.h>
#include "gateway/gateway.h"
#include "gateway/httpc.h"
#include "gateway/status.h"
#include "gateway/trace-int.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/banned.h"

/* END and the maps of a stopped session take milliseconds; a runner that
 * has not answered in this time is cut as a client that leaves. */
#define TRACE_STOP_GRACE_S 30

static struct trace_req *trace_find_live(struct gateway *gw, const char *ns, const char *id)
{
	for (struct trace_req *o = gw->reqs; o; o = o->next)
		if (o->step == STEP_STREAM && !o->finishing && !strcmp(o->trace_id, id) &&
		    !strcmp(o->route.ns, ns))
			return o;
	return NULL;
}

static void stop_grace_expired(evutil_socket_t fd, short what, void *ud)
{
	struct trace_req *o = ud;

	(void)fd;
	(void)what;
	log_warn("trace %s: runners still running %d s after the stop: cut", o->trace_id,
		 TRACE_STOP_GRACE_S);
	trace_stop_grace_over(o, TRACE_STOP_GRACE_S);
}

int trace_stop_graceful(struct trace_req *o, const char *by)
{
	struct timeval grace = { .tv_sec = TRACE_STOP_GRACE_S };

	if (o->stop_requested)
		return 0;
	o->stop_timer = evtimer_new(o->gw->base, stop_grace_expired, o);
	if (!o->stop_timer || evtimer_add(o->stop_timer, &grace) < 0)
		return -ENOMEM;
	o->stop_requested = true;
	snprintf(o->stopped_by, sizeof(o->stopped_by), "%s", by);
	for (size_t i = 0; i < o->fan.nlegs; i++) {
		struct leg *l = &o->fan.legs[i];

		/* a leg not answered yet is stopped when it answers (leg_data):
		 * before that its request may still be on its way */
		if (l->x && !l->done && l->status == 200)
			trace_leg_answered(l);
	}
	return 0;
}

void trace_stop_by_gateway(struct trace_req *t, const char *why, const char *msg)
{
	int r;

	if (t->finishing || t->stop_requested)
		return;
	free(t->end_message);
	t->end_message = strdup(msg);
	t->end_why = why;
	r = trace_stop_graceful(t, "");
	if (r < 0) {
		log_error("trace %s: graceful stop cannot start (%s): cut", t->trace_id, tg_strerror(r));
		trace_finish(t, why);
	}
}

void trace_step_stop(struct trace_req *t)
{
	_cleanup_(json_decrefp) json_t *st = NULL;
	_cleanup_free_ char *aerr = NULL;
	struct trace_req *o = trace_find_live(t->gw, t->route.ns, t->route.name);
	json_t *d = status_details("traces", "tracegate.dev", t->route.name);
	char extra[96];
	int r;

	if (!o && t->route.node) {
		/* node-wide traces are never detached: only a live one here */
		trace_refusef(t, 404, status_details("nodetraces", "tracegate.dev", t->route.name),
			      "nodetraces.tracegate.dev \"%s\" not found", t->route.name);
		json_decref(d);
		return;
	}
	if (!o) {
		/* not attached here: a detached trace, on the runners */
		json_decref(d);
		trace_detached_step(t);
		return;
	}
	if (!o->have_user || !t->user.username || !o->user.username ||
	    strcmp(o->user.username, t->user.username)) {
		trace_refusef(t, 403, d,
			      "user \"%s\" may not stop trace \"%s\" in namespace \"%s\": only the user who started it may",
			      t->user.username ? t->user.username : "", t->route.name, t->route.ns);
		return;
	}
	json_decref(d);
	/* recorded before it takes effect, as a start is */
	r = trace_audit(t, "ResponseComplete", 200, NULL, "allow",
			"graceful stop asked by the user who started the trace", NULL, &aerr);
	if (r < 0) {
		trace_refusef(t, 503, NULL, "audit log unavailable, the trace goes on: %s",
			      aerr ? aerr : tg_strerror(r));
		return;
	}
	r = trace_stop_graceful(o, t->audit_id);
	if (r < 0) {
		trace_refusef(t, 500, NULL, "trace \"%s\" cannot be stopped: %s", t->route.name,
			      tg_strerror(r));
		return;
	}
	st = status_new(200, "the trace is stopping: END runs and its maps come on its stream",
			status_details("traces", "tracegate.dev", t->route.name));
	snprintf(extra, sizeof(extra), "stop=%s", t->route.name);
	trace_log(t, 200, extra);
	trace_send_status(t, st);
	trace_free(t);
}
