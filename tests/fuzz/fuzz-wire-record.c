// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for a runner's status and error records
 * (wire/record.h), which the gateway reads before it relays them to its
 * clients: a record of either type is refused with a message and left as
 * it was, or replaced by one that holds only the members of its shape and
 * reads back to the same record; any other record is left alone.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wire/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-wire-record: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *rec = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL), *before = rec, *copy;
	const char *type = json_string_value(json_object_get(rec, "type"));
	bool ours = type && (!strcmp(type, "status") || !strcmp(type, "error"));
	char *err = NULL;
	int r;

	if (!json_is_object(rec)) {
		json_decref(rec);
		return 0;
	}
	copy = json_deep_copy(rec);
	r = wire_runner_record_decode(&rec, &err);
	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			fail("decode: unexpected error code", NULL);
		if (r == -EINVAL && (!err || !*err || !ours))
			fail("decode: a refusal without a message, or of a record not its own", err);
		if (rec != before || (copy && !json_equal(rec, copy)))
			fail("decode: record changed on failure", err);
	} else if (!ours) {
		if (rec != before)
			fail("decode: a record of another type replaced", type);
	} else {
		json_t *again = json_deep_copy(rec);
		json_t *held = again;

		if (again && wire_runner_record_decode(&again, NULL) == 0 && !json_equal(again, rec))
			fail("decode: reading the re-encoded record changes it", NULL);
		if (again && again != held && json_object_size(again) > 7)
			fail("decode: more members than any status or error record has", NULL);
		json_decref(again);
	}
	free(err);
	json_decref(copy);
	json_decref(rec);
	return 0;
}
