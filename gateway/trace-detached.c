// SPDX-License-Identifier: Apache-2.0
/*
 * Detached traces (docs/internals/contracts.md, "Detached traces"): the
 * gateway holds nothing of them.  A detached POST is decided and recorded
 * as any trace, then each node's runner starts a session that runs with
 * nobody attached (runner/detached.h) and the client gets 201 and a Trace.
 * Everything after asks the runners again, so any replica answers and a
 * restarted gateway has lost nothing:
 *
 *   GET    .../namespaces/NS/traces             TraceList
 *   GET    .../namespaces/NS/traces/NAME        Trace
 *   GET    .../namespaces/NS/traces/NAME/log    its records (NDJSON), ?follow=true
 *   DELETE .../namespaces/NS/traces/NAME        stop it (END runs) and unload
 *
 * Who may: the user who started a trace always; anyone else as RBAC says
 * (SubjectAccessReview of get, list or delete on traces in NS; get on
 * traces/log for the log).  A list without list rights shows the user's
 * own traces only.  Every request has its audit record.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>
#include "gateway/detached-end.h"
#include "gateway/gateway.h"
#include "gateway/httpc.h"
#include "gateway/runners.h"
#include "gateway/status.h"
#include "gateway/trace-int.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/status.h"
#include "lib/util.h"
#include "wire/detached.h"
#include "wire/end.h"
#include "wire/fields.h"
#include "wire/record.h"
#include "wire/runner-path.h"
#include "wire/sessions.h"
#include "wire/traces.h"
#include "lib/banned.h"

#define DET_CONNECT_MS 10000L
#define DET_CALL_TIMEOUT_S 30L           /* a list, a get, a delete (END and unloading) */
#define DET_CREATE_TIMEOUT_S 300L        /* a start: the runner compiles first */
#define DET_MAX_ANSWER (8u << 20)        /* one runner's list */

enum det_phase { DET_COUNT, DET_CREATE, DET_FETCH, DET_DELETE, DET_LOG, DET_ASK };

struct det_call {
	struct det_op *op;
	const struct gw_runner *runner;
	struct httpc_xfer *x;
	bool done;
	int result;
	long status;
	char *body;
	size_t len;
	char *err;
	/* a log */
	struct ndjson_splitter split;
	json_t *end;
};

struct det_op {
	struct trace_req *t;
	enum det_phase phase;
	struct det_call *calls;
	size_t ncalls, ndone;
	json_t *sessions;                /* the runners' sessions of the trace(s) asked about */
	char *down;                      /* the runners that could not be asked, or NULL */
	bool log_started;
	trace_ask_fn ask_done;           /* DET_ASK: one runner's answer */
};

static void det_next(struct trace_req *t);

/* ---- runner calls --------------------------------------------------------------- */

static void call_release(struct det_call *c)
{
	if (c->x)
		httpc_xfer_cancel(c->x);
	c->x = NULL;
	free(c->body);
	free(c->err);
	ndjson_release(&c->split);
	json_decref(c->end);
	gw_runner_put(c->runner);
	c->runner = NULL;
	c->body = c->err = NULL;
	c->end = NULL;
}

static void calls_release(struct det_op *op)
{
	for (size_t i = 0; i < op->ncalls; i++)
		call_release(&op->calls[i]);
	free(op->calls);
	op->calls = NULL;
	op->ncalls = op->ndone = 0;
}

void trace_detached_free(struct trace_req *t)
{
	struct det_op *op = t->det;

	if (!op)
		return;
	calls_release(op);
	json_decref(op->sessions);
	free(op->down);
	free(op);
	t->det = NULL;
}

static void call_done(int result, long status, const char *body, size_t len, const char *err, void *ud)
{
	struct det_call *c = ud;
	struct det_op *op = c->op;

	c->x = NULL;
	c->done = true;
	c->result = result;
	c->status = status;
	if (body && len)
		c->body = strndup(body, len);
	c->len = c->body ? len : 0;
	if (err)
		c->err = strdup(err);
	if (++op->ndone == op->ncalls)
		det_next(op->t);
}

static CURL *call_easy(struct trace_req *t, const struct gw_runner *r, const struct wire_rpath *rp)
{
	_cleanup_free_ char *path = NULL;
	CURL *e;

	if (wire_rpath_encode(rp, &path) < 0)
		return NULL;
	e = gw_runner_easy(t->gw, r, path);
	if (e)
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, DET_CONNECT_MS);
	return e;
}

/* One call per runner in op->calls (runner set): method on the runner's
 * path rp; body for a POST. */
static int calls_start(struct trace_req *t, const char *method, const struct wire_rpath *rp, char *const *bodies)
{
	struct det_op *op = t->det;

	for (size_t i = 0; i < op->ncalls; i++) {
		struct det_call *c = &op->calls[i];
		struct curl_slist *h = NULL;
		CURL *e = call_easy(t, c->runner, rp);
		int r;

		c->op = op;
		if (!e)
			return -ENOMEM;
		curl_easy_setopt(e, CURLOPT_TIMEOUT, bodies ? DET_CREATE_TIMEOUT_S : DET_CALL_TIMEOUT_S);
		if (bodies) {
			h = curl_slist_append(NULL, "Content-Type: application/json");
			if (!h) {
				curl_easy_cleanup(e);
				return -ENOMEM;
			}
			curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, bodies[i]);
		} else if (strcmp(method, "GET")) {
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
		}
		/* through the runner's gate, as sessions are: a burst of
		 * starts each asking GET /v1/sessions must not take the
		 * runner's handshakes per address from the sessions */
		r = httpc_fetch_gated(t->gw->httpc, gw_runner_gate(t->gw, c->runner), e, h, DET_MAX_ANSWER,
				      call_done, c, &c->x);
		if (r < 0) {
			/* counted as a failed call, as an unreachable runner */
			c->x = NULL;
			c->done = true;
			c->result = r;
			op->ndone++;
		}
	}
	if (op->ndone == op->ncalls)
		det_next(t);
	return 0;
}

static int op_calls(struct trace_req *t, size_t n)
{
	struct det_op *op = t->det;

	calls_release(op);
	op->calls = calloc(n ? n : 1, sizeof(*op->calls));
	if (!op->calls)
		return -ENOMEM;
	op->ncalls = n;
	return 0;
}

/* One call per runner the gateway knows (configured or discovered). */
static int calls_to_all(struct trace_req *t)
{
	_cleanup_free_ const struct gw_runner **v = NULL;
	size_t n = 0;

	v = gw_runners_all(t->gw, &n);
	if (!v || op_calls(t, n) < 0) {
		for (size_t i = 0; v && i < n; i++)
			gw_runner_put(v[i]);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		t->det->calls[i].runner = v[i];
	return 0;
}

static int op_new(struct trace_req *t, enum det_phase phase)
{
	if (!t->det) {
		t->det = calloc(1, sizeof(*t->det));
		if (!t->det)
			return -ENOMEM;
		t->det->t = t;
	}
	t->det->phase = phase;
	t->step = STEP_DETACHED;
	return 0;
}

/* What a runner said, for a message: its Status's message, or the error. */
static char *call_text(const struct det_call *c)
{
	_cleanup_free_ char *m = c->body ? status_body_message(c->body, strlen(c->body)) : NULL;
	char *out = NULL;

	if (c->result < 0)
		return asprintf(&out, "runner unreachable: %s", c->err ? c->err : tg_strerror(c->result)) < 0
			       ? NULL : out;
	return asprintf(&out, "%ld %s", c->status, m ? m : "(no message)") < 0 ? NULL : out;
}

int trace_detached_ask(struct trace_req *t, const char *node, const struct wire_rpath *rp, trace_ask_fn done)
{
	if (op_new(t, DET_ASK) < 0 || op_calls(t, 1) < 0)
		return -ENOMEM;
	t->det->ask_done = done;
	t->det->calls[0].runner = gw_runner_get(t->gw, node);
	if (!t->det->calls[0].runner)
		return -ENOENT;
	return calls_start(t, "GET", rp, NULL);
}

/* ---- Trace objects ---------------------------------------------------------------- */

static bool state_live(const char *s)
{
	return s && (!strcmp(s, "Running") || !strcmp(s, "Pending") || !strcmp(s, "Stopping"));
}

static int str_push(char ***v, size_t *n, json_t *s)
{
	return json_is_string(s) ? wire_strv_push(v, n, json_string_value(s)) : 0;
}

static int dup_member(json_t *o, const char *key, char **ret)
{
	const char *s = json_string_value(json_object_get(o, key));

	*ret = s ? strdup(s) : NULL;
	return !s || *ret ? 0 : -ENOMEM;
}

/* Its state on each node, once a node (the runners' sessions of one trace
 * are one a node). */
static int state_set(struct wire_trace *tr, json_t *s)
{
	const char *node = json_string_value(json_object_get(s, "node"));
	const char *st = json_string_value(json_object_get(s, "state"));
	struct wire_node_state *ns, *v;

	if (!st)
		return 0;
	node = node ? node : "?";
	for (size_t i = 0; i < tr->nstates; i++)
		if (!strcmp(tr->states[i].node, node)) {
			char *c = strdup(st);

			if (!c)
				return -ENOMEM;
			free(tr->states[i].state);
			tr->states[i].state = c;
			return 0;
		}
	v = realloc(tr->states, (tr->nstates + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	tr->states = v;
	ns = &v[tr->nstates];
	ns->node = strdup(node);
	ns->state = strdup(st);
	if (!ns->node || !ns->state) {
		free(ns->node);
		free(ns->state);
		return -ENOMEM;
	}
	tr->nstates++;
	return 0;
}

/* One Trace of every node's session of one trace (sessions: an array). */
static int trace_fill(json_t *sessions, struct wire_trace *tr)
{
	json_t *first = json_array_get(sessions, 0), *s, *p;
	const char *phase = "Succeeded", *reason = NULL;
	bool live = false, pending = true;
	size_t i, k;
	int r;

	if ((r = dup_member(first, "trace", &tr->name)) < 0 || (r = dup_member(first, "namespace", &tr->namespace)) < 0 ||
	    (r = dup_member(first, "created", &tr->created)) < 0 || (r = dup_member(first, "user", &tr->user)) < 0 ||
	    (r = dup_member(first, "target", &tr->target)) < 0 || (r = dup_member(first, "program", &tr->program)) < 0)
		return r;
	tr->duration = (uint64_t)json_integer_value(json_object_get(first, "duration"));
	json_array_foreach(sessions, i, s) {
		const char *st = json_string_value(json_object_get(s, "state"));
		json_t *end = json_object_get(s, "end");
		const char *er = json_string_value(json_object_get(end, "reason"));

		if ((r = str_push(&tr->nodes, &tr->nnodes, json_object_get(s, "node"))) < 0 ||
		    (r = state_set(tr, s)) < 0)
			return r;
		json_array_foreach(json_object_get(s, "pods"), k, p)
			if ((r = str_push(&tr->pods, &tr->npods, p)) < 0)
				return r;
		tr->outputs += (uint64_t)json_integer_value(json_object_get(s, "outputs"));
		tr->buffer_dropped += (uint64_t)json_integer_value(json_object_get(s, "bufferDropped"));
		if (end) {
			tr->events += (uint64_t)json_integer_value(json_object_get(end, "events"));
			tr->drops += (uint64_t)json_integer_value(json_object_get(end, "drops"));
		} else {
			tr->events += (uint64_t)json_integer_value(json_object_get(s, "outputs"));
		}
		if (state_live(st)) {
			live = true;
			if (strcmp(st, "Pending"))
				pending = false;
		} else if (st && !strcmp(st, "Failed")) {
			phase = "Failed";
			if ((r = str_push(&tr->failed_nodes, &tr->nfailed_nodes, json_object_get(s, "node"))) < 0)
				return r;
			if (!reason)
				reason = er;
		}
		if (er && !reason && !state_live(st))
			reason = er;
	}
	if (live)
		phase = pending ? "Pending" : "Running";
	if (!(tr->phase = strdup(phase)) || (reason && !live && !(tr->end_reason = strdup(reason))))
		return -ENOMEM;
	return 0;
}

/* The runners' sessions grouped by trace, as Traces (newest first). */
static int trace_list_fill(json_t *sessions, struct wire_trace_list *ret)
{
	_cleanup_(json_decrefp) json_t *by = json_object(), *order = json_array();
	_cleanup_(wire_trace_list_release) struct wire_trace_list l = { 0 };
	json_t *s;
	size_t i;
	int r;

	if (!by || !order)
		return -ENOMEM;
	json_array_foreach(sessions, i, s) {
		const char *id = json_string_value(json_object_get(s, "trace"));
		json_t *g;

		if (!id)
			continue;
		g = json_object_get(by, id);
		if (!g) {
			g = json_array();
			if (!g || json_object_set_new(by, id, g) < 0 || json_array_append_new(order, json_string(id)) < 0)
				return -ENOMEM;
		}
		if (json_array_append(g, s) < 0)
			return -ENOMEM;
	}
	l.items = calloc(json_array_size(order) + 1, sizeof(*l.items));
	if (!l.items)
		return -ENOMEM;
	json_array_foreach(order, i, s) {
		r = trace_fill(json_object_get(by, json_string_value(s)), &l.items[l.nitems]);
		l.nitems++;   /* released with the list, filled or not */
		if (r < 0)
			return r;
	}
	*ret = l;
	memset(&l, 0, sizeof(l));
	return 0;
}

/* The answer of a list, a get (one trace) or a detached start: its Trace
 * or TraceList written by wire/traces.h. */
static void traces_answer(struct trace_req *t, int code, const struct wire_trace_list *l, bool list,
			  const char *reason)
{
	_cleanup_(json_decrefp) json_t *obj = NULL;
	int r = list ? wire_trace_list_to_json(l, &obj)
		     : l->nitems ? wire_trace_to_json(&l->items[0], &obj) : -EINVAL;

	if (r < 0) {
		trace_refusef(t, 500, NULL, "traces cannot be written: %s", tg_strerror(r));
		return;
	}
	trace_detached_answer(t, code, obj, reason);
}

static const char *session_owner(json_t *s)
{
	return json_string_value(json_object_get(s, "user"));
}

static bool owned_by(json_t *s, const struct trace_req *t)
{
	const char *o = session_owner(s);

	return o && t->user.username && !strcmp(o, t->user.username);
}

/* ---- answers -------------------------------------------------------------------- */

void trace_detached_answer(struct trace_req *t, int code, json_t *obj, const char *reason)
{
	_cleanup_free_ char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	_cleanup_free_ char *aerr = NULL;
	const char *hdrs[] = { "Audit-ID", t->audit_id, NULL };
	int r;

	if (!text) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	/* a create: the trace runs on, detached; its nodes' ends are
	 * records of their own (detached-end.c) */
	r = trace_audit(t, "ResponseComplete", code, NULL, "allow", reason,
			t->route.kind == ROUTE_TRACE_CREATE ? "detached" : NULL, &aerr);
	if (r < 0) {
		trace_refusef(t, 503, NULL, "audit log unavailable: %s", aerr ? aerr : tg_strerror(r));
		return;
	}
	if (t->route.kind == ROUTE_TRACE_CREATE && code == 201 && t->det)
		gw_detend_started(t->gw, t->det->sessions);
	trace_log(t, code, NULL);
	if (t->conn)
		(void)http_conn_respond(t->conn, code, "application/json", hdrs, text, strlen(text));
	t->conn = NULL;
	trace_free(t);
}

/* ---- create --------------------------------------------------------------------- */

static void count_from(struct trace_req *t, const struct wire_sessions *sessions);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct wire_sessions *, wire_sessions_free)

/* How long an ended trace stays in gw->sessions_ended: far longer than a
 * runner takes to reap a session that has sent its end. */
#define ENDED_KEEP_NS (60 * 1000000000ull)
/* Old entries are dropped at most this often: a walk of the whole table
 * on every end made a burst of N ends cost N^2. */
#define ENDED_PRUNE_NS 1000000000ull

/* A client that has read a trace's end, or aborted it, may start the next
 * one at once: the runner that sent that end (or saw the gateway close the
 * session's stream) may list the session as running a little longer (it
 * is still exiting), and a count asked then, or its snapshot, would refuse
 * the next trace for a slot that is free. */
void trace_detached_ended(struct trace_req *t)
{
	struct gateway *gw = t->gw;
	uint64_t now = now_mono_ns();
	const char *id;
	json_t *v;
	void *tmp;

	if (!gw->sessions_ended && !(gw->sessions_ended = json_object()))
		return;
	if (now - gw->sessions_ended_pruned_ns >= ENDED_PRUNE_NS) {
		gw->sessions_ended_pruned_ns = now;
		json_object_foreach_safe(gw->sessions_ended, tmp, id, v)
			if (now - (uint64_t)json_integer_value(v) > ENDED_KEEP_NS)
				json_object_del(gw->sessions_ended, id);
	}
	/* a tenant's burst of short traces: the oldest goes first (jansson
	 * keeps insertion order); forgetting one early can only count its
	 * session a little longer, a refusal at worst, never a slot too many */
	while (json_object_size(gw->sessions_ended) >= TRACE_ENDED_MAX) {
		void *it = json_object_iter(gw->sessions_ended);

		json_object_del(gw->sessions_ended, json_object_iter_key(it));
	}
	json_object_set_new(gw->sessions_ended, t->trace_id, json_integer((json_int_t)now));
}

/* The runners' sessions are asked at most once a second per gateway
 * (COUNT_SNAPSHOT_NS): a start within that reuses the last answers, plus
 * this gateway's own admitted traces, instead of asking every runner of
 * the cluster again.  Another replica's start within that second may be
 * missed, as one at the same instant always may (the count is not a
 * lock: contracts.md). */
#define COUNT_SNAPSHOT_NS 1000000000ull

void trace_detached_count(struct trace_req *t)
{
	struct gateway *gw = t->gw;

	if (gw->sessions_snap && now_mono_ns() - gw->sessions_snap_ns < COUNT_SNAPSHOT_NS) {
		count_from(t, gw->sessions_snap);
		return;
	}
	if (op_new(t, DET_COUNT) < 0 || calls_to_all(t) < 0) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	if (calls_start(t, "GET", &(struct wire_rpath){ .kind = WIRE_RPATH_SESSIONS }, NULL) < 0)
		trace_refuse(t, 500, "out of memory", NULL);
}

/* A runner whose sessions could not be counted: why, for the log and
 * the refusal (NULL when out of memory). */
static char *count_failure(const struct det_call *c, const char *decode_err)
{
	char *out = NULL;

	if (decode_err)
		return asprintf(&out, "its answer does not parse: %s", decode_err) < 0 ? NULL : out;
	return call_text(c);
}

/*
 * Refuses a start whose count is incomplete: maxConcurrentTraces cannot be
 * held when a runner's sessions are unknown, and what runs there may be
 * the user's.  503 naming the first node (and how many more), the limit
 * and why.  Nothing is kept as a snapshot: the next start asks again.
 */
static void count_refuse(struct trace_req *t, const char *node, const char *why, size_t more)
{
	_cleanup_free_ char *tail = NULL, *msg = NULL;
	json_t *d;

	wire_sessions_free(t->gw->sessions_snap);
	t->gw->sessions_snap = NULL;
	if (more && asprintf(&tail, " (and %zu other node%s)", more, more == 1 ? "" : "s") < 0)
		tail = NULL;
	if (asprintf(&msg,
		     "cannot count running traces on node \"%s\" (maxConcurrentTraces of policy \"%s\"): "
		     "%s%s; the trace was not started",
		     node, t->decision.policy, why ? why : "out of memory", tail ? tail : "") < 0) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	/* the node is why, as for a trace that could start on no node: the
	 * plugin says so and exits 5 */
	d = status_details("traces", "tracegate.dev", t->tb.name);
	if (d)
		status_add_cause(d, "NodeFailed", node, msg);
	trace_refuse(t, 503, msg, d);
}

/* The traces running anywhere, attached or detached, whichever gateway
 * started them (the runners' sessions, by trace id), and this gateway's
 * own admitted ones that have not reached a runner yet: the user's and
 * the namespace's count against maxConcurrentTraces.  Every runner must
 * answer: one that cannot be asked (down, stopped, garbage) fails the
 * count, and the start is refused (count_refuse), never admitted on a
 * count that left its sessions out. */
static void count_done(struct trace_req *t)
{
	struct det_op *op = t->det;
	_cleanup_(wire_sessions_freep) struct wire_sessions *all = calloc(1, sizeof(*all));
	_cleanup_free_ char *first_why = NULL;
	const char *first_node = NULL;
	size_t failed = 0;
	int r = all ? 0 : -ENOMEM;

	for (size_t i = 0; r >= 0 && i < op->ncalls; i++) {
		struct det_call *c = &op->calls[i];
		_cleanup_(wire_sessions_release) struct wire_sessions l = { 0 };
		_cleanup_free_ char *err = NULL, *why = NULL;

		if (c->result == 0 && c->status == 200 &&
		    wire_sessions_decode(c->body ? c->body : "", c->len, &l, &err) == 0) {
			for (size_t k = 0; r >= 0 && k < l.n; k++)
				r = wire_sessions_add(all, &l.items[k]);
			continue;
		}
		why = count_failure(c, err);
		log_warn("trace %s: cannot count running traces on node \"%s\" (maxConcurrentTraces): %s; "
			 "the start is refused", t->trace_id, c->runner->node, why ? why : "out of memory");
		if (!failed++) {
			first_node = c->runner->node;
			first_why = TAKE_PTR(why);
		}
	}
	if (r < 0) {
		calls_release(op);
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	if (failed) {
		/* the calls (and first_node's runner) go with t */
		count_refuse(t, first_node, first_why, failed - 1);
		return;
	}
	calls_release(op);
	wire_sessions_free(t->gw->sessions_snap);
	t->gw->sessions_snap = TAKE_PTR(all);
	t->gw->sessions_snap_ns = now_mono_ns();
	count_from(t, t->gw->sessions_snap);
}

/* Counts from the runners' sessions and this gateway's admitted traces,
 * then admits or refuses. */
static void count_from(struct trace_req *t, const struct wire_sessions *sessions)
{
	_cleanup_(json_decrefp) json_t *user = json_object(), *ns = json_object();

	if (!user || !ns) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	for (size_t k = 0; k < sessions->n; k++) {
		const struct wire_session_item *s = &sessions->items[k];

		if (!wire_sessions_state_live(s->state))
			continue;
		if (json_object_get(t->gw->sessions_ended, s->trace))
			continue;       /* its end has reached its client already */
		if (t->user.username && !strcmp(s->user, t->user.username))
			json_object_set_new(user, s->trace, json_true());
		if (!strcmp(s->ns, t->route.ns))
			json_object_set_new(ns, s->trace, json_true());
	}
	for (struct trace_req *o = t->gw->reqs; o; o = o->next) {
		/* a trace whose client left has its streams closed, only its
		 * counts are being fetched (trace_client_left) */
		if (o == t || !o->session_counted || o->route.dry_run || o->client_left)
			continue;
		if (!strcmp(o->route.ns, t->route.ns))
			json_object_set_new(ns, o->trace_id, json_true());
		if (o->have_user && t->user.username && !strcmp(o->user.username, t->user.username))
			json_object_set_new(user, o->trace_id, json_true());
	}
	t->det_user_running = json_object_size(user);
	t->det_ns_running = json_object_size(ns);
	trace_goto(t, STEP_ADMIT);
}

/* One node's session request with its "detached" member, as text. */
static int detached_body(struct trace_req *t, const char *node, const char *created, char **ret_text)
{
	_cleanup_(session_request_release) struct session_request req = { 0 };
	struct session_detached *d;
	size_t n = 0;
	int r;

	r = trace_session_request(t, node, &req);
	if (r < 0)
		return r;
	for (char **g = t->user.groups; g && *g; g++)
		n++;
	d = req.detached = calloc(1, sizeof(*d));
	if (!d || !(d->groups = calloc(n + 1, sizeof(*d->groups))) || !(d->ns = strdup(t->route.ns)) ||
	    !(d->user = strdup(t->user.username)) || !(d->target = strdup(t->tb.target)) ||
	    !(d->created = strdup(created)) || !(d->audit_id = strdup(t->audit_id)) ||
	    (t->impersonating && !(d->requester = strdup(t->real_user.username))))
		return -ENOMEM;
	for (; d->ngroups < n; d->ngroups++)
		if (!(d->groups[d->ngroups] = strdup(t->user.groups[d->ngroups])))
			return -ENOMEM;
	return session_request_encode(&req, ret_text);
}

void trace_detached_start(struct trace_req *t)
{
	char created[32];
	char **bodies;
	size_t n = t->nnodes;
	int r;

	{
		/* Kubernetes' creationTimestamp: RFC 3339, whole seconds */
		char us[32];

		format_rfc3339_us(now_real_ns(), us);
		snprintf(created, sizeof(created), "%.19sZ", us);
	}
	if (op_new(t, DET_CREATE) < 0 || op_calls(t, n) < 0) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	bodies = calloc(n ? n : 1, sizeof(*bodies));
	if (!bodies) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		t->det->calls[i].runner = gw_runner_get(t->gw, t->nodes[i]);
		if (detached_body(t, t->nodes[i], created, &bodies[i]) < 0) {
			for (size_t k = 0; k < i; k++)
				free(bodies[k]);
			free(bodies);
			trace_refuse(t, 500, "out of memory", NULL);
			return;
		}
	}
	r = calls_start(t, "POST", &(struct wire_rpath){ .kind = WIRE_RPATH_SESSIONS }, bodies);
	for (size_t i = 0; i < n; i++)
		free(bodies[i]);
	free(bodies);
	if (r < 0)
		trace_refuse(t, 500, "out of memory", NULL);
}

/* The pods of a workload or selector left out (no runner on their node),
 * as trace_left_out_json() says them to the audit log and a dry run. */
static int left_out_fill(const struct trace_req *t, struct wire_trace *tr)
{
	char pod[400], msg[160];

	tr->left_out = calloc(t->nleft_out, sizeof(*tr->left_out));
	if (!tr->left_out)
		return -ENOMEM;
	for (size_t i = 0; i < t->nleft_out; i++) {
		const struct kube_pod *p = &t->left_out[i];
		struct wire_left_out *lo = &tr->left_out[i];

		snprintf(pod, sizeof(pod), "%s/%s", p->namespace, p->name);
		trace_no_runner_message(p->node, msg, sizeof(msg));
		tr->nleft_out++;
		if (!(lo->pod = strdup(pod)) || !(lo->node = strdup(p->node)) || !(lo->message = strdup(msg)))
			return -ENOMEM;
	}
	return 0;
}

static void create_done(struct trace_req *t)
{
	struct det_op *op = t->det;
	_cleanup_(json_decrefp) json_t *sessions = json_array(), *failed = json_array();
	_cleanup_(wire_trace_list_release) struct wire_trace_list traces = { 0 };
	_cleanup_free_ char *msg = NULL;
	struct wire_trace *tr;
	int r;
	struct buf why = BUF_INIT(64 * 1024);
	long code = 0;

	for (size_t i = 0; i < op->ncalls; i++) {
		struct det_call *c = &op->calls[i];
		_cleanup_(wire_det_session_release) struct wire_det_session ds = { 0 };
		_cleanup_free_ char *txt = NULL, *err = NULL;
		json_t *s = NULL;

		if (c->result == 0 && c->status == 201 &&
		    wire_det_session_decode(c->body ? c->body : "", c->len, &ds, &err) == 0 &&
		    wire_det_session_to_json(&ds, &s) == 0) {
			json_array_append_new(sessions, s);
			continue;
		}
		txt = err ? NULL : call_text(c);
		if (err && asprintf(&txt, "its session is not one: %s", err) < 0)
			txt = NULL;
		json_array_append_new(failed, json_string(c->runner->node));
		(void)buf_printf(&why, "%snode \"%s\": %s", why.len ? "; " : "", c->runner->node,
				 txt ? txt : "failed");
		if (!code && c->result == 0 && c->status >= 400 && c->status < 500)
			code = c->status;
	}
	msg = buf_detach(&why, NULL);
	if (!json_array_size(sessions)) {
		_cleanup_(json_decrefp) json_t *st = status_new(code ? (int)code : 503, msg ? msg : "no node started",
								 status_details("traces", "tracegate.dev", NULL));

		if (trace_audit(t, "ResponseComplete", code ? (int)code : 503, msg, "allow", t->policy,
				"node-failed", NULL) < 0)
			log_error("audit %s: failed detached start not recorded", t->audit_id);
		trace_log(t, code ? (int)code : 503, "detached");
		trace_send_status(t, st);
		trace_free(t);
		return;
	}
	r = trace_list_fill(sessions, &traces);
	if (r < 0 || !traces.nitems) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	tr = &traces.items[0];
	/* kept for the record and, once it is written, for the ends
	 * (gw_detend_started) */
	json_decref(op->sessions);
	op->sessions = json_incref(sessions);
	json_decref(t->det_failed);
	t->det_failed = json_incref(failed);
	if (json_array_size(failed)) {
		size_t i;
		json_t *n;

		wire_strvn_free(tr->failed_nodes, tr->nfailed_nodes);
		tr->failed_nodes = NULL;
		tr->nfailed_nodes = 0;
		json_array_foreach(failed, i, n)
			if (str_push(&tr->failed_nodes, &tr->nfailed_nodes, n) < 0) {
				trace_refuse(t, 500, "out of memory", NULL);
				return;
			}
		if (!(tr->message = strdup(msg ? msg : ""))) {
			trace_refuse(t, 500, "out of memory", NULL);
			return;
		}
	}
	if (t->nleft_out && left_out_fill(t, tr) < 0) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	log_info("trace %s: detached, on %zu node(s), for user \"%s\"", t->trace_id, json_array_size(sessions),
		 t->user.username);
	traces_answer(t, 201, &traces, false, t->policy);
}

/* ---- list, get, log, delete ----------------------------------------------------- */

void trace_detached_step(struct trace_req *t)
{
	struct wire_rpath rp = { .kind = t->route.kind == ROUTE_TRACE_LIST ? WIRE_RPATH_DETACHED_LIST
									   : WIRE_RPATH_DETACHED };
	int r;

	if (op_new(t, DET_FETCH) < 0 || calls_to_all(t) < 0) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	snprintf(rp.ns, sizeof(rp.ns), "%s", t->route.kind == ROUTE_TRACE_LIST ? t->route.ns : "");
	snprintf(rp.id, sizeof(rp.id), "%s", t->route.kind == ROUTE_TRACE_LIST ? "" : t->route.name);
	r = calls_start(t, "GET", &rp, NULL);
	if (r < 0)
		trace_refuse(t, 500, "out of memory", NULL);
}

/* The sessions the runners answered (of this namespace); a runner that
 * could not answer is named in *unreachable. */
static int fetch_collect(struct trace_req *t, struct buf *unreachable)
{
	struct det_op *op = t->det;

	json_decref(op->sessions);
	op->sessions = json_array();
	if (!op->sessions)
		return -ENOMEM;
	for (size_t i = 0; i < op->ncalls; i++) {
		struct det_call *c = &op->calls[i];
		struct wire_det_session *items = NULL;
		_cleanup_free_ char *err = NULL;
		size_t n = 0;
		int r = -EPROTO;

		if (c->result == 0 && c->status == 404 && t->route.kind != ROUTE_TRACE_LIST)
			continue;
		if (c->result == 0 && c->status == 200 && t->route.kind == ROUTE_TRACE_LIST)
			r = wire_det_list_decode(c->body ? c->body : "", c->len, &items, &n, &err);
		else if (c->result == 0 && c->status == 200 && (items = calloc(1, sizeof(*items)))) {
			r = wire_det_session_decode(c->body ? c->body : "", c->len, items, &err);
			n = r == 0 ? 1 : 0;
		}
		if (r < 0) {
			_cleanup_free_ char *txt = err ? NULL : call_text(c);

			(void)buf_printf(unreachable, "%snode \"%s\": %s%s", unreachable->len ? "; " : "",
					 c->runner->node, err ? "its sessions are not ones: " : "",
					 err ? err : txt ? txt : "failed");
		}
		for (size_t k = 0; k < n; k++) {
			json_t *s = NULL;

			if (wire_det_session_to_json(&items[k], &s) == 0)
				json_array_append_new(op->sessions, s);
			wire_det_session_release(&items[k]);
		}
		free(items);
	}
	/* what a runner holds under another namespace is not this one's */
	for (size_t i = json_array_size(op->sessions); i-- > 0;) {
		const char *ns = json_string_value(json_object_get(json_array_get(op->sessions, i), "namespace"));

		if (!ns || strcmp(ns, t->route.ns))
			json_array_remove(op->sessions, i);
	}
	return 0;
}

static void ask_rbac(struct trace_req *t)
{
	struct kube_resource_attrs a = { .namespace = t->route.ns, .verb = trace_verb(t),
					 .group = "tracegate.dev", .version = "v1alpha1", .resource = "traces",
					 .subresource = t->route.kind == ROUTE_TRACE_LOG ? "log" : NULL,
					 .name = t->route.kind == ROUTE_TRACE_LIST ? NULL : t->route.name };

	trace_step_sar(t, STEP_SAR_DETACHED, &a);
}

static void fetch_done(struct trace_req *t)
{
	struct det_op *op = t->det;
	struct buf unreachable = BUF_INIT(64 * 1024);
	_cleanup_free_ char *down = NULL;
	bool all_own = true;
	json_t *s;
	size_t i;

	if (fetch_collect(t, &unreachable) < 0) {
		buf_release(&unreachable);
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	down = buf_detach(&unreachable, NULL);
	if (down && *down) {
		log_warn("%s %s: %s", t->method, t->uri, down);
		if (t->route.kind != ROUTE_TRACE_LIST && !json_array_size(op->sessions)) {
			trace_refusef(t, 503, NULL, "trace \"%s\": some runners could not be asked: %s", t->route.name,
				      down);
			return;
		}
		/* a list without them is not the namespace's traces: it says so */
		free(op->down);
		op->down = TAKE_PTR(down);
	}
	json_array_foreach(op->sessions, i, s)
		if (!owned_by(s, t))
			all_own = false;
	/* the owner needs nobody's word; a trace that is not there is
	 * answered only to whom RBAC would show it (no probing for names) */
	if (all_own && json_array_size(op->sessions)) {
		trace_detached_decided(t, true);
		return;
	}
	if (all_own && t->route.kind == ROUTE_TRACE_LIST) {
		trace_detached_decided(t, true);
		return;
	}
	ask_rbac(t);
}

static void start_delete(struct trace_req *t);
static void start_log(struct trace_req *t);

void trace_detached_decided(struct trace_req *t, bool allowed)
{
	struct det_op *op = t->det;
	size_t i;

	t->step = STEP_DETACHED;
	if (t->route.kind == ROUTE_TRACE_LIST) {
		_cleanup_(wire_trace_list_release) struct wire_trace_list list = { 0 };

		/* without list rights: the user's own */
		for (i = json_array_size(op->sessions); !allowed && i-- > 0;)
			if (!owned_by(json_array_get(op->sessions, i), t))
				json_array_remove(op->sessions, i);
		/* the traces of a runner that could not be asked are not in
		 * it: "incomplete" names those runners (the client exits 5) */
		if (trace_list_fill(op->sessions, &list) < 0 ||
		    (op->down && !(list.incomplete = strdup(op->down)))) {
			trace_refuse(t, 500, "out of memory", NULL);
			return;
		}
		traces_answer(t, 200, &list, true, allowed ? "RBAC allows list" : "without list rights: the user's own traces");
		return;
	}
	if (!allowed) {
		_cleanup_free_ char *msg = status_forbidden_message(
			t->user.username, trace_verb(t), "tracegate.dev",
			t->route.kind == ROUTE_TRACE_LOG ? "traces/log" : "traces", t->route.ns, t->route.name,
			"only the user who started a trace, or whom RBAC allows, may");

		trace_refuse(t, 403, msg ? msg : "forbidden",
			     status_details("traces", "tracegate.dev", t->route.name));
		return;
	}
	if (!json_array_size(op->sessions)) {
		trace_refusef(t, 404, status_details("traces", "tracegate.dev", t->route.name),
			      "traces.tracegate.dev \"%s\" not found in namespace \"%s\"", t->route.name, t->route.ns);
		return;
	}
	switch (t->route.kind) {
	case ROUTE_TRACE_GET: {
		_cleanup_(wire_trace_list_release) struct wire_trace_list traces = { 0 };

		if (trace_list_fill(op->sessions, &traces) < 0) {
			trace_refuse(t, 500, "out of memory", NULL);
			return;
		}
		traces_answer(t, 200, &traces, false, owned_by(json_array_get(op->sessions, 0), t)
							      ? "the user who started it" : "RBAC allows get");
		return;
	}
	case ROUTE_TRACE_STOP:
		start_delete(t);
		return;
	case ROUTE_TRACE_LOG:
		start_log(t);
		return;
	default:
		trace_refuse(t, 500, "internal error: unexpected request", NULL);
		return;
	}
}

/* The calls go to the runners holding one of the sessions. */
static int calls_for_sessions(struct trace_req *t)
{
	struct det_op *op = t->det;
	size_t n = 0, i;
	json_t *s;

	if (op_calls(t, json_array_size(op->sessions)) < 0)
		return -ENOMEM;
	json_array_foreach(op->sessions, i, s) {
		const char *node = json_string_value(json_object_get(s, "node"));
		const struct gw_runner *r = node ? gw_runner_get(t->gw, node) : NULL;

		if (r)
			op->calls[n++].runner = r;
	}
	op->ncalls = n;
	return 0;
}

static void start_delete(struct trace_req *t)
{
	struct wire_rpath rp = { .kind = WIRE_RPATH_DETACHED };
	_cleanup_free_ char *aerr = NULL;
	int r;

	t->det->phase = DET_DELETE;
	/* recorded before it takes effect */
	r = trace_audit(t, "ResponseStarted", 200, NULL, "allow",
			owned_by(json_array_get(t->det->sessions, 0), t) ? "the user who started it"
									: "RBAC allows delete", NULL, &aerr);
	if (r < 0) {
		trace_refusef(t, 503, NULL, "audit log unavailable, the trace goes on: %s", aerr ? aerr : tg_strerror(r));
		return;
	}
	snprintf(rp.id, sizeof(rp.id), "%s", t->route.name);
	if (calls_for_sessions(t) < 0 || calls_start(t, "DELETE", &rp, NULL) < 0)
		trace_refuse(t, 500, "out of memory", NULL);
}

static void delete_done(struct trace_req *t)
{
	struct det_op *op = t->det;
	struct buf why = BUF_INIT(64 * 1024);
	_cleanup_free_ char *msg = NULL;
	_cleanup_(json_decrefp) json_t *st = NULL;

	for (size_t i = 0; i < op->ncalls; i++) {
		struct det_call *c = &op->calls[i];
		_cleanup_free_ char *txt = NULL;

		/* 404: it ended and was forgotten meanwhile: gone all the same */
		if (c->result == 0 && c->status == 200)
			gw_detend_claim(t->gw, c->runner->node, t->route.name, "delete");
		if (c->result == 0 && (c->status == 200 || c->status == 404))
			continue;
		txt = call_text(c);
		(void)buf_printf(&why, "%snode \"%s\": %s", why.len ? "; " : "", c->runner->node, txt ? txt : "failed");
	}
	/* a runner that could not be asked what it holds was not asked to
	 * stop it either: the trace may go on there */
	if (op->down)
		(void)buf_printf(&why, "%s%s (not asked to stop it)", why.len ? "; " : "", op->down);
	msg = buf_detach(&why, NULL);
	if (msg && *msg) {
		trace_refusef(t, 500, NULL, "trace \"%s\" not stopped on every node: %s", t->route.name, msg);
		return;
	}
	st = status_new(200, "the trace is deleted: END ran, its programs are unloaded",
			status_details("traces", "tracegate.dev", t->route.name));
	trace_detached_answer(t, 200, st, "deleted on every node");
}

/* ---- the log -------------------------------------------------------------------- */

static void log_finish(struct trace_req *t);

static int log_line(const char *line, size_t len, void *ud)
{
	struct det_call *c = ud;
	struct trace_req *t = c->op->t;
	_cleanup_(json_decrefp) json_t *rec = json_loadb(line, len, 0, NULL);
	_cleanup_free_ char *err = NULL;
	const char *type;

	/* "time" kept only when asked; a status or error record re-encoded
	 * with the members it may have (wire/record.h) */
	if (!json_is_object(rec) || wire_log_record_decode(&rec, t->route.timestamps, &err) < 0) {
		log_warn("trace %s: runner \"%s\" sent a log line that is not a log record: %s", t->route.name,
			 c->runner->node, err ? err : json_is_object(rec) ? "out of memory" : "not a JSON object");
		return -EINVAL;
	}
	type = json_string_value(json_object_get(rec, "type"));
	if (!strcmp(type, "end")) {
		/* one end for the whole trace, once every node's came */
		json_decref(c->end);
		c->end = json_incref(rec);
		return 0;
	}
	return trace_emit(t, rec) < 0 ? -EPIPE : 0;
}

static int log_data(struct httpc_xfer *x, const char *data, size_t len, void *ud)
{
	struct det_call *c = ud;
	struct trace_req *t = c->op->t;

	if (!c->status)
		c->status = httpc_xfer_status(x);
	if (c->status != 200)
		return 0;
	if (t->conn && http_conn_congested(t->conn))
		return HTTPC_PAUSE;
	return ndjson_feed(&c->split, data, len, log_line, c);
}

static void log_done(struct httpc_xfer *x, int result, long status, const char *err, void *ud)
{
	struct det_call *c = ud;
	struct det_op *op = c->op;

	(void)x;
	c->x = NULL;
	c->done = true;
	c->result = result;
	c->status = status;
	if (err)
		c->err = strdup(err);
	if (++op->ndone == op->ncalls)
		log_finish(op->t);
}

static const struct httpc_xfer_ops log_ops = {
	.on_data = log_data,
	.on_done = log_done,
};

static void start_log(struct trace_req *t)
{
	struct det_op *op = t->det;
	const char *hdrs[] = { "Audit-ID", t->audit_id, NULL };
	_cleanup_free_ char *aerr = NULL;
	int r;

	op->phase = DET_LOG;
	r = trace_audit(t, "ResponseStarted", 200, NULL, "allow",
			owned_by(json_array_get(op->sessions, 0), t) ? "the user who started it" : "RBAC allows get",
			NULL, &aerr);
	if (r < 0) {
		trace_refusef(t, 503, NULL, "audit log unavailable: %s", aerr ? aerr : tg_strerror(r));
		return;
	}
	if (calls_for_sessions(t) < 0) {
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	if (!t->conn || http_conn_stream_start(t->conn, 200, "application/x-ndjson", hdrs) < 0) {
		trace_detached_client_left(t);
		return;
	}
	op->log_started = true;
	trace_log(t, 200, t->route.follow ? "log follow" : "log");
	for (size_t i = 0; i < op->ncalls; i++) {
		struct det_call *c = &op->calls[i];
		struct wire_rpath rp = { .kind = WIRE_RPATH_DETACHED_LOG, .follow = t->route.follow };
		CURL *e;

		snprintf(rp.id, sizeof(rp.id), "%s", t->route.name);
		e = call_easy(t, c->runner, &rp);
		c->op = op;
		ndjson_init(&c->split, t->gw->cfg->limits.max_line_bytes);
		if (e && !t->route.follow)
			curl_easy_setopt(e, CURLOPT_TIMEOUT, DET_CALL_TIMEOUT_S);
		if (!e || httpc_start_gated(t->gw->httpc, gw_runner_gate(t->gw, c->runner), e, NULL, &log_ops, c,
					    &c->x) < 0) {
			c->x = NULL;
			c->done = true;
			c->result = -ENOMEM;
			op->ndone++;
		}
	}
	if (op->ndone == op->ncalls)
		log_finish(t);
}

/* Every node's log ended: one end (counts summed), then the stream ends. */
static void log_finish(struct trace_req *t)
{
	struct det_op *op = t->det;
	_cleanup_(json_decrefp) json_t *end = NULL;
	_cleanup_(wire_end_release) struct wire_end sum = {
		.has = WIRE_END_EVENTS | WIRE_END_DROPS | WIRE_END_MAP_DROPS | WIRE_END_CPU_NS,
	};
	bool ended = true;

	for (size_t i = 0; i < op->ncalls; i++) {
		struct det_call *c = &op->calls[i];
		_cleanup_(wire_end_release) struct wire_end ne = { 0 };

		/* log_line decoded it once: it decodes */
		if (!c->end || wire_end_from_json(c->end, &ne, NULL) < 0) {
			ended = false;
			if (t->conn && (c->result < 0 || c->status != 200)) {
				_cleanup_free_ char *txt = call_text(c);

				trace_emit_error(t, c->runner->node, txt ? txt : "log unavailable", 0);
			}
			continue;
		}
		/* this node's session ended: its end record, unless written already */
		gw_detend_claim(t->gw, c->runner->node, t->route.name, "log");
		sum.events += ne.events;
		sum.drops += ne.drops;
		sum.map_drops += ne.map_drops;
		sum.cpu_ns += ne.cpu_ns;
		if (!(sum.has & WIRE_END_EXIT_CODE) && (ne.has & WIRE_END_EXIT_CODE)) {
			sum.exit_code = ne.exit_code;
			sum.has |= WIRE_END_EXIT_CODE;
		}
		/* a node that did not end as asked names the trace's end */
		if (!sum.reason || !wire_end_reason_ok(ne.reason)) {
			free(sum.reason);
			sum.reason = TAKE_PTR(ne.reason);
		}
	}
	if (ended && sum.reason && t->conn && wire_end_to_json(&sum, &end) == 0)
		(void)trace_emit(t, end);
	if (trace_audit(t, "ResponseComplete", 200, NULL, "allow", t->route.follow ? "log followed" : "log read",
			sum.reason, NULL) < 0)
		log_error("audit %s: end of a log not recorded", t->audit_id);
	if (t->conn)
		(void)http_conn_stream_end(t->conn);
	t->conn = NULL;
	trace_free(t);
}

void trace_detached_drain(struct trace_req *t)
{
	struct det_op *op = t->det;

	for (size_t i = 0; op && i < op->ncalls && t->conn; i++)
		if (op->calls[i].x && httpc_xfer_paused(op->calls[i].x))
			(void)httpc_xfer_resume(op->calls[i].x);
}

/* The client left (or the gateway stops): a detached trace goes on, only
 * this request ends. */
void trace_detached_client_left(struct trace_req *t)
{
	struct det_op *op = t->det;

	t->conn = NULL;
	if (op)
		calls_release(op);
	if (op && op->phase == DET_COUNT) {
		if (trace_audit(t, "ResponseStarted", 0, NULL, "forbid", "client closed the connection before the decision",
				NULL, NULL) < 0)
			log_error("audit %s: abandoned request not recorded", t->audit_id);
	} else if (op && op->log_started) {
		if (trace_audit(t, "ResponseComplete", 200, NULL, "allow", "log reader left", NULL, NULL) < 0)
			log_error("audit %s: end of a log not recorded", t->audit_id);
	} else if (trace_audit(t, "ResponseComplete", 0, NULL, "allow", "client left before the answer", NULL,
			       NULL) < 0) {
		log_error("audit %s: abandoned request not recorded", t->audit_id);
	}
	trace_log(t, 0, "client-gone");
	trace_free(t);
}

static void det_next(struct trace_req *t)
{
	switch (t->det->phase) {
	case DET_COUNT:
		count_done(t);
		break;
	case DET_CREATE:
		create_done(t);
		break;
	case DET_FETCH:
		fetch_done(t);
		break;
	case DET_DELETE:
		delete_done(t);
		break;
	case DET_LOG:
		log_finish(t);
		break;
	case DET_ASK: {
		struct det_call *c = &t->det->calls[0];

		t->det->ask_done(t, c->result, c->status, c->body, c->len, c->err);
		break;
	}
	}
}
