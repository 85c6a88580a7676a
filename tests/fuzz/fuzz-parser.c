// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the language front end: parse, print, free.  The
 * canonical form must parse again and print the same (a printer that
 * writes text its own parser reads differently is a bug), and a failed
 * parse must leave a message with a position.
 *
 * An input that starts with the two bytes 0xff 'P' carries positional
 * parameters first: NUL-terminated strings up to an empty one, then the
 * program, so the fuzzer also attacks parameters in attach points.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lang/ast.h"
#include "tests/fuzz/fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lang_program *p = NULL, *q = NULL;
	struct lang_diag d;
	char *a = NULL, *b = NULL, *f = NULL;
	const char *params[8];
	struct lang_parse_opts po = { .sz = sizeof(po), .params = params };
	int r;

	if (fuzz_params(&data, &size, params, 8, &po.nparams) < 0)
		return 0;
	r = lang_program_parse_opts((const char *)data, size, &po, &p, &d);

	if (r < 0) {
		if (d.msg[0] == '\0' || d.loc.line == 0 || d.loc.col == 0)
			abort();
		if (lang_diag_format(&d, "fuzz", (const char *)data, size, &f) == 0)
			free(f);
		return 0;
	}
	if (lang_program_print(p, &a) < 0)
		abort();
	r = lang_program_parse_opts(a, strlen(a), &po, &q, &d);
	if (r < 0) {
		/* a canonical form beyond the limits is fine; anything else is not */
		if (r != -4009) {
			fprintf(stderr, "canonical form does not parse: %u:%u %s\n%s\n", d.loc.line, d.loc.col,
				d.msg, a);
			abort();
		}
	} else {
		if (lang_program_print(q, &b) < 0)
			abort();
		if (strcmp(a, b) != 0) {
			fprintf(stderr, "canonical form not stable:\n%s\n---\n%s\n", a, b);
			abort();
		}
	}
	free(a);
	free(b);
	lang_program_free(p);
	lang_program_free(q);
	return 0;
}
