// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for a runner's status and error records
 * (wire/record.h), which the gateway reads before it relays them to its
 * clients: a record of either type is refused with a message and left as
 * it was, or replaced by one that holds only the members of its shape and
 * reads back to the same record; an output or map record is refused
 * with a message or left as it is (wire/output.h's, wire/map.h's strict
 * readers); any other record is left alone.
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

/*
 * The plugin's reader of error records (wire_error_from_gateway): it
 * refuses with a message and leaves *ret untouched, or gives an error
 * within its bounds that encodes and decodes to an equal one; whatever the
 * runner's strict reader takes, it takes to the same error.
 */
static void check_gateway_error(json_t *rec)
{
	struct wire_error e, blank, again = { 0 }, strict = { 0 };
	json_t *enc = NULL;
	char *err = NULL;
	int r;

	memset(&e, 0x5a, sizeof(e));
	blank = e;
	r = wire_error_from_gateway(rec, &e, &err);
	if (r < 0) {
		if ((r != -EINVAL && r != -ENOMEM) || (r == -EINVAL && (!err || !*err)))
			fail("gateway error: a refusal without a message", err);
		if (memcmp(&e, &blank, sizeof(e)))
			fail("gateway error: result written on failure", err);
		if (wire_error_from_json(rec, &strict, NULL) == 0)
			fail("gateway error: refused what the strict reader takes", err);
		free(err);
		return;
	}
	if (!e.message || !*e.message || strlen(e.message) > WIRE_RECORD_MAX_MESSAGE ||
	    (e.code && (e.code < WIRE_ERROR_CODE_MIN || e.code > WIRE_ERROR_CODE_MAX)))
		fail("gateway error: beyond its bounds", NULL);
	if (wire_error_from_json(rec, &strict, NULL) == 0 && (e.code || !wire_error_equal(&e, &strict)))
		fail("gateway error: reads differently from the strict reader", NULL);
	r = wire_error_to_json(&e, &enc);
	if (r == 0 && wire_error_from_gateway(enc, &again, &err) < 0)
		fail("gateway error: its encoding does not decode", err);
	if (r == 0 && !wire_error_equal(&e, &again))
		fail("gateway error: decode(encode(e)) differs from e", NULL);
	if (r < 0 && r != -ENOMEM)
		fail("gateway error: a decoded error does not encode", NULL);
	wire_error_release(&e);
	wire_error_release(&again);
	wire_error_release(&strict);
	json_decref(enc);
}

/*
 * The gateway's reader of a detached log's lines: it refuses with a
 * message and leaves the record as it was, or gives one that it reads
 * again unchanged; a status or error record it gives holds no member
 * beyond its shape's, "time" and "dropped".
 */
static void check_log(json_t *rec, bool keep_time)
{
	json_t *copy = json_deep_copy(rec), *again;
	char *err = NULL;
	int r;

	if (!copy)
		return;
	r = wire_log_record_decode(&copy, keep_time, &err);
	if (r < 0) {
		if (r == -EINVAL && (!err || !*err))
			fail("log: a refusal without a message", NULL);
		if (r != -ENOMEM && !json_equal(copy, rec))
			fail("log: record changed on failure", err);
		free(err);
		json_decref(copy);
		return;
	}
	if (!keep_time && json_object_get(copy, "time"))
		fail("log: time kept though not asked", NULL);
	again = json_deep_copy(copy);
	if (again && wire_log_record_decode(&again, keep_time, NULL) == 0 && !json_equal(again, copy))
		fail("log: reading the record again changes it", NULL);
	json_decref(again);
	json_decref(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *rec = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL), *before = rec, *copy;
	const char *type = json_string_value(json_object_get(rec, "type"));
	/* checked by wire/output.h or wire/map.h, kept as it is */
	bool output = type && (!strcmp(type, "output") || !strcmp(type, "map"));
	bool ours = type && (!strcmp(type, "status") || !strcmp(type, "error") || output);
	char *err = NULL;
	int r;

	if (!json_is_object(rec)) {
		json_decref(rec);
		return 0;
	}
	if (type && !strcmp(type, "error"))
		check_gateway_error(rec);
	check_log(rec, true);
	check_log(rec, false);
	copy = json_deep_copy(rec);
	r = wire_runner_record_decode(&rec, &err);
	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			fail("decode: unexpected error code", NULL);
		if (r == -EINVAL && (!err || !*err || !ours))
			fail("decode: a refusal without a message, or of a record not its own", err);
		if (rec != before || (copy && !json_equal(rec, copy)))
			fail("decode: record changed on failure", err);
	} else if (!ours || output) {
		if (rec != before || (copy && !json_equal(rec, copy)))
			fail("decode: a record of another type (or an output or map record) replaced", type);
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
