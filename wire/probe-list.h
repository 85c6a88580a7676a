/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ProbeList, gateway -> plugin (docs/internals/contracts.md, "Probe
 * listing"): the answer to GET .../namespaces/NS/probes, the probes the
 * caller's TracePolicy allows on a pod's node:
 *   {"kind":"ProbeList","apiVersion":"tracegate.dev/v1alpha1",
 *    "metadata":{"namespace":NS},"target":"pod/NAME","node":N,
 *    "pattern":GLOB,"verbose":B,
 *    "items":[{"name":"tracepoint:sched:sched_switch"[,"fields":["char prev_comm[16]",...]]}],
 *    "truncated":B}
 * "fields" in each item when verbose, never otherwise.  The gateway
 * writes it with wire_probe_list_to_json(), the plugin reads it with
 * wire_probe_list_from_gateway(): members it does not know are skipped
 * (wire/fields.h, "Version skew"), the others checked (names and fields
 * as wire/probes.h takes them from the runner), a wrong one refused,
 * named.  tests/unit/test-wire-probe-list.c and
 * tests/fuzz/fuzz-wire-probe-list.c round-trip it.
 */
#ifndef TG_WIRE_PROBE_LIST_H
#define TG_WIRE_PROBE_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define WIRE_PROBE_LIST_MAX_ITEMS 8192      /* probe names in one answer; more: truncated */
#define WIRE_PROBE_LIST_MAX_FIELDS 65536    /* field lines in one answer (all items) */
#define WIRE_PROBE_LIST_MAX_PATTERN 256
#define WIRE_PROBE_LIST_MAX_TARGET (4 + 253) /* "pod/" and a pod's name */
#define WIRE_PROBE_LIST_MAX_NAME 253        /* node and namespace names */

struct wire_probe_item {
	char *name;
	char **fields;          /* verbose: its declarations, nfields of them */
	size_t nfields;
};

struct wire_probe_list {
	char *namespace;        /* NULL: none (each string below too) */
	char *target;           /* "pod/NAME" */
	char *node;
	char *pattern;          /* "" when none was given */
	bool verbose;
	struct wire_probe_item *items;
	size_t nitems;
	size_t nfields;         /* field lines in all items (kept by the functions here) */
	bool truncated;         /* the gateway's limits cut it */
};

/* The plugin's reader: 0, or -EINVAL with *ret_err naming the member
 * (*ret untouched), or -ENOMEM. */
int wire_probe_list_from_gateway(json_t *o, struct wire_probe_list *ret, char **ret_err);
/* 0, -ENOMEM, -EINVAL for a list the reader would refuse. */
int wire_probe_list_to_json(const struct wire_probe_list *l, json_t **ret);
/* Appends an item (its name copied, no fields yet) or a field of the last
 * item: 0, -ENOMEM, -EINVAL for text the reader would refuse, -E2BIG past
 * WIRE_PROBE_LIST_MAX_ITEMS / _FIELDS (nothing added: the caller marks
 * the list truncated). */
int wire_probe_list_add_item(struct wire_probe_list *l, const char *name, size_t len);
int wire_probe_list_add_field(struct wire_probe_list *l, const char *decl, size_t len);
void wire_probe_list_release(struct wire_probe_list *l);
bool wire_probe_list_equal(const struct wire_probe_list *a, const struct wire_probe_list *b);

#endif
