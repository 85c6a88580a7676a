/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The end record: the last record of a session's stream, how it ended and
 * what it counted (docs/internals/contracts.md, "end.reason").  One shape
 * on every hop: a runner's session child writes it on its stream and into
 * the pipe its parent keeps it from; the runner answers it to GET
 * /v1/sessions/ID/end and keeps it in a detached session's log; the
 * gateway reads a runner's and writes its own, merged, to the client.
 * wire_end_encode() is every writer, wire_end_decode() (or
 * wire_end_from_json() on a record already parsed) every reader, and
 * decode(encode(e)) gives e back (tests/unit/test-wire-end.c,
 * tests/fuzz/fuzz-wire-end.c).
 *
 * Strict: a member it does not know, a count that is not a non-negative
 * integer, a reason that is not a short lowercase word are refused naming
 * the member, so a broken or hostile peer's end cannot pass for one.  The
 * plugin alone skips members it does not know (wire_end_from_gateway()):
 * it may talk to a newer gateway.
 */
#ifndef TG_WIRE_END_H
#define TG_WIRE_END_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define WIRE_END_MAX_LINE (256u * 1024)     /* the record as text */
#define WIRE_END_MAX_REASON 32              /* "program-error", "client-stop", ... */
#define WIRE_END_MAX_MESSAGE (64u * 1024)
#define WIRE_END_MAX_NAME 253               /* node names (DNS subdomain) */
#define WIRE_END_MAX_TRACE 128              /* trace ids (SESSION_MAX_TRACE_ID) */
#define WIRE_END_MAX_TIME 40                /* RFC 3339 */
#define WIRE_END_MAX_FAILED 4096            /* failedNodes */

/* Which of the optional members an end has (struct wire_end.has). */
enum {
	WIRE_END_EVENTS = 1u << 0,
	WIRE_END_DROPS = 1u << 1,
	WIRE_END_MAP_DROPS = 1u << 2,
	WIRE_END_BYTES = 1u << 3,        /* the gateway's: its stream's bytes */
	WIRE_END_OUTPUT_BYTES = 1u << 4, /* a runner's: the text its session printed */
	WIRE_END_CPU_NS = 1u << 5,
	WIRE_END_EXIT_CODE = 1u << 6,
};

struct wire_end {
	char *reason;           /* "exit", "duration", ..., never NULL once decoded */
	char *message;          /* NULL: none */
	unsigned has;           /* WIRE_END_*: the counts and exit code sent */
	uint64_t events;
	uint64_t drops;
	uint64_t map_drops;
	uint64_t bytes;
	uint64_t output_bytes;
	uint64_t cpu_ns;
	int exit_code;
	char **failed_nodes;    /* the gateway's: nfailed_nodes names, never 0 when set */
	size_t nfailed_nodes;
	char *trace;            /* GET /v1/sessions/ID/end: whose */
	char *node;             /* ... and where; a detached session's log */
	char *time;             /* a detached session's log: when it came (RFC 3339) */
};

/*
 * Text (or a parsed record) to struct, strict: -EINVAL with *ret_err
 * naming the member; a text over WIRE_END_MAX_LINE is -E2BIG.  On failure
 * *ret is untouched.
 */
int wire_end_decode(const char *text, size_t len, struct wire_end *ret, char **ret_err);
int wire_end_from_json(json_t *rec, struct wire_end *ret, char **ret_err);
/* The plugin's reader of the gateway's end: as wire_end_from_json(), but a
 * member it does not know is skipped (a newer gateway may send more; see
 * wire/fields.h, "Version skew"); a known member of the wrong type is still
 * refused, named. */
int wire_end_from_gateway(json_t *rec, struct wire_end *ret, char **ret_err);
/* Struct to a record ({"type":"end",...}) or to compact JSON text
 * (NUL-terminated, no newline; caller frees): 0, or -ENOMEM, or -EINVAL
 * for a struct the decoder would refuse (no reason). */
int wire_end_to_json(const struct wire_end *e, json_t **ret);
int wire_end_encode(const struct wire_end *e, char **ret_text);
void wire_end_release(struct wire_end *e);
bool wire_end_equal(const struct wire_end *a, const struct wire_end *b);

/* The end of a session whose process died before it wrote its own (the
 * runner's stand-in, contracts.md: node-failed, zero counts); *e was
 * empty.  0 or -ENOMEM. */
int wire_end_init_died(struct wire_end *e);

/* The reasons of a node that ran as it was asked to (exit, duration,
 * end, client-stop): a detached trace's Succeeded. */
bool wire_end_reason_ok(const char *reason);

#endif
