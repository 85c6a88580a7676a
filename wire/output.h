/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The output record: a batch of a session's printed text, runner ->
 * gateway -> plugin (docs/internals/contracts.md, "Output records"):
 *
 *   {"type":"output","node":S,"pod":S,"lines":N,"text":S[,"events":[E...]]}
 *
 * members in this order, no white space; E is {"type":K,"len":BYTES[,"data":V]}
 * (outputEvents: bpftrace's JSON type of each event, its length within
 * "text", print()'s typed value).  Most of a trace's bytes are these, so
 * each hop has a fast path with no allocation and no parse per record:
 *
 *  - the runner writes one with wire_output_write() from a batch it grew
 *    with wire_output_text_add() (and wire_output_event_add());
 *  - the gateway recognises the runner's shape in the raw line with
 *    wire_output_shape() and writes its client's record with
 *    wire_output_relay(): a byte splice, its own node put in;
 *  - whatever does not match the shape exactly (a record with "events",
 *    one held behind a print, an escape the splice does not pass) is
 *    parsed and read strictly with wire_output_from_json() (the
 *    gateway's), the plugin reads each with wire_output_from_gateway().
 *
 * tests/unit/test-wire-output.c and tests/fuzz/fuzz-wire-output.c hold
 * the writer, the shape, the splice and both readers to one another.
 */
#ifndef TG_WIRE_OUTPUT_H
#define TG_WIRE_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/buf.h"

#define WIRE_OUTPUT_MAX_TYPE 32   /* an event's type: [a-z_], 1 to 32 bytes */
#define WIRE_OUTPUT_MAX_LINES UINT32_MAX

/*
 * A decoded output record: views into the json_t it was read from (valid
 * while that lives, nothing to release).  node and pod NULL when absent
 * (a runner that says no pod: the gateway knows it when the session has
 * one); events NULL when absent, else an array whose every element the
 * reader checked (wire_output_event_at()).
 */
struct wire_output {
	const char *node;
	const char *pod;
	uint64_t lines;
	const char *text;
	size_t text_len;
	json_t *events;
};

/* --- the runner's writer ---------------------------------------------------------- */

/* Appends len bytes of printed text (valid UTF-8) to a batch, escaped as
 * the record's "text" holds it (only escapes wire_output_shape() passes).
 * Inline: the runner calls it once per printed event. */
static inline int wire_output_text_add(struct buf *batch, const char *text, size_t len)
{
	return buf_add_json_escaped(batch, text, len);
}
/* Appends one event's descriptor to the batch's events (",": not the
 * batch's first): type [a-z_]{1,32} (-EINVAL else), len its bytes of
 * text, data print()'s typed value or NULL. */
int wire_output_event_add(struct buf *events, bool first, const char *type, size_t len, const json_t *data);
/* Appends the record, without a newline: node NULL for none; text the
 * batch (wire_output_text_add()), events the descriptors
 * (wire_output_event_add()) or NULL for no "events" member.  Nothing is
 * allocated but the growth of b. */
int wire_output_write(struct buf *b, const char *node, const char *pod, uint32_t lines, const char *text,
		      size_t text_len, const char *events, size_t events_len);

/* --- the gateway's fast path ------------------------------------------------------ */

/*
 * A line of exactly the runner's shape without "events": type, an
 * optional node, pod, lines, text, in this order, nothing else.  Each
 * string is checked to be one JSON string that jansson (the client's
 * parser) takes: its end is its first unescaped quote, no control byte,
 * only the escapes the runner writes (\" \\ \/ \b \f \n \r \t and
 * \u0001-\u00ff: not \u0000), valid UTF-8.  So no byte of a printed text
 * can end the text early and forge members or records; whatever does not
 * match exactly is the strict reader's.
 */
struct wire_output_shape {
	const char *pod;     /* the JSON string, its quotes included */
	size_t pod_len;
	const char *lines;   /* the number's digits (1 to 10, no leading 0) */
	size_t lines_len;
	uint64_t nlines;
	const char *text;    /* the JSON string, its quotes included */
	size_t text_len;
};

/* true: line is exactly that shape, *ret points into it (untouched else). */
bool wire_output_shape(const char *line, size_t len, struct wire_output_shape *ret);
/* Appends the record for the gateway's client, newline included: node
 * replaced by `node`, pod, lines and text copied as they came. */
int wire_output_relay(struct buf *b, const char *node, const struct wire_output_shape *o);

/* --- the readers ------------------------------------------------------------------ */

/* The gateway's, strict: the members above and no other (events' too),
 * -EINVAL naming the member; *ret untouched on failure. */
int wire_output_from_json(json_t *rec, struct wire_output *ret, char **ret_err);
/* The plugin's (version skew, wire/fields.h): members it does not know
 * are skipped, at either level; the others checked as above, but for
 * "lines", which it may do without (0). */
int wire_output_from_gateway(json_t *rec, struct wire_output *ret, char **ret_err);
/* The i-th event of a record a reader took: its type, its length within
 * text (the events cover text in order, from its start), its data (NULL:
 * none).  -ERANGE past the last. */
int wire_output_event_at(const struct wire_output *o, size_t i, const char **ret_type, size_t *ret_len,
			 json_t **ret_data);

#endif
