/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers the libFuzzer targets of tests/fuzz/ share. */
#ifndef TG_TESTS_FUZZ_UTIL_H
#define TG_TESTS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
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

/* Inputs that start with the two bytes 0xff 'P' carry positional
 * parameters first: NUL-terminated strings up to an empty one, then the
 * program, so the fuzzers also attack $1.. and parameters in attach
 * points.  Fills params[0..max-1] (pointers into data) and advances
 * *data and *size past them; -1 when the parameters are not terminated. */
static inline int fuzz_params(const uint8_t **data, size_t *size, const char **params, size_t max,
			      size_t *ret_n)
{
	const uint8_t *d = *data;
	size_t i = 2, n = 0;

	*ret_n = 0;
	if (*size < 2 || d[0] != 0xff || d[1] != 'P')
		return 0;
	while (i < *size && n < max) {
		const uint8_t *nul = memchr(d + i, '\0', *size - i);

		if (!nul)
			return -1;
		if (nul == d + i) {
			i++;
			break;
		}
		params[n++] = (const char *)d + i;
		i = (size_t)(nul - d) + 1;
	}
	*data = d + i;
	*size -= i;
	*ret_n = n;
	return 0;
}

#endif
