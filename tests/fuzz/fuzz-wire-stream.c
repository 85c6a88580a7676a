// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the gateway's own status records on the client's
 * stream (wire/stream.h), which the plugin reads: whatever record comes,
 * the decoders refuse it with a message and leave their result untouched,
 * or give one within every WIRE_STREAM_* bound that encodes, decodes
 * again to an equal record and encodes to the same JSON.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/errors.h"
#include "wire/fields.h"
#include "wire/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-wire-stream: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static bool name_bounded(const char *s, size_t max)
{
	return s && *s && strlen(s) <= max && !strpbrk(s, "/\" \\");
}

static void check_refusal(int r, const void *res, const void *blank, size_t sz, char *err)
{
	if (r != -EINVAL && r != -ENOMEM)
		fail("decode: unexpected error code", tg_strerror(r));
	if (r == -EINVAL && (!err || !*err))
		fail("decode: refusal without a message", NULL);
	if (memcmp(res, blank, sz))
		fail("decode: result written on failure", err);
	free(err);
}

static void check_accepted(json_t *rec)
{
	struct wire_accepted a, blank, again = { 0 };
	json_t *enc = NULL, *enc2 = NULL;
	char *err = NULL;
	int r;

	memset(&a, 0xa5, sizeof(a));
	blank = a;
	r = wire_accepted_from_json(rec, &a, &err);
	if (r < 0) {
		check_refusal(r, &a, &blank, sizeof(a), err);
		return;
	}
	if (!name_bounded(a.trace, WIRE_STREAM_MAX_TRACE) || a.npods > WIRE_STREAM_MAX_PODS ||
	    a.nnodes > WIRE_STREAM_MAX_NODES)
		fail("decode: accepted beyond its bounds", NULL);
	for (size_t i = 0; i < a.npods; i++)
		if (!a.pods[i] || !*a.pods[i] || strlen(a.pods[i]) > WIRE_STREAM_MAX_POD)
			fail("decode: a pod beyond its bound", NULL);
	for (size_t i = 0; i < a.nnodes; i++)
		if (!name_bounded(a.nodes[i], WIRE_STREAM_MAX_NAME))
			fail("decode: a node that is not a name", a.nodes[i]);
	r = wire_accepted_to_json(&a, &enc);
	if (r == -ENOMEM)
		goto out;
	if (r < 0)
		fail("encode: a decoded accepted does not encode", tg_strerror(r));
	r = wire_accepted_from_json(enc, &again, &err);
	if (r == -ENOMEM)
		goto out;
	if (r < 0)
		fail("encode: its record does not decode", err);
	if (!wire_accepted_equal(&a, &again))
		fail("encode: decode(encode(a)) differs from a", NULL);
	if (wire_accepted_to_json(&again, &enc2) == 0 && !json_equal(enc, enc2))
		fail("encode: the record of a round trip changed", NULL);
out:
	wire_accepted_release(&a);
	wire_accepted_release(&again);
	json_decref(enc);
	json_decref(enc2);
}

static void check_pod_change(json_t *rec)
{
	struct wire_pod_change c, blank, again = { 0 };
	json_t *enc = NULL, *enc2 = NULL;
	char *err = NULL;
	int r;

	memset(&c, 0xa5, sizeof(c));
	blank = c;
	r = wire_pod_change_from_json(rec, &c, &err);
	if (r < 0) {
		check_refusal(r, &c, &blank, sizeof(c), err);
		return;
	}
	if (!wire_pod_change_phase(c.phase) || !name_bounded(c.trace, WIRE_STREAM_MAX_TRACE) || !c.pod ||
	    !*c.pod || strlen(c.pod) > WIRE_STREAM_MAX_POD || (c.node && strlen(c.node) > WIRE_STREAM_MAX_NAME) ||
	    (c.message && strlen(c.message) > WIRE_STREAM_MAX_MESSAGE))
		fail("decode: a pod change beyond its bounds", NULL);
	r = wire_pod_change_to_json(&c, &enc);
	if (r == -ENOMEM)
		goto out;
	if (r < 0)
		fail("encode: a decoded pod change does not encode", tg_strerror(r));
	r = wire_pod_change_from_json(enc, &again, &err);
	if (r == -ENOMEM)
		goto out;
	if (r < 0)
		fail("encode: its record does not decode", err);
	if (!wire_pod_change_equal(&c, &again))
		fail("encode: decode(encode(c)) differs from c", NULL);
	if (wire_pod_change_to_json(&again, &enc2) == 0 && !json_equal(enc, enc2))
		fail("encode: the record of a round trip changed", NULL);
out:
	wire_pod_change_release(&c);
	wire_pod_change_release(&again);
	json_decref(enc);
	json_decref(enc2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *rec = NULL;
	char *err = NULL;

	if (wire_json_object((const char *)data, size, 1u << 20, "record", &rec, &err) < 0) {
		free(err);
		return 0;
	}
	/* both decoders see every record: each must refuse the other's */
	check_accepted(rec);
	check_pod_change(rec);
	json_decref(rec);
	return 0;
}
