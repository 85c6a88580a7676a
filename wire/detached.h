/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A runner's detached session as its /v1/detached API describes it: the
 * 201 answer to a detached POST /v1/sessions, GET /v1/detached/ID, and
 * each item of GET /v1/detached's {"items":[...]}
 * (docs/internals/contracts.md, "Detached traces").  The runner writes it
 * with wire_det_session_to_json(), the gateway reads it with
 * wire_det_session_decode() / wire_det_list_decode() and builds its
 * Trace objects from what they give back; tests/unit/test-wire-detached.c
 * and tests/fuzz/fuzz-wire-detached.c round-trip it.
 *
 * Strict: every member required but "end", "auditID", "claimedBy" and
 * "requester", none
 * unknown, each bounded as the session request that made the session
 * bounds it (wire/session.h).
 */
#ifndef TG_WIRE_DETACHED_H
#define TG_WIRE_DETACHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct wire_end;

#define WIRE_DET_MAX_BODY (16u << 20)
#define WIRE_DET_MAX_ITEMS 4096         /* DET_MAX_SESSIONS ended and --max-sessions running */

struct wire_det_session {
	char *trace;
	char *node;
	char *ns;
	char *user;
	char **groups;
	size_t ngroups;
	char *target;           /* as the client wrote it */
	char *program;
	uint64_t duration_s;    /* as asked */
	char **pods;            /* "ns/name" */
	size_t npods;
	char *created;          /* RFC 3339 */
	char *state;            /* "Pending", "Running", "Stopping", "Succeeded", "Failed" */
	uint64_t records;
	uint64_t outputs;
	uint64_t buffer_bytes;
	uint64_t buffer_dropped;
	struct wire_end *end;   /* NULL: not ended */
	char *audit_id;         /* "auditID": the create request's Audit-ID, or NULL */
	char *claimed_by;       /* "claimedBy": the gateway that claimed its end for
				 * the audit log (POST /v1/detached/ID/claim), or NULL */
	char *requester;        /* "requester": who asked when user was impersonated, or NULL */
};

#define WIRE_DET_MAX_CLAIMER 128        /* a claimer's name: letters, digits, '-', '_', '.' */

/* A parsed object or text to struct, strict: -EINVAL with *ret_err naming
 * the member, -E2BIG past WIRE_DET_MAX_BODY; *ret untouched on failure. */
int wire_det_session_from_json(json_t *o, const char *where, struct wire_det_session *ret, char **ret_err);
int wire_det_session_decode(const char *text, size_t len, struct wire_det_session *ret, char **ret_err);
/* {"items":[session...]}: *ret_items (caller releases each and frees the
 * array) and *ret_n. */
int wire_det_list_decode(const char *text, size_t len, struct wire_det_session **ret_items, size_t *ret_n,
			 char **ret_err);
/* Struct to object: 0, -ENOMEM, or -EINVAL for a session the decoder
 * would refuse (a member missing). */
int wire_det_session_to_json(const struct wire_det_session *s, json_t **ret);
void wire_det_session_release(struct wire_det_session *s);
bool wire_det_session_equal(const struct wire_det_session *a, const struct wire_det_session *b);

#endif
