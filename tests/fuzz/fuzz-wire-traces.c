// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for Trace, TraceList and a dry run's answer (a
 * Trace of phase "Checked") (wire/traces.h), which the
 * plugin reads from the gateway: whatever comes, the readers refuse it
 * with a message and leave their result untouched, or give one that
 * encodes, decodes again to an equal one and encodes to the same JSON.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/errors.h"
#include "wire/fields.h"
#include "wire/traces.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-wire-traces: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static void check_refusal(int r, const void *res, const void *blank, size_t sz, char *err)
{
	if ((r != -EINVAL && r != -ENOMEM) || (r == -EINVAL && (!err || !*err)))
		fail("decode: a refusal without a message", tg_strerror(r));
	if (memcmp(res, blank, sz))
		fail("decode: result written on failure", err);
	free(err);
}

static void check_trace(json_t *rec)
{
	struct wire_trace t, blank, again = { 0 };
	json_t *enc = NULL, *enc2 = NULL;
	char *err = NULL;
	int r;

	memset(&t, 0xa5, sizeof(t));
	blank = t;
	r = wire_trace_from_gateway(rec, &t, &err);
	if (r < 0) {
		check_refusal(r, &t, &blank, sizeof(t), err);
		return;
	}
	if (!t.name || !*t.name || strpbrk(t.name, "/\" \\") || t.nnodes > WIRE_TRACES_MAX_NODES ||
	    t.npods > WIRE_TRACES_MAX_PODS)
		fail("decode: a trace beyond its bounds", NULL);
	r = wire_trace_to_json(&t, &enc);
	if (r < 0 && r != -ENOMEM)
		fail("encode: a decoded trace does not encode", tg_strerror(r));
	if (r == 0) {
		if (wire_trace_from_gateway(enc, &again, &err) < 0)
			fail("encode: its JSON does not decode", err);
		if (!wire_trace_equal(&t, &again))
			fail("encode: decode(encode(t)) differs from t", NULL);
		if (wire_trace_to_json(&again, &enc2) == 0 && !json_equal(enc, enc2))
			fail("encode: the JSON of a round trip changed", NULL);
	}
	wire_trace_release(&t);
	wire_trace_release(&again);
	json_decref(enc);
	json_decref(enc2);
}

static void check_list(json_t *rec)
{
	struct wire_trace_list l, blank, again = { 0 };
	json_t *enc = NULL, *enc2 = NULL;
	char *err = NULL;
	int r;

	memset(&l, 0xa5, sizeof(l));
	blank = l;
	r = wire_trace_list_from_gateway(rec, &l, &err);
	if (r < 0) {
		check_refusal(r, &l, &blank, sizeof(l), err);
		return;
	}
	if (l.nitems > WIRE_TRACES_MAX_ITEMS)
		fail("decode: a list beyond its bound", NULL);
	r = wire_trace_list_to_json(&l, &enc);
	if (r < 0 && r != -ENOMEM)
		fail("encode: a decoded list does not encode", tg_strerror(r));
	if (r == 0) {
		if (wire_trace_list_from_gateway(enc, &again, &err) < 0)
			fail("encode: its JSON does not decode", err);
		if (!wire_trace_list_equal(&l, &again))
			fail("encode: decode(encode(l)) differs from l", NULL);
		if (wire_trace_list_to_json(&again, &enc2) == 0 && !json_equal(enc, enc2))
			fail("encode: the JSON of a round trip changed", NULL);
	}
	wire_trace_list_release(&l);
	wire_trace_list_release(&again);
	json_decref(enc);
	json_decref(enc2);
}

static void check_checked(json_t *rec)
{
	struct wire_checked c, blank, again = { 0 };
	json_t *enc = NULL, *enc2 = NULL;
	char *err = NULL;
	int r;

	memset(&c, 0xa5, sizeof(c));
	blank = c;
	r = wire_checked_from_gateway(rec, &c, &err);
	if (r < 0) {
		check_refusal(r, &c, &blank, sizeof(c), err);
		return;
	}
	if (!c.name || !*c.name || c.nnodes > WIRE_TRACES_MAX_NODES || c.ncompiled > WIRE_TRACES_MAX_NODES)
		fail("decode: a dry run's answer beyond its bounds", NULL);
	r = wire_checked_to_json(&c, &enc);
	if (r < 0 && r != -ENOMEM)
		fail("encode: a decoded dry run's answer does not encode", tg_strerror(r));
	if (r == 0) {
		if (wire_checked_from_gateway(enc, &again, &err) < 0)
			fail("encode: its JSON does not decode", err);
		if (!wire_checked_equal(&c, &again))
			fail("encode: decode(encode(c)) differs from c", NULL);
		if (wire_checked_to_json(&again, &enc2) == 0 && !json_equal(enc, enc2))
			fail("encode: the JSON of a round trip changed", NULL);
	}
	wire_checked_release(&c);
	wire_checked_release(&again);
	json_decref(enc);
	json_decref(enc2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *rec = NULL;
	char *err = NULL;

	if (wire_json_object((const char *)data, size, 1u << 20, "trace", &rec, &err) < 0) {
		free(err);
		return 0;
	}
	/* both readers see every object: each must refuse the other's kind */
	check_trace(rec);
	check_list(rec);
	check_checked(rec);
	json_decref(rec);
	return 0;
}
