/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The detached sessions whose runner lost them (docs/audit.md, "Detached
 * traces' ends").  The gateway that wrote a detached trace's start keeps,
 * per node, what its end record needs until that end is claimed; when the
 * node's runner answers a claim of it 404 (restarted, or it forgot an end
 * nobody claimed), this gateway writes that node's end itself: endReason
 * "runner-lost", countsMissing, no counts.
 *
 * Each kept start is a template: {"auditID","trace","node","ns","target",
 * "user","groups","requester","duration","pods"} ("requester", "pods"
 * optional).  At most GW_DETLOST_MAX are kept; beyond, a start is not
 * kept (logged), and its end, if its runner loses it, waits for this
 * gateway's next start, which rebuilds the set from its audit log.
 */
#ifndef TG_GATEWAY_DETACHED_LOST_H
#define TG_GATEWAY_DETACHED_LOST_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#define GW_DETLOST_MAX 4096     /* nodes' starts kept whose end is not recorded yet */

struct gw_detlost;

struct gw_detlost *gw_detlost_new(void);
struct gw_detlost *gw_detlost_free(struct gw_detlost *dl);

/* The template of one node's session from its runner's answer to the
 * start (wire/detached.h); NULL when it lacks a member or memory. */
json_t *gw_detlost_tpl_session(json_t *session);
/* The template of a detached start's 201 record (without "node", which
 * gw_detlost_add takes); NULL when the record is not one. */
json_t *gw_detlost_tpl_create(json_t *rec);

/* Keeps tpl (borrowed) for node: 0, -E2BIG beyond GW_DETLOST_MAX, -ENOMEM,
 * -EINVAL for a template without "trace". */
int gw_detlost_add(struct gw_detlost *dl, json_t *tpl, const char *node);
/* node's end of trace is claimed (by anyone): nothing more to do */
void gw_detlost_forget(struct gw_detlost *dl, const char *node, const char *trace);
/* Whether any start is kept for node. */
bool gw_detlost_has_node(const struct gw_detlost *dl, const char *node);
/* The traces kept for node that listed ({trace: ...}, its runner's list of
 * sessions) lacks: a new array, NULL without memory. */
json_t *gw_detlost_absent(const struct gw_detlost *dl, const char *node, json_t *listed);
/* node's runner does not know trace: the end record of the kept start
 * (claimedBy why), which is no longer kept; NULL when none is kept. */
json_t *gw_detlost_take(struct gw_detlost *dl, const char *node, const char *trace, const char *why,
			uint64_t now_real_ns);

#endif
