/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The map record's envelope, runner -> gateway -> plugin
 * (docs/internals/contracts.md, "Map records"):
 *
 *   {"type":"map","name":"@x","kind":K,"keyed":B[,"unsigned":true][,"valueType":T],
 *    "entries":[...][,"top":N][,"div":N][,"print":true][,"node":S]}
 *
 * The entries (their keys, values, buckets) are output/output.h's: it
 * builds them for the engine, merges them (output_map_merge) and prints them
 * (output_map_format, which refuses a malformed one); this module holds what
 * crosses the processes around them:
 *
 *  - the runner's encoder, wire_map_to_json(): the record from a
 *    struct wire_map, members in the order above;
 *  - the runner's writer, wire_map_split(): a record whose line would
 *    pass a bound goes as several records of the same name, each with a
 *    part of the entries (a union the gateway merges back);
 *  - the gateway's strict reader, wire_map_from_json(): the members above
 *    and no other, each checked; the record is then kept as it is;
 *  - the plugin's, wire_map_from_gateway(): members it does not know
 *    skipped, "kind" any word (a newer one is output_map_format's to refuse).
 *
 * tests/unit/test-wire-map.c and tests/fuzz/fuzz-wire-map.c hold them to
 * one another: decode(encode(m)) gives m back.
 */
#ifndef TG_WIRE_MAP_H
#define TG_WIRE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define WIRE_MAP_MAX_NAME 256          /* "@" and the map's name */
#define WIRE_MAP_MAX_VALUE_TYPE 256

/* A map record, to encode or decoded: views into the json_t it was read from (valid
 * while that lives, nothing to release).  NULL / false / 0 when absent. */
struct wire_map {
	const char *name;
	const char *kind;
	bool keyed;
	bool is_unsigned;
	const char *value_type;
	json_t *entries;       /* an array of objects */
	bool print;            /* a print() in a probe, streamed when it happens */
	uint64_t top, div;     /* print(@m, top, div); 0: none */
	const char *node;
};

/*
 * Struct to a record ({"type":"map",...}): 0, -ENOMEM, or -EINVAL for a
 * struct the strict reader would refuse (a name, kind, valueType or node
 * it would not take, top or div over INT64_MAX, entries not an array of
 * objects).  The record holds a reference to m->entries (not stolen):
 * unset members (NULL, false, 0) are not written.
 */
int wire_map_to_json(const struct wire_map *m, json_t **ret);
bool wire_map_equal(const struct wire_map *a, const struct wire_map *b);

/* Sends rec (not stolen) through send (which steals what it is given):
 * as one copy when its compact JSON is at most max bytes or it has fewer
 * than two entries, else as parts of whole entries, each within max where
 * one entry allows, the other members repeated.  send's error stops it. */
int wire_map_split(const json_t *rec, size_t max, int (*send)(void *ctx, json_t *part), void *ctx);

/* The gateway's, strict: -EINVAL naming the member, *ret untouched on failure. */
int wire_map_from_json(json_t *rec, struct wire_map *ret, char **ret_err);
/* The plugin's (version skew, wire/fields.h). */
int wire_map_from_gateway(json_t *rec, struct wire_map *ret, char **ret_err);

#endif
