/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Splits a byte stream into lines (NDJSON), with a hard limit on the
 * length of one line: one splitter for every stream of records (issue
 * 12), a runner's to the gateway (gateway/trace-stream.c, trace-detached.c),
 * the gateway's to kubectl-trace (plugin/client.c) and the API server's
 * watch streams to the informers (kube/informer.c).  Streams arrive in
 * arbitrary pieces; a line whole in one piece is handed over without a
 * copy.
 */
#ifndef TG_LIB_NDJSON_H
#define TG_LIB_NDJSON_H

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
/* Drops an unfinished line, keeping the memory: the next feed is the
 * start of a new stream (a splitter that refused a line is usable again). */
void ndjson_clear(struct ndjson_splitter *s);
/* -TG_ELIMIT when a line grows beyond max_line (the splitter is then
 * unusable until ndjson_clear: the stream must be abandoned). */
int ndjson_feed(struct ndjson_splitter *s, const char *data, size_t len, ndjson_line_fn fn, void *ctx);
/* At end of stream: bytes of an unterminated last line (0 if none). */
size_t ndjson_pending(const struct ndjson_splitter *s);

#endif
