/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The session request: the body of the runner's POST /v1/sessions, which
 * the gateway writes and the runner reads (docs/internals/contracts.md,
 * "Gateway -> runner" and "Detached traces").  This is its one definition:
 * session_request_encode() is the gateway's writer, session_request_decode()
 * the runner's reader, and decode(encode(r)) gives r back
 * (tests/unit/test-wire-session.c, tests/fuzz/fuzz-runner-session.c).
 *
 * The struct holds what is on the wire: the duration as asked (the runner
 * runs session_request_duration(), capped by limits.maxDuration), an owner
 * only when the body has an "owner" member.
 */
#ifndef TG_WIRE_SESSION_H
#define TG_WIRE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tg_tpf_rules;

/* Limits on a request body's fields (the body itself: SESSION_MAX_BODY). */
#define SESSION_MAX_BODY (1u << 20)
#define SESSION_MAX_TRACE_ID 128
#define SESSION_MAX_PARAMS 64
#define SESSION_MAX_PARAM_LEN 4096
#define SESSION_MAX_NAME 253            /* namespace and pod names (DNS subdomain) */
#define SESSION_MAX_DURATION_S (7u * 24 * 3600)
#define SESSION_MAX_PODS 256            /* a node's pods in one session (SCOPE_MAX_TARGETS) */
#define SESSION_MAX_OWNER_NS 63         /* owner and detached namespace */
#define SESSION_MAX_USER 256            /* user and group names */
#define SESSION_MAX_GROUPS 64
#define SESSION_MAX_TARGET 300          /* a detached session's target, as the client wrote it */
#define SESSION_MAX_CREATED 40          /* its creation time (RFC 3339) */
#define SESSION_MAX_AUDIT_ID 64         /* the Audit-ID of the request that created it */

struct session_pod {
	char *ns;
	char *name;
	char *uid;
	char *qos;      /* may be NULL (not sent) */
	/* -c NAME: the trace sees this container of the pod alone; both
	 * NULL (the whole pod) or both set (kube/container.h checked them) */
	char *container;        /* a DNS-1123 label */
	char *container_id;     /* "containerd://<64 hex>", "cri-o://...", "docker://..." */
};

/* "limits": the deciding policy's; 0 is "none" for each */
struct session_limits {
	uint64_t max_map_entries;
	uint64_t max_map_bytes;
	uint64_t events_per_second;
	uint64_t max_duration_s;        /* also caps "duration" */
	uint64_t max_output_bytes;
	double cpu_budget;              /* 0 .. 1024 */
};

/* "owner": whose trace it is (GET /v1/sessions, maxConcurrentTraces) */
struct session_owner {
	char *ns;       /* "" for a node-wide trace (sent without "namespace") */
	char *user;
};

/* "detached": a session nobody is attached to (runner/detached.h) */
struct session_detached {
	char *ns;
	char *user;
	char **groups;  /* ngroups names */
	size_t ngroups;
	char *target;
	char *created;
	char *audit_id; /* "auditID": the create request's; NULL: none sent
			 * (an older gateway): its end is never claimed */
	char *requester; /* "requester": who asked, when not user (impersonation) */
};

struct session_request {
	char *trace;
	char *program;
	size_t program_len;
	char *canonical;            /* the form the gateway decided on (lang_program_print) */
	char **params;              /* nparams strings */
	size_t nparams;
	uint64_t duration_s;        /* as asked; 0: none (session_request_duration) */
	struct session_pod *pods;
	size_t npods;
	/* "scope": "node" with "node": NAME and no "pods": a node-wide
	 * session, no cgroup scope check (the gateway authorized create
	 * nodetraces on NAME and a policy with node scope).  Only ever set
	 * by that explicit pair: a body with pods is pod-scoped, and one with
	 * neither or both is refused, so a pod session never degrades into
	 * a node-wide one. */
	bool node_scope;
	char *node;
	struct session_limits limits;
	/* "tracepointFields": the deciding policy's field rules, re-checked
	 * against this node's formats (policy/tpfields.h); NULL when the
	 * request has none. */
	struct tg_tpf_rules *tp_fields;
	/* "dryRun": true: `kubectl trace check`: everything up to the load
	 * (resolve the pods, parse, analyse, generate, clang, verify the
	 * object), then the end (reason "checked"); nothing is loaded. */
	bool dry_run;
	/* "outputEvents": true: each output record also says where each of
	 * its events begins and what bpftrace's JSON output calls it
	 * (`kubectl trace run -o bpftrace-json`).  A detached session's
	 * records always do (runner/session.c sess_events): its log may be
	 * read in that format later. */
	bool output_events;
	struct session_owner *owner;        /* NULL: no "owner" member */
	struct session_detached *detached;  /* NULL: an attached session */
};

/*
 * Text to struct, strict: an unknown member, a wrong type, a value past
 * its bound, and the scope rules (pods, or "scope":"node" with "node",
 * never both, never neither) are -EINVAL with *ret_err naming the field;
 * a body over SESSION_MAX_BODY is -E2BIG.  On failure *ret is untouched.
 */
int session_request_decode(const char *body, size_t len, struct session_request *ret, char **ret_err);
/* Struct to text (compact JSON, NUL-terminated; caller frees): *ret_text
 * and 0, or -ENOMEM. */
int session_request_encode(const struct session_request *req, char **ret_text);
void session_request_release(struct session_request *req);
/* Field by field (the round-trip tests' equality). */
bool session_request_equal(const struct session_request *a, const struct session_request *b);

/* The duration the session runs: "duration", capped by limits.maxDuration
 * (which also bounds an open one); 0: none. */
uint64_t session_request_duration(const struct session_request *req);
/* "team-a/web-a,team-b/web-b" (or "node/NAME") for logs (caller frees). */
char *session_request_pods(const struct session_request *req);

#endif
