/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runner's session listing: the answer to GET /v1/sessions, every
 * session whose process runs on the node and whose it is, which the
 * gateways count for maxConcurrentTraces across replicas
 * (docs/internals/contracts.md, "Gateway -> runner").  The runner writes
 * it with wire_sessions_encode(), the gateway reads it with
 * wire_sessions_decode(); tests/unit/test-wire-sessions.c and
 * tests/fuzz/fuzz-wire-sessions.c round-trip it.
 *
 * {"node":"node-1","items":[{"trace":"<id>","namespace":"team-a",
 *   "user":"alice","state":"Running","detached":false}, ...]}
 *
 * Strict: every member required, none unknown, names bounded as the
 * session request bounds them (wire/session.h).
 */
#ifndef TG_WIRE_SESSIONS_H
#define TG_WIRE_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>

#define WIRE_SESSIONS_MAX_BODY (4u << 20)
#define WIRE_SESSIONS_MAX_ITEMS 4096    /* beyond any runner's --max-sessions */

struct wire_session_item {
	char *trace;
	char *ns;       /* "" for a node-wide trace */
	char *user;
	char *state;    /* "Pending", "Running", "Stopping", "Succeeded", "Failed" */
	bool detached;
};

struct wire_sessions {
	char *node;     /* NULL once lists of several runners are joined */
	struct wire_session_item *items;
	size_t n;
};

/* Text to struct: -EINVAL with *ret_err naming the member, -E2BIG past
 * WIRE_SESSIONS_MAX_BODY; *ret untouched on failure. */
int wire_sessions_decode(const char *text, size_t len, struct wire_sessions *ret, char **ret_err);
/* Struct to compact JSON (NUL-terminated, no newline; caller frees):
 * 0, -ENOMEM, or -EINVAL for a list the decoder would refuse. */
int wire_sessions_encode(const struct wire_sessions *l, char **ret_text);
/* Appends item (copied) to l: 0 or -ENOMEM.  Not bounded: the gateway
 * joins every runner's list (each one within WIRE_SESSIONS_MAX_ITEMS). */
int wire_sessions_add(struct wire_sessions *l, const struct wire_session_item *item);
void wire_sessions_release(struct wire_sessions *l);
struct wire_sessions *wire_sessions_free(struct wire_sessions *l);
bool wire_sessions_equal(const struct wire_sessions *a, const struct wire_sessions *b);
/* A state in which the session still holds its node's resources. */
bool wire_sessions_state_live(const char *state);

#endif
