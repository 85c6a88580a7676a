/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NDJSON from runners: the splitter is lib/ndjson.h's; here the shape of
 * the output records the gateway relays without parsing them.
 */
#ifndef TG_GATEWAY_NDJSON_H
#define TG_GATEWAY_NDJSON_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/ndjson.h"   /* the line splitter */

/*
 * An output record of a runner in the shape its sessions write
 * (docs/internals/contracts.md, runner/session.c):
 *
 *   {"type":"output"[,"node":S],"pod":S,"lines":N,"text":S}
 *
 * members in this order, nothing else, no white space.  The gateway
 * relays such a record without parsing it into a tree: it replaces the
 * node with its own and copies pod, lines and text as they are.  Each
 * string is checked to be one JSON string that jansson (the client's
 * parser) takes: its end is its first unescaped quote, no control byte,
 * only the escapes the runner writes (\" \\ \/ \b \f \n \r \t and
 * \u0001-\u00ff: not \u0000), valid UTF-8.  So no byte of a printed
 * text can end the text early and forge members or records; whatever
 * does not match exactly is parsed in full by the caller instead.
 */
struct ndjson_output {
	const char *pod;     /* the JSON string, its quotes included */
	size_t pod_len;
	const char *lines;   /* the number's digits */
	size_t lines_len;
	const char *text;    /* the JSON string, its quotes included */
	size_t text_len;
};

/* true: line is exactly that shape, *ret points into it. */
bool ndjson_output_shape(const char *line, size_t len, struct ndjson_output *ret);

#endif
