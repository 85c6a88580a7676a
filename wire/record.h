/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A runner's status and error records on a session's stream
 * (docs/internals/contracts.md, "status phase attaching", "An error
 * record"): {"type":"status","phase":"compiled","probes":N,"object":H,
 * "cached":B}, {"type":"status","phase":"attaching","done":D,"probes":N},
 * {"type":"status","phase":"attached","probes":N},
 * {"type":"status","phase":"alive"} (a session with nothing to say for a
 * while, runner/session.c; the gateway keeps it to itself) and
 * {"type":"error","message":M[,"warning":true]}, each with "node" when
 * the runner has one.  The runner writes them with wire_status_to_json()
 * and wire_error_to_json(); the gateway reads them with
 * wire_runner_record_decode() before it relays or keeps them, so a record
 * it passes on holds only these members.  The gateway's own errors on the
 * client's stream are the same shape plus "code" (a runner's refusal:
 * its HTTP status), written with wire_error_to_json() too; the plugin
 * reads every error with wire_error_from_gateway().  The stream's other records have
 * their own owners: output (wire/output.h: wire_runner_record_decode()
 * checks one with its strict reader and leaves it as it is), map
 * (output/output.h), end (wire/end.h).  tests/unit/test-wire-record.c and
 * tests/fuzz/fuzz-wire-record.c round-trip them.
 */
#ifndef TG_WIRE_RECORD_H
#define TG_WIRE_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#define WIRE_RECORD_MAX_MESSAGE (64u * 1024)
#define WIRE_RECORD_MAX_OBJECT 128      /* an object's content hash */

struct wire_status {
	char *phase;            /* "compiled", "attaching", "attached", "alive" */
	uint64_t probes;        /* not "alive" */
	uint64_t done;          /* attaching */
	char *object;           /* compiled: the object's hash */
	bool cached;            /* compiled */
	char *node;             /* NULL: none */
};

struct wire_error {
	char *message;
	bool warning;           /* a probe missing here: the trace goes on */
	char *node;
	int code;               /* the gateway's own: the HTTP status of a runner's
				 * refusal (403 policy, 400 program); 0: none */
	uint64_t dropped;       /* a detached log's first record: the records its
				 * buffer dropped (a warning); 0: none */
};

#define WIRE_RECORD_MAX_TIME 40         /* RFC 3339 (as wire/end.h's) */
#define WIRE_ERROR_CODE_MIN 100
#define WIRE_ERROR_CODE_MAX 599

/* Strict: the members of its phase and no other, -EINVAL naming the
 * member; *ret untouched on failure.  A runner's error has no "code". */
int wire_status_from_json(json_t *rec, struct wire_status *ret, char **ret_err);
int wire_error_from_json(json_t *rec, struct wire_error *ret, char **ret_err);
/* The plugin's reader of the error records on the gateway's stream (a
 * runner's relayed, and the gateway's own with "code"): members it does
 * not know are skipped (wire/fields.h, "Version skew"), the others
 * checked as wire_error_from_json() checks them, "code" an integer from
 * WIRE_ERROR_CODE_MIN to _MAX. */
int wire_error_from_gateway(json_t *rec, struct wire_error *ret, char **ret_err);
/* 0, -ENOMEM, -EINVAL for a struct the decoder would refuse. */
int wire_status_to_json(const struct wire_status *s, json_t **ret);
int wire_error_to_json(const struct wire_error *e, json_t **ret);
void wire_status_release(struct wire_status *s);
void wire_error_release(struct wire_error *e);
bool wire_status_equal(const struct wire_status *a, const struct wire_status *b);
bool wire_error_equal(const struct wire_error *a, const struct wire_error *b);

/* The gateway's reader: *rec a status or error record is decoded and
 * replaced by its encoding (only the members above); an output record
 * is read by wire_output_from_json() and left as it is; any other type
 * is left as it is.  0, or -EINVAL with *ret_err, or -ENOMEM. */
int wire_runner_record_decode(json_t **rec, char **ret_err);

/*
 * A detached session's log (GET /v1/detached/ID/log): the records of its
 * stream, each with "time" (RFC 3339, when the runner got it:
 * wire_log_stamp(), the runner's), the first maybe an error record with
 * "dropped" (wire_error_to_json() with .dropped).  The gateway reads each
 * line with wire_log_record_decode(): "time" checked (and removed unless
 * keep_time), a status or error record decoded as
 * wire_runner_record_decode() does ("dropped" allowed) and replaced by
 * its encoding; an end is wire/end.h's, an output record checked by
 * wire_output_from_json(), a map output/output.h's (both left as they are).  0, or -EINVAL with *ret_err, or -ENOMEM.
 */
int wire_log_stamp(json_t *rec, const char *time);
int wire_log_record_decode(json_t **rec, bool keep_time, char **ret_err);

#endif
