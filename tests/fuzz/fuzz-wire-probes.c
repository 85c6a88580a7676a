// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the runner's probe listing (wire/probes.h), which
 * the gateway reads line by line, judges by policy and hands to clients:
 * each line is refused with a message, or read as a name or a field that
 * the writers write back to the very same line.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wire/probes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-wire-probes: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static void check_line(const char *line, size_t len)
{
	struct wire_probe_line pl;
	char *err = NULL, *text = NULL, *again = NULL;
	size_t tlen = 0;
	FILE *f;
	int r = wire_probes_line_decode(line, len, &pl, &err);

	if (r < 0) {
		if (r != -EINVAL || !err || !*err)
			fail("decode: a refusal without -EINVAL and a message", err);
		free(err);
		return;
	}
	if (err)
		fail("decode: success with a message", err);
	if (pl.kind == WIRE_PROBE_BLANK) {
		if (len)
			fail("decode: a blank line that is not empty", NULL);
		return;
	}
	if (pl.text < line || pl.text + pl.len != line + len || memchr(pl.text, '\0', pl.len) ||
	    memchr(pl.text, '\n', pl.len))
		fail("decode: text outside the line, or with a NUL or newline", NULL);
	again = strndup(pl.text, pl.len);
	f = open_memstream(&text, &tlen);
	if (!again || !f) {
		free(again);
		if (f)
			fclose(f);
		free(text);
		return;
	}
	r = pl.kind == WIRE_PROBE_NAME ? wire_probes_name_write(f, again) : wire_probes_field_write(f, again);
	fclose(f);
	if (r < 0)
		fail("encode: a decoded line does not write", again);
	if (tlen != len + 1 || memcmp(text, line, len) || text[len] != '\n')
		fail("encode: the line written differs from the line read", text);
	free(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;

	for (size_t o = 0; o < size;) {
		const char *nl = memchr(body + o, '\n', size - o);
		size_t n = nl ? (size_t)(nl - (body + o)) : size - o;

		check_line(body + o, n);
		o += n + 1;
	}
	return 0;
}
