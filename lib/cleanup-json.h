/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TG_LIB_CLEANUP_JSON_H
#define TG_LIB_CLEANUP_JSON_H

#include <jansson.h>
#include "lib/cleanup.h"

/* jansson >= 2.11 defines json_decrefp itself (for json_auto_t) under
 * GCC and clang; define it only where it does not. */
#if JANSSON_VERSION_HEX < 0x020b00 || !(defined(__GNUC__) || defined(__clang__))
static inline void json_decrefp(json_t **j)
{
	if (*j)
		json_decref(*j);
}
#endif

#endif
