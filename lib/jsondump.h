/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_dump_sorted: a JSON value as jansson's json_dumps(j, JSON_COMPACT |
 * JSON_SORT_KEYS) writes it, byte for byte, appended to a struct buf.
 *
 * The audit log's hash chain covers the bytes of each record, which
 * docs/audit.md promises are compact with the keys sorted at every level;
 * jansson gets there by collecting and qsorting every object's keys into
 * a fresh allocation and handing each fragment to a callback, the largest
 * part of a refusal's cost (docs/performance.md).  This writes straight
 * into the buffer, sorting small objects in place.  The same bytes, so
 * logs written before and after chain on and verify alike.
 *
 * Returns 0, -E2BIG at the buffer's maximum, -ENOMEM, or -EINVAL where
 * json_dumps fails too (a string that is not UTF-8, nesting past
 * JSON_DUMP_MAX_DEPTH).  On failure b holds a partial value.
 */
#ifndef TG_LIB_JSONDUMP_H
#define TG_LIB_JSONDUMP_H

#include <jansson.h>
#include "lib/buf.h"

#define JSON_DUMP_MAX_DEPTH 2048

int json_dump_sorted(struct buf *b, const json_t *j);
/* One string as json_dump_sorted writes it, quotes included: for
 * writers that lay out an object's sorted keys themselves
 * (gw_event_format). */
int json_dump_string(struct buf *b, const char *s, size_t len);

#endif
