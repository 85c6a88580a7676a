/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TG_LIB_CLEANUP_JSON_H
#define TG_LIB_CLEANUP_JSON_H

#include <jansson.h>
#include "lib/cleanup.h"

static inline void json_decrefp(json_t **j)
{
	if (*j)
		json_decref(*j);
}

#endif
