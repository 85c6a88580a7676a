// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the end record (wire/end.h), which the runner's
 * parent reads from its session children and the gateway from runners:
 * whatever bytes come, the decoder refuses them with a message and leaves
 * its result untouched, or gives a record within every WIRE_END_* bound
 * that encodes, decodes again to an equal record and encodes to the same
 * text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/errors.h"
#include "wire/end.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-wire-end: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static void check_bounds(const struct wire_end *e)
{
	if (!e->reason || !*e->reason || strlen(e->reason) > WIRE_END_MAX_REASON ||
	    strspn(e->reason, "abcdefghijklmnopqrstuvwxyz-") != strlen(e->reason))
		fail("decode: a reason that is not a short lowercase word", e->reason);
	if (e->message && strlen(e->message) > WIRE_END_MAX_MESSAGE)
		fail("decode: a message beyond its bound", NULL);
	if (e->nfailed_nodes > WIRE_END_MAX_FAILED || (e->nfailed_nodes && !e->failed_nodes))
		fail("decode: failedNodes beyond its bound", NULL);
	for (size_t i = 0; i < e->nfailed_nodes; i++)
		if (!e->failed_nodes[i] || !*e->failed_nodes[i] || strlen(e->failed_nodes[i]) > WIRE_END_MAX_NAME ||
		    strpbrk(e->failed_nodes[i], "/\"\\ "))
			fail("decode: a failed node that is not a name", e->failed_nodes[i]);
	if ((e->node && strchr(e->node, '/')) || (e->trace && strchr(e->trace, '/')))
		fail("decode: a node or trace with a '/'", NULL);
	if ((e->events | e->drops | e->map_drops | e->bytes | e->output_bytes | e->cpu_ns) > INT64_MAX)
		fail("decode: a count beyond a JSON integer", NULL);
}

static void check_round_trip(const struct wire_end *e)
{
	struct wire_end again = { 0 };
	char *text = NULL, *text2 = NULL, *err = NULL;
	int r = wire_end_encode(e, &text);

	if (r == -ENOMEM)
		return;
	if (r < 0)
		fail("encode: a decoded end does not encode", tg_strerror(r));
	r = wire_end_decode(text, strlen(text), &again, &err);
	if (r == -ENOMEM) {
		free(text);
		return;
	}
	if (r < 0)
		fail("encode: its text does not decode", err);
	if (!wire_end_equal(e, &again))
		fail("encode: decode(encode(e)) differs from e", text);
	if (wire_end_encode(&again, &text2) == 0 && strcmp(text, text2))
		fail("encode: the text of a round trip changed", text2);
	wire_end_release(&again);
	free(text);
	free(text2);
}

/*
 * The plugin's reader (wire_end_from_gateway): whatever the strict reader
 * takes it takes to an equal end; what it takes beyond (members it does not
 * know) is within the same bounds and round-trips; on a refusal *ret is
 * untouched and the message says why.
 */
static void check_gateway(const uint8_t *data, size_t size, int strict_r, const struct wire_end *strict)
{
	json_t *rec = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	struct wire_end e, blank;
	char *err = NULL;
	int r;

	if (!json_is_object(rec) || size > WIRE_END_MAX_LINE) {
		json_decref(rec);
		return;
	}
	memset(&e, 0x5a, sizeof(e));
	blank = e;
	r = wire_end_from_gateway(rec, &e, &err);
	json_decref(rec);
	if (r < 0) {
		if (r == -EINVAL && (!err || !*err))
			fail("gateway: refusal without a message", NULL);
		if (memcmp(&e, &blank, sizeof(e)))
			fail("gateway: result written on failure", err);
		if (strict_r == 0)
			fail("gateway: refused what the strict reader takes", err);
		free(err);
		return;
	}
	if (strict_r == 0 && !wire_end_equal(strict, &e))
		fail("gateway: reads differently from the strict reader", NULL);
	check_bounds(&e);
	check_round_trip(&e);
	wire_end_release(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_end e, blank;
	char *err = NULL;
	int r;

	memset(&e, 0xa5, sizeof(e));
	blank = e;
	r = wire_end_decode((const char *)data, size, &e, &err);
	check_gateway(data, size, r, &e);
	if (r < 0) {
		if (r != -EINVAL && r != -E2BIG && r != -ENOMEM)
			fail("decode: unexpected error code", tg_strerror(r));
		if (r != -ENOMEM && (!err || !*err))
			fail("decode: refusal without a message", NULL);
		if (memcmp(&e, &blank, sizeof(e)))
			fail("decode: result written on failure", err);
		free(err);
		return 0;
	}
	if (err)
		fail("decode: success with a message", err);
	check_bounds(&e);
	check_round_trip(&e);
	wire_end_release(&e);
	return 0;
}
