/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Trace and TraceList, gateway -> plugin (docs/internals/contracts.md,
 * "Detached traces"): the answer to a detached run (201), to GET
 * .../traces/NAME and to GET .../traces:
 *   {"apiVersion":"tracegate.dev/v1alpha1","kind":"Trace",
 *    "metadata":{"name":ID,"namespace":NS,"creationTimestamp":T,
 *                "annotations":{"tracegate.dev/user":U}},
 *    "spec":{"target":TGT,"program":P,"duration":S,"user":U},
 *    "status":{"phase":PH,"nodes":[...],"pods":[...],"nodeStates":{NODE:STATE},
 *              "events":N,"drops":N,"outputs":N,"bufferDropped":N
 *              [,"endReason":R][,"failedNodes":[...]][,"message":M]
 *              [,"podsLeftOut":[{"pod","node","message"}]]}}
 *   {"apiVersion":"tracegate.dev/v1alpha1","kind":"TraceList","metadata":{},"items":[Trace...]}
 * A dry run's answer (?dryRun=All, `kubectl trace check`) is a Trace of
 * phase "Checked" with the decision at the top, as check prints it:
 *   {"apiVersion":..,"kind":"Trace","metadata":{"name":ID,"namespace":NS},
 *    "spec":{"target":TGT,"duration":S},
 *    "status":{"phase":"Checked","pods":[...],"nodes":[...],"policy":P},
 *    "message":M,"policy":P,"pods":[...],"nodes":[...],
 *    "limits":{"maxDuration":S,"maxMapEntries":N,"maxMapBytes":N,
 *              "eventsPerSecond":N,"maxConcurrentTraces":{"perUser":N,
 *              "perNamespace":N},"cpuBudget":F,"maxOutputBytes":N},
 *    "compiled":[{"node":N,"probes":N|null,"object":DIGEST|null,"fromCache":B}]
 *    [,"podsLeftOut":[{"pod","node","message"}]]}
 * written by wire_checked_to_json() and read by wire_checked_from_gateway()
 * (the limits object also goes into audit records: wire_limits_to_json()).
 * The gateway fills a struct wire_trace from its runners' sessions and
 * writes it with wire_trace_to_json() / wire_trace_list_to_json(); the
 * plugin reads them with the *_from_gateway() readers: members they do
 * not know are skipped (wire/fields.h, "Version skew"), the others
 * checked (types, bounds), a wrong one refused, named.
 * tests/unit/test-wire-traces.c and tests/fuzz/fuzz-wire-traces.c
 * round-trip them.
 */
#ifndef TG_WIRE_TRACES_H
#define TG_WIRE_TRACES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "kube/selector.h"

#define WIRE_TRACES_MAX_ITEMS 65536      /* traces in one list */
#define WIRE_TRACES_MAX_NODES 4096       /* a trace's nodes (as wire/stream.h) */
#define WIRE_TRACES_MAX_PODS 65536
#define WIRE_TRACES_MAX_ID 128           /* trace ids */
#define WIRE_TRACES_MAX_NAME 253         /* namespace and node names */
#define WIRE_TRACES_MAX_POD (63 + 1 + 253)
#define WIRE_TRACES_MAX_USER 256
/* as the client wrote it: "pod/NAME", or "-l SELECTOR -A" (a selector of
 * up to KUBE_SELECTOR_MAX_BYTES) */
#define WIRE_TRACES_MAX_TARGET (8 + KUBE_SELECTOR_MAX_BYTES)
#define WIRE_TRACES_MAX_TIME 40          /* RFC 3339 */
#define WIRE_TRACES_MAX_WORD 32          /* phases, states, end reasons */
#define WIRE_TRACES_MAX_PROGRAM (1u << 20)
#define WIRE_TRACES_MAX_MESSAGE (64u * 1024)

struct wire_node_state {
	char *node;
	char *state;            /* the runner's session state: "Running", "Failed", ... */
};

struct wire_left_out {
	char *pod;              /* "namespace/name" */
	char *node;
	char *message;          /* NULL: none */
};

struct wire_trace {
	char *name;             /* the trace's id; never NULL once decoded */
	char *namespace;        /* NULL: not sent (each string below too) */
	char *created;
	char *user;             /* metadata.annotations."tracegate.dev/user" and spec.user */
	char *target;
	char *program;
	uint64_t duration;      /* seconds */
	char *phase;            /* "Pending", "Running", "Succeeded", "Failed" */
	char **nodes;
	size_t nnodes;
	char **pods;
	size_t npods;
	struct wire_node_state *states;
	size_t nstates;
	uint64_t events, drops, outputs, buffer_dropped;
	char *end_reason;
	char **failed_nodes;    /* none: not sent */
	size_t nfailed_nodes;
	char *message;          /* why some nodes did not start it */
	struct wire_left_out *left_out;   /* none: not sent */
	size_t nleft_out;
};

/* A policy's limits as they are enforced (docs/policy.md spec.limits). */
struct wire_limits {
	uint64_t max_duration;            /* seconds */
	uint64_t max_map_entries, max_map_bytes, events_per_second;
	uint64_t max_traces_per_user, max_traces_per_namespace;
	double cpu_budget;                /* fraction of one CPU */
	uint64_t max_output_bytes;
};

/* What one node's runner did with a checked program. */
struct wire_checked_node {
	char *node;
	bool has_probes;
	uint64_t probes;        /* attach points it would attach */
	char *object;           /* the object's digest; NULL: none said */
	bool from_cache;        /* the gateway's dry-run cache answered for it */
};

/* A dry run's answer. */
struct wire_checked {
	char *name;             /* the request's trace id */
	char *namespace;
	char *target;
	uint64_t duration;
	char *message;          /* the decision, as check prints it */
	char *policy;           /* the policy that allowed it */
	char **pods;            /* "namespace/name" */
	size_t npods;
	char **nodes;
	size_t nnodes;
	struct wire_limits limits;
	struct wire_checked_node *compiled;
	size_t ncompiled;
	struct wire_left_out *left_out;   /* none: not sent */
	size_t nleft_out;
};

struct wire_trace_list {
	struct wire_trace *items;
	size_t nitems;
	char *incomplete;            /* NULL, or the runners the gateway could not ask, and why:
				      * their traces are not in items (the client exits 5) */
};

/* The plugin's readers: 0, or -EINVAL with *ret_err naming the member
 * (*ret untouched), or -ENOMEM. */
int wire_trace_from_gateway(json_t *o, struct wire_trace *ret, char **ret_err);
int wire_trace_list_from_gateway(json_t *o, struct wire_trace_list *ret, char **ret_err);
/* 0, -ENOMEM, -EINVAL for a trace the reader would refuse (no name, a
 * bound passed, a node twice in states). */
int wire_trace_to_json(const struct wire_trace *t, json_t **ret);
int wire_trace_list_to_json(const struct wire_trace_list *l, json_t **ret);
void wire_trace_release(struct wire_trace *t);
void wire_trace_list_release(struct wire_trace_list *l);
bool wire_trace_equal(const struct wire_trace *a, const struct wire_trace *b);
bool wire_trace_list_equal(const struct wire_trace_list *a, const struct wire_trace_list *b);

/* The gateway's: 0, -ENOMEM, -EINVAL for what the reader would refuse. */
int wire_checked_to_json(const struct wire_checked *c, json_t **ret);
/* The plugin's (unknown members skipped): 0, -EINVAL naming the member, -ENOMEM. */
int wire_checked_from_gateway(json_t *o, struct wire_checked *ret, char **ret_err);
void wire_checked_release(struct wire_checked *c);
bool wire_checked_equal(const struct wire_checked *a, const struct wire_checked *b);
/* The limits object (NULL without memory), and pods left out as an array
 * (NULL without memory or for a pod the reader would refuse), for the
 * gateway's audit records as for the answers above. */
json_t *wire_limits_to_json(const struct wire_limits *l);
json_t *wire_left_out_to_json(const struct wire_left_out *p, size_t n);
/* Frees n pods left out and their array. */
void wire_left_out_free(struct wire_left_out *p, size_t n);

#endif
