// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include "lib/errors.h"
#include "lib/ndjson.h"
#include "lib/banned.h"

void ndjson_init(struct ndjson_splitter *s, size_t max_line)
{
	s->max_line = max_line;
	buf_init(&s->partial, max_line);
}

void ndjson_release(struct ndjson_splitter *s)
{
	buf_release(&s->partial);
}

void ndjson_clear(struct ndjson_splitter *s)
{
	buf_clear(&s->partial);
}

static int ndjson_emit(const char *line, size_t len, ndjson_line_fn fn, void *ctx)
{
	if (len && line[len - 1] == '\r')
		len--;
	if (!len)
		return 0;
	return fn(line, len, ctx);
}

int ndjson_feed(struct ndjson_splitter *s, const char *data, size_t len, ndjson_line_fn fn, void *ctx)
{
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;
		int r;

		if (s->partial.len + n > s->max_line)
			return -TG_ELIMIT;
		if (!nl)
			return buf_add(&s->partial, data, n);
		if (s->partial.len) {
			r = buf_add(&s->partial, data, n);
			if (r < 0)
				return r;
			r = ndjson_emit(s->partial.s, s->partial.len, fn, ctx);
			buf_clear(&s->partial);
		} else {
			r = ndjson_emit(data, n, fn, ctx);
		}
		if (r < 0)
			return r;
		data += n + 1;
		len -= n + 1;
	}
	return 0;
}

size_t ndjson_pending(const struct ndjson_splitter *s)
{
	return s->partial.len;
}
