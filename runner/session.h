/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One trace session of `tracegate-runner serve`: the request body of
 * POST /v1/sessions (docs/internals/contracts.md, "Gateway -> runner"),
 * its pods resolved to cgroups, and the child process's work: run the
 * engine and stream NDJSON over the TLS connection until the program
 * ends, the duration passes, or the gateway hangs up.
 */
#ifndef TG_RUNNER_SESSION_H
#define TG_RUNNER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include "runner/engine.h"
#include "runner/scope.h"

/* Limits on a request body's fields (the body itself: SESSION_MAX_BODY). */
#define SESSION_MAX_BODY (1u << 20)
#define SESSION_MAX_TRACE_ID 128
#define SESSION_MAX_PARAMS 64
#define SESSION_MAX_PARAM_LEN 4096
#define SESSION_MAX_NAME 253            /* namespace and pod names (DNS subdomain) */
#define SESSION_MAX_DURATION_S (7u * 24 * 3600)

struct session_pod {
	char *ns;
	char *name;
	char *uid;
	char *qos;      /* may be NULL */
	/* -c NAME: the trace sees this container of the pod alone; both
	 * NULL (the whole pod) or both set, the ID checked by scope.c */
	char *container;        /* a DNS-1123 label */
	char *container_id;     /* "containerd://<64 hex>", "cri-o://...", "docker://..." */
};

struct session_request {
	char *trace;
	char *program;
	size_t program_len;
	char *canonical;            /* the form the gateway decided on (tg_program_print) */
	char **params;              /* nparams strings */
	size_t nparams;
	uint64_t duration_s;        /* after the maxDuration cap; 0: none */
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
	struct engine_limits limits;
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
	 * (`kubectl trace run -o bpftrace-json`; docs/internals/contracts.md,
	 * "Output records"). */
	bool output_events;
};

/* Parses and bounds-checks a body; -EINVAL with a message naming the field. */
int session_request_parse(const char *body, size_t len, struct session_request *req, char **ret_err);
void session_request_release(struct session_request *req);
/* "team-a/web-a,team-b/web-b" for logs (caller frees). */
char *session_request_pods(const struct session_request *req);

struct session_config {
	const char *node;
	const char *cgroup2_mnt;
	const char *cgroup_root;
	const char *cache_dir;
	unsigned write_timeout_s;   /* a gateway that stops reading this long ends the session */
	/* > 0: the session child writes one byte here (and closes it) once
	 * everything is attached, before the sandbox; the parent's watchdog
	 * counts the duration from then (runner/cmd-serve.c) */
	int attached_fd;
};

/* Every pod to its cgroup: -TG_ENOSCOPE naming the first one missing. */
int session_resolve(const struct session_request *req, const struct session_config *cfg,
		    struct scope *scope, char **ret_err);

/*
 * The child's work on an accepted connection (ssl on blocking socket fd;
 * ssl NULL: a detached session writing to the parent's socket pair fd):
 * resolves the pods (404 Status when one is missing, nothing loaded),
 * runs the engine, streams NDJSON, logs one line. Returns the exit status
 * for the child process.
 */
int session_run(SSL *ssl, int fd, const struct session_config *cfg, struct session_request *req);
/* In the child, before session_run: where its end record goes as well as
 * to the gateway (one line, no newline, one write) for the parent to keep. */
void session_set_end_fd(int fd);

/* A Status object as one HTTP response (head and body), for the parent
 * and the child alike (caller frees). */
char *session_status_response(int code, const char *message);

#endif
