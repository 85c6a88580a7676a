// SPDX-License-Identifier: Apache-2.0
/*
 * The fan-out of a trace to the runners and the merging of what they
 * send (docs/internals/gateway.md, "The stream"): one leg per node (and
 * per joined pod), each a runner session over mutual TLS; their records
 * relayed, their maps merged, their ends summed into the trace's end and
 * its ResponseComplete record.  The request's state before the stream is
 * the steps'; this file owns t->fan.legs and the stream's counts.  It calls
 * the services (trace-req.c), the session request (trace-session.c) and
 * the stream's parts (trace-print.c, trace-reauth.c, trace-detached.c);
 * none of them calls it back but through t->flow.
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
#include "gateway/httpc.h"
#include "gateway/runner-end.h"
#include "gateway/runners.h"
#include "gateway/status.h"
#include "gateway/dry-cache.h"
#include "gateway/dry-flight.h"
#include "gateway/trace-int.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/status.h"
#include "lib/util.h"
#include "output/output.h"
#include "wire/end.h"
#include "wire/fields.h"
#include "wire/output.h"
#include "wire/runner-path.h"
#include "wire/record.h"
#include "wire/stream.h"
#include "wire/traces.h"
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

static void trace_stream_begin(struct trace_req *t);


static int leg_map(struct leg *l, json_t *rec, size_t len)
{
	struct trace_req *t = l->t;
	/* read when it came (leg_line: wire_runner_record_decode) */
	const char *name = json_string_value(json_object_get(rec, "name"));
	size_t i;
	json_t *m;

	t->fan.map_bytes += len;
	if (t->fan.map_bytes > TRACE_MAX_MAP_BYTES) {
		trace_leg_fail(l, "map records from runners exceed %u bytes", TRACE_MAX_MAP_BYTES);
		return -TG_ELIMIT;
	}
	json_array_foreach(t->fan.maps, i, m) {
		if (strcmp(json_string_value(json_object_get(m, "name")), name))
			continue;
		if (output_map_merge(m, rec) < 0) {
			trace_leg_fail(l, "map \"%s\" from runner \"%s\" does not merge with the others",
				 name, l->runner->node);
			return -EINVAL;
		}
		return 0;
	}
	return json_array_append_new(t->fan.maps, json_deep_copy(rec));
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
	/* an output record was read when it came (leg_line:
	 * wire_runner_record_decode): "lines" an integer within bounds,
	 * "pod" a string or absent */
	if (!strcmp(type, "output"))
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
 * An output record in the runner's own shape (wire_output_shape) goes
 * to the client without a parse and an encoding: wire_output_relay()
 * splices this leg's node in, pod, lines and text copied as they are.
 * That is most of a trace's bytes, and it was most of the gateway's work
 * per printed line.  1: relayed; 0: not that shape or not now (the
 * caller parses it).
 */
static int leg_output_relay(struct leg *l, const char *line, size_t len)
{
	struct trace_req *t = l->t;
	struct wire_output_shape o;
	struct buf *b = &l->relay;
	int r;

	/* a check relays nothing; records behind a waiting print are held */
	if (t->route.dry_run || l->blocked_on || l->end_seen || !wire_output_shape(line, len, &o))
		return 0;
	if (!t->conn)
		return 1;
	buf_clear(b);
	if ((r = wire_output_relay(b, l->runner->node, &o)) < 0)
		return r;
	r = http_conn_stream_write(t->conn, b->s, b->len);
	if (r >= 0) {
		t->bytes += b->len;
		l->relayed += o.nlines;
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
	if (!t->fan.stream_started && !t->route.dry_run)
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
/*
 * A dry run's node that asked its runner for a check others wait on
 * (dry-flight.h): what the runner said goes into the cache first, when it
 * checked, then the waiters are woken to look there.
 */
static void leg_flight_land(struct leg *l, int result)
{
	struct trace_req *t = l->t;

	if (!l->flight_owned)
		return;
	if (result >= 0 && l->status == 200 && !l->error && l->has_end && l->compiled && l->end_reason &&
	    !strcmp(l->end_reason, "checked") && !ndjson_pending(&l->split) && t->gw->dry_cache)
		(void)gw_dry_store(t->gw->dry_cache, l->dry_key, l->compiled,
				   (uint64_t)t->gw->cfg->dry_run_ttl_s * 1000000000ull);
	gw_dry_flight_land(TAKE_PTR(l->flight));
	l->flight_owned = false;
}

static bool leg_done_eval(struct leg *l, int result, const char *err)
{
	struct trace_req *t = l->t;
	bool refused = false;

	leg_flight_land(l, result);
	l->done = true;
	l->done_deferred = false;
	t->fan.legs_done++;
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
		_cleanup_free_ char *m = status_body_message(l->errbody.s, l->errbody.len);

		l->fail_reason = l->status == 403 ? "policy" : l->status == 400 || l->status == 422 ? "program-error"
											   : "node-failed";
		trace_leg_fail(l, "runner \"%s\" refused the session (HTTP %ld): %s", l->runner->node,
			 l->status, m ? m : "no message");
		free(l->refusal);
		l->refusal = TAKE_PTR(m);
		refused = true;
	} else if (ndjson_pending(&l->split)) {
		l->fail_reason = "runner-lost";
		trace_leg_fail(l, "node \"%s\": runner stream ended in the middle of a line", l->runner->node);
	} else if (!l->has_end) {
		l->fail_reason = "runner-lost";
		trace_leg_fail(l, "node \"%s\": runner stream ended without an end record", l->runner->node);
	}
	if (l->error && t->fan.stream_started)
		trace_emit_error(t, l->runner->node, l->error, refused ? l->status : 0);
	trace_print_pump(t);   /* prints no longer waiting for this node */
	if (t->fan.legs_done == t->fan.nlegs) {
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
	for (size_t i = 0; i < t->fan.nlegs; i++) {
		struct leg *l = &t->fan.legs[i];
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
	for (size_t i = 0; i < t->fan.nlegs; i++) {
		struct leg *l = &t->fan.legs[i];

		if (l->done || l->has_end || l->done_deferred)
			continue;
		l->fail_reason = "node-failed";
		trace_leg_fail(l, "node \"%s\": did not end within %u s of the stop asked for; cut",
			 l->runner->node, grace_s);
		if (l->error && t->fan.stream_started)
			trace_emit_error(t, l->runner->node, l->error, 0);
	}
	trace_finish(t, NULL);
}

void trace_leg_answered(struct leg *l)
{
	int r;

	l->stop_sent = true;
	r = httpc_xfer_shutdown_write(l->x);
	if (r < 0)
		log_warn("trace %s: node \"%s\": graceful stop not sent (%s); it ends at the grace",
			 l->t->trace_id, l->runner->node, tg_strerror(r));
}

static const struct httpc_xfer_ops leg_ops = {
	.on_data = leg_data,
	.on_done = leg_done,
};

/*
 * A dry run's node whose check the gateway's cache holds (dry-cache.h:
 * the same session request to the same runner, checked within
 * cache.dryRunSeconds) is answered from it, as the runner answered: 1,
 * and no runner is asked.  Otherwise its key is kept for the answer.
 */
static int leg_dry_cached(struct trace_req *t, struct leg *l)
{
	size_t i = (size_t)(l - t->fan.legs);
	json_t *hit = NULL;

	if (!t->route.dry_run || !t->gw->dry_cache || l->joined)
		return 0;
	if (t->dry_hits && i < t->nnodes && t->dry_hits[i]) {
		hit = TAKE_PTR(t->dry_hits[i]);    /* found before the decision's record */
	} else {
		if (trace_leg_dry_key(t, l, l->dry_key) < 0)
			return 0;
		l->dry_keyed = true;
		if (gw_dry_lookup(t->gw->dry_cache, l->dry_key, &hit) <= 0)
			hit = NULL;
	}
	if (!hit || !(l->end_reason = strdup("checked"))) {
		json_decref(hit);
		return 0;
	}
	l->compiled = hit;
	l->has_end = l->end_seen = l->done = l->dry_cached = true;
	l->status = 200;
	return 1;
}

bool trace_dry_all_cached(struct trace_req *t)
{
	json_t **hits;

	if (!t->route.dry_run || !t->gw->dry_cache || !t->nnodes || t->dry_hits)
		return false;
	hits = calloc(t->nnodes, sizeof(*hits));
	if (!hits)
		return false;
	for (size_t i = 0; i < t->nnodes; i++) {
		struct leg probe = { .t = t, .runner = t->runners[i] };
		unsigned char key[LRU_MAC_LEN];

		if (trace_leg_dry_key(t, &probe, key) < 0 || gw_dry_lookup(t->gw->dry_cache, key, &hits[i]) <= 0) {
			while (i > 0)
				json_decref(hits[--i]);
			free(hits);
			return false;
		}
	}
	t->dry_hits = hits;
	return true;
}

/* 0: asked; 1: a dry run answered from the cache; negative: not started */
static int leg_start(struct trace_req *t, struct leg *l)
{
	const struct gw_config *cfg = t->gw->cfg;
	_cleanup_free_ char *text = NULL, *path = NULL;
	struct curl_slist *h = NULL, *n;
	CURL *e;
	int r;

	if (leg_dry_cached(t, l))
		return 1;
	/* the same check of the same caller on its way to this runner: wait
	 * for its answer instead of a second session (dry-flight.h) */
	if (l->dry_keyed && gw_dry_flight_wait(t->gw->dry_flights, l->dry_key, l, &l->flight))
		return 0;
	if (!(text = trace_leg_session_text(t, l)))
		return -ENOMEM;
	if (wire_rpath_encode(&(struct wire_rpath){ .kind = WIRE_RPATH_SESSIONS }, &path) < 0)
		return -ENOMEM;
	e = gw_runner_easy(t->gw, l->runner, path);
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
	if (l->dry_keyed)
		l->flight_owned = (l->flight = gw_dry_flight_open(t->gw->dry_flights, l->dry_key)) != NULL;
	r = httpc_start_gated(t->gw->httpc, gw_runner_gate(t->gw, l->runner), e, h, &leg_ops, l, &l->x);
	if (r < 0)
		leg_flight_land(l, r);
	return r < 0 ? r : 0;
}

void trace_dry_woken(void *ud)
{
	struct leg *l = ud;
	struct trace_req *t = l->t;
	char msg[160];
	int r;

	l->flight = NULL;
	if (t->finishing || l->done)
		return;
	r = leg_start(t, l);
	if (r > 0) {
		t->fan.legs_done++;    /* checked, from the cache the flight filled */
		if (t->fan.legs_done == t->fan.nlegs)
			trace_finish(t, NULL);
	} else if (r < 0) {
		snprintf(msg, sizeof(msg), "session cannot be started: %s", tg_strerror(r));
		(void)leg_done_eval(l, r, msg);
	}
}

/* The stream's first record: the trace's id, its pods and nodes. */
static void trace_emit_accepted(struct trace_req *t)
{
	_cleanup_(wire_accepted_release) struct wire_accepted a = { .nodes = calloc(t->nnodes + 1, sizeof(char *)),
								     .pods = calloc(t->npods + 1, sizeof(char *)) };
	_cleanup_(json_decrefp) json_t *acc = NULL;

	if (!a.nodes || !a.pods || !(a.trace = strdup(t->trace_id)))
		return;
	for (; a.npods < t->npods; a.npods++)
		if (asprintf(&a.pods[a.npods], "%s/%s", t->pods[a.npods].namespace, t->pods[a.npods].name) < 0) {
			a.pods[a.npods] = NULL;
			return;
		}
	for (; a.nnodes < t->nnodes; a.nnodes++)
		if (!(a.nodes[a.nnodes] = strdup(t->nodes[a.nnodes])))
			return;
	if (wire_accepted_to_json(&a, &acc) == 0)
		(void)trace_emit(t, acc);
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
	int r;

	if (t->fan.stream_started || !t->conn)
		return;
	t->fan.stream_started = true;
	r = http_conn_stream_start(t->conn, 200, "application/x-ndjson", hdrs);
	trace_log(t, r < 0 ? 500 : 200, NULL);
	trace_emit_accepted(t);
	trace_emit_left_out(t);
	for (size_t i = 0; i < t->fan.nlegs; i++)
		if (t->fan.legs[i].error)
			trace_emit_error(t, t->fan.legs[i].runner->node, t->fan.legs[i].error,
					 t->fan.legs[i].status && t->fan.legs[i].status != 200 ? t->fan.legs[i].status : 0);
}

void trace_start_stream(struct trace_req *t)
{
	int r;

	if (t->tb.detach && !t->route.dry_run) {
		trace_detached_start(t);
		return;
	}
	t->step = STEP_STREAM;
	t->fan.maps = json_array();
	/* One session per node, each with that node's pods (trace_resolved
	 * found a runner for every node). */
	t->fan.nlegs = t->nnodes;
	/* a workload's pods that join while it runs get legs of their own */
	t->fan.legs_cap = t->fan.nlegs + (kube_resolve_followed(&t->res) ? t->gw->cfg->limits.max_pods_per_trace : 0);
	t->fan.legs = calloc(t->fan.legs_cap ? t->fan.legs_cap : 1, sizeof(*t->fan.legs));
	t->fan.stream_mono_ns = now_mono_ns();
	if (!t->fan.maps || !t->fan.legs) {
		t->fan.nlegs = 0;
		trace_finish(t, "error");
		return;
	}
	for (size_t i = 0; i < t->fan.nlegs; i++) {
		t->fan.legs[i].t = t;
		t->fan.legs[i].runner = t->runners[i];
		for (size_t k = 0; k < t->npods; k++)
			t->fan.legs[i].npods += !strcmp(t->pods[k].node, t->nodes[i]);
	}
	for (size_t i = 0; i < t->fan.nlegs; i++) {
		struct leg *l = &t->fan.legs[i];

		r = leg_start(t, l);
		if (r > 0) {
			t->fan.legs_done++;    /* checked, from the cache */
		} else if (r < 0) {
			l->done = true;
			t->fan.legs_done++;
			l->fail_reason = "node-failed";
			trace_leg_fail(l, "runner \"%s\": session cannot be started: %s", l->runner->node,
				 tg_strerror(r));
		}
	}
	if (t->fan.legs_done == t->fan.nlegs) {
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

	if (t->fan.nlegs >= t->fan.legs_cap) {
		gw_runner_put(runner);
		return -TG_ELIMIT;
	}
	l = &t->fan.legs[t->fan.nlegs];
	*l = (struct leg){ .t = t, .runner = runner, .npods = 1, .joined = strdup(pod) };
	if (!l->joined) {
		gw_runner_put(runner);
		return -ENOMEM;
	}
	t->fan.nlegs++;
	r = leg_start(t, l);
	if (r < 0) {
		l->done = true;
		t->fan.legs_done++;
		l->fail_reason = "node-failed";
		trace_leg_fail(l, "runner \"%s\": session for pod \"%s\" cannot be started: %s",
			       l->runner->node, pod, tg_strerror(r));
		if (l->error && t->fan.stream_started)
			trace_emit_error(t, l->runner->node, l->error, 0);
	}
	return r;
}

struct leg *trace_leg_of_joined(struct trace_req *t, const char *pod)
{
	for (size_t i = 0; i < t->fan.nlegs; i++)
		if (t->fan.legs[i].joined && !strcmp(t->fan.legs[i].joined, pod))
			return &t->fan.legs[i];
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
	for (size_t i = 0; i < t->fan.nlegs && t->conn; i++)
		if (t->fan.legs[i].x && httpc_xfer_paused(t->fan.legs[i].x))
			(void)httpc_xfer_resume(t->fan.legs[i].x);
}

static const char *trace_end_reason(struct trace_req *t)
{
	const char *reason = NULL;

	for (size_t i = 0; i < t->fan.nlegs; i++) {
		if (t->fan.legs[i].error)
			return trace_leg_reason(&t->fan.legs[i]);
		if (!reason && t->fan.legs[i].end_reason)
			reason = t->fan.legs[i].end_reason;
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

	for (size_t i = 0; i < t->fan.nlegs; i++) {
		if (t->fan.legs[i].error)
			failed++;
		else if (!other && t->fan.legs[i].end_reason)
			other = t->fan.legs[i].end_reason;
	}
	if (!failed)
		return;
	end->failed_nodes = calloc(failed, sizeof(*end->failed_nodes));
	for (size_t i = 0; end->failed_nodes && i < t->fan.nlegs; i++)
		if (t->fan.legs[i].error &&
		    (end->failed_nodes[end->nfailed_nodes] = strdup(t->fan.legs[i].runner->node)))
			end->nfailed_nodes++;
	if (t->fan.nlegs < 2)
		return;
	(void)buf_printf(&b, "%zu of %zu nodes failed:", failed, t->fan.nlegs);
	for (size_t i = 0; i < t->fan.nlegs; i++)
		if (t->fan.legs[i].error)
			(void)buf_printf(&b, " node \"%s\": %s;", t->fan.legs[i].runner->node,
					 t->fan.legs[i].error);
	if (failed < t->fan.nlegs)
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

void trace_finish_unstarted(struct trace_req *t, const char *reason)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64 * 1024);
	_cleanup_(json_decrefp) json_t *st = NULL;
	json_t *details = status_details("traces", "tracegate.dev", t->tb.target), *causes = json_array();
	const struct leg *only = NULL;
	size_t nfailed = 0;
	long code = 0, c;
	char extra[192];

	for (size_t i = 0; i < t->fan.nlegs; i++) {
		const struct leg *l = &t->fan.legs[i];
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
/* The answer's fields of what was decided and resolved (owned by c). */
static int checked_fill(const struct trace_req *t, struct wire_checked *c)
{
	int r;

	if (!(c->name = strdup(t->trace_id)) || !(c->namespace = strdup(t->route.ns)) ||
	    !(c->target = strdup(t->tb.target)) || (t->dry_msg && !(c->message = strdup(t->dry_msg))) ||
	    (!t->dry_msg && !(c->message = strdup("allowed"))) || (t->policy && !(c->policy = strdup(t->policy))))
		return -ENOMEM;
	c->duration = (uint64_t)t->duration;
	for (size_t i = 0; i < t->npods; i++) {
		_cleanup_free_ char *pod = NULL;

		if (asprintf(&pod, "%s/%s", t->pods[i].namespace, t->pods[i].name) < 0) {
			pod = NULL;
			return -ENOMEM;
		}
		if ((r = wire_strv_push(&c->pods, &c->npods, pod)) < 0)
			return r;
	}
	for (size_t i = 0; i < t->nnodes; i++)
		if ((r = wire_strv_push(&c->nodes, &c->nnodes, t->nodes[i])) < 0)
			return r;
	trace_limits(t, &c->limits);
	if (t->nleft_out) {
		if ((r = trace_left_out(t, &c->left_out)) < 0)
			return r;
		c->nleft_out = t->nleft_out;
	}
	return 0;
}

/* What node l's runner said of the program (its "compiled" status). */
static int checked_node(const struct leg *l, struct wire_checked_node *n)
{
	json_t *probes = json_object_get(l->compiled, "probes"), *object = json_object_get(l->compiled, "object");

	if (!(n->node = strdup(l->runner->node)) ||
	    (json_is_string(object) && !(n->object = strdup(json_string_value(object)))))
		return -ENOMEM;
	n->has_probes = json_is_integer(probes) && json_integer_value(probes) >= 0;
	n->probes = n->has_probes ? (uint64_t)json_integer_value(probes) : 0;
	n->from_cache = l->dry_cached;
	return 0;
}

static void trace_finish_checked(struct trace_req *t, const char *reason)
{
	_cleanup_(json_decrefp) json_t *obj = NULL;
	_cleanup_(wire_checked_release) struct wire_checked c = { 0 };
	size_t from_cache = 0;
	char msg[128];
	int r;

	for (size_t i = 0; i < t->fan.nlegs; i++) {
		struct leg *l = &t->fan.legs[i];

		if (!l->error && (!l->end_reason || strcmp(l->end_reason, "checked") || !l->compiled)) {
			l->fail_reason = "node-failed";
			trace_leg_fail(l, "node \"%s\": the runner did not check the program (end \"%s\")",
				       l->runner->node, l->end_reason ? l->end_reason : "none");
		}
		if (l->error) {
			trace_finish_unstarted(t, reason);
			return;
		}
	}
	r = checked_fill(t, &c);
	if (r >= 0 && !(c.compiled = calloc(t->fan.nlegs + 1, sizeof(*c.compiled))))
		r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < t->fan.nlegs; i++) {
		c.ncompiled++;
		r = checked_node(&t->fan.legs[i], &c.compiled[i]);
	}
	/* (what each runner said is kept for the next identical check as its
	 * session ends: leg_flight_land) */
	for (size_t i = 0; i < t->fan.nlegs; i++)
		from_cache += t->fan.legs[i].dry_cached;
	if (from_cache)
		snprintf(msg, sizeof(msg), "dry run: checked, not run (%zu of %zu nodes' checks from the gateway's cache)",
			 from_cache, t->fan.nlegs);
	else
		snprintf(msg, sizeof(msg), "dry run: checked, not run");
	if (r >= 0)
		r = wire_checked_to_json(&c, &obj);
	if (r < 0) {
		/* never a 200 without the answer: what failed, said */
		char why[160];

		snprintf(why, sizeof(why), "dry run checked, but its answer could not be written: %s", tg_strerror(r));
		log_warn("%s %s: %s", t->method, t->uri, why);
		trace_answer(t, "ResponseComplete", 500, why, "allow", msg, "dryRun", status_new(500, why, NULL),
			     "dryRun");
		return;
	}
	trace_answer(t, "ResponseComplete", 200, NULL, "allow", msg, "dryRun", TAKE_PTR(obj), "dryRun");
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
	for (i = 0; i < t->fan.nlegs; i++) {
		if (t->fan.legs[i].x) {
			httpc_xfer_cancel(t->fan.legs[i].x);
			t->fan.legs[i].x = NULL;
		}
		gw_end_fetch_cancel(t->fan.legs[i].fetch);
		t->fan.legs[i].fetch = NULL;
	}
	/* prints still waiting go out, records held behind them follow; a
	 * transfer end held behind them is counted now */
	trace_print_flush(t);
	for (i = 0; i < t->fan.nlegs; i++)
		if (t->fan.legs[i].done_deferred) {
			_cleanup_free_ char *err = TAKE_PTR(t->fan.legs[i].done_err);

			(void)leg_done_eval(&t->fan.legs[i], t->fan.legs[i].done_result, err);
		}
	trace_counts_sum(t, &c);
	reason = why ? why : trace_end_reason(t);
	if (t->route.dry_run && t->conn) {
		trace_finish_checked(t, reason);
		return;
	}
	if (!t->fan.stream_started && t->conn) {
		trace_finish_unstarted(t, reason);
		return;
	}
	json_array_foreach(t->fan.maps, i, m)
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
	/* every runner's end came, or the gateway asked each session to end
	 * (a graceful stop, its own, or the client's abort) and has closed
	 * its streams: a session still exiting on its runner no longer holds
	 * the user's slot */
	if (trace_all_ended(t) || t->stop_requested || t->client_left)
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
	if (--t->fan.fetching == 0)
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
	for (size_t i = 0; i < t->fan.nlegs; i++) {
		struct leg *l = &t->fan.legs[i];

		if (l->x) {
			httpc_xfer_cancel(l->x);
			l->x = NULL;
		}
		if (l->done || l->has_end)
			continue;
		if (gw_end_fetch_start(t->gw, l->runner, t->trace_id, GW_END_CLIENT_WAIT_MS, leg_kept_end, l,
				       &l->fetch) == 0)
			t->fan.fetching++;
	}
	/* Every stream is closed: the sessions end (the runners see their
	 * connections go).  The trace holds no slot of maxConcurrentTraces
	 * from now on, neither here nor in the runners' lists while they
	 * wind down: the user's next start, at once after an abort, is not
	 * refused for it (trace-detached.c, count_from). */
	trace_detached_ended(t);
	if (!t->fan.fetching)
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

const struct http_conn_ops trace_conn_ops = {
	.on_drain = trace_on_drain,
	.on_close = trace_on_close,
};

