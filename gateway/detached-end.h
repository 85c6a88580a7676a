/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The end records of detached sessions (docs/audit.md, "Detached
 * traces' ends").  A detached trace ends on its runners, long after the
 * request that started it was answered: by its duration, exit(), a
 * DELETE, a runner's own failure.  Each node's runner keeps the create's
 * Audit-ID with the session and its end; the first gateway to claim that
 * end (POST /v1/detached/ID/claim?by=NAME, the runner answers every other
 * claim 409) writes one ResponseComplete record for it, marked
 * tracegate.detachedEnd.  So each node's end is written once, whichever
 * way it is found:
 *
 *   poll      every audit.detachedEndPollSeconds (config.h), GET
 *             /v1/detached?unclaimed=1 of every runner
 *   delete    a DELETE of the trace, once every node stopped it
 *   log       a log read that saw the node's end
 *   restart   at start, the detached starts of the audit log that lack a
 *             node's end, claimed again (again=1: this gateway may claim
 *             what it claimed before it was killed, before it wrote it)
 *
 * A runner that answers 404 to the claim of a session whose start this
 * gateway wrote lost it (restarted, or forgot it): that node's end is
 * then recorded as "runner-lost", once (detached-lost.h); the poll also
 * lists the sessions of a runner that has such starts, and claims those
 * it no longer lists.
 *
 * A gateway's name as a claimer (gw_detend_claimer) is its host name and
 * a hash of its audit log's path: a gateway restarted on the same log may
 * claim again, another one may not.
 */
#ifndef TG_GATEWAY_DETACHED_END_H
#define TG_GATEWAY_DETACHED_END_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct gateway;
struct gw_runner;

#define GW_DETEND_MAX_CALLS 1024   /* claims and polls under way at once */
#define GW_DETEND_MAX_UNWRITTEN 4096 /* claimed ends kept for the audit log while it cannot be written */
#define GW_DETEND_SEEN_NS (20 * 60 * 1000000000ull) /* a claim remembered (> the runner's DET_KEEP_S) */
#define GW_DETEND_MAX_SEEN 16384   /* claims remembered at once (> GW_DETEND_MAX_CALLS) */

/*
 * The ends this gateway claimed or is claiming, by "node/trace": it claims
 * each once (a poll and a DELETE of one trace at once, a restart's again=1
 * claim beside a poll, would both be granted).  A granted claim is kept
 * GW_DETEND_SEEN_NS, and at most max at once: beyond that the oldest
 * granted claim is forgotten, which loses nothing (its runner answers any
 * later claim of it 409, but a restart's again=1 one, and this gateway's
 * restarts claim before it polls).  A claim under way is never forgotten;
 * with max of them under way, a new one waits for the next poll (its
 * runner keeps the end unclaimed).
 */
struct gw_claimed {
	json_t *keys;                /* key -> null (under way), or monotonic ns it was granted */
	size_t max;                  /* 0: GW_DETEND_MAX_SEEN */
	uint64_t pruned_ns;
	uint64_t forgotten;          /* granted claims forgotten at the bound, since the start */
};

/* 0 or -ENOMEM. */
int gw_claimed_init(struct gw_claimed *cl, size_t max);
void gw_claimed_release(struct gw_claimed *cl);
/* The claim of key begins at now: 1; 0 when this gateway claims or
 * claimed it already; -ENOSPC when max claims are under way; -ENOMEM. */
int gw_claimed_begin(struct gw_claimed *cl, const char *key, uint64_t now);
/* The claim of key returned: granted, remembered from now on; refused
 * (or failed), forgotten at once, so the next poll may claim it again. */
void gw_claimed_end(struct gw_claimed *cl, const char *key, bool granted, uint64_t now);
static inline size_t gw_claimed_count(const struct gw_claimed *cl)
{
	return json_object_size(cl->keys);
}

/* Starts the poll and claims again, with again=1, each node of open
 * ([{"auditID","trace","nodes":[...]}], gw_recover_scan_all's; may be
 * NULL), each with "tpl" (gw_detlost_tpl_create) when its ends can be
 * recorded as lost.  Once only; 0 or -ENOMEM. */
int gw_detend_start(struct gateway *gw, json_t *open, char **ret_err);
void gw_detend_stop(struct gateway *gw);

/* Claims the end of trace's session on node and writes its record (why:
 * "delete", "log"); nothing when this gateway claimed it already or the
 * runner refuses the claim (the log says why). */
void gw_detend_claim(struct gateway *gw, const char *node, const char *trace, const char *why);

/* A detached start written to this gateway's audit log: sessions, its
 * nodes' answers ([session...]), each kept until its end is claimed; one
 * its runner loses is recorded as "runner-lost" (detached-lost.h). */
void gw_detend_started(struct gateway *gw, json_t *sessions);

/* What a claim's answer means: result (httpc's: < 0 when the exchange
 * failed), the status, and whether a 200's body parsed as a session.
 * UNSURE: the runner may have granted the claim, its answer is lost; the
 * next poll claims again=1. */
enum gw_claim_answer { GW_CLAIM_GRANTED, GW_CLAIM_LOST, GW_CLAIM_REFUSED, GW_CLAIM_UNSURE };
enum gw_claim_answer gw_detend_answer(int result, long status, bool parsed);

/* The claimer name this gateway sends: 0, or -ENOMEM. */
int gw_detend_claimer(const char *audit_path, char *out, size_t size);

/*
 * The record of one node's end, from the runner's session (a JSON object
 * as wire/detached.h describes it, with "auditID" and "end"): stage
 * ResponseComplete, the create's auditID, user, objectRef and decision,
 * tracegate.detachedEnd true, the node's endReason, counts and exit code,
 * claimedBy (why) and afterRestart for "restart".  NULL for a session
 * without auditID or end, or without memory.
 */
json_t *gw_detend_record(json_t *session, const char *why, uint64_t now_real_ns);

#endif
