/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The trace request, the body of POST .../traces, plugin -> gateway
 * (docs/internals/contracts.md):
 *   {"target":"pod/web-a","program":"...","params":["x"],"duration":10}
 * target: "pod/NAME", "NAME" (a pod), "deployment/NAME", "replicaset/NAME"
 * (and kubectl's spellings deployments, deploy, replicasets, rs), or
 * "node/NAME" (nodes/, no/: a node-wide trace, POSTed to .../nodetraces);
 * "container": "NAME" scopes the trace to that container of each pod.
 * trace_body_encode() is the plugin's writer, trace_body_decode() the
 * gateway's strict reader (named limits; errors name the field, and the
 * gateway answers them as they are), and decode(encode(b)) gives b back
 * (tests/unit/test-wire-trace-body.c, tests/fuzz/fuzz-wire-trace-body.c).
 */
#ifndef TG_WIRE_TRACE_BODY_H
#define TG_WIRE_TRACE_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "kube/selector.h"
#include "kube/workload.h"

#define TRACE_MAX_PARAMS       64
#define TRACE_MAX_PARAM_BYTES  4096
#define TRACE_MAX_DURATION_S   (7 * 86400)

struct trace_body {
	char *target;         /* as written */
	enum kube_workload_kind kind;   /* 0: a pod, or the node when node */
	bool node;            /* "node/NAME" (or nodes/, no/): the whole node NAME */
	char *name;           /* the pod's or the workload's name */
	char *program;
	size_t program_len;
	json_t *params;       /* array of strings, or NULL */
	bool has_duration;
	int64_t duration;     /* seconds */
	bool detach;          /* "detach": true: runs with nobody attached (201, a Trace) */
	bool output_events;   /* "output": "bpftrace-json": output records say where
				 each event begins and its kind (the runners'
				 "outputEvents"); other strings: nothing */
	char *container;      /* "container": one container of each pod (-c), a DNS-1123 label; NULL: the whole pod */
	/* "selector" instead of "target" (kubectl trace run -l): every Running
	 * pod whose labels it matches, of the request's namespace or, with
	 * "allNamespaces": true, of every namespace; target is then
	 * "-l SELECTOR[ -A]", name NULL, kind 0 */
	struct kube_selector *selector;
	bool all_namespaces;
	/* "allNodes": true: a workload's or selector's pods on a node
	 * without a runner refuse the whole trace (503) instead of being
	 * left out of it (trace-workload.c) */
	bool all_nodes;
};

/* 0, or -EINVAL with *ret_field (the JSON key, or "" for the whole body)
 * and *ret_err (a message naming it); caller frees both.  On failure *ret
 * is untouched. */
int trace_body_decode(const char *body, size_t len, struct trace_body *ret, char **ret_field,
		      char **ret_err);
/*
 * Struct to compact JSON text (NUL-terminated; caller frees).  Reads
 * target (or selector and all_namespaces), program and program_len,
 * params (NULL: none; "params" is always written), has_duration and
 * duration, detach, output_events, container, all_nodes; kind, node and
 * name are the decoder's reading of target, and target is not written when
 * there is a selector.  0, -ENOMEM, or -EINVAL for a struct with no
 * program or with neither target nor selector.  What only the gateway
 * judges (an empty program, a target's kind and name) is written as it
 * is, so the user gets the gateway's 400 naming the field, as always.
 */
int trace_body_encode(const struct trace_body *b, char **ret_text);
void trace_body_release(struct trace_body *b);
/* Same request (params NULL and [] alike). */
bool trace_body_equal(const struct trace_body *a, const struct trace_body *b);

#endif
