/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's own status records on the client's stream, gateway ->
 * plugin (docs/internals/contracts.md):
 *   {"type":"status","phase":"accepted","trace":ID,"pods":["ns/name",...],"nodes":[...]}
 * first, and a workload's or selector's pods as they come and go:
 *   {"type":"status","phase":"pod-joined"|"pod-left"|"pod-not-joined",
 *    "trace":ID,"pod":"ns/name","node":N[,"message":M]}
 * The gateway writes them with wire_accepted_to_json() and
 * wire_pod_change_to_json(); the plugin reads them with *_from_json(),
 * strict on every member it knows (type, bounds: refused, named), so what
 * it prints and keeps (the trace's id for the stop, the nodes of its
 * progress line) is bounded, and blind to members it does not know (a
 * newer gateway's: wire/fields.h, "Version skew").  The stream's other records have their own
 * owners (wire/record.h, wire/end.h, output/output.h).
 * tests/unit/test-wire-stream.c and tests/fuzz/fuzz-wire-stream.c
 * round-trip them.
 */
#ifndef TG_WIRE_STREAM_H
#define TG_WIRE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define WIRE_STREAM_MAX_TRACE 128            /* trace ids (as wire/end.h) */
#define WIRE_STREAM_MAX_NAME 253             /* node names (DNS subdomain) */
#define WIRE_STREAM_MAX_POD (63 + 1 + 253)   /* namespace/name */
#define WIRE_STREAM_MAX_PODS 65536
#define WIRE_STREAM_MAX_NODES 4096
#define WIRE_STREAM_MAX_MESSAGE (64u * 1024)

struct wire_accepted {
	char *trace;
	char **pods;            /* "namespace/name"; none for a node-wide trace */
	size_t npods;
	char **nodes;
	size_t nnodes;
};

struct wire_pod_change {
	char *phase;            /* "pod-joined", "pod-left", "pod-not-joined" */
	char *trace;
	char *pod;              /* "namespace/name" */
	char *node;             /* NULL: none */
	char *message;          /* NULL: none */
};

/* Whether phase is one of a wire_pod_change's. */
bool wire_pod_change_phase(const char *phase);

/* -EINVAL naming the member, *ret untouched on failure; unknown members skipped. */
int wire_accepted_from_json(json_t *rec, struct wire_accepted *ret, char **ret_err);
int wire_pod_change_from_json(json_t *rec, struct wire_pod_change *ret, char **ret_err);
/* 0, -ENOMEM, -EINVAL for a struct the decoder would refuse. */
int wire_accepted_to_json(const struct wire_accepted *a, json_t **ret);
int wire_pod_change_to_json(const struct wire_pod_change *c, json_t **ret);
void wire_accepted_release(struct wire_accepted *a);
void wire_pod_change_release(struct wire_pod_change *c);
bool wire_accepted_equal(const struct wire_accepted *a, const struct wire_accepted *b);
bool wire_pod_change_equal(const struct wire_pod_change *a, const struct wire_pod_change *b);

#endif
