// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the language front end: parse, print, free.  The
 * canonical form must parse again and print the same (a printer that
 * writes text its own parser reads differently is a bug), and a failed
 * parse must leave a message with a position.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy/ast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tg_program *p = NULL, *q = NULL;
	struct tg_diag d;
	char *a = NULL, *b = NULL, *f = NULL;
	int r = tg_program_parse((const char *)data, size, &p, &d);

	if (r < 0) {
		if (d.msg[0] == '\0' || d.loc.line == 0 || d.loc.col == 0)
			abort();
		if (tg_diag_format(&d, "fuzz", (const char *)data, size, &f) == 0)
			free(f);
		return 0;
	}
	if (tg_program_print(p, &a) < 0)
		abort();
	r = tg_program_parse(a, strlen(a), &q, &d);
	if (r < 0) {
		/* a canonical form beyond the limits is fine; anything else is not */
		if (r != -4009) {
			fprintf(stderr, "canonical form does not parse: %u:%u %s\n%s\n", d.loc.line, d.loc.col,
				d.msg, a);
			abort();
		}
	} else {
		if (tg_program_print(q, &b) < 0)
			abort();
		if (strcmp(a, b) != 0) {
			fprintf(stderr, "canonical form not stable:\n%s\n---\n%s\n", a, b);
			abort();
		}
	}
	free(a);
	free(b);
	tg_program_free(p);
	tg_program_free(q);
	return 0;
}
