/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request targets of a runner's API (docs/internals/contracts.md,
 * "Gateway -> runner"): the paths and queries the gateway asks and the
 * runner routes.
 *   /healthz
 *   /v1/sessions                    POST a session, GET the listing
 *   /v1/sessions/ID/end             GET a finished session's end
 *   /v1/probes[?pattern=GLOB][&verbose=1]
 *   /v1/detached[?namespace=NS]     GET the detached sessions
 *   /v1/detached?unclaimed=1        GET the ended ones whose end no gateway claimed
 *   /v1/detached/ID                 GET, DELETE one
 *   /v1/detached/ID/log[?follow=1]  GET its log
 *   /v1/detached/ID/claim?by=NAME[&again=1]  POST: claim its end
 * wire_rpath_encode() is the gateway's writer, wire_rpath_decode() the
 * runner's router (the method is the runner's to check).
 * tests/unit/test-wire-runner-path.c and tests/fuzz/fuzz-wire-runner-path.c
 * round-trip them.
 */
#ifndef TG_WIRE_RUNNER_PATH_H
#define TG_WIRE_RUNNER_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define WIRE_RPATH_MAX_ID 128        /* trace ids: SESSION_MAX_TRACE_ID */
#define WIRE_RPATH_MAX_NS 63         /* a namespace: a DNS label */
#define WIRE_RPATH_MAX_TARGET 511    /* the runner's bound on a request target */
#define WIRE_RPATH_MAX_CLAIMER 128   /* a claimer's name: WIRE_DET_MAX_CLAIMER */

enum wire_rpath_kind {
	WIRE_RPATH_HEALTHZ,
	WIRE_RPATH_SESSIONS,
	WIRE_RPATH_SESSION_END,
	WIRE_RPATH_PROBES,
	WIRE_RPATH_DETACHED_LIST,
	WIRE_RPATH_DETACHED,
	WIRE_RPATH_DETACHED_LOG,
	WIRE_RPATH_DETACHED_UNCLAIMED,
	WIRE_RPATH_DETACHED_CLAIM,
};

struct wire_rpath {
	enum wire_rpath_kind kind;
	char id[WIRE_RPATH_MAX_ID + 1];      /* SESSION_END, DETACHED, DETACHED_LOG, DETACHED_CLAIM:
					      * letters, digits, - _ . */
	char ns[WIRE_RPATH_MAX_NS + 1];      /* DETACHED_LIST: "" for every namespace */
	char pattern[WIRE_RPATH_MAX_TARGET + 1]; /* PROBES: as sent ("" none); the runner checks it
					      * (probe_pattern_valid), the gateway sends only valid ones */
	bool has_pattern;
	bool verbose;                        /* PROBES */
	bool follow;                         /* DETACHED_LOG */
	char by[WIRE_RPATH_MAX_CLAIMER + 1]; /* DETACHED_CLAIM: the claimer, letters, digits, - _ . */
	bool again;                          /* DETACHED_CLAIM: by claims what it claimed before */
};

/*
 * The runner's router: 0 and *ret; -ENOENT (a 404) or -EINVAL (a 400)
 * with *ret_err the message the runner has always answered.  *ret is
 * untouched on failure.
 */
int wire_rpath_decode(const char *target, struct wire_rpath *ret, char **ret_err);
/* The gateway's writer: the target (caller frees), or -EINVAL for a path
 * the router would refuse (an id or namespace that is not one, a pattern
 * with a character a query cannot carry as it is), -ENOMEM. */
int wire_rpath_encode(const struct wire_rpath *p, char **ret);
/* Ids of the runner's sessions: 1 to WIRE_RPATH_MAX_ID letters, digits, '-', '_', '.'. */
bool wire_rpath_id_ok(const char *s, size_t len);
bool wire_rpath_equal(const struct wire_rpath *a, const struct wire_rpath *b);

#endif
