/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state of one trace request and the step table of its flow, shared
 * by the files of that flow (docs/internals/gateway.md, "The step
 * table"; "Who owns what" below says which file does what).  Parts one
 * file owns alone are that file's opaque structs (t->print, t->imp,
 * t->reauth, t->det).  Not a contract for anything outside gateway/.
 */
#ifndef TG_GATEWAY_TRACE_INT_H
#define TG_GATEWAY_TRACE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <jansson.h>
#include "gateway/config.h"
#include "gateway/gateway.h"
#include "gateway/http.h"
#include "gateway/httpc.h"
#include "lib/ndjson.h"
#include "gateway/route.h"
#include "wire/trace-body.h"
#include "lib/lru.h"
#include "lib/buf.h"
#include "policy/policy.h"
#include "kube/kube.h"
#include "kube/resolve.h"
#include "kube/workload.h"
#include "wire/session.h"

struct event;
struct httpc_xfer;
struct gw_end_fetch;
struct lang_program;
struct print_group;
struct trace_print;
struct trace_impersonation;
struct trace_reauth;
struct wire_rpath;
struct wire_limits;
struct wire_left_out;

enum trace_step {
	STEP_AUTHN,
	STEP_SAR_IMPERSONATE,
	STEP_SAR_CREATE,
	STEP_SAR_POD,
	STEP_POD,
	STEP_NODE,              /* trace-target.c: a node target's Node looked up */
	STEP_SAR_WORKLOAD,
	STEP_SAR_PODS,
	STEP_WORKLOAD,
	STEP_RS_LIST,
	STEP_POD_LIST,
	STEP_STREAM,
	STEP_SAR_DETACHED,      /* trace-detached.c: may the user see others' traces */
	STEP_DETACHED,          /* trace-detached.c: runners asked, or a log streamed */
	/* entries a step file goes on to (trace_goto), never a state t->step holds */
	STEP_AUTHENTICATED,     /* trace.c: the body, the program, then authorization */
	STEP_DECIDE,            /* trace.c: the TracePolicy decision */
	STEP_ADMIT,             /* trace.c: the concurrency limits, the allow record */
	STEP__COUNT
};

struct trace_req;
struct leg;

/*
 * The request flow's step table (docs/internals/gateway.md, "The step
 * table"): trace.c, the coordinator, owns it and hands it to each request
 * (t->flow).  The files of the steps and of the services below them go on
 * through it, by step index, never by a call back into trace.c, so no two
 * files of the flow call each other.
 */
struct trace_step_ops {
	/* the API server call the step waits on, named in a 503 */
	const char *call;
	/* entering the step (a trace_goto target) */
	void (*run)(struct trace_req *t);
	/* the answer of its API server call (trace_kube_start) */
	void (*answered)(struct trace_req *t, long status, const char *body, size_t len);
	/* a SubjectAccessReview step: allowed, the flow goes on here (a
	 * denial is a 403) ... */
	void (*allowed)(struct trace_req *t);
	/* ... or the step takes the answer either way */
	void (*decided)(struct trace_req *t, bool allowed);
};

struct trace_flow {
	struct trace_step_ops steps[STEP__COUNT];
	/* the parts of a request other files own, released by trace_free */
	void (*print_free)(struct trace_req *t);
	void (*detached_free)(struct trace_req *t);
	void (*impersonation_free)(struct trace_req *t);
	/* trace-print.c replays a leg's held records and its deferred end
	 * through the fan-out's own handlers (trace-stream.c) */
	int (*leg_record)(struct leg *l, json_t *rec, size_t len);
	bool (*leg_done_finish)(struct leg *l);
	/* trace-reauth.c ends a running trace whose rights are gone
	 * (trace-stop.c) */
	void (*stop_by_gateway)(struct trace_req *t, const char *why, const char *msg);
};

struct det_op;

struct leg {
	struct trace_req *t;
	const struct gw_runner *runner;   /* of one node: the session takes that node's pods */
	size_t npods;
	struct httpc_xfer *x;
	struct ndjson_splitter split;
	struct buf relay;              /* an output record on its way to the client */
	struct buf errbody;
	long status;
	bool done;
	bool has_end;
	char *end_reason;
	uint64_t events, drops, map_drops, cpu_ns;
	uint64_t relayed;              /* output events relayed to the client (lines) */
	bool alive;                    /* its runner says it is alive when it has nothing to send */
	uint64_t heard_ns;             /* the last bytes from it, monotonic */
	uint64_t asked_ns;             /* when its session was asked for, monotonic */
	int64_t exit_code;
	bool has_exit_code;
	char *error;
	char *refusal;                 /* a runner's refusal: its Status message as sent */
	const char *fail_reason;       /* with error: runner-lost, node-failed, policy, program-error, error */
	struct gw_end_fetch *fetch;    /* the runner's kept end, once the client left */
	bool stop_sent;                /* half-closed: the runner ends gracefully */
	json_t *compiled;              /* a dry run: the node's "compiled" status */
	unsigned char dry_key[LRU_MAC_LEN]; /* a dry run: its check's key in gw->dry_cache */
	bool dry_keyed;                /* dry_key is set */
	bool dry_cached;               /* compiled came from gw->dry_cache, no runner was asked */
	struct gw_dry_flight *flight;  /* a dry run: the identical check in flight it waits on
					  (flight_owned: the one it asks its runner for) */
	bool flight_owned;
	char *joined;                  /* "NS/NAME": the one pod of a session started for a pod
					  that joined the running trace (its runner referenced) */

	/* print() maps (trace-print.c): while this leg's print waits to be
	 * merged with the other nodes' of the same tick (blocked_on), its
	 * next records wait in held ([{"r": record, "n": bytes}]), so its
	 * order is kept; its transfer's end waits behind them (done_deferred) */
	struct print_group *blocked_on;
	json_t *held;
	size_t held_bytes;
	json_t *nprints;               /* {map name: print records seen} */
	bool end_seen;                 /* its end record arrived (maybe held) */
	bool done_deferred;
	int done_result;
	char *done_err;
};

/*
 * The fan-out of one trace to the runners (trace-stream.c starts, feeds
 * and ends the legs; the stream's parts read them: trace-print.c merges
 * their prints, trace-stop.c half-closes them, trace-workload.c adds a
 * joined pod's).
 */
struct trace_fanout {
	struct leg *legs;              /* room for legs_cap: legs of joining pods are added */
	size_t nlegs, legs_cap;
	size_t legs_done;
	uint64_t stream_mono_ns;       /* when the sessions started */
	json_t *maps;                  /* map records merged across the legs */
	size_t map_bytes;
	size_t fetching;               /* legs whose kept end is being asked for */
	bool stream_started;           /* the 200 head went out (a runner answered 200) */
};

struct trace_req {
	struct gateway *gw;
	const struct trace_flow *flow;  /* the coordinator's step table (trace.c) */
	struct trace_req *prev, *next;
	struct http_conn *conn;        /* NULL once the client is gone */
	enum trace_step step;
	char audit_id[37];
	char trace_id[37];
	uint64_t received_ns;
	char *method;
	char *uri;
	char *user_agent;
	char peer[INET6_ADDRSTRLEN];
	char *token;
	char *content_type;
	char *claimed_target;          /* "target" as the body says, for the record */
	char claimed_sha[65];          /* SHA-256 of the body's "program", or "" */
	char *body;
	size_t body_len;
	struct route route;

	struct kube_user user;         /* the user the request acts as */
	bool have_user;
	bool via_front_proxy;     /* the user came from the front proxy's headers */
	/* Impersonate-User / Impersonate-Group: granted by SARs (verb
	 * impersonate) for the authenticated user, who is then real_user;
	 * what the headers asked is trace-impersonate.c's own */
	struct trace_impersonation *imp;
	struct kube_user real_user;
	bool impersonating;
	struct trace_body tb;
	struct lang_program *prog;
	char program_sha[65];
	char *canonical;               /* the form decided on (lang_program_print) */
	char canonical_sha[65];
	struct kube_pod *pods;         /* the target's pods, sorted by name */
	size_t npods;
	/* a workload's (selector's) pods on nodes without a runner, left out
	 * at the start (trace-target.c) and named: sorted by name */
	struct kube_pod *left_out;
	size_t nleft_out;
	char **nodes;                  /* the nodes they run on, sorted, NULL-terminated */
	const struct gw_runner **runners; /* each node's runner, referenced (gateway/runners.h) */
	size_t nnodes;
	/* the target resolved (kube/resolve.h, trace-target.c): a workload
	 * once read (res.have_wl, res.wl) and its pods' owners, the workload
	 * or its ReplicaSets (Jobs) (res.owners); which pods join later
	 * (kube_resolve_member) */
	struct kube_resolve res;
	struct tg_decision decision;
	bool have_decision;
	char *policy;
	json_t *denials;
	json_t *det_failed;            /* a detached start: the nodes that did not start, or NULL */
	int64_t duration;

	/* the one API server call in flight */
	struct kube_request kreq;
	struct httpc_xfer *kx;
	struct kube_resource_attrs attrs;   /* of the SAR in flight */

	/* streaming */
	struct trace_fanout fan;       /* the legs: trace-stream.c's */
	bool *pod_left;                /* [npods]: that pod left the running trace */
	char *dry_msg;                 /* a dry run: the decision, as check prints it */
	json_t **dry_hits;             /* [nnodes]: a dry run every node of which the cache
					* answers (trace_dry_all_cached), each node's check */
	uint64_t bytes;
	bool session_counted;
	bool finishing;
	bool client_left;              /* the client went away: waiting for the runners' counts */
	/* waiting for the sync of its audit record (group commit): then
	 * after(t, result, err); meanwhile only after may end the request */
	void (*after)(struct trace_req *t, int result, const char *err);
	/* the answer that waits for it (trace_answer_after) */
	json_t *answer;
	int answer_code;
	char *answer_extra;            /* for the log line */

	/* a graceful stop asked for (DELETE of the trace, trace-stop.c) */
	bool stop_requested;
	char stopped_by[37];           /* the Audit-ID of the DELETE */
	struct event *stop_timer;      /* the grace: then the legs are cut */
	struct event *alive_timer;     /* legs whose runner went silent or never answered are cut */
	/* the gateway stopped it itself (trace-reauth.c): the end reason its
	 * runners' "stop" becomes (revoked, target-gone), and the message
	 * naming why, on the end line and in the ResponseComplete record */
	const char *end_why;
	char *end_message;

	/* the SubjectAccessReviews of the start, asked again while it runs */
	struct trace_reauth *reauth;

	/* print() maps waiting for every node's of the same tick: trace-print.c's
	 * own, made by the trace's first print */
	struct trace_print *print;

	/* detached traces: create, list, get, log, delete (trace-detached.c) */
	struct det_op *det;
	uint64_t det_user_running, det_ns_running;   /* the user's, the namespace's, on the runners */
};

/*
 * Who owns what (no two of these files call each other; the arrows go
 * down, and back up only through t->flow):
 *
 *   trace.c            the coordinator: the step table, the entry, the
 *                      authentication, the decision
 *   trace-target.c     the target resolved (kube/resolve.h), its nodes
 *   trace-impersonate.c, trace-workload.c, trace-stop.c, trace-probes.c,
 *   trace-detached.c   the steps of one kind of target or request
 *   trace-stream.c     the fan-out: one leg per node, the merging, the end
 *   trace-print.c, trace-reauth.c   parts of a running stream
 *   trace-session.c    the session request of one node
 *   trace-req.c        the services every step uses: the audit record,
 *                      the answers and refusals, the API server call and
 *                      SubjectAccessReviews, the stream's records, free
 */

/* trace-req.c: the services of the flow */
/* Goes on with step (of t->flow): its run entry. */
void trace_goto(struct trace_req *t, enum trace_step step);

/* Refuses the request: one audit record (forbid), then the Status;
 * details is stolen; t is freed. */
void trace_refuse(struct trace_req *t, int code, const char *message, json_t *details);
void trace_refusef(struct trace_req *t, int code, json_t *details, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Records the stage's audit record, then answers (code, answer: stolen,
 * extra for the log line) once the record is durable; t is freed. */
void trace_answer(struct trace_req *t, const char *stage, int code, const char *message,
		  const char *decision, const char *reason, const char *end_reason, json_t *answer,
		  const char *extra);
/* Starts the API server call in t->kreq; its answer goes to the step's
 * answered entry of t->flow. */
int trace_kube_start(struct trace_req *t);

/* 503: the call for what could not be started. */
void trace_upstream_failed(struct trace_req *t, const char *what, int r);
/* A SubjectAccessReview for a (cached answers first); the answer goes to
 * the step's allowed (or decided) entry of t->flow. */
void trace_step_sar(struct trace_req *t, enum trace_step step, const struct kube_resource_attrs *a);
/* The answered entry of every SubjectAccessReview step. */
void trace_sar_answered(struct trace_req *t, long status, const char *body, size_t len);

#define TRACE_MAX_IMPERSONATE_GROUPS 64
#define TRACE_MAX_IMPERSONATE_NAME 256

/* Writes one audit record; 0 only when it is durably on disk. */
int trace_audit(struct trace_req *t, const char *stage, int code, const char *message,
		const char *decision, const char *reason, const char *end_reason, char **ret_err);
typedef void (*trace_after_fn)(struct trace_req *t, int result, const char *err);
/* The same without waiting for the disk on the loop (group commit): 0
 * when the record is written; then after(t, 0 or -errno, err) once its
 * sync has returned (after NULL: nobody waits, the answer does not depend
 * on it; a failed sync is logged).  On an error (< 0) after is never
 * called; nor when the record was only counted for a summary
 * (audit.refusals): 1, the caller goes on at once. */
int trace_audit_then(struct trace_req *t, const char *stage, int code, const char *message,
		     const char *decision, const char *reason, const char *end_reason,
		     trace_after_fn after, char **ret_err);
void trace_log(struct trace_req *t, int code, const char *extra);
/* Answers status (a Status object, not taken) and forgets the connection. */
void trace_send_status(struct trace_req *t, json_t *status);
void trace_free(struct trace_req *t);
/* The verb of the request, for its audit record and SubjectAccessReviews. */
const char *trace_verb(const struct trace_req *t);

/* One record on the client's stream (nothing once the client left). */
int trace_emit(struct trace_req *t, json_t *obj);
/* An error record; code: the runner's HTTP status when it refused the
 * session, else 0. */
void trace_emit_error(struct trace_req *t, const char *node, const char *msg, long code);
void trace_leg_fail(struct leg *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What the audit records and the stream's records say of t. */
struct trace_counts {
	uint64_t events, drops, map_drops, cpu_ns;
};
void trace_counts_sum(const struct trace_req *t, struct trace_counts *c);
json_t *trace_pods_json(const struct trace_req *t);
json_t *trace_nodes_json(const struct trace_req *t);
json_t *trace_limits_json(const struct trace_req *t);
/* The allowing policy's limits as the wire says them. */
void trace_limits(const struct trace_req *t, struct wire_limits *ret);
bool trace_all_ended(const struct trace_req *t);
bool trace_exit_code(const struct trace_req *t, int64_t *ret);
const char *trace_leg_reason(const struct leg *l);
/* A TracePolicy denial's field ("program:L:C" or "program"), and its text
 * (with the field in front when with_field), for the audit record and
 * the 403's causes; the text NULL without memory. */
void trace_denial_field(json_t *x, char *out, size_t n);
char *trace_denial_text(json_t *x, bool with_field);
/* The pods left out at the start (trace-target.c), [{"pod", "node",
 * "message"}], for the audit record and the answers; and as
 * pod-not-joined status records, once the stream has started. */
json_t *trace_left_out_json(const struct trace_req *t);
/* The pods left out, t->nleft_out of them, for the wire (wire_left_out_free). */
int trace_left_out(const struct trace_req *t, struct wire_left_out **ret);
void trace_emit_left_out(struct trace_req *t);
/* What a pod on a node without a runner is told. */
void trace_no_runner_message(const char *node, char *out, size_t n);
/* A status record of a pod: pod-joined, pod-left, pod-not-joined (with
 * message, or NULL). */
void trace_emit_pod_status(struct trace_req *t, const char *phase, const char *pod, const char *node,
			   const char *message);

/* trace.c: the coordinator */
/* Authenticated (and impersonating, if asked): the body, the program,
 * then authorization; or, for a DELETE, the stop (STEP_AUTHENTICATED). */
void trace_authenticated(struct trace_req *t);
/* The TracePolicy decision, then the admission (STEP_DECIDE). */
void trace_step_decide(struct trace_req *t);
/* The concurrency limits, the audit record, then the stream (or a
 * detached start) (STEP_ADMIT). */
void trace_step_admit(struct trace_req *t);

/* trace-impersonate.c */
/* Reads the Impersonate-* headers into t; -1 when t was refused (and freed). */
int trace_impersonation_headers(struct trace_req *t, const struct http_request *req);
/* The next impersonation SubjectAccessReview (0 the user,
 * then each group), or, all allowed, the switch to the impersonated user. */
void trace_impersonate_step(struct trace_req *t);
/* The allowed entry of STEP_SAR_IMPERSONATE: the next review. */
void trace_impersonate_allowed(struct trace_req *t);
/* An Impersonate-User header was read (trace_impersonation_headers). */
bool trace_impersonation_asked(const struct trace_req *t);
void trace_impersonation_free(struct trace_req *t);

/* trace-stop.c: DELETE of a live trace, a graceful stop */
/* After authentication: find the caller's trace, record, stop, answer. */
void trace_step_stop(struct trace_req *t);
/* The graceful stop of a live trace t: every leg half-closed (now, or
 * when it answers); by is the Audit-ID of who asked ("" the gateway). */
int trace_stop_graceful(struct trace_req *t, const char *by);
/* The gateway ends live trace t itself: gracefully, end reason why (a
 * static string: revoked, target-gone), msg on the end line and in the
 * ResponseComplete record; cut at once if the stop cannot start (t is
 * then freed). */
void trace_stop_by_gateway(struct trace_req *t, const char *why, const char *msg);

/* trace-stream.c: the fan-out to the runners, one leg per node */
/* The allow record is durable and t may start: one session per node (or
 * a detached start). */
void trace_start_stream(struct trace_req *t);
/* A dry run: true when the dry-run cache holds every node's check, which
 * t then keeps for its legs; no runner will be asked. */
bool trace_dry_all_cached(struct trace_req *t);
/* Ends a stream: merged maps, the end line, ResponseComplete; why NULL
 * when every runner ended on its own.  t is freed. */
void trace_finish(struct trace_req *t, const char *why);
/* Ends a trace that never started (the client is answered a Status):
 * its ResponseComplete with reason.  t is freed. */
void trace_finish_unstarted(struct trace_req *t, const char *reason);
/* The client connection's drain and close (trace_handle sets them). */
extern const struct http_conn_ops trace_conn_ops;
/* A session for pod (one of t->pods, "NS/NAME") that joined the running
 * workload trace, on runner (a reference, taken over), for what is left
 * of the duration.  -TG_ELIMIT: no room (maxPodsPerTrace); a session that
 * cannot be started is that leg's failure, streamed as an error. */
int trace_leg_join(struct trace_req *t, const struct gw_runner *runner, const char *pod);
/* The leg of the joined pod "NS/NAME", or NULL. */
struct leg *trace_leg_of_joined(struct trace_req *t, const char *pod);
/* The stop's grace is over: nodes still running are cut, as nodes that
 * failed (node-failed); then the trace ends.  t is freed. */
void trace_stop_grace_over(struct trace_req *t, unsigned grace_s);
/* A leg's runner has answered 200 and a stop is pending: half-close it. */
void trace_leg_answered(struct leg *l);
/* One record of a runner, in its leg's order: relayed, merged or
 * recorded (a print() map goes to trace_print_map) */
int trace_leg_record(struct leg *l, json_t *rec, size_t len);
/* The end of a leg's transfer that waited behind its held records;
 * true when that ended the trace (t is freed). */
bool trace_leg_done_finish(struct leg *l);

/* trace-session.c: the session request of one node (the program, that
 * node's pods, the limits, the owner; wire/session.h encodes it) */
int trace_session_request(struct trace_req *t, const char *node, struct session_request *ret);
/* The encoded session of one leg: a joined pod gets what is left of the
 * trace's duration; NULL when it cannot be built. */
char *trace_leg_session_text(struct trace_req *t, const struct leg *leg);
/* A dry run's leg: its key in the gateway's dry-run cache (dry-cache.h). */
int trace_leg_dry_key(struct trace_req *t, const struct leg *leg, unsigned char key[LRU_MAC_LEN]);

/* trace-detached.c: detached traces (docs/internals/contracts.md) */
/* Decided: count the user's and the namespace's detached traces running
 * on the runners (for maxConcurrentTraces), then STEP_ADMIT. */
void trace_detached_count(struct trace_req *t);
/* Every runner sent t's end, or the gateway asked its sessions to end and
 * closed their streams: its sessions no longer count, even while a runner
 * still lists them (its session winding down after its end).  Remembered
 * a minute, at most TRACE_ENDED_MAX traces (gw->sessions_ended). */
#define TRACE_ENDED_MAX 16384
void trace_detached_ended(struct trace_req *t);
/* Decided and recorded: start the sessions, answer 201 with the Trace. */
void trace_detached_start(struct trace_req *t);
/* Authenticated GET (list, one, log) or a DELETE that found no live
 * attached trace: ask the runners. */
void trace_detached_step(struct trace_req *t);
/* The SubjectAccessReview of STEP_SAR_DETACHED answered. */
void trace_detached_decided(struct trace_req *t, bool allowed);
/* The client went away / can take more / the gateway stops; t is freed
 * by the first and the last. */
void trace_detached_client_left(struct trace_req *t);
void trace_detached_drain(struct trace_req *t);
void trace_detached_free(struct trace_req *t);
/* One GET of path from node's runner (a request of its own: the client
 * leaving ends it, as a detached read's); done gets its answer (result
 * < 0: unreachable, with err).  -ENOENT: no runner for node now. */
typedef void (*trace_ask_fn)(struct trace_req *t, int result, long status, const char *body, size_t len,
			     const char *err);
int trace_detached_ask(struct trace_req *t, const char *node, const struct wire_rpath *rp, trace_ask_fn done);
/* The answer of a detached read: its ResponseComplete (allow, reason),
 * then obj (not taken) with code; t is freed. */
void trace_detached_answer(struct trace_req *t, int code, json_t *obj, const char *reason);

/* trace-probes.c: GET .../probes (kubectl trace list) */
/* The pod's node known and its runner: list, filter by policy, answer. */
void trace_probes_step(struct trace_req *t);

/* trace-reauth.c: re-authorization of a running stream */
/* Notes a SubjectAccessReview of the start (as_real: asked for the
 * authenticated user, an impersonation), to ask again while it runs. */
int trace_reauth_note(struct trace_req *t, const struct kube_resource_attrs *a, bool as_real);
/* The stream runs: every decision-cache TTL the noted reviews are asked
 * again (and a pod target looked up); a denial ends it (revoked). */
int trace_reauth_start(struct trace_req *t);
void trace_reauth_free(struct trace_req *t);

/* trace-print.c: print() maps merged across nodes per tick */
/* How long the first node's print of a tick waits for the other nodes'. */
#define TRACE_PRINT_WAIT_MS 2000
/* A leg's records held behind its waiting print, at most (then the
 * print goes out with the nodes that came). */
#define TRACE_PRINT_HOLD_BYTES (4u << 20)
/* A print() map record of leg l (stolen reference not taken). */
int trace_print_map(struct leg *l, json_t *rec, size_t len);
/* true when l waits on a print: rec (not taken) is held behind it. */
bool trace_print_hold(struct leg *l, json_t *rec, size_t len);
/* A leg ended or failed: groups it no longer blocks go out. */
void trace_print_pump(struct trace_req *t);
/* The trace ends: every waiting print goes out, every held record is
 * replayed. */
void trace_print_flush(struct trace_req *t);
void trace_print_free(struct trace_req *t);

/* trace-target.c: the target, after the SubjectAccessReviews its kind
 * needs: one call of kube/resolve.h (t->res), its requests the steps
 * STEP_POD, STEP_NODE, STEP_WORKLOAD, STEP_RS_LIST, STEP_POD_LIST, whose
 * answers go to trace_target_answered.  Then the nodes, each with a
 * runner (a pod or node target's missing one is refused, 503; a
 * workload's or a selector's pods there are left out unless "allNodes"),
 * then the decision. */
void trace_step_target(struct trace_req *t);
void trace_target_answered(struct trace_req *t, long status, const char *body, size_t len);

/* trace-workload.c: the SubjectAccessReviews of a workload target (get it)
 * and of a selector's or a workload's pods */
void trace_step_sar_workload(struct trace_req *t);
void trace_step_sar_pods(struct trace_req *t);
/* -A, decided for the first pod's namespace: the same policy must allow
 * the program in every other namespace of the pods; else the refusal
 * (403, naming the namespace) and -1. */
int trace_selector_policy_check(struct trace_req *t);

#endif
