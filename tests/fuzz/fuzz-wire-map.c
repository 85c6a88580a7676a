// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the map record's envelope (wire/map.h): each
 * reader refuses with a message and leaves *ret untouched, or takes the
 * record; what the gateway's strict reader takes the plugin's takes to
 * the same view; the runner's encoder writes that view and both readers
 * give it back; the runner's split of a record the strict reader takes
 * gives parts it takes too, whose entries, in order, are the record's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wire/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-wire-map: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static int collect(void *ctx, json_t *part)
{
	return json_array_append_new(ctx, part) == 0 ? 0 : -ENOMEM;
}

static void check_split(json_t *rec, size_t max)
{
	json_t *parts = json_array(), *all = json_array(), *part;
	size_t i, k;

	if (!parts || !all || wire_map_split(rec, max, collect, parts) < 0)
		fail("split: failed", NULL);
	json_array_foreach(parts, i, part) {
		struct wire_map m;
		char *err = NULL;
		json_t *e;

		if (wire_map_from_json(part, &m, &err) < 0)
			fail("split: a part the strict reader refuses", err);
		json_array_foreach(m.entries, k, e)
			json_array_append(all, e);
	}
	if (!json_equal(all, json_object_get(rec, "entries")))
		fail("split: the parts' entries are not the record's", NULL);
	json_decref(parts);
	json_decref(all);
}

/* decode(encode(m)) gives m back, through the text as the gateway reads it */
static void check_encode(const struct wire_map *m)
{
	json_t *rec = NULL, *again;
	struct wire_map back;
	char *text, *err = NULL;

	if (wire_map_to_json(m, &rec) < 0)
		fail("encode: refused what the strict reader takes", NULL);
	text = json_dumps(rec, JSON_COMPACT);
	again = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (!again)
		fail("encode: no text", NULL);
	if (wire_map_from_json(again, &back, &err) < 0)
		fail("encode: the strict reader refuses it", err);
	if (!wire_map_equal(&back, m))
		fail("encode: read back otherwise", text);
	if (wire_map_from_gateway(again, &back, &err) < 0 || !wire_map_equal(&back, m))
		fail("encode: the plugin reads it otherwise", err);
	free(text);
	json_decref(again);
	json_decref(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *rec = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	struct wire_map strict, plugin, blank;
	char *err = NULL;
	int r;

	if (!json_is_object(rec)) {
		json_decref(rec);
		return 0;
	}
	memset(&strict, 0x5a, sizeof(strict));
	blank = strict;
	plugin = strict;
	r = wire_map_from_json(rec, &strict, &err);
	if (r < 0) {
		if (r != -EINVAL || !err || !*err)
			fail("strict: a refusal without a message", err);
		if (memcmp(&strict, &blank, sizeof(strict)))
			fail("strict: result written on failure", err);
		free(err);
		err = NULL;
	}
	if (wire_map_from_gateway(rec, &plugin, &err) < 0) {
		if (!err || !*err)
			fail("plugin: a refusal without a message", NULL);
		if (memcmp(&plugin, &blank, sizeof(plugin)))
			fail("plugin: result written on failure", err);
		if (r == 0)
			fail("plugin: refused what the strict reader takes", err);
		free(err);
	} else if (r == 0) {
		if (memcmp(&strict, &plugin, sizeof(strict)))
			fail("plugin: reads otherwise than the strict reader", NULL);
		check_encode(&strict);
		check_split(rec, 64);
		check_split(rec, 4096);
	}
	json_decref(rec);
	return 0;
}
