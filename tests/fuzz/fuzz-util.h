/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers the libFuzzer targets of tests/fuzz/ share. */
#ifndef TG_TESTS_FUZZ_UTIL_H
#define TG_TESTS_FUZZ_UTIL_H

#include <stdlib.h>
#include <string.h>

/* An exact-size private copy of len bytes (at least one byte allocated),
 * so ASan sees any read past len; NULL when out of memory. */
static inline char *fuzz_dup_exact(const char *p, size_t len)
{
	char *c = malloc(len ? len : 1);

	if (c && len)
		memcpy(c, p, len);
	return c;
}

#endif
