/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Splits a byte stream into lines (NDJSON), with a hard limit on the
 * length of one line.  Used on runner streams, which arrive in arbitrary
 * pieces.
 */
#ifndef TG_GATEWAY_NDJSON_H
#define TG_GATEWAY_NDJSON_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/buf.h"

struct ndjson_splitter {
	struct buf partial;      /* bytes of an unfinished line */
	size_t max_line;         /* without the newline */
};

/* Called for each complete line (without "\n"; a trailing "\r" is removed;
 * empty lines are skipped).  A negative return stops the feed and is
 * returned by ndjson_feed. */
typedef int (*ndjson_line_fn)(const char *line, size_t len, void *ctx);

void ndjson_init(struct ndjson_splitter *s, size_t max_line);
void ndjson_release(struct ndjson_splitter *s);
/* -TG_ELIMIT when a line grows beyond max_line (the splitter is then
 * unusable: the stream must be abandoned). */
int ndjson_feed(struct ndjson_splitter *s, const char *data, size_t len, ndjson_line_fn fn, void *ctx);
/* At end of stream: bytes of an unterminated last line (0 if none). */
size_t ndjson_pending(const struct ndjson_splitter *s);

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
