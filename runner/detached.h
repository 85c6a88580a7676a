/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detached sessions of `tracegate-runner serve` (docs/internals/contracts.md,
 * "Detached traces"): a session whose POST /v1/sessions body carries a
 * "detached" member runs with nobody attached.  Its child writes its NDJSON
 * stream to a socket pair instead of the gateway's connection; the parent
 * answers the POST with 201 once the child has compiled (or relays its
 * refusal), and keeps the session's description and its last records, a
 * ring of at most DET_RING_BYTES, for
 *
 *   GET    /v1/detached[?namespace=NS]        every detached session here
 *   GET    /v1/detached/ID                    one
 *   GET    /v1/detached/ID/log[?follow=1]     its records (then new ones)
 *   DELETE /v1/detached/ID                    stop it (END runs), answered
 *                                             once its process is gone
 *   POST   /v1/detached/ID/claim?by=NAME      its end, once, for a gateway's
 *                                             audit log (409 to any other claim)
 *   GET    /v1/detached?unclaimed=1           the ends nobody claimed yet
 *
 * so any gateway replica, or a restarted one, finds what runs here.  A
 * session that ended is kept DET_KEEP_S (a deleted one only until its end
 * is claimed, seen by nothing but the claim).
 */
#ifndef TG_RUNNER_DETACHED_H
#define TG_RUNNER_DETACHED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bufferevent;
struct wire_rpath;
struct event_base;
struct det_table;
struct det_meta;
struct session_request;

#define DET_RING_BYTES (1u << 20)        /* a session's kept records, at most */
#define DET_MAX_LINE (1u << 20)          /* one record from a session's child */
#define DET_KEEP_S 600                   /* an ended session is kept this long */
#define DET_MAX_SESSIONS 1024            /* ended ones kept, at most (oldest go) */
#define DET_KEEP_BYTES (64u << 20)       /* and their records together, at most */
#define DET_MAX_UNCLAIMED 4096           /* beyond those, unclaimed ends kept without their records */
#define DET_MAX_CLAIMED_GONE 4096        /* freed sessions whose claimer is remembered (DET_KEEP_S) */
#define DET_TOMB_ANSWER_BYTES (8u << 20) /* and their claims' answers kept, together at most */
#define DET_FOLLOW_BACKLOG (8u << 20)    /* a follower this far behind is dropped */
#define DET_MAX_FOLLOWERS 64             /* log followers of one session (429 beyond) */

int det_table_new(struct event_base *base, const char *node, struct det_table **ret);
struct det_table *det_table_free(struct det_table *t);
/* In a forked session child: closes every descriptor the table holds. */
void det_table_close_fds(struct det_table *t);

/* What is kept and listed of a request's "detached" member (wire/session.h
 * checked it): 0 when it has none, 1 with *ret, or -ENOMEM. */
int det_meta_new(const struct session_request *req, struct det_meta **ret);
struct det_meta *det_meta_free(struct det_meta *m);

/* A detached session's child was forked: the table takes m, fd (the
 * parent's end of the child's stream) and answer (the gateway's
 * connection, answered when the child answers). */
int det_session_add(struct det_table *t, struct det_meta *m, const char *trace, pid_t pid, int fd,
		    struct bufferevent *answer);
/* Its process was reaped (wstatus as waitpid's). */
void det_session_reaped(struct det_table *t, pid_t pid, int wstatus);

/* A request under /v1/detached (rp: WIRE_RPATH_DETACHED_LIST, _DETACHED,
 * _DETACHED_LOG, _DETACHED_UNCLAIMED or _DETACHED_CLAIM, routed by
 * wire_rpath_decode): the table takes bev, answers and frees it. */
void det_request(struct det_table *t, const char *method, const struct wire_rpath *rp, struct bufferevent *bev);

#endif
